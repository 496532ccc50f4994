/*
 * wsproto.c — RFC 6455 client side over a STREAM backend's bytes: the opening
 * handshake (request, and a strict check of the answer), frame parsing with
 * every validity rule, message reassembly under max_message_size, UTF-8
 * checks, automatic pongs, the closing handshake, and the output queue with
 * masking. Backends only move bytes, so every backend behaves the same here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/handshake.h"
#include "core/ascii.h"
#include "core/socket.h"
#include "core/validate.h"
#include "core/alloc.h"

#define HS_MAX      16384
#define MAX_HEADERS 64

/* ---- output queue (mu held by callers unless said otherwise) -------------- */

/* Frames below SHARED_FRAME share chunks, so frames queued together leave in
 * one write; a chunk grows with the burst (up to SHARED_CAP, below malloc's
 * mmap threshold so it is recycled without page faults). Larger frames get a
 * chunk of their own, counted out of buffered_amount byte by byte. */
#define SHARED_FRAME (16 * 1024)
#define SHARED_MIN   4096
#define SHARED_CAP   (64 * 1024)

static uniws__chunk *chunk_for(uniws_socket *s, size_t need, int single)
{
    uniws__chunk *t = s->out_tail;
    /* A drained big frame's chunk is kept (see consume) for the next big
     * frame: its pages are already mapped. Anything else lets it go. */
    if (t && t->hdr != SIZE_MAX && t->off == t->len && t == s->out_head) {
        if (single && need <= t->cap && need > t->cap / 2) {
            t->off = t->len = t->payload = 0;
            return t;
        }
        uniws__free(t);
        s->out_head = s->out_tail = t = NULL;
    }
    /* A shared chunk that is fully written has no peeked pointer into it any
     * more: start it over instead of leaving a drained chunk at the head. */
    if (t && t->hdr == SIZE_MAX && t->off == t->len && t->off > 0) {
        t->off = t->len = 0;
        t->payload = 0;
    }
    /* Small frames share a chunk; the bytes in it never move. */
    if (!single && t && t->hdr == SIZE_MAX && t->cap - t->len >= need)
        return t;
    size_t cap = need;
    if (!single) {
        cap = 2 * need > SHARED_MIN ? 2 * need : SHARED_MIN;
        if (t && t->hdr == SIZE_MAX && 2 * t->cap > cap)
            cap = 2 * t->cap; /* the last one filled up: a burst is going on */
        if (cap > SHARED_CAP)
            cap = SHARED_CAP > need ? SHARED_CAP : need;
    }
    uniws__chunk *c = uniws__malloc(sizeof *c + cap);
    if (!c)
        return NULL;
    c->next = NULL;
    c->len = c->off = c->payload = 0;
    c->cap = cap;
    c->hdr = SIZE_MAX;
    if (t)
        t->next = c;
    else
        s->out_head = c;
    s->out_tail = c;
    return c;
}

static void next_mask(uniws_socket *s, uint8_t mask[4])
{
    if (s->rnd_off + 4 > sizeof s->rnd) {
        if (uniws__plat_random(s->rnd, sizeof s->rnd) != 0) {
            /* No entropy source: still never send an unmasked frame. */
            for (size_t i = 0; i < sizeof s->rnd; i++)
                s->rnd[i] = (uint8_t)(rand() & 0xff);
        }
        s->rnd_off = 0;
    }
    memcpy(mask, s->rnd + s->rnd_off, 4);
    s->rnd_off += 4;
}

/* A frame's header, with a fresh masking key unless the backend frames again
 * (it masks with its own key: masking here would only make it unmask first). */
typedef struct {
    uint8_t hdr[UNIWS__FRAME_MAX_HEADER];
    uint8_t mask[4];
    size_t hl;
    int masked;
} frame_head;

static void frame_head_make(uniws_socket *s, frame_head *f, int fin, int rsv, int opcode,
                            size_t len)
{
    f->masked = !s->reframed;
    if (f->masked)
        next_mask(s, f->mask);
    f->hl = uniws__frame_header(f->hdr, fin, rsv, opcode, len, f->masked ? f->mask : NULL);
}

/* Writes the header and the (masked) payload: f->hl + len bytes at dst. */
static void frame_head_put(const frame_head *f, uint8_t *dst, const uint8_t *data, size_t len)
{
    memcpy(dst, f->hdr, f->hl);
    if (len && f->masked)
        uniws__mask_copy(dst + f->hl, data, len, f->mask, 0);
    else if (len)
        memcpy(dst + f->hl, data, len);
}

/* A big plain data frame with nothing queued before it, on a backend that
 * frames again (curl through TLS), sent from the loop thread: the backend
 * may write it straight from the caller's buffer (backend.h, send_now), so
 * only the part the transport did not take is copied, into c (the frame's
 * own chunk, already allocated: running out of memory after the frame was
 * started is impossible). Returns 1 when the frame is taken care of. */
static int send_now(uniws_socket *s, uniws__chunk *c, const frame_head *f, int fin, int rsv,
                    int opcode, const uint8_t *data, size_t len, size_t counted)
{
    if (!s->reframed || !s->backend->send_now || rsv || opcode >= 8 || counted != len ||
        c->len != 0 || s->destroyed || !uniws__loop_on_thread(s->loop))
        return 0;
    for (const uniws__chunk *h = s->out_head; h != c; h = h->next)
        if (!h || h->off != h->len)
            return 0; /* something is queued before it: order first */
    size_t sent = 0;
    if (!s->backend->send_now(s, fin, opcode, data, len, &sent))
        return 0;
    if (sent > len)
        sent = len;
    size_t rest = len - sent;
    if (rest)
        memcpy(c->data, data + sent, rest);
    c->hdr = 0; /* payload only: every byte counts out of buffered_amount */
    c->off = 0;
    c->len = rest;
    c->payload = rest;
    s->buffered += rest;
    s->out_queued += f->hl + len; /* as if queued whole and written up to here */
    s->out_written += f->hl + sent;
    uniws__life_frame_sent(s);
    uniws__life_tx(s, f->hl + sent);
    if (!rest)
        uniws__stream_trim_later(s); /* the kept chunk goes if no big frame follows */
    return 1;
}

