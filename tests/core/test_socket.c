/* test_socket.c — the socket state machine and event rules, driven through
 * the loopback backend (no network): ordering, exactly one close, failures,
 * argument checks, buffered_amount, free inside callbacks, other threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "uniws/uniws.h"

typedef struct rec {
    char log[4096];
    int opens, messages, errors, closes;
    int after_close; /* events seen after the close event */
    int close_code, was_clean, error;
    char reason[128];
    char last[256];
    size_t last_len;
    int free_on; /* 1: free in on_open, 2: in on_message, 3: in on_close */
    uniws_socket *s;
} rec;

static void add(rec *r, const char *what)
{
    if (r->closes)
        r->after_close++;
    strncat(r->log, what, sizeof r->log - strlen(r->log) - 1);
}

static void on_open(uniws_socket *s, void *ud)
{
    rec *r = ud;
    r->opens++;
    add(r, "O");
    if (r->free_on == 1) {
        uniws_free(s);
        r->s = NULL;
    }
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    rec *r = ud;
    r->messages++;
    add(r, m->type == UNIWS_TEXT ? "T" : "B");
    size_t n = m->len < sizeof r->last - 1 ? m->len : sizeof r->last - 1;
    memcpy(r->last, m->data, n);
    r->last[n] = 0;
    r->last_len = m->len;
    if (m->type == UNIWS_TEXT)
        assert_int_equal(((const char *)m->data)[m->len], 0);
    if (r->free_on == 2) {
        uniws_free(s);
        r->s = NULL;
    }
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    rec *r = ud;
    (void)s;
    r->errors++;
    r->error = e->error;
    assert_non_null(e->message);
    add(r, "E");
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    rec *r = ud;
    add(r, "C");
    r->closes++;
    r->close_code = e->code;
    r->was_clean = e->was_clean;
    snprintf(r->reason, sizeof r->reason, "%s", e->reason);
    assert_int_equal(uniws_ready_state(s), UNIWS_CLOSED);
    if (r->free_on == 3) {
        uniws_free(s);
        r->s = NULL;
    }
}

static uniws_options opts_for(rec *r)
{
    uniws_options o = {.backend = "loopback", .user_data = r};
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.close_timeout_ms = 300;
    return o;
}

/* Runs until the socket closed (or 5 s), then a little longer to catch
 * anything that would wrongly fire after close. */
static void drive(uniws_loop *loop, rec *r)
{
    for (int i = 0; i < 500 && !r->closes; i++)
        uniws_loop_run_once(loop, 10);
    for (int i = 0; i < 5; i++)
        uniws_loop_run_once(loop, 5);
}

static uniws_loop *new_loop(void)
{
    uniws_loop *l;
    assert_int_equal(uniws_loop_new(&l), 0);
    return l;
}

static void finish(uniws_loop *loop, rec *r)
{
    uniws_free(r->s);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static void echo_then_clean_close(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "http://Example.COM:80/echo?x=1", &o, &r.s), 0);
    assert_string_equal(uniws_url(r.s), "ws://example.com/echo?x=1");
    assert_int_equal(uniws_ready_state(r.s), UNIWS_CONNECTING);
    assert_int_equal(uniws_send_text(r.s, "early", 5), UNIWS_EINVALID_STATE);
    while (!r.opens)
        uniws_loop_run_once(loop, 100);
    assert_int_equal(uniws_ready_state(r.s), UNIWS_OPEN);
    assert_int_equal(uniws_send_text(r.s, "héllo", strlen("héllo")), 0);
    assert_true(uniws_buffered_amount(r.s) >= strlen("héllo"));
    while (r.messages < 1)
        uniws_loop_run_once(loop, 100);
    assert_int_equal(uniws_buffered_amount(r.s), 0);
    assert_string_equal(r.last, "héllo");
    assert_int_equal(uniws_send_binary(r.s, "\0\1\2", 3), 0);
    while (r.messages < 2)
        uniws_loop_run_once(loop, 100);
    assert_int_equal(r.last_len, 3);
    assert_int_equal(uniws_close(r.s, 4001, "done"), 0);
    assert_int_equal(uniws_ready_state(r.s), UNIWS_CLOSING);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0); /* second close: no-op */
    assert_int_equal(uniws_send_text(r.s, "late", 4), UNIWS_ECLOSED);
    drive(loop, &r);
    assert_string_equal(r.log, "OTBC");
    assert_int_equal(r.close_code, 4001);
    assert_string_equal(r.reason, "done");
    assert_int_equal(r.was_clean, 1);
    assert_int_equal(uniws_loop_alive(loop), 0);
    finish(loop, &r);
}

