/*
 * test_utf8.c — unit tests for core/utf8.c: the Autobahn 6.x style samples,
 * every split point, and exhaustive comparison with a straightforward
 * reference decoder written differently from the DFA under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/utf8.h"

/* ---- reference ---------------------------------------------------------- */

/* Decodes sequence by sequence and checks the code point's range. */
static int ref_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i], min;
        size_t len, k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            c &= 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            c &= 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            c &= 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* 1 when some continuation makes s[0..n) valid. Every range a continuation
 * byte may need to fall in (80-8F, 80-9F, 90-BF, A0-BF, 80-BF) contains one
 * of 80, 90, A0, so trying those up to three times is exhaustive. */
static int ref_viable(const uint8_t *s, size_t n)
{
    static const uint8_t cont[3] = {0x80, 0x90, 0xA0};
    uint8_t buf[64];
    int a, b, c;
    if (ref_valid(s, n))
        return 1;
    if (n > sizeof buf - 3)
        return -1;
    memcpy(buf, s, n);
    for (a = 0; a < 3; a++) {
        buf[n] = cont[a];
        if (ref_valid(buf, n + 1))
            return 1;
        for (b = 0; b < 3; b++) {
            buf[n + 1] = cont[b];
            if (ref_valid(buf, n + 2))
                return 1;
            for (c = 0; c < 3; c++) {
                buf[n + 2] = cont[c];
                if (ref_valid(buf, n + 3))
                    return 1;
            }
        }
    }
    return 0;
}

/* Feeding byte by byte, the first index where feed says -1, or n if none.
 * Also checks that a rejected validator stays rejected. */
static size_t first_reject(const uint8_t *s, size_t n)
{
    uniws__utf8 v = UNIWS__UTF8_INIT;
    size_t i;
    for (i = 0; i < n; i++) {
        if (uniws__utf8_feed(&v, s + i, 1) != 0) {
            assert_int_equal(uniws__utf8_feed(&v, "a", 1), -1);
            assert_false(uniws__utf8_done(&v));
            return i;
        }
    }
    return n;
}

static size_t ref_first_reject(const uint8_t *s, size_t n)
{
    size_t i;
    for (i = 1; i <= n; i++)
        if (!ref_viable(s, i))
            return i - 1;
    return n;
}

/* ---- samples ------------------------------------------------------------- */

typedef struct sample {
    const char *name;
    const char *bytes;
    size_t len; /* 0: strlen */
    int valid;
} sample;

#define S(name, bytes, valid)                                                                      \
    {                                                                                              \
        name, bytes, sizeof(bytes) - 1, valid                                                      \
    }

