/*
 * test_pmd.c — unit tests for core/pmd.c: the offer, which server answers are
 * accepted, the RFC 7692 section 7.2.3 examples, context takeover, the size
 * limit, and interoperability with a plain zlib raw inflater / deflater.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/pmd.h"
#include "uniws/uniws.h"

static uniws__pmd *accept_ok(const char *params)
{
    uniws__pmd *p = NULL;
    int rc = uniws__pmd_accept(params, &p);
    if (rc != 0)
        print_message("params: [%s] -> %d\n", params ? params : "(null)", rc);
    assert_int_equal(rc, 0);
    assert_non_null(p);
    return p;
}

static void test_offer(void **state)
{
    (void)state;
    assert_string_equal(uniws__pmd_offer(), "permessage-deflate; client_max_window_bits");
}

static void test_accept_good(void **state)
{
    static const struct {
        const char *in, *desc;
    } v[] = {
        {NULL, "permessage-deflate"},
        {"", "permessage-deflate"},
        {"   ", "permessage-deflate"},
        {"; server_no_context_takeover", "permessage-deflate; server_no_context_takeover"},
        {";client_no_context_takeover", "permessage-deflate; client_no_context_takeover"},
        {"; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=10"},
        {"; client_max_window_bits = \"15\"", "permessage-deflate; client_max_window_bits=15"},
        {"; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8"},
        {" ;\tserver_max_window_bits=9 ; client_max_window_bits=8 ",
         "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"},
        {"; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=15; "
         "client_max_window_bits=12",
         "permessage-deflate; client_no_context_takeover; server_no_context_takeover; "
         "server_max_window_bits=15; client_max_window_bits=12"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        uniws__pmd *p = accept_ok(v[i].in);
        assert_string_equal(uniws__pmd_describe(p), v[i].desc);
        uniws__pmd_free(p);
    }
    uniws__pmd_free(NULL);
}

static void test_accept_bad(void **state)
{
    static const char *const bad[] = {
        "; unknown_param",
        "; x=1",
        "server_no_context_takeover", /* missing ';' */
        ";",
        "; server_no_context_takeover;",
        "; server_no_context_takeover; server_no_context_takeover",
        "; client_no_context_takeover; client_no_context_takeover",
        "; server_no_context_takeover=1",
        "; client_no_context_takeover=true",
        "; client_max_window_bits",
        "; client_max_window_bits=",
        "; client_max_window_bits=7",
        "; client_max_window_bits=16",
        "; client_max_window_bits=08",
        "; client_max_window_bits=010",
        "; client_max_window_bits=abc",
        "; client_max_window_bits=\"10",
        "; client_max_window_bits=\"\"",
        "; client_max_window_bits=10; client_max_window_bits=10",
        "; server_max_window_bits",
        "; server_max_window_bits=7",
        "; server_max_window_bits=16",
        "; server_max_window_bits=-9",
        "; server_max_window_bits=9; server_max_window_bits=10",
        "; Server_No_Context_Takeover",
        "; server_no_context_takeover, permessage-deflate",
        "; server_max_window_bits=9x",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uniws__pmd *p = (uniws__pmd *)&p; /* must be reset to NULL */
        int rc = uniws__pmd_accept(bad[i], &p);
        if (rc != UNIWS_EPROTOCOL)
            print_message("params: [%s] -> %d\n", bad[i], rc);
        assert_int_equal(rc, UNIWS_EPROTOCOL);
        assert_null(p);
    }
}

