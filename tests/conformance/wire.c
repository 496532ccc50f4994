/*
 * wire.c — the one-connection raw peer of wire.h: blocking sockets on a
 * thread, a minimal upgrade answer, and a frame reader that records what the
 * client sent. Every wait is sliced so wire_stop() ends it promptly.
 */
#include "wire.h"
#include "core/handshake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct wire_peer {
    int lfd, fd, port;
    unsigned char *frames;
    size_t frames_len;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    atomic_int stop;
    wire_obs obs;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits for fd to become readable: 1 ready, 0 stopped or timed out. */
static int wait_readable(wire_peer *w, int fd, uint64_t deadline)
{
    while (!atomic_load(&w->stop) && now_ms() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, 50);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return 0;
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_frame(int fd, int opcode, const void *payload, size_t n)
{
    unsigned char h[4];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    }
    return write_all(fd, h, hl) || write_all(fd, payload, n) ? -1 : 0;
}

static void set_done(wire_peer *w)
{
    pthread_mutex_lock(&w->mu);
    w->obs.done = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

/* Reads the upgrade request and answers 101. Returns 0 or -1. */
static int handshake(wire_peer *w, uint64_t deadline)
{
    char req[8192];
    size_t n = 0;
    while (n < sizeof req - 1) {
        if (!wait_readable(w, w->fd, deadline))
            return -1;
        ssize_t r = recv(w->fd, req + n, sizeof req - 1 - n, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        req[n] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    const char *k = NULL;
    for (const char *p = req; (p = strchr(p, '\n')) != NULL;) {
        p++;
        if (!strncasecmp(p, "Sec-WebSocket-Key:", 18)) {
            k = p + 18;
            break;
        }
    }
    if (!k)
        return -1;
    while (*k == ' ')
        k++;
    char key[64];
    size_t kl = strcspn(k, "\r\n ");
    if (kl == 0 || kl >= sizeof key)
        return -1;
    memcpy(key, k, kl);
    key[kl] = 0;
    char accept[29], resp[256];
    uniws__ws_accept(key, accept);
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    if (write_all(w->fd, resp, (size_t)rl) != 0)
        return -1;
    w->obs.upgraded = 1;
    return w->frames_len ? write_all(w->fd, w->frames, w->frames_len) : 0;
}

/* Handles one complete client frame. */
static void on_frame(wire_peer *w, int opcode, unsigned char *payload, size_t n)
{
    pthread_mutex_lock(&w->mu);
    switch (opcode) {
    case 0x0:
    case 0x1:
    case 0x2:
        w->obs.data_frames++;
        break;
    case 0x8:
        if (w->obs.close_code == -1) {
            w->obs.close_code = n >= 2 ? (payload[0] << 8 | payload[1]) : 0;
            size_t rl = n > 2 ? n - 2 : 0;
            if (rl >= sizeof w->obs.close_reason)
                rl = sizeof w->obs.close_reason - 1;
            memcpy(w->obs.close_reason, payload + 2, rl);
            w->obs.close_reason[rl] = 0;
        }
        break;
    case 0xa: {
        w->obs.pongs++;
        size_t pl = n < sizeof w->obs.last_pong ? n : sizeof w->obs.last_pong - 1;
        memcpy(w->obs.last_pong, payload, pl);
        w->obs.last_pong[pl] = 0;
        w->obs.last_pong_len = n;
        break;
    }
    }
    pthread_mutex_unlock(&w->mu);
    if (opcode == 0x9) {
        send_frame(w->fd, 0xa, payload, n);
    } else if (opcode == 0xa) {
        unsigned char msg[5 + 125];
        memcpy(msg, "pong:", 5);
        size_t pl = n <= 125 ? n : 125;
        memcpy(msg + 5, payload, pl);
        send_frame(w->fd, 0x1, msg, 5 + pl);
    } else if (opcode == 0x8) {
        send_frame(w->fd, 0x8, payload, n);
    }
}

/* Parses complete frames at the front of buf; returns the bytes used or -1. */
static long parse_frames(wire_peer *w, unsigned char *buf, size_t len)
{
    size_t off = 0;
    for (;;) {
        unsigned char *p = buf + off;
        size_t left = len - off;
        if (left < 2)
            return (long)off;
        int masked = p[1] & 0x80;
        uint64_t n = p[1] & 0x7f;
        size_t hl = 2;
        if (n == 126) {
            if (left < 4)
                return (long)off;
            n = (uint64_t)p[2] << 8 | p[3];
            hl = 4;
        } else if (n == 127) {
            if (left < 10)
                return (long)off;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | p[2 + i];
            hl = 10;
        }
        if (n > (1u << 26))
            return -1;
        size_t need = hl + (masked ? 4 : 0) + (size_t)n;
        if (left < need)
            return (long)off;
        unsigned char *payload = p + hl + (masked ? 4 : 0);
        if (masked) {
            for (size_t i = 0; i < n; i++)
                payload[i] ^= p[hl + (i & 3)];
        } else {
            pthread_mutex_lock(&w->mu);
            w->obs.unmasked++;
            pthread_mutex_unlock(&w->mu);
        }
        on_frame(w, p[0] & 0x0f, payload, (size_t)n);
        off += need;
    }
}

static void *wire_main(void *arg)
{
    wire_peer *w = arg;
    uint64_t deadline = now_ms() + 30000;
    if (wait_readable(w, w->lfd, deadline))
        w->fd = accept(w->lfd, NULL, NULL);
    if (w->fd < 0 || handshake(w, deadline) != 0) {
        set_done(w);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf && wait_readable(w, w->fd, deadline)) {
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(w->fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            pthread_mutex_lock(&w->mu);
            w->obs.eof = 1;
            pthread_mutex_unlock(&w->mu);
            break;
        }
        len += (size_t)r;
        long used = parse_frames(w, buf, len);
        if (used < 0) {
            pthread_mutex_lock(&w->mu);
            w->obs.bad = 1;
            pthread_mutex_unlock(&w->mu);
            break;
        }
        memmove(buf, buf + used, len - (size_t)used);
        len -= (size_t)used;
    }
    free(buf);
    set_done(w);
    return NULL;
}

int wire_start(const void *frames, size_t len, wire_peer **out)
{
    wire_peer *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->fd = -1;
    w->obs.close_code = -1;
    atomic_init(&w->stop, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->frames = malloc(len ? len : 1);
    w->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (!w->frames || w->lfd < 0 || bind(w->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(w->lfd, 4) != 0 || getsockname(w->lfd, (struct sockaddr *)&a, &al) != 0) {
        if (w->lfd >= 0)
            close(w->lfd);
        free(w->frames);
        free(w);
        return -1;
    }
    if (len)
        memcpy(w->frames, frames, len);
    w->frames_len = len;
    w->port = ntohs(a.sin_port);
    if (pthread_create(&w->thread, NULL, wire_main, w) != 0) {
        close(w->lfd);
        free(w->frames);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

int wire_port(const wire_peer *w)
{
    return w->port;
}

void wire_wait(wire_peer *w, int timeout_ms, wire_obs *obs)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->obs.done) {
        if (pthread_cond_timedwait(&w->cond, &w->mu, &ts) == ETIMEDOUT)
            break;
    }
    *obs = w->obs;
    pthread_mutex_unlock(&w->mu);
}

void wire_stop(wire_peer *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    if (w->fd >= 0)
        close(w->fd);
    close(w->lfd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w->frames);
    free(w);
}
