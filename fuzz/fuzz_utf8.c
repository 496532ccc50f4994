/*
 * fuzz_utf8.c — the incremental UTF-8 validator (core/utf8.h) against a
 * reference decoder written here from RFC 3629 (code point arithmetic, no
 * state machine), and against itself: whole-buffer validation, byte-by-byte
 * feeding, every split point and random multi-way splits must all agree,
 * including on *where* the input stops being a possible prefix (the
 * validator must fail fast, RFC 6455 8.1).
 */
#include <string.h>

#include "core/utf8.h"
#include "fuzz/fuzz.h"

/* 1 when some code point that is valid for an `len`-byte sequence starts
 * with the bits seen so far: cp holds the lead's payload and `have`
 * continuation bytes. */
static int ref_completable(uint32_t cp, int have, int len)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    static const uint32_t max_cp[5] = {0, 0, 0x7FF, 0xFFFF, 0x10FFFF};
    int rem = len - 1 - have;
    uint32_t lo = cp << (6 * rem), hi = lo | ((UINT32_C(1) << (6 * rem)) - 1);
    if (lo < min_cp[len])
        lo = min_cp[len];
    if (hi > max_cp[len])
        hi = max_cp[len];
    /* Empty: overlong, or above U+10FFFF, whatever follows. */
    if (lo > hi)
        return 0;
    /* Nothing but surrogates left. */
    return !(lo >= 0xD800 && hi <= 0xDFFF);
}

/* The reference. *bad: the smallest k such that p[0..k) is no prefix of any
 * valid UTF-8 text (n + 1 when there is none); boundary[k] (n + 1 entries,
 * zeroed by the caller): p[0..k) is complete, valid UTF-8. Returns
 * boundary[n]. */
static int ref_scan(const uint8_t *p, size_t n, size_t *bad, uint8_t *boundary)
{
    size_t i = 0;
    *bad = n + 1;
    while (i < n) {
        uint8_t b = p[i];
        boundary[i] = 1;
        int len;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07;
        } else {
            *bad = i + 1; /* a stray continuation byte, or F8..FF */
            return 0;
        }
        if (!ref_completable(cp, 0, len)) {
            *bad = i + 1;
            return 0;
        }
        for (int k = 1; k < len; k++) {
            if (i + (size_t)k >= n)
                return 0; /* a possible prefix, cut short */
            uint8_t c = p[i + (size_t)k];
            if ((c & 0xC0) != 0x80) {
                *bad = i + (size_t)k + 1;
                return 0;
            }
            cp = cp << 6 | (c & 0x3F);
            if (!ref_completable(cp, k, len)) {
                *bad = i + (size_t)k + 1;
                return 0;
            }
        }
        i += (size_t)len;
    }
    boundary[n] = 1;
    return 1;
}

/* Turns the input into text more likely to be interesting than raw bytes:
 * mode 2 encodes 21-bit numbers the UTF-8 way (valid or not: surrogates and
 * values past U+10FFFF come out too), mode 3 is mostly ASCII so the
 * validator's 8-bytes-at-a-time path runs at every alignment. */