static const sample samples[] = {
    /* 6.1 / 6.2: valid text */
    S("empty", "", 1),
    S("ascii", "Hello-\x7f World", 1),
    S("nul inside", "a\0b", 1),
    S("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 1),
    S("hello world mixed",
      "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", 1),
    /* 6.5 / 6.7: first and last code point of each length */
    S("U+0000", "\x00", 1),
    S("U+007F", "\x7f", 1),
    S("U+0080", "\xc2\x80", 1),
    S("U+07FF", "\xdf\xbf", 1),
    S("U+0800", "\xe0\xa0\x80", 1),
    S("U+FFFF", "\xef\xbf\xbf", 1),
    S("U+10000", "\xf0\x90\x80\x80", 1),
    S("U+10FFFF", "\xf4\x8f\xbf\xbf", 1),
    /* 6.7 other boundaries */
    S("U+D7FF", "\xed\x9f\xbf", 1),
    S("U+E000", "\xee\x80\x80", 1),
    S("U+FFFD", "\xef\xbf\xbd", 1),
    S("U+0FFF", "\xe0\xbf\xbf", 1),
    S("U+1000", "\xe1\x80\x80", 1),
    S("U+CFFF", "\xec\xbf\xbf", 1),
    S("U+D000", "\xed\x80\x80", 1),
    S("U+3FFFF", "\xf0\xbf\xbf\xbf", 1),
    S("U+40000", "\xf1\x80\x80\x80", 1),
    S("U+FFFFF", "\xf3\xbf\xbf\xbf", 1),
    S("U+100000", "\xf4\x80\x80\x80", 1),
    /* 6.22: non-characters are valid UTF-8 */
    S("U+FFFE", "\xef\xbf\xbe", 1),
    S("U+FDD0", "\xef\xb7\x90", 1),
    S("U+FDEF", "\xef\xb7\xaf", 1),
    S("U+1FFFE", "\xf0\x9f\xbf\xbe", 1),
    S("U+10FFFE", "\xf4\x8f\xbf\xbe", 1),
    S("emoji", "\xf0\x9f\x98\x80", 1),
    S("long mixed", "abc\xc2\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xf4\x8f\xbf\xbfxyz0123456789", 1),
    /* 6.3 / 6.4: valid text followed by an invalid sequence */
    S("kosme+surrogate+edited",
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 0),
    S("kosme then F4 90", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80", 0),
    /* 6.6: kosme cut short */
    S("kosme cut 1", "\xce", 0),
    S("kosme cut 3", "\xce\xba\xe1", 0),
    S("kosme cut 4", "\xce\xba\xe1\xbd", 0),
    S("kosme cut 6", "\xce\xba\xe1\xbd\xb9\xcf", 0),
    S("kosme cut 8", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce", 0),
    S("kosme cut 10", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce", 0),
    /* 6.8: five- and six-byte forms */
    S("5-byte U+200000", "\xf8\x88\x80\x80\x80", 0),
    S("6-byte U+4000000", "\xfc\x84\x80\x80\x80\x80", 0),
    S("5-byte max", "\xfb\xbf\xbf\xbf\xbf", 0),
    S("6-byte max", "\xfd\xbf\xbf\xbf\xbf\xbf", 0),
    /* 6.9 / 6.10: above U+10FFFF */
    S("U+110000", "\xf4\x90\x80\x80", 0),
    S("U+13FFFF", "\xf4\xbf\xbf\xbf", 0),
    S("U+140000", "\xf5\x80\x80\x80", 0),
    S("U+1FFFFF", "\xf7\xbf\xbf\xbf", 0),
    /* 6.10 / 6.11: unexpected continuation bytes */
    S("lone 80", "\x80", 0),
    S("lone BF", "\xbf", 0),
    S("80 BF", "\x80\xbf", 0),
    S("80 BF 80", "\x80\xbf\x80", 0),
    S("80 BF 80 BF", "\x80\xbf\x80\xbf", 0),
    S("80 BF 80 BF 80", "\x80\xbf\x80\xbf\x80", 0),
    S("80 BF 80 BF 80 BF", "\x80\xbf\x80\xbf\x80\xbf", 0),
    S("80 BF 80 BF 80 BF 80", "\x80\xbf\x80\xbf\x80\xbf\x80", 0),
    S("extra continuation", "\xc2\x80\x80", 0),
    S("ascii then continuation", "abcdefgh\x80", 0),
    /* 6.12: lonely start characters followed by a space */
    S("C0 space", "\xc0\x20", 0),
    S("C2 space", "\xc2\x20", 0),
    S("DF space", "\xdf\x20", 0),
    S("E0 space", "\xe0\x20", 0),
    S("EF space", "\xef\x20", 0),
    S("F0 space", "\xf0\x20", 0),
    S("F7 space", "\xf7\x20", 0),
    S("F8 space", "\xf8\x20", 0),
    S("FC space", "\xfc\x20", 0),
    S("E1 80 space", "\xe1\x80\x20", 0),
    S("F1 80 80 space", "\xf1\x80\x80\x20", 0),
    /* 6.13: last continuation byte missing */
    S("C0 (2 of 2 missing)", "\xc0", 0),
    S("E0 80", "\xe0\x80", 0),
    S("F0 80 80", "\xf0\x80\x80", 0),
    S("F8 80 80 80", "\xf8\x80\x80\x80", 0),
    S("FC 80 80 80 80", "\xfc\x80\x80\x80\x80", 0),
    S("DF", "\xdf", 0),
    S("EF BF", "\xef\xbf", 0),
    S("F7 BF BF", "\xf7\xbf\xbf", 0),
    S("F1 80 80", "\xf1\x80\x80", 0),
    S("F4 8F BF", "\xf4\x8f\xbf", 0),
    S("E1 80", "\xe1\x80", 0),
    S("C2", "\xc2", 0),
    /* 6.14: concatenated incomplete sequences */
    S("concat incomplete",
      "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf"
      "\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf",
      0),
    /* 6.15: impossible bytes */
    S("FE", "\xfe", 0),
    S("FF", "\xff", 0),
    S("FE FE FF FF", "\xfe\xfe\xff\xff", 0),
    /* 6.16: overlong '/' */
    S("overlong / 2", "\xc0\xaf", 0),
    S("overlong / 3", "\xe0\x80\xaf", 0),
    S("overlong / 4", "\xf0\x80\x80\xaf", 0),
    S("overlong / 5", "\xf8\x80\x80\x80\xaf", 0),
    S("overlong / 6", "\xfc\x80\x80\x80\x80\xaf", 0),
    /* 6.17: largest overlongs */
    S("overlong max 2", "\xc1\xbf", 0),
    S("overlong max 3", "\xe0\x9f\xbf", 0),
    S("overlong max 4", "\xf0\x8f\xbf\xbf", 0),
    S("overlong max 5", "\xf8\x87\xbf\xbf\xbf", 0),
    S("overlong max 6", "\xfc\x83\xbf\xbf\xbf\xbf", 0),
    /* 6.18: overlong NUL */
    S("overlong NUL 2", "\xc0\x80", 0),
    S("overlong NUL 3", "\xe0\x80\x80", 0),
    S("overlong NUL 4", "\xf0\x80\x80\x80", 0),
    S("overlong NUL 5", "\xf8\x80\x80\x80\x80", 0),
    S("overlong NUL 6", "\xfc\x80\x80\x80\x80\x80", 0),
    /* 6.19: single surrogates */
    S("U+D800", "\xed\xa0\x80", 0),
    S("U+DB7F", "\xed\xad\xbf", 0),
    S("U+DB80", "\xed\xae\x80", 0),
    S("U+DBFF", "\xed\xaf\xbf", 0),
    S("U+DC00", "\xed\xb0\x80", 0),
    S("U+DF80", "\xed\xbe\x80", 0),
    S("U+DFFF", "\xed\xbf\xbf", 0),
    /* 6.20: paired surrogates */
    S("D800 DC00", "\xed\xa0\x80\xed\xb0\x80", 0),
    S("D800 DFFF", "\xed\xa0\x80\xed\xbf\xbf", 0),
    S("DB7F DC00", "\xed\xad\xbf\xed\xb0\x80", 0),
    S("DB7F DFFF", "\xed\xad\xbf\xed\xbf\xbf", 0),
    S("DB80 DC00", "\xed\xae\x80\xed\xb0\x80", 0),
    S("DB80 DFFF", "\xed\xae\x80\xed\xbf\xbf", 0),
    S("DBFF DC00", "\xed\xaf\xbf\xed\xb0\x80", 0),
    S("DBFF DFFF", "\xed\xaf\xbf\xed\xbf\xbf", 0),
    /* invalid after a long valid ASCII run (exercises the word-wide path) */
    S("ascii run then overlong", "0123456789abcdefghijklmnopqrstuv\xc0\x80", 0),
    S("ascii run then truncated", "0123456789abcdefghijklmnopqrstu\xe2\x82", 0),
    S("ascii run, valid tail", "0123456789abcdefghijklmnopqrstuvw\xe2\x82\xac", 1),
};

#define NSAMPLES (sizeof samples / sizeof samples[0])

static void test_samples_whole(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        const sample *s = &samples[i];
        int got = uniws__utf8_valid(s->bytes, s->len);
        if (got != s->valid || ref_valid((const uint8_t *)s->bytes, s->len) != s->valid)
            print_message("sample: %s\n", s->name);
        assert_int_equal(got, s->valid);
        /* The reference agrees, so its verdicts below can be trusted. */
        assert_int_equal(ref_valid((const uint8_t *)s->bytes, s->len), s->valid);
    }
}

/* Fail fast (Autobahn 6.x): feeding byte by byte rejects exactly at the
 * first byte after which no valid continuation exists. */
static void test_samples_fail_fast(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        const sample *s = &samples[i];
        const uint8_t *b = (const uint8_t *)s->bytes;
        size_t got = first_reject(b, s->len), want = ref_first_reject(b, s->len);
        if (got != want)
            print_message("sample: %s (rejected at %zu, expected %zu)\n", s->name, got, want);
        assert_int_equal(got, want);
    }
}

/* Validity does not depend on where the input is cut. */
static int feed_pieces(const uint8_t *b, size_t n, size_t cut1, size_t cut2)
{
    uniws__utf8 v = UNIWS__UTF8_INIT;
    int r1 = uniws__utf8_feed(&v, b, cut1);
    int r2 = uniws__utf8_feed(&v, b + cut1, cut2 - cut1);
    int r3 = uniws__utf8_feed(&v, b + cut2, n - cut2);
    /* Once rejected, later pieces must not bring it back. */
    if (r1 == -1)
        assert_int_equal(r2, -1);
    if (r2 == -1)
        assert_int_equal(r3, -1);
    return r3 == 0 && uniws__utf8_done(&v);
}

static void test_samples_every_split(void **state)
{
    size_t i, a, b;
    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        const sample *s = &samples[i];
        const uint8_t *p = (const uint8_t *)s->bytes;
        for (a = 0; a <= s->len; a++) {
            for (b = a; b <= s->len; b++) {
                int got = feed_pieces(p, s->len, a, b);
                if (got != s->valid)
                    print_message("sample: %s cut at %zu,%zu\n", s->name, a, b);
                assert_int_equal(got, s->valid);
            }
        }
    }
}

/* All valid samples joined stay valid at every split; an invalid sample
 * between valid text spoils the whole at every split (the joined text starts
 * with ASCII, so a truncated sequence cannot be completed by it). */
static void test_samples_concatenated(void **state)
{
    static uint8_t all[4096], buf[4096 + 64];
    size_t i, n = 0, m, cut;
    (void)state;
    for (i = 0; i < NSAMPLES; i++) {
        if (!samples[i].valid)
            continue;
        memcpy(all + n, samples[i].bytes, samples[i].len);
        n += samples[i].len;
    }
    assert_true(all[0] < 0x80);
    assert_true(uniws__utf8_valid(all, n));
    for (cut = 0; cut <= n; cut++)
        assert_true(feed_pieces(all, n, cut, cut));
    for (i = 0; i < NSAMPLES; i++) {
        if (samples[i].valid)
            continue;
        memcpy(buf, "ab", 2);
        memcpy(buf + 2, samples[i].bytes, samples[i].len);
        memcpy(buf + 2 + samples[i].len, all, n);
        m = 2 + samples[i].len + n;
        assert_false(uniws__utf8_valid(buf, m));
        for (cut = 0; cut <= m; cut++)
            assert_false(feed_pieces(buf, m, cut, cut));
    }
}

static void test_every_single_byte(void **state)
{
    unsigned c;
    (void)state;
    for (c = 0; c < 256; c++) {
        uint8_t b = (uint8_t)c;
        uniws__utf8 v = UNIWS__UTF8_INIT;
        int rc = uniws__utf8_feed(&v, &b, 1);
        assert_int_equal(uniws__utf8_valid(&b, 1), c < 0x80);
        assert_int_equal(uniws__utf8_done(&v), c < 0x80);
        /* Lead bytes that can start a valid sequence are still pending. */
        int can_start = c < 0x80 || (c >= 0xC2 && c <= 0xF4);
        assert_int_equal(rc, can_start ? 0 : -1);
    }
}

/* Every 1-, 2- and 3-byte string against the reference. */
static void test_exhaustive_short(void **state)
{
    unsigned a, b, c;
    uint8_t s[3];
    (void)state;
    for (a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        for (b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            assert_int_equal(uniws__utf8_valid(s, 2), ref_valid(s, 2));
            assert_int_equal(first_reject(s, 2), ref_first_reject(s, 2));
            for (c = 0; c < 256; c++) {
                s[2] = (uint8_t)c;
                if (uniws__utf8_valid(s, 3) != ref_valid(s, 3)) {
                    print_message("bytes %02x %02x %02x\n", a, b, c);
                    fail();
                }
            }
        }
    }
}

/* Four-byte strings with lead E0..FF, every second byte, and boundary values
 * for the last two (where the interesting range checks live). */
static void test_exhaustive_four(void **state)
{
    static const uint8_t edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                   0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF4, 0xFF};
    unsigned a, b, c, d;
    uint8_t s[4];
    (void)state;
    for (a = 0xE0; a < 256; a++) {
        s[0] = (uint8_t)a;
        for (b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            for (c = 0; c < sizeof edge; c++) {
                s[2] = edge[c];
                for (d = 0; d < sizeof edge; d++) {
                    s[3] = edge[d];
                    if (uniws__utf8_valid(s, 4) != ref_valid(s, 4) ||
                        first_reject(s, 4) != ref_first_reject(s, 4)) {
                        print_message("bytes %02x %02x %02x %02x\n", a, b, s[2], s[3]);
                        fail();
                    }
                }
            }
        }
    }
}

