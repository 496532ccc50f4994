/*
 * fuzz.h — what every fuzz target shares: the libFuzzer entry point's
 * prototype, a check that aborts even under NDEBUG (so both libFuzzer and
 * fuzz/driver.c see a failed property as a crash), and a reader that splits
 * one fuzz input into the numbers and byte runs a target needs.
 */
#ifndef UNIWS_FUZZ_FUZZ_H
#define UNIWS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* assert() vanishes in release builds; a fuzz property must never. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #cond);       \
            fflush(stderr);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads an input front to back; past the end every read yields zeros, so a
 * target never has to reject short inputs. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

static inline uint64_t fuzz_u64(fuzz_in *in)
{
    uint64_t hi = fuzz_u32(in);
    return hi << 32 | fuzz_u32(in);
}

/* Up to want bytes (fewer near the end); returns how many. */
static inline size_t fuzz_bytes(fuzz_in *in, size_t want, const uint8_t **out)
{
    size_t k = want < in->n ? want : in->n;
    *out = in->p;
    in->p += k;
    in->n -= k;
    return k;
}

/* A small deterministic generator for choices derived from the input (split
 * points and the like), so they do not eat input bytes one by one. */
static inline uint32_t fuzz_rand(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
