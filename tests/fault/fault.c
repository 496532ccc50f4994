/*
 * fault.c — allocation fault injection. Through uniws_set_allocator() it
 * fails the Nth allocation uniws makes, for N = 1, 2, ... until a run makes
 * fewer than N allocations, over a whole client life: loop, connect,
 * handshake, send (text, a 70 KB binary, ping), receive the echoes, close —
 * and again with permessage-deflate (a compressed message in, a compressed
 * message out). Each run must end without a crash or a hang, free every block
 * it allocated (counted here, besides LeakSanitizer in the sanitizer build),
 * show the failure as UNIWS_ENOMEM from a call or as an error event, and fire
 * exactly one close event once a connect succeeded. A run the fault never
 * reached must complete the exchange, so the sweep proves its own coverage.
 *
 * Usage: uniws-fault [--backend NAME]... [--mode once|persist] [--max N]
 * Default: every native backend compiled in, mode "once" (only the Nth
 * allocation fails). "persist" fails the Nth and every later one.
 * Network backends talk to the scripted peer (tools/server) on 127.0.0.1 in a
 * child process, so the peer's allocations stay out of the count.
 */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <execinfo.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "child_peer.h"
#include "uniws/uniws.h"

/* ---- the counting allocator ---------------------------------------------- */

/* Every block carries a header with its size; live blocks and bytes are
 * counted so a leak shows even without LeakSanitizer. */
typedef union blk {
    size_t size;
    max_align_t align;
} blk;

static int g_trace;     /* -t: print a backtrace at each fault */
static long g_count;    /* allocations since arming */
static long g_target;   /* the allocation to fail (1-based); 0: none */
static int g_persist;   /* fail every allocation from the target on */
static long g_hits;     /* allocations failed in this run */
static long g_live;     /* blocks allocated through the hook and not freed */
static size_t g_live_b; /* their bytes */

static int should_fail(void)
{
    long n = __atomic_add_fetch(&g_count, 1, __ATOMIC_SEQ_CST);
    long t = __atomic_load_n(&g_target, __ATOMIC_SEQ_CST);
    if (t > 0 && (n == t || (g_persist && n > t))) {
        __atomic_add_fetch(&g_hits, 1, __ATOMIC_SEQ_CST);
        if (g_trace && n == t) { /* -t: where did the fault land? */
            void *frames[16];
            int k = backtrace(frames, 16);
            backtrace_symbols_fd(frames, k, 2);
        }
        return 1;
    }
    return 0;
}

static void *f_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    blk *b = malloc(sizeof(blk) + n);
    if (!b)
        return NULL;
    b->size = n;
    __atomic_add_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_live_b, n, __ATOMIC_SEQ_CST);
    return b + 1;
}

static void f_free(void *p)
{
    if (!p)
        return;
    blk *b = (blk *)p - 1;
    __atomic_sub_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&g_live_b, b->size, __ATOMIC_SEQ_CST);
    free(b);
}

static void *f_realloc(void *p, size_t n)
{
    if (!p)
        return f_malloc(n);
    if (should_fail())
        return NULL;
    blk *b = (blk *)p - 1;
    size_t old = b->size;
    blk *nb = realloc(b, sizeof(blk) + n);
    if (!nb)
        return NULL;
    nb->size = n;
    __atomic_sub_fetch(&g_live_b, old, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_live_b, n, __ATOMIC_SEQ_CST);
    return nb + 1;
}

static void arm(long target)
{
    __atomic_store_n(&g_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_hits, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_target, target, __ATOMIC_SEQ_CST);
}

static void disarm(void)
{
    __atomic_store_n(&g_target, 0, __ATOMIC_SEQ_CST);
}

/* ---- one client run ------------------------------------------------------ */

enum { SC_ECHO, SC_DEFLATE };
static const char *const scenario_names[] = {"echo", "deflate"};

#define BIG  70000
#define NMSG 3

typedef struct run {
    int scenario;
    uniws_socket *s;
    int sent_ok[NMSG]; /* which echo messages were accepted by send */
    int expect;        /* index of the next echo expected */
    int opened, msgs, closes, errors, after_close;
    int enomem;     /* a call returned UNIWS_ENOMEM */
    int other_rc;   /* a call returned another unexpected error */
    int error_code; /* the error event's code */
    int close_code, was_clean;
    int bad;     /* a message was wrong or out of order */
    int gave_up; /* uniws_close kept failing: the run ends with uniws_free */
    char why[160];
} run;

static unsigned char g_big[BIG];
static char g_text[20001];

