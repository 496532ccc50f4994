/*
 * loop.c — the uniws event loop: fd watchers over the platform poller, a
 * min-heap of one-shot timers, and a queue of deferred jobs (the only way
 * other threads, and re-entrant paths, get work onto the loop thread).
 * An idle loop blocks in the poller: no busy polling, no fixed sleeps.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "core/loop_int.h"
#include "core/alloc.h"

/* ---- timers: a binary min-heap ordered by due time ----------------------- */

static void heap_swap(uniws_loop *l, size_t a, size_t b)
{
    uniws__timer *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_index = a;
    l->heap[b]->heap_index = b;
}

static void heap_up(uniws_loop *l, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->due <= l->heap[i]->due)
            break;
        heap_swap(l, i, p);
        i = p;
    }
}

static void heap_down(uniws_loop *l, size_t i)
{
    for (;;) {
        size_t a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->heap_len && l->heap[a]->due < l->heap[m]->due)
            m = a;
        if (b < l->heap_len && l->heap[b]->due < l->heap[m]->due)
            m = b;
        if (m == i)
            return;
        heap_swap(l, i, m);
        i = m;
    }
}

void uniws__timer_init(uniws__timer *t, uniws__timer_cb cb, void *data)
{
    t->due = 0;
    t->cb = cb;
    t->data = data;
    t->heap_index = SIZE_MAX;
    t->spill_next = NULL;
}

int uniws__timer_active(const uniws__timer *t)
{
    return t->heap_index != SIZE_MAX;
}

/* heap_index of a timer in the spill list. */
#define SPILLED (SIZE_MAX - 1)

void uniws__timer_stop(uniws_loop *l, uniws__timer *t)
{
    size_t i = t->heap_index;
    if (i == SIZE_MAX)
        return;
    if (i == SPILLED) {
        uniws__timer **pp = &l->spill;
        while (*pp != t)
            pp = &(*pp)->spill_next;
        *pp = t->spill_next;
        t->heap_index = SIZE_MAX;
        return;
    }
    t->heap_index = SIZE_MAX;
    l->heap_len--;
    if (i == l->heap_len)
        return;
    l->heap[i] = l->heap[l->heap_len];
    l->heap[i]->heap_index = i;
    heap_up(l, i);
    heap_down(l, l->heap[i]->heap_index);
}

/* Arms t for due, a time on the platform clock (uniws__plat_now_ms()). */
static int timer_start_at(uniws_loop *l, uniws__timer *t, uint64_t due)
{
    uniws__timer_stop(l, t);
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 16;
        uniws__timer **h = uniws__realloc(l->heap, cap * sizeof *h);
        if (!h) {
            /* Out of memory: a timeout must not be lost (a close or connect
             * would wait forever), so the timer waits in the spill list. */
            t->due = due;
            t->heap_index = SPILLED;
            t->spill_next = l->spill;
            l->spill = t;
            return 0;
        }
        l->heap = h;
        l->heap_cap = cap;
    }
    t->due = due;
    t->heap_index = l->heap_len;
    l->heap[l->heap_len++] = t;
    heap_up(l, t->heap_index);
    return 0;
}

int uniws__timer_start(uniws_loop *l, uniws__timer *t, uint64_t delay_ms)
{
    /* From the clock, not the iteration's cached time: callbacks before this
     * one may have taken a while (a close timeout fired a second early under
     * Valgrind). */
    return timer_start_at(l, t, uniws__plat_now_ms() + delay_ms);
}

int uniws__timer_start_grain(uniws_loop *l, uniws__timer *t, uint64_t after, uint64_t grain_ms)
{
    uint64_t due = after + grain_ms - 1;
    return timer_start_at(l, t, due - due % grain_ms);
}

/* The iteration's time, read from the clock the first time it is needed:
 * an iteration that needs none (no timers, no caller asking; on the web that
 * is every message's turn) reads no clock, which is a call out to JavaScript
 * there. Read later than the iteration's start, never earlier, so a timer
 * still never fires early. */
