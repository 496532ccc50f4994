/* test_platform.c — the Windows platform layer (platforms/win32) under wine
 * or Windows: the WSAPoll loop on real sockets (more than the 64 that
 * select() or WaitForMultipleObjects would allow), the wake-up from another
 * thread, the clock, randomness, the SRW-lock mutex and WSASend's gathering
 * write through the loop. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/loop.h"
#include "core/platform.h"
#include "uniws/uniws.h"

/* A connected pair of TCP sockets on 127.0.0.1. */
static void tcp_pair(SOCKET out[2])
{
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(l != INVALID_SOCKET);
    struct sockaddr_in a;
    int len = (int)sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    out[0] = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_int_equal(connect(out[0], (struct sockaddr *)&a, sizeof a), 0);
    out[1] = accept(l, NULL, NULL);
    assert_true(out[1] != INVALID_SOCKET);
    closesocket(l);
}

static int setup_wsa(void **state)
{
    WSADATA wd;
    (void)state;
    return WSAStartup(MAKEWORD(2, 2), &wd);
}

static int teardown_wsa(void **state)
{
    (void)state;
    WSACleanup();
    return 0;
}

static void platform_name(void **state)
{
    (void)state;
    assert_string_equal(uniws_platform(), "win32-wsapoll");
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    /* No single pollable handle on Windows (docs/platforms.md). */
    assert_int_equal(uniws_loop_fd(loop), -1);
    uniws_loop_free(loop);
}

static void clock_monotonic(void **state)
{
    (void)state;
    uint64_t a = uniws__plat_now_ms();
    Sleep(60);
    uint64_t b = uniws__plat_now_ms();
    assert_true(b >= a + 50);
    assert_true(b < a + 5000);
}

static void random_bytes(void **state)
{
    (void)state;
    unsigned char x[32], y[32], zero[32];
    memset(zero, 0, sizeof zero);
    assert_int_equal(uniws__plat_random(x, sizeof x), 0);
    assert_int_equal(uniws__plat_random(y, sizeof y), 0);
    assert_memory_not_equal(x, y, sizeof x);
    assert_memory_not_equal(x, zero, sizeof x);
}

typedef struct counter {
    uniws__mutex *mu;
    long n;
} counter;

static DWORD WINAPI add_many(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < 100000; i++) {
        uniws__mutex_lock(c->mu);
        long v = c->n;
        if ((i & 1023) == 0)
            SwitchToThread(); /* invite a race the lock must prevent */
        c->n = v + 1;
        uniws__mutex_unlock(c->mu);
    }
    return 0;
}

static void mutex_threads(void **state)
{
    (void)state;
    counter c = {uniws__mutex_new(), 0};
    assert_non_null(c.mu);
    HANDLE t[4];
    for (int i = 0; i < 4; i++)
        assert_non_null(t[i] = CreateThread(NULL, 0, add_many, &c, 0, NULL));
    WaitForMultipleObjects(4, t, TRUE, INFINITE);
    for (int i = 0; i < 4; i++)
        CloseHandle(t[i]);
    assert_int_equal(c.n, 400000);
    assert_true(uniws__thread_self() == (uniws__thread_id)GetCurrentThreadId());
    uniws__mutex_free(c.mu);
}

typedef struct seen {
    int calls;
    unsigned revents;
} seen;

static void on_io(uniws_loop *loop, uniws__io *io, unsigned revents)
{
    seen *s = io->data;
    (void)loop;
    s->calls++;
    s->revents |= revents;
}

/* Runs the loop until s->calls changes or 2 s pass. */
static void run_until_called(uniws_loop *loop, seen *s)
{
    int before = s->calls;
    uint64_t end = uniws__plat_now_ms() + 2000;
    while (s->calls == before && uniws__plat_now_ms() < end)
        uniws_loop_run_once(loop, 100);
}

static void io_read_write(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    SOCKET p[2];
    tcp_pair(p);
    seen s = {0, 0};
    uniws__io io;
    assert_int_equal(uniws__io_start(loop, &io, (uniws__fd)p[0], UNIWS__IO_READ, on_io, &s), 0);
    /* Nothing to read: a short wait reports nothing. */
    uniws_loop_run_once(loop, 50);
    assert_int_equal(s.calls, 0);
    assert_int_equal(send(p[1], "x", 1, 0), 1);
    run_until_called(loop, &s);
    assert_int_equal(s.calls, 1);
    assert_true(s.revents & UNIWS__IO_READ);
    char c;
    assert_int_equal(recv(p[0], &c, 1, 0), 1);

    s.calls = 0;
    s.revents = 0;
    assert_int_equal(uniws__io_set(loop, &io, UNIWS__IO_WRITE), 0);
    run_until_called(loop, &s);
    assert_true(s.revents & UNIWS__IO_WRITE);
    assert_false(s.revents & UNIWS__IO_READ);

    /* The peer hangs up: reported as readable (recv then sees the end). */
    assert_int_equal(uniws__io_set(loop, &io, UNIWS__IO_READ), 0);
    s.calls = 0;
    s.revents = 0;
    closesocket(p[1]);
    run_until_called(loop, &s);
    assert_true(s.revents & UNIWS__IO_READ);
    assert_int_equal(recv(p[0], &c, 1, 0), 0);

    uniws__io_stop(loop, &io);
    closesocket(p[0]);
    uniws_loop_free(loop);
}

