/*
 * stream_recv.c — opt-in streaming receive: with on_message_part set, a
 * message is handed out in parts as its bytes arrive, straight from the
 * backend's read buffer, so no buffer of the message's size exists. Text
 * parts never end inside a UTF-8 character: the start of a character that a
 * read split is carried (at most 3 bytes) to the next part. Messages that
 * only exist whole (permessage-deflate after inflating, a browser's message)
 * are cut into parts of at most PART_MAX bytes on character boundaries.
 */
#include <string.h>
#include "core/socket.h"

#define PART_MAX (256 * 1024)

int uniws__parts_on(const uniws_socket *s)
{
    return s->cb.on_message_part != NULL;
}

void uniws__parts_reset(uniws_socket *s)
{
    s->part_off = 0;
    s->part_started = s->part_ended = 0;
    s->part_carry_len = 0;
}

static int emit(uniws_socket *s, int type, const uint8_t *p, size_t n, int last)
{
    if (uniws__sock_done(s))
        return -1;
    if (uniws__atomic_load(&s->state) == UNIWS_OPEN && s->cb.on_message_part) {
        uniws__life_part(s, n, last);
        uniws_message_part m = {(uniws_msg_type)type,
                                n ? (const void *)p : (const void *)"",
                                n,
                                s->part_off,
                                !s->part_started,
                                last};
        s->cb.on_message_part(s, &m, s->user_data);
    }
    s->part_started = 1;
    s->part_off += n;
    if (last) {
        s->part_ended = 1;
        s->part_off = 0;
        s->part_started = 0;
    }
    return uniws__sock_done(s) ? -1 : 0;
}

/* Length of the UTF-8 sequence a lead byte starts. */
static size_t seq_len(uint8_t b)
{
    return b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

/* Bytes at the end of p[0..n) (a valid prefix) that begin an unfinished character. */
static size_t open_tail(const uint8_t *p, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        uint8_t b = p[n - k];
        if ((b & 0xC0) == 0x80)
            continue;
        return seq_len(b) > k ? k : 0;
    }
    return 0;
}

int uniws__parts_data(uniws_socket *s, int type, const uint8_t *p, size_t n, int final)
{
    if (type != UNIWS_TEXT) {
        if (n == 0 && !final)
            return 0;
        return emit(s, type, p, n, final);
    }
    uint8_t done[4];
    size_t done_len = 0;
    if (s->part_carry_len) {
        /* Finish the character a read split. */
        size_t need = seq_len(s->part_carry[0]) - s->part_carry_len;
        size_t m = n < need ? n : need;
        memcpy(s->part_carry + s->part_carry_len, p, m);
        s->part_carry_len += m;
        p += m;
        n -= m;
        if (m < need)
            return 0; /* still unfinished (final cannot be: the caller checked) */
        memcpy(done, s->part_carry, s->part_carry_len);
        done_len = s->part_carry_len;
        s->part_carry_len = 0;
    }
    size_t tail = final ? 0 : open_tail(p, n);
    size_t body = n - tail;
    if (done_len && emit(s, type, done, done_len, final && body == 0) < 0)
        return -1;
    if ((body || (final && !done_len)) && emit(s, type, p, body, final) < 0)
        return -1;
    memcpy(s->part_carry, p + body, tail);
    s->part_carry_len = tail;
    return 0;
}

int uniws__parts_whole(uniws_socket *s, int type, const uint8_t *p, size_t n)
{
    uniws__parts_reset(s);
    do {
        size_t cut = n < PART_MAX ? n : PART_MAX;
        if (type == UNIWS_TEXT)
            while (cut < n && cut > 0 && (p[cut] & 0xC0) == 0x80)
                cut--; /* valid text: back up to a character's start */
        if (emit(s, type, p, cut, cut == n) < 0)
            return -1;
        p += cut;
        n -= cut;
    } while (n > 0);
    uniws__parts_reset(s);
    return 0;
}
