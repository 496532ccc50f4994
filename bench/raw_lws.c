/*
 * raw_lws.c — the raw-libwebsockets baseline: a minimal client in lws's
 * normal ws client role (lws frames, masks and parses) doing the same
 * workloads as `uniws bench`, with the same checks and output. It does what
 * any application that wants whole messages does with lws: one lws_write()
 * per WRITEABLE callback from a LWS_PRE-padded buffer, and fragments
 * appended until the final one (checked in place when a message arrives in
 * one piece).
 *
 * wss:// uses lws's own client TLS (OpenSSL underneath): the chain is
 * verified against --ca FILE (or the system store) and the host name
 * against the certificate, as lws does by default; --insecure turns both
 * off (self-signed, host name and insecure flags).
 */
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "workload.h"

typedef struct pss {
    long idx; /* connection mode: this socket's message number, -1 before open */
    int opened, echoed, closed, want_close;
} pss;

static struct {
    uniws__bench_cfg cfg;
    uniws__bench_payload pl;
    uniws__bench_verify v;
    uniws__bench_rtt rtt;
    uint8_t *tx;  /* LWS_PRE + size */
    uint8_t *msg; /* reassembly */
    size_t mlen;
    long sent, got;
    uint64_t t0, t1, c0, c1;
    int done;    /* throughput: the socket is gone */
    int closing; /* throughput: all echoes in, close requested */
    /* connection mode */
    struct lws **wsis;
    long next_idx, opened, echoed, closed, failed;
    int phase; /* 0 opening, 1 echoing, 2 idle, 3 closing */
    int tls;   /* wss:// */
    char tls_desc[128];
} g;

static int send_one(struct lws *wsi, uint64_t seq)
{
    /* lws masks in place, so the buffer is rebuilt for every message. */
    memcpy(g.tx + LWS_PRE, uniws__bench_payload_make(&g.pl, seq), g.cfg.size);
    int n =
        lws_write(wsi, g.tx + LWS_PRE, g.cfg.size, g.cfg.text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
    if (n < (int)g.cfg.size) {
        uniws__bench_verify_fail(&g.v, "lws_write failed for message %llu",
                                 (unsigned long long)seq);
        return -1;
    }
    return 0;
}

/* Gathers a message; returns it (and its length) once complete, else NULL. */
static const uint8_t *gather(struct lws *wsi, const void *in, size_t len, size_t *out_len)
{
    int final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (final && g.mlen == 0) {
        *out_len = len;
        return in;
    }
    if (g.mlen + len > g.cfg.size + 1) {
        uniws__bench_verify_fail(&g.v, "echo larger than the message sent");
        return NULL;
    }
    memcpy(g.msg + g.mlen, in, len);
    g.mlen += len;
    if (!final)
        return NULL;
    *out_len = g.mlen;
    g.mlen = 0;
    return g.msg;
}

static int cb_throughput(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        uniws__bench_verify_fail(&g.v, "connection failed: %s",
                                 in ? (const char *)in : "(no reason)");
        g.done = 1;
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (g.tls && lws_get_ssl(wsi))
            snprintf(g.tls_desc, sizeof g.tls_desc, "%s %s", SSL_get_version(lws_get_ssl(wsi)),
                     SSL_get_cipher_name(lws_get_ssl(wsi)));
        g.t0 = uniws__bench_now_ns();
        g.c0 = uniws__bench_cpu_ns(0);
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (g.closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (g.sent < g.cfg.count && g.sent - g.got < g.cfg.window) {
            uniws__bench_rtt_sent(&g.rtt, (uint64_t)g.sent, uniws__bench_now_ns());
            if (send_one(wsi, (uint64_t)g.sent))
                return -1;
            g.sent++;
            if (g.sent < g.cfg.count && g.sent - g.got < g.cfg.window)
                lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        size_t ml;
        const uint8_t *m = gather(wsi, in, len, &ml);
        if (!m)
            return g.v.errors ? -1 : 0;
        uniws__bench_rtt_echo(&g.rtt, (uint64_t)g.got, uniws__bench_now_ns());
        if (g.got >= g.cfg.count) {
            uniws__bench_verify_fail(&g.v, "more echoes than messages sent");
            return -1;
        }
        int last = g.got + 1 == g.cfg.count;
        if (uniws__bench_verify_echo(&g.v, m, ml, !lws_frame_is_binary(wsi), last))
            return -1;
        g.got++;
        if (last) {
            g.t1 = uniws__bench_now_ns();
            g.c1 = uniws__bench_cpu_ns(0);
            g.closing = 1;
        }
        lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        g.done = 1;
        if (g.got < g.cfg.count && g.v.errors == 0)
            uniws__bench_verify_fail(&g.v, "closed after %ld of %ld echoes", g.got, g.cfg.count);
        break;
    default:
        break;
    }
    return 0;
}

static int cb_connections(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    pss *p = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        g.failed++;
        uniws__bench_verify_fail(&g.v, "connection failed: %s",
                                 in ? (const char *)in : "(no reason)");
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        p->idx = g.next_idx++;
        p->opened = 1;
        g.opened++;
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (p->want_close) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (g.phase == 1 && !p->echoed)
            return send_one(wsi, (uint64_t)p->idx);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        int final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
        if (!final || p->echoed) {
            uniws__bench_verify_fail(&g.v, "socket %ld: fragmented or repeated echo", p->idx);
            return -1;
        }
        p->echoed = 1;
        g.echoed++;
        uniws__bench_verify_one(&g.v, in, len, !lws_frame_is_binary(wsi), (uint64_t)p->idx,
                                p->idx % 97 == 0);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (p && !p->closed) {
            p->closed = 1;
            g.closed++;
        }
        break;
    default:
        break;
    }
    return 0;
}

static struct lws_context *make_context(lws_callback_function *cb, size_t pss_size)
{
    static struct lws_protocols protocols[2];
    protocols[0].name = "bench";
    protocols[0].callback = cb;
    protocols[0].per_session_data_size = pss_size;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    /* lws's own handshake timeouts (20 s by default) must not end a run
     * before its --timeout does: 10,000 TLS handshakes on a busy machine
     * take longer. */
    info.timeout_secs = (unsigned int)g.cfg.timeout_s;
    if (g.tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = g.cfg.ca_file;
    }
    return lws_create_context(&info);
}

static struct lws *dial(struct lws_context *ctx, const char *host, int port, const char *path,
                        struct lws **slot)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.local_protocol_name = "bench";
    ci.pwsi = slot;
    if (g.tls)
        ci.ssl_connection =
            LCCSCF_USE_SSL | (g.cfg.insecure ? LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_INSECURE |
                                                   LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                                             : 0);
    return lws_client_connect_via_info(&ci);
}

