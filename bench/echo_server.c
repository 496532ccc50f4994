/*
 * echo_server.c — the benchmarks' echo server (see echo_server.h). All the
 * work per byte is one read, one in-place unmask and one writev: frames are
 * echoed piece by piece as they arrive, never reassembled, so a 16 MiB message
 * costs no more memory than a 64-byte one. A connection whose peer reads
 * slower than it writes keeps the unwritten rest in its own backlog and is not
 * read again until that drains (back-pressure, as any real server does).
 *
 * TLS (wss://): OpenSSL on the socket itself, non-blocking, in the same loop.
 * SSL_read fills the same shared buffer (read-ahead on, so one recv() brings
 * several records); echoed pieces smaller than a record are gathered into
 * one staging buffer so small frames share records, larger ones go to
 * SSL_write in place; what the socket does not take goes to the backlog as
 * on plain TCP (partial writes on, the buffer allowed to move). OpenSSL may
 * hold decrypted input epoll cannot see, so a read pass repeats while it does.
 */
#include "echo_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "core/frame.h"
#include "core/handshake.h"

#define BUF_SIZE    (4u << 20) /* one shared read buffer: large reads, few syscalls */
#define MAX_IOV     1024
#define HS_MAX      8192
#define RAW_MAGIC   "RAWECHO\n"
#define BACKLOG_MAX (8u << 20)
#define W_READ      1
#define W_WRITE     2
#define TLS_STAGE   (64u * 1024) /* small echoed pieces gathered into one SSL_write */
#define TLS_REC     16384u       /* pieces this big are encrypted in place */
#define TLS_PASS    (1u << 20)   /* plaintext read per pass before echoing it */

enum { MODE_HS, MODE_WS, MODE_RAW };

typedef struct conn {
    struct conn *prev, *next;
    int fd;
    SSL *ssl; /* NULL: plain TCP */
    int mode;
    int closing; /* the close frame is echoed: hang up once it is written */
    int blocked; /* W_READ / W_WRITE: what epoll watches for (0: new, reading) */
    char *hs;
    size_t hs_len;
    /* the frame being streamed through */
    int in_frame, drop, is_close, masked, corrupt;
    uint8_t mask[4];
    uint64_t remaining, off;
    uint8_t stash[UNIWS__FRAME_MAX_HEADER]; /* a header split across reads */
    size_t stash_len;
    unsigned long data_frames;
    /* bytes the socket did not take yet */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
} conn;

struct uniws__echo_server {
    int lfd, epfd, evfd, port, corrupt_every;
    int stop;
    uint8_t *buf;
    SSL_CTX *tls;   /* NULL: plain TCP */
    uint8_t *stage; /* TLS_STAGE bytes (TLS only) */
    size_t stage_len;
    struct iovec iov[MAX_IOV];
    int niov;
    conn *conns;
    pthread_t thread;
};

static char tag_listen, tag_stop;

/* ---- output --------------------------------------------------------------- */

