/*
 * reconnect.c — the reconnect policy's decisions (see reconnect.h): which
 * endings qualify, exponential backoff with seeded jitter, giving up.
 */
#include "core/reconnect.h"

int uniws__rc_enabled(const uniws_reconnect *o)
{
    return o->max_attempts != 0;
}

int uniws__rc_check(const uniws_reconnect *o)
{
    if (o->max_attempts < -1 || o->initial_delay_ms < 0 || o->max_delay_ms < 0)
        return UNIWS_EINVAL;
    if (o->multiplier != 0 && !(o->multiplier >= 1 && o->multiplier <= 1000))
        return UNIWS_EINVAL;
    if (!(o->jitter >= 0 && o->jitter <= 1))
        return UNIWS_EINVAL;
    if (o->initial_delay_ms && o->max_delay_ms && o->initial_delay_ms > o->max_delay_ms)
        return UNIWS_EINVAL;
    unsigned all =
        UNIWS_RECONNECT_ON_FAILURE | UNIWS_RECONNECT_ON_ABNORMAL | UNIWS_RECONNECT_ON_SERVER_CLOSE;
    if (o->on & ~all)
        return UNIWS_EINVAL;
    return 0;
}

void uniws__rc_init(uniws__rc *rc, const uniws_reconnect *o, uint64_t seed)
{
    rc->p = *o;
    if (!rc->p.initial_delay_ms)
        rc->p.initial_delay_ms = UNIWS__RC_INITIAL_MS;
    if (!rc->p.max_delay_ms)
        rc->p.max_delay_ms =
            rc->p.initial_delay_ms > UNIWS__RC_MAX_MS ? rc->p.initial_delay_ms : UNIWS__RC_MAX_MS;
    if (rc->p.multiplier == 0)
        rc->p.multiplier = UNIWS__RC_MULT;
    if (!rc->p.on)
        rc->p.on = UNIWS_RECONNECT_ON_FAILURE | UNIWS_RECONNECT_ON_ABNORMAL |
                   UNIWS_RECONNECT_ON_SERVER_CLOSE;
    rc->attempt = 0;
    rc->rng = o->seed ? o->seed : seed;
}

int uniws__rc_qualifies(const uniws__rc *rc, int opened, int code, int clean, int cause,
                        int http_status)
{
    if (!uniws__rc_enabled(&rc->p))
        return 0;
    if (clean)
        return (rc->p.on & UNIWS_RECONNECT_ON_SERVER_CLOSE) &&
               (code == 1001 || (code >= 1011 && code <= 1014));
    if (opened)
        return (rc->p.on & UNIWS_RECONNECT_ON_ABNORMAL) != 0 && cause != UNIWS_ECLOSED;
    if (!(rc->p.on & UNIWS_RECONNECT_ON_FAILURE))
        return 0;
    switch (cause) {
    case UNIWS_EDNS:
    case UNIWS_EREFUSED:
    case UNIWS_ETIMEOUT:
    case UNIWS_ERESET:
    case UNIWS_EIO:
    case UNIWS_EPROXY:
        return 1;
    case UNIWS_EHANDSHAKE:
        /* A 4xx will not change by asking again; the web hides the status. */
        return http_status == 0 || http_status >= 500;
    default:
        return 0;
    }
}

/* splitmix64: small, seedable, good enough for spreading delays. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int uniws__rc_next(uniws__rc *rc, int *delay_ms)
{
    if (rc->p.max_attempts >= 0 && rc->attempt >= rc->p.max_attempts)
        return 0;
    rc->attempt++;
    /* No libm: multiply until the cap is reached. */
    double d = rc->p.initial_delay_ms;
    for (int i = 1; i < rc->attempt && d < rc->p.max_delay_ms; i++)
        d *= rc->p.multiplier;
    if (d > rc->p.max_delay_ms)
        d = rc->p.max_delay_ms;
    if (rc->p.jitter > 0) {
        double u = (double)(next_u64(&rc->rng) >> 11) / 9007199254740992.0; /* [0,1) */
        d -= rc->p.jitter * d * u;
    }
    *delay_ms = (int)(d + 0.5);
    return 1;
}

void uniws__rc_opened(uniws__rc *rc)
{
    rc->attempt = 0;
}
