/*
 * fuzz_url.c — uniws__url_parse (core/url.h) on arbitrary strings. Beyond
 * "never crash", a URL it accepts must be internally consistent (the
 * normalised form is built from the reported parts, holds only printable
 * ASCII) and a fixed point: parsing the normalised URL gives it back, and
 * the http/https spelling of the same URL normalises the same way.
 */
#include <string.h>

#include "core/url.h"
#include "fuzz/fuzz.h"
#include "uniws/uniws.h"

static void check_consistent(const uniws__url *u)
{
    FUZZ_CHECK(u->host && u->path && u->host_header && u->normalized);
    FUZZ_CHECK(u->host[0] != 0);
    FUZZ_CHECK(u->path[0] == '/');
    FUZZ_CHECK(u->port != 0);
    FUZZ_CHECK(u->tls == 0 || u->tls == 1);
    FUZZ_CHECK(u->ipv6 == 0 || u->ipv6 == 1);
    for (const char *c = u->host; *c; c++)
        FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'));

    /* host_header = host or [host], then :port unless it is the default */
    int default_port = u->port == (u->tls ? 443 : 80);
    size_t size = strlen(u->host) + 16;
    char *expect = malloc(size);
    FUZZ_CHECK(expect != NULL);
    if (default_port)
        snprintf(expect, size, u->ipv6 ? "[%s]" : "%s", u->host);
    else
        snprintf(expect, size, u->ipv6 ? "[%s]:%u" : "%s:%u", u->host, (unsigned)u->port);
    FUZZ_CHECK(strcmp(expect, u->host_header) == 0);
    free(expect);

    /* normalized = scheme "://" host_header path */
    const char *scheme = u->tls ? "wss://" : "ws://";
    size_t sl = strlen(scheme), hhl = strlen(u->host_header);
    FUZZ_CHECK(strncmp(u->normalized, scheme, sl) == 0);
    FUZZ_CHECK(strncmp(u->normalized + sl, u->host_header, hhl) == 0);
    FUZZ_CHECK(strcmp(u->normalized + sl + hhl, u->path) == 0);

    /* What the browser would send: printable ASCII, no fragment. */
    for (const unsigned char *c = (const unsigned char *)u->normalized; *c; c++)
        FUZZ_CHECK(*c > 0x20 && *c < 0x7f && *c != '#');
}

static void check_same(const uniws__url *a, const uniws__url *b)
{
    FUZZ_CHECK(a->tls == b->tls);
    FUZZ_CHECK(a->ipv6 == b->ipv6);
    FUZZ_CHECK(a->port == b->port);
    FUZZ_CHECK(strcmp(a->host, b->host) == 0);
    FUZZ_CHECK(strcmp(a->path, b->path) == 0);
    FUZZ_CHECK(strcmp(a->host_header, b->host_header) == 0);
    FUZZ_CHECK(strcmp(a->normalized, b->normalized) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = 0; /* an embedded NUL simply ends the string early */

    uniws__url u;
    int r = uniws__url_parse(in, &u);
    FUZZ_CHECK(r == 0 || r == UNIWS_ESYNTAX || r == UNIWS_ENOMEM);
    if (r != 0) {
        free(in);
        return 0;
    }
    check_consistent(&u);

    /* Idempotence: the normalised URL is its own normal form. */
    uniws__url again;
    r = uniws__url_parse(u.normalized, &again);
    if (r != 0)
        fprintf(stderr, "input '%s' normalised to '%s', which does not parse (%d)\n", in,
                u.normalized, r);
    FUZZ_CHECK(r == 0);
    check_same(&u, &again);
    uniws__url_free(&again);

    /* http/https name the same URL as ws/wss (WHATWG), in any letter case. */
    const char *colon = strchr(in, ':');
    if (colon) {
        const char *alias = u.tls ? "HtTpS" : "hTtP";
        size_t al = strlen(alias), rest = strlen(colon);
        char *other = malloc(al + rest + 1);
        if (other) {
            memcpy(other, alias, al);
            memcpy(other + al, colon, rest + 1);
            r = uniws__url_parse(other, &again);
            FUZZ_CHECK(r == 0 || r == UNIWS_ENOMEM);
            if (r == 0) {
                check_same(&u, &again);
                uniws__url_free(&again);
            }
            free(other);
        }
    }

    uniws__url_free(&u);
    free(in);
    return 0;
}
