/*
 * cases_lifecycle.c — conformance cases of the connection-lifecycle features
 * (issue 10): the close event's cause, the dead-peer deadline
 * (idle_timeout_ms), the heartbeat (ping_interval_ms) with pong events and
 * round trips, and uniws_get_stats(). Every column runs them; the heartbeat
 * and pong ones need UNIWS_CAP_PING.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "cases.h"

/* Slack for a loaded machine: a deadline may fire this much late, and the
 * recorder reads the clock for an event after the core started the deadline
 * (a preempted or sanitized process: tens of ms; tests/core/test_heartbeat.c
 * checks the deadline to the millisecond on a fake clock). */
#define LATE_MS  900
#define EARLY_MS 100

/* Pong events seen by a recorder (hook_data). */
typedef struct pongs {
    int n;
    int rtt[8];
    size_t len[8];
    char first[16];
} pongs;

static void on_pong(uniws_socket *s, const uniws_pong_event *ev, void *ud)
{
    rec *r = ud;
    pongs *p = r->hook_data;
    (void)s;
    if (!p)
        return;
    if (p->n < 8) {
        p->rtt[p->n] = ev->rtt_ms;
        p->len[p->n] = ev->len;
    }
    if (p->n == 0) {
        size_t n = ev->len < sizeof p->first - 1 ? ev->len : sizeof p->first - 1;
        memcpy(p->first, ev->data, n);
        p->first[n] = 0;
    }
    p->n++;
}

static int pongs_at_least(void *arg)
{
    rec *r = arg;
    return ((pongs *)r->hook_data)->n >= (int)r->hook_arg || r->n_close;
}

static uint64_t ev_at(const rec *r, int kind)
{
    const conf_ev *e = rec_first(r, kind);
    return e ? e->at_ms : 0;
}

/* A clean close says cause 0; the recorder checks the rule on every case. */
void case_life_cause_clean(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    TRY(close_and_wait(r));
    const conf_ev *e = rec_first(r, EV_CLOSE);
    CHECK(c, e && e->cause == 0, "clean close with cause %s", uniws_err_name(e ? e->cause : 0));
}

/* A connection the peer drops: the close event's cause is the error's code. */
void case_life_cause_error(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/script/text:x/fin", NULL);
    TRY(r);
    TRY(rec_wait_close(r));
    const conf_ev *err = rec_first(r, EV_ERROR), *cl = rec_first(r, EV_CLOSE);
    CHECK(c, cl->code == 1006 && !cl->was_clean, "close %d clean=%d", cl->code, cl->was_clean);
    if (!err) {
        /* A browser reports a TCP end after the open as close 1006 with no
         * error event (WHATWG: not a "failure"): the cause still says it. */
        CHECK(c, !(c->env->info.caps & UNIWS_CAP_RAW_FRAMES), "no error event before close 1006");
        CHECK(c, cl->cause == UNIWS_ERESET, "close cause %s without an error event",
              uniws_err_name(cl->cause));
        snprintf(c->note, sizeof c->note, "no error event here; cause UNIWS_ERESET");
        return;
    }
    CHECK(c, cl->cause < 0 && cl->cause == err->error, "close cause %s, error event %s",
          uniws_err_name(cl->cause), uniws_err_name(err->error));
}

/* arg: idle_timeout_ms. A peer that goes silent without closing (TCP stays
 * up) fails the connection with UNIWS_EIDLE_TIMEOUT on time. */
void case_life_idle_timeout(cx *c, const conf_case *k)
{
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.idle_timeout_ms = (int)k->arg;
    rec *r = cx_connect(c, "/script/text:hi/hold", &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EIDLE_TIMEOUT, 1));
    CHECK(c, r->n_msg == 1, "%zu messages, expected the one before the silence", r->n_msg);
    const conf_ev *cl = rec_first(r, EV_CLOSE);
    CHECK(c, cl->cause == UNIWS_EIDLE_TIMEOUT, "close cause %s", uniws_err_name(cl->cause));
    /* The deadline counts from the last arrival (the message). */
    uint64_t from = rec_msg(r, 0)->at_ms, at = ev_at(r, EV_ERROR);
    CHECK(c, at + EARLY_MS >= from + (uint64_t)k->arg,
          "failed %llu ms after the last arrival, deadline %ld ms", (unsigned long long)(at - from),
          k->arg);
    CHECK(c, at <= from + (uint64_t)k->arg + LATE_MS,
          "failed %llu ms after the last arrival, deadline %ld ms (too late)",
          (unsigned long long)(at - from), k->arg);
    snprintf(c->note, sizeof c->note, "detected after %llu ms", (unsigned long long)(at - from));
}

/* Messages arriving more often than the deadline keep the connection. */
void case_life_idle_reset(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.idle_timeout_ms = 600;
    rec *r = cx_connect(c,
                        "/script/text:1/sleep:250/text:2/sleep:250/text:3/sleep:250/text:4/"
                        "sleep:250/text:5/close:1000",
                        &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 5));
    TRY(expect_clean_close(r, 1000, ""));
}

/* A socket without the options never times out on a quiet peer. */
void case_life_idle_off(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/script/sleep:700/text:late/close:1000", NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_clean_close(r, 1000, ""));
}

/* ping_interval_ms needs UNIWS_CAP_PING: others refuse it at connect. */
void case_life_ping_needs_cap(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 1000;
    unsigned caps = c->env->info.caps;
    rec *r = NULL;
    int rc = cx_try_connect(c, "/echo", &o, &r);
    if (!(caps & UNIWS_CAP_PING)) {
        CHECK(c, rc == UNIWS_EUNSUPPORTED, "ping_interval_ms without UNIWS_CAP_PING gave %s",
              uniws_err_name(rc));
        snprintf(c->note, sizeof c->note, "refused: no UNIWS_CAP_PING");
        return;
    }
    CHECK(c, rc == 0, "ping_interval_ms with UNIWS_CAP_PING gave %s", uniws_err_name(rc));
    rec_free_socket(r);
    o.ping_interval_ms = -1;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
}