static int note_rc(run *r, int rc)
{
    if (rc == UNIWS_ENOMEM)
        r->enomem = 1;
    else if (rc != 0 && rc != UNIWS_ECLOSED && rc != UNIWS_EINVALID_STATE)
        r->other_rc = rc;
    return rc;
}

static void msg_of(int i, const void **data, size_t *len, int *type)
{
    switch (i) {
    case 0:
        *data = "hello", *len = 5, *type = UNIWS_TEXT;
        break;
    case 1:
        *data = g_big, *len = BIG, *type = UNIWS_BINARY;
        break;
    default:
        *data = g_text, *len = sizeof g_text - 1, *type = UNIWS_TEXT;
        break;
    }
}

static void close_once(run *r)
{
    /* A one-shot fault may fail the first try with UNIWS_ENOMEM; an
     * application would try again, and so do we (once). */
    if (note_rc(r, uniws_close(r->s, 1000, "done")) == UNIWS_ENOMEM &&
        note_rc(r, uniws_close(r->s, 1000, "done")) == UNIWS_ENOMEM)
        r->gave_up = 1; /* still no memory (persist): drop it with uniws_free */
}

static void advance(run *r)
{
    while (r->expect < NMSG && !r->sent_ok[r->expect])
        r->expect++;
    if (r->expect == NMSG)
        close_once(r);
}

