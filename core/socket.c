/*
 * socket.c — the public socket API: connect (validation, backend choice,
 * option checks against capabilities), the state machine, event delivery
 * with its ordering guarantees (open first, exactly one close, always last,
 * nothing after free), thread-safe send/close, and deferred teardown so that
 * freeing a socket inside its own callback is safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/loop_int.h"
#include "core/socket.h"
#include "core/validate.h"
#include "core/alloc.h"

int uniws__loop_attach_backend(uniws_loop *l, const uniws__backend *b);

static int load_state(const uniws_socket *s)
{
    return uniws__atomic_load(&s->state);
}

static void store_state(uniws_socket *s, int st)
{
    uniws__atomic_store(&s->state, st);
}

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = uniws__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- lifecycle ------------------------------------------------------------ */

void *uniws__sock_priv(uniws_socket *s)
{
    return s->priv;
}

uniws_loop *uniws__sock_loop(uniws_socket *s)
{
    return s->loop;
}

int uniws__sock_done(const uniws_socket *s)
{
    return s->close_fired || s->freed || uniws__life_waiting(s);
}

void uniws__sock_post(uniws_socket *s)
{
    uniws__job_post(s->loop, &s->job);
}

void uniws__sock_kick(uniws_socket *s)
{
    uniws__mutex_lock(s->mu);
    s->want_kick = 1;
    uniws__mutex_unlock(s->mu);
    uniws__sock_post(s);
}

static void teardown_transport(uniws_socket *s)
{
    uniws__timer_stop(s->loop, &s->conn_timer);
    uniws__timer_stop(s->loop, &s->close_timer);
    uniws__life_stop(s);
    if (!s->destroyed) {
        s->destroyed = 1;
        if (s->connect_called && s->backend->destroy)
            s->backend->destroy(s);
    }
}

static void free_socket(uniws_socket *s)
{
    teardown_transport(s);
    uniws__flow_cleanup(s);
    uniws__job_cancel(s->loop, &s->job);
    if (s->backend->kind == UNIWS__STREAM)
        uniws__ws_cleanup(s);
    for (size_t i = 0; i < s->nprotos; i++)
        uniws__free(s->protos[i]);
    uniws__free(s->protos);
    for (size_t i = 0; i < s->nhdrs; i++) {
        uniws__free((char *)s->hdrs[i].name);
        uniws__free((char *)s->hdrs[i].value);
    }
    uniws__free(s->hdrs);
    uniws__free(s->protocols_joined);
    uniws__free(s->str_ca);
    uniws__free(s->str_cert);
    uniws__free(s->str_key);
    uniws__free(s->str_proxy);
    uniws__free(s->str_proxy_ca);
    uniws__free(s->protocol);
    uniws__free(s->extensions);
    uniws__url_free(&s->url);
    uniws__hsinfo_clear(&s->hsinfo);
    uniws__mutex_free(s->mu);
    s->loop->sockets--;
    if (s->freed)
        s->loop->freeing--;
    uniws__free(s);
}

static void sock_job(uniws_loop *loop, uniws__job *job)
{
    uniws_socket *s = job->data;
    (void)loop;
    if (s->freed) {
        free_socket(s);
        return;
    }
    uniws__life_job(s);
    uniws__mutex_lock(s->mu);
    int kick = s->want_kick, fail = s->fail_req, ctimer = s->close_timer_req;
    int broken = s->tx_broken == 1;
    s->want_kick = s->fail_req = s->close_timer_req = 0;
    if (broken)
        s->tx_broken = 2; /* reported once; sends stay refused */
    uniws__mutex_unlock(s->mu);
    if (broken && !s->close_fired)
        uniws__ws_fail(s, UNIWS_ENOMEM, UNIWS_CLOSE_INTERNAL_ERROR,
                       "out of memory while queueing a message's frames: the peer has part of it");

    if (fail && !s->close_fired && uniws__life_waiting(s))
        uniws__life_abort(s); /* uniws_close() while a reconnect waits */
    if (fail && !s->close_fired)
        uniws__sock_fail(s, UNIWS_ECLOSED, 0, "closed before the connection was established");
    if (!s->freed)
        uniws__flow_job(s); /* may fire on_buffered_amount_low */
    if (s->freed) {
        uniws__sock_post(s);
        return;
    }
    if (ctimer && !s->close_fired) {
        int ms =
            s->opts.close_timeout_ms ? s->opts.close_timeout_ms : UNIWS_DEFAULT_CLOSE_TIMEOUT_MS;
        uniws__timer_start(s->loop, &s->close_timer, (uint64_t)ms);
    }
    if (s->close_fired && (!s->linger || s->linger_done)) {
        teardown_transport(s);
        return;
    }
    if (kick && s->transport_up && !s->destroyed && s->backend->want_write)
        s->backend->want_write(s);
}

