/*
 * fuzz_frame.c — the frame codec (core/frame.h). The first byte picks what to
 * shake: decoding arbitrary bytes (checked against a reference decoder here,
 * then re-encoded byte for byte), encoding arbitrary header fields (decoded
 * back to the same fields, minimal length form), or masking at arbitrary
 * payload offsets, lengths and buffer alignments (against byte-wise XOR,
 * whole and in two pieces, in place and copying).
 */
#include <string.h>

#include "core/frame.h"
#include "fuzz/fuzz.h"

/* What uniws__frame_parse must return for buf[0..n), from RFC 6455 5.2. */
static int ref_parse(const uint8_t *b, size_t n, uint64_t *len_out)
{
    if (n < 2)
        return 0;
    size_t ext = (b[1] & 0x7F) == 126 ? 2 : (b[1] & 0x7F) == 127 ? 8 : 0;
    if (n < 2 + ext)
        return 0;
    uint64_t len = b[1] & 0x7F;
    if (ext) {
        len = 0;
        for (size_t i = 0; i < ext; i++)
            len = len << 8 | b[2 + i];
        if (ext == 2 && len < 126)
            return -1;
        if (ext == 8 && (len >> 63 || len <= 0xFFFF))
            return -1;
    }
    size_t need = 2 + ext + (b[1] & 0x80 ? 4 : 0);
    if (n < need)
        return 0;
    *len_out = len;
    return (int)need;
}

static void fuzz_decode(const uint8_t *b, size_t n)
{
    uniws__frame_hdr h;
    uint64_t len = 0;
    int want = ref_parse(b, n, &len);
    int r = uniws__frame_parse(b, n, &h);
    FUZZ_CHECK(r == want);
    FUZZ_CHECK(r != 0 || n < UNIWS__FRAME_MAX_HEADER);
    if (r <= 0)
        return;
    FUZZ_CHECK(r <= UNIWS__FRAME_MAX_HEADER);
    FUZZ_CHECK(h.header_len == (size_t)r);
    FUZZ_CHECK(h.fin == (b[0] >> 7));
    FUZZ_CHECK(h.rsv == ((b[0] >> 4) & 7));
    FUZZ_CHECK(h.opcode == (b[0] & 15));
    FUZZ_CHECK(h.masked == (b[1] >> 7));
    FUZZ_CHECK(h.len == len);
    if (h.masked)
        FUZZ_CHECK(memcmp(h.mask, b + r - 4, 4) == 0);

    /* A header the decoder accepts is in minimal form, so encoding its fields
     * gives the same bytes back. */
    uint8_t out[UNIWS__FRAME_MAX_HEADER + 8];
    memset(out, 0xA5, sizeof out);
    size_t m = uniws__frame_header(out, h.fin, h.rsv, h.opcode, h.len, h.masked ? h.mask : NULL);
    FUZZ_CHECK(m == (size_t)r);
    FUZZ_CHECK(memcmp(out, b, m) == 0);
    FUZZ_CHECK(out[m] == 0xA5); /* nothing written past the header */

    /* Any shorter prefix asks for more bytes. */
    for (size_t k = 0; k < (size_t)r; k++)
        FUZZ_CHECK(uniws__frame_parse(b, k, &h) == 0);
}

