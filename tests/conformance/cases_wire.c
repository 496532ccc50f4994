/*
 * cases_wire.c — what the client puts on the wire (contract items 7 and 9),
 * watched by the raw peer of wire.h: the close code sent when failing a
 * connection (1007 for bad UTF-8, 1009 for an oversized message, 1002 for
 * protocol errors; only where uniws can send any code, see WIRE_CODE in
 * cases.c), pongs that echo the ping payload, masked client frames.
 */
#include "cases.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

static void stop_wire(void *w)
{
    wire_stop(w);
}

/* Starts a raw peer that writes frames after the 101 and connects r to it. */
static wire_peer *wire_connect(cx *c, rec *r, const void *frames, size_t len,
                               const uniws_options *o)
{
    wire_peer *w = NULL;
    if (wire_start(frames, len, &w) != 0) {
        FAILF(c, "cannot start the raw peer");
        return NULL;
    }
    if (!cx_defer(c, stop_wire, w)) {
        wire_stop(w);
        return NULL;
    }
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", wire_port(w));
    if (!rec_connect(r, url, o))
        return NULL;
    return w;
}

static size_t unhex(const char *hex, unsigned char *out, size_t size)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < size; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1)
            break;
        out[n++] = (unsigned char)v;
    }
    return n;
}

static int pred_wire_done(void *arg)
{
    wire_obs o;
    wire_wait(arg, 0, &o);
    return o.done;
}

/* Drives the loop (the client may still need it to flush and tear down)
 * until the raw peer's connection is over, then copies what it saw. */
static void wire_finish(cx *c, wire_peer *w, int ms, wire_obs *o)
{
    cx_run_until(c, pred_wire_done, w, ms);
    wire_wait(w, 0, o);
}

static int check_obs(cx *c, const wire_obs *o)
{
    if (!o->upgraded)
        return FAILF(c, "the raw peer saw no upgrade request");
    if (o->unmasked)
        return FAILF(c, "the client sent %d unmasked frames", o->unmasked);
    if (o->bad)
        return FAILF(c, "the client sent bytes that are not a frame");
    return 1;
}

/* sarg: hex of server frames that break a rule; arg: the close code the
 * client must send as it fails the connection. */
void case_wire_fail_code(cx *c, const conf_case *k)
{
    unsigned char frames[512];
    size_t n = unhex(k->sarg, frames, sizeof frames);
    rec *r = cx_rec(c);
    TRY(r);
    wire_peer *w = wire_connect(c, r, frames, n, NULL);
    TRY(w);
    TRY(expect_failure(r, 0, 1));
    wire_obs o;
    wire_finish(c, w, 3000, &o);
    TRY(check_obs(c, &o));
    CHECK(c, o.close_code == (int)k->arg, "the client sent close %d on the wire, expected %ld",
          o.close_code, k->arg);
    /* RFC 6455 7.1.7: failing the connection closes it; the socket is
     * CLOSED and must not hold TCP open until uniws_free(). */
    CHECK(c, o.eof, "TCP still open 3 s after the close event (socket not freed)");
}

/* A 1001-byte text with max_message_size 1000: close 1009 on the wire. */
void case_wire_too_big(cx *c, const conf_case *k)
{
    static unsigned char frames[4 + 1001];
    frames[0] = 0x81;
    frames[1] = 126;
    frames[2] = 1001 >> 8;
    frames[3] = 1001 & 0xff;
    memset(frames + 4, 'a', 1001);
    uniws_options opt;
    memset(&opt, 0, sizeof opt);
    opt.max_message_size = 1000;
    rec *r = cx_rec(c);
    TRY(r);
    wire_peer *w = wire_connect(c, r, frames, sizeof frames, &opt);
    TRY(w);
    TRY(expect_failure(r, UNIWS_ETOO_BIG, 1));
    wire_obs o;
    wire_finish(c, w, 3000, &o);
    TRY(check_obs(c, &o));
    CHECK(c, o.close_code == 1009, "the client sent close %d on the wire, expected 1009",
          o.close_code);
    CHECK(c, o.eof, "TCP still open 3 s after the close event (socket not freed)");
}

/* arg: number of pings (payloads "0".."N-1"), or 0 for one ping of sarg.
 * The raw peer answers each pong with "pong:<payload>"; the last ping must
 * be answered with its own payload (RFC 6455 5.5.3 lets earlier ones go). */
void case_wire_pong(cx *c, const conf_case *k)
{
    static unsigned char frames[64 * 1024];
    size_t n = 0;
    char last[130];
    if (k->arg) {
        for (long i = 0; i < k->arg; i++) {
            int len = snprintf(last, sizeof last, "%ld", i);
            frames[n++] = 0x89;
            frames[n++] = (unsigned char)len;
            memcpy(frames + n, last, (size_t)len);
            n += (size_t)len;
        }
    } else {
        snprintf(last, sizeof last, "%s", k->sarg);
        size_t len = strlen(last);
        frames[n++] = 0x89;
        frames[n++] = (unsigned char)len;
        memcpy(frames + n, last, len);
        n += len;
    }
    char want[140];
    snprintf(want, sizeof want, "pong:%s", last);
    rec *r = cx_rec(c);
    TRY(r);
    wire_peer *w = wire_connect(c, r, frames, n, NULL);
    TRY(w);
    TRY(rec_wait_open(r));
    /* Wait for the answer to the last ping. */
    size_t seen = 0;
    int found = 0;
    while (!found && rec_wait_msgs(r, seen + 1)) {
        const conf_ev *m = rec_msg(r, seen++);
        found = m->len == strlen(want) && !memcmp(m->data, want, m->len);
    }
    TRY(found);
    TRY(close_and_wait(r));
    wire_obs o;
    wire_finish(c, w, 3000, &o);
    TRY(check_obs(c, &o));
    CHECK(c, o.pongs >= 1 && o.pongs <= (k->arg ? k->arg : 1), "%d pongs for %ld pings", o.pongs,
          k->arg ? k->arg : 1);
    CHECK(c, o.close_code == 1000, "the client sent close %d, expected 1000", o.close_code);
}

/* Client data frames are masked; the close frame carries code and reason. */
void case_wire_client_frames(cx *c, const conf_case *k)
{
    rec *r = cx_rec(c);
    TRY(r);
    wire_peer *w = wire_connect(c, r, NULL, 0, NULL);
    TRY(w);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "abc", 3), 0);
    CHECK_RC(c, uniws_send_binary(r->s, "\x00\x01", 2), 0);
    CHECK_RC(c, uniws_close(r->s, 4321, "wire"), 0);
    TRY(expect_clean_close(r, 4321, "wire"));
    wire_obs o;
    wire_finish(c, w, 3000, &o);
    TRY(check_obs(c, &o));
    CHECK(c, o.data_frames >= 2, "the raw peer saw %d data frames, expected 2", o.data_frames);
    CHECK(c, o.close_code == 4321 && !strcmp(o.close_reason, "wire"),
          "the client sent close %d \"%s\", expected 4321 \"wire\"", o.close_code, o.close_reason);
    CHECK(c, o.eof, "TCP still open 3 s after a clean close event");
}
