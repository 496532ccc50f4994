/*
 * raw_ws.c — the WebSocket ceiling for big messages (`raw-ws`): the least a
 * WebSocket client can do per byte, with no library, so the table shows how
 * close uniws gets to what the protocol itself costs on this machine (plain
 * TCP, raw-tcp, has no framing or masking at all, and the server streams a
 * WebSocket echo differently). It opens the connection with a real handshake
 * (random key, the 101 and Sec-WebSocket-Accept checked), sends each message
 * as one frame masked with a fresh random key (RFC 6455 5.3), masked a slice
 * at a time into one reused buffer with the core's masking code (the fastest
 * this project has: the ceiling must not be slower than uniws at it) and
 * written at once, and reads each echoed frame's header alone and its
 * payload straight into the one message buffer. Messages of 64 KiB and up
 * only (one frame each; the batched small-message path is raw-tcp's): the
 * 1m and 16m rows of bench/run.sh. The send/echo loop and every check are
 * the batched echo client's (echo_client.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include "core/frame.h"
#include "core/handshake.h"
#include "echo_client.h"

/* Smallest --size: every message is read straight into the message buffer. */
#define MIN_SIZE (64u * 1024)
/* Payload bytes masked and written per write (core/txdirect.c's slice). */
#define SLICE (256u * 1024)

typedef struct ws_io {
    int fd;
    uniws__bench_verify *v;
    size_t size;
    char accept[32]; /* the Sec-WebSocket-Accept the server must answer */
    int hs_done;
    /* output: a frame's header and one masked slice not yet fully written */
    uint8_t *out;
    size_t out_len, out_off, out_hdr; /* out_hdr: the header's bytes at its start */
    size_t wmsg; /* payload bytes of the message being sent already in out or written */
    uint8_t key[4];
    uint8_t rnd[64];
    size_t rnd_off;
    /* input: the header of the frame being received, its payload left */
    uint8_t hdr[UNIWS__FRAME_MAX_HEADER];
    size_t hdr_have;
    uint64_t left;
} ws_io;

static int next_key(ws_io *w)
{
    if (w->rnd_off + 4 > sizeof w->rnd) {
        if (getrandom(w->rnd, sizeof w->rnd, 0) != (ssize_t)sizeof w->rnd)
            return -1;
        w->rnd_off = 0;
    }
    memcpy(w->key, w->rnd + w->rnd_off, 4);
    w->rnd_off += 4;
    return 0;
}

static long fail_errno(ws_io *w, const char *what)
{
    uniws__bench_verify_fail(w->v, "%s: %s", what, strerror(errno));
    return UNIWS__ECHO_FAILED;
}

/* Writes what is left of out. Returns the payload bytes among what went
 * (the header does not count), 0 when the socket took nothing of the
 * payload, or -1 on failure. */
static long flush_out(ws_io *w)
{
    size_t before = w->out_off;
    while (w->out_off < w->out_len) {
        ssize_t n = write(w->fd, w->out + w->out_off, w->out_len - w->out_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail_errno(w, "write");
            return -1;
        }
        w->out_off += (size_t)n;
    }
    size_t from = before > w->out_hdr ? before : w->out_hdr;
    return w->out_off > from ? (long)(w->out_off - from) : 0;
}

/* Writes payload from buf (the first byte the socket has not had): a header
 * first when a message starts, then up to a slice masked into out. What
 * the socket does not take stays in out and goes first on the next call,
 * which returns it as written; the caller hands the same bytes again until
 * then. Returns the payload bytes written, or UNIWS__ECHO_AGAIN / FAILED. */
static long ws_write(void *ctx, const uint8_t *buf, size_t len)
{
    ws_io *w = ctx;
    if (!w->hs_done)
        return UNIWS__ECHO_AGAIN; /* nothing but the request before the 101 */
    if (w->out_off == w->out_len) {
        w->out_len = w->out_off = w->out_hdr = 0;
        if (w->wmsg == 0) {
            if (next_key(w))
                return fail_errno(w, "getrandom");
            w->out_hdr = uniws__frame_header(w->out, 1, 0, UNIWS__OP_BINARY, w->size, w->key);
            w->out_len = w->out_hdr;
        }
        size_t n = w->size - w->wmsg;
        if (n > len)
            n = len;
        if (n > SLICE)
            n = SLICE;
        uniws__mask_copy(w->out + w->out_len, buf, n, w->key, w->wmsg);
        w->out_len += n;
        w->wmsg = w->wmsg + n == w->size ? 0 : w->wmsg + n;
    }
    long r = flush_out(w);
    return r < 0 ? UNIWS__ECHO_FAILED : r > 0 ? r : UNIWS__ECHO_AGAIN;
}

/* The server's 101: status line, then Sec-WebSocket-Accept as computed.
 * Returns 1 once it has been read, or an UNIWS__ECHO_ code. */
