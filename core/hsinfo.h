/*
 * hsinfo.h — the server's handshake answer kept for the application (issue
 * 10): its header lines (uniws_response_header) and the first body bytes of
 * a refusal, handed to the error event. Filled by core/wsproto.c (answers
 * the core parses) and by backends that do the upgrade themselves.
 */
#ifndef UNIWS_CORE_HSINFO_H
#define UNIWS_CORE_HSINFO_H

#include <stddef.h>
#include "uniws/uniws.h"

#define UNIWS__HS_BODY_MAX 256

typedef struct uniws__hsinfo {
    uniws_header *hdrs; /* names and values point into store */
    size_t n;
    char *store;
    char *body; /* NUL-terminated */
    size_t body_len;
} uniws__hsinfo;

/* Replaces the stored header lines with copies of these n (values trimmed).
 * Returns 0 or UNIWS_ENOMEM (nothing stored then). */
int uniws__hsinfo_set(uniws__hsinfo *h, size_t n, const char *const *names,
                      const char *const *values);
/* Keeps up to UNIWS__HS_BODY_MAX bytes of a refusal's body. */
void uniws__hsinfo_body(uniws__hsinfo *h, const void *data, size_t len);
/* Case-insensitive lookup; NULL when absent. */
const char *uniws__hsinfo_get(const uniws__hsinfo *h, const char *name);
void uniws__hsinfo_clear(uniws__hsinfo *h);

#endif
