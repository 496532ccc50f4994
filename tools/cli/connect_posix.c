/*
 * connect_posix.c — `uniws connect`'s OS part on POSIX (connect_io.h): one
 * poll() over stdin, a self-pipe written by the signal handler, and
 * uniws_loop_fd(), so everything happens on one thread.
 */
#include "connect_io.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* The pipe is full: a signal is already pending, nothing to add. */
    }
    errno = saved;
}

int uniws__cli_io_start(uniws_loop *loop)
{
    struct sigaction sa;

    (void)loop;
    if (pipe(sig_pipe) != 0) {
        uniws__cli_error("connect", "pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed stdout must show up as a write error, not kill us mid-close. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

int uniws__cli_io_wait(uniws_loop *loop, int want_input, int timeout_ms)
{
    struct pollfd pf[3];
    int n = 0, i_sig, i_in = -1, rc, ready = 0;
    int lfd = uniws_loop_fd(loop);

    if (lfd >= 0) {
        pf[n].fd = lfd;
        pf[n].events = POLLIN;
        n++;
    }
    pf[n].fd = sig_pipe[0];
    pf[n].events = POLLIN;
    i_sig = n++;
    if (want_input) {
        pf[n].fd = STDIN_FILENO;
        pf[n].events = POLLIN;
        i_in = n++;
    }
    /* Without a loop fd (the poll platform) nothing wakes us for the loop:
     * look again soon. */
    if (lfd < 0 && (timeout_ms < 0 || timeout_ms > 10))
        timeout_ms = 10;
    rc = poll(pf, (nfds_t)n, timeout_ms);
    if (rc < 0) {
        if (errno == EINTR)
            return 0;
        uniws__cli_error("connect", "poll: %s", strerror(errno));
        return -1;
    }
    if (rc > 0 && pf[i_sig].revents)
        ready |= UNIWS__CLI_IO_SIGNAL;
    if (rc > 0 && i_in >= 0 && pf[i_in].revents)
        ready |= UNIWS__CLI_IO_INPUT;
    return ready;
}

int uniws__cli_io_signals(void)
{
    char buf[16];
    ssize_t r;
    int n = 0;

    while ((r = read(sig_pipe[0], buf, sizeof(buf))) > 0)
        n += (int)r;
    return n;
}

long uniws__cli_io_read(char *buf, size_t n)
{
    ssize_t r = read(STDIN_FILENO, buf, n);
    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return -2;
        uniws__cli_error("connect", "reading stdin: %s", strerror(errno));
        return -1;
    }
    return (long)r;
}

/* (cli.h) CLOCK_MONOTONIC: POSIX, not ISO C, hence here. */
double uniws__cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
