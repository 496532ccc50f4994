/*
 * heartbeat.c — when to ping, when the peer is dead, and ping round trips
 * (see heartbeat.h). Pure arithmetic on times the caller passes in.
 */
#include <string.h>
#include "core/heartbeat.h"

void uniws__hb_start(uniws__hb *hb, uint64_t now, uint64_t interval_ms, uint64_t idle_ms)
{
    memset(hb, 0, sizeof *hb);
    hb->interval = interval_ms;
    hb->idle = idle_ms;
    hb->last_rx = hb->last_tx = now;
    hb->rtt_last = hb->rtt_srtt = -1;
}

void uniws__hb_rx(uniws__hb *hb, uint64_t now)
{
    hb->last_rx = now;
}

void uniws__hb_tx(uniws__hb *hb, uint64_t now)
{
    hb->last_tx = now;
}

static uint64_t left(uint64_t since, uint64_t span, uint64_t now)
{
    uint64_t due = since + span;
    return due > now ? due - now : 0;
}

int uniws__hb_due(uniws__hb *hb, uint64_t now, uint8_t *ping, uint64_t *next_ms)
{
    uint64_t next = UINT64_MAX;
    if (hb->idle) {
        uint64_t l = left(hb->last_rx, hb->idle, now);
        if (l == 0) {
            *next_ms = UINT64_MAX;
            return UNIWS__HB_DEAD;
        }
        next = l;
    }
    int action = UNIWS__HB_NONE;
    if (hb->interval) {
        /* Quiet in either direction: a one-way stream is probed too. One
         * heartbeat ping at a time; a lost one is re-sent after an interval. */
        uint64_t since = hb->last_tx < hb->last_rx ? hb->last_tx : hb->last_rx;
        if (hb->outstanding && hb->ping_at > since)
            since = hb->ping_at;
        uint64_t l = left(since, hb->interval, now);
        if (l == 0) {
            hb->seq++;
            /* Payload: "hb" + a big-endian sequence number + 2 bytes of time,
             * so a pong can be told from one for another ping. */
            ping[0] = 'h';
            ping[1] = 'b';
            for (int i = 0; i < 4; i++)
                ping[2 + i] = (uint8_t)(hb->seq >> (24 - 8 * i));
            ping[6] = (uint8_t)(now >> 8);
            ping[7] = (uint8_t)now;
            action = UNIWS__HB_PING;
            l = hb->interval;
        }
        if (l < next)
            next = l;
    }
    *next_ms = next;
    return action;
}

void uniws__hb_ping_sent(uniws__hb *hb, uint64_t now, const void *data, size_t len)
{
    if (len > sizeof hb->ping)
        len = sizeof hb->ping;
    hb->outstanding = 1;
    hb->ping_at = now;
    hb->ping_len = len;
    if (len)
        memcpy(hb->ping, data, len);
}

int uniws__hb_pong(uniws__hb *hb, uint64_t now, const void *data, size_t len)
{
    if (!hb->outstanding || len != hb->ping_len || (len && memcmp(data, hb->ping, len) != 0))
        return -1;
    hb->outstanding = 0;
    uint64_t d = now >= hb->ping_at ? now - hb->ping_at : 0;
    int rtt = d > 0x7fffffff ? 0x7fffffff : (int)d;
    hb->rtt_last = rtt;
    /* SRTT = 7/8 SRTT + 1/8 RTT (RFC 6298), rounded. */
    hb->rtt_srtt = hb->rtt_srtt < 0 ? rtt : (int)(((int64_t)hb->rtt_srtt * 7 + rtt + 4) / 8);
    return rtt;
}
