/*
 * loop_int.h — the loop's private structure, shared by core/loop.c and
 * core/socket.c (which keeps the loop's socket list and alive count).
 */
#ifndef UNIWS_CORE_LOOP_INT_H
#define UNIWS_CORE_LOOP_INT_H

#include "core/backend.h"
#include "core/loop.h"
#include "core/platform.h"

#define UNIWS__MAX_BACKENDS 8

struct uniws_loop {
    uniws__poller *poller;
    uniws__mutex *mu; /* guards the job queue and `stop` */
    uniws__job *jobs_head, *jobs_tail;
    size_t njobs; /* jobs in the queue */
    uniws__timer **heap;
    size_t heap_len, heap_cap;
    uniws__timer *spill; /* timers the heap had no room for (out of memory) */
    uint64_t now;
    int now_stale; /* `now` is from an earlier iteration: read the clock when asked */
    uniws__poll_event events[64];
    int nevents, ievent; /* the batch being dispatched */
    int stop;
    int running;
    int in_run; /* inside uniws_loop_run() */
    uniws__thread_id thread;
    int alive;   /* sockets that have not fired close */
    int sockets; /* sockets not yet freed */
    int freeing; /* of those, freed by the user, teardown pending */
    struct {
        const uniws__backend *b;
        void *state;
    } backends[UNIWS__MAX_BACKENDS];
    size_t nbackends;
    uint8_t *tx_scratch; /* core/txdirect.c's slice buffer, once a big frame used it */
};

/* Runs every queued job (used by uniws_loop_free to finish teardowns). */
void uniws__loop_run_jobs(uniws_loop *loop);

#endif