static void conn_timeout(uniws_loop *loop, uniws__timer *t)
{
    uniws_socket *s = t->data;
    (void)loop;
    if (s->opened || uniws__sock_done(s))
        return;
    if (s->backend->kind == UNIWS__STREAM)
        uniws__ws_fail(s, UNIWS_ETIMEOUT, 0, "connection timed out");
    else
        uniws__sock_fail(s, UNIWS_ETIMEOUT, 0, "connection timed out");
}

static void close_timeout(uniws_loop *loop, uniws__timer *t)
{
    uniws_socket *s = t->data;
    (void)loop;
    if (s->close_fired) {
        /* The linger for a failure's close frame is over. */
        s->linger_done = 1;
        uniws__sock_post(s);
        return;
    }
    if (s->backend->kind == UNIWS__STREAM)
        uniws__ws_close_timeout(s);
    else
        uniws__sock_fail(s, UNIWS_ETIMEOUT, 0, "the peer did not complete the closing handshake");
}

/* ---- events ----------------------------------------------------------------- */

void uniws__sock_emit_open(uniws_socket *s)
{
    if (uniws__sock_done(s) || s->opened)
        return;
    uniws__mutex_lock(s->mu);
    /* close() while connecting wins: its failure is already queued. */
    int st = load_state(s);
    if (st == UNIWS_CONNECTING)
        store_state(s, UNIWS_OPEN);
    uniws__mutex_unlock(s->mu);
    if (st != UNIWS_CONNECTING)
        return;
    s->opened = 1;
    uniws__timer_stop(s->loop, &s->conn_timer);
    uniws__life_opened(s);
    if (s->cb.on_open)
        s->cb.on_open(s, s->user_data);
}

void uniws__sock_emit_message(uniws_socket *s, uniws_msg_type type, const void *data, size_t len)
{
    if (uniws__sock_done(s) || load_state(s) != UNIWS_OPEN)
        return;
    uniws__life_delivered(s, len);
    if (s->cb.on_message) {
        uniws_message m = {type, data, len};
        s->cb.on_message(s, &m, s->user_data);
    }
}

void uniws__sock_emit_error(uniws_socket *s, int err, int http_status, const char *msg)
{
    if (uniws__sock_done(s))
        return;
    if (uniws__life_redirect(s, &err, http_status, &msg))
        return; /* followed: no event; the close that comes next is taken over */
    s->life.cause = err;
    s->life.cause_status = http_status;
    if (s->cb.on_error) {
        uniws_error_event ev;
        memset(&ev, 0, sizeof ev);
        ev.error = err;
        ev.http_status = http_status;
        ev.message = msg ? msg : uniws_strerror(err);
        if (http_status && s->hsinfo.n) {
            /* A refused handshake: what the server answered (core/hsinfo.c). */
            ev.headers = s->hsinfo.hdrs;
            ev.num_headers = s->hsinfo.n;
            ev.body = s->hsinfo.body;
            ev.body_len = s->hsinfo.body_len;
            if (http_status >= 300 && http_status < 400)
                ev.location = uniws__hsinfo_get(&s->hsinfo, "Location");
        }
        s->cb.on_error(s, &ev, s->user_data);
    }
}

void uniws__sock_emit_close(uniws_socket *s, int code, const char *reason, size_t len, int clean)
{
    if (uniws__sock_done(s))
        return;
    if (uniws__life_reconnect(s, code, clean))
        return;
    char buf[124];
    if (len > sizeof buf - 1)
        len = sizeof buf - 1;
    if (len)
        memcpy(buf, reason, len);
    buf[len] = 0;
    s->close_fired = 1;
    store_state(s, UNIWS_CLOSED);
    if (s->backend->kind == UNIWS__STREAM)
        uniws__rxbuf_release(s); /* nothing more will be reassembled */
    s->loop->alive--;
    uniws__timer_stop(s->loop, &s->conn_timer);
    if (!s->linger)
        uniws__timer_stop(s->loop, &s->close_timer);
    uniws__life_stop(s);
    uniws__sock_post(s);
    if (s->cb.on_close) {
        /* An unclean end without an error event (none today) still has a cause. */
        int cause = clean ? 0 : s->life.cause ? s->life.cause : UNIWS_ERESET;
        uniws_close_event ev = {code, buf, len, clean, cause};
        s->cb.on_close(s, &ev, s->user_data);
    }
}

