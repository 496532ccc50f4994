/*
 * soak.c — long-running load against the scripted peer (tools/server, in a
 * child process on 127.0.0.1) that checks nothing drifts: resident memory
 * stays flat, no descriptor leaks, no message is lost, changed or reordered.
 * Run by scripts/soak.sh (short mode in CI, long mode in docs/soak.md).
 *
 * Phases, each on every backend given:
 *   mixed   C connections for S seconds: each keeps up to 4 messages in
 *           flight (text and binary, 0 B - 64 KiB, sequence-numbered), the
 *           echo must come back byte for byte and in order; pings now and then
 *   cycles  N connect / one echo / close cycles, 8 at a time
 *   flood   the peer sends P pings (each answered), then one echo, then close
 * A warm-up of 8 cycles per backend comes first (lws keeps its engine, a
 * libuv loop and its descriptors, in a pool for the next loop).
 *
 * Checks per phase: RSS sampled every 250 ms; once warmed up (half of the
 * phase gone and, for mixed, 200 echoes per connection on average; mixed
 * traffic then goes on for at least half a phase more) it may grow by at
 * most max(10 %, 8 MiB) — the tolerance; open descriptors (/proc/self/fd) after the
 * phase equal those before it; every connection closed cleanly with 1000.
 *
 * Usage: uniws-soak [--backend B]... [--connections C] [--seconds S]
 *                   [--cycles N] [--pings P]
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "child_peer.h"
#include "nofile.h"
#include "uniws/uniws.h"

#define WINDOW 4
#define MAXLEN 65536

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int fd_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the one opendir holds */
}

/* ---- messages: a pure function of (connection, sequence) ----------------- */

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void make_msg(uint32_t conn, uint32_t seq, uint8_t *buf, size_t *len, int *type)
{
    uint32_t h = mix(conn * 2654435761U ^ seq);
    /* Mostly small, sometimes up to 64 KiB: the sizes of a chatty app. */
    size_t n = (h & 7) == 0 ? (h >> 8) % MAXLEN : (h >> 8) % 512;
    /* The first window is the largest there is, so every connection's
     * buffers reach their high-water mark right away (warm-up). */
    if (seq < WINDOW)
        n = MAXLEN - 1 - seq;
    if (n < 8)
        n = 8;
    *type = (h >> 4) & 1 ? UNIWS_TEXT : UNIWS_BINARY;
    memcpy(buf, &conn, 4);
    memcpy(buf + 4, &seq, 4);
    if (*type == UNIWS_TEXT) {
        /* The header as hex digits keeps text valid UTF-8. */
        snprintf((char *)buf, 9, "%08x", (unsigned)(conn * 65536u + seq));
        for (size_t i = 8; i < n; i++)
            buf[i] = (uint8_t)('a' + (h + i) % 26);
    } else {
        for (size_t i = 8; i < n; i++)
            buf[i] = (uint8_t)(h + i * 31);
    }
    *len = n;
}

/* ---- one connection ------------------------------------------------------ */

typedef struct phase phase;

typedef struct conn {
    phase *ph;
    uniws_socket *s;
    uint32_t id, sent, recvd;
    int opened, closed, clean, done;
    int pings; /* flood: pings are answered by the core; we count nothing */
} conn;

struct phase {
    const char *backend;
    int port;
    int mode; /* 0 mixed, 1 cycles, 2 flood */
    double end;
    long errors, bad, unclean, msgs;
    uint8_t *scratch, *expect;
    char why[200];
};

static void send_more(conn *c)
{
    phase *ph = c->ph;
    while (c->sent - c->recvd < WINDOW && now_s() < ph->end) {
        size_t len;
        int type;
        make_msg(c->id, c->sent, ph->scratch, &len, &type);
        int r = type == UNIWS_TEXT ? uniws_send_text(c->s, (const char *)ph->scratch, len)
                                   : uniws_send_binary(c->s, ph->scratch, len);
        if (r) {
            ph->errors++;
            snprintf(ph->why, sizeof ph->why, "send: %s", uniws_err_name(r));
            return;
        }
        c->sent++;
        if ((c->sent & 63) == 0)
            uniws_ping(c->s, "soak", 4);
    }
}

