/*
 * cases_lifecycle.c — conformance cases of the connection-lifecycle features
 * (issue 10): the close event's cause, the dead-peer deadline
 * (idle_timeout_ms), the heartbeat (ping_interval_ms) with pong events and
 * round trips, and uniws_get_stats(). Every column runs them; the heartbeat
 * and pong ones need UNIWS_CAP_PING.
 */
#include <stdio.h>
#include <string.h>
#include "cases.h"

/* Slack for a loaded machine: a deadline may fire this much late, and the
 * recorder's clock reads an event a little after the core saw its bytes. */
#define LATE_MS  900
#define EARLY_MS 25

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
    TRY(expect_failure(r, 0, 1));
    const conf_ev *err = rec_first(r, EV_ERROR), *cl = rec_first(r, EV_CLOSE);
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
    uniws_free(r->s);
    r->freed = 1;
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
