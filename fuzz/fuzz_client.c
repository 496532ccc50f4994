/*
 * fuzz_client.c — the client protocol engine (core/wsproto.c) fed arbitrary
 * server bytes. A socket on the "loopback" backend connects to
 * ws://f/script/silent, a peer that takes the request and never answers; the
 * target then plays that server itself, pushing bytes through
 * uniws__stream_recv() split at input-chosen points (or, while a big frame
 * arrives, through the receive-into calls), with loop turns (and,
 * if the input asks, sends, pings, closes and frees) in between.
 *
 * Input: 4 bytes of settings, then the server's byte stream.
 *   byte 0  bit 0: 0 = the target writes a valid 101 first and the stream is
 *                  frames; 1 = the stream is the whole answer (every
 *                  "{ACCEPT}" in it becomes the right Sec-WebSocket-Accept)
 *           bit 1: offer permessage-deflate   bit 2: offer subprotocols
 *           bits 3-4: max_message_size        bit 5: send/ping/close between chunks
 *           bits 6-7: free the socket in a callback (none, open, message, error/close)
 *   byte 1  seed for split points and actions
 *   byte 2  101 details: extension parameters, which subprotocol
 *   byte 3  bits 0-1: which message to free at; bit 6: the server hangs up right
 *           after its last byte (no loop turns to flush first); bit 7: free in
 *           on_error rather than on_close
 *
 * Every event is checked against the public contract (docs/contract.md rules 2, 5, 7, 8).
 */
#include <string.h>

#include "core/backend.h"
#include "core/handshake.h"
#include "core/socket.h"
#include "core/utf8.h"
#include "fuzz/fuzz.h"
#include "uniws/uniws.h"

static const char *const protos[] = {"chat", "v2.chat"};

static const char *const pmd_params[] = {
    "; client_max_window_bits=15",
    "",
    "; server_no_context_takeover",
    "; client_no_context_takeover; client_max_window_bits=9",
    "; server_max_window_bits=10",
    "; client_max_window_bits=8",
    "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8",
    "; client_max_window_bits=\"12\"; server_max_window_bits=15",
};

static const size_t max_sizes[] = {125, 4096, 70000, 1u << 20};

enum { FREE_NONE, FREE_ON_OPEN, FREE_ON_MESSAGE, FREE_ON_END };

typedef struct rec {
    int opens, messages, errors, closes;
    int freed; /* the socket was freed inside a callback */
    int free_on, free_at, free_in_error;
    int offered_protos, offered_pmd;
    size_t max_msg;
} rec;

static int close_code_ok(int c)
{
    return (c >= 1000 && c <= 1003) || c == 1005 || c == 1006 || (c >= 1007 && c <= 1014) ||
           (c >= 3000 && c <= 4999);
}

static void maybe_free(rec *r, uniws_socket *s, int when)
{
    if (r->free_on == when && !r->freed) {
        uniws_free(s);
        r->freed = 1;
    }
}

static void on_open(uniws_socket *s, void *ud)
{
    rec *r = ud;
    FUZZ_CHECK(!r->freed);
    FUZZ_CHECK(r->opens == 0 && r->messages == 0 && r->errors == 0 && r->closes == 0);
    r->opens++;
    FUZZ_CHECK(uniws_ready_state(s) == UNIWS_OPEN);
    const char *p = uniws_protocol(s);
    if (r->offered_protos)
        FUZZ_CHECK(strcmp(p, protos[0]) == 0 || strcmp(p, protos[1]) == 0);
    else
        FUZZ_CHECK(strcmp(p, "") == 0);
    const char *e = uniws_extensions(s);
    FUZZ_CHECK(e != NULL);
    if (!r->offered_pmd)
        FUZZ_CHECK(strcmp(e, "") == 0);
    maybe_free(r, s, FREE_ON_OPEN);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    rec *r = ud;
    FUZZ_CHECK(!r->freed);
    FUZZ_CHECK(r->opens == 1 && r->errors == 0 && r->closes == 0);
    FUZZ_CHECK(uniws_ready_state(s) == UNIWS_OPEN);
    FUZZ_CHECK(m->type == UNIWS_TEXT || m->type == UNIWS_BINARY);
    FUZZ_CHECK(m->data != NULL);
    FUZZ_CHECK(m->len <= r->max_msg);
    if (m->type == UNIWS_TEXT) {
        FUZZ_CHECK(uniws__utf8_valid(m->data, m->len));
        FUZZ_CHECK(((const char *)m->data)[m->len] == 0);
    }
    if (r->free_on == FREE_ON_MESSAGE && r->messages == r->free_at)
        maybe_free(r, s, FREE_ON_MESSAGE);
    r->messages++;
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    rec *r = ud;
    FUZZ_CHECK(!r->freed);
    FUZZ_CHECK(r->errors == 0 && r->closes == 0);
    r->errors++;
    FUZZ_CHECK(e->error <= -1 && e->error >= UNIWS_EINTERNAL);
    FUZZ_CHECK(e->message != NULL);
    FUZZ_CHECK(e->http_status == 0 || (e->http_status >= 100 && e->http_status <= 999));
    if (r->free_in_error)
        maybe_free(r, s, FREE_ON_END);
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    rec *r = ud;
    FUZZ_CHECK(!r->freed);
    FUZZ_CHECK(r->closes == 0);
    r->closes++;
    FUZZ_CHECK(uniws_ready_state(s) == UNIWS_CLOSED);
    FUZZ_CHECK(close_code_ok(e->code));
    FUZZ_CHECK(e->reason != NULL);
    FUZZ_CHECK(e->reason_len <= 123);
    FUZZ_CHECK(e->reason[e->reason_len] == 0); /* U+0000 inside is valid UTF-8 */
    FUZZ_CHECK(uniws__utf8_valid(e->reason, e->reason_len));
    FUZZ_CHECK(e->was_clean == 0 || e->was_clean == 1);
    /* A failure is error then close 1006 unclean; a close without an error
     * is a clean closing handshake, and 1006 never comes off the wire. */
    if (r->errors)
        FUZZ_CHECK(e->code == 1006 && !e->was_clean);
    else
        FUZZ_CHECK(e->code != 1006 && e->was_clean);
    if (!r->free_in_error)
        maybe_free(r, s, FREE_ON_END);
}