/* A big masked data frame with nothing queued before it, on a backend that
 * can write the core's frames at once (write_now): it is masked a slice at a
 * time and written as far as the socket takes it (core/txdirect.c); only the
 * rest is masked into c, the frame's own chunk, already allocated so that
 * running out of memory after the frame was started is impossible. Returns
 * 1 when the frame is taken care of. */
static int write_through(uniws_socket *s, uniws__chunk *c, const frame_head *f, int opcode,
                         const uint8_t *data, size_t len, size_t counted)
{
    if (!f->masked || !s->backend->write_now || opcode >= 8 || counted != len || c->len != 0 ||
        s->destroyed || !s->transport_up)
        return 0;
    for (const uniws__chunk *h = s->out_head; h != c; h = h->next)
        if (!h || h->off != h->len)
            return 0; /* something is queued before it: order first */
    size_t sent = uniws__tx_direct(s, f->hdr, f->hl, f->mask, data, len);
    if (sent == 0)
        return 0;
    size_t total = f->hl + len, hrest = sent < f->hl ? f->hl - sent : 0;
    size_t p0 = sent > f->hl ? sent - f->hl : 0; /* payload bytes written */
    memcpy(c->data, f->hdr + (f->hl - hrest), hrest);
    uniws__mask_copy(c->data + hrest, data + p0, len - p0, f->mask, p0);
    c->hdr = hrest; /* the rest of the frame: payload counts out byte by byte */
    c->off = 0;
    c->len = total - sent;
    c->payload = len - p0;
    s->buffered += len - p0;
    s->out_queued += total; /* as if queued whole and written up to here */
    s->out_written += sent;
    uniws__life_frame_sent(s);
    uniws__life_tx(s, sent);
    if (sent == total)
        uniws__stream_trim_later(s); /* the kept chunk goes if no big frame follows */
    return 1;
}

/* counted: the application bytes this frame stands for in buffered_amount
 * (what send() was given, even when the payload is compressed). */
static int queue_raw_frame(uniws_socket *s, int fin, int rsv, int opcode, const uint8_t *data,
                           size_t len, size_t counted)
{
    frame_head f;
    frame_head_make(s, &f, fin, rsv, opcode, len);
    int single = len >= SHARED_FRAME;
    uniws__chunk *c = chunk_for(s, f.hl + len, single);
    if (!c)
        return UNIWS_ENOMEM;
    if (single && (send_now(s, c, &f, fin, rsv, opcode, data, len, counted) ||
                   write_through(s, c, &f, opcode, data, len, counted)))
        return 0;
    frame_head_put(&f, c->data + c->len, data, len);
    if (single)
        c->hdr = f.hl;
    c->len += f.hl + len;
    s->out_queued += f.hl + len;
    c->payload += counted;
    s->buffered += counted;
    uniws__life_frame_sent(s);
    return 0;
}

/* With max_frame_size, a ping or pong does not wait behind every queued
 * frame: it goes in a chunk of its own right after the chunk being written.
 * Every chunk holds whole frames (or, after a write-through, the rest of
 * one), so that is a frame boundary. Drained chunks not dropped yet are
 * skipped: the chunk after them may be the one being written. */
static int queue_control_early(uniws_socket *s, int opcode, const uint8_t *data, size_t len)
{
    uniws__chunk *h = s->out_head;
    while (h && h->off == h->len && h->next)
        h = h->next;
    if (!h || h == s->out_tail)
        return queue_raw_frame(s, 1, 0, opcode, data, len, 0);
    frame_head f;
    frame_head_make(s, &f, 1, 0, opcode, len);
    uniws__chunk *c = uniws__malloc(sizeof *c + f.hl + len);
    if (!c)
        return UNIWS_ENOMEM;
    frame_head_put(&f, c->data, data, len);
    c->len = c->cap = f.hl + len;
    c->off = c->payload = 0;
    c->hdr = SIZE_MAX;
    c->next = h->next;
    h->next = c;
    s->out_queued += f.hl + len; /* out_written counts it when it is written */
    uniws__life_frame_sent(s);
    return 0;
}

int uniws__ws_queue(uniws_socket *s, int opcode, const void *data, size_t len)
{
    /* RFC 7692 lets a message go uncompressed; a backend that frames again
     * cannot set RSV1, so it would only have to inflate it again. */
    if (s->pmd && !s->reframed && (opcode == UNIWS__OP_TEXT || opcode == UNIWS__OP_BINARY)) {
#ifdef UNIWS_HAVE_ZLIB
        uint8_t *z;
        size_t zlen;
        int r = uniws__pmd_deflate(s->pmd, data, len, &z, &zlen);
        if (r)
            return r;
        r = uniws__tx_frames(s, opcode, 4, z, zlen, len, 1);
        uniws__free(z);
        if (r == 0)
            uniws__life_zsent(s, len, zlen);
        return r;
#endif
    }
    if (opcode == UNIWS__OP_TEXT || opcode == UNIWS__OP_BINARY)
        return uniws__tx_frames(s, opcode, 0, data, len, len, 1);
    if (s->opts.max_frame_size)
        return queue_control_early(s, opcode, data, len);
    return queue_raw_frame(s, 1, 0, opcode, data, len, opcode == UNIWS__OP_PING ? 0 : len);
}

