/*
 * redirect.c — resolving and vetting a handshake redirect's Location
 * (core/redirect.h). RFC 3986 5.2 reference resolution, simplified to what a
 * WebSocket URL can hold: no dot-segment removal (the server sees the path
 * as the Location wrote it), no fragment.
 */
#include "core/redirect.h"

#include <stdio.h>
#include <string.h>
#include "core/alloc.h"
#include "uniws/uniws.h"

int uniws__redirect_status(int status)
{
    return status == 301 || status == 302 || status == 307 || status == 308;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_alpha(int c)
{
    c = lower(c);
    return c >= 'a' && c <= 'z';
}

/* The length of a leading "scheme:" (RFC 3986 3.1) without the colon, or 0. */
static size_t scheme_len(const char *s, size_t n)
{
    if (!n || !is_alpha((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == ':')
            return i;
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 0;
}

static int scheme_is(const char *s, size_t n, const char *name)
{
    if (strlen(name) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != name[i])
            return 0;
    return 1;
}

int uniws__redirect_resolve(const uniws__url *base, const char *location, int hops, int max,
                            uniws__url *out)
{
    memset(out, 0, sizeof *out);
    if (!location)
        return UNIWS__RD_BAD;
    while (*location == ' ' || *location == '\t')
        location++;
    size_t n = strcspn(location, "#");
    while (n && (location[n - 1] == ' ' || location[n - 1] == '\t'))
        n--;
    if (!n)
        return UNIWS__RD_BAD;
    size_t sl = scheme_len(location, n);
    if (sl && !scheme_is(location, sl, "ws") && !scheme_is(location, sl, "wss") &&
        !scheme_is(location, sl, "http") && !scheme_is(location, sl, "https"))
        return UNIWS__RD_SCHEME;

    const char *scheme = base->tls ? "wss" : "ws";
    /* base->path holds path and query; a relative reference replaces the
     * last segment, a query-only one the query. */
    size_t path_only = strcspn(base->path, "?"), dir = path_only;
    while (dir && base->path[dir - 1] != '/')
        dir--;
    size_t cap = strlen(base->host_header) + strlen(base->path) + n + 16;
    char *abs = uniws__malloc(cap);
    if (!abs)
        return UNIWS__RD_NOMEM;
    if (sl)
        snprintf(abs, cap, "%.*s", (int)n, location);
    else if (n >= 2 && location[0] == '/' && location[1] == '/')
        snprintf(abs, cap, "%s:%.*s", scheme, (int)n, location);
    else if (location[0] == '/')
        snprintf(abs, cap, "%s://%s%.*s", scheme, base->host_header, (int)n, location);
    else if (location[0] == '?')
        snprintf(abs, cap, "%s://%s%.*s%.*s", scheme, base->host_header, (int)path_only, base->path,
                 (int)n, location);
    else
        snprintf(abs, cap, "%s://%s%.*s%.*s", scheme, base->host_header, (int)dir, base->path,
                 (int)n, location);
    int r = uniws__url_parse(abs, out);
    uniws__free(abs);
    if (r == UNIWS_ENOMEM)
        return UNIWS__RD_NOMEM;
    if (r != 0)
        return UNIWS__RD_BAD;
    int result = UNIWS__RD_OK;
    if (base->tls && !out->tls)
        result = UNIWS__RD_DOWNGRADE;
    else if (hops >= max)
        result = UNIWS__RD_LIMIT;
    if (result != UNIWS__RD_OK)
        uniws__url_free(out);
    return result;
}

const char *uniws__redirect_why(int result)
{
    switch (result) {
    case UNIWS__RD_LIMIT:
        return "redirect not followed: max_redirects reached";
    case UNIWS__RD_DOWNGRADE:
        return "redirect not followed: from wss:// to ws:// (a downgrade from TLS)";
    case UNIWS__RD_SCHEME:
        return "redirect not followed: its scheme is not ws, wss, http or https";
    case UNIWS__RD_BAD:
        return "redirect not followed: its Location is not a URL uniws can connect to";
    case UNIWS__RD_NOMEM:
        return "redirect not followed: out of memory";
    default:
        return "redirect followed";
    }
}
