/*
 * cases_frames.c — framing as seen by the receiver (contract items 7 and 9):
 * reassembly of fragments with control frames in between, every RFC 6455
 * framing error that must fail the connection, automatic pongs, the message
 * size limit, data after a close frame, and uniws_ping().
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

void case_frag_text(cx *c, const conf_case *k)
{
    char path[128];
    snprintf(path, sizeof path, "/script/frag:%ld:hello%%20fragmented%%20world/close:1000", k->arg);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "hello fragmented world", 22));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, r->n_msg == 1, "%zu messages, expected 1", r->n_msg);
}

void case_frag_binary(cx *c, const conf_case *k)
{
    const size_t len = 100000;
    char path[128];
    snprintf(path, sizeof path, "/script/fragbin:%ld:%zu/close:1000", k->arg, len);
    unsigned char *want = cx_malloc(c, len);
    TRY(want);
    conf_pattern(want, len, UNIWS_BINARY);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_BINARY, want, len));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, r->n_msg == 1, "%zu messages, expected 1", r->n_msg);
}

/* Control frames may come between the fragments of a message (RFC 6455
 * 5.4); the message still arrives whole and the control frames are not
 * messages. */
void case_frag_ping_interleaved(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c,
                        "/script"
                        "/frame:010348656c"     /* text, not final: "Hel" */
                        "/frame:890170"         /* ping "p" */
                        "/frame:00036c6f20"     /* continuation: "lo " */
                        "/frame:8a00"           /* unsolicited pong */
                        "/frame:80057468657265" /* final continuation: "there" */
                        "/frame:02020001"       /* binary, not final */
                        "/frame:8900"           /* empty ping */
                        "/frame:80020203"       /* final continuation */
                        "/text:after/close:1000",
                        NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 3));
    static const unsigned char b4[] = {0, 1, 2, 3};
    TRY(expect_msg(r, 0, UNIWS_TEXT, "Hello there", 11));
    TRY(expect_msg(r, 1, UNIWS_BINARY, b4, 4));
    TRY(expect_msg(r, 2, UNIWS_TEXT, "after", 5));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, r->n_msg == 3, "%zu messages, expected 3", r->n_msg);
}

/* RFC 6455 5.3: a client masks every frame with a fresh, unpredictable key.
 * The masks peer answers each data frame with the key it came with; arg
 * messages are sent, and no two keys may be the same (random 32-bit keys
 * collide with odds of about 1e-8 here). */
void case_mask_per_frame(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/masks", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    for (long i = 0; i < k->arg; i++)
        CHECK_RC(c, uniws_send_text(r->s, "mask me", 7), 0);
    TRY(rec_wait_msgs(r, (size_t)k->arg));
    for (long i = 0; i < k->arg; i++) {
        const conf_ev *a = rec_msg(r, (size_t)i);
        CHECK(c, a->type == UNIWS_BINARY && a->len == 4, "answer %ld: not a 4-byte key", i);
        for (long j = 0; j < i; j++)
            CHECK(c, memcmp(a->data, rec_msg(r, (size_t)j)->data, 4) != 0,
                  "frames %ld and %ld were masked with the same key %02x%02x%02x%02x", j, i,
                  a->data[0], a->data[1], a->data[2], a->data[3]);
    }
    TRY(close_and_wait(r));
}

/* A character split across fragments is valid UTF-8. */
void case_frag_utf8_split(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c,
                        "/script/frame:0101c3/frame:0002a9e2/frame:800282ac"
                        "/frame:0101f0/frame:00019d/frame:000184/frame:80019e/close:1000",
                        NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "\xc3\xa9\xe2\x82\xac", 5));
    TRY(expect_msg(r, 1, UNIWS_TEXT, "\xf0\x9d\x84\x9e", 4));
    TRY(expect_clean_close(r, 1000, ""));
}

/* sarg: a script whose frames break RFC 6455; arg: the error expected (0:
 * any). The client must fail the connection: error, then close 1006, and no
 * message from the bad frame. */
void case_protocol_violation(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, k->sarg, NULL);
    TRY(r);
    TRY(expect_failure(r, (int)k->arg, 1));
    CHECK(c, r->n_msg == 0, "%zu messages delivered from a broken stream", r->n_msg);
}

/* arg 0: the reserved data opcodes 3-7; 1: the reserved control opcodes
 * 0xB-0xF. One connection per opcode, all on one loop. */
void case_reserved_opcodes(cx *c, const conf_case *k)
{
    rec *recs[5];
    int base = k->arg ? 0xb : 0x3;
    for (int i = 0; i < 5; i++) {
        char path[64];
        snprintf(path, sizeof path, "/script/frame:%02x0161", 0x80 | (base + i));
        recs[i] = cx_connect(c, path, NULL);
        TRY(recs[i]);
    }
    for (int i = 0; i < 5; i++) {
        if (!expect_failure(recs[i], UNIWS_EPROTOCOL, 1)) {
            char d[sizeof c->detail + 32];
            snprintf(d, sizeof d, "opcode 0x%x: %s", base + i, c->detail);
            memcpy(c->detail, d, sizeof c->detail - 1);
            c->detail[sizeof c->detail - 1] = 0;
            return;
        }
        CHECK(c, recs[i]->n_msg == 0, "opcode 0x%x delivered a message", base + i);
    }
}

