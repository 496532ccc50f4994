/*
 * cases_flow.c — flow control, the same on every column (docs/api.md "Flow
 * control"): max_buffered_amount against a peer that stopped reading,
 * on_buffered_amount_low once per crossing of the threshold, and messages
 * sent in parts with uniws_send_fragment (continuation frames on the wire,
 * the interleaving rule, UTF-8 across parts), or UNIWS_EUNSUPPORTED where the
 * backend lacks UNIWS_CAP_SEND_FRAGMENTS.
 */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)

typedef struct low_count {
    int n;
    size_t at; /* buffered amount inside the last event */
    int bad_socket;
} low_count;

static void on_low(uniws_socket *s, void *ud)
{
    rec *r = ud;
    low_count *l = r->hook_data;
    if (s != r->s)
        l->bad_socket = 1;
    l->n++;
    l->at = uniws_buffered_amount(s);
}

static int pred_drained(void *arg)
{
    rec *r = arg;
    return r->n_close > 0 || uniws_buffered_amount(r->s) == 0;
}

static int pred_low(void *arg)
{
    rec *r = arg;
    return r->n_close > 0 || ((low_count *)r->hook_data)->n > 0;
}

/* A fast sender against a peer that stopped reading: once the queue would
 * pass max_buffered_amount a send fails with UNIWS_EBUFFER_FULL and queues
 * nothing, so the sender's memory stays bounded; the peer (reading again)
 * gets exactly the accepted messages. */
void case_flow_max_buffered(cx *c, const conf_case *k)
{
    const size_t max = (size_t)k->arg, part = 64 * KIB;
    unsigned char *buf = cx_malloc(c, part);
    TRY(buf);
    conf_pattern(buf, part, UNIWS_BINARY);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_buffered_amount = max;
    rec *r = cx_connect(c, "/script/no-read/sleep:3000/read/report", &o);
    TRY(r);
    TRY(rec_wait_open(r));
    size_t accepted = 0, before = 0;
    int rc = 0;
    /* The kernel's socket buffers take a few MiB before anything backs up.
     * `before` is read just before each send: a backend whose queue drains
     * on a thread of its own (WinHTTP) may have less queued a moment later,
     * never more, so a refused send must have found before + part > max. */
    for (int i = 0; i < 2048 && rc == 0; i++) {
        before = uniws_buffered_amount(r->s);
        rc = uniws_send_binary(r->s, buf, part);
        if (rc == 0)
            accepted++;
        size_t b = uniws_buffered_amount(r->s);
        CHECK(c, b <= max, "buffered_amount %zu above max_buffered_amount %zu", b, max);
        if (i % 8 == 7)
            cx_run_for(c, 1);
    }
    CHECK(c, rc == UNIWS_EBUFFER_FULL,
          "128 MiB went into a peer that does not read and no send failed (last: %s)",
          uniws_err_name(rc));
    CHECK(c, before + part > max, "a send failed with %zu buffered, room for %zu more", before,
          max - before);
    /* Again: refused, unless the queue drained by itself in the meantime. */
    size_t b2 = uniws_buffered_amount(r->s);
    rc = uniws_send_binary(r->s, buf, part);
    if (b2 == before || rc != 0)
        CHECK_RC(c, rc, UNIWS_EBUFFER_FULL);
    else
        accepted++;
    size_t after = uniws_buffered_amount(r->s);
    CHECK(c, rc == 0 || after <= b2, "a refused send grew buffered_amount from %zu to %zu", b2,
          after);
    CHECK(c, cx_run_until(c, pred_drained, r, 20000),
          "the queue did not drain after the peer read");
    TRY(r->n_close == 0 || FAILF(c, "closed while draining"));
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    char want[96];
    snprintf(want, sizeof want, "msgs=%zu bytes=%zu", accepted, accepted * part);
    TRY(expect_clean_close(r, 1000, want));
    snprintf(c->note, sizeof c->note, "%zu x 64 KiB accepted before UNIWS_EBUFFER_FULL", accepted);
}

/* bufferedamountlow: once the queue falls to the threshold after having been
 * above it, exactly one event; small sends below it fire none. */
