/*
 * extpoll.c — the lws backend's event-loop glue for a libwebsockets built
 * with LWS_WITH_EXTERNAL_POLL (extpoll.h): one uniws watcher per socket lws
 * asks for, readiness handed to lws_service_fd().
 *
 * Connect completion on Windows: 4.1.6's Windows client does not ask for
 * POLLOUT to learn that a non-blocking connect() finished; only its own
 * service completes it, from FD_CONNECT of the WSAEventSelect() event it
 * registers per socket (asked through lws_service_fd() instead, it tests
 * connect(fd, NULL, 0), which fails). That service cannot be used either:
 * 4.1.6's Windows fds table moves the last socket into a freed slot without
 * moving its event, so with several connections an FD_CONNECT gets lost. So
 * a new socket is also watched for writability until it first becomes
 * writable or fails; on success this calls what lws's own service calls for
 * FD_CONNECT (lws_client_connect_3_connect() with
 * LWS_CONNECT_COMPLETION_GOOD, an lws-internal function of 4.1.x declared
 * below), on failure lws gets POLLHUP and reports the connection error.
 */
#include "backends/lws/extpoll.h"

#include <string.h>
#include "core/alloc.h"
#include "uniws/uniws.h"

#ifdef _WIN32
/* libwebsockets 4.1.x, lib/roles/private-lib-roles.h (not installed);
 * scripts/windows-deps.sh builds exactly 4.1.6. */
struct lws *lws_client_connect_3_connect(struct lws *wsi, const char *ads,
                                         const struct addrinfo *result, int n, void *opaque);
#define LWS_CONNECT_COMPLETION_GOOD (-99)
#endif

typedef struct watch {
    uniws__io io;
    uniws__lwsfds *owner;
    struct lws *wsi; /* whose socket it is (valid until DEL_POLL_FD) */
    lws_sockfd_type fd;
    short events; /* what lws asked for (LWS_POLLIN / LWS_POLLOUT) */
    int fresh;    /* connecting (Windows): watch writability too */
} watch;

struct uniws__lwsfds {
    uniws_loop *loop;
    struct lws_context *ctx;
    int *depth;
    int (*read)(struct lws *wsi);
    watch **w;
    size_t n, cap;
    int connect_err; /* SO_ERROR of the last socket dropped while connecting */
};

int uniws__lwsfds_new(uniws__lwsfds **out, uniws_loop *loop, struct lws_context *ctx, int *depth,
                      int (*read)(struct lws *wsi))
{
    uniws__lwsfds *f = uniws__calloc(1, sizeof *f);
    if (!f)
        return UNIWS_ENOMEM;
    f->loop = loop;
    f->ctx = ctx;
    f->depth = depth;
    f->read = read;
    *out = f;
    return 0;
}

void uniws__lwsfds_free(uniws__lwsfds *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        uniws__io_stop(f->loop, &f->w[i]->io);
        uniws__free(f->w[i]);
    }
    uniws__free(f->w);
    uniws__free(f);
}

static size_t find(const uniws__lwsfds *f, lws_sockfd_type fd)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->w[i]->fd == fd)
            return i;
    return (size_t)-1;
}

static unsigned io_events(const watch *w)
{
    unsigned ev = 0;
    if (w->events & LWS_POLLIN)
        ev |= UNIWS__IO_READ;
    if ((w->events & LWS_POLLOUT) || w->fresh)
        ev |= UNIWS__IO_WRITE;
    return ev;
}

static void on_io(uniws_loop *loop, uniws__io *io, unsigned revents)
{
    watch *w = io->data;
    uniws__lwsfds *f = w->owner;
    struct lws_pollfd pfd;
    (void)loop;
    pfd.fd = w->fd;
    pfd.events = w->events;
    pfd.revents = 0;
    if (revents & UNIWS__IO_READ)
        pfd.revents |= LWS_POLLIN;
    if (revents & UNIWS__IO_WRITE)
        pfd.revents |= LWS_POLLOUT;
    if (revents & UNIWS__IO_ERROR)
        pfd.revents |= LWS_POLLHUP;
    if (w->fresh && (revents & (UNIWS__IO_WRITE | UNIWS__IO_ERROR))) {
        /* The connect finished: from now on only what lws asks for. */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        w->fresh = 0;
        uniws__io_set(f->loop, &w->io, io_events(w));
        if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, (void *)&soerr, &sl) != 0)
            soerr = -1;