/* The heartbeat pings a quiet connection; each pong reports its round trip. */
void case_life_heartbeat(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 100;
    o.callbacks.on_pong = on_pong;
    pongs *p = cx_malloc(c, sizeof *p);
    TRY(p);
    memset(p, 0, sizeof *p);
    rec *r = cx_rec(c);
    TRY(r);
    r->hook_data = p;
    r->hook_arg = 3;
    TRY(rec_connect(r, "/echo", &o));
    TRY(rec_wait_open(r));
    uint64_t t0 = cx_now_ms();
    CHECK(c, cx_run_until(c, pongs_at_least, r, 3000), "%d pongs in 3 s with a 100 ms heartbeat",
          p->n);
    CHECK(c, !r->n_close, "the connection closed");
    uint64_t took = cx_now_ms() - t0;
    CHECK(c, took >= 250, "3 heartbeat pongs after %llu ms: pings come too often",
          (unsigned long long)took);
    for (int i = 0; i < 3; i++)
        CHECK(c, p->rtt[i] >= 0 && p->len[i] == 8, "pong %d: rtt %d, %zu bytes", i, p->rtt[i],
              p->len[i]);
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c,
          st.pings_sent >= 3 && st.pongs_received >= 3 && st.rtt_last_ms >= 0 &&
              st.rtt_smoothed_ms >= 0,
          "stats: %llu pings, %llu pongs, rtt %d / %d", (unsigned long long)st.pings_sent,
          (unsigned long long)st.pongs_received, st.rtt_last_ms, st.rtt_smoothed_ms);
    TRY(close_and_wait(r));
    snprintf(c->note, sizeof c->note, "rtt %d ms, smoothed %d ms", st.rtt_last_ms,
             st.rtt_smoothed_ms);
}

/* Sending keeps the heartbeat quiet on the sending side only: an echo that
 * answers keeps it quiet altogether. */
void case_life_heartbeat_busy(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 300;
    rec *r = cx_connect(c, "/echo", &o);
    TRY(r);
    TRY(rec_wait_open(r));
    for (int i = 0; i < 12; i++) {
        CHECK_RC(c, uniws_send_text(r->s, "tick", 4), 0);
        TRY(rec_wait_msgs(r, (size_t)i + 1));
        cx_run_for(c, 50);
    }
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    /* 12 x (round trip + 50 ms) > 600 ms, but traffic never paused for 300. */
    CHECK(c, st.pings_sent == 0, "%llu heartbeat pings on a busy connection",
          (unsigned long long)st.pings_sent);
    TRY(close_and_wait(r));
}

/* A half-open connection: pings go out, nothing comes back; the deadline
 * fails it in time. */
void case_life_heartbeat_dead_peer(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 100;
    o.idle_timeout_ms = 500;
    rec *r = cx_connect(c, "/script/hold", &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EIDLE_TIMEOUT, 1));
    uint64_t open = ev_at(r, EV_OPEN), at = ev_at(r, EV_ERROR);
    CHECK(c, at + EARLY_MS >= open + 500 && at <= open + 500 + LATE_MS, "failed %llu ms after open",
          (unsigned long long)(at - open));
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.pings_sent >= 3 && st.pongs_received == 0, "stats: %llu pings, %llu pongs",
          (unsigned long long)st.pings_sent, (unsigned long long)st.pongs_received);
    snprintf(c->note, sizeof c->note, "detected %llu ms after open, %llu pings",
             (unsigned long long)(at - open), (unsigned long long)st.pings_sent);
}

/* Pongs answer the heartbeat, so the deadline never fires on a live peer. */
void case_life_heartbeat_alive(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 100;
    o.idle_timeout_ms = 400;
    rec *r = cx_connect(c, "/echo", &o);
    TRY(r);
    TRY(rec_wait_open(r));
    cx_run_for(c, 1200);
    CHECK(c, r->n_err == 0 && r->n_close == 0, "a live, quiet peer was declared dead");
    TRY(close_and_wait(r));
}

/* on_pong: an unsolicited pong has rtt -1; the answer to uniws_ping() has a
 * round trip. */
void case_life_pong_event(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.callbacks.on_pong = on_pong;
    pongs *p = cx_malloc(c, sizeof *p);
    TRY(p);
    memset(p, 0, sizeof *p);
    rec *r = cx_rec(c);
    TRY(r);
    r->hook_data = p;
    r->hook_arg = 1;
    TRY(rec_connect(r, "/script/pong:x", &o));
    TRY(rec_wait_open(r));
    CHECK(c, cx_run_until(c, pongs_at_least, r, 3000), "no pong event for the peer's pong");
    CHECK(c, p->rtt[0] == -1 && strcmp(p->first, "x") == 0, "unsolicited pong: '%s', rtt %d",
          p->first, p->rtt[0]);
    CHECK_RC(c, uniws_ping(r->s, "abc", 3), 0);
    r->hook_arg = 2;
    CHECK(c, cx_run_until(c, pongs_at_least, r, 3000), "no pong event for our ping");
    CHECK(c, p->rtt[1] >= 0 && p->len[1] == 3, "answer to our ping: rtt %d, %zu bytes", p->rtt[1],
          p->len[1]);
    TRY(close_and_wait(r));
}

/* uniws_get_stats counts messages and payload bytes both ways on every
 * backend; frames and wire bytes where the core frames (stream backends). */
