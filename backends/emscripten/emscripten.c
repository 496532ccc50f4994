/*
 * emscripten.c — the browser's WebSocket (through <emscripten/websocket.h>,
 * link with -lwebsocket.js) as a MESSAGE backend: the browser (or Node.js's
 * global WebSocket) does the handshake and the framing; the core keeps the
 * contract's states and event rules on top.
 *
 * JavaScript calls us back with the integer socket id as user data, never a
 * pointer: ids are looked up in a table and events for a socket that is gone
 * are dropped. Events are copied into a per-socket queue and dispatched by a
 * loop job, so callbacks run inside uniws_loop_run*() as on every backend.
 * A message's bytes are copied once, by our own onmessage handler, from the
 * engine's ArrayBuffer straight into its queued event (uniws__em_listen).
 *
 * Quirks absorbed here. Emscripten 3.1.6: its onmessage callback copies
 * every message into a buffer of its own first (text through a JavaScript
 * UTF-8 loop, numBytes counting a trailing NUL), so the backend installs its
 * own handler; send_utf8_text() stops at the first NUL and
 * emscripten_websocket_new() lets the constructor's exceptions escape (so
 * both are done by small EM_JS helpers below); close() throws on codes other
 * than 1000/3000-4999; emscripten_websocket_delete() never drops its
 * reference. Engines: Node.js 20 fires no close event after a failed opening
 * handshake; Chromium reports close codes no endpoint may send as a clean
 * close. Browsers report no failure detail at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <emscripten/emscripten.h>
#include <emscripten/websocket.h>
#include "core/backend.h"
#include "core/loop.h"
#include "core/validate.h"
#include "core/alloc.h"

enum { EV_OPEN = 1, EV_MESSAGE, EV_ERROR, EV_CLOSE };

/* One JavaScript event, copied out before its callback returned. */
typedef struct em_event {
    struct em_event *next;
    int kind;
    int binary;  /* EV_MESSAGE */
    int code;    /* EV_CLOSE */
    int clean;   /* EV_CLOSE */
    int opened;  /* EV_ERROR: the browser had opened the socket (-1: out of memory) */
    size_t len;  /* EV_MESSAGE payload, EV_CLOSE reason, EV_OPEN protocol */
    size_t len2; /* EV_OPEN: extensions, stored after the protocol's NUL */
    char data[]; /* NUL-terminated */
} em_event;

typedef struct em_sock {
    uniws_socket *s;
    int id; /* the browser socket; 0 once released */
    int js_opened;
    int js_closed; /* a close event is queued: later ones are dropped */
    em_event *head, *tail;
    uniws__job dispatch;
} em_sock;

/* ---- the id table: JavaScript names sockets by id ----------------------------- */

/* Live sockets only; Emscripten never reuses an id, so a stale id never finds
 * a newer socket. Everything runs on the main thread. */
static struct {
    int id;
    em_sock *e;
} * table;
static size_t table_len, table_cap;

static em_sock *lookup(void *user_data)
{
    int id = (int)(intptr_t)user_data;
    for (size_t i = 0; i < table_len; i++)
        if (table[i].id == id)
            return table[i].e;
    return NULL;
}

static int table_add(int id, em_sock *e)
{
    if (table_len == table_cap) {
        size_t cap = table_cap ? table_cap * 2 : 8;
        void *t = uniws__realloc(table, cap * sizeof *table);
        if (!t)
            return UNIWS_ENOMEM;
        table = t;
        table_cap = cap;
    }
    table[table_len].id = id;
    table[table_len].e = e;
    table_len++;
    return 0;
}

static void table_remove(int id)
{
    for (size_t i = 0; i < table_len; i++) {
        if (table[i].id == id) {
            table[i] = table[--table_len];
            break;
        }
    }
    if (table_len == 0) {
        uniws__free(table);
        table = NULL;
        table_cap = 0;
    }
}

/* ---- JavaScript helpers ------------------------------------------------------- */

/* Sends len bytes of UTF-8 as a text message, NULs included. The core has
 * validated the UTF-8, so decoding is exact. Returns 0, or -1 when the
 * socket is gone. */
