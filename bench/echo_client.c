/*
 * echo_client.c — the batched echo client shared by raw-tcp and raw-tls (see
 * echo_client.h). Receiving is the least a client can do: a big message is
 * read straight into the message buffer when the stream allows it, small ones
 * are read many at a time into a read buffer and checked there, copied only
 * when one straddles two reads.
 */
#include "echo_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBUF  (1u << 20)
#define BATCH (64u * 1024)

int uniws__echo_client_init(uniws__echo_client *c, const uniws__bench_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    if (uniws__bench_payload_init(&c->pl, cfg->size))
        return -1;
    uniws__bench_verify_init(&c->v, &c->pl, 0);
    c->rbuf = malloc(RBUF);
    c->msg = malloc(cfg->size);
    /* Small messages that may go out together are written together (one
     * write for a batch), as a WebSocket client that queues frames does. */
    size_t per_batch = cfg->size < BATCH ? BATCH / cfg->size : 1;
    if (per_batch > 1)
        c->batch = malloc(per_batch * cfg->size);
    if (!c->rbuf || !c->msg || (per_batch > 1 && !c->batch) ||
        uniws__bench_rtt_init(&c->rtt, cfg->window, cfg->count))
        return -1;
    return 0;
}

void uniws__echo_client_free(uniws__echo_client *c)
{
    free(c->rbuf);
    free(c->msg);
    free(c->batch);
    c->rbuf = c->msg = c->batch = NULL;
    uniws__bench_rtt_free(&c->rtt);
    uniws__bench_payload_free(&c->pl);
}

