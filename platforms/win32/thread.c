/* thread.c — mutexes (slim reader/writer locks) and thread identity on
 * Windows. */
#include <windows.h>
#include "core/platform.h"
#include "core/alloc.h"

struct uniws__mutex {
    SRWLOCK l;
};

uniws__mutex *uniws__mutex_new(void)
{
    uniws__mutex *m = uniws__malloc(sizeof *m);
    if (m)
        InitializeSRWLock(&m->l);
    return m;
}

void uniws__mutex_free(uniws__mutex *m)
{
    /* An SRW lock holds no kernel object: nothing to destroy. */
    uniws__free(m);
}

void uniws__mutex_lock(uniws__mutex *m)
{
    AcquireSRWLockExclusive(&m->l);
}

void uniws__mutex_unlock(uniws__mutex *m)
{
    ReleaseSRWLockExclusive(&m->l);
}

uniws__thread_id uniws__thread_self(void)
{
    return (uniws__thread_id)GetCurrentThreadId();
}
