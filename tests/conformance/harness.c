/*
 * harness.c — the per-case machinery: a fresh loop per case, recorders whose
 * callbacks check the event rules of docs/contract.md rules 1-3 and 8 on every
 * event, loop driving with deadlines, and the shared expectations.
 */
#include "harness.h"
#include "cases.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t cx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int cx_fail(cx *c, const char *file, int line, const char *fmt, ...)
{
    if (c->failed)
        return 0;
    c->failed = 1;
    int n = snprintf(c->detail, sizeof c->detail, "%s:%d: ", base_name(file), line);
    if (n < 0 || (size_t)n >= sizeof c->detail)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail + n, sizeof c->detail - (size_t)n, fmt, ap);
    va_end(ap);
    return 0;
}

/* ---- recorders ------------------------------------------------------------ */

static void violate(rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violate(rec *r, const char *fmt, ...)
{
    if (r->violation[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->violation, sizeof r->violation, fmt, ap);
    va_end(ap);
}

static const char *state_name(int st)
{
    switch (st) {
    case UNIWS_CONNECTING:
        return "CONNECTING";
    case UNIWS_OPEN:
        return "OPEN";
    case UNIWS_CLOSING:
        return "CLOSING";
    case UNIWS_CLOSED:
        return "CLOSED";
    }
    return "?";
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case EV_OPEN:
        return "open";
    case EV_MESSAGE:
        return "message";
    case EV_ERROR:
        return "error";
    case EV_CLOSE:
        return "close";
    }
    return "?";
}

/* Checks what every callback must satisfy and appends an event. NULL when
 * out of memory (recorded as a violation). */
static conf_ev *begin_event(rec *r, uniws_socket *s, void *ud, int kind)
{
    if (ud != r)
        violate(r, "%s: user_data is not the one given at connect", kind_name(kind));
    if (r->freed)
        violate(r, "%s fired after uniws_free()", kind_name(kind));
    else if (r->s == NULL)
        violate(r, "%s fired inside uniws_connect()", kind_name(kind));
    else if (s != r->s)
        violate(r, "%s: callback got another socket pointer", kind_name(kind));
    /* Never touch a socket the case freed: that would be the harness's own
     * use-after-free, not the library's. */
    int usable = s && !r->freed;
    if (usable && uniws_user_data(s) != r)
        violate(r, "%s: uniws_user_data() differs from user_data", kind_name(kind));
    if (!pthread_equal(pthread_self(), r->c->loop_thread))
        violate(r, "%s ran on a thread other than the loop's", kind_name(kind));
    if (!r->c->in_loop)
        violate(r, "%s ran outside uniws_loop_run*()", kind_name(kind));
    if (r->n_close)
        violate(r, "%s fired after the close event", kind_name(kind));
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        conf_ev *e = realloc(r->evs, cap * sizeof *e);
        if (!e) {
            violate(r, "harness out of memory");
            return NULL;
        }
        r->evs = e;
        r->cap = cap;
    }
    conf_ev *e = &r->evs[r->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->state = usable ? (int)uniws_ready_state(s) : -1;
    e->at_ms = cx_now_ms();
    return e;
}

static void cb_open(uniws_socket *s, void *ud)
{
    rec *r = ud;
    conf_ev *e = begin_event(r, s, ud, EV_OPEN);
    if (r->n_open)
        violate(r, "second open event");
    if (r->n_msg || r->n_err || r->n_close)
        violate(r, "open after another event");
    if (e && e->state != UNIWS_OPEN)
        violate(r, "ready_state is %s inside on_open", state_name(e->state));
    r->n_open++;
    if (r->on_open)
        r->on_open(r);
}

static void cb_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    rec *r = ud;
    conf_ev *e = begin_event(r, s, ud, EV_MESSAGE);
    if (!r->n_open)
        violate(r, "message before open");
    if (!m) {
        violate(r, "on_message got a NULL message");
        return;
    }
    if (e && e->state != UNIWS_OPEN && e->state != UNIWS_CLOSING)
        violate(r, "ready_state is %s inside on_message", state_name(e->state));
    if (m->type != UNIWS_TEXT && m->type != UNIWS_BINARY)
        violate(r, "message type %d", (int)m->type);
    if (m->len && !m->data)
        violate(r, "message of %zu bytes with NULL data", m->len);
    if (m->type == UNIWS_TEXT && (!m->data || ((const char *)m->data)[m->len] != '\0'))
        violate(r, "text message of %zu bytes is not NUL-terminated", m->len);
    r->n_msg++;
    r->msg_bytes += m->len;
    if (e) {
        e->type = (int)m->type;
        e->len = m->len;
        if (r->keep_data) {
            e->data = malloc(m->len + 1);
            if (!e->data) {
                violate(r, "harness out of memory");
            } else {
                if (m->len && m->data)
                    memcpy(e->data, m->data, m->len);
                e->data[m->len] = 0;
            }
        }
    }
    if (r->on_message)
        r->on_message(r, m);
}

