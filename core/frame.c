/*
 * frame.c — RFC 6455 frame header codec and payload masking. Pure functions
 * over caller-owned buffers so the client engine and the test peer share one
 * definition of the wire format.
 */
#include "core/frame.h"

#include <string.h>

int uniws__frame_parse(const uint8_t *buf, size_t n, uniws__frame_hdr *h)
{
    size_t need = 2;
    uint64_t len;
    int i;

    if (n < 2)
        return 0;
    len = buf[1] & 0x7F;
    if (len == 126) {
        need += 2;
        if (n < need)
            return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        /* RFC 6455 5.2: the minimal number of bytes MUST be used. */
        if (len < 126)
            return -1;
    } else if (len == 127) {
        need += 8;
        if (n < need)
            return 0;
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        if ((len >> 63) != 0 || len < 65536)
            return -1;
    }
    if (buf[1] & 0x80)
        need += 4;
    if (n < need)
        return 0;

    h->fin = (buf[0] >> 7) & 1;
    h->rsv = (buf[0] >> 4) & 7;
    h->opcode = buf[0] & 0x0F;
    h->masked = (buf[1] >> 7) & 1;
    if (h->masked)
        memcpy(h->mask, buf + need - 4, 4);
    else
        memset(h->mask, 0, 4);
    h->len = len;
    h->header_len = need;
    return (int)need;
}

size_t uniws__frame_header(uint8_t *out, int fin, int rsv, int opcode, uint64_t len,
                           const uint8_t *mask)
{
    size_t n = 2;
    int i;

    out[0] = (uint8_t)((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F));
    out[1] = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] |= (uint8_t)len;
    } else if (len <= 0xFFFF) {
        out[1] |= 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] |= 127;
        for (i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

/* The mask repeated over eight bytes, rotated so byte 0 of the word lines up
 * with payload position `offset`. */
static uint64_t mask_word(const uint8_t mask[4], uint64_t offset)
{
    uint8_t k[8];
    uint64_t w;
    int i;
    for (i = 0; i < 8; i++)
        k[i] = mask[(offset + (uint64_t)i) & 3];
    memcpy(&w, k, 8);
    return w;
}

void uniws__mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    uniws__mask_copy(p, p, n, mask, offset);
}

#if defined(__GNUC__) || defined(__clang__)
/* Four mask words at a time: GCC and Clang lower this to SSE2 / NEON / wasm
 * SIMD where the target has it and to plain words elsewhere. */
typedef uint64_t mask_vec __attribute__((vector_size(32)));
#define UNIWS__MASK_VEC 1
#endif

void uniws__mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                      uint64_t offset)
{
    size_t i = 0;

    /* memcpy keeps the unaligned loads and stores well-defined; compilers turn
     * each into one (unaligned) vector or word move. i only ever advances in
     * multiples of 8 here, so one rotated key fits every word. */
    if (n >= 8) {
        uint64_t key = mask_word(mask, offset);
#ifdef UNIWS__MASK_VEC
        if (n >= 32) {
            mask_vec kv = {key, key, key, key};
            for (; n - i >= 32; i += 32) {
                mask_vec w;
                memcpy(&w, src + i, 32);
                w ^= kv;
                memcpy(dst + i, &w, 32);
            }
        }
#endif
        for (; n - i >= 8; i += 8) {
            uint64_t w;
            memcpy(&w, src + i, 8);
            w ^= key;
            memcpy(dst + i, &w, 8);
        }
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ mask[(offset + i) & 3];
}
