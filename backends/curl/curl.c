/*
 * curl.c — the libcurl (>= 8.14.1) STREAM backend: curl does DNS, TCP, TLS,
 * HTTP/HTTPS/SOCKS proxies and the HTTP/1.1 upgrade; the core speaks RFC 6455
 * over the bytes (core/wsproto.c). All curl sockets of one uniws loop share
 * ONE curl multi handle driven by CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION
 * through the loop's fd watchers and a timer: no thread per socket, no polling.
 *
 * Why this shape (read in curl 8.14.1's lib/ws.c and checked by experiment):
 *  - CONNECT_ONLY=2 cannot give raw frames: curl_ws_recv() always decodes
 *    (even with CURLWS_RAW_MODE; it rejects RSV bits, so permessage-deflate
 *    breaks), and bytes that arrive in the same read as the 101 answer land
 *    in curl's decoder where curl_easy_recv() never sees them (curl issue
 *    #22107, still in 8.20.0). Frames sent right after the 101 get lost.
 *  - So the upgrade runs as a normal transfer in the multi handle that never
 *    ends: with CURLWS_RAW_MODE curl hands every byte after the 101, those of
 *    the same read included, to our write callback untouched -> the core.
 *  - Sending on plain TCP (no TLS in curl's connection: ws://, direct or
 *    through an HTTP CONNECT / SOCKS tunnel we configured): after the 101
 *    curl never writes to the socket again, so the core's own frames go to
 *    it straight from the queue (take_output(), direct_flush()). Everything
 *    below about curl_ws_send() is the path through TLS.
 *  - Sending raw bytes in that mode is impossible outside a curl callback
 *    (ws_send_raw() needs CONNECT_ONLY there) and blocking inside one. But
 *    curl_ws_send() in framing mode is non-blocking outside callbacks and
 *    reports partial sends, and CURLWS_RAW_MODE is read on every call. We
 *    therefore parse the core's output frames and re-send each one through
 *    curl_ws_send() with the same FIN/opcode/payload, switching
 *    CURLOPT_WS_OPTIONS to framing mode just for that call, straight from
 *    the core's queue. Curl masks with its own key and cannot set RSV bits,
 *    so the backend says `reframes_output`: the core queues its frames
 *    unmasked and never compresses them (RFC 7692 allows plain messages on a
 *    permessage-deflate connection; the server's compressed ones still go
 *    through the core's inflater).
 *  - Our Sec-WebSocket-Key/-Version headers replace curl's (Curl_ws_request()
 *    only adds the ones the application did not supply); curl 8.14.1 checks
 *    nothing in the 101 answer, so the header callback hands the answer to the
 *    core via curl_easy_header(). A non-101 final answer fails the transfer
 *    with CURLE_HTTP_RETURNED_ERROR; CURLINFO_RESPONSE_CODE still holds it.
 *
 * Proxies: an explicit uniws_options.proxy goes to CURLOPT_PROXY and wins over
 * the environment (CURLOPT_NOPROXY ""). Without it the environment decides,
 * in this order (first set one wins):
 *   ws://   ws_proxy, WS_PROXY, http_proxy, all_proxy, ALL_PROXY
 *   wss://  wss_proxy, WSS_PROXY, https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY
 * and no_proxy (else NO_PROXY) lists hosts reached directly. HTTP_PROXY is
 * never read (curl's "httpoxy" rule for CGI environments). curl 8.14.1 itself
 * builds the variable name from its upper-case scheme ("WS" + "_proxy"), so
 * it never sees lower-case ws_proxy / wss_proxy; we read those here. HTTP
 * proxies are always used as a CONNECT tunnel: an upgrade does not survive a
 * forwarding proxy.
 */
#include <curl/curl.h> /* on Windows it includes Winsock (curl_socket_t is a SOCKET) */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <netdb.h>
#include <sys/socket.h>
#endif
#include "core/backend.h"
#include "core/frame.h"
#include "core/loop.h"
#include "core/alloc.h"
#include "core/pace.h"
#include "tls_reason.h"
#ifdef UNIWS_CURL_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

/* No socket: -1 on POSIX, INVALID_SOCKET on Windows. */
#define NO_FD ((uniws__fd)-1)

/* Bytes handed to one curl_ws_send() call: curl masks byte by byte, so a
 * bounded window keeps one big message from stalling the other sockets (for
 * as long as curl takes to mask and encrypt a window, a few ms at most).
 * Every call ends with curl flushing what it encoded, so through TLS each
 * window ends in a part-filled record: 256 KiB windows cost 3 more records
 * (and sends) per MiB than one call per message, and about 4 % of the
 * throughput of 1 MiB x 4 over wss (up to 9 %); 1 MiB windows cost
 * neither. */
#define TX_WINDOW (1024u * 1024u)
/* One read from a direct connection (see direct_read); the buffer belongs to
 * the multi handle, like curl's own (CURLOPT_BUFFERSIZE). The core gets it
 * in slices, each answered by one write (core/stream_read.c). */
#define RX_BUF (256u * 1024u)
/* Openings (TCP, TLS, proxy tunnel and the HTTP upgrade) one multi handle
 * has in progress at once; later ones wait their turn (see "pacing
 * openings"). */
#define MAX_CONNECTING 256

typedef struct cws_multi cws_multi;
typedef struct cws_sock cws_sock;

/* One descriptor curl asked us to watch (made in the socket callback). */
typedef struct cws_fd {
    uniws__io io;
    cws_multi *m;
    cws_sock *owner; /* the socket whose connection this is, or NULL */
    unsigned curl;   /* UNIWS__IO_* bits curl wants */
    unsigned ours;   /* UNIWS__IO_WRITE while the socket has output waiting */
} cws_fd;

struct cws_multi {
    uniws_loop *loop;
    CURLM *multi;
    uniws__timer timer;
    int in_curl;      /* inside curl_multi_socket_action(): no curl API calls */
    unsigned pass;    /* counts curl_multi_socket_action() calls */
    CURL **graveyard; /* easy handles destroyed while in_curl */
    size_t ngrave, capgrave;
    unsigned char *rxbuf; /* RX_BUF bytes for direct reads, made on first use */
    cws_sock *later;      /* sockets whose input the core kept during this pass */
    uniws__pace pace;     /* openings in progress (at most MAX_CONNECTING) */
};

/* The frame being re-sent through curl_ws_send(). */
typedef struct cws_tx {
    int active;
    uniws__frame_hdr h;
    size_t hdr_pending; /* header bytes still in the core's queue */
    uint64_t sent;      /* payload bytes curl has written */
    unsigned flags;     /* CURLWS_* for this frame */
    int started;        /* the first curl_ws_send() of the frame was made */
    unsigned msg_type;  /* CURLWS_TEXT/_BINARY of an unfinished fragmented message */
} cws_tx;

struct cws_sock {
    uniws_socket *s;
    cws_multi *m;
    CURL *easy;
    struct curl_slist *headers;
    cws_fd *fd; /* curl's watcher for the connection socket */
    uniws__job job;
    int added;     /* in the multi handle */
    int upgraded;  /* a 101 arrived: bytes after it are frames */
    int rx_closed; /* the core wants no more bytes */
    int finished;  /* the transport ended and the core was told */
    int want_out;
    int proxied;         /* an explicit proxy was configured */
    int plain;           /* no TLS between us and the server: ws://, no https:// proxy we know of */
    int set_proxy;       /* we gave curl the proxy (else curl may have read one itself) */
    int direct;          /* output goes straight to the socket (see take_output) */
    void *ssl;           /* curl's OpenSSL handle, input read through it (tls_read), or NULL */
    int tls_out;         /* the core's frames go out through ssl as they are (tls_flush) */
    size_t tls_wlen;     /* an SSL_write() of this many bytes must be repeated, else 0 */
    int ssl_checked;     /* ssl was looked up (once the upgrade was reported) */
    uniws__fd direct_fd; /* that socket while curl has it open, else NO_FD */
    unsigned flushed_pass; /* the curl pass in which on_write last flushed */
    uniws__fd cand[4];     /* sockets curl created for this transfer (sockopt callback) */
    unsigned ncand;
    cws_tx tx;
    char errbuf[CURL_ERROR_SIZE];
    int oom; /* a watcher for its socket could not be allocated */
    /* The core kept input in on_write (uniws__stream_recv_deferred): in
     * m->later until the pass that read it has returned. */
    int later_queued;
    int upgrade_due; /* the 101 came: report it from later_run */
    cws_sock *later_next;
    uniws__pace_item slot; /* an opening slot, or the line to one (not yet added) */
    uint64_t wait_since;   /* the loop's clock when it joined the line */
    uint64_t wait_ms;      /* how long it waited in line (counted in tcp_ms) */
};