void uniws__sock_fail(uniws_socket *s, int err, int http_status, const char *msg)
{
    if (uniws__sock_done(s))
        return;
    uniws__sock_emit_error(s, err, http_status, msg);
    uniws__sock_emit_close(s, UNIWS_CLOSE_ABNORMAL, "", 0, 0);
}

/* ---- MESSAGE backends ------------------------------------------------------- */

void uniws__msg_opened(uniws_socket *s, const char *protocol, const char *extensions)
{
    char *p = dup_str(protocol ? protocol : ""), *e = dup_str(extensions ? extensions : "");
    if (!p || !e) {
        uniws__free(p);
        uniws__free(e);
        uniws__sock_fail(s, UNIWS_ENOMEM, 0, NULL);
        return;
    }
    uniws__free(s->protocol);
    uniws__free(s->extensions);
    s->protocol = p;
    s->extensions = e;
    uniws__sock_emit_open(s);
}

/* valid: text is known to be UTF-8 and NUL-terminated at data[len]
 * (uniws__msg_received_valid). */
static void msg_received(uniws_socket *s, uniws_msg_type type, const void *data, size_t len,
                         int valid)
{
    if (uniws__sock_done(s))
        return;
    uniws__life_rx(s, 0);
    /* In parts: the browser hands whole messages; they go out cut up, and
     * max_message_size does not apply (docs/api.md). */
    int parts = uniws__parts_on(s);
    if (!parts && len > s->max_msg) {
        if (s->backend->msg_close)
            s->backend->msg_close(s, UNIWS_CLOSE_TOO_BIG, "message too big", 15);
        uniws__sock_fail(s, UNIWS_ETOO_BIG, 0, "received message exceeds max_message_size");
        return;
    }
    if (type == UNIWS_TEXT && !valid) {
        if (!uniws__utf8_valid(data, len)) {
            if (s->backend->msg_close)
                s->backend->msg_close(s, UNIWS_CLOSE_INVALID_DATA, "invalid UTF-8", 13);
            uniws__sock_fail(s, UNIWS_EUTF8, 0, "received text is not valid UTF-8");
            return;
        }
    }
    if (parts) {
        uniws__parts_whole(s, type, data, len);
        return;
    }
    if (type == UNIWS_TEXT && !valid) {
        /* Text is handed out NUL-terminated. */
        char *copy = uniws__malloc(len + 1);
        if (!copy) {
            uniws__sock_fail(s, UNIWS_ENOMEM, 0, NULL);
            return;
        }
        if (len)
            memcpy(copy, data, len);
        copy[len] = 0;
        uniws__sock_emit_message(s, type, copy, len);
        uniws__free(copy);
        return;
    }
    uniws__sock_emit_message(s, type, data, len);
}

void uniws__msg_received(uniws_socket *s, uniws_msg_type type, const void *data, size_t len)
{
    msg_received(s, type, data, len, 0);
}

void uniws__msg_received_valid(uniws_socket *s, uniws_msg_type type, const char *data, size_t len)
{
    msg_received(s, type, data, len, 1);
}

void uniws__msg_error(uniws_socket *s, int err, int http_status, const char *msg)
{
    uniws__sock_emit_error(s, err, http_status, msg);
}

void uniws__msg_closed(uniws_socket *s, int code, const char *reason, size_t reason_len,
                       int was_clean)
{
    /* Some engines (Chromium) report a close frame whose code no endpoint
     * may send (0, 999, 1004, 5000, ...) as a clean close; the contract fails
     * such a connection, as wsproto.c does for stream backends. */
    if (code != UNIWS_CLOSE_NO_STATUS && code != UNIWS_CLOSE_ABNORMAL &&
        !uniws__close_code_receivable(code)) {
        char msg[96];
        snprintf(msg, sizeof msg, "the peer closed with code %d, which no endpoint may send", code);
        uniws__sock_fail(s, UNIWS_EPROTOCOL, 0, msg);
        return;
    }
    uniws__sock_emit_close(s, code, reason ? reason : "", reason ? reason_len : 0, was_clean);
}

