/*
 * poller.c — the loop's wait primitive on Windows: WSAPoll() over an array of
 * the watched sockets plus a wake-up socket (a UDP socket on 127.0.0.1
 * connected to itself: another thread sends it one datagram).
 *
 * Why WSAPoll: the core's poller is readiness-based (the stream backends and
 * the libraries under them — curl's socket callback, lws — ask "tell me when
 * this socket is readable/writable"), which WSAPoll answers directly with no
 * limit on the number of sockets. select() caps a set at FD_SETSIZE (64 by
 * default) and rebuilds sets on every call; WSAEventSelect +
 * WaitForMultipleObjects caps at 64 handles; I/O completion ports report
 * completed operations, not readiness, and would need every backend to
 * issue overlapped reads. WSAPoll's known flaw — before Windows 10 2004 it
 * did not report a refused non-blocking connect() — only delays that error
 * until the connect timeout (docs/platforms.md).
 *
 * Winsock is started here (WSAStartup is reference-counted): every socket
 * uniws makes belongs to a loop, and every loop owns one poller.
 * There is no single handle that becomes ready when a watched socket does,
 * so uniws_loop_fd() is -1 (as with posix-poll): an embedding application
 * drives the loop with uniws_loop_timeout() + uniws_loop_run_once().
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include "core/loop.h"
#include "core/platform.h"
#include "core/alloc.h"

struct uniws__poller {
    WSAPOLLFD *fds; /* fds[0] is the wake-up socket */
    void **data;    /* data[i] belongs to fds[i] */
    size_t n, cap;
    SOCKET wake;
    int wsa;     /* WSAStartup succeeded */
    size_t next; /* where the next wait starts reporting (fairness) */
};

static SHORT to_poll(unsigned events)
{
    SHORT e = 0;
    if (events & UNIWS__IO_READ)
        e |= POLLRDNORM;
    if (events & UNIWS__IO_WRITE)
        e |= POLLWRNORM;
    return e;
}

/* A non-blocking UDP socket bound to 127.0.0.1 and connected to its own
 * address: a datagram sent on it makes it readable. */
static SOCKET wake_socket(void)
{
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (s == INVALID_SOCKET)
        return s;
    struct sockaddr_in a;
    int len = (int)sizeof a;
    u_long on = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0 ||
        connect(s, (struct sockaddr *)&a, sizeof a) != 0 || ioctlsocket(s, FIONBIO, &on) != 0) {
        closesocket(s);
        return INVALID_SOCKET;
    }
    return s;
}

int uniws__poller_new(uniws__poller **out)
{
    uniws__poller *p = uniws__calloc(1, sizeof *p);
    if (!p)
        return UNIWS_ENOMEM;
    p->wake = INVALID_SOCKET;
    WSADATA wd;
    if (WSAStartup(MAKEWORD(2, 2), &wd) != 0) {
        uniws__free(p);
        return UNIWS_EIO;
    }
    p->wsa = 1;
    p->cap = 16;
    p->fds = uniws__calloc(p->cap, sizeof *p->fds);
    p->data = uniws__calloc(p->cap, sizeof *p->data);
    if (!p->fds || !p->data) {
        uniws__poller_free(p);
        return UNIWS_ENOMEM;
    }
    p->wake = wake_socket();
    if (p->wake == INVALID_SOCKET) {
        uniws__poller_free(p);
        return UNIWS_EIO;
    }
    p->fds[0].fd = p->wake;
    p->fds[0].events = POLLRDNORM;
    p->data[0] = p;
    p->n = 1;
    *out = p;
    return 0;
}

void uniws__poller_free(uniws__poller *p)
{
    if (!p)
        return;
    if (p->wake != INVALID_SOCKET)
        closesocket(p->wake);
    uniws__free(p->fds);
    uniws__free(p->data);
    if (p->wsa)
        WSACleanup();
    uniws__free(p);
}

int uniws__poller_fd(const uniws__poller *p)
{
    (void)p;
    return -1;
}