void case_flow_low_event(cx *c, const conf_case *k)
{
    const size_t threshold = (size_t)k->arg, part = 256 * KIB;
    const int parts = 16;
    unsigned char *buf = cx_malloc(c, part);
    low_count *l = cx_malloc(c, sizeof *l);
    TRY(buf && l);
    memset(l, 0, sizeof *l);
    conf_pattern(buf, part, UNIWS_BINARY);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.buffered_amount_low_threshold = threshold;
    o.callbacks.on_buffered_amount_low = on_low;
    rec *r = cx_rec(c);
    TRY(r);
    r->hook_data = l;
    TRY(rec_connect(r, "/script/no-read/sleep:500/read/report", &o));
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "below", 5), 0);
    cx_run_for(c, 50);
    CHECK(c, l->n == 0, "on_buffered_amount_low fired for a send that never passed the threshold");
    for (int i = 0; i < parts; i++)
        CHECK_RC(c, uniws_send_binary(r->s, buf, part), 0);
    size_t b = uniws_buffered_amount(r->s);
    CHECK(c, b > threshold, "buffered_amount %zu right after queueing %zu bytes", b,
          (size_t)parts * part);
    CHECK(c, cx_run_until(c, pred_low, r, 20000), "no on_buffered_amount_low event");
    CHECK(c, !l->bad_socket, "the event named another socket");
    CHECK(c, l->at <= threshold, "the event came with %zu buffered, threshold %zu", l->at,
          threshold);
    cx_run_for(c, 100);
    CHECK(c, l->n == 1, "%d events for one crossing", l->n);
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    char want[96];
    snprintf(want, sizeof want, "msgs=%d bytes=%zu", parts + 1, (size_t)parts * part + 5);
    TRY(expect_clean_close(r, 1000, want));
}

/* A message in parts leaves as one fragmented message: the peer counts its
 * frames. While it is open whole sends fail with UNIWS_EFRAGMENT_OPEN; a
 * character split across parts is fine, an invalid part is refused. */
void case_flow_send_fragments(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/script/report-frames", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_TEXT, "ab\xe2", 3, 0), 0);
    CHECK_RC(c, uniws_send_text(r->s, "x", 1), UNIWS_EFRAGMENT_OPEN);
    CHECK_RC(c, uniws_send_binary(r->s, "x", 1), UNIWS_EFRAGMENT_OPEN);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_BINARY, "x", 1, 1), UNIWS_EINVAL);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_TEXT, "\x82", 1, 0), 0);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_TEXT, "\xc0", 1, 1), UNIWS_EUTF8);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_TEXT, "\xac", 1, 1), 0); /* "ab€" */
    CHECK_RC(c, uniws_send_binary(r->s, "123", 3), 0);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_BINARY, "45", 2, 0), 0);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_BINARY, NULL, 0, 0), 0);
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_BINARY, "6", 1, 1), 0);
    CHECK(c, cx_run_until(c, pred_drained, r, 5000), "the parts did not leave");
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    /* "ab€" in 3 frames, "123" in 1, "456" in 3. */
    TRY(expect_clean_close(r, 1000, "msgs=3 bytes=11 frames=7"));
}

/* 1 MiB of multibyte text in 16 parts cut at arbitrary bytes comes back from
 * the echo peer as the one message it is. */
void case_flow_fragments_echo(cx *c, const conf_case *k)
{
    const size_t n = (size_t)k->arg / 3 * 3; /* whole characters */
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    static const char euro[] = "\xe2\x82\xac";
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)euro[i % 3];
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    size_t off = 0;
    for (int i = 0; i < 16; i++) {
        size_t end = i == 15 ? n : n / 16 * (size_t)(i + 1) + 1; /* never on a boundary */
        CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_TEXT, buf + off, end - off, i == 15), 0);
        off = end;
    }
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, buf, n));
    TRY(close_and_wait(r));
}

/* Where the backend cannot send a message in parts (the browser), the call
 * says so with UNIWS_EUNSUPPORTED and sends nothing; elsewhere it works. */
void case_flow_fragments_capability(cx *c, const conf_case *k)
{
    (void)k;
    rec *r = cx_connect(c, "/script/report", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    int has = (c->env->info.caps & UNIWS_CAP_SEND_FRAGMENTS) != 0;
    CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_BINARY, "ab", 2, 1),
             has ? UNIWS_OK : UNIWS_EUNSUPPORTED);
    CHECK_RC(c, uniws_send_binary(r->s, "c", 1), 0);
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    TRY(expect_clean_close(r, 1000, has ? "msgs=2 bytes=3" : "msgs=1 bytes=1"));
    snprintf(c->note, sizeof c->note, "%s", has ? "fragments sent" : "UNIWS_EUNSUPPORTED");
}

/* ---- streaming receive ------------------------------------------------------ */

typedef struct parts_log {
    unsigned char *data; /* the current message, put together from its parts */
    size_t len, cap;
    int type, in_msg, msgs;
    size_t nparts;
    size_t msg_len[8];
    int msg_type[8];
    char bad[200]; /* the first broken rule */
} parts_log;

