/*
 * harness.h — what a conformance case sees: a context with its own fresh
 * uniws loop, the peer's address, a deadline, event recorders that check the
 * contract's ordering rules on every callback, and CHECK/TRY helpers that
 * record the first failure and leave the case. Cases use the public API only.
 */
#ifndef UNIWS_CONFORMANCE_HARNESS_H
#define UNIWS_CONFORMANCE_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include "uniws/uniws.h"

typedef struct conf_case conf_case;
typedef struct cx cx;
typedef struct rec rec;

/* Where the peers are, shared by every case of one run. */
typedef struct conf_env {
    const char *backend;
    uniws_backend_info info;
    int port;                  /* plain scripted peer on 127.0.0.1 */
    int tls_port;              /* TLS scripted peer, 0 when none */
    int closed_port;           /* a port nobody listens on */
    const char *ca_file;       /* CA that signed the TLS peer's certificate */
    const char *other_ca_file; /* an unrelated CA */
    int case_timeout_ms;
    /* reliability (issue 12): the TLS matrix's peers (0: none) and files */
    int tls_expired_port;    /* certificate signed by ca_file, expired in 2020 */
    int tls_wronghost_port;  /* certificate for wrong.example / 10.9.9.9 only */
    int tls_selfsigned_port; /* self-signed certificate for 127.0.0.1 */
    int tls_mtls_port;       /* server.pem; requires a client certificate from ca_file */
    const char *client_cert, *client_key; /* signed by ca_file (clientAuth) */
    const char *client_other_key;         /* a key that does not match client_cert */
    /* cli (issue 14): --proxy / --proxy-ca, given to every connection whose
     * case sets no proxy of its own (the curl-https-proxy column). */
    const char *proxy;
    const char *proxy_ca_file;
    /* cli (issue 14): the platform's own trust store holds the test CA for
     * this run (the browser columns: NODE_EXTRA_CA_CERTS, Chromium's SPKI
     * list), so a backend without UNIWS_CAP_TLS_CA_FILE still verifies the
     * TLS peer; untrusted_tls_port serves a certificate of the unrelated CA. */
    int platform_trusts_ca;
    int untrusted_tls_port;
} conf_env;

enum conf_ev_kind { EV_OPEN = 1, EV_MESSAGE = 2, EV_ERROR = 3, EV_CLOSE = 4 };

typedef struct conf_ev {
    int kind;
    int state; /* uniws_ready_state() inside the callback */
    uint64_t at_ms;
    /* EV_MESSAGE */
    int type;
    size_t len;
    unsigned char *data; /* copy plus a NUL; NULL when the recorder keeps no data */
    /* EV_ERROR */
    int error;
    int http_status;
    char message[160];
    /* EV_CLOSE */
    int code;
    int was_clean;
    char reason[128];
    size_t reason_len;
    int cause; /* lifecycle: uniws_close_event.cause */
} conf_ev;

/* Records one socket's events and checks every callback against the contract
 * (order, state, thread, user_data, termination of strings). Hooks run after
 * the event is recorded; a hook frees the socket with rec_free_socket(). */
struct rec {
    cx *c;
    uniws_socket *s;
    int freed;
    int keep_data; /* 1 (default): copy message payloads */
    conf_ev *evs;
    size_t n, cap;
    size_t n_open, n_msg, n_err, n_close;
    size_t msg_bytes;
    char violation[256];
    void (*on_open)(rec *r);
    void (*on_message)(rec *r, const uniws_message *m);
    void (*on_error)(rec *r, const uniws_error_event *e);
    void (*on_close)(rec *r, const uniws_close_event *e);
    void *hook_data;
    long hook_arg;
    rec *next;
};

struct cx {
    const conf_env *env;
    const conf_case *k;
    uniws_loop *loop;
    pthread_t loop_thread;
    int in_loop;
    int failed;
    int unsupported; /* a case may find at run time there is nothing to check */
    char detail[1024];
    char note[256]; /* shown as the detail of a passing case */
    uint64_t t0, deadline;
    rec *recs;
    void **allocs; /* cx_malloc blocks, freed after the case */
    size_t nallocs, allocs_cap;
    struct cx_deferred {
        void (*fn)(void *);
        void *arg;
    } deferred[8]; /* run after the sockets are freed */
    size_t ndeferred;
};

/* ---- running ------------------------------------------------------------ */

uint64_t cx_now_ms(void);
/* Runs one case: fresh loop, fn, contract checks on every recorder, frees
 * everything, checks uniws_loop_free(). Fills status ("pass", "fail",
 * "unsupported") and detail. */
void cx_run_case(const conf_env *env, const conf_case *k, const char **status, char *detail,
                 size_t detail_size);

/* ---- failing ------------------------------------------------------------ */

/* Records the first failure (later ones are dropped). Returns 0 so it can end
 * an expression. */