/* Every code point encodes to valid UTF-8 unless it is a surrogate. */
static void test_every_code_point(void **state)
{
    uint32_t cp;
    (void)state;
    for (cp = 0; cp <= 0x10FFFF; cp++) {
        uint8_t s[4];
        size_t n;
        if (cp < 0x80) {
            s[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            s[0] = (uint8_t)(0xC0 | cp >> 6);
            s[1] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            s[0] = (uint8_t)(0xE0 | cp >> 12);
            s[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            s[2] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            s[0] = (uint8_t)(0xF0 | cp >> 18);
            s[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            s[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            s[3] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 4;
        }
        int want = !(cp >= 0xD800 && cp <= 0xDFFF);
        if (uniws__utf8_valid(s, n) != want) {
            print_message("U+%04X\n", (unsigned)cp);
            fail();
        }
    }
}

/* Long ASCII input with the bad byte at each offset of the word-wide loop. */
static void test_ascii_fast_path(void **state)
{
    uint8_t buf[80];
    size_t pos, start;
    (void)state;
    for (start = 0; start < 8; start++) {
        for (pos = start; pos < sizeof buf; pos++) {
            memset(buf, 'x', sizeof buf);
            assert_true(uniws__utf8_valid(buf + start, sizeof buf - start));
            buf[pos] = 0x80;
            assert_false(uniws__utf8_valid(buf + start, sizeof buf - start));
            assert_int_equal(first_reject(buf + start, sizeof buf - start), pos - start);
            buf[pos] = 0xC3; /* a lead byte at the very end stays pending */
            if (pos == sizeof buf - 1) {
                uniws__utf8 v = UNIWS__UTF8_INIT;
                assert_int_equal(uniws__utf8_feed(&v, buf + start, sizeof buf - start), 0);
                assert_false(uniws__utf8_done(&v));
                assert_int_equal(uniws__utf8_feed(&v, "\xa9", 1), 0);
                assert_true(uniws__utf8_done(&v));
            }
        }
    }
}

static void test_empty_feeds(void **state)
{
    uniws__utf8 v = UNIWS__UTF8_INIT;
    (void)state;
    assert_true(uniws__utf8_done(&v));
    assert_int_equal(uniws__utf8_feed(&v, "", 0), 0);
    assert_true(uniws__utf8_done(&v));
    assert_int_equal(uniws__utf8_feed(&v, "\xe2", 1), 0);
    assert_int_equal(uniws__utf8_feed(&v, "", 0), 0);
    assert_false(uniws__utf8_done(&v));
    assert_int_equal(uniws__utf8_feed(&v, "\x82", 1), 0);
    assert_int_equal(uniws__utf8_feed(&v, "\xac", 1), 0);
    assert_true(uniws__utf8_done(&v));
    assert_true(uniws__utf8_valid("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_whole),       cmocka_unit_test(test_samples_fail_fast),
        cmocka_unit_test(test_samples_every_split), cmocka_unit_test(test_samples_concatenated),
        cmocka_unit_test(test_every_single_byte),   cmocka_unit_test(test_exhaustive_short),
        cmocka_unit_test(test_exhaustive_four),     cmocka_unit_test(test_every_code_point),
        cmocka_unit_test(test_ascii_fast_path),     cmocka_unit_test(test_empty_feeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
