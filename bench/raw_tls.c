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
 * reads are as large as OpenSSL gives (read-ahead on).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "report.h"
#include "workload.h"

#define RBUF  (1u << 20)
#define BATCH (64u * 1024)

static uniws__bench_verify v;

static void tls_fail(const char *what)
{
    char buf[200] = "unknown error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    uniws__bench_verify_fail(&v, "%s: %s", what, buf);
    ERR_clear_error();
}

/* Waits up to 100 ms for the socket to be readable and/or writable. */
static void wait_fd(int fd, int rd, int wr)
{
    struct pollfd p = {.fd = fd, .events = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0))};
    poll(&p, 1, 100);
}

static int dial(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) !=
        1) {
        fprintf(stderr, "raw-tls: --url needs a numeric IPv4 host (or localhost)\n");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("raw-tls: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
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
static SSL *start_tls(SSL_CTX *ctx, int fd, const char *host, uint64_t deadline)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        tls_fail("SSL_new");
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
        tls_fail("setting the host to verify");
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
                uniws__bench_verify_fail(&v, "TLS handshake: certificate: %s",
                                         X509_verify_cert_error_string(vr));
            else
                tls_fail("TLS handshake");
            SSL_free(ssl);
            return NULL;
        }
        wait_fd(fd, e == SSL_ERROR_WANT_READ, e == SSL_ERROR_WANT_WRITE);
    }
    static const char magic[] = "RAWECHO\n";
    for (;;) {
        int w = SSL_write(ssl, magic, (int)sizeof magic - 1);
        if (w == (int)sizeof magic - 1)
            return ssl;
        int e = SSL_get_error(ssl, w);
        if (w > 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)) {
            tls_fail("write");
            SSL_free(ssl);
            return NULL;
        }
        wait_fd(fd, e == SSL_ERROR_WANT_READ, e == SSL_ERROR_WANT_WRITE);
    }
}