static uint64_t loop_now(uniws_loop *l)
{
    if (l->now_stale) {
        l->now = uniws__plat_now_ms();
        l->now_stale = 0;
    }
    return l->now;
}

static void run_timers(uniws_loop *l)
{
    if (l->heap_len == 0 && !l->spill)
        return;
    /* Timers armed by callbacks for "now" run on the next iteration, so a
     * timer that re-arms itself with 0 cannot starve the poller. */
    uint64_t now = loop_now(l);
    while (l->heap_len > 0 && l->heap[0]->due <= now) {
        uniws__timer *t = l->heap[0];
        uniws__timer_stop(l, t);
        t->cb(l, t);
    }
    /* At most as many callbacks as timers were spilled, so one that re-arms
     * itself for "now" cannot starve the poller here either. */
    size_t budget = 0;
    for (uniws__timer *t = l->spill; t; t = t->spill_next)
        budget++;
    for (uniws__timer *t = l->spill; t && budget;) {
        if (t->due > now) {
            t = t->spill_next;
            continue;
        }
        uniws__timer_stop(l, t);
        budget--;
        t->cb(l, t);
        t = l->spill; /* the callback may have changed the list */
    }
}

uint64_t uniws__loop_now(uniws_loop *l)
{
    return loop_now(l);
}

/* ---- fd watchers --------------------------------------------------------- */

int uniws__io_start(uniws_loop *l, uniws__io *io, uniws__fd fd, unsigned events, uniws__io_cb cb,
                    void *data)
{
    if (!UNIWS__FD_VALID(fd) || !cb)
        return UNIWS_EINVAL;
    io->fd = fd;
    io->events = events;
    io->cb = cb;
    io->data = data;
    int r = uniws__poller_add(l->poller, fd, events, io);
    io->active = r == 0;
    return r;
}

int uniws__io_set(uniws_loop *l, uniws__io *io, unsigned events)
{
    if (!io->active)
        return UNIWS_EINVAL;
    if (io->events == events)
        return 0;
    io->events = events;
    return uniws__poller_mod(l->poller, io->fd, events, io);
}

void uniws__io_stop(uniws_loop *l, uniws__io *io)
{
    if (!io->active)
        return;
    io->active = 0;
    uniws__poller_del(l->poller, io->fd);
    /* A stopped watcher may still sit in the batch being dispatched. */
    for (int i = l->ievent; i < l->nevents; i++)
        if (l->events[i].data == io)
            l->events[i].data = NULL;
}

/* ---- jobs ---------------------------------------------------------------- */

void uniws__job_init(uniws__job *job, uniws__job_cb cb, void *data)
{
    job->cb = cb;
    job->data = data;
    job->next = NULL;
    job->queued = 0;
}

void uniws__job_post(uniws_loop *l, uniws__job *job)
{
    int wake = 0;
    uniws__mutex_lock(l->mu);
    if (!job->queued) {
        job->queued = 1;
        job->next = NULL;
        if (l->jobs_tail)
            l->jobs_tail->next = job;
        else
            l->jobs_head = job;
        l->jobs_tail = job;
        l->njobs++;
        wake = !uniws__loop_on_thread(l);
    }
    uniws__mutex_unlock(l->mu);
    if (wake)
        uniws__poller_wake(l->poller);
}

void uniws__job_cancel(uniws_loop *l, uniws__job *job)
{
    uniws__mutex_lock(l->mu);
    if (job->queued) {
        uniws__job **pp = &l->jobs_head, *prev = NULL;
        while (*pp && *pp != job) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            *pp = job->next;
            if (l->jobs_tail == job)
                l->jobs_tail = prev;
            l->njobs--;
        }
        job->queued = 0;
        job->next = NULL;
    }
    uniws__mutex_unlock(l->mu);
}

