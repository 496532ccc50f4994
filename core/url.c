/*
 * url.c — parses WebSocket URLs the way the WHATWG WebSocket constructor
 * does, so every backend (including the browser) accepts and reports the
 * same URLs. Stricter than a general URL parser: "scheme://" is required and
 * anything the browser would reject (fragment, userinfo) is a syntax error.
 */
#include "core/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uniws/uniws.h"
#include "core/alloc.h"

/* A growable string; on allocation failure `failed` sticks and the content is
 * dropped, so callers check once at the end. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = uniws__realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_putc(sbuf *b, char c)
{
    sb_putn(b, &c, 1);
}

/* Hands the buffer's string over (an empty string when nothing was added). */
static char *sb_take(sbuf *b)
{
    if (!b->failed && !b->p)
        sb_putn(b, "", 0);
    if (b->failed) {
        uniws__free(b->p);
        b->p = NULL;
    }
    char *s = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return s;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int hex_val(int c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int ci_equal(const char *a, size_t n, const char *b)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] == '\0' || lower((unsigned char)a[i]) != b[i])
            return 0;
    return b[n] == '\0';
}

/* ---- IPv4 --------------------------------------------------------------- */

/* Strict dotted quad: four decimal parts 0-255 without leading zeros (the
 * WHATWG parser would read those as octal; we refuse rather than guess). */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    int part;
    for (part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit((unsigned char)s[i]) && i - start < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[start] == '0'))
            return -1;
        out[part] = (uint8_t)v;
    }
    return i == n ? 0 : -1;
}

/* ---- IPv6 --------------------------------------------------------------- */

