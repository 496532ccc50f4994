/*
 * sockread.c — one recv() on a non-blocking stream socket, its outcome
 * mapped to the few cases the core's read path (core/stream_read.c) tells
 * apart: bytes, nothing now, end of stream, reset, other error.
 */
#include <errno.h>
#include <sys/socket.h>
#include "core/platform.h"

int uniws__sock_recv(uniws__fd fd, void *buf, size_t cap, size_t *got, int *err)
{
    ssize_t r;
    *got = 0;
    *err = 0;
    do
        r = recv(fd, buf, cap, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r > 0) {
        *got = (size_t)r;
        return UNIWS__RECV_OK;
    }
    if (r == 0)
        return UNIWS__RECV_END;
    *err = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return UNIWS__RECV_AGAIN;
    return errno == ECONNRESET ? UNIWS__RECV_RESET : UNIWS__RECV_ERROR;
}