void uniws__loop_run_jobs(uniws_loop *l)
{
    /* Runs as many jobs as were queued on entry, taking each from the live
     * queue under the lock: a job cancelled (or freed with its socket) by an
     * earlier callback is simply no longer there, and a job that re-posts
     * itself waits for the next iteration instead of starving the poller. */
    uniws__mutex_lock(l->mu);
    size_t n = l->njobs;
    uniws__mutex_unlock(l->mu);
    while (n-- > 0) {
        uniws__mutex_lock(l->mu);
        uniws__job *j = l->jobs_head;
        if (j) {
            l->jobs_head = j->next;
            if (!l->jobs_head)
                l->jobs_tail = NULL;
            j->next = NULL;
            j->queued = 0;
            l->njobs--;
        }
        uniws__mutex_unlock(l->mu);
        if (!j)
            break;
        j->cb(l, j);
    }
}

static int jobs_pending(uniws_loop *l)
{
    uniws__mutex_lock(l->mu);
    int r = l->jobs_head != NULL;
    uniws__mutex_unlock(l->mu);
    return r;
}

/* ---- the loop ------------------------------------------------------------ */

int uniws__loop_on_thread(const uniws_loop *l)
{
    return l->running && l->thread == uniws__thread_self();
}

void uniws__loop_wake(uniws_loop *l)
{
    uniws__poller_wake(l->poller);
}

void *uniws__loop_backend_state(uniws_loop *l, const uniws__backend *b)
{
    for (size_t i = 0; i < l->nbackends; i++)
        if (l->backends[i].b == b)
            return l->backends[i].state;
    return NULL;
}

/* Called by socket.c before a backend's first connect on this loop. */
int uniws__loop_attach_backend(uniws_loop *l, const uniws__backend *b);
int uniws__loop_attach_backend(uniws_loop *l, const uniws__backend *b)
{
    for (size_t i = 0; i < l->nbackends; i++)
        if (l->backends[i].b == b)
            return 0;
    if (l->nbackends == UNIWS__MAX_BACKENDS)
        return UNIWS_EINTERNAL;
    void *state = NULL;
    if (b->loop_init) {
        int r = b->loop_init(l, &state);
        if (r)
            return r;
    }
    l->backends[l->nbackends].b = b;
    l->backends[l->nbackends].state = state;
    l->nbackends++;
    return 0;
}

int uniws_loop_new(uniws_loop **out)
{
    if (!out)
        return UNIWS_EINVAL;
    uniws_loop *l = uniws__calloc(1, sizeof *l);
    if (!l)
        return UNIWS_ENOMEM;
    int r = uniws__poller_new(&l->poller);
    if (r) {
        uniws__free(l);
        return r;
    }
    l->mu = uniws__mutex_new();
    if (!l->mu) {
        uniws__poller_free(l->poller);
        uniws__free(l);
        return UNIWS_ENOMEM;
    }
    l->now = uniws__plat_now_ms();
    *out = l;
    return 0;
}

int uniws_loop_free(uniws_loop *l)
{
    if (!l)
        return UNIWS_EINVAL;
    if (l->running)
        return UNIWS_EBUSY;
    /* A socket the user has not freed makes this a no-op: never run jobs
     * then, since they could fire that socket's callbacks outside the loop. */
    if (l->sockets > l->freeing)
        return UNIWS_EBUSY;
    /* Only freed sockets remain: finish their deferred teardowns (these fire
     * no callbacks). */
    for (int i = 0; i < 1000 && jobs_pending(l); i++)
        uniws__loop_run_jobs(l);
    if (l->sockets > 0)
        return UNIWS_EBUSY;
    for (size_t i = l->nbackends; i-- > 0;)
        if (l->backends[i].b->loop_free)
            l->backends[i].b->loop_free(l, l->backends[i].state);
    uniws__mutex_free(l->mu);
    uniws__poller_free(l->poller);
    uniws__free(l->heap);
    uniws__free(l->tx_scratch);
    uniws__free(l);
    return 0;
}

static void prepare(uniws_loop *l)
{
    for (size_t i = 0; i < l->nbackends; i++)
        if (l->backends[i].b->loop_prepare)
            l->backends[i].b->loop_prepare(l, l->backends[i].state);
}

