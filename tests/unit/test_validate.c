/*
 * test_validate.c — unit tests for core/validate.c: close arguments, which
 * close codes may be received, RFC 7230 tokens, subprotocol lists and custom
 * handshake headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/validate.h"

static void test_close_codes(void **state)
{
    size_t len;
    int code;
    (void)state;
    for (code = -1; code <= 70000; code++) {
        int want = (code == 0 || code == 1000 || (code >= 3000 && code <= 4999))
                       ? 0
                       : UNIWS_EINVALID_ACCESS;
        len = 99;
        assert_int_equal(uniws__check_close_args(code, NULL, &len), want);
        if (want == 0)
            assert_int_equal(len, 0);
    }
    assert_int_equal(uniws__check_close_args(1001, NULL, &len), UNIWS_EINVALID_ACCESS);
    assert_int_equal(uniws__check_close_args(1005, NULL, &len), UNIWS_EINVALID_ACCESS);
    assert_int_equal(uniws__check_close_args(2999, NULL, &len), UNIWS_EINVALID_ACCESS);
    assert_int_equal(uniws__check_close_args(5000, NULL, &len), UNIWS_EINVALID_ACCESS);
}

static void test_close_reason(void **state)
{
    char r[200];
    size_t len = 0;
    (void)state;

    assert_int_equal(uniws__check_close_args(1000, "bye", &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(uniws__check_close_args(4999, "", &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(uniws__check_close_args(0, "", &len), 0);
    assert_int_equal(uniws__check_close_args(0, NULL, &len), 0);

    /* 123 bytes fit, 124 do not. */
    memset(r, 'r', sizeof r);
    r[123] = '\0';
    assert_int_equal(uniws__check_close_args(1000, r, &len), 0);
    assert_int_equal(len, 123);
    r[123] = 'r';
    r[124] = '\0';
    len = 77;
    assert_int_equal(uniws__check_close_args(1000, r, &len), UNIWS_ESYNTAX);
    assert_int_equal(len, 77); /* untouched on failure */

    /* Multi-byte: 41 x 3 bytes = 123 is fine; one more byte is not. */
    r[0] = '\0';
    for (int i = 0; i < 41; i++)
        strcat(r, "\xe2\x82\xac");
    assert_int_equal(uniws__check_close_args(3000, r, &len), 0);
    assert_int_equal(len, 123);
    strcat(r, "a");
    assert_int_equal(uniws__check_close_args(3000, r, &len), UNIWS_ESYNTAX);

    /* Not UTF-8. */
    assert_int_equal(uniws__check_close_args(1000, "\xff", &len), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_close_args(1000, "ok\xc3", &len), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_close_args(1000, "\xed\xa0\x80", &len), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_close_args(1000, "\xc3\xa9t\xc3\xa9", &len), 0);

    /* A reason needs a code. */
    assert_int_equal(uniws__check_close_args(0, "x", &len), UNIWS_ESYNTAX);

    /* A bad code is reported before a bad reason (browser order). */
    assert_int_equal(uniws__check_close_args(1001, "\xff", &len), UNIWS_EINVALID_ACCESS);

    /* reason_len may be NULL. */
    assert_int_equal(uniws__check_close_args(1000, "x", NULL), 0);
}

static void test_receivable(void **state)
{
    int code;
    (void)state;
    for (code = -5; code < 70000; code++) {
        int want = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                   (code >= 3000 && code <= 4999);
        assert_int_equal(uniws__close_code_receivable(code), want);
    }
    assert_false(uniws__close_code_receivable(1004));
    assert_false(uniws__close_code_receivable(1005));
    assert_false(uniws__close_code_receivable(1006));
    assert_false(uniws__close_code_receivable(1015));
    assert_false(uniws__close_code_receivable(0));
    assert_true(uniws__close_code_receivable(1012));
    assert_true(uniws__close_code_receivable(1014));
}

static void test_token(void **state)
{
    int c;
    (void)state;
    assert_true(uniws__is_token("chat", 4));
    assert_true(uniws__is_token("v1.chat+json", 12));
    assert_true(uniws__is_token("!#$%&'*+-.^_`|~09azAZ", 21));
    assert_false(uniws__is_token("", 0));
    assert_false(uniws__is_token("a b", 3));
    assert_true(uniws__is_token("a b", 1)); /* only n bytes count */
    for (c = 0; c < 256; c++) {
        char s[1] = {(char)c};
        int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        assert_int_equal(uniws__is_token(s, 1), want);
    }
    /* Separators from RFC 7230 are not token characters. */
    const char *sep = "()<>@,;:\\\"/[]?={} \t";
    for (const char *p = sep; *p; p++)
        assert_false(uniws__is_token(p, 1));
}

