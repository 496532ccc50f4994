/* test_flow.c — flow control in the core, driven through the loopback backend
 * with an allocator hook that counts uniws's live heap bytes, so memory
 * bounds are measured rather than assumed: the receive buffer grows with the
 * data (not with a header's claim), a big buffer is released after the
 * message, max_buffered_amount bounds a sender whose peer stopped reading,
 * on_buffered_amount_low fires once per crossing, and uniws_send_fragment
 * puts a message on the wire in parts with its interleaving rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "uniws/uniws.h"

/* ---- counting allocator ---------------------------------------------------- */

typedef union hdr {
    max_align_t align;
    size_t n;
} hdr;

static size_t live_bytes, peak_bytes;
/* > 0: that many more allocations succeed, then one fails (and the count
 * stops); 0: none fails. */
static long fail_after;

static void note(size_t add, size_t sub)
{
    live_bytes = live_bytes + add - sub;
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
}

static void *count_malloc(size_t n)
{
    if (fail_after > 0 && --fail_after == 0)
        return NULL;
    hdr *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->n = n;
    note(n, 0);
    return h + 1;
}

static void count_free(void *p)
{
    if (!p)
        return;
    hdr *h = (hdr *)p - 1;
    note(0, h->n);
    free(h);
}

static void *count_realloc(void *p, size_t n)
{
    if (!p)
        return count_malloc(n);
    if (fail_after > 0 && --fail_after == 0)
        return NULL;
    hdr *h = (hdr *)p - 1;
    size_t old = h->n;
    hdr *nh = realloc(h, sizeof *nh + n);
    if (!nh)
        return NULL;
    nh->n = n;
    note(n, old);
    return nh + 1;
}

/* ---- a socket and its events --------------------------------------------- */

typedef struct rec {
    uniws_socket *s;
    int opens, messages, errors, closes, lows;
    int error, close_code;
    size_t last_len, buffered_at_low;
    size_t live_at_message; /* live bytes inside the last on_message */
    char reason[128];
} rec;

static void on_open(uniws_socket *s, void *ud)
{
    (void)s;
    ((rec *)ud)->opens++;
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    rec *r = ud;
    (void)s;
    r->messages++;
    r->last_len = m->len;
    r->live_at_message = live_bytes;
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    rec *r = ud;
    (void)s;
    r->errors++;
    r->error = e->error;
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    rec *r = ud;
    (void)s;
    r->closes++;
    r->close_code = e->code;
    snprintf(r->reason, sizeof r->reason, "%s", e->reason);
}

static void on_low(uniws_socket *s, void *ud)
{
    rec *r = ud;
    r->lows++;
    r->buffered_at_low = uniws_buffered_amount(s);
}

static uniws_options opts_for(rec *r)
{
    uniws_options o = {.backend = "loopback", .user_data = r, .close_timeout_ms = 500};
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.callbacks.on_buffered_amount_low = on_low;
    return o;
}

static void run_for(uniws_loop *loop, int ms)
{
    for (int i = 0; i < ms / 5; i++)
        uniws_loop_run_once(loop, 5);
}

#define RUN_UNTIL(loop, cond)                                                                      \
    do {                                                                                           \
        for (int i_ = 0; i_ < 1000 && !(cond); i_++)                                               \
            uniws_loop_run_once(loop, 10);                                                         \
        assert_true(cond);                                                                         \
    } while (0)

/* Live bytes when the current test began: a test that failed half-way (and
 * so leaked its socket) must not fail the ones after it. */
static size_t live_at_start;

static uniws_loop *new_loop(void)
{
    live_at_start = live_bytes;
    uniws_loop *l;
    assert_int_equal(uniws_loop_new(&l), 0);
    return l;
}

static void finish(uniws_loop *loop, rec *r)
{
    uniws_free(r->s);
    assert_int_equal(uniws_loop_free(loop), 0);
    assert_int_equal(live_bytes, live_at_start); /* nothing leaked */
}

