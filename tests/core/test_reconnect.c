/* test_reconnect.c — the reconnect policy (core/reconnect.c): option checks,
 * defaults, which endings qualify, exponential backoff up to the cap, seeded
 * jitter (same seed, same delays), giving up, and the count restarting after
 * an open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/reconnect.h"

static void checks_options(void **state)
{
    (void)state;
    uniws_reconnect o;
    memset(&o, 0, sizeof o);
    assert_int_equal(uniws__rc_check(&o), 0);
    assert_false(uniws__rc_enabled(&o));
    o.max_attempts = -1;
    assert_true(uniws__rc_enabled(&o));
    o.max_attempts = -2;
    assert_int_equal(uniws__rc_check(&o), UNIWS_EINVAL);
    o.max_attempts = 1;
    o.multiplier = 0.9;
    assert_int_equal(uniws__rc_check(&o), UNIWS_EINVAL);
    o.multiplier = 1;
    assert_int_equal(uniws__rc_check(&o), 0);
    o.jitter = -0.1;
    assert_int_equal(uniws__rc_check(&o), UNIWS_EINVAL);
    o.jitter = 1;
    assert_int_equal(uniws__rc_check(&o), 0);
    o.initial_delay_ms = 200;
    o.max_delay_ms = 100;
    assert_int_equal(uniws__rc_check(&o), UNIWS_EINVAL);
    o.max_delay_ms = 0;
    o.on = 1u << 7;
    assert_int_equal(uniws__rc_check(&o), UNIWS_EINVAL);
}

static void backoff_doubles_to_the_cap_then_gives_up(void **state)
{
    (void)state;
    uniws_reconnect o;
    memset(&o, 0, sizeof o);
    o.max_attempts = 7;
    uniws__rc rc;
    uniws__rc_init(&rc, &o, 1);
    int want[] = {500, 1000, 2000, 4000, 8000, 16000, 30000};
    for (int i = 0; i < 7; i++) {
        int d = -1;
        assert_int_equal(uniws__rc_next(&rc, &d), 1);
        assert_int_equal(d, want[i]);
        assert_int_equal(rc.attempt, i + 1);
    }
    int d;
    assert_int_equal(uniws__rc_next(&rc, &d), 0);
    /* An open starts the count over. */
    uniws__rc_opened(&rc);
    assert_int_equal(uniws__rc_next(&rc, &d), 1);
    assert_int_equal(d, 500);
}

static void unlimited_stays_at_the_cap(void **state)
{
    (void)state;
    uniws_reconnect o;
    memset(&o, 0, sizeof o);
    o.max_attempts = -1;
    o.initial_delay_ms = 100;
    o.max_delay_ms = 1000;
    o.multiplier = 3;
    uniws__rc rc;
    uniws__rc_init(&rc, &o, 1);
    int d = 0;
    for (int i = 0; i < 10000; i++)
        assert_int_equal(uniws__rc_next(&rc, &d), 1);
    assert_int_equal(d, 1000);
}

static void jitter_is_seeded_and_bounded(void **state)
{
    (void)state;
    uniws_reconnect o;
    memset(&o, 0, sizeof o);
    o.max_attempts = -1;
    o.initial_delay_ms = 1000;
    o.max_delay_ms = 1000;
    o.jitter = 0.5;
    o.seed = 42;
    uniws__rc a, b, other;
    uniws__rc_init(&a, &o, 7);
    uniws__rc_init(&b, &o, 9); /* o.seed wins over the fallback */
    o.seed = 43;
    uniws__rc_init(&other, &o, 7);
    int differ = 0, lo = 1000, hi = 0;
    for (int i = 0; i < 200; i++) {
        int da, db, dc;
        uniws__rc_next(&a, &da);
        uniws__rc_next(&b, &db);
        uniws__rc_next(&other, &dc);
        assert_int_equal(da, db);
        differ += da != dc;
        assert_true(da >= 500 && da <= 1000);
        lo = da < lo ? da : lo;
        hi = da > hi ? da : hi;
    }
    assert_true(differ > 150);
    /* The draws cover the range, not one value. */
    assert_true(lo < 550 && hi > 950);
}

static void which_endings_qualify(void **state)
{
    (void)state;
    uniws_reconnect o;
    memset(&o, 0, sizeof o);
    o.max_attempts = 3;
    uniws__rc rc;
    uniws__rc_init(&rc, &o, 1);
    /* Before the open. */
    assert_true(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_EREFUSED, 0));
    assert_true(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_EDNS, 0));
    assert_true(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_ETIMEOUT, 0));
    assert_true(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_EHANDSHAKE, 503));
    assert_true(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_EHANDSHAKE, 0));
    assert_false(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_EHANDSHAKE, 404));
    assert_false(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_ETLS, 0));
    assert_false(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_ECLOSED, 0));
    /* After it. */
    assert_true(uniws__rc_qualifies(&rc, 1, 1006, 0, UNIWS_ERESET, 0));
    assert_true(uniws__rc_qualifies(&rc, 1, 1006, 0, UNIWS_EIDLE_TIMEOUT, 0));
    assert_false(uniws__rc_qualifies(&rc, 1, 1006, 0, UNIWS_ECLOSED, 0));
    int yes[] = {1001, 1011, 1012, 1013, 1014}, no[] = {1000, 1005, 1008, 3000, 4000};
    for (int i = 0; i < 5; i++) {
        assert_true(uniws__rc_qualifies(&rc, 1, yes[i], 1, 0, 0));
        assert_false(uniws__rc_qualifies(&rc, 1, no[i], 1, 0, 0));
    }
    /* Only the chosen kinds. */
    o.on = UNIWS_RECONNECT_ON_SERVER_CLOSE;
    uniws__rc_init(&rc, &o, 1);
    assert_false(uniws__rc_qualifies(&rc, 1, 1006, 0, UNIWS_ERESET, 0));
    assert_false(uniws__rc_qualifies(&rc, 0, 1006, 0, UNIWS_EREFUSED, 0));
    assert_true(uniws__rc_qualifies(&rc, 1, 1012, 1, 0, 0));
    /* Off: nothing. */
    o.max_attempts = 0;
    uniws__rc_init(&rc, &o, 1);
    assert_false(uniws__rc_qualifies(&rc, 1, 1012, 1, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checks_options),
        cmocka_unit_test(backoff_doubles_to_the_cap_then_gives_up),
        cmocka_unit_test(unlimited_stays_at_the_cap),
        cmocka_unit_test(jitter_is_seeded_and_bounded),
        cmocka_unit_test(which_endings_qualify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
