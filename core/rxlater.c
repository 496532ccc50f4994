/*
 * rxlater.c — input kept until the backend's library has returned. A
 * backend whose library hands it the bytes inside one of its callbacks
 * (curl's write callback through TLS) gives them with
 * uniws__stream_recv_deferred(): the core takes at once what cannot fire an
 * event (the middle of a data frame, copied into the message buffer as
 * usual) and keeps a copy of the rest, which the backend hands back with
 * uniws__stream_recv_resume() right after the library returned. The events
 * that input causes (messages, parts, pongs, the close, errors) then fire
 * outside the library, in the same order and with the same state as before
 * (the kept bytes are parsed exactly as if they had come then), so what
 * on_message sends can go to the library at once (backend.h, send_now)
 * instead of being copied into the output queue first. The copy kept is at
 * most what the library read in one pass, usually less: for a big message
 * only the bytes from its last one on.
 */
#include <string.h>
#include "core/alloc.h"
#include "core/socket.h"

/* The smallest buffer made for kept bytes (one TLS record's worth). */
#define LATER_MIN (16u * 1024)
/* At most this much is kept: a library that reads more in one pass (a peer
 * flooding small frames) has the rest parsed at once, inside its callback,
 * as before, so the copy never grows with the peer's speed. curl reads up
 * to about 350 KiB per pass through TLS. */
#define LATER_MAX (512u * 1024)

/* How many of the next input bytes the core can take without an event
 * firing: the rest of a data frame that is not the last of its message, or
 * all of the last one's bytes but one. An event may still fire among them in
 * a rare case (text that is not UTF-8, memory running out): it then fires
 * inside the library, as every event did before. */
static size_t quiet_bytes(const uniws_socket *s)
{
    if (uniws__sock_done(s) || !s->hs_done || !s->in_frame || s->close_received ||
        s->fh.opcode >= 8 || (uniws__parts_on(s) && !s->frag_compressed) || s->remaining == 0)
        return 0;
    uint64_t q = s->fh.fin ? s->remaining - 1 : s->remaining;
    return q > SIZE_MAX ? SIZE_MAX : (size_t)q;
}

/* Appends to the kept bytes. Returns 0 or UNIWS_ENOMEM. */
static int keep(uniws_socket *s, const uint8_t *p, size_t len)
{
    size_t need = s->later_len + len;
    if (need > s->later_cap) {
        size_t cap = s->later_cap > LATER_MIN ? s->later_cap : LATER_MIN;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *b = uniws__realloc(s->later, cap);
        if (!b)
            return UNIWS_ENOMEM;
        s->later = b;
        s->later_cap = cap;
    }
    memcpy(s->later + s->later_len, p, len);
    s->later_len = need;
    return 0;
}

int uniws__stream_recv_deferred(uniws_socket *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (uniws__sock_done(s))
        return -1;
    if (!s->later_len) {
        size_t q = quiet_bytes(s);
        if (q > len)
            q = len;
        if (q) {
            int r = uniws__stream_recv(s, p, q);
            if (r < 0)
                return r;
            p += q;
            len -= q;
        }
        if (!len)
            return 0;
    }
    /* Before the upgrade is reported nothing can be parsed yet: the frames
     * that came with the answer (one pass of the library at most) are all
     * kept. */
    if ((!s->hs_done || len <= LATER_MAX - s->later_len) && keep(s, p, len) == 0)
        return 1;
    if (!s->hs_done) {
        /* The upgrade has not been reported: nothing can be parsed yet. */
        uniws__sock_fail(s, UNIWS_ENOMEM, 0, "out of memory keeping the frames after the 101");
        return -1;
    }
    /* Too much, or no memory to keep it: hand everything over now, in
     * order, with the events inside the library as they used to fire. */
    int r = uniws__stream_recv_resume(s);
    if (r < 0)
        return r;
    return uniws__stream_recv(s, p, len);
}

int uniws__stream_recv_resume(uniws_socket *s)
{
    if (!s->later_len)
        return uniws__sock_done(s) ? -1 : 0;
    /* The buffer is taken out while the core parses it: a callback may end
     * up here again (nothing keeps bytes meanwhile, but nothing relies on
     * that either). */
    uint8_t *b = s->later;
    size_t n = s->later_len, cap = s->later_cap;
    s->later = NULL;
    s->later_len = s->later_cap = 0;
    int r = uniws__stream_recv(s, b, n);
    if (!s->later) {
        /* Kept for the next pass; an idle socket lets it go (rxbuf.c). */
        s->later = b;
        s->later_cap = cap;
        uniws__stream_trim_later(s);
    } else {
        uniws__free(b);
    }
    return r;
}

void uniws__rxlater_trim(uniws_socket *s)
{
    if (!s->later_len)
        uniws__rxlater_release(s);
}

void uniws__rxlater_release(uniws_socket *s)
{
    uniws__free(s->later);
    s->later = NULL;
    s->later_len = s->later_cap = 0;
}
