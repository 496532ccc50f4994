/* test_flow_gib.c — the streaming memory test: one message of SIZE bytes
 * (1 GiB by default) received through on_message_part, or sent with
 * uniws_send_fragment paced by max_buffered_amount and on_buffered_amount_low,
 * over the loopback backend (the scripted peer makes the received message
 * piece by piece, `binstream`, and only counts what it receives, `report`).
 * Checks every byte (received) or the peer's count (sent) and that the
 * process's peak RSS (VmHWM) stays under a limit; prints both.
 * Usage: test_core_flow_gib recv|send [SIZE] [RSS_LIMIT_MIB (0: no limit)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "uniws/uniws.h"

typedef struct state {
    uniws_socket *s;
    int open, closed, error, lows;
    uint64_t got, msgs, bad_at;
    int bad;
    char reason[128];
} state;

static void on_open(uniws_socket *s, void *ud)
{
    (void)s;
    ((state *)ud)->open = 1;
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    (void)s;
    fprintf(stderr, "error: %s (%s)\n", uniws_err_name(e->error), e->message);
    ((state *)ud)->error = e->error;
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    state *st = ud;
    (void)s;
    st->closed = 1;
    snprintf(st->reason, sizeof st->reason, "%s", e->reason);
}

static void on_part(uniws_socket *s, const uniws_message_part *m, void *ud)
{
    state *st = ud;
    const uint8_t *p = m->data;
    (void)s;
    if (m->offset != st->got && !st->bad) {
        st->bad = 1;
        st->bad_at = st->got;
    }
    /* The peer's pattern: byte i of the message is i & 0xff. */
    for (size_t i = 0; i < m->len && !st->bad; i++)
        if (p[i] != (uint8_t)(m->offset + i)) {
            st->bad = 1;
            st->bad_at = m->offset + i;
        }
    st->got += m->len;
    if (m->last)
        st->msgs++;
}

static void on_low(uniws_socket *s, void *ud)
{
    (void)s;
    ((state *)ud)->lows++;
}

static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_until(uniws_loop *loop, const int *flag)
{
    for (int i = 0; i < 60000 && !*flag; i++)
        if (uniws_loop_run_once(loop, 10) < 0)
            return -1;
    return *flag ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "recv") != 0 && strcmp(argv[1], "send") != 0)) {
        fprintf(stderr, "usage: %s recv|send [SIZE] [RSS_LIMIT_MIB]\n", argv[0]);
        return 2;
    }
    int recv_mode = strcmp(argv[1], "recv") == 0;
    uint64_t size = argc > 2 ? strtoull(argv[2], NULL, 10) : (uint64_t)1 << 30;
    long limit_mib = argc > 3 ? strtol(argv[3], NULL, 10) : 64;
    state st = {0};
    uniws_loop *loop;
    if (uniws_loop_new(&loop) != 0)
        return 1;
    uniws_options o = {.backend = "loopback", .user_data = &st};
    o.callbacks.on_open = on_open;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.callbacks.on_message_part = on_part;
    o.callbacks.on_buffered_amount_low = on_low;
    o.max_buffered_amount = 8u << 20;
    o.buffered_amount_low_threshold = 2u << 20;
    char url[128];
    if (recv_mode)
        snprintf(url, sizeof url, "ws://x/script/binstream:%llu/close:1000",
                 (unsigned long long)size);
    else
        snprintf(url, sizeof url, "ws://x/script/report");
    double t0 = now_s();
    if (uniws_connect(loop, url, &o, &st.s) != 0 || run_until(loop, &st.open) != 0) {
        fprintf(stderr, "FAIL: did not open\n");
        return 1;
    }
    if (!recv_mode) {
        static uint8_t part[1 << 20];
        for (size_t i = 0; i < sizeof part; i++)
            part[i] = (uint8_t)i;
        uint64_t sent = 0;
        while (sent < size && !st.closed) {
            size_t n = size - sent < sizeof part ? (size_t)(size - sent) : sizeof part;
            int rc = uniws_send_fragment(st.s, UNIWS_BINARY, part, n, sent + n == size);
            if (rc == UNIWS_EBUFFER_FULL) {
                /* Wait for bufferedamountlow, as an application would. */
                int lows = st.lows;
                for (int i = 0; i < 60000 && st.lows == lows && !st.closed; i++)
                    uniws_loop_run_once(loop, 10);
                continue;
            }
            if (rc != 0) {
                fprintf(stderr, "FAIL: uniws_send_fragment: %s\n", uniws_err_name(rc));
                return 1;
            }
            sent += n;
        }
        uniws_close(st.s, 1000, NULL);
    }
    if (run_until(loop, &st.closed) != 0) {
        fprintf(stderr, "FAIL: did not close\n");
        return 1;
    }
    double secs = now_s() - t0;
    long peak = peak_rss_kib();
    uniws_free(st.s);
    uniws_loop_free(loop);
    int ok = !st.error;
    if (recv_mode) {
        ok = ok && !st.bad && st.got == size && st.msgs == 1;
        printf("flow-gib recv: %llu bytes in 1 message through on_message_part, %.2f s, "
               "peak RSS %.1f MiB (limit %ld MiB)%s\n",
               (unsigned long long)st.got, secs, (double)peak / 1024.0, limit_mib,
               st.bad ? ", WRONG BYTES" : "");
        if (st.bad)
            fprintf(stderr, "FAIL: first wrong byte at %llu\n", (unsigned long long)st.bad_at);
    } else {
        char want[96];
        snprintf(want, sizeof want, "msgs=1 bytes=%llu", (unsigned long long)size);
        ok = ok && strcmp(st.reason, want) == 0;
        printf("flow-gib send: %llu bytes in 1 message through uniws_send_fragment, %.2f s, "
               "%d bufferedamountlow waits, peak RSS %.1f MiB (limit %ld MiB); peer: %s\n",
               (unsigned long long)size, secs, st.lows, (double)peak / 1024.0, limit_mib,
               st.reason);
    }
    if (limit_mib > 0 && (peak < 0 || peak > limit_mib * 1024)) {
        fprintf(stderr, "FAIL: peak RSS %ld KiB above %ld MiB\n", peak, limit_mib);
        ok = 0;
    }
    return ok ? 0 : 1;
}
