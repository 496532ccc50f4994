/*
 * test_lws_connects.c — many uniws_connect() calls in a row on the lws
 * backend. The backend keeps at most 256 TCP connects in progress per loop
 * and lets the others wait in line (backends/lws/lws.c, "pacing TCP
 * connects"): every socket must still open and echo, sockets freed while
 * they wait must never call back, and sockets whose name resolves to an
 * address that refuses must move on to the next address from the line too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "nofile.h"
#include "uniws/uniws.h"
#include "server.h"

/* More than twice the backend's 256 connects in progress. */
enum { N = 700 };

typedef struct client {
    uniws_socket *s;
    char text[48];
    int freed; /* freed right after uniws_connect(), while waiting in line */
    int opened, echoed, closed, clean, mismatch, events_after_free, error;
} client;

static uniws__server *g_srv;
static client g_c[N];

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void on_open(uniws_socket *s, void *ud)
{
    client *c = ud;
    c->events_after_free += c->freed;
    c->opened = 1;
    uniws_send_text(s, c->text, strlen(c->text));
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    client *c = ud;
    c->events_after_free += c->freed;
    if (m->type != UNIWS_TEXT || m->len != strlen(c->text) || memcmp(m->data, c->text, m->len))
        c->mismatch = 1;
    c->echoed++;
    uniws_close(s, 1000, "done");
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    client *c = ud;
    (void)s;
    c->events_after_free += c->freed;
    c->error = e->error;
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    client *c = ud;
    (void)s;
    c->events_after_free += c->freed;
    c->closed = 1;
    c->clean = e->was_clean && e->code == 1000;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    /* Both ends of every connection live in this process. */
    if (uniws_test_raise_nofile() < 2 * N + 64) {
        fprintf(stderr, "test_lws_connects: needs %d descriptors\n", 2 * N + 64);
        return -1;
    }
    uniws__server_options so;
    memset(&so, 0, sizeof so);
    return uniws__server_start(&so, &g_srv);
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv)
        uniws__server_stop(g_srv);
    return 0;
}

static void many_connects(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    int port = uniws__server_port(g_srv);
    char literal[96], named[96];
    snprintf(literal, sizeof literal, "ws://127.0.0.1:%d/echo", port);
    /* "localhost" may resolve to ::1 first, where nothing listens: that
     * connect fails and the next address is tried. */
    snprintf(named, sizeof named, "ws://localhost:%d/echo", port);
    size_t want = 0;
    for (size_t i = 0; i < N; i++) {
        client *c = &g_c[i];
        memset(c, 0, sizeof *c);
        snprintf(c->text, sizeof c->text, "hello %zu", i);
        uniws_options o;
        memset(&o, 0, sizeof o);
        o.backend = "lws";
        o.user_data = c;
        o.callbacks.on_open = on_open;
        o.callbacks.on_message = on_message;
        o.callbacks.on_error = on_error;
        o.callbacks.on_close = on_close;
        assert_int_equal(uniws_connect(loop, i % 5 == 4 ? named : literal, &o, &c->s), 0);
        if (i >= 300 && i % 7 == 0) {
            /* Waiting in line now (256 connects are in progress). */
            c->freed = 1;
            uniws_free(c->s);
            c->s = NULL;
        } else {
            want++;
        }
    }
    long long deadline = now_ms() + 90000;
    size_t done = 0;
    while (now_ms() < deadline) {
        uniws_loop_run_once(loop, 100);
        done = 0;
        for (size_t i = 0; i < N; i++)
            done += !g_c[i].freed && g_c[i].closed;
        if (done == want)
            break;
    }
    size_t ok = 0;
    for (size_t i = 0; i < N; i++) {
        client *c = &g_c[i];
        assert_int_equal(c->events_after_free, 0);
        if (c->freed)
            continue;
        if (c->closed && c->clean && c->echoed == 1 && !c->mismatch)
            ok++;
        else
            print_error("client %zu: opened %d echoed %d closed %d clean %d error %s\n", i,
                        c->opened, c->echoed, c->closed, c->clean,
                        c->error ? uniws_err_name(c->error) : "none");
        uniws_free(c->s);
        c->s = NULL;
    }
    print_message("lws.many_connects: %zu of %zu sockets opened, echoed and closed cleanly "
                  "(%d freed while waiting)\n",
                  ok, want, (int)(N - want));
    assert_int_equal(ok, want);
    assert_int_equal(uniws_loop_free(loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(many_connects, setup, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
