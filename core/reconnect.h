/*
 * reconnect.h — the reconnect policy as a clock-free state machine: whether
 * an ending qualifies, how long to wait before the next attempt (exponential
 * backoff with seeded jitter), and when to give up. core/lifecycle.c does
 * the waiting and the reconnecting; tests/core/test_reconnect.c checks the
 * arithmetic with fixed seeds.
 */
#ifndef UNIWS_CORE_RECONNECT_H
#define UNIWS_CORE_RECONNECT_H

#include <stdint.h>
#include "uniws/uniws.h"

#define UNIWS__RC_INITIAL_MS 500
#define UNIWS__RC_MAX_MS     30000
#define UNIWS__RC_MULT       2.0

typedef struct uniws__rc {
    uniws_reconnect p; /* with defaults filled in */
    int attempt;       /* attempts since the last open */
    uint64_t rng;      /* splitmix64 state */
} uniws__rc;

/* Checks an option block: 0 or UNIWS_EINVAL. */
int uniws__rc_check(const uniws_reconnect *o);
/* 1 when the policy is on. */
int uniws__rc_enabled(const uniws_reconnect *o);
/* Fills in defaults; seed is used when o->seed is 0. */
void uniws__rc_init(uniws__rc *rc, const uniws_reconnect *o, uint64_t seed);
/* Whether an ending qualifies: opened (the connection had opened), the close
 * code and was_clean, the error's cause and HTTP status (0 when none). */
int uniws__rc_qualifies(const uniws__rc *rc, int opened, int code, int clean, int cause,
                        int http_status);
/* Counts the next attempt: 1 with *delay_ms filled, or 0 (give up). */
int uniws__rc_next(uniws__rc *rc, int *delay_ms);
/* The connection opened: the next ending starts counting from 1 again. */
void uniws__rc_opened(uniws__rc *rc);

#endif
