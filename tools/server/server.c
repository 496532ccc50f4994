/*
 * server.c — the network driver of the scripted peer: one background thread
 * polls a listening socket and many non-blocking connections (optionally TLS),
 * runs a uniws__peer per connection and carries out its actions, and serves
 * static files for plain GETs. The OS part is srv_os.h (POSIX and Windows),
 * the TLS part srv_tls.h (OpenSSL, or none), so this file is the same on
 * every platform.
 */
#include "tools/server/server.h"

#include "backends/loopback/peer.h"
#include "tools/server/srv_os.h"
#include "tools/server/srv_tls.h"
#include "uniws/uniws.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV_READ_CHUNK 65536
/* After our FIN we keep reading (and discarding) for a while: closing a socket
 * with unread input makes the kernel send RST, which would turn a clean close
 * into a reset on the client's side. */
#define SRV_DRAIN_MS    2000
#define SRV_MAX_FILE    (256u << 20)
#define SRV_READ_BUDGET (1u << 20) /* bytes read per wakeup before others get a turn */

enum srv_phase { P_TLS_ACCEPT, P_PEER, P_DRAIN, P_DEAD };

typedef struct srv_conn {
    struct srv_conn *next;
    srv_sock fd;
    srv_tls *ssl;
    int phase;
    uniws__peer *peer;
    /* the write in progress: peer memory (we call the peer again only once it
     * is flushed) or `owned` for HTTP answers */
    const uint8_t *wdata;
    size_t wlen, woff;
    int wbytewise;
    int wraw; /* TLS: the write goes to TCP as it is (tls-garble, tls-plain) */
    uint8_t *owned;
    int fin_after_write;
    int sleeping;
    int64_t deadline; /* sleep end (P_PEER) or give-up time (P_DRAIN) */
    int rd_eof;
    int tls_want_write; /* TLS: the blocked operation needs the socket writable */
    int tls_want_read;  /* TLS: SSL_write needs input first */
    char addr[64];
} srv_conn;

struct uniws__server {
    srv_sock lfd;
    srv_wake wake;
    int wake_open;
    int os_ready; /* srv_os_init succeeded */
    srv_thread *thread;
    int port;
    srv_tls_ctx *tls;
    char *static_dir;
    int verbose;
    srv_conn *conns;
    srv_pollfd *pfds;
    srv_conn **pconns;
    size_t pcap;
};

static int64_t now_ms(void)
{
    return srv_os_now_ms();
}