int uniws__ws_queue_raw(uniws_socket *s, int fin, int rsv, int opcode, const uint8_t *data,
                        size_t len, size_t counted)
{
    return queue_raw_frame(s, fin, rsv, opcode, data, len, counted);
}

int uniws__ws_queue_fragment(uniws_socket *s, int opcode, const void *data, size_t len, int fin)
{
    /* Never compressed: RFC 7692 lets a message go plain (RSV1 clear on its
     * first frame), and a plain message needs no deflate state across parts. */
    return uniws__tx_frames(s, opcode, 0, data, len, len, fin);
}

int uniws__ws_queue_close(uniws_socket *s, int code, const char *reason, size_t len)
{
    uint8_t p[125];
    size_t n = 0;
    if (code) {
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        if (len > 123)
            len = 123;
        if (len)
            memcpy(p + 2, reason, len);
        n = 2 + len;
    }
    return queue_raw_frame(s, 1, 0, UNIWS__OP_CLOSE, p, n, 0);
}

static int queue_bytes(uniws_socket *s, const char *data, size_t len)
{
    uniws__chunk *c = chunk_for(s, len, 1);
    if (!c)
        return UNIWS_ENOMEM;
    memcpy(c->data, data, len);
    c->len = len;
    s->out_queued += len;
    return 0;
}

size_t uniws__stream_out_peek(uniws_socket *s, const uint8_t **p)
{
    size_t n = 0;
    uniws__mutex_lock(s->mu);
    uniws__chunk *c = s->out_head;
    /* Drop drained chunks that something was queued behind. */
    while (c && c->off == c->len && c->next) {
        s->out_head = c->next;
        uniws__free(c);
        c = s->out_head;
    }
    if (c && !s->destroyed) {
        *p = c->data + c->off;
        n = c->len - c->off;
    }
    uniws__mutex_unlock(s->mu);
    return n;
}

size_t uniws__stream_out_peekv(uniws_socket *s, uniws__out_run *runs, size_t max, size_t limit)
{
    size_t k = 0, total = 0;
    uniws__mutex_lock(s->mu);
    for (uniws__chunk *c = s->destroyed ? NULL : s->out_head; c && k < max && total < limit;
         c = c->next) {
        size_t n = c->len - c->off;
        if (n == 0)
            continue; /* drained, not dropped yet */
        if (n > limit - total)
            n = limit - total;
        runs[k].p = c->data + c->off;
        runs[k].n = n;
        total += n;
        k++;
    }
    uniws__mutex_unlock(s->mu);
    return k;
}

static void flushed(uniws_socket *s);

/* Queues a pong for the ping payload p (mu held): at once when the last
 * automatic pong has been written, else it replaces the pending one, which
 * pong_release() queues once the previous pong is out. Automatic pongs are
 * not application bytes: they never count in buffered_amount. Returns 1
 * when something was queued. */
static int pong_queue(uniws_socket *s, const uint8_t *p, size_t len)
{
    if (s->close_sent)
        return 0;
    if (s->out_written >= s->pong_end) {
        int r = s->opts.max_frame_size ? queue_control_early(s, UNIWS__OP_PONG, p, len)
                                       : queue_raw_frame(s, 1, 0, UNIWS__OP_PONG, p, len, 0);
        if (r != 0)
            return 0; /* out of memory: a later ping gets its answer */
        s->pong_end = s->out_queued;
        s->pong_pending = 0;
        return 1;
    }
    memcpy(s->pong_buf, p, len);
    s->pong_len = len;
    s->pong_pending = 1;
    return 0;
}

/* The pending pong, once the one before it is written (mu held). Returns 1
 * when a frame was queued (the backend must be asked to write it). */
static int pong_release(uniws_socket *s)
{
    if (!s->pong_pending || s->out_written < s->pong_end)
        return 0;
    s->pong_pending = 0;
    if (pong_queue(s, s->pong_buf, s->pong_len)) {
        s->want_kick = 1;
        return 1;
    }
    return 0;
}

void uniws__stream_out_consume(uniws_socket *s, size_t n)
{
    int empty, trim = 0, low;
    if (n)
        uniws__life_tx(s, n);
    uniws__mutex_lock(s->mu);
    while (n > 0 && s->out_head) {
        uniws__chunk *c = s->out_head;
        size_t take = c->len - c->off < n ? c->len - c->off : n;
        if (take == 0 && !c->next)
            break; /* more than was queued: a kept drained chunk must not spin here */
        size_t before = c->off;
        c->off += take;
        n -= take;
        s->out_written += take;
        if (c->hdr != SIZE_MAX) {
            /* One big frame: count payload bytes out as they are written. */
            size_t p0 = before > c->hdr ? before - c->hdr : 0;
            size_t p1 = c->off > c->hdr ? c->off - c->hdr : 0;
            size_t d = p1 - p0 < c->payload ? p1 - p0 : c->payload;
            c->payload -= d;
            s->buffered -= d;
        }
        /* A drained chunk goes, unless it is the last one and a big frame's
         * own: re-mapping and zeroing the pages of a multi-MiB buffer for
         * every big message costs more than the copy into it, so it stays
         * until a frame of another size comes (chunk_for). A full-size
         * shared chunk (a burst of small frames) stays too: freeing the
         * burst's chunks leaves free memory at the top of the heap, which
         * malloc gives back to the system and maps again for the next
         * burst (two brk calls and fresh zeroed pages per burst made 4 KiB
         * x 64 in flight 6x slower on lws). A small shared chunk is cheap
         * to get again, and an idle socket keeps nothing (4 KiB per socket
         * is most of an idle connection's memory): the trim timer lets a
         * kept chunk go. */
        int keep = !c->next && (c->hdr != SIZE_MAX ? c->cap > SHARED_FRAME : c->cap >= SHARED_CAP);
        if (c->off == c->len && keep) {
            trim = 1;
            if (c->hdr == SIZE_MAX) {
                s->buffered -= c->payload;
                c->payload = 0;
            }
        }
        if (c->off == c->len && !keep) {
            s->buffered -= c->payload;
            s->out_head = c->next;
            if (!s->out_head)
                s->out_tail = NULL;
            uniws__free(c);
        }
    }
    int more = pong_release(s);
    empty = !s->out_head || s->out_head->off == s->out_head->len;
    low = uniws__flow_drained(s);
    uniws__mutex_unlock(s->mu);
    if (trim)
        uniws__stream_trim_later(s); /* the kept chunk goes if no big frame follows */
    if (low || more)
        uniws__sock_post(s);
    if (empty)
        flushed(s);
}

