/*
 * fuzz_pmd.c — permessage-deflate (core/pmd.c): negotiating the server's
 * answer, inflating what a server sends, deflating what the client sends.
 *
 * Input: 1 byte of settings, a parameter string up to the first '\n' (the
 * text after "permessage-deflate" in the server's answer), then data.
 *   byte 0  bits 0-1: max message size for inflate (16, 4096, 65536, 1 MiB)
 *           bit 2: the data is raw compressed input for uniws__pmd_inflate
 *                  (else: messages to round-trip)
 *           bits 3-5: how many messages the data is cut into (1-8)
 *
 * Properties besides "no crash, no sanitizer report":
 *  - uniws__pmd_accept returns 0, UNIWS_EPROTOCOL or UNIWS_ENOMEM; what it
 *    accepts it describes as "permessage-deflate..." and that description's
 *    parameters are accepted again and describe themselves (a fixed point);
 *  - inflate of arbitrary bytes returns 0, UNIWS_ETOO_BIG or UNIWS_EPROTOCOL;
 *    on 0 the output is at most max bytes and NUL-terminated;
 *  - round trip: each message deflated by uniws__pmd_deflate inflates (raw
 *    zlib, as a server would, across messages) back to itself; each message
 *    deflated by zlib with the negotiated server window inflates back to
 *    itself through uniws__pmd_inflate, with context takeover across
 *    messages unless server_no_context_takeover was negotiated.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "uniws/uniws.h"

#ifdef UNIWS_HAVE_ZLIB
#include <zlib.h>
#include "core/alloc.h"
#include "core/pmd.h"

static const size_t max_sizes[] = {16, 4096, 65536, 1u << 20};
static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};

/* Whole-stream inflate of one message with a persistent raw inflater, as a
 * server would; returns a malloc'd buffer. */
static uint8_t *ref_inflate(z_stream *z, const uint8_t *in, size_t n, size_t cap, size_t *out_n)
{
    uint8_t *joined = malloc(n + 4);
    uint8_t *out = malloc(cap + 1);
    FUZZ_CHECK(joined && out);
    if (n)
        memcpy(joined, in, n);
    memcpy(joined + n, tail, 4);
    z->next_in = joined;
    z->avail_in = (uInt)(n + 4);
    z->next_out = out;
    z->avail_out = (uInt)(cap + 1);
    int r = inflate(z, Z_SYNC_FLUSH);
    FUZZ_CHECK(r == Z_OK || r == Z_BUF_ERROR || r == Z_STREAM_END);
    FUZZ_CHECK(z->avail_in == 0);
    *out_n = cap + 1 - z->avail_out;
    free(joined);
    return out;
}

/* The parameter value of name in a normalised description, or -1. */
static int param_bits(const char *desc, const char *name)
{
    const char *p = strstr(desc, name);
    if (!p)
        return -1;
    p += strlen(name);
    if (*p != '=')
        return 15;
    return atoi(p + 1);
}