#define MIB ((size_t)1024 * 1024)

/* ---- issue 12 defect 6: a header reserves nothing ------------------------ */

/* A binary frame header claiming 48 MiB, then silence: the client must not
 * hold 48 MiB for bytes that never come. */
static void header_claim_reserves_nothing(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(
        uniws_connect(loop, "ws://x/script/frame:827f0000000003000000/sleep:2000", &o, &r.s), 0);
    RUN_UNTIL(loop, r.opens == 1);
    run_for(loop, 100);
    print_message("live bytes after a 48 MiB header without payload: %zu\n", live_bytes);
    assert_true(live_bytes < MIB);
    assert_int_equal(r.closes, 0);
    finish(loop, &r);
}

/* ...and a trickled frame holds only what arrived. */
static void trickled_frame_grows_with_data(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    /* 48 MiB claimed, 8 payload bytes, then silence. */
    assert_int_equal(uniws_connect(loop,
                                   "ws://x/script/frame:827f0000000003000000/"
                                   "frame:0001020304050607/sleep:2000",
                                   &o, &r.s),
                     0);
    RUN_UNTIL(loop, r.opens == 1);
    run_for(loop, 100);
    print_message("live bytes after 8 of 48 MiB arrived: %zu\n", live_bytes);
    assert_true(live_bytes < MIB);
    finish(loop, &r);
}

/* ---- issue 12 defect 8: the big buffer goes after the message ---------------- */

static void big_buffer_released(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "ws://x/script/textn:8388608/sleep:3000", &o, &r.s), 0);
    RUN_UNTIL(loop, r.messages == 1);
    assert_int_equal(r.last_len, 8 * MIB);
    assert_true(r.live_at_message >= 8 * MIB); /* the message was in memory */
    run_for(loop, 500);
    print_message("live bytes 500 ms after an 8 MiB message: %zu\n", live_bytes);
    assert_true(live_bytes < MIB);
    assert_int_equal(r.closes, 0);
    finish(loop, &r);
}

/* A message refused as too big (1009) frees its partial buffer at once. */
static void refused_buffer_released(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.max_message_size = 4 * MIB;
    assert_int_equal(uniws_connect(loop, "ws://x/script/fragbin:4:8388608/sleep:3000", &o, &r.s),
                     0);
    RUN_UNTIL(loop, r.closes == 1);
    assert_int_equal(r.error, UNIWS_ETOO_BIG);
    run_for(loop, 50);
    print_message("live bytes after a refused 8 MiB message (socket not freed): %zu\n", live_bytes);
    assert_true(live_bytes < MIB);
    finish(loop, &r);
}

/* ---- back-pressure --------------------------------------------------------- */

/* A peer that stopped reading: sends fail with UNIWS_EBUFFER_FULL once the
 * queue would pass max_buffered_amount, a failed send queues nothing, and
 * uniws's memory stays bounded by the limit. */
