/*
 * srv_tls_openssl.c — srv_tls.h with OpenSSL: the scripted peer's wss:// and
 * https:// (and mutual TLS with a client CA).
 */
#include "tools/server/srv_tls.h"

#include "uniws/uniws.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct srv_tls_ctx {
    SSL_CTX *ssl;
};

struct srv_tls {
    SSL *ssl;
};

int srv_tls_available(void)
{
    return 1;
}

int srv_tls_ctx_new(const char *cert, const char *key, const char *client_ca, srv_tls_ctx **out)
{
    srv_tls_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return UNIWS_ENOMEM;
    c->ssl = SSL_CTX_new(TLS_server_method());
    if (!c->ssl) {
        free(c);
        return UNIWS_ENOMEM;
    }
    SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(c->ssl, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(c->ssl, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ssl) != 1) {
        ERR_clear_error();
        srv_tls_ctx_free(c);
        return UNIWS_ETLS;
    }
    if (client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (!names || SSL_CTX_load_verify_locations(c->ssl, client_ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            ERR_clear_error();
            srv_tls_ctx_free(c);
            return UNIWS_ETLS;
        }
        SSL_CTX_set_client_CA_list(c->ssl, names);
        SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    *out = c;
    return 0;
}

void srv_tls_ctx_free(srv_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

srv_tls *srv_tls_new(srv_tls_ctx *ctx, srv_sock s)
{
    srv_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx->ssl);
    /* (OpenSSL takes a Winsock SOCKET as an int too) */
    if (!t->ssl || SSL_set_fd(t->ssl, (int)s) != 1) {
        srv_tls_free(t);
        return NULL;
    }
    return t;
}

void srv_tls_free(srv_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

/* The SRV_TLS_* code for a failed call. */
static int want(const srv_tls *t, int r)
{
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return SRV_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return SRV_TLS_WANT_WRITE;
    default:
        return SRV_TLS_FAIL;
    }
}

int srv_tls_accept(srv_tls *t)
{
    ERR_clear_error();
    int r = SSL_accept(t->ssl);
    return r == 1 ? 1 : want(t, r);
}

long srv_tls_read(srv_tls *t, void *buf, size_t n)
{
    ERR_clear_error();
    int r = SSL_read(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(t->ssl, r);
    /* close_notify, or the TCP stream ended without one */
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    return want(t, r);
}

long srv_tls_write(srv_tls *t, const void *buf, size_t n)
{
    ERR_clear_error();
    int r = SSL_write(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    return r > 0 ? r : want(t, r);
}

int srv_tls_pending(const srv_tls *t)
{
    return SSL_pending(t->ssl) > 0;
}

void srv_tls_shutdown(srv_tls *t)
{
    SSL_shutdown(t->ssl);
}

unsigned char *srv_tls_garble(srv_tls *t, const void *plain, size_t n, size_t *len)
{
    *len = 0;
    if (n == 0 || n > 16384)
        return NULL; /* one record, with something in it */
    /* The session writes this record into a memory BIO, then gets its socket
     * back: the record takes its place in the session (its sequence number),
     * as a real one would, but goes out through the caller. */
    BIO *sock = SSL_get_wbio(t->ssl);
    BIO *mem = BIO_new(BIO_s_mem());
    if (!sock || !mem || !BIO_up_ref(sock)) {
        BIO_free(mem);
        return NULL;
    }
    SSL_set0_wbio(t->ssl, mem); /* drops the session's own reference to sock */
    ERR_clear_error();
    int w = SSL_write(t->ssl, plain, (int)n);
    char *rec = NULL;
    long rl = BIO_get_mem_data(mem, &rec);
    unsigned char *out = NULL;
    /* 5 bytes of record header, then the encrypted part */
    if (w == (int)n && rl > 8 && rec && rec[0] == 23 && (out = malloc((size_t)rl))) {
        memcpy(out, rec, (size_t)rl);
        /* Under TLS 1.3 this is the first byte of the frame's payload; under
         * TLS 1.2 a byte of the explicit nonce or IV. Either way only the
         * record's authentication can tell: the lengths stay right. */
        out[5 + 2] ^= 0x01;
        *len = (size_t)rl;
    }
    ERR_clear_error();
    SSL_set0_wbio(t->ssl, sock); /* frees mem; the reference taken above goes back */
    return out;
}
