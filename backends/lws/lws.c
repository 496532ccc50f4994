/*
 * lws.c — the libwebsockets backend: a byte transport under the core's own
 * RFC 6455 engine. lws connects a RAW client socket to a numeric address;
 * for wss the TLS layer in tls.c runs on top of those bytes (SNI and
 * certificate checks use the URL's host name, which tls.c gets directly).
 *
 * Why names are resolved on a thread of our own: 4.1.6 has no asynchronous
 * DNS and would block uniws_connect() in getaddrinfo(). So, like libcurl's
 * threaded resolver, a short-lived detached thread resolves the name into a
 * heap block it shares with the socket; it never touches the socket and
 * only posts the socket's job while, under the block's lock, the socket is
 * known to be alive. destroy() marks the block abandoned under that lock,
 * and whichever side lets go last frees it.
 *
 * How lws is driven without a thread or busy polling: Debian's 4.1.6 is built
 * without LWS_WITH_EXTERNAL_POLL, so the ADD/DEL/CHANGE_MODE_POLL_FD callbacks
 * never fire. It is built with libuv support, so each uniws loop owns a
 * private uv loop that lws joins as a "foreign" loop, and the uv loop is in
 * turn embedded in the uniws loop: its backend (epoll) fd is watched for
 * reading and uv_backend_timeout() arms a uniws timer; either one runs
 * uv_run(UV_RUN_NOWAIT). libuv applies watcher changes only at the start of
 * its poll phase, so whenever lws has been touched (a callback ran, or we
 * called into it from outside uv_run) one more pass is run before sleeping.
 *
 * Why lws contexts are parked instead of destroyed: with a libuv loop,
 * 4.1.6's lws_context_destroy() closes its internal eventfd twice (once
 * directly, once from a uv close callback). Between the two, another thread
 * may open a file descriptor with that number, and the second close takes
 * it away (reproduced: four threads each creating and freeing loops hit lws
 * assertions and aborts within seconds). So a freed uniws loop parks its
 * "engine" (uv loop + lws context) in a process-wide pool and the next
 * uniws loop reuses it; engines live until the process exits.
 *
 * Windows (scripts/windows-deps.sh builds lws 4.1.6 with mingw-w64): libuv's
 * loop there is an I/O completion port with no descriptor to watch
 * (uv_backend_fd() is -1), so that lws is built with LWS_WITH_EXTERNAL_POLL
 * instead and the uniws loop watches lws's sockets itself (extpoll.c); a
 * "pass" then runs lws's due timers. No TLS there (tls_none.c).
 */
#ifndef _WIN32 /* on Windows libwebsockets.h includes Winsock */
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#endif
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#if defined(LWS_WITH_LIBUV)
#include <uv.h>
#elif defined(LWS_WITH_EXTERNAL_POLL)
#include "backends/lws/extpoll.h"
#else
#error "the lws backend drives libwebsockets through libuv or external poll: build lws with one"
#endif

#include "backends/lws/tls.h"
#include "core/backend.h"
#include "core/loop.h"
#include "core/alloc.h"
#include "core/ascii.h"
#include "core/pace.h"

#ifdef _WIN32
/* Winsock's spellings (lws makes its sockets non-blocking), and SO_ERROR
 * holds Winsock codes. */
#define MSG_DONTWAIT      0
#define SHUT_WR           SD_SEND
#define SOCK_ECONNREFUSED WSAECONNREFUSED
#define SOCK_ETIMEDOUT    WSAETIMEDOUT
#define SOCK_EHOSTUNREACH WSAEHOSTUNREACH
#define SOCK_ENETUNREACH  WSAENETUNREACH
#define SOCK_ECONNRESET   WSAECONNRESET
#define SOCK_EACCES       WSAEACCES
#define SOCK_LAST_ERROR() WSAGetLastError()
#else
#define SOCK_ECONNREFUSED ECONNREFUSED
#define SOCK_ETIMEDOUT    ETIMEDOUT
#define SOCK_EHOSTUNREACH EHOSTUNREACH
#define SOCK_ENETUNREACH  ENETUNREACH
#define SOCK_ECONNRESET   ECONNRESET
#define SOCK_EACCES       EACCES
#define SOCK_LAST_ERROR() errno
#endif

#define PROTO_NAME "uniws-raw"
/* lws's per-thread read buffer (one recv() per RAW_RX at most this big: wss),
 * the loop's own ws:// read buffer (read_plain), and the largest TLS write
 * handed to lws at once. */
#define CHUNK (256 * 1024)
/* The connection ended before the upgrade answer after the server asked for
 * a client certificate that was not given (TLS 1.3 refuses it only then). */
#define NO_CLIENT_CERT                                                                             \
    "TLS: the server requires a client certificate and none was given (tls_client_cert)"

/* Plaintext per SSL_write: sixteen full (16 KiB) records, so one write
 * (up to CHUNK) carries them together. */
#define TLS_CHUNK (16 * 16384)
/* uv_run passes per wake-up before yielding back to the uniws loop. */
#define MAX_PASSES 8
/* How long a torn-down connection may wait for the peer's FIN. */
#define LINGER_SECS 2
/* lws's own connect / TLS timeouts: far out, because the core times the
 * whole opening (connect_timeout_ms, or none) itself. */
#define LWS_TIMEOUT_SECS (24 * 3600)
/* Addresses of one name tried in turn when a connect fails. */
#define MAX_ADDRS 8
/* A numeric address, with room for an IPv6 scope. */
#define ADDR_LEN 64
/* TCP connects one loop has in progress at once; later ones wait their turn
 * (see start_connect). */
#define MAX_CONNECTING 256

/* A uv loop with an lws context on it (see "parked" above). */
typedef struct engine {
    struct engine *next; /* in the pool while parked */
#if defined(LWS_WITH_LIBUV)
    uv_loop_t uv;
#endif
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct lws_loop *ll; /* the uniws loop using it, NULL while parked */
} engine;

/* What an lws wsi's user pointer points at: a socket or a lingering close. */
enum { TAG_SOCK = 0x534f434b, TAG_CLOSER = 0x4c494e47 };

typedef struct closer {
    unsigned tag; /* TAG_CLOSER */
    struct closer *prev, *next;
    struct lws *wsi;
} closer;

typedef struct lws_loop {
    engine *eng;
    uniws__io io; /* the uv loop's backend fd */
#if !defined(LWS_WITH_LIBUV)
    uniws__lwsfds *fds; /* the sockets lws watches (external poll) */
    uint64_t next_at;   /* when lws's next timer is due (loop time, ms) */
#endif
    uniws__timer timer; /* uv's next timeout, or 0 while dirty */
    int depth;          /* > 0 while lws code (so maybe an lws callback) is on the stack */
    int dirty;          /* lws was touched since the last uv_run pass */
    int direct;         /* lws_service_fd() for a socket's input is on the stack */
    closer *lingering;  /* connections closing politely after destroy() */
    uniws__pace pace;   /* TCP connects in progress (at most MAX_CONNECTING) */
    uniws__lwstls_cache *tls_cache;
    unsigned char *rxbuf;      /* ws:// input (CHUNK bytes), made on first use */
    unsigned char rbuf[16384]; /* decrypted bytes on their way to the core */
    unsigned char wbuf[CHUNK]; /* wss: encrypted bytes on their way to the socket */
} lws_loop;

