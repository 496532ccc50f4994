/*
 * poller.c — the loop's wait primitive on the web, where the main thread must
 * never block: there are no file descriptors (the browser delivers WebSocket
 * events itself, and backends turn them into loop jobs plus a wake-up).
 *
 * Two ways to wait, picked at run time:
 *  - built with -sASYNCIFY: uniws__poller_wait() suspends the C stack and
 *    yields to the browser until a wake-up or the timeout, so
 *    uniws_loop_run() blocks exactly as it does natively;
 *  - otherwise waiting is impossible: uniws__poller_wait() returns at once
 *    and uniws_loop_run() hands the loop over (uniws__poller_handoff): the
 *    browser's event loop then runs one non-blocking turn whenever the
 *    poller is woken or the loop's next timer is due.
 * See docs/web.md.
 */
#include <stdlib.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>
#include "core/loop.h"
#include "core/platform.h"
#include "core/alloc.h"

struct uniws__poller {
    int woken;
    /* handed over to the browser's event loop */
    int driving;
    int (*step)(void *ctx);
    void *ctx;
    int now_pending;  /* a turn is queued with uniws__web_soon */
    int waiting;      /* suspended in uniws__web_wait (Asyncify) */
    long timer_id;    /* a pending turn for the next due timer, 0 when none */
    double timer_due; /* when that turn runs (emscripten_get_now() ms) */
};

/* 1 when the C stack may be suspended here: the build has Asyncify, no stack
 * is suspended already (JavaScript may call back into C while main() sleeps)
 * and the stack started in an export such as main() (Asyncify resumes through
 * that export; a setTimeout or event callback has none to resume). */
/* clang-format off */
EM_JS(int, uniws__web_can_sleep, (void), {
    return (typeof Asyncify === 'object' && Asyncify && !Asyncify.currData &&
            Asyncify.exportCallStack && Asyncify.exportCallStack.length > 0) ? 1 : 0;
});
/* clang-format on */

/* Suspends until uniws__web_wake_waiter(p) or ms milliseconds (-1: none). */
/* clang-format off */
EM_ASYNC_JS(void, uniws__web_wait, (void *p, int ms), {
    var w = Module['uniwsWaiters'] || (Module['uniwsWaiters'] = {});
    await new Promise(function(resolve) {
        var timer = null;
        var done = function() {
            if (w[p] === done)
                delete w[p];
            if (timer !== null)
                clearTimeout(timer);
            resolve();
        };
        w[p] = done;
        if (ms >= 0)
            timer = setTimeout(done, ms);
    });
});
/* clang-format on */

/* Ends a wait of p. Resolving only queues the resumption: Asyncify rewinds
 * from a microtask, once no compiled code is on the stack. */
/* clang-format off */
EM_JS(void, uniws__web_wake_waiter, (void *p), {
    var w = Module['uniwsWaiters'];
    if (w && w[p])
        w[p]();
});
/* clang-format on */

/* The engine tasks that run the handed-over loop's turns, one scheduler per
 * page (Module.uniwsSoon), set up with the first poller. add(p) queues a
 * turn of poller p and makes sure one engine task is posted: setImmediate
 * (Node.js) or a MessageChannel message (browsers, workers), never
 * setTimeout(0), which Node.js stretches to 1 ms and browsers clamp to 4 ms
 * once nested — every message's trip through the loop would wait that long.
 * Not a microtask: a loop that keeps finding work must let the engine deliver
 * events in between. Emscripten 3.1.6's emscripten_set_immediate() would do,
 * but its Node.js id table grows by one slot per call. One posted task serves
 * every turn queued before it runs. cancel(p) drops p's queued turn (p is
 * about to be freed).
 *
 * hold() / release() bracket an engine event handler of a backend
 * (backends/emscripten's onmessage): turns queued in between post no task;
 * release() runs them at once, at the end of the handler, with no C code on
 * the stack, so the event is dispatched in the engine task that brought it,
 * as a JavaScript handler would be — and a message's round trip costs no
 * engine task at all. Turns that cannot run there (Asyncify has a C stack
 * suspended, or a turn is already running further up the stack) get the
 * posted task instead. */
/* clang-format off */
EM_JS(void, uniws__web_soon_init, (void), {
    if (Module['uniwsSoon'])
        return;
    /* due: the queued turns, in order; a cancelled one is set to 0. An array
     * of a few entries, not a Set: a Set that gains and loses its one entry
     * on every message rehashes (a runtime call) each time. */
    var s = Module['uniwsSoon'] = { due: [], posted: false, held: 0, running: false };
    /* Looked up once: without -sASYNCIFY there is no such variable, and
     * `typeof` of a missing one is a slow global lookup on every call. */
    var asyncify = typeof Asyncify === 'object' && Asyncify ? Asyncify : null;
    var run = function(q) {
        if (!q || ABORT)
            return;
        s.running = true;
        try {
            _uniws__web_soon_run(q);
        } catch (e) {
            /* emscripten_force_exit() inside a callback ends the runtime */
            if (!(e instanceof ExitStatus) && e !== 'unwind')
                throw e;
        } finally {
            s.running = false;
        }
    };
    /* The turns queued now; a turn that queues its poller again (the loop
     * found more work) waits for the next task. */
    var runDue = function() {
        for (var n = s.due.length; n > 0 && s.due.length; n--)
            run(s.due.shift());
    };
    /* A turn that throws (an uncaught error in a callback) still leaves the
     * others a task. */
    var task = function() {
        s.posted = false;
        try {
            runDue();
        } finally {
            if (s.due.length)
                s.post();
        }
    };
    if (typeof setImmediate === 'function') {
        s.postTask = function() { setImmediate(task); };
    } else if (typeof MessageChannel === 'function') {
        var ch = new MessageChannel();
        ch.port1.onmessage = task;
        s.postTask = function() { ch.port2.postMessage(0); };
    } else {
        s.postTask = function() { setTimeout(task, 0); };
    }
    s.post = function() {
        if (!s.posted) {
            s.posted = true;
            s.postTask();
        }
    };
    s.add = function(p) {
        if (s.due.indexOf(p) < 0)
            s.due.push(p);
        if (!s.held)
            s.post();
    };
    s.cancel = function(p) {
        var i = s.due.indexOf(p);
        if (i >= 0)
            s.due[i] = 0;
    };
    s.hold = function() { s.held++; };
    s.release = function() {
        if (--s.held > 0 || !s.due.length)
            return;
        try {
            if (!s.running && !(asyncify && asyncify.currData))
                runDue();
        } finally {
            if (s.due.length)
                s.post();
        }
    };
});
EM_JS(void, uniws__web_soon, (void *p), {
    Module['uniwsSoon'].add(p);
});
EM_JS(void, uniws__web_soon_cancel, (void *p), {
    Module['uniwsSoon'].cancel(p);
});
/* clang-format on */