int uniws__echo_dial(const char *tool, const char *host, int port, const char *greeting)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) !=
        1) {
        fprintf(stderr, "%s: --url needs a numeric IPv4 host (or localhost)\n", tool);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "%s: connect: %s\n", tool, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t glen = greeting ? strlen(greeting) : 0;
    if ((glen && write(fd, greeting, glen) != (ssize_t)glen) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Takes the message m (cfg->size bytes) as echo number *got and counts it
 * once verified; returns -1 when the run is over for it (a surplus or a bad
 * echo). */
static int take_echo(uniws__echo_client *c, long *got, const uint8_t *m)
{
    const uniws__bench_cfg *cfg = c->cfg;
    uniws__bench_rtt_echo(&c->rtt, (uint64_t)*got, uniws__bench_now_ns());
    if (*got >= cfg->count) {
        uniws__bench_verify_fail(&c->v, "more bytes than were sent");
        return -1;
    }
    if (uniws__bench_verify_echo(&c->v, m, cfg->size, 0, *got + 1 == cfg->count))
        return -1;
    (*got)++;
    return 0;
}

void uniws__echo_client_run(uniws__echo_client *c, const uniws__echo_io *io, uint64_t deadline,
                            uniws__bench_result *res)
{
    const uniws__bench_cfg *cfg = c->cfg;
    size_t size = cfg->size;
    size_t per_batch = c->batch ? BATCH / size : 1;
    int direct = io->direct_from && size >= io->direct_from;
    const uint8_t *wbuf = NULL;
    size_t wlen = 0;
    long sent = 0, got = 0;
    size_t woff = 0, mhave = 0; /* bytes of the batch being written / message assembled */
    int writing = 0;
    uint64_t t0 = uniws__bench_now_ns(), c0 = uniws__bench_cpu_ns(0);
    while (got < cfg->count && c->v.errors == 0) {
        /* Write while the window allows. */
        int blocked = 0;
        for (;;) {
            if (!writing) {
                long k = cfg->count - sent;
                if (k > cfg->window - (sent - got))
                    k = cfg->window - (sent - got);
                if (k > (long)per_batch)
                    k = (long)per_batch;
                if (k <= 0)
                    break;
                uint64_t now = uniws__bench_now_ns();
                if (c->batch) {
                    for (long j = 0; j < k; j++) {
                        uniws__bench_payload_make(&c->pl, (uint64_t)(sent + j));
                        memcpy(c->batch + (size_t)j * size, c->pl.buf, size);
                        uniws__bench_rtt_sent(&c->rtt, (uint64_t)(sent + j), now);
                    }
                    wbuf = c->batch;
                } else {
                    wbuf = uniws__bench_payload_make(&c->pl, (uint64_t)sent);
                    uniws__bench_rtt_sent(&c->rtt, (uint64_t)sent, now);
                }
                wlen = (size_t)k * size;
                sent += k;
                writing = 1;
                woff = 0;
            }
            long w = io->write(io->ctx, wbuf + woff, wlen - woff);
            if (w == UNIWS__ECHO_AGAIN)
                blocked = 1;
            if (w <= 0)
                break;
            woff += (size_t)w;
            if (woff == wlen)
                writing = 0;
        }
        if (c->v.errors)
            break;
        long r = direct ? io->read(io->ctx, c->msg + mhave, size - mhave)
                        : io->read(io->ctx, c->rbuf, RBUF);
        if (r == UNIWS__ECHO_EOF)
            uniws__bench_verify_fail(&c->v, "the server closed after %ld echoes", got);
        if (r < 0)
            break;
        if (r == UNIWS__ECHO_AGAIN) {
            if (uniws__bench_now_ns() > deadline) {
                uniws__bench_verify_fail(&c->v, "timed out after %ld echoes", got);
                break;
            }
            io->wait(io->ctx, blocked);
            continue;
        }
        size_t pos = 0, n = (size_t)r;
        if (direct) {
            mhave += n;
            pos = n; /* nothing for the loop below */
            if (mhave == size) {
                mhave = 0;
                if (take_echo(c, &got, c->msg))
                    break;
            }
        }
        while (pos < n) {
            size_t need = size - mhave, take = n - pos < need ? n - pos : need;
            const uint8_t *m;
            if (mhave == 0 && take == size) {
                m = c->rbuf + pos; /* whole message in this read: check in place */
            } else {
                memcpy(c->msg + mhave, c->rbuf + pos, take);
                mhave += take;
                m = mhave == size ? c->msg : NULL;
            }
            pos += take;
            if (!m)
                continue;
            mhave = 0;
            if (take_echo(c, &got, m))
                break;
        }
    }
    uint64_t t1 = uniws__bench_now_ns(), c1 = uniws__bench_cpu_ns(0);
    res->secs = (double)(t1 - t0) / 1e9;
    res->cpu_secs = (double)(c1 - c0) / 1e9;
    res->p50_us = uniws__bench_rtt_pct(&c->rtt, 50);
    res->p99_us = uniws__bench_rtt_pct(&c->rtt, 99);
    res->echoes = got;
    res->full_checks = c->v.full;
    res->ok = c->v.errors == 0;
    res->error = c->v.first_error;
}

int uniws__echo_client_main(uniws__echo_client *c, const uniws__echo_io *io, const char *backend)
{
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)c->cfg->timeout_s * 1000000000u;
    uniws__bench_result res = {.cfg = c->cfg, .backend = backend};
    uniws__echo_client_run(c, io, deadline, &res);
    int status = uniws__echo_client_report(c, &res);
    uniws__echo_client_free(c);
    return status;
}

void uniws__echo_wait_fd(int fd, int rd, int wr)
{
    struct pollfd p = {.fd = fd, .events = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0))};
    poll(&p, 1, 100);
}

int uniws__echo_client_report(const uniws__echo_client *c, const uniws__bench_result *res)
{
    uniws__bench_result r = *res;
    r.peak_rss_kib = uniws__bench_peak_rss_kib();
    uniws__bench_print(&r);
    if (r.ok)
        return UNIWS__BENCH_EXIT_OK;
    return strncmp(c->v.first_error, "echo ", 5) == 0 ? UNIWS__BENCH_EXIT_VERIFY
                                                      : UNIWS__BENCH_EXIT_FAILED;
}