static void test_protocols(void **state)
{
    const char *ok[] = {"chat", "superchat", "v2.json"};
    const char *dup[] = {"chat", "x", "chat"};
    const char *case_differs[] = {"chat", "Chat"};
    const char *empty[] = {"chat", ""};
    const char *space[] = {"a b"};
    const char *comma[] = {"a,b"};
    const char *nonascii[] = {"ch\xc3\xa4t"};
    const char *null_entry[] = {"a", NULL};
    (void)state;
    assert_int_equal(uniws__check_protocols(ok, 3), 0);
    assert_int_equal(uniws__check_protocols(NULL, 0), 0);
    assert_int_equal(uniws__check_protocols(NULL, 1), UNIWS_EINVAL);
    assert_int_equal(uniws__check_protocols(dup, 3), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_protocols(dup, 2), 0);
    assert_int_equal(uniws__check_protocols(case_differs, 2), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_protocols(empty, 2), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_protocols(space, 1), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_protocols(comma, 1), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_protocols(nonascii, 1), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_protocols(null_entry, 2), UNIWS_EINVAL);
}

static int check1(const char *name, const char *value)
{
    uniws_header h = {name, value};
    return uniws__check_headers(&h, 1);
}

/* The application's part of the upgrade request is bounded the same way on
 * every backend. */
static void test_request_size(void **state)
{
    (void)state;
    const size_t max = UNIWS_MAX_REQUEST_HEADER_BYTES;
    char *v = malloc(max + 1);
    assert_non_null(v);
    /* "X: " + value + CRLF: exactly the limit passes, one byte more does not */
    memset(v, 'a', max - 5);
    v[max - 5] = 0;
    uniws_header h = {"X", v};
    assert_int_equal(uniws__check_request_size(NULL, 0, &h, 1), 0);
    memset(v, 'a', max - 4);
    v[max - 4] = 0;
    assert_int_equal(uniws__check_request_size(NULL, 0, &h, 1), UNIWS_ETOO_BIG);
    /* subprotocols count too */
    v[max - 200] = 0;
    const char *const protos[] = {"chat", "superchat"};
    assert_int_equal(uniws__check_request_size(protos, 2, &h, 1), 0);
    v[max - 200] = 'a';
    v[max - 40] = 0;
    assert_int_equal(uniws__check_request_size(protos, 2, &h, 1), UNIWS_ETOO_BIG);
    free(v);
}

static void test_headers(void **state)
{
    const uniws_header ok[] = {{"Authorization", "Bearer abc"},
                               {"X-Trace", ""},
                               {"Origin", "http://example.com"},
                               {"Cookie", "a=1; b=2"},
                               {"X-Sec-WebSocket-Like", "fine"}};
    (void)state;
    assert_int_equal(uniws__check_headers(ok, sizeof ok / sizeof ok[0]), 0);
    assert_int_equal(uniws__check_headers(NULL, 0), 0);
    assert_int_equal(uniws__check_headers(NULL, 2), UNIWS_EINVAL);
    assert_int_equal(check1(NULL, "v"), UNIWS_EINVAL);
    assert_int_equal(check1("X", NULL), UNIWS_EINVAL);

    /* Names must be tokens. */
    assert_int_equal(check1("", "v"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X Y", "v"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X:", "v"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X\r\nEvil", "v"), UNIWS_ESYNTAX);

    /* Values must not break the header block. */
    assert_int_equal(check1("X", "a\r\nEvil: 1"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "a\n"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "a\r"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "tab\tok"), 0);
    /* ...nor carry other control characters (RFC 7230 3.2). */
    assert_int_equal(check1("X", "bell\a"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "esc\x1b[0m"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "\x01"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "del\x7f"), UNIWS_ESYNTAX);
    assert_int_equal(check1("X", "caf\xc3\xa9 obs-text"), 0);

    /* Headers the handshake owns, in any case. */
    static const char *const owned[] = {"Host",
                                        "host",
                                        "UPGRADE",
                                        "Connection",
                                        "Content-Length",
                                        "transfer-encoding",
                                        "Sec-WebSocket-Key",
                                        "Sec-WebSocket-Version",
                                        "Sec-WebSocket-Protocol",
                                        "sec-websocket-extensions",
                                        "SEC-WEBSOCKET-ACCEPT",
                                        "Sec-WebSocket-Anything"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        if (check1(owned[i], "x") != UNIWS_ESYNTAX)
            print_message("header %s\n", owned[i]);
        assert_int_equal(check1(owned[i], "x"), UNIWS_ESYNTAX);
    }
    /* Similar names that are not owned. */
    assert_int_equal(check1("Hosts", "x"), 0);
    assert_int_equal(check1("Hos", "x"), 0);
    assert_int_equal(check1("Connection-X", "x"), 0);
    assert_int_equal(check1("Sec-WebSocket", "x"), 0);
    assert_int_equal(check1("Sec-Fetch-Mode", "x"), 0);

    /* One bad header in a list spoils the list. */
    const uniws_header mixed[] = {{"A", "1"}, {"Upgrade", "h2c"}};
    assert_int_equal(uniws__check_headers(mixed, 2), UNIWS_ESYNTAX);
    assert_int_equal(uniws__check_headers(mixed, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_codes),  cmocka_unit_test(test_close_reason),
        cmocka_unit_test(test_receivable),   cmocka_unit_test(test_token),
        cmocka_unit_test(test_protocols),    cmocka_unit_test(test_headers),
        cmocka_unit_test(test_request_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
