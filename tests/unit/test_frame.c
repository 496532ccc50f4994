/*
 * test_frame.c — unit tests for core/frame.c: header encoding at every
 * length boundary, strict parsing (minimal lengths, partial input) and
 * masking in pieces at any offset and alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/frame.h"

static const uint64_t lengths[] = {0,     1,     125,   126,     127,
                                   65535, 65536, 65537, 1000000, UINT64_C(0x7FFFFFFFFFFFFFFF)};

static size_t expected_header_len(uint64_t len, int masked)
{
    size_t n = len < 126 ? 2 : len <= 65535 ? 4 : 10;
    return n + (masked ? 4 : 0);
}

static void test_header_roundtrip(void **state)
{
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t i;
    int masked, fin, rsv, op;
    (void)state;
    for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        for (masked = 0; masked < 2; masked++) {
            for (fin = 0; fin < 2; fin++) {
                for (rsv = 0; rsv < 8; rsv++) {
                    for (op = 0; op < 16; op++) {
                        uint8_t buf[UNIWS__FRAME_MAX_HEADER + 1];
                        uniws__frame_hdr h;
                        memset(buf, 0xEE, sizeof buf);
                        size_t n = uniws__frame_header(buf, fin, rsv, op, lengths[i],
                                                       masked ? mask : NULL);
                        assert_int_equal(n, expected_header_len(lengths[i], masked));
                        assert_int_equal(buf[UNIWS__FRAME_MAX_HEADER], 0xEE);
                        memset(&h, 0xAB, sizeof h);
                        assert_int_equal(uniws__frame_parse(buf, n, &h), (int)n);
                        assert_int_equal(h.fin, fin);
                        assert_int_equal(h.rsv, rsv);
                        assert_int_equal(h.opcode, op);
                        assert_int_equal(h.masked, masked);
                        assert_true(h.len == lengths[i]);
                        assert_int_equal(h.header_len, n);
                        if (masked)
                            assert_memory_equal(h.mask, mask, 4);
                        /* Every shorter prefix asks for more bytes. */
                        for (size_t k = 0; k < n; k++)
                            assert_int_equal(uniws__frame_parse(buf, k, &h), 0);
                    }
                }
            }
        }
    }
}

/* Byte-exact encodings from RFC 6455 section 5.7 and the length forms. */
static void test_header_bytes(void **state)
{
    uint8_t b[UNIWS__FRAME_MAX_HEADER];
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    (void)state;

    /* A single-frame unmasked text message "Hello". */
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_TEXT, 5, NULL), 2);
    assert_memory_equal(b, "\x81\x05", 2);
    /* A single-frame masked text message "Hello". */
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_TEXT, 5, mask), 6);
    assert_memory_equal(b, "\x81\x85\x37\xfa\x21\x3d", 6);
    /* Fragmented: first frame not final, continuation final. */
    assert_int_equal(uniws__frame_header(b, 0, 0, UNIWS__OP_TEXT, 3, NULL), 2);
    assert_memory_equal(b, "\x01\x03", 2);
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_CONT, 2, NULL), 2);
    assert_memory_equal(b, "\x80\x02", 2);
    /* Ping / pong. */
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_PING, 5, NULL), 2);
    assert_memory_equal(b, "\x89\x05", 2);
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_PONG, 5, mask), 6);
    assert_memory_equal(b, "\x8a\x85\x37\xfa\x21\x3d", 6);
    /* 256 bytes binary: 16-bit length. */
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 256, NULL), 4);
    assert_memory_equal(b, "\x82\x7E\x01\x00", 4);
    /* 64 KiB binary: 64-bit length. */
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 65536, NULL), 10);
    assert_memory_equal(b, "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    /* Boundaries of each form. */
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 125, NULL), 2);
    assert_memory_equal(b, "\x82\x7D", 2);
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 126, NULL), 4);
    assert_memory_equal(b, "\x82\x7E\x00\x7E", 4);
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 127, NULL), 4);
    assert_memory_equal(b, "\x82\x7E\x00\x7F", 4);
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 65535, NULL), 4);
    assert_memory_equal(b, "\x82\x7E\xFF\xFF", 4);
    assert_int_equal(uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, 0, NULL), 2);
    assert_memory_equal(b, "\x82\x00", 2);
    /* RSV1 (permessage-deflate's bit). */
    assert_int_equal(uniws__frame_header(b, 1, 4, UNIWS__OP_TEXT, 0, NULL), 2);
    assert_memory_equal(b, "\xC1\x00", 2);
    /* Large 64-bit length, big-endian. */
    assert_int_equal(
        uniws__frame_header(b, 1, 0, UNIWS__OP_BINARY, UINT64_C(0x0102030405060708), mask), 14);
    assert_memory_equal(b, "\x82\xFF\x01\x02\x03\x04\x05\x06\x07\x08\x37\xfa\x21\x3d", 14);
}

