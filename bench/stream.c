/*
 * stream.c — `uniws bench --stream BYTES`: the streaming workload. Each of
 * --count messages of BYTES goes to the echo server with uniws_send_fragment
 * in 1 MiB parts (paced by max_buffered_amount / on_buffered_amount_low) and
 * comes back through on_message_part, every byte checked against the
 * pattern, so neither side of the client ever holds a whole message. Prints
 * MB/s each way and the peak RSS (or one JSON line with --json).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "uniws/uniws.h"
#include "workload.h"

#define PART ((size_t)1 << 20)

typedef struct stream_run {
    uniws_socket *s;
    uint64_t size;
    long count, sent_msgs, got_msgs;
    uint64_t sent_off, got_off;
    uint8_t *part;
    int opened, closed, failed;
    char error[200];
} stream_run;

/* Byte j of message i. */
static uint8_t pat(long i, uint64_t j)
{
    return (uint8_t)(j * 7 + (uint64_t)i * 131);
}

static void fail(stream_run *r, const char *what)
{
    if (!r->failed)
        snprintf(r->error, sizeof r->error, "%s", what);
    r->failed = 1;
}

/* Queues parts until the queue is full or every message is queued. */
static void pump(stream_run *r)
{
    while (!r->failed && r->sent_msgs < r->count) {
        uint64_t left = r->size - r->sent_off;
        size_t n = left < PART ? (size_t)left : PART;
        for (size_t j = 0; j < n; j++)
            r->part[j] = pat(r->sent_msgs, r->sent_off + j);
        int last = r->sent_off + n == r->size;
        int e = uniws_send_fragment(r->s, UNIWS_BINARY, r->part, n, last);
        if (e == UNIWS_EBUFFER_FULL)
            return; /* on_buffered_amount_low */
        if (e) {
            fail(r, uniws_strerror(e));
            return;
        }
        r->sent_off += n;
        if (last) {
            r->sent_msgs++;
            r->sent_off = 0;
        }
    }
}

static void on_open(uniws_socket *s, void *ud)
{
    stream_run *r = ud;
    (void)s;
    r->opened = 1;
    pump(r);
}

static void on_low(uniws_socket *s, void *ud)
{
    (void)s;
    pump(ud);
}

static void on_part(uniws_socket *s, const uniws_message_part *m, void *ud)
{
    stream_run *r = ud;
    const uint8_t *p = m->data;
    (void)s;
    if (m->offset != r->got_off)
        fail(r, "echo part out of order");
    for (size_t j = 0; j < m->len && !r->failed; j++)
        if (p[j] != pat(r->got_msgs, m->offset + j))
            fail(r, "echo differs from what was sent");
    r->got_off += m->len;
    if (m->last) {
        if (r->got_off != r->size)
            fail(r, "echo has the wrong length");
        r->got_msgs++;
        r->got_off = 0;
        if (r->got_msgs == r->count)
            uniws_close(r->s, 1000, NULL);
    }
}

static void on_error(uniws_socket *s, const uniws_error_event *ev, void *ud)
{
    (void)s;
    fail(ud, ev->message);
}

static void on_close(uniws_socket *s, const uniws_close_event *ev, void *ud)
{
    stream_run *r = ud;
    (void)s;
    (void)ev;
    r->closed = 1;
}

int uniws__bench_stream(const uniws__bench_cfg *cfg, uniws_loop *loop, const uniws_options *base,
                        uint64_t size)
{
    stream_run r;
    memset(&r, 0, sizeof r);
    r.size = size;
    r.count = cfg->count;
    r.part = malloc(PART);
    if (!r.part)
        return UNIWS_ENOMEM;
    uniws_options o = *base;
    o.callbacks.on_open = on_open;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.callbacks.on_message_part = on_part;
    o.callbacks.on_buffered_amount_low = on_low;
    o.max_buffered_amount = 8 * PART;
    o.buffered_amount_low_threshold = 2 * PART;
    o.user_data = &r;
    uint64_t t0 = uniws__bench_now_ns();
    int e = uniws_connect(loop, cfg->url, &o, &r.s);
    if (e) {
        free(r.part);
        return e;
    }
    uint64_t deadline = t0 + (uint64_t)cfg->timeout_s * 1000000000u;
    while (!r.closed && uniws__bench_now_ns() < deadline)
        if (uniws_loop_run_once(loop, 100) < 0)
            break;
    double secs = (double)(uniws__bench_now_ns() - t0) / 1e9;
    const char *backend = uniws_backend_name(r.s);
    if (!r.closed)
        fail(&r, "timed out");
    if (r.got_msgs != r.count)
        fail(&r, "not every message came back");
    double mib = (double)size * (double)r.got_msgs / (1024.0 * 1024.0);
    long rss = uniws__bench_peak_rss_kib();
    if (cfg->json)
        printf("{\"tool\":\"uniws\",\"workload\":\"stream\",\"backend\":\"%s\",\"size\":%llu,"
               "\"count\":%ld,\"ok\":%s,\"secs\":%.3f,\"mib_per_s_each_way\":%.1f,"
               "\"peak_rss_kib\":%ld,\"error\":\"%s\"}\n",
               backend, (unsigned long long)size, r.got_msgs, r.failed ? "false" : "true", secs,
               secs > 0 ? mib / secs : 0.0, rss, r.failed ? r.error : "");
    else
        printf("uniws bench --stream: %s, %ld x %llu bytes sent in 1 MiB parts and echoed in "
               "parts, %.2f s, %.1f MiB/s each way, peak RSS %.1f MiB%s%s\n",
               backend, r.got_msgs, (unsigned long long)size, secs, secs > 0 ? mib / secs : 0.0,
               (double)rss / 1024.0, r.failed ? ", FAILED: " : "", r.failed ? r.error : "");
    uniws_free(r.s);
    free(r.part);
    return r.failed ? UNIWS_EIO : 0;
}
