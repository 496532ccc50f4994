/*
 * cases_events.c — event rules and threads (contract items 2, 3 and 4): the
 * order of events and the single final close, freeing a socket inside each
 * callback or at any moment, and send / close / ready_state / buffered_amount
 * from a thread that does not drive the loop.
 */
#include "cases.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

void case_event_order(cx *c, const conf_case *k)
{
    char buf[512];
    rec *r = cx_connect(c, "/script/text:one/bin:2/text:three/close:1000:end", NULL);
    TRY(r);
    TRY(expect_clean_close(r, 1000, "end"));
    static const int kinds[] = {EV_OPEN, EV_MESSAGE, EV_MESSAGE, EV_MESSAGE, EV_CLOSE};
    CHECK(c, r->n == 5, "expected open, 3 messages, close; saw: %s",
          rec_describe(r, buf, sizeof buf));
    for (size_t i = 0; i < 5; i++)
        CHECK(c, r->evs[i].kind == kinds[i], "wrong order; saw: %s",
              rec_describe(r, buf, sizeof buf));
    static const unsigned char b2[] = {0, 1};
    TRY(expect_msg(r, 0, UNIWS_TEXT, "one", 3));
    TRY(expect_msg(r, 1, UNIWS_BINARY, b2, 2));
    TRY(expect_msg(r, 2, UNIWS_TEXT, "three", 5));
    CHECK(c, uniws_loop_alive(c->loop) == 0, "uniws_loop_alive %d after the close event",
          uniws_loop_alive(c->loop));
    /* Nothing may follow the close event, however long the loop runs. */
    cx_run_for(c, 300);
    CHECK(c, r->n == 5, "events after the close; saw: %s", rec_describe(r, buf, sizeof buf));
}

static void free_hook(rec *r)
{
    rec_free_socket(r);
}

static void free_on_message(rec *r, const uniws_message *m)
{
    rec_free_socket(r);
}

static void free_on_error(rec *r, const uniws_error_event *e)
{
    rec_free_socket(r);
}

static void free_on_close(rec *r, const uniws_close_event *e)
{
    rec_free_socket(r);
}

/* After a socket is freed, the loop goes on serving the others. */
static int bystander_echo(cx *c)
{
    rec *b = cx_connect(c, "/echo", NULL);
    if (!b || !rec_wait_open(b))
        return 0;
    int rc = uniws_send_text(b->s, "bystander", 9);
    if (rc != 0)
        return FAILF(c, "bystander send returned %s", uniws_err_name(rc));
    if (!rec_wait_msgs(b, 1) || !expect_msg(b, 0, UNIWS_TEXT, "bystander", 9))
        return 0;
    if (!close_and_wait(b))
        return 0;
    if (uniws_loop_alive(c->loop) != 0)
        return FAILF(c, "uniws_loop_alive %d after everything closed or was freed",
                     uniws_loop_alive(c->loop));
    return 1;
}

static int pred_freed(void *arg)
{
    rec *r = arg;
    return r->freed || r->n_close;
}

/* arg: the event (EV_*) inside whose callback the socket frees itself. */
void case_free_in_callback(cx *c, const conf_case *k)
{
    static const char *const paths[] = {NULL, "/script/text:a/text:b",
                                        "/script/text:a/text:b/text:c", "/script/status:500",
                                        "/script/close:1000"};
    static const size_t events[] = {0, 1, 2, 1, 2};
    char buf[512];
    rec *r = cx_rec(c);
    TRY(r);
    switch (k->arg) {
    case EV_OPEN:
        r->on_open = free_hook;
        break;
    case EV_MESSAGE:
        r->on_message = free_on_message;
        break;
    case EV_ERROR:
        r->on_error = free_on_error;
        break;
    default:
        r->on_close = free_on_close;
        break;
    }
    TRY(rec_connect(r, paths[k->arg], NULL));
    cx_run_until(c, pred_freed, r, 8000);
    CHECK(c, r->freed, "the callback never ran; saw: %s", rec_describe(r, buf, sizeof buf));
    cx_run_for(c, 300);
    CHECK(c, r->n == events[k->arg], "expected %zu events up to the free; saw: %s", events[k->arg],
          rec_describe(r, buf, sizeof buf));
    TRY(bystander_echo(c));
}