static void test_parse_fields(void **state)
{
    uniws__frame_hdr h;
    (void)state;
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x81\x85\x37\xfa\x21\x3dHello", 11, &h),
                     6);
    assert_int_equal(h.fin, 1);
    assert_int_equal(h.rsv, 0);
    assert_int_equal(h.opcode, UNIWS__OP_TEXT);
    assert_int_equal(h.masked, 1);
    assert_memory_equal(h.mask, "\x37\xfa\x21\x3d", 4);
    assert_true(h.len == 5);

    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x72\x00", 2, &h), 2);
    assert_int_equal(h.fin, 0);
    assert_int_equal(h.rsv, 7);
    assert_int_equal(h.opcode, UNIWS__OP_BINARY);
    assert_int_equal(h.masked, 0);
    assert_true(h.len == 0);

    /* Reserved opcodes decode too; judging them is the caller's job. */
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x8B\x00", 2, &h), 2);
    assert_int_equal(h.opcode, 0xB);
}

static void test_parse_non_minimal(void **state)
{
    uniws__frame_hdr h;
    (void)state;
    /* 16-bit form holding a length that fits in 7 bits. */
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x82\x7E\x00\x00", 4, &h), -1);
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x82\x7E\x00\x7D", 4, &h), -1);
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x82\x7E\x00\x7E", 4, &h), 4);
    /* Malformed length is reported even before the mask bytes arrive. */
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x82\xFE\x00\x05", 4, &h), -1);
    /* 64-bit form holding a length that fits in 16 bits. */
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\x00\x00\x00\x00\x00\x00\xFF\xFF", 10, &h),
        -1);
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\x00\x00\x00\x00\x00\x00\x00\x00", 10, &h),
        -1);
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10, &h),
        10);
    assert_true(h.len == 65536);
    /* Most significant bit set. */
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\x80\x00\x00\x00\x00\x00\x00\x00", 10, &h),
        -1);
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10, &h),
        -1);
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10, &h),
        10);
    assert_true(h.len == UINT64_C(0x7FFFFFFFFFFFFFFF));
}

static void test_parse_partial(void **state)
{
    uniws__frame_hdr h;
    (void)state;
    assert_int_equal(uniws__frame_parse(NULL, 0, &h), 0);
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x81", 1, &h), 0);
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x81\x85\x37\xfa\x21", 5, &h), 0);
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x82\x7E\x01", 3, &h), 0);
    assert_int_equal(
        uniws__frame_parse((const uint8_t *)"\x82\x7F\x00\x00\x00\x00\x00\x01\x00", 9, &h), 0);
    /* Trailing payload bytes do not change the header length. */
    assert_int_equal(uniws__frame_parse((const uint8_t *)"\x82\x02xyz", 5, &h), 2);
}

/* Plain per-byte reference for masking. */
static void ref_mask(uint8_t *p, size_t n, const uint8_t m[4], uint64_t off)
{
    size_t i;
    for (i = 0; i < n; i++)
        p[i] ^= m[(off + i) % 4];
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    size_t i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void test_mask_rfc_example(void **state)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t p[5] = {'H', 'e', 'l', 'l', 'o'};
    (void)state;
    uniws__mask(p, 5, mask, 0);
    assert_memory_equal(p, "\x7f\x9f\x4d\x51\x58", 5);
    uniws__mask(p, 5, mask, 0);
    assert_memory_equal(p, "Hello", 5);
}