/* Sockets are few per loop and WSAPoll walks the whole array anyway, so a
 * linear search costs no more than the wait itself. */
static int find(const uniws__poller *p, uniws__fd fd)
{
    for (size_t i = 1; i < p->n; i++)
        if (p->fds[i].fd == (SOCKET)fd)
            return (int)i;
    return -1;
}

int uniws__poller_add(uniws__poller *p, uniws__fd fd, unsigned events, void *data)
{
    if (!UNIWS__FD_VALID(fd) || find(p, fd) >= 0)
        return UNIWS_EIO; /* as epoll: a socket is watched once */
    if (p->n == p->cap) {
        size_t nc = p->cap * 2;
        WSAPOLLFD *f = uniws__realloc(p->fds, nc * sizeof *f);
        if (!f)
            return UNIWS_ENOMEM;
        p->fds = f;
        void **d = uniws__realloc(p->data, nc * sizeof *d);
        if (!d)
            return UNIWS_ENOMEM;
        p->data = d;
        p->cap = nc;
    }
    p->fds[p->n].fd = (SOCKET)fd;
    p->fds[p->n].events = to_poll(events);
    p->fds[p->n].revents = 0;
    p->data[p->n] = data;
    p->n++;
    return 0;
}

int uniws__poller_mod(uniws__poller *p, uniws__fd fd, unsigned events, void *data)
{
    int i = find(p, fd);
    if (i < 0)
        return UNIWS_EIO;
    p->fds[i].events = to_poll(events);
    p->data[i] = data;
    return 0;
}

void uniws__poller_del(uniws__poller *p, uniws__fd fd)
{
    int i = find(p, fd);
    if (i <= 0)
        return;
    size_t last = p->n - 1;
    if ((size_t)i != last) {
        p->fds[i] = p->fds[last];
        p->data[i] = p->data[last];
    }
    p->n--;
}

int uniws__poller_wait(uniws__poller *p, uniws__poll_event *out, int max, int timeout_ms)
{
    int n = WSAPoll(p->fds, (ULONG)p->n, timeout_ms < 0 ? -1 : timeout_ms);
    if (n == SOCKET_ERROR)
        return WSAGetLastError() == WSAEINTR ? 0 : UNIWS_EIO;
    if (n == 0)
        return 0;
    if (p->fds[0].revents) {
        char buf[64];
        while (recv(p->wake, buf, sizeof buf, 0) > 0) {
        }
        p->fds[0].revents = 0;
    }
    /* Report at most max ready sockets, starting after where the last full
     * batch stopped so that no socket starves the others. */
    int k = 0;
    size_t count = p->n - 1, start = p->next % (count ? count : 1);
    for (size_t j = 0; j < count && k < max; j++) {
        size_t i = 1 + (start + j) % count;
        SHORT e = p->fds[i].revents;
        if (!e)
            continue;
        unsigned r = 0;
        if (e & (POLLRDNORM | POLLRDBAND))
            r |= UNIWS__IO_READ;
        if (e & POLLWRNORM)
            r |= UNIWS__IO_WRITE;
        if (e & (POLLERR | POLLHUP | POLLNVAL))
            r |= UNIWS__IO_ERROR | UNIWS__IO_READ;
        p->fds[i].revents = 0;
        out[k].data = p->data[i];
        out[k].revents = r;
        k++;
        if (k == max)
            p->next = start + j + 1;
    }
    return k;
}

void uniws__poller_wake(uniws__poller *p)
{
    char one = 1;
    /* WSAEWOULDBLOCK: the socket's buffer is full, so the poller is woken
     * anyway. */
    send(p->wake, &one, 1, 0);
}

int uniws__poller_handoff(uniws__poller *p, int (*step)(void *ctx), void *ctx)
{
    /* A native thread can block in WSAPoll(): uniws_loop_run() loops itself. */
    (void)p, (void)step, (void)ctx;
    return 0;
}

const char *uniws__plat_name(void)
{
    return "win32-wsapoll";
}
