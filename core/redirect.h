/*
 * redirect.h — following a refused handshake's redirect (issue 10,
 * uniws_options.max_redirects): which statuses qualify, resolving the
 * Location against the URL of the attempt, and the rules (ws/wss/http/https
 * only, never from wss to ws, a hop limit). Free of sockets and clocks:
 * core/lifecycle.c reconnects the socket; tests/core/test_redirect.c.
 */
#ifndef UNIWS_CORE_REDIRECT_H
#define UNIWS_CORE_REDIRECT_H

#include "core/url.h"

enum uniws__rd_result {
    UNIWS__RD_OK = 0,
    UNIWS__RD_LIMIT,     /* max redirects already followed */
    UNIWS__RD_DOWNGRADE, /* from wss:// (TLS) to ws:// */
    UNIWS__RD_SCHEME,    /* a scheme other than ws, wss, http, https */
    UNIWS__RD_BAD,       /* empty, or not a URL uniws can connect to */
    UNIWS__RD_NOMEM
};

/* 1 for the statuses that are followed: 301, 302, 307, 308. */
int uniws__redirect_status(int status);
/* Resolves location (a header value: absolute, scheme-relative, absolute-path
 * or relative reference; a fragment is dropped) against base. hops: redirects
 * followed so far on this attempt; max: the limit. On UNIWS__RD_OK *out holds
 * the new URL (free it with uniws__url_free); else nothing to free. */
int uniws__redirect_resolve(const uniws__url *base, const char *location, int hops, int max,
                            uniws__url *out);
/* One line saying why a redirect was not followed. */
const char *uniws__redirect_why(int result);

#endif
