/*
 * poller.c — the loop's wait primitive on Linux: one epoll set (whose fd is
 * what uniws_loop_fd() hands out for embedding) plus an eventfd for
 * cross-thread wake-ups.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "core/loop.h"
#include "core/platform.h"
#include "core/alloc.h"

struct uniws__poller {
    int epfd;
    int wakefd;
    struct epoll_event buf[64];
};

static uint32_t to_epoll(unsigned events)
{
    uint32_t e = 0;
    if (events & UNIWS__IO_READ)
        e |= EPOLLIN | EPOLLRDHUP;
    if (events & UNIWS__IO_WRITE)
        e |= EPOLLOUT;
    return e;
}

int uniws__poller_new(uniws__poller **out)
{
    uniws__poller *p = uniws__calloc(1, sizeof *p);
    if (!p)
        return UNIWS_ENOMEM;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->epfd < 0 || p->wakefd < 0) {
        uniws__poller_free(p);
        return UNIWS_EIO;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) != 0) {
        uniws__poller_free(p);
        return UNIWS_EIO;
    }
    *out = p;
    return 0;
}

void uniws__poller_free(uniws__poller *p)
{
    if (!p)
        return;
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->wakefd >= 0)
        close(p->wakefd);
    uniws__free(p);
}

int uniws__poller_fd(const uniws__poller *p)
{
    return p->epfd;
}

int uniws__poller_add(uniws__poller *p, int fd, unsigned events, void *data)
{
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = data};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : UNIWS_EIO;
}

int uniws__poller_mod(uniws__poller *p, int fd, unsigned events, void *data)
{
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = data};
    return epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : UNIWS_EIO;
}

void uniws__poller_del(uniws__poller *p, int fd)
{
    struct epoll_event ev = {0};
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev);
}

int uniws__poller_wait(uniws__poller *p, uniws__poll_event *out, int max, int timeout_ms)
{
    if (max > 64)
        max = 64;
    int n = epoll_wait(p->epfd, p->buf, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : UNIWS_EIO;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (p->buf[i].data.ptr == p) {
            uint64_t v;
            while (read(p->wakefd, &v, sizeof v) > 0) {
            }
            continue;
        }
        unsigned r = 0;
        uint32_t e = p->buf[i].events;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
            r |= UNIWS__IO_READ;
        if (e & EPOLLOUT)
            r |= UNIWS__IO_WRITE;
        if (e & (EPOLLERR | EPOLLHUP))
            r |= UNIWS__IO_ERROR | UNIWS__IO_READ;
        out[k].data = p->buf[i].data.ptr;
        out[k].revents = r;
        k++;
    }
    return k;
}

void uniws__poller_wake(uniws__poller *p)
{
    uint64_t one = 1;
    ssize_t r = write(p->wakefd, &one, sizeof one);
    (void)r; /* EAGAIN means the counter is already non-zero: still woken */
}

int uniws__poller_handoff(uniws__poller *p, int (*step)(void *ctx), void *ctx)
{
    /* A native thread can block in epoll_wait: uniws_loop_run() loops itself. */
    (void)p, (void)step, (void)ctx;
    return 0;
}

const char *uniws__plat_name(void)
{
    return "linux-epoll";
}