/* ---- connect ---------------------------------------------------------------- */

static int check_caps(const uniws__backend *b, const uniws__url *u, const uniws_options *o)
{
    unsigned need = u->tls ? UNIWS_CAP_WSS : UNIWS_CAP_WS;
    if (o->num_headers)
        need |= UNIWS_CAP_CUSTOM_HEADERS;
    if (o->proxy && *o->proxy)
        need |= UNIWS_CAP_PROXY;
    if (o->tls_ca_file && *o->tls_ca_file)
        need |= UNIWS_CAP_TLS_CA_FILE;
    if (o->tls_skip_verify)
        need |= UNIWS_CAP_TLS_SKIP_VERIFY;
    if ((o->tls_client_cert && *o->tls_client_cert) || (o->tls_client_key && *o->tls_client_key))
        need |= UNIWS_CAP_TLS_CLIENT_CERT;
    if (o->permessage_deflate)
        need |= UNIWS_CAP_PERMESSAGE_DEFLATE;
    if (o->max_frame_size)
        need |= UNIWS_CAP_FRAME_SIZE;
    if (o->proxy_ca_file && *o->proxy_ca_file)
        need |= UNIWS_CAP_PROXY_CA_FILE;
    if ((b->caps & need) != need)
        return UNIWS_EUNSUPPORTED;
    return uniws__life_check(o, b->caps);
}

static int copy_options(uniws_socket *s, const uniws_options *o)
{
    s->opts = *o;
    s->opts.backend = NULL;
    if (o->num_protocols) {
        s->protos = uniws__calloc(o->num_protocols, sizeof *s->protos);
        if (!s->protos)
            return UNIWS_ENOMEM;
        size_t total = 0;
        for (size_t i = 0; i < o->num_protocols; i++) {
            if (!(s->protos[i] = dup_str(o->protocols[i])))
                return UNIWS_ENOMEM;
            s->nprotos++;
            total += strlen(o->protocols[i]) + 2;
        }
        s->protocols_joined = uniws__malloc(total + 1);
        if (!s->protocols_joined)
            return UNIWS_ENOMEM;
        s->protocols_joined[0] = 0;
        for (size_t i = 0; i < s->nprotos; i++) {
            if (i)
                strcat(s->protocols_joined, ", ");
            strcat(s->protocols_joined, s->protos[i]);
        }
    }
    s->opts.protocols = (const char *const *)s->protos;
    s->opts.num_protocols = s->nprotos;
    if (o->num_headers) {
        s->hdrs = uniws__calloc(o->num_headers, sizeof *s->hdrs);
        if (!s->hdrs)
            return UNIWS_ENOMEM;
        for (size_t i = 0; i < o->num_headers; i++) {
            s->hdrs[i].name = dup_str(o->headers[i].name);
            s->hdrs[i].value = dup_str(o->headers[i].value);
            s->nhdrs++;
            if (!s->hdrs[i].name || !s->hdrs[i].value)
                return UNIWS_ENOMEM;
        }
    }
    s->opts.headers = s->hdrs;
    s->opts.num_headers = s->nhdrs;
#define UNIWS__COPY_OPT(field, store)                                                              \
    do {                                                                                           \
        if (o->field && *o->field) {                                                               \
            if (!(s->store = dup_str(o->field)))                                                   \
                return UNIWS_ENOMEM;                                                               \
        }                                                                                          \
        s->opts.field = s->store;                                                                  \
    } while (0)
    UNIWS__COPY_OPT(tls_ca_file, str_ca);
    UNIWS__COPY_OPT(tls_client_cert, str_cert);
    UNIWS__COPY_OPT(tls_client_key, str_key);
    UNIWS__COPY_OPT(proxy, str_proxy);
    UNIWS__COPY_OPT(proxy_ca_file, str_proxy_ca);
#undef UNIWS__COPY_OPT
    s->protocol = dup_str("");
    s->extensions = dup_str("");
    if (!s->protocol || !s->extensions)
        return UNIWS_ENOMEM;
    return 0;
}

