/*
 * tls.c — client TLS for the lws backend over OpenSSL memory BIOs (see
 * tls.h for why lws's own TLS cannot be used on 4.1.6). Verification is on
 * unless the caller explicitly skips it: the chain against the system store
 * or the given CA file, and the host name (or IP literal) against the
 * certificate. ALPN offers only "http/1.1" so a server never picks h2 for
 * what will be an HTTP/1.1 upgrade.
 */
#include "backends/lws/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "core/alloc.h"

typedef struct ctx_entry {
    struct ctx_entry *next;
    char *ca, *cert, *key; /* NULL when unset */
    SSL_CTX *ctx;
} ctx_entry;

struct uniws__lwstls_cache {
    ctx_entry *head;
};

/* A memory BIO's buffer never shrinks: one that held more than this (a big
 * read from lws, or a big write's records) is replaced by an empty BIO once
 * the connection is quiet (uniws__lwstls_trim), so an idle connection does
 * not keep the largest burst it ever carried (up to ~0.6 MiB after 1 MiB
 * messages). Small traffic never comes near it. */
#define BIO_KEEP (16 * 1024)

struct uniws__lwstls {
    SSL *ssl;
    int cert_asked; /* the server asked for a client certificate we do not have */
    int grown;      /* a BIO held more than BIO_KEEP since the last trim */
    BIO *rbio;      /* network -> OpenSSL */
    BIO *wbio;      /* OpenSSL -> network */
};

/* ---- messages ------------------------------------------------------------ */

/* Fills msg from the OpenSSL error queue (or fallback) and empties the queue,
 * which is per thread and shared with every other OpenSSL user. */
static void describe(char *msg, size_t size, const char *what, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    if (msg && size) {
        if (e) {
            char buf[200];
            ERR_error_string_n(e, buf, sizeof buf);
            snprintf(msg, size, "%s: %s", what, buf);
        } else {
            snprintf(msg, size, "%s: %s", what, fallback);
        }
    }
    ERR_clear_error();
}

/* OpenSSL words a missing file as "system lib": say what is wrong instead. */
static int unreadable(const char *what, const char *path, char *msg, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return 0;
    }
    int e = errno;
    snprintf(msg, size, "%s %s: %s", what, path,
             e == ENOENT   ? "no such file"
             : e == EACCES ? "permission denied"
             : e == EISDIR ? "is a directory"
                           : "cannot be opened");
    return 1;
}

/* ---- the SSL_CTX cache --------------------------------------------------- */

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = uniws__strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static int refuse_passphrase(char *buf, int size, int rwflag, void *u)
{
    /* Never prompt on a terminal from inside a library: an encrypted key
     * simply fails to load. */
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/* Called only when the server asks for a client certificate and none is
 * set: remember it, so an ending without an alert still says why. */
static int cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    uniws__lwstls *t = SSL_get_app_data(ssl);
    if (t)
        t->cert_asked = 1;
    return 0; /* no certificate */
}

static int make_ctx(const char *ca, const char *cert, const char *key, SSL_CTX **out, char *msg,
                    size_t msg_size)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        describe(NULL, 0, "", "");
        return UNIWS_ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* OpenSSL's record buffers (about 17 KiB each way) are let go whenever
     * they are empty, so an idle connection holds neither (lws's own TLS
     * does the same) and the handshakes of many connections at once do not
     * leave the heap full of holes. A burst turns it off (grow). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);
    static const unsigned char alpn[] = "\x08http/1.1";
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0)
        goto nomem;
    if (ca) {
        if (unreadable("cannot read CA file", ca, msg, msg_size)) {
            SSL_CTX_free(ctx);
            return UNIWS_ETLS;
        }
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            char what[300];
            snprintf(what, sizeof what, "cannot load CA file %s", ca);
            describe(msg, msg_size, what, "unreadable");
            SSL_CTX_free(ctx);
            return UNIWS_ETLS;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        describe(msg, msg_size, "cannot load the system CA store", "unreadable");
        SSL_CTX_free(ctx);
        return UNIWS_ETLS;
    }
    if (cert) {
        char what[300];
        if (unreadable("cannot read client certificate", cert, msg, msg_size) ||
            (key && unreadable("cannot read client key", key, msg, msg_size))) {
            SSL_CTX_free(ctx);
            return UNIWS_ETLS;
        }
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
            snprintf(what, sizeof what, "cannot load client certificate %s", cert);
            goto bad_cert;
        }
        const char *k = key ? key : cert;
        if (SSL_CTX_use_PrivateKey_file(ctx, k, SSL_FILETYPE_PEM) != 1) {
            snprintf(what, sizeof what, "cannot load client key %s", k);
            goto bad_cert;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(what, sizeof what, "client key %s does not match the certificate", k);
            goto bad_cert;
        }
        ERR_clear_error();
        *out = ctx;
        return 0;
    bad_cert:
        describe(msg, msg_size, what, "unreadable");
        SSL_CTX_free(ctx);
        return UNIWS_ETLS;
    }
    SSL_CTX_set_client_cert_cb(ctx, cert_asked);
    ERR_clear_error();
    *out = ctx;
    return 0;
