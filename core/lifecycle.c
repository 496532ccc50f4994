/*
 * lifecycle.c — the connection-lifecycle features of issue 10 on top of the
 * socket: the heartbeat timer (pings after quiet periods) and the dead-peer
 * deadline (UNIWS_EIDLE_TIMEOUT), pong events with round trips, statistics
 * (uniws_get_stats) and the cause carried by the close event. The decisions
 * themselves are in core/heartbeat.c, free of clocks and sockets.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "core/frame.h"
#include "core/alloc.h"
#include "core/lifecycle.h"
#include "core/redirect.h"
#include "core/socket.h"

int uniws__life_check(const uniws_options *o, unsigned caps)
{
    if (o->ping_interval_ms < 0 || o->idle_timeout_ms < 0 || uniws__rc_check(&o->reconnect))
        return UNIWS_EINVAL;
    if (o->max_redirects < 0)
        return UNIWS_EINVAL;
    if (o->ping_interval_ms > 0 && !(caps & UNIWS_CAP_PING))
        return UNIWS_EUNSUPPORTED;
    /* Following needs the status and the Location, which the browser hides
     * (it fails the connection on a redirect). */
    if (o->max_redirects > 0 && !(caps & UNIWS_CAP_RESPONSE_HEADERS))
        return UNIWS_EUNSUPPORTED;
    return 0;
}

static void hb_fire(uniws_loop *loop, uniws__timer *t);
static void rc_fire(uniws_loop *loop, uniws__timer *t);

/* A new attempt: no phase measured yet. */
static void reset_timings(uniws__life *l)
{
    l->st.dns_ms = l->st.tcp_ms = l->st.tls_ms = l->st.upgrade_ms = -1;
    l->ph[0] = l->ph[1] = l->ph[2] = -1;
}

void uniws__life_init(uniws_socket *s)
{
    uniws__life *l = &s->life;
    uniws__timer_init(&l->hb_timer, hb_fire, s);
    uniws__timer_init(&l->rc_timer, rc_fire, s);
    l->t_start = uniws__plat_now_ms();
    l->st.rtt_last_ms = l->st.rtt_smoothed_ms = -1;
    l->st.transport_ms = l->st.open_ms = -1;
    reset_timings(l);
}

static int since_start(uniws_socket *s)
{
    uint64_t d = uniws__plat_now_ms() - s->life.t_start;
    return d > 0x7fffffff ? 0x7fffffff : (int)d;
}

void uniws__life_transport_up(uniws_socket *s)
{
    if (s->life.st.transport_ms < 0)
        s->life.st.transport_ms = since_start(s);
}

void uniws__life_phase(uniws_socket *s, int phase)
{
    uniws__life *l = &s->life;
    if (phase < 0 || phase > 2 || l->ph[phase] >= 0)
        return;
    int now = since_start(s);
    l->ph[phase] = now;
    switch (phase) {
    case UNIWS__PHASE_DNS:
        l->st.dns_ms = now;
        break;
    case UNIWS__PHASE_TCP:
        l->st.tcp_ms = now - (l->ph[0] >= 0 ? l->ph[0] : 0);
        if (!s->url.tls)
            l->st.tls_ms = 0;
        break;
    default:
        if (l->ph[1] >= 0)
            l->st.tls_ms = now - l->ph[1];
        break;
    }
}

void uniws__life_timings(uniws_socket *s, int dns_ms, int tcp_ms, int tls_ms, int upgrade_ms)
{
    uniws_stats *st = &s->life.st;
    st->dns_ms = dns_ms;
    st->tcp_ms = tcp_ms;
    st->tls_ms = tls_ms;
    st->upgrade_ms = upgrade_ms;
}

/* Checks the heartbeat at the loop's time and re-arms the timer. */
static void hb_check(uniws_socket *s)
{
    uniws__life *l = &s->life;
    if (uniws__sock_done(s) || uniws__atomic_load(&s->state) != UNIWS_OPEN)
        return;
    /* The platform clock: the loop's is cached per iteration, and a deadline
     * must not fire early by the time an iteration took. */
    uint64_t now = uniws__plat_now_ms(), next;
    uint8_t ping[UNIWS__HB_PING_LEN];
    int queued = 0;
    uniws__mutex_lock(s->mu);
    int act = uniws__hb_due(&l->hb, now, ping, &next);
    if (act == UNIWS__HB_PING && s->backend->kind == UNIWS__STREAM && !s->close_sent &&
        uniws__ws_queue(s, UNIWS__OP_PING, ping, sizeof ping) == 0) {
        uniws__hb_ping_sent(&l->hb, uniws__plat_now_ms(), ping, sizeof ping);
        l->st.pings_sent++;
        s->want_kick = 1;
        queued = 1;
    }
    uniws__mutex_unlock(s->mu);
    if (act == UNIWS__HB_DEAD) {
        char msg[96];
        snprintf(msg, sizeof msg, "nothing arrived from the peer for %d ms",
                 s->opts.idle_timeout_ms);
        if (s->backend->kind == UNIWS__STREAM)
            uniws__ws_fail(s, UNIWS_EIDLE_TIMEOUT, 0, msg);
        else
            uniws__sock_fail(s, UNIWS_EIDLE_TIMEOUT, 0, msg);
        return;
    }
    if (queued)
        uniws__sock_post(s);
    if (next != UINT64_MAX)
        uniws__timer_start(s->loop, &l->hb_timer, next);
}