static int backlog_add(conn *c, const void *p, size_t n)
{
    if (c->out_off > 0 && c->out_len + n > c->out_cap) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 65536;
        while (cap < c->out_len + n)
            cap *= 2;
        uint8_t *o = realloc(c->out, cap);
        if (!o)
            return -1;
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

/* SSL_write's answer when it wrote nothing: 0 to wait for the socket, -1. */
static int tls_retry(conn *c, int n)
{
    int e = SSL_get_error(c->ssl, n);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
}

/* Encrypts and writes p[0..n) as far as the socket takes it; the rest goes
 * to the backlog, which SSL_write retries from (same bytes first, as
 * OpenSSL requires). Returns 0 or -1. */
static int tls_put(conn *c, const uint8_t *p, size_t n)
{
    if (c->out_len > c->out_off)
        return backlog_add(c, p, n);
    while (n > 0) {
        int w = SSL_write(c->ssl, p, n > (1u << 30) ? 1 << 30 : (int)n);
        if (w <= 0)
            return tls_retry(c, w) ? -1 : backlog_add(c, p, n);
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int tls_flush_stage(uniws__echo_server *srv, conn *c)
{
    size_t n = srv->stage_len;
    srv->stage_len = 0;
    return n ? tls_put(c, srv->stage, n) : 0;
}

/* TLS: small pieces share records through the staging buffer, big ones
 * are encrypted where they are. */
static int tls_flush_iov(uniws__echo_server *srv, conn *c)
{
    int n = srv->niov;
    srv->niov = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = srv->iov[i].iov_base;
        size_t len = srv->iov[i].iov_len;
        if (len < TLS_REC) {
            if (srv->stage_len + len > TLS_STAGE && tls_flush_stage(srv, c))
                return -1;
            memcpy(srv->stage + srv->stage_len, p, len);
            srv->stage_len += len;
        } else if (tls_flush_stage(srv, c) || tls_put(c, p, len)) {
            return -1;
        }
    }
    return tls_flush_stage(srv, c);
}

/* Writes the gathered pieces; what the socket does not take goes to the
 * backlog. Returns 0 or -1 (connection broken). */
static int flush_iov(uniws__echo_server *srv, conn *c)
{
    if (c->ssl)
        return tls_flush_iov(srv, c);
    struct iovec *v = srv->iov;
    int n = srv->niov;
    srv->niov = 0;
    while (n > 0) {
        ssize_t w = writev(c->fd, v, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            w = 0;
        }
        while (n > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n--;
        }
        if (n == 0)
            return 0;
        v->iov_base = (uint8_t *)v->iov_base + w;
        v->iov_len -= (size_t)w;
        /* A short write means the socket is full: keep the rest for when
         * it drains (see watch()). */
        for (int i = 0; i < n; i++)
            if (backlog_add(c, v[i].iov_base, v[i].iov_len))
                return -1;
        return 0;
    }
    return 0;
}

static int emit(uniws__echo_server *srv, conn *c, uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    if (c->out_len > c->out_off)
        return backlog_add(c, p, n); /* keep the order behind the backlog */
    if (srv->niov > 0) {
        struct iovec *last = &srv->iov[srv->niov - 1];
        if ((uint8_t *)last->iov_base + last->iov_len == p) {
            last->iov_len += n;
            return 0;
        }
    }
    if (srv->niov == MAX_IOV && flush_iov(srv, c))
        return -1;
    if (c->out_len > c->out_off)
        return backlog_add(c, p, n);
    srv->iov[srv->niov].iov_base = p;
    srv->iov[srv->niov].iov_len = n;
    srv->niov++;
    return 0;
}

/* ---- connections ---------------------------------------------------------- */

static void conn_close(uniws__echo_server *srv, conn *c)
{
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->hs);
    free(c->out);
    free(c);
}

/* What to wait for: reading goes on while the backlog is small, so reading
 * and writing overlap; a peer that does not read its echoes is not read
 * either once BACKLOG_MAX is reached (back-pressure). */
static void watch(uniws__echo_server *srv, conn *c)
{
    size_t pending = c->out_len - c->out_off;
    int want = pending == 0                           ? W_READ
               : pending < BACKLOG_MAX && !c->closing ? W_READ | W_WRITE
                                                      : W_WRITE;
    if (c->blocked == want)
        return;
    struct epoll_event ev = {
        .events = (want & W_READ ? EPOLLIN : 0u) | (want & W_WRITE ? EPOLLOUT : 0u), .data.ptr = c};
    epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->blocked = want;
}

/* Writes as much backlog as the socket takes. Returns 0 or -1. */
static int drain(conn *c)
{
    while (c->out_off < c->out_len) {
        if (c->ssl) {
            size_t left = c->out_len - c->out_off;
            int w = SSL_write(c->ssl, c->out + c->out_off, left > (1u << 30) ? 1 << 30 : (int)left);
            if (w <= 0)
                return tls_retry(c, w);
            c->out_off += (size_t)w;
            continue;
        }
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > (1u << 20)) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return 0;
}

/* Streams frames in b[0..n) back. Returns 0 or -1 (protocol error). */
static int ws_process(uniws__echo_server *srv, conn *c, uint8_t *b, size_t n)
{
    size_t pos = 0;
    c->stash_len = 0;
    while (pos < n) {
        if (!c->in_frame) {
            uniws__frame_hdr h;
            int r = uniws__frame_parse(b + pos, n - pos, &h);
            if (r == 0) {
                c->stash_len = n - pos;
                memcpy(c->stash, b + pos, c->stash_len);
                return 0;
            }
            if (r < 0 || h.opcode == 0x3 || h.opcode > 0xA)
                return -1;
            int out_op = h.opcode == UNIWS__OP_PING ? UNIWS__OP_PONG : h.opcode;
            size_t hl = (size_t)r, ohl = hl - (h.masked ? 4 : 0);
            /* The unmasked header is the masked one minus its key: move it
             * next to the payload so header and payload go out together. */
            uint8_t *oh = b + pos + hl - ohl;
            if (oh != b + pos)
                memmove(oh, b + pos, ohl);
            oh[0] = (uint8_t)((oh[0] & 0xF0) | out_op);
            oh[1] &= 0x7F;
            c->drop = h.opcode == UNIWS__OP_PONG;
            c->is_close = h.opcode == UNIWS__OP_CLOSE;
            c->masked = h.masked;
            memcpy(c->mask, h.mask, 4);
            c->remaining = h.len;
            c->off = 0;
            c->corrupt = 0;
            if (h.opcode < 8 && srv->corrupt_every > 0 &&
                ++c->data_frames % (unsigned long)srv->corrupt_every == 0)
                c->corrupt = 1;
            c->in_frame = 1;
            pos += hl;
            if (!c->drop && emit(srv, c, oh, ohl))
                return -1;
        } else {
            size_t take = c->remaining < n - pos ? (size_t)c->remaining : n - pos;
            if (c->masked)
                uniws__mask(b + pos, take, c->mask, c->off);
            if (c->corrupt && take) {
                b[pos] ^= 1;
                c->corrupt = 0;
            }
            if (!c->drop && emit(srv, c, b + pos, take))
                return -1;
            pos += take;
            c->off += take;
            c->remaining -= take;
        }
        if (c->in_frame && c->remaining == 0) {
            c->in_frame = 0;
            if (c->is_close) {
                c->closing = 1;
                return 0; /* nothing may follow a close frame */
            }
        }
    }
    return 0;
}

/* permessage-deflate (RFC 7692) without zlib: a compressed message is echoed
 * as it came (RSV1 kept). The client's inflater then sees exactly the bytes
 * and history its own deflater produced, which is valid as long as both
 * directions use the same window and context takeover: accepted only for an
 * offer that asks nothing of the server's side (as `ws` and uniws offer: at
 * most client_max_window_bits, which the answer leaves at 15 both ways). So
 * the pmd rows measure the clients' deflate and inflate, not the server's. */
static int pmd_acceptable(const char *head)
{
    for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Sec-WebSocket-Extensions:", 25) != 0)
            continue;
        const char *v = l + 27, *eol = strstr(v, "\r\n");
        size_t n = eol ? (size_t)(eol - v) : strlen(v);
        const char *comma = memchr(v, ',', n);
        char offer[256];
        n = comma ? (size_t)(comma - v) : n;
        if (n >= sizeof offer)
            return 0;
        memcpy(offer, v, n);
        offer[n] = 0;
        return strstr(offer, "permessage-deflate") && !strstr(offer, "server_");
    }
    return 0;
}