static int next_timeout(uniws_loop *l)
{
    if (jobs_pending(l))
        return 0;
    if (l->heap_len == 0 && !l->spill)
        return -1;
    uint64_t now = uniws__plat_now_ms();
    uint64_t due = l->heap_len ? l->heap[0]->due : UINT64_MAX;
    for (const uniws__timer *t = l->spill; t; t = t->spill_next)
        if (t->due < due)
            due = t->due;
    if (due <= now)
        return 0;
    uint64_t d = due - now;
    return d > INT_MAX ? INT_MAX : (int)d;
}

int uniws_loop_timeout(uniws_loop *l)
{
    if (!l)
        return UNIWS_EINVAL;
    prepare(l);
    return next_timeout(l);
}

int uniws_loop_fd(const uniws_loop *l)
{
    return l ? uniws__poller_fd(l->poller) : -1;
}

int uniws_loop_alive(const uniws_loop *l)
{
    return l ? l->alive : 0;
}

void uniws_loop_stop(uniws_loop *l)
{
    if (!l)
        return;
    uniws__mutex_lock(l->mu);
    l->stop = 1;
    uniws__mutex_unlock(l->mu);
    uniws__poller_wake(l->poller);
}

int uniws_loop_run_once(uniws_loop *l, int timeout_ms)
{
    if (!l)
        return UNIWS_EINVAL;
    if (l->running)
        return UNIWS_EBUSY; /* re-entered from a callback */
    l->running = 1;
    l->thread = uniws__thread_self();
    l->now_stale = 1;
    /* Jobs first: teardowns and writes queued outside the loop. */
    uniws__loop_run_jobs(l);
    prepare(l);
    int t = next_timeout(l);
    if (l->in_run && l->alive == 0)
        t = 0; /* uniws_loop_run() is about to return: never block now */
    if (timeout_ms >= 0 && (t < 0 || timeout_ms < t))
        t = timeout_ms;
    int n = uniws__poller_wait(l->poller, l->events, 64, t);
    l->now_stale = 1; /* the wait may have taken a while */
    if (n > 0) {
        l->nevents = n;
        for (l->ievent = 0; l->ievent < l->nevents;) {
            uniws__poll_event ev = l->events[l->ievent++];
            uniws__io *io = ev.data;
            if (io && io->active)
                io->cb(l, io, ev.revents);
        }
        l->nevents = l->ievent = 0;
    }
    run_timers(l);
    uniws__loop_run_jobs(l);
    l->running = 0;
    return n < 0 ? n : l->alive;
}

/* uniws_loop_run() is over: stopped, or no socket alive and no job left. */
static int run_done(uniws_loop *l)
{
    uniws__mutex_lock(l->mu);
    int stop = l->stop;
    uniws__mutex_unlock(l->mu);
    return stop || (l->alive == 0 && !jobs_pending(l));
}

/* One turn of uniws_loop_run() for a host whose thread may not block (the web
 * without Asyncify, see uniws__poller_handoff): returns the delay until the
 * next turn, -1 to wait for a wake-up, -2 when uniws_loop_run() is over. */
static int run_step(void *arg)
{
    uniws_loop *l = arg;
    if (run_done(l))
        return -2;
    l->in_run = 1;
    int r = uniws_loop_run_once(l, 0);
    l->in_run = 0;
    if (r < 0 || run_done(l))
        return -2;
    return uniws_loop_timeout(l);
}

int uniws_loop_run(uniws_loop *l)
{
    if (!l)
        return UNIWS_EINVAL;
    uniws__mutex_lock(l->mu);
    l->stop = 0;
    uniws__mutex_unlock(l->mu);
    /* Web only: the browser's main thread cannot block, so (without
     * Asyncify) its event loop drives the loop through run_step() from now on
     * and this returns at once (docs/web.md). Natively the handoff declines. */
    if (!run_done(l) && !l->running && uniws__poller_handoff(l->poller, run_step, l))
        return 0;
    for (;;) {
        if (run_done(l))
            break;
        l->in_run = 1;
        int r = uniws_loop_run_once(l, -1);
        l->in_run = 0;
        if (r < 0)
            return r;
    }
    return 0;
}