void case_life_stats(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.open_ms >= 0 && st.msgs_sent == 0 && st.msgs_received == 0,
          "at open: open_ms %d, %llu sent, %llu received", st.open_ms,
          (unsigned long long)st.msgs_sent, (unsigned long long)st.msgs_received);
    CHECK_RC(c, uniws_send_text(r->s, "hello", 5), 0);
    CHECK_RC(c, uniws_send_text(r->s, "world!", 6), 0);
    CHECK_RC(c, uniws_send_binary(r->s, "0123456789", 10), 0);
    TRY(rec_wait_msgs(r, 3));
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.msgs_sent == 3 && st.bytes_sent == 21, "sent: %llu messages, %llu bytes",
          (unsigned long long)st.msgs_sent, (unsigned long long)st.bytes_sent);
    CHECK(c, st.msgs_received == 3 && st.bytes_received == 21,
          "received: %llu messages, %llu bytes", (unsigned long long)st.msgs_received,
          (unsigned long long)st.bytes_received);
    if (c->env->info.caps & UNIWS_CAP_RAW_FRAMES) {
        /* 3 masked frames with 2-byte headers: 3 * 6 + 21 at least. */
        CHECK(c, st.frames_sent == 3 && st.frames_received == 3, "frames: %llu sent, %llu received",
              (unsigned long long)st.frames_sent, (unsigned long long)st.frames_received);
        CHECK(c, st.wire_bytes_sent >= 3 * 2 + 21 && st.wire_bytes_received >= 3 * 2 + 21,
              "wire bytes: %llu sent, %llu received", (unsigned long long)st.wire_bytes_sent,
              (unsigned long long)st.wire_bytes_received);
    } else {
        CHECK(c, st.frames_sent == 0 && st.wire_bytes_sent == 0,
              "the core does not frame here, yet counted %llu frames, %llu wire bytes",
              (unsigned long long)st.frames_sent, (unsigned long long)st.wire_bytes_sent);
    }
    CHECK(c, st.compression_ratio_sent == 0 && st.compression_ratio_received == 0,
          "compression ratio without permessage-deflate");
    TRY(close_and_wait(r));
    /* The counters outlive the close event. */
    uniws_stats after;
    CHECK_RC(c, uniws_get_stats(r->s, &after), 0);
    CHECK(c, after.msgs_received == 3, "after close: %llu messages",
          (unsigned long long)after.msgs_received);
    CHECK_RC(c, uniws_get_stats(NULL, &after), UNIWS_EINVAL);
}

/* ---- reconnect -------------------------------------------------------------- */

/* The recorder of a reconnecting socket: open may come again, so the
 * harness's (one open per socket) does not apply; these rules do. */
typedef struct rcrec {
    cx *c;
    uniws_socket *s;
    int opens, msgs, errors, closes, rcs;
    int attempt[8], delay[8], cause[8], code[8];
    int last_error;
    int err_since_open; /* an error event since the last open (or the start) */
    int close_code, close_clean, close_cause;
    int close_at_open; /* uniws_close() inside the n-th open (0: never) */
    int close_at_msg;  /* uniws_close() inside the n-th message */
    int send_at_open1; /* messages sent inside the first open */
    char violation[200];
} rcrec;

static void rc_violate(rcrec *r, const char *what)
{
    if (!r->violation[0])
        snprintf(r->violation, sizeof r->violation, "%s", what);
}

static void rc_open(uniws_socket *s, void *ud)
{
    rcrec *r = ud;
    if (s != r->s || r->closes)
        rc_violate(r, "open on another handle or after close");
    if (uniws_ready_state(s) != UNIWS_OPEN)
        rc_violate(r, "ready_state is not OPEN in on_open");
    r->opens++;
    r->err_since_open = 0;
    for (int i = 0; r->opens == 1 && i < r->send_at_open1; i++)
        if (uniws_send_text(s, "m", 1) != 0)
            rc_violate(r, "send failed in on_open");
    if (r->close_at_open && r->opens == r->close_at_open && uniws_close(s, 1000, NULL) != 0)
        rc_violate(r, "uniws_close failed in on_open");
}

static void rc_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    rcrec *r = ud;
    (void)m;
    if (r->closes || r->opens == 0)
        rc_violate(r, "message outside an open connection");
    r->msgs++;
    if (r->close_at_msg && r->msgs == r->close_at_msg && uniws_close(s, 1000, NULL) != 0)
        rc_violate(r, "uniws_close failed in on_message");
}

static void rc_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    rcrec *r = ud;
    (void)s;
    if (r->closes)
        rc_violate(r, "error after close");
    r->errors++;
    r->err_since_open = 1;
    r->last_error = e->error;
}

static void rc_reconnecting(uniws_socket *s, const uniws_reconnect_event *e, void *ud)
{
    rcrec *r = ud;
    if (r->closes)
        rc_violate(r, "on_reconnecting after close");
    if (r->rcs < 8) {
        r->attempt[r->rcs] = e->attempt;
        r->delay[r->rcs] = e->delay_ms;
        r->cause[r->rcs] = e->cause;
        r->code[r->rcs] = e->code;
    }
    r->rcs++;
    /* A browser ends an open connection without an error event when TCP
     * ends: the cause is then UNIWS_ERESET. */
    if (e->cause != 0 && r->err_since_open && e->cause != r->last_error)
        rc_violate(r, "on_reconnecting's cause is not the error event's code");
    if (e->cause != 0 && !r->err_since_open && e->cause != UNIWS_ERESET)
        rc_violate(r, "on_reconnecting's cause without an error event is not UNIWS_ERESET");
    r->err_since_open = 0;
    if (uniws_ready_state(s) != UNIWS_CONNECTING)
        rc_violate(r, "ready_state is not CONNECTING in on_reconnecting");
    if (uniws_send_text(s, "x", 1) != UNIWS_EINVALID_STATE)
        rc_violate(r, "send while reconnecting did not fail with EINVALID_STATE");
}

static void rc_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    rcrec *r = ud;
    (void)s;
    r->closes++;
    r->close_code = e->code;
    r->close_clean = e->was_clean;
    r->close_cause = e->cause;
}

static int rc_closed(void *arg)
{
    return ((rcrec *)arg)->closes > 0;
}

static int rc_reconnecting_seen(void *arg)
{
    return ((rcrec *)arg)->rcs > 0;
}

