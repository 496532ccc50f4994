/*
 * pmd.c — permessage-deflate (RFC 7692) for backends where the core frames
 * messages itself: the offer, checking the server's parameters, and whole-
 * message (de)compression with zlib's raw deflate.
 */
#ifdef UNIWS_HAVE_ZLIB

#include "core/pmd.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "uniws/uniws.h"
#include "core/alloc.h"

/* zlib's allocations go through uniws's allocator too (uniws_set_allocator). */
static voidpf pmd_zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return uniws__calloc(items, size);
}

static void pmd_zfree(voidpf opaque, voidpf p)
{
    (void)opaque;
    uniws__free(p);
}

struct uniws__pmd {
    int server_no_context_takeover; /* reset the inflater after each message */
    int client_no_context_takeover; /* reset the deflater after each message */
    int server_bits;                /* window the server compresses with */
    int client_bits;                /* window we may compress with */
    z_stream inf, def;
    int inf_ready, def_ready;
    char *desc;
};

static const uint8_t sync_tail[4] = {0x00, 0x00, 0xff, 0xff};

const char *uniws__pmd_offer(void)
{
    return "permessage-deflate; client_max_window_bits";
}

/* ---- parsing the server's parameters ---------------------------------------- */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int is_tchar(char ch)
{
    unsigned char c = (unsigned char)ch;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 7692 7.1.2: a window size is 8..15, written without leading zeros. */
static int parse_bits(const char *v, size_t n)
{
    if (n == 1 && v[0] >= '8' && v[0] <= '9')
        return v[0] - '0';
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + (v[1] - '0');
    return -1;
}

static int name_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

static void append(char *dst, size_t *len, const char *s, size_t n)
{
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = '\0';
}

int uniws__pmd_accept(const char *params, uniws__pmd **out)
{
    uniws__pmd *p;
    const char *s = params ? params : "";
    int seen_snct = 0, seen_cnct = 0, seen_sbits = 0, seen_cbits = 0;
    size_t dlen = 0;

    *out = NULL;
    p = uniws__calloc(1, sizeof *p);
    if (!p)
        return UNIWS_ENOMEM;
    p->server_bits = 15;
    p->client_bits = 15;
    /* Normalising adds at most a space per parameter, each of which takes at
     * least two input bytes, so twice the input always fits. */
    p->desc = uniws__malloc(strlen("permessage-deflate") + 2 * strlen(s) + 1);
    if (!p->desc) {
        uniws__free(p);
        return UNIWS_ENOMEM;
    }
    append(p->desc, &dlen, "permessage-deflate", strlen("permessage-deflate"));

    for (;;) {
        const char *name, *val = NULL;
        size_t nlen, vlen = 0;

        while (is_ows(*s))
            s++;
        if (*s == '\0')
            break;
        if (*s != ';')
            goto bad;
        s++;
        while (is_ows(*s))
            s++;
        name = s;
        while (is_tchar(*s))
            s++;
        nlen = (size_t)(s - name);
        if (nlen == 0)
            goto bad;
        while (is_ows(*s))
            s++;
        if (*s == '=') {
            s++;
            while (is_ows(*s))
                s++;
            if (*s == '"') {
                /* RFC 7692 7.1: a quoted value must still be a plain token. */
                val = ++s;
                while (is_tchar(*s))
                    s++;
                vlen = (size_t)(s - val);
                if (*s != '"')
                    goto bad;
                s++;
            } else {
                val = s;
                while (is_tchar(*s))
                    s++;
                vlen = (size_t)(s - val);
            }
            if (vlen == 0)
                goto bad;
        }

        if (name_is(name, nlen, "server_no_context_takeover")) {
            if (seen_snct++ || val)
                goto bad;
            p->server_no_context_takeover = 1;
        } else if (name_is(name, nlen, "client_no_context_takeover")) {
            if (seen_cnct++ || val)
                goto bad;
            p->client_no_context_takeover = 1;
        } else if (name_is(name, nlen, "server_max_window_bits")) {
            if (seen_sbits++ || !val || (p->server_bits = parse_bits(val, vlen)) < 0)
                goto bad;
        } else if (name_is(name, nlen, "client_max_window_bits")) {
            /* We offered it without a value; the answer must pick one. */
            if (seen_cbits++ || !val || (p->client_bits = parse_bits(val, vlen)) < 0)
                goto bad;
        } else {
            goto bad;
        }
        append(p->desc, &dlen, "; ", 2);
        append(p->desc, &dlen, name, nlen);
        if (val) {
            append(p->desc, &dlen, "=", 1);
            append(p->desc, &dlen, val, vlen);
        }
    }
    *out = p;
    return 0;

bad:
    uniws__free(p->desc);
    uniws__free(p);
    return UNIWS_EPROTOCOL;
}

void uniws__pmd_free(uniws__pmd *p)
{
    if (!p)
        return;
    if (p->inf_ready)
        inflateEnd(&p->inf);
    if (p->def_ready)
        deflateEnd(&p->def);
    uniws__free(p->desc);
    uniws__free(p);
}

const char *uniws__pmd_describe(const uniws__pmd *p)
{
    return p ? p->desc : "";
}

/* ---- inflate ------------------------------------------------------------------ */

/* Output buffer with a hard limit: it never grows past `limit` bytes, one
 * more than the caller's max, so exceeding max is noticed without inflating
 * the rest of a compression bomb. */
typedef struct obuf {
    uint8_t *p;
    size_t len, cap, limit;
} obuf;

static int obuf_room(obuf *b)
{
    if (b->len < b->cap)
        return 0;
    if (b->cap >= b->limit)
        return UNIWS_ETOO_BIG;
    size_t cap = b->cap < b->limit / 2 ? b->cap * 2 : b->limit;
    uint8_t *np = uniws__realloc(b->p, cap + 1); /* +1: room for the NUL */
    if (!np)
        return UNIWS_ENOMEM;
    b->p = np;
    b->cap = cap;
    return 0;
}

/* One inflate() call into the free room of b (grown first). Returns 0 with
 * zlib's result in *zrc, or a UNIWS_E* code when b cannot grow. */
static int inflate_into(z_stream *z, obuf *b, int *zrc)
{
    int rc = obuf_room(b);
    if (rc)
        return rc;
    size_t room = b->cap - b->len;
    z->next_out = b->p + b->len;
    z->avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
    uInt before = z->avail_out;
    *zrc = inflate(z, Z_SYNC_FLUSH);
    b->len += before - z->avail_out;
    return 0;
}

/* Runs the inflater over in[0..n). Returns 1 when the deflate stream ended
 * (BFINAL), 0 when all input was used, or an error. */
static int inflate_some(uniws__pmd *p, obuf *b, const uint8_t *in, size_t n)
{
    z_stream *z = &p->inf;

    while (n > 0 || z->avail_in > 0) {
        int rc;
        if (z->avail_in == 0) {
            uInt chunk = n > UINT_MAX ? UINT_MAX : (uInt)n;
            z->next_in = (Bytef *)(uintptr_t)in;
            z->avail_in = chunk;
            in += chunk;
            n -= chunk;
        }
        int err = inflate_into(z, b, &rc);
        if (err)
            return err;
        if (rc == Z_STREAM_END)
            return 1;
        if (rc == Z_BUF_ERROR && z->avail_in == 0)
            continue; /* needs more input; the loop condition decides */
        if (rc == Z_BUF_ERROR && z->avail_out > 0)
            return UNIWS_EPROTOCOL; /* no progress with input and room: stuck */
        if (rc == Z_MEM_ERROR)
            return UNIWS_ENOMEM;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return UNIWS_EPROTOCOL;
    }
    /* All input is in; drain what zlib still holds for lack of output room. */
    for (;;) {
        int rc, err = inflate_into(z, b, &rc);
        if (err)
            return err;
        if (rc == Z_STREAM_END)
            return 1;
        if (rc == Z_BUF_ERROR || (rc == Z_OK && z->avail_out > 0))
            return 0;
        if (rc == Z_MEM_ERROR)
            return UNIWS_ENOMEM;
        if (rc != Z_OK)
            return UNIWS_EPROTOCOL;
    }
}

int uniws__pmd_inflate(uniws__pmd *p, const uint8_t *in, size_t n, size_t max, uint8_t **out,
                       size_t *out_len)
{
    obuf b = {0};
    int rc;

    *out = NULL;
    *out_len = 0;
    if (!p->inf_ready) {
        memset(&p->inf, 0, sizeof p->inf);
        p->inf.zalloc = pmd_zalloc;
        p->inf.zfree = pmd_zfree;
        rc = inflateInit2(&p->inf, -p->server_bits);
        if (rc != Z_OK)
            return rc == Z_MEM_ERROR ? UNIWS_ENOMEM : UNIWS_EINTERNAL;
        p->inf_ready = 1;
    }
    b.limit = max == SIZE_MAX ? SIZE_MAX - 1 : max + 1;
    b.cap = n < 64 ? 256 : (n < b.limit / 4 ? n * 4 : b.limit);
    if (b.cap > b.limit)
        b.cap = b.limit;
    b.p = uniws__malloc(b.cap + 1);
    if (!b.p)
        return UNIWS_ENOMEM;

    rc = inflate_some(p, &b, in, n);
    if (rc == 0)
        rc = inflate_some(p, &b, sync_tail, sizeof sync_tail);
    if (rc == 1) {
        /* The sender ended the deflate stream; the next message starts a new
         * one, so nothing of this window may carry over. */
        inflateReset(&p->inf);
        rc = 0;
    } else if (rc == 0 && p->server_no_context_takeover) {
        inflateReset(&p->inf);
    }
    if (rc == 0 && b.len > max)
        rc = UNIWS_ETOO_BIG;
    p->inf.next_in = NULL;
    p->inf.avail_in = 0;
    if (rc < 0) {
        inflateReset(&p->inf);
        uniws__free(b.p);
        return rc;
    }
    b.p[b.len] = '\0';
    *out = b.p;
    *out_len = b.len;
    return 0;
}

/* ---- deflate ------------------------------------------------------------------- */

int uniws__pmd_deflate(uniws__pmd *p, const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream *z = &p->def;
    uint8_t *buf;
    size_t cap, len = 0;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (!p->def_ready) {
        /* zlib refuses a 256-byte window for raw deflate. A 512-byte one is
         * still safe for a peer limited to 8 bits: zlib never emits a
         * distance beyond the window minus its 262-byte lookahead. */
        int bits = p->client_bits < 9 ? 9 : p->client_bits;
        memset(z, 0, sizeof *z);
        z->zalloc = pmd_zalloc;
        z->zfree = pmd_zfree;
        rc = deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY);
        if (rc != Z_OK)
            return rc == Z_MEM_ERROR ? UNIWS_ENOMEM : UNIWS_EINTERNAL;
        p->def_ready = 1;
    }

    cap = n + n / 8 + 64;
    buf = uniws__malloc(cap);
    if (!buf)
        return UNIWS_ENOMEM;
    for (;;) {
        int flush;
        if (z->avail_in == 0 && n > 0) {
            uInt chunk = n > UINT_MAX ? UINT_MAX : (uInt)n;
            z->next_in = (Bytef *)(uintptr_t)in;
            z->avail_in = chunk;
            in += chunk;
            n -= chunk;
        }
        flush = n > 0 ? Z_NO_FLUSH : Z_SYNC_FLUSH;
        if (len == cap) {
            uint8_t *nb = uniws__realloc(buf, cap * 2);
            if (!nb) {
                uniws__free(buf);
                deflateReset(z);
                return UNIWS_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        size_t room = cap - len;
        z->next_out = buf + len;
        z->avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = z->avail_out;
        rc = deflate(z, flush);
        len += before - z->avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            uniws__free(buf);
            deflateReset(z);
            return UNIWS_EINTERNAL;
        }
        /* A sync flush is complete once deflate leaves output room unused. */
        if (flush == Z_SYNC_FLUSH && z->avail_in == 0 && z->avail_out > 0)
            break;
    }
    z->next_in = NULL;
    if (p->client_no_context_takeover)
        deflateReset(z);
    /* RFC 7692 7.2.1: drop the 00 00 ff ff the sync flush ends with. */
    if (len >= 4 && memcmp(buf + len - 4, sync_tail, 4) == 0)
        len -= 4;
    /* zlib skips a second flush in a row with no input in between, so an
     * empty message after another yields nothing. The stream is byte-aligned
     * then, and the empty stored block RFC 7692 7.2.3.6 describes is 0x00. */
    if (len == 0)
        buf[len++] = 0x00;
    *out = buf;
    *out_len = len;
    return 0;
}

#else
/* ISO C forbids an empty translation unit. */
typedef int uniws__pmd_unused;
#endif
