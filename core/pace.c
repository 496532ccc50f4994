/*
 * pace.c — connect pacing: a line of openings and a count of slots per
 * loop (see pace.h).
 */
#include "core/pace.h"

#include <stddef.h>

static void on_pump(uniws_loop *loop, uniws__job *job)
{
    uniws__pace *pace = job->data;
    (void)loop;
    /* start() may end other items (a failure calls back): re-read the head. */
    while (pace->head && pace->busy < pace->max) {
        uniws__pace_item *it = pace->head;
        uniws__pace_leave(pace, it);
        pace->start(pace, it);
    }
}

void uniws__pace_init(uniws__pace *pace, uniws_loop *loop, int max, uniws__pace_start_cb start)
{
    pace->head = pace->tail = NULL;
    pace->busy = 0;
    pace->max = max;
    pace->start = start;
    pace->loop = loop;
    uniws__job_init(&pace->pump, on_pump, pace);
}

void uniws__pace_free(uniws__pace *pace)
{
    uniws__job_cancel(pace->loop, &pace->pump);
}

int uniws__pace_enter(uniws__pace *pace, uniws__pace_item *item)
{
    if (pace->busy < pace->max && !pace->head)
        return 1;
    item->waiting = 1;
    item->next = NULL;
    item->prev = pace->tail;
    if (pace->tail)
        pace->tail->next = item;
    else
        pace->head = item;
    pace->tail = item;
    return 0;
}

void uniws__pace_take(uniws__pace *pace, uniws__pace_item *item)
{
    if (item->counted)
        return;
    item->counted = 1;
    pace->busy++;
}

void uniws__pace_leave(uniws__pace *pace, uniws__pace_item *item)
{
    if (item->waiting) {
        if (item->prev)
            item->prev->next = item->next;
        else
            pace->head = item->next;
        if (item->next)
            item->next->prev = item->prev;
        else
            pace->tail = item->prev;
        item->prev = item->next = NULL;
        item->waiting = 0;
    }
    if (item->counted) {
        item->counted = 0;
        pace->busy--;
        if (pace->head)
            uniws__job_post(pace->loop, &pace->pump);
    }
}