struct lws_sock;

/* One name lookup, shared by the resolver thread and the socket. */
typedef struct lookup {
    pthread_mutex_t mu;
    int refs;           /* the socket's, and the thread's (then its job's), under mu */
    int abandoned;      /* the socket is gone, under mu */
    uniws_loop *loop;   /* only used while not abandoned */
    struct lws_sock *p; /* only used by the job, and only while not abandoned */
    uniws__job job;     /* posted by the thread; never cancelled, so it owns a ref */
    char *host;         /* the thread's own copy */
    int gai_err;        /* getaddrinfo's answer, 0 when naddr > 0 */
    int naddr;
    char addr[MAX_ADDRS][ADDR_LEN];
} lookup;

typedef struct lws_sock {
    unsigned tag; /* TAG_SOCK: this block is the wsi's user pointer */
    uniws_socket *s;
    lws_loop *ll;
    struct lws *wsi; /* NULL once lws is closing it or we let go of it */
    uniws__lwstls *tls;
    uint8_t *tail; /* wss: encrypted bytes the socket has not taken yet (heap) */
    size_t tail_len, tail_off;
    int in_connect; /* inside lws_client_connect_via_info: report nothing yet */
    int open;       /* the byte stream is up (TCP, and TLS for wss) */
    int ended;      /* the core was told the transport ended */
    int rx_done;    /* the core wants no more input (it may still write) */
    uniws__job job; /* reports what happened inside connect() */
    uniws__io rx;   /* the connection's fd on the uniws loop, once TCP is up */
    int up_pending;
    int fail_err;
    char fail_msg[200];
    lookup *lk; /* a name lookup in progress */
    uint16_t port;
    int naddr, next_addr;   /* addresses left to try after a failed connect */
    char (*addr)[ADDR_LEN]; /* the name's addresses (heap), NULL for a literal */
    const char *host;       /* the URL's, owned by the core for the socket's life */
    uniws__pace_item slot;  /* a connect slot, or the line to one (to wait_addr) */
    const char *wait_addr;  /* host or an entry of addr: both live as long as p */
} lws_sock;

static const uniws__backend *self(void)
{
    return &uniws__backend_lws;
}

/* ---- version and logging ------------------------------------------------- */

static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static char version_buf[32];

static void version_init(void)
{
    /* lws reports e.g. "4.1.6-" or "4.1.6-v4.1.6": keep the number. */
    const char *v = lws_get_library_version();
    size_t i = 0;
    while (v && v[i] && (isdigit((unsigned char)v[i]) || v[i] == '.') &&
           i < sizeof version_buf - 1) {
        version_buf[i] = v[i];
        i++;
    }
    version_buf[i] = '\0';
    if (i == 0)
        snprintf(version_buf, sizeof version_buf, "unknown");
}

static const char *lws_version(void)
{
    pthread_once(&version_once, version_init);
    return version_buf;
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
    /* A library must not write to stderr unless asked: UNIWS_LWS_DEBUG=1
     * turns on lws's useful levels, a larger number is taken as LLL_ bits.
     * The level is process-wide in lws. */
    const char *d = getenv("UNIWS_LWS_DEBUG");
    int level = 0;
    if (d && *d && strcmp(d, "0") != 0) {
        level = atoi(d);
        if (level <= 1)
            level = LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_CLIENT;
    }
    lws_set_log_level(level, NULL);
}

/* ---- driving lws through the embedded uv loop ---------------------------- */

static void uv_pass(lws_loop *ll)
{
    ll->dirty = 0;
    ll->depth++;
#if defined(LWS_WITH_LIBUV)
    uv_run(&ll->eng->uv, UV_RUN_NOWAIT);
#else
    /* Runs lws's due timers (timeouts, async kills) and learns when the
     * next one is due; 0 also means "none at all": look again in a second. */
    int t = lws_service_adjust_timeout(ll->eng->ctx, 30000, 0);
    ll->next_at = uniws__plat_now_ms() + (uint64_t)(t > 0 ? t : 1000);
#endif
    ll->depth--;
}

static void service(lws_loop *ll)
{
    for (int i = 0; i < MAX_PASSES; i++) {
        uv_pass(ll);
        if (!ll->dirty)
            return;
    }
    /* Still busy (e.g. a large send): loop_prepare re-arms at 0 ms so other
     * sockets and backends get their turn first. */
}

#if defined(LWS_WITH_LIBUV)
static void on_uv_fd(uniws_loop *loop, uniws__io *io, unsigned revents)
{
    (void)loop;
    (void)revents;
    service(io->data);
}
#endif

static void on_timer(uniws_loop *loop, uniws__timer *t)
{
    (void)loop;
    service(t->data);
}

static void lws_loop_prepare(uniws_loop *loop, void *state)
{
    lws_loop *ll = state;
    int t;
#if defined(LWS_WITH_LIBUV)
    uv_loop_t *uv = &ll->eng->uv;
    if (ll->dirty)
        t = 0;
    else if (!uv_loop_alive(uv))
        t = -1; /* uv_backend_timeout() says 0 for a dead loop: do not spin */
    else
        t = uv_backend_timeout(uv);
#else
    uint64_t now = uniws__plat_now_ms();
    t = ll->dirty || ll->next_at <= now ? 0 : (int)(ll->next_at - now);
#endif
    if (t < 0)
        uniws__timer_stop(loop, &ll->timer);
    else
        uniws__timer_start(loop, &ll->timer, (uint64_t)t);
}

/* ---- engines and their pool ---------------------------------------------- */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static engine *pool;

static int on_lws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len);
static void on_slot(uniws__pace *pace, uniws__pace_item *item);
#if !defined(LWS_WITH_LIBUV)
static int read_wsi(struct lws *wsi);
#endif

