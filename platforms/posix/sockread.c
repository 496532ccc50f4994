/*
 * sockread.c — one recv() of a stream socket's input on a non-blocking
 * socket: a big frame's payload straight into the message buffer the core
 * offers (receive-into, core/rxinto.c), anything else into the caller's
 * buffer. Shared by the native stream backends that read the socket
 * themselves (lws on ws://, curl on plain TCP).
 */
#include <errno.h>
#include <sys/socket.h>
#include "core/backend.h"
#include "core/frame.h"

int uniws__stream_read_fd(uniws_socket *s, int fd, uint8_t *buf, size_t cap)
{
    uint8_t *p, hdr[UNIWS__FRAME_MAX_HEADER];
    size_t room = uniws__stream_recv_room(s, &p);
    int into = room > 0;
    if (!into) {
        size_t limit = uniws__stream_recv_limit(s);
        if (limit <= sizeof hdr) {
            p = hdr; /* the next big frame's header alone */
            room = limit;
        } else if (buf) {
            p = buf;
            room = cap;
        } else {
            return UNIWS__READ_NONE;
        }
    }
    ssize_t r;
    do
        r = recv(fd, p, room, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return UNIWS__READ_AGAIN;
    if (r <= 0)
        return UNIWS__READ_END;
    int rc = into ? uniws__stream_recv_into(s, (size_t)r) : uniws__stream_recv(s, p, (size_t)r);
    return rc < 0 ? UNIWS__READ_DONE : UNIWS__READ_MORE;
}
