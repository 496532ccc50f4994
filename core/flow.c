/*
 * flow.c — back-pressure for every backend: max_buffered_amount (a send that
 * would queue beyond it fails with UNIWS_EBUFFER_FULL and queues nothing) and
 * the on_buffered_amount_low event (the queued bytes fell to or below
 * buffered_amount_low_threshold after having been above it, as
 * RTCDataChannel's bufferedamountlow). STREAM backends report each drained
 * byte (wsproto.c's consume); a MESSAGE backend (the browser) only has a
 * bufferedAmount to read, so it is polled by a timer that runs only while
 * the amount is above the threshold, backing off from 2 to 50 ms.
 */
#include "core/socket.h"

#define POLL_FIRST_MS 2
#define POLL_MAX_MS   50

static void fire_low(uniws_socket *s)
{
    if (!uniws__sock_done(s) && s->cb.on_buffered_amount_low)
        s->cb.on_buffered_amount_low(s, s->user_data);
}

size_t uniws__flow_buffered(uniws_socket *s)
{
    if (s->backend->kind == UNIWS__STREAM)
        return s->buffered;
    if (s->backend->msg_buffered && !s->destroyed)
        return s->backend->msg_buffered(s);
    return 0;
}

static void poll_fire(uniws_loop *loop, uniws__timer *t)
{
    uniws_socket *s = t->data;
    (void)loop;
    if (uniws__sock_done(s))
        return;
    int fire = 0;
    uniws__mutex_lock(s->mu);
    if (s->flow_above) {
        if (uniws__flow_buffered(s) <= s->opts.buffered_amount_low_threshold) {
            s->flow_above = 0;
            fire = 1;
        } else {
            s->flow_poll_ms = s->flow_poll_ms * 2 > POLL_MAX_MS ? POLL_MAX_MS : s->flow_poll_ms * 2;
            uniws__timer_start(s->loop, &s->flow_timer, s->flow_poll_ms);
        }
    }
    uniws__mutex_unlock(s->mu);
    if (fire)
        fire_low(s);
}

void uniws__flow_init(uniws_socket *s)
{
    uniws__timer_init(&s->flow_timer, poll_fire, s);
}

void uniws__flow_cleanup(uniws_socket *s)
{
    uniws__timer_stop(s->loop, &s->flow_timer);
}

int uniws__flow_admit(uniws_socket *s, size_t len)
{
    size_t max = s->opts.max_buffered_amount;
    if (!max)
        return 0;
    size_t cur = uniws__flow_buffered(s);
    return len > max || cur > max - len ? UNIWS_EBUFFER_FULL : 0;
}

int uniws__flow_sent(uniws_socket *s)
{
    if (!s->cb.on_buffered_amount_low || s->flow_above)
        return 0;
    if (uniws__flow_buffered(s) <= s->opts.buffered_amount_low_threshold)
        return 0;
    s->flow_above = 1;
    if (s->backend->kind == UNIWS__MESSAGE) {
        s->flow_poll_req = 1;
        return 1;
    }
    return 0;
}

int uniws__flow_drained(uniws_socket *s)
{
    if (!s->flow_above || s->buffered > s->opts.buffered_amount_low_threshold)
        return 0;
    s->flow_above = 0;
    s->flow_low_req = 1;
    return 1;
}

void uniws__flow_job(uniws_socket *s)
{
    uniws__mutex_lock(s->mu);
    int low = s->flow_low_req, poll = s->flow_poll_req;
    s->flow_low_req = s->flow_poll_req = 0;
    uniws__mutex_unlock(s->mu);
    if (poll && !uniws__timer_active(&s->flow_timer)) {
        s->flow_poll_ms = POLL_FIRST_MS;
        uniws__timer_start(s->loop, &s->flow_timer, s->flow_poll_ms);
    }
    if (low)
        fire_low(s);
}
