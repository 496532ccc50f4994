/*
 * cases_api.c — the API surface around a connection (contract items 1, 10,
 * 11, 13 and 14): URL syntax and normalisation, argument errors, backend
 * choice, ready_state transitions, attributes, the error table and the loop's
 * own calls.
 */
#include "cases.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* sarg: '|'-separated URLs that uniws_connect must refuse with ESYNTAX,
 * without any callback. */
void case_url_bad(cx *c, const conf_case *k)
{
    char list[1024];
    snprintf(list, sizeof list, "%s", k->sarg);
    char *save = NULL;
    int n = 0;
    for (char *u = strtok_r(list, "|", &save); u; u = strtok_r(NULL, "|", &save)) {
        if (!strcmp(u, "<empty>"))
            u[0] = 0;
        int rc = cx_try_connect(c, u, NULL, NULL);
        CHECK(c, rc == UNIWS_ESYNTAX, "uniws_connect(\"%s\") returned %s, expected UNIWS_ESYNTAX",
              u, uniws_err_name(rc));
        n++;
    }
    cx_run_for(c, 30);
    for (rec *r = c->recs; r; r = r->next)
        CHECK(c, r->n == 0, "a refused connect fired callbacks");
    snprintf(c->note, sizeof c->note, "%d URLs refused", n);
}

void case_url_normalised(cx *c, const conf_case *k)
{
    static const struct {
        const char *in, *want;
        int wss;
    } tests[] = {
        {"ws://127.0.0.1:%d", "ws://127.0.0.1:%d/", 0},
        {"WS://LocalHost:%d/Path?Q=1", "ws://localhost:%d/Path?Q=1", 0},
        {"ws://127.0.0.1:80/x", "ws://127.0.0.1/x", 0},
        {"ws://[::1]:%d/x", "ws://[::1]:%d/x", 0},
        {"ws://127.0.0.1:%d?x=1", "ws://127.0.0.1:%d/?x=1", 0},
        {"ws://127.0.0.1:%d/a/b?c=d&e", "ws://127.0.0.1:%d/a/b?c=d&e", 0},
        {"http://127.0.0.1:%d/a", "ws://127.0.0.1:%d/a", 0},
        {"HTTP://127.0.0.1:80/", "ws://127.0.0.1/", 0},
        {"wss://127.0.0.1:443/x", "wss://127.0.0.1/x", 1},
        {"https://127.0.0.1:%d/", "wss://127.0.0.1:%d/", 1},
    };
    const int port = c->env->port;
    int n = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (tests[i].wss && !(c->env->info.caps & UNIWS_CAP_WSS))
            continue;
        char in[128], want[128];
        snprintf(in, sizeof in, tests[i].in, port);
        snprintf(want, sizeof want, tests[i].want, port);
        rec *r = NULL;
        int rc = cx_try_connect(c, in, NULL, &r);
        CHECK(c, rc == 0, "uniws_connect(\"%s\") returned %s", in, uniws_err_name(rc));
        const char *got = uniws_url(r->s);
        CHECK(c, got && !strcmp(got, want), "uniws_url for \"%s\" is \"%s\", expected \"%s\"", in,
              got ? got : "(null)", want);
        rec_free_socket(r);
        n++;
    }
    /* The URL stays the same through a real connection. */
    char in[128], want[128];
    snprintf(in, sizeof in, "ws://127.0.0.1:%d/echo?a=1", port);
    snprintf(want, sizeof want, "ws://127.0.0.1:%d/echo?a=1", port);
    rec *r = cx_connect(c, in, NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    const char *got = uniws_url(r->s);
    CHECK(c, got && !strcmp(got, want), "uniws_url \"%s\" after open, expected \"%s\"",
          got ? got : "(null)", want);
    TRY(close_and_wait(r));
    got = uniws_url(r->s);
    CHECK(c, got && !strcmp(got, want), "uniws_url \"%s\" after close, expected \"%s\"",
          got ? got : "(null)", want);
    snprintf(c->note, sizeof c->note, "%d URLs", n + 1);
}