/* clang-format off */
EM_JS(int, uniws__em_send_text, (int id, const void *data, size_t len), {
    var ws = WS.sockets[id];
    if (!ws)
        return -1;
    var view = HEAPU8.subarray(data, data + len);
    if (typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer)
        view = view.slice();
    /* ignoreBOM: a leading U+FEFF is part of the message, not a marker. */
    var dec = Module['uniwsTextDecoder'] ||
              (Module['uniwsTextDecoder'] = new TextDecoder('utf-8', { ignoreBOM: true }));
    ws.send(dec.decode(view));
    return 0;
});
/* clang-format on */

/* Sends len bytes as a binary message. The engine copies what send() is
 * given before it returns (undici frames it at once; a browser takes a copy
 * for its network process), so a view of the wasm heap is enough, and the
 * last one is kept: a program that sends from the same buffer again (as the
 * JavaScript client reuses its one) makes no new view per message. A view
 * is only reused over the current heap (growth replaces the ArrayBuffer).
 * Returns 0, or -1 when the socket is gone. */
/* clang-format off */
EM_JS(int, uniws__em_send_binary, (int id, const void *data, size_t len), {
    var ws = WS.sockets[id];
    if (!ws)
        return -1;
    var v = Module['uniwsSendView'];
    if (!v || v.byteOffset !== data || v.length !== len || v.buffer !== HEAPU8.buffer) {
        v = HEAPU8.subarray(data, data + len);
        if (typeof SharedArrayBuffer !== 'undefined' && v.buffer instanceof SharedArrayBuffer)
            v = v.slice(); /* engines refuse views of shared memory */
        else
            Module['uniwsSendView'] = v;
    }
    ws.send(v);
    return 0;
});
/* clang-format on */

/* Creates the browser socket as emscripten_websocket_new() does (same id
 * table, so the rest of the library works on it), but catches what the
 * constructor throws: Node.js's undici rejects subprotocols that differ only
 * in case, a https page may not open ws://. protocols is "a, b" or NULL.
 * Returns the id (> 0), -1 without a WebSocket global, -2 for a SyntaxError,
 * -3 for another exception. */
/* clang-format off */
EM_JS(int, uniws__em_new, (const char *url, const char *protocols), {
    if (typeof WebSocket === 'undefined')
        return -1;
    var ws;
    try {
        ws = protocols ? new WebSocket(UTF8ToString(url), UTF8ToString(protocols).split(', '))
                       : new WebSocket(UTF8ToString(url));
    } catch (e) {
        return e && e.name === 'SyntaxError' ? -2 : -3;
    }
    ws.binaryType = 'arraybuffer';
    var id = WS.sockets.length;
    WS.sockets[id] = ws;
    return id;
});
/* clang-format on */

/* Drops the library's reference to a deleted socket (3.1.6's
 * emscripten_websocket_delete deletes the wrong key and keeps every
 * WebSocket object alive). Ids stay unique: new ids come from the length. */
/* clang-format off */
EM_JS(void, uniws__em_forget, (int id), {
    if (typeof WS === 'object' && WS.sockets[id])
        WS.sockets[id] = null;
});
/* clang-format on */

/* ---- events from JavaScript ----------------------------------------------------- */

static void push(em_sock *e, em_event *ev)
{
    ev->next = NULL;
    if (e->tail)
        e->tail->next = ev;
    else
        e->head = ev;
    e->tail = ev;
    uniws_loop *loop = uniws__sock_loop(e->s);
    if (e->dispatch.queued)
        return; /* the pending dispatch takes this event too; the loop was woken */
    uniws__job_post(loop, &e->dispatch);
    /* With Asyncify the event arrives while the loop sleeps inside
     * uniws_loop_run_once() (so job_post sees the loop thread and does not
     * wake): end the sleep explicitly. Browser events arrive on the loop's
     * own thread, so reading dispatch.queued needs no lock. */
    uniws__loop_wake(loop);
}

static em_event *new_event(int kind, size_t extra)
{
    em_event *ev = uniws__calloc(1, sizeof *ev + extra + 1);
    if (ev)
        ev->kind = kind;
    return ev;
}