int uniws_connect(uniws_loop *loop, const char *url, const uniws_options *opts, uniws_socket **out)
{
    static const uniws_options none;
    if (!loop || !url || !out)
        return UNIWS_EINVAL;
    if (loop->running && !uniws__loop_on_thread(loop))
        return UNIWS_EWRONG_THREAD;
    if (!opts)
        opts = &none;
    if (opts->close_timeout_ms < 0)
        return UNIWS_EINVAL;
    if ((opts->tls_client_key && *opts->tls_client_key) &&
        !(opts->tls_client_cert && *opts->tls_client_cert))
        return UNIWS_EINVAL;

    const uniws__backend *b;
    int r = uniws__backend_select(opts->backend, &b);
    if (r)
        return r;
    r = uniws__check_protocols(opts->protocols, opts->num_protocols);
    if (r)
        return r;
    r = uniws__check_headers(opts->headers, opts->num_headers);
    if (r)
        return r;
    r = uniws__check_request_size(opts->protocols, opts->num_protocols, opts->headers,
                                  opts->num_headers);
    if (r)
        return r;

    uniws_socket *s = uniws__calloc(1, sizeof *s + b->priv_size + 16);
    if (!s)
        return UNIWS_ENOMEM;
    s->loop = loop;
    s->backend = b;
    s->priv = b->priv_size ? (void *)((char *)s + ((sizeof *s + 15) & ~(size_t)15)) : NULL;
    s->cb = opts->callbacks;
    s->user_data = opts->user_data;
    s->max_msg = opts->max_message_size ? opts->max_message_size : UNIWS_DEFAULT_MAX_MESSAGE_SIZE;
    uniws__job_init(&s->job, sock_job, s);
    uniws__timer_init(&s->conn_timer, conn_timeout, s);
    uniws__timer_init(&s->close_timer, close_timeout, s);
    uniws__rxbuf_init(s);
    uniws__flow_init(s);
    uniws__life_init(s);
    store_state(s, UNIWS_CONNECTING);
    loop->sockets++;
    s->destroyed = 1; /* nothing to tear down until connect() is called */

    r = uniws__url_parse(url, &s->url);
    if (r) {
        free_socket(s);
        return r;
    }
    r = check_caps(b, &s->url, opts);
    if (!r)
        r = (s->mu = uniws__mutex_new()) ? 0 : UNIWS_ENOMEM;
    if (!r)
        r = copy_options(s, opts);
    if (!r)
        r = uniws__loop_attach_backend(loop, b);
    if (!r && b->kind == UNIWS__STREAM)
        r = uniws__ws_init(s);
    if (r) {
        if (!s->mu)
            s->mu = uniws__mutex_new();
        free_socket(s);
        return r;
    }
    s->req.url = &s->url;
    s->req.opts = &s->opts;
    s->req.protocols_joined = s->protocols_joined;
    s->destroyed = 0;
    s->connect_called = 1;
    r = b->connect(s, &s->req);
    if (r) {
        free_socket(s);
        return r;
    }
    int ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : UNIWS_DEFAULT_CONNECT_TIMEOUT_MS;
    if (ms > 0)
        uniws__timer_start(loop, &s->conn_timer, (uint64_t)ms);
    loop->alive++;
    *out = s;
    return 0;
}

/* ---- send / close --------------------------------------------------------------- */

static int send_common(uniws_socket *s, int opcode, const void *data, size_t len)
{
    int r, post = 0;
    int is_data = opcode == UNIWS__OP_TEXT || opcode == UNIWS__OP_BINARY;
    uniws__mutex_lock(s->mu);
    int st = load_state(s);
    if (s->freed || st >= UNIWS_CLOSING || s->tx_broken)
        r = UNIWS_ECLOSED;
    else if (st == UNIWS_CONNECTING)
        r = UNIWS_EINVALID_STATE;
    else if (is_data && s->tx_frag_op)
        r = UNIWS_EFRAGMENT_OPEN;
    else if (is_data && (r = uniws__flow_admit(s, len)) != 0)
        ; /* nothing queued */
    else if (s->backend->kind == UNIWS__STREAM)
        r = uniws__ws_queue(s, opcode, data, len);
    else if (opcode == UNIWS__OP_PING)
        r = UNIWS_EUNSUPPORTED;
    else
        r = s->backend->msg_send(s, opcode == UNIWS__OP_TEXT ? UNIWS_TEXT : UNIWS_BINARY, data,
                                 len);
    if (r == 0)
        uniws__life_sent(s, opcode, data, len);
    if (r == 0 && s->backend->kind == UNIWS__STREAM)
        s->want_kick = post = 1;
    if (r == 0 && is_data && uniws__flow_sent(s))
        post = 1;
    if (s->tx_broken)
        post = 1;
    uniws__mutex_unlock(s->mu);
    if (post)
        uniws__sock_post(s);
    return r;
}