static void server_close_codes(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int code;
        const char *reason;
        int clean;
    } cases[] = {
        {"/script/close:1000:bye", 1000, "bye", 1},
        {"/script/close:1012", 1012, "", 1},
        {"/script/close:1014", 1014, "", 1},
        {"/script/close:4999:x", 4999, "x", 1},
        {"/script/close", 1005, "", 1},
        {"/script/close:1005", 1006, "", 0}, /* 1005 must never be on the wire */
        {"/script/close:999", 1006, "", 0},
        {"/script/fin", 1006, "", 0},
        {"/script/rst", 1006, "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec r = {0};
        uniws_loop *loop = new_loop();
        uniws_options o = opts_for(&r);
        char url[128];
        snprintf(url, sizeof url, "ws://loop%s", cases[i].path);
        assert_int_equal(uniws_connect(loop, url, &o, &r.s), 0);
        drive(loop, &r);
        assert_int_equal(r.closes, 1);
        assert_int_equal(r.after_close, 0);
        assert_int_equal(r.close_code, cases[i].code);
        assert_string_equal(r.reason, cases[i].reason);
        assert_int_equal(r.was_clean, cases[i].clean);
        assert_int_equal(r.errors, cases[i].clean ? 0 : 1);
        finish(loop, &r);
    }
}

static void protocol_violations_fail(void **state)
{
    (void)state;
    static const char *paths[] = {
        "/script/frame:c10548656c6c6f",     /* RSV1 without extension */
        "/script/frame:8300",               /* reserved opcode 3 */
        "/script/frame:8b00",               /* reserved control opcode */
        "/script/frame:818400000000414243", /* masked server frame */
        "/script/frame:0900",               /* fragmented ping */
        "/script/frame:8000",               /* continuation without start */
        "/script/frame:0100/frame:8100",    /* new message inside a fragmented one */
        "/script/frame:8102c0af",           /* overlong UTF-8 */
        "/script/frame:8103eda080",         /* surrogate */
        "/script/frame:8101e2",             /* truncated */
        "/script/close-hex:03e8ff",         /* bad UTF-8 in close reason */
        "/script/close-hex:03",             /* 1-byte close payload */
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        rec r = {0};
        uniws_loop *loop = new_loop();
        uniws_options o = opts_for(&r);
        char url[128];
        snprintf(url, sizeof url, "ws://loop%s", paths[i]);
        assert_int_equal(uniws_connect(loop, url, &o, &r.s), 0);
        drive(loop, &r);
        if (strcmp(r.log, "OEC") != 0)
            fail_msg("%s: events %s", paths[i], r.log);
        assert_int_equal(r.close_code, 1006);
        assert_int_equal(r.was_clean, 0);
        finish(loop, &r);
    }
}

static void handshake_failures_carry_status(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int status;
    } cases[] = {{"/script/status:403", 403}, {"/script/status:200", 200},
                 {"/script/bad-accept", 101}, {"/script/no-upgrade", 101},
                 {"/script/ext:x-foo", 101},  {"/script/proto:nope", 101}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec r = {0};
        uniws_loop *loop = new_loop();
        uniws_options o = opts_for(&r);
        char url[128];
        snprintf(url, sizeof url, "ws://loop%s", cases[i].path);
        assert_int_equal(uniws_connect(loop, url, &o, &r.s), 0);
        drive(loop, &r);
        assert_string_equal(r.log, "EC");
        assert_int_equal(r.error, UNIWS_EHANDSHAKE);
        assert_int_equal(r.close_code, 1006);
        finish(loop, &r);
    }
}

/* max_redirects (issue 10): followed redirects fire no event (the log is
 * exactly open, message, close), uniws_url() follows them, and one past the
 * limit, from wss to ws or to another scheme fails with UNIWS_EREDIRECT;
 * off by default, a redirect is UNIWS_EHANDSHAKE. uniws_close() during the
 * hop ends it with one close. */