static void cb_error(uniws_socket *s, const uniws_error_event *ev, void *ud)
{
    rec *r = ud;
    conf_ev *e = begin_event(r, s, ud, EV_ERROR);
    if (r->n_err)
        violate(r, "second error event");
    r->n_err++;
    if (!ev) {
        violate(r, "on_error got a NULL event");
        return;
    }
    if (!ev->message)
        violate(r, "error event message is NULL");
    if (ev->error >= 0)
        violate(r, "error event carries code %d (not a negative UNIWS_E*)", ev->error);
    if (e) {
        e->error = ev->error;
        e->http_status = ev->http_status;
        snprintf(e->message, sizeof e->message, "%s", ev->message ? ev->message : "(null)");
    }
    if (r->on_error)
        r->on_error(r, ev);
}

static void cb_close(uniws_socket *s, const uniws_close_event *ev, void *ud)
{
    rec *r = ud;
    conf_ev *e = begin_event(r, s, ud, EV_CLOSE);
    if (!ev) {
        violate(r, "on_close got a NULL event");
        r->n_close++;
        return;
    }
    if (e && e->state != UNIWS_CLOSED)
        violate(r, "ready_state is %s inside on_close", state_name(e->state));
    if (!ev->reason)
        violate(r, "close reason is NULL");
    else if (strlen(ev->reason) != ev->reason_len)
        violate(r, "close reason_len %zu but strlen %zu", ev->reason_len, strlen(ev->reason));
    if (ev->reason_len > 123)
        violate(r, "close reason of %zu bytes", ev->reason_len);
    if (r->n_err && (ev->code != 1006 || ev->was_clean))
        violate(r, "after an error the close must be 1006 unclean, got %d clean=%d", ev->code,
                ev->was_clean);
    if (ev->was_clean && ev->code == 1006)
        violate(r, "close 1006 with was_clean=1");
    if (ev->code != 1005 && ev->code != 1006 && !(ev->code >= 1000 && ev->code <= 4999))
        violate(r, "close event code %d", ev->code);
    if (ev->was_clean != 0 && ev->was_clean != 1)
        violate(r, "was_clean is %d (not 0 or 1)", ev->was_clean);
    /* lifecycle: the close event says why (the error event's code, 0 clean). */
    const conf_ev *err = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->evs[i].kind == EV_ERROR)
            err = &r->evs[i];
    if (ev->was_clean && ev->cause != 0)
        violate(r, "clean close with cause %s", uniws_err_name(ev->cause));
    if (!ev->was_clean && ev->cause >= 0)
        violate(r, "unclean close with cause %d (must be a UNIWS_E* code)", ev->cause);
    if (err && ev->cause != err->error)
        violate(r, "close cause %s but the error event said %s", uniws_err_name(ev->cause),
                uniws_err_name(err->error));
    r->n_close++;
    if (e) {
        e->code = ev->code;
        e->was_clean = ev->was_clean;
        e->cause = ev->cause;
        if (ev->reason) {
            size_t n =
                ev->reason_len < sizeof e->reason - 1 ? ev->reason_len : sizeof e->reason - 1;
            memcpy(e->reason, ev->reason, n);
            e->reason[n] = 0;
            e->reason_len = ev->reason_len;
        }
    }
    if (r->on_close)
        r->on_close(r, ev);
}

rec *cx_rec(cx *c)
{
    rec *r = calloc(1, sizeof *r);
    if (!r) {
        FAILF(c, "harness out of memory");
        return NULL;
    }
    r->c = c;
    r->keep_data = 1;
    r->next = c->recs;
    c->recs = r;
    return r;
}

void rec_free_socket(rec *r)
{
    if (r->s) {
        uniws_free(r->s);
        r->s = NULL;
    }
    r->freed = 1;
}

