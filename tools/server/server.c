/*
 * server.c — the network driver of the scripted peer: one background thread
 * polls a listening socket and many non-blocking connections (optionally TLS),
 * runs a uniws__peer per connection and carries out its actions, and serves
 * static files for plain GETs.
 */
#include "tools/server/server.h"

#include "backends/loopback/peer.h"
#include "uniws/uniws.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    int fd;
    SSL *ssl;
    int phase;
    uniws__peer *peer;
    /* the write in progress: peer memory (we call the peer again only once it
     * is flushed) or `owned` for HTTP answers */
    const uint8_t *wdata;
    size_t wlen, woff;
    int wbytewise;
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
    int lfd;
    int wake[2];
    pthread_t thread;
    int thread_started;
    int port;
    SSL_CTX *tls;
    char *static_dir;
    int verbose;
    srv_conn *conns;
    struct pollfd *pfds;
    srv_conn **pconns;
    size_t pcap;
    /* the thread reached its loop (uniws__server_start waits for it) */
    pthread_mutex_t start_mu;
    pthread_cond_t start_cv;
    int running;
};

/* ---- fork safety ----------------------------------------------------------
 * The conformance runner forks a process per case while servers run on
 * threads of the parent. A fork taken while a server thread is inside an
 * allocator can leave that allocator's lock held forever in the child (GCC
 * 12's AddressSanitizer allocator has no fork handler: a case then hangs in
 * its first malloc). So a server thread holds g_busy (shared) whenever it is
 * not waiting in poll(), and fork() takes it exclusively first. */
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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vlog(const uniws__server *srv, const srv_conn *c, const char *what)
{
    if (srv->verbose)
        fprintf(stderr, "uniws-server: %s %s\n", c->addr, what);
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(srv_conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    uniws__peer_free(c->peer);
    free(c->owned);
    free(c);
}

static void conn_reset(uniws__server *srv, srv_conn *c)
{
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    c->fd = -1;
    c->phase = P_DEAD;
    vlog(srv, c, "reset");
}

static void conn_fin(uniws__server *srv, srv_conn *c)
{
    if (c->ssl)
        SSL_shutdown(c->ssl); /* close_notify, best effort on a non-blocking socket */
    shutdown(c->fd, SHUT_WR);
    uniws__peer_free(c->peer);
    c->peer = NULL;
    c->phase = P_DRAIN;
    c->deadline = now_ms() + SRV_DRAIN_MS;
    vlog(srv, c, "fin");
}

static void conn_drop(uniws__server *srv, srv_conn *c, const char *why)
{
    c->phase = P_DEAD;
    vlog(srv, c, why);
}

static void tls_errors_clear(void)
{
    ERR_clear_error();
}

/* Reads what is available into the peer. Returns 0, or -1 when the connection
 * broke. */
static int conn_read(srv_conn *c)
{
    uint8_t buf[SRV_READ_CHUNK];
    size_t total = 0;
    while (!c->rd_eof && total < SRV_READ_BUDGET) {
        ssize_t n;
        if (c->ssl) {
            tls_errors_clear();
            int r = SSL_read(c->ssl, buf, sizeof buf);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ)
                    return 0;
                if (e == SSL_ERROR_WANT_WRITE) {
                    c->tls_want_write = 1;
                    return 0;
                }
                if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
                    n = 0;
                } else {
                    return -1;
                }
            } else {
                n = r;
            }
        } else {
            n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return 0;
                if (errno == EINTR)
                    continue;
                return -1;
            }
        }
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
        if (c->ssl) {
            if (n > INT32_MAX)
                n = INT32_MAX;
            tls_errors_clear();
            int r = SSL_write(c->ssl, c->wdata + c->woff, (int)n);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE) {
                    c->tls_want_write = 1;
                    return 0;
                }
                if (e == SSL_ERROR_WANT_READ) {
                    c->tls_want_read = 1;
                    return 0;
                }
                return -1;
            }
            c->woff += (size_t)r;
        } else {
            ssize_t r = send(c->fd, c->wdata + c->woff, n, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return 0;
                if (errno == EINTR)
                    continue;
                return -1;
            }
            c->woff += (size_t)r;
        }
    }
    c->wdata = NULL;
    c->wlen = c->woff = 0;
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
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    free(full);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= SRV_MAX_FILE) {
        size_t n = (size_t)st.st_size, got = 0;
        buf = malloc(head_room + n + 1);
        while (buf && got < n) {
            ssize_t r = read(fd, buf + head_room + got, n - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (buf && got != n) {
            free(buf);
            buf = NULL;
        }
        *size = n;
    }
    close(fd);
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

/* ---- one connection's turn ----------------------------------------------- */

static void conn_service(uniws__server *srv, srv_conn *c, int64_t now)
{
    if (c->phase == P_TLS_ACCEPT) {
        tls_errors_clear();
        int r = SSL_accept(c->ssl);
        c->tls_want_write = 0;
        if (r == 1) {
            c->phase = P_PEER;
        } else {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_WRITE) {
                c->tls_want_write = 1;
            } else if (e != SSL_ERROR_WANT_READ) {
                /* The alert is written: end in order and drain, so unread
                 * client bytes do not turn the end into a reset that would
                 * lose the alert (a refused client certificate says why). */
                shutdown(c->fd, SHUT_WR);
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
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n > 0)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now < c->deadline)
                return;
            if (n < 0 && errno == EINTR)
                continue;
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
                conn_fin(srv, c);
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
            conn_fin(srv, c);
            return;
        case UNIWS__PEER_RESET:
            conn_reset(srv, c);
            return;
        case UNIWS__PEER_HTTP:
            if (conn_http(srv, c, a.path) < 0) {
                conn_reset(srv, c);
                return;
            }
            break;
        default:
            /* (not while no-read: nothing would take them, the loop would spin) */
            if (c->tls_want_write || !c->ssl || !SSL_pending(c->ssl) ||
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
        return c->tls_want_write ? POLLOUT : POLLIN;
    case P_DRAIN:
        return POLLIN;
    case P_PEER: {
        short ev = 0;
        if (c->tls_want_write || (c->wdata && !c->tls_want_read))
            ev |= POLLOUT;
        if (c->tls_want_read || (!c->wdata && !c->rd_eof && uniws__peer_reading(c->peer)))
            ev |= POLLIN;
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
        int fd = accept4(srv->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: try on the next wakeup */
        }
        /* Every write must leave as its own segment (bytewise, same-segment). */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        srv_conn *c = calloc(1, sizeof *c);
        if (c)
            c->peer = uniws__peer_new();
        if (c && srv->tls) {
            c->ssl = SSL_new(srv->tls);
            if (c->ssl && SSL_set_fd(c->ssl, fd) != 1) {
                SSL_free(c->ssl);
                c->ssl = NULL;
            }
        }
        if (!c || !c->peer || (srv->tls && !c->ssl)) {
            if (c)
                uniws__peer_free(c->peer);
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->phase = srv->tls ? P_TLS_ACCEPT : P_PEER;
        char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(c->addr, sizeof c->addr, "%s:%s", host, port);
        c->next = srv->conns;
        srv->conns = c;
        vlog(srv, c, "connected");
    }
}

static void *srv_thread(void *arg)
{
    uniws__server *srv = arg;
    pthread_rwlock_rdlock(&g_busy);
    pthread_mutex_lock(&srv->start_mu);
    srv->running = 1;
    pthread_cond_signal(&srv->start_cv);
    pthread_mutex_unlock(&srv->start_mu);
    for (;;) {
        size_t n = 2;
        for (srv_conn *c = srv->conns; c; c = c->next)
            n++;
        if (n > srv->pcap) {
            size_t cap = n * 2;
            struct pollfd *pf = realloc(srv->pfds, cap * sizeof *pf);
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
        srv->pfds[k++] = (struct pollfd){.fd = srv->wake[0], .events = POLLIN};
        srv->pfds[k++] = (struct pollfd){.fd = srv->lfd, .events = POLLIN};
        for (srv_conn *c = srv->conns; c && k < srv->pcap; c = c->next) {
            int64_t d = conn_deadline(c);
            if (d >= 0 && (wake_at < 0 || d < wake_at))
                wake_at = d;
            srv->pconns[k] = c;
            srv->pfds[k++] = (struct pollfd){.fd = c->fd, .events = conn_events(c)};
        }
        int timeout = wake_at < 0 ? -1 : wake_at <= now ? 0 : (int)(wake_at - now);
        pthread_rwlock_unlock(&g_busy); /* idle: a fork may happen now */
        int r = poll(srv->pfds, (nfds_t)k, timeout);
        pthread_rwlock_rdlock(&g_busy);
        if (r < 0 && errno != EINTR)
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
    pthread_rwlock_unlock(&g_busy);
    return NULL;
}

/* ---- public -------------------------------------------------------------- */

static void srv_free(uniws__server *srv)
{
    while (srv->conns) {
        srv_conn *c = srv->conns;
        srv->conns = c->next;
        conn_free(c);
    }
    if (srv->lfd >= 0)
        close(srv->lfd);
    if (srv->wake[0] >= 0)
        close(srv->wake[0]);
    if (srv->wake[1] >= 0)
        close(srv->wake[1]);
    if (srv->tls)
        SSL_CTX_free(srv->tls);
    free(srv->static_dir);
    free(srv->pfds);
    free(srv->pconns);
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
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0 &&
            getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            srv->lfd = fd;
            srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                       : ((struct sockaddr_in *)&ss)->sin_port);
            rc = 0;
        } else {
            close(fd);
        }
    }
    freeaddrinfo(res);
    return rc;
}

static int srv_tls(uniws__server *srv, const char *cert, const char *key, const char *client_ca)
{
    srv->tls = SSL_CTX_new(TLS_server_method());
    if (!srv->tls)
        return UNIWS_ENOMEM;
    SSL_CTX_set_mode(srv->tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(srv->tls, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(srv->tls, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(srv->tls) != 1) {
        ERR_clear_error();
        return UNIWS_ETLS;
    }
    if (client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (!names || SSL_CTX_load_verify_locations(srv->tls, client_ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            ERR_clear_error();
            return UNIWS_ETLS;
        }
        SSL_CTX_set_client_CA_list(srv->tls, names);
        SSL_CTX_set_verify(srv->tls, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return 0;
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
    srv->lfd = srv->wake[0] = srv->wake[1] = -1;
    srv->verbose = opts->verbose;
    srv->pcap = 64;
    srv->pfds = malloc(srv->pcap * sizeof *srv->pfds);
    srv->pconns = malloc(srv->pcap * sizeof *srv->pconns);
    if (opts->static_dir)
        srv->static_dir = strdup(opts->static_dir);
    int rc = 0;
    if (!srv->pfds || !srv->pconns || (opts->static_dir && !srv->static_dir))
        rc = UNIWS_ENOMEM;
    if (!rc && opts->tls_cert)
        rc = srv_tls(srv, opts->tls_cert, opts->tls_key, opts->tls_client_ca);
    if (!rc)
        rc = srv_listen(srv, opts->host ? opts->host : "127.0.0.1", opts->port);
    if (!rc && pipe2(srv->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        rc = UNIWS_EIO;
    if (!rc) {
        /* The thread takes no asynchronous signals: SIGPIPE from OpenSSL's
         * writes stays pending there instead of killing the process, and
         * SIGINT/SIGTERM go to the application's threads. */
        sigset_t all, old;
        pthread_once(&g_fork_once, fork_install);
        pthread_mutex_init(&srv->start_mu, NULL);
        pthread_cond_init(&srv->start_cv, NULL);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&srv->thread, NULL, srv_thread, srv) != 0)
            rc = UNIWS_ENOMEM;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        /* Return only once the thread runs its loop: a fork right after a
         * thread was created could catch it setting itself up. */
        pthread_mutex_lock(&srv->start_mu);
        while (!rc && !srv->running)
            pthread_cond_wait(&srv->start_cv, &srv->start_mu);
        pthread_mutex_unlock(&srv->start_mu);
    }
    if (rc) {
        srv_free(srv);
        return rc;
    }
    srv->thread_started = 1;
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
    if (srv->thread_started) {
        char b = 1;
        while (write(srv->wake[1], &b, 1) < 0 && errno == EINTR) {
        }
        pthread_join(srv->thread, NULL);
    }
    srv_free(srv);
}

int uniws__server_run(const uniws__server_options *opts)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    /* Blocked before the thread exists, then taken synchronously by sigwait. */
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    uniws__server *srv = NULL;
    int rc = uniws__server_start(opts, &srv);
    if (rc) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return rc;
    }
    const char *host = opts->host ? opts->host : "127.0.0.1";
    int v6 = strchr(host, ':') != NULL;
    printf("listening on %s://%s%s%s:%d\n", opts->tls_cert ? "wss" : "ws", v6 ? "[" : "", host,
           v6 ? "]" : "", srv->port);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    uniws__server_stop(srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}
