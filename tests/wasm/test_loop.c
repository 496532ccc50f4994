/*
 * test_loop.c — the loop on the web (platforms/web/poller.c and the handoff
 * in core/loop.c), built twice from this source: plain, where
 * uniws_loop_run() hands the loop to the JavaScript event loop and returns at
 * once, and with Asyncify, where it blocks as natively (run with --blocking).
 * Uses the loopback backend, so the core's jobs (deferred teardown, the
 * peer's pump) and timers (a scripted sleep, the connect timeout) are what
 * moves events. Exits 0 when every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#include "uniws/uniws.h"
#include "core/loop.h"

static int failures;
static int expect_blocking;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void finish(void)
{
    printf("%s (%s)\n", failures ? "FAILED" : "ok", expect_blocking ? "asyncify" : "handoff");
    fflush(stdout);
    emscripten_force_exit(failures ? 1 : 0);
}

/* ---- a socket that records what happened to it ------------------------------- */

typedef struct probe {
    const char *name;
    uniws_loop *loop;
    uniws_socket *s;
    int opened, msgs, errors, closed, code, error;
    double t_open, t_msg;
    char last[64];
    int send_on_open, stop_on_open;
} probe;

static void inside_loop(probe *p, const char *what)
{
    /* Callbacks run only inside uniws_loop_run*() on the loop thread. */
    CHECK(uniws__loop_on_thread(p->loop), "%s: %s ran outside uniws_loop_run*()", p->name, what);
}

static void on_open(uniws_socket *s, void *ud)
{
    probe *p = ud;
    inside_loop(p, "open");
    p->opened++;
    p->t_open = emscripten_get_now();
    if (p->send_on_open)
        CHECK(uniws_send_text(s, "one", 3) == 0, "%s: send in on_open", p->name);
    if (p->stop_on_open)
        uniws_loop_stop(p->loop);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    probe *p = ud;
    inside_loop(p, "message");
    p->msgs++;
    p->t_msg = emscripten_get_now();
    snprintf(p->last, sizeof p->last, "%.*s", (int)m->len, (const char *)m->data);
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    probe *p = ud;
    inside_loop(p, "error");
    p->errors++;
    p->error = e->error;
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    probe *p = ud;
    inside_loop(p, "close");
    p->closed++;
    p->code = e->code;
    /* Freeing inside the callback: the core tears down from a loop job. */
    uniws_free(s);
    p->s = NULL;
}

static int connect_probe(probe *p, uniws_loop *loop, const char *name, const char *url,
                         int timeout_ms)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->loop = loop;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "loopback";
    o.connect_timeout_ms = timeout_ms;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = p;
    int r = uniws_connect(loop, url, &o, &p->s);
    CHECK(r == 0, "%s: connect returned %s", name, uniws_err_name(r));
    return r == 0;
}

/* Calls next() once cond() holds: at once when uniws_loop_run() blocked
 * until the end, else from a browser timer while the browser drives the loop. */
typedef struct waiter {
    int (*cond)(void);
    void (*next)(void);
    double deadline;
    const char *what;
} waiter;
static waiter w;

static void poll_waiter(void *arg)
{
    if (w.cond()) {
        w.next();
    } else if (emscripten_get_now() > w.deadline) {
        CHECK(0, "timed out waiting for %s", w.what);
        finish();
    } else {
        emscripten_set_timeout(poll_waiter, 5, NULL);
    }
}

static void when(int (*cond)(void), void (*next)(void), int ms, const char *what)
{
    w.cond = cond;
    w.next = next;
    w.deadline = emscripten_get_now() + ms;
    w.what = what;
    poll_waiter(NULL);
}

/* ---- 1: waiting in uniws_loop_run_once -------------------------------------- */

static uniws_loop *wait_loop;

static void stop_wait_loop(void *arg)
{
    uniws_loop_stop(wait_loop); /* wakes the poller */
}

static void test_wait(void)
{
    CHECK(uniws_loop_new(&wait_loop) == 0, "loop_new");
    CHECK(uniws_loop_fd(wait_loop) == -1, "uniws_loop_fd is %d on the web",
          uniws_loop_fd(wait_loop));
    double t0 = emscripten_get_now();
    CHECK(uniws_loop_run_once(wait_loop, 100) == 0, "run_once on an empty loop");
    double waited = emscripten_get_now() - t0;
    if (expect_blocking)
        CHECK(waited >= 90, "run_once(100) returned after %.0f ms (Asyncify must wait)", waited);
    else
        CHECK(waited < 50, "run_once(100) took %.0f ms (without Asyncify it cannot wait)", waited);

    /* A wake-up ends the wait early (the timer only fires while we wait). */
    long timer = emscripten_set_timeout(stop_wait_loop, 20, NULL);
    t0 = emscripten_get_now();
    uniws_loop_run_once(wait_loop, 5000);
    waited = emscripten_get_now() - t0;
    emscripten_clear_timeout(timer);
    CHECK(waited < 1000, "run_once(5000) not woken: %.0f ms", waited);
    if (expect_blocking)
        CHECK(waited >= 15, "run_once(5000) returned after %.0f ms, before the wake", waited);
    CHECK(uniws_loop_free(wait_loop) == 0, "loop_free");
}

/* ---- 2: a run with timers, jobs and a deferred teardown --------------------- */

static uniws_loop *loop2;
static probe late, silent, early;
static double t_run2;

