/*
 * bench.c — `uniws bench`: echo throughput / latency over the public uniws
 * API on one backend (--window messages in flight), or connection scale
 * (--connections N sockets on one loop, one echo each). Every echo is
 * checked (workload.h). Without --url it starts the echo server on a thread
 * of its own (CPU is then counted for the loop thread only); with
 * --backend loopback and no --url it needs no server at all.
 */
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "echo_server.h"
#include "report.h"
#include "uniws/uniws.h"
#include "workload.h"

typedef struct run {
    const uniws__bench_cfg *cfg;
    uniws__bench_payload pl;
    uniws__bench_verify v;
    uniws__bench_rtt rtt;
    int thread_cpu;
    /* throughput mode */
    uniws_socket *s;
    long sent, got;
    uint64_t t0, t1, cpu0, cpu1;
    int done;
    /* connection mode */
    long opened, echoed, closed, failed;
} run;

typedef struct conn {
    run *r;
    uniws_socket *s;
    uint64_t idx;
    int opened, echoed, closed;
} conn;

static int send_msg(run *r, uniws_socket *s, uint64_t seq)
{
    const uint8_t *p = uniws__bench_payload_make(&r->pl, seq);
    int e = r->cfg->text ? uniws_send_text(s, (const char *)p, r->pl.size)
                         : uniws_send_binary(s, p, r->pl.size);
    if (e)
        uniws__bench_verify_fail(&r->v, "send %llu failed: %s", (unsigned long long)seq,
                                 uniws_strerror(e));
    return e;
}

/* ---- throughput mode ------------------------------------------------------- */

static void tp_stop(run *r)
{
    if (!r->t1) {
        r->t1 = uniws__bench_now_ns();
        r->cpu1 = uniws__bench_cpu_ns(r->thread_cpu);
    }
    uniws_close(r->s, UNIWS_CLOSE_NORMAL, NULL);
}

static int tp_send(run *r)
{
    uniws__bench_rtt_sent(&r->rtt, (uint64_t)r->sent, uniws__bench_now_ns());
    if (send_msg(r, r->s, (uint64_t)r->sent))
        return -1;
    r->sent++;
    return 0;
}

static void tp_open(uniws_socket *s, void *ud)
{
    run *r = ud;
    const char *ext = uniws_extensions(s);
    if (r->cfg->deflate && !(ext && strstr(ext, "permessage-deflate"))) {
        uniws__bench_verify_fail(&r->v, "the server did not accept permessage-deflate");
        tp_stop(r);
        return;
    }
    r->t0 = uniws__bench_now_ns();
    r->cpu0 = uniws__bench_cpu_ns(r->thread_cpu);
    while (r->sent < r->cfg->count && r->sent < r->cfg->window)
        if (tp_send(r)) {
            tp_stop(r);
            return;
        }
}

static void tp_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    run *r = ud;
    (void)s;
    uniws__bench_rtt_echo(&r->rtt, (uint64_t)r->got, uniws__bench_now_ns());
    int last = r->got + 1 == r->cfg->count;
    if (r->got >= r->cfg->count) {
        uniws__bench_verify_fail(&r->v, "more echoes than messages sent");
        tp_stop(r);
        return;
    }
    if (uniws__bench_verify_echo(&r->v, m->data, m->len, m->type == UNIWS_TEXT, last) != 0) {
        tp_stop(r);
        return;
    }
    r->got++;
    if (last)
        tp_stop(r);
    else if (r->sent < r->cfg->count && tp_send(r))
        tp_stop(r);
}

static void on_error(uniws_socket *s, const uniws_error_event *ev, void *ud)
{
    run *r = ud;
    (void)s;
    uniws__bench_verify_fail(&r->v, "%s (%s)", ev->message, uniws_err_name(ev->error));
}

static void tp_close(uniws_socket *s, const uniws_close_event *ev, void *ud)
{
    run *r = ud;
    (void)s;
    r->done = 1;
    if (r->got < r->cfg->count && r->v.errors == 0)
        uniws__bench_verify_fail(&r->v, "closed (code %d) after %ld of %ld echoes", ev->code,
                                 r->got, r->cfg->count);
}