int main(int argc, char **argv)
{
    uniws__bench_cfg cfg = {
        .tool = "raw-tls", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int pr = uniws__bench_parse(&cfg, argc, argv, NULL, NULL);
    if (pr > 0) {
        uniws__bench_usage("raw-tls", NULL);
        return 0;
    }
    if (pr < 0)
        return UNIWS__BENCH_EXIT_USAGE;
    char host[256], path[256];
    int port;
    if (!cfg.url || !uniws__bench_url_tls(cfg.url) || cfg.connections || cfg.size == 0 ||
        uniws__bench_split_url(cfg.url, host, sizeof host, &port, path, sizeof path)) {
        fprintf(stderr, "raw-tls: needs --url wss://127.0.0.1:PORT/ (uniws-bench-server --tls), "
                        "a --size above 0, and no --connections\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    uniws__bench_payload pl;
    uniws__bench_rtt rtt;
    uint8_t *rbuf = malloc(RBUF), *msg = malloc(cfg.size);
    if (uniws__bench_payload_init(&pl, cfg.size) || !rbuf || !msg ||
        uniws__bench_rtt_init(&rtt, cfg.window, cfg.count))
        return UNIWS__BENCH_EXIT_FAILED;
    uniws__bench_verify_init(&v, &pl, 0);
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg.timeout_s * 1000000000u;
    int fd = -1;
    SSL *ssl = NULL;
    SSL_CTX *ctx = make_ctx(&cfg);
    if (!ctx) {
        tls_fail(cfg.ca_file ? "loading --ca" : "TLS context");
        fprintf(stderr, "raw-tls: %s\n", v.first_error);
        goto failed;
    }
    fd = dial(host, port);
    if (fd < 0)
        goto failed;
    ssl = start_tls(ctx, fd, host, deadline);
    if (!ssl) {
        fprintf(stderr, "raw-tls: %s\n", v.first_error);
        goto failed;
    }
    char tlsdesc[128];
    snprintf(tlsdesc, sizeof tlsdesc, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));

    /* As raw-tcp: small messages that may go out together are written
     * together (one SSL_write: full records, one write() each). */
    size_t per_batch = cfg.size < BATCH ? BATCH / cfg.size : 1;
    uint8_t *batch = per_batch > 1 ? malloc(per_batch * cfg.size) : NULL;
    const uint8_t *wbuf = NULL;
    size_t wlen = 0;
    long sent = 0, got = 0;
    size_t woff = 0, mhave = 0;
    int writing = 0;
    uint64_t t0 = uniws__bench_now_ns(), c0 = uniws__bench_cpu_ns(0);
    while (got < cfg.count && v.errors == 0) {
        int want_write = 0;
        for (;;) {
            if (!writing) {
                long k = cfg.count - sent;
                if (k > cfg.window - (sent - got))
                    k = cfg.window - (sent - got);
                if (k > (long)per_batch)
                    k = (long)per_batch;
                if (k <= 0)
                    break;
                uint64_t now = uniws__bench_now_ns();
                if (batch) {
                    for (long j = 0; j < k; j++) {
                        uniws__bench_payload_make(&pl, (uint64_t)(sent + j));
                        memcpy(batch + (size_t)j * cfg.size, pl.buf, cfg.size);
                        uniws__bench_rtt_sent(&rtt, (uint64_t)(sent + j), now);
                    }
                    wbuf = batch;
                } else {
                    wbuf = uniws__bench_payload_make(&pl, (uint64_t)sent);
                    uniws__bench_rtt_sent(&rtt, (uint64_t)sent, now);
                }
                wlen = (size_t)k * cfg.size;
                sent += k;
                writing = 1;
                woff = 0;
            }
            size_t left = wlen - woff;
            int w = SSL_write(ssl, wbuf + woff, left > (1u << 30) ? 1 << 30 : (int)left);
            if (w <= 0) {
                int e = SSL_get_error(ssl, w);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    want_write = e == SSL_ERROR_WANT_WRITE;
                    break;
                }
                tls_fail("SSL_write");
                break;
            }
            woff += (size_t)w;
            if (woff == wlen)
                writing = 0;
        }
        if (v.errors)
            break;
        int r = SSL_read(ssl, rbuf, (int)RBUF);
        if (r <= 0) {
            int e = SSL_get_error(ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
                    uniws__bench_verify_fail(&v, "the server closed after %ld echoes", got);
                else
                    tls_fail("SSL_read");
                break;
            }
            ERR_clear_error();
            if (uniws__bench_now_ns() > deadline) {
                uniws__bench_verify_fail(&v, "timed out after %ld echoes", got);
                break;
            }
            wait_fd(fd, 1, want_write);
            continue;
        }
        size_t pos = 0, n = (size_t)r;
        while (pos < n) {
            size_t need = cfg.size - mhave, take = n - pos < need ? n - pos : need;
            const uint8_t *m;
            if (mhave == 0 && take == cfg.size) {
                m = rbuf + pos; /* whole message in this read: check in place */
            } else {
                memcpy(msg + mhave, rbuf + pos, take);
                mhave += take;
                m = mhave == cfg.size ? msg : NULL;
            }
            pos += take;
            if (!m)
                continue;
            mhave = 0;
            uniws__bench_rtt_echo(&rtt, (uint64_t)got, uniws__bench_now_ns());
            if (got >= cfg.count) {
                uniws__bench_verify_fail(&v, "more bytes than were sent");
                break;
            }
            got++;
            if (uniws__bench_verify_echo(&v, m, cfg.size, 0, got == cfg.count))
                break;
        }
    }
    uint64_t t1 = uniws__bench_now_ns(), c1 = uniws__bench_cpu_ns(0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);

    uniws__bench_result res = {.cfg = &cfg, .backend = OpenSSL_version(OPENSSL_VERSION)};
    res.tls = tlsdesc;
    res.secs = (double)(t1 - t0) / 1e9;
    res.cpu_secs = (double)(c1 - c0) / 1e9;
    res.p50_us = uniws__bench_rtt_pct(&rtt, 50);
    res.p99_us = uniws__bench_rtt_pct(&rtt, 99);
    res.echoes = got - (v.errors ? 1 : 0);
    res.full_checks = v.full;
    res.peak_rss_kib = uniws__bench_peak_rss_kib();
    res.ok = v.errors == 0;
    res.error = v.first_error;
    uniws__bench_print(&res);
    free(rbuf);
    free(msg);
    free(batch);
    uniws__bench_rtt_free(&rtt);
    uniws__bench_payload_free(&pl);
    if (res.ok)
        return UNIWS__BENCH_EXIT_OK;
    return strncmp(v.first_error, "echo ", 5) == 0 ? UNIWS__BENCH_EXIT_VERIFY
                                                   : UNIWS__BENCH_EXIT_FAILED;

failed: /* before the first message: nothing to report */
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    free(rbuf);
    free(msg);
    uniws__bench_rtt_free(&rtt);
    uniws__bench_payload_free(&pl);
    return UNIWS__BENCH_EXIT_FAILED;
}
