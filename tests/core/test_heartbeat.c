/* test_heartbeat.c — the heartbeat state machine (core/heartbeat.c) on a
 * fake clock: when pings go out, when the peer counts as dead, round trips
 * and their smoothing, and which pongs answer which ping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/heartbeat.h"

static int due(uniws__hb *hb, uint64_t now, uint64_t *next)
{
    uint8_t ping[UNIWS__HB_PING_LEN];
    int a = uniws__hb_due(hb, now, ping, next);
    if (a == UNIWS__HB_PING)
        uniws__hb_ping_sent(hb, now, ping, sizeof ping);
    return a;
}

static void off_does_nothing(void **state)
{
    (void)state;
    uniws__hb hb;
    uint64_t next;
    uniws__hb_start(&hb, 1000, 0, 0);
    assert_int_equal(due(&hb, 1000000, &next), UNIWS__HB_NONE);
    assert_true(next == UINT64_MAX);
}

static void idle_deadline_counts_from_last_arrival(void **state)
{
    (void)state;
    uniws__hb hb;
    uint64_t next;
    uniws__hb_start(&hb, 1000, 0, 500);
    assert_int_equal(due(&hb, 1200, &next), UNIWS__HB_NONE);
    assert_int_equal((int)next, 300);
    uniws__hb_rx(&hb, 1400);
    assert_int_equal(due(&hb, 1500, &next), UNIWS__HB_NONE);
    assert_int_equal((int)next, 400); /* 1400 + 500 - 1500 */
    assert_int_equal(due(&hb, 1899, &next), UNIWS__HB_NONE);
    assert_int_equal((int)next, 1);
    /* Sending does not keep a silent peer alive. */
    uniws__hb_tx(&hb, 1899);
    assert_int_equal(due(&hb, 1900, &next), UNIWS__HB_DEAD);
}

static void ping_after_quiet_interval(void **state)
{
    (void)state;
    uniws__hb hb;
    uint64_t next;
    uint8_t ping[UNIWS__HB_PING_LEN];
    uniws__hb_start(&hb, 0, 100, 0);
    assert_int_equal(uniws__hb_due(&hb, 50, ping, &next), UNIWS__HB_NONE);
    assert_int_equal((int)next, 50);
    assert_int_equal(uniws__hb_due(&hb, 100, ping, &next), UNIWS__HB_PING);
    assert_int_equal((int)next, 100);
    assert_memory_equal(ping, "hb\0\0\0\1", 6);
    uniws__hb_ping_sent(&hb, 100, ping, sizeof ping);
    uniws__hb_tx(&hb, 101);
    /* Not answered yet: no second ping before another interval. */
    assert_int_equal(due(&hb, 150, &next), UNIWS__HB_NONE);
    /* The pong comes back: round trip 30 ms. */
    uniws__hb_rx(&hb, 130);
    assert_int_equal(uniws__hb_pong(&hb, 130, ping, sizeof ping), 30);
    assert_int_equal(hb.rtt_last, 30);
    assert_int_equal(hb.rtt_srtt, 30);
    /* Quiet again: the next ping 100 ms after the older of the last send
     * (101) and the last arrival (130). */
    assert_int_equal(due(&hb, 200, &next), UNIWS__HB_NONE);
    assert_int_equal((int)next, 1);
    assert_int_equal(uniws__hb_due(&hb, 201, ping, &next), UNIWS__HB_PING);
    assert_memory_equal(ping, "hb\0\0\0\2", 6);
}

static void traffic_both_ways_suppresses_pings(void **state)
{
    (void)state;
    uniws__hb hb;
    uint64_t next;
    uniws__hb_start(&hb, 0, 100, 0);
    for (uint64_t t = 10; t < 1000; t += 60) {
        uniws__hb_tx(&hb, t);
        uniws__hb_rx(&hb, t + 5);
        assert_int_equal(due(&hb, t + 10, &next), UNIWS__HB_NONE);
    }
    /* Only receiving: the sending side is quiet, so it pings. */
    uniws__hb_rx(&hb, 1100);
    assert_int_equal(due(&hb, 1100, &next), UNIWS__HB_PING);
}

static void unanswered_ping_is_repeated(void **state)
{
    (void)state;
    uniws__hb hb;
    uint64_t next;
    uniws__hb_start(&hb, 0, 100, 450);
    int pings = 0, dead_at = -1;
    for (uint64_t t = 0; t <= 1000 && dead_at < 0; t++) {
        int a = due(&hb, t, &next);
        if (a == UNIWS__HB_PING) {
            pings++;
            uniws__hb_tx(&hb, t);
        } else if (a == UNIWS__HB_DEAD) {
            dead_at = (int)t;
        }
    }
    assert_int_equal(dead_at, 450);
    assert_int_equal(pings, 4); /* at 100, 200, 300, 400 */
}

static void pongs_that_do_not_match(void **state)
{
    (void)state;
    uniws__hb hb;
    uniws__hb_start(&hb, 0, 0, 0);
    /* Unsolicited: nothing outstanding. */
    assert_int_equal(uniws__hb_pong(&hb, 5, "x", 1), -1);
    uniws__hb_ping_sent(&hb, 10, "abc", 3);
    assert_int_equal(uniws__hb_pong(&hb, 20, "abd", 3), -1);
    assert_int_equal(uniws__hb_pong(&hb, 20, "ab", 2), -1);
    assert_int_equal(uniws__hb_pong(&hb, 25, "abc", 3), 15);
    /* Answered once only. */
    assert_int_equal(uniws__hb_pong(&hb, 30, "abc", 3), -1);
    assert_int_equal(hb.rtt_last, 15);
    /* Empty pings match empty pongs. */
    uniws__hb_ping_sent(&hb, 40, NULL, 0);
    assert_int_equal(uniws__hb_pong(&hb, 47, "", 0), 7);
}

static void rtt_is_smoothed(void **state)
{
    (void)state;
    uniws__hb hb;
    uniws__hb_start(&hb, 0, 0, 0);
    uniws__hb_ping_sent(&hb, 0, "a", 1);
    assert_int_equal(uniws__hb_pong(&hb, 80, "a", 1), 80);
    uniws__hb_ping_sent(&hb, 100, "b", 1);
    assert_int_equal(uniws__hb_pong(&hb, 100 + 160, "b", 1), 160);
    assert_int_equal(hb.rtt_last, 160);
    assert_int_equal(hb.rtt_srtt, 90); /* (7 * 80 + 160 + 4) / 8 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_does_nothing),
        cmocka_unit_test(idle_deadline_counts_from_last_arrival),
        cmocka_unit_test(ping_after_quiet_interval),
        cmocka_unit_test(traffic_both_ways_suppresses_pings),
        cmocka_unit_test(unanswered_ping_is_repeated),
        cmocka_unit_test(pongs_that_do_not_match),
        cmocka_unit_test(rtt_is_smoothed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