/* Strict UTF-8 check of one part on its own. */
static int utf8_whole(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned b = p[i];
        size_t k = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
        if (b >= 0xF8 || (b & 0xC0) == 0x80 || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

static void on_part(uniws_socket *s, const uniws_message_part *m, void *ud)
{
    rec *r = ud;
    parts_log *l = r->hook_data;
    (void)s;
    l->nparts++;
    if (l->bad[0])
        return;
    if (m->first != !l->in_msg || m->offset != (l->in_msg ? l->len : 0)) {
        snprintf(l->bad, sizeof l->bad, "part %zu: first=%d offset=%llu after %zu bytes", l->nparts,
                 m->first, (unsigned long long)m->offset, l->len);
        return;
    }
    if (m->first) {
        l->len = 0;
        l->type = m->type;
        l->in_msg = 1;
    }
    if ((int)m->type != l->type) {
        snprintf(l->bad, sizeof l->bad, "part %zu changed the message type", l->nparts);
        return;
    }
    if (m->type == UNIWS_TEXT && !utf8_whole(m->data, m->len)) {
        snprintf(l->bad, sizeof l->bad, "text part %zu (%zu bytes at %llu) splits a character",
                 l->nparts, m->len, (unsigned long long)m->offset);
        return;
    }
    if (l->len + m->len > l->cap) {
        snprintf(l->bad, sizeof l->bad, "more than %zu bytes in one message", l->cap);
        return;
    }
    memcpy(l->data + l->len, m->data, m->len);
    l->len += m->len;
    if (m->last) {
        l->in_msg = 0;
        if (l->msgs < 8) {
            l->msg_len[l->msgs] = l->len;
            l->msg_type[l->msgs] = l->type;
        }
        l->msgs++;
    }
}

static int pred_parts_closed(void *arg)
{
    rec *r = arg;
    return r->n_close > 0;
}

/* on_message_part: fragmented multibyte text cut anywhere (and byte by byte)
 * arrives in parts that never split a character, with consecutive offsets and
 * first/last flags; a binary message far above max_message_size arrives too,
 * in parts; on_message never fires. */
void case_flow_recv_parts(cx *c, const conf_case *k)
{
    (void)k;
    static const char unit[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"; /* aé€𝄞 */
    const size_t reps = 20, ulen = sizeof unit - 1;
    char text[256], pct[1024], path[2600];
    for (size_t i = 0; i < reps; i++)
        memcpy(text + i * ulen, unit, ulen);
    size_t tlen = reps * ulen;
    conf_pct(pct, sizeof pct, text, tlen);
    snprintf(path, sizeof path, "/script/frag:7:%s/bin:1048576/bytewise/frag:3:%s/close:1000:done",
             pct, pct);
    parts_log *l = cx_malloc(c, sizeof *l);
    TRY(l);
    memset(l, 0, sizeof *l);
    l->cap = 2 * MIB;
    l->data = cx_malloc(c, l->cap);
    TRY(l->data);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_message_size = 1024;
    o.callbacks.on_message_part = on_part;
    rec *r = cx_rec(c);
    TRY(r);
    r->hook_data = l;
    TRY(rec_connect(r, path, &o));
    CHECK(c, cx_run_until(c, pred_parts_closed, r, 20000), "no close");
    CHECK(c, !l->bad[0], "%s", l->bad);
    char seen[512];
    CHECK(c, r->n_msg == 0, "on_message fired %zu times with on_message_part set; saw: %s",
          r->n_msg, rec_describe(r, seen, sizeof seen));
    CHECK(c, l->msgs == 3, "%d whole messages from parts, expected 3", l->msgs);
    CHECK(c, l->msg_type[0] == UNIWS_TEXT && l->msg_len[0] == tlen, "message 1: type %d, %zu bytes",
          l->msg_type[0], l->msg_len[0]);
    CHECK(c, l->msg_type[1] == UNIWS_BINARY && l->msg_len[1] == MIB,
          "message 2: type %d, %zu bytes", l->msg_type[1], l->msg_len[1]);
    CHECK(c, l->msg_type[2] == UNIWS_TEXT && l->msg_len[2] == tlen, "message 3: type %d, %zu bytes",
          l->msg_type[2], l->msg_len[2]);
    CHECK(c, memcmp(l->data, text, tlen) == 0, "the last text differs from what the peer sent");
    TRY(expect_clean_close(r, 1000, "done"));
    snprintf(c->note, sizeof c->note, "%zu parts for 3 messages", l->nparts);
}

/* Invalid UTF-8 in a later fragment still fails the connection (1007), after
 * the valid part before it was handed out. */
void case_flow_recv_parts_invalid(cx *c, const conf_case *k)
{
    (void)k;
    parts_log *l = cx_malloc(c, sizeof *l);
    TRY(l);
    memset(l, 0, sizeof *l);
    l->cap = 64;
    l->data = cx_malloc(c, l->cap);
    TRY(l->data);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.callbacks.on_message_part = on_part;
    rec *r = cx_rec(c);
    TRY(r);
    r->hook_data = l;
    TRY(rec_connect(r, "/script/frame:01026869/frame:8002fffe", &o));
    TRY(expect_failure(r, 0, 1));
    const conf_ev *e = rec_first(r, EV_ERROR);
    CHECK(c, e->error == UNIWS_EUTF8 || e->error == UNIWS_EPROTOCOL,
          "error %s for invalid UTF-8, expected UNIWS_EUTF8 or UNIWS_EPROTOCOL",
          uniws_err_name(e->error));
    CHECK(c, !l->bad[0], "%s", l->bad);
    CHECK(c, l->msgs == 0, "a message with invalid UTF-8 was completed in parts");
    CHECK(c, r->n_msg == 0, "on_message fired");
}

/* max_frame_size: big messages (and big parts) leave in frames of at most the
 * cap, and a ping sent right after a big message goes out at the next frame
 * boundary, not behind the whole message. */
void case_flow_frame_size(cx *c, const conf_case *k)
{
    const size_t cap = (size_t)k->arg, big = 64 * cap;
    unsigned char *buf = cx_malloc(c, big);
    TRY(buf);
    conf_pattern(buf, big, UNIWS_BINARY);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_frame_size = cap;
    rec *r = cx_connect(c, "/script/report-frames", &o);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_binary(r->s, buf, big), 0); /* 64 frames */
    int ping = (c->env->info.caps & UNIWS_CAP_PING) != 0;
    if (ping)
        CHECK_RC(c, uniws_ping(r->s, "p", 1), 0);
    CHECK_RC(c, uniws_send_text(r->s, "abc", 3), 0); /* 1 frame */
    if (c->env->info.caps & UNIWS_CAP_SEND_FRAGMENTS) {
        CHECK_RC(c, uniws_send_fragment(r->s, UNIWS_BINARY, buf, cap + 1, 1), 0); /* 2 */
    } else {
        CHECK_RC(c, uniws_send_binary(r->s, buf, cap + 1), 0); /* 2 */
    }
    CHECK(c, cx_run_until(c, pred_drained, r, 10000), "the frames did not leave");
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    TRY(expect_clean_close(r, 1000, NULL));
    const conf_ev *e = rec_first(r, EV_CLOSE);
    unsigned long long msgs = 0, bytes = 0, frames = 0;
    long long at = -1;
    int n = sscanf(e->reason, "msgs=%llu bytes=%llu frames=%llu ping_at=%lld", &msgs, &bytes,
                   &frames, &at);
    CHECK(c, n >= 3 && msgs == 3 && bytes == big + 3 + cap + 1 && frames == 67,
          "peer saw \"%s\", expected msgs=3 bytes=%zu frames=67", e->reason, big + 3 + cap + 1);
    if (ping) {
        CHECK(c, n == 4 && at >= 0 && at < 64,
              "the ping came after %lld of the big message's 64 frames (\"%s\")", at, e->reason);
        snprintf(c->note, sizeof c->note, "ping went out after frame %lld of 64", at);
    }
}

/* Both directions full at once: the peer stops reading, streams 8 MiB at
 * the client and reads again only once all of it is written, while the
 * client sends 8 MiB of its own (more than the sockets hold either way).
 * The client has to go on reading while its own output waits for the
 * socket. A layer that reads nothing while it holds unsent bytes and a peer
 * that reads nothing while its output waits wait for each other for ever:
 * lws 4.1 reads nothing while it holds the tail of a short lws_write(), and
 * the lws backend's wss output went that way until it wrote its records
 * itself (a 16 MiB echo against the bench server hung once in about 130
 * runs). arg 0: ws://, 1: wss://. */
void case_both_ways_full(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    memset(&o, 0, sizeof o);
    if (k->arg == 1) {
        TRY(cx_trust_test_ca(c, &o));
        TRY(cx_wss_url(c, url, sizeof url, k->sarg));
    } else {
        snprintf(url, sizeof url, "%s", k->sarg);
    }
    /* The client sends as much as the peer's binstream holds. */
    const char *bs = strstr(k->sarg, "binstream:");
    const size_t n = bs ? (size_t)strtoull(bs + 10, NULL, 10) : 0;
    CHECK(c, n > 0, "the case's path names no binstream: %s", k->sarg);
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(rec_wait_open(r));
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    conf_pattern(buf, n, UNIWS_BINARY); /* the peer's binstream has the same bytes */
    CHECK_RC(c, uniws_send_binary(r->s, buf, n), 0);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 0, UNIWS_BINARY, buf, n));
    TRY(expect_msg(r, 1, UNIWS_BINARY, buf, n));
    TRY(close_and_wait(r));
}