static void rc_free(void *arg)
{
    uniws_free(((rcrec *)arg)->s);
}

/* Connects a reconnecting socket; NULL after failing the case. */
static rcrec *rc_connect(cx *c, const char *path, const uniws_reconnect *policy)
{
    rcrec *r = cx_malloc(c, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->c = c;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = c->env->backend;
    o.reconnect = *policy;
    o.callbacks.on_open = rc_open;
    o.callbacks.on_message = rc_message;
    o.callbacks.on_error = rc_error;
    o.callbacks.on_close = rc_close;
    o.callbacks.on_reconnecting = rc_reconnecting;
    o.user_data = r;
    char url[512];
    cx_ws_url(c, url, sizeof url, path);
    int rc = uniws_connect(c->loop, url, &o, &r->s);
    if (rc != 0) {
        FAILF(c, "uniws_connect(%s) returned %s", url, uniws_err_name(rc));
        return NULL;
    }
    if (!cx_defer(c, rc_free, r))
        return NULL;
    return r;
}

static int rc_ok(rcrec *r)
{
    if (r->violation[0])
        return FAILF(r->c, "%s", r->violation);
    return 1;
}

/* A server that keeps refusing with 503: backoff 30, 60, then the 100 ms
 * cap, then one close event with the last error as its cause. */
void case_life_reconnect_gives_up(cx *c, const conf_case *k)
{
    (void)k;
    uniws_reconnect p = {0};
    p.max_attempts = 3;
    p.initial_delay_ms = 30;
    p.max_delay_ms = 100;
    p.multiplier = 2;
    uint64_t t0 = cx_now_ms();
    rcrec *r = rc_connect(c, "/script/status:503", &p);
    TRY(r);
    CHECK(c, cx_run_until(c, rc_closed, r, 8000), "no close event after 3 attempts (%d so far)",
          r->rcs);
    uint64_t took = cx_now_ms() - t0;
    TRY(rc_ok(r));
    CHECK(c, r->opens == 0 && r->errors == 4 && r->rcs == 3 && r->closes == 1,
          "%d opens, %d errors, %d reconnecting events, %d closes; expected 0, 4, 3, 1", r->opens,
          r->errors, r->rcs, r->closes);
    CHECK(c, r->attempt[0] == 1 && r->attempt[1] == 2 && r->attempt[2] == 3, "attempts %d, %d, %d",
          r->attempt[0], r->attempt[1], r->attempt[2]);
    CHECK(c, r->delay[0] == 30 && r->delay[1] == 60 && r->delay[2] == 100, "delays %d, %d, %d",
          r->delay[0], r->delay[1], r->delay[2]);
    CHECK(c, r->code[0] == 1006 && r->cause[0] == r->last_error && r->cause[0] < 0,
          "first ending: code %d, cause %s", r->code[0], uniws_err_name(r->cause[0]));
    CHECK(c, r->close_code == 1006 && !r->close_clean && r->close_cause == r->last_error,
          "final close %d clean=%d cause %s", r->close_code, r->close_clean,
          uniws_err_name(r->close_cause));
    CHECK(c, took >= 190, "3 waits of 30+60+100 ms took %llu ms", (unsigned long long)took);
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.reconnects == 3, "stats: %llu reconnects", (unsigned long long)st.reconnects);
}

/* A 4xx refusal will not change by asking again (where the status is known). */
void case_life_reconnect_not_4xx(cx *c, const conf_case *k)
{
    (void)k;
    uniws_reconnect p = {0};
    p.max_attempts = 3;
    p.initial_delay_ms = 20;
    rcrec *r = rc_connect(c, "/script/status:404", &p);
    TRY(r);
    CHECK(c, cx_run_until(c, rc_closed, r, 5000), "no close event");
    TRY(rc_ok(r));
    CHECK(c, r->rcs == 0 && r->errors == 1 && r->closes == 1,
          "%d reconnecting events, %d errors after a 404", r->rcs, r->errors);
}

/* The peer drops an open connection: the same handle opens again each time
 * (reconnect attempt 1 each time: the count restarts after an open); after
 * the application's own uniws_close() it never reconnects. */
void case_life_reconnect_after_drop(cx *c, const conf_case *k)
{
    (void)k;
    uniws_reconnect p = {0};
    p.max_attempts = -1;
    p.initial_delay_ms = 20;
    rcrec *r = rc_connect(c, "/script/text:hi/sleep:150/fin", &p);
    TRY(r);
    r->close_at_msg = 3;
    CHECK(c, cx_run_until(c, rc_closed, r, 8000), "no close event: %d opens, %d reconnects",
          r->opens, r->rcs);
    cx_run_for(c, 300); /* nothing may follow */
    TRY(rc_ok(r));
    CHECK(c, r->opens == 3 && r->msgs == 3 && r->rcs == 2 && r->closes == 1,
          "%d opens, %d messages, %d reconnecting, %d closes; expected 3, 3, 2, 1", r->opens,
          r->msgs, r->rcs, r->closes);
    CHECK(c, r->attempt[0] == 1 && r->attempt[1] == 1 && r->delay[1] == 20,
          "attempts %d, %d (delay %d): the count must restart after an open", r->attempt[0],
          r->attempt[1], r->delay[1]);
    CHECK(c, r->code[0] == 1006 && r->cause[0] < 0, "ending: code %d, cause %s", r->code[0],
          uniws_err_name(r->cause[0]));
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CLOSED, "state after the end");
}

/* A server restarting (close 1012) is reconnected to; a close the
 * application starts (even crossing the server's) ends it once. */