static void hb_fire(uniws_loop *loop, uniws__timer *t)
{
    (void)loop;
    hb_check(t->data);
}

void uniws__life_opened(uniws_socket *s)
{
    uniws__life *l = &s->life;
    l->st.open_ms = since_start(s);
    l->rd_hops = 0;
    /* The core wrote the request when the transport came up. */
    if (s->backend->kind == UNIWS__STREAM && !s->backend->does_upgrade && l->st.transport_ms >= 0 &&
        l->st.upgrade_ms < 0)
        l->st.upgrade_ms = l->st.open_ms - l->st.transport_ms;
    uniws__rc_opened(&l->rc);
    if (s->opts.ping_interval_ms <= 0 && s->opts.idle_timeout_ms <= 0)
        return;
    uniws__mutex_lock(s->mu);
    /* An application ping sent before the open already sits in hb. */
    uniws__hb save = l->hb;
    uniws__hb_start(&l->hb, uniws__plat_now_ms(), (uint64_t)s->opts.ping_interval_ms,
                    (uint64_t)s->opts.idle_timeout_ms);
    if (save.outstanding)
        uniws__hb_ping_sent(&l->hb, save.ping_at, save.ping, save.ping_len);
    uniws__mutex_unlock(s->mu);
    /* The first check comes after the open event has fired. */
    uint64_t first = (uint64_t)s->opts.ping_interval_ms;
    if (s->opts.idle_timeout_ms > 0 && (!first || (uint64_t)s->opts.idle_timeout_ms < first))
        first = (uint64_t)s->opts.idle_timeout_ms;
    uniws__timer_start(s->loop, &l->hb_timer, first);
}

void uniws__life_stop(uniws_socket *s)
{
    uniws__timer_stop(s->loop, &s->life.hb_timer);
    uniws__timer_stop(s->loop, &s->life.rc_timer);
    if (s->life.rd_swap || s->life.rd_pending) {
        s->life.rd_swap = s->life.rd_pending = 0;
        uniws__url_free(&s->life.rd_next);
    }
}

void uniws__life_rx(uniws_socket *s, size_t wire_bytes)
{
    s->life.st.wire_bytes_received += wire_bytes;
    if (s->life.hb.idle || s->life.hb.interval)
        s->life.hb.last_rx = uniws__plat_now_ms();
}

void uniws__life_tx(uniws_socket *s, size_t wire_bytes)
{
    s->life.st.wire_bytes_sent += wire_bytes;
    if (s->life.hb.interval)
        s->life.hb.last_tx = uniws__plat_now_ms();
}

void uniws__life_sent(uniws_socket *s, int opcode, const void *data, size_t len)
{
    uniws__life *l = &s->life;
    if (opcode == UNIWS__OP_PING) {
        l->st.pings_sent++;
        /* Any thread: the platform clock, not the loop's cached one. */
        uniws__hb_ping_sent(&l->hb, uniws__plat_now_ms(), data, len);
        return;
    }
    l->st.msgs_sent++;
    l->st.bytes_sent += len;
}

void uniws__life_frame_sent(uniws_socket *s)
{
    s->life.st.frames_sent++;
}

void uniws__life_frame_received(uniws_socket *s, int opcode)
{
    s->life.st.frames_received++;
    if (opcode == UNIWS__OP_PING)
        s->life.st.pings_received++;
}

void uniws__life_delivered(uniws_socket *s, size_t len)
{
    s->life.st.msgs_received++;
    s->life.st.bytes_received += len;
}

void uniws__life_part(uniws_socket *s, size_t len, int last)
{
    s->life.st.bytes_received += len;
    if (last)
        s->life.st.msgs_received++;
}

void uniws__life_zsent(uniws_socket *s, size_t app, size_t wire)
{
    s->life.z_app_sent += app;
    s->life.z_wire_sent += wire;
}

void uniws__life_zrecv(uniws_socket *s, size_t app, size_t wire)
{
    s->life.z_app_recv += app;
    s->life.z_wire_recv += wire;
}

