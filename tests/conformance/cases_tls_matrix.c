/*
 * cases_tls_matrix.c — the TLS matrix (issue 12): a good certificate, an
 * expired one, the wrong host (by name and by IP), a self-signed one, an
 * unrelated CA, and mutual TLS with the client certificate given, missing,
 * or with a key that does not match. Every failure must be UNIWS_ETLS on
 * every backend, before the socket opens, with a message naming the reason.
 * The peers are started by the native runner (runner.c, start_tls_matrix)
 * with the certificates of tests/conformance/CMakeLists.txt.
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* wss://HOST:port/echo, or fails the case when that peer is missing. */
static const char *matrix_url(cx *c, char *buf, size_t size, const char *host, int port,
                              const char *what)
{
    if (!port && !(c->env->info.caps & UNIWS_CAP_TLS_CA_FILE)) {
        /* The WebAssembly runners use `uniws serve` and start no matrix
         * peers; the browser's own verification is wss_verify_default's. */
        c->unsupported = 1;
        snprintf(c->detail, sizeof c->detail,
                 "needs the native runner's TLS-matrix peers (%s certificate)", what);
        return NULL;
    }
    if (!port) {
        FAILF(c, "no %s TLS peer in this run (certificates missing: openssl CLI?)", what);
        return NULL;
    }
    snprintf(buf, size, "wss://%s:%d/echo", host, port);
    return buf;
}

/* 1 when msg holds one of the words (without case), else fails the case. */
static int names_reason(cx *c, const char *msg, const char *const *words)
{
    char low[192];
    size_t i = 0;
    for (; msg[i] && i + 1 < sizeof low; i++)
        low[i] = (char)((msg[i] >= 'A' && msg[i] <= 'Z') ? msg[i] + 32 : msg[i]);
    low[i] = 0;
    for (; *words; words++)
        if (strstr(low, *words))
            return 1;
    return FAILF(c, "the error message does not say why: \"%s\"", msg);
}

/* Connects, expects ETLS before open, and a message with one of words. */
static void expect_tls_failure(cx *c, const char *url, const uniws_options *o,
                               const char *const *words)
{
    rec *r = cx_connect(c, url, o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_ETLS, 0));
    if (!(c->env->info.caps & UNIWS_CAP_RAW_FRAMES))
        return; /* a browser says nothing of why (expect_failure noted it) */
    const conf_ev *e = rec_first(r, EV_ERROR);
    TRY(names_reason(c, e->message, words));
    snprintf(c->note, sizeof c->note, "%.200s", e->message);
}

static void with_ca(const cx *c, uniws_options *o)
{
    memset(o, 0, sizeof *o);
    o->tls_ca_file = c->env->ca_file;
}

/* The matrix's good row: the test CA, the right host, an echo. */
void case_tls_good(cx *c, const conf_case *k)
{
    (void)k;
    char url[128];
    uniws_options o;
    with_ca(c, &o);
    TRY(cx_wss_url(c, url, sizeof url, "/echo"));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "tls", 3), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "tls", 3));
    TRY(close_and_wait(r));
}

void case_tls_expired(cx *c, const conf_case *k)
{
    (void)k;
    char url[128];
    uniws_options o;
    with_ca(c, &o);
    static const char *const words[] = {"expired", NULL};
    TRY(matrix_url(c, url, sizeof url, "127.0.0.1", c->env->tls_expired_port, "expired"));
    expect_tls_failure(c, url, &o, words);
}

/* arg 0: by IP (127.0.0.1); 1: by name (localhost). */
void case_tls_wrong_host(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    with_ca(c, &o);
    static const char *const words[] = {"mismatch", "match", "host", "name", NULL};
    TRY(matrix_url(c, url, sizeof url, k->arg ? "localhost" : "127.0.0.1",
                   c->env->tls_wronghost_port, "wrong-host"));
    expect_tls_failure(c, url, &o, words);
}

/* arg 0: with the test CA given; 1: with the system store only. */
void case_tls_self_signed(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    with_ca(c, &o);
    if (k->arg)
        o.tls_ca_file = NULL;
    static const char *const words[] = {"self-signed", "self signed", NULL};
    TRY(matrix_url(c, url, sizeof url, "127.0.0.1", c->env->tls_selfsigned_port, "self-signed"));
    expect_tls_failure(c, url, &o, words);
}

void case_tls_unrelated_ca(cx *c, const conf_case *k)
{
    (void)k;
    char url[128];
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.tls_ca_file = c->env->other_ca_file;
    static const char *const words[] = {"issuer", "unknown ca", "verify", NULL};
    TRY(cx_wss_url(c, url, sizeof url, "/echo"));
    expect_tls_failure(c, url, &o, words);
}

/* Mutual TLS. arg 0: the client certificate given (works); 1: none given;
 * 2: given with a key that does not match it. */
void case_tls_client_cert(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    with_ca(c, &o);
    TRY(matrix_url(c, url, sizeof url, "127.0.0.1", c->env->tls_mtls_port, "mutual-TLS"));
    CHECK(c, c->env->client_cert && c->env->client_other_key,
          "no client certificate in this run (certificates missing: openssl CLI?)");
    if (k->arg != 1) {
        o.tls_client_cert = c->env->client_cert;
        o.tls_client_key = k->arg == 2 ? c->env->client_other_key : c->env->client_key;
    }
    if (k->arg == 0) {
        rec *r = cx_connect(c, url, &o);
        TRY(r);
        TRY(rec_wait_open(r));
        CHECK_RC(c, uniws_send_text(r->s, "mtls", 4), 0);
        TRY(rec_wait_msgs(r, 1));
        TRY(expect_msg(r, 0, UNIWS_TEXT, "mtls", 4));
        TRY(close_and_wait(r));
        return;
    }
    static const char *const missing[] = {"certificate required", "client certificate", NULL};
    static const char *const mismatch[] = {"key", NULL};
    expect_tls_failure(c, url, &o, k->arg == 1 ? missing : mismatch);
}