void case_life_reconnect_server_close(cx *c, const conf_case *k)
{
    (void)k;
    uniws_reconnect p = {0};
    p.max_attempts = 5;
    p.initial_delay_ms = 20;
    rcrec *r = rc_connect(c, "/script/text:hi/close:1012", &p);
    TRY(r);
    r->close_at_msg = 3;
    CHECK(c, cx_run_until(c, rc_closed, r, 8000), "no close event: %d opens, %d reconnects",
          r->opens, r->rcs);
    cx_run_for(c, 200);
    TRY(rc_ok(r));
    CHECK(c, r->opens == 3 && r->rcs == 2 && r->closes == 1,
          "%d opens, %d reconnecting, %d closes; expected 3, 2, 1", r->opens, r->rcs, r->closes);
    CHECK(c, r->code[0] == 1012 && r->cause[0] == 0 && r->errors == 0,
          "ending: code %d, cause %s, %d errors", r->code[0], uniws_err_name(r->cause[0]),
          r->errors);
}

/* Normal endings (1000, application codes) are never reconnected. */
void case_life_reconnect_not_normal(cx *c, const conf_case *k)
{
    uniws_reconnect p = {0};
    p.max_attempts = -1;
    p.initial_delay_ms = 20;
    rcrec *r = rc_connect(c, k->sarg, &p);
    TRY(r);
    CHECK(c, cx_run_until(c, rc_closed, r, 5000), "no close event");
    cx_run_for(c, 100);
    TRY(rc_ok(r));
    CHECK(c, r->rcs == 0 && r->opens == 1 && r->closes == 1 && r->close_clean,
          "%d reconnecting, %d opens, %d closes, clean %d", r->rcs, r->opens, r->closes,
          r->close_clean);
}

/* uniws_close() while a reconnect waits ends it at once: error ECLOSED, then
 * the one close event. */
void case_life_reconnect_close_waiting(cx *c, const conf_case *k)
{
    (void)k;
    uniws_reconnect p = {0};
    p.max_attempts = -1;
    p.initial_delay_ms = 3000;
    rcrec *r = rc_connect(c, "/script/status:503", &p);
    TRY(r);
    CHECK(c, cx_run_until(c, rc_reconnecting_seen, r, 5000), "no reconnecting event");
    uint64_t t0 = cx_now_ms();
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    CHECK(c, cx_run_until(c, rc_closed, r, 2000), "no close event after uniws_close");
    TRY(rc_ok(r));
    CHECK(c, cx_now_ms() - t0 < 1500, "the close waited for the reconnect delay");
    CHECK(c,
          r->rcs == 1 && r->closes == 1 && r->close_cause == UNIWS_ECLOSED &&
              r->last_error == UNIWS_ECLOSED,
          "%d reconnecting, %d closes, cause %s, last error %s", r->rcs, r->closes,
          uniws_err_name(r->close_cause), uniws_err_name(r->last_error));
}

/* Bad policies are refused at connect. */
void case_life_reconnect_invalid(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.reconnect.max_attempts = 1;
    o.reconnect.multiplier = 0.5;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
    o.reconnect.multiplier = 0;
    o.reconnect.jitter = 1.5;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
    o.reconnect.jitter = 0;
    o.reconnect.max_attempts = -2;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
    o.reconnect.max_attempts = 2;
    o.reconnect.initial_delay_ms = 500;
    o.reconnect.max_delay_ms = 100;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
}

/* ---- handshake details (UNIWS_CAP_RESPONSE_HEADERS) ------------------------- */

/* What a refusal's error event carried, copied by the hook. */
typedef struct hs_seen {
    int status;
    size_t nh;
    char retry_after[32];
    char location[64];
    char body[64];
    int has_body;
} hs_seen;

static void hs_on_error(rec *r, const uniws_error_event *e)
{
    hs_seen *h = r->hook_data;
    h->status = e->http_status;
    h->nh = e->num_headers;
    for (size_t i = 0; i < e->num_headers; i++)
        if (strcmp(e->headers[i].name, "Retry-After") == 0)
            snprintf(h->retry_after, sizeof h->retry_after, "%s", e->headers[i].value);
    if (e->location)
        snprintf(h->location, sizeof h->location, "%s", e->location);
    if (e->body) {
        h->has_body = 1;
        snprintf(h->body, sizeof h->body, "%s", e->body);
    }
}

static rec *hs_connect(cx *c, const char *path, hs_seen **seen)
{
    *seen = cx_malloc(c, sizeof **seen);
    if (!*seen)
        return NULL;
    memset(*seen, 0, sizeof **seen);
    rec *r = cx_rec(c);
    if (!r)
        return NULL;
    r->hook_data = *seen;
    r->on_error = hs_on_error;
    return rec_connect(r, path, NULL) ? r : NULL;
}

/* The 101's header lines are readable while the socket lives. */
void case_life_hs_headers(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/script/xhdr:X-Uniws-Id:%2042%20/xhdr:X-Two:a/xhdr:x-two:b", NULL);
    TRY(r);
    CHECK(c, uniws_response_header(r->s, "X-Uniws-Id") == NULL, "a header before the answer");
    TRY(rec_wait_open(r));
    const char *v = uniws_response_header(r->s, "x-uniws-id");
    CHECK(c, v && strcmp(v, "42") == 0, "X-Uniws-Id: '%s', expected '42'", v ? v : "(null)");
    v = uniws_response_header(r->s, "X-TWO");
    CHECK(c, v && strcmp(v, "a") == 0, "repeated X-Two: '%s', expected the first, 'a'",
          v ? v : "(null)");
    v = uniws_response_header(r->s, "Upgrade");
    CHECK(c, v && strcasecmp(v, "websocket") == 0, "Upgrade: '%s'", v ? v : "(null)");
    CHECK(c, uniws_response_header(r->s, "X-Absent") == NULL, "an absent header was found");
    uniws_header h;
    size_t n = 0, twos = 0;
    while (uniws_response_header_at(r->s, n, &h) == 0) {
        if (strcasecmp(h.name, "X-Two") == 0)
            twos++;
        n++;
    }
    CHECK(c, n >= 5 && twos == 2, "%zu header lines, %zu X-Two; expected >= 5 and 2", n, twos);
    CHECK_RC(c, uniws_response_header_at(r->s, n, &h), UNIWS_EINVAL);
    TRY(close_and_wait(r));
    v = uniws_response_header(r->s, "X-Uniws-Id");
    CHECK(c, v && strcmp(v, "42") == 0, "after close: '%s'", v ? v : "(null)");
}

