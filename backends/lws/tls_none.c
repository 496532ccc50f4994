/*
 * tls_none.c — tls.h where the lws backend has no TLS library: the Windows
 * build (scripts/windows-deps.sh) has no OpenSSL for mingw from Debian's
 * archive. The backend then lacks UNIWS_CAP_WSS and the TLS capability bits
 * (UNIWS__LWSTLS_CAPS), so the core refuses wss:// for it with
 * UNIWS_EUNSUPPORTED before any of these could be reached; should one be
 * reached anyway, a session cannot be made.
 */
#include "backends/lws/tls.h"

#include <stdio.h>

void uniws__lwstls_cache_free(uniws__lwstls_cache *c)
{
    (void)c;
}

int uniws__lwstls_new(uniws__lwstls_cache **cache, const uniws_options *opts, const char *host,
                      int host_is_ip, uniws__lwstls **out, char *msg, size_t msg_size)
{
    (void)cache;
    (void)opts;
    (void)host;
    (void)host_is_ip;
    *out = NULL;
    if (msg && msg_size)
        snprintf(msg, msg_size, "this build of the lws backend has no TLS library");
    return UNIWS_EUNSUPPORTED;
}

void uniws__lwstls_free(uniws__lwstls *t)
{
    (void)t;
}

int uniws__lwstls_cert_asked(const uniws__lwstls *t)
{
    (void)t;
    return 0;
}

int uniws__lwstls_put(uniws__lwstls *t, const void *data, size_t len)
{
    (void)t;
    (void)data;
    (void)len;
    return UNIWS_EUNSUPPORTED;
}

int uniws__lwstls_handshake(uniws__lwstls *t, char *msg, size_t msg_size)
{
    (void)t;
    if (msg && msg_size)
        snprintf(msg, msg_size, "no TLS library");
    return UNIWS_ETLS;
}

long uniws__lwstls_read(uniws__lwstls *t, void *buf, size_t cap, char *msg, size_t msg_size)
{
    (void)t;
    (void)buf;
    (void)cap;
    if (msg && msg_size)
        snprintf(msg, msg_size, "no TLS library");
    return UNIWS_ETLS;
}

long uniws__lwstls_write(uniws__lwstls *t, const void *data, size_t len, char *msg, size_t msg_size)
{
    (void)t;
    (void)data;
    (void)len;
    if (msg && msg_size)
        snprintf(msg, msg_size, "no TLS library");
    return UNIWS_ETLS;
}

size_t uniws__lwstls_pending(uniws__lwstls *t)
{
    (void)t;
    return 0;
}

size_t uniws__lwstls_take(uniws__lwstls *t, void *buf, size_t cap)
{
    (void)t;
    (void)buf;
    (void)cap;
    return 0;
}

int uniws__lwstls_grown(const uniws__lwstls *t)
{
    (void)t;
    return 0;
}

int uniws__lwstls_trim(uniws__lwstls *t)
{
    (void)t;
    return 0;
}