static void redirects(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int max;
        const char *log;
        int error;
        uint64_t followed;
    } cases[] = {
        {"ws://loop/script/"
         "redirect:302:%2Fscript%2Fredirect:307:%252Fscript%252Ftext:hi%252Fclose:1000",
         2, "OTC", 0, 2},
        {"ws://loop/script/redirect:302:%2Fscript%2Fredirect:307:%252Fecho", 1, "EC",
         UNIWS_EREDIRECT, 1},
        {"ws://loop/script/redirect:301:ftp:%2F%2Floop%2F", 3, "EC", UNIWS_EREDIRECT, 0},
        {"ws://loop/script/redirect:302:%2Fecho", 0, "EC", UNIWS_EHANDSHAKE, 0},
        {"ws://loop/script/redirect:308:http:%2F%2Fother%2Fscript%2Ftext:x%2Fclose:1000", 1, "OTC",
         0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec r = {0};
        uniws_loop *loop = new_loop();
        uniws_options o = opts_for(&r);
        o.max_redirects = cases[i].max;
        assert_int_equal(uniws_connect(loop, cases[i].url, &o, &r.s), 0);
        drive(loop, &r);
        assert_string_equal(r.log, cases[i].log);
        assert_int_equal(r.error, cases[i].error);
        uniws_stats st;
        assert_int_equal(uniws_get_stats(r.s, &st), 0);
        assert_int_equal(st.redirects, cases[i].followed);
        if (!cases[i].error)
            assert_non_null(strstr(uniws_url(r.s), "/script/text:"));
        finish(loop, &r);
    }

    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.max_redirects = -1;
    assert_int_equal(uniws_connect(loop, "ws://loop/echo", &o, &r.s), UNIWS_EINVAL);
    o.max_redirects = 5;
    assert_int_equal(uniws_connect(loop, "ws://loop/script/redirect:302:%2Fecho", &o, &r.s), 0);
    /* the redirect is being followed: close ends it once */
    for (int k = 0; k < 3; k++)
        uniws_loop_run_once(loop, 1);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    drive(loop, &r);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.after_close, 0);
    finish(loop, &r);
}

static void close_while_connecting_fails(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &r.s), 0);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    drive(loop, &r);
    assert_string_equal(r.log, "EC");
    assert_int_equal(r.close_code, 1006);
    finish(loop, &r);
}

static void close_arguments_are_checked(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &r.s), 0);
    while (!r.opens)
        uniws_loop_run_once(loop, 100);
    int bad[] = {1, 999, 1001, 1005, 1006, 1015, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(uniws_close(r.s, bad[i], NULL), UNIWS_EINVALID_ACCESS);
    char reason[125];
    memset(reason, 'a', 124);
    reason[124] = 0;
    assert_int_equal(uniws_close(r.s, 1000, reason), UNIWS_ESYNTAX);
    assert_int_equal(uniws_close(r.s, 1000, "\xc0\xaf"), UNIWS_ESYNTAX);
    assert_int_equal(uniws_send_text(r.s, "\xed\xa0\x80", 3), UNIWS_EUTF8);
    assert_int_equal(uniws_ready_state(r.s), UNIWS_OPEN); /* nothing happened */
    reason[123] = 0;
    assert_int_equal(uniws_close(r.s, 3000, reason), 0);
    drive(loop, &r);
    assert_int_equal(r.close_code, 3000);
    assert_int_equal((int)strlen(r.reason), 123);
    finish(loop, &r);
}

static void free_inside_callbacks(void **state)
{
    (void)state;
    for (int where = 1; where <= 3; where++) {
        rec r = {0};
        r.free_on = where;
        uniws_loop *loop = new_loop();
        uniws_options o = opts_for(&r);
        const char *url = where == 3 ? "ws://x/script/close:1000" : "ws://x/script/text:a/text:b";
        assert_int_equal(uniws_connect(loop, url, &o, &r.s), 0);
        for (int i = 0; i < 30; i++)
            uniws_loop_run_once(loop, 5);
        if (where == 1)
            assert_string_equal(r.log, "O");
        if (where == 2)
            assert_string_equal(r.log, "OT");
        if (where == 3)
            assert_string_equal(r.log, "OC");
        assert_null(r.s);
        assert_int_equal(uniws_loop_alive(loop), 0);
        assert_int_equal(uniws_loop_free(loop), 0);
    }
}

struct sender {
    uniws_socket *s;
    int n;
};

static void *send_many(void *arg)
{
    struct sender *sd = arg;
    for (int i = 0; i < sd->n; i++)
        assert_int_equal(uniws_send_text(sd->s, "0123456789", 10), 0);
    assert_int_equal(uniws_close(sd->s, 1000, NULL), 0);
    return NULL;
}

static void send_and_close_from_other_thread(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.close_timeout_ms = 5000;
    assert_int_equal(uniws_connect(loop, "ws://x/script/report", &o, &r.s), 0);
    while (!r.opens)
        uniws_loop_run_once(loop, 100);
    struct sender sd = {r.s, 500};
    pthread_t th;
    pthread_create(&th, NULL, send_many, &sd);
    drive(loop, &r);
    pthread_join(th, NULL);
    assert_int_equal(r.close_code, 1000);
    assert_string_equal(r.reason, "msgs=500 bytes=5000");
    finish(loop, &r);
}

