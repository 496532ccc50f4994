/*
 * thread.c — mutexes and thread identity on the web. Without -pthread there is
 * one thread (the browser's main thread, where every WebSocket event arrives),
 * so a mutex has nothing to exclude and is a no-op; a -pthread build gets real
 * pthread mutexes.
 */
#include <stdlib.h>
#include "core/platform.h"

#ifdef __EMSCRIPTEN_PTHREADS__
#include <pthread.h>
#endif
#include "core/alloc.h"

struct uniws__mutex {
#ifdef __EMSCRIPTEN_PTHREADS__
    pthread_mutex_t m;
#else
    int unused; /* C forbids an empty struct; the pointer must be non-NULL */
#endif
};

uniws__mutex *uniws__mutex_new(void)
{
    uniws__mutex *m = uniws__calloc(1, sizeof *m);
#ifdef __EMSCRIPTEN_PTHREADS__
    if (m && pthread_mutex_init(&m->m, NULL) != 0) {
        uniws__free(m);
        return NULL;
    }
#endif
    return m;
}

void uniws__mutex_free(uniws__mutex *m)
{
    if (!m)
        return;
#ifdef __EMSCRIPTEN_PTHREADS__
    pthread_mutex_destroy(&m->m);
#endif
    uniws__free(m);
}

void uniws__mutex_lock(uniws__mutex *m)
{
#ifdef __EMSCRIPTEN_PTHREADS__
    pthread_mutex_lock(&m->m);
#else
    (void)m;
#endif
}

void uniws__mutex_unlock(uniws__mutex *m)
{
#ifdef __EMSCRIPTEN_PTHREADS__
    pthread_mutex_unlock(&m->m);
#else
    (void)m;
#endif
}

uniws__thread_id uniws__thread_self(void)
{
#ifdef __EMSCRIPTEN_PTHREADS__
    return (uniws__thread_id)pthread_self();
#else
    return 1; /* the only thread */
#endif
}
