/*
 * cases_utf8.c — UTF-8 rules (contract items 5 and 7): valid multibyte text
 * both ways, every kind of invalid text received (fails the connection),
 * invalid text refused by send with nothing sent, and invalid close reasons.
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

/* Boundary characters: U+007F, U+0080, U+07FF, U+0800, U+D7FF, U+E000,
 * U+FFFD, U+FFFF, U+10000, U+10FFFF, and some ordinary text. */
static const char valid_text[] = "\x7f \xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
                                 "\xef\xbf\xbd \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf "
                                 "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xe2\x82\xac "
                                 "\xf0\x9d\x84\x9e \xe6\x97\xa5\xe6\x9c\xac";

void case_utf8_recv_valid(cx *c, const conf_case *k)
{
    char enc[1024], path[1200];
    snprintf(path, sizeof path, "/script/text:%s/frag:3:%s/close:1000",
             conf_pct(enc, sizeof enc, valid_text, strlen(valid_text)), enc);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 0, UNIWS_TEXT, valid_text, strlen(valid_text)));
    TRY(expect_msg(r, 1, UNIWS_TEXT, valid_text, strlen(valid_text)));
    TRY(expect_clean_close(r, 1000, ""));
}

void case_utf8_send_valid(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, valid_text, strlen(valid_text)), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, valid_text, strlen(valid_text)));
    TRY(close_and_wait(r));
}

/* sarg: a script delivering invalid UTF-8 as text. Either UNIWS_EUTF8 or
 * UNIWS_EPROTOCOL describes it; the connection must fail without a message. */
void case_utf8_recv_invalid(cx *c, const conf_case *k)
{
    char buf[512];
    rec *r = cx_connect(c, k->sarg, NULL);
    TRY(r);
    TRY(expect_failure(r, 0, 1));
    const conf_ev *e = rec_first(r, EV_ERROR);
    CHECK(c, e->error == UNIWS_EUTF8 || e->error == UNIWS_EPROTOCOL,
          "error %s for invalid UTF-8, expected UNIWS_EUTF8 or UNIWS_EPROTOCOL; saw: %s",
          uniws_err_name(e->error), rec_describe(r, buf, sizeof buf));
    CHECK(c, r->n_msg == 0, "%zu messages delivered; the invalid text must not be", r->n_msg);
}

/* arg bytes of U+1F600 (4 bytes each) sent as one text message and echoed:
 * big enough that a backend reads most of it straight into the message
 * buffer (core/rxinto.c), in reads that end inside characters. */
void case_utf8_big_multibyte(cx *c, const conf_case *k)
{
    size_t n = (size_t)k->arg & ~(size_t)3;
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    for (size_t i = 0; i < n; i += 4)
        memcpy(buf + i, "\xf0\x9f\x98\x80", 4);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.max_message_size = n;
    rec *r = cx_connect(c, "/echo", &o);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, (const char *)buf, n), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, buf, n));
    TRY(close_and_wait(r));
}

/* send_text refuses invalid UTF-8 and sends nothing: the report peer counts
 * only the one valid message sent afterwards. */
void case_utf8_send_invalid(cx *c, const conf_case *k)
{
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"\xc0\xaf", 2},             /* overlong "/" */
        {"\xe0\x80\xaf", 3},         /* overlong, 3 bytes */
        {"\xed\xa0\x80", 3},         /* surrogate U+D800 */
        {"\xed\xbf\xbf", 3},         /* surrogate U+DFFF */
        {"abc\xe2\x82", 5},          /* truncated at the end */
        {"\xf4\x90\x80\x80", 4},     /* above U+10FFFF */
        {"\x80", 1},                 /* lone continuation byte */
        {"\xff", 1},                 /* never valid */
        {"ok\xc3(ok", 6},            /* bad continuation */
        {"\xf8\x88\x80\x80\x80", 5}, /* 5-byte form */
    };
    rec *r = cx_connect(c, "/script/report", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = uniws_send_text(r->s, bad[i].s, bad[i].n);
        CHECK(c, rc == UNIWS_EUTF8, "invalid text #%zu: uniws_send_text returned %s", i,
              uniws_err_name(rc));
    }
    CHECK(c, uniws_buffered_amount(r->s) == 0, "buffered_amount %zu after refused sends",
          uniws_buffered_amount(r->s));
    CHECK_RC(c, uniws_send_text(r->s, "ok", 2), 0);
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    TRY(expect_clean_close(r, 1000, "msgs=1 bytes=2"));
}

/* A close frame whose reason is not UTF-8 fails the connection. */
void case_utf8_close_reason(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, k->sarg, NULL);
    TRY(r);
    TRY(expect_failure(r, 0, 1));
}
