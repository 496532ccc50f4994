/* test_registry.c — backend registry and selection order:
 * explicit option > UNIWS_BACKEND > build default > first auto-selectable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "uniws/uniws.h"

static void lists_loopback_as_demand_only(void **state)
{
    (void)state;
    size_t n = uniws_backend_count();
    assert_true(n >= 1);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        uniws_backend_info b;
        assert_int_equal(uniws_backend_get(i, &b), 0);
        assert_non_null(b.name);
        assert_non_null(b.version);
        if (strcmp(b.name, "loopback") == 0) {
            seen = 1;
            assert_int_equal(b.auto_select, 0);
            assert_false(b.caps & UNIWS_CAP_NETWORK);
        }
    }
    assert_true(seen);
    uniws_backend_info b;
    assert_int_equal(uniws_backend_get(n, &b), UNIWS_EINVAL);
    assert_int_equal(uniws_backend_get(0, NULL), UNIWS_EINVAL);
}

static void find_by_name(void **state)
{
    (void)state;
    uniws_backend_info b;
    assert_int_equal(uniws_backend_find("loopback", &b), 0);
    assert_string_equal(b.name, "loopback");
    assert_int_equal(uniws_backend_find("no-such-backend", &b), UNIWS_ENO_BACKEND);
    assert_int_equal(uniws_backend_find(NULL, &b), UNIWS_EINVAL);
}

static void env_selects_and_unknown_env_fails(void **state)
{
    (void)state;
    uniws_backend_info b;
    setenv("UNIWS_BACKEND", "loopback", 1);
    assert_int_equal(uniws_backend_default(&b), 0);
    assert_string_equal(b.name, "loopback");

    setenv("UNIWS_BACKEND", "bogus", 1);
    assert_int_equal(uniws_backend_default(&b), UNIWS_ENO_BACKEND);
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws_socket *s = NULL;
    assert_int_equal(uniws_connect(loop, "ws://127.0.0.1:9/echo", NULL, &s), UNIWS_ENO_BACKEND);
    assert_null(s);
    /* The explicit option wins over the environment. */
    uniws_options o = {.backend = "loopback"};
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &s), 0);
    assert_string_equal(uniws_backend_name(s), "loopback");
    uniws_free(s);
    o.backend = "nope";
    assert_int_equal(uniws_connect(loop, "ws://x/echo", &o, &s), UNIWS_ENO_BACKEND);
    assert_int_equal(uniws_loop_free(loop), 0);
    unsetenv("UNIWS_BACKEND");
}

static void default_is_first_auto_selectable(void **state)
{
    (void)state;
    unsetenv("UNIWS_BACKEND");
    uniws_backend_info b, first = {0};
    int have = 0;
    for (size_t i = 0; i < uniws_backend_count(); i++) {
        uniws_backend_get(i, &b);
        if (b.auto_select && !have) {
            first = b;
            have = 1;
        }
    }
    int r = uniws_backend_default(&b);
#ifdef UNIWS_DEFAULT_BACKEND
    assert_int_equal(r, 0);
    assert_string_equal(b.name, UNIWS_DEFAULT_BACKEND);
#else
    if (have) {
        assert_int_equal(r, 0);
        assert_string_equal(b.name, first.name);
    } else {
        /* loopback alone is never picked automatically */
        assert_int_equal(r, UNIWS_ENO_BACKEND);
    }
#endif
}

static void caps_string_lists_bits(void **state)
{
    (void)state;
    char buf[256];
    size_t n = uniws_caps_string(UNIWS_CAP_WS | UNIWS_CAP_PROXY, buf, sizeof buf);
    assert_string_equal(buf, "ws,proxy");
    assert_int_equal(n, strlen("ws,proxy"));
    /* Truncation never leaves half a name. */
    n = uniws_caps_string(UNIWS_CAP_WS | UNIWS_CAP_PROXY, buf, 5);
    assert_string_equal(buf, "ws");
    assert_int_equal(n, strlen("ws,proxy"));
    assert_int_equal(uniws_caps_string(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_loopback_as_demand_only),
        cmocka_unit_test(find_by_name),
        cmocka_unit_test(env_selects_and_unknown_env_fails),
        cmocka_unit_test(default_is_first_auto_selectable),
        cmocka_unit_test(caps_string_lists_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