void case_free_while_connecting(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    rec_free_socket(r);
    CHECK(c, uniws_loop_alive(c->loop) == 0, "uniws_loop_alive %d after freeing the only socket",
          uniws_loop_alive(c->loop));
    cx_run_for(c, 200);
    CHECK(c, r->n == 0, "%zu events after uniws_free", r->n);
    TRY(bystander_echo(c));
}

void case_free_open_outside(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "unanswered", 10), 0);
    rec_free_socket(r);
    cx_run_for(c, 200);
    CHECK(c, r->n == 1, "%zu events after uniws_free (only open expected)", r->n);
    TRY(bystander_echo(c));
}

typedef struct sender {
    uniws_socket *s;
    long n;
    size_t size;
    atomic_int done;
    int bad_rc;
    long bad_at;
    long polls;
} sender;

static void *sender_main(void *arg)
{
    sender *t = arg;
    unsigned char buf[256];
    conf_pattern(buf, t->size, UNIWS_TEXT);
    for (long i = 0; i < t->n; i++) {
        int rc = i % 2 ? uniws_send_binary(t->s, buf, t->size)
                       : uniws_send_text(t->s, (const char *)buf, t->size);
        /* Read-only calls are also safe from here. */
        if (uniws_ready_state(t->s) == UNIWS_OPEN)
            t->polls++;
        (void)uniws_buffered_amount(t->s);
        if (rc != 0 && !t->bad_rc) {
            t->bad_rc = rc;
            t->bad_at = i;
        }
    }
    atomic_store(&t->done, 1);
    return NULL;
}

static int pred_sender_done(void *arg)
{
    sender *t = arg;
    return atomic_load(&t->done);
}

/* A thread sends N messages while the main thread drives the loop; the
 * report peer must count all of them. arg: N. */
void case_send_from_thread(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/report", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    sender t;
    memset(&t, 0, sizeof t);
    t.s = r->s;
    t.n = k->arg;
    t.size = 50;
    atomic_init(&t.done, 0);
    pthread_t th;
    CHECK(c, pthread_create(&th, NULL, sender_main, &t) == 0, "pthread_create failed");
    int ok = cx_run_until(c, pred_sender_done, &t, 8000);
    if (!ok) {
        /* Do not leave a thread behind that may still use the socket. */
        pthread_join(th, NULL);
        CHECK(c, 0, "the sending thread did not finish in time");
    }
    pthread_join(th, NULL);
    CHECK(c, t.bad_rc == 0, "send #%ld from the thread returned %s", t.bad_at,
          uniws_err_name(t.bad_rc));
    CHECK_RC(c, uniws_close(r->s, 1000, NULL), 0);
    char want[64];
    snprintf(want, sizeof want, "msgs=%ld bytes=%ld", t.n, t.n * (long)t.size);
    TRY(expect_clean_close(r, 1000, want));
}

typedef struct closer {
    uniws_socket *s;
    atomic_int done;
    int rc_send, rc_close;
} closer;

static void *closer_main(void *arg)
{
    closer *t = arg;
    for (int i = 0; i < 10 && !t->rc_send; i++)
        t->rc_send = uniws_send_text(t->s, "from thread", 11);
    t->rc_close = uniws_close(t->s, 4000, "thread");
    atomic_store(&t->done, 1);
    return NULL;
}

static int pred_closer_done(void *arg)
{
    closer *t = arg;
    return atomic_load(&t->done);
}

/* Sends then a close from another thread: the report peer counts the
 * messages that went out before the close frame and echoes the code. */
void case_close_from_thread(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/script/report", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    closer t;
    memset(&t, 0, sizeof t);
    t.s = r->s;
    atomic_init(&t.done, 0);
    pthread_t th;
    CHECK(c, pthread_create(&th, NULL, closer_main, &t) == 0, "pthread_create failed");
    cx_run_until(c, pred_closer_done, &t, 8000);
    pthread_join(th, NULL);
    CHECK(c, t.rc_send == 0, "send from the thread returned %s", uniws_err_name(t.rc_send));
    CHECK(c, t.rc_close == 0, "close from the thread returned %s", uniws_err_name(t.rc_close));
    TRY(expect_clean_close(r, 4000, "msgs=10 bytes=110"));
}
