/*
 * rxinto.c — receive-into: while a big data frame is being received, the
 * backend reads the rest of its payload from the socket straight into the
 * message buffer, instead of into its own read buffer for the core to copy
 * from (one copy of every byte of a big message less). The buffer still
 * grows with the bytes that came (doubling, as core/rxbuf.c does), never to
 * what a header claims; max_message_size was checked with the header; text
 * is still checked for UTF-8 as the bytes arrive (core/wsproto.c). Server
 * frames are never masked, so there is nothing to unmask. Small frames, the
 * frame headers, control frames and messages taken in parts keep the usual
 * path (uniws__stream_recv).
 */
#include "core/backend.h"
#include "core/frame.h"
#include "core/lifecycle.h"
#include "core/socket.h"

/* Frames smaller than this come through the backend's read buffer: one read
 * there serves many small frames. A bigger frame's payload goes into place
 * to its last byte (its next header is read alone, see
 * uniws__stream_recv_limit): a stream that gives a few KiB per read (TLS
 * gives one record, 16 KiB at most) would otherwise copy a frame's last
 * 64 KiB. */
#define RXINTO_MIN (64u * 1024)
/* A buffer that has to grow grows by at least this much (and at least
 * doubles), so a big frame costs a few reads, not one per 64 KiB. */
#define RXINTO_STEP (256u * 1024)

size_t uniws__stream_recv_room(uniws_socket *s, uint8_t **p)
{
    if (uniws__sock_done(s) || !s->hs_done || !s->in_frame || s->close_received ||
        s->fh.opcode >= 8 || (uniws__parts_on(s) && !s->frag_compressed) || s->fh.len < RXINTO_MIN)
        return 0;
    size_t left = s->remaining > SIZE_MAX / 4 ? SIZE_MAX / 4 : (size_t)s->remaining;
    size_t room = s->msg_cap > s->msg_len + 1 ? s->msg_cap - s->msg_len - 1 : 0;
    if (room < RXINTO_MIN && room < left) {
        size_t want = s->msg_len > RXINTO_STEP ? s->msg_len : RXINTO_STEP;
        if (want > left)
            want = left;
        if (uniws__rxbuf_room(s, want, s->remaining, s->fh.fin) != 0)
            return 0; /* the usual path reports the lack of memory */
        room = s->msg_cap - s->msg_len - 1;
    }
    *p = s->msg + s->msg_len;
    return room < left ? room : left;
}

size_t uniws__stream_recv_limit(uniws_socket *s)
{
    /* Right after a big data frame another is likely (a big message in
     * frames, the next big message): read its header alone, so that none of
     * its payload goes through the read buffer and a copy. One more small
     * read per big frame; small frames never set this off. */
    const uniws__frame_hdr *h = &s->fh;
    if (uniws__sock_done(s) || !s->hs_done || s->in_frame || s->hdr_have || s->close_received ||
        h->opcode >= 8 || h->len < RXINTO_MIN || (uniws__parts_on(s) && !s->frag_compressed))
        return SIZE_MAX;
    return UNIWS__FRAME_MAX_HEADER;
}

int uniws__stream_recv_into(uniws_socket *s, size_t n)
{
    if (uniws__sock_done(s))
        return -1;
    if (n == 0)
        return 0;
    uniws__life_rx(s, n);
    return uniws__ws_rx_stored(s, n);
}
