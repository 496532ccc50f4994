/*
 * cases_close.c — ending connections (contract items 5, 6 and 8): every close
 * code a peer may send and the ones it may not, 1005 and 1006, a peer that
 * never answers, uniws_close() argument rules, closing twice or while
 * connecting, queued data flushed before the close frame, and the send errors
 * around closing.
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

/* arg: a code the peer may send; the close event carries it, cleanly. */
void case_close_code_valid(cx *c, const conf_case *k)
{
    char path[96], reason[32];
    snprintf(reason, sizeof reason, "bye %ld", k->arg);
    snprintf(path, sizeof path, "/script/close:%ld:bye%%20%ld", k->arg, k->arg);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(expect_clean_close(r, (int)k->arg, reason));
    CHECK(c, r->n_open == 1, "no open event before the close");
}

/* sarg: a script whose close frame carries a code no endpoint may send (or a
 * 1-byte payload): the connection fails. */
void case_close_code_invalid(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, k->sarg, NULL);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EPROTOCOL, 1));
}

/* An empty close frame: code 1005, empty reason, clean. */
void case_close_1005(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/close", NULL);
    TRY(r);
    TRY(expect_clean_close(r, 1005, ""));
}

/* The longest reason a close frame can carry (123 bytes), multibyte. */
void case_close_reason_123_from_peer(cx *c, const conf_case *k)
{
    char reason[124], enc[512], path[640];
    size_t n = 0;
    while (n + 2 <= 122) {
        memcpy(reason + n, "\xc3\xa9", 2);
        n += 2;
    }
    reason[n++] = 'x';
    reason[n] = 0;
    snprintf(path, sizeof path, "/script/close:4000:%s", conf_pct(enc, sizeof enc, reason, n));
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(expect_clean_close(r, 4000, reason));
    const conf_ev *e = rec_first(r, EV_CLOSE);
    CHECK(c, e->reason_len == 123, "reason_len %zu, expected 123", e->reason_len);
}

/* sarg: a script ending TCP without a close frame; arg: the messages that
 * must arrive first (expect_tcp_end). */
void case_close_tcp_end(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, k->sarg, NULL);
    TRY(r);
    TRY(expect_tcp_end(r, k->arg));
}

static void close_on_open(rec *r)
{
    r->hook_arg = (long)cx_now_ms();
    int rc = uniws_close(r->s, 1000, "bye");
    if (rc != 0)
        snprintf(r->violation, sizeof r->violation, "uniws_close in on_open returned %s",
                 uniws_err_name(rc));
}

/* sarg: a peer that never answers the close frame; arg: close_timeout_ms (0:
 * the default). The client gives up on its own within that time: error,
 * then close 1006. */
void case_close_no_reply(cx *c, const conf_case *k)
{
    char buf[512];
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.close_timeout_ms = (int)k->arg;
    long timeout = k->arg ? k->arg : UNIWS_DEFAULT_CLOSE_TIMEOUT_MS;
    rec *r = cx_rec(c);
    TRY(r);
    r->on_open = close_on_open;
    TRY(rec_connect(r, k->sarg, &o));
    TRY(expect_failure(r, UNIWS_ETIMEOUT, 1));
    const conf_ev *e = rec_first(r, EV_CLOSE);
    long took = (long)(e->at_ms - (uint64_t)r->hook_arg);
    CHECK(c, took >= timeout * 8 / 10 && took <= timeout + 2000,
          "close event %ld ms after uniws_close with close_timeout %ld ms; saw: %s", took, timeout,
          rec_describe(r, buf, sizeof buf));
}

/* arg: the code; sarg: the reason (NULL: none). The echo peer answers with
 * the same code and reason. */
void case_client_close(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_close(r->s, (int)k->arg, k->sarg), 0);
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CLOSING, "ready_state %d right after uniws_close",
          (int)uniws_ready_state(r->s));
    TRY(expect_clean_close(r, k->arg ? (int)k->arg : 1005, k->sarg ? k->sarg : ""));
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CLOSED, "ready_state %d after the close event",
          (int)uniws_ready_state(r->s));
}

/* Codes the application may not send are refused and change nothing. */
void case_close_invalid_codes(cx *c, const conf_case *k)
{
    static const int codes[] = {-1,   1,    999,  1001, 1002, 1003, 1004,  1005, 1006,
                                1007, 1011, 1015, 1016, 2999, 5000, 65535, 70000};
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int rc = uniws_close(r->s, codes[i], NULL);
        CHECK(c, rc == UNIWS_EINVALID_ACCESS, "uniws_close(%d) returned %s", codes[i],
              uniws_err_name(rc));
        CHECK(c, uniws_ready_state(r->s) == UNIWS_OPEN, "ready_state %d after a refused close",
              (int)uniws_ready_state(r->s));
    }
    CHECK_RC(c, uniws_send_text(r->s, "still open", 10), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "still open", 10));
    TRY(close_and_wait(r));
}

/* arg: 124 (too long), 1241 (124 multibyte), 123 (fits), 1 (invalid UTF-8),
 * 2 (reason without code). */