static int handshake(uniws__echo_server *srv, conn *c, const uint8_t *p, size_t n, size_t *used)
{
    size_t old = c->hs_len, take = n < HS_MAX - old ? n : HS_MAX - old;
    char *h = realloc(c->hs, old + take + 1);
    if (!h)
        return -1;
    c->hs = h;
    memcpy(h + old, p, take);
    c->hs_len = old + take;
    h[c->hs_len] = 0;
    size_t ml = sizeof RAW_MAGIC - 1;
    if (c->hs_len >= ml && memcmp(h, RAW_MAGIC, ml) == 0) {
        c->mode = MODE_RAW;
        *used = ml - old;
        return 0;
    }
    char *end = strstr(h, "\r\n\r\n");
    if (!end) {
        *used = take;
        return c->hs_len >= HS_MAX ? -1 : 0;
    }
    *used = (size_t)(end + 4 - h) - old;
    end[2] = 0;
    int pmd = pmd_acceptable(h); /* before the key's end is cut below */
    const char *key = NULL;
    for (char *line = strstr(h, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Sec-WebSocket-Key:", 18) == 0) {
            char *k = line + 20, *e = k;
            while (*k == ' ' || *k == '\t')
                k++;
            e = k;
            while (*e && *e != '\r' && *e != ' ')
                e++;
            *e = 0;
            key = k;
            break;
        }
    }
    if (!key || strncmp(h, "GET ", 4) != 0) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
        backlog_add(c, bad, sizeof bad - 1);
        c->closing = 1;
        c->mode = MODE_WS;
        return 0;
    }
    char accept[29], resp[256];
    uniws__ws_accept(key, accept);
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                      accept, pmd ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "");
    if (backlog_add(c, resp, (size_t)rl))
        return -1;
    c->mode = MODE_WS;
    free(c->hs);
    c->hs = NULL;
    c->hs_len = 0;
    (void)srv;
    return 0;
}