/* Without the capability (the browser) there are no headers: NULL, never a
 * made-up answer. */
void case_life_hs_headers_cap(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    const char *v = uniws_response_header(r->s, "Upgrade");
    uniws_header h;
    if (c->env->info.caps & UNIWS_CAP_RESPONSE_HEADERS) {
        CHECK(c, v != NULL, "no Upgrade header with UNIWS_CAP_RESPONSE_HEADERS");
    } else {
        CHECK(c, v == NULL && uniws_response_header_at(r->s, 0, &h) == UNIWS_EINVAL,
              "headers without UNIWS_CAP_RESPONSE_HEADERS");
        snprintf(c->note, sizeof c->note, "none: no UNIWS_CAP_RESPONSE_HEADERS");
    }
    TRY(close_and_wait(r));
}

/* A refusal's status, headers and first body bytes reach the error event. */
void case_life_hs_refused(cx *c, const conf_case *k)
{
    (void)k;
    hs_seen *h;
    rec *r = hs_connect(c, "/script/status:503/xhdr:Retry-After:7", &h);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EHANDSHAKE, 0));
    CHECK(c, h->status == 503 && h->nh >= 2 && strcmp(h->retry_after, "7") == 0,
          "error event: status %d, %zu headers, Retry-After '%s'", h->status, h->nh,
          h->retry_after);
    /* libcurl keeps a refusal's body to itself (docs/backends.md). */
    if (strcmp(c->env->backend, "curl") != 0)
        CHECK(c, h->has_body && strncmp(h->body, "503 ", 4) == 0, "body '%s'", h->body);
    CHECK(c, !h->location[0], "a Location on a 503");
}

/* A redirect is reported with its Location (not followed). */
void case_life_hs_redirect(cx *c, const conf_case *k)
{
    (void)k;
    hs_seen *h;
    rec *r = hs_connect(c, "/script/status:302", &h);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EHANDSHAKE, 0));
    CHECK(c, h->status == 302 && strcmp(h->location, "/echo") == 0,
          "error event: status %d, location '%s'", h->status, h->location);
}

/* With permessage-deflate the statistics give the compression ratio of what
 * arrived compressed: 25801 zero bytes from a few hundred. */
void case_life_stats_deflate(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.permessage_deflate = 1;
    rec *r = cx_connect(c, "/script/ext:permessage-deflate/deflate-zeros:25801/close:1000", &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, rec_msg(r, 0)->len == 25801, "a %zu-byte message", rec_msg(r, 0)->len);
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.compression_ratio_received > 20 && st.compression_ratio_received < 2000,
          "received ratio %.1f for 25801 zeros", st.compression_ratio_received);
    CHECK(c, st.compression_ratio_sent == 0, "sent ratio %.1f with nothing sent",
          st.compression_ratio_sent);
    CHECK(c, st.bytes_received == 25801 && st.wire_bytes_received < 25801 / 10,
          "%llu payload bytes from %llu wire bytes", (unsigned long long)st.bytes_received,
          (unsigned long long)st.wire_bytes_received);
    snprintf(c->note, sizeof c->note, "ratio %.1f", st.compression_ratio_received);
}

/* ---- scripted-peer behaviours (issue 10): refuse, drop-after, pong-delay ---- */

/* A refuse:N:KEY key no other run of this case uses (the network peer
 * outlives cases and columns). */
static const char *unique_key(char *buf, size_t size, const void *salt)
{
    snprintf(buf, size, "k%llx-%x", (unsigned long long)cx_now_ms(),
             (unsigned)((uintptr_t)salt >> 4) & 0xffffu);
    return buf;
}

/* A server that refuses twice, then accepts: two reconnecting events, then
 * open on the same handle. */
void case_life_reconnect_refused(cx *c, const conf_case *k)
{
    (void)k;
    uniws_reconnect p = {0};
    p.max_attempts = 5;
    p.initial_delay_ms = 20;
    p.max_delay_ms = 40;
    char key[40], path[96];
    snprintf(path, sizeof path, "/script/refuse:2:%s/text:in", unique_key(key, sizeof key, c));
    rcrec *r = rc_connect(c, path, &p);
    TRY(r);
    r->close_at_msg = 1;
    CHECK(c, cx_run_until(c, rc_closed, r, 8000), "no close event: %d opens, %d reconnects",
          r->opens, r->rcs);
    TRY(rc_ok(r));
    CHECK(c, r->rcs == 2 && r->errors == 2 && r->opens == 1 && r->msgs == 1 && r->closes == 1,
          "%d reconnecting, %d errors, %d opens, %d messages, %d closes; expected 2, 2, 1, 1, 1",
          r->rcs, r->errors, r->opens, r->msgs, r->closes);
    CHECK(c, r->attempt[0] == 1 && r->attempt[1] == 2 && r->delay[0] == 20 && r->delay[1] == 40,
          "attempts %d, %d with delays %d, %d", r->attempt[0], r->attempt[1], r->delay[0],
          r->delay[1]);
    CHECK(c, r->code[0] == 1006 && r->cause[0] < 0, "ending: code %d, cause %s", r->code[0],
          uniws_err_name(r->cause[0]));
    CHECK(c, r->close_clean && r->close_code == 1000, "final close %d clean=%d", r->close_code,
          r->close_clean);
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.reconnects == 2, "stats: %llu reconnects", (unsigned long long)st.reconnects);
}

/* sarg drop-after:2[:rst]: the peer echoes two messages and drops TCP; the
 * socket reconnects on the same handle, and closes cleanly on the second
 * open. */