static long read_handshake(ws_io *w)
{
    char buf[2048];
    ssize_t n = recv(w->fd, buf, sizeof buf - 1, MSG_PEEK);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? UNIWS__ECHO_AGAIN : fail_errno(w, "read");
    if (n == 0)
        return UNIWS__ECHO_EOF;
    buf[n] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
        return n == (ssize_t)sizeof buf - 1
                   ? (uniws__bench_verify_fail(w->v, "handshake too long"), UNIWS__ECHO_FAILED)
                   : UNIWS__ECHO_AGAIN;
    end[2] = 0;
    char want[64];
    snprintf(want, sizeof want, "\r\nSec-WebSocket-Accept: %s\r\n", w->accept);
    if (strncmp(buf, "HTTP/1.1 101 ", 13) != 0 || !strcasestr(buf, want)) {
        uniws__bench_verify_fail(w->v, "the server did not accept the WebSocket handshake");
        return UNIWS__ECHO_FAILED;
    }
    size_t hl = (size_t)(end + 4 - buf);
    if (recv(w->fd, buf, hl, 0) != (ssize_t)hl)
        return fail_errno(w, "read");
    w->hs_done = 1;
    return 1;
}

/* Reads the next frame's header alone (2 bytes, then its extended length).
 * Returns 1 when the payload can be read, or an UNIWS__ECHO_ code. */
static long read_header(ws_io *w)
{
    for (;;) {
        uniws__frame_hdr h;
        int r = uniws__frame_parse(w->hdr, w->hdr_have, &h);
        if (r < 0) {
            uniws__bench_verify_fail(w->v, "a malformed frame header");
            return UNIWS__ECHO_FAILED;
        }
        if (r > 0) {
            if (h.opcode != UNIWS__OP_BINARY || !h.fin || h.masked || h.len != w->size) {
                uniws__bench_verify_fail(w->v, "echo: not one unmasked binary frame of %zu bytes",
                                         w->size);
                return UNIWS__ECHO_FAILED;
            }
            w->hdr_have = 0;
            w->left = h.len;
            return 1;
        }
        /* The header's length so far: 2 bytes, then 2 or 8 more. */
        size_t need = 2;
        if (w->hdr_have >= 2)
            need += (w->hdr[1] & 0x7F) == 126 ? 2 : 8;
        ssize_t n = read(w->fd, w->hdr + w->hdr_have, need - w->hdr_have);
        if (n == 0)
            return UNIWS__ECHO_EOF;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? UNIWS__ECHO_AGAIN
                                                           : fail_errno(w, "read");
        w->hdr_have += (size_t)n;
    }
}

/* Reads payload bytes of the echoed frames, straight into buf. */
static long ws_read(void *ctx, uint8_t *buf, size_t len)
{
    ws_io *w = ctx;
    if (!w->hs_done) {
        long r = read_handshake(w);
        if (r != 1)
            return r;
    }
    if (w->left == 0) {
        long r = read_header(w);
        if (r != 1)
            return r;
    }
    if (len > w->left)
        len = (size_t)w->left;
    ssize_t n = read(w->fd, buf, len);
    if (n == 0)
        return UNIWS__ECHO_EOF;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? UNIWS__ECHO_AGAIN : fail_errno(w, "read");
    w->left -= (uint64_t)n;
    return (long)n;
}

static void ws_wait(void *ctx, int write_blocked)
{
    ws_io *w = ctx;
    uniws__echo_wait_fd(w->fd, 1, write_blocked);
}

/* The upgrade request for host:port/path, and the accept value it expects. */
static int make_greeting(ws_io *w, const char *host, int port, const char *path, char *out,
                         size_t cap)
{
    uint8_t raw[16];
    char key[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    uniws__ws_accept(key, w->accept); /* the core's: SHA-1 and base64 (core/handshake.c) */
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path[0] ? path : "/", host, port, key);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int main(int argc, char **argv)
{
    uniws__bench_cfg cfg = {
        .tool = "raw-ws", .size = 1 << 20, .count = 100, .window = 1, .timeout_s = 120};
    int st = uniws__bench_parse_baseline(&cfg, argc, argv);
    if (st >= 0)
        return st;
    char host[256], path[256];
    int port;
    if (!cfg.url || cfg.connections || cfg.size < MIN_SIZE || cfg.text || cfg.deflate) {
        fprintf(stderr, "raw-ws: needs --url, binary messages of --size 64K or more, and no "
                        "--connections\n");
        return UNIWS__BENCH_EXIT_USAGE;
    }
    if (uniws__bench_split_url(cfg.url, host, sizeof host, &port, path, sizeof path) ||
        strncmp(cfg.url, "ws://", 5) != 0) {
        fprintf(stderr, "raw-ws: bad --url '%s' (ws://127.0.0.1:PORT/)\n", cfg.url);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    signal(SIGPIPE, SIG_IGN);

    uniws__echo_client c;
    ws_io w = {.size = cfg.size, .rnd_off = sizeof w.rnd};
    char greeting[1024];
    int fd = -1;
    if (uniws__echo_client_init(&c, &cfg) || !(w.out = malloc(UNIWS__FRAME_MAX_HEADER + SLICE)) ||
        make_greeting(&w, host, port, path, greeting, sizeof greeting) ||
        (fd = uniws__echo_dial("raw-ws", host, port, greeting)) < 0) {
        uniws__echo_client_free(&c);
        free(w.out);
        return UNIWS__BENCH_EXIT_FAILED;
    }
    w.fd = fd;
    w.v = &c.v;
    uniws__echo_io io = {
        .ctx = &w, .write = ws_write, .read = ws_read, .wait = ws_wait, .direct_from = MIN_SIZE};
    int status = uniws__echo_client_main(&c, &io, "ws");
    close(fd);
    free(w.out);
    return status;
}