static void inflate_expect(uniws__pmd *p, const void *in, size_t n, const char *want)
{
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(uniws__pmd_inflate(p, in, n, 1000, &out, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    assert_int_equal(out[len], 0);
    free(out);
}

/* RFC 7692 section 7.2.3. */
static void test_rfc7692_examples(void **state)
{
    uniws__pmd *p;
    uint8_t *out;
    size_t len;
    (void)state;

    p = accept_ok("");
    /* 7.2.3.1: a message compressed into one block. */
    inflate_expect(p, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, "Hello");
    /* 7.2.3.2: the same message again, referring to the previous one. */
    inflate_expect(p, "\xf2\x00\x11\x00\x00", 5, "Hello");
    uniws__pmd_free(p);

    /* 7.2.3.3: a stored (uncompressed) block. As printed it does not end
     * in an empty stored block, so the appended tail leaves the inflater
     * inside a block header; it can only be the last message. */
    p = accept_ok("");
    inflate_expect(p, "\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f", 10, "Hello");
    uniws__pmd_free(p);

    p = accept_ok("");
    /* The same stored block as a compliant sender ends it (7.2.1): with the
     * first byte of the empty stored block left over. */
    inflate_expect(p, "\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", 11, "Hello");
    /* 7.2.3.4: a block with BFINAL set; the next message starts afresh. */
    inflate_expect(p, "\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8, "Hello");
    inflate_expect(p, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, "Hello");
    /* 7.2.3.5: two deflate blocks in one message. */
    inflate_expect(p, "\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00", 13, "Hello");
    uniws__pmd_free(p);

    /* With server_no_context_takeover the window is dropped after each
     * message, so 7.2.3.2's back-reference has nothing to point at. */
    p = accept_ok("; server_no_context_takeover");
    inflate_expect(p, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7, "Hello");
    out = (uint8_t *)&out;
    assert_int_equal(
        uniws__pmd_inflate(p, (const uint8_t *)"\xf2\x00\x11\x00\x00", 5, 1000, &out, &len),
        UNIWS_EPROTOCOL);
    assert_null(out);
    uniws__pmd_free(p);
}

static void test_inflate_corrupt(void **state)
{
    uniws__pmd *p = accept_ok("");
    uint8_t *out;
    size_t len;
    (void)state;
    /* Block type 3 is reserved. */
    assert_int_equal(uniws__pmd_inflate(p, (const uint8_t *)"\xff\xff\xff", 3, 1000, &out, &len),
                     UNIWS_EPROTOCOL);
    assert_null(out);
    uniws__pmd_free(p);

    /* A stored block whose length check fails. */
    p = accept_ok("");
    assert_int_equal(
        uniws__pmd_inflate(p, (const uint8_t *)"\x00\x05\x00\x00\x00Hello", 10, 1000, &out, &len),
        UNIWS_EPROTOCOL);
    uniws__pmd_free(p);
}

static void fill_text(uint8_t *b, size_t n, unsigned seed)
{
    static const char *const words[] = {"alpha ",     "beta ",  "gamma ",   "delta ",
                                        "websocket ", "frame ", "deflate ", "\xc3\xa9t\xc3\xa9 ",
                                        "x"};
    size_t i = 0;
    while (i < n) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 9];
        size_t k = strlen(w);
        if (k > n - i)
            k = n - i;
        memcpy(b + i, w, k);
        i += k;
        if ((seed >> 8) % 7 == 0 && i < n)
            b[i++] = (uint8_t)(seed >> 3); /* some noise */
    }
}

/* Messages from our deflater read back through a second context (as the
 * server would) and through plain zlib plus the 00 00 ff ff tail. */
static void roundtrip(const char *params, size_t nmsgs)
{
    static const size_t sizes[] = {0, 1, 5, 100, 1000, 4096, 70000, 300000};
    uniws__pmd *tx = accept_ok(params), *rx = accept_ok(params);
    z_stream z;
    size_t m;

    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, -15), Z_OK);
    for (m = 0; m < nmsgs; m++) {
        size_t n = sizes[m % (sizeof sizes / sizeof sizes[0])];
        uint8_t *msg = malloc(n + 1), *c = NULL, *d = NULL, *zout = malloc(n + 64);
        size_t clen, dlen;
        assert_non_null(msg);
        assert_non_null(zout);
        fill_text(msg, n, (unsigned)m);

        assert_int_equal(uniws__pmd_deflate(tx, msg, n, &c, &clen), 0);
        assert_non_null(c);
        assert_true(clen >= 1);
        /* The sync-flush tail is stripped. */
        assert_false(clen >= 4 && memcmp(c + clen - 4, "\x00\x00\xff\xff", 4) == 0);

        assert_int_equal(uniws__pmd_inflate(rx, c, clen, n, &d, &dlen), 0);
        assert_int_equal(dlen, n);
        if (n)
            assert_memory_equal(d, msg, n);

        /* Plain zlib with context takeover agrees (skip when the sender
         * resets, since this inflater keeps its window). */
        if (!strstr(params, "client_no_context_takeover")) {
            uint8_t *joined = malloc(clen + 4);
            assert_non_null(joined);
            memcpy(joined, c, clen);
            memcpy(joined + clen, "\x00\x00\xff\xff", 4);
            z.next_in = joined;
            z.avail_in = (uInt)(clen + 4);
            z.next_out = zout;
            z.avail_out = (uInt)(n + 64);
            int rc = inflate(&z, Z_SYNC_FLUSH);
            assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
            assert_int_equal(z.avail_in, 0);
            assert_int_equal(n + 64 - z.avail_out, n);
            if (n)
                assert_memory_equal(zout, msg, n);
            free(joined);
        }
        free(msg);
        free(c);
        free(d);
        free(zout);
    }
    inflateEnd(&z);
    uniws__pmd_free(tx);
    uniws__pmd_free(rx);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip("", 24);
    roundtrip("; client_no_context_takeover; server_no_context_takeover", 24);
    roundtrip("; client_max_window_bits=10; server_max_window_bits=10", 24);
    roundtrip("; client_max_window_bits=9; server_max_window_bits=9", 16);
}