static const struct lws_protocols protocols[] = {
    {PROTO_NAME, on_lws_event, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Called with pool_mu held: lws_create_context() touches process globals.
 * *err says why it returned NULL (UNIWS_ENOMEM or UNIWS_EIO). */
static engine *engine_new(int *err)
{
    engine *e = uniws__calloc(1, sizeof *e);
    *err = e ? UNIWS_EIO : UNIWS_ENOMEM;
    if (!e)
        return NULL;
#if defined(LWS_WITH_LIBUV)
    if (uv_loop_init(&e->uv) != 0) {
        uniws__free(e);
        return NULL;
    }
    void *foreign[1] = {&e->uv};
#endif
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
#if defined(LWS_WITH_LIBUV)
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = foreign;
#else
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
#endif
    info.pcontext = &e->ctx;
    info.user = e;
    info.pt_serv_buf_size = CHUNK;
    /* lws's wait for each connect() to complete (20 s by default, after
     * which it reported "Unable to connect"): the core times the opening. */
    info.timeout_secs = LWS_TIMEOUT_SECS;
    e->ctx = lws_create_context(&info);
    if (e->ctx) {
        struct lws_context_creation_info vi;
        memset(&vi, 0, sizeof vi);
        vi.port = CONTEXT_PORT_NO_LISTEN;
        vi.vhost_name = "uniws";
        vi.protocols = protocols;
        vi.timeout_secs = LWS_TIMEOUT_SECS;
        vi.connect_timeout_secs = LWS_TIMEOUT_SECS;
        e->vhost = lws_create_vhost(e->ctx, &vi);
        if (e->vhost)
            return e;
        /* The double close described at the top cannot hit another thread
         * here only if nothing else opens descriptors right now; this path
         * runs once, on a failure that is not expected. */
        for (int round = 0; round < 2 && e->ctx; round++) {
            lws_context_destroy(e->ctx);
#if defined(LWS_WITH_LIBUV)
            for (int i = 0; i < 100 && uv_loop_alive(&e->uv); i++)
                uv_run(&e->uv, UV_RUN_NOWAIT);
#endif
        }
    }
#if defined(LWS_WITH_LIBUV)
    if (uv_loop_close(&e->uv) == 0)
        uniws__free(e);
        /* else libuv still points into e: leaking it is the safe choice */
#else
    uniws__free(e);
#endif
    return NULL;
}

/* Puts an engine no loop uses back into the pool. */
static void engine_park(engine *e)
{
    e->ll = NULL;
    pthread_mutex_lock(&pool_mu);
    e->next = pool;
    pool = e;
    pthread_mutex_unlock(&pool_mu);
}

static int lws_loop_init(uniws_loop *loop, void **state)
{
    pthread_once(&log_once, log_init);
    lws_loop *ll = uniws__calloc(1, sizeof *ll);
    if (!ll)
        return UNIWS_ENOMEM;
    int err = 0;
    pthread_mutex_lock(&pool_mu);
    engine *e = pool;
    if (e)
        pool = e->next;
    else
        e = engine_new(&err);
    pthread_mutex_unlock(&pool_mu);
    if (!e) {
        uniws__free(ll);
        return err;
    }
    e->next = NULL;
    e->ll = ll;
    ll->eng = e;
    uniws__timer_init(&ll->timer, on_timer, ll);
    uniws__pace_init(&ll->pace, loop, MAX_CONNECTING, on_slot);
#if defined(LWS_WITH_LIBUV)
    int rc = uniws__io_start(loop, &ll->io, uv_backend_fd(&e->uv), UNIWS__IO_READ, on_uv_fd, ll);
    if (rc) {
        engine_park(e);
        uniws__free(ll);
        return rc == UNIWS_ENOMEM ? rc : UNIWS_EIO; /* the poll layer allocates */
    }
#else
    if (uniws__lwsfds_new(&ll->fds, loop, e->ctx, &ll->depth, read_wsi) != 0) {
        engine_park(e);
        uniws__free(ll);
        return UNIWS_ENOMEM;
    }
#endif
    ll->dirty = 1; /* lws may have queued uv watchers */
    *state = ll;
    return 0;
}

static void lws_loop_free(uniws_loop *loop, void *state)
{
    lws_loop *ll = state;
    if (!ll)
        return;
    /* Every socket is gone; only polite closes may remain. Cut them, and
     * run the uv loop until lws has closed their descriptors, so a parked
     * engine holds nothing but its own. */
    while (ll->lingering) {
        closer *g = ll->lingering;
        ll->lingering = g->next;
        lws_set_wsi_user(g->wsi, NULL);
        lws_set_timeout(g->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_SYNC);
        uniws__free(g);
    }
    for (int i = 0; i < 16; i++) {
        uv_pass(ll);
        if (!ll->dirty && i > 0)
            break;
    }
    uniws__io_stop(loop, &ll->io);
#if !defined(LWS_WITH_LIBUV)
    uniws__lwsfds_free(ll->fds);
#endif
    uniws__timer_stop(loop, &ll->timer);
    uniws__pace_free(&ll->pace);
    uniws__lwstls_cache_free(ll->tls_cache);
    uniws__free(ll->rxbuf);
    engine_park(ll->eng);
    uniws__free(ll);
}

/* ---- pacing TCP connects -------------------------------------------------- */

/* Why connects are paced: lws 4.1.6 keeps the timeouts of every connecting
 * wsi (two each: its connect wait and lws_set_timeout()'s) in one list
 * sorted by due time, and inserts a new one, due later than all the others,
 * after walking the whole list. 10,000 uniws_connect() calls in a row made
 * 10^8 list steps: seconds of CPU before the loop could even service the
 * first connection (perf: 55 % of the run in lws_dll2_add_sorted). With at
 * most MAX_CONNECTING connects in progress per loop the list stays short;
 * the others wait in order and start as earlier ones complete or fail.
 * The core's connect timeout runs for a waiting socket as for any other. */

static void start_connect_now(lws_sock *p, const char *addr);

/* The socket's TCP connect is over (up, failed or abandoned). */
static void slot_release(lws_sock *p)
{
    if (p->slot.waiting || p->slot.counted)
        uniws__pace_leave(&p->ll->pace, &p->slot);
}

/* A waiting connect's turn (loop thread, outside lws). */
static void on_slot(uniws__pace *pace, uniws__pace_item *item)
{
    lws_sock *p = (lws_sock *)((char *)item - offsetof(lws_sock, slot));
    (void)pace;
    start_connect_now(p, p->wait_addr);
}

/* ---- reporting to the core ----------------------------------------------- */

/* Forgets the wsi: lws may still call back for it, with a NULL user. */
static struct lws *detach(lws_sock *p)
{
    struct lws *wsi = p->wsi;
    p->wsi = NULL;
    slot_release(p);
    if (p->rx.active)
        uniws__io_stop(uniws__sock_loop(p->s), &p->rx);
    if (wsi)
        lws_set_wsi_user(wsi, NULL);
    return wsi;
}

/* Closes a wsi we detached, from outside its own callback. */
static void kill_wsi(lws_loop *ll, struct lws *wsi)
{
    if (!wsi)
        return;
    /* Closing synchronously inside one of lws's own callbacks is unsafe;
     * an async kill happens on the next uv_run pass, which dirty asks for. */
    int sync = ll->depth == 0;
    ll->depth++;
    lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
                    sync ? LWS_TO_KILL_SYNC : LWS_TO_KILL_ASYNC);
    ll->depth--;
    ll->dirty = 1;
}

static void closer_unlink(lws_loop *ll, closer *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        ll->lingering = g->next;
    if (g->next)
        g->next->prev = g->prev;
}

/* Ends an established connection politely. Closing a socket with unread
 * input makes the kernel send RST, and an RST can make the peer discard the
 * close frame we just wrote (seen with a peer still streaming a message we
 * refused with 1009). So: drop what is queued, send FIN, and let lws read
 * and discard until the peer closes too, or LINGER_SECS pass. The wsi is
 * already detached, so none of this reaches the core. */
static void linger_close(lws_loop *ll, struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0) {
        kill_wsi(ll, wsi);
        return;
    }
    closer *g = uniws__calloc(1, sizeof *g);
    if (!g) {
        kill_wsi(ll, wsi);
        return;
    }
    g->tag = TAG_CLOSER;
    g->wsi = wsi;
    g->next = ll->lingering;
    if (g->next)
        g->next->prev = g;
    ll->lingering = g;
    lws_set_wsi_user(wsi, g);
    lws_rx_flow_control(wsi, 1); /* detach() gave its input back to libuv */
    char sink[4096];
    for (int i = 0; i < 256 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++) {
    }
    shutdown(fd, SHUT_WR);
    lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LINGER_SECS);
    ll->dirty = 1;
}

