/*
 * test_ascii.c — unit tests for core/ascii.c: ASCII case folding only (no
 * locale, bytes >= 0x80 compared as they are), strcmp-like signs, and the
 * length limit of the n variant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ascii.h"

static int sign(int v)
{
    return v < 0 ? -1 : v > 0 ? 1 : 0;
}

static void test_casecmp(void **state)
{
    (void)state;
    assert_int_equal(uniws__ascii_casecmp("", ""), 0);
    assert_int_equal(uniws__ascii_casecmp("Sec-WebSocket-Key", "sec-websocket-key"), 0);
    assert_int_equal(uniws__ascii_casecmp("UPGRADE", "upgrade"), 0);
    assert_int_equal(uniws__ascii_casecmp("AZaz09-_", "azAZ09-_"), 0);
    /* strcmp-like order after folding */
    assert_int_equal(sign(uniws__ascii_casecmp("abc", "ABD")), -1);
    assert_int_equal(sign(uniws__ascii_casecmp("ABD", "abc")), 1);
    assert_int_equal(sign(uniws__ascii_casecmp("ab", "AbC")), -1);
    assert_int_equal(sign(uniws__ascii_casecmp("AbC", "ab")), 1);
    /* '@' (0x40) and '[' (0x5b) sit next to 'A' and 'Z': not letters */
    assert_int_not_equal(uniws__ascii_casecmp("@", "`"), 0);
    assert_int_not_equal(uniws__ascii_casecmp("[", "{"), 0);
    /* only ASCII folds: UTF-8 bytes compare as unsigned bytes */
    assert_int_not_equal(uniws__ascii_casecmp("\xc3\xa9", "\xc3\x89"), 0);
    assert_int_equal(sign(uniws__ascii_casecmp("\xc3\xa9", "a")), 1);
    assert_int_equal(uniws__ascii_casecmp("caf\xc3\xa9", "CAF\xc3\xa9"), 0);
}

static void test_ncasecmp(void **state)
{
    (void)state;
    assert_int_equal(uniws__ascii_ncasecmp("Sec-WebSocket-Version: 13", "sec-websocket-", 14), 0);
    assert_int_not_equal(uniws__ascii_ncasecmp("Sec-WebSocket-Version", "sec-websocket-", 15), 0);
    assert_int_equal(uniws__ascii_ncasecmp("abcX", "ABCy", 3), 0);
    assert_int_not_equal(uniws__ascii_ncasecmp("abcX", "ABCy", 4), 0);
    assert_int_equal(uniws__ascii_ncasecmp("anything", "else", 0), 0);
    /* stops at the end of equal strings shorter than n */
    assert_int_equal(uniws__ascii_ncasecmp("Ping", "pING", 100), 0);
    assert_int_equal(sign(uniws__ascii_ncasecmp("pin", "PING", 100)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_casecmp),
        cmocka_unit_test(test_ncasecmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
