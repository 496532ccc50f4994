/*
 * raw_tcp.c — the plain-TCP baseline: the same echo workload with no
 * WebSocket at all (the bench server echoes raw bytes after "RAWECHO\n"), so
 * the table shows how close each WebSocket client gets to the machine's
 * limit. A "message" is --size bytes of the stream; every one is checked like
 * a WebSocket echo, with the same checks and nothing more (workload.c).
 * Non-blocking socket, poll(), small messages written in batches. Receiving
 * is the least a client can do: a big message (BIG bytes and up) is read
 * straight into the one message buffer, as the uniws core reads a big frame
 * (core/rxinto.c); small ones are read many at a time into a read buffer and
 * checked there, copied only when one straddles two reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "report.h"
#include "workload.h"

#define RBUF  (1u << 20)
#define BATCH (64u * 1024)
/* Messages this big are read straight into the message buffer. */
#define BIG (64u * 1024)

static int dial(const char *url)
{
    char host[256], path[256];
    int port;
    if (uniws__bench_split_url(url, host, sizeof host, &port, path, sizeof path)) {
        fprintf(stderr, "raw-tcp: bad --url '%s' (ws://127.0.0.1:PORT/)\n", url);
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) !=
        1) {
        fprintf(stderr, "raw-tcp: --url needs a numeric IPv4 host\n");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("raw-tcp: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static const char magic[] = "RAWECHO\n";
    if (write(fd, magic, sizeof magic - 1) != (ssize_t)(sizeof magic - 1) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    uniws__bench_cfg cfg = {
        .tool = "raw-tcp", .size = 64, .count = 10000, .window = 1, .timeout_s = 120};
    int pr = uniws__bench_parse(&cfg, argc, argv, NULL, NULL);
    if (pr > 0) {
        uniws__bench_usage("raw-tcp", NULL);
        return 0;
    }
    if (pr < 0)
        return UNIWS__BENCH_EXIT_USAGE;
    if (!cfg.url || cfg.connections || cfg.size == 0) {
        fprintf(stderr, "raw-tcp: needs --url, a --size above 0, and no --connections\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    int fd = dial(cfg.url);
    if (fd < 0)
        return UNIWS__BENCH_EXIT_FAILED;

    uniws__bench_payload pl;
    uniws__bench_verify v;
    uniws__bench_rtt rtt;
    uint8_t *rbuf = malloc(RBUF), *msg = malloc(cfg.size);
    if (uniws__bench_payload_init(&pl, cfg.size) || !rbuf || !msg ||
        uniws__bench_rtt_init(&rtt, cfg.window, cfg.count))
        return UNIWS__BENCH_EXIT_FAILED;
    uniws__bench_verify_init(&v, &pl, 0);

    /* Small messages that may go out together are written together (one
     * syscall for a batch), as a WebSocket client that queues frames does. */
    size_t per_batch = cfg.size < BATCH ? BATCH / cfg.size : 1;
    uint8_t *batch = per_batch > 1 ? malloc(per_batch * cfg.size) : NULL;
    const uint8_t *wbuf = NULL;
    size_t wlen = 0;
    long sent = 0, got = 0;
    size_t woff = 0, mhave = 0; /* bytes of the batch being written / message assembled */
    int writing = 0;
    uint64_t deadline = uniws__bench_now_ns() + (uint64_t)cfg.timeout_s * 1000000000u;
    uint64_t t0 = uniws__bench_now_ns(), c0 = uniws__bench_cpu_ns(0);
    while (got < cfg.count && v.errors == 0) {
        /* Write while the window allows. */
        int blocked = 0;
        for (;;) {
            if (!writing) {
                long k = cfg.count - sent;
                if (k > cfg.window - (sent - got))
                    k = cfg.window - (sent - got);
                if (k > (long)per_batch)
                    k = (long)per_batch;
                if (k <= 0)
                    break;
                uint64_t now = uniws__bench_now_ns();
                if (batch) {
                    for (long j = 0; j < k; j++) {
                        uniws__bench_payload_make(&pl, (uint64_t)(sent + j));
                        memcpy(batch + (size_t)j * cfg.size, pl.buf, cfg.size);
                        uniws__bench_rtt_sent(&rtt, (uint64_t)(sent + j), now);
                    }
                    wbuf = batch;
                } else {
                    wbuf = uniws__bench_payload_make(&pl, (uint64_t)sent);
                    uniws__bench_rtt_sent(&rtt, (uint64_t)sent, now);
                }
                wlen = (size_t)k * cfg.size;
                sent += k;
                writing = 1;
                woff = 0;
            }
            ssize_t w = write(fd, wbuf + woff, wlen - woff);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    blocked = 1;
                    break;
                }
                uniws__bench_verify_fail(&v, "write: %s", strerror(errno));
                break;
            }
            woff += (size_t)w;
            if (woff == wlen)
                writing = 0;
        }
        int direct = cfg.size >= BIG;
        ssize_t r = direct ? read(fd, msg + mhave, cfg.size - mhave) : read(fd, rbuf, RBUF);
        if (r == 0) {
            uniws__bench_verify_fail(&v, "the server closed after %ld echoes", got);
            break;
        }
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                uniws__bench_verify_fail(&v, "read: %s", strerror(errno));
                break;
            }
            if (uniws__bench_now_ns() > deadline) {
                uniws__bench_verify_fail(&v, "timed out after %ld echoes", got);
                break;
            }
            struct pollfd p = {.fd = fd, .events = POLLIN | (blocked ? POLLOUT : 0)};
            poll(&p, 1, 100);
            continue;
        }
        size_t pos = 0, n = (size_t)r;
        if (direct) {
            mhave += n;
            pos = n; /* nothing for the loop below */
            if (mhave == cfg.size) {
                mhave = 0;
                uniws__bench_rtt_echo(&rtt, (uint64_t)got, uniws__bench_now_ns());
                if (got >= cfg.count) {
                    uniws__bench_verify_fail(&v, "more bytes than were sent");
                    break;
                }
                got++;
                if (uniws__bench_verify_echo(&v, msg, cfg.size, 0, got == cfg.count))
                    break;
            }
        }
        while (pos < n) {
            size_t need = cfg.size - mhave, take = n - pos < need ? n - pos : need;
            const uint8_t *m;
            if (mhave == 0 && take == cfg.size) {
                m = rbuf + pos; /* whole message in this read: check in place */
            } else {
                memcpy(msg + mhave, rbuf + pos, take);
                mhave += take;
                m = mhave == cfg.size ? msg : NULL;
            }
            pos += take;
            if (!m)
                continue;
            mhave = 0;
            uniws__bench_rtt_echo(&rtt, (uint64_t)got, uniws__bench_now_ns());
            if (got >= cfg.count) {
                uniws__bench_verify_fail(&v, "more bytes than were sent");
                break;
            }
            got++;
            if (uniws__bench_verify_echo(&v, m, cfg.size, 0, got == cfg.count))
                break;
        }
    }
    uint64_t t1 = uniws__bench_now_ns(), c1 = uniws__bench_cpu_ns(0);
    close(fd);

    uniws__bench_result res = {.cfg = &cfg, .backend = "tcp"};
    res.secs = (double)(t1 - t0) / 1e9;
    res.cpu_secs = (double)(c1 - c0) / 1e9;
    res.p50_us = uniws__bench_rtt_pct(&rtt, 50);
    res.p99_us = uniws__bench_rtt_pct(&rtt, 99);
    res.echoes = got - (v.errors ? 1 : 0);
    res.full_checks = v.full;
    res.peak_rss_kib = uniws__bench_peak_rss_kib();
    res.ok = v.errors == 0;
    res.error = v.first_error;
    uniws__bench_print(&res);
    free(rbuf);
    free(msg);
    free(batch);
    uniws__bench_rtt_free(&rtt);
    uniws__bench_payload_free(&pl);
    if (res.ok)
        return UNIWS__BENCH_EXIT_OK;
    return strncmp(v.first_error, "echo ", 5) == 0 ? UNIWS__BENCH_EXIT_VERIFY
                                                   : UNIWS__BENCH_EXIT_FAILED;
}
