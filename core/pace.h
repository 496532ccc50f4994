/*
 * pace.h — connect pacing for the stream backends: at most `max` openings
 * in progress per loop, the others wait in line, in the order they came,
 * and start as slots free up. lws paces its TCP connects, curl its whole
 * openings (why each: the comments above their use). The core's connect
 * timeout runs for a waiting socket as for any other.
 *
 * A backend embeds a uniws__pace per loop and a uniws__pace_item per socket
 * (zeroed: out of line, holding no slot). The line lives on the loop
 * thread; nothing here takes a lock.
 */
#ifndef UNIWS_CORE_PACE_H
#define UNIWS_CORE_PACE_H

#include "core/loop.h"

typedef struct uniws__pace_item uniws__pace_item;
struct uniws__pace_item {
    uniws__pace_item *prev, *next;
    int waiting; /* in line */
    int counted; /* holds a slot */
};

typedef struct uniws__pace uniws__pace;
/* Starts an item that left the line (from the pace's job, outside the
 * backend's library): the backend starts the opening and calls
 * uniws__pace_take() if it did start. */
typedef void (*uniws__pace_start_cb)(uniws__pace *pace, uniws__pace_item *item);

struct uniws__pace {
    uniws__pace_item *head, *tail;
    int busy; /* items holding a slot */
    int max;
    uniws__pace_start_cb start;
    uniws__job pump;
    uniws_loop *loop;
};

void uniws__pace_init(uniws__pace *pace, uniws_loop *loop, int max, uniws__pace_start_cb start);
/* Cancels the pace's job (the loop is going away). */
void uniws__pace_free(uniws__pace *pace);
/* 1: a slot is free and nobody waits, start now (then uniws__pace_take());
 * 0: item joined the end of the line. */
int uniws__pace_enter(uniws__pace *pace, uniws__pace_item *item);
/* The opening started: item holds a slot until uniws__pace_leave(). */
void uniws__pace_take(uniws__pace *pace, uniws__pace_item *item);
/* The opening is over (open, failed or abandoned): item leaves the line
 * or frees its slot, and the next in line start soon. Safe to call more
 * than once and for an item that never entered. */
void uniws__pace_leave(uniws__pace *pace, uniws__pace_item *item);

#endif