static int run2_done(void)
{
    return late.closed && silent.closed && early.closed && uniws_loop_alive(loop2) == 0;
}

static void test_stop(void);

static void check_run2(void)
{
    /* sleep:60 is a loop timer: the message cannot come before it. */
    CHECK(late.opened == 1 && late.msgs == 1 && !strcmp(late.last, "late"),
          "late: open %d msgs %d last \"%s\"", late.opened, late.msgs, late.last);
    CHECK(late.t_msg - t_run2 >= 58, "late: message %.0f ms after the run began, before the timer",
          late.t_msg - t_run2);
    CHECK(late.closed == 1 && late.code == 4000 && !late.errors, "late: close %d errors %d",
          late.code, late.errors);
    /* The connect timeout is a core timer too. */
    CHECK(silent.errors == 1 && silent.error == UNIWS_ETIMEOUT && silent.code == 1006 &&
              !silent.opened,
          "silent: errors %d (%s) close %d open %d", silent.errors, uniws_err_name(silent.error),
          silent.code, silent.opened);
    /* Closing while connecting fails the socket from a loop job. */
    CHECK(early.errors == 1 && early.code == 1006 && !early.opened,
          "early: errors %d close %d open %d", early.errors, early.code, early.opened);
    CHECK(uniws_loop_free(loop2) == 0, "loop_free after the run (teardown jobs pending?)");
    test_stop();
}

static void test_run(void)
{
    CHECK(uniws_loop_new(&loop2) == 0, "loop_new");
    connect_probe(&late, loop2, "late", "ws://lo/script/sleep:60/text:late/close:4000:bye", 0);
    connect_probe(&silent, loop2, "silent", "ws://lo/script/silent", 80);
    connect_probe(&early, loop2, "early", "ws://lo/echo", 0);
    CHECK(uniws_close(early.s, 1000, NULL) == 0, "close while connecting");
    CHECK(!late.opened && !early.errors, "a callback fired before the loop ran");
    t_run2 = emscripten_get_now();
    int r = uniws_loop_run(loop2);
    CHECK(r == 0, "uniws_loop_run returned %s", uniws_err_name(r));
    int alive = uniws_loop_alive(loop2);
    if (expect_blocking) {
        CHECK(alive == 0 && run2_done(), "uniws_loop_run returned with %d alive (must block)",
              alive);
    } else {
        CHECK(alive == 3, "handoff: uniws_loop_run returned with %d alive, expected 3 (at once)",
              alive);
        CHECK(!late.opened, "handoff: callbacks ran inside uniws_loop_run's call");
    }
    when(run2_done, check_run2, 5000, "the sockets of the run to close");
}

/* ---- 3: uniws_loop_stop, then uniws_loop_run again -------------------------- */

static uniws_loop *loop3;
static probe echo;
static int msgs_at_stop;
static double t_stopped;

static void on_two(uniws_socket *s, const uniws_message *m, void *ud)
{
    on_message(s, m, ud);
    if (!strcmp(echo.last, "two"))
        uniws_close(s, 1000, NULL);
}

static int stopped_for_a_while(void)
{
    if (!echo.opened)
        return 0;
    if (!t_stopped)
        t_stopped = emscripten_get_now();
    return emscripten_get_now() - t_stopped > 150;
}

static int stopped_again(void)
{
    return emscripten_get_now() - t_stopped > 300;
}

static int echo_closed(void)
{
    return echo.closed && uniws_loop_alive(loop3) == 0;
}

static void check_stop_end(void)
{
    CHECK(echo.msgs == 2 && !strcmp(echo.last, "two"), "after the second run: %d msgs, last %s",
          echo.msgs, echo.last);
    CHECK(echo.code == 1000, "close %d", echo.code);
    CHECK(uniws_loop_free(loop3) == 0, "loop_free");
    finish();
}

static void run_again(void)
{
    CHECK(echo.msgs == msgs_at_stop, "a message arrived while the loop was stopped");
    uniws_loop_run(loop3);
    when(echo_closed, check_stop_end, 5000, "the echo after uniws_loop_run again");
}

static void after_stop(void)
{
    /* Stopped: a send is queued, but nothing is dispatched until the loop
     * runs again ("one" may have come in the iteration that stopped). */
    msgs_at_stop = echo.msgs;
    CHECK(uniws_send_text(echo.s, "two", 3) == 0, "send after stop");
    when(stopped_again, run_again, 5000, "a while");
}

static void test_stop(void)
{
    CHECK(uniws_loop_new(&loop3) == 0, "loop_new");
    uniws_options o;
    memset(&o, 0, sizeof o);
    echo.name = "echo";
    echo.loop = loop3;
    echo.send_on_open = 1;
    echo.stop_on_open = 1;
    o.backend = "loopback";
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_two;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = &echo;
    CHECK(uniws_connect(loop3, "ws://lo/echo", &o, &echo.s) == 0, "connect");
    int r = uniws_loop_run(loop3);
    CHECK(r == 0, "uniws_loop_run returned %s", uniws_err_name(r));
    if (expect_blocking)
        CHECK(echo.opened && uniws_loop_alive(loop3) == 1,
              "uniws_loop_stop: run returned with open %d alive %d", echo.opened,
              uniws_loop_alive(loop3));
    when(stopped_for_a_while, after_stop, 5000, "open and the stop");
}

int main(int argc, char **argv)
{
    expect_blocking = argc > 1 && !strcmp(argv[1], "--blocking");
    test_wait();
    test_run();
    return 0;
}