static void max_message_size_fails_with_1009(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.max_message_size = 1000;
    assert_int_equal(uniws_connect(loop, "ws://x/script/textn:1000/textn:1001", &o, &r.s), 0);
    drive(loop, &r);
    assert_string_equal(r.log, "OTEC");
    assert_int_equal(r.error, UNIWS_ETOO_BIG);
    assert_int_equal(r.last_len, 1000);
    finish(loop, &r);
}

static void silent_server_times_out(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    o.connect_timeout_ms = 100;
    assert_int_equal(uniws_connect(loop, "ws://x/script/silent", &o, &r.s), 0);
    drive(loop, &r);
    assert_string_equal(r.log, "EC");
    assert_int_equal(r.error, UNIWS_ETIMEOUT);
    finish(loop, &r);
}

static void peer_never_answers_close(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    assert_int_equal(uniws_connect(loop, "ws://x/script/hold", &o, &r.s), 0);
    while (!r.opens)
        uniws_loop_run_once(loop, 100);
    assert_int_equal(uniws_close(r.s, 1000, NULL), 0);
    drive(loop, &r);
    assert_string_equal(r.log, "OEC");
    assert_int_equal(r.error, UNIWS_ETIMEOUT);
    assert_int_equal(r.close_code, 1006);
    finish(loop, &r);
}

static void bad_arguments_fire_nothing(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    uniws_socket *s = NULL;
    const char *bad[] = {"ftp://x/",  "ws://x:0/", "ws://x:99999/", "ws://[::1/", "ws://x/#f",
                         "ws://u@x/", "",          "ws://"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(uniws_connect(loop, bad[i], &o, &s), UNIWS_ESYNTAX);
    const char *dup[] = {"a", "a"};
    o.protocols = dup;
    o.num_protocols = 2;
    assert_int_equal(uniws_connect(loop, "ws://x/", &o, &s), UNIWS_ESYNTAX);
    const char *tok[] = {"a b"};
    o.protocols = tok;
    o.num_protocols = 1;
    assert_int_equal(uniws_connect(loop, "ws://x/", &o, &s), UNIWS_ESYNTAX);
    o.num_protocols = 0;
    o.proxy = "http://127.0.0.1:1"; /* loopback has no proxy capability */
    assert_int_equal(uniws_connect(loop, "ws://x/", &o, &s), UNIWS_EUNSUPPORTED);
    o.proxy = NULL;
    assert_int_equal(uniws_connect(loop, "wss://x/", &o, &s), UNIWS_EUNSUPPORTED);
    assert_int_equal(uniws_connect(NULL, "ws://x/", &o, &s), UNIWS_EINVAL);
    for (int i = 0; i < 5; i++)
        uniws_loop_run_once(loop, 1);
    assert_string_equal(r.log, "");
    assert_int_equal(uniws_loop_free(loop), 0);
}

static void subprotocol_selected(void **state)
{
    (void)state;
    rec r = {0};
    uniws_loop *loop = new_loop();
    uniws_options o = opts_for(&r);
    const char *p[] = {"chat.v2", "chat.v1"};
    o.protocols = p;
    o.num_protocols = 2;
    assert_int_equal(uniws_connect(loop, "ws://x/script/proto:chat.v1", &o, &r.s), 0);
    assert_string_equal(uniws_protocol(r.s), "");
    while (!r.opens)
        uniws_loop_run_once(loop, 100);
    assert_string_equal(uniws_protocol(r.s), "chat.v1");
    assert_string_equal(uniws_extensions(r.s), "");
    finish(loop, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_then_clean_close),
        cmocka_unit_test(server_close_codes),
        cmocka_unit_test(protocol_violations_fail),
        cmocka_unit_test(handshake_failures_carry_status),
        cmocka_unit_test(close_while_connecting_fails),
        cmocka_unit_test(close_arguments_are_checked),
        cmocka_unit_test(free_inside_callbacks),
        cmocka_unit_test(send_and_close_from_other_thread),
        cmocka_unit_test(max_message_size_fails_with_1009),
        cmocka_unit_test(silent_server_times_out),
        cmocka_unit_test(peer_never_answers_close),
        cmocka_unit_test(bad_arguments_fire_nothing),
        cmocka_unit_test(subprotocol_selected),
        cmocka_unit_test(redirects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