/* arg 0: http:// is ws://; arg 1: https:// is wss:// (with the test CA). */
void case_url_http_maps(cx *c, const conf_case *k)
{
    char in[128], want[128];
    uniws_options o;
    memset(&o, 0, sizeof o);
    if (k->arg) {
        CHECK(c, c->env->tls_port, "no TLS peer for this run");
        snprintf(in, sizeof in, "https://127.0.0.1:%d/echo", c->env->tls_port);
        snprintf(want, sizeof want, "wss://127.0.0.1:%d/echo", c->env->tls_port);
        TRY(cx_trust_test_ca(c, &o));
    } else {
        snprintf(in, sizeof in, "http://127.0.0.1:%d/echo", c->env->port);
        snprintf(want, sizeof want, "ws://127.0.0.1:%d/echo", c->env->port);
    }
    rec *r = cx_connect(c, in, &o);
    TRY(r);
    const char *got = uniws_url(r->s);
    CHECK(c, got && !strcmp(got, want), "uniws_url \"%s\", expected \"%s\"", got ? got : "(null)",
          want);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "mapped", 6), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "mapped", 6));
    TRY(close_and_wait(r));
}

void case_connect_args(cx *c, const conf_case *k)
{
    char url[64];
    cx_ws_url(c, url, sizeof url, "/echo");
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = c->env->backend;
    uniws_socket *s = NULL;
    CHECK_RC(c, uniws_connect(NULL, url, &o, &s), UNIWS_EINVAL);
    CHECK_RC(c, uniws_connect(c->loop, NULL, &o, &s), UNIWS_EINVAL);
    CHECK_RC(c, uniws_connect(c->loop, url, &o, NULL), UNIWS_EINVAL);
    o.backend = "no-such-backend";
    CHECK_RC(c, cx_try_connect(c, url, &o, NULL), UNIWS_ENO_BACKEND);
    /* The public calls accept NULL sockets without crashing. */
    CHECK_RC(c, uniws_send_text(NULL, "x", 1), UNIWS_EINVAL);
    CHECK_RC(c, uniws_send_binary(NULL, "x", 1), UNIWS_EINVAL);
    CHECK_RC(c, uniws_close(NULL, 1000, NULL), UNIWS_EINVAL);
    CHECK(c, uniws_ready_state(NULL) == UNIWS_CLOSED, "uniws_ready_state(NULL) is not CLOSED");
    uniws_free(NULL);
    cx_run_for(c, 30);
    for (rec *r = c->recs; r; r = r->next)
        CHECK(c, r->n == 0, "a refused connect fired callbacks");
}

/* Connects without naming a backend; returns the socket's backend name
 * (copied) or the error. */
static int connect_default(cx *c, const char *backend, char *name, size_t size)
{
    char url[64];
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = backend;
    uniws_socket *s = NULL;
    int rc = uniws_connect(c->loop, cx_ws_url(c, url, sizeof url, "/echo"), &o, &s);
    if (rc == 0) {
        snprintf(name, size, "%s", uniws_backend_name(s));
        uniws_free(s);
    }
    return rc;
}