static int drive(uniws_loop *loop, int (*done)(run *), run *r, uint64_t deadline)
{
    while (!done(r)) {
        uint64_t now = uniws__bench_now_ns();
        if (now > deadline)
            return -1;
        /* Wake up only for the deadline, so an idle loop is measured idle. */
        uint64_t left_ms = (deadline - now) / 1000000u + 1;
        int n = uniws_loop_run_once(loop, left_ms > 1000 ? 1000 : (int)left_ms);
        if (n < 0)
            return n;
    }
    return 0;
}

static int tp_done(run *r)
{
    return r->done;
}

static int throughput(run *r, uniws_loop *loop, const char *url, const uniws_options *base,
                      uniws__bench_result *res)
{
    const uniws__bench_cfg *cfg = r->cfg;
    uniws_options o = *base;
    o.callbacks.on_open = tp_open;
    o.callbacks.on_message = tp_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = tp_close;
    o.user_data = r;
    if (uniws__bench_rtt_init(&r->rtt, cfg->window, cfg->count))
        return UNIWS_ENOMEM;
    int e = uniws_connect(loop, url, &o, &r->s);
    if (e)
        return e;
    res->backend = uniws_backend_name(r->s);
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg->timeout_s * 1000000000u;
    if (drive(loop, tp_done, r, deadline) != 0) {
        uniws__bench_verify_fail(&r->v, "timed out after %d s (%ld of %ld echoes)", cfg->timeout_s,
                                 r->got, cfg->count);
        uniws_free(r->s);
        r->s = NULL;
    }
    if (r->t1) {
        res->secs = (double)(r->t1 - r->t0) / 1e9;
        res->cpu_secs = (double)(r->cpu1 - r->cpu0) / 1e9;
    }
    res->p50_us = uniws__bench_rtt_pct(&r->rtt, 50);
    res->p99_us = uniws__bench_rtt_pct(&r->rtt, 99);
    res->echoes = r->got;
    uniws_free(r->s);
    return 0;
}

/* ---- connection mode -------------------------------------------------------- */

static void cn_open(uniws_socket *s, void *ud)
{
    conn *c = ud;
    (void)s;
    c->opened = 1;
    c->r->opened++;
}

static void cn_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    conn *c = ud;
    (void)s;
    if (c->echoed) {
        uniws__bench_verify_fail(&c->r->v, "socket %llu: a second echo",
                                 (unsigned long long)c->idx);
        return;
    }
    c->echoed = 1;
    c->r->echoed++;
    uniws__bench_verify_one(&c->r->v, m->data, m->len, m->type == UNIWS_TEXT, c->idx,
                            c->idx % 97 == 0);
}

static void cn_error(uniws_socket *s, const uniws_error_event *ev, void *ud)
{
    conn *c = ud;
    on_error(s, ev, c->r);
}

static void cn_close(uniws_socket *s, const uniws_close_event *ev, void *ud)
{
    conn *c = ud;
    (void)s;
    (void)ev;
    c->closed = 1;
    c->r->closed++;
    if (!c->echoed)
        c->r->failed++;
}

static int cn_all_open(run *r)
{
    return r->opened + r->failed >= r->cfg->connections;
}

static int cn_all_echoed(run *r)
{
    return r->echoed + r->failed >= r->cfg->connections;
}

static int cn_all_closed(run *r)
{
    return r->closed >= r->cfg->connections;
}

static int cn_never(run *r)
{
    (void)r;
    return 0;
}