/* lws callbacks for a lingering close: discard input, forget it once lws
 * closes it. */
static int on_closer_event(lws_loop *ll, struct lws *wsi, enum lws_callback_reasons reason,
                           closer *g)
{
    if (reason == LWS_CALLBACK_RAW_CLOSE || reason == LWS_CALLBACK_WSI_DESTROY) {
        lws_set_wsi_user(wsi, NULL);
        if (ll)
            closer_unlink(ll, g);
        uniws__free(g);
    }
    return 0;
}

/* The transport ended: tell the core once. Nothing of p is used afterwards
 * by the caller except through the wsi user check. */
static void end(lws_sock *p, int err, const char *msg)
{
    if (p->ended)
        return;
    if (p->in_connect) {
        if (!p->fail_err) {
            /* msg may be p->fail_msg itself (a deferred report). */
            size_t n = msg && msg != p->fail_msg ? strlen(msg) : 0;
            if (n >= sizeof p->fail_msg)
                n = sizeof p->fail_msg - 1;
            p->fail_err = err;
            if (msg != p->fail_msg) {
                memcpy(p->fail_msg, msg ? msg : "", n);
                p->fail_msg[n] = '\0';
            }
        }
        return;
    }
    p->ended = 1;
    uniws__stream_fail(p->s, err, msg && *msg ? msg : NULL);
}

/* Asks lws for a writable callback when there is anything to send. */
static void want_output(lws_sock *p)
{
    if (!p->wsi || p->ended)
        return;
    const uint8_t *d;
    int more = p->tls && (p->tail_off < p->tail_len || uniws__lwstls_pending(p->tls) > 0);
    if (!more && p->open)
        more = uniws__stream_out_peek(p->s, &d) > 0;
    if (more) {
        lws_callback_on_writable(p->wsi);
        p->ll->dirty = 1;
    }
}

/* Input of an established connection: the uniws loop watches the socket
 * itself and hands readiness to lws_service_fd(), lws's entry point for
 * foreign event loops; lws reads and calls RAW_RX as it would from libuv.
 * Going through the uv loop instead costs two more epoll_wait() calls per
 * wake-up (the uv backend fd, then the pass lws's callback makes dirty),
 * a third of a small message's round trip. Output stays as it was: ws://
 * writes straight from the core's queue, and writable callbacks (wss, a
 * full socket) still come through libuv. */
/* ws:// input is read here, not by lws (core/stream_read.c): the rest of a
 * big frame straight into the core's message buffer (lws would read it into
 * its own buffer for the core to copy), anything else into the loop's read
 * buffer, handed to the core in slices with what the core answered written
 * after each one. lws read 256 KiB and called RAW_RX once with all of it, so
 * the answers to 64 small messages in flight left in one write after all of
 * them were handled, and client and peer took turns instead of working at
 * once. lws keeps no state about what a RAW socket reads, so reading here
 * is invisible to it; the end of the stream and errors are left to
 * lws_service_fd(), which reads again and sees them. */
static int write_plain(lws_sock *p, struct lws *wsi);

typedef struct plain_read {
    lws_sock *p;
    struct lws *wsi;
} plain_read;

/* After each slice: what the core answered leaves now, as after RAW_RX.
 * Returns nonzero once the socket is gone (the core let go of it, or the
 * write failed). */
static int plain_answer(void *ctx, int refused)
{
    plain_read *c = ctx;
    lws_sock *p = c->p;
    if (p->wsi != c->wsi)
        return 1; /* the core let go of the socket */
    if (refused)
        p->rx_done = 1;
    return write_plain(p, c->wsi) < 0 || p->wsi != c->wsi;
}

/* Returns 1 when the readiness was used here. */
static int read_plain(lws_sock *p)
{
    struct lws *wsi = p->wsi;
    lws_loop *ll = p->ll;
    uniws__fd fd = wsi ? (uniws__fd)lws_get_socket_fd(wsi) : (uniws__fd)-1;
    if (!UNIWS__FD_VALID(fd) || p->tls || !p->open || p->rx_done)
        return 0;
    if (!ll->rxbuf && !(ll->rxbuf = uniws__malloc(CHUNK)))
        return 0; /* lws reads it, into its own buffer */
    plain_read c = {p, wsi};
    uniws__stream_reader r = {
        .buf = ll->rxbuf, .cap = CHUNK, .fd = fd, .answer = plain_answer, .ctx = &c};
    int e = 0, rc = uniws__stream_read(p->s, &r, &e);
    return rc == UNIWS__READ_MORE || rc == UNIWS__READ_STOP || rc == UNIWS__READ_AGAIN;
}

#if defined(LWS_WITH_LIBUV)
static void on_sock_io(uniws_loop *loop, uniws__io *io, unsigned revents)
{
    lws_sock *p = io->data;
    lws_loop *ll = p->ll;
    struct lws_pollfd pfd;
    (void)loop;
    pfd.fd = io->fd;
    pfd.events = LWS_POLLIN;
    pfd.revents = 0;
    if (revents & UNIWS__IO_READ)
        pfd.revents |= LWS_POLLIN;
    if (revents & UNIWS__IO_ERROR)
        pfd.revents |= LWS_POLLHUP;
    if ((revents & (UNIWS__IO_READ | UNIWS__IO_ERROR)) == UNIWS__IO_READ && read_plain(p))
        return;
    /* RAW_RX from here changes no uv watcher; anything else lws does
     * (a close, a writable request) still marks the uv loop dirty. */
    ll->depth++;
    ll->direct++;
    lws_service_fd(ll->eng->ctx, &pfd); /* may end p: touch only ll now */
    ll->direct--;
    ll->depth--;
}

#else
/* External poll (extpoll.c): readability of one of lws's sockets. Returns 1
 * when it was a ws:// connection's input, read here. */
static int read_wsi(struct lws *wsi)
{
    lws_sock *p = lws_wsi_user(wsi);
    if (!p || p->tag != TAG_SOCK || p->wsi != wsi)
        return 0;
    return read_plain(p);
}
#endif

/* Moves the connection's input from the uv loop to the uniws loop. If the
 * fd cannot be watched, input simply keeps coming through libuv. */

static void direct_input(lws_sock *p)
{
#if !defined(LWS_WITH_LIBUV)
    (void)p; /* lws's own watcher is on the uniws loop already (extpoll.c) */
#else
    int fd = p->wsi ? lws_get_socket_fd(p->wsi) : -1;
    if (fd < 0 || p->rx.active)
        return;
    if (uniws__io_start(uniws__sock_loop(p->s), &p->rx, fd, UNIWS__IO_READ, on_sock_io, p) != 0)
        return;
    lws_rx_flow_control(p->wsi, 0); /* libuv stops watching it for input */
    p->ll->dirty = 1;
#endif
}

/* Brings the stream up once TCP is connected (and, for wss, starts TLS).
 * in_cb: called from the wsi's own lws callback, which then returns -1 to
 * close it; otherwise a failed wsi is killed here. Returns -1 on failure. */
