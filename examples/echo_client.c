/*
 * echo_client.c — a small echo/chat client written once against uniws and
 * built unchanged natively (cc) and for the browser (emcc, see
 * examples/CMakeLists.txt and docs/web.md). It connects, sends every message
 * given on the command line (in the browser: the page's ?msg= parameters),
 * prints what comes back, and closes once each message has returned.
 * With --stay it keeps the connection open for more lines: the web page's
 * input box calls echo_client_say() for each and its button echo_client_quit().
 *
 *   echo_client [--stay] URL [MESSAGE...]
 *
 * Exit status (natively): 0 when every message came back unchanged and the
 * close was clean, 1 otherwise, 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uniws/uniws.h"

typedef struct app {
    uniws_loop *loop;
    uniws_socket *s;
    char **msgs; /* the messages to send */
    int nmsgs;
    int echoed; /* messages that came back unchanged */
    int stay;   /* keep the connection open after the last echo */
    int clean;  /* the close was clean */
    int said;   /* lines sent through echo_client_say() */
} app;

static app the_app;

/* Called by the web page's input box (exported with -sEXPORTED_FUNCTIONS);
 * natively nothing calls it. Sends one more line if the socket is open. */
void echo_client_say(const char *text);
void echo_client_say(const char *text)
{
    app *a = &the_app;
    if (!a->s || uniws_ready_state(a->s) != UNIWS_OPEN) {
        printf("not connected\n");
        return;
    }
    int rc = uniws_send_text(a->s, text, strlen(text));
    if (rc != 0) {
        printf("send failed: %s\n", uniws_strerror(rc));
        return;
    }
    a->said++;
    printf("> %s\n", text);
}

/* The web page's "Close" button; natively unused. */
void echo_client_quit(void);
void echo_client_quit(void)
{
    if (the_app.s)
        uniws_close(the_app.s, 1000, "bye");
}

static void on_open(uniws_socket *s, void *ud)
{
    app *a = ud;
    const char *proto = uniws_protocol(s);
    printf("open (backend %s%s%s)\n", uniws_backend_name(s), *proto ? ", protocol " : "", proto);
    for (int i = 0; i < a->nmsgs; i++) {
        int rc = uniws_send_text(s, a->msgs[i], strlen(a->msgs[i]));
        if (rc != 0) {
            printf("send failed: %s\n", uniws_strerror(rc));
            uniws_close(s, 1000, "send failed");
            return;
        }
        printf("> %s\n", a->msgs[i]);
    }
    if (a->nmsgs == 0 && !a->stay)
        uniws_close(s, 1000, "nothing to say");
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    app *a = ud;
    if (m->type == UNIWS_BINARY) {
        printf("< [%zu bytes of binary]\n", m->len);
        return;
    }
    printf("< %s\n", (const char *)m->data); /* text is NUL-terminated */
    int i = a->echoed;
    if (i < a->nmsgs && m->len == strlen(a->msgs[i]) && !memcmp(m->data, a->msgs[i], m->len))
        a->echoed++;
    if (a->echoed == a->nmsgs && a->nmsgs > 0 && !a->stay)
        uniws_close(s, 1000, "bye");
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    printf("error: %s (%s)\n", e->message, uniws_err_name(e->error));
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    app *a = ud;
    a->clean = e->was_clean;
    printf("closed %d \"%s\" %s\n", e->code, e->reason, e->was_clean ? "clean" : "unclean");
    printf("result: %d/%d messages echoed\n", a->echoed, a->nmsgs);
    uniws_free(s); /* safe inside the socket's own callback */
    a->s = NULL;
}

int main(int argc, char **argv)
{
    app *a = &the_app;
    int i = 1;
    if (i < argc && !strcmp(argv[i], "--stay")) {
        a->stay = 1;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: echo_client [--stay] URL [MESSAGE...]\n");
        return 2;
    }
    const char *url = argv[i++];
    a->msgs = argv + i;
    a->nmsgs = argc - i;

    int rc = uniws_loop_new(&a->loop);
    if (rc != 0) {
        fprintf(stderr, "uniws_loop_new: %s\n", uniws_strerror(rc));
        return 1;
    }
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = a;
    printf("connecting to %s\n", url);
    rc = uniws_connect(a->loop, url, &o, &a->s);
    if (rc != 0) {
        printf("cannot connect: %s (%s)\n", uniws_strerror(rc), uniws_err_name(rc));
        uniws_loop_free(a->loop);
        return 1;
    }
    /* Natively this returns once the socket has closed. In a browser it
     * returns at once and the page's event loop runs the loop (docs/web.md):
     * the socket is still alive, and on_close reports the end. */
    rc = uniws_loop_run(a->loop);
    if (rc != 0 || uniws_loop_alive(a->loop) > 0)
        return rc ? 1 : 0;
    uniws_loop_free(a->loop);
    return a->echoed == a->nmsgs && a->clean ? 0 : 1;
}
