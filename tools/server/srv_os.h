/*
 * srv_os.h — the operating-system seam of the scripted peer's network driver
 * (server.c): sockets, readiness polling, a wake-up, a thread, the stop
 * signal and file lookups. Declared once here and implemented in
 * srv_os_posix.c (poll, pthreads, signals) and srv_os_win32.c (Winsock
 * WSAPoll, Win32 threads, the console control handler); CMake picks the file,
 * as libuv does with src/unix and src/win. This header is the one place that
 * names the OS, so server.c reads the same everywhere.
 */
#ifndef UNIWS_TOOLS_SRV_OS_H
#define UNIWS_TOOLS_SRV_OS_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
typedef SOCKET srv_sock;
typedef WSAPOLLFD srv_pollfd;
#define SRV_SOCK_BAD INVALID_SOCKET
#define SRV_POLLIN   POLLRDNORM
#define SRV_POLLOUT  POLLWRNORM
#else
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
typedef int srv_sock;
typedef struct pollfd srv_pollfd;
#define SRV_SOCK_BAD (-1)
#define SRV_POLLIN   POLLIN
#define SRV_POLLOUT  POLLOUT
#endif

/* What a socket call that moved no bytes means (negative returns). */
#define SRV_IO_AGAIN (-1) /* would block: wait for readiness */
#define SRV_IO_FAIL  (-2) /* the connection broke */

/* Starts / stops the socket layer (reference-counted; 0 or -1). */
int srv_os_init(void);
void srv_os_cleanup(void);

/* Monotonic milliseconds. */
int64_t srv_os_now_ms(void);

/* A non-blocking, close-on-exec stream socket of the family. */
srv_sock srv_os_socket(int family);
/* Lets a listening socket bind its port again at once after a restart. */
void srv_os_reuse_addr(srv_sock s);
/* Accepts one connection as a non-blocking socket (Nagle off), or
 * SRV_SOCK_BAD when none is waiting (or on error). */
srv_sock srv_os_accept(srv_sock l, struct sockaddr_storage *ss, socklen_t *sl);
/* Bytes received (0: end of stream), SRV_IO_AGAIN or SRV_IO_FAIL; retries
 * interrupted calls itself. */
long srv_os_recv(srv_sock s, void *buf, size_t n);
/* Bytes sent, SRV_IO_AGAIN or SRV_IO_FAIL; never raises SIGPIPE. */
long srv_os_send(srv_sock s, const void *buf, size_t n);
/* Sends our FIN (the read side stays open). */
void srv_os_shutdown_wr(srv_sock s);
/* Closes with RST instead of FIN (SO_LINGER 0). */
void srv_os_reset(srv_sock s);
void srv_os_close(srv_sock s);
/* Waits for readiness: the count of ready entries, 0 on timeout or an
 * interrupted wait, -1 on error. */
int srv_os_poll(srv_pollfd *fds, size_t n, int timeout_ms);

/* A wake-up another thread triggers: rd becomes readable. */
typedef struct srv_wake {
    srv_sock rd, wr;
} srv_wake;
int srv_os_wake_open(srv_wake *w); /* 0 or -1 */
void srv_os_wake_signal(srv_wake *w);
void srv_os_wake_close(srv_wake *w);

/* The server's thread. srv_os_thread_start returns only once fn runs (0 or
 * -1); the thread takes no asynchronous signals. fn calls srv_os_idle_begin()
 * before it waits in srv_os_poll() and srv_os_idle_end() after: on POSIX a
 * fork() in another thread happens only while every server thread is idle
 * (outside any allocator lock the child would inherit held). */
typedef struct srv_thread srv_thread;
int srv_os_thread_start(srv_thread **out, void (*fn)(void *), void *arg);
void srv_os_thread_join(srv_thread *t); /* and frees t */
void srv_os_idle_begin(void);
void srv_os_idle_end(void);

/* Waiting in the foreground for Ctrl-C (SIGINT, SIGTERM on POSIX; the console
 * control events on Windows). srv_os_stop_begin goes before any thread
 * starts, so the signal reaches srv_os_stop_wait and no other thread. */
typedef struct srv_stop srv_stop;
int srv_os_stop_begin(srv_stop **out); /* 0 or -1 */
void srv_os_stop_wait(srv_stop *s);
void srv_os_stop_end(srv_stop *s); /* and frees s */

/* 0 and the size when path names a regular file, else -1. */
int srv_os_file_size(const char *path, uint64_t *size);

#endif