static void fuzz_encode(fuzz_in *in)
{
    uint8_t f = fuzz_u8(in);
    int fin = f & 1, rsv = (f >> 1) & 7, opcode = f >> 4, masked = fuzz_u8(in) & 1;
    uint8_t mask[4] = {fuzz_u8(in), fuzz_u8(in), fuzz_u8(in), fuzz_u8(in)};
    uint64_t len = fuzz_u64(in);
    switch (fuzz_u8(in) & 7) { /* land near every length-form boundary */
    case 0:
        len %= 130;
        break;
    case 1:
        len = 0xFFFF - 8 + len % 16;
        break;
    case 2:
        len %= 0x20000;
        break;
    case 3:
        len = (UINT64_C(1) << 63) - 8 + len % 16; /* top bit set: must not decode */
        break;
    default:
        break;
    }

    uint8_t out[UNIWS__FRAME_MAX_HEADER + 8];
    memset(out, 0x5A, sizeof out);
    size_t n = uniws__frame_header(out, fin, rsv, opcode, len, masked ? mask : NULL);
    size_t expect = 2 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
    FUZZ_CHECK(n == expect);
    FUZZ_CHECK(out[n] == 0x5A);

    uniws__frame_hdr h;
    int r = uniws__frame_parse(out, n, &h);
    if (len >> 63) {
        FUZZ_CHECK(r == -1); /* not representable on the wire */
        return;
    }
    FUZZ_CHECK(r == (int)n);
    FUZZ_CHECK(h.fin == fin && h.rsv == rsv && h.opcode == opcode && h.masked == masked);
    FUZZ_CHECK(h.len == len);
    FUZZ_CHECK(h.header_len == n);
    if (masked)
        FUZZ_CHECK(memcmp(h.mask, mask, 4) == 0);
    for (size_t k = 0; k < n; k++)
        FUZZ_CHECK(uniws__frame_parse(out, k, &h) == 0);
}

static void fuzz_mask(fuzz_in *in)
{
    uint8_t mask[4] = {fuzz_u8(in), fuzz_u8(in), fuzz_u8(in), fuzz_u8(in)};
    uint64_t offset = fuzz_u64(in);
    if (fuzz_u8(in) & 1)
        offset &= 0xFF; /* small offsets are the common case */
    size_t align = fuzz_u8(in) & 31, align2 = fuzz_u8(in) & 31;
    size_t split = fuzz_u16(in);
    const uint8_t *src;
    size_t n = fuzz_bytes(in, in->n, &src);
    split = n ? split % (n + 1) : 0;

    /* 64 guard bytes on each side catch writes outside [p, p + n). */
    uint8_t *a = malloc(n + 128), *b = malloc(n + 128), *ref = malloc(n ? n : 1);
    if (!a || !b || !ref) {
        free(a);
        free(b);
        free(ref);
        return;
    }
    for (size_t i = 0; i < n; i++)
        ref[i] = src[i] ^ mask[(offset + i) & 3];

    /* in place, one call */
    memset(a, 0xEE, n + 128);
    uint8_t *pa = a + 32 + align;
    memcpy(pa, src, n);
    uniws__mask(pa, n, mask, offset);
    FUZZ_CHECK(memcmp(pa, ref, n) == 0);
    for (size_t i = 0; i < 32 + align; i++)
        FUZZ_CHECK(a[i] == 0xEE);
    for (size_t i = 32 + align + n; i < n + 128; i++)
        FUZZ_CHECK(a[i] == 0xEE);

    /* masking twice gives the original back */
    uniws__mask(pa, n, mask, offset);
    FUZZ_CHECK(memcmp(pa, src, n) == 0);

    /* in place, in two pieces: the offset carries the mask phase */
    uniws__mask(pa, split, mask, offset);
    uniws__mask(pa + split, n - split, mask, offset + split);
    FUZZ_CHECK(memcmp(pa, ref, n) == 0);

    /* copying, at a different alignment, source untouched */
    memset(b, 0xEE, n + 128);
    uint8_t *pb = b + 32 + align2;
    memcpy(pa, src, n);
    uniws__mask_copy(pb, pa, split, mask, offset);
    uniws__mask_copy(pb + split, pa + split, n - split, mask, offset + split);
    FUZZ_CHECK(memcmp(pb, ref, n) == 0);
    FUZZ_CHECK(memcmp(pa, src, n) == 0);
    for (size_t i = 0; i < 32 + align2; i++)
        FUZZ_CHECK(b[i] == 0xEE);
    for (size_t i = 32 + align2 + n; i < n + 128; i++)
        FUZZ_CHECK(b[i] == 0xEE);

    free(a);
    free(b);
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    switch (fuzz_u8(&in) % 3) {
    case 0:
        fuzz_decode(in.p, in.n);
        break;
    case 1:
        fuzz_encode(&in);
        break;
    default:
        fuzz_mask(&in);
        break;
    }
    return 0;
}