static void on_open(uniws_socket *s, void *ud)
{
    run *r = ud;
    if (r->closes)
        r->after_close = 1;
    r->opened++;
    if (r->scenario == SC_DEFLATE) {
        /* Compressed out; the peer refuses RSV1 frames with close 1002.
         * When the send fails, close instead (nothing else would end it). */
        if (note_rc(r, uniws_send_text(s, g_text, sizeof g_text - 1)) != 0)
            close_once(r);
        return;
    }
    for (int i = 0; i < NMSG; i++) {
        const void *d;
        size_t len;
        int type;
        msg_of(i, &d, &len, &type);
        int rc = type == UNIWS_TEXT ? uniws_send_text(s, d, len) : uniws_send_binary(s, d, len);
        r->sent_ok[i] = note_rc(r, rc) == 0;
        if (i == 0)
            note_rc(r, uniws_ping(s, "p", 1));
    }
    advance(r);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    run *r = ud;
    (void)s;
    if (r->closes)
        r->after_close = 1;
    r->msgs++;
    if (r->scenario == SC_DEFLATE) {
        if (m->type != UNIWS_TEXT || m->len != 5 || memcmp(m->data, "Hello", 5) != 0) {
            r->bad = 1;
            snprintf(r->why, sizeof r->why, "inflated message differs (len %zu)", m->len);
        }
        return;
    }
    const void *d;
    size_t len;
    int type;
    if (r->expect >= NMSG) {
        r->bad = 1;
        snprintf(r->why, sizeof r->why, "an extra message (len %zu)", m->len);
        return;
    }
    msg_of(r->expect, &d, &len, &type);
    if ((int)m->type != type || m->len != len || memcmp(m->data, d, len) != 0) {
        r->bad = 1;
        snprintf(r->why, sizeof r->why, "echo %d differs or out of order (len %zu)", r->expect,
                 m->len);
    }
    r->expect++;
    advance(r);
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    run *r = ud;
    (void)s;
    if (r->closes)
        r->after_close = 1;
    r->errors++;
    r->error_code = e->error;
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    run *r = ud;
    (void)s;
    r->closes++;
    r->close_code = e->code;
    r->was_clean = e->was_clean;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The result of one run, as the summary counts it. */
enum {
    OUT_CLEAN,  /* the fault was not reached and the exchange completed */
    OUT_ENOMEM, /* a call returned UNIWS_ENOMEM */
    OUT_EVENT,  /* an error event (then close 1006) */
    OUT_ABSORB, /* the fault was reached and the exchange still completed */
    OUT_FAILED, /* a check failed */
    OUT_COUNT
};

typedef struct target {
    const char *backend;
    int port;      /* 0: loopback */
    long baseline; /* blocks a backend keeps across loops (lws's engine pool) */
} target;

static int g_verbose;

static int one_run(const target *t, int scenario, long n, long *allocs, char *why, size_t whylen)
{
    run r;
    memset(&r, 0, sizeof r);
    r.scenario = scenario;
    r.error_code = 0;
    char url[160];
    if (scenario == SC_DEFLATE)
        snprintf(url, sizeof url,
                 "ws://127.0.0.1:%d/script/ext:permessage-deflate/frame:c107f248cdc9c90700/echo",
                 t->port ? t->port : 1);
    else
        snprintf(url, sizeof url, "ws://127.0.0.1:%d/echo", t->port ? t->port : 1);

    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = t->backend;
    o.close_timeout_ms = 1000;
    o.connect_timeout_ms = 5000;
    o.permessage_deflate = scenario == SC_DEFLATE;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = &r;

    arm(n);
    uniws_loop *loop = NULL;
    int rc = note_rc(&r, uniws_loop_new(&loop));
    int connected = 0, hung = 0;
    if (rc == 0) {
        rc = note_rc(&r, uniws_connect(loop, url, &o, &r.s));
        connected = rc == 0;
    }
    if (connected) {
        double end = now_s() + 15;
        while (!r.closes && !r.gave_up && now_s() < end)
            if (uniws_loop_run_once(loop, 50) < 0)
                break;
        hung = !r.closes && !r.gave_up;
        /* Nothing may fire after close: give stray events a chance. */
        for (int i = 0; i < 3 && !hung; i++)
            uniws_loop_run_once(loop, 0);
    }
    uniws_free(r.s);
    if (loop && uniws_loop_free(loop) != 0)
        snprintf(r.why, sizeof r.why, "uniws_loop_free failed after uniws_free");
    long hits = __atomic_load_n(&g_hits, __ATOMIC_SEQ_CST);
    *allocs = __atomic_load_n(&g_count, __ATOMIC_SEQ_CST);
    disarm();
    long live = __atomic_load_n(&g_live, __ATOMIC_SEQ_CST) - t->baseline;

    int complete;
    if (scenario == SC_DEFLATE)
        complete = r.opened == 1 && r.msgs == 1 && !r.bad && r.closes == 1 &&
                   r.close_code == 1002 && !r.errors;
    else
        complete = r.opened == 1 && r.expect == NMSG && !r.bad && r.closes == 1 &&
                   r.close_code == 1000 && r.was_clean && !r.errors &&
                   r.sent_ok[0] + r.sent_ok[1] + r.sent_ok[2] == NMSG;

#define FAIL(...) (snprintf(why, whylen, __VA_ARGS__), OUT_FAILED)
    if (r.why[0] && !r.bad)
        return FAIL("%s", r.why);
    if (live > 0)
        return FAIL("leak: %ld blocks (%zu bytes) more allocated after uniws_free + "
                    "uniws_loop_free than before the run",
                    live, __atomic_load_n(&g_live_b, __ATOMIC_SEQ_CST));
    if (hung)
        return FAIL("no close event within 15 s (opened %d, msgs %d, errors %d)", r.opened, r.msgs,
                    r.errors);
    if (connected && r.closes != 1 && !r.gave_up)
        return FAIL("%d close events", r.closes);
    if (r.after_close)
        return FAIL("an event after the close event");
    if (r.opened > 1)
        return FAIL("%d open events", r.opened);
    if (r.errors > 1)
        return FAIL("%d error events", r.errors);
    if (r.errors && (r.close_code != 1006 || r.was_clean))
        return FAIL("error event followed by close %d clean=%d", r.close_code, r.was_clean);
    if (r.other_rc)
        return FAIL("a call returned %s", uniws_err_name(r.other_rc));
    if (r.bad)
        return FAIL("%s", r.why);
    if (!hits) {
        if (!complete)
            return FAIL("no fault injected, yet the exchange did not complete "
                        "(opened %d msgs %d close %d clean %d errors %d code %s)",
                        r.opened, r.msgs, r.close_code, r.was_clean, r.errors,
                        uniws_err_name(r.error_code));
        return OUT_CLEAN;
    }
    if (g_verbose)
        fprintf(stderr, "  n=%ld: enomem %d, error %s, opened %d msgs %d close %d clean %d\n", n,
                r.enomem, r.errors ? uniws_err_name(r.error_code) : "-", r.opened, r.msgs,
                r.close_code, r.was_clean);
    if (r.enomem)
        return OUT_ENOMEM;
    if (r.errors)
        return OUT_EVENT;
    if (complete)
        return OUT_ABSORB;
    return FAIL("allocation %ld failed, but no call returned UNIWS_ENOMEM, no error event "
                "fired and the exchange did not complete (opened %d msgs %d close %d)",
                n, r.opened, r.msgs, r.close_code);
#undef FAIL
}

/* ---- the peer in a child process ----------------------------------------- */

static pid_t g_child;

/* ---- the sweep ----------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *backends[8];
    int nb = 0, persist = 0;
    long max = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc && nb < 8)
            backends[nb++] = argv[++i];
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            persist = !strcmp(argv[++i], "persist");
        else if (!strcmp(argv[i], "-v"))
            g_verbose = 1;
        else if (!strcmp(argv[i], "-t"))
            g_verbose = g_trace = 1;
        else if (!strcmp(argv[i], "--max") && i + 1 < argc)
            max = atol(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--backend NAME]... [--mode once|persist] [--max N] [-v] [-t]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!nb) {
        static const char *const all[] = {"loopback", "lws", "curl"};
        uniws_backend_info info;
        for (int i = 0; i < 3; i++)
            if (uniws_backend_find(all[i], &info) == 0)
                backends[nb++] = all[i];
    }
    for (size_t i = 0; i < sizeof g_big; i++)
        g_big[i] = (unsigned char)(i * 7 + (i >> 8));
    for (size_t i = 0; i + 1 < sizeof g_text; i++)
        g_text[i] = (char)('a' + i % 26);

    signal(SIGPIPE, SIG_IGN);
    int port = child_peer_start(&g_child);
    if (port <= 0) {
        fprintf(stderr, "fault: cannot start the scripted peer\n");
        child_peer_stop(g_child);
        return 1;
    }
    g_persist = persist;
    if (uniws_set_allocator(f_malloc, f_realloc, f_free) != 0) {
        fprintf(stderr, "fault: uniws_set_allocator failed\n");
        child_peer_stop(g_child);
        return 1;
    }

    double t0 = now_s();
    long total_runs = 0, total[OUT_COUNT] = {0};
    int failed = 0;
    for (int b = 0; b < nb; b++) {
        uniws_backend_info info;
        if (uniws_backend_find(backends[b], &info) != 0) {
            fprintf(stderr, "fault: backend %s is not compiled\n", backends[b]);
            failed = 1;
            continue;
        }
        target t = {backends[b], strcmp(backends[b], "loopback") ? port : 0, LONG_MAX / 4};
        /* One run without a fault first: what a backend keeps for the next
         * loop (lws parks its engine, uv loop + lws context, in a pool) is
         * the baseline every later run must come back to. */
        {
            char why[256] = "";
            long allocs;
            if (one_run(&t, SC_ECHO, 0, &allocs, why, sizeof why) == OUT_FAILED) {
                fprintf(stderr, "FAIL %s: the run without a fault failed: %s\n", backends[b], why);
                failed = 1;
                continue;
            }
            t.baseline = __atomic_load_n(&g_live, __ATOMIC_SEQ_CST);
        }
        for (int sc = SC_ECHO; sc <= SC_DEFLATE; sc++) {
            if (sc == SC_DEFLATE && !(info.caps & UNIWS_CAP_PERMESSAGE_DEFLATE)) {
                printf("fault: %-8s %-7s unsupported (no UNIWS_CAP_PERMESSAGE_DEFLATE)\n",
                       backends[b], scenario_names[sc]);
                continue;
            }
            long counts[OUT_COUNT] = {0}, allocs = 0, n;
            int nfail = 0, done = 0;
            for (n = 1; n <= max; n++) {
                char why[256] = "";
                int out = one_run(&t, sc, n, &allocs, why, sizeof why);
                counts[out]++;
                total[out]++;
                total_runs++;
                if (out == OUT_FAILED) {
                    failed = 1;
                    if (nfail++ < 10)
                        fprintf(stderr, "FAIL %s %s %s n=%ld: %s\n", backends[b],
                                scenario_names[sc], persist ? "persist" : "once", n, why);
                }
                if (allocs < n) { /* the fault was beyond the run's last allocation */
                    done = 1;
                    break;
                }
            }
            if (!done) {
                fprintf(stderr, "FAIL %s %s: still allocating at N = %ld (--max)\n", backends[b],
                        scenario_names[sc], max);
                failed = 1;
            }
            printf("fault: %-8s %-7s %s: %ld allocations swept, ENOMEM %ld, error event %ld, "
                   "absorbed %ld, failed %ld\n",
                   backends[b], scenario_names[sc], persist ? "persist" : "once", n - 1,
                   counts[OUT_ENOMEM], counts[OUT_EVENT], counts[OUT_ABSORB], counts[OUT_FAILED]);
            fflush(stdout);
        }
    }
    uniws_set_allocator(NULL, NULL, NULL);
    child_peer_stop(g_child);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("fault summary (%s): %ld runs, %ld allocation faults swept: ENOMEM %ld, error event "
           "%ld, absorbed %ld, failed %ld; %.1f s, peak RSS %ld KiB\n",
           persist ? "persist" : "once", total_runs, total_runs - total[OUT_CLEAN],
           total[OUT_ENOMEM], total[OUT_EVENT], total[OUT_ABSORB], total[OUT_FAILED], now_s() - t0,
           ru.ru_maxrss);
    return failed ? 1 : 0;
}
