/*
 * utf8.h — strict, incremental UTF-8 validation (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), usable across fragment boundaries.
 */
#ifndef UNIWS_CORE_UTF8_H
#define UNIWS_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

typedef struct uniws__utf8 {
    uint32_t state; /* 0: at a character boundary */
} uniws__utf8;

#define UNIWS__UTF8_INIT                                                                           \
    {                                                                                              \
        0                                                                                          \
    }

/* Feeds n bytes. Returns 0 while the input can still be valid, -1 once it
 * cannot (the state then stays rejected). */
int uniws__utf8_feed(uniws__utf8 *v, const void *data, size_t n);
/* 1 when everything fed so far is valid and ends on a character boundary. */
int uniws__utf8_done(const uniws__utf8 *v);
/* 1 when data[0..n) is complete, valid UTF-8. */
int uniws__utf8_valid(const void *data, size_t n);

#endif
