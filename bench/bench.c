/*
 * bench.c — `uniws bench`: echo throughput / latency over the public uniws
 * API on one backend (--window messages in flight), or connection scale
 * (--connections N sockets on one loop, one echo each). Every echo is
 * checked (workload.h). Without --url it starts the echo server on a thread
 * of its own (CPU is then counted for the loop thread only); with
 * --backend loopback and no --url it needs no server at all.
 *
 * The same source builds with Emscripten (bench/web): there the browser
 * drives the loop (uniws_loop_run() hands it over and returns), so a run ends
 * in a browser timer after the socket closed, as a web app's would. What a
 * browser cannot do (an in-process server, --connections, --stream) is left
 * out of that build.
 */
#include "bench.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#else
#include "echo_server.h"
#endif
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

#ifdef __EMSCRIPTEN__
static void web_end(void *arg);
#endif

static void tp_close(uniws_socket *s, const uniws_close_event *ev, void *ud)
{
    run *r = ud;
    (void)s;
    r->done = 1;
    if (r->got < r->cfg->count && r->v.errors == 0)
        uniws__bench_verify_fail(&r->v, "closed (code %d) after %ld of %ld echoes", ev->code,
                                 r->got, r->cfg->count);
#ifdef __EMSCRIPTEN__
    /* The run ends outside the loop's turn, where the loop may be freed. */
    emscripten_set_timeout(web_end, 0, r);
#endif
}

static int tp_start(run *r, uniws_loop *loop, const char *url, const uniws_options *base,
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
    return 0;
}

static void tp_timed_out(run *r)
{
    uniws__bench_verify_fail(&r->v, "timed out after %d s (%ld of %ld echoes)", r->cfg->timeout_s,
                             r->got, r->cfg->count);
    uniws_free(r->s);
    r->s = NULL;
}

static void tp_result(run *r, uniws__bench_result *res)
{
    /* t0 is taken when the socket opens; a run stopped before that (say,
     * the server refused permessage-deflate) has a stop time but no start. */
    if (r->t0 && r->t1) {
        res->secs = (double)(r->t1 - r->t0) / 1e9;
        res->cpu_secs = (double)(r->cpu1 - r->cpu0) / 1e9;
    }
    res->p50_us = uniws__bench_rtt_pct(&r->rtt, 50);
    res->p99_us = uniws__bench_rtt_pct(&r->rtt, 99);
    res->echoes = r->got;
    uniws_free(r->s);
    r->s = NULL;
}

#ifndef __EMSCRIPTEN__
static int tp_done(run *r)
{
    return r->done;
}

static int drive(uniws_loop *loop, int (*done)(run *), run *r, uint64_t deadline)
{
    while (!done(r)) {
        uint64_t now = uniws__bench_now_ns();
        if (now > deadline)
            return -1;
        /* Wake up only for the deadline, so an idle loop is measured idle:
         * no wake of the bench's own (a 1 s cap here once made every idle
         * uniws row pay a wake-up a second that the raw clients, blocked in
         * poll()/epoll_wait() to their deadline, did not). */
        uint64_t left_ms = (deadline - now) / 1000000u + 1;
        int n = uniws_loop_run_once(loop, left_ms > INT_MAX ? INT_MAX : (int)left_ms);
        if (n < 0)
            return n;
    }
    return 0;
}

/* Natively the run blocks in the loop until the socket closed. */
static void throughput_wait(run *r, uniws_loop *loop)
{
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)r->cfg->timeout_s * 1000000000u;
    if (drive(loop, tp_done, r, deadline) != 0)
        tp_timed_out(r);
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
        long z0 = uniws__bench_switches(r->thread_cpu);
        uint64_t w0 = uniws__bench_now_ns();
        drive(loop, cn_never, r, w0 + (uint64_t)cfg->idle_ms * 1000000u);
        uint64_t c1 = uniws__bench_cpu_ns(r->thread_cpu);
        long z1 = uniws__bench_switches(r->thread_cpu);
        uint64_t w1 = uniws__bench_now_ns();
        res->idle_cpu_pct = 100.0 * (double)(c1 - c0) / (double)(w1 - w0);
        res->idle_wakeups_per_s = (double)(z1 - z0) * 1e9 / (double)(w1 - w0);
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

#endif /* !__EMSCRIPTEN__: connection mode */

/* ---- the command -------------------------------------------------------------- */

/* One run of the command and everything its end needs: on the web that end
 * comes after uniws__bench_main() has returned (the browser drives the loop). */
typedef struct session {
    run r; /* first: web_end gets the run */
    uniws__bench_cfg cfg;
    uniws__bench_result res;
    uniws_loop *loop;
#ifndef __EMSCRIPTEN__
    uniws__echo_server *srv;
#endif
    char *url, *backend; /* copies: argv is gone once main() returned (web) */
    char urlbuf[64];
} session;

static void session_free(session *ss)
{
    if (ss->loop && uniws_loop_free(ss->loop) != 0)
        fprintf(stderr, "uniws bench: the loop still had sockets\n");
#ifndef __EMSCRIPTEN__
    uniws__echo_stop_thread(ss->srv);
#endif
    uniws__bench_rtt_free(&ss->r.rtt);
    uniws__bench_payload_free(&ss->r.pl);
    free(ss->url);
    free(ss->backend);
    free(ss);
}