void case_life_reconnect_drop_after(cx *c, const conf_case *k)
{
    uniws_reconnect p = {0};
    p.max_attempts = 3;
    p.initial_delay_ms = 20;
    rcrec *r = rc_connect(c, k->sarg, &p);
    TRY(r);
    r->send_at_open1 = 2;
    r->close_at_open = 2;
    CHECK(c, cx_run_until(c, rc_closed, r, 8000), "no close event: %d opens, %d reconnects",
          r->opens, r->rcs);
    cx_run_for(c, 100);
    TRY(rc_ok(r));
    /* arg 1 (a reset): echoes the reset overtook may be lost; the rest holds. */
    CHECK(c,
          r->opens == 2 && (r->msgs == 2 || (k->arg && r->msgs < 2)) && r->rcs == 1 &&
              r->closes == 1,
          "%d opens, %d messages, %d reconnecting, %d closes; expected 2, 2, 1, 1", r->opens,
          r->msgs, r->rcs, r->closes);
    CHECK(c, r->code[0] == 1006 && r->cause[0] < 0, "ending: code %d, cause %s", r->code[0],
          uniws_err_name(r->cause[0]));
    CHECK(c, r->close_clean, "the close on the second connection was not clean");
}

static pongs *pong_rec(cx *c, rec **out, uniws_options *o, int want)
{
    pongs *p = cx_malloc(c, sizeof *p);
    rec *r = cx_rec(c);
    if (!p || !r)
        return NULL;
    memset(p, 0, sizeof *p);
    r->hook_data = p;
    r->hook_arg = want;
    o->callbacks.on_pong = on_pong;
    *out = r;
    return p;
}

/* arg: the peer's pong delay. Heartbeat pings answered that late report a
 * round trip of at least the delay. */
void case_life_rtt_late_pong(cx *c, const conf_case *k)
{
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = (int)k->arg * 2;
    rec *r;
    pongs *p = pong_rec(c, &r, &o, 2);
    TRY(p);
    char path[64];
    snprintf(path, sizeof path, "/script/pong-delay:%ld", k->arg);
    TRY(rec_connect(r, path, &o));
    TRY(rec_wait_open(r));
    CHECK(c, cx_run_until(c, pongs_at_least, r, 5000), "%d pongs in 5 s", p->n);
    for (int i = 0; i < 2; i++)
        CHECK(c, p->rtt[i] >= k->arg && p->rtt[i] < k->arg + LATE_MS,
              "pong %d: rtt %d ms, the peer waited %ld ms", i, p->rtt[i], k->arg);
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.rtt_last_ms >= k->arg && st.rtt_smoothed_ms >= k->arg,
          "stats: rtt %d, smoothed %d, the peer waited %ld ms", st.rtt_last_ms, st.rtt_smoothed_ms,
          k->arg);
    TRY(close_and_wait(r));
    snprintf(c->note, sizeof c->note, "rtt %d / %d ms for a %ld ms delay", p->rtt[0], p->rtt[1],
             k->arg);
}

/* Late pongs that still come within idle_timeout_ms keep the connection:
 * pings every 300 ms, answered 200 ms late, deadline 1000 ms (input comes
 * every ~300 ms: 700 ms to spare for a loaded machine; with 700 ms it once
 * failed at load 10+). */
void case_life_idle_late_pongs_alive(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 300;
    o.idle_timeout_ms = 1000;
    rec *r;
    pongs *p = pong_rec(c, &r, &o, 1000);
    TRY(p);
    TRY(rec_connect(r, "/script/pong-delay:200", &o));
    TRY(rec_wait_open(r));
    cx_run_for(c, 2000);
    CHECK(c, !r->n_close && !rec_first(r, EV_ERROR), "the connection failed (%zu closes)",
          r->n_close);
    CHECK(c, p->n >= 3, "%d late pongs in 2 s", p->n);
    CHECK(c, p->rtt[0] >= 200, "first rtt %d ms", p->rtt[0]);
    TRY(close_and_wait(r));
    snprintf(c->note, sizeof c->note, "%d late pongs kept it open", p->n);
}

/* Pongs later than idle_timeout_ms do not save the connection: it fails with
 * UNIWS_EIDLE_TIMEOUT at the deadline, before the pong. */
void case_life_idle_late_pongs_dead(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.ping_interval_ms = 150;
    o.idle_timeout_ms = 500;
    rec *r;
    pongs *p = pong_rec(c, &r, &o, 1000);
    TRY(p);
    TRY(rec_connect(r, "/script/pong-delay:1500", &o));
    TRY(expect_failure(r, UNIWS_EIDLE_TIMEOUT, 1));
    uint64_t from = ev_at(r, EV_OPEN), at = ev_at(r, EV_ERROR);
    CHECK(c, at + EARLY_MS >= from + 500 && at <= from + 500 + LATE_MS,
          "failed %llu ms after the open, deadline 500 ms", (unsigned long long)(at - from));
    CHECK(c, p->n == 0, "%d pongs arrived before the deadline", p->n);
    snprintf(c->note, sizeof c->note, "failed after %llu ms", (unsigned long long)(at - from));
}

/* ---- redirects (max_redirects) ------------------------------------------- */

/* Builds "/script/redirect:CODE:" + target percent-encoded into out. */
static const char *redirect_path(char *out, size_t size, int code, const char *target)
{
    char enc[600];
    snprintf(out, size, "/script/redirect:%d:%s", code,
             conf_pct(enc, sizeof enc, target, strlen(target)));
    return out;
}

static rec *redirect_connect(cx *c, const char *url, int max, uniws_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_redirects = max;
    return cx_connect(c, url, o);
}

/* Two redirects in a row are followed on the same socket: an absolute ws://
 * URL, then a path; one open, no error, uniws_url() is the last URL. */