/* Masking in two pieces cut anywhere, with the buffer at every alignment,
 * equals masking at once and the per-byte reference. */
static void test_mask_split_points(void **state)
{
    static const size_t sizes[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 125, 126, 127, 200};
    static const uint8_t mask[4] = {0xA1, 0xB2, 0xC3, 0xD4};
    uint8_t src[256], want[256], buf[256 + 8];
    size_t si, cut, align;
    (void)state;
    for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        fill(src, n, (unsigned)n);
        memcpy(want, src, n);
        ref_mask(want, n, mask, 0);
        for (align = 0; align < 8; align++) {
            uint8_t *p = buf + align;
            for (cut = 0; cut <= n; cut++) {
                memcpy(p, src, n);
                uniws__mask(p, cut, mask, 0);
                uniws__mask(p + cut, n - cut, mask, cut);
                if (memcmp(p, want, n) != 0)
                    print_message("n=%zu align=%zu cut=%zu\n", n, align, cut);
                if (n)
                    assert_memory_equal(p, want, n);
            }
        }
    }
}

/* Every offset phase, including offsets beyond 32 bits. */
static void test_mask_offsets(void **state)
{
    static const uint8_t mask[4] = {1, 2, 4, 8};
    static const uint64_t offs[] = {
        0, 1, 2, 3, 4, 5, 6, 7, UINT64_C(0x100000001), UINT64_C(0xFFFFFFFFFFFFFFFF)};
    uint8_t a[100], b[100];
    size_t i, align;
    (void)state;
    for (i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        for (align = 0; align < 8; align++) {
            memset(a, 0, sizeof a);
            memset(b, 0, sizeof b);
            uniws__mask(a + align, sizeof a - align, mask, offs[i]);
            ref_mask(b + align, sizeof b - align, mask, offs[i]);
            assert_memory_equal(a, b, sizeof a);
            /* Starting at phase k, byte 0 must be mask[k]. */
            assert_int_equal(a[align], mask[offs[i] % 4]);
        }
    }
}

