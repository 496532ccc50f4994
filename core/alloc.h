/*
 * alloc.h — every allocation uniws makes itself goes through these, so an
 * application's allocator (uniws_set_allocator) and the fault-injection tests
 * see all of them. Libraries underneath (libcurl, libwebsockets, OpenSSL)
 * keep their own allocators; zlib's streams use these (core/pmd.c).
 */
#ifndef UNIWS_CORE_ALLOC_H
#define UNIWS_CORE_ALLOC_H

#include <stddef.h>

void *uniws__malloc(size_t n);
void *uniws__calloc(size_t count, size_t size);
void *uniws__realloc(void *p, size_t n);
void uniws__free(void *p);
char *uniws__strdup(const char *s);
char *uniws__strndup(const char *s, size_t n);

#endif
