/*
 * utf8.c — strict incremental UTF-8 validation as a small DFA. The state
 * carries what the next continuation byte must look like, so a message may be
 * checked frame by frame (RFC 6455 asks to fail fast on invalid text).
 */
#include "core/utf8.h"

#include <string.h>

/* States. Each "need" state names the range its next byte must fall in; the
 * narrow ranges after E0/ED/F0/F4 are what exclude overlongs, surrogates and
 * code points above U+10FFFF. */
enum {
    S_ACCEPT = 0,
    S_REJECT,
    S_TAIL1, /* one more 80..BF */
    S_TAIL2, /* two more 80..BF */
    S_TAIL3, /* three more 80..BF */
    S_E0,    /* A0..BF, then one more */
    S_ED,    /* 80..9F, then one more */
    S_F0,    /* 90..BF, then two more */
    S_F4     /* 80..8F, then two more */
};

static uint32_t step(uint32_t s, unsigned c)
{
    switch (s) {
    case S_ACCEPT:
        if (c < 0x80)
            return S_ACCEPT;
        if (c < 0xC2)
            return S_REJECT; /* stray continuation, or overlong C0/C1 lead */
        if (c < 0xE0)
            return S_TAIL1;
        if (c == 0xE0)
            return S_E0;
        if (c == 0xED)
            return S_ED;
        if (c < 0xF0)
            return S_TAIL2;
        if (c == 0xF0)
            return S_F0;
        if (c < 0xF4)
            return S_TAIL3;
        if (c == 0xF4)
            return S_F4;
        return S_REJECT;
    case S_TAIL1:
        return (c >= 0x80 && c <= 0xBF) ? S_ACCEPT : S_REJECT;
    case S_TAIL2:
        return (c >= 0x80 && c <= 0xBF) ? S_TAIL1 : S_REJECT;
    case S_TAIL3:
        return (c >= 0x80 && c <= 0xBF) ? S_TAIL2 : S_REJECT;
    case S_E0:
        return (c >= 0xA0 && c <= 0xBF) ? S_TAIL1 : S_REJECT;
    case S_ED:
        return (c >= 0x80 && c <= 0x9F) ? S_TAIL1 : S_REJECT;
    case S_F0:
        return (c >= 0x90 && c <= 0xBF) ? S_TAIL2 : S_REJECT;
    case S_F4:
        return (c >= 0x80 && c <= 0x8F) ? S_TAIL2 : S_REJECT;
    default:
        return S_REJECT;
    }
}

int uniws__utf8_feed(uniws__utf8 *v, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t s = v->state;
    size_t i = 0;

    while (i < n) {
        if (s == S_REJECT)
            break;
        /* Text is mostly ASCII: skip it eight bytes at a time. */
        if (s == S_ACCEPT) {
            while (n - i >= 8) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                i += 8;
            }
            if (i == n)
                break;
        }
        s = step(s, p[i++]);
    }
    v->state = s;
    return s == S_REJECT ? -1 : 0;
}

int uniws__utf8_done(const uniws__utf8 *v)
{
    return v->state == S_ACCEPT;
}

int uniws__utf8_valid(const void *data, size_t n)
{
    uniws__utf8 v = UNIWS__UTF8_INIT;
    return uniws__utf8_feed(&v, data, n) == 0 && uniws__utf8_done(&v);
}