void uniws__life_pong(uniws_socket *s, const void *data, size_t len)
{
    uniws__life *l = &s->life;
    uniws__mutex_lock(s->mu);
    int rtt = uniws__hb_pong(&l->hb, uniws__plat_now_ms(), data, len);
    l->st.pongs_received++;
    if (rtt >= 0) {
        l->st.rtt_last_ms = l->hb.rtt_last;
        l->st.rtt_smoothed_ms = l->hb.rtt_srtt;
    }
    uniws__mutex_unlock(s->mu);
    if (s->cb.on_pong && !uniws__sock_done(s)) {
        uniws_pong_event ev = {len ? data : "", len, rtt};
        s->cb.on_pong(s, &ev, s->user_data);
    }
}

int uniws_get_stats(const uniws_socket *s, uniws_stats *out)
{
    if (!s || !out)
        return UNIWS_EINVAL;
    uniws_socket *m = (uniws_socket *)s;
    uniws__mutex_lock(m->mu);
    *out = s->life.st;
    const uniws__life *l = &s->life;
    uniws__mutex_unlock(m->mu);
    out->compression_ratio_sent =
        l->z_wire_sent ? (double)l->z_app_sent / (double)l->z_wire_sent : 0;
    out->compression_ratio_received =
        l->z_wire_recv ? (double)l->z_app_recv / (double)l->z_wire_recv : 0;
    return 0;
}

/* ---- reconnect ---------------------------------------------------------- */

int uniws__life_waiting(const uniws_socket *s)
{
    return s->life.rc_waiting;
}

/* ---- redirects ---------------------------------------------------------- */

int uniws__life_redirect(uniws_socket *s, int *err, int http_status, const char **msg)
{
    uniws__life *l = &s->life;
    if (s->opts.max_redirects <= 0 || s->opened || s->freed || l->app_closed ||
        !uniws__redirect_status(http_status))
        return 0;
    const char *loc = uniws__hsinfo_get(&s->hsinfo, "Location");
    if (!loc)
        return 0; /* nowhere to go: reported as the refusal it is */
    int r = uniws__redirect_resolve(&s->url, loc, l->rd_hops, s->opts.max_redirects, &l->rd_next);
    if (r != UNIWS__RD_OK) {
        *err = r == UNIWS__RD_NOMEM ? UNIWS_ENOMEM : UNIWS_EREDIRECT;
        *msg = uniws__redirect_why(r);
        return 0;
    }
    l->rd_pending = 1;
    return 1;
}

/* The close after a followed redirect: the socket stays CONNECTING and
 * connects to the new URL at once (the reconnect machinery, without its
 * event, its backoff or its attempt count). */
static int redirect_take_over(uniws_socket *s)
{
    uniws__life *l = &s->life;
    l->rd_swap = 1;
    l->rd_hops++;
    l->st.redirects++;
    l->rc_waiting = l->rc_reset = 1;
    l->rc_delay = 0;
    l->cause = l->cause_status = 0;
    uniws__timer_stop(s->loop, &s->conn_timer);
    uniws__timer_stop(s->loop, &s->close_timer);
    uniws__timer_stop(s->loop, &l->hb_timer);
    uniws__sock_post(s);
    return 1;
}

int uniws__life_reconnect(uniws_socket *s, int code, int clean)
{
    uniws__life *l = &s->life;
    if (l->rd_pending) {
        l->rd_pending = 0;
        if (!s->freed && !l->app_closed)
            return redirect_take_over(s);
        uniws__url_free(&l->rd_next); /* freed or closed meanwhile: not followed */
    }
    if (!uniws__rc_enabled(&s->opts.reconnect) || s->freed)
        return 0;
    if (!l->rc_on) {
        uint64_t seed = 0;
        if (uniws__plat_random(&seed, sizeof seed) != 0)
            seed = uniws__plat_now_ms() ^ (uint64_t)(uintptr_t)s;
        uniws__rc_init(&l->rc, &s->opts.reconnect, seed | 1);
        l->rc_on = 1;
    }
    int cause = clean ? 0 : l->cause ? l->cause : UNIWS_ERESET, delay;
    uniws__mutex_lock(s->mu);
    int take = !l->app_closed &&
               uniws__rc_qualifies(&l->rc, s->opened, code, clean, cause, l->cause_status) &&
               uniws__rc_next(&l->rc, &delay);
    if (take)
        uniws__atomic_store(&s->state, UNIWS_CONNECTING);
    uniws__mutex_unlock(s->mu);
    if (!take)
        return 0;
    l->rc_waiting = l->rc_reset = 1;
    l->rc_delay = delay;
    l->cause = l->cause_status = 0;
    l->st.reconnects++;
    uniws__timer_stop(s->loop, &s->conn_timer);
    uniws__timer_stop(s->loop, &s->close_timer);
    uniws__timer_stop(s->loop, &l->hb_timer);
    uniws__sock_post(s);
    if (s->cb.on_reconnecting) {
        uniws_reconnect_event ev = {l->rc.attempt, delay, cause, code};
        s->cb.on_reconnecting(s, &ev, s->user_data);
    }
    return 1;
}

