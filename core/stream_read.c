/*
 * stream_read.c — reading a stream into the core, for the backends that
 * read their connection themselves (lws and curl, on ws:// and through
 * TLS): where each read goes (receive-into, a lone frame header, or the
 * backend's buffer; core/rxinto.c decides), and handing a read over in
 * slices, each answered by one write. Built only where the platform has
 * sockets (not the web); the recv() is the platform's
 * (platforms/<name>/sockread.c), a TLS read the backend's.
 *
 * Why slices: a read of many small frames (64 echoes of 4 KiB in flight:
 * 256 KiB at once) handed over whole made the core queue all their answers
 * before the first left, so client and peer took turns (one big read, one
 * big write) instead of working at the same time. The first slice is small
 * so its answers leave at once; later ones are large enough that a write
 * carries many answers. (Unsliced, 256 KiB of 4 KiB echoes also became
 * 256 KiB of output chunks freed together after one write, which glibc gave
 * back to the kernel and took again on every read.)
 */
#include "core/backend.h"

#define SLICE_FIRST 1024u
#define SLICE_NEXT  (64u * 1024u)

int uniws__stream_read(uniws_socket *s, const uniws__stream_reader *r, int *err)
{
    uint8_t *p = r->buf, *room_p = NULL;
    size_t cap = r->cap, got = 0;
    size_t room = r->drop ? 0 : uniws__stream_recv_room(s, &room_p);
    if (room) {
        p = room_p;
        cap = room;
    } else if (!r->drop) {
        size_t limit = uniws__stream_recv_limit(s);
        if (limit < cap)
            cap = limit;
    }
    int rc =
        r->read ? r->read(r->ctx, p, cap, &got, err) : uniws__sock_recv(r->fd, p, cap, &got, err);
    switch (rc) {
    case UNIWS__RECV_OK:
        break;
    case UNIWS__RECV_AGAIN:
        return UNIWS__READ_AGAIN;
    case UNIWS__RECV_END:
        return UNIWS__READ_END;
    case UNIWS__RECV_RESET:
        return UNIWS__READ_RESET;
    default:
        return UNIWS__READ_ERROR;
    }
    if (r->drop)
        return UNIWS__READ_MORE;
    if (room) {
        /* One frame's payload in place: nothing to slice. */
        int refused = uniws__stream_recv_into(s, got) < 0;
        return r->answer(r->ctx, refused) ? UNIWS__READ_STOP : UNIWS__READ_MORE;
    }
    for (size_t off = 0; off < got;) {
        size_t len = got - off, max = off ? SLICE_NEXT : SLICE_FIRST;
        if (len > max)
            len = max;
        int refused = uniws__stream_recv(s, p + off, len) < 0;
        off += len;
        if (r->answer(r->ctx, refused))
            return UNIWS__READ_STOP;
        if (refused)
            break; /* input after that is dropped */
    }
    return UNIWS__READ_MORE;
}
