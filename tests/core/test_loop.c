/* test_loop.c — the loop: timers, cross-thread jobs, fd watchers, the
 * pollable loop fd for embedding, stop from another thread, idle cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <cmocka.h>
#include "core/loop.h"
#include "core/platform.h"
#include "uniws/uniws.h"

static int order[8];
static int norder;

static void on_timer(uniws_loop *loop, uniws__timer *t)
{
    (void)loop;
    order[norder++] = (int)(intptr_t)t->data;
}

static void timers_fire_in_due_order(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws__timer a, b, c;
    uniws__timer_init(&a, on_timer, (void *)1);
    uniws__timer_init(&b, on_timer, (void *)2);
    uniws__timer_init(&c, on_timer, (void *)3);
    norder = 0;
    /* Read before the timers are armed: each is due its delay after its own
     * start, which is no earlier than t0, so the 60 ms one cannot fire before
     * t0 + 60 however long this thread is preempted in between (read after
     * them, a preemption of more than a few ms under ASan on a busy machine
     * failed a tolerance of 55). */
    uint64_t t0 = uniws__plat_now_ms();
    uniws__timer_start(loop, &a, 60);
    uniws__timer_start(loop, &b, 20);
    uniws__timer_start(loop, &c, 40);
    uniws__timer_stop(loop, &c);
    assert_false(uniws__timer_active(&c));
    int t = uniws_loop_timeout(loop);
    assert_true(t >= 0 && t <= 20);
    while (norder < 2)
        uniws_loop_run_once(loop, 200);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_true(uniws__plat_now_ms() - t0 >= 60);
    assert_int_equal(uniws_loop_timeout(loop), -1);
    assert_int_equal(uniws_loop_free(loop), 0);
}

/* Grain timers (idle trims): armed at different times within one grain,
 * they fall due together on the next grain mark at or after `after`, never
 * before it, and fire in the same loop iteration. */
static void grain_timers_fall_due_together(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws__timer a, b;
    uniws__timer_init(&a, on_timer, (void *)1);
    uniws__timer_init(&b, on_timer, (void *)2);
    norder = 0;
    uint64_t now = uniws__plat_now_ms();
    uint64_t base = now - now % 50 + 50; /* a grain mark ahead */
    assert_int_equal(uniws__timer_start_grain(loop, &a, base + 1, 50), 0);
    assert_int_equal(uniws__timer_start_grain(loop, &b, base + 37, 50), 0);
    assert_true(a.due == base + 50 && b.due == base + 50);
    /* A time on a mark is its own mark. */
    uniws__timer c;
    uniws__timer_init(&c, on_timer, (void *)3);
    assert_int_equal(uniws__timer_start_grain(loop, &c, base + 100, 50), 0);
    assert_true(c.due == base + 100);
    uniws__timer_stop(loop, &c);
    while (norder < 2)
        assert_true(uniws_loop_run_once(loop, 500) >= 0);
    assert_true(uniws__plat_now_ms() >= base + 50);
    assert_int_equal(norder, 2);
    assert_int_equal(uniws_loop_free(loop), 0);
}

/* An allocator whose realloc always fails: the timer heap cannot grow. */
static void *no_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    return NULL;
}

/* Out of memory, timers wait in the spill list and still fire in due order;
 * stopping one there works; loop_timeout sees them. */