static void vlog(const uniws__server *srv, const srv_conn *c, const char *what)
{
    if (srv->verbose)
        fprintf(stderr, "uniws-server: %s %s\n", c->addr, what);
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(srv_conn *c)
{
    srv_tls_free(c->ssl);
    if (c->fd != SRV_SOCK_BAD)
        srv_os_close(c->fd);
    uniws__peer_free(c->peer);
    free(c->owned);
    free(c);
}

static void conn_reset(uniws__server *srv, srv_conn *c)
{
    srv_os_reset(c->fd);
    c->fd = SRV_SOCK_BAD;
    c->phase = P_DEAD;
    vlog(srv, c, "reset");
}

/* notify: send TLS's close_notify before the FIN (without it the client
 * sees a truncated TLS stream: tls-truncate). */
static void conn_fin(uniws__server *srv, srv_conn *c, int notify)
{
    if (c->ssl && notify)
        srv_tls_shutdown(c->ssl);
    srv_os_shutdown_wr(c->fd);
    uniws__peer_free(c->peer);
    c->peer = NULL;
    c->phase = P_DRAIN;
    c->deadline = now_ms() + SRV_DRAIN_MS;
    vlog(srv, c, c->ssl && !notify ? "fin without close_notify" : "fin");
}

static void conn_drop(uniws__server *srv, srv_conn *c, const char *why)
{
    c->phase = P_DEAD;
    vlog(srv, c, why);
}

/* Reads what is available into the peer. Returns 0, or -1 when the connection
 * broke. */
static int conn_read(srv_conn *c)
{
    uint8_t buf[SRV_READ_CHUNK];
    size_t total = 0;
    while (!c->rd_eof && total < SRV_READ_BUDGET) {
        long n;
        if (c->ssl) {
            n = srv_tls_read(c->ssl, buf, sizeof buf);
            if (n == SRV_TLS_WANT_READ)
                return 0;
            if (n == SRV_TLS_WANT_WRITE) {
                c->tls_want_write = 1;
                return 0;
            }
        } else {
            n = srv_os_recv(c->fd, buf, sizeof buf);
            if (n == SRV_IO_AGAIN)
                return 0;
        }
        if (n < 0)
            return -1;
        if (n == 0) {
            c->rd_eof = 1;
            uniws__peer_eof(c->peer);
            return 0;
        }
        if (uniws__peer_feed(c->peer, buf, (size_t)n) < 0)
            return -1;
        total += (size_t)n;
    }
    return 0;
}

/* Writes the pending data. Returns 1 when all is written, 0 when the socket
 * is full, -1 on error. */
static int conn_flush(srv_conn *c)
{
    while (c->woff < c->wlen) {
        size_t n = c->wbytewise ? 1 : c->wlen - c->woff;
        long r;
        if (c->ssl && !c->wraw) {
            r = srv_tls_write(c->ssl, c->wdata + c->woff, n);
            if (r == SRV_TLS_WANT_WRITE) {
                c->tls_want_write = 1;
                return 0;
            }
            if (r == SRV_TLS_WANT_READ) {
                c->tls_want_read = 1;
                return 0;
            }
        } else {
            r = srv_os_send(c->fd, c->wdata + c->woff, n);
            if (r == SRV_IO_AGAIN)
                return 0;
        }
        if (r < 0)
            return -1;
        c->woff += (size_t)r;
    }
    c->wdata = NULL;
    c->wlen = c->woff = 0;
    c->wraw = 0;
    free(c->owned);
    c->owned = NULL;
    return 1;
}

/* ---- static files -------------------------------------------------------- */

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".wasm", "application/wasm"},
        {".css", "text/css; charset=utf-8"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Reads static_dir + path, or returns NULL (then the answer is 404). */
static uint8_t *read_static(const uniws__server *srv, const char *path, size_t head_room,
                            size_t *size, const char **type)
{
    if (!srv->static_dir || path[0] != '/' || strstr(path, ".."))
        return NULL;
    size_t pl = strlen(path), dl = strlen(srv->static_dir);
    int index = path[pl - 1] == '/';
    char *full = malloc(dl + pl + sizeof "index.html");
    if (!full)
        return NULL;
    snprintf(full, dl + pl + sizeof "index.html", "%s%s%s", srv->static_dir, path,
             index ? "index.html" : "");
    *type = content_type(index ? "index.html" : path);
    uint64_t fsize = 0;
    FILE *f = NULL;
    if (srv_os_file_size(full, &fsize) == 0 && fsize <= SRV_MAX_FILE)
        f = fopen(full, "rb");
    free(full);
    if (!f)
        return NULL;
    size_t n = (size_t)fsize;
    uint8_t *buf = malloc(head_room + n + 1);
    /* one byte more than the size: a file that grew meanwhile is refused */
    if (buf && fread(buf + head_room, 1, n + 1, f) != n) {
        free(buf);
        buf = NULL;
    }
    *size = n;
    fclose(f);
    return buf;
}

/* Queues the whole HTTP answer for a plain GET; the connection closes after. */
static int conn_http(uniws__server *srv, srv_conn *c, const char *path)
{
    enum { HEAD_MAX = 512 };
    char head[HEAD_MAX];
    size_t size = 0;
    const char *type = NULL;
    uint8_t *file = read_static(srv, path, HEAD_MAX, &size, &type);
    int hl, found = file != NULL;
    if (found) {
        hl = uniws__peer_http_head(head, sizeof head, 200, type, size);
    } else {
        static const char body[] = "not found\n";
        size = sizeof body - 1;
        file = malloc(HEAD_MAX + size);
        if (!file)
            return -1;
        memcpy(file + HEAD_MAX, body, size);
        hl = uniws__peer_http_head(head, sizeof head, 404, "text/plain; charset=utf-8", size);
    }
    if (hl < 0) {
        free(file);
        return -1;
    }
    /* the head goes right in front of the body, in the room left for it */
    memcpy(file + HEAD_MAX - hl, head, (size_t)hl);
    c->owned = file;
    c->wdata = file + HEAD_MAX - hl;
    c->wlen = (size_t)hl + size;
    c->woff = 0;
    c->wbytewise = 0;
    c->fin_after_write = 1;
    if (srv->verbose)
        fprintf(stderr, "uniws-server: %s GET %s -> %d\n", c->addr, path, found ? 200 : 404);
    return 0;
}

/* ---- TLS broken mid-stream ---------------------------------------------- */

/* Queues the bytes of a TLS action for the raw socket, under the session:
 * the frame encrypted and corrupted (tls-garble) or as it is (tls-plain).
 * Returns 0, or -1 when the record could not be made. */
static int conn_tls_break(uniws__server *srv, srv_conn *c, const uniws__peer_action *a)
{
    if (!c->ssl)
        return -1; /* the peer refuses these scripts without uniws__peer_set_tls */
    if (a->kind == UNIWS__PEER_TLS_GARBLE) {
        size_t n = 0;
        c->owned = srv_tls_garble(c->ssl, a->data, a->len, &n);
        if (!c->owned)
            return -1;
        c->wdata = c->owned;
        c->wlen = n;
    } else {
        c->wdata = a->data; /* the peer's, valid until it is asked again */
        c->wlen = a->len;
    }
    c->woff = 0;
    c->wbytewise = 0;
    c->wraw = 1;
    vlog(srv, c, a->kind == UNIWS__PEER_TLS_GARBLE ? "tls-garble" : "tls-plain");
    return 0;
}

/* ---- one connection's turn ----------------------------------------------- */

static void conn_service(uniws__server *srv, srv_conn *c, int64_t now)
{
    if (c->phase == P_TLS_ACCEPT) {
        int r = srv_tls_accept(c->ssl);
        c->tls_want_write = 0;
        if (r == 1) {
            c->phase = P_PEER;
        } else {
            if (r == SRV_TLS_WANT_WRITE) {
                c->tls_want_write = 1;
            } else if (r != SRV_TLS_WANT_READ) {
                /* The alert is written: end in order and drain, so unread
                 * client bytes do not turn the end into a reset that would
                 * lose the alert (a refused client certificate says why). */
                srv_os_shutdown_wr(c->fd);
                c->phase = P_DRAIN;
                c->deadline = now_ms() + SRV_DRAIN_MS;
                vlog(srv, c, "TLS handshake failed");
            }
            return;
        }
    }
    if (c->phase == P_DRAIN) {
        uint8_t buf[4096];
        for (;;) {
            long n = srv_os_recv(c->fd, buf, sizeof buf);
            if (n > 0)
                continue;
            if (n == SRV_IO_AGAIN && now < c->deadline)
                return;
            conn_drop(srv, c, "closed");
            return;
        }
    }
    if (c->phase != P_PEER)
        return;

    c->tls_want_write = 0;
    c->tls_want_read = 0;
    for (;;) {
        if (c->wdata) {
            int r = conn_flush(c);
            if (r < 0) {
                conn_drop(srv, c, "write failed");
                return;
            }
            if (r == 0)
                return;
            if (c->fin_after_write) {
                conn_fin(srv, c, 1);
                return;
            }
        }
        if (uniws__peer_reading(c->peer) && conn_read(c) < 0) {
            conn_drop(srv, c, "read failed");
            return;
        }
        if (c->sleeping) {
            if (now_ms() < c->deadline)
                return;
            c->sleeping = 0;
        }
        uniws__peer_action a;
        uniws__peer_next(c->peer, &a);
        switch (a.kind) {
        case UNIWS__PEER_WRITE:
            c->wdata = a.data;
            c->wlen = a.len;
            c->woff = 0;
            c->wbytewise = a.bytewise;
            break;
        case UNIWS__PEER_SLEEP:
            c->sleeping = 1;
            c->deadline = now_ms() + a.ms;
            break;
        case UNIWS__PEER_FIN:
        case UNIWS__PEER_TLS_TRUNCATE:
            conn_fin(srv, c, a.kind == UNIWS__PEER_FIN);
            return;
        case UNIWS__PEER_RESET:
            conn_reset(srv, c);
            return;
        case UNIWS__PEER_TLS_GARBLE:
        case UNIWS__PEER_TLS_PLAIN:
            if (conn_tls_break(srv, c, &a) < 0) {
                conn_reset(srv, c);
                return;
            }
            break;
        case UNIWS__PEER_HTTP:
            if (conn_http(srv, c, a.path) < 0) {
                conn_reset(srv, c);
                return;
            }
            break;
        default:
            /* (not while no-read: nothing would take them, the loop would spin) */
            if (c->tls_want_write || !c->ssl || !srv_tls_pending(c->ssl) ||
                !uniws__peer_reading(c->peer))
                return;
            break; /* TLS holds decrypted bytes the read budget left behind */
        }
    }
}

static short conn_events(const srv_conn *c)
{
    switch (c->phase) {
    case P_TLS_ACCEPT:
        return c->tls_want_write ? SRV_POLLOUT : SRV_POLLIN;
    case P_DRAIN:
        return SRV_POLLIN;
    case P_PEER: {
        short ev = 0;
        if (c->tls_want_write || (c->wdata && !c->tls_want_read))
            ev |= SRV_POLLOUT;
        if (c->tls_want_read || (!c->wdata && !c->rd_eof && uniws__peer_reading(c->peer)))
            ev |= SRV_POLLIN;
        return ev;
    }
    default:
        return 0;
    }
}

static int64_t conn_deadline(const srv_conn *c)
{
    if (c->phase == P_DRAIN || (c->phase == P_PEER && c->sleeping && !c->wdata))
        return c->deadline;
    return -1;
}

/* ---- the thread ---------------------------------------------------------- */

static void srv_accept(uniws__server *srv)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        srv_sock fd = srv_os_accept(srv->lfd, &ss, &sl);
        if (fd == SRV_SOCK_BAD)
            return; /* none waiting, or out of descriptors: try on the next wakeup */
        srv_conn *c = calloc(1, sizeof *c);
        if (c)
            c->peer = uniws__peer_new();
        if (c && srv->tls)
            c->ssl = srv_tls_new(srv->tls, fd);
        if (c && c->peer && c->ssl)
            uniws__peer_set_tls(c->peer); /* the tls-* commands */
        if (!c || !c->peer || (srv->tls && !c->ssl)) {
            if (c)
                uniws__peer_free(c->peer);
            free(c);
            srv_os_close(fd);
            continue;
        }
        c->fd = fd;
        c->phase = srv->tls ? P_TLS_ACCEPT : P_PEER;
        char host[48] = "?", port[8] = "?"; /* numeric: INET6_ADDRSTRLEN is 46 */
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(c->addr, sizeof c->addr, "%s:%s", host, port);
        c->next = srv->conns;
        srv->conns = c;
        vlog(srv, c, "connected");
    }
}