/* When the copy cannot be made the connection cannot go on either. */
static void push_or_fail(em_sock *e, em_event *ev)
{
    if (ev) {
        push(e, ev);
        return;
    }
    emscripten_websocket_close(e->id, 0, NULL);
    em_event *err = new_event(EV_ERROR, 0);
    if (err) {
        err->opened = -1;
        push(e, err);
    }
}

static EM_BOOL on_open(int type, const EmscriptenWebSocketOpenEvent *ev, void *user_data)
{
    em_sock *e = lookup(user_data);
    if (!e)
        return EM_TRUE;
    e->js_opened = 1;
    int plen = 0, xlen = 0;
    if (emscripten_websocket_get_protocol_length(e->id, &plen) != EMSCRIPTEN_RESULT_SUCCESS ||
        plen < 1)
        plen = 1;
    if (emscripten_websocket_get_extensions_length(e->id, &xlen) != EMSCRIPTEN_RESULT_SUCCESS ||
        xlen < 1)
        xlen = 1;
    em_event *o = new_event(EV_OPEN, (size_t)plen + (size_t)xlen);
    if (o) {
        emscripten_websocket_get_protocol(e->id, o->data, plen);
        o->data[plen - 1] = 0;
        o->len = strlen(o->data);
        char *x = o->data + o->len + 1;
        emscripten_websocket_get_extensions(e->id, x, xlen);
        x[xlen - 1] = 0;
        o->len2 = strlen(x);
    }
    push_or_fail(e, o);
    return EM_TRUE;
}

/* A message from JavaScript (uniws__em_listen's handler): queues an event of
 * len bytes and returns where its payload goes; JavaScript copies the bytes
 * there before it returns to the engine, so before the dispatch job can run.
 * Returns 0 when the socket is gone (or out of memory: the socket fails). */
EMSCRIPTEN_KEEPALIVE void *uniws__em_message(int id, uint32_t len, int is_text);
void *uniws__em_message(int id, uint32_t len, int is_text)
{
    em_sock *e = lookup((void *)(intptr_t)id);
    if (!e)
        return NULL;
    /* Not calloc: the payload is overwritten at once, zeroing it is a pass
     * over a message for nothing. */
    em_event *m = uniws__malloc(sizeof *m + (size_t)len + 1);
    if (m) {
        memset(m, 0, sizeof *m);
        m->kind = EV_MESSAGE;
        m->binary = !is_text;
        m->len = len;
        m->data[len] = 0;
    }
    push_or_fail(e, m);
    return m ? m->data : NULL;
}

/* Installs the message handler: one copy, from the engine's ArrayBuffer (or
 * the text's UTF-8) straight into the queued event. Emscripten 3.1.6's
 * onmessage callback copies into a buffer of its own first (and encodes
 * text in a JavaScript loop), then the backend had to copy again. The
 * loop's turn that the event queues runs at the end of the handler
 * (platforms/web/poller.c: hold / release), as a JavaScript handler would,
 * instead of one engine task later. */
/* clang-format off */
EM_JS(void, uniws__em_listen, (int id), {
    var ws = WS.sockets[id];
    var enc = Module['uniwsTextEncoder'] || (Module['uniwsTextEncoder'] = new TextEncoder());
    var soon = Module['uniwsSoon'];
    ws.onmessage = function(ev) {
        var d = ev.data;
        var text = typeof d === 'string';
        var bytes = text ? enc.encode(d) : new Uint8Array(d);
        soon.hold();
        try {
            var at = _uniws__em_message(id, bytes.length, text ? 1 : 0);
            if (at)
                HEAPU8.set(bytes, at); /* after the call: malloc may have grown the heap */
        } finally {
            soon.release();
        }
    };
});
/* clang-format on */

static void push_close(em_sock *e, int code, const char *reason, size_t n, int clean)
{
    em_event *c = new_event(EV_CLOSE, n);
    if (!c) {
        /* Out of memory: still end the socket (reason dropped). */
        n = 0;
        if (!(c = new_event(EV_CLOSE, 0)))
            return;
    }
    c->code = code;
    c->clean = clean;
    c->len = n;
    memcpy(c->data, reason, n);
    e->js_closed = 1;
    push(e, c);
}