static void fill_options(rec *r, const uniws_options *opts, uniws_options *o)
{
    if (opts)
        *o = *opts;
    else
        memset(o, 0, sizeof *o);
    if (!o->backend)
        o->backend = r->c->env->backend;
    if (!o->proxy && r->c->env->proxy) {
        o->proxy = r->c->env->proxy;
        o->proxy_ca_file = r->c->env->proxy_ca_file;
    }
    o->callbacks.on_open = cb_open;
    o->callbacks.on_message = cb_message;
    o->callbacks.on_error = cb_error;
    o->callbacks.on_close = cb_close;
    o->user_data = r;
}

static const char *full_url(cx *c, const char *url, char *buf, size_t size)
{
    if (url && url[0] == '/')
        return cx_ws_url(c, buf, size, url);
    return url;
}

int rec_connect(rec *r, const char *url, const uniws_options *opts)
{
    uniws_options o;
    char buf[2048];
    fill_options(r, opts, &o);
    const char *u = full_url(r->c, url, buf, sizeof buf);
    uniws_socket *s = NULL;
    int rc = uniws_connect(r->c->loop, u, &o, &s);
    if (rc != 0)
        return FAILF(r->c, "uniws_connect(%s) returned %s", u, uniws_err_name(rc));
    if (!s)
        return FAILF(r->c, "uniws_connect(%s) returned 0 but no socket", u);
    r->s = s;
    return 1;
}

rec *cx_connect(cx *c, const char *url, const uniws_options *opts)
{
    rec *r = cx_rec(c);
    if (!r || !rec_connect(r, url, opts))
        return NULL;
    return r;
}

int cx_try_connect(cx *c, const char *url, uniws_options *opts, rec **out)
{
    rec *r = cx_rec(c);
    if (out)
        *out = r;
    if (!r)
        return UNIWS_ENOMEM;
    uniws_options o;
    char buf[2048];
    fill_options(r, opts, &o);
    uniws_socket *s = NULL;
    int rc = uniws_connect(c->loop, full_url(c, url, buf, sizeof buf), &o, &s);
    if (rc == 0)
        r->s = s;
    return rc;
}

const char *cx_ws_url(cx *c, char *buf, size_t size, const char *path)
{
    snprintf(buf, size, "ws://127.0.0.1:%d%s", c->env->port, path);
    return buf;
}

const char *cx_wss_url(cx *c, char *buf, size_t size, const char *path)
{
    if (!c->env->tls_port) {
        FAILF(c, "no TLS peer for this run (certificates missing: is the openssl CLI installed?)");
        return NULL;
    }
    snprintf(buf, size, "wss://127.0.0.1:%d%s", c->env->tls_port, path);
    return buf;
}

/* ---- driving the loop ------------------------------------------------------- */

