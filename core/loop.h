/*
 * loop.h — internal loop services for the core and the backends: file
 * descriptor watchers, one-shot timers, a monotonic clock, per-loop backend
 * state and cross-thread wake-ups. Everything here runs on the loop thread
 * unless a comment says otherwise.
 */
#ifndef UNIWS_CORE_LOOP_H
#define UNIWS_CORE_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include "uniws/uniws.h"
#include "core/platform.h"

struct uniws__backend;

#define UNIWS__IO_READ  1u
#define UNIWS__IO_WRITE 2u
#define UNIWS__IO_ERROR 4u /* reported only: hang-up or socket error */

typedef struct uniws__io uniws__io;
typedef void (*uniws__io_cb)(uniws_loop *loop, uniws__io *io, unsigned revents);
struct uniws__io {
    uniws__fd fd;
    unsigned events; /* UNIWS__IO_READ | UNIWS__IO_WRITE currently watched */
    uniws__io_cb cb;
    void *data;
    int active;
};

/* Watches fd for events (may be 0). Returns 0, UNIWS_EIO or UNIWS_EINVAL. */
int uniws__io_start(uniws_loop *loop, uniws__io *io, uniws__fd fd, unsigned events, uniws__io_cb cb,
                    void *data);
/* Changes the watched events of an active watcher. Returns 0 or UNIWS_EIO. */
int uniws__io_set(uniws_loop *loop, uniws__io *io, unsigned events);
/* Stops watching; safe on an inactive watcher; call before closing the fd. */
void uniws__io_stop(uniws_loop *loop, uniws__io *io);

typedef struct uniws__timer uniws__timer;
typedef void (*uniws__timer_cb)(uniws_loop *loop, uniws__timer *t);
struct uniws__timer {
    uint64_t due;
    uniws__timer_cb cb;
    void *data;
    size_t heap_index;        /* SIZE_MAX when not scheduled */
    uniws__timer *spill_next; /* in the loop's spill list (heap could not grow) */
};

void uniws__timer_init(uniws__timer *t, uniws__timer_cb cb, void *data);
/* (Re)arms t to fire once, delay_ms from now. Always returns 0: when the
 * heap cannot grow (out of memory) the timer waits in a spill list instead, so
 * no caller loses a timeout. */
int uniws__timer_start(uniws_loop *loop, uniws__timer *t, uint64_t delay_ms);
/* (Re)arms t for the first multiple of grain_ms (> 0) at or after the time
 * `after` (the loop's clock, as uniws__loop_now() reads it). For timers that
 * need not be exact (letting idle buffers go): the many sockets a burst
 * leaves idle at nearly the same time then fall due together, and one
 * wake-up serves them all instead of one wake-up per socket. */
int uniws__timer_start_grain(uniws_loop *loop, uniws__timer *t, uint64_t after, uint64_t grain_ms);
void uniws__timer_stop(uniws_loop *loop, uniws__timer *t);
int uniws__timer_active(const uniws__timer *t);

/* Monotonic milliseconds, read once per loop iteration, when first asked. */
uint64_t uniws__loop_now(uniws_loop *loop);

/* The backend's per-loop state (made by its loop_init on first use), or NULL. */
void *uniws__loop_backend_state(uniws_loop *loop, const struct uniws__backend *b);

/* 1 when the caller is the thread currently inside uniws_loop_run*(). */
int uniws__loop_on_thread(const uniws_loop *loop);

/* Wakes the loop from any thread (the loop fd becomes readable). */
void uniws__loop_wake(uniws_loop *loop);

/* Deferred work that must run on the loop thread at a safe point (outside
 * every backend callback). A job is queued at most once; thread-safe. */
typedef struct uniws__job uniws__job;
typedef void (*uniws__job_cb)(uniws_loop *loop, uniws__job *job);
struct uniws__job {
    uniws__job_cb cb;
    void *data;
    uniws__job *next;
    int queued;
};
void uniws__job_init(uniws__job *job, uniws__job_cb cb, void *data);
void uniws__job_post(uniws_loop *loop, uniws__job *job);
/* Removes a queued job (loop thread). */
void uniws__job_cancel(uniws_loop *loop, uniws__job *job);

#endif