static int connections(run *r, uniws_loop *loop, const char *url, const uniws_options *base,
                       uniws__bench_result *res)
{
    const uniws__bench_cfg *cfg = r->cfg;
    long n = cfg->connections;
    conn *cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        return UNIWS_ENOMEM;
    uniws__bench_raise_nofile();
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg->timeout_s * 1000000000u;
    long rss0 = uniws__bench_rss_kib();
    uint64_t t0 = uniws__bench_now_ns();
    int e = 0;
    for (long i = 0; i < n; i++) {
        uniws_options o = *base;
        o.callbacks.on_open = cn_open;
        o.callbacks.on_message = cn_message;
        o.callbacks.on_error = cn_error;
        o.callbacks.on_close = cn_close;
        o.user_data = &cs[i];
        cs[i].r = r;
        cs[i].idx = (uint64_t)i;
        e = uniws_connect(loop, url, &o, &cs[i].s);
        if (e) {
            uniws__bench_verify_fail(&r->v, "connect %ld failed: %s", i, uniws_strerror(e));
            n = i;
            break;
        }
    }
    if (n > 0)
        res->backend = uniws_backend_name(cs[0].s);
    if (e == 0 && drive(loop, cn_all_open, r, deadline) != 0)
        uniws__bench_verify_fail(&r->v, "timed out with %ld of %ld sockets open", r->opened, n);
    uint64_t t1 = uniws__bench_now_ns();
    res->opened = r->opened;
    res->open_ms = (double)(t1 - t0) / 1e6;
    if (r->v.errors == 0) {
        for (long i = 0; i < n; i++)
            if (cs[i].opened && !cs[i].closed && send_msg(r, cs[i].s, cs[i].idx))
                break;
        if (drive(loop, cn_all_echoed, r, deadline) != 0)
            uniws__bench_verify_fail(&r->v, "timed out with %ld of %ld echoes", r->echoed, n);
    }
    uint64_t t2 = uniws__bench_now_ns();
    res->echo_ms = (double)(t2 - t1) / 1e6;
    res->rss_per_conn_kib = n ? (double)(uniws__bench_rss_kib() - rss0) / (double)n : 0;
    if (cfg->idle_ms > 0 && r->v.errors == 0) {
        uint64_t c0 = uniws__bench_cpu_ns(r->thread_cpu);
        uint64_t w0 = uniws__bench_now_ns();
        drive(loop, cn_never, r, w0 + (uint64_t)cfg->idle_ms * 1000000u);
        uint64_t c1 = uniws__bench_cpu_ns(r->thread_cpu);
        uint64_t w1 = uniws__bench_now_ns();
        res->idle_cpu_pct = 100.0 * (double)(c1 - c0) / (double)(w1 - w0);
    }
    for (long i = 0; i < n; i++)
        if (!cs[i].closed)
            uniws_close(cs[i].s, UNIWS_CLOSE_NORMAL, NULL);
    drive(loop, cn_all_closed, r, uniws__bench_now_ns() + 10000000000u);
    if (r->failed && r->v.errors == 0)
        uniws__bench_verify_fail(&r->v, "%ld sockets closed without their echo", r->failed);
    res->echoes = r->echoed;
    for (long i = 0; i < n; i++)
        uniws_free(cs[i].s);
    free(cs);
    return 0;
}

/* ---- the command -------------------------------------------------------------- */

