/*
 * cases_limits.c — one limit and one error code for the same request on every
 * backend (issue 12, defects 3 and 7): the application's share of the upgrade
 * request (custom headers, subprotocols) is bounded by
 * UNIWS_MAX_REQUEST_HEADER_BYTES — at the limit it reaches the server whole,
 * past it uniws_connect() says UNIWS_ETOO_BIG (libcurl used to drop such a
 * header silently) — and header values with control characters are
 * UNIWS_ESYNTAX.
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

/* A header just under the limit reaches the peer byte for byte. */
void case_request_header_limit(cx *c, const conf_case *k)
{
    (void)k;
    const size_t n = UNIWS_MAX_REQUEST_HEADER_BYTES - 64;
    char *v = cx_malloc(c, n + 1);
    TRY(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + i % 26);
    v[n] = 0;
    uniws_header h = {"X-Big", v};
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.headers = &h;
    o.num_headers = 1;
    rec *r = cx_connect(c, "/script/headers", &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    const conf_ev *m = rec_msg(r, 0);
    char *line = cx_malloc(c, n + 16);
    TRY(line);
    snprintf(line, n + 16, "X-Big: %s", v);
    CHECK(c, m->data && strstr((const char *)m->data, line),
          "the %zu-byte header did not reach the server whole (%zu bytes of headers arrived)", n,
          m->len);
    TRY(close_and_wait(r));
}

/* Past the limit, and control characters: refused by uniws_connect() itself,
 * the same on every backend (the checks come before any backend's). */
void case_request_header_refused(cx *c, const conf_case *k)
{
    (void)k;
    const size_t n = UNIWS_MAX_REQUEST_HEADER_BYTES;
    char *v = cx_malloc(c, n + 1);
    TRY(v);
    memset(v, 'a', n);
    v[n] = 0;
    uniws_header h = {"X-Big", v};
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.headers = &h;
    o.num_headers = 1;
    rec *r = NULL;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, &r), UNIWS_ETOO_BIG);
    CHECK(c, r && !r->s, "a socket came back with the error");

    static const char *const bad[] = {"a\x01", "esc\x1b", "del\x7f", "nl\nX: y", "cr\r"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uniws_header b = {"X-Bad", bad[i]};
        o.headers = &b;
        CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_ESYNTAX);
    }
    uniws_header tab = {"X-Tab", "a\tb"};
    o.headers = &tab;
    if (!(c->env->info.caps & UNIWS_CAP_CUSTOM_HEADERS)) {
        /* A browser cannot send custom headers at all: that is its capability. */
        CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EUNSUPPORTED);
        return;
    }
    rec *ok = cx_connect(c, "/echo", &o); /* a TAB is fine */
    TRY(ok);
    TRY(rec_wait_open(ok));
    TRY(close_and_wait(ok));
}
