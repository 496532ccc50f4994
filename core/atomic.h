/*
 * atomic.h — the atomic operations uniws needs (acquire load and release
 * store of an int read from other threads, a char spin lock), as GCC/Clang
 * builtins or MSVC's
 * Interlocked intrinsics: the one guarded place for them, so the rest of the
 * core is ISO C. (The field stays a plain int: C11 <stdatomic.h> would make
 * it _Atomic, which MSVC supports only experimentally.)
 */
#ifndef UNIWS_CORE_ATOMIC_H
#define UNIWS_CORE_ATOMIC_H

#if defined(__GNUC__) || defined(__clang__)

static inline int uniws__atomic_load(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void uniws__atomic_store(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* A spin lock on a char (0: free) for a few instructions' worth of shared
 * state where no mutex can be created up front (a static table). */
static inline void uniws__spin_lock(char *l)
{
    while (__atomic_test_and_set(l, __ATOMIC_ACQUIRE)) {
    }
}

static inline void uniws__spin_unlock(char *l)
{
    __atomic_clear(l, __ATOMIC_RELEASE);
}

#elif defined(_MSC_VER)
#include <intrin.h>

/* long is 32 bits on Windows, as int: the Interlocked calls fit the field.
 * Both are full barriers, stronger than acquire/release. */
static __inline int uniws__atomic_load(const int *p)
{
    return (int)_InterlockedOr((volatile long *)p, 0);
}

static __inline void uniws__atomic_store(int *p, int v)
{
    _InterlockedExchange((volatile long *)p, (long)v);
}

static __inline void uniws__spin_lock(char *l)
{
    while (_InterlockedExchange8((volatile char *)l, 1)) {
    }
}

static __inline void uniws__spin_unlock(char *l)
{
    _InterlockedExchange8((volatile char *)l, 0);
}

#else
#error "core/atomic.h: add this compiler's atomic load and store"
#endif

#endif