static void on_open(uniws_socket *s, void *ud)
{
    conn *c = ud;
    c->opened = 1;
    if (c->ph->mode == 0) {
        send_more(c);
    } else {
        size_t len;
        int type;
        make_msg(c->id, 0, c->ph->scratch, &len, &type);
        type == UNIWS_TEXT ? uniws_send_text(s, (const char *)c->ph->scratch, len)
                           : uniws_send_binary(s, c->ph->scratch, len);
        c->sent = 1;
    }
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    conn *c = ud;
    phase *ph = c->ph;
    size_t len;
    int type;
    make_msg(c->id, c->recvd, ph->expect, &len, &type);
    if ((int)m->type != type || m->len != len || memcmp(m->data, ph->expect, len) != 0) {
        ph->bad++;
        snprintf(ph->why, sizeof ph->why, "connection %u: message %u lost, changed or reordered",
                 (unsigned)c->id, (unsigned)c->recvd);
    }
    c->recvd++;
    ph->msgs++;
    if (ph->mode == 0)
        send_more(c);
    if (c->recvd == c->sent && (ph->mode != 0 || now_s() >= ph->end))
        uniws_close(s, 1000, NULL);
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    conn *c = ud;
    (void)s;
    c->ph->errors++;
    snprintf(c->ph->why, sizeof c->ph->why, "connection %u: %s %s", (unsigned)c->id,
             uniws_err_name(e->error), e->message);
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    conn *c = ud;
    (void)s;
    c->closed = 1;
    c->clean = e->was_clean && e->code == 1000;
    if (!c->clean)
        c->ph->unclean++;
}

