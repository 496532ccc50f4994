/*
 * url.h — parsing and normalising WebSocket URLs (WHATWG rules for the
 * WebSocket constructor: ws, wss, http->ws, https->wss; no fragments).
 */
#ifndef UNIWS_CORE_URL_H
#define UNIWS_CORE_URL_H

#include <stdint.h>

typedef struct uniws__url {
    int tls;           /* 1 for wss */
    char *host;        /* lower-cased; IPv6 literal without brackets */
    int ipv6;          /* host is an IPv6 literal */
    uint16_t port;     /* explicit, or 80 / 443 */
    char *path;        /* path and query, always starting with "/" */
    char *host_header; /* value for the Host header: host[:port], [v6][:port] */
    char *normalized;  /* "ws://host[:port]/path?query", default port left out */
} uniws__url;

/* Parses in. Returns 0, UNIWS_ESYNTAX (scheme other than ws/wss/http/https,
 * missing or malformed host, bad port (0 or > 65535, non-digits), fragment,
 * userinfo, whitespace or control characters) or UNIWS_ENOMEM. On error *out
 * holds nothing to free. */
int uniws__url_parse(const char *in, uniws__url *out);
void uniws__url_free(uniws__url *u);

#endif