static cws_sock *sock_of(CURL *easy)
{
    char *p = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p) != CURLE_OK)
        return NULL;
    return (cws_sock *)p;
}

static void flush_out(cws_sock *k);
static void take_output(cws_sock *k);
static void direct_flush(cws_sock *k);
static int reads_direct(const cws_sock *k, uniws__fd fd);
static int direct_read(cws_sock *k, uniws__fd fd);
#ifdef UNIWS_CURL_OPENSSL
static int reads_tls(const cws_sock *k);
static int tls_read(cws_sock *k);
static SSL *tls_handle(cws_sock *k);
static void tls_flush(cws_sock *k);
#endif
static void process_done(cws_multi *m);
static void later_run(cws_multi *m);
static void slot_release(cws_sock *k);
static void on_slot(uniws__pace *pace, uniws__pace_item *item);
static int report_upgrade(cws_sock *k, int status);

/* k has kept input or a 101 to report once the current curl pass returns. */
static void later_queue(cws_sock *k)
{
    if (k->later_queued)
        return;
    k->later_queued = 1;
    k->later_next = k->m->later;
    k->m->later = k;
}

/* ---- the multi handle: sockets, timer, actions ---------------------------- */

static void bury_graveyard(cws_multi *m)
{
    while (m->ngrave > 0) {
        CURL *e = m->graveyard[--m->ngrave];
        curl_multi_remove_handle(m->multi, e);
        curl_easy_cleanup(e);
    }
}

static void socket_action(cws_multi *m, curl_socket_t fd, int bits)
{
    int running = 0;
    m->pass++;
    m->in_curl++;
    curl_multi_socket_action(m->multi, fd, bits, &running);
    m->in_curl--;
    if (m->in_curl == 0) {
        bury_graveyard(m);
        later_run(m); /* before process_done: input first, then the end of it */
        process_done(m);
    }
}

static void on_io(uniws_loop *loop, uniws__io *io, unsigned revents)
{
    cws_fd *f = io->data;
    cws_multi *m = f->m;
    curl_socket_t fd = io->fd;
    cws_sock *k = f->owner;
    int bits = 0;
    (void)loop;
    if (revents & UNIWS__IO_READ)
        bits |= CURL_CSELECT_IN;
    if ((revents & UNIWS__IO_WRITE) && (f->curl & UNIWS__IO_WRITE))
        bits |= CURL_CSELECT_OUT;
    if (revents & UNIWS__IO_ERROR)
        bits |= CURL_CSELECT_ERR;
    if ((revents & (UNIWS__IO_WRITE | UNIWS__IO_ERROR)) && f->ours && k)
        flush_out(k); /* never frees f: it makes no multi calls */
    /* Input of a direct connection is read here, not by curl; an error
     * or the end of the stream still goes to curl, which ends the transfer
     * as it always did. From here on f may be gone (the core may let go
     * of the socket while it takes the input). */
    if (bits == CURL_CSELECT_IN && k && reads_direct(k, (uniws__fd)fd) &&
        direct_read(k, (uniws__fd)fd))
        bits = 0;
#ifdef UNIWS_CURL_OPENSSL
    else if (bits == CURL_CSELECT_IN && k && reads_tls(k) && tls_read(k))
        bits = 0;
#endif
    if (bits)
        socket_action(m, fd, bits); /* may free f */
}

static void fd_update(cws_multi *m, cws_fd *f)
{
    unsigned ev = f->curl | f->ours;
    if (f->io.active)
        uniws__io_set(m->loop, &f->io, ev);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    cws_multi *m = userp;
    cws_fd *f = socketp;
    if (what == CURL_POLL_REMOVE) {
        /* easy may be curl's internal handle here (connection teardown). */
        cws_sock *gone = sock_of(easy);
        if (gone && gone->direct && gone->direct_fd == (uniws__fd)s)
            gone->direct_fd = NO_FD; /* curl is about to close it */
        if (f && f->owner && f->owner->direct && f->owner->direct_fd == (uniws__fd)s)
            f->owner->direct_fd = NO_FD;
        if (f) {
            uniws__io_stop(m->loop, &f->io);
            if (f->owner && f->owner->fd == f)
                f->owner->fd = NULL;
            curl_multi_assign(m->multi, s, NULL);
            uniws__free(f);
        }
        return 0;
    }
    unsigned want = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        want |= UNIWS__IO_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        want |= UNIWS__IO_WRITE;
    if (!f) {
        f = uniws__calloc(1, sizeof *f);
        if (!f) {
            /* curl only stops acting on the transfer: end it from the loop. */
            cws_sock *o = sock_of(easy);
            if (o) {
                o->oom = 1;
                uniws__job_post(m->loop, &o->job);
            }
            return -1;
        }
        f->m = m;
        f->curl = want;
        if (uniws__io_start(m->loop, &f->io, (uniws__fd)s, want, on_io, f) != 0) {
            uniws__free(f);
            return -1;
        }
        curl_multi_assign(m->multi, s, f);
    } else {
        f->curl = want;
    }
    cws_sock *k = sock_of(easy);
    if (k) {
        /* The last descriptor curl reports for a transfer is its connection
         * (resolver and happy-eyeballs sockets come and go before it). */
        if (k->fd && k->fd != f) {
            k->fd->owner = NULL;
            if (k->fd->ours) {
                k->fd->ours = 0;
                fd_update(m, k->fd);
            }
        }
        k->fd = f;
        f->owner = k;
        if (k->upgraded && k->want_out)
            f->ours = UNIWS__IO_WRITE;
    }
    fd_update(m, f);
    return 0;
}

static void on_timer(uniws_loop *loop, uniws__timer *t)
{
    (void)loop;
    socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    cws_multi *m = userp;
    (void)multi;
    if (timeout_ms < 0) {
        uniws__timer_stop(m->loop, &m->timer);
        return 0;
    }
    /* Fired from the loop, never from inside this callback. */
    return uniws__timer_start(m->loop, &m->timer, (uint64_t)timeout_ms) == 0 ? 0 : -1;
}