static EM_BOOL on_error(int type, const EmscriptenWebSocketErrorEvent *ev, void *user_data)
{
    em_sock *e = lookup(user_data);
    if (!e || e->js_closed)
        return EM_TRUE;
    em_event *err = new_event(EV_ERROR, 0);
    if (err)
        err->opened = e->js_opened;
    push_or_fail(e, err);
    /* Node.js 20 (undici) fires no close event after a failed opening
     * handshake; browsers do. Close here for both: the later one is dropped. */
    if (!e->js_opened)
        push_close(e, UNIWS_CLOSE_ABNORMAL, "", 0, 0);
    return EM_TRUE;
}

static EM_BOOL on_close(int type, const EmscriptenWebSocketCloseEvent *ev, void *user_data)
{
    em_sock *e = lookup(user_data);
    if (!e || e->js_closed)
        return EM_TRUE;
    /* A code no endpoint may send is failed by uniws__msg_closed (core). */
    push_close(e, ev->code, ev->reason, strnlen(ev->reason, sizeof ev->reason),
               ev->wasClean ? 1 : 0);
    return EM_TRUE;
}

/* ---- dispatch on the loop --------------------------------------------------------- */

static void deliver(em_sock *e, em_event *ev)
{
    uniws_socket *s = e->s;
    switch (ev->kind) {
    case EV_OPEN:
        uniws__msg_opened(s, ev->data, ev->data + ev->len + 1);
        break;
    case EV_MESSAGE:
        /* Text is valid UTF-8 by construction, so the core neither checks nor
         * copies it again: the engine fails a connection on invalid UTF-8 in a
         * text message (the WHATWG rule; Chromium, undici), and the UTF-8 here
         * is TextEncoder's encoding of the string it delivered, which is
         * well-formed even for a string with lone surrogates (TextEncoder
         * writes U+FFFD for those; a string decoded from valid UTF-8 has
         * none). data[len] is the event's NUL. */
        uniws__msg_received_valid(s, ev->binary ? UNIWS_BINARY : UNIWS_TEXT, ev->data, ev->len);
        break;
    case EV_ERROR:
        /* Browsers tell scripts nothing about a failure (on purpose). */
        if (ev->opened < 0)
            uniws__msg_error(s, UNIWS_ENOMEM, 0, "out of memory copying a browser event");
        else if (ev->opened)
            uniws__msg_error(s, UNIWS_EPROTOCOL, 0,
                             "the browser failed the connection (it reports no detail: "
                             "typically a protocol violation by the peer)");
        else
            uniws__msg_error(s, UNIWS_EHANDSHAKE, 0,
                             "the browser could not establish the connection (it reports no "
                             "detail: refused, unreachable, TLS or handshake rejected)");
        break;
    case EV_CLOSE:
        uniws__msg_closed(s, ev->code, ev->data, ev->len, ev->clean);
        break;
    }
}

static void dispatch(uniws_loop *loop, uniws__job *job)
{
    em_sock *e = job->data;
    (void)loop;
    /* The core drops what may no longer fire (after close or free); destroy()
     * only runs from the core's own jobs, never inside this one. */
    while (e->head) {
        em_event *ev = e->head;
        e->head = ev->next;
        if (!e->head)
            e->tail = NULL;
        deliver(e, ev);
        uniws__free(ev);
    }
}

static void drop_events(em_sock *e)
{
    while (e->head) {
        em_event *ev = e->head;
        e->head = ev->next;
        uniws__free(ev);
    }
    e->tail = NULL;
}

/* ---- the vtable ------------------------------------------------------------------- */

#define UNIWS__STR2(x) #x
#define UNIWS__STR(x)  UNIWS__STR2(x)

static const char *em_version(void)
{
    return UNIWS__STR(__EMSCRIPTEN_major__) "." UNIWS__STR(__EMSCRIPTEN_minor__) "." UNIWS__STR(
        __EMSCRIPTEN_tiny__);
}

static void release(em_sock *e)
{
    if (!e->id)
        return;
    table_remove(e->id);
    /* close() fails a connecting socket and starts (or, once closed, skips)
     * the closing handshake; delete() detaches our callbacks. */
    emscripten_websocket_close(e->id, 0, NULL);
    emscripten_websocket_delete(e->id);
    uniws__em_forget(e->id);
    e->id = 0;
}