static int transport_up(lws_sock *p, int in_cb)
{
    slot_release(p);
    uniws__life_phase(p->s, UNIWS__PHASE_TCP);
    direct_input(p);
    if (p->tls) {
        char msg[200] = "";
        if (uniws__lwstls_handshake(p->tls, msg, sizeof msg) < 0) {
            struct lws *wsi = detach(p);
            if (!in_cb)
                kill_wsi(p->ll, wsi);
            end(p, UNIWS_ETLS, msg);
            return -1;
        }
        want_output(p); /* the ClientHello */
        return 0;
    }
    struct lws *wsi = p->wsi;
    uniws_socket *s = p->s;
    p->open = 1;
    uniws__stream_connected(s);
    /* The core cannot call want_write from inside its own callbacks. */
    if (lws_wsi_user(wsi) == p)
        want_output(p);
    return 0;
}

static void start_connect(lws_sock *p, const char *addr);

static void on_deferred(uniws_loop *loop, uniws__job *job)
{
    (void)loop;
    lws_sock *p = job->data;
    if (p->fail_err && p->next_addr < p->naddr) {
        /* The name has more addresses: the failure is not the last word. */
        p->fail_err = 0;
        p->fail_msg[0] = '\0';
        p->up_pending = 0;
        kill_wsi(p->ll, detach(p));
        start_connect(p, p->addr[p->next_addr++]);
        return;
    }
    if (p->fail_err) {
        kill_wsi(p->ll, detach(p));
        end(p, p->fail_err, p->fail_msg);
        return;
    }
    if (p->up_pending) {
        p->up_pending = 0;
        transport_up(p, 0);
    }
}

/* ---- lws events ---------------------------------------------------------- */

static const char *errno_text(int e)
{
    switch (e) {
    case SOCK_ECONNREFUSED:
        return "connection refused";
    case SOCK_ETIMEDOUT:
        return "connection timed out";
    case SOCK_EHOSTUNREACH:
        return "host unreachable";
    case SOCK_ENETUNREACH:
        return "network unreachable";
    case SOCK_ECONNRESET:
        return "connection reset";
    case SOCK_EACCES:
    case EPERM:
        return "connection not permitted";
    default:
        return "socket error";
    }
}

static int contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (uniws__ascii_ncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* Maps a CLIENT_CONNECTION_ERROR to a uniws error. With libuv, 4.1.6 says
 * only "closed before established" for a refused connect, so the socket's
 * pending error (which libuv leaves unread) is asked first. */
static int classify(struct lws *wsi, const char *text, char *msg, size_t size)
{
    int fd = lws_get_socket_fd(wsi), soerr = 0;
    socklen_t sl = sizeof soerr;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, (void *)&soerr, &sl) == 0 && soerr) {
        snprintf(msg, size, "connect: %s (errno %d)", errno_text(soerr), soerr);
        if (soerr == SOCK_ECONNREFUSED)
            return UNIWS_EREFUSED;
        if (soerr == SOCK_ETIMEDOUT)
            return UNIWS_ETIMEOUT;
        return UNIWS_EIO;
    }
    snprintf(msg, size, "libwebsockets: %s", text && *text ? text : "connection failed");
    if (contains(text, "timed out") || contains(text, "timeout"))
        return UNIWS_ETIMEOUT;
    if (contains(text, "getaddrinfo") || contains(text, "dns") || contains(text, "resolve"))
        return UNIWS_EDNS;
    if (contains(text, "ssl") || contains(text, "tls") || contains(text, "cert"))
        return UNIWS_ETLS;
    if (contains(text, "refused") || contains(text, "unable to connect"))
        return UNIWS_EREFUSED;
    return UNIWS_EIO;
}

/* ws:// output goes to the socket straight from the core's queue: no copy
 * into lws's buffer, no size limit per write, and no writable round trip
 * through lws and libuv (each one changes the epoll set twice) unless the
 * socket is full. lws keeps no state about what a RAW socket writes, and
 * its own buffered output only comes from lws_write(), which this backend
 * does not call (wss writes its records itself too, write_tls). So this
 * runs inside lws callbacks and outside them alike. Returns 0, or -1
 * when the write failed (p is detached and the core told). */
static int write_plain(lws_sock *p, struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0) {
        want_output(p);
        return 0;
    }
    for (;;) {
        switch (uniws__stream_write_fd(p->s, fd)) {
        case UNIWS__WRITE_IDLE:
            return 0;
        case UNIWS__WRITE_FULL:
            lws_callback_on_writable(wsi);
            p->ll->dirty = 1;
            return 0;
        case UNIWS__WRITE_ERROR: {
            char msg[128];
            int e = errno;
            snprintf(msg, sizeof msg, "write failed: %s", strerror(e));
            detach(p);
            end(p, e == EPIPE || e == ECONNRESET ? UNIWS_ERESET : UNIWS_EIO, msg);
            return -1;
        }
        default:
            if (lws_wsi_user(wsi) != p)
                return 0; /* the core let go of the socket */
        }
    }
}

/* What the socket did not take of one send (write_tls), kept until it has
 * taken it all: only a full socket makes one, and an idle connection keeps
 * none. */
static int tail_keep(lws_sock *p, const uint8_t *d, size_t n)
{
    if (!(p->tail = uniws__malloc(n)))
        return -1;
    memcpy(p->tail, d, n);
    p->tail_len = n;
    p->tail_off = 0;
    return 0;
}

static void tail_drop(lws_sock *p)
{
    uniws__free(p->tail);
    p->tail = NULL;
    p->tail_len = p->tail_off = 0;
}

/* After a burst that left tls.c with big buffers: the core's idle trim
 * calls lws_trim once the connection has been quiet (core/rxbuf.c). */
static void tls_touch(lws_sock *p)
{
    if (uniws__lwstls_grown(p->tls))
        uniws__stream_trim_later(p->s);
}

/* wss:// output: encrypts the core's queue TLS_CHUNK at a time and writes
 * the records to the socket itself (up to CHUNK per send) until the queue
 * is empty or the socket is full, as much as the socket takes in one go
 * rather than one chunk per writable callback (each one a round trip
 * through lws and libuv). Not through lws_write(): lws keeps the tail of a
 * short write itself, and while it holds one it does not read the socket
 * at all (lws 4.1's raw-skt POLLIN handler: "pending truncated sends have
 * uber priority"). A server that stops reading while its own output waits
 * for us to read (back-pressure: the bench server, any echo server with a
 * bounded queue) then waited for us while we waited for it: a 16 MiB echo
 * over wss hung about once in 130 runs. lws keeps no state about what a
 * RAW socket writes (ws:// writes the same way, write_plain), so the tail
 * of a short write waits in p->tail and goes first once the socket is
 * writable, and input keeps being read meanwhile. Runs inside lws
 * callbacks of this wsi (writable, or input). Returns 0, or -1 when the
 * connection failed (p detached, the core told). */