static int loop_init(uniws_loop *loop, void **state)
{
    /* Reference counted and thread-safe in curl >= 7.84 (CURL_VERSION_THREADSAFE). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return UNIWS_EIO;
    cws_multi *m = uniws__calloc(1, sizeof *m);
    if (!m) {
        curl_global_cleanup();
        return UNIWS_ENOMEM;
    }
    m->loop = loop;
    m->multi = curl_multi_init();
    if (!m->multi) {
        uniws__free(m);
        curl_global_cleanup();
        return UNIWS_ENOMEM;
    }
    uniws__timer_init(&m->timer, on_timer, m);
    uniws__pace_init(&m->pace, loop, MAX_CONNECTING, on_slot);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    *state = m;
    return 0;
}

static void loop_free(uniws_loop *loop, void *state)
{
    cws_multi *m = state;
    if (!m)
        return;
    bury_graveyard(m);
    uniws__timer_stop(loop, &m->timer);
    uniws__pace_free(&m->pace);
    curl_multi_cleanup(m->multi);
    uniws__free(m->graveyard);
    uniws__free(m->rxbuf);
    uniws__free(m);
    curl_global_cleanup();
}

/* ---- handing the upgrade answer to the core ------------------------------- */

typedef struct hdr_ctx {
    CURL *easy;
    char *joined[8]; /* values of repeated headers, joined with ", " */
    size_t njoined;
} hdr_ctx;

static const char *get_header(void *ctx, const char *name)
{
    hdr_ctx *c = ctx;
    struct curl_header *h = NULL;
    unsigned origin = CURLH_HEADER | CURLH_1XX;
    if (curl_easy_header(c->easy, name, 0, origin, -1, &h) != CURLHE_OK)
        return NULL;
    if (h->amount <= 1 || c->njoined == sizeof c->joined / sizeof c->joined[0])
        return h->value;
    /* A repeated header is one comma list (RFC 9110), which the core then
     * rejects for Sec-WebSocket-Accept/-Protocol/-Extensions as it should. */
    size_t amount = h->amount, size = 1;
    for (size_t i = 0; i < amount; i++)
        if (curl_easy_header(c->easy, name, i, origin, -1, &h) == CURLHE_OK)
            size += strlen(h->value) + 2;
    char *j = uniws__malloc(size);
    if (!j)
        return NULL;
    j[0] = 0;
    for (size_t i = 0; i < amount; i++) {
        if (curl_easy_header(c->easy, name, i, origin, -1, &h) != CURLHE_OK)
            continue;
        if (j[0])
            strcat(j, ", ");
        strcat(j, h->value);
    }
    c->joined[c->njoined++] = j;
    return j;
}

/* Every header line of the answer, in order, for uniws_response_header(). */
static void report_headers(cws_sock *k)
{
    const char *names[64], *values[64];
    size_t n = 0;
    struct curl_header *h = NULL;
    unsigned origin = CURLH_HEADER | CURLH_1XX; /* a 101 is a 1xx answer */
    while (n < 64 && (h = curl_easy_nextheader(k->easy, origin, -1, h)) != NULL) {
        names[n] = h->name;
        values[n] = h->value;
        n++;
    }
    uniws__stream_response_headers(k->s, n, names, values);
}

/* Phase durations from curl's cumulative times (microseconds since the
 * transfer started): name lookup, TCP (with a proxy: the tunnel too), TLS
 * (0 without), and the upgrade: request sent to the answer's first byte.
 * curl's clock starts when the handle is added: a wait in line before that
 * counts as connecting (tcp_ms), as on lws. */
static void report_timings(cws_sock *k)
{
    curl_off_t dns = -1, tcp = -1, tls = -1, pre = -1, start = -1;
    if (curl_easy_getinfo(k->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns) != CURLE_OK ||
        curl_easy_getinfo(k->easy, CURLINFO_CONNECT_TIME_T, &tcp) != CURLE_OK ||
        curl_easy_getinfo(k->easy, CURLINFO_APPCONNECT_TIME_T, &tls) != CURLE_OK ||
        curl_easy_getinfo(k->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK ||
        curl_easy_getinfo(k->easy, CURLINFO_STARTTRANSFER_TIME_T, &start) != CURLE_OK)
        return;
    int d = dns >= 0 ? (int)(dns / 1000) : -1;
    int t = tcp >= dns && dns >= 0 ? (int)((tcp - dns) / 1000 + (curl_off_t)k->wait_ms) : -1;
    int s = tls > 0 && tls >= tcp ? (int)((tls - tcp) / 1000) : tls == 0 ? 0 : -1;
    int u = start >= pre && pre > 0 ? (int)((start - pre) / 1000) : -1;
    uniws__life_timings(k->s, d, t, s, u);
}

static int report_upgrade(cws_sock *k, int status)
{
    hdr_ctx c;
    report_timings(k);
    memset(&c, 0, sizeof c);
    c.easy = k->easy;
    report_headers(k);
    int r = uniws__stream_upgraded(k->s, status, get_header, &c);
    for (size_t i = 0; i < c.njoined; i++)
        uniws__free(c.joined[i]);
    return r;
}

static size_t on_header(char *buf, size_t size, size_t n, void *userp)
{
    cws_sock *k = userp;
    size_t len = size * n;
    if (!k || k->upgraded || k->finished)
        return len;
    if (!(len == 2 && buf[0] == '\r' && buf[1] == '\n') && !(len == 1 && buf[0] == '\n'))
        return len;
    /* The end of one response head; a 101 ends the HTTP part. */
    long code = 0;
    curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 101)
        return len; /* 1xx: more heads follow; others: curl fails the transfer */
    k->upgraded = 1;
    slot_release(k);
    take_output(k);
    uniws__stream_connected(k->s);
    if (!k->direct) {
        /* Through TLS the open fires once curl has returned (later_run), so
         * that what on_open sends can go to curl_ws_send() at once; the
         * frames that came with the 101 are kept until then. */
        k->upgrade_due = 1;
        later_queue(k);
        return len;
    }
    if (report_upgrade(k, 101) != 0)
        k->rx_closed = 1;
    else if (k->want_out)
        uniws__job_post(k->m->loop, &k->job); /* sending waits until curl returns */
    return len;
}

static size_t on_write(char *buf, size_t size, size_t n, void *userp)
{
    cws_sock *k = userp;
    size_t len = size * n;
    if (!k || !k->upgraded || k->rx_closed || k->finished)
        return len;
    if (!k->direct) {
        /* Through TLS: the events of this input fire once curl has returned
         * (later_run), where what on_message sends can go to curl_ws_send()
         * at once (cws_send_now) instead of being copied into the queue. */
        int r = uniws__stream_recv_deferred(k->s, buf, len);
        if (r < 0)
            k->rx_closed = 1; /* keep the transport: the core may still flush a close */
        else if (r > 0)
            later_queue(k);
        return len;
    }
    if (uniws__stream_recv(k->s, buf, len) < 0)
        k->rx_closed = 1; /* keep the transport: the core may still flush a close */
    /* What the core answered to the first frame of a curl pass (an echo, a
     * pong, a close) leaves now, before curl's next read; curl hands over
     * one frame per call, so what later frames of the same pass bring waits
     * for the socket job after curl returns: one write for all of them. */
    if (k->m && k->direct && !k->finished && k->flushed_pass != k->m->pass) {
        k->flushed_pass = k->m->pass;
        direct_flush(k);
    }
    return len;
}

/* ---- failures --------------------------------------------------------------- */

static int is_tls_error(CURLcode r)
{
    switch (r) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return 1;
    default:
        return 0;
    }
}

/* Whether text holds word, in any case (curl's messages differ in case
 * between platforms: "Connection reset by peer", "Connection was reset"). */
