/*
 * hsinfo.c — storage of the server's handshake answer (see hsinfo.h) and the
 * public uniws_response_header() / uniws_response_header_at().
 */
#include <string.h>
#include "core/alloc.h"
#include "core/ascii.h"
#include "core/hsinfo.h"
#include "core/socket.h"

static void trim(const char **v, size_t *n)
{
    while (*n && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*n)--;
    }
    while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
        (*n)--;
}

void uniws__hsinfo_clear(uniws__hsinfo *h)
{
    uniws__free(h->hdrs);
    uniws__free(h->store);
    uniws__free(h->body);
    memset(h, 0, sizeof *h);
}

int uniws__hsinfo_set(uniws__hsinfo *h, size_t n, const char *const *names,
                      const char *const *values)
{
    uniws__free(h->hdrs);
    uniws__free(h->store);
    h->hdrs = NULL;
    h->store = NULL;
    h->n = 0;
    if (!n)
        return 0;
    size_t size = 0;
    for (size_t i = 0; i < n; i++)
        size += strlen(names[i]) + strlen(values[i]) + 2;
    h->hdrs = uniws__calloc(n, sizeof *h->hdrs);
    h->store = uniws__malloc(size);
    if (!h->hdrs || !h->store) {
        uniws__free(h->hdrs);
        uniws__free(h->store);
        h->hdrs = NULL;
        h->store = NULL;
        return UNIWS_ENOMEM;
    }
    char *w = h->store;
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i];
        size_t nl = strlen(names[i]), vl = strlen(v);
        trim(&v, &vl);
        memcpy(w, names[i], nl + 1);
        h->hdrs[i].name = w;
        w += nl + 1;
        memcpy(w, v, vl);
        w[vl] = 0;
        h->hdrs[i].value = w;
        w += vl + 1;
    }
    h->n = n;
    return 0;
}

void uniws__hsinfo_body(uniws__hsinfo *h, const void *data, size_t len)
{
    if (len > UNIWS__HS_BODY_MAX)
        len = UNIWS__HS_BODY_MAX;
    uniws__free(h->body);
    h->body = NULL;
    h->body_len = 0;
    if (!len || !(h->body = uniws__malloc(len + 1)))
        return;
    memcpy(h->body, data, len);
    h->body[len] = 0;
    h->body_len = len;
}

const char *uniws__hsinfo_get(const uniws__hsinfo *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (uniws__ascii_casecmp(h->hdrs[i].name, name) == 0)
            return h->hdrs[i].value;
    return NULL;
}

const char *uniws_response_header(const uniws_socket *s, const char *name)
{
    if (!s || !name)
        return NULL;
    return uniws__hsinfo_get(&s->hsinfo, name);
}

int uniws_response_header_at(const uniws_socket *s, size_t i, uniws_header *out)
{
    if (!s || !out || i >= s->hsinfo.n)
        return UNIWS_EINVAL;
    *out = s->hsinfo.hdrs[i];
    return 0;
}

void uniws__stream_response_headers(uniws_socket *s, size_t n, const char *const *names,
                                    const char *const *values)
{
    uniws__hsinfo_set(&s->hsinfo, n, names, values);
}