/* The peer pings; the client must answer on its own and carry on. */
void case_ping_auto(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/ping:hello/text:after/ping:/text:again/close:1000", NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "after", 5));
    TRY(expect_msg(r, 1, UNIWS_TEXT, "again", 5));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, r->n_msg == 2, "%zu messages: pings must not be delivered", r->n_msg);
}

void case_pingflood(cx *c, const conf_case *k)
{
    char path[96];
    snprintf(path, sizeof path, "/script/pingflood:%ld/text:done", k->arg);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "done", 4));
    /* The connection is still healthy: an echo round trip works. */
    CHECK_RC(c, uniws_send_text(r->s, "still here", 10), 0);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 1, UNIWS_TEXT, "still here", 10));
    TRY(close_and_wait(r));
}

void case_unsolicited_pong(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/pong:x/pong:/text:after/close:1000", NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "after", 5));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, r->n_msg == 1, "%zu messages: pongs must not be delivered", r->n_msg);
}

/* arg: max_message_size; sarg: a script sending a bigger message. */
void case_max_size(cx *c, const conf_case *k)
{
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_message_size = (size_t)k->arg;
    rec *r = cx_connect(c, k->sarg, &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_ETOO_BIG, 1));
    CHECK(c, r->n_msg == 0, "the oversized message was delivered (%zu messages)", r->n_msg);
}

/* A message of exactly max_message_size bytes is fine. */
void case_max_size_exact(cx *c, const conf_case *k)
{
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_message_size = 1000;
    rec *r = cx_connect(c, "/script/textn:1000/fragbin:4:1000/close:1000", &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 2));
    unsigned char want[1000];
    conf_pattern(want, sizeof want, UNIWS_TEXT);
    TRY(expect_msg(r, 0, UNIWS_TEXT, want, sizeof want));
    conf_pattern(want, sizeof want, UNIWS_BINARY);
    TRY(expect_msg(r, 1, UNIWS_BINARY, want, sizeof want));
    TRY(expect_clean_close(r, 1000, ""));
}

/* After the peer's close frame the socket is CLOSING: later data is dropped
 * and the close event still comes once, clean. */
void case_data_after_close(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/close:1000:x/text:late/bin:4", NULL);
    TRY(r);
    TRY(expect_clean_close(r, 1000, "x"));
    CHECK(c, r->n_msg == 0, "%zu messages delivered after the peer's close frame", r->n_msg);
}

/* uniws_ping(): argument and state checks; the echo peer's pong is not a
 * message. */
void case_ping_api(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    CHECK_RC(c, uniws_ping(r->s, "x", 1), UNIWS_EINVALID_STATE);
    TRY(rec_wait_open(r));
    unsigned char big[126];
    memset(big, 'p', sizeof big);
    CHECK_RC(c, uniws_ping(r->s, "abc", 3), 0);
    CHECK_RC(c, uniws_ping(r->s, NULL, 0), 0);
    CHECK_RC(c, uniws_ping(r->s, big, 125), 0);
    CHECK_RC(c, uniws_ping(r->s, big, 126), UNIWS_EINVAL);
    CHECK_RC(c, uniws_send_text(r->s, "x", 1), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "x", 1));
    cx_run_for(c, 100);
    CHECK(c, r->n_msg == 1, "%zu messages: pongs must not be delivered", r->n_msg);
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    CHECK_RC(c, uniws_ping(r->s, "x", 1), UNIWS_ECLOSED);
    TRY(expect_clean_close(r, 1000, ""));
    CHECK_RC(c, uniws_ping(r->s, "x", 1), UNIWS_ECLOSED);
}

static void send_big_on_open(rec *r)
{
    unsigned char *buf = r->hook_data;
    int rc = uniws_send_binary(r->s, buf, (size_t)r->hook_arg);
    if (rc != 0)
        snprintf(r->violation, sizeof r->violation, "send in on_open returned %s",
                 uniws_err_name(rc));
}

/* Pongs must go between frames, never into the middle of a large frame
 * that is still being written (the echo peer would see garbage). */
void case_pong_during_large_send(cx *c, const conf_case *k)
{
    const size_t n = (size_t)k->arg;
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    conf_pattern(buf, n, UNIWS_BINARY);
    rec *r = cx_rec(c);
    TRY(r);
    r->on_open = send_big_on_open;
    r->hook_data = buf;
    r->hook_arg = (long)n;
    TRY(rec_connect(r, "/script/pingflood:300", NULL));
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_BINARY, buf, n));
    CHECK_RC(c, uniws_send_text(r->s, "after", 5), 0);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 1, UNIWS_TEXT, "after", 5));
    TRY(close_and_wait(r));
}