static void srv_main(void *arg)
{
    uniws__server *srv = arg;
    for (;;) {
        size_t n = 2;
        for (srv_conn *c = srv->conns; c; c = c->next)
            n++;
        if (n > srv->pcap) {
            size_t cap = n * 2;
            srv_pollfd *pf = realloc(srv->pfds, cap * sizeof *pf);
            if (pf)
                srv->pfds = pf;
            srv_conn **pc = realloc(srv->pconns, cap * sizeof *pc);
            if (pc)
                srv->pconns = pc;
            if (pf && pc)
                srv->pcap = cap;
        }
        int64_t now = now_ms(), wake_at = -1;
        size_t k = 0;
        srv->pfds[k++] = (srv_pollfd){.fd = srv->wake.rd, .events = SRV_POLLIN};
        srv->pfds[k++] = (srv_pollfd){.fd = srv->lfd, .events = SRV_POLLIN};
        for (srv_conn *c = srv->conns; c && k < srv->pcap; c = c->next) {
            int64_t d = conn_deadline(c);
            if (d >= 0 && (wake_at < 0 || d < wake_at))
                wake_at = d;
            srv->pconns[k] = c;
            srv->pfds[k++] = (srv_pollfd){.fd = c->fd, .events = conn_events(c)};
        }
        int timeout = wake_at < 0 ? -1 : wake_at <= now ? 0 : (int)(wake_at - now);
        srv_os_idle_begin(); /* a fork may happen now */
        int r = srv_os_poll(srv->pfds, k, timeout);
        srv_os_idle_end();
        if (r < 0)
            break;
        if (r > 0 && srv->pfds[0].revents)
            break; /* uniws__server_stop */
        if (r > 0 && srv->pfds[1].revents)
            srv_accept(srv);
        now = now_ms();
        for (size_t i = 2; i < k; i++) {
            srv_conn *c = srv->pconns[i];
            int64_t d = conn_deadline(c);
            if ((r > 0 && srv->pfds[i].revents) || (d >= 0 && d <= now))
                conn_service(srv, c, now);
        }
        for (srv_conn **pp = &srv->conns; *pp;) {
            srv_conn *c = *pp;
            if (c->phase == P_DEAD) {
                *pp = c->next;
                conn_free(c);
            } else {
                pp = &c->next;
            }
        }
    }
}

