/*
 * sockread.c — one recv() on a non-blocking Winsock stream socket (the
 * Windows twin of platforms/posix/sockread.c), its outcome mapped to the
 * few cases the core's read path (core/stream_read.c) tells apart.
 */
#include <winsock2.h>
#include "core/platform.h"

int uniws__sock_recv(uniws__fd fd, void *buf, size_t cap, size_t *got, int *err)
{
    int n = cap > (1u << 30) ? 1 << 30 : (int)cap;
    int r = recv((SOCKET)fd, (char *)buf, n, 0);
    *got = 0;
    *err = 0;
    if (r > 0) {
        *got = (size_t)r;
        return UNIWS__RECV_OK;
    }
    if (r == 0)
        return UNIWS__RECV_END;
    *err = WSAGetLastError();
    if (*err == WSAEWOULDBLOCK)
        return UNIWS__RECV_AGAIN;
    return *err == WSAECONNRESET ? UNIWS__RECV_RESET : UNIWS__RECV_ERROR;
}