nomem:
    describe(NULL, 0, "", "");
    SSL_CTX_free(ctx);
    return UNIWS_ENOMEM;
}

static int cache_get(uniws__lwstls_cache **cache, const uniws_options *o, SSL_CTX **out, char *msg,
                     size_t msg_size)
{
    const char *ca = o ? o->tls_ca_file : NULL;
    const char *cert = o ? o->tls_client_cert : NULL;
    const char *key = cert ? o->tls_client_key : NULL;
    if (!*cache) {
        *cache = uniws__calloc(1, sizeof **cache);
        if (!*cache)
            return UNIWS_ENOMEM;
    }
    for (ctx_entry *e = (*cache)->head; e; e = e->next) {
        if (same(e->ca, ca) && same(e->cert, cert) && same(e->key, key)) {
            *out = e->ctx;
            return 0;
        }
    }
    /* Failed loads are not cached: the file may be fixed by the next try. */
    SSL_CTX *ctx = NULL;
    int r = make_ctx(ca, cert, key, &ctx, msg, msg_size);
    if (r)
        return r;
    ctx_entry *e = uniws__calloc(1, sizeof *e);
    int oom = !e;
    if (e) {
        e->ca = dup_or_null(ca, &oom);
        e->cert = dup_or_null(cert, &oom);
        e->key = dup_or_null(key, &oom);
    }
    if (oom) {
        if (e) {
            uniws__free(e->ca);
            uniws__free(e->cert);
            uniws__free(e->key);
            uniws__free(e);
        }
        SSL_CTX_free(ctx);
        return UNIWS_ENOMEM;
    }
    e->ctx = ctx;
    e->next = (*cache)->head;
    (*cache)->head = e;
    *out = ctx;
    return 0;
}

void uniws__lwstls_cache_free(uniws__lwstls_cache *c)
{
    if (!c)
        return;
    while (c->head) {
        ctx_entry *e = c->head;
        c->head = e->next;
        SSL_CTX_free(e->ctx); /* sessions hold their own reference */
        uniws__free(e->ca);
        uniws__free(e->cert);
        uniws__free(e->key);
        uniws__free(e);
    }
    uniws__free(c);
}

/* ---- sessions ------------------------------------------------------------ */

int uniws__lwstls_new(uniws__lwstls_cache **cache, const uniws_options *opts, const char *host,
                      int host_is_ip, uniws__lwstls **out, char *msg, size_t msg_size)
{
    SSL_CTX *ctx;
    int r = cache_get(cache, opts, &ctx, msg, msg_size);
    if (r)
        return r;
    uniws__lwstls *t = uniws__calloc(1, sizeof *t);
    if (!t)
        return UNIWS_ENOMEM;
    ERR_clear_error();
    t->ssl = SSL_new(ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    if (!t->ssl || !rb || !wb) {
        BIO_free(rb);
        BIO_free(wb);
        goto nomem;
    }
    /* An empty input BIO means "wait for more", not end of file. */
    BIO_set_mem_eof_return(rb, -1);
    SSL_set_bio(t->ssl, rb, wb); /* the SSL owns both BIOs now */
    t->rbio = rb;
    t->wbio = wb;
    SSL_set_connect_state(t->ssl);
    SSL_set_app_data(t->ssl, t);
    if (!host_is_ip && SSL_set_tlsext_host_name(t->ssl, host) != 1)
        goto nomem;
    if (opts && opts->tls_skip_verify) {
        SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
    } else if (host_is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1)
            goto nomem;
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, host) != 1)
            goto nomem;
    }
    ERR_clear_error();
    *out = t;
    return 0;
nomem:
    SSL_free(t->ssl);
    ERR_clear_error();
    uniws__free(t);
    return UNIWS_ENOMEM;
}

int uniws__lwstls_cert_asked(const uniws__lwstls *t)
{
    return t && t->cert_asked;
}

void uniws__lwstls_free(uniws__lwstls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    uniws__free(t);
}