static size_t shape(fuzz_in *in, uint8_t mode, uint8_t *out)
{
    size_t n = 0;
    if (mode == 2) {
        while (in->n) {
            uint32_t v = (uint32_t)fuzz_u8(in) << 16;
            v |= (uint32_t)fuzz_u16(in);
            if (v & 0x800000) {
                out[n++] = (uint8_t)(v & 0x7F); /* some ASCII in between */
                continue;
            }
            v &= 0x1FFFFF;
            if (v < 0x80) {
                out[n++] = (uint8_t)v;
            } else if (v < 0x800) {
                out[n++] = (uint8_t)(0xC0 | v >> 6);
                out[n++] = (uint8_t)(0x80 | (v & 0x3F));
            } else if (v < 0x10000) {
                out[n++] = (uint8_t)(0xE0 | v >> 12);
                out[n++] = (uint8_t)(0x80 | ((v >> 6) & 0x3F));
                out[n++] = (uint8_t)(0x80 | (v & 0x3F));
            } else {
                out[n++] = (uint8_t)(0xF0 | v >> 18);
                out[n++] = (uint8_t)(0x80 | ((v >> 12) & 0x3F));
                out[n++] = (uint8_t)(0x80 | ((v >> 6) & 0x3F));
                out[n++] = (uint8_t)(0x80 | (v & 0x3F));
            }
        }
        return n;
    }
    while (in->n) {
        uint8_t b = fuzz_u8(in);
        out[n++] = mode == 3 && b < 0xF0 ? (uint8_t)(b & 0x7F) : b;
    }
    return n;
}

static void check_split(const uint8_t *p, size_t n, size_t k, size_t bad, int complete)
{
    uniws__utf8 v = UNIWS__UTF8_INIT;
    int r1 = uniws__utf8_feed(&v, p, k);
    FUZZ_CHECK((r1 < 0) == (bad <= k));
    int r2 = uniws__utf8_feed(&v, p + k, n - k);
    FUZZ_CHECK((r2 < 0) == (bad <= n));
    FUZZ_CHECK(uniws__utf8_done(&v) == complete);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t mode = fuzz_u8(&in) & 3;
    uint32_t rng = fuzz_u32(&in);
    /* mode 2 writes at most 4 bytes per 3 read, rounded up */
    uint8_t *p = malloc(size * 2 + 8), *boundary = calloc(size * 2 + 9, 1);
    if (!p || !boundary) {
        free(p);
        free(boundary);
        return 0;
    }
    size_t n = shape(&in, mode, p);

    size_t bad;
    int complete = ref_scan(p, n, &bad, boundary);
    FUZZ_CHECK(uniws__utf8_valid(p, n) == complete);

    /* one call */
    uniws__utf8 v = UNIWS__UTF8_INIT;
    FUZZ_CHECK((uniws__utf8_feed(&v, p, n) < 0) == (bad <= n));
    FUZZ_CHECK(uniws__utf8_done(&v) == complete);

    /* byte by byte: fails exactly at the first impossible prefix */
    v = (uniws__utf8)UNIWS__UTF8_INIT;
    for (size_t i = 0; i < n; i++) {
        int r = uniws__utf8_feed(&v, p + i, 1);
        FUZZ_CHECK((r < 0) == (bad <= i + 1));
        FUZZ_CHECK(uniws__utf8_done(&v) == boundary[i + 1]);
    }
    /* once rejected, always rejected */
    if (bad <= n) {
        FUZZ_CHECK(uniws__utf8_feed(&v, "a", 1) < 0);
        FUZZ_CHECK(uniws__utf8_feed(&v, "", 0) < 0);
        FUZZ_CHECK(!uniws__utf8_done(&v));
    }

    /* every split point (a sample of them on long inputs: the check is O(n^2)) */
    if (n <= 512) {
        for (size_t k = 0; k <= n; k++)
            check_split(p, n, k, bad, complete);
    } else {
        for (int i = 0; i < 64; i++)
            check_split(p, n, fuzz_rand(&rng) % (n + 1), bad, complete);
    }

    /* random multi-way splits, empty pieces included */
    for (int round = 0; round < 4; round++) {
        v = (uniws__utf8)UNIWS__UTF8_INIT;
        size_t at = 0;
        while (at < n) {
            size_t k = fuzz_rand(&rng) % (n - at < 40 ? n - at + 1 : 41);
            int r = uniws__utf8_feed(&v, p + at, k);
            at += k;
            FUZZ_CHECK((r < 0) == (bad <= at));
        }
        FUZZ_CHECK(uniws__utf8_done(&v) == complete);
    }

    free(p);
    free(boundary);
    return 0;
}