/* 100 watched sockets, more than select()'s default FD_SETSIZE and
 * WaitForMultipleObjects' 64 handles: only the one written to is reported. */
static void many_sockets(void **state)
{
    (void)state;
    enum { N = 100 };
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    static SOCKET p[N][2];
    static uniws__io io[N];
    static seen s[N];
    for (int i = 0; i < N; i++) {
        tcp_pair(p[i]);
        memset(&s[i], 0, sizeof s[i]);
        assert_int_equal(
            uniws__io_start(loop, &io[i], (uniws__fd)p[i][0], UNIWS__IO_READ, on_io, &s[i]), 0);
    }
    assert_int_equal(send(p[N - 7][1], "x", 1, 0), 1);
    run_until_called(loop, &s[N - 7]);
    for (int i = 0; i < N; i++)
        assert_int_equal(s[i].calls, i == N - 7 ? 1 : 0);
    for (int i = 0; i < N; i++) {
        uniws__io_stop(loop, &io[i]);
        closesocket(p[i][0]);
        closesocket(p[i][1]);
    }
    uniws_loop_free(loop);
}

static DWORD WINAPI wake_later(void *arg)
{
    Sleep(150);
    uniws__poller_wake(arg);
    return 0;
}

static void wake_from_thread(void **state)
{
    (void)state;
    uniws__poller *p;
    assert_int_equal(uniws__poller_new(&p), 0);
    uniws__poll_event ev[4];
    HANDLE t = CreateThread(NULL, 0, wake_later, p, 0, NULL);
    assert_non_null(t);
    uint64_t t0 = uniws__plat_now_ms();
    /* Forever, unless the wake-up ends the wait. */
    assert_int_equal(uniws__poller_wait(p, ev, 4, -1), 0);
    uint64_t took = uniws__plat_now_ms() - t0;
    assert_true(took >= 100);
    assert_true(took < 5000);
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    /* The wake-up was consumed: the next wait times out. */
    t0 = uniws__plat_now_ms();
    assert_int_equal(uniws__poller_wait(p, ev, 4, 100), 0);
    assert_true(uniws__plat_now_ms() - t0 >= 90);
    uniws__poller_free(p);
}

/* A timer wakes a loop blocked with no timeout of its own (the poller waits
 * for the timer's due time); uniws_loop_run() of a loop without sockets
 * returns at once, even with a timer far away. */
static void timer_cb(uniws_loop *loop, uniws__timer *t)
{
    (void)loop;
    *(int *)t->data = 1;
}

static void loop_timer(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    int fired = 0;
    uniws__timer tm;
    uniws__timer_init(&tm, timer_cb, &fired);
    /* t0 before arming: the timer is due 50 ms after its own start, so no
     * earlier than t0 + 50 however long this thread is preempted. */
    uint64_t t0 = uniws__plat_now_ms();
    assert_int_equal(uniws__timer_start(loop, &tm, 50), 0);
    while (!fired && uniws__plat_now_ms() - t0 < 2000)
        uniws_loop_run_once(loop, -1);
    assert_int_equal(fired, 1);
    assert_true(uniws__plat_now_ms() - t0 >= 50);

    assert_int_equal(uniws__timer_start(loop, &tm, 60000), 0);
    t0 = uniws__plat_now_ms();
    uniws_loop_run(loop);
    assert_true(uniws__plat_now_ms() - t0 < 1000);
    uniws__timer_stop(loop, &tm);
    uniws_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(platform_name),    cmocka_unit_test(clock_monotonic),
        cmocka_unit_test(random_bytes),     cmocka_unit_test(mutex_threads),
        cmocka_unit_test(io_read_write),    cmocka_unit_test(many_sockets),
        cmocka_unit_test(wake_from_thread), cmocka_unit_test(loop_timer),
    };
    return cmocka_run_group_tests(tests, setup_wsa, teardown_wsa);
}
