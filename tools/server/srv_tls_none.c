/*
 * srv_tls_none.c — srv_tls.h in a build without OpenSSL (the mingw-w64
 * cross build: Debian's archive has no OpenSSL for mingw). The server then
 * serves plain ws:// and http:// only; asking for TLS fails with
 * UNIWS_EUNSUPPORTED, and no session is ever made.
 */
#include "tools/server/srv_tls.h"

#include "uniws/uniws.h"

int srv_tls_available(void)
{
    return 0;
}

int srv_tls_ctx_new(const char *cert, const char *key, const char *client_ca, srv_tls_ctx **out)
{
    (void)cert;
    (void)key;
    (void)client_ca;
    *out = NULL;
    return UNIWS_EUNSUPPORTED;
}

void srv_tls_ctx_free(srv_tls_ctx *ctx)
{
    (void)ctx;
}

srv_tls *srv_tls_new(srv_tls_ctx *ctx, srv_sock s)
{
    (void)ctx;
    (void)s;
    return NULL;
}

void srv_tls_free(srv_tls *t)
{
    (void)t;
}

int srv_tls_accept(srv_tls *t)
{
    (void)t;
    return SRV_TLS_FAIL;
}

long srv_tls_read(srv_tls *t, void *buf, size_t n)
{
    (void)t;
    (void)buf;
    (void)n;
    return SRV_TLS_FAIL;
}

long srv_tls_write(srv_tls *t, const void *buf, size_t n)
{
    (void)t;
    (void)buf;
    (void)n;
    return SRV_TLS_FAIL;
}

int srv_tls_pending(const srv_tls *t)
{
    (void)t;
    return 0;
}

void srv_tls_shutdown(srv_tls *t)
{
    (void)t;
}

unsigned char *srv_tls_garble(srv_tls *t, const void *plain, size_t n, size_t *len)
{
    (void)t;
    (void)plain;
    (void)n;
    *len = 0;
    return NULL;
}