void uniws__ws_trim_output(uniws_socket *s)
{
    uniws__mutex_lock(s->mu);
    uniws__chunk *c = s->out_head;
    if (c && c == s->out_tail && c->off == c->len) {
        uniws__free(c);
        s->out_head = s->out_tail = NULL;
    }
    uniws__mutex_unlock(s->mu);
}

/* ---- failing and closing ------------------------------------------------ */

void uniws__ws_fail(uniws_socket *s, int err, int wire_code, const char *msg)
{
    if (uniws__sock_done(s))
        return;
    if (wire_code && s->transport_up && s->hs_done) {
        uniws__mutex_lock(s->mu);
        int send = !s->close_sent;
        if (send && uniws__ws_queue_close(s, wire_code, "", 0) == 0) {
            s->close_sent = 1;
            s->want_kick = 1;
            /* Keep the transport until the close frame is out (bounded). */
            s->linger = 1;
        }
        uniws__mutex_unlock(s->mu);
        if (s->linger) {
            uniws__timer_start(s->loop, &s->close_timer, 1000);
            uniws__sock_post(s);
        }
    }
    uniws__sock_fail(s, err, 0, msg);
}

static void finish_clean(uniws_socket *s)
{
    int code = s->peer_code ? s->peer_code : UNIWS_CLOSE_NO_STATUS;
    uniws__sock_emit_close(s, code, s->peer_reason, s->peer_reason_len, 1);
}

static void flushed(uniws_socket *s)
{
    if (s->linger && !s->linger_done) {
        s->linger_done = 1;
        uniws__sock_post(s);
    } else if (s->close_after_flush && !uniws__sock_done(s)) {
        finish_clean(s);
    }
}

void uniws__ws_close_timeout(uniws_socket *s)
{
    if (s->close_received)
        finish_clean(s); /* our reply could not be flushed in time */
    else
        uniws__ws_fail(s, UNIWS_ETIMEOUT, 0, "the peer did not answer the close frame in time");
}

void uniws__stream_fail(uniws_socket *s, int err, const char *msg)
{
    s->transport_up = 0;
    if (uniws__sock_done(s))
        return;
    if (s->close_received) {
        finish_clean(s);
        return;
    }
    if (err == UNIWS_ERESET && !msg)
        msg = s->hs_done ? "the connection closed without a close frame"
                         : "the connection closed during the handshake";
    uniws__ws_fail(s, err, 0, msg);
}

/* ---- the opening handshake ------------------------------------------------- */

int uniws__ws_init(uniws_socket *s)
{
    int r = uniws__ws_key(s->key);
    if (r)
        return r;
    s->utf8 = (uniws__utf8)UNIWS__UTF8_INIT;
    s->rnd_off = sizeof s->rnd;
    s->reframed = s->backend->reframes_output;
    /* The WebSocket header lines of the upgrade request, built once: a
     * library that writes the request itself (does_upgrade) gets them as
     * they are, and uniws__stream_connected() composes its own from them. */
    size_t n = 0, size;
    size = 256 + (s->protocols_joined ? strlen(s->protocols_joined) : 0);
    for (size_t i = 0; i < s->nhdrs; i++)
        size += strlen(s->hdrs[i].name) + strlen(s->hdrs[i].value) + 4;
    s->upgrade_store = uniws__malloc(size);
    s->upgrade_lines = uniws__calloc(4 + s->nhdrs, sizeof *s->upgrade_lines);
    if (!s->upgrade_store || !s->upgrade_lines)
        return UNIWS_ENOMEM;
    char *w = s->upgrade_store;
#define UNIWS__LINE(...)                                                                           \
    do {                                                                                           \
        s->upgrade_lines[n++] = w;                                                                 \
        w += snprintf(w, size - (size_t)(w - s->upgrade_store), __VA_ARGS__) + 1;                  \
    } while (0)
    UNIWS__LINE("Sec-WebSocket-Key: %s", s->key);
    UNIWS__LINE("Sec-WebSocket-Version: 13");
    if (s->protocols_joined)
        UNIWS__LINE("Sec-WebSocket-Protocol: %s", s->protocols_joined);
#ifdef UNIWS_HAVE_ZLIB
    if (s->opts.permessage_deflate)
        UNIWS__LINE("Sec-WebSocket-Extensions: %s", uniws__pmd_offer());
#endif
    for (size_t i = 0; i < s->nhdrs; i++)
        UNIWS__LINE("%s: %s", s->hdrs[i].name, s->hdrs[i].value);
#undef UNIWS__LINE
    s->nupgrade_lines = n;
    return 0;
}