/* Replaces every "{ACCEPT}" in p[0..n) by accept (28 characters). */
static uint8_t *substitute_accept(const uint8_t *p, size_t n, const char *accept, size_t *out_n)
{
    static const char mark[] = "{ACCEPT}";
    const size_t ml = sizeof mark - 1, al = strlen(accept);
    uint8_t *out = malloc(n / ml * al + n + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        if (n - i >= ml && memcmp(p + i, mark, ml) == 0) {
            memcpy(out + o, accept, al);
            o += al;
            i += ml;
        } else {
            out[o++] = p[i++];
        }
    }
    *out_n = o;
    return out;
}

/* Sends, pings or closes as the application might between two reads, and
 * checks the answer against the state it was called in (docs/contract.md rules 5, 6). */
static void act(uniws_socket *s, uint32_t *rng)
{
    static uint8_t big[40000];
    uint32_t x = fuzz_rand(rng);
    int st = uniws_ready_state(s);
    int r = 1;
    size_t before = uniws_buffered_amount(s), len = 0;
    int counts = 0; /* the call queues payload counted in buffered_amount */
    switch (x % 8) {
    case 0:
        r = uniws_send_text(s, "hello", 5);
        len = 5, counts = 1;
        break;
    case 1:
        len = (x >> 8) % sizeof big;
        memset(big, 'b', len);
        r = uniws_send_binary(s, big, len);
        counts = 1;
        break;
    case 2:
        r = uniws_ping(s, "p", 1);
        break;
    case 3:
        r = uniws_close(s, (x >> 8) & 1 ? 1000 : 4000, "bye");
        break;
    default:
        return;
    }
    if (x % 8 == 3) {
        FUZZ_CHECK(r == 0); /* closing is always accepted; twice is a no-op */
        return;
    }
    if (st == UNIWS_CONNECTING)
        FUZZ_CHECK(r == UNIWS_EINVALID_STATE);
    else if (st == UNIWS_OPEN)
        FUZZ_CHECK(r == 0 || r == UNIWS_ENOMEM);
    else
        FUZZ_CHECK(r == UNIWS_ECLOSED);
    /* What send accepted counts in full until written, as the browser counts
     * it: application bytes, whatever permessage-deflate makes of them. */
    if (r == 0 && counts)
        FUZZ_CHECK(uniws_buffered_amount(s) == before + len);
}

