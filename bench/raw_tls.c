/*
 * raw_tls.c — the TLS-over-TCP baseline (`raw-tls`): raw_tcp's workload with
 * OpenSSL on the socket and no WebSocket at all, against
 * `uniws-bench-server --tls` (which echoes raw bytes after "RAWECHO\n" over
 * TLS too). It is the machine's limit for wss with the same cipher: the same
 * OpenSSL, its default protocol and cipher choice (as libwebsockets, libcurl
 * and uniws use it; printed as "tls" in the output), and the same
 * verification rules as the WebSocket clients (--ca FILE, or --insecure, else
 * the system store; the host name or IP checked against the certificate).
 * Per byte it does what the others must do too: encrypt, decrypt, and the
 * shared echo checks (workload.h); small messages are written in batches,
 * reads are as large as OpenSSL gives (read-ahead on): the batched echo
 * client (echo_client.c) over SSL_read() and SSL_write().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "echo_client.h"

static void tls_fail(uniws__bench_verify *v, const char *what)
{
    char buf[200] = "unknown error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    uniws__bench_verify_fail(v, "%s: %s", what, buf);
    ERR_clear_error();
}

/* The client context: verification as the WebSocket clients do it. */
static SSL_CTX *make_ctx(const uniws__bench_cfg *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    if (cfg->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if ((cfg->ca_file ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                          : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
    return ctx;
}

/* TLS handshake on the non-blocking socket, then the raw-echo magic. */
static SSL *start_tls(SSL_CTX *ctx, int fd, const char *host, uint64_t deadline,
                      uniws__bench_verify *v)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        tls_fail(v, "SSL_new");
        SSL_free(ssl);
        return NULL;
    }
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1;
    /* The certificate must name what was dialled: an IP literal as an
     * address (and no SNI, which takes host names only). */
    X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
    if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
               : X509_VERIFY_PARAM_set1_host(vp, host, 0)) != 1 ||
        (!is_ip && SSL_set_tlsext_host_name(ssl, host) != 1)) {
        tls_fail(v, "setting the host to verify");
        SSL_free(ssl);
        return NULL;
    }
    for (;;) {
        int r = SSL_connect(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            uniws__bench_now_ns() > deadline) {
            long vr = SSL_get_verify_result(ssl);
            if (vr != X509_V_OK)
                uniws__bench_verify_fail(v, "TLS handshake: certificate: %s",
                                         X509_verify_cert_error_string(vr));
            else
                tls_fail(v, "TLS handshake");
            SSL_free(ssl);
            return NULL;
        }
        uniws__echo_wait_fd(fd, e == SSL_ERROR_WANT_READ, e == SSL_ERROR_WANT_WRITE);
    }
    static const char magic[] = "RAWECHO\n";
    for (;;) {
        int w = SSL_write(ssl, magic, (int)sizeof magic - 1);
        if (w == (int)sizeof magic - 1)
            return ssl;
        int e = SSL_get_error(ssl, w);
        if (w > 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)) {
            tls_fail(v, "write");
            SSL_free(ssl);
            return NULL;
        }
        uniws__echo_wait_fd(fd, e == SSL_ERROR_WANT_READ, e == SSL_ERROR_WANT_WRITE);
    }
}

typedef struct tls_io {
    SSL *ssl;
    int fd;
    int want_write; /* the last SSL_write wanted the socket writable */
    uniws__bench_verify *v;
} tls_io;

static long tls_write(void *ctx, const uint8_t *buf, size_t len)
{
    tls_io *t = ctx;
    int w = SSL_write(t->ssl, buf, len > (1u << 30) ? 1 << 30 : (int)len);
    if (w > 0)
        return w;
    int e = SSL_get_error(t->ssl, w);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        t->want_write = e == SSL_ERROR_WANT_WRITE;
        return UNIWS__ECHO_AGAIN;
    }
    tls_fail(t->v, "SSL_write");
    return UNIWS__ECHO_FAILED;
}

static long tls_read(void *ctx, uint8_t *buf, size_t len)
{
    tls_io *t = ctx;
    int r = SSL_read(t->ssl, buf, len > (1u << 30) ? 1 << 30 : (int)len);
    if (r > 0)
        return r;
    int e = SSL_get_error(t->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
            return UNIWS__ECHO_EOF;
        tls_fail(t->v, "SSL_read");
        return UNIWS__ECHO_FAILED;
    }
    ERR_clear_error();
    return UNIWS__ECHO_AGAIN;
}

static void tls_wait(void *ctx, int write_blocked)
{
    tls_io *t = ctx;
    uniws__echo_wait_fd(t->fd, 1, write_blocked && t->want_write);
}

int main(int argc, char **argv)
{
    uniws__bench_cfg cfg = {
        .tool = "raw-tls", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int st = uniws__bench_parse_baseline(&cfg, argc, argv);
    if (st >= 0)
        return st;
    char host[256], path[256];
    int port;
    if (!cfg.url || !uniws__bench_url_tls(cfg.url) || cfg.connections || cfg.size == 0 ||
        uniws__bench_split_url(cfg.url, host, sizeof host, &port, path, sizeof path)) {
        fprintf(stderr, "raw-tls: needs --url wss://127.0.0.1:PORT/ (uniws-bench-server --tls), "
                        "a --size above 0, and no --connections\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    uniws__echo_client c;
    if (uniws__echo_client_init(&c, &cfg)) {
        uniws__echo_client_free(&c);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg.timeout_s * 1000000000u;
    int fd = -1;
    SSL *ssl = NULL;
    SSL_CTX *ctx = make_ctx(&cfg);
    if (!ctx) {
        tls_fail(&c.v, cfg.ca_file ? "loading --ca" : "TLS context");
        fprintf(stderr, "raw-tls: %s\n", c.v.first_error);
        goto failed;
    }
    fd = uniws__echo_dial("raw-tls", host, port, NULL);
    if (fd < 0)
        goto failed;
    ssl = start_tls(ctx, fd, host, deadline, &c.v);
    if (!ssl) {
        fprintf(stderr, "raw-tls: %s\n", c.v.first_error);
        goto failed;
    }
    char tlsdesc[128];
    snprintf(tlsdesc, sizeof tlsdesc, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));

    /* As raw-tcp, small messages go out in batches: one SSL_write, full
     * records, one write() each. Reads are as large as OpenSSL gives. */
    tls_io t = {.ssl = ssl, .fd = fd, .v = &c.v};
    uniws__echo_io io = {.ctx = &t, .write = tls_write, .read = tls_read, .wait = tls_wait};
    uniws__bench_result res = {.cfg = &cfg, .backend = OpenSSL_version(OPENSSL_VERSION)};
    res.tls = tlsdesc;
    uniws__echo_client_run(&c, &io, deadline, &res);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    int status = uniws__echo_client_report(&c, &res);
    uniws__echo_client_free(&c);
    return status;

failed: /* before the first message: nothing to report */
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    uniws__echo_client_free(&c);
    return UNIWS__BENCH_EXIT_FAILED;
}