void uniws__ws_cleanup(uniws_socket *s)
{
    uniws__chunk *c = s->out_head;
    while (c) {
        uniws__chunk *n = c->next;
        uniws__free(c);
        c = n;
    }
    s->out_head = s->out_tail = NULL;
    uniws__free(s->hsbuf);
    uniws__rxbuf_cleanup(s);
    uniws__rxlater_release(s);
    uniws__free(s->upgrade_store);
    uniws__free(s->upgrade_lines);
    s->hsbuf = NULL;
    s->msg = NULL;
    s->upgrade_store = NULL;
    s->upgrade_lines = NULL;
#ifdef UNIWS_HAVE_ZLIB
    uniws__pmd_free(s->pmd);
#endif
    s->pmd = NULL;
}

const char *const *uniws__stream_upgrade_headers(uniws_socket *s, size_t *n)
{
    *n = s->nupgrade_lines;
    return s->upgrade_lines;
}

void uniws__stream_writes_frames(uniws_socket *s)
{
    uniws__mutex_lock(s->mu);
    s->reframed = 0;
    uniws__mutex_unlock(s->mu);
}

void uniws__stream_connected(uniws_socket *s)
{
    if (uniws__sock_done(s))
        return;
    s->transport_up = 1;
    uniws__life_transport_up(s);
    if (s->backend->does_upgrade)
        return;
    size_t size = 128 + strlen(s->url.path) + strlen(s->url.host_header);
    for (size_t i = 0; i < s->nupgrade_lines; i++)
        size += strlen(s->upgrade_lines[i]) + 2;
    char *req = uniws__malloc(size);
    if (!req) {
        uniws__ws_fail(s, UNIWS_ENOMEM, 0, NULL);
        return;
    }
    size_t n = (size_t)snprintf(req, size,
                                "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\n",
                                s->url.path, s->url.host_header);
    for (size_t i = 0; i < s->nupgrade_lines; i++)
        n += (size_t)snprintf(req + n, size - n, "%s\r\n", s->upgrade_lines[i]);
    n += (size_t)snprintf(req + n, size - n, "\r\n");
    uniws__mutex_lock(s->mu);
    int r = queue_bytes(s, req, n);
    uniws__mutex_unlock(s->mu);
    uniws__free(req);
    if (r) {
        uniws__ws_fail(s, r, 0, NULL);
        return;
    }
    uniws__sock_kick(s);
}

/* 1 when the comma-separated list `v` holds `token` (case-insensitive). */
static int has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *e = v;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - v) == tl && uniws__ascii_ncasecmp(v, token, tl) == 0)
            return 1;
        v = e;
    }
    return 0;
}

static int upgrade_fail(uniws_socket *s, int status, const char *msg)
{
    uniws__sock_fail(s, UNIWS_EHANDSHAKE, status, msg);
    return -1;
}

/* An allocation of the handshake failed: that is UNIWS_ENOMEM, not a bad
 * answer. */
static int upgrade_oom(uniws_socket *s, int status)
{
    uniws__sock_fail(s, UNIWS_ENOMEM, status, "out of memory checking the handshake answer");
    return -1;
}

static char *trim_dup(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    char *d = uniws__malloc(n + 1);
    if (d) {
        memcpy(d, v, n);
        d[n] = 0;
    }
    return d;
}

int uniws__stream_upgraded(uniws_socket *s, int status, uniws__header_get get, void *ctx)
{
    char msg[160];
    if (uniws__sock_done(s))
        return -1;
    if (status != 101) {
        snprintf(msg, sizeof msg, "the server answered HTTP %d instead of 101", status);
        return upgrade_fail(s, status, msg);
    }
    const char *up = get(ctx, "Upgrade"), *conn = get(ctx, "Connection");
    if (!up || !has_token(up, "websocket"))
        return upgrade_fail(s, status, "the answer lacks 'Upgrade: websocket'");
    if (!conn || !has_token(conn, "upgrade"))
        return upgrade_fail(s, status, "the answer lacks 'Connection: Upgrade'");
    char expect[29];
    uniws__ws_accept(s->key, expect);
    const char *acc = get(ctx, "Sec-WebSocket-Accept");
    char *acc_t = acc ? trim_dup(acc) : NULL;
    if (acc && !acc_t)
        return upgrade_oom(s, status);
    int ok = acc_t && strcmp(acc_t, expect) == 0;
    uniws__free(acc_t);
    if (!ok)
        return upgrade_fail(s, status, "wrong or missing Sec-WebSocket-Accept");

    const char *proto = get(ctx, "Sec-WebSocket-Protocol");
    /* WHATWG (as every browser does): offering subprotocols and getting none
     * back fails the connection. */
    if (!proto && s->nprotos)
        return upgrade_fail(s, status, "the server selected none of the offered subprotocols");
    if (proto) {
        char *p = trim_dup(proto);
        if (!p)
            return upgrade_oom(s, status);
        int found = 0;
        for (size_t i = 0; p && i < s->nprotos; i++)
            if (strcmp(s->protos[i], p) == 0)
                found = 1;
        if (!p || !found) {
            uniws__free(p);
            return upgrade_fail(s, status,
                                "the server selected a subprotocol that was not offered");
        }
        uniws__free(s->protocol);
        s->protocol = p;
    }
    const char *ext = get(ctx, "Sec-WebSocket-Extensions");
    if (ext) {
        char *e = trim_dup(ext);
        if (!e)
            return upgrade_oom(s, status);
        if (!*e) {
            uniws__free(e);
        } else {
#ifdef UNIWS_HAVE_ZLIB
            size_t nl = strlen("permessage-deflate");
            if (s->opts.permessage_deflate &&
                uniws__ascii_ncasecmp(e, "permessage-deflate", nl) == 0 &&
                (e[nl] == 0 || e[nl] == ';' || e[nl] == ' ') && !strchr(e, ',')) {
                int r = uniws__pmd_accept(e + nl, &s->pmd);
                uniws__free(e);
                if (r == UNIWS_ENOMEM)
                    return upgrade_oom(s, status);
                if (r)
                    return upgrade_fail(s, status, "unacceptable permessage-deflate parameters");
                uniws__free(s->extensions);
                s->extensions = trim_dup(uniws__pmd_describe(s->pmd));
                if (!s->extensions)
                    return upgrade_oom(s, status);
            } else
#endif
            {
                uniws__free(e);
                return upgrade_fail(s, status,
                                    "the server accepted an extension that was not offered");
            }
        }
    }
    s->hs_done = 1;
    uniws__hsinfo_body(&s->hsinfo, NULL, 0); /* what followed the 101 were frames */
    uniws__sock_emit_open(s);
    return uniws__sock_done(s) ? -1 : 0;
}