static void max_buffered_bounds_memory(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.max_buffered_amount = 4 * MIB;
    assert_int_equal(uniws_connect(loop, "ws://x/script/no-read/sleep:300/read/report", &o, &r.s),
                     0);
    RUN_UNTIL(loop, r.opens == 1);
    static unsigned char chunk[64 * 1024];
    memset(chunk, 'x', sizeof chunk);
    size_t accepted = 0, live0 = live_bytes;
    peak_bytes = live_bytes;
    int rc = 0;
    /* A fast sender: far more than the limit, the loop turning between. */
    for (int i = 0; i < 4096 && rc == 0; i++) {
        rc = uniws_send_binary(r.s, chunk, sizeof chunk);
        if (rc == 0)
            accepted++;
        uniws_loop_run_once(loop, 0);
    }
    assert_int_equal(rc, UNIWS_EBUFFER_FULL);
    size_t before = uniws_buffered_amount(r.s);
    assert_true(before <= o.max_buffered_amount);
    assert_int_equal(accepted * sizeof chunk, before); /* nothing left the queue yet */
    assert_int_equal(uniws_send_binary(r.s, chunk, sizeof chunk), UNIWS_EBUFFER_FULL);
    assert_int_equal(uniws_send_text(r.s, "x", 0), 0); /* an empty one still fits */
    assert_int_equal(uniws_buffered_amount(r.s), before);
    print_message("stalled peer: %zu x 64 KiB accepted, buffered %zu, peak live %zu bytes more "
                  "than before sending\n",
                  accepted, before, peak_bytes - live0);
    assert_true(peak_bytes - live0 < o.max_buffered_amount + 512 * 1024);
    /* A message bigger than the limit can never fit. */
    unsigned char *big = malloc(5 * MIB);
    assert_non_null(big);
    assert_int_equal(uniws_send_binary(r.s, big, 5 * MIB), UNIWS_EBUFFER_FULL);
    free(big);
    /* The peer reads again: the queue drains and it got exactly what was accepted. */
    RUN_UNTIL(loop, uniws_buffered_amount(r.s) == 0);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    RUN_UNTIL(loop, r.closes == 1);
    char want[96];
    snprintf(want, sizeof want, "msgs=%zu bytes=%zu", accepted + 1, accepted * sizeof chunk);
    assert_string_equal(r.reason, want);
    finish(loop, &r);
}

/* on_buffered_amount_low fires once, when the queue drains to the threshold
 * after having been above it; not for sends that never cross it. */
static void low_event_once_per_crossing(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.buffered_amount_low_threshold = 1000;
    /* Long enough that a slow (sanitizer) build is still stalled below. */
    assert_int_equal(uniws_connect(loop, "ws://x/script/no-read/sleep:1500/read/report", &o, &r.s),
                     0);
    RUN_UNTIL(loop, r.opens == 1);
    assert_int_equal(uniws_send_text(r.s, "small", 5), 0); /* below: no event due */
    static unsigned char chunk[3000];
    memset(chunk, 'y', sizeof chunk);
    for (int i = 0; i < 10; i++)
        assert_int_equal(uniws_send_binary(r.s, chunk, sizeof chunk), 0);
    run_for(loop, 100); /* still stalled */
    assert_int_equal(r.lows, 0);
    assert_true(uniws_buffered_amount(r.s) > 1000);
    RUN_UNTIL(loop, r.lows == 1);
    assert_true(r.buffered_at_low <= 1000);
    run_for(loop, 50);
    assert_int_equal(r.lows, 1);
    /* Small sends that stay below the threshold fire nothing. */
    assert_int_equal(uniws_send_text(r.s, "tiny", 4), 0);
    run_for(loop, 50);
    assert_int_equal(r.lows, 1);
    /* A second crossing fires again. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(uniws_send_binary(r.s, chunk, sizeof chunk), 0);
    RUN_UNTIL(loop, r.lows == 2);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    RUN_UNTIL(loop, r.closes == 1);
    assert_string_equal(r.reason, "msgs=15 bytes=39009");
    finish(loop, &r);
}

/* ---- fragmented send ---------------------------------------------------------- */

static void fragments_on_the_wire(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "ws://x/script/report-frames", &o, &r.s), 0);
    RUN_UNTIL(loop, r.opens == 1);
    /* "é" (c3 a9) split across two parts, then a third part ends it. */
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_TEXT, "ab\xc3", 3, 0), 0);
    assert_int_equal(uniws_send_text(r.s, "no", 2), UNIWS_EFRAGMENT_OPEN);
    assert_int_equal(uniws_send_binary(r.s, "no", 2), UNIWS_EFRAGMENT_OPEN);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_BINARY, "no", 2, 0), UNIWS_EINVAL);
    assert_int_equal(uniws_ping(r.s, "between", 7), 0); /* control frames interleave */
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_TEXT, "\xa9", 1, 0), 0);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_TEXT, "\xff", 1, 1), UNIWS_EUTF8);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_TEXT, "\xe2\x82", 2, 1), UNIWS_EUTF8);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_TEXT, "cd", 2, 1), 0);
    /* Closed message: whole sends work again; a single last part is a message. */
    assert_int_equal(uniws_send_binary(r.s, "123", 3), 0);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_BINARY, "4567", 4, 1), 0);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_BINARY, NULL, 0, 0), 0);
    assert_int_equal(uniws_send_fragment(r.s, UNIWS_BINARY, "89", 2, 1), 0);
    assert_int_equal(uniws_send_fragment(r.s, (uniws_msg_type)7, "x", 1, 1), UNIWS_EINVAL);
    RUN_UNTIL(loop, uniws_buffered_amount(r.s) == 0);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    RUN_UNTIL(loop, r.closes == 1);
    /* 4 messages: "ab\xc3\xa9cd" (3 frames), "123" (1), "4567" (1), "89" (2). */
    /* the ping came after the first frame */
    assert_string_equal(r.reason, "msgs=4 bytes=15 frames=7 ping_at=1");
    finish(loop, &r);
}