static int parse_ipv6(const char *s, size_t n, uint16_t pieces[8])
{
    size_t i = 0;
    int count = 0, compress = -1;

    memset(pieces, 0, 8 * sizeof pieces[0]);
    if (n >= 1 && s[0] == ':') {
        if (n < 2 || s[1] != ':')
            return -1;
        i = 2;
        compress = 0;
    }
    while (i < n) {
        if (count == 8)
            return -1;
        if (s[i] == ':') {
            if (compress >= 0)
                return -1;
            i++;
            compress = count;
            continue;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 4 && hex_val((unsigned char)s[i]) >= 0) {
            v = v * 16 + (unsigned)hex_val((unsigned char)s[i]);
            i++;
        }
        if (i < n && s[i] == '.') {
            /* An embedded IPv4 address fills the last two pieces. */
            uint8_t v4[4];
            if (count > 6 || parse_ipv4(s + start, n - start, v4) != 0)
                return -1;
            pieces[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
            pieces[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = n;
            break;
        }
        if (i == start)
            return -1;
        pieces[count++] = (uint16_t)v;
        if (i < n) {
            if (s[i] != ':')
                return -1;
            i++;
            /* A single trailing ':' (not part of "::") is malformed. */
            if (i == n)
                return -1;
        }
    }
    if (compress >= 0) {
        int move = count - compress;
        if (count == 8)
            return -1;
        memmove(pieces + 8 - move, pieces + compress, (size_t)move * sizeof pieces[0]);
        memset(pieces + compress, 0, (size_t)(8 - move - compress) * sizeof pieces[0]);
    } else if (count != 8) {
        return -1;
    }
    return 0;
}

/* RFC 5952 / WHATWG serialisation: lower-case hex without leading zeros, the
 * first longest run of two or more zero pieces shortened to "::". */
static void serialize_ipv6(const uint16_t pieces[8], sbuf *b)
{
    int best = -1, best_len = 1, i;
    for (i = 0; i < 8;) {
        if (pieces[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && pieces[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    for (i = 0; i < 8; i++) {
        if (i == best) {
            sb_puts(b, i == 0 ? "::" : ":");
            i += best_len - 1;
            continue;
        }
        char tmp[8];
        snprintf(tmp, sizeof tmp, "%x", pieces[i]);
        sb_puts(b, tmp);
        if (i < 7)
            sb_putc(b, ':');
    }
}

/* ---- host names ----------------------------------------------------------- */

/* Characters a host name may hold once percent-escapes are decoded. */
static int host_char_ok(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
           c == '-' || c == '_' || c == '~';
}

/* 1 when the last label (ignoring one trailing dot) is all digits: the
 * WHATWG parser then insists on an IPv4 address. */
static int ends_in_number(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    size_t i = n;
    while (i > 0 && s[i - 1] != '.')
        i--;
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int parse_host(const char *s, size_t n, sbuf *host, int *ipv6)
{
    size_t i;
    *ipv6 = 0;
    if (n == 0)
        return UNIWS_ESYNTAX;
    if (s[0] == '[') {
        uint16_t pieces[8];
        if (n < 3 || s[n - 1] != ']' || parse_ipv6(s + 1, n - 2, pieces) != 0)
            return UNIWS_ESYNTAX;
        serialize_ipv6(pieces, host);
        *ipv6 = 1;
        return 0;
    }
    /* Like the browser, decode percent-escapes first ("%41" is "a") and
     * judge the result, so both spellings name the same host. */
    char *d = uniws__malloc(n + 1);
    size_t dn = 0;
    if (!d)
        return UNIWS_ENOMEM;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || hex_val((unsigned char)s[i + 1]) < 0 ||
                hex_val((unsigned char)s[i + 2]) < 0)
                goto bad;
            c = hex_val((unsigned char)s[i + 1]) * 16 + hex_val((unsigned char)s[i + 2]);
            i += 2;
        }
        if (!host_char_ok(c))
            goto bad;
        d[dn++] = (char)lower(c);
    }
    if (ends_in_number(d, dn)) {
        uint8_t v4[4];
        /* An address keeps no trailing dot ("1.2.3.4." is 1.2.3.4). */
        if (d[dn - 1] == '.')
            dn--;
        if (parse_ipv4(d, dn, v4) != 0)
            goto bad;
    }
    sb_putn(host, d, dn);
    uniws__free(d);
    return 0;

bad:
    uniws__free(d);
    return UNIWS_ESYNTAX;
}

/* ---- path and query ------------------------------------------------------- */

static void put_pct(sbuf *b, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char t[3] = {'%', hex[c >> 4], hex[c & 15]};
    sb_putn(b, t, 3);
}

static int is_dot(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || ci_equal(s, n, "%2e");
}

static int is_dotdot(const char *s, size_t n)
{
    return ci_equal(s, n, "..") || ci_equal(s, n, ".%2e") || ci_equal(s, n, "%2e.") ||
           ci_equal(s, n, "%2e%2e");
}

/* Appends one path segment, percent-encoding what the WHATWG path
 * percent-encode set covers (controls and spaces were refused earlier). */
static void put_segment(sbuf *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}')
            put_pct(b, c);
        else
            sb_putc(b, (char)c);
    }
}

/* Builds the path from s[0..n) (which starts with '/' or '\', or is empty),
 * resolving "." and ".." segments as the browser does. */
static void build_path(sbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    sb_putc(b, '/');
    if (n == 0)
        return;
    i = 1; /* the leading slash */
    for (;;) {
        size_t start = i;
        while (i < n && s[i] != '/' && s[i] != '\\')
            i++;
        const char *seg = s + start;
        size_t len = i - start;
        int last = (i >= n);
        if (is_dotdot(seg, len)) {
            /* Drop the previous segment: b holds "/a/b/" here, trim to "/a/". */
            if (b->len > 1) {
                b->len--;
                while (b->len > 0 && b->p[b->len - 1] != '/')
                    b->len--;
                b->p[b->len] = '\0';
            }
        } else if (!is_dot(seg, len)) {
            put_segment(b, seg, len);
            if (!last)
                sb_putc(b, '/');
        }
        if (last)
            break;
        i++;
    }
}

static void build_query(sbuf *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\'')
            put_pct(b, c);
        else
            sb_putc(b, (char)c);
    }
}

/* ---- the parser --------------------------------------------------------------- */

