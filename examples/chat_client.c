/*
 * chat_client.c — a chat client that survives its server restarting, written
 * once against uniws and built unchanged natively and for the browser (see
 * examples/CMakeLists.txt). It shows the lifecycle features: a reconnect
 * policy (same socket across connections, backoff with jitter), a heartbeat
 * where the backend can ping, a dead-peer deadline everywhere, and the close
 * event's cause. On every open it says "NAME: hello #K" and prints what comes
 * back; once round ROUNDS has come back it closes.
 *
 *   chat_client [--rounds N] URL [NAME]
 *
 * Exit status (natively): 0 when every round came back and the close was
 * clean, 1 otherwise, 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uniws/uniws.h"

typedef struct chat {
    const char *name;
    int rounds;   /* opens to go through */
    int round;    /* the current connection's number (1, 2, ...) */
    int answered; /* rounds whose hello came back */
    int clean;
    char hello[160];
} chat;

static void on_open(uniws_socket *s, void *ud)
{
    chat *c = ud;
    c->round++;
    printf("open #%d (backend %s)\n", c->round, uniws_backend_name(s));
    snprintf(c->hello, sizeof c->hello, "%s: hello #%d", c->name, c->round);
    if (uniws_send_text(s, c->hello, strlen(c->hello)) == 0)
        printf("> %s\n", c->hello);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    chat *c = ud;
    if (m->type != UNIWS_TEXT)
        return;
    printf("< %s\n", (const char *)m->data);
    if (strcmp(m->data, c->hello) == 0) {
        c->answered++;
        if (c->round >= c->rounds)
            uniws_close(s, 1000, "bye");
    }
}

static void on_reconnecting(uniws_socket *s, const uniws_reconnect_event *e, void *ud)
{
    (void)s;
    (void)ud;
    printf("reconnecting in %d ms (attempt %d, ended with %d %s)\n", e->delay_ms, e->attempt,
           e->code, e->cause ? uniws_err_name(e->cause) : "clean");
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    (void)s;
    (void)ud;
    printf("error: %s (%s)\n", e->message, uniws_err_name(e->error));
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    chat *c = ud;
    c->clean = e->was_clean;
    printf("closed %d \"%s\" %s (cause %s)\n", e->code, e->reason,
           e->was_clean ? "clean" : "unclean", e->cause ? uniws_err_name(e->cause) : "none");
    printf("result: %d/%d rounds answered\n", c->answered, c->rounds);
    uniws_free(s);
}

int main(int argc, char **argv)
{
    static chat c;
    int i = 1;
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines show up as they happen, also in a pipe */
    c.rounds = 2;
    if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0) {
        c.rounds = atoi(argv[i + 1]);
        i += 2;
    }
    if (i >= argc || c.rounds < 1) {
        fprintf(stderr, "usage: chat_client [--rounds N] URL [NAME]\n");
        return 2;
    }
    const char *url = argv[i];
    c.name = i + 1 < argc ? argv[i + 1] : "chat";

    uniws_loop *loop;
    if (uniws_loop_new(&loop) != 0)
        return 1;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.reconnect.max_attempts = -1; /* a chat waits for its server */
    o.reconnect.initial_delay_ms = 200;
    o.reconnect.max_delay_ms = 2000;
    o.reconnect.jitter = 0.2;
    o.idle_timeout_ms = 10000;
    uniws_backend_info b;
    if (uniws_backend_default(&b) == 0 && (b.caps & UNIWS_CAP_PING))
        o.ping_interval_ms = 3000; /* the browser cannot ping; it still has the deadline */
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.callbacks.on_reconnecting = on_reconnecting;
    o.user_data = &c;
    uniws_socket *s;
    printf("connecting to %s\n", url);
    int rc = uniws_connect(loop, url, &o, &s);
    if (rc != 0) {
        printf("cannot connect: %s\n", uniws_err_name(rc));
        return 1;
    }
    /* Natively this returns after the close; in a browser at once, and the
     * page's event loop runs the socket (docs/web.md). */
    rc = uniws_loop_run(loop);
    if (rc != 0 || uniws_loop_alive(loop) > 0)
        return rc ? 1 : 0;
    uniws_loop_free(loop);
    return c.answered >= c.rounds && c.clean ? 0 : 1;
}