void case_life_redirect_followed(cx *c, const conf_case *k)
{
    (void)k;
    char second[256], abs[320], first[700];
    redirect_path(second, sizeof second, 307, "/script/text:moved");
    cx_ws_url(c, abs, sizeof abs, second);
    redirect_path(first, sizeof first, 301, abs);
    uniws_options o;
    rec *r = redirect_connect(c, first, 2, &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "moved", 5));
    CHECK(c, r->n_err == 0 && r->n_open == 1, "%zu errors, %zu opens", r->n_err, r->n_open);
    const char *u = uniws_url(r->s);
    CHECK(c, u && strstr(u, "/script/text:moved") != NULL, "uniws_url: %s", u ? u : "(null)");
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.redirects == 2 && st.reconnects == 0, "stats: %llu redirects, %llu reconnects",
          (unsigned long long)st.redirects, (unsigned long long)st.reconnects);
    TRY(close_and_wait(r));
}

/* One hop more than max_redirects: UNIWS_EREDIRECT with the status and
 * Location of the redirect not followed, then close 1006. */
void case_life_redirect_limit(cx *c, const conf_case *k)
{
    (void)k;
    char second[256], first[700];
    redirect_path(second, sizeof second, 302, "/echo");
    redirect_path(first, sizeof first, 308, second);
    hs_seen *h = cx_malloc(c, sizeof *h);
    TRY(h);
    memset(h, 0, sizeof *h);
    rec *r = cx_rec(c);
    TRY(r);
    r->hook_data = h;
    r->on_error = hs_on_error;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_redirects = 1;
    TRY(rec_connect(r, first, &o));
    TRY(expect_failure(r, UNIWS_EREDIRECT, 0));
    CHECK(c, h->status == 302 && strcmp(h->location, "/echo") == 0,
          "error event: status %d, location '%s'", h->status, h->location);
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    CHECK(c, st.redirects == 1, "stats: %llu redirects", (unsigned long long)st.redirects);
    const conf_ev *e = rec_first(r, EV_ERROR);
    snprintf(c->note, sizeof c->note, "%s", e->message);
}

/* sarg: a Location that is never followed (a scheme other than ws, wss,
 * http, https), even with max_redirects: UNIWS_EREDIRECT. */
void case_life_redirect_scheme(cx *c, const conf_case *k)
{
    char path[300];
    uniws_options o;
    rec *r = redirect_connect(c, redirect_path(path, sizeof path, 302, k->sarg), 5, &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EREDIRECT, 0));
}

/* From wss:// to ws:// is never followed. */
void case_life_redirect_downgrade(cx *c, const conf_case *k)
{
    (void)k;
    char plain[128], path[300], url[400];
    cx_ws_url(c, plain, sizeof plain, "/echo");
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_redirects = 5;
    TRY(cx_trust_test_ca(c, &o));
    TRY(cx_wss_url(c, url, sizeof url, redirect_path(path, sizeof path, 302, plain)));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EREDIRECT, 0));
    const conf_ev *e = rec_first(r, EV_ERROR);
    CHECK(c, e->http_status == 302 && strstr(e->message, "wss") != NULL, "error: status %d, '%s'",
          e->http_status, e->message);
    snprintf(c->note, sizeof c->note, "%s", e->message);
}

/* max_redirects needs the status and Location (UNIWS_CAP_RESPONSE_HEADERS):
 * the browser fails a redirected connection without saying where to. */
void case_life_redirect_needs_cap(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_redirects = -1;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
    o.max_redirects = 3;
    rec *r = NULL;
    int rc = cx_try_connect(c, "/echo", &o, &r);
    if (!(c->env->info.caps & UNIWS_CAP_RESPONSE_HEADERS)) {
        CHECK(c, rc == UNIWS_EUNSUPPORTED, "max_redirects without the capability gave %s",
              uniws_err_name(rc));
        snprintf(c->note, sizeof c->note, "refused: no UNIWS_CAP_RESPONSE_HEADERS");
        return;
    }
    CHECK(c, rc == 0, "max_redirects gave %s", uniws_err_name(rc));
    rec_free_socket(r);
}

/* ---- connect timings ------------------------------------------------------ */

/* arg 0: ws://, 1: wss://. Each connect phase is -1 (not reported) or its
 * duration, within the time to the open; backends that reach the network and
 * frame themselves (lws, curl) report all four; ws:// has a 0 ms TLS phase. */
void case_life_stats_timings(cx *c, const conf_case *k)
{
    uniws_options o;
    memset(&o, 0, sizeof o);
    char url[160];
    if (k->arg) {
        TRY(cx_trust_test_ca(c, &o));
        TRY(cx_wss_url(c, url, sizeof url, "/echo"));
    } else {
        cx_ws_url(c, url, sizeof url, "/echo");
    }
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(rec_wait_open(r));
    uniws_stats st;
    CHECK_RC(c, uniws_get_stats(r->s, &st), 0);
    int ph[4] = {st.dns_ms, st.tcp_ms, st.tls_ms, st.upgrade_ms}, sum = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(c, ph[i] >= -1 && ph[i] <= st.open_ms, "phase %d: %d ms, open after %d ms", i, ph[i],
              st.open_ms);
        sum += ph[i] > 0 ? ph[i] : 0;
    }
    /* rounding to whole ms: one per phase */
    CHECK(c, sum <= st.open_ms + 4, "phases add up to %d ms, open after %d ms", sum, st.open_ms);
    unsigned caps = c->env->info.caps;
    if ((caps & UNIWS_CAP_NETWORK) && (caps & UNIWS_CAP_RAW_FRAMES))
        CHECK(c, ph[0] >= 0 && ph[1] >= 0 && ph[2] >= 0 && ph[3] >= 0,
              "dns %d, tcp %d, tls %d, upgrade %d: a phase not reported", ph[0], ph[1], ph[2],
              ph[3]);
    if (!k->arg && ph[1] >= 0)
        CHECK(c, ph[2] == 0, "ws:// with a TLS phase of %d ms", ph[2]);
    TRY(close_and_wait(r));
    snprintf(c->note, sizeof c->note, "dns %d, tcp %d, tls %d, upgrade %d, open %d ms", ph[0],
             ph[1], ph[2], ph[3], st.open_ms);
}
