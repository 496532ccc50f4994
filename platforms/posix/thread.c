/* thread.c — mutexes and thread identity on POSIX threads. */
#include <pthread.h>
#include <stdlib.h>
#include "core/platform.h"
#include "core/alloc.h"

struct uniws__mutex {
    pthread_mutex_t m;
};

uniws__mutex *uniws__mutex_new(void)
{
    uniws__mutex *m = uniws__malloc(sizeof *m);
    if (m && pthread_mutex_init(&m->m, NULL) != 0) {
        uniws__free(m);
        return NULL;
    }
    return m;
}

void uniws__mutex_free(uniws__mutex *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->m);
    uniws__free(m);
}

void uniws__mutex_lock(uniws__mutex *m)
{
    pthread_mutex_lock(&m->m);
}

void uniws__mutex_unlock(uniws__mutex *m)
{
    pthread_mutex_unlock(&m->m);
}

uniws__thread_id uniws__thread_self(void)
{
    /* pthread_t is an integer or pointer on every POSIX system we target. */
    return (uniws__thread_id)pthread_self();
}
