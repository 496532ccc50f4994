/*
 * raw_curl.c — the raw-libcurl baseline: a minimal client on libcurl's own
 * WebSocket API (CURLOPT_CONNECT_ONLY = 2, then curl_ws_send / curl_ws_recv,
 * curl framing and masking) doing the same workloads as `uniws bench`, with
 * the same checks and output. Non-blocking: it sends while the window allows,
 * drains curl_ws_recv until CURLE_AGAIN, and polls the socket in between.
 * --connections opens the sockets at once through one multi handle, then
 * echoes on all of them through one epoll set.
 *
 * wss:// uses libcurl's TLS with its default verification (chain and host
 * name), against --ca FILE (CURLOPT_CAINFO) or the system store; --insecure
 * turns both off (CURLOPT_SSL_VERIFYPEER and VERIFYHOST 0). (libcurl does not
 * show its SSL handle after a CONNECT_ONLY WebSocket upgrade, so unlike
 * raw-lws and raw-tls it cannot print the negotiated cipher; it is the same
 * OpenSSL with the same defaults.)
 */
#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "report.h"
#include "workload.h"

#define RBUF (1u << 20)

static uniws__bench_cfg cfg;
static uniws__bench_payload pl;
static uniws__bench_verify v;
static uint8_t *rbuf, *msg;
static size_t mhave;

/* TLS settings for wss:// (harmless for ws://). */
static void set_tls(CURL *c)
{
    if (cfg.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg.ca_file);
    if (cfg.insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static CURL *open_ws(const char *url)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 2L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    set_tls(c);
    CURLcode r = curl_easy_perform(c);
    if (r != CURLE_OK) {
        uniws__bench_verify_fail(&v, "connect: %s", curl_easy_strerror(r));
        curl_easy_cleanup(c);
        return NULL;
    }
    return c;
}

static curl_socket_t sock_of(CURL *c)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd);
    return fd;
}

static void close_ws(CURL *c)
{
    static const uint8_t normal[2] = {0x03, 0xe8}; /* 1000 */
    size_t sent;
    curl_ws_send(c, normal, sizeof normal, &sent, 0, CURLWS_CLOSE);
    curl_easy_cleanup(c);
}

/* Reads what is there. Calls on_msg for each whole data message; returns 0
 * when the socket ran dry (CURLE_AGAIN), -1 on an error or a close. */
static int drain(CURL *c, int (*on_msg)(const uint8_t *m, size_t len, int text, void *ctx),
                 void *ctx)
{
    for (;;) {
        size_t n = 0;
        const struct curl_ws_frame *meta = NULL;
        CURLcode r = curl_ws_recv(c, rbuf, RBUF, &n, &meta);
        if (r == CURLE_AGAIN)
            return 0;
        if (r != CURLE_OK) {
            uniws__bench_verify_fail(&v, "curl_ws_recv: %s", curl_easy_strerror(r));
            return -1;
        }
        if (meta->flags & CURLWS_CLOSE) {
            uniws__bench_verify_fail(&v, "the server closed the connection");
            return -1;
        }
        if (!(meta->flags & (CURLWS_TEXT | CURLWS_BINARY)))
            continue; /* ping / pong: curl answers pings itself */
        int done = meta->bytesleft == 0 && !(meta->flags & CURLWS_CONT);
        const uint8_t *m;
        size_t ml;
        if (done && mhave == 0) {
            m = rbuf;
            ml = n;
        } else {
            if (mhave + n > cfg.size + 1) {
                uniws__bench_verify_fail(&v, "echo larger than the message sent");
                return -1;
            }
            memcpy(msg + mhave, rbuf, n);
            mhave += n;
            if (!done)
                continue;
            m = msg;
            ml = mhave;
            mhave = 0;
        }
        if (on_msg(m, ml, (meta->flags & CURLWS_TEXT) != 0, ctx))
            return -1;
    }
}

/* ---- throughput ------------------------------------------------------------- */

typedef struct tp {
    uniws__bench_rtt rtt;
    long sent, got;
} tp;

static int tp_msg(const uint8_t *m, size_t len, int text, void *ctx)
{
    tp *t = ctx;
    uniws__bench_rtt_echo(&t->rtt, (uint64_t)t->got, uniws__bench_now_ns());
    if (t->got >= cfg.count) {
        uniws__bench_verify_fail(&v, "more echoes than messages sent");
        return -1;
    }
    if (uniws__bench_verify_echo(&v, m, len, text, t->got + 1 == cfg.count))
        return -1;
    t->got++; /* a verified echo */
    return 0;
}