static int open_conn(uniws_loop *loop, phase *ph, conn *c, uint32_t id, int pings)
{
    memset(c, 0, sizeof *c);
    c->ph = ph;
    c->id = id;
    char url[96];
    if (pings)
        snprintf(url, sizeof url, "ws://127.0.0.1:%d/script/pingflood:%d/echo", ph->port, pings);
    else
        snprintf(url, sizeof url, "ws://127.0.0.1:%d/echo", ph->port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = ph->backend;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = c;
    int r = uniws_connect(loop, url, &o, &c->s);
    if (r) {
        ph->errors++;
        snprintf(ph->why, sizeof ph->why, "connect: %s", uniws_err_name(r));
        c->closed = 1;
        c->s = NULL;
    }
    return r;
}

/* ---- sampling ------------------------------------------------------------ */

typedef struct samples {
    double start, warm_at, next, steady_end;
    long first, warm, peak, last;
    int manual_warm; /* the phase decides when it is warm (mixed) */
} samples;

static void sample_init(samples *sm, double duration)
{
    sm->start = now_s();
    sm->warm_at = sm->start + duration / 2;
    sm->next = sm->start;
    sm->steady_end = 1e300;
    sm->manual_warm = 0;
    sm->first = sm->peak = sm->last = rss_kib();
    sm->warm = 0;
}

static void sample(samples *sm)
{
    double t = now_s();
    if (t < sm->next)
        return;
    sm->next = t + 0.25;
    long r = rss_kib();
    sm->last = r;
    if (getenv("UNIWS_SOAK_TRACE")) /* the RSS curve, for looking at a failure */
        fprintf(stderr, "soak: t=%.2f s rss=%ld KiB%s\n", t - sm->start, r,
                sm->warm ? " (warm)" : "");
    if (!sm->warm && !sm->manual_warm && t >= sm->warm_at)
        sm->warm = r;
    if (sm->warm && r > sm->peak && t < sm->steady_end)
        sm->peak = r;
}

/* The tolerance: from the end of the warm-up (all connections open and
 * half of the phase gone) to the end of the traffic, and after everything
 * is closed and freed, RSS may exceed the warm-up sample by at most
 * max(10 %, 8 MiB). (The close storm at the end is not steady state; what it
 * leaves behind after the free is counted.) */
static int rss_flat(const samples *sm, long *growth)
{
    long base = sm->warm ? sm->warm : sm->first;
    long peak = sm->peak > sm->last ? sm->peak : sm->last;
    long allowed = base / 10 > 8192 ? base / 10 : 8192;
    *growth = peak - base;
    return peak - base <= allowed;
}

/* ---- phases -------------------------------------------------------------- */

static int g_quiet; /* the warm-up phase prints nothing */

static int run_phase(const char *backend, int port, int mode, int count, double seconds)
{
    static const char *const names[] = {"mixed", "cycles", "flood"};
    phase ph;
    memset(&ph, 0, sizeof ph);
    ph.backend = backend;
    ph.port = port;
    ph.mode = mode;
    ph.scratch = malloc(MAXLEN);
    ph.expect = malloc(MAXLEN);
    if (!ph.scratch || !ph.expect)
        return 1;
    int fds_before = fd_count();
    uniws_loop *loop;
    if (uniws_loop_new(&loop) != 0)
        return 1;
    double t0 = now_s();
    samples sm;
    long done = 0;
    if (mode == 0) {
        /* count connections, opened 50 at a time, for `seconds`. */
        conn *cs = calloc((size_t)count, sizeof *cs);
        if (!cs)
            return 1;
        ph.end = t0 + 4 * seconds; /* until warm: then S, or half an S more */
        sample_init(&sm, seconds);
        sm.steady_end = ph.end;
        sm.manual_warm = 1;
        int opened = 0, all_open = 0;
        for (;;) {
            int live = 0, connecting = 0;
            for (int i = 0; i < opened; i++) {
                if (!cs[i].closed)
                    live++;
                if (!cs[i].opened && !cs[i].closed)
                    connecting++;
            }
            while (opened < count && connecting < 50) {
                open_conn(loop, &ph, &cs[opened], (uint32_t)opened, 0);
                opened++, connecting++, live++;
            }
            if (!all_open && opened == count && !connecting)
                all_open = 1;
            /* Warm once every connection is open, half the time is gone and
             * the connections have echoed 200 messages each on average (the
             * allocator's working set grows with the messages, not the
             * clock); the traffic then goes on for another half. */
            double t = now_s();
            if (!sm.warm && all_open && t >= t0 + seconds / 2 && ph.msgs >= 200L * count) {
                sm.warm = rss_kib();
                sm.warm_at = t;
                ph.end = t0 + seconds > t + seconds / 2 ? t0 + seconds : t + seconds / 2;
                sm.steady_end = ph.end;
            }
            /* Connections with nothing in flight at the end close here. */
            if (now_s() >= ph.end)
                for (int i = 0; i < opened; i++)
                    if (cs[i].opened && !cs[i].closed && cs[i].recvd == cs[i].sent &&
                        uniws_ready_state(cs[i].s) == UNIWS_OPEN)
                        uniws_close(cs[i].s, 1000, NULL);
            if (!live && opened == count)
                break;
            if (now_s() > ph.end + 30) {
                snprintf(ph.why, sizeof ph.why, "%d connections still open 30 s after the end",
                         live);
                ph.errors++;
                break;
            }
            uniws_loop_run_once(loop, 50);
            sample(&sm);
        }
        for (int i = 0; i < count; i++)
            uniws_free(cs[i].s);
        done = count;
        free(cs);
    } else if (mode == 1) {
        conn cs[8];
        memset(cs, 0, sizeof cs);
        for (int i = 0; i < 8; i++)
            cs[i].closed = 1;
        sample_init(&sm, seconds); /* an estimate of the phase's length */
        long started = 0;
        double deadline = t0 + seconds * 4 + 60;
        while (done < count) {
            for (int i = 0; i < 8; i++) {
                if (!cs[i].closed)
                    continue;
                if (cs[i].s) {
                    uniws_free(cs[i].s);
                    cs[i].s = NULL;
                    done++;
                }
                if (started < count) {
                    open_conn(loop, &ph, &cs[i], (uint32_t)started, 0);
                    started++;
                }
            }
            if (done >= count)
                break;
            if (now_s() > deadline) {
                snprintf(ph.why, sizeof ph.why, "only %ld of %d cycles in time", done, count);
                ph.errors++;
                break;
            }
            uniws_loop_run_once(loop, 50);
            sample(&sm);
        }
        for (int i = 0; i < 8; i++)
            uniws_free(cs[i].s);
    } else {
        conn c;
        sample_init(&sm, seconds);
        open_conn(loop, &ph, &c, 1, count);
        double deadline = t0 + 120;
        while (!c.closed && now_s() < deadline) {
            uniws_loop_run_once(loop, 50);
            sample(&sm);
        }
        if (!c.closed) {
            snprintf(ph.why, sizeof ph.why, "the flood did not end within 120 s");
            ph.errors++;
        }
        uniws_free(c.s);
        done = 1;
    }
    uniws_loop_free(loop);
    sm.last = rss_kib();
    free(ph.scratch);
    free(ph.expect);
    int fds_after = fd_count();
    long growth;
    int flat = rss_flat(&sm, &growth);
    if (!sm.warm && sm.manual_warm) {
        flat = 0;
        snprintf(ph.why, sizeof ph.why, "never warmed up (%ld messages in %.0f s)", ph.msgs,
                 now_s() - t0);
    }
    int ok = !ph.errors && !ph.bad && !ph.unclean && flat && fds_after == fds_before;
    if (g_quiet)
        return !ph.errors && !ph.bad && !ph.unclean ? 0 : 1;
    printf("soak %-5s %-6s: %ld %s, %ld messages checked, %.1f s, RSS %ld -> %ld KiB "
           "(growth after warm-up %ld KiB), fds %d -> %d: %s\n",
           backend, names[mode], done,
           mode == 0   ? "connections"
           : mode == 1 ? "cycles"
                       : "flood",
           ph.msgs, now_s() - t0, sm.first, sm.last, growth, fds_before, fds_after,
           ok ? "ok" : "FAILED");
    if (!ok)
        printf("  errors %ld, bad %ld, unclean %ld, rss flat %d: %s\n", ph.errors, ph.bad,
               ph.unclean, flat, ph.why);
    fflush(stdout);
    return ok ? 0 : 1;
}

/* ---- the peer in a child process ----------------------------------------- */

static pid_t g_child;

int main(int argc, char **argv)
{
    const char *backends[8];
    int nb = 0, connections = 50, cycles = 500, pings = 10000;
    double seconds = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc && nb < 8)
            backends[nb++] = argv[++i];
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            connections = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
            cycles = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pings") && i + 1 < argc)
            pings = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--backend B]... [--connections C] [--seconds S] [--cycles N] "
                    "[--pings P]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!nb) {
        static const char *const all[] = {"lws", "curl"};
        uniws_backend_info info;
        for (int i = 0; i < 2; i++)
            if (uniws_backend_find(all[i], &info) == 0)
                backends[nb++] = all[i];
    }
    signal(SIGPIPE, SIG_IGN);
    uniws_test_raise_nofile();
    int port = child_peer_start(&g_child);
    if (port <= 0) {
        fprintf(stderr, "soak: cannot start the scripted peer\n");
        return 1;
    }
    int failed = 0;
    double t0 = now_s();
    for (int b = 0; b < nb; b++) {
        /* Warm-up: what a backend keeps for the next loop (lws parks its
         * engine — a libuv loop with its descriptors — in a pool) is made
         * before the first phase counts descriptors. */
        g_quiet = 1;
        if (run_phase(backends[b], port, 1, 8, 1) != 0) {
            printf("soak %s: the warm-up connections failed\n", backends[b]);
            failed = 1;
        }
        g_quiet = 0;
        if (connections > 0)
            failed |= run_phase(backends[b], port, 0, connections, seconds);
        if (cycles > 0)
            failed |= run_phase(backends[b], port, 1, cycles, cycles / 200.0);
        if (pings > 0)
            failed |= run_phase(backends[b], port, 2, pings, pings / 20000.0);
    }
    child_peer_stop(g_child);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("soak summary: %d backends, %d connections x %.0f s, %d cycles, %d pings each; "
           "%.0f s, peak RSS %ld KiB: %s\n",
           nb, connections, seconds, cycles, pings, now_s() - t0, ru.ru_maxrss,
           failed ? "FAILED" : "ok");
    return failed;
}