struct hs_headers {
    size_t n;
    const char *name[MAX_HEADERS];
    const char *value[MAX_HEADERS];
};

static const char *hs_get(void *ctx, const char *name)
{
    struct hs_headers *h = ctx;
    for (size_t i = 0; i < h->n; i++)
        if (uniws__ascii_casecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

/* Parses the answer head in s->hsbuf (NUL-terminated, ending in CRLFCRLF). */
static int parse_answer(uniws_socket *s)
{
    struct hs_headers h = {0};
    char *line = s->hsbuf, *eol = strstr(line, "\r\n");
    int status = 0;
    *eol = 0;
    if (strncmp(line, "HTTP/1.", 7) != 0 || !(line[7] == '0' || line[7] == '1') || line[8] != ' ' ||
        sscanf(line + 9, "%3d", &status) != 1 || status < 100 || status > 999)
        return upgrade_fail(s, 0, "the server's answer is not HTTP");
    line = eol + 2;
    while (*line && strncmp(line, "\r\n", 2) != 0) {
        eol = strstr(line, "\r\n");
        *eol = 0;
        char *colon = strchr(line, ':');
        if (!colon || colon == line)
            return upgrade_fail(s, status, "malformed header line in the server's answer");
        *colon = 0;
        if (h.n < MAX_HEADERS) {
            /* A repeated WebSocket header would be ambiguous: refuse it. */
            if (uniws__ascii_ncasecmp(line, "Sec-WebSocket-", 14) == 0 && hs_get(&h, line))
                return upgrade_fail(s, status, "repeated Sec-WebSocket header in the answer");
            h.name[h.n] = line;
            h.value[h.n] = colon + 1;
            h.n++;
        }
        line = eol + 2;
    }
    /* Kept for uniws_response_header() and a refusal's error event; without
     * memory for them the handshake still goes on. */
    uniws__hsinfo_set(&s->hsinfo, h.n, h.name, h.value);
    return uniws__stream_upgraded(s, status, hs_get, &h);
}

/* Returns bytes of `p` used by the handshake, or -1 when the socket failed. */
static long hs_feed(uniws_socket *s, const uint8_t *p, size_t len)
{
    size_t old = s->hslen;
    size_t take = len < HS_MAX - old ? len : HS_MAX - old;
    char *nb = uniws__realloc(s->hsbuf, old + take + 1);
    if (!nb) {
        uniws__ws_fail(s, UNIWS_ENOMEM, 0, NULL);
        return -1;
    }
    s->hsbuf = nb;
    memcpy(nb + old, p, take);
    s->hslen = old + take;
    nb[s->hslen] = 0;
    size_t from = old > 3 ? old - 3 : 0;
    char *end = NULL;
    for (size_t i = from; i + 4 <= s->hslen; i++)
        if (memcmp(nb + i, "\r\n\r\n", 4) == 0) {
            end = nb + i;
            break;
        }
    if (!end) {
        if (s->hslen >= HS_MAX) {
            upgrade_fail(s, 0, "the server's answer head is too large");
            return -1;
        }
        return (long)take;
    }
    size_t head = (size_t)(end - nb) + 4;
    if (memchr(nb, 0, head)) {
        upgrade_fail(s, 0, "NUL byte in the server's answer");
        return -1;
    }
    /* The body bytes that came with the head (a refusal's first words). */
    uniws__hsinfo_body(&s->hsinfo, nb + head, s->hslen - head);
    nb[head] = 0;
    if (parse_answer(s) < 0)
        return -1;
    uniws__free(s->hsbuf);
    s->hsbuf = NULL;
    s->hslen = 0;
    return (long)(head - old);
}

/* ---- frames ----------------------------------------------------------------- */

static int fail_protocol(uniws_socket *s, int wire, int err, const char *msg)
{
    uniws__ws_fail(s, err, wire, msg);
    return -1;
}

static int check_header(uniws_socket *s, const uniws__frame_hdr *h)
{
    int op = h->opcode;
    if (h->masked)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "the server sent a masked frame");
    if (op >= 3 && op <= 7)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "reserved data opcode");
    if (op > 0xA)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "reserved control opcode");
    int ctrl = op >= 8;
    int rsv_ok = h->rsv == 0 || (h->rsv == 4 && s->pmd && (op == 1 || op == 2));
    if (!rsv_ok)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "reserved bits set without an extension");
    if (ctrl && (!h->fin || h->len > 125))
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL,
                             h->fin ? "control frame longer than 125 bytes"
                                    : "fragmented control frame");
    if (op == UNIWS__OP_CONT && !s->frag_op)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "continuation frame without a message");
    if ((op == 1 || op == 2) && s->frag_op)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL,
                             "new message inside an unfinished fragmented message");
    /* In parts (on_message_part) only compressed messages are held whole. */
    int held = !uniws__parts_on(s) || (op == 1 || op == 2 ? h->rsv == 4 : s->frag_compressed);
    if (!ctrl && held && h->len > (uint64_t)(s->max_msg - s->msg_len))
        return fail_protocol(s, 1009, UNIWS_ETOO_BIG, "message exceeds max_message_size");
    if (op == 1 || op == 2) {
        s->frag_op = op;
        s->frag_compressed = h->rsv == 4;
        s->msg_len = 0;
        s->utf8 = (uniws__utf8)UNIWS__UTF8_INIT;
        uniws__parts_reset(s);
    }
    return 0;
}

