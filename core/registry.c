/*
 * registry.c — the one list of compiled backends, and backend selection:
 * explicit name > UNIWS_BACKEND environment variable > build default > first
 * auto-selectable entry. The only backend #ifdefs in the tree live here.
 */
#include <stdlib.h>
#include <string.h>
#include "core/backend.h"
#include "core/platform.h"

const uniws__backend *const uniws__backends[] = {
#ifdef UNIWS_HAVE_EMSCRIPTEN
    &uniws__backend_emscripten,
#endif
#ifdef UNIWS_HAVE_LWS
    &uniws__backend_lws,
#endif
#ifdef UNIWS_HAVE_CURL
    &uniws__backend_curl,
#endif
#ifdef UNIWS_HAVE_WINHTTP
    &uniws__backend_winhttp,
#endif
#ifdef UNIWS_HAVE_LOOPBACK
    &uniws__backend_loopback,
#endif
    NULL};

static const uniws__backend *find(const char *name)
{
    for (size_t i = 0; uniws__backends[i]; i++)
        if (strcmp(uniws__backends[i]->name, name) == 0)
            return uniws__backends[i];
    return NULL;
}

int uniws__backend_select(const char *name, const uniws__backend **out)
{
    const uniws__backend *b = NULL;
    if (name && *name) {
        b = find(name);
    } else {
        const char *env = getenv("UNIWS_BACKEND");
        if (env && *env) {
            b = find(env);
        } else {
#ifdef UNIWS_DEFAULT_BACKEND
            b = find(UNIWS_DEFAULT_BACKEND);
#endif
            for (size_t i = 0; !b && uniws__backends[i]; i++)
                if (uniws__backends[i]->auto_select)
                    b = uniws__backends[i];
        }
    }
    if (!b)
        return UNIWS_ENO_BACKEND;
    *out = b;
    return 0;
}

static void fill(const uniws__backend *b, uniws_backend_info *out)
{
    out->name = b->name;
    out->description = b->description;
    out->version = b->version ? b->version() : "";
    out->caps = b->caps;
    out->auto_select = b->auto_select;
}

size_t uniws_backend_count(void)
{
    size_t n = 0;
    while (uniws__backends[n])
        n++;
    return n;
}

int uniws_backend_get(size_t i, uniws_backend_info *out)
{
    if (!out || i >= uniws_backend_count())
        return UNIWS_EINVAL;
    fill(uniws__backends[i], out);
    return 0;
}

int uniws_backend_find(const char *name, uniws_backend_info *out)
{
    if (!name || !out)
        return UNIWS_EINVAL;
    const uniws__backend *b = find(name);
    if (!b)
        return UNIWS_ENO_BACKEND;
    fill(b, out);
    return 0;
}

int uniws_backend_default(uniws_backend_info *out)
{
    const uniws__backend *b;
    if (!out)
        return UNIWS_EINVAL;
    int r = uniws__backend_select(NULL, &b);
    if (r)
        return r;
    fill(b, out);
    return 0;
}

static const struct {
    unsigned bit;
    const char *name;
} cap_names[] = {
    {UNIWS_CAP_WS, "ws"},
    {UNIWS_CAP_WSS, "wss"},
    {UNIWS_CAP_CUSTOM_HEADERS, "headers"},
    {UNIWS_CAP_PROXY, "proxy"},
    {UNIWS_CAP_TLS_CA_FILE, "ca-file"},
    {UNIWS_CAP_TLS_SKIP_VERIFY, "skip-verify"},
    {UNIWS_CAP_TLS_CLIENT_CERT, "client-cert"},
    {UNIWS_CAP_PERMESSAGE_DEFLATE, "deflate"},
    {UNIWS_CAP_PING, "ping"},
    {UNIWS_CAP_CONNECT_TIMEOUT, "connect-timeout"},
    {UNIWS_CAP_ANY_CLOSE_CODE, "any-close-code"},
    {UNIWS_CAP_NETWORK, "network"},
    {UNIWS_CAP_RAW_FRAMES, "raw-frames"},
    {UNIWS_CAP_PROXY_CA_FILE, "proxy-ca-file"},
};

size_t uniws_caps_string(unsigned caps, char *buf, size_t size)
{
    size_t need = 0, written = 0;
    for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++) {
        if (!(caps & cap_names[i].bit))
            continue;
        const char *n = cap_names[i].name;
        size_t l = strlen(n) + (need ? 1 : 0);
        /* Whole names only: a truncated list never ends in half a name. */
        if (buf && written == need && need + l < size) {
            if (need)
                buf[need] = ',';
            memcpy(buf + need + (need ? 1 : 0), n, strlen(n));
            written += l;
        }
        need += l;
    }
    if (buf && size)
        buf[written] = 0;
    return need;
}

const char *uniws_platform(void)
{
    return uniws__plat_name();
}
