/*
 * raw_tcp.c — the plain-TCP baseline: the same echo workload with no
 * WebSocket at all (the bench server echoes raw bytes after "RAWECHO\n"), so
 * the table shows how close each WebSocket client gets to the machine's
 * limit. A "message" is --size bytes of the stream; every one is checked like
 * a WebSocket echo, with the same checks and nothing more (workload.c).
 * Non-blocking socket, poll(), small messages written in batches, a big
 * message (BIG bytes and up) read straight into the one message buffer, as
 * the uniws core reads a big frame (core/rxinto.c): the batched echo client
 * (echo_client.c) over read() and write().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "echo_client.h"

/* Messages this big are read straight into the message buffer. */
#define BIG (64u * 1024)

typedef struct tcp_io {
    int fd;
    uniws__bench_verify *v;
} tcp_io;

static long tcp_write(void *ctx, const uint8_t *buf, size_t len)
{
    tcp_io *t = ctx;
    ssize_t w = write(t->fd, buf, len);
    if (w >= 0)
        return (long)w;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return UNIWS__ECHO_AGAIN;
    uniws__bench_verify_fail(t->v, "write: %s", strerror(errno));
    return UNIWS__ECHO_FAILED;
}

static long tcp_read(void *ctx, uint8_t *buf, size_t len)
{
    tcp_io *t = ctx;
    ssize_t r = read(t->fd, buf, len);
    if (r > 0)
        return (long)r;
    if (r == 0)
        return UNIWS__ECHO_EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return UNIWS__ECHO_AGAIN;
    uniws__bench_verify_fail(t->v, "read: %s", strerror(errno));
    return UNIWS__ECHO_FAILED;
}

static void tcp_wait(void *ctx, int write_blocked)
{
    tcp_io *t = ctx;
    uniws__echo_wait_fd(t->fd, 1, write_blocked);
}

int main(int argc, char **argv)
{
    uniws__bench_cfg cfg = {
        .tool = "raw-tcp", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int st = uniws__bench_parse_baseline(&cfg, argc, argv);
    if (st >= 0)
        return st;
    char host[256], path[256];
    int port;
    if (!cfg.url || cfg.connections || cfg.size == 0) {
        fprintf(stderr, "raw-tcp: needs --url, a --size above 0, and no --connections\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    if (uniws__bench_split_url(cfg.url, host, sizeof host, &port, path, sizeof path)) {
        fprintf(stderr, "raw-tcp: bad --url '%s' (ws://127.0.0.1:PORT/)\n", cfg.url);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    signal(SIGPIPE, SIG_IGN);
    int fd = uniws__echo_dial("raw-tcp", host, port, "RAWECHO\n");
    if (fd < 0)
        return UNIWS__BENCH_EXIT_FAILED;

    uniws__echo_client c;
    if (uniws__echo_client_init(&c, &cfg)) {
        uniws__echo_client_free(&c);
        close(fd);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    tcp_io t = {.fd = fd, .v = &c.v};
    uniws__echo_io io = {
        .ctx = &t, .write = tcp_write, .read = tcp_read, .wait = tcp_wait, .direct_from = BIG};
    int status = uniws__echo_client_main(&c, &io, "tcp");
    close(fd);
    return status;
}
