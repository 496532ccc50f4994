/*
 * report.c — clock, resource use, RTT percentiles and result printing for
 * the benchmark clients (see report.h).
 */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#endif

#ifdef __EMSCRIPTEN__
/* The clock the plain-JavaScript client reads (bench/web/js_bench.mjs), read
 * the same way: Emscripten's clock_gettime() is performance.now() (or, in
 * Node.js, process.hrtime()) behind a second JavaScript function and a
 * struct written into the heap, about twice the cost per reading, and the
 * bench reads the clock twice per message. */
/* clang-format off */
EM_JS(double, uniws__bench_js_now_ms, (void), {
    return performance.now();
});
/* clang-format on */

uint64_t uniws__bench_now_ns(void)
{
    return (uint64_t)(uniws__bench_js_now_ms() * 1e6);
}
#else
uint64_t uniws__bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

#ifdef __EMSCRIPTEN__
/* The web has no CPU clock or rusage: Node.js tells through `process` (as it
 * does for the plain-JavaScript client, bench/web/js_bench.mjs); a page
 * reports 0. */
/* clang-format off */
EM_JS(double, uniws__bench_js_cpu_us, (void), {
    var p = typeof process === 'object' ? process : null;
    if (!p || typeof p.cpuUsage !== 'function')
        return 0;
    var u = p.cpuUsage();
    return u.user + u.system;
});
EM_JS(double, uniws__bench_js_peak_rss_kib, (void), {
    var p = typeof process === 'object' ? process : null;
    return p && typeof p.resourceUsage === 'function' ? p.resourceUsage().maxRSS : 0;
});
/* clang-format on */

uint64_t uniws__bench_cpu_ns(int thread)
{
    (void)thread;
    return (uint64_t)(uniws__bench_js_cpu_us() * 1000.0);
}

long uniws__bench_switches(int thread)
{
    (void)thread;
    return 0;
}

