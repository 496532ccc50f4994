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
/* One masking loop per vector width W: four vectors of W bytes per step, the
 * key broadcast to every 8-byte lane. memcpy keeps the unaligned loads and
 * stores well-defined; compilers turn each into one vector move. */
#define MASK_RUN(name, vec, W, attr)                                                               \
    attr static size_t name(uint8_t *dst, const uint8_t *src, size_t n, uint64_t key)              \
    {                                                                                              \
        vec kv = (vec){0} + key;                                                                   \
        size_t i = 0;                                                                              \
        for (; n - i >= 4 * (W); i += 4 * (W)) {                                                   \
            vec a, b, c, d;                                                                        \
            memcpy(&a, src + i, W);                                                                \
            memcpy(&b, src + i + (W), W);                                                          \
            memcpy(&c, src + i + 2 * (W), W);                                                      \
            memcpy(&d, src + i + 3 * (W), W);                                                      \
            a ^= kv;                                                                               \
            b ^= kv;                                                                               \
            c ^= kv;                                                                               \
            d ^= kv;                                                                               \
            memcpy(dst + i, &a, W);                                                                \
            memcpy(dst + i + (W), &b, W);                                                          \
            memcpy(dst + i + 2 * (W), &c, W);                                                      \
            memcpy(dst + i + 3 * (W), &d, W);                                                      \
        }                                                                                          \
        return i;                                                                                  \
    }

/* 16-byte vectors: GCC and Clang lower them to SSE2, NEON or wasm SIMD where
 * the target has them and to plain words elsewhere. (Wider vector types
 * without the matching instruction set are split through the stack, which
 * made the old 32-byte version a third slower than memcpy.) */
typedef uint64_t mask_v16 __attribute__((vector_size(16)));
MASK_RUN(mask_run16, mask_v16, 16, )

#if !defined(_WIN32) && (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX2__) &&        \
    (defined(__clang__) || __GNUC__ >= 5)
/* x86 built for a baseline without AVX2: a 32-byte version for the CPUs that
 * have it, picked at run time (not on Windows: MSVC has neither the vector
 * extension nor __builtin_cpu_supports, and MinGW builds keep to what MSVC
 * compiles, docs/platforms.md). */
#define MASK_AVX2_RUNTIME 1
typedef uint64_t mask_v32 __attribute__((vector_size(32)));
MASK_RUN(mask_run32, mask_v32, 32, __attribute__((target("avx2"))))

static int have_avx2(void)
{
    /* A load and a bit test: the compiler's runtime fills its CPU model in
     * a constructor before main(). */
    return __builtin_cpu_supports("avx2");
}
#endif
#endif

/* Below this, the word loop alone: aligning and a vector loop cost more than
 * they save. */
#define MASK_WIDE_MIN 128

void uniws__mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                      uint64_t offset)
{
    size_t i = 0;

    /* memcpy keeps the unaligned loads and stores well-defined; compilers turn
     * each into one (unaligned) vector or word move. Every run starts from a
     * key rotated for its own payload offset. */
#if defined(__GNUC__) || defined(__clang__)
    if (n >= MASK_WIDE_MIN) {
        /* Bytes one at a time until dst is 32-byte aligned, so no vector
         * store straddles two cache lines. */
        size_t head = (size_t)(-(uintptr_t)dst & 31);
        for (; i < head; i++)
            dst[i] = src[i] ^ mask[(offset + i) & 3];
        uint64_t key = mask_word(mask, offset + i);
#ifdef MASK_AVX2_RUNTIME
        if (have_avx2())
            i += mask_run32(dst + i, src + i, n - i, key);
#endif
        i += mask_run16(dst + i, src + i, n - i, key);
    }
#endif
    if (n - i >= 8) {
        uint64_t key = mask_word(mask, offset + i);
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