static int em_connect(uniws_socket *s, const uniws__connect_req *req)
{
    em_sock *e = uniws__sock_priv(s);
    e->s = s;
    uniws__job_init(&e->dispatch, dispatch, e);

    /* The core's "a, b" (tokens hold neither ',' nor ' ': split on ", "). */
    int id = uniws__em_new(req->url->normalized, req->protocols_joined);
    if (id <= 0) {
        /* Node.js 20 has a global WebSocket only with --experimental-websocket. */
        return id == -1 ? UNIWS_EUNSUPPORTED : id == -2 ? UNIWS_ESYNTAX : UNIWS_EIO;
    }
    if (table_add(id, e) != 0) {
        emscripten_websocket_close(id, 0, NULL);
        emscripten_websocket_delete(id);
        uniws__em_forget(id);
        return UNIWS_ENOMEM;
    }
    e->id = id;
    void *ud = (void *)(intptr_t)id;
    emscripten_websocket_set_onopen_callback(id, ud, on_open);
    uniws__em_listen(id);
    emscripten_websocket_set_onerror_callback(id, ud, on_error);
    emscripten_websocket_set_onclose_callback(id, ud, on_close);
    /* A loop the browser drives re-reads its timers (the connect timeout the
     * core arms next) only when woken. */
    uniws__loop_wake(uniws__sock_loop(s));
    return 0;
}

static void em_destroy(uniws_socket *s)
{
    em_sock *e = uniws__sock_priv(s);
    if (!e->s)
        return;
    release(e);
    uniws__job_cancel(uniws__sock_loop(s), &e->dispatch);
    drop_events(e);
}

static int em_send(uniws_socket *s, uniws_msg_type type, const void *data, size_t len)
{
    em_sock *e = uniws__sock_priv(s);
    if (!e->id)
        return UNIWS_ECLOSED;
    if (len > UINT32_MAX)
        return UNIWS_ETOO_BIG;
    int r;
    if (type == UNIWS_TEXT)
        r = uniws__em_send_text(e->id, data, len);
    else
        r = uniws__em_send_binary(e->id, data, len);
    return r == 0 ? 0 : UNIWS_ECLOSED;
}

static int em_close(uniws_socket *s, int code, const char *reason, size_t reason_len)
{
    em_sock *e = uniws__sock_priv(s);
    if (!e->id)
        return 0;
    /* The core also closes with 1007/1009 when it fails a connection; a
     * browser may not send those (close() would throw): close without a code. */
    if (code != 1000 && (code < 3000 || code > 4999)) {
        emscripten_websocket_close(e->id, 0, NULL);
        return 0;
    }
    char buf[124];
    if (reason_len > sizeof buf - 1)
        reason_len = sizeof buf - 1;
    memcpy(buf, reason ? reason : "", reason_len);
    buf[reason_len] = 0;
    emscripten_websocket_close(e->id, (unsigned short)code, buf);
    return 0;
}

static size_t em_buffered(uniws_socket *s)
{
    em_sock *e = uniws__sock_priv(s);
    unsigned long long n = 0;
    if (!e->id || emscripten_websocket_get_buffered_amount(e->id, &n) != EMSCRIPTEN_RESULT_SUCCESS)
        return 0;
    return (size_t)n;
}

const uniws__backend uniws__backend_emscripten = {
    .name = "emscripten",
    .description = "the browser's WebSocket (Emscripten, browsers and Node.js)",
    /* A browser offers no custom headers, proxy, TLS options, ping control or
     * permessage-deflate choice, frames messages itself (RAW_FRAMES) and
     * cannot send codes such as 1009 (ANY_CLOSE_CODE). */
    .caps = UNIWS_CAP_WS | UNIWS_CAP_WSS | UNIWS_CAP_CONNECT_TIMEOUT | UNIWS_CAP_NETWORK,
    .auto_select = 1,
    .kind = UNIWS__MESSAGE,
    .priv_size = sizeof(em_sock),
    .version = em_version,
    .connect = em_connect,
    .destroy = em_destroy,
    .msg_send = em_send,
    .msg_close = em_close,
    .msg_buffered = em_buffered,
};
