/*
 * echo_clients.c — see echo_clients.h.
 */
#include "echo_clients.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

void (*echo_tick)(void);
static unsigned long g_seq;

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void on_open(uniws_socket *s, void *ud)
{
    echo_client *c = ud;
    c->opened = 1;
    c->open_seq = ++g_seq;
    uniws_send_text(s, c->text, strlen(c->text));
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    echo_client *c = ud;
    if (m->type != UNIWS_TEXT || m->len != strlen(c->text) || memcmp(m->data, c->text, m->len))
        c->mismatch = 1;
    c->echoed++;
    uniws_close(s, 1000, "done");
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    echo_client *c = ud;
    (void)s;
    c->error = e->error;
    c->http_status = e->http_status;
    snprintf(c->message, sizeof c->message, "%s", e->message);
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    echo_client *c = ud;
    (void)s;
    c->closed = 1;
    c->close_seq = ++g_seq;
    c->clean = e->was_clean;
    c->code = e->code;
}

size_t echo_run(uniws_loop *loop, const char *url, const uniws_options *base,
                const char *const *backends, size_t nb, echo_client *c, size_t n, int timeout_ms)
{
    for (size_t i = 0; i < n; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].backend = backends[i % nb];
        snprintf(c[i].text, sizeof c[i].text, "hello %zu via %s", i, c[i].backend);
        uniws_options o = *base;
        o.backend = c[i].backend;
        o.user_data = &c[i];
        o.callbacks.on_open = on_open;
        o.callbacks.on_message = on_message;
        o.callbacks.on_error = on_error;
        o.callbacks.on_close = on_close;
        int r = uniws_connect(loop, url, &o, &c[i].s);
        if (r) {
            c[i].error = r;
            c[i].closed = 1;
            c[i].s = NULL;
        }
    }
    long long deadline = now_ms() + timeout_ms;
    while (uniws_loop_alive(loop) > 0 && now_ms() < deadline) {
        uniws_loop_run_once(loop, 100);
        if (echo_tick)
            echo_tick();
    }
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].closed && c[i].clean && c[i].code == 1000 && c[i].echoed == 1 && !c[i].mismatch)
            done++;
        uniws_free(c[i].s);
        c[i].s = NULL;
    }
    return done;
}
