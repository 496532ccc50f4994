/*
 * cases_echo.c — data that must arrive whole and unchanged (contract items 5,
 * 7 and 10): echo at every frame-length boundary, server-made messages, order
 * and types, send copying, buffered_amount, many sockets on one loop, data in
 * the 101's segment and one-byte writes.
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

/* Text of exactly n bytes mixing 1- to 4-byte characters, so UTF-8 checks
 * meet characters split across every internal buffer boundary. */
static void utf8_pattern(unsigned char *buf, size_t n)
{
    static const char *const chars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e", "z"};
    size_t i = 0, k = 0;
    while (i < n) {
        const char *ch = chars[k++ % 5];
        size_t len = strlen(ch);
        if (len > n - i) {
            ch = "x";
            len = 1;
        }
        memcpy(buf + i, ch, len);
        i += len;
    }
}

static void echo(cx *c, size_t n, int type)
{
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    if (type == UNIWS_TEXT)
        utf8_pattern(buf, n);
    else
        conf_pattern(buf, n, UNIWS_BINARY);
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    if (type == UNIWS_TEXT)
        CHECK_RC(c, uniws_send_text(r->s, (const char *)buf, n), 0);
    else
        CHECK_RC(c, uniws_send_binary(r->s, buf, n), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, type, buf, n));
    TRY(close_and_wait(r));
    CHECK(c, r->n_msg == 1, "%zu messages, expected 1", r->n_msg);
}

void case_echo_text(cx *c, const conf_case *k)
{
    echo(c, (size_t)k->arg, UNIWS_TEXT);
}

void case_echo_binary(cx *c, const conf_case *k)
{
    echo(c, (size_t)k->arg, UNIWS_BINARY);
}

/* The peer builds messages of every length class itself (textn / bin). */
void case_server_sizes(cx *c, const conf_case *k)
{
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 1048576};
    const size_t count = sizeof sizes / sizeof sizes[0];
    int type = (int)k->arg;
    char path[512] = "/script";
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, "/%s:%zu", type == UNIWS_TEXT ? "textn" : "bin",
                 sizes[i]);
    }
    strcat(path, "/close:1000:sizes");
    unsigned char *want = cx_malloc(c, sizes[count - 1]);
    TRY(want);
    conf_pattern(want, sizes[count - 1], type);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, count));
    for (size_t i = 0; i < count; i++)
        TRY(expect_msg(r, i, type, want, sizes[i]));
    TRY(expect_clean_close(r, 1000, "sizes"));
}

/* 1000 small messages of alternating type come back in order. */
void case_echo_order(cx *c, const conf_case *k)
{
    const size_t n = (size_t)k->arg;
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "m%zu", i);
        if (i % 2)
            CHECK_RC(c, uniws_send_binary(r->s, buf, (size_t)len), 0);
        else
            CHECK_RC(c, uniws_send_text(r->s, buf, (size_t)len), 0);
    }
    TRY(rec_wait_msgs(r, n));
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "m%zu", i);
        TRY(expect_msg(r, i, i % 2 ? UNIWS_BINARY : UNIWS_TEXT, buf, (size_t)len));
    }
    TRY(close_and_wait(r));
}

void case_types_preserved(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/text:a/bin:3/text:b/bin:0/textn:0/close:1000", NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 5));
    static const unsigned char b3[] = {0, 1, 2};
    TRY(expect_msg(r, 0, UNIWS_TEXT, "a", 1));
    TRY(expect_msg(r, 1, UNIWS_BINARY, b3, 3));
    TRY(expect_msg(r, 2, UNIWS_TEXT, "b", 1));
    TRY(expect_msg(r, 3, UNIWS_BINARY, "", 0));
    TRY(expect_msg(r, 4, UNIWS_TEXT, "", 0));
    TRY(expect_clean_close(r, 1000, ""));
}

/* send copies the caller's bytes: overwriting the buffer at once must not
 * change what goes out. */
void case_send_copies(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    char text[] = "original text";
    unsigned char bin[] = {9, 8, 7, 6};
    CHECK_RC(c, uniws_send_text(r->s, text, strlen(text)), 0);
    memset(text, 'X', strlen(text));
    CHECK_RC(c, uniws_send_binary(r->s, bin, sizeof bin), 0);
    memset(bin, 0, sizeof bin);
    TRY(rec_wait_msgs(r, 2));
    static const unsigned char want[] = {9, 8, 7, 6};
    TRY(expect_msg(r, 0, UNIWS_TEXT, "original text", 13));
    TRY(expect_msg(r, 1, UNIWS_BINARY, want, 4));
    TRY(close_and_wait(r));
}

/* U+0000 is valid UTF-8: the length, not a terminator, delimits text. */
void case_text_embedded_nul(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/frame:8103610062", NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "a\0b", 3));
    CHECK_RC(c, uniws_send_text(r->s, "x\0y\0", 4), 0);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 1, UNIWS_TEXT, "x\0y\0", 4));
    TRY(close_and_wait(r));
}

static int pred_buffered_zero(void *arg)
{
    rec *r = arg;
    return uniws_buffered_amount(r->s) == 0 && r->n_msg > 0;
}