long uniws__bench_peak_rss_kib(void)
{
    return (long)uniws__bench_js_peak_rss_kib();
}
#else
uint64_t uniws__bench_cpu_ns(int thread)
{
    struct timespec ts;
    clock_gettime(thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long uniws__bench_peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

long uniws__bench_switches(int thread)
{
    struct rusage ru;
    if (getrusage(thread ? RUSAGE_THREAD : RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_nvcsw + ru.ru_nivcsw;
}
#endif

long uniws__bench_rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void uniws__bench_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    /* Room for 10,000+ sockets with a few descriptors each; going above the
     * hard limit only works with privileges, so fall back to the hard limit. */
    struct rlimit want = {65536, 65536};
    if (rl.rlim_max >= want.rlim_max || setrlimit(RLIMIT_NOFILE, &want) != 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int uniws__bench_rtt_init(uniws__bench_rtt *r, int window, long count)
{
    memset(r, 0, sizeof *r);
    r->window = window > 0 ? window : 1;
    r->cap = count > 0 ? (size_t)count : 1;
    r->sent_ns = calloc((size_t)r->window, sizeof *r->sent_ns);
    r->rtt_ns = malloc(r->cap * sizeof *r->rtt_ns);
    if (!r->sent_ns || !r->rtt_ns) {
        uniws__bench_rtt_free(r);
        return -1;
    }
    return 0;
}

void uniws__bench_rtt_free(uniws__bench_rtt *r)
{
    free(r->sent_ns);
    free(r->rtt_ns);
    r->sent_ns = NULL;
    r->rtt_ns = NULL;
}

/* Puts the k-th smallest of a[0..n) at a[k] (k < n), smaller or equal ones
 * before it, larger or equal ones after: a quickselect, O(n) on average.
 * Not qsort(): Emscripten's musl sorts with smoothsort through a comparison
 * callback, a third of the web bench's process time on 2,000,000 echoes. */
static void select_kth(uint32_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* Median of three as the pivot: sorted or constant samples stay O(n). */
        size_t mid = lo + (hi - lo) / 2;
        uint32_t x = a[lo], y = a[mid], z = a[hi];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* Now a[lo..j] <= pivot <= a[i..hi], and i > j. */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return; /* between the two parts: equal to the pivot, in place */
    }
}

double uniws__bench_rtt_pct(uniws__bench_rtt *r, double p)
{
    if (r->n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(r->n - 1) + 0.5);
    if (i >= r->n)
        i = r->n - 1;
    select_kth(r->rtt_ns, r->n, i);
    return r->rtt_ns[i] / 1000.0;
}

/* Writes s as a JSON string body (the few characters that need escaping). */
static void json_str(const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
}

/* The measured part runs from the first send to the last echo: a run with no
 * echo has none, whatever time its client took before it gave up. */
static double measured_secs(const uniws__bench_result *r)
{
    return r->echoes > 0 && r->secs > 0 ? r->secs : 0;
}

static void print_json(const uniws__bench_result *r)
{
    const uniws__bench_cfg *c = r->cfg;
    double secs = measured_secs(r);
    printf("{\"tool\":\"");
    json_str(c->tool);
    printf("\",\"backend\":\"");
    json_str(r->backend ? r->backend : "");
    if (r->tls) {
        printf("\",\"tls\":\"");
        json_str(r->tls);
    }
    printf("\",\"type\":\"%s\",\"size\":%zu", c->text ? "text" : "binary", c->size);
    if (c->connections > 0) {
        printf(",\"connections\":%d,\"opened\":%ld,\"open_ms\":%.1f,\"echo_ms\":%.1f,"
               "\"rss_per_conn_kib\":%.2f,\"idle_ms\":%d,\"idle_cpu_pct\":%.4f,"
               "\"idle_wakeups_per_s\":%.2f",
               c->connections, r->opened, r->open_ms, r->echo_ms, r->rss_per_conn_kib, c->idle_ms,
               r->idle_cpu_pct, r->idle_wakeups_per_s);
    } else {
        double msgs = secs > 0 ? (double)r->echoes / secs : 0;
        printf(",\"count\":%ld,\"window\":%d,\"secs\":%.4f,\"msgs_per_s\":%.0f,"
               "\"mib_per_s\":%.1f,\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f,\"cpu_pct\":%.1f",
               c->count, c->window, secs, msgs, msgs * (double)c->size / 1048576.0, r->p50_us,
               r->p99_us, secs > 0 ? 100.0 * r->cpu_secs / secs : 0);
    }
    printf(",\"peak_rss_kib\":%ld,\"echoes\":%ld,\"full_checks\":%ld,\"ok\":%s,\"error\":\"",
           r->peak_rss_kib, r->echoes, r->full_checks, r->ok ? "true" : "false");
    json_str(r->error ? r->error : "");
    printf("\"}\n");
}

static void print_table(const uniws__bench_result *r)
{
    const uniws__bench_cfg *c = r->cfg;
    double secs = measured_secs(r);
    printf("%s on %s: %s, %zu-byte %s messages\n", c->tool, r->backend ? r->backend : "?",
           c->url ? c->url : "", c->size, c->text ? "text" : "binary");
    if (r->tls)
        printf("  TLS: %s\n", r->tls);
    if (c->connections > 0) {
        printf("  %-12s %10s %10s %14s %10s %14s %12s\n", "connections", "open ms", "echo ms",
               "RSS/conn KiB", "peak RSS", "idle CPU %", "idle wakes/s");
        printf("  %-12ld %10.1f %10.1f %14.2f %7ld MiB %14.4f %12.2f\n", r->opened, r->open_ms,
               r->echo_ms, r->rss_per_conn_kib, r->peak_rss_kib / 1024, r->idle_cpu_pct,
               r->idle_wakeups_per_s);
    } else {
        double msgs = secs > 0 ? (double)r->echoes / secs : 0;
        printf("  %-8s %-7s %12s %10s %11s %11s %7s %10s\n", "count", "window", "msgs/s", "MiB/s",
               "RTT p50 us", "RTT p99 us", "CPU %", "peak RSS");
        printf("  %-8ld %-7d %12.0f %10.1f %11.1f %11.1f %7.1f %6ld MiB\n", c->count, c->window,
               msgs, msgs * (double)c->size / 1048576.0, r->p50_us, r->p99_us,
               secs > 0 ? 100.0 * r->cpu_secs / secs : 0, r->peak_rss_kib / 1024);
    }
    if (r->ok)
        printf("  verified: %ld echoes (size, type, sequence; %ld compared in full)\n", r->echoes,
               r->full_checks);
    else
        printf("  FAILED after %ld echoes: %s\n", r->echoes, r->error ? r->error : "?");
}

void uniws__bench_print(const uniws__bench_result *r)
{
    if (r->cfg->json)
        print_json(r);
    else
        print_table(r);
    fflush(stdout);
}