static void on_deadline(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

/* Serves until done() or the deadline. lws_service() sleeps until lws's own
 * next timer (tens of seconds when nothing is due), so the deadline is an
 * lws timer, as a raw lws program that must act at a time would set one:
 * the idle window ends when it should, as every other client's does. */
static void serve_until(struct lws_context *ctx, int (*done)(void), uint64_t deadline)
{
    lws_sorted_usec_list_t sul;
    memset(&sul, 0, sizeof sul);
    uint64_t now = uniws__bench_now_ns();
    if (deadline > now)
        lws_sul_schedule(ctx, 0, &sul, on_deadline, (lws_usec_t)((deadline - now) / 1000 + 1));
    while (!done() && uniws__bench_now_ns() < deadline)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_sul_cancel(&sul);
}

static int tp_done(void)
{
    return g.done;
}
static int cn_open_done(void)
{
    return g.opened + g.failed >= g.cfg.connections;
}
static int cn_echo_done(void)
{
    return g.echoed + g.failed >= g.cfg.connections || g.v.errors > 0;
}
static int cn_closed(void)
{
    return g.closed + g.failed >= g.cfg.connections;
}
static int never(void)
{
    return 0;
}

int main(int argc, char **argv)
{
    g.cfg = (uniws__bench_cfg){
        .tool = "raw-lws", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int st = uniws__bench_parse_baseline(&g.cfg, argc, argv);
    if (st >= 0)
        return st;
    char host[256], path[512];
    int port;
    if (!g.cfg.url ||
        uniws__bench_split_url(g.cfg.url, host, sizeof host, &port, path, sizeof path)) {
        fprintf(stderr, "raw-lws: needs --url ws://127.0.0.1:PORT/ (or wss://)\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    g.tls = uniws__bench_url_tls(g.cfg.url);
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(LLL_ERR, NULL);
    g.tx = malloc(LWS_PRE + g.cfg.size);
    g.msg = malloc(g.cfg.size + 1);
    if (!g.tx || !g.msg || uniws__bench_payload_init(&g.pl, g.cfg.size) ||
        uniws__bench_rtt_init(&g.rtt, g.cfg.window, g.cfg.count))
        return UNIWS__BENCH_EXIT_FAILED;
    uniws__bench_verify_init(&g.v, &g.pl, g.cfg.text);
    uniws__bench_result res = {.cfg = &g.cfg};
    char backend[64];
    snprintf(backend, sizeof backend, "libwebsockets %s", lws_get_library_version());
    res.backend = backend;
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)g.cfg.timeout_s * 1000000000u;

    if (g.cfg.connections == 0) {
        struct lws_context *ctx = make_context(cb_throughput, 0);
        struct lws *wsi = NULL;
        if (!ctx || !dial(ctx, host, port, path, &wsi)) {
            fprintf(stderr, "raw-lws: could not start the connection\n");
            return UNIWS__BENCH_EXIT_FAILED;
        }
        serve_until(ctx, tp_done, deadline);
        if (!g.done)
            uniws__bench_verify_fail(&g.v, "timed out after %ld of %ld echoes", g.got, g.cfg.count);
        lws_context_destroy(ctx);
        if (g.t1) {
            res.secs = (double)(g.t1 - g.t0) / 1e9;
            res.cpu_secs = (double)(g.c1 - g.c0) / 1e9;
        }
        res.p50_us = uniws__bench_rtt_pct(&g.rtt, 50);
        res.p99_us = uniws__bench_rtt_pct(&g.rtt, 99);
        res.echoes = g.got;
    } else {
        long n = g.cfg.connections;
        uniws__bench_raise_nofile();
        struct lws_context *ctx = make_context(cb_connections, sizeof(pss));
        g.wsis = calloc((size_t)n, sizeof *g.wsis);
        if (!ctx || !g.wsis)
            return UNIWS__BENCH_EXIT_FAILED;
        long rss0 = uniws__bench_rss_kib();
        uint64_t t0 = uniws__bench_now_ns();
        for (long i = 0; i < n; i++)
            if (!dial(ctx, host, port, path, &g.wsis[i]))
                g.failed++;
        serve_until(ctx, cn_open_done, deadline);
        uint64_t t1 = uniws__bench_now_ns();
        g.phase = 1;
        for (long i = 0; i < n; i++)
            if (g.wsis[i])
                lws_callback_on_writable(g.wsis[i]);
        serve_until(ctx, cn_echo_done, deadline);
        uint64_t t2 = uniws__bench_now_ns();
        res.opened = g.opened;
        res.open_ms = (double)(t1 - t0) / 1e6;
        res.echo_ms = (double)(t2 - t1) / 1e6;
        res.rss_per_conn_kib = (double)(uniws__bench_rss_kib() - rss0) / (double)n;
        if (g.echoed + g.failed < n)
            uniws__bench_verify_fail(&g.v, "timed out with %ld of %ld echoes", g.echoed, n);
        if (g.cfg.idle_ms > 0 && g.v.errors == 0) {
            g.phase = 2;
            uint64_t c0 = uniws__bench_cpu_ns(0), w0 = uniws__bench_now_ns();
            long z0 = uniws__bench_switches(0);
            serve_until(ctx, never, w0 + (uint64_t)g.cfg.idle_ms * 1000000u);
            uint64_t c1 = uniws__bench_cpu_ns(0), w1 = uniws__bench_now_ns();
            long z1 = uniws__bench_switches(0);
            res.idle_cpu_pct = 100.0 * (double)(c1 - c0) / (double)(w1 - w0);
            res.idle_wakeups_per_s = (double)(z1 - z0) * 1e9 / (double)(w1 - w0);
        }
        g.phase = 3;
        for (long i = 0; i < n; i++)
            if (g.wsis[i]) {
                pss *p = lws_wsi_user(g.wsis[i]);
                if (p)
                    p->want_close = 1;
                lws_callback_on_writable(g.wsis[i]);
            }
        serve_until(ctx, cn_closed, uniws__bench_now_ns() + 10000000000u);
        lws_context_destroy(ctx);
        if (g.failed && g.v.errors == 0)
            uniws__bench_verify_fail(&g.v, "%ld connections failed", g.failed);
        res.echoes = g.echoed;
        free(g.wsis);
    }
    if (g.tls_desc[0])
        res.tls = g.tls_desc;
    res.full_checks = g.v.full;
    res.peak_rss_kib = uniws__bench_peak_rss_kib();
    res.ok = g.v.errors == 0;
    res.error = g.v.first_error;
    uniws__bench_print(&res);
    free(g.tx);
    free(g.msg);
    uniws__bench_rtt_free(&g.rtt);
    uniws__bench_payload_free(&g.pl);
    if (res.ok)
        return UNIWS__BENCH_EXIT_OK;
    return strncmp(g.v.first_error, "echo ", 5) == 0 ? UNIWS__BENCH_EXIT_VERIFY
                                                     : UNIWS__BENCH_EXIT_FAILED;
}