/* Gives the socket a fresh connection state: what uniws_connect() set up
 * before calling the backend. Returns 0 or UNIWS_ENOMEM. */
static int reset_connection(uniws_socket *s)
{
    if (!s->destroyed) {
        s->destroyed = 1;
        if (s->connect_called && s->backend->destroy)
            s->backend->destroy(s);
    }
    if (s->backend->priv_size)
        memset(s->priv, 0, s->backend->priv_size);
    s->opened = s->linger = s->linger_done = 0;
    uniws__mutex_lock(s->mu);
    s->want_kick = s->close_timer_req = 0;
    uniws__mutex_unlock(s->mu);
    char *p = uniws__strdup(""), *e = uniws__strdup("");
    uniws__free(s->protocol);
    uniws__free(s->extensions);
    s->protocol = p;
    s->extensions = e;
    uniws__hsinfo_clear(&s->hsinfo);
    if (!p || !e)
        return UNIWS_ENOMEM;
    if (s->backend->kind != UNIWS__STREAM)
        return 0;
    uniws__ws_cleanup(s);   /* stops the receive buffer's trim timer */
    uniws__flow_cleanup(s); /* stops the bufferedAmount poll timer */
    /* The stream protocol state of struct uniws_socket: every field from
     * transport_up up to the lifecycle block (socket.h keeps them there),
     * flow control's included; its timers are stopped above and set up
     * again below. */
    uniws__mutex_lock(s->mu);
    memset(&s->transport_up, 0,
           offsetof(uniws_socket, life) - offsetof(uniws_socket, transport_up));
    uniws__mutex_unlock(s->mu);
    uniws__rxbuf_init(s);
    uniws__flow_init(s);
    return uniws__ws_init(s);
}

void uniws__life_job(uniws_socket *s)
{
    uniws__life *l = &s->life;
    if (!l->rc_reset)
        return;
    l->rc_reset = 0;
    uniws__timer_stop(s->loop, &s->conn_timer);
    uniws__timer_stop(s->loop, &s->close_timer);
    if (reset_connection(s) != 0) {
        l->rc_waiting = 0;
        l->app_closed = 1; /* no further attempt */
        uniws__sock_fail(s, UNIWS_ENOMEM, 0, "out of memory while reconnecting");
        return;
    }
    if (l->rd_swap) {
        /* The old connection is gone: nothing points into the old URL now. */
        l->rd_swap = 0;
        uniws__url_free(&s->url);
        s->url = l->rd_next;
        memset(&l->rd_next, 0, sizeof l->rd_next);
        if (!(s->backend->caps & (s->url.tls ? UNIWS_CAP_WSS : UNIWS_CAP_WS))) {
            l->rc_waiting = 0;
            l->app_closed = 1;
            uniws__sock_fail(s, UNIWS_EUNSUPPORTED, 0,
                             "redirected to a scheme this backend cannot connect to");
            return;
        }
    }
    uniws__timer_start(s->loop, &l->rc_timer, (uint64_t)l->rc_delay);
    /* A loop the browser drives re-reads its timers only when woken. */
    uniws__loop_wake(s->loop);
}

void uniws__life_abort(uniws_socket *s)
{
    s->life.app_closed = 1;
    s->life.rc_waiting = 0;
    uniws__timer_stop(s->loop, &s->life.rc_timer);
}

static void rc_fire(uniws_loop *loop, uniws__timer *t)
{
    uniws_socket *s = t->data;
    uniws__life *l = &s->life;
    (void)loop;
    if (s->freed || s->close_fired || !l->rc_waiting)
        return;
    l->rc_waiting = 0;
    l->t_start = uniws__plat_now_ms();
    l->st.transport_ms = l->st.open_ms = -1;
    reset_timings(l);
    s->destroyed = 0;
    s->connect_called = 1;
    int r = s->backend->connect(s, &s->req);
    if (r) {
        uniws__sock_fail(s, r, 0, "the reconnect could not start");
        return;
    }
    int ms =
        s->opts.connect_timeout_ms ? s->opts.connect_timeout_ms : UNIWS_DEFAULT_CONNECT_TIMEOUT_MS;
    if (ms > 0)
        uniws__timer_start(s->loop, &s->conn_timer, (uint64_t)ms);
}