static int throughput(CURL *c, uniws__bench_result *res)
{
    tp t = {0};
    if (uniws__bench_rtt_init(&t.rtt, cfg.window, cfg.count))
        return -1;
    curl_socket_t fd = sock_of(c);
    unsigned flags = cfg.text ? CURLWS_TEXT : CURLWS_BINARY;
    int writing = 0;
    size_t woff = 0;
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg.timeout_s * 1000000000u;
    uint64_t t0 = uniws__bench_now_ns(), c0 = uniws__bench_cpu_ns(0);
    while (t.got < cfg.count && v.errors == 0) {
        int blocked = 0;
        for (;;) {
            if (!writing) {
                if (t.sent >= cfg.count || t.sent - t.got >= cfg.window)
                    break;
                uniws__bench_payload_make(&pl, (uint64_t)t.sent);
                uniws__bench_rtt_sent(&t.rtt, (uint64_t)t.sent, uniws__bench_now_ns());
                writing = 1;
                woff = 0;
            }
            size_t sent = 0;
            CURLcode r = curl_ws_send(c, pl.buf + woff, cfg.size - woff, &sent, 0, flags);
            if (r == CURLE_AGAIN) {
                blocked = 1;
                break;
            }
            if (r != CURLE_OK) {
                uniws__bench_verify_fail(&v, "curl_ws_send: %s", curl_easy_strerror(r));
                break;
            }
            woff += sent;
            if (woff == cfg.size) {
                writing = 0;
                t.sent++;
            } else if (sent == 0) {
                blocked = 1;
                break;
            }
        }
        long before = t.got;
        if (v.errors || drain(c, tp_msg, &t) != 0)
            break;
        if (t.got == before) {
            if (uniws__bench_now_ns() > deadline) {
                uniws__bench_verify_fail(&v, "timed out after %ld echoes", t.got);
                break;
            }
            struct pollfd p = {.fd = fd, .events = POLLIN | (blocked ? POLLOUT : 0)};
            poll(&p, 1, 100);
        }
    }
    uint64_t t1 = uniws__bench_now_ns(), c1 = uniws__bench_cpu_ns(0);
    res->secs = (double)(t1 - t0) / 1e9;
    res->cpu_secs = (double)(c1 - c0) / 1e9;
    res->p50_us = uniws__bench_rtt_pct(&t.rtt, 50);
    res->p99_us = uniws__bench_rtt_pct(&t.rtt, 99);
    res->echoes = t.got;
    uniws__bench_rtt_free(&t.rtt);
    return 0;
}

/* ---- connections --------------------------------------------------------------- */

typedef struct cn {
    long idx;
    int echoed;
} cn;

static long echoed_total;

static int cn_msg(const uint8_t *m, size_t len, int text, void *ctx)
{
    cn *k = ctx;
    if (k->echoed) {
        uniws__bench_verify_fail(&v, "socket %ld: a second echo", k->idx);
        return -1;
    }
    k->echoed = 1;
    echoed_total++;
    return uniws__bench_verify_one(&v, m, len, text, (uint64_t)k->idx, k->idx % 97 == 0);
}