static void timers_survive_out_of_memory(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    assert_int_equal(uniws_set_allocator(malloc, no_realloc, free), 0);
    uniws__timer a, b, c;
    uniws__timer_init(&a, on_timer, (void *)1);
    uniws__timer_init(&b, on_timer, (void *)2);
    uniws__timer_init(&c, on_timer, (void *)3);
    norder = 0;
    assert_int_equal(uniws__timer_start(loop, &a, 40), 0);
    assert_int_equal(uniws__timer_start(loop, &b, 10), 0);
    assert_int_equal(uniws__timer_start(loop, &c, 20), 0);
    assert_true(uniws__timer_active(&a) && uniws__timer_active(&b));
    uniws__timer_stop(loop, &c);
    assert_false(uniws__timer_active(&c));
    int t = uniws_loop_timeout(loop);
    assert_true(t >= 0 && t <= 10);
    while (norder < 2)
        uniws_loop_run_once(loop, 100);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_int_equal(uniws_loop_timeout(loop), -1);
    assert_int_equal(uniws_set_allocator(NULL, NULL, NULL), 0);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static int job_ran;
static void on_job(uniws_loop *loop, uniws__job *job)
{
    (void)loop;
    (void)job;
    job_ran++;
}

struct poster {
    uniws_loop *loop;
    uniws__job *job;
};

static void *post_later(void *arg)
{
    struct poster *p = arg;
    usleep(50000);
    uniws__job_post(p->loop, p->job);
    return NULL;
}

static void job_from_other_thread_wakes_blocking_loop(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws__job job;
    uniws__job_init(&job, on_job, NULL);
    struct poster p = {loop, &job};
    pthread_t th;
    job_ran = 0;
    pthread_create(&th, NULL, post_later, &p);
    uint64_t t0 = uniws__plat_now_ms();
    /* Blocks (no timers, no sockets) until the other thread posts. */
    while (!job_ran && uniws__plat_now_ms() - t0 < 5000)
        uniws_loop_run_once(loop, -1);
    pthread_join(th, NULL);
    assert_int_equal(job_ran, 1);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static unsigned io_seen;
static void on_io(uniws_loop *loop, uniws__io *io, unsigned revents)
{
    (void)loop;
    char buf[16];
    io_seen |= revents;
    if (revents & UNIWS__IO_READ)
        (void)read(io->fd, buf, sizeof buf);
}

static void fd_watcher_and_embedding_fd(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    uniws__io io;
    assert_int_equal(uniws__io_start(loop, &io, fds[0], UNIWS__IO_READ, on_io, NULL), 0);
    int lfd = uniws_loop_fd(loop);
    if (strcmp(uniws_platform(), "posix-poll") == 0) {
        /* poll() has no descriptor of its own to hand out (docs/platforms.md):
         * the watcher still fires through uniws_loop_run_once(). */
        assert_int_equal(lfd, -1);
        assert_int_equal(write(fds[1], "x", 1), 1);
        io_seen = 0;
        uniws_loop_run_once(loop, 1000);
        assert_true(io_seen & UNIWS__IO_READ);
        uniws__io_stop(loop, &io);
        close(fds[0]);
        close(fds[1]);
        assert_int_equal(uniws_loop_free(loop), 0);
        return;
    }
    assert_true(lfd >= 0);
    struct pollfd pfd = {lfd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0); /* idle: not readable */
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(poll(&pfd, 1, 1000), 1); /* an outer loop would wake now */
    io_seen = 0;
    uniws_loop_run_once(loop, 0);
    assert_true(io_seen & UNIWS__IO_READ);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    uniws__io_stop(loop, &io);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static void idle_loop_sleeps(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    uint64_t t0 = uniws__plat_now_ms();
    for (int i = 0; i < 3; i++)
        uniws_loop_run_once(loop, 100);
    uint64_t el = uniws__plat_now_ms() - t0;
    getrusage(RUSAGE_SELF, &r1);
    long cpu_us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000L +
                  (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
                  (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000L +
                  (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
    assert_true(el >= 290);
    /* 300 ms of waiting must cost almost nothing (no busy polling). */
    assert_true(cpu_us < 30000);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static void *stop_later(void *arg)
{
    usleep(50000);
    uniws_loop_stop(arg);
    return NULL;
}

static void stop_from_other_thread(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws_socket *s;
    uniws_options o = {.backend = "loopback"};
    /* A socket that stays open: run() would never return by itself. */
    assert_int_equal(uniws_connect(loop, "ws://x/script/hold", &o, &s), 0);
    pthread_t th;
    pthread_create(&th, NULL, stop_later, loop);
    assert_int_equal(uniws_loop_run(loop), 0);
    pthread_join(th, NULL);
    assert_int_equal(uniws_loop_alive(loop), 1);
    assert_int_equal(uniws_loop_free(loop), UNIWS_EBUSY);
    uniws_free(s);
    assert_int_equal(uniws_loop_alive(loop), 0);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static uniws__job jobs3[3];
static int ran3[3];

static void on_job3(uniws_loop *loop, uniws__job *job)
{
    int i = (int)(job - jobs3);
    ran3[i]++;
    if (i == 0)
        uniws__job_cancel(loop, &jobs3[1]); /* cancel a later job of the same batch */
}

static void cancel_inside_a_batch_keeps_the_rest(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    for (int i = 0; i < 3; i++) {
        uniws__job_init(&jobs3[i], on_job3, NULL);
        ran3[i] = 0;
        uniws__job_post(loop, &jobs3[i]);
    }
    uniws_loop_run_once(loop, 0);
    assert_int_equal(ran3[0], 1);
    assert_int_equal(ran3[1], 0); /* cancelled */
    assert_int_equal(ran3[2], 1); /* still ran */
    /* The cancelled job can be posted again and runs. */
    uniws__job_post(loop, &jobs3[1]);
    uniws_loop_run_once(loop, 0);
    assert_int_equal(ran3[1], 1);
    assert_int_equal(uniws_loop_timeout(loop), -1); /* nothing left queued */
    assert_int_equal(uniws_loop_free(loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_due_order),
        cmocka_unit_test(grain_timers_fall_due_together),
        cmocka_unit_test(timers_survive_out_of_memory),
        cmocka_unit_test(job_from_other_thread_wakes_blocking_loop),
        cmocka_unit_test(fd_watcher_and_embedding_fd),
        cmocka_unit_test(idle_loop_sleeps),
        cmocka_unit_test(stop_from_other_thread),
        cmocka_unit_test(cancel_inside_a_batch_keeps_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