/* Explicit option > UNIWS_BACKEND > build default; unknown names fail. */
void case_backend_choice(cx *c, const conf_case *k)
{
    const char *me = c->env->backend;
    uniws_backend_info info;
    CHECK_RC(c, uniws_backend_find(me, &info), 0);
    CHECK(c, info.name && !strcmp(info.name, me), "uniws_backend_find(\"%s\") named \"%s\"", me,
          info.name ? info.name : "(null)");
    CHECK(c, info.version && info.description, "backend info without version or description");
    CHECK_RC(c, uniws_backend_find("no-such-backend", &info), UNIWS_ENO_BACKEND);
    CHECK_RC(c, uniws_backend_find(NULL, &info), UNIWS_EINVAL);
    size_t count = uniws_backend_count(), found = 0;
    for (size_t i = 0; i < count; i++) {
        CHECK_RC(c, uniws_backend_get(i, &info), 0);
        if (!strcmp(info.name, me))
            found++;
    }
    CHECK(c, found == 1, "backend \"%s\" listed %zu times by uniws_backend_get", me, found);
    CHECK_RC(c, uniws_backend_get(count, &info), UNIWS_EINVAL);
    CHECK_RC(c, uniws_backend_get(0, NULL), UNIWS_EINVAL);

    const char *old = getenv("UNIWS_BACKEND");
    char saved[64] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    char name[64] = "";
    setenv("UNIWS_BACKEND", me, 1);
    int rc_default = uniws_backend_default(&info);
    int same_default = rc_default == 0 && !strcmp(info.name, me);
    int rc_env = connect_default(c, NULL, name, sizeof name);
    int env_ok = rc_env == 0 && !strcmp(name, me);
    setenv("UNIWS_BACKEND", "no-such-backend", 1);
    int rc_bad_default = uniws_backend_default(&info);
    int rc_bad = connect_default(c, NULL, name, sizeof name);
    int rc_explicit = connect_default(c, me, name, sizeof name);
    int explicit_ok = rc_explicit == 0 && !strcmp(name, me);
    if (old)
        setenv("UNIWS_BACKEND", saved, 1);
    else
        unsetenv("UNIWS_BACKEND");

    CHECK(c, same_default, "UNIWS_BACKEND=%s: uniws_backend_default returned %s / \"%s\"", me,
          uniws_err_name(rc_default), rc_default ? "" : info.name);
    CHECK(c, env_ok, "UNIWS_BACKEND=%s: connect returned %s, backend \"%s\"", me,
          uniws_err_name(rc_env), name);
    CHECK(c, rc_bad_default == UNIWS_ENO_BACKEND,
          "UNIWS_BACKEND=no-such-backend: uniws_backend_default returned %s",
          uniws_err_name(rc_bad_default));
    CHECK(c, rc_bad == UNIWS_ENO_BACKEND, "UNIWS_BACKEND=no-such-backend: connect returned %s",
          uniws_err_name(rc_bad));
    CHECK(c, explicit_ok, "the explicit option must win over UNIWS_BACKEND: %s, backend \"%s\"",
          uniws_err_name(rc_explicit), name);
}

void case_ready_states(cx *c, const conf_case *k)
{
    CHECK(c, uniws_ready_state(NULL) == UNIWS_CLOSED, "uniws_ready_state(NULL) is not CLOSED");
    rec *r = cx_connect(c, "/script/text:x", NULL);
    TRY(r);
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CONNECTING, "ready_state %d after connect",
          (int)uniws_ready_state(r->s));
    TRY(rec_wait_open(r));
    CHECK(c, uniws_ready_state(r->s) == UNIWS_OPEN, "ready_state %d after open",
          (int)uniws_ready_state(r->s));
    TRY(rec_wait_msgs(r, 1));
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CLOSING, "ready_state %d after uniws_close",
          (int)uniws_ready_state(r->s));
    TRY(expect_clean_close(r, 1000, ""));
    CHECK(c, uniws_ready_state(r->s) == UNIWS_CLOSED, "ready_state %d after the close event",
          (int)uniws_ready_state(r->s));

    /* A failed connection goes CONNECTING -> CLOSED, never OPEN. */
    rec *f = cx_connect(c, "/script/status:500", NULL);
    TRY(f);
    CHECK(c, uniws_ready_state(f->s) == UNIWS_CONNECTING, "ready_state %d after connect",
          (int)uniws_ready_state(f->s));
    TRY(expect_failure(f, 0, 0));
    for (size_t i = 0; i < f->n; i++)
        CHECK(c, f->evs[i].state != UNIWS_OPEN, "ready_state OPEN during a failed handshake");
    CHECK(c, uniws_ready_state(f->s) == UNIWS_CLOSED, "ready_state %d after the failure",
          (int)uniws_ready_state(f->s));
}