static int write_tls(lws_sock *p, struct lws *wsi)
{
    uniws_socket *s = p->s;
    uniws__fd fd = (uniws__fd)lws_get_socket_fd(wsi);
    char msg[200] = "";
    for (;;) {
        /* First what a short send left, else the next records. */
        int from_tail = p->tail_off < p->tail_len;
        const uint8_t *d = from_tail ? p->tail + p->tail_off : p->ll->wbuf;
        size_t n = from_tail ? p->tail_len - p->tail_off : 0;
        if (!from_tail) {
            size_t avail = p->open && uniws__lwstls_pending(p->tls) < CHUNK
                               ? uniws__stream_out_peek(s, &d)
                               : 0;
            if (avail) {
                long took = uniws__lwstls_write(p->tls, d, avail > TLS_CHUNK ? TLS_CHUNK : avail,
                                                msg, sizeof msg);
                if (took < 0) {
                    detach(p);
                    end(p, UNIWS_ETLS, msg);
                    return -1;
                }
                uniws__stream_out_consume(s, (size_t)took);
                if (lws_wsi_user(wsi) != p)
                    return 0; /* the core let go of the socket */
            }
            n = uniws__lwstls_take(p->tls, p->ll->wbuf, CHUNK);
            if (n == 0)
                break;
            d = p->ll->wbuf;
        }
        long w = UNIWS__FD_VALID(fd) ? uniws__stream_send_some(fd, d, n) : 0;
        if (w < 0) {
            int e = errno;
            snprintf(msg, sizeof msg, "write failed: %s", strerror(e));
            detach(p);
            end(p, e == EPIPE || e == ECONNRESET ? UNIWS_ERESET : UNIWS_EIO, msg);
            return -1;
        }
        if (from_tail) {
            p->tail_off += (size_t)w;
            if (p->tail_off == p->tail_len)
                tail_drop(p);
        } else if ((size_t)w < n && tail_keep(p, d + w, n - (size_t)w) < 0) {
            detach(p);
            end(p, UNIWS_ENOMEM, "out of memory for TLS output");
            return -1;
        }
        if ((size_t)w < n) {
            lws_callback_on_writable(wsi); /* the socket is full */
            p->ll->dirty = 1;
            return 0;
        }
    }
    tls_touch(p);
    want_output(p);
    return 0;
}

/* wss:// input: lws hands RAW_RX the encrypted bytes, they go into TLS
 * (backends/lws/tls.c), and what TLS decrypts is read into the core as
 * ws:// input is (core/stream_read.c): the rest of a big frame straight
 * into the message buffer, else through rbuf. What the core answered is
 * written once, after all of it: a write after each slice, as on ws://,
 * made twice the sends (and TLS records) for 64 echoes of 64 bytes in
 * flight and cost a quarter of their rate. */
typedef struct tls_input {
    lws_sock *p;
    struct lws *wsi;
    char msg[200]; /* why TLS failed */
} tls_input;

static int tls_recv(void *ctx, void *buf, size_t cap, size_t *got, int *err)
{
    tls_input *c = ctx;
    *err = 0;
    long n = uniws__lwstls_read(c->p->tls, buf, cap, c->msg, sizeof c->msg);
    if (n > 0) {
        *got = (size_t)n;
        return UNIWS__RECV_OK;
    }
    if (n == 0)
        return UNIWS__RECV_AGAIN;
    return n == UNIWS_ERESET ? UNIWS__RECV_END : UNIWS__RECV_ERROR;
}

/* Returns nonzero once the core let go of the socket. */
static int tls_answer(void *ctx, int refused)
{
    tls_input *c = ctx;
    lws_sock *p = c->p;
    if (lws_wsi_user(c->wsi) != p)
        return 1;
    if (refused)
        p->rx_done = 1;
    return 0;
}

static int on_rx(lws_sock *p, struct lws *wsi, const void *in, size_t len)
{
    uniws_socket *s = p->s;
    if (!p->tls) {
        int r = uniws__stream_recv(s, in, len);
        if (lws_wsi_user(wsi) != p)
            return -1;
        if (r < 0)
            p->rx_done = 1;
        /* What the core answered (echoes, pongs) leaves now. */
        return write_plain(p, wsi);
    }

    tls_input c = {p, wsi, ""};
    if (uniws__lwstls_put(p->tls, in, len) < 0) {
        detach(p);
        end(p, UNIWS_ENOMEM, "out of memory for TLS input");
        return -1;
    }
    if (p->open)
        tls_touch(p); /* a burst of input grows the buffers too */
    if (!p->open) {
        int r = uniws__lwstls_handshake(p->tls, c.msg, sizeof c.msg);
        if (r < 0) {
            detach(p);
            end(p, UNIWS_ETLS, c.msg);
            return -1;
        }
        if (r == 0) {
            want_output(p);
            return 0;
        }
        p->open = 1;
        uniws__life_phase(s, UNIWS__PHASE_TLS);
        uniws__stream_connected(s);
        if (lws_wsi_user(wsi) != p)
            return -1;
    }
    uniws__stream_reader r = {.buf = p->ll->rbuf,
                              .cap = sizeof p->ll->rbuf,
                              .read = tls_recv,
                              .answer = tls_answer,
                              .ctx = &c};
    for (;;) {
        r.drop = p->rx_done;
        int e = 0, rc = uniws__stream_read(s, &r, &e);
        if (rc == UNIWS__READ_MORE)
            continue;
        if (rc == UNIWS__READ_STOP)
            return -1;
        if (rc == UNIWS__READ_AGAIN)
            break;
        detach(p);
        if (rc == UNIWS__READ_END && uniws_ready_state(s) == UNIWS_CONNECTING &&
            uniws__lwstls_cert_asked(p->tls))
            end(p, UNIWS_ETLS, NO_CLIENT_CERT);
        else if (rc == UNIWS__READ_END)
            end(p, UNIWS_ERESET, NULL);
        else
            end(p, UNIWS_ETLS, c.msg);
        return -1;
    }
    /* TLS may have answered something, the core may have too: it leaves
     * now, as on ws://, not after a writable round trip. */
    return write_tls(p, wsi);
}

static int on_writable(lws_sock *p, struct lws *wsi)
{
    return p->tls ? write_tls(p, wsi) : write_plain(p, wsi);
}

static int on_lws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct lws_context *cx = wsi ? lws_get_context(wsi) : NULL;
    engine *e = cx ? lws_context_user(cx) : NULL;
    lws_loop *ll = e ? e->ll : NULL;
#if !defined(LWS_WITH_LIBUV)
    int pr;
    if (uniws__lwsfds_event(ll ? ll->fds : NULL, wsi, (int)reason, in, &pr))
        return pr;