static void test_mask_copy(void **state)
{
    static const uint8_t mask[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    uint8_t src[300], want[300], dst[300 + 16];
    size_t n, sa, da;
    (void)state;
    fill(src, sizeof src, 7);
    for (n = 0; n < 40; n++) {
        for (sa = 0; sa < 8; sa++) {
            for (da = 0; da < 8; da++) {
                uint64_t off = n + sa;
                memcpy(want, src + sa, n);
                ref_mask(want, n, mask, off);
                memset(dst, 0x55, sizeof dst);
                uniws__mask_copy(dst + da, src + sa, n, mask, off);
                if (n)
                    assert_memory_equal(dst + da, want, n);
                /* Nothing written outside [da, da + n). */
                for (size_t k = 0; k < sizeof dst; k++)
                    if (k < da || k >= da + n)
                        assert_int_equal(dst[k], 0x55);
                /* The source is untouched. */
                uint8_t again[300];
                fill(again, sizeof again, 7);
                assert_memory_equal(src, again, sizeof src);
            }
        }
    }
    /* A big payload in chunks of odd sizes through mask_copy. */
    {
        size_t len = 100003, pos = 0, step = 1;
        uint8_t *in = malloc(len), *out = malloc(len), *ref = malloc(len);
        assert_non_null(in);
        assert_non_null(out);
        assert_non_null(ref);
        fill(in, len, 99);
        memcpy(ref, in, len);
        ref_mask(ref, len, mask, 0);
        while (pos < len) {
            size_t k = step < len - pos ? step : len - pos;
            uniws__mask_copy(out + pos, in + pos, k, mask, pos);
            pos += k;
            step = step * 3 + 1;
            if (step > 5000)
                step = 5;
        }
        assert_memory_equal(out, ref, len);
        free(in);
        free(out);
        free(ref);
    }
}

/* The wide paths (from 128 bytes: a byte-wise head up to dst's 32-byte
 * alignment, 128-byte AVX2 steps where the CPU has them, 64-byte vector
 * steps, words, a byte-wise tail): every length 0..600 crosses every
 * boundary between them, at every dst alignment within 32 bytes, several
 * src alignments (src and dst apart), every mask phase and an offset past
 * 32 bits, in place and copying; compared with the byte-wise reference,
 * with guard bytes on both sides of dst. */
static void test_mask_wide(void **state)
{
    enum { MAXN = 600, PAD = 64 };
    static const uint8_t mask[4] = {0x5A, 0xC3, 0x0F, 0x96};
    static const size_t src_align[] = {0, 1, 3, 7, 8, 13, 31, 32, 45};
    static const uint64_t offs[] = {0, 1, 2, 3, UINT64_C(0x100000002)};
    uint8_t *src = malloc(MAXN + PAD), *want = malloc(MAXN), *dst = malloc(MAXN + 2 * PAD);
    (void)state;
    assert_non_null(src);
    assert_non_null(want);
    assert_non_null(dst);
    /* dst's own alignment: the buffer's start rounded up to 32 bytes. */
    uint8_t *dbase = dst + ((32 - ((uintptr_t)dst & 31)) & 31);
    fill(src, MAXN + PAD, 1234);
    for (size_t n = 0; n <= MAXN; n++) {
        for (size_t oi = 0; oi < sizeof offs / sizeof offs[0]; oi++) {
            for (size_t si = 0; si < sizeof src_align / sizeof src_align[0]; si++) {
                const uint8_t *sp = src + src_align[si];
                memcpy(want, sp, n);
                ref_mask(want, n, mask, offs[oi]);
                for (size_t da = 0; da < 32; da++) {
                    memset(dst, 0xE7, MAXN + 2 * PAD);
                    uint8_t *dp = dbase + da;
                    uniws__mask_copy(dp, sp, n, mask, offs[oi]);
                    if (n && memcmp(dp, want, n) != 0)
                        print_message("copy n=%zu off=%zu sa=%zu da=%zu\n", n, oi, src_align[si],
                                      da);
                    if (n)
                        assert_memory_equal(dp, want, n);
                    for (uint8_t *q = dst; q < dst + MAXN + 2 * PAD; q++)
                        if (q < dp || q >= dp + n)
                            assert_int_equal(*q, 0xE7);
                    if (si == 0) {
                        /* In place, at this alignment. */
                        memcpy(dp, sp, n);
                        uniws__mask(dp, n, mask, offs[oi]);
                        if (n)
                            assert_memory_equal(dp, want, n);
                    }
                }
            }
        }
    }
    free(src);
    free(want);
    free(dst);
}

/* A whole frame: encode header, mask payload, parse back and unmask. */
static void test_frame_roundtrip(void **state)
{
    static const uint64_t sizes[] = {0, 125, 126, 127, 65535, 65536};
    static const uint8_t mask[4] = {9, 8, 7, 6};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = (size_t)sizes[i];
        uint8_t *frame = malloc(UNIWS__FRAME_MAX_HEADER + n + 1);
        uint8_t *payload = malloc(n + 1);
        uniws__frame_hdr h;
        assert_non_null(frame);
        assert_non_null(payload);
        fill(payload, n, (unsigned)i);
        size_t hl = uniws__frame_header(frame, 1, 0, UNIWS__OP_BINARY, n, mask);
        uniws__mask_copy(frame + hl, payload, n, mask, 0);
        assert_int_equal(uniws__frame_parse(frame, hl + n, &h), (int)hl);
        assert_true(h.len == n);
        uniws__mask(frame + hl, n, h.mask, 0);
        if (n)
            assert_memory_equal(frame + hl, payload, n);
        free(frame);
        free(payload);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_roundtrip),  cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_parse_fields),      cmocka_unit_test(test_parse_non_minimal),
        cmocka_unit_test(test_parse_partial),     cmocka_unit_test(test_mask_rfc_example),
        cmocka_unit_test(test_mask_split_points), cmocka_unit_test(test_mask_offsets),
        cmocka_unit_test(test_mask_copy),         cmocka_unit_test(test_mask_wide),
        cmocka_unit_test(test_frame_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