/* Reads into b: > 0 bytes, 0 when nothing is there yet, -1 at the end. */
static ssize_t conn_read(conn *c, uint8_t *b, size_t cap)
{
    if (!c->ssl) {
        ssize_t r = read(c->fd, b, cap);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        return r > 0 ? r : -1;
    }
    /* The handshake runs inside the first SSL_read calls. */
    size_t got = 0;
    if (cap > TLS_PASS)
        cap = TLS_PASS;
    while (got < cap) {
        int n = SSL_read(c->ssl, b + got, (int)(cap - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        return got ? (ssize_t)got : -1; /* close_notify, EOF or a TLS error */
    }
    return (ssize_t)got;
}

/* The echoed close is out: close_notify (TLS), FIN, and forget it. */
static void hang_up(uniws__echo_server *srv, conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    shutdown(c->fd, SHUT_WR);
    conn_close(srv, c);
}

static void on_readable(uniws__echo_server *srv, conn *c)
{
again:;
    uint8_t *b = srv->buf;
    size_t have = c->stash_len;
    memcpy(b, c->stash, have);
    ssize_t r = conn_read(c, b + have, BUF_SIZE - have);
    if (r == 0)
        return;
    if (r < 0) {
        conn_close(srv, c);
        return;
    }
    size_t n = have + (size_t)r, pos = 0;
    int bad = 0;
    srv->niov = 0;
    if (c->mode == MODE_HS) {
        size_t used = 0;
        bad = handshake(srv, c, b, n, &used);
        pos = used;
    }
    if (!bad && pos < n && !c->closing) {
        if (c->mode == MODE_RAW)
            bad = emit(srv, c, b + pos, n - pos);
        else if (c->mode == MODE_WS)
            bad = ws_process(srv, c, b + pos, n - pos);
    }
    if (!bad && srv->niov)
        bad = flush_iov(srv, c);
    srv->niov = 0;
    if (!bad && c->out_len > c->out_off)
        bad = drain(c);
    if (bad) {
        conn_close(srv, c);
        return;
    }
    if (c->out_len == c->out_off && c->closing) {
        hang_up(srv, c);
        return;
    }
    watch(srv, c);
    /* Records OpenSSL already holds raise no epoll event. */
    if (c->ssl && c->blocked & W_READ && SSL_has_pending(c->ssl))
        goto again;
}

/* Returns 1 when c was closed (and freed). */
static int on_writable(uniws__echo_server *srv, conn *c)
{
    if (drain(c)) {
        conn_close(srv, c);
        return 1;
    }
    if (c->out_len == c->out_off && c->closing) {
        hang_up(srv, c);
        return 1;
    }
    watch(srv, c);
    if (c->ssl && c->blocked & W_READ && SSL_has_pending(c->ssl)) {
        on_readable(srv, c); /* reading resumes with input OpenSSL holds */
        return 1;            /* which may have closed c */
    }
    return 0;
}

static void on_accept(uniws__echo_server *srv)
{
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or out of descriptors: try again on the next event */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (!c || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        if (srv->tls) {
            c->ssl = SSL_new(srv->tls);
            if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
                epoll_ctl(srv->epfd, EPOLL_CTL_DEL, fd, NULL);
                SSL_free(c->ssl);
                free(c);
                close(fd);
                continue;
            }
            SSL_set_accept_state(c->ssl);
        }
        c->next = srv->conns;
        if (c->next)
            c->next->prev = c;
        srv->conns = c;
    }
}

/* ---- the server ---------------------------------------------------------- */

static SSL_CTX *tls_ctx(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char buf[200];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        fprintf(stderr, "echo server: TLS certificate %s / key %s: %s\n", cert, key, buf);
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Non-blocking writes that may stop part-way and resume from the
     * backlog (which moves), and several records per recv(). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
    /* Bench connections are never resumed: no session tickets to make. */
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

int uniws__echo_new(const uniws__echo_opts *opts, uniws__echo_server **out)
{
    uniws__echo_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -1;
    srv->lfd = srv->epfd = srv->evfd = -1;
    srv->corrupt_every = opts ? opts->corrupt_every : 0;
    srv->buf = malloc(BUF_SIZE);
    if (opts && (opts->tls_cert || opts->tls_key)) {
        srv->tls = opts->tls_cert && opts->tls_key ? tls_ctx(opts->tls_cert, opts->tls_key) : NULL;
        srv->stage = malloc(TLS_STAGE);
        if (!srv->tls || !srv->stage) {
            uniws__echo_free(srv);
            errno = EINVAL;
            return -1;
        }
    }
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    srv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!srv->buf || srv->lfd < 0 || srv->epfd < 0 || srv->evfd < 0)
        goto fail;
    int one = 1;
    setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)(opts ? opts->port : 0));
    socklen_t sl = sizeof sa;
    if (bind(srv->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(srv->lfd, 4096) != 0 ||
        getsockname(srv->lfd, (struct sockaddr *)&sa, &sl) != 0)
        goto fail;
    srv->port = ntohs(sa.sin_port);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    struct epoll_event ev2 = {.events = EPOLLIN, .data.ptr = &tag_stop};
    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->lfd, &ev) != 0 ||
        epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->evfd, &ev2) != 0)
        goto fail;
    *out = srv;
    return 0;