#endif
    if (ll && !(ll->direct && reason == LWS_CALLBACK_RAW_RX))
        ll->dirty = 1;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_RAW_CONNECTED:
    case LWS_CALLBACK_RAW_RX:
    case LWS_CALLBACK_RAW_WRITEABLE:
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY:
        break;
    default:
        return 0;
    }
    if (!user)
        return 0; /* a connection we already let go of */
    if (*(unsigned *)user == TAG_CLOSER)
        return on_closer_event(ll, wsi, reason, user);
    lws_sock *p = user;
    if (p->wsi && p->wsi != wsi)
        return 0;
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
        /* RAW_CLOSE or an error normally came first and let go of the wsi;
         * inside connect() a NULL return reports the failure instead. */
        if (!p->in_connect) {
            detach(p);
            end(p, UNIWS_EIO, "libwebsockets dropped the connection");
        }
        return 0;
    }
    p->wsi = wsi;
    if (p->up_pending && !p->in_connect && reason != LWS_CALLBACK_CLIENT_CONNECTION_ERROR) {
        /* Connected inside connect() and more came before the deferred
         * report ran (connect() was called from inside this uv_run): keep
         * the order connected -> data. */
        p->up_pending = 0;
        uniws__job_cancel(uniws__sock_loop(p->s), &p->job);
        if (reason == LWS_CALLBACK_RAW_CLOSE) {
            detach(p);
            end(p, UNIWS_ERESET, NULL);
            return 0;
        }
        if (transport_up(p, 1) < 0 || lws_wsi_user(wsi) != p)
            return -1;
    }

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char msg[200];
        int err = classify(wsi, in, msg, sizeof msg);
        detach(p); /* lws frees this wsi itself */
        if (!p->in_connect && p->next_addr < p->naddr) {
            p->fail_err = err; /* the job tries the next address */
            uniws__job_post(uniws__sock_loop(p->s), &p->job);
            return 0;
        }
        end(p, err, msg);
        return 0;
    }
    case LWS_CALLBACK_RAW_CONNECTED:
        if (p->in_connect) {
            p->up_pending = 1;
            return 0;
        }
        return transport_up(p, 1);
    case LWS_CALLBACK_RAW_RX:
        /* After the core stopped reading, the transport may still be needed
         * to flush a last close frame (destroy() ends it): discard input. */
        if (p->ended || p->rx_done || !in || !len)
            return 0;
        return on_rx(p, wsi, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (p->ended)
            return 0;
        return on_writable(p, wsi);
    case LWS_CALLBACK_RAW_CLOSE:
        detach(p);
        if (p->tls && !p->open)
            end(p, UNIWS_ETLS, "connection closed during the TLS handshake");
        else if (p->tls && uniws_ready_state(p->s) == UNIWS_CONNECTING &&
                 uniws__lwstls_cert_asked(p->tls))
            end(p, UNIWS_ETLS, NO_CLIENT_CERT);
        else
            end(p, UNIWS_ERESET, NULL);
        return 0;
    default:
        return 0;
    }
}

/* ---- the vtable ---------------------------------------------------------- */

static int is_ip_literal(const uniws__url *u)
{
    unsigned char buf[16];
    return u->ipv6 || inet_pton(AF_INET, u->host, buf) == 1;
}

/* lws gives no reason when it fails synchronously: find out whether it
 * was the address (numeric by now, so this does not block). */
static int sync_failure(const char *addr, int sock_err, char *msg, size_t size)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    int r = getaddrinfo(addr, NULL, &hints, &res);
    if (res)
        freeaddrinfo(res);
    if (r != 0) {
        snprintf(msg, size, "cannot resolve %s: %s", addr, gai_strerror(r));
        return UNIWS_EDNS;
    }
    /* Windows (wine) may refuse a connect() to a local port at once. */
    if (sock_err == SOCK_ECONNREFUSED) {
        snprintf(msg, size, "connect: %s", errno_text(sock_err));
        return UNIWS_EREFUSED;
    }
    snprintf(msg, size, "libwebsockets could not start the connection");
    return UNIWS_EIO;
}

/* Starts the RAW connection to one numeric address (loop thread), or puts
 * it in line when MAX_CONNECTING connects are in progress. addr lives as
 * long as p. */
static void start_connect(lws_sock *p, const char *addr)
{
    lws_loop *ll = p->ll;
    /* A wait in line counts as connecting (tcp_ms), not as the name lookup. */
    uniws__life_phase(p->s, UNIWS__PHASE_DNS); /* resolved (or a numeric host) */
    p->wait_addr = addr;
    if (uniws__pace_enter(&ll->pace, &p->slot))
        start_connect_now(p, addr);
}

static void start_connect_now(lws_sock *p, const char *addr)
{
    lws_loop *ll = p->ll;
    char msg[200] = "";
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ll->eng->ctx;
    ci.vhost = ll->eng->vhost;
    ci.address = addr;
    ci.port = p->port;
    ci.host = p->host;
    ci.origin = p->host;
    ci.path = "/";
    ci.method = "RAW";
    ci.protocol = PROTO_NAME;
    ci.local_protocol_name = PROTO_NAME;
    ci.ietf_version_or_minus_one = -1;
    ci.ssl_connection = 0; /* TLS is ours: see tls.h */
    ci.userdata = p;
    ci.pwsi = &p->wsi;

    p->in_connect = 1;
    ll->depth++;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    int sock_err = wsi ? 0 : SOCK_LAST_ERROR();
#if !defined(LWS_WITH_LIBUV)
    int drop_err = uniws__lwsfds_connect_error(ll->fds);
    if (!wsi && !sock_err)
        sock_err = drop_err;
#endif
    ll->depth--;
    p->in_connect = 0;
    ll->dirty = 1;
    if (wsi && p->wsi == wsi)
        uniws__pace_take(&ll->pace, &p->slot); /* until TCP is up or the attempt is over */
    if (!wsi) {
        p->wsi = NULL;
        if (!p->fail_err) {
            p->fail_err = sync_failure(addr, sock_err, msg, sizeof msg);
            snprintf(p->fail_msg, sizeof p->fail_msg, "%s", msg);
        }
    }
    if (p->fail_err || p->up_pending)
        uniws__job_post(uniws__sock_loop(p->s), &p->job);
}

/* ---- name lookups -------------------------------------------------------- */

static void lookup_release(lookup *lk)
{
    pthread_mutex_lock(&lk->mu);
    int last = --lk->refs == 0;
    pthread_mutex_unlock(&lk->mu);
    if (last) {
        pthread_mutex_destroy(&lk->mu);
        uniws__free(lk->host);
        uniws__free(lk);
    }
}

/* The resolver thread: writes only into lk, which it co-owns. */
static void *resolve_main(void *arg)
{
    lookup *lk = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo(lk->host, NULL, &hints, &res);
    int n = 0;
    for (struct addrinfo *ai = r == 0 ? res : NULL; ai && n < MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, lk->addr[n], sizeof lk->addr[n], NULL, 0,
                        NI_NUMERICHOST) == 0)
            n++;
    }
    if (res)
        freeaddrinfo(res);
    lk->naddr = n;
    lk->gai_err = r ? r : n ? 0 : EAI_NONAME;
    /* The loop's mutex orders these writes before the job reads them. Once
     * posted, the thread's reference is the job's: a queued job is never
     * cancelled (its run drops that reference), and uniws_loop_free() runs
     * it before the loop goes away. */
    pthread_mutex_lock(&lk->mu);
    int posted = !lk->abandoned;
    if (posted)
        uniws__job_post(lk->loop, &lk->job);
    pthread_mutex_unlock(&lk->mu);
    if (!posted)
        lookup_release(lk);
    return NULL;
}

/* The lookup finished; the socket may be gone by now. */
static void on_dns(uniws_loop *loop, uniws__job *job)
{
    (void)loop;
    lookup *lk = job->data;
    pthread_mutex_lock(&lk->mu);
    int gone = lk->abandoned;
    pthread_mutex_unlock(&lk->mu);
    if (gone) {
        lookup_release(lk);
        return;
    }
    /* destroy() sets abandoned on this thread before p is freed. */
    lws_sock *p = lk->p;
    p->lk = NULL;
    char msg[200] = "";
    int gerr = lk->gai_err;
    if (gerr)
        snprintf(msg, sizeof msg, "cannot resolve %s: %s", lk->host, gai_strerror(gerr));
    if (!gerr) {
        p->addr = uniws__malloc((size_t)lk->naddr * sizeof *p->addr);
        if (p->addr) {
            p->naddr = lk->naddr;
            memcpy(p->addr, lk->addr, (size_t)lk->naddr * sizeof *p->addr);
        }
    }
    lookup_release(lk); /* the job's */
    lookup_release(lk); /* the socket's */
    if (gerr) {
        end(p, UNIWS_EDNS, msg);
        return;
    }
    if (!p->addr) {
        end(p, UNIWS_ENOMEM, "out of memory for the name's addresses");
        return;
    }
    p->next_addr = 1;
    start_connect(p, p->addr[0]);
}

