/*
 * sockwrite.c — writes a stream socket's queued output to a non-blocking
 * socket with one gathering sendmsg() per call. Shared by the native stream
 * backends that put the core's frames on the wire themselves (lws on ws://,
 * curl on plain TCP), and the single send() of a big frame's slice that
 * core/txdirect.c writes through them (or lws its TLS records).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "core/backend.h"

/* One write: at most this many queue chunks and bytes (the kernel takes what
 * fits; the rest waits for the socket to drain). Small frames queued together
 * sit in several chunks. */
#define WRITE_RUNS 16
#define WRITE_MAX  (4u << 20)

int uniws__stream_write_fd(uniws_socket *s, int fd)
{
    uniws__out_run runs[WRITE_RUNS];
    struct iovec iov[WRITE_RUNS];
    size_t k = uniws__stream_out_peekv(s, runs, WRITE_RUNS, WRITE_MAX), n = 0;
    if (k == 0)
        return UNIWS__WRITE_IDLE;
    for (size_t i = 0; i < k; i++) {
        iov[i].iov_base = (void *)runs[i].p;
        iov[i].iov_len = runs[i].n;
        n += runs[i].n;
    }
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = k;
    ssize_t w;
    do
        w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? UNIWS__WRITE_FULL : UNIWS__WRITE_ERROR;
    uniws__stream_out_consume(s, (size_t)w);
    return (size_t)w < n ? UNIWS__WRITE_FULL : UNIWS__WRITE_MORE;
}

long uniws__stream_send_some(int fd, const uint8_t *p, size_t n)
{
    ssize_t w;
    do
        w = send(fd, p, n > LONG_MAX ? LONG_MAX : n, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    return (long)w;
}

size_t uniws__stream_send_fd(int fd, const uint8_t *p, size_t n)
{
    long w = uniws__stream_send_some(fd, p, n);
    return w > 0 ? (size_t)w : 0;
}