static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned long v = 0;
    size_t i;
    if (n == 0)
        return UNIWS_ESYNTAX;
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return UNIWS_ESYNTAX;
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535)
            return UNIWS_ESYNTAX;
    }
    if (v == 0)
        return UNIWS_ESYNTAX;
    *port = (uint16_t)v;
    return 0;
}

void uniws__url_free(uniws__url *u)
{
    if (!u)
        return;
    uniws__free(u->host);
    uniws__free(u->path);
    uniws__free(u->host_header);
    uniws__free(u->normalized);
    memset(u, 0, sizeof *u);
}

int uniws__url_parse(const char *in, uniws__url *out)
{
    sbuf host = {0}, path = {0}, hh = {0}, norm = {0};
    const char *p, *auth, *auth_end, *colon = NULL;
    size_t i, scheme_len;
    int rc, ipv6, tls;
    uint16_t port;

    if (!out)
        return UNIWS_EINVAL;
    memset(out, 0, sizeof *out);
    if (!in)
        return UNIWS_EINVAL;

    for (p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || c == '#')
            return UNIWS_ESYNTAX;
    }

    p = strchr(in, ':');
    if (!p)
        return UNIWS_ESYNTAX;
    scheme_len = (size_t)(p - in);
    if (ci_equal(in, scheme_len, "ws") || ci_equal(in, scheme_len, "http"))
        tls = 0;
    else if (ci_equal(in, scheme_len, "wss") || ci_equal(in, scheme_len, "https"))
        tls = 1;
    else
        return UNIWS_ESYNTAX;
    p++;
    for (i = 0; i < 2; i++, p++)
        if (*p != '/' && *p != '\\')
            return UNIWS_ESYNTAX;

    auth = p;
    while (*p && *p != '/' && *p != '\\' && *p != '?')
        p++;
    auth_end = p;
    if (memchr(auth, '@', (size_t)(auth_end - auth)))
        return UNIWS_ESYNTAX;

    /* The port separator is the last ':' outside an IPv6 literal's brackets. */
    if (auth < auth_end && *auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(auth_end - auth));
        if (!rb)
            return UNIWS_ESYNTAX;
        if (rb + 1 < auth_end) {
            if (rb[1] != ':')
                return UNIWS_ESYNTAX;
            colon = rb + 1;
        }
    } else {
        colon = memchr(auth, ':', (size_t)(auth_end - auth));
    }
    port = tls ? 443 : 80;
    if (colon) {
        rc = parse_port(colon + 1, (size_t)(auth_end - colon - 1), &port);
        if (rc)
            return rc;
    }

    rc = parse_host(auth, (size_t)((colon ? colon : auth_end) - auth), &host, &ipv6);
    if (rc) {
        uniws__free(sb_take(&host));
        return rc;
    }

    {
        const char *q = strchr(p, '?');
        const char *path_end = q ? q : p + strlen(p);
        build_path(&path, p, (size_t)(path_end - p));
        if (q) {
            sb_putc(&path, '?');
            build_query(&path, q + 1, strlen(q + 1));
        }
    }

    int default_port = (port == (tls ? 443 : 80));
    if (ipv6)
        sb_putc(&hh, '[');
    sb_putn(&hh, host.p ? host.p : "", host.len);
    if (ipv6)
        sb_putc(&hh, ']');
    if (!default_port) {
        char tmp[8];
        snprintf(tmp, sizeof tmp, ":%u", (unsigned)port);
        sb_puts(&hh, tmp);
    }
    sb_puts(&norm, tls ? "wss://" : "ws://");
    sb_putn(&norm, hh.p ? hh.p : "", hh.len);
    sb_putn(&norm, path.p ? path.p : "", path.len);

    out->tls = tls;
    out->ipv6 = ipv6;
    out->port = port;
    out->host = sb_take(&host);
    out->path = sb_take(&path);
    out->host_header = sb_take(&hh);
    out->normalized = sb_take(&norm);
    if (!out->host || !out->path || !out->host_header || !out->normalized) {
        uniws__url_free(out);
        return UNIWS_ENOMEM;
    }
    return 0;
}