static void connections(uniws__bench_result *res)
{
    long n = cfg.connections, opened = 0;
    uniws__bench_raise_nofile();
    CURL **hs = calloc((size_t)n, sizeof *hs);
    cn *ks = calloc((size_t)n, sizeof *ks);
    int ep = epoll_create1(0);
    if (!hs || !ks || ep < 0) {
        uniws__bench_verify_fail(&v, "out of memory");
        return;
    }
    long rss0 = uniws__bench_rss_kib();
    uint64_t t0 = uniws__bench_now_ns();
    /* One multi handle opens them all at once (a handle per socket would cost
     * a wake-up descriptor each); the handles stay in it, as curl_ws_send and
     * curl_ws_recv need. */
    CURLM *multi = curl_multi_init();
    for (long i = 0; i < n && multi; i++) {
        ks[i].idx = i;
        hs[i] = curl_easy_init();
        if (!hs[i])
            break;
        curl_easy_setopt(hs[i], CURLOPT_URL, cfg.url);
        curl_easy_setopt(hs[i], CURLOPT_CONNECT_ONLY, 2L);
        curl_easy_setopt(hs[i], CURLOPT_TCP_NODELAY, 1L);
        set_tls(hs[i]);
        curl_easy_setopt(hs[i], CURLOPT_PRIVATE, (void *)&ks[i]);
        curl_multi_add_handle(multi, hs[i]);
    }
    uint64_t open_deadline = uniws__bench_now_ns() + (uint64_t)cfg.timeout_s * 1000000000u;
    int running = 1;
    while (multi && running && uniws__bench_now_ns() < open_deadline) {
        curl_multi_perform(multi, &running);
        int q;
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &q))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            cn *k = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&k);
            if (m->data.result != CURLE_OK) {
                uniws__bench_verify_fail(&v, "connect: %s", curl_easy_strerror(m->data.result));
                continue;
            }
            opened++;
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)k->idx};
            epoll_ctl(ep, EPOLL_CTL_ADD, sock_of(m->easy_handle), &ev);
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    uint64_t t1 = uniws__bench_now_ns();
    unsigned flags = cfg.text ? CURLWS_TEXT : CURLWS_BINARY;
    for (long i = 0; i < n && v.errors == 0; i++) {
        size_t sent = 0;
        if (!hs[i] || sock_of(hs[i]) == CURL_SOCKET_BAD)
            continue;
        CURLcode r = curl_ws_send(hs[i], uniws__bench_payload_make(&pl, (uint64_t)i), cfg.size,
                                  &sent, 0, flags);
        if (r != CURLE_OK || sent != cfg.size)
            uniws__bench_verify_fail(&v, "socket %ld: curl_ws_send: %s", i, curl_easy_strerror(r));
    }
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg.timeout_s * 1000000000u;
    struct epoll_event evs[256];
    while (echoed_total < opened && v.errors == 0 && uniws__bench_now_ns() < deadline) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int j = 0; j < k; j++) {
            long i = (long)evs[j].data.u64;
            if (drain(hs[i], cn_msg, &ks[i]) != 0)
                break;
        }
    }
    uint64_t t2 = uniws__bench_now_ns();
    res->opened = opened;
    res->open_ms = (double)(t1 - t0) / 1e6;
    res->echo_ms = (double)(t2 - t1) / 1e6;
    res->rss_per_conn_kib = (double)(uniws__bench_rss_kib() - rss0) / (double)n;
    if (echoed_total < n && v.errors == 0)
        uniws__bench_verify_fail(&v, "%ld of %ld echoes", echoed_total, n);
    if (cfg.idle_ms > 0 && v.errors == 0) {
        uint64_t c0 = uniws__bench_cpu_ns(0), w0 = uniws__bench_now_ns();
        long z0 = uniws__bench_switches(0);
        uint64_t end = w0 + (uint64_t)cfg.idle_ms * 1000000u;
        while (uniws__bench_now_ns() < end) {
            int k = epoll_wait(ep, evs, 256, (int)((end - uniws__bench_now_ns()) / 1000000u) + 1);
            for (int j = 0; j < k; j++)
                drain(hs[(long)evs[j].data.u64], cn_msg, &ks[(long)evs[j].data.u64]);
        }
        uint64_t c1 = uniws__bench_cpu_ns(0), w1 = uniws__bench_now_ns();
        long z1 = uniws__bench_switches(0);
        res->idle_cpu_pct = 100.0 * (double)(c1 - c0) / (double)(w1 - w0);
        res->idle_wakeups_per_s = (double)(z1 - z0) * 1e9 / (double)(w1 - w0);
    }
    res->echoes = echoed_total;
    for (long i = 0; i < n; i++)
        if (hs[i]) {
            static const uint8_t normal[2] = {0x03, 0xe8}; /* 1000 */
            size_t sent;
            curl_ws_send(hs[i], normal, sizeof normal, &sent, 0, CURLWS_CLOSE);
            curl_multi_remove_handle(multi, hs[i]);
            curl_easy_cleanup(hs[i]);
        }
    curl_multi_cleanup(multi);
    close(ep);
    free(hs);
    free(ks);
}

int main(int argc, char **argv)
{
    cfg = (uniws__bench_cfg){
        .tool = "raw-curl", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int st = uniws__bench_parse_baseline(&cfg, argc, argv);
    if (st >= 0)
        return st;
    if (!cfg.url || (strncmp(cfg.url, "ws://", 5) != 0 && !uniws__bench_url_tls(cfg.url))) {
        fprintf(stderr, "raw-curl: needs --url ws://127.0.0.1:PORT/ (or wss://)\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rbuf = malloc(RBUF);
    msg = malloc(cfg.size + 1);
    if (!rbuf || !msg || uniws__bench_payload_init(&pl, cfg.size))
        return UNIWS__BENCH_EXIT_FAILED;
    uniws__bench_verify_init(&v, &pl, cfg.text);
    uniws__bench_result res = {.cfg = &cfg};
    char backend[64];
    snprintf(backend, sizeof backend, "libcurl %s", curl_version_info(CURLVERSION_NOW)->version);
    res.backend = backend;

    int status = UNIWS__BENCH_EXIT_OK;
    if (cfg.connections > 0) {
        connections(&res);
    } else {
        CURL *c = open_ws(cfg.url);
        if (!c) {
            fprintf(stderr, "raw-curl: %s\n", v.first_error);
            return UNIWS__BENCH_EXIT_FAILED;
        }
        throughput(c, &res);
        close_ws(c);
    }
    res.full_checks = v.full;
    res.peak_rss_kib = uniws__bench_peak_rss_kib();
    res.ok = v.errors == 0;
    res.error = v.first_error;
    uniws__bench_print(&res);
    if (!res.ok)
        status = strncmp(v.first_error, "echo ", 5) == 0 ? UNIWS__BENCH_EXIT_VERIFY
                                                         : UNIWS__BENCH_EXIT_FAILED;
    free(rbuf);
    free(msg);
    uniws__bench_payload_free(&pl);
    curl_global_cleanup();
    return status;
}