/* With context takeover a repeated message compresses to a back-reference;
 * with client_no_context_takeover every message stands alone. */
static void test_context_takeover(void **state)
{
    const char *text = "A message that is long enough to be worth compressing, twice over.";
    size_t n = strlen(text), l1, l2;
    uint8_t *c1, *c2;
    uniws__pmd *p;
    (void)state;

    p = accept_ok("");
    assert_int_equal(uniws__pmd_deflate(p, (const uint8_t *)text, n, &c1, &l1), 0);
    assert_int_equal(uniws__pmd_deflate(p, (const uint8_t *)text, n, &c2, &l2), 0);
    assert_true(l2 < l1 / 2);
    free(c1);
    free(c2);
    uniws__pmd_free(p);

    p = accept_ok("; client_no_context_takeover");
    assert_int_equal(uniws__pmd_deflate(p, (const uint8_t *)text, n, &c1, &l1), 0);
    assert_int_equal(uniws__pmd_deflate(p, (const uint8_t *)text, n, &c2, &l2), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(c1, c2, l1);
    free(c1);
    free(c2);
    uniws__pmd_free(p);
}

/* A server limited to an 8-bit window must be able to read what we send
 * when it asks for client_max_window_bits=8. */
static void test_client_window_8(void **state)
{
    size_t n = 200000, clen;
    uint8_t *msg = malloc(n), *c, *out = malloc(n + 16);
    uniws__pmd *p = accept_ok("; client_max_window_bits=8");
    z_stream z;
    (void)state;
    assert_non_null(msg);
    assert_non_null(out);
    fill_text(msg, n, 42);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(uniws__pmd_deflate(p, msg, n, &c, &clen), 0);
        assert_true(clen < n);
        memset(&z, 0, sizeof z);
        assert_int_equal(inflateInit2(&z, -8), Z_OK);
        z.next_in = c;
        z.avail_in = (uInt)clen;
        z.next_out = out;
        z.avail_out = (uInt)(n + 16);
        int rc = inflate(&z, Z_SYNC_FLUSH);
        assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
        assert_int_equal(n + 16 - z.avail_out, n);
        assert_memory_equal(out, msg, n);
        inflateEnd(&z);
        free(c);
        if (round == 0) {
            /* Again with a deflater that resets after each message. */
            uniws__pmd_free(p);
            p = accept_ok("; client_max_window_bits=8; client_no_context_takeover");
        }
    }
    uniws__pmd_free(p);
    free(msg);
    free(out);
}

