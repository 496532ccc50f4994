/*
 * platform.h — OS services the core needs, declared once and implemented in
 * platforms/posix/, platforms/linux/, platforms/win32/ and platforms/web/
 * under the same names (CMake picks the folder at build time).
 */
#ifndef UNIWS_CORE_PLATFORM_H
#define UNIWS_CORE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* A socket the poller watches: a file descriptor on POSIX, a Winsock SOCKET
 * (an unsigned UINT_PTR handle) on Windows. This is the one place of the
 * core that names a platform: everything else says uniws__fd. */
#ifdef _WIN32
typedef uintptr_t uniws__fd;
#define UNIWS__FD_VALID(fd) ((fd) != ~(uintptr_t)0) /* INVALID_SOCKET */
#else
typedef int uniws__fd;
#define UNIWS__FD_VALID(fd) ((fd) >= 0)
#endif

/* One recv() of at most cap bytes on a non-blocking stream socket
 * (platforms/<name>/sockread.c; not on the web, which has no sockets).
 * Returns UNIWS__RECV_OK (*got bytes, at least 1), _AGAIN (nothing to read
 * now), _END (the peer ended the stream), _RESET (the connection was reset)
 * or _ERROR; *err is the system's error code (errno, or the Winsock error)
 * for a message, 0 when there was none. Interrupted calls are retried. */
enum { UNIWS__RECV_OK, UNIWS__RECV_AGAIN, UNIWS__RECV_END, UNIWS__RECV_RESET, UNIWS__RECV_ERROR };
int uniws__sock_recv(uniws__fd fd, void *buf, size_t cap, size_t *got, int *err);

/* The platform's name for uniws_platform(), e.g. "linux-epoll". */
const char *uniws__plat_name(void);

/* Monotonic milliseconds. */
uint64_t uniws__plat_now_ms(void);
/* Fills buf with cryptographically random bytes. Returns 0 or UNIWS_EIO. */
int uniws__plat_random(void *buf, size_t n);

/* A mutex (recursive is not needed). */
typedef struct uniws__mutex uniws__mutex;
uniws__mutex *uniws__mutex_new(void);
void uniws__mutex_free(uniws__mutex *m);
void uniws__mutex_lock(uniws__mutex *m);
void uniws__mutex_unlock(uniws__mutex *m);

/* Thread identity. */
typedef uintptr_t uniws__thread_id;
uniws__thread_id uniws__thread_self(void);

/* The poller behind a loop: waits on file descriptors and a wake-up. */
typedef struct uniws__poller uniws__poller;
typedef struct uniws__poll_event {
    void *data;       /* as given to add/mod */
    unsigned revents; /* UNIWS__IO_* */
} uniws__poll_event;
int uniws__poller_new(uniws__poller **out);
void uniws__poller_free(uniws__poller *p);
/* A descriptor readable when the poller has events or was woken; -1 if none. */
int uniws__poller_fd(const uniws__poller *p);
int uniws__poller_add(uniws__poller *p, uniws__fd fd, unsigned events, void *data);
int uniws__poller_mod(uniws__poller *p, uniws__fd fd, unsigned events, void *data);
void uniws__poller_del(uniws__poller *p, uniws__fd fd);
/* Waits up to timeout_ms (-1 forever) and returns how many events it stored
 * (<= max), 0 on timeout or wake-up, or a negative error. */
int uniws__poller_wait(uniws__poller *p, uniws__poll_event *ev, int max, int timeout_ms);
/* Wakes a waiting poller from any thread. */
void uniws__poller_wake(uniws__poller *p);
/* Where the thread may not block (the web without Asyncify), takes over
 * driving a loop from the host's own event loop and returns 1: from then on it
 * calls step(ctx) whenever the poller is woken and when the delay step last
 * returned has passed (-1: only on a wake-up; below -1: stop driving).
 * Returns 0 where the caller can block in uniws__poller_wait() itself
 * (native; the web with Asyncify). */
int uniws__poller_handoff(uniws__poller *p, int (*step)(void *ctx), void *ctx);

#endif
