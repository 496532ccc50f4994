/*
 * test_handshake.c — unit tests for core/handshake.c: SHA-1 against published
 * vectors (and every padding boundary), base64 against RFC 4648, and the
 * Sec-WebSocket-Accept example from RFC 6455 section 1.3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/handshake.h"

static void hex(const uint8_t d[20], char out[41])
{
    int i;
    for (i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check_sha1(const void *data, size_t n, const char *want)
{
    uint8_t d[20];
    char h[41];
    uniws__sha1(data, n, d);
    hex(d, h);
    assert_string_equal(h, want);
}

static void test_sha1_vectors(void **state)
{
    (void)state;
    /* FIPS 180 examples. */
    check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
               "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    check_sha1("The quick brown fox jumps over the lazy dog", 43,
               "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

static void test_sha1_million_a(void **state)
{
    size_t n = 1000000;
    char *a = malloc(n);
    (void)state;
    assert_non_null(a);
    memset(a, 'a', n);
    check_sha1(a, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(a);
}

/* Lengths around the 55/56/64-byte padding edges. */
static void test_sha1_padding_edges(void **state)
{
    static const struct {
        size_t n;
        const char *digest;
    } v[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {57, "f08f24908d682555111be7ff6f004e78283d989a"},
        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
        {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
        {127, "89d95fa32ed44a7c610b7ee38517ddf57e0bb975"},
        {128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
        {1000, "291e9a6c66994949b57ba5e650361e98fc36b1ba"},
    };
    char a[1000];
    size_t i;
    (void)state;
    memset(a, 'a', sizeof a);
    for (i = 0; i < sizeof v / sizeof v[0]; i++)
        check_sha1(a, v[i].n, v[i].digest);
}

static void check_b64(const char *in, size_t n, const char *want)
{
    char out[512];
    memset(out, 'X', sizeof out);
    size_t len = uniws__base64((const uint8_t *)in, n, out);
    assert_int_equal(len, strlen(want));
    assert_int_equal(len, 4 * ((n + 2) / 3));
    assert_string_equal(out, want);
}

static void test_base64(void **state)
{
    static const char all[] =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"
        "QkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKD"
        "hIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TF"
        "xsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
    char bytes[256];
    int i;
    (void)state;
    /* RFC 4648 section 10. */
    check_b64("", 0, "");
    check_b64("f", 1, "Zg==");
    check_b64("fo", 2, "Zm8=");
    check_b64("foo", 3, "Zm9v");
    check_b64("foob", 4, "Zm9vYg==");
    check_b64("fooba", 5, "Zm9vYmE=");
    check_b64("foobar", 6, "Zm9vYmFy");
    check_b64("\xff\xfe\xfd", 3, "//79");
    check_b64("\xfb\xff", 2, "+/8=");
    for (i = 0; i < 256; i++)
        bytes[i] = (char)i;
    check_b64(bytes, 256, all);
}

static void test_ws_accept_rfc6455(void **state)
{
    char out[29];
    (void)state;
    memset(out, 'X', sizeof out);
    uniws__ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(strlen(out), 28);

    /* A different key gives a different answer. */
    uniws__ws_accept("x3JJHMbDL1EzLkh9GBhXDw==", out);
    assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static int b64_index(char c)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(tbl, c) : NULL;
    return p ? (int)(p - tbl) : -1;
}

static void test_ws_key(void **state)
{
    char a[25], b[25];
    int i;
    (void)state;
    memset(a, 'X', sizeof a);
    assert_int_equal(uniws__ws_key(a), 0);
    assert_int_equal(strlen(a), 24);
    /* 16 bytes: 22 significant characters, the last carrying 2 bits. */
    for (i = 0; i < 22; i++)
        assert_true(b64_index(a[i]) >= 0);
    assert_int_equal(b64_index(a[21]) & 15, 0);
    assert_memory_equal(a + 22, "==", 2);

    assert_int_equal(uniws__ws_key(b), 0);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_vectors),       cmocka_unit_test(test_sha1_million_a),
        cmocka_unit_test(test_sha1_padding_edges), cmocka_unit_test(test_base64),
        cmocka_unit_test(test_ws_accept_rfc6455),  cmocka_unit_test(test_ws_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
