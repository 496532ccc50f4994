/*
 * heartbeat.h — the heartbeat and dead-peer deadline as a clock-free state
 * machine: the socket glue (core/lifecycle.c) tells it what arrived, what
 * left and what time it is; it says when to ping, when the peer counts as
 * dead, and what a pong's round trip was. Unit tests drive it with a fake
 * clock (tests/core/test_heartbeat.c).
 */
#ifndef UNIWS_CORE_HEARTBEAT_H
#define UNIWS_CORE_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#define UNIWS__HB_PING_LEN 8

typedef struct uniws__hb {
    uint64_t interval; /* ping after this many ms without sending or receiving; 0: off */
    uint64_t idle;     /* dead after this many ms without receiving; 0: off */
    uint64_t last_rx, last_tx;
    uint32_t seq; /* heartbeat pings sent */
    /* The last ping sent (heartbeat or application), for the round trip. */
    int outstanding;
    uint64_t ping_at;
    uint8_t ping[125];
    size_t ping_len;
    int rtt_last, rtt_srtt; /* -1 until a pong answered */
} uniws__hb;

enum { UNIWS__HB_NONE = 0, UNIWS__HB_PING = 1, UNIWS__HB_DEAD = 2 };

/* Starts the clocks at now (the open event). */
void uniws__hb_start(uniws__hb *hb, uint64_t now, uint64_t interval_ms, uint64_t idle_ms);
/* Something arrived / something was written. */
void uniws__hb_rx(uniws__hb *hb, uint64_t now);
void uniws__hb_tx(uniws__hb *hb, uint64_t now);
/* What is due at now: UNIWS__HB_DEAD (fail the connection), UNIWS__HB_PING
 * (send the payload it wrote into ping[UNIWS__HB_PING_LEN], then call
 * uniws__hb_ping_sent) or UNIWS__HB_NONE. *next_ms: how long until the next
 * check is due (UINT64_MAX: never). */
int uniws__hb_due(uniws__hb *hb, uint64_t now, uint8_t *ping, uint64_t *next_ms);
/* A ping with this payload was queued at now. */
void uniws__hb_ping_sent(uniws__hb *hb, uint64_t now, const void *data, size_t len);
/* A pong arrived: its round trip in ms when it answers the last ping, else -1. */
int uniws__hb_pong(uniws__hb *hb, uint64_t now, const void *data, size_t len);

#endif
