/* test_pace.c — connect pacing (core/pace.c): at most max openings hold a
 * slot, the others start in the order they came as slots free, an item
 * that leaves the line never starts, and a start that fails (and ends other
 * items from inside the job) leaves the line consistent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/loop.h"
#include "core/pace.h"
#include "uniws/uniws.h"

#define N 10

typedef struct opening {
    uniws__pace_item slot;
    int id;
    int started;
    int fails;            /* the start fails: it takes no slot */
    struct opening *kill; /* a start that ends this one as it fails */
} opening;

static int started[N];
static int nstarted;

static void start(uniws__pace *pace, opening *o)
{
    o->started = 1;
    started[nstarted++] = o->id;
    if (o->fails) {
        if (o->kill)
            uniws__pace_leave(pace, &o->kill->slot);
        return;
    }
    uniws__pace_take(pace, &o->slot);
}

static void on_slot(uniws__pace *pace, uniws__pace_item *item)
{
    start(pace, (opening *)((char *)item - offsetof(opening, slot)));
}

static void enter(uniws__pace *pace, opening *o)
{
    if (uniws__pace_enter(pace, &o->slot))
        start(pace, o);
}

static void run_jobs(uniws_loop *loop)
{
    for (int i = 0; i < 3; i++)
        uniws_loop_run_once(loop, 0);
}

static void at_most_max_in_order(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws__pace pace;
    uniws__pace_init(&pace, loop, 3, on_slot);
    opening o[N] = {0};
    nstarted = 0;
    for (int i = 0; i < N; i++) {
        o[i].id = i;
        enter(&pace, &o[i]);
    }
    assert_int_equal(nstarted, 3);
    assert_int_equal(pace.busy, 3);
    run_jobs(loop);
    assert_int_equal(nstarted, 3); /* nothing freed a slot */

    uniws__pace_leave(&pace, &o[4].slot); /* leaves the line: never starts */
    uniws__pace_leave(&pace, &o[4].slot); /* twice is harmless */
    uniws__pace_leave(&pace, &o[1].slot); /* frees a slot */
    uniws__pace_leave(&pace, &o[1].slot);
    assert_int_equal(pace.busy, 2);
    assert_int_equal(nstarted, 3); /* the next starts from the job, not here */
    run_jobs(loop);
    assert_int_equal(nstarted, 4);
    assert_int_equal(started[3], 3);
    assert_int_equal(pace.busy, 3);

    /* The openings in progress end, one round at a time: the line moves up
     * three at a time, never more than three started. */
    while (pace.head) {
        for (int i = 0; i < N; i++)
            if (o[i].slot.counted)
                uniws__pace_leave(&pace, &o[i].slot);
        run_jobs(loop);
        assert_true(pace.busy <= 3);
        assert_true(pace.busy > 0);
    }
    for (int i = 0; i < N; i++)
        uniws__pace_leave(&pace, &o[i].slot);
    assert_int_equal(pace.busy, 0);
    assert_null(pace.head);
    assert_null(pace.tail);
    /* Started in order, 4 never. */
    int want[] = {0, 1, 2, 3, 5, 6, 7, 8, 9};
    assert_int_equal(nstarted, 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(started[i], want[i]);
    assert_false(o[4].started);
    uniws__pace_free(&pace);
    assert_int_equal(uniws_loop_free(loop), 0);
}

/* Failing starts take no slot, so the job goes on down the line; one that
 * ends the item behind it (a failure's callback destroying another socket)
 * makes the job skip it. */
static void failed_starts_go_on(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws__pace pace;
    uniws__pace_init(&pace, loop, 1, on_slot);
    opening o[5] = {0};
    nstarted = 0;
    for (int i = 0; i < 5; i++) {
        o[i].id = i;
        enter(&pace, &o[i]);
    }
    o[1].fails = 1;
    o[1].kill = &o[2];
    o[3].fails = 1;
    assert_int_equal(nstarted, 1);
    uniws__pace_leave(&pace, &o[0].slot);
    run_jobs(loop);
    /* 1 fails and ends 2; 3 fails; 4 takes the slot. */
    assert_int_equal(nstarted, 4);
    assert_int_equal(started[1], 1);
    assert_int_equal(started[2], 3);
    assert_int_equal(started[3], 4);
    assert_false(o[2].started);
    assert_int_equal(pace.busy, 1);
    assert_null(pace.head);
    uniws__pace_leave(&pace, &o[4].slot);
    assert_int_equal(pace.busy, 0);
    uniws__pace_free(&pace);
    assert_int_equal(uniws_loop_free(loop), 0);
}

/* A loop freed with items in line: the pace's job is cancelled, nothing runs. */
static void free_cancels_the_job(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws__pace pace;
    uniws__pace_init(&pace, loop, 1, on_slot);
    opening o[2] = {{.id = 0}, {.id = 1}};
    nstarted = 0;
    enter(&pace, &o[0]);
    enter(&pace, &o[1]);
    uniws__pace_leave(&pace, &o[0].slot); /* posts the job */
    uniws__pace_free(&pace);
    run_jobs(loop);
    assert_int_equal(nstarted, 1);
    assert_int_equal(uniws_loop_free(loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(at_most_max_in_order),
        cmocka_unit_test(failed_starts_go_on),
        cmocka_unit_test(free_cancels_the_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