/* Runs loop turns without blocking, as a host would between reads. */
static void turns(uniws_loop *loop, int n)
{
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(uniws_loop_run_once(loop, 0) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t flags = fuzz_u8(&in), seed = fuzz_u8(&in), details = fuzz_u8(&in), which = fuzz_u8(&in);
    int raw_answer = flags & 1, actions = (flags >> 5) & 1;
    uint32_t rng = 0x1234567u ^ ((uint32_t)seed << 24 | (uint32_t)details << 8 | which);

    rec r;
    memset(&r, 0, sizeof r);
    r.offered_pmd = (flags >> 1) & 1;
#ifndef UNIWS_HAVE_ZLIB
    r.offered_pmd = 0; /* the loopback backend cannot offer it without zlib */
#endif
    r.offered_protos = (flags >> 2) & 1;
    r.max_msg = max_sizes[(flags >> 3) & 3];
    r.free_on = flags >> 6;
    r.free_at = which & 3;
    r.free_in_error = which >> 7;

    uniws_loop *loop;
    FUZZ_CHECK(uniws_loop_new(&loop) == 0);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "loopback";
    o.protocols = r.offered_protos ? protos : NULL;
    o.num_protocols = r.offered_protos ? 2 : 0;
    o.permessage_deflate = r.offered_pmd;
    o.max_message_size = r.max_msg;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = &r;
    uniws_socket *s;
    FUZZ_CHECK(uniws_connect(loop, "ws://f/script/silent", &o, &s) == 0);

    /* Until the request has gone to the (silent) peer. */
    const uint8_t *pending;
    for (int i = 0; i < 100 && !(s->transport_up && uniws__stream_out_peek(s, &pending) == 0); i++)
        turns(loop, 1);
    FUZZ_CHECK(s->transport_up && uniws__stream_out_peek(s, &pending) == 0);
    FUZZ_CHECK(r.opens == 0 && r.closes == 0);

    char accept[29];
    uniws__ws_accept(s->key, accept);
    const uint8_t *rest;
    size_t rest_n = fuzz_bytes(&in, in.n, &rest);
    uint8_t *stream;
    size_t n, answer_len = 0;
    if (raw_answer) {
        stream = substitute_accept(rest, rest_n, accept, &n);
    } else {
        char head[512];
        size_t hl = (size_t)snprintf(head, sizeof head,
                                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
                                     accept);
        if (r.offered_protos)
            hl += (size_t)snprintf(head + hl, sizeof head - hl, "Sec-WebSocket-Protocol: %s\r\n",
                                   protos[(details >> 4) & 1]);
        if (r.offered_pmd)
            hl += (size_t)snprintf(head + hl, sizeof head - hl,
                                   "Sec-WebSocket-Extensions: permessage-deflate%s\r\n",
                                   pmd_params[details & 7]);
        snprintf(head + hl, sizeof head - hl, "\r\n");
        answer_len = strlen(head);
        n = answer_len + rest_n;
        stream = malloc(n ? n : 1);
        if (stream) {
            memcpy(stream, head, answer_len);
            if (rest_n)
                memcpy(stream + answer_len, rest, rest_n);
        }
    }
    FUZZ_CHECK(stream != NULL);

    /* Feed it in pieces; stop as a backend must once the core says so. */
    size_t at = 0;
    while (at < n && !r.freed && !r.closes) {
        uint32_t x = fuzz_rand(&rng);
        size_t k = x % 4 == 0 ? n - at : 1 + (x >> 8) % ((size_t)1 << (x >> 4) % 10);
        if (k > n - at)
            k = n - at;
        uint8_t *room_p = NULL;
        size_t room = x & 0x200000 ? uniws__stream_recv_room(s, &room_p) : 0;
        int rc;
        if (room) {
            /* Receive-into (core/rxinto.c): the bytes land in the message
             * buffer, as a backend's recv() would put them there. */
            if (k > room)
                k = room;
            memcpy(room_p, stream + at, k);
            rc = uniws__stream_recv_into(s, k);
        } else {
            rc = uniws__stream_recv(s, stream + at, k);
        }
        at += k;
        if (rc < 0) {
            /* The core only refuses data once it closed, or was freed. */
            FUZZ_CHECK(r.closes == 1 || r.freed);
            break;
        }
        if (!raw_answer && at >= answer_len && !r.freed)
            FUZZ_CHECK(r.opens == 1);
        if (x & 0x100000)
            turns(loop, 1);
        if (actions && !r.freed && !r.closes && (raw_answer || at >= answer_len))
            act(s, &rng);
    }
    free(stream);

    /* Let queued pongs, close replies and sends drain to the peer. */
    if (!(which & 0x40)) {
        for (int i = 0; i < 8 && !r.freed && !r.closes && uniws_buffered_amount(s); i++)
            turns(loop, 1);
        turns(loop, 2);
        if (!r.freed && !r.closes && uniws_ready_state(s) == UNIWS_OPEN)
            FUZZ_CHECK(uniws_buffered_amount(s) == 0);
    }

    /* The server goes away: whatever state the socket is in, it closes. */
    if (!r.freed && !r.closes)
        uniws__stream_fail(s, UNIWS_ERESET, NULL);
    turns(loop, 2);
    if (!r.freed) {
        FUZZ_CHECK(r.closes == 1);
        FUZZ_CHECK(uniws_loop_alive(loop) == 0);
        uniws_free(s);
    }
    if (!raw_answer)
        FUZZ_CHECK(r.opens == 1);
    turns(loop, 1);
    FUZZ_CHECK(uniws_loop_free(loop) == 0);
    return 0;
}