static int says(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (; *text; text++) {
        size_t i = 0;
        while (i < n && text[i] && tolower((unsigned char)text[i]) == word[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static int map_error(cws_sock *k, CURLcode r)
{
    long connect_code = 0, px = 0;
    curl_easy_getinfo(k->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
    curl_easy_getinfo(k->easy, CURLINFO_USED_PROXY, &px);
    if (connect_code && (connect_code < 200 || connect_code > 299))
        return UNIWS_EPROXY; /* the proxy refused the CONNECT tunnel */
    if (is_tls_error(r))
        return UNIWS_ETLS;
    /* A TLS 1.3 server refuses a missing or bad client certificate with an
     * alert after the client's handshake is done: libcurl then reports a
     * failed read (its message names the alert). Before the upgrade that
     * is a TLS failure, as on every other backend. */
    if (!k->upgraded && (r == CURLE_RECV_ERROR || r == CURLE_SEND_ERROR) &&
        strstr(k->errbuf, "SSL") && strstr(k->errbuf, "alert"))
        return UNIWS_ETLS;
    /* After the upgrade curl reports every failed read or write as
     * CURLE_RECV_ERROR / CURLE_SEND_ERROR and says what happened only in
     * words: a connection the peer dropped (a reset, a broken pipe, TLS
     * ended without close_notify: Schannel's "missing close_notify",
     * OpenSSL 3's "unexpected eof while reading") or a TLS failure (a
     * record that fails its check, bytes that are no record; OpenSSL's,
     * Schannel's or GnuTLS's message). Conformance: wss_garbled_record,
     * wss_plain_bytes, wss_reset_midstream, wss_fin_no_close_notify*,
     * close_1006_rst_midframe. */
    if (k->upgraded && (r == CURLE_RECV_ERROR || r == CURLE_SEND_ERROR)) {
        if (says(k->errbuf, "reset") || says(k->errbuf, "broken pipe") ||
            says(k->errbuf, "aborted") || says(k->errbuf, "close_notify") ||
            says(k->errbuf, "unexpected eof"))
            return UNIWS_ERESET;
        if (says(k->errbuf, "ssl") || says(k->errbuf, "tls") || says(k->errbuf, "sec_e_") ||
            says(k->errbuf, "schannel"))
            return UNIWS_ETLS;
    }
    switch (r) {
    case CURLE_OK:
    case CURLE_GOT_NOTHING:
        return UNIWS_ERESET;
    case CURLE_COULDNT_RESOLVE_HOST:
        return UNIWS_EDNS;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
        return UNIWS_EPROXY;
    case CURLE_COULDNT_CONNECT:
        return px || k->proxied ? UNIWS_EPROXY : UNIWS_EREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return UNIWS_ETIMEOUT;
    case CURLE_OUT_OF_MEMORY:
        return UNIWS_ENOMEM;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return k->upgraded ? UNIWS_EIO : UNIWS_EHANDSHAKE;
#if LIBCURL_VERSION_NUM >= 0x080600
    case CURLE_TOO_LARGE:
        /* too many or too long header lines in the answer: the core's own
         * parser (lws) calls that a failed handshake too */
        return k->upgraded ? UNIWS_EIO : UNIWS_EHANDSHAKE;
#endif
    default:
        return UNIWS_EIO;
    }
}

/* The transfer ended (loop thread, outside curl). */
static void transfer_done(cws_sock *k, CURLcode r)
{
    slot_release(k);
    if (k->added) {
        curl_multi_remove_handle(k->m->multi, k->easy);
        k->added = 0;
    }
    if (k->finished)
        return;
    k->finished = 1;
    if (!k->upgraded) {
        long code = 0, connect_code = 0;
        curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(k->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
        int proxy_refused = connect_code && (connect_code < 200 || connect_code > 299);
        if (code > 0 && code != 101 && !proxy_refused) {
            report_upgrade(k, (int)code);
            return;
        }
    }
    const char *msg = k->errbuf[0] ? k->errbuf : (r != CURLE_OK ? curl_easy_strerror(r) : NULL);
    char why[CURL_ERROR_SIZE + 160];
    int code = map_error(k, r);
    if (code == UNIWS_ETLS && r == CURLE_PEER_FAILED_VERIFICATION && !k->errbuf[0]) {
        const char *url = NULL;
        curl_easy_getinfo(k->easy, CURLINFO_EFFECTIVE_URL, &url);
        const char *silent = uniws__curl_tls_silent_reason(url);
        if (silent)
            msg = silent;
    }
    if (code == UNIWS_ETLS)
        msg = uniws__curl_tls_reason(msg, why, sizeof why); /* Schannel's flags in words */
    uniws__stream_fail(k->s, code, msg);
}

static void process_done(cws_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode r = msg->data.result;
        cws_sock *k = sock_of(e);
        if (k)
            transfer_done(k, r);
        else
            curl_multi_remove_handle(m->multi, e);
    }
}

/* Hands the core what it kept during the pass that just returned (outside
 * curl: events fire here, sends may call curl_ws_send()). A socket's kept
 * input always goes before the end of its transfer (process_done) and before
 * its next input (on_write keeps appending until then). */
static void later_run(cws_multi *m)
{
    cws_sock *k;
    while ((k = m->later) != NULL) {
        m->later = k->later_next;
        k->later_next = NULL;
        k->later_queued = 0;
        if (k->upgrade_due) {
            k->upgrade_due = 0;
            if (report_upgrade(k, 101) != 0) {
                k->rx_closed = 1;
                continue;
            }
            if (k->want_out && k->m)
                uniws__job_post(m->loop, &k->job);
        }
        if (k->m && !k->rx_closed && !k->finished && uniws__stream_recv_resume(k->s) < 0)
            k->rx_closed = 1;
    }
}

static void later_unlink(cws_sock *k)
{
    for (cws_sock **pp = &k->m->later; *pp; pp = &(*pp)->later_next)
        if (*pp == k) {
            *pp = k->later_next;
            break;
        }
    k->later_next = NULL;
    k->later_queued = 0;
}

/* ---- output: the core's frames through curl_ws_send() -------------------- */

static void want_writable(cws_sock *k, int on)
{
    cws_fd *f = k->fd;
    if (!f)
        return;
    unsigned ours = on ? UNIWS__IO_WRITE : 0;
    if (f->ours != ours) {
        f->ours = ours;
        fd_update(k->m, f);
    }
}

/* Ends the transport from our side: a failed write, or a failed direct read
 * (outside curl). */
static void send_failed(cws_sock *k, int err, const char *msg)
{
    if (k->finished)
        return;
    k->finished = 1;
    want_writable(k, 0);
    uniws__stream_fail(k->s, err, msg);
}

/* ---- direct output on plain TCP ------------------------------------------ */

/* Decides at the 101 whether the core's frames may go to the socket as they
 * are. Only where curl has no TLS on the connection: then, after the 101,
 * the socket carries the WebSocket stream end to end (directly, or through
 * an HTTP CONNECT or SOCKS tunnel), and curl never writes to it again
 * (the request is out, CURLWS_NOAUTOPONG).
 * curl still does everything else: names, connect, proxies, the upgrade,
 * and every read. Through TLS (wss://, an https:// proxy, or a proxy curl
 * found in the environment, whose scheme we do not see) frames go through
 * curl_ws_send() instead. */
/* Whether fd is this transfer's connection: its addresses are the ones
 * curl reports for it (the 4-tuple names one TCP connection). */
static int is_connection(cws_sock *k, uniws__fd fd)
{
    char *pip = NULL, *lip = NULL, host[64], port[16];
    long pport = 0, lport = 0;
    struct sockaddr_storage ss;
    socklen_t sl;
    if (curl_easy_getinfo(k->easy, CURLINFO_PRIMARY_IP, &pip) != CURLE_OK || !pip ||
        curl_easy_getinfo(k->easy, CURLINFO_PRIMARY_PORT, &pport) != CURLE_OK ||
        curl_easy_getinfo(k->easy, CURLINFO_LOCAL_IP, &lip) != CURLE_OK || !lip ||
        curl_easy_getinfo(k->easy, CURLINFO_LOCAL_PORT, &lport) != CURLE_OK)
        return 0;
    for (int peer = 0; peer < 2; peer++) {
        sl = sizeof ss;
        int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
                     : getsockname(fd, (struct sockaddr *)&ss, &sl);
        if (r != 0 || getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
            return 0;
        if (strcmp(host, peer ? pip : lip) != 0 || atol(port) != (peer ? pport : lport))
            return 0;
    }
    return 1;
}

/* Notes every socket curl creates for this transfer (happy eyeballs may
 * try several; the last few are enough). */
static int on_sockopt(void *userp, curl_socket_t fd, curlsocktype purpose)
{
    cws_sock *k = userp;
    if (k && purpose == CURLSOCKTYPE_IPCXN)
        k->cand[k->ncand++ % (sizeof k->cand / sizeof k->cand[0])] = (uniws__fd)fd;
    return CURL_SOCKOPT_OK;
}

static void take_output(cws_sock *k)
{
    long used = 0;
    const char *env = getenv("UNIWS_CURL_DIRECT");
    if (env && strcmp(env, "0") == 0)
        return; /* every byte through curl (docs/backends.md) */
    if (!k->plain) {
#ifdef UNIWS_CURL_OPENSSL
        /* Through TLS, where its input is read with SSL_read() (tls_read),
         * the core's frames go out with SSL_write() on the same handle. */
        SSL *ssl = tls_handle(k);
        if (ssl) {
            /* A repeated write may start at a moved buffer: the core's
             * queue keeps the bytes, not always their place. */
            SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            k->tls_out = 1;
            uniws__stream_writes_frames(k->s);
        }
#endif
        return;
    }
    if (!k->set_proxy &&
        (curl_easy_getinfo(k->easy, CURLINFO_USED_PROXY, &used) != CURLE_OK || used))
        return;
    /* CURLINFO_ACTIVESOCKET only answers once a transfer is over (or with
     * CONNECT_ONLY), and when a fast server answers within one pass curl
     * has not yet reported the socket to the socket callback: the
     * connection is the socket curl created whose addresses match. */
    size_t max = sizeof k->cand / sizeof k->cand[0];
    size_t n = k->ncand < max ? k->ncand : max;
    for (size_t i = 0; i < n; i++) {
        uniws__fd fd = k->cand[(k->ncand - 1 - i) % max]; /* newest first */
        if (is_connection(k, fd)) {
            k->direct = 1;
            k->direct_fd = fd;
            uniws__stream_writes_frames(k->s);
            return;
        }
    }
}

/* Writes the core's queue to the socket: one gathering write per pass, as
 * much as the kernel takes; the rest waits for writability. Makes no curl
 * calls, so it runs inside curl callbacks too. */
static void direct_flush(cws_sock *k)
{
    for (;;) {
        if (!UNIWS__FD_VALID(k->direct_fd))
            return; /* curl is dropping the connection: the transfer's end reports it */
        switch (uniws__stream_write_fd(k->s, k->direct_fd)) {
        case UNIWS__WRITE_IDLE:
            k->want_out = 0;
            want_writable(k, 0);
            return;
        case UNIWS__WRITE_FULL:
            k->want_out = 1;
            want_writable(k, 1);
            return;
        case UNIWS__WRITE_ERROR: {
            char msg[128];
            int e = errno;
            snprintf(msg, sizeof msg, "write failed: %s", strerror(e));
            send_failed(k, e == EPIPE || e == ECONNRESET ? UNIWS_ERESET : UNIWS_EIO, msg);
            return;
        }
        default:
            if (!k->m || k->finished)
                return; /* the core let go of the socket (destroy() zeroes k) */
        }
    }
}

/* ---- direct input on plain TCP ------------------------------------------- */

/* Where the core's frames go to the socket directly, its input is read here
 * too. curl would hand over the same bytes (raw mode passes them untouched),
 * but a pass through the multi handle costs a second read and a poll(0) per
 * wake-up, and what the core answers to a frame that came with that second
 * read waited until curl returned: one echo in two took the long way, which
 * made the one-at-a-time round trip jittery. Here a wake-up is one read,
 * the core, one write, as on the lws backend. curl keeps the connection: the
 * end of the stream (and anything but plain readability) is left to it, and
 * it ends the transfer as before. */
static int reads_direct(const cws_sock *k, uniws__fd fd)
{
    return k->m && k->direct && k->upgraded && !k->finished && k->direct_fd == fd;
}

/* After each slice of a direct read (core/stream_read.c): what the core
 * answered leaves in one write. Returns nonzero once k is no longer ours
 * (it is zeroed if the core lets go of the socket in a callback). */
static int direct_answer(void *ctx, int refused)
{
    cws_sock *k = ctx;
    if (refused)
        k->rx_closed = 1; /* as in on_write: input after that is dropped */
    if (!k->m || k->finished)
        return 1;
    direct_flush(k);
    return !k->m || k->finished;
}

/* Reads once from the connection into the core (core/stream_read.c: the
 * rest of a big frame straight into the message buffer, else into the
 * multi handle's buffer, handed over in slices). Returns 1 when the input
 * was taken (or there was none), 0 when curl must look at the socket: the
 * stream ended or failed (a failure is reported here first), or there is no
 * buffer to read into. */
static int direct_read(cws_sock *k, uniws__fd fd)
{
    cws_multi *m = k->m;
    if (!m->rxbuf && !(m->rxbuf = uniws__malloc(RX_BUF)))
        return 0; /* curl reads it, as it does without the direct path */
    uniws__stream_reader r = {.buf = m->rxbuf,
                              .cap = RX_BUF,
                              .drop = k->rx_closed,
                              .fd = fd,
                              .answer = direct_answer,
                              .ctx = k};
    int e = 0, rc = uniws__stream_read(k->s, &r, &e);
    if (rc == UNIWS__READ_END)
        return 0; /* curl reads the end too and ends the transfer */
    if (rc == UNIWS__READ_RESET || rc == UNIWS__READ_ERROR) {
        char msg[128];
        snprintf(msg, sizeof msg, "read failed (error %d)", e);
        send_failed(k, rc == UNIWS__READ_RESET ? UNIWS_ERESET : UNIWS_EIO, msg);
        return 0;
    }
    return 1;
}

/* ---- direct input through TLS (curl built with OpenSSL) ------------------ */

#ifdef UNIWS_CURL_OPENSSL
/* Through TLS curl's input costs a pass of the multi handle per wake-up
 * (its state machine, a second SSL_read() that finds nothing, a poll(0) of
 * its own, curl_multi_info_read()): 39,200 instructions per 64-byte TLS
 * round trip against raw curl_ws_recv()'s 35,800. So once the upgrade is
 * reported, the backend reads the connection's TLS itself, with SSL_read()
 * on curl's own OpenSSL handle (CURLINFO_TLS_SSL_PTR), and hands the bytes
 * to the core as on plain TCP; curl still encrypts what it sends
 * (curl_ws_send() calls SSL_write() on the same handle; one thread, so
 * reading and writing one OpenSSL handle from two places is allowed). Only
 * where that handle is the server's TLS: no proxy (an https:// proxy's TLS
 * would be the outer one), and only when curl's OpenSSL is the one uniws
 * is linked with (same major and minor version: one library in the
 * process). The end of the stream, a TLS failure and anything but plain
 * readability are left to curl, which reads them too (OpenSSL repeats them)
 * and ends the transfer as before. UNIWS_CURL_DIRECT=0 turns this off with
 * the plain-TCP direct path. */
static int same_openssl(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    unsigned maj = 0, min = 0;
    if (!v || !v->ssl_version || sscanf(v->ssl_version, "OpenSSL/%u.%u", &maj, &min) != 2)
        return 0;
    unsigned long ours = OpenSSL_version_num(); /* 0xMNN00PP0L */
    return maj == ((ours >> 28) & 0xF) && min == ((ours >> 20) & 0xFF);
}

static SSL *tls_handle(cws_sock *k)
{
    if (k->ssl_checked)
        return k->ssl;
    k->ssl_checked = 1;
    const char *env = getenv("UNIWS_CURL_DIRECT");
    long used = 0;
    struct curl_tlssessioninfo *ti = NULL;
    if ((env && strcmp(env, "0") == 0) || k->set_proxy ||
        curl_easy_getinfo(k->easy, CURLINFO_USED_PROXY, &used) != CURLE_OK || used ||
        !same_openssl())
        return NULL;
    if (curl_easy_getinfo(k->easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
        ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals)
        return NULL;
    k->ssl = ti->internals;
    return k->ssl;
}

typedef struct tls_input {
    cws_sock *k;
    char why[160]; /* a TLS failure in OpenSSL's words */
} tls_input;

/* One SSL_read() for core/stream_read.c. A failure is reported here, in
 * OpenSSL's words (curl's own SSL_read() on the failed handle would find
 * nothing to say): a reset or TLS ended without close_notify is
 * UNIWS__RECV_RESET, a TLS failure _ERROR (why has the reason). The
 * orderly end (close_notify) and a write OpenSSL needs are left to curl,
 * which reads them again: _END. */
static int tls_recv(void *ctx, void *p, size_t cap, size_t *got, int *err)
{
    tls_input *c = ctx;
    SSL *ssl = c->k->ssl;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(ssl, p, cap > INT_MAX ? INT_MAX : (int)cap);
    *err = errno;
    if (n > 0) {
        *got = (size_t)n;
        return UNIWS__RECV_OK;
    }
    int e = SSL_get_error(ssl, n);
    unsigned long ec = ERR_peek_error();
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return UNIWS__RECV_AGAIN;
    case SSL_ERROR_SYSCALL:
        if (!ec)
            return UNIWS__RECV_RESET; /* a reset (errno), or the end without close_notify */
        break;
    case SSL_ERROR_SSL:
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        if (ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return UNIWS__RECV_RESET;
#endif
        break;
    default:
        return UNIWS__RECV_END;
    }
    char reason[120] = "";
    ERR_error_string_n(ec, reason, sizeof reason);
    snprintf(c->why, sizeof c->why, "TLS read failed: %s", ec ? reason : "unknown error");
    return UNIWS__RECV_ERROR;
}

/* After each slice: what the core answered was written as it was queued
 * (events fire here, outside curl: cws_want_write() flushes at once).
 * Returns nonzero once k is no longer ours. */
static int tls_answer(void *ctx, int refused)
{
    cws_sock *k = ((tls_input *)ctx)->k;
    if (refused)
        k->rx_closed = 1; /* as in on_write: input after that is dropped */
    return !k->m || k->finished;
}

/* Reads what TLS has for k until OpenSSL wants more from the socket, into
 * the core (core/stream_read.c: the rest of a big frame straight into the
 * message buffer, else into the multi handle's buffer). Returns 1 when the
 * input was taken, 0 when curl must look: no handle to read (then never
 * again), no buffer, or anything but "no more for now". */
static int tls_read(cws_sock *k)
{
    cws_multi *m = k->m;
    if (!tls_handle(k) || (!m->rxbuf && !(m->rxbuf = uniws__malloc(RX_BUF))))
        return 0;
    tls_input c = {k, ""};
    uniws__stream_reader r = {
        .buf = m->rxbuf, .cap = RX_BUF, .read = tls_recv, .answer = tls_answer, .ctx = &c};
    for (;;) {
        r.drop = k->rx_closed;
        int e = 0, rc = uniws__stream_read(k->s, &r, &e);
        switch (rc) {
        case UNIWS__READ_MORE:
            continue;
        case UNIWS__READ_AGAIN:
            if (k->tls_wlen && k->m && !k->finished)
                flush_out(k); /* a write waited for input (WANT_READ) */
            return 1;
        case UNIWS__READ_STOP:
            return 1;
        case UNIWS__READ_RESET: {
            char msg[128];
            snprintf(msg, sizeof msg, "%s%s",
                     e ? "connection reset: " : "TLS ended without close_notify",
                     e ? strerror(e) : "");
            send_failed(k, UNIWS_ERESET, msg);
            return 0; /* curl looks too and ends the transfer */
        }
        case UNIWS__READ_ERROR:
            send_failed(k, UNIWS_ETLS, c.why);
            return 0;
        default:
            return 0; /* the end: curl reads it and ends the transfer */
        }
    }
}

/* Writes the core's queue with SSL_write() on curl's handle, a chunk of the
 * queue per call, until it is empty or the socket is full. After
 * WANT_WRITE (or WANT_READ: a renegotiation) OpenSSL has taken part of the
 * bytes and wants the same ones again, at least as many: nothing was
 * consumed, so the queue still starts with them, and its first chunk only
 * grows. Makes no curl calls. */
static void tls_flush(cws_sock *k)
{
    SSL *ssl = k->ssl;
    for (;;) {
        const uint8_t *d;
        size_t n = uniws__stream_out_peek(k->s, &d);
        if (n > TX_WINDOW)
            n = TX_WINDOW; /* see TX_WINDOW; never below tls_wlen, which is at most that */
        if (n == 0 || n < k->tls_wlen) {
            if (n == 0 && !k->tls_wlen) {
                k->want_out = 0;
                want_writable(k, 0);
            } else {
                send_failed(k, UNIWS_EIO, "TLS write: the queued bytes changed under a write");
            }
            return;
        }
        ERR_clear_error();
        int w = SSL_write(ssl, d, (int)n), err = errno;
        if (w > 0) {
            k->tls_wlen = 0;
            uniws__stream_out_consume(k->s, (size_t)w);
            if (!k->m || k->finished)
                return; /* the core let go of the socket (destroy() zeroes k) */
            continue;
        }
        int e = SSL_get_error(ssl, w);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            /* WANT_READ: tls_read() writes again once input came. */
            k->tls_wlen = n;
            k->want_out = 1;
            want_writable(k, e == SSL_ERROR_WANT_WRITE);
            return;
        }
        char msg[160];
        unsigned long ec = ERR_peek_error();
        if (e == SSL_ERROR_SYSCALL && !ec) {
            snprintf(msg, sizeof msg, "write failed: %s", strerror(err));
            send_failed(k, err == EPIPE || err == ECONNRESET ? UNIWS_ERESET : UNIWS_EIO, msg);
        } else {
            char why[120] = "";
            ERR_error_string_n(ec, why, sizeof why);
            snprintf(msg, sizeof msg, "TLS write failed: %s", ec ? why : "unknown error");
            send_failed(k, UNIWS_ETLS, msg);
        }
        return;
    }
}

/* Whether a readable fd of k is read here: an upgraded transfer through TLS
 * whose input from curl's last pass has been handed over. */
static int reads_tls(const cws_sock *k)
{
    return k->m && k->upgraded && !k->direct && !k->finished && !k->later_queued &&
           (!k->ssl_checked || k->ssl);
}
#endif

/* curl_ws_send() in framing mode, just for this call. Returns the CURLcode;
 * *sent gets the payload bytes curl wrote (also on CURLE_AGAIN). */
static CURLcode ws_send(cws_sock *k, const void *p, size_t n, curl_off_t total, unsigned flags,
                        size_t *sent)
{
    *sent = 0;
    curl_easy_setopt(k->easy, CURLOPT_WS_OPTIONS, (long)CURLWS_NOAUTOPONG);
    CURLcode r = curl_ws_send(k->easy, p, n, sent, total, flags);
    curl_easy_setopt(k->easy, CURLOPT_WS_OPTIONS, (long)(CURLWS_RAW_MODE | CURLWS_NOAUTOPONG));
    return r;
}

/* The core queues every frame whole (header and payload in one chunk). A
 * fragmented message (uniws_send_fragment) is sent as curl wants it: the
 * message's type on every frame, CURLWS_CONT on all but the last, and curl
 * writes the continuation opcodes. Control frames may come between. */
static int frame_flags(cws_tx *t, const uniws__frame_hdr *h, unsigned *flags)
{
    unsigned cont = h->fin ? 0 : CURLWS_CONT;
    if (!h->fin && h->opcode >= 8)
        return -1;
    switch (h->opcode) {
    case UNIWS__OP_CONT:
        if (!t->msg_type)
            return -1;
        *flags = t->msg_type | cont;
        if (h->fin)
            t->msg_type = 0;
        return 0;
    case UNIWS__OP_TEXT:
    case UNIWS__OP_BINARY:
        if (t->msg_type)
            return -1;
        *flags = (h->opcode == UNIWS__OP_TEXT ? CURLWS_TEXT : CURLWS_BINARY) | cont;
        if (!h->fin)
            t->msg_type = *flags & ~cont;
        return 0;
    case UNIWS__OP_CLOSE:
        *flags = CURLWS_CLOSE;
        return 0;
    case UNIWS__OP_PING:
        *flags = CURLWS_PING;
        return 0;
    case UNIWS__OP_PONG:
        *flags = CURLWS_PONG;
        return 0;
    default:
        return -1;
    }
}

/* Starts the next frame from the queue. Returns 1 (a frame is active), 0
 * (nothing queued) or -1 (the socket failed). */
static int tx_begin(cws_sock *k)
{
    cws_tx *t = &k->tx;
    const uint8_t *p;
    size_t n = uniws__stream_out_peek(k->s, &p);
    if (n == 0)
        return 0;
    uniws__frame_hdr h;
    int hl = uniws__frame_parse(p, n, &h);
    if (hl <= 0 || n - (size_t)hl < h.len || frame_flags(t, &h, &t->flags) != 0) {
        send_failed(k, UNIWS_EINTERNAL, "the core queued a frame libcurl cannot send");
        return -1;
    }
    t->h = h;
    t->hdr_pending = (size_t)hl; /* consumed with the payload, once sent */
    t->sent = 0;
    t->started = 0;
    t->active = 1;
    if (h.rsv || h.masked) {
        send_failed(k, UNIWS_EINTERNAL, "the core queued a masked or compressed frame");
        return -1;
    }
    return 1;
}

/* Pushes the active frame. Returns 1 when it is fully written, 0 when the
 * socket is full, -1 when the socket failed. */
static int tx_push(cws_sock *k)
{
    cws_tx *t = &k->tx;
    for (;;) {
        uint64_t left = t->h.len - t->sent;
        const uint8_t *p;
        size_t n = uniws__stream_out_peek(k->s, &p);
        if (n < t->hdr_pending)
            return 0; /* cannot happen: the queue still holds the header */
        const uint8_t *src = p + t->hdr_pending;
        size_t avail = n - t->hdr_pending;
        if (avail > left)
            avail = (size_t)left;
        if (avail == 0 && left > 0) {
            /* tx_begin() saw the whole payload queued behind the header. */
            send_failed(k, UNIWS_EINTERNAL, "the core's output queue lost part of a frame");
            return -1;
        }
        size_t win = avail < TX_WINDOW ? avail : TX_WINDOW;
        unsigned flags = 0;
        curl_off_t total = 0;
        if (!t->started) {
            flags = t->flags;
            if (win < left) {
                flags |= CURLWS_OFFSET;
                total = (curl_off_t)t->h.len;
            }
        }
        size_t sent = 0;
        CURLcode r =
            ws_send(k, win ? (const void *)src : (const void *)"", win, total, flags, &sent);
        if (r != CURLE_OK && r != CURLE_AGAIN) {
            send_failed(k, r == CURLE_SEND_ERROR ? UNIWS_EIO : UNIWS_EINTERNAL,
                        k->errbuf[0] ? k->errbuf : curl_easy_strerror(r));
            return -1;
        }
        t->started = 1;
        if (sent > win)
            sent = win;
        t->sent += sent;
        size_t consume = sent ? t->hdr_pending + sent : 0;
        if (r == CURLE_OK && t->h.len == 0)
            consume = t->hdr_pending; /* an empty frame is out */
        if (consume) {
            uniws__stream_out_consume(k->s, consume);
            t->hdr_pending = 0;
        }
        if (r == CURLE_OK && t->sent == t->h.len) {
            t->active = 0;
            return 1;
        }
        if (r == CURLE_AGAIN || sent < win)
            return 0; /* the socket is full */
    }
}

/* send_now (core/backend.h): uniws_send() of a big frame with nothing
 * queued, on the loop thread outside curl. The frame goes to curl_ws_send()
 * straight from the application's buffer, as tx_push() would send it from
 * the queue (curl copies and masks it into its own buffer either way), so
 * the core copies only what the socket did not take. Inside a curl callback
 * curl_ws_send() would block until every byte is out: there the frame is
 * queued as before (on this path on_open and on_message run after curl
 * returned: later_run). Partial sends: curl reports
 * only payload that left the socket; what it holds encoded but unsent it
 * skips when the same bytes are handed again, which the core's copy of the
 * rest does (libcurl 8.14.1 lib/ws.c). */
static int cws_send_now(uniws_socket *s, int fin, int opcode, const uint8_t *data, size_t len,
                        size_t *sent)
{
    cws_sock *k = uniws__sock_priv(s);
    cws_tx *t = &k->tx;
    *sent = 0;
    if (!k->m || k->m->in_curl || !k->upgraded || k->finished || k->direct || k->tls_out ||
        k->oom || t->active || len == 0)
        return 0;
    uniws__frame_hdr h;
    memset(&h, 0, sizeof h);
    h.fin = fin;
    h.opcode = opcode;
    h.len = len;
    unsigned msg_type = t->msg_type, flags = 0;
    if (frame_flags(t, &h, &flags) != 0)
        return 0; /* tx_begin() reports it */
    size_t done = 0;
    for (int first = 1;; first = 0) {
        size_t win = len - done < TX_WINDOW ? len - done : TX_WINDOW;
        unsigned f = first ? flags : 0;
        curl_off_t total = 0;
        if (first && win < len) {
            f |= CURLWS_OFFSET;
            total = (curl_off_t)len;
        }
        size_t n = 0;
        CURLcode r = ws_send(k, data + done, win, total, f, &n);
        if (r != CURLE_OK && r != CURLE_AGAIN) {
            if (first) {
                t->msg_type = msg_type; /* queued whole: tx_push() meets the error */
                return 0;
            }
            break; /* the next tx_push() meets it and fails the socket */
        }
        if (n > win)
            n = win;
        done += n;
        if (r == CURLE_OK && done == len) {
            *sent = len;
            return 1;
        }
        if (r == CURLE_AGAIN || n < win)
            break; /* the socket is full */
    }
    t->h = h;
    t->flags = flags;
    t->hdr_pending = 0; /* the core queues no header for the rest */
    t->sent = done;
    t->started = 1;
    t->active = 1;
    *sent = done;
    return 1;
}

/* write_now (core/backend.h): on plain TCP a big frame's slices go to the
 * socket at once, as direct_flush() would write them from the queue (no
 * curl calls: inside curl callbacks too). */
static size_t cws_write_now(uniws_socket *s, const uint8_t *d, size_t n)
{
    cws_sock *k = uniws__sock_priv(s);
    if (!k->m || !k->direct || !k->upgraded || k->finished || !UNIWS__FD_VALID(k->direct_fd))
        return 0;
    return uniws__stream_send_fd(k->direct_fd, d, n);
}

static void flush_out(cws_sock *k)
{
    if (!k->upgraded || k->finished)
        return;
    if (k->direct) {
        direct_flush(k);
        return;
    }
#ifdef UNIWS_CURL_OPENSSL
    if (k->tls_out) {
        tls_flush(k);
        return;
    }
#endif
    for (;;) {
        if (!k->tx.active) {
            int b = tx_begin(k);
            if (b < 0)
                return;
            if (b == 0) {
                k->want_out = 0;
                want_writable(k, 0);
                return;
            }
        }
        int r = tx_push(k);
        if (r < 0)
            return;
        if (r == 0) {
            k->want_out = 1;
            want_writable(k, 1);
            return;
        }
    }
}

/* ---- pacing openings ------------------------------------------------------- */

/* Why openings are paced: every transfer added to the multi handle starts
 * its name lookup, TCP connect, TLS handshake and upgrade at once, and curl
 * drives them all together. 10,000 uniws_connect() calls to a wss:// server
 * started 10,000 TLS handshakes on the client's one core, all progressing a
 * little per pass, and on a loaded machine most were still unfinished when
 * the core's 30 s connect timeout ran out (680 opened). At most MAX_CONNECTING
 * transfers are therefore between curl_multi_add_handle() and their 101 (or
 * their end); the others wait here in order and are added as earlier ones
 * open or fail. The whole opening is paced, not just TCP: on a local server
 * TCP connects complete at once (the kernel accepts them into the backlog),
 * so a line that let go at TCP up would not bound the TLS handshakes in
 * progress (and curl reports no TCP-up event to let go at).
 *
 * curl's own limits do not fit: CURLMOPT_MAX_TOTAL_CONNECTIONS (and
 * _MAX_HOST_CONNECTIONS) cap the connections that are open, and a WebSocket
 * transfer keeps its connection for as long as it lives, so a cap of 256
 * would allow 256 open sockets, not 256 openings; its queued transfers'
 * CURLOPT_CONNECTTIMEOUT may also expire before they are allowed to connect
 * (curl's documentation of the option). CURLMOPT_MAX_CONCURRENT_STREAMS is
 * about HTTP/2 streams on one connection; ours are HTTP/1.1, one each.
 *
 * The core's connect timeout (started by uniws_connect()) runs for a waiting
 * socket as for any other; curl's CURLOPT_CONNECTTIMEOUT_MS starts when the
 * handle is added, so for a socket that waited the core's fires first. The
 * wait counts in the statistics' tcp_ms, as on lws. */

/* The socket's opening is over: upgraded, failed or abandoned. */
static void slot_release(cws_sock *k)
{
    if (k->slot.waiting || k->slot.counted)
        uniws__pace_leave(&k->m->pace, &k->slot);
}

/* Adds the transfer to the multi handle (loop thread, outside curl). */
static void start_transfer(cws_sock *k)
{
    cws_multi *m = k->m;
    CURLMcode mr = curl_multi_add_handle(m->multi, k->easy);
    if (mr != CURLM_OK) {
        k->finished = 1;
        uniws__stream_fail(k->s, UNIWS_EIO, curl_multi_strerror(mr));
        return;
    }
    k->added = 1;
    uniws__pace_take(&m->pace, &k->slot);
}

/* Starts the transfer now, or puts it at the end of the line. */
static void start_or_wait(cws_sock *k)
{
    if (uniws__pace_enter(&k->m->pace, &k->slot))
        start_transfer(k);
    else
        k->wait_since = uniws__loop_now(k->m->loop);
}

/* A waiting transfer's turn (loop thread, outside curl). */
static void on_slot(uniws__pace *pace, uniws__pace_item *item)
{
    cws_sock *k = (cws_sock *)((char *)item - offsetof(cws_sock, slot));
    k->wait_ms = uniws__loop_now(pace->loop) - k->wait_since;
    start_transfer(k);
}

/* ---- the vtable ------------------------------------------------------------ */

static void on_job(uniws_loop *loop, uniws__job *job)
{
    cws_sock *k = job->data;
    (void)loop;
    if (k->finished)
        return;
    if (k->oom) {
        transfer_done(k, CURLE_OUT_OF_MEMORY);
        return;
    }
    if (!k->added) {
        if (!k->slot.waiting)
            start_or_wait(k);
        return;
    }
    if (k->upgraded && k->want_out)
        flush_out(k);
}

static int proxy_scheme_ok(const char *proxy)
{
    static const char *const schemes[] = {"http://",    "https://",  "socks4://",
                                          "socks4a://", "socks5://", "socks5h://"};
    if (!strstr(proxy, "://"))
        return 1; /* "host:port" means an HTTP proxy to curl */
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (curl_strnequal(proxy, schemes[i], strlen(schemes[i])))
            return 1;
    return 0;
}

static int has_ws_protocols(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    int ws = 0, wss = 0;
    for (const char *const *p = v->protocols; p && *p; p++) {
        if (strcmp(*p, "ws") == 0)
            ws = 1;
        if (strcmp(*p, "wss") == 0)
            wss = 1;
    }
    return ws && wss;
}

static int cws_connect(uniws_socket *s, const uniws__connect_req *req)
{
    cws_sock *k = uniws__sock_priv(s);
    const uniws_options *o = req->opts;
    uniws_loop *loop = uniws__sock_loop(s);
    cws_multi *m = uniws__loop_backend_state(loop, &uniws__backend_curl);
    if (!m)
        return UNIWS_EINTERNAL;
    if (!has_ws_protocols())
        return UNIWS_EUNSUPPORTED;
    if (o->proxy && !proxy_scheme_ok(o->proxy))
        return UNIWS_EINVAL;
    k->s = s;
    k->m = m;
    uniws__job_init(&k->job, on_job, k);
    k->easy = curl_easy_init();
    if (!k->easy)
        return UNIWS_ENOMEM;

    size_t nh = 0;
    const char *const *lines = uniws__stream_upgrade_headers(s, &nh);
    int user_accept = 0;
    for (size_t i = 0; i < nh; i++) {
        struct curl_slist *l = curl_slist_append(k->headers, lines[i]);
        if (!l)
            return UNIWS_ENOMEM;
        k->headers = l;
        if (curl_strnequal(lines[i], "Accept:", 7))
            user_accept = 1;
    }
    if (!user_accept) {
        /* Send the same request as the core's own handshake: no Accept. */
        struct curl_slist *l = curl_slist_append(k->headers, "Accept:");
        if (!l)
            return UNIWS_ENOMEM;
        k->headers = l;
    }

    CURL *e = k->easy;
    long timeout = o->connect_timeout_ms > 0    ? (long)o->connect_timeout_ms
                   : o->connect_timeout_ms == 0 ? (long)UNIWS_DEFAULT_CONNECT_TIMEOUT_MS
                                                : (long)INT_MAX;
    CURLcode r = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (r == CURLE_OK)                                                                         \
            r = curl_easy_setopt(e, opt, val);                                                     \
    } while (0)
    SET(CURLOPT_URL, req->url->normalized);
    SET(CURLOPT_PRIVATE, (void *)k);
    SET(CURLOPT_ERRORBUFFER, k->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_HTTPHEADER, k->headers);
    SET(CURLOPT_WS_OPTIONS, (long)(CURLWS_RAW_MODE | CURLWS_NOAUTOPONG));
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)k);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, (void *)k);
    SET(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    SET(CURLOPT_SOCKOPTDATA, (void *)k);
    SET(CURLOPT_CONNECTTIMEOUT_MS, timeout);
    SET(CURLOPT_BUFFERSIZE, 256L * 1024L); /* one read per 256 KiB; the buffer is the multi's */
    SET(CURLOPT_FRESH_CONNECT, 1L);
    SET(CURLOPT_FORBID_REUSE, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_HTTPPROXYTUNNEL, 1L);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    const char *proxy = o->proxy;
    if (o->proxy) {
        k->proxied = 1;
        SET(CURLOPT_PROXY, o->proxy);
        SET(CURLOPT_NOPROXY, "");
    } else {
        /* Lower case first, as for every other *_proxy variable; curl still
         * applies no_proxy / NO_PROXY to it. */
        const char *env = getenv(req->url->tls ? "wss_proxy" : "ws_proxy");
        if (env && *env)
            SET(CURLOPT_PROXY, env);
        proxy = env && *env ? env : NULL;
    }
    k->set_proxy = proxy != NULL;
    k->plain = !req->url->tls && !(proxy && curl_strnequal(proxy, "https://", 8));
    if (o->tls_ca_file)
        SET(CURLOPT_CAINFO, o->tls_ca_file);
    if (o->tls_skip_verify) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->tls_client_cert)
        SET(CURLOPT_SSLCERT, o->tls_client_cert);
    if (o->tls_client_key)
        SET(CURLOPT_SSLKEY, o->tls_client_key);
    /* The CURLOPT_PROXY_* twins of the TLS options: an https:// proxy is
     * verified against the system's CAs unless proxy_ca_file names others. */
    if (o->proxy_ca_file)
        SET(CURLOPT_PROXY_CAINFO, o->proxy_ca_file);
#undef SET
    if (r != CURLE_OK)
        return r == CURLE_OUT_OF_MEMORY ? UNIWS_ENOMEM : UNIWS_EUNSUPPORTED;
    /* Added from the loop: connect() may run inside a curl callback. */
    uniws__job_post(loop, &k->job);
    return 0;
}

static void cws_destroy(uniws_socket *s)
{
    cws_sock *k = uniws__sock_priv(s);
    if (!k->m)
        return; /* connect() failed before anything was set up */
    cws_multi *m = k->m;
    uniws__job_cancel(m->loop, &k->job);
    if (k->later_queued)
        later_unlink(k);
    slot_release(k);
    if (k->easy) {
        if (k->fd) {
            k->fd->owner = NULL;
            if (k->fd->ours) {
                k->fd->ours = 0;
                fd_update(m, k->fd);
            }
            k->fd = NULL;
        }
        if (m->in_curl && k->added) {
            /* Inside curl: detach now, remove once curl has returned. */
            curl_easy_setopt(k->easy, CURLOPT_PRIVATE, (void *)NULL);
            curl_easy_setopt(k->easy, CURLOPT_HEADERDATA, (void *)NULL);
            curl_easy_setopt(k->easy, CURLOPT_WRITEDATA, (void *)NULL);
            curl_easy_setopt(k->easy, CURLOPT_SOCKOPTDATA, (void *)NULL);
            if (m->ngrave == m->capgrave) {
                size_t c = m->capgrave ? m->capgrave * 2 : 8;
                CURL **g = uniws__realloc(m->graveyard, c * sizeof *g);
                if (g) {
                    m->graveyard = g;
                    m->capgrave = c;
                }
            }
            if (m->ngrave < m->capgrave)
                m->graveyard[m->ngrave++] = k->easy;
            /* else: leaked rather than freed under curl's feet */
        } else {
            if (k->added)
                curl_multi_remove_handle(m->multi, k->easy); /* closes the connection */
            curl_easy_cleanup(k->easy);
        }
        k->easy = NULL;
    }
    curl_slist_free_all(k->headers);
    k->headers = NULL;
    memset(k, 0, sizeof *k);
}

static void cws_want_write(uniws_socket *s)
{
    cws_sock *k = uniws__sock_priv(s);
    if (!k->m || k->finished)
        return;
    k->want_out = 1;
    if (!k->upgraded)
        return; /* flushed right after the 101 */
    if (k->m->in_curl && !k->direct)
        uniws__job_post(k->m->loop, &k->job); /* writes through curl's TLS wait for curl */
    else
        flush_out(k);
}

static const char *cws_version(void)
{
    return curl_version_info(CURLVERSION_NOW)->version;
}

/* Client certificates: the PEM pair of uniws_options. On Windows the TLS
 * library is Schannel (scripts/windows-deps.sh), which takes a client
 * certificate only from the system store or a PKCS#12 file. */
#ifdef _WIN32
#define CLIENT_CERT_CAP 0u
#else
#define CLIENT_CERT_CAP UNIWS_CAP_TLS_CLIENT_CERT
#endif

const uniws__backend uniws__backend_curl = {
    .name = "curl",
    .description = "libcurl's WebSocket API (multi interface; uniws does the framing)",
    .caps = UNIWS_CAP_WS | UNIWS_CAP_WSS | UNIWS_CAP_CUSTOM_HEADERS | UNIWS_CAP_PROXY |
            UNIWS_CAP_TLS_CA_FILE | UNIWS_CAP_TLS_SKIP_VERIFY | CLIENT_CERT_CAP | UNIWS_CAP_PING |
            UNIWS_CAP_CONNECT_TIMEOUT | UNIWS_CAP_ANY_CLOSE_CODE | UNIWS_CAP_NETWORK |
            UNIWS_CAP_RAW_FRAMES | UNIWS_CAP_SEND_FRAGMENTS | UNIWS_CAP_FRAME_SIZE |
            UNIWS_CAP_PROXY_CA_FILE | UNIWS_CAP_RESPONSE_HEADERS
#ifdef UNIWS_HAVE_ZLIB
            | UNIWS_CAP_PERMESSAGE_DEFLATE
#endif
    ,
    .auto_select = 1,
    .kind = UNIWS__STREAM,
    .does_upgrade = 1,
    .reframes_output = 1,
    .priv_size = sizeof(cws_sock),
    .version = cws_version,
    .loop_init = loop_init,
    .loop_free = loop_free,
    .connect = cws_connect,
    .destroy = cws_destroy,
    .want_write = cws_want_write,
    .send_now = cws_send_now,
    .write_now = cws_write_now,
};
