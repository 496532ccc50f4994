/* test_txdirect.c — the write-through of big frames (core/txdirect.c and
 * write_through() in core/wsproto.c), on the loopback backend, whose
 * write_now takes part of a write at times (1, 5 or 13 bytes: less than a
 * frame header; 4 KiB, 64 KiB + 1, none, or all) in a fixed cycle. Messages
 * of sizes around each boundary (1 MiB, where write-through starts; the
 * 256 KiB slice) are sent one after another from on_message, on the loop
 * thread, so each starts with nothing queued: every echo must come back
 * byte for byte, and right after each send bufferedAmount must be exactly
 * the payload the transport did not take (the wire bytes the stats counted
 * during the send tell how much it took). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "uniws/uniws.h"

#define MIB ((size_t)1 << 20)
/* Frames of 1 MiB and more are written through (all with a 64-bit length
 * header); the smaller ones are queued whole, between them. Slices are cut
 * by payload (256 KiB each, the header with the first): sizes at and around
 * a whole number of slices, and around where they were cut before. */
static const size_t sizes[] = {MIB,          MIB + 1,           MIB - 1,      MIB + 262130,
                               MIB + 262131, MIB + 262144 - 14, MIB + 262144, MIB + 262145,
                               70000,        2 * MIB + 333,     3 * MIB + 5,  MIB + 65537};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define ROUNDS 3 /* each size several times: each meets other write sizes */

typedef struct rec {
    uniws_socket *s;
    uint8_t *out;  /* the payload of the message in flight */
    size_t sent;   /* messages sent */
    size_t echoed; /* echoes checked */
    int failed;    /* a check failed (reported by the test body) */
    char why[200];
    int closes;
} rec;

static size_t size_of(size_t i)
{
    return sizes[i % NSIZES];
}

static void fill(uint8_t *p, size_t n, size_t seed)
{
    uint32_t x = (uint32_t)seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

/* Payload bytes of a frame of len bytes the stats' wire delta stands for. */
static size_t header_len(size_t len)
{
    return 2 + 4 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8);
}

static void send_next(rec *r)
{
    if (r->sent == NSIZES * ROUNDS) {
        uniws_close(r->s, 1000, NULL);
        return;
    }
    size_t len = size_of(r->sent);
    fill(r->out, len, r->sent);
    uniws_stats a, b;
    if (uniws_get_stats(r->s, &a) != 0) {
        r->failed = 1;
        snprintf(r->why, sizeof r->why, "uniws_get_stats failed");
        return;
    }
    int rc = uniws_send_binary(r->s, r->out, len);
    size_t buffered = uniws_buffered_amount(r->s);
    uniws_get_stats(r->s, &b);
    /* The caller's buffer is free on return: spoil it. */
    memset(r->out, 0xA5, len);
    size_t wire = (size_t)(b.wire_bytes_sent - a.wire_bytes_sent);
    size_t hl = header_len(len);
    size_t taken = wire > hl ? wire - hl : 0;
    if (rc != 0 || wire > hl + len || buffered != len - taken) {
        r->failed = 1;
        snprintf(r->why, sizeof r->why,
                 "message %zu (%zu bytes): rc %d, %zu wire bytes written during the send, "
                 "bufferedAmount %zu (expected %zu)",
                 r->sent, len, rc, wire, buffered, len - taken);
    }
    r->sent++;
}

static void on_open(uniws_socket *s, void *ud)
{
    (void)s;
    send_next(ud);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    rec *r = ud;
    (void)s;
    size_t i = r->echoed++;
    size_t len = size_of(i);
    uint8_t *want = malloc(len);
    if (!want) {
        r->failed = 1;
        return;
    }
    fill(want, len, i);
    if (m->len != len || memcmp(m->data, want, len) != 0) {
        size_t at = 0;
        while (at < len && at < m->len && ((const uint8_t *)m->data)[at] == want[at])
            at++;
        r->failed = 1;
        snprintf(r->why, sizeof r->why, "echo %zu: %zu bytes (sent %zu), first difference at %zu",
                 i, m->len, len, at);
    }
    free(want);
    if (!r->failed)
        send_next(r);
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    (void)s;
    (void)e;
    ((rec *)ud)->closes++;
}

static void echo_every_size(void **state)
{
    (void)state;
    rec r;
    memset(&r, 0, sizeof r);
    r.out = malloc(3 * MIB + 5);
    assert_non_null(r.out);
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws_options o = {.backend = "loopback", .user_data = &r, .close_timeout_ms = 500};
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_close = on_close;
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &r.s), 0);
    for (int i = 0; i < 5000 && !r.closes && !r.failed; i++)
        uniws_loop_run_once(loop, 10);
    if (r.failed)
        print_message("%s\n", r.why);
    assert_false(r.failed);
    assert_int_equal(r.echoed, NSIZES * ROUNDS);
    uniws_free(r.s);
    assert_int_equal(uniws_loop_free(loop), 0);
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(echo_every_size)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