int cx_run_until(cx *c, int (*pred)(void *), void *arg, int timeout_ms)
{
    uint64_t end = cx_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    if (end > c->deadline)
        end = c->deadline;
    for (;;) {
        if (pred && pred(arg))
            return 1;
        uint64_t now = cx_now_ms();
        if (now >= end)
            return pred ? 0 : 1;
        uint64_t left = end - now;
        int wait = left > 50 ? 50 : (int)left;
        c->in_loop = 1;
        int rc = uniws_loop_run_once(c->loop, wait);
        c->in_loop = 0;
        if (rc < 0)
            return FAILF(c, "uniws_loop_run_once returned %s", uniws_err_name(rc));
        if (rc == 0 && cx_now_ms() == now) {
            /* Nothing alive: the loop may return at once; do not spin. */
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

void cx_run_for(cx *c, int ms)
{
    cx_run_until(c, NULL, NULL, ms);
}

static int pred_open_or_close(void *arg)
{
    rec *r = arg;
    return r->n_open > 0 || r->n_close > 0 || r->freed;
}

static int pred_closed(void *arg)
{
    rec *r = arg;
    return r->n_close > 0 || r->freed;
}

typedef struct msgs_wait {
    rec *r;
    size_t n;
} msgs_wait;

static int pred_msgs(void *arg)
{
    msgs_wait *w = arg;
    return w->r->n_msg >= w->n || w->r->n_close > 0 || w->r->freed;
}

static int remaining_ms(cx *c)
{
    uint64_t now = cx_now_ms();
    return now >= c->deadline ? 0 : (int)(c->deadline - now);
}

int rec_wait_open(rec *r)
{
    char buf[512];
    cx_run_until(r->c, pred_open_or_close, r, remaining_ms(r->c));
    if (r->c->failed)
        return 0;
    if (!r->n_open)
        return FAILF(r->c, "no open event; saw: %s", rec_describe(r, buf, sizeof buf));
    return 1;
}

int rec_wait_close(rec *r)
{
    char buf[512];
    cx_run_until(r->c, pred_closed, r, remaining_ms(r->c));
    if (r->c->failed)
        return 0;
    if (!r->n_close)
        return FAILF(r->c, "no close event before the deadline; saw: %s",
                     rec_describe(r, buf, sizeof buf));
    return 1;
}

int rec_wait_msgs(rec *r, size_t n)
{
    char buf[512];
    msgs_wait w = {r, n};
    cx_run_until(r->c, pred_msgs, &w, remaining_ms(r->c));
    if (r->c->failed)
        return 0;
    if (r->n_msg < n)
        return FAILF(r->c, "expected %zu messages, got %zu; saw: %s", n, r->n_msg,
                     rec_describe(r, buf, sizeof buf));
    return 1;
}

/* ---- expectations ------------------------------------------------------------ */

const conf_ev *rec_msg(const rec *r, size_t i)
{
    for (size_t k = 0; k < r->n; k++)
        if (r->evs[k].kind == EV_MESSAGE && i-- == 0)
            return &r->evs[k];
    return NULL;
}

const conf_ev *rec_first(const rec *r, int kind)
{
    for (size_t k = 0; k < r->n; k++)
        if (r->evs[k].kind == kind)
            return &r->evs[k];
    return NULL;
}

static size_t describe_one(const conf_ev *e, char *buf, size_t size)
{
    int n = 0;
    switch (e->kind) {
    case EV_OPEN:
        n = snprintf(buf, size, "open ");
        break;
    case EV_MESSAGE:
        n = snprintf(buf, size, "msg(%s,%zu) ", e->type == UNIWS_TEXT ? "text" : "bin", e->len);
        break;
    case EV_ERROR:
        n = snprintf(buf, size, "error(%s,http=%d,\"%s\") ", uniws_err_name(e->error),
                     e->http_status, e->message);
        break;
    case EV_CLOSE:
        n = snprintf(buf, size, "close(%d,\"%s\",%s) ", e->code, e->reason,
                     e->was_clean ? "clean" : "unclean");
        break;
    }
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

const char *rec_describe(const rec *r, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = 0;
    if (!r->n) {
        snprintf(buf, size, "no events");
        return buf;
    }
    for (size_t i = 0; i < r->n && off + 1 < size; i++) {
        /* Long runs of messages: keep the head and the tail (error, close). */
        if (r->n > 12 && i == 5) {
            int n = snprintf(buf + off, size - off, "...%zu more... ", r->n - 10);
            off += n > 0 && (size_t)n < size - off ? (size_t)n : 0;
            i = r->n - 6;
            continue;
        }
        off += describe_one(&r->evs[i], buf + off, size - off);
    }
    if (off && buf[off - 1] == ' ')
        buf[off - 1] = 0;
    return buf;
}

int expect_failure(rec *r, int want_error, int opened)
{
    char buf[512];
    if (!rec_wait_close(r))
        return 0;
    cx *c = r->c;
    const conf_ev *err = rec_first(r, EV_ERROR);
    const conf_ev *cl = rec_first(r, EV_CLOSE);
    if (!err)
        return FAILF(c, "no error event before the close; saw: %s",
                     rec_describe(r, buf, sizeof buf));
    if (want_error && !(c->env->info.caps & UNIWS_CAP_RAW_FRAMES)) {
        /* Without its own framing uniws only learns that the connection
         * failed, not why: say so instead of pretending to have checked. */
        snprintf(c->note, sizeof c->note, "error code not checked (no UNIWS_CAP_RAW_FRAMES): %s",
                 uniws_err_name(err->error));
    } else if (!want_error) {
        snprintf(c->note, sizeof c->note, "error %s", uniws_err_name(err->error));
    }
    if (!(c->env->info.caps & UNIWS_CAP_RAW_FRAMES))
        want_error = 0;
    if (want_error && err->error != want_error)
        return FAILF(c, "error %s, expected %s; saw: %s", uniws_err_name(err->error),
                     uniws_err_name(want_error), rec_describe(r, buf, sizeof buf));
    if (cl->code != 1006 || cl->was_clean)
        return FAILF(c, "close %d clean=%d, expected 1006 unclean; saw: %s", cl->code,
                     cl->was_clean, rec_describe(r, buf, sizeof buf));
    if (opened == 1 && !r->n_open)
        return FAILF(c, "expected an open event first; saw: %s", rec_describe(r, buf, sizeof buf));
    if (opened == 0 && r->n_open)
        return FAILF(c, "the socket opened but must not have; saw: %s",
                     rec_describe(r, buf, sizeof buf));
    return 1;
}

int expect_tcp_end(rec *r, long nmsgs)
{
    char buf[512];
    if (!rec_wait_close(r))
        return 0;
    cx *c = r->c;
    const conf_ev *e = rec_first(r, EV_ERROR), *cl = rec_first(r, EV_CLOSE);
    int raw = (c->env->info.caps & UNIWS_CAP_RAW_FRAMES) != 0;
    if (cl->code != 1006 || cl->was_clean)
        return FAILF(c, "expected close 1006 unclean; saw: %s", rec_describe(r, buf, sizeof buf));
    if (r->n_msg != (size_t)nmsgs)
        return FAILF(c, "%zu messages, expected %ld; saw: %s", r->n_msg, nmsgs,
                     rec_describe(r, buf, sizeof buf));
    if (!e) {
        /* a browser: the recorder checked that the cause is UNIWS_ERESET */
        snprintf(c->note, sizeof c->note, "no error event; cause %s", uniws_err_name(cl->cause));
        return 1;
    }
    if (raw && e->error != UNIWS_ERESET)
        return FAILF(c, "error %s, expected UNIWS_ERESET; saw: %s", uniws_err_name(e->error),
                     rec_describe(r, buf, sizeof buf));
    snprintf(c->note, sizeof c->note, "%s%s: %.160s",
             raw ? "" : "not checked (no raw frames): ", uniws_err_name(e->error), e->message);
    return 1;
}

int expect_clean_close(rec *r, int code, const char *reason)
{
    char buf[512];
    if (!rec_wait_close(r))
        return 0;
    const conf_ev *cl = rec_first(r, EV_CLOSE);
    if (r->n_err || cl->code != code || !cl->was_clean ||
        (reason && strcmp(cl->reason, reason) != 0))
        return FAILF(r->c, "expected a clean close %d \"%s\"; saw: %s", code, reason ? reason : "*",
                     rec_describe(r, buf, sizeof buf));
    return 1;
}

int expect_msg(rec *r, size_t i, int type, const void *data, size_t len)
{
    char buf[512];
    const conf_ev *e = rec_msg(r, i);
    if (!e)
        return FAILF(r->c, "message %zu missing; saw: %s", i, rec_describe(r, buf, sizeof buf));
    if (e->type != type)
        return FAILF(r->c, "message %zu is %s, expected %s", i,
                     e->type == UNIWS_TEXT ? "text" : "binary",
                     type == UNIWS_TEXT ? "text" : "binary");
    if (e->len != len)
        return FAILF(r->c, "message %zu has %zu bytes, expected %zu", i, e->len, len);
    if (!e->data)
        return 1;
    if (len && memcmp(e->data, data, len) != 0) {
        size_t at = 0;
        while (e->data[at] == ((const unsigned char *)data)[at])
            at++;
        return FAILF(r->c, "message %zu differs at byte %zu (0x%02x, expected 0x%02x)", i, at,
                     e->data[at], ((const unsigned char *)data)[at]);
    }
    return 1;
}

void conf_pattern(unsigned char *buf, size_t n, int type)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = type == UNIWS_TEXT ? (unsigned char)('a' + i % 26) : (unsigned char)(i & 0xff);
}

int close_and_wait(rec *r)
{
    int rc = uniws_close(r->s, 1000, "done");
    if (rc != 0)
        return FAILF(r->c, "uniws_close(1000) returned %s", uniws_err_name(rc));
    return expect_clean_close(r, 1000, "done");
}

void *cx_malloc(cx *c, size_t n)
{
    if (c->nallocs == c->allocs_cap) {
        size_t cap = c->allocs_cap ? c->allocs_cap * 2 : 16;
        void **a = realloc(c->allocs, cap * sizeof *a);
        if (!a) {
            FAILF(c, "harness out of memory");
            return NULL;
        }
        c->allocs = a;
        c->allocs_cap = cap;
    }
    void *p = malloc(n ? n : 1);
    if (!p) {
        FAILF(c, "harness out of memory (%zu bytes)", n);
        return NULL;
    }
    c->allocs[c->nallocs++] = p;
    return p;
}

int cx_defer(cx *c, void (*fn)(void *), void *arg)
{
    if (c->ndeferred == sizeof c->deferred / sizeof c->deferred[0])
        return FAILF(c, "harness: too many deferred cleanups");
    c->deferred[c->ndeferred].fn = fn;
    c->deferred[c->ndeferred].arg = arg;
    c->ndeferred++;
    return 1;
}

char *conf_pct(char *out, size_t size, const void *data, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = data;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < size; i++) {
        unsigned char ch = p[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '_' || ch == '~' || ch == '-') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = 0;
    return out;
}

char *conf_hex(char *out, size_t size, const void *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < size; i++) {
        out[o++] = hex[p[i] >> 4];
        out[o++] = hex[p[i] & 15];
    }
    out[o] = 0;
    return out;
}

unsigned conf_caps(const conf_env *env)
{
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    /* Built without -pthread: pthread_create() can only fail. */
    return env->info.caps;
#else
    return env->info.caps | CONF_CAP_THREADS;
#endif
}

/* ---- one case ------------------------------------------------------------------ */

void cx_run_case(const conf_env *env, const conf_case *k, const char **status, char *detail,
                 size_t detail_size)
{
    cx c;
    memset(&c, 0, sizeof c);
    c.env = env;
    c.k = k;
    c.loop_thread = pthread_self();
    c.t0 = cx_now_ms();
    c.deadline = c.t0 + (uint64_t)env->case_timeout_ms;

    int rc = uniws_loop_new(&c.loop);
    if (rc != 0) {
        FAILF(&c, "uniws_loop_new returned %s", uniws_err_name(rc));
    } else {
        k->fn(&c, k);
        if (!c.failed && !c.unsupported) {
            /* Whatever the case did, nothing may fire after a close event:
             * run the loop a little longer to give late events a chance. */
            cx_run_for(&c, 20);
        }
    }
    char extra[300] = "";
    for (rec *r = c.recs; r; r = r->next) {
        if (r->violation[0] && !extra[0])
            snprintf(extra, sizeof extra, "contract violation: %s", r->violation);
    }
    for (rec *r = c.recs; r; r = r->next)
        if (r->s)
            rec_free_socket(r);
    while (c.ndeferred--)
        c.deferred[c.ndeferred].fn(c.deferred[c.ndeferred].arg);
    if (c.loop) {
        rc = uniws_loop_free(c.loop);
        if (rc != 0)
            FAILF(&c, "uniws_loop_free returned %s after every socket was freed",
                  uniws_err_name(rc));
    }
    for (size_t i = 0; i < c.nallocs; i++)
        free(c.allocs[i]);
    free(c.allocs);
    while (c.recs) {
        rec *r = c.recs;
        c.recs = r->next;
        for (size_t i = 0; i < r->n; i++)
            free(r->evs[i].data);
        free(r->evs);
        free(r);
    }
    if (extra[0]) {
        if (c.failed)
            snprintf(detail, detail_size, "%s; %s", extra, c.detail);
        else
            snprintf(detail, detail_size, "%s", extra);
        *status = "fail";
    } else if (c.failed) {
        snprintf(detail, detail_size, "%s", c.detail);
        *status = "fail";
    } else if (c.unsupported) {
        snprintf(detail, detail_size, "%s", c.detail);
        *status = "unsupported";
    } else {
        snprintf(detail, detail_size, "%s", c.note);
        *status = "pass";
    }
}

/* cli (issue 14) */
/* Makes o trust the test CA: tls_ca_file where the backend has it, else the
 * platform's store when this run made it trust the CA. Returns 0 after
 * marking the case unsupported (neither is possible). */
int cx_trust_test_ca(cx *c, uniws_options *o)
{
    if (c->env->info.caps & UNIWS_CAP_TLS_CA_FILE) {
        o->tls_ca_file = c->env->ca_file;
        return 1;
    }
    if (c->env->platform_trusts_ca)
        return 1;
    c->unsupported = 1;
    snprintf(c->detail, sizeof c->detail,
             "needs UNIWS_CAP_TLS_CA_FILE (or a platform trust store holding the test CA)");
    return 0;
}