/* ---- public -------------------------------------------------------------- */

static void srv_free(uniws__server *srv)
{
    while (srv->conns) {
        srv_conn *c = srv->conns;
        srv->conns = c->next;
        conn_free(c);
    }
    if (srv->lfd != SRV_SOCK_BAD)
        srv_os_close(srv->lfd);
    if (srv->wake_open)
        srv_os_wake_close(&srv->wake);
    srv_tls_ctx_free(srv->tls);
    free(srv->static_dir);
    free(srv->pfds);
    free(srv->pconns);
    if (srv->os_ready)
        srv_os_cleanup();
    free(srv);
}

static int srv_listen(uniws__server *srv, const char *host, int port)
{
    struct addrinfo hints, *res = NULL;
    char ps[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0)
        return UNIWS_EIO;
    int rc = UNIWS_EIO;
    for (struct addrinfo *ai = res; ai && rc != 0; ai = ai->ai_next) {
        srv_sock fd = srv_os_socket(ai->ai_family);
        if (fd == SRV_SOCK_BAD)
            continue;
        srv_os_reuse_addr(fd);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (bind(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) == 0 && listen(fd, 128) == 0 &&
            getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            srv->lfd = fd;
            srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                       : ((struct sockaddr_in *)&ss)->sin_port);
            rc = 0;
        } else {
            srv_os_close(fd);
        }
    }
    freeaddrinfo(res);
    return rc;
}