fail:;
    int e = errno;
    uniws__echo_free(srv);
    errno = e;
    return -1;
}

int uniws__echo_port(const uniws__echo_server *srv)
{
    return srv->port;
}

int uniws__echo_run(uniws__echo_server *srv)
{
    struct epoll_event evs[256];
    while (!__atomic_load_n(&srv->stop, __ATOMIC_ACQUIRE)) {
        int n = epoll_wait(srv->epfd, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n; i++) {
            void *d = evs[i].data.ptr;
            if (d == &tag_listen) {
                on_accept(srv);
            } else if (d == &tag_stop) {
                uint64_t v;
                if (read(srv->evfd, &v, sizeof v) < 0)
                    v = 0;
            } else {
                conn *c = d;
                /* Events for a connection closed earlier in this batch cannot
                 * occur: a connection only closes while handling its own. */
                unsigned e = evs[i].events;
                if (c->out_len > c->out_off && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) &&
                    on_writable(srv, c))
                    continue;
                if ((c->blocked & W_READ || !c->blocked) && (e & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                    on_readable(srv, c);
            }
        }
    }
    return 0;
}

void uniws__echo_stop(uniws__echo_server *srv)
{
    uint64_t one = 1;
    __atomic_store_n(&srv->stop, 1, __ATOMIC_RELEASE);
    if (write(srv->evfd, &one, sizeof one) < 0)
        return;
}

void uniws__echo_free(uniws__echo_server *srv)
{
    if (!srv)
        return;
    while (srv->conns)
        conn_close(srv, srv->conns);
    if (srv->lfd >= 0)
        close(srv->lfd);
    if (srv->epfd >= 0)
        close(srv->epfd);
    if (srv->evfd >= 0)
        close(srv->evfd);
    SSL_CTX_free(srv->tls);
    free(srv->stage);
    free(srv->buf);
    free(srv);
}

static void *thread_main(void *arg)
{
    uniws__echo_run(arg);
    return NULL;
}

int uniws__echo_start_thread(const uniws__echo_opts *opts, uniws__echo_server **out)
{
    uniws__echo_server *srv;
    if (uniws__echo_new(opts, &srv))
        return -1;
    if (pthread_create(&srv->thread, NULL, thread_main, srv) != 0) {
        uniws__echo_free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void uniws__echo_stop_thread(uniws__echo_server *srv)
{
    if (!srv)
        return;
    uniws__echo_stop(srv);
    pthread_join(srv->thread, NULL);
    uniws__echo_free(srv);
}
