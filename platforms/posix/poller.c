/*
 * poller.c — the loop's wait primitive on any POSIX system (macOS, the BSDs,
 * Linux with -DUNIWS_PLATFORM=posix): poll() over an array of the watched
 * descriptors plus the read end of a self-pipe for cross-thread wake-ups.
 * poll() has no descriptor of its own that becomes readable when a watched one
 * does, so uniws_loop_fd() is -1 here (docs/platforms.md): an embedding
 * application drives the loop with uniws_loop_timeout() + uniws_loop_run_once().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/loop.h"
#include "core/platform.h"
#include "core/alloc.h"

struct uniws__poller {
    struct pollfd *fds; /* fds[0] is the wake-up pipe */
    void **data;        /* data[i] belongs to fds[i] */
    size_t n, cap;
    int *slot; /* slot[fd]: index into fds, or -1 */
    size_t nslot;
    int wake[2];
    size_t next; /* where the next wait starts reporting (fairness) */
};

static short to_poll(unsigned events)
{
    short e = 0;
    if (events & UNIWS__IO_READ)
        e |= POLLIN;
    if (events & UNIWS__IO_WRITE)
        e |= POLLOUT;
    return e;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int uniws__poller_new(uniws__poller **out)
{
    uniws__poller *p = uniws__calloc(1, sizeof *p);
    if (!p)
        return UNIWS_ENOMEM;
    p->wake[0] = p->wake[1] = -1;
    p->cap = 16;
    p->fds = uniws__calloc(p->cap, sizeof *p->fds);
    p->data = uniws__calloc(p->cap, sizeof *p->data);
    if (!p->fds || !p->data) {
        uniws__poller_free(p);
        return UNIWS_ENOMEM;
    }
    if (pipe(p->wake) != 0 || set_flags(p->wake[0]) != 0 || set_flags(p->wake[1]) != 0) {
        uniws__poller_free(p);
        return UNIWS_EIO;
    }
    p->fds[0].fd = p->wake[0];
    p->fds[0].events = POLLIN;
    p->data[0] = p;
    p->n = 1;
    *out = p;
    return 0;
}

void uniws__poller_free(uniws__poller *p)
{
    if (!p)
        return;
    if (p->wake[0] >= 0)
        close(p->wake[0]);
    if (p->wake[1] >= 0)
        close(p->wake[1]);
    uniws__free(p->fds);
    uniws__free(p->data);
    uniws__free(p->slot);
    uniws__free(p);
}

int uniws__poller_fd(const uniws__poller *p)
{
    (void)p;
    return -1;
}

static int find(const uniws__poller *p, int fd)
{
    if (fd < 0 || (size_t)fd >= p->nslot)
        return -1;
    return p->slot[fd];
}

int uniws__poller_add(uniws__poller *p, int fd, unsigned events, void *data)
{
    if (fd < 0 || find(p, fd) >= 0)
        return UNIWS_EIO; /* as epoll: a descriptor is watched once */
    if ((size_t)fd >= p->nslot) {
        size_t ns = p->nslot ? p->nslot : 64;
        while (ns <= (size_t)fd)
            ns *= 2;
        int *t = uniws__realloc(p->slot, ns * sizeof *t);
        if (!t)
            return UNIWS_ENOMEM;
        for (size_t i = p->nslot; i < ns; i++)
            t[i] = -1;
        p->slot = t;
        p->nslot = ns;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap * 2;
        struct pollfd *f = uniws__realloc(p->fds, nc * sizeof *f);
        if (!f)
            return UNIWS_ENOMEM;
        p->fds = f;
        void **d = uniws__realloc(p->data, nc * sizeof *d);
        if (!d)
            return UNIWS_ENOMEM;
        p->data = d;
        p->cap = nc;
    }
    p->fds[p->n].fd = fd;
    p->fds[p->n].events = to_poll(events);
    p->fds[p->n].revents = 0;
    p->data[p->n] = data;
    p->slot[fd] = (int)p->n;
    p->n++;
    return 0;
}

int uniws__poller_mod(uniws__poller *p, int fd, unsigned events, void *data)
{
    int i = find(p, fd);
    if (i < 0)
        return UNIWS_EIO;
    p->fds[i].events = to_poll(events);
    p->data[i] = data;
    return 0;
}

void uniws__poller_del(uniws__poller *p, int fd)
{
    int i = find(p, fd);
    if (i <= 0)
        return;
    size_t last = p->n - 1;
    if ((size_t)i != last) {
        p->fds[i] = p->fds[last];
        p->data[i] = p->data[last];
        p->slot[p->fds[i].fd] = i;
    }
    p->slot[fd] = -1;
    p->n--;
}

int uniws__poller_wait(uniws__poller *p, uniws__poll_event *out, int max, int timeout_ms)
{
    int n = poll(p->fds, (nfds_t)p->n, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : UNIWS_EIO;
    if (n == 0)
        return 0;
    if (p->fds[0].revents) {
        char buf[64];
        while (read(p->wake[0], buf, sizeof buf) > 0) {
        }
        p->fds[0].revents = 0;
    }
    /* Report at most max ready descriptors, starting after where the last
     * full batch stopped so that no descriptor starves the others. */
    int k = 0;
    size_t count = p->n - 1, start = p->next % (count ? count : 1);
    for (size_t j = 0; j < count && k < max; j++) {
        size_t i = 1 + (start + j) % count;
        short e = p->fds[i].revents;
        if (!e)
            continue;
        unsigned r = 0;
        if (e & (POLLIN | POLLPRI))
            r |= UNIWS__IO_READ;
        if (e & POLLOUT)
            r |= UNIWS__IO_WRITE;
        if (e & (POLLERR | POLLHUP | POLLNVAL))
            r |= UNIWS__IO_ERROR | UNIWS__IO_READ;
        p->fds[i].revents = 0;
        out[k].data = p->data[i];
        out[k].revents = r;
        k++;
        if (k == max)
            p->next = start + j + 1;
    }
    return k;
}

void uniws__poller_wake(uniws__poller *p)
{
    char one = 1;
    ssize_t r = write(p->wake[1], &one, 1);
    (void)r; /* EAGAIN: the pipe is full, so the poller is woken anyway */
}

int uniws__poller_handoff(uniws__poller *p, int (*step)(void *ctx), void *ctx)
{
    /* A native thread can block in poll(): uniws_loop_run() loops itself. */
    (void)p, (void)step, (void)ctx;
    return 0;
}

const char *uniws__plat_name(void)
{
    return "posix-poll";
}