/* A copy of s (strdup is POSIX, not ISO C). */
static char *copy_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int uniws__server_tls_available(void)
{
    return srv_tls_available();
}

int uniws__server_start(const uniws__server_options *opts, uniws__server **out)
{
    if (!opts || !out || opts->port < 0 || opts->port > 65535 ||
        (!opts->tls_cert != !opts->tls_key))
        return UNIWS_EINVAL;
    *out = NULL;
    uniws__server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return UNIWS_ENOMEM;
    srv->lfd = SRV_SOCK_BAD;
    srv->verbose = opts->verbose;
    srv->pcap = 64;
    srv->pfds = malloc(srv->pcap * sizeof *srv->pfds);
    srv->pconns = malloc(srv->pcap * sizeof *srv->pconns);
    if (opts->static_dir)
        srv->static_dir = copy_str(opts->static_dir);
    int rc = 0;
    if (!srv->pfds || !srv->pconns || (opts->static_dir && !srv->static_dir))
        rc = UNIWS_ENOMEM;
    if (!rc && opts->tls_cert)
        rc = srv_tls_ctx_new(opts->tls_cert, opts->tls_key, opts->tls_client_ca, &srv->tls);
    if (!rc && srv_os_init() != 0)
        rc = UNIWS_EIO;
    srv->os_ready = !rc;
    if (!rc)
        rc = srv_listen(srv, opts->host ? opts->host : "127.0.0.1", opts->port);
    if (!rc && srv_os_wake_open(&srv->wake) != 0)
        rc = UNIWS_EIO;
    srv->wake_open = !rc;
    if (!rc && srv_os_thread_start(&srv->thread, srv_main, srv) != 0)
        rc = UNIWS_ENOMEM;
    if (rc) {
        srv_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

int uniws__server_port(const uniws__server *srv)
{
    return srv ? srv->port : -1;
}

void uniws__server_stop(uniws__server *srv)
{
    if (!srv)
        return;
    if (srv->thread) {
        srv_os_wake_signal(&srv->wake);
        srv_os_thread_join(srv->thread);
    }
    srv_free(srv);
}

int uniws__server_run(const uniws__server_options *opts)
{
    srv_stop *stop = NULL;
    if (srv_os_stop_begin(&stop) != 0)
        return UNIWS_ENOMEM;
    uniws__server *srv = NULL;
    int rc = uniws__server_start(opts, &srv);
    if (rc) {
        srv_os_stop_end(stop);
        return rc;
    }
    const char *host = opts->host ? opts->host : "127.0.0.1";
    int v6 = strchr(host, ':') != NULL;
    printf("listening on %s://%s%s%s:%d\n", opts->tls_cert ? "wss" : "ws", v6 ? "[" : "", host,
           v6 ? "]" : "", srv->port);
    fflush(stdout);
    srv_os_stop_wait(stop);
    uniws__server_stop(srv);
    srv_os_stop_end(stop);
    return 0;
}
