/*
 * test_curl_loop.c — the curl backend inside the uniws loop:
 *   mixed: one loop drives curl, lws (when compiled) and loopback sockets at
 *          the same time, all echoing concurrently;
 *   scale: 200 curl sockets on one loop and one thread, each echoing once,
 *          without a thread per socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>
#include "uniws/uniws.h"
#include "server.h"
#include "echo_clients.h"

static uniws__server *g_srv;
static char g_url[128];
static int g_max_threads;

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void note_threads(void)
{
    int n = count_threads();
    if (n > g_max_threads)
        g_max_threads = n;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    uniws__server_options so;
    memset(&so, 0, sizeof so);
    if (uniws__server_start(&so, &g_srv) != 0)
        return -1;
    snprintf(g_url, sizeof g_url, "ws://127.0.0.1:%d/echo", uniws__server_port(g_srv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv)
        uniws__server_stop(g_srv);
    return 0;
}

static int overlap(const echo_client *a, const echo_client *b)
{
    return a->open_seq && b->open_seq && a->open_seq < b->close_seq && b->open_seq < a->close_seq;
}

static void mixed_loop(void **state)
{
    (void)state;
    const char *backends[3];
    size_t nb = 0;
    backends[nb++] = "curl";
#ifdef UNIWS_HAVE_LWS
    backends[nb++] = "lws";
#endif
#ifdef UNIWS_HAVE_LOOPBACK
    backends[nb++] = "loopback";
#endif
    if (nb < 2)
        fail_msg("a mixed loop needs a second backend next to curl");
#ifndef UNIWS_HAVE_LWS
    fprintf(stderr, "note: lws is not compiled in; mixing curl with loopback only\n");
#endif
    enum { PER = 20 };
    echo_client c[3 * PER];
    size_t n = nb * PER;
    uniws_loop *loop;
    uniws_options o;
    memset(&o, 0, sizeof o);
    assert_int_equal(uniws_loop_new(&loop), 0);
    /* The peer waits before echoing, so every socket stays open a while. */
    char url[160];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/script/sleep:300/echo", uniws__server_port(g_srv));
    size_t done = echo_run(loop, url, &o, backends, nb, c, n, 30000);
    assert_int_equal(uniws_loop_free(loop), 0);
    for (size_t i = 0; i < n; i++)
        if (!(c[i].closed && c[i].clean && c[i].echoed == 1 && !c[i].mismatch))
            print_error("client %zu (%s): opened %d echoed %d closed %d clean %d code %d "
                        "error %d %s\n",
                        i, c[i].backend, c[i].opened, c[i].echoed, c[i].closed, c[i].clean,
                        c[i].code, c[i].error, c[i].message);
    assert_int_equal(done, n);
    /* Every other backend had a socket open while a curl socket was open. */
    for (size_t b = 1; b < nb; b++) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i += nb)
            for (size_t j = b; j < n && !found; j += nb)
                found = overlap(&c[i], &c[j]);
        if (!found)
            fail_msg("no %s socket was open at the same time as a curl socket", backends[b]);
    }
}

static void scale(void **state)
{
    (void)state;
    enum { N = 200 };
    static const char *const curl_only[] = {"curl"};
    static echo_client c[N];
    uniws_loop *loop;
    uniws_options o;
    memset(&o, 0, sizeof o);
    assert_int_equal(uniws_loop_new(&loop), 0);
    g_max_threads = 0;
    echo_tick = note_threads;
    size_t done = echo_run(loop, g_url, &o, curl_only, 1, c, N, 60000);
    echo_tick = NULL;
    assert_int_equal(uniws_loop_free(loop), 0);
    size_t max_open = 0, open_now = 0;
    for (size_t i = 0; i < N; i++)
        if (!(c[i].closed && c[i].clean && c[i].echoed == 1 && !c[i].mismatch))
            print_error("client %zu: opened %d echoed %d closed %d code %d error %d %s\n", i,
                        c[i].opened, c[i].echoed, c[i].closed, c[i].code, c[i].error, c[i].message);
    assert_int_equal(done, N);
    /* How many were open at once: sweep the open/close event order. */
    for (unsigned long seq = 1; seq <= 2 * N; seq++) {
        for (size_t i = 0; i < N; i++) {
            if (c[i].open_seq == seq)
                open_now++;
            if (c[i].close_seq == seq)
                open_now--;
        }
        if (open_now > max_open)
            max_open = open_now;
    }
    print_message("curl.scale: %d sockets, at most %zu open at once, at most %d threads\n", N,
                  max_open, g_max_threads);
    assert_true(max_open >= N / 2);
    /* The test's own thread plus the peer's server thread (and a spare). */
    assert_true(g_max_threads <= 4);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest mixed[] = {
        cmocka_unit_test_setup_teardown(mixed_loop, setup, teardown)};
    const struct CMUnitTest big[] = {cmocka_unit_test_setup_teardown(scale, setup, teardown)};
    if (argc > 1 && strcmp(argv[1], "mixed") == 0)
        return cmocka_run_group_tests(mixed, NULL, NULL);
    if (argc > 1 && strcmp(argv[1], "scale") == 0)
        return cmocka_run_group_tests(big, NULL, NULL);
    fprintf(stderr, "usage: %s mixed|scale\n", argv[0]);
    return 2;
}