int uniws__bench_main(int argc, char **argv)
{
    static const char *const extra[] = {"--backend", "--stream", "--deflate", NULL};
    const char *extra_val[3] = {NULL, NULL, NULL};
    uniws__bench_cfg cfg = {
        .tool = "uniws", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int pr = uniws__bench_parse(&cfg, argc, argv, extra, extra_val);
    if (pr) {
        if (pr > 0)
            uniws__bench_usage(
                "uniws bench",
                "  --backend NAME     uniws backend (default: "
                "UNIWS_BACKEND, else the build's)\n"
                "  --stream BYTES     streaming workload: --count messages of BYTES\n"
                "                     sent in 1 MiB parts (uniws_send_fragment) and\n"
                "                     echoed back in parts (on_message_part)\n"
                "  --deflate          offer permessage-deflate; the run fails if the\n"
                "                     server does not accept it\n");
        return pr > 0 ? UNIWS__BENCH_EXIT_OK : UNIWS__BENCH_EXIT_USAGE;
    }
    cfg.backend = extra_val[0];
    uint64_t stream_size = 0;
    if (extra_val[1]) {
        char *end = NULL;
        stream_size = strtoull(extra_val[1], &end, 10);
        if (!end || *end || stream_size == 0) {
            fprintf(stderr, "uniws bench: --stream needs a size in bytes\n");
            return UNIWS__BENCH_EXIT_USAGE;
        }
    }
    if (cfg.backend) {
        uniws_backend_info bi;
        if (uniws_backend_find(cfg.backend, &bi) != 0) {
            fprintf(stderr, "uniws bench: backend '%s' is not compiled in (uniws backends)\n",
                    cfg.backend);
            return UNIWS__BENCH_EXIT_USAGE;
        }
    }
    signal(SIGPIPE, SIG_IGN);

    char urlbuf[64];
    uniws__echo_server *srv = NULL;
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = &cfg;
    if (!cfg.url) {
        if (cfg.backend && strcmp(cfg.backend, "loopback") == 0) {
            cfg.url = "ws://loopback/echo";
        } else {
            uniws__echo_opts eo = {0};
            if (uniws__echo_start_thread(&eo, &srv) != 0) {
                perror("uniws bench: starting the echo server");
                return UNIWS__BENCH_EXIT_FAILED;
            }
            snprintf(urlbuf, sizeof urlbuf, "ws://127.0.0.1:%d/", uniws__echo_port(srv));
            cfg.url = urlbuf;
            r.thread_cpu = 1;
        }
    }
    if (uniws__bench_payload_init(&r.pl, cfg.size)) {
        uniws__echo_stop_thread(srv);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    uniws__bench_verify_init(&r.v, &r.pl, cfg.text);

    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = cfg.backend;
    o.permessage_deflate = cfg.deflate;
    o.tls_ca_file = cfg.ca_file; /* wss:// (ignored by ws://) */
    o.tls_skip_verify = cfg.insecure;
    if (cfg.size > UNIWS_DEFAULT_MAX_MESSAGE_SIZE)
        o.max_message_size = cfg.size;
    uniws__bench_result res;
    memset(&res, 0, sizeof res);
    res.cfg = &cfg;

    uniws_loop *loop = NULL;
    int e = uniws_loop_new(&loop);
    if (e == 0 && stream_size) {
        e = uniws__bench_stream(&cfg, loop, &o, stream_size);
        int st = e == 0           ? UNIWS__BENCH_EXIT_OK
                 : e == UNIWS_EIO ? UNIWS__BENCH_EXIT_VERIFY
                                  : UNIWS__BENCH_EXIT_FAILED;
        if (e && e != UNIWS_EIO)
            fprintf(stderr, "uniws bench: %s\n", uniws_strerror(e));
        uniws_loop_free(loop);
        uniws__echo_stop_thread(srv);
        uniws__bench_payload_free(&r.pl);
        return st;
    }
    if (e == 0)
        e = cfg.connections > 0 ? connections(&r, loop, cfg.url, &o, &res)
                                : throughput(&r, loop, cfg.url, &o, &res);
    int status = UNIWS__BENCH_EXIT_OK;
    if (e) {
        fprintf(stderr, "uniws bench: %s\n", uniws_strerror(e));
        status = e == UNIWS_ESYNTAX || e == UNIWS_EUNSUPPORTED || e == UNIWS_ENO_BACKEND
                     ? UNIWS__BENCH_EXIT_USAGE
                     : UNIWS__BENCH_EXIT_FAILED;
    } else {
        res.full_checks = r.v.full;
        res.peak_rss_kib = uniws__bench_peak_rss_kib();
        res.ok = r.v.errors == 0;
        res.error = r.v.first_error;
        uniws__bench_print(&res);
        if (!res.ok)
            status = strstr(r.v.first_error, "echo ") == r.v.first_error ? UNIWS__BENCH_EXIT_VERIFY
                                                                         : UNIWS__BENCH_EXIT_FAILED;
    }
    if (loop && uniws_loop_free(loop) != 0)
        fprintf(stderr, "uniws bench: the loop still had sockets\n");
    uniws__echo_stop_thread(srv);
    uniws__bench_rtt_free(&r.rtt);
    uniws__bench_payload_free(&r.pl);
    return status;
}
