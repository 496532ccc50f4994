/*
 * report.h — measuring and reporting a benchmark run the same way in every
 * client: a monotonic clock, CPU and memory use from the kernel, RTT
 * percentiles, and the output (a human table or one JSON line).
 */
#ifndef UNIWS_BENCH_REPORT_H
#define UNIWS_BENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "workload.h"

/* Monotonic nanoseconds. */
uint64_t uniws__bench_now_ns(void);

/* CPU time used so far, in nanoseconds: by the whole process, or (thread=1)
 * by the calling thread only (when an in-process server shares the process). */
uint64_t uniws__bench_cpu_ns(int thread);
/* Context switches so far (voluntary and not) of the calling thread or the
 * process: how often an idle loop woke up. 0 on the web. */
long uniws__bench_switches(int thread);
/* Peak and current resident set size in KiB. */
long uniws__bench_peak_rss_kib(void);
long uniws__bench_rss_kib(void);
/* Raises the open-files limit to the hard limit (for --connections). */
void uniws__bench_raise_nofile(void);

/* Round-trip times: one slot per message. */
typedef struct uniws__bench_rtt {
    uint64_t *sent_ns; /* send time by seq % window */
    int window;
    uint32_t *rtt_ns; /* one per echo */
    size_t n, cap;
} uniws__bench_rtt;

int uniws__bench_rtt_init(uniws__bench_rtt *r, int window, long count);
void uniws__bench_rtt_free(uniws__bench_rtt *r);
static inline void uniws__bench_rtt_sent(uniws__bench_rtt *r, uint64_t seq, uint64_t now)
{
    r->sent_ns[seq % (uint64_t)r->window] = now;
}
static inline void uniws__bench_rtt_echo(uniws__bench_rtt *r, uint64_t seq, uint64_t now)
{
    if (r->n < r->cap) {
        uint64_t d = now - r->sent_ns[seq % (uint64_t)r->window];
        r->rtt_ns[r->n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
}
/* The p-th percentile (0..100) in microseconds; 0 with no samples. Reorders
 * the samples. */
double uniws__bench_rtt_pct(uniws__bench_rtt *r, double p);

typedef struct uniws__bench_result {
    const uniws__bench_cfg *cfg;
    const char *backend; /* what served the run ("lws", "libcurl 8.14.1", ...) */
    const char *tls;     /* wss: the negotiated protocol and cipher when known, else NULL */
    int ok;              /* every echo arrived and verified */
    const char *error;   /* first problem, "" when ok */
    long echoes;         /* echoes verified */
    long full_checks;    /* of which compared in full */
    /* throughput mode */
    double secs; /* first send to last echo; printed as 0 when no echo completed */
    double p50_us, p99_us;
    /* connection mode */
    double open_ms, echo_ms, rss_per_conn_kib, idle_cpu_pct;
    double idle_wakeups_per_s; /* context switches per second of the idle window */
    long opened;
    /* both */
    double cpu_secs; /* client CPU during the measured part */
    long peak_rss_kib;
} uniws__bench_result;

/* Prints the result as a table (cfg->json == 0) or one JSON line. */
void uniws__bench_print(const uniws__bench_result *r);

#endif