/* Prints the run's result; returns the exit status. */
static int session_report(session *ss)
{
    uniws__bench_result *res = &ss->res;
    res->full_checks = ss->r.v.full;
    res->peak_rss_kib = uniws__bench_peak_rss_kib();
    res->ok = ss->r.v.errors == 0;
    res->error = ss->r.v.first_error;
    uniws__bench_print(res);
    if (res->ok)
        return UNIWS__BENCH_EXIT_OK;
    return strstr(ss->r.v.first_error, "echo ") == ss->r.v.first_error ? UNIWS__BENCH_EXIT_VERIFY
                                                                       : UNIWS__BENCH_EXIT_FAILED;
}

#ifdef __EMSCRIPTEN__
static long web_deadline;

/* The socket closed (or the run timed out): report and end the program with
 * its exit status (Node.js exits; a page gets Module.onExit). */
static void web_end(void *arg)
{
    session *ss = arg;
    if (web_deadline)
        emscripten_clear_timeout(web_deadline);
    web_deadline = 0;
    tp_result(&ss->r, &ss->res);
    int status = session_report(ss);
    session_free(ss);
    emscripten_force_exit(status);
}

static void web_timeout(void *arg)
{
    session *ss = arg;
    web_deadline = 0;
    tp_timed_out(&ss->r);
    web_end(ss);
}
#endif

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
#ifdef __EMSCRIPTEN__
    /* A browser cannot listen, and its loop must not block. */
    int local = cfg.backend && strcmp(cfg.backend, "loopback") == 0;
    if ((!cfg.url && !local) || cfg.connections > 0 || stream_size) {
        fprintf(stderr, "uniws bench: on the web only the echo workload against --url "
                        "(no --connections, no --stream)\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
#else
    signal(SIGPIPE, SIG_IGN);
#endif

    session *ss = calloc(1, sizeof *ss);
    if (!ss || (cfg.url && !(ss->url = strdup(cfg.url))) ||
        (cfg.backend && !(ss->backend = strdup(cfg.backend)))) {
        if (ss)
            session_free(ss);
        fprintf(stderr, "uniws bench: out of memory\n");
        return UNIWS__BENCH_EXIT_FAILED;
    }
    cfg.url = ss->url;
    cfg.backend = ss->backend;
    ss->cfg = cfg;
    run *r = &ss->r;
    r->cfg = &ss->cfg;
    if (!ss->cfg.url) {
        if (cfg.backend && strcmp(cfg.backend, "loopback") == 0) {
            ss->cfg.url = "ws://loopback/echo";
        } else {
#ifndef __EMSCRIPTEN__
            uniws__echo_opts eo = {0};
            if (uniws__echo_start_thread(&eo, &ss->srv) != 0) {
                perror("uniws bench: starting the echo server");
                session_free(ss);
                return UNIWS__BENCH_EXIT_FAILED;
            }
            /* The echo server accepts permessage-deflate on /deflate only. */
            snprintf(ss->urlbuf, sizeof ss->urlbuf, "ws://127.0.0.1:%d/%s",
                     uniws__echo_port(ss->srv), ss->cfg.deflate ? "deflate" : "");
            ss->cfg.url = ss->urlbuf;
            r->thread_cpu = 1;
#endif
        }
    }
    if (uniws__bench_payload_init(&r->pl, cfg.size)) {
        session_free(ss);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    uniws__bench_verify_init(&r->v, &r->pl, cfg.text);

    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = cfg.backend;
    o.permessage_deflate = cfg.deflate;
    o.tls_ca_file = cfg.ca_file; /* wss:// (ignored by ws://) */
    o.tls_skip_verify = cfg.insecure;
    if (cfg.size > UNIWS_DEFAULT_MAX_MESSAGE_SIZE)
        o.max_message_size = cfg.size;
    ss->res.cfg = &ss->cfg;

    int e = uniws_loop_new(&ss->loop);
#ifndef __EMSCRIPTEN__
    if (e == 0 && stream_size) {
        e = uniws__bench_stream(&ss->cfg, ss->loop, &o, stream_size);
        int st = e == 0           ? UNIWS__BENCH_EXIT_OK
                 : e == UNIWS_EIO ? UNIWS__BENCH_EXIT_VERIFY
                                  : UNIWS__BENCH_EXIT_FAILED;
        if (e && e != UNIWS_EIO)
            fprintf(stderr, "uniws bench: %s\n", uniws_strerror(e));
        session_free(ss);
        return st;
    }
    if (e == 0 && cfg.connections > 0)
        e = connections(r, ss->loop, ss->cfg.url, &o, &ss->res);
    else if (e == 0)
        e = tp_start(r, ss->loop, ss->cfg.url, &o, &ss->res);
#else
    if (e == 0)
        e = tp_start(r, ss->loop, ss->cfg.url, &o, &ss->res);
#endif
    if (e) {
        fprintf(stderr, "uniws bench: %s\n", uniws_strerror(e));
        session_free(ss);
        return e == UNIWS_ESYNTAX || e == UNIWS_EUNSUPPORTED || e == UNIWS_ENO_BACKEND
                   ? UNIWS__BENCH_EXIT_USAGE
                   : UNIWS__BENCH_EXIT_FAILED;
    }
#ifdef __EMSCRIPTEN__
    /* The browser's event loop runs the loop from here on, as in a web app:
     * web_end() reports once the socket closed. */
    web_deadline = emscripten_set_timeout(web_timeout, cfg.timeout_s * 1000.0, ss);
    uniws_loop_run(ss->loop);
    return UNIWS__BENCH_EXIT_OK;
#else
    if (cfg.connections == 0) {
        throughput_wait(r, ss->loop);
        tp_result(r, &ss->res);
    }
    int status = session_report(ss);
    session_free(ss);
    return status;
#endif
}
