/*
 * loopback.c — the in-process test double backend ("demand only": never
 * picked automatically). Its transport is the scripted peer engine
 * (peer.c) running in the same process, so everything the core does over
 * real sockets (handshake, framing, close rules) runs here too, with the
 * same URL-path scripts as the network test peer, and no sockets at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include "backends/loopback/peer.h"
#include "core/backend.h"
#include "core/loop.h"

typedef struct lb_sock {
    uniws_socket *s;
    uniws__peer *peer;
    uniws__job pump;
    uniws__timer timer;
    int connected, sleeping, over;
    size_t writes; /* write_now calls, for its cycle of sizes */
} lb_sock;

static void pump(uniws_loop *loop, uniws__job *job);

static void wake(uniws_loop *loop, uniws__timer *t)
{
    lb_sock *lb = t->data;
    lb->sleeping = 0;
    pump(loop, &lb->pump);
}

/* Carries out the peer's actions until it waits for input or time. */
static void run_peer(uniws_loop *loop, lb_sock *lb)
{
    uniws_socket *s = lb->s;
    for (;;) {
        uniws__peer_action a;
        uniws__peer_next(lb->peer, &a);
        switch (a.kind) {
        case UNIWS__PEER_NONE:
            return;
        case UNIWS__PEER_WRITE:
            if (a.bytewise) {
                for (size_t i = 0; i < a.len; i++)
                    if (uniws__stream_recv(s, a.data + i, 1) < 0)
                        return;
            } else if (a.len && uniws__stream_recv(s, a.data, a.len) < 0) {
                return;
            }
            break;
        case UNIWS__PEER_SLEEP:
            lb->sleeping = 1;
            uniws__timer_start(loop, &lb->timer, a.ms);
            return;
        case UNIWS__PEER_RESET:
            lb->over = 1;
            uniws__stream_fail(s, UNIWS_ERESET, "connection reset by the peer");
            return;
        case UNIWS__PEER_FIN:
            lb->over = 1;
            uniws__stream_fail(s, UNIWS_ERESET, NULL);
            return;
        default:
            /* A plain HTTP request cannot come from the core, and the TLS
             * actions never come: no TLS here, so the peer refuses scripts
             * with tls-* commands (400, no uniws__peer_set_tls). */
            lb->over = 1;
            uniws__stream_fail(s, UNIWS_EIO, "loopback peer got an unexpected request");
            return;
        }
    }
}

static void pump(uniws_loop *loop, uniws__job *job)
{
    lb_sock *lb = job->data;
    uniws_socket *s = lb->s;
    if (lb->over || lb->sleeping)
        return;
    if (!lb->connected) {
        lb->connected = 1;
        uniws__stream_connected(s);
    }
    const uint8_t *p;
    size_t n;
    /* A peer told not to read (no-read) leaves the client's output queued. */
    while (uniws__peer_reading(lb->peer) && (n = uniws__stream_out_peek(s, &p)) > 0) {
        if (uniws__peer_feed(lb->peer, p, n) != 0) {
            lb->over = 1;
            uniws__stream_fail(s, UNIWS_ENOMEM, "loopback peer out of memory");
            return;
        }
        uniws__stream_out_consume(s, n);
    }
    int reading = uniws__peer_reading(lb->peer);
    run_peer(loop, lb);
    /* It may have started reading again (read): take what waits. */
    if (!reading && !lb->over && lb->peer && uniws__peer_reading(lb->peer))
        uniws__job_post(loop, &lb->pump);
}

static int lb_connect(uniws_socket *s, const uniws__connect_req *req)
{
    lb_sock *lb = uniws__sock_priv(s);
    (void)req;
    lb->s = s;
    lb->peer = uniws__peer_new();
    if (!lb->peer)
        return UNIWS_ENOMEM;
    uniws__job_init(&lb->pump, pump, lb);
    uniws__timer_init(&lb->timer, wake, lb);
    uniws__job_post(uniws__sock_loop(s), &lb->pump);
    return 0;
}

static void lb_want_write(uniws_socket *s)
{
    lb_sock *lb = uniws__sock_priv(s);
    uniws__job_post(uniws__sock_loop(s), &lb->pump);
}

/* write_now (core/backend.h): the core's write-through of a big frame goes
 * to the peer at once, as pump() would feed it from the queue. Like a
 * socket, it takes part of a write at times: each call takes at most the
 * next size of a fixed cycle (all, or a few bytes, or less than a frame
 * header, ...), so the tests on this backend run the core's partial-write
 * paths (the rest of a frame queued, header included) deterministically. */
static size_t lb_write_now(uniws_socket *s, const uint8_t *p, size_t n)
{
    static const size_t cycle[] = {1, 5, 13, SIZE_MAX, 4096, 65537, 0};
    lb_sock *lb = uniws__sock_priv(s);
    if (lb->over || lb->sleeping || !lb->connected || !lb->peer || !uniws__peer_reading(lb->peer))
        return 0;
    size_t take = cycle[lb->writes++ % (sizeof cycle / sizeof cycle[0])];
    if (take > n)
        take = n;
    if (take == 0 || uniws__peer_feed(lb->peer, p, take) != 0)
        return 0; /* out of memory: the queue's own feed meets it again */
    uniws__job_post(uniws__sock_loop(s), &lb->pump); /* the peer acts on it */
    return take;
}

static void lb_destroy(uniws_socket *s)
{
    lb_sock *lb = uniws__sock_priv(s);
    uniws_loop *loop = uniws__sock_loop(s);
    if (lb->pump.cb)
        uniws__job_cancel(loop, &lb->pump);
    if (lb->timer.cb)
        uniws__timer_stop(loop, &lb->timer);
    uniws__peer_free(lb->peer);
    lb->peer = NULL;
    lb->over = 1;
}

static const char *lb_version(void)
{
    return UNIWS_VERSION_STRING;
}

const uniws__backend uniws__backend_loopback = {
    .name = "loopback",
    .description = "in-process scripted peer (tests; never picked automatically)",
    .caps = UNIWS_CAP_WS | UNIWS_CAP_CUSTOM_HEADERS | UNIWS_CAP_PING | UNIWS_CAP_CONNECT_TIMEOUT |
            UNIWS_CAP_ANY_CLOSE_CODE | UNIWS_CAP_RAW_FRAMES | UNIWS_CAP_SEND_FRAGMENTS |
            UNIWS_CAP_FRAME_SIZE | UNIWS_CAP_RESPONSE_HEADERS
#ifdef UNIWS_HAVE_ZLIB
            | UNIWS_CAP_PERMESSAGE_DEFLATE
#endif
    ,
    .auto_select = 0,
    .kind = UNIWS__STREAM,
    .priv_size = sizeof(lb_sock),
    .version = lb_version,
    .connect = lb_connect,
    .destroy = lb_destroy,
    .want_write = lb_want_write,
    .write_now = lb_write_now,
};