void case_close_reason_limits(cx *c, const conf_case *k)
{
    char reason[200];
    int want = UNIWS_ESYNTAX, code = 1000;
    switch (k->arg) {
    case 124:
        memset(reason, 'a', 124);
        reason[124] = 0;
        break;
    case 1241:
        for (int i = 0; i < 62; i++)
            memcpy(reason + 2 * i, "\xc3\xa9", 2);
        reason[124] = 0;
        break;
    case 123:
        for (int i = 0; i < 61; i++)
            memcpy(reason + 2 * i, "\xc3\xa9", 2);
        reason[122] = 'x';
        reason[123] = 0;
        want = 0;
        break;
    case 1:
        snprintf(reason, sizeof reason, "bad \xc0\xaf reason");
        break;
    default:
        snprintf(reason, sizeof reason, "reason without a code");
        code = UNIWS_CLOSE_NONE;
        break;
    }
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    int rc = uniws_close(r->s, code, reason);
    CHECK(c, rc == want, "uniws_close(%d, <%zu-byte reason>) returned %s, expected %s", code,
          strlen(reason), uniws_err_name(rc), uniws_err_name(want));
    if (want == 0) {
        TRY(expect_clean_close(r, 1000, reason));
        return;
    }
    CHECK(c, uniws_ready_state(r->s) == UNIWS_OPEN, "ready_state %d after a refused close",
          (int)uniws_ready_state(r->s));
    CHECK_RC(c, uniws_send_text(r->s, "still open", 10), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(close_and_wait(r));
}

void case_close_twice(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_close(r->s, 1000, "first"), 0);
    CHECK_RC(c, uniws_close(r->s, 3000, "second"), 0);
    CHECK_RC(c, uniws_close(r->s, UNIWS_CLOSE_NONE, NULL), 0);
    TRY(expect_clean_close(r, 1000, "first"));
    CHECK_RC(c, uniws_close(r->s, 1000, "after"), 0);
    cx_run_for(c, 100);
    CHECK(c, r->n_close == 1, "%zu close events", r->n_close);
}

/* Closing while CONNECTING fails the connection: error, close 1006, and no
 * open ever. */
void case_close_connecting(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CONNECTING, "ready_state %d right after connect",
          (int)uniws_ready_state(r->s));
    CHECK_RC(c, uniws_close(r->s, 1000, "never mind"), 0);
    int st = (int)uniws_ready_state(r->s);
    CHECK(c, st == UNIWS_CLOSING || st == UNIWS_CLOSED, "ready_state %d after close", st);
    TRY(expect_failure(r, 0, 0));
    cx_run_for(c, 100);
    CHECK(c, r->n_open == 0, "open fired after close while connecting");
}

static void flush_on_open(rec *r)
{
    size_t size = (size_t)r->hook_arg;
    unsigned char buf[10000];
    conf_pattern(buf, size, UNIWS_TEXT);
    for (int i = 0; i < 100; i++) {
        int rc = i % 2 ? uniws_send_binary(r->s, buf, size)
                       : uniws_send_text(r->s, (const char *)buf, size);
        if (rc != 0) {
            snprintf(r->violation, sizeof r->violation, "send #%d in on_open returned %s", i,
                     uniws_err_name(rc));
            return;
        }
    }
    int rc = uniws_close(r->s, 1000, NULL);
    if (rc != 0)
        snprintf(r->violation, sizeof r->violation, "uniws_close in on_open returned %s",
                 uniws_err_name(rc));
}

/* 100 messages then an immediate close: the report peer must count all 100
 * before the close frame. arg: message size (<= 10000). */
void case_close_flushes_queue(cx *c, const conf_case *k)
{
    char want[64];
    snprintf(want, sizeof want, "msgs=100 bytes=%ld", 100 * k->arg);
    rec *r = cx_rec(c);
    TRY(r);
    r->on_open = flush_on_open;
    r->hook_arg = k->arg;
    TRY(rec_connect(r, "/script/report", NULL));
    TRY(expect_clean_close(r, 1000, want));
}

void case_send_after_close(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/report", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    CHECK_RC(c, uniws_send_text(r->s, "late", 4), UNIWS_ECLOSED);
    CHECK_RC(c, uniws_send_binary(r->s, "late", 4), UNIWS_ECLOSED);
    TRY(expect_clean_close(r, 1000, "msgs=0 bytes=0"));
    CHECK_RC(c, uniws_send_text(r->s, "later", 5), UNIWS_ECLOSED);
    CHECK_RC(c, uniws_send_binary(r->s, "later", 5), UNIWS_ECLOSED);
}

/* Sending while CONNECTING is an invalid-state error and sends nothing. */
void case_send_connecting(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/report", NULL);
    TRY(r);
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CONNECTING, "ready_state %d right after connect",
          (int)uniws_ready_state(r->s));
    CHECK_RC(c, uniws_send_text(r->s, "early", 5), UNIWS_EINVALID_STATE);
    CHECK_RC(c, uniws_send_binary(r->s, "early", 5), UNIWS_EINVALID_STATE);
    CHECK(c, uniws_buffered_amount(r->s) == 0, "buffered_amount %zu after refused sends",
          uniws_buffered_amount(r->s));
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    TRY(expect_clean_close(r, 1000, "msgs=0 bytes=0"));
}