static void check_describe_fixed_point(const uniws__pmd *p)
{
    const char *d = uniws__pmd_describe(p);
    FUZZ_CHECK(d && strncmp(d, "permessage-deflate", 18) == 0);
    uniws__pmd *q = NULL;
    int r = uniws__pmd_accept(d + 18, &q);
    FUZZ_CHECK(r == 0 || r == UNIWS_ENOMEM);
    if (r == 0) {
        FUZZ_CHECK(strcmp(uniws__pmd_describe(q), d) == 0);
        uniws__pmd_free(q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t flags = fuzz_u8(&in);
    size_t max = max_sizes[flags & 3];
    int raw = (flags >> 2) & 1;
    size_t nmsg = 1 + ((flags >> 3) & 7);

    /* The parameters: up to the first '\n' (NUL-free, bounded). */
    const uint8_t *params_p;
    size_t plen = 0;
    while (plen < in.n && plen < 256 && in.p[plen] != '\n')
        plen++;
    fuzz_bytes(&in, plen, &params_p);
    if (in.n && *in.p == '\n')
        fuzz_u8(&in);
    char params[257];
    memcpy(params, params_p, plen);
    params[plen] = 0;
    if (strlen(params) != plen)
        return 0; /* a NUL inside: the header line could not carry it */

    uniws__pmd *p = NULL;
    int r = uniws__pmd_accept(params, &p);
    FUZZ_CHECK(r == 0 || r == UNIWS_EPROTOCOL || r == UNIWS_ENOMEM);
    if (r != 0) {
        FUZZ_CHECK(p == NULL);
        return 0;
    }
    check_describe_fixed_point(p);
    const char *desc = uniws__pmd_describe(p);

    const uint8_t *rest;
    size_t rest_n = fuzz_bytes(&in, in.n, &rest);
    if (raw) {
        /* Arbitrary compressed input, in nmsg messages on one context. */
        size_t at = 0;
        for (size_t i = 0; i < nmsg; i++) {
            size_t k = i + 1 == nmsg ? rest_n - at : (rest_n - at) / (nmsg - i);
            uint8_t *out = NULL;
            size_t out_n = 0;
            int ir = uniws__pmd_inflate(p, rest + at, k, max, &out, &out_n);
            at += k;
            FUZZ_CHECK(ir == 0 || ir == UNIWS_ETOO_BIG || ir == UNIWS_EPROTOCOL ||
                       ir == UNIWS_ENOMEM);
            if (ir == 0) {
                FUZZ_CHECK(out != NULL && out_n <= max && out[out_n] == 0);
                uniws__free(out);
            } else {
                FUZZ_CHECK(out == NULL);
                break; /* the connection would fail here */
            }
        }
        uniws__pmd_free(p);
        return 0;
    }

    /* Round trips, message by message. Client -> server: our deflate, a raw
     * zlib inflater with a 15-bit window (reads any smaller one). */
    z_stream srv_in, srv_out;
    memset(&srv_in, 0, sizeof srv_in);
    memset(&srv_out, 0, sizeof srv_out);
    FUZZ_CHECK(inflateInit2(&srv_in, -15) == Z_OK);
    /* Server -> client: zlib deflate with the window the server may use. A
     * raw 8-bit window is not available in zlib (it makes 9), so an answer
     * that limits the server to 8 bits skips this direction. */
    int sbits = param_bits(desc, "server_max_window_bits");
    if (sbits < 0)
        sbits = 15;
    int server_dir = sbits >= 9;
    int srv_nct = strstr(desc, "server_no_context_takeover") != NULL;
    if (server_dir)
        FUZZ_CHECK(deflateInit2(&srv_out, 6, Z_DEFLATED, -sbits, 8, Z_DEFAULT_STRATEGY) == Z_OK);

    size_t at = 0;
    for (size_t i = 0; i < nmsg; i++) {
        size_t k = i + 1 == nmsg ? rest_n - at : (rest_n - at) / (nmsg - i);
        const uint8_t *msg = rest + at;
        at += k;

        uint8_t *z = NULL;
        size_t zn = 0;
        int dr = uniws__pmd_deflate(p, msg, k, &z, &zn);
        FUZZ_CHECK(dr == 0 || dr == UNIWS_ENOMEM);
        if (dr)
            break;
        size_t got_n;
        uint8_t *got = ref_inflate(&srv_in, z, zn, k, &got_n);
        FUZZ_CHECK(got_n == k && (k == 0 || memcmp(got, msg, k) == 0));
        free(got);
        uniws__free(z);

        /* zlib refuses a second flush with no input in between: an empty
         * message goes only one way. */
        if (!server_dir || k == 0)
            continue;
        size_t cap = deflateBound(&srv_out, (uLong)k) + 16;
        uint8_t *c = malloc(cap);
        FUZZ_CHECK(c != NULL);
        srv_out.next_in = (Bytef *)(uintptr_t)msg;
        srv_out.avail_in = (uInt)k;
        srv_out.next_out = c;
        srv_out.avail_out = (uInt)cap;
        FUZZ_CHECK(deflate(&srv_out, Z_SYNC_FLUSH) == Z_OK);
        FUZZ_CHECK(srv_out.avail_in == 0);
        size_t cn = cap - srv_out.avail_out;
        FUZZ_CHECK(cn >= 4 && memcmp(c + cn - 4, tail, 4) == 0);
        uint8_t *out = NULL;
        size_t out_n = 0;
        int ir = uniws__pmd_inflate(p, c, cn - 4, max, &out, &out_n);
        free(c);
        if (k > max) {
            FUZZ_CHECK(ir == UNIWS_ETOO_BIG || ir == UNIWS_ENOMEM);
            break; /* the connection would fail with 1009 */
        }
        FUZZ_CHECK(ir == 0 || ir == UNIWS_ENOMEM);
        if (ir)
            break;
        FUZZ_CHECK(out_n == k && memcmp(out, msg, k) == 0 && out[out_n] == 0);
        uniws__free(out);
        if (srv_nct)
            FUZZ_CHECK(deflateReset(&srv_out) == Z_OK);
    }
    inflateEnd(&srv_in);
    if (server_dir)
        deflateEnd(&srv_out);
    uniws__pmd_free(p);
    return 0;
}

#else

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0; /* built without zlib: nothing to fuzz */
}

#endif