/* A whole unfragmented, uncompressed binary message that sits entirely in
 * the backend's buffer: hand it over from there, without copying it. */
static int deliver_in_place(uniws_socket *s, const uint8_t *p, size_t len)
{
    s->frag_op = 0;
    s->in_frame = 0;
    uniws__rxbuf_idle(s);
    uniws__mutex_lock(s->mu);
    int deliver = !s->close_sent;
    uniws__mutex_unlock(s->mu);
    if (deliver && uniws__parts_on(s))
        return uniws__parts_whole(s, UNIWS_BINARY, p, len);
    if (deliver)
        uniws__sock_emit_message(s, UNIWS_BINARY, len ? (const void *)p : (const void *)"", len);
    return uniws__sock_done(s) ? -1 : 0;
}

static int handle_close(uniws_socket *s)
{
    const uint8_t *p = s->ctrl;
    size_t n = s->ctrl_len;
    if (n == 1)
        return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "close frame with a 1-byte payload");
    int code = 0;
    if (n >= 2) {
        code = (p[0] << 8) | p[1];
        if (!uniws__close_code_receivable(code))
            return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "invalid close code from the server");
        if (!uniws__utf8_valid(p + 2, n - 2))
            return fail_protocol(s, 1007, UNIWS_EUTF8, "close reason is not valid UTF-8");
        memcpy(s->peer_reason, p + 2, n - 2);
        s->peer_reason_len = n - 2;
    }
    s->peer_code = code;
    s->close_received = 1;
    uniws__mutex_lock(s->mu);
    int reply = !s->close_sent;
    if (reply && uniws__ws_queue_close(s, code, "", 0) != 0) {
        /* Out of memory: no reply can go out, so the close is not clean. */
        uniws__mutex_unlock(s->mu);
        uniws__ws_fail(s, UNIWS_ENOMEM, 0, "out of memory answering the close frame");
        return -1;
    }
    if (reply) {
        /* Echo the code (RFC 6455 5.5.1), after anything already queued. */
        s->close_sent = 1;
        s->close_after_flush = 1;
        s->want_kick = 1;
        uniws__atomic_store(&s->state, UNIWS_CLOSING);
    }
    uniws__mutex_unlock(s->mu);
    if (!reply) {
        finish_clean(s);
        return -1;
    }
    uniws__sock_post(s);
    /* Bound the wait for our reply to drain. */
    int ms = s->opts.close_timeout_ms ? s->opts.close_timeout_ms : UNIWS_DEFAULT_CLOSE_TIMEOUT_MS;
    uniws__timer_start(s->loop, &s->close_timer, (uint64_t)ms);
    return 0;
}

static int frame_done(uniws_socket *s)
{
    const uniws__frame_hdr *h = &s->fh;
    s->in_frame = 0;
    if (h->opcode == UNIWS__OP_CLOSE)
        return handle_close(s);
    if (h->opcode == UNIWS__OP_PING) {
        uniws__mutex_lock(s->mu);
        int ok = pong_queue(s, s->ctrl, s->ctrl_len);
        if (ok)
            s->want_kick = 1;
        uniws__mutex_unlock(s->mu);
        if (ok)
            uniws__sock_post(s);
        return 0;
    }
    if (h->opcode == UNIWS__OP_PONG) {
        uniws__life_pong(s, s->ctrl, s->ctrl_len);
        return uniws__sock_done(s) ? -1 : 0;
    }
    if (!h->fin)
        return 0;
    /* A whole message. */
    int type = s->frag_op == UNIWS__OP_TEXT ? UNIWS_TEXT : UNIWS_BINARY;
    if (uniws__parts_on(s) && !s->frag_compressed) {
        /* Its parts went out as they came; an empty last frame ends it here. */
        s->frag_op = 0;
        if (s->part_ended)
            return uniws__sock_done(s) ? -1 : 0;
        if (type == UNIWS_TEXT && !uniws__utf8_done(&s->utf8))
            return fail_protocol(s, 1007, UNIWS_EUTF8, "text message is not valid UTF-8");
        return uniws__parts_data(s, type, NULL, 0, 1);
    }
    s->frag_op = 0;
    uint8_t *data = s->msg;
    size_t len = s->msg_len;
    uint8_t *inflated = NULL;
    s->msg_len = 0;
    if (s->frag_compressed) {
#ifdef UNIWS_HAVE_ZLIB
        size_t zlen = len;
        int r = uniws__pmd_inflate(s->pmd, data, len, s->max_msg, &inflated, &len);
        if (r == 0)
            uniws__life_zrecv(s, len, zlen);
        if (r == UNIWS_ETOO_BIG)
            return fail_protocol(s, 1009, r, "message exceeds max_message_size");
        if (r)
            return fail_protocol(s, 1007, r, "corrupt permessage-deflate data");
        data = inflated;
        if (type == UNIWS_TEXT && !uniws__utf8_valid(data, len)) {
            uniws__free(inflated);
            return fail_protocol(s, 1007, UNIWS_EUTF8, "text message is not valid UTF-8");
        }
#endif
    } else if (type == UNIWS_TEXT && !uniws__utf8_done(&s->utf8)) {
        return fail_protocol(s, 1007, UNIWS_EUTF8, "text message is not valid UTF-8");
    }
    if (data)
        data[len] = 0;
    uniws__mutex_lock(s->mu);
    int deliver = !s->close_sent;
    uniws__mutex_unlock(s->mu);
    if (deliver && uniws__parts_on(s))
        uniws__parts_whole(s, type, data, len);
    else if (deliver)
        uniws__sock_emit_message(s, (uniws_msg_type)type, data ? (void *)data : (void *)"", len);
    uniws__free(inflated);
    /* A huge buffer stays for the next huge message (re-mapping and zeroing
     * its pages each time costs more than the copy into it) but not for an
     * idle socket (core/rxbuf.c). */
    uniws__rxbuf_idle(s);
    return uniws__sock_done(s) ? -1 : 0;
}