/* buffered_amount counts accepted, unwritten payload and drains to 0. */
void case_buffered_amount(cx *c, const conf_case *k)
{
    const size_t n = (size_t)k->arg;
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    conf_pattern(buf, n, UNIWS_BINARY);
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    CHECK(c, uniws_buffered_amount(r->s) == 0, "buffered_amount %zu while connecting",
          uniws_buffered_amount(r->s));
    TRY(rec_wait_open(r));
    CHECK(c, uniws_buffered_amount(r->s) == 0, "buffered_amount %zu before any send",
          uniws_buffered_amount(r->s));
    CHECK_RC(c, uniws_send_binary(r->s, buf, n), 0);
    size_t after = uniws_buffered_amount(r->s);
    CHECK(c, after <= n, "buffered_amount %zu after sending %zu bytes", after, n);
    if (uniws_capabilities(r->s) & UNIWS_CAP_NETWORK)
        CHECK(c, after > 0,
              "buffered_amount is 0 right after queueing %zu bytes (before the loop ran)", n);
    cx_run_until(c, pred_buffered_zero, r, 8000);
    TRY(rec_wait_msgs(r, 1));
    CHECK(c, uniws_buffered_amount(r->s) == 0, "buffered_amount %zu after the echo came back",
          uniws_buffered_amount(r->s));
    TRY(expect_msg(r, 0, UNIWS_BINARY, buf, n));
    TRY(close_and_wait(r));
}

static void many_open(rec *r)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "socket %ld", r->hook_arg);
    if (uniws_send_text(r->s, buf, (size_t)len) != 0)
        r->hook_data = (void *)"send failed in on_open";
}

typedef struct many_state {
    rec **recs;
    size_t n;
    int want; /* 1: every socket has its echo; 2: every socket closed */
} many_state;

static int pred_many(void *arg)
{
    many_state *m = arg;
    for (size_t i = 0; i < m->n; i++) {
        if (m->want == 1 && m->recs[i]->n_msg < 1 && !m->recs[i]->n_close)
            return 0;
        if (m->want == 2 && !m->recs[i]->n_close)
            return 0;
    }
    return 1;
}

/* One loop, one thread, 50 concurrent connections. */
void case_many_sockets(cx *c, const conf_case *k)
{
    const size_t n = (size_t)k->arg;
    rec **recs = cx_malloc(c, n * sizeof *recs);
    TRY(recs);
    for (size_t i = 0; i < n; i++) {
        recs[i] = cx_rec(c);
        TRY(recs[i]);
        recs[i]->on_open = many_open;
        recs[i]->hook_arg = (long)i;
        TRY(rec_connect(recs[i], "/echo", NULL));
    }
    CHECK(c, uniws_loop_alive(c->loop) == (int)n, "uniws_loop_alive %d with %zu sockets",
          uniws_loop_alive(c->loop), n);
    many_state m = {recs, n, 1};
    cx_run_until(c, pred_many, &m, 8000);
    char want[32], desc[512];
    for (size_t i = 0; i < n; i++) {
        CHECK(c, recs[i]->hook_data == NULL, "socket %zu: %s", i, (const char *)recs[i]->hook_data);
        int len = snprintf(want, sizeof want, "socket %zu", i);
        CHECK(c, recs[i]->n_msg == 1, "socket %zu: %s", i,
              rec_describe(recs[i], desc, sizeof desc));
        TRY(expect_msg(recs[i], 0, UNIWS_TEXT, want, (size_t)len));
    }
    for (size_t i = 0; i < n; i++)
        CHECK_RC(c, uniws_close(recs[i]->s, 1000, NULL), 0);
    m.want = 2;
    cx_run_until(c, pred_many, &m, 8000);
    for (size_t i = 0; i < n; i++)
        TRY(expect_clean_close(recs[i], 1000, ""));
    CHECK(c, uniws_loop_alive(c->loop) == 0, "uniws_loop_alive %d after every close",
          uniws_loop_alive(c->loop));
}

/* Frames that arrive in the same TCP segment as the 101 must not be lost. */
void case_same_segment(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/same-segment/text:first/bin:5/text:third", NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 3));
    static const unsigned char b5[] = {0, 1, 2, 3, 4};
    TRY(expect_msg(r, 0, UNIWS_TEXT, "first", 5));
    TRY(expect_msg(r, 1, UNIWS_BINARY, b5, 5));
    TRY(expect_msg(r, 2, UNIWS_TEXT, "third", 5));
    TRY(close_and_wait(r));
}

/* Every byte in its own write: frame headers and payloads split everywhere. */
void case_bytewise(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/bytewise/text:h%C3%A9llo/bin:300/frag:3:abcdef/close:4000:bye",
                        NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 3));
    unsigned char b[300];
    conf_pattern(b, sizeof b, UNIWS_BINARY);
    TRY(expect_msg(r, 0, UNIWS_TEXT, "h\xc3\xa9llo", 6));
    TRY(expect_msg(r, 1, UNIWS_BINARY, b, sizeof b));
    TRY(expect_msg(r, 2, UNIWS_TEXT, "abcdef", 6));
    TRY(expect_clean_close(r, 4000, "bye"));
}