int uniws_send_text(uniws_socket *s, const char *text, size_t len)
{
    if (!s || (!text && len))
        return UNIWS_EINVAL;
    if (!uniws__utf8_valid(text, len))
        return UNIWS_EUTF8;
    return send_common(s, UNIWS__OP_TEXT, text, len);
}

int uniws_send_binary(uniws_socket *s, const void *data, size_t len)
{
    if (!s || (!data && len))
        return UNIWS_EINVAL;
    return send_common(s, UNIWS__OP_BINARY, data, len);
}

int uniws_ping(uniws_socket *s, const void *data, size_t len)
{
    if (!s || (!data && len) || len > 125)
        return UNIWS_EINVAL;
    if (!(s->backend->caps & UNIWS_CAP_PING))
        return UNIWS_EUNSUPPORTED;
    return send_common(s, UNIWS__OP_PING, data, len);
}

int uniws_close(uniws_socket *s, int code, const char *reason)
{
    size_t rlen;
    if (!s)
        return UNIWS_EINVAL;
    int r = uniws__check_close_args(code, reason, &rlen);
    if (r)
        return r;
    r = 0;
    int post = 0;
    uniws__mutex_lock(s->mu);
    s->life.app_closed = 1; /* never reconnect after this */
    int st = load_state(s);
    if (s->freed || st >= UNIWS_CLOSING) {
        /* closing twice is a no-op */
    } else if (st == UNIWS_CONNECTING) {
        store_state(s, UNIWS_CLOSING);
        s->fail_req = 1;
        post = 1;
    } else if (s->backend->kind == UNIWS__STREAM) {
        r = uniws__ws_queue_close(s, code, reason, rlen);
        if (r == 0) {
            s->close_sent = 1;
            store_state(s, UNIWS_CLOSING);
            s->want_kick = 1;
            s->close_timer_req = 1;
            post = 1;
        }
    } else {
        r = s->backend->msg_close(s, code, reason ? reason : "", rlen);
        if (r == 0) {
            store_state(s, UNIWS_CLOSING);
            s->close_timer_req = 1;
            post = 1;
        }
    }
    uniws__mutex_unlock(s->mu);
    if (post)
        uniws__sock_post(s);
    return r;
}

void uniws_free(uniws_socket *s)
{
    if (!s || s->freed)
        return;
    if (!s->close_fired)
        s->loop->alive--;
    s->freed = 1;
    s->loop->freeing++;
    memset(&s->cb, 0, sizeof s->cb);
    uniws__sock_post(s);
}

/* ---- attributes ---------------------------------------------------------------- */

uniws_state uniws_ready_state(const uniws_socket *s)
{
    return s ? (uniws_state)load_state(s) : UNIWS_CLOSED;
}

size_t uniws_buffered_amount(const uniws_socket *s)
{
    if (!s)
        return 0;
    uniws_socket *m = (uniws_socket *)s;
    uniws__mutex_lock(m->mu);
    size_t n = 0;
    if (m->backend->kind == UNIWS__STREAM)
        n = m->buffered;
    else if (m->backend->msg_buffered && !m->destroyed)
        n = m->backend->msg_buffered(m);
    uniws__mutex_unlock(m->mu);
    return n;
}

const char *uniws_url(const uniws_socket *s)
{
    return s ? s->url.normalized : NULL;
}

const char *uniws_protocol(const uniws_socket *s)
{
    return s && s->protocol ? s->protocol : "";
}

const char *uniws_extensions(const uniws_socket *s)
{
    return s && s->extensions ? s->extensions : "";
}

const char *uniws_backend_name(const uniws_socket *s)
{
    return s ? s->backend->name : NULL;
}

unsigned uniws_capabilities(const uniws_socket *s)
{
    return s ? s->backend->caps : 0;
}

void *uniws_user_data(const uniws_socket *s)
{
    return s ? s->user_data : NULL;
}