void case_attributes(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    const char *b = uniws_backend_name(r->s);
    CHECK(c, b && !strcmp(b, c->env->backend), "uniws_backend_name \"%s\", expected \"%s\"",
          b ? b : "(null)", c->env->backend);
    CHECK(c, uniws_capabilities(r->s) == c->env->info.caps,
          "uniws_capabilities 0x%x, backend info says 0x%x", uniws_capabilities(r->s),
          c->env->info.caps);
    CHECK(c, uniws_user_data(r->s) == r, "uniws_user_data differs from the option");
    TRY(rec_wait_open(r));
    const char *p = uniws_protocol(r->s), *e = uniws_extensions(r->s);
    CHECK(c, p && !*p, "uniws_protocol \"%s\" with nothing offered", p ? p : "(null)");
    CHECK(c, e && !*e, "uniws_extensions \"%s\" with nothing offered", e ? e : "(null)");
    CHECK(c, uniws_buffered_amount(r->s) == 0, "buffered_amount %zu when idle",
          uniws_buffered_amount(r->s));
    TRY(close_and_wait(r));
    b = uniws_backend_name(r->s);
    CHECK(c, b && !strcmp(b, c->env->backend), "uniws_backend_name \"%s\" after close",
          b ? b : "(null)");
}

void case_error_table(cx *c, const conf_case *k)
{
    static const struct {
        int code;
        const char *name;
    } errs[] = {
#define CONF_ERR(name, val, desc) {val, "UNIWS_E" #name},
        UNIWS_ERRNO_MAP(CONF_ERR)
#undef CONF_ERR
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        const char *s = uniws_strerror(errs[i].code);
        CHECK(c, s && *s, "uniws_strerror(%d) is empty", errs[i].code);
        const char *n = uniws_err_name(errs[i].code);
        CHECK(c, n && !strcmp(n, errs[i].name), "uniws_err_name(%d) is \"%s\", expected \"%s\"",
              errs[i].code, n ? n : "(null)", errs[i].name);
        CHECK(c, errs[i].code < 0, "%s is not negative", errs[i].name);
        for (size_t j = 0; j < i; j++)
            CHECK(c, errs[i].code != errs[j].code, "%s and %s share a value", errs[i].name,
                  errs[j].name);
    }
    CHECK(c, !strcmp(uniws_err_name(0), "UNIWS_OK"), "uniws_err_name(0) is \"%s\"",
          uniws_err_name(0));
    CHECK(c, uniws_strerror(-12345) && uniws_err_name(-12345), "NULL for an unknown error code");
    char buf[512];
    size_t need = uniws_caps_string(c->env->info.caps, buf, sizeof buf);
    CHECK(c, need == strlen(buf), "uniws_caps_string returned %zu for \"%s\"", need, buf);
    char tiny[4] = "zzz";
    size_t need2 = uniws_caps_string(c->env->info.caps, tiny, sizeof tiny);
    CHECK(c, need2 == need && strlen(tiny) < sizeof tiny,
          "uniws_caps_string into 4 bytes: returned %zu, wrote \"%.4s\"", need2, tiny);
}

typedef struct watchdog {
    uniws_loop *loop;
    int after_ms;
    atomic_int done;
    atomic_int fired;
} watchdog;

static void *watchdog_main(void *arg)
{
    watchdog *w = arg;
    uint64_t end = cx_now_ms() + (uint64_t)w->after_ms;
    while (!atomic_load(&w->done) && cx_now_ms() < end) {
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (!atomic_load(&w->done)) {
        atomic_store(&w->fired, 1);
        uniws_loop_stop(w->loop);
    }
    return NULL;
}

/* Runs uniws_loop_run; where the program has threads, a watchdog thread
 * calls uniws_loop_stop after ms, so a loop that never returns fails the
 * case instead of hanging it (without threads the runner's deadline catches
 * the hang). Returns the loop's result; *stopped says whether the watchdog
 * had to stop it. */
static int run_with_watchdog(cx *c, int ms, int *stopped)
{
    *stopped = 0;
    if (!(conf_caps(c->env) & CONF_CAP_THREADS)) {
        c->in_loop = 1;
        int rc = uniws_loop_run(c->loop);
        c->in_loop = 0;
        return rc;
    }
    watchdog w;
    w.loop = c->loop;
    w.after_ms = ms;
    atomic_init(&w.done, 0);
    atomic_init(&w.fired, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog_main, &w) != 0) {
        FAILF(c, "pthread_create failed");
        return -1;
    }
    c->in_loop = 1;
    int rc = uniws_loop_run(c->loop);
    c->in_loop = 0;
    atomic_store(&w.done, 1);
    pthread_join(t, NULL);
    *stopped = atomic_load(&w.fired);
    return rc;
}

