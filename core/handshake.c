/*
 * handshake.c — SHA-1, base64 and the Sec-WebSocket-Key/-Accept pair. Kept
 * free of OpenSSL so the core builds the same way natively and under
 * Emscripten; SHA-1 here only checks the server's answer, it guards no secret.
 */
#include "core/handshake.h"

#include <string.h>

#include "core/platform.h"
#include "uniws/uniws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t total; /* bytes hashed */
    uint8_t block[64];
    size_t fill;
} sha1_ctx;

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(sha1_ctx *c, const uint8_t *b)
{
    uint32_t w[80], a, bb, cc, d, e, f, k, t;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | (uint32_t)b[4 * i + 3];
    for (i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

    a = c->h[0];
    bb = c->h[1];
    cc = c->h[2];
    d = c->h[3];
    e = c->h[4];
    for (i = 0; i < 80; i++) {
        if (i < 20) {
            f = (bb & cc) | (~bb & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = bb ^ cc ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (bb & cc) | (bb & d) | (cc & d);
            k = 0x8F1BBCDC;
        } else {
            f = bb ^ cc ^ d;
            k = 0xCA62C1D6;
        }
        t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = cc;
        cc = rol(bb, 30);
        bb = a;
        a = t;
    }
    c->h[0] += a;
    c->h[1] += bb;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
    c->h[0] = 0x67452301;
    c->h[1] = 0xEFCDAB89;
    c->h[2] = 0x98BADCFE;
    c->h[3] = 0x10325476;
    c->h[4] = 0xC3D2E1F0;
    c->total = 0;
    c->fill = 0;
}

static void sha1_update(sha1_ctx *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    c->total += n;
    if (c->fill) {
        size_t take = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        n -= take;
        if (c->fill < 64)
            return;
        sha1_block(c, c->block);
        c->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        sha1_block(c, p);
    memcpy(c->block, p, n);
    c->fill = n;
}

static void sha1_final(sha1_ctx *c, uint8_t out[20])
{
    uint64_t bits = c->total * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
    uint8_t lenbuf[8];
    int i;

    for (i = 0; i < 8; i++)
        lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(c, pad, padlen);
    sha1_update(c, lenbuf, 8);
    for (i = 0; i < 20; i++)
        out[i] = (uint8_t)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

void uniws__sha1(const void *data, size_t n, uint8_t out[20])
{
    sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, data, n);
    sha1_final(&c, out);
}

size_t uniws__base64(const uint8_t *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;

    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

void uniws__ws_accept(const char *key, char out[29])
{
    sha1_ctx c;
    uint8_t digest[20];

    sha1_init(&c);
    sha1_update(&c, key, strlen(key));
    sha1_update(&c, WS_GUID, sizeof WS_GUID - 1);
    sha1_final(&c, digest);
    uniws__base64(digest, sizeof digest, out);
}

int uniws__ws_key(char out[25])
{
    uint8_t nonce[16];

    if (uniws__plat_random(nonce, sizeof nonce) != 0)
        return UNIWS_EIO;
    uniws__base64(nonce, sizeof nonce, out);
    return 0;
}