/* Raw-deflates data with plain zlib, as a server would, tail stripped. */
static uint8_t *zlib_deflate(const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream z;
    size_t cap = n + n / 8 + 64;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    assert_true(z.avail_out > 0);
    *out_len = cap - z.avail_out - 4;
    assert_memory_equal(out + *out_len, "\x00\x00\xff\xff", 4);
    deflateEnd(&z);
    return out;
}

static void test_inflate_limit(void **state)
{
    size_t n = 1 << 20, clen, len;
    uint8_t *zeros = calloc(1, n), *c, *out;
    uniws__pmd *p;
    (void)state;
    assert_non_null(zeros);
    c = zlib_deflate(zeros, n, &clen);
    assert_true(clen < 2000); /* a small "bomb" */

    p = accept_ok("; server_no_context_takeover");
    out = (uint8_t *)&out;
    assert_int_equal(uniws__pmd_inflate(p, c, clen, n - 1, &out, &len), UNIWS_ETOO_BIG);
    assert_null(out);
    assert_int_equal(uniws__pmd_inflate(p, c, clen, 1000, &out, &len), UNIWS_ETOO_BIG);
    assert_int_equal(uniws__pmd_inflate(p, c, clen, 0, &out, &len), UNIWS_ETOO_BIG);
    /* Exactly at the limit is fine, and the context still works after the
     * failures above. */
    assert_int_equal(uniws__pmd_inflate(p, c, clen, n, &out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, zeros, n);
    assert_int_equal(out[n], 0);
    free(out);
    assert_int_equal(uniws__pmd_inflate(p, c, clen, SIZE_MAX, &out, &len), 0);
    assert_int_equal(len, n);
    free(out);
    uniws__pmd_free(p);
    free(c);

    /* An empty message fits a zero limit; one byte does not. */
    p = accept_ok("");
    assert_int_equal(uniws__pmd_inflate(p, (const uint8_t *)"\x00", 1, 0, &out, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0);
    free(out);
    c = zlib_deflate((const uint8_t *)"z", 1, &clen);
    assert_int_equal(uniws__pmd_inflate(p, c, clen, 0, &out, &len), UNIWS_ETOO_BIG);
    free(c);
    uniws__pmd_free(p);
    free(zeros);
}

/* Text from a plain zlib deflater (as a server sends) comes out whole. */
static void test_inflate_from_zlib(void **state)
{
    size_t n = 123457, clen, len;
    uint8_t *msg = malloc(n), *c, *out;
    uniws__pmd *p = accept_ok("; server_no_context_takeover");
    (void)state;
    assert_non_null(msg);
    fill_text(msg, n, 7);
    c = zlib_deflate(msg, n, &clen);
    assert_int_equal(uniws__pmd_inflate(p, c, clen, n, &out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, msg, n);
    free(out);
    free(c);
    free(msg);
    uniws__pmd_free(p);
}

static void test_empty_message(void **state)
{
    uniws__pmd *tx = accept_ok(""), *rx = accept_ok("");
    uint8_t *c, *d;
    size_t clen, dlen;
    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(uniws__pmd_deflate(tx, (const uint8_t *)"", 0, &c, &clen), 0);
        /* RFC 7692 7.2.3.6: an empty message is a single 0x00 byte. */
        assert_int_equal(clen, 1);
        assert_int_equal(c[0], 0);
        assert_int_equal(uniws__pmd_inflate(rx, c, clen, 10, &d, &dlen), 0);
        assert_int_equal(dlen, 0);
        free(c);
        free(d);
    }
    uniws__pmd_free(tx);
    uniws__pmd_free(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer),
        cmocka_unit_test(test_accept_good),
        cmocka_unit_test(test_accept_bad),
        cmocka_unit_test(test_rfc7692_examples),
        cmocka_unit_test(test_inflate_corrupt),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_context_takeover),
        cmocka_unit_test(test_client_window_8),
        cmocka_unit_test(test_inflate_limit),
        cmocka_unit_test(test_inflate_from_zlib),
        cmocka_unit_test(test_empty_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