/* The echo peer reassembles the parts into the same message. */
static void fragments_echoed_whole(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &r.s), 0);
    RUN_UNTIL(loop, r.opens == 1);
    static unsigned char part[100000];
    for (size_t i = 0; i < sizeof part; i++)
        part[i] = (unsigned char)i;
    for (int i = 0; i < 10; i++)
        assert_int_equal(uniws_send_fragment(r.s, UNIWS_BINARY, part, sizeof part, i == 9), 0);
    RUN_UNTIL(loop, r.messages == 1);
    assert_int_equal(r.last_len, 10 * sizeof part);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    RUN_UNTIL(loop, r.closes == 1);
    finish(loop, &r);
}

/* Memory runs out after some frames of a capped message were queued: the peer
 * holds the start of a message whose end never comes, so the send fails with
 * ENOMEM, later sends are refused, and the connection fails (error ENOMEM,
 * close 1006) instead of putting another message after the broken one. */
static void nomem_mid_split_fails_connection(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop;
    uniws_options o = opts_for(&r);
    o.max_frame_size = 512;
    assert_int_equal(uniws_loop_new(&loop), 0);
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &r.s), 0);
    RUN_UNTIL(loop, r.opens == 1);
    static uint8_t big[64 * 1024];
    fail_after = 3; /* the first output chunks succeed, a later one fails */
    int rc = uniws_send_binary(r.s, big, sizeof big);
    fail_after = 0;
    assert_int_equal(rc, UNIWS_ENOMEM);
    assert_int_equal(uniws_send_text(r.s, "after", 5), UNIWS_ECLOSED);
    RUN_UNTIL(loop, r.closes == 1);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.error, UNIWS_ENOMEM);
    assert_int_equal(r.close_code, 1006);
    assert_int_equal(r.messages, 0); /* the half-queued message never came back whole */
    uniws_free(r.s);
    assert_int_equal(uniws_loop_free(loop), 0);
}

int main(void)
{
    if (uniws_set_allocator(count_malloc, count_realloc, count_free) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_claim_reserves_nothing),
        cmocka_unit_test(trickled_frame_grows_with_data),
        cmocka_unit_test(big_buffer_released),
        cmocka_unit_test(refused_buffer_released),
        cmocka_unit_test(max_buffered_bounds_memory),
        cmocka_unit_test(low_event_once_per_crossing),
        cmocka_unit_test(fragments_on_the_wire),
        cmocka_unit_test(fragments_echoed_whole),
        cmocka_unit_test(nomem_mid_split_fails_connection),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    uniws_set_allocator(NULL, NULL, NULL);
    return r;
}