#ifdef _WIN32
        if (!(revents & UNIWS__IO_ERROR) && soerr == 0) {
            (*f->depth)++;
            lws_client_connect_3_connect(w->wsi, NULL, NULL, LWS_CONNECT_COMPLETION_GOOD, NULL);
            (*f->depth)--;
            return; /* w may be gone */
        }
#endif
        pfd.revents |= LWS_POLLHUP; /* it failed: lws reports the error */
    }
    pfd.revents &= (short)(pfd.events | LWS_POLLHUP);
    if (!pfd.revents)
        return;
    /* lws may call DEL_POLL_FD and free w from in here: w is not used after. */
    (*f->depth)++;
    if (pfd.revents != LWS_POLLIN || !f->read || !f->read(w->wsi))
        lws_service_fd(f->ctx, &pfd);
    (*f->depth)--;
}

static int add(uniws__lwsfds *f, struct lws *wsi, const struct lws_pollargs *pa)
{
    if (find(f, pa->fd) != (size_t)-1)
        return 0;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        watch **nw = uniws__realloc(f->w, cap * sizeof *nw);
        if (!nw)
            return -1;
        f->w = nw;
        f->cap = cap;
    }
    watch *w = uniws__calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->owner = f;
    w->wsi = wsi;
    w->fd = pa->fd;
    w->events = (short)pa->events;
#ifdef _WIN32
    w->fresh = 1; /* see "Connect completion" above */
#endif
    if (uniws__io_start(f->loop, &w->io, (uniws__fd)pa->fd, io_events(w), on_io, w) != 0) {
        uniws__free(w);
        return -1;
    }
    f->w[f->n++] = w;
    return 0;
}

static void del(uniws__lwsfds *f, lws_sockfd_type fd)
{
    size_t i = find(f, fd);
    if (i == (size_t)-1)
        return;
    watch *w = f->w[i];
    if (w->fresh) {
        /* lws gives up on a connect: keep why (wine may refuse a local
         * connect at once, and lws then reports no reason). */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, (void *)&soerr, &sl) == 0 && soerr)
            f->connect_err = soerr;
    }
    uniws__io_stop(f->loop, &w->io);
    uniws__free(w);
    f->w[i] = f->w[--f->n];
}

int uniws__lwsfds_connect_error(uniws__lwsfds *f)
{
    int e = f ? f->connect_err : 0;
    if (f)
        f->connect_err = 0;
    return e;
}

static int change(uniws__lwsfds *f, struct lws *wsi, const struct lws_pollargs *pa)
{
    size_t i = find(f, pa->fd);
    if (i == (size_t)-1)
        return add(f, wsi, pa);
    watch *w = f->w[i];
    w->events = (short)pa->events;
    return uniws__io_set(f->loop, &w->io, io_events(w)) == 0 ? 0 : -1;
}

int uniws__lwsfds_event(uniws__lwsfds *f, struct lws *wsi, int reason, void *in, int *ret)
{
    const struct lws_pollargs *pa = in;
    *ret = 0;
    switch (reason) {
    case LWS_CALLBACK_ADD_POLL_FD:
        if (f && pa)
            *ret = add(f, wsi, pa);
        return 1;
    case LWS_CALLBACK_DEL_POLL_FD:
        if (f && pa)
            del(f, pa->fd);
        return 1;
    case LWS_CALLBACK_CHANGE_MODE_POLL_FD:
        if (f && pa)
            *ret = change(f, wsi, pa);
        return 1;
    case LWS_CALLBACK_LOCK_POLL:
    case LWS_CALLBACK_UNLOCK_POLL:
        return 1; /* one thread per context: nothing to lock */
    default:
        return 0;
    }
}
