/*
 * sockwrite.c — writes a stream socket's queued output to a non-blocking
 * Winsock socket with one gathering WSASend() per call (the Windows twin of
 * platforms/posix/sockwrite.c), and the single send() of a big frame's
 * slice that core/txdirect.c writes through them (or lws its TLS records).
 */
#include <winsock2.h>
#include <errno.h>
#include <limits.h>
#include "core/backend.h"

/* One write: at most this many queue chunks and bytes (the socket takes what
 * fits; the rest waits for it to drain). */
#define WRITE_RUNS 16
#define WRITE_MAX  (4u << 20)

/* errno for a Winsock error, for callers that report strerror(errno). */
static int to_errno(int wsa)
{
    switch (wsa) {
    case WSAECONNRESET:
    case WSAENETRESET:
        return ECONNRESET;
    case WSAECONNABORTED:
        return ECONNABORTED;
    case WSAENOTCONN:
    case WSAESHUTDOWN:
        return EPIPE;
    case WSAENOBUFS:
        return ENOBUFS;
    default:
        return EIO;
    }
}

int uniws__stream_write_fd(uniws_socket *s, uniws__fd fd)
{
    uniws__out_run runs[WRITE_RUNS];
    WSABUF bufs[WRITE_RUNS];
    size_t k = uniws__stream_out_peekv(s, runs, WRITE_RUNS, WRITE_MAX), n = 0;
    if (k == 0)
        return UNIWS__WRITE_IDLE;
    for (size_t i = 0; i < k; i++) {
        bufs[i].buf = (char *)runs[i].p;
        bufs[i].len = (ULONG)runs[i].n; /* WRITE_MAX keeps each run below 4 GiB */
        n += runs[i].n;
    }
    DWORD sent = 0;
    if (WSASend((SOCKET)fd, bufs, (DWORD)k, &sent, 0, NULL, NULL) != 0) {
        int e = WSAGetLastError();
        if (e == WSAEWOULDBLOCK)
            return UNIWS__WRITE_FULL;
        errno = to_errno(e);
        return UNIWS__WRITE_ERROR;
    }
    uniws__stream_out_consume(s, (size_t)sent);
    return (size_t)sent < n ? UNIWS__WRITE_FULL : UNIWS__WRITE_MORE;
}

long uniws__stream_send_some(uniws__fd fd, const uint8_t *p, size_t n)
{
    /* One send() takes an int length; a short count is a partial write. */
    int len = n > (size_t)INT_MAX ? INT_MAX : (int)n;
    int w = send((SOCKET)fd, (const char *)p, len, 0);
    if (w != SOCKET_ERROR)
        return w;
    int e = WSAGetLastError();
    if (e == WSAEWOULDBLOCK)
        return 0;
    errno = to_errno(e);
    return -1;
}

size_t uniws__stream_send_fd(uniws__fd fd, const uint8_t *p, size_t n)
{
    long w = uniws__stream_send_some(fd, p, n);
    return w > 0 ? (size_t)w : 0;
}