/* n payload bytes of the current data frame now sit at s->msg + msg_len
 * (copied there by rx_frames, or read there by the backend: rxinto.c). */
static int payload_stored(uniws_socket *s, size_t n)
{
    if (s->frag_op == UNIWS__OP_TEXT && !s->frag_compressed &&
        uniws__utf8_feed(&s->utf8, s->msg + s->msg_len, n) < 0)
        return fail_protocol(s, 1007, UNIWS_EUTF8, "text message is not valid UTF-8");
    s->msg_len += n;
    return 0;
}

int uniws__ws_rx_stored(uniws_socket *s, size_t n)
{
    if (payload_stored(s, n) < 0)
        return -1;
    s->remaining -= n;
    if (s->remaining == 0 && frame_done(s) < 0)
        return -1;
    return uniws__sock_done(s) ? -1 : 0;
}

static int rx_frames(uniws_socket *s, const uint8_t *p, size_t len)
{
    while (len > 0) {
        if (uniws__sock_done(s))
            return -1;
        if (s->close_received)
            return 0; /* nothing may follow a close frame; ignore it */
        if (!s->in_frame) {
            int r;
            if (s->hdr_have == 0) {
                r = uniws__frame_parse(p, len, &s->fh);
                if (r > 0) {
                    p += r;
                    len -= (size_t)r;
                }
            } else {
                r = 0;
            }
            if (r == 0) {
                /* Header split across reads: gather it. */
                size_t take = UNIWS__FRAME_MAX_HEADER - s->hdr_have;
                if (take > len)
                    take = len;
                memcpy(s->hdr + s->hdr_have, p, take);
                size_t have = s->hdr_have + take;
                r = uniws__frame_parse(s->hdr, have, &s->fh);
                if (r == 0) {
                    s->hdr_have = have;
                    return 0;
                }
                if (r > 0) {
                    size_t used = (size_t)r - s->hdr_have;
                    p += used;
                    len -= used;
                    s->hdr_have = 0;
                }
            }
            if (r < 0)
                return fail_protocol(s, 1002, UNIWS_EPROTOCOL, "malformed frame header");
            if (check_header(s, &s->fh) < 0)
                return -1;
            uniws__life_frame_received(s, s->fh.opcode);
            if (s->fh.opcode == UNIWS__OP_BINARY && s->fh.fin && s->fh.rsv == 0 &&
                s->fh.len <= len) {
                size_t n = (size_t)s->fh.len;
                const uint8_t *payload = p;
                p += n;
                len -= n;
                if (deliver_in_place(s, payload, n) < 0)
                    return -1;
                continue;
            }
            s->in_frame = 1;
            s->remaining = s->fh.len;
            s->ctrl_len = 0;
            if (s->remaining == 0 && frame_done(s) < 0)
                return -1;
            continue;
        }
        size_t take = (uint64_t)len < s->remaining ? len : (size_t)s->remaining;
        if (s->fh.opcode >= 8) {
            memcpy(s->ctrl + s->ctrl_len, p, take);
            s->ctrl_len += take;
        } else if (uniws__parts_on(s) && !s->frag_compressed) {
            /* Streaming receive: hand the bytes out as they are. */
            int text = s->frag_op == UNIWS__OP_TEXT;
            int final = s->fh.fin && s->remaining == take;
            if (text &&
                (uniws__utf8_feed(&s->utf8, p, take) < 0 || (final && !uniws__utf8_done(&s->utf8))))
                return fail_protocol(s, 1007, UNIWS_EUTF8, "text message is not valid UTF-8");
            uniws__mutex_lock(s->mu);
            int deliver = !s->close_sent;
            uniws__mutex_unlock(s->mu);
            if (deliver &&
                uniws__parts_data(s, text ? UNIWS_TEXT : UNIWS_BINARY, p, take, final) < 0)
                return -1;
        } else {
            /* The buffer grows with the bytes that came, not with what the
             * header claims. */
            if (uniws__rxbuf_room(s, take, s->remaining, s->fh.fin) < 0)
                return fail_protocol(s, 1011, UNIWS_ENOMEM, "out of memory for a message");
            memcpy(s->msg + s->msg_len, p, take);
            if (payload_stored(s, take) < 0)
                return -1;
        }
        p += take;
        len -= take;
        s->remaining -= take;
        if (s->remaining == 0 && frame_done(s) < 0)
            return -1;
    }
    return uniws__sock_done(s) ? -1 : 0;
}

int uniws__stream_recv(uniws_socket *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (uniws__sock_done(s))
        return -1;
    uniws__life_rx(s, len);
    if (!s->hs_done) {
        if (s->backend->does_upgrade)
            return upgrade_fail(s, 0, "data before the upgrade completed");
        long used = hs_feed(s, p, len);
        if (used < 0)
            return -1;
        if (!s->hs_done)
            return 0;
        p += used;
        len -= (size_t)used;
    }
    return rx_frames(s, p, len);
}