/* uniws_loop_run returns by itself once the last socket closed. */
void case_loop_run_returns(cx *c, const conf_case *k)
{
    char buf[512];
    rec *r = cx_connect(c, "/script/text:a/close:1000:end", NULL);
    TRY(r);
    int stopped = 0;
    int rc = run_with_watchdog(c, 5000, &stopped);
    TRY(!c->failed);
    CHECK(c, rc == 0, "uniws_loop_run returned %s", uniws_err_name(rc));
    CHECK(c, !stopped, "uniws_loop_run did not return after the last close; saw: %s",
          rec_describe(r, buf, sizeof buf));
    TRY(expect_clean_close(r, 1000, "end"));
    CHECK(c, r->n_msg == 1, "%zu messages, expected 1", r->n_msg);
    CHECK(c, uniws_loop_alive(c->loop) == 0, "uniws_loop_alive %d after the close",
          uniws_loop_alive(c->loop));
}

static void stop_in_open(rec *r)
{
    uniws_loop_stop(r->c->loop);
}

/* uniws_loop_stop makes uniws_loop_run return early while a socket is still
 * open, and the loop carries on afterwards. arg 0: called from another
 * thread (the watchdog, after 300 ms); 1: from inside on_open. */
void case_loop_stop(cx *c, const conf_case *k)
{
    char buf[512];
    rec *o = cx_rec(c);
    TRY(o);
    if (k->arg == 1)
        o->on_open = stop_in_open;
    TRY(rec_connect(o, "/echo", NULL));
    uint64_t t0 = cx_now_ms();
    int stopped = 0;
    int rc = run_with_watchdog(c, k->arg == 1 ? 5000 : 300, &stopped);
    TRY(!c->failed);
    CHECK(c, rc == 0, "uniws_loop_run returned %s after uniws_loop_stop", uniws_err_name(rc));
    if (k->arg == 1)
        CHECK(c, !stopped && o->n_open == 1 && !o->n_close,
              "expected uniws_loop_run to return after on_open stopped it; saw: %s%s",
              rec_describe(o, buf, sizeof buf), stopped ? " (the watchdog had to stop it)" : "");
    else
        CHECK(c, stopped && o->n_open == 1 && !o->n_close,
              "expected an open socket and a stop from the thread; saw: %s",
              rec_describe(o, buf, sizeof buf));
    CHECK(c, cx_now_ms() - t0 < 3000, "uniws_loop_run took %llu ms to notice uniws_loop_stop",
          (unsigned long long)(cx_now_ms() - t0));
    CHECK(c, uniws_loop_alive(c->loop) == 1, "uniws_loop_alive %d with the socket still open",
          uniws_loop_alive(c->loop));
    TRY(close_and_wait(o));
}

void case_loop_free_busy(cx *c, const conf_case *k)
{
    CHECK_RC(c, uniws_loop_free(NULL), UNIWS_EINVAL);
    CHECK(c, uniws_loop_alive(c->loop) == 0, "uniws_loop_alive %d on a new loop",
          uniws_loop_alive(c->loop));
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    CHECK(c, uniws_loop_alive(c->loop) == 1, "uniws_loop_alive %d with one socket",
          uniws_loop_alive(c->loop));
    CHECK_RC(c, uniws_loop_free(c->loop), UNIWS_EBUSY);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "alive", 5), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(close_and_wait(r));
    CHECK(c, uniws_loop_alive(c->loop) == 0, "uniws_loop_alive %d after the close",
          uniws_loop_alive(c->loop));
}
