/*
 * srv_os_posix.c — srv_os.h on POSIX: poll(), a self-pipe wake-up, pthreads
 * (with the fork guard the conformance runner needs), sigwait() for
 * SIGINT/SIGTERM, stat() for static files.
 */
#include "tools/server/srv_os.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* (the server thread blocks SIGPIPE anyway) */
#endif

int srv_os_init(void)
{
    return 0;
}

void srv_os_cleanup(void) {}

int64_t srv_os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0
               ? -1
               : 0;
}

srv_sock srv_os_socket(int family)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd >= 0 && set_flags(fd) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void srv_os_reuse_addr(srv_sock s)
{
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

srv_sock srv_os_accept(srv_sock l, struct sockaddr_storage *ss, socklen_t *sl)
{
    for (;;) {
        int fd = accept(l, (struct sockaddr *)ss, sl);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return -1; /* EAGAIN, or out of descriptors: try on the next wakeup */
        }
        if (set_flags(fd) != 0) {
            close(fd);
            continue;
        }
        /* Every write must leave as its own segment (bytewise, same-segment). */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
}

long srv_os_recv(srv_sock s, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = recv(s, buf, n, 0);
        if (r >= 0)
            return (long)r;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? SRV_IO_AGAIN : SRV_IO_FAIL;
    }
}

long srv_os_send(srv_sock s, const void *buf, size_t n)
{
    for (;;) {
        ssize_t r = send(s, buf, n, MSG_NOSIGNAL);
        if (r >= 0)
            return (long)r;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? SRV_IO_AGAIN : SRV_IO_FAIL;
    }
}

void srv_os_shutdown_wr(srv_sock s)
{
    shutdown(s, SHUT_WR);
}

void srv_os_reset(srv_sock s)
{
    struct linger lg = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s);
}

void srv_os_close(srv_sock s)
{
    close(s);
}

int srv_os_poll(srv_pollfd *fds, size_t n, int timeout_ms)
{
    int r = poll(fds, (nfds_t)n, timeout_ms);
    if (r < 0 && errno == EINTR)
        return 0;
    return r;
}

/* ---- wake-up: a self-pipe ---------------------------------------------------- */

int srv_os_wake_open(srv_wake *w)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    if (set_flags(p[0]) != 0 || set_flags(p[1]) != 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    w->rd = p[0];
    w->wr = p[1];
    return 0;
}

void srv_os_wake_signal(srv_wake *w)
{
    char b = 1;
    while (write(w->wr, &b, 1) < 0 && errno == EINTR) {
    }
}

void srv_os_wake_close(srv_wake *w)
{
    if (w->rd >= 0)
        close(w->rd);
    if (w->wr >= 0)
        close(w->wr);
    w->rd = w->wr = -1;
}

/* ---- the thread and fork safety ------------------------------------------------
 * The conformance runner forks a process per case while servers run on
 * threads of the parent. A fork taken while a server thread is inside an
 * allocator can leave that allocator's lock held forever in the child (GCC
 * 12's AddressSanitizer allocator has no fork handler: a case then hangs in
 * its first malloc). So a server thread holds g_busy (shared) whenever it is
 * not idle in poll(), and fork() takes it exclusively first. */
static pthread_rwlock_t g_busy = PTHREAD_RWLOCK_INITIALIZER;
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_rwlock_wrlock(&g_busy);
}

static void fork_done(void)
{
    pthread_rwlock_unlock(&g_busy);
}

static void fork_install(void)
{
    pthread_atfork(fork_prepare, fork_done, fork_done);
}

void srv_os_idle_begin(void)
{
    pthread_rwlock_unlock(&g_busy);
}

void srv_os_idle_end(void)
{
    pthread_rwlock_rdlock(&g_busy);
}

struct srv_thread {
    pthread_t id;
    void (*fn)(void *);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
};

static void *thread_main(void *p)
{
    srv_thread *t = p;
    pthread_rwlock_rdlock(&g_busy);
    pthread_mutex_lock(&t->mu);
    t->running = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    t->fn(t->arg);
    pthread_rwlock_unlock(&g_busy);
    return NULL;
}

int srv_os_thread_start(srv_thread **out, void (*fn)(void *), void *arg)
{
    srv_thread *t = calloc(1, sizeof *t);
    sigset_t all, old;
    int rc;

    if (!t)
        return -1;
    t->fn = fn;
    t->arg = arg;
    pthread_once(&g_fork_once, fork_install);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    /* The thread takes no asynchronous signals: SIGPIPE from OpenSSL's
     * writes stays pending there instead of killing the process, and
     * SIGINT/SIGTERM go to the application's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t->id, NULL, thread_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* Return only once the thread runs: a fork right after a thread was
     * created could catch it setting itself up. */
    pthread_mutex_lock(&t->mu);
    while (rc == 0 && !t->running)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    if (rc != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void srv_os_thread_join(srv_thread *t)
{
    pthread_join(t->id, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

/* ---- the foreground stop: SIGINT / SIGTERM through sigwait ----------------------- */

struct srv_stop {
    sigset_t set, old;
};

int srv_os_stop_begin(srv_stop **out)
{
    srv_stop *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    sigemptyset(&s->set);
    sigaddset(&s->set, SIGINT);
    sigaddset(&s->set, SIGTERM);
    /* Blocked before the thread exists, then taken synchronously by sigwait. */
    pthread_sigmask(SIG_BLOCK, &s->set, &s->old);
    *out = s;
    return 0;
}

void srv_os_stop_wait(srv_stop *s)
{
    int sig = 0;
    sigwait(&s->set, &sig);
}

void srv_os_stop_end(srv_stop *s)
{
    pthread_sigmask(SIG_SETMASK, &s->old, NULL);
    free(s);
}

int srv_os_file_size(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    *size = (uint64_t)st.st_size;
    return 0;
}