int cx_fail(cx *c, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CHECK(c, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            cx_fail((c), __FILE__, __LINE__, __VA_ARGS__);                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* Fails the case (in helpers that return 0 on failure). */
#define FAILF(c, ...) cx_fail((c), __FILE__, __LINE__, __VA_ARGS__)
/* Leaves the case when a helper (which already recorded why) returns 0. */
#define TRY(e)                                                                                     \
    do {                                                                                           \
        if (!(e))                                                                                  \
            return;                                                                                \
    } while (0)
#define CHECK_RC(c, expr, want)                                                                    \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            cx_fail((c), __FILE__, __LINE__, "%s returned %s, expected %s", #expr,                 \
                    uniws_err_name(rc_), uniws_err_name(want));                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* ---- URLs and connecting ------------------------------------------------- */

/* "ws://127.0.0.1:PORT" + path into buf (static per call site is fine). */
const char *cx_ws_url(cx *c, char *buf, size_t size, const char *path);
/* "wss://127.0.0.1:TLSPORT" + path; fails the case when there is no TLS peer. */
const char *cx_wss_url(cx *c, char *buf, size_t size, const char *path);

/* A new recorder owned by the context (freed after the case). */
rec *cx_rec(cx *c);
/* Connects r to url (a path such as "/echo" means the plain peer) with opts
 * (NULL: defaults); fills backend, callbacks and user_data. Returns 1, or 0
 * after failing the case when uniws_connect() does not return 0. */
int rec_connect(rec *r, const char *url, const uniws_options *opts);
/* cx_rec + rec_connect; NULL after failing the case. */
rec *cx_connect(cx *c, const char *url, const uniws_options *opts);
/* Calls uniws_connect() with this context's backend and a recorder that
 * must never fire; returns its result. *out gets the socket (may be NULL). */
int cx_try_connect(cx *c, const char *url, uniws_options *opts, rec **out);
/* Frees r's socket (safe inside r's own callbacks). */
void rec_free_socket(rec *r);

/* ---- driving the loop ---------------------------------------------------- */

/* Runs the loop until pred(arg) or timeout_ms (or the case deadline) passes.
 * Returns 1 when pred became true. A failing uniws_loop_run_once fails the
 * case and returns 0. */
int cx_run_until(cx *c, int (*pred)(void *), void *arg, int timeout_ms);
/* Runs the loop for ms milliseconds. */
void cx_run_for(cx *c, int ms);

/* Waits (until the case deadline) for open; fails the case (with the events
 * seen) when the socket closed or nothing came. */
int rec_wait_open(rec *r);
/* Waits for the close event; fails the case on timeout. */
int rec_wait_close(rec *r);
/* Waits for n messages in total; fails the case when they do not come. */
int rec_wait_msgs(rec *r, size_t n);

/* ---- expectations --------------------------------------------------------- */

/* The i-th message event (0-based), or NULL. */
const conf_ev *rec_msg(const rec *r, size_t i);
const conf_ev *rec_first(const rec *r, int kind);
/* Short text of the events seen, e.g. "open msg(text,5) close(1000,clean)". */
const char *rec_describe(const rec *r, char *buf, size_t size);

/* Waits for the close and checks a failed connection: an error event, then
 * close 1006 with was_clean=0; want_error (0: any) is the error code expected;
 * opened says whether open must (1) or must not (0) have come (-1: either). */
int expect_failure(rec *r, int want_error, int opened);
/* Waits for the close of a connection that ended without a close frame
 * (TCP's FIN or reset, or the end of TLS) after nmsgs messages: close 1006,
 * unclean, exactly nmsgs messages, and the error UNIWS_ERESET. A browser
 * fires no error event for an open connection that ends (the recorder then
 * checks the close's cause is UNIWS_ERESET); a backend without
 * UNIWS_CAP_RAW_FRAMES only learns that it ended: its code is noted, not
 * checked. */
int expect_tcp_end(rec *r, long nmsgs);
/* Waits for the close and checks a clean close with this code and reason
 * (reason NULL: not checked) and no error event. */
int expect_clean_close(rec *r, int code, const char *reason);
/* Checks message i has this type and exactly these bytes. */
int expect_msg(rec *r, size_t i, int type, const void *data, size_t len);
/* Fills buf with n pattern bytes: text a..z repeated, binary i & 0xff. */
void conf_pattern(unsigned char *buf, size_t n, int type);

/* Memory that lives until the case ends (so early returns do not leak);
 * fails the case and returns NULL when out of memory. */
void *cx_malloc(cx *c, size_t n);
/* Runs fn(arg) when the case ends, after its sockets are freed (e.g. to
 * stop a helper thread). Returns 0 after failing the case when full. */
int cx_defer(cx *c, void (*fn)(void *), void *arg);
/* Percent-encodes data for a script argument (every byte outside
 * [A-Za-z0-9._~-]) into out; returns out. */
char *conf_pct(char *out, size_t size, const void *data, size_t n);
/* Hex of data into out; returns out. */
char *conf_hex(char *out, size_t size, const void *data, size_t n);

/* Starts a closing handshake with 1000 and waits for a clean 1000 close. */
int close_and_wait(rec *r);

/* cli (issue 14): makes o trust the test CA — tls_ca_file where the backend
 * has UNIWS_CAP_TLS_CA_FILE, else the platform's store when this run made it
 * trust the CA (env->platform_trusts_ca). Returns 0 after marking the case
 * unsupported when neither is possible. */
int cx_trust_test_ca(cx *c, uniws_options *o);

#endif