/* A burst: the record buffers stay until the connection is quiet
 * (uniws__lwstls_trim). Freed and taken again per record they made 1 MiB
 * echoes 5-15 % slower or not at all, depending on where the heap put them. */
static void grow(uniws__lwstls *t)
{
    if (!t->grown) {
        t->grown = 1;
        SSL_clear_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
    }
}

int uniws__lwstls_put(uniws__lwstls *t, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int chunk = len > (1u << 30) ? 1 << 30 : (int)len;
        int n = BIO_write(t->rbio, p, chunk);
        if (n <= 0) {
            ERR_clear_error();
            return UNIWS_ENOMEM;
        }
        p += n;
        len -= (size_t)n;
    }
    if (BIO_ctrl_pending(t->rbio) > BIO_KEEP)
        grow(t);
    return 0;
}

/* Why a handshake or record operation failed, as one line. */
static void failure(uniws__lwstls *t, int ssl_err, char *msg, size_t msg_size)
{
    long v = SSL_get_verify_result(t->ssl);
    /* With tls_skip_verify OpenSSL still records a verify result but goes
     * on: a later failure is then not the certificate's. */
    if (v != X509_V_OK && SSL_get_verify_mode(t->ssl) != SSL_VERIFY_NONE &&
        !SSL_is_init_finished(t->ssl)) {
        snprintf(msg, msg_size, "certificate verification failed: %s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
        return;
    }
    describe(msg, msg_size, "TLS",
             ssl_err == SSL_ERROR_SYSCALL ? "unexpected end of stream" : "protocol error");
}

int uniws__lwstls_handshake(uniws__lwstls *t, char *msg, size_t msg_size)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return 0;
    }
    failure(t, e, msg, msg_size);
    return UNIWS_ETLS;
}

long uniws__lwstls_read(uniws__lwstls *t, void *buf, size_t cap, char *msg, size_t msg_size)
{
    ERR_clear_error();
    int n = SSL_read(t->ssl, buf, cap > (1u << 30) ? 1 << 30 : (int)cap);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return UNIWS_ERESET;
    }
    failure(t, e, msg, msg_size);
    return UNIWS_ETLS;
}

long uniws__lwstls_write(uniws__lwstls *t, const void *data, size_t len, char *msg, size_t msg_size)
{
    if (len == 0)
        return 0;
    ERR_clear_error();
    int n = SSL_write(t->ssl, data, len > (1u << 30) ? 1 << 30 : (int)len);
    if (n > 0) {
        if (BIO_ctrl_pending(t->wbio) > BIO_KEEP)
            grow(t);
        return n;
    }
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        /* A renegotiation is waiting for the peer; try again later. */
        ERR_clear_error();
        return 0;
    }
    failure(t, e, msg, msg_size);
    return UNIWS_ETLS;
}

size_t uniws__lwstls_pending(uniws__lwstls *t)
{
    return BIO_ctrl_pending(t->wbio);
}

size_t uniws__lwstls_take(uniws__lwstls *t, void *buf, size_t cap)
{
    int n = BIO_read(t->wbio, buf, cap > (1u << 30) ? 1 << 30 : (int)cap);
    if (n <= 0) {
        ERR_clear_error();
        return 0;
    }
    return (size_t)n;
}

int uniws__lwstls_grown(const uniws__lwstls *t)
{
    return t && t->grown;
}

/* A fresh, empty memory BIO for *slot when the old one holds no bytes (the
 * SSL frees the old one, and with it its buffer). 1 when it could not. */
static int renew(uniws__lwstls *t, BIO **slot, int is_read)
{
    if (BIO_ctrl_pending(*slot) > 0)
        return 1;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) {
        ERR_clear_error();
        return 1;
    }
    if (is_read) {
        BIO_set_mem_eof_return(b, -1);
        SSL_set0_rbio(t->ssl, b);
    } else {
        SSL_set0_wbio(t->ssl, b);
    }
    *slot = b;
    return 0;
}

int uniws__lwstls_trim(uniws__lwstls *t)
{
    if (!t || !t->grown)
        return 0;
    /* Both BIOs are ours alone only once the handshake is over (OpenSSL
     * puts a buffering BIO in front of the write side during it). */
    if (!SSL_is_init_finished(t->ssl))
        return 1;
    int r = renew(t, &t->rbio, 1);
    r |= renew(t, &t->wbio, 0);
    /* Not with a partial record in: OpenSSL before 3.0.14 freed that too
     * (CVE-2024-4741). */
    if (r || SSL_has_pending(t->ssl) || SSL_free_buffers(t->ssl) != 1)
        return 1;
    SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
    t->grown = 0;
    return 0;
}
