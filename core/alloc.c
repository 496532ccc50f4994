/* alloc.c — the allocator hook (uniws_set_allocator) and the wrappers every
 * uniws allocation goes through (core/alloc.h). */
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include "uniws/uniws.h"

static uniws_malloc_fn g_malloc = malloc;
static uniws_realloc_fn g_realloc = realloc;
static uniws_free_fn g_free = free;

int uniws_set_allocator(uniws_malloc_fn m, uniws_realloc_fn r, uniws_free_fn f)
{
    if ((m || r || f) && !(m && r && f))
        return UNIWS_EINVAL;
    g_malloc = m ? m : malloc;
    g_realloc = r ? r : realloc;
    g_free = f ? f : free;
    return 0;
}

void *uniws__malloc(size_t n)
{
    return g_malloc(n ? n : 1);
}

void *uniws__calloc(size_t count, size_t size)
{
    void *p;
    if (size && count > (size_t)-1 / size)
        return NULL;
    p = uniws__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *uniws__realloc(void *p, size_t n)
{
    return g_realloc(p, n ? n : 1);
}

void uniws__free(void *p)
{
    if (p)
        g_free(p);
}

char *uniws__strndup(const char *s, size_t n)
{
    size_t len = 0;
    char *d;
    while (len < n && s[len])
        len++;
    d = uniws__malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *uniws__strdup(const char *s)
{
    return uniws__strndup(s, (size_t)-1);
}