/* Starts resolving p->host on a thread of its own. */
static int start_lookup(lws_sock *p, uniws_loop *loop)
{
    lookup *lk = uniws__calloc(1, sizeof *lk);
    if (!lk)
        return UNIWS_ENOMEM;
    lk->host = uniws__strdup(p->host);
    if (!lk->host || pthread_mutex_init(&lk->mu, NULL) != 0) {
        uniws__free(lk->host);
        uniws__free(lk);
        return UNIWS_ENOMEM;
    }
    lk->refs = 2;
    lk->loop = loop;
    lk->p = p;
    p->lk = lk;
    uniws__job_init(&lk->job, on_dns, lk);

#ifndef _WIN32
    /* The thread takes no signals meant for the application. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
#endif
    pthread_attr_t attr;
    pthread_t tid;
    int r = pthread_attr_init(&attr);
    if (r == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&tid, &attr, resolve_main, lk);
        pthread_attr_destroy(&attr);
    }
#ifndef _WIN32
    pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
    if (r != 0)
        resolve_main(lk); /* no thread to be had: resolve here, as lws would */
    return 0;
}

static int lws_connect(uniws_socket *s, const uniws__connect_req *req)
{
    lws_loop *ll = uniws__loop_backend_state(uniws__sock_loop(s), self());
    lws_sock *p = uniws__sock_priv(s);
    const uniws__url *u = req->url;
    char msg[200] = "";
    if (!ll)
        return UNIWS_EINTERNAL;
    p->tag = TAG_SOCK;
    p->s = s;
    p->ll = ll;
    p->port = u->port;
    p->host = u->host;
    uniws__job_init(&p->job, on_deferred, p);

    if (u->tls) {
        int r = uniws__lwstls_new(&ll->tls_cache, req->opts, u->host, is_ip_literal(u), &p->tls,
                                  msg, sizeof msg);
        if (r == UNIWS_ENOMEM)
            return r;
        if (r) {
            /* A bad CA file or client certificate is a connection failure,
             * reported like any other (error, then close 1006). */
            p->fail_err = r;
            snprintf(p->fail_msg, sizeof p->fail_msg, "%s", msg);
            uniws__job_post(uniws__sock_loop(s), &p->job);
            return 0;
        }
    }
    if (is_ip_literal(u)) {
        start_connect(p, u->host);
        return 0;
    }
    return start_lookup(p, uniws__sock_loop(s));
}

static void lws_destroy(uniws_socket *s)
{
    lws_sock *p = uniws__sock_priv(s);
    if (!p->ll)
        return;
    uniws__job_cancel(uniws__sock_loop(s), &p->job);
    slot_release(p);
    lookup *lk = p->lk;
    if (lk) {
        /* After this neither the resolver thread nor its job touches p. */
        p->lk = NULL;
        pthread_mutex_lock(&lk->mu);
        lk->abandoned = 1;
        pthread_mutex_unlock(&lk->mu);
        lookup_release(lk);
    }
    /* Half a TLS record still waiting (p->tail) cannot end politely: the
     * peer would read a truncated record before our FIN. */
    int established = p->open && p->tail_off == p->tail_len;
    struct lws *wsi = detach(p);
    if (wsi && established)
        linger_close(p->ll, wsi);
    else
        kill_wsi(p->ll, wsi);
    uniws__lwstls_free(p->tls);
    p->tls = NULL;
    tail_drop(p);
    uniws__free(p->addr);
    p->addr = NULL;
    p->ended = 1;
}

/* trim (core/backend.h): the connection has been quiet; lets go of the
 * TLS buffers a burst grew. Nonzero while output is still queued in them. */
static int lws_trim(uniws_socket *s)
{
    lws_sock *p = uniws__sock_priv(s);
    return p->tls ? uniws__lwstls_trim(p->tls) : 0;
}

/* write_now (core/backend.h): a big frame's slices go to a ws:// socket
 * at once, as write_plain() would write them from the queue (lws keeps no
 * state about what a RAW socket writes). */
static size_t lws_write_now(uniws_socket *s, const uint8_t *d, size_t n)
{
    lws_sock *p = uniws__sock_priv(s);
    if (!p->ll || !p->wsi || !p->open || p->ended || p->tls)
        return 0;
    int fd = lws_get_socket_fd(p->wsi);
    return fd < 0 ? 0 : uniws__stream_send_fd(fd, d, n);
}

static void lws_want_write(uniws_socket *s)
{
    lws_sock *p = uniws__sock_priv(s);
    if (p->ll && p->wsi && p->open && !p->ended) {
        if (!p->tls && p->ll->depth == 0) {
            /* Straight away: no writable round trip through lws. */
            lws_loop *ll = p->ll;
            struct lws *wsi = p->wsi;
            if (write_plain(p, wsi) < 0)
                kill_wsi(ll, wsi);
            return;
        }
        lws_callback_on_writable(p->wsi);
        p->ll->dirty = 1;
    }
}

#ifdef UNIWS_HAVE_ZLIB
#define LWS_CAP_PMD UNIWS_CAP_PERMESSAGE_DEFLATE
#else
#define LWS_CAP_PMD 0u
#endif

#if defined(LWS_WITH_LIBUV)
#define LWS_DESCRIPTION "libwebsockets (raw TCP, driven through libuv; TLS via OpenSSL)"
#elif defined(UNIWS_LWS_NO_TLS)
#define LWS_DESCRIPTION "libwebsockets (raw TCP, external poll on the uniws loop; no TLS)"
#else
#define LWS_DESCRIPTION "libwebsockets (raw TCP, external poll on the uniws loop; TLS via OpenSSL)"
#endif

const uniws__backend uniws__backend_lws = {
    .name = "lws",
    .description = LWS_DESCRIPTION,
    .caps = UNIWS_CAP_WS | UNIWS__LWSTLS_CAPS | UNIWS_CAP_CUSTOM_HEADERS | UNIWS_CAP_PING |
            UNIWS_CAP_CONNECT_TIMEOUT | UNIWS_CAP_ANY_CLOSE_CODE | UNIWS_CAP_NETWORK |
            UNIWS_CAP_RAW_FRAMES | UNIWS_CAP_SEND_FRAGMENTS | UNIWS_CAP_FRAME_SIZE |
            UNIWS_CAP_RESPONSE_HEADERS | LWS_CAP_PMD,
    .auto_select = 1,
    .kind = UNIWS__STREAM,
    .does_upgrade = 0,
    .priv_size = sizeof(lws_sock),
    .version = lws_version,
    .loop_init = lws_loop_init,
    .loop_free = lws_loop_free,
    .loop_prepare = lws_loop_prepare,
    .connect = lws_connect,
    .destroy = lws_destroy,
    .want_write = lws_want_write,
    .write_now = lws_write_now,
    .trim = lws_trim,
};