int uniws__poller_new(uniws__poller **out)
{
    uniws__poller *p = uniws__calloc(1, sizeof *p);
    if (!p)
        return UNIWS_ENOMEM;
    uniws__web_soon_init();
    *out = p;
    return 0;
}

static void cancel_turns(uniws__poller *p)
{
    if (p->now_pending)
        uniws__web_soon_cancel(p);
    if (p->timer_id)
        emscripten_clear_timeout(p->timer_id);
    p->now_pending = 0;
    p->timer_id = 0;
}

void uniws__poller_free(uniws__poller *p)
{
    if (!p)
        return;
    cancel_turns(p);
    uniws__free(p);
}

int uniws__poller_fd(const uniws__poller *p)
{
    (void)p;
    return -1;
}

int uniws__poller_add(uniws__poller *p, int fd, unsigned events, void *data)
{
    (void)p, (void)fd, (void)events, (void)data;
    return UNIWS_EIO; /* no descriptors to watch in a browser */
}

int uniws__poller_mod(uniws__poller *p, int fd, unsigned events, void *data)
{
    (void)p, (void)fd, (void)events, (void)data;
    return UNIWS_EIO;
}

void uniws__poller_del(uniws__poller *p, int fd)
{
    (void)p, (void)fd;
}

int uniws__poller_wait(uniws__poller *p, uniws__poll_event *ev, int max, int timeout_ms)
{
    (void)ev, (void)max;
    if (!p->woken && timeout_ms != 0 && uniws__web_can_sleep()) {
        p->waiting = 1;
        uniws__web_wait(p, timeout_ms);
        p->waiting = 0;
    }
    p->woken = 0;
    return 0;
}

/* ---- handing the loop to the browser's event loop ---------------------------- */

static void turn(uniws__poller *p);

/* Called by uniws__web_soon's task (exported so JavaScript can call it). */
EMSCRIPTEN_KEEPALIVE void uniws__web_soon_run(void *arg);
void uniws__web_soon_run(void *arg)
{
    uniws__poller *p = arg;
    p->now_pending = 0;
    turn(p);
}

static void on_timer(void *arg)
{
    uniws__poller *p = arg;
    p->timer_id = 0;
    turn(p);
}

/* The next turn as soon as the engine is done with the current task. */
static void schedule_now(uniws__poller *p)
{
    if (!p->now_pending) {
        p->now_pending = 1;
        uniws__web_soon(p);
    }
}

static void clear_timer(uniws__poller *p)
{
    if (p->timer_id) {
        emscripten_clear_timeout(p->timer_id);
        p->timer_id = 0;
    }
}

/* A turn when the loop's next timer is due, in next ms. A pending browser
 * timer that runs no later is kept: a turn that comes early finds nothing due
 * and asks again. So a loop with a timer armed (an idle timeout, say) does not
 * clear and set a browser timer on every message's turn. */
static void schedule_timer(uniws__poller *p, int next)
{
    double due = emscripten_get_now() + next;
    if (p->timer_id && p->timer_due <= due)
        return;
    clear_timer(p);
    p->timer_id = emscripten_set_timeout(on_timer, next, p);
    p->timer_due = due;
}

static void turn(uniws__poller *p)
{
    if (!p->driving)
        return;
    int next = p->step(p->ctx);
    if (next < -1) {
        /* uniws_loop_run() would have returned: stop driving. */
        p->driving = 0;
        cancel_turns(p);
        return;
    }
    if (p->woken || next == 0)
        schedule_now(p);
    else if (next > 0)
        schedule_timer(p, next);
    else
        clear_timer(p); /* no timer left: no turn needed until a wake-up */
}

int uniws__poller_handoff(uniws__poller *p, int (*step)(void *ctx), void *ctx)
{
    if (uniws__web_can_sleep())
        return 0; /* Asyncify: the caller may block in uniws__poller_wait */
    p->step = step;
    p->ctx = ctx;
    p->driving = 1;
    schedule_now(p);
    return 1;
}

void uniws__poller_wake(uniws__poller *p)
{
    p->woken = 1;
    if (p->driving)
        schedule_now(p);
    /* Only a suspended wait has a waiter: a wake-up per received message
     * costs no call into JavaScript otherwise. */
    if (p->waiting)
        uniws__web_wake_waiter(p);
}

const char *uniws__plat_name(void)
{
    return "web";
}
