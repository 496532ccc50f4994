/*
 * rxbuf.c — the buffer a STREAM socket reassembles a message in. It grows
 * with the bytes that actually arrived (a frame header claiming 60 MiB
 * reserves nothing by itself), and a big one is let go once the socket has
 * had no big message for a short while (reused while big messages keep
 * coming, never kept by an idle socket until uniws_free). The same timer
 * lets go of a drained big output chunk that wsproto.c keeps for reuse, and
 * of rxlater.c's empty buffer for kept input, and calls the backend's trim
 * for buffers of its own (lws's TLS buffers).
 */
#include <string.h>
#include "core/alloc.h"
#include "core/socket.h"

/* Buffers up to this size are cheap to keep; bigger ones are released. */
#define RXBUF_KEEP (1u << 20)
/* How long a big buffer waits for the next big message, at least; the
 * trim falls due on the next multiple of RXBUF_GRAIN_MS of the loop's clock
 * after that, so the sockets a burst leaves idle together are trimmed in a
 * few wake-ups, not one each (1,000 idle TLS sockets on curl woke the loop
 * 172 times in the 200 ms after their last echoes). */
#define RXBUF_IDLE_MS  200
#define RXBUF_GRAIN_MS 100

static void trim_fire(uniws_loop *loop, uniws__timer *t)
{
    uniws_socket *s = t->data;
    /* Used again since the timer was armed: wait out the rest. */
    uint64_t now = uniws__loop_now(loop), due = s->trim_last + RXBUF_IDLE_MS;
    if (now < due) {
        uniws__timer_start_grain(loop, t, due, RXBUF_GRAIN_MS);
        return;
    }
    /* A message being reassembled still needs its bytes. */
    if (s->msg_cap > RXBUF_KEEP && !s->frag_op)
        uniws__rxbuf_release(s);
    uniws__ws_trim_output(s);
    uniws__rxlater_trim(s);
    /* The backend's own grown buffers (lws's TLS buffers): what could not
     * go yet waits for another quiet period. */
    if (s->backend->trim && s->backend->trim(s)) {
        s->trim_last = now;
        uniws__timer_start_grain(loop, t, now + RXBUF_IDLE_MS, RXBUF_GRAIN_MS);
    }
}

void uniws__rxbuf_init(uniws_socket *s)
{
    uniws__timer_init(&s->trim_timer, trim_fire, s);
}

int uniws__rxbuf_room(uniws_socket *s, size_t extra, uint64_t frame_left, int fin)
{
    size_t need = s->msg_len + extra + 1;
    if (need <= s->msg_cap)
        return 0;
    size_t cap = s->msg_cap ? s->msg_cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* The last frame of a message: its end is known, do not overshoot it. */
    if (fin && frame_left <= (uint64_t)(SIZE_MAX - s->msg_len - 1)) {
        size_t end = s->msg_len + (size_t)frame_left + 1;
        if (cap > end && end >= need)
            cap = end;
    }
    if (cap > s->max_msg + 1 && need <= s->max_msg + 1)
        cap = s->max_msg + 1;
    uint8_t *m = uniws__realloc(s->msg, cap);
    if (!m)
        return UNIWS_ENOMEM;
    s->msg = m;
    s->msg_cap = cap;
    return 0;
}

/* The trim is due RXBUF_IDLE_MS after the last use. Each use only notes the
 * loop's time and arms the timer if it is not armed yet; the timer, when it
 * fires early, waits out the rest. Re-arming it at every use cost a clock
 * read and two timer heap updates per write of a big frame's chunk (and per
 * write that drained a full burst chunk). */
void uniws__stream_trim_later(uniws_socket *s)
{
    if (uniws__sock_done(s))
        return;
    s->trim_last = uniws__loop_now(s->loop);
    if (!uniws__timer_active(&s->trim_timer))
        uniws__timer_start_grain(s->loop, &s->trim_timer, s->trim_last + RXBUF_IDLE_MS,
                                 RXBUF_GRAIN_MS);
}

void uniws__rxbuf_idle(uniws_socket *s)
{
    if (s->msg_cap > RXBUF_KEEP)
        uniws__stream_trim_later(s);
}

void uniws__rxbuf_release(uniws_socket *s)
{
    uniws__free(s->msg);
    s->msg = NULL;
    s->msg_cap = 0;
    s->msg_len = 0;
}

void uniws__rxbuf_cleanup(uniws_socket *s)
{
    uniws__timer_stop(s->loop, &s->trim_timer);
    uniws__rxbuf_release(s);
}
