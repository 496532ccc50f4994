/* test_redirect.c — following a handshake redirect (core/redirect.c): which
 * statuses qualify, resolving absolute, scheme-relative, absolute-path,
 * query-only and relative Locations, dropping a fragment, and the refusals:
 * a scheme other than ws/wss/http/https, wss to ws (or http), the hop limit,
 * a Location that is no URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core/redirect.h"
#include "uniws/uniws.h"

static void statuses(void **state)
{
    (void)state;
    int yes[] = {301, 302, 307, 308};
    for (size_t i = 0; i < 4; i++)
        assert_true(uniws__redirect_status(yes[i]));
    int no[] = {0, 200, 300, 303, 304, 305, 306, 400, 503};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(uniws__redirect_status(no[i]));
}

/* Resolves loc against base_url; returns the result and the new URL. */
static int resolve(const char *base_url, const char *loc, int hops, int max, char *out, size_t size)
{
    uniws__url base, u;
    assert_int_equal(uniws__url_parse(base_url, &base), 0);
    int r = uniws__redirect_resolve(&base, loc, hops, max, &u);
    out[0] = 0;
    if (r == UNIWS__RD_OK) {
        snprintf(out, size, "%s", u.normalized);
        uniws__url_free(&u);
    }
    uniws__url_free(&base);
    return r;
}

static void resolves_references(void **state)
{
    (void)state;
    char got[256];
    static const struct {
        const char *base, *loc, *want;
    } t[] = {
        {"ws://h:8080/a/b?x=1", "/echo", "ws://h:8080/echo"},
        {"ws://h:8080/a/b?x=1", "c/d", "ws://h:8080/a/c/d"},
        {"ws://h:8080/a/b?x=1", "?y=2", "ws://h:8080/a/b?y=2"},
        {"ws://h:8080/a/b", "//other:9/p", "ws://other:9/p"},
        {"wss://h/a", "//other/p", "wss://other/p"},
        {"ws://h/a", "wss://127.0.0.1:9443/s", "wss://127.0.0.1:9443/s"},
        {"ws://h/a", "http://127.0.0.1:81/x", "ws://127.0.0.1:81/x"},
        {"ws://h/a", "HTTPS://127.0.0.1/x", "wss://127.0.0.1/x"},
        {"wss://h/a", "https://h2/x", "wss://h2/x"},
        {"ws://h/a", " /echo#frag ", "ws://h/echo"},
        {"ws://[::1]:9/a", "/b", "ws://[::1]:9/b"},
        {"ws://h/", "x", "ws://h/x"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(resolve(t[i].base, t[i].loc, 0, 1, got, sizeof got), UNIWS__RD_OK);
        assert_string_equal(got, t[i].want);
    }
}

static void refuses(void **state)
{
    (void)state;
    char got[256];
    assert_int_equal(resolve("wss://h/a", "ws://h/b", 0, 5, got, sizeof got), UNIWS__RD_DOWNGRADE);
    assert_int_equal(resolve("wss://h/a", "http://h/b", 0, 5, got, sizeof got),
                     UNIWS__RD_DOWNGRADE);
    assert_int_equal(resolve("ws://h/a", "ftp://h/b", 0, 5, got, sizeof got), UNIWS__RD_SCHEME);
    assert_int_equal(resolve("ws://h/a", "javascript:alert(1)", 0, 5, got, sizeof got),
                     UNIWS__RD_SCHEME);
    assert_int_equal(resolve("ws://h/a", "file:///etc/passwd", 0, 5, got, sizeof got),
                     UNIWS__RD_SCHEME);
    assert_int_equal(resolve("ws://h/a", "/b", 3, 3, got, sizeof got), UNIWS__RD_LIMIT);
    assert_int_equal(resolve("ws://h/a", "/b", 2, 3, got, sizeof got), UNIWS__RD_OK);
    assert_int_equal(resolve("ws://h/a", "", 0, 3, got, sizeof got), UNIWS__RD_BAD);
    assert_int_equal(resolve("ws://h/a", "#only", 0, 3, got, sizeof got), UNIWS__RD_BAD);
    assert_int_equal(resolve("ws://h/a", "ws://", 0, 3, got, sizeof got), UNIWS__RD_BAD);
    assert_int_equal(resolve("ws://h/a", "ws://h:99999/", 0, 3, got, sizeof got), UNIWS__RD_BAD);
    /* a downgrade is refused even within the limit; an upgrade is fine */
    assert_int_equal(resolve("ws://h/a", "wss://h/b", 0, 1, got, sizeof got), UNIWS__RD_OK);
    assert_string_equal(got, "wss://h/b");
    for (int r = UNIWS__RD_LIMIT; r <= UNIWS__RD_NOMEM; r++)
        assert_non_null(strstr(uniws__redirect_why(r), "not followed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statuses),
        cmocka_unit_test(resolves_references),
        cmocka_unit_test(refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
