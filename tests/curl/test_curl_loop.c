/*
 * test_curl_loop.c — the curl backend inside the uniws loop:
 *   mixed: one loop drives curl, lws (when compiled) and loopback sockets at
 *          the same time, all echoing concurrently;
 *   scale: 200 curl sockets on one loop and one thread, each echoing once,
 *          without a thread per socket;
 *   send_now: big messages sent where curl frames (UNIWS_CURL_DIRECT=0, as
 *          through an https:// proxy) from outside curl's callbacks go to curl_ws_send()
 *          straight from the caller's buffer (core/backend.h send_now),
 *          the rest queued behind, in order, with buffered_amount and the
 *          frame counters as when queued whole;
 *   send_now_echo: the same, sent only from on_open and on_message (as an
 *          echo client does): those events fire once curl has returned
 *          (core/rxlater.c), so every message leaves from the caller's
 *          buffer too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "nofile.h"
#include "uniws/uniws.h"
#include "server.h"
#include "echo_clients.h"

static uniws__server *g_srv;
static char g_url[128];
static int g_max_threads;

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void note_threads(void)
{
    int n = count_threads();
    if (n > g_max_threads)
        g_max_threads = n;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    uniws_test_raise_nofile();
    uniws__server_options so;
    memset(&so, 0, sizeof so);
    if (uniws__server_start(&so, &g_srv) != 0)
        return -1;
    snprintf(g_url, sizeof g_url, "ws://127.0.0.1:%d/echo", uniws__server_port(g_srv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv)
        uniws__server_stop(g_srv);
    return 0;
}

static int overlap(const echo_client *a, const echo_client *b)
{
    return a->open_seq && b->open_seq && a->open_seq < b->close_seq && b->open_seq < a->close_seq;
}

static void mixed_loop(void **state)
{
    (void)state;
    const char *backends[3];
    size_t nb = 0;
    backends[nb++] = "curl";
#ifdef UNIWS_HAVE_LWS
    backends[nb++] = "lws";
#endif
#ifdef UNIWS_HAVE_LOOPBACK
    backends[nb++] = "loopback";
#endif
    if (nb < 2)
        fail_msg("a mixed loop needs a second backend next to curl");
#ifndef UNIWS_HAVE_LWS
    fprintf(stderr, "note: lws is not compiled in; mixing curl with loopback only\n");
#endif
    enum { PER = 20 };
    echo_client c[3 * PER];
    size_t n = nb * PER;
    uniws_loop *loop;
    uniws_options o;
    memset(&o, 0, sizeof o);
    assert_int_equal(uniws_loop_new(&loop), 0);
    /* The peer waits before echoing, so every socket stays open a while. */
    char url[160];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/script/sleep:300/echo", uniws__server_port(g_srv));
    size_t done = echo_run(loop, url, &o, backends, nb, c, n, 30000);
    assert_int_equal(uniws_loop_free(loop), 0);
    for (size_t i = 0; i < n; i++)
        if (!(c[i].closed && c[i].clean && c[i].echoed == 1 && !c[i].mismatch))
            print_error("client %zu (%s): opened %d echoed %d closed %d clean %d code %d "
                        "error %d %s\n",
                        i, c[i].backend, c[i].opened, c[i].echoed, c[i].closed, c[i].clean,
                        c[i].code, c[i].error, c[i].message);
    assert_int_equal(done, n);
    /* Every other backend had a socket open while a curl socket was open. */
    for (size_t b = 1; b < nb; b++) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i += nb)
            for (size_t j = b; j < n && !found; j += nb)
                found = overlap(&c[i], &c[j]);
        if (!found)
            fail_msg("no %s socket was open at the same time as a curl socket", backends[b]);
    }
}

static void scale(void **state)
{
    (void)state;
    enum { N = 200 };
    static const char *const curl_only[] = {"curl"};
    static echo_client c[N];
    uniws_loop *loop;
    uniws_options o;
    memset(&o, 0, sizeof o);
    assert_int_equal(uniws_loop_new(&loop), 0);
    g_max_threads = 0;
    echo_tick = note_threads;
    size_t done = echo_run(loop, g_url, &o, curl_only, 1, c, N, 60000);
    echo_tick = NULL;
    assert_int_equal(uniws_loop_free(loop), 0);
    size_t max_open = 0, open_now = 0;
    for (size_t i = 0; i < N; i++)
        if (!(c[i].closed && c[i].clean && c[i].echoed == 1 && !c[i].mismatch))
            print_error("client %zu: opened %d echoed %d closed %d code %d error %d %s\n", i,
                        c[i].opened, c[i].echoed, c[i].closed, c[i].code, c[i].error, c[i].message);
    assert_int_equal(done, N);
    /* How many were open at once: sweep the open/close event order. */
    for (unsigned long seq = 1; seq <= 2 * N; seq++) {
        for (size_t i = 0; i < N; i++) {
            if (c[i].open_seq == seq)
                open_now++;
            if (c[i].close_seq == seq)
                open_now--;
        }
        if (open_now > max_open)
            max_open = open_now;
    }
    print_message("curl.scale: %d sockets, at most %zu open at once, at most %d threads\n", N,
                  max_open, g_max_threads);
    assert_true(max_open >= N / 2);
    /* The test's own thread plus the peer's server thread (and a spare). */
    assert_true(g_max_threads <= 4);
}

enum { SN_COUNT = 12, SN_SIZE = 1 << 20 };

typedef struct sn_state {
    uint8_t *buf;
    int sent, received, closed, clean, mismatch;
    int echo;         /* send_now_echo: no on_buffered_amount_low */
    int direct_tries; /* sends made outside curl (on_buffered_amount_low) */
    int direct_part;  /* of those, sends whose buffered_amount was below the size at once */
    int bad_buffered; /* buffered_amount above what was given */
    size_t uncopied;  /* payload bytes that left without a copy into the queue */
} sn_state;

static void sn_fill(uint8_t *p, int i, size_t len)
{
    for (size_t j = 0; j < len; j++)
        p[j] = (uint8_t)((j * 131u + (unsigned)i * 7u) >> 3);
}

/* Message i, then a small one behind it: they must come back in order. */
static void sn_send(uniws_socket *s, sn_state *st)
{
    int i = st->sent++;
    size_t before = uniws_buffered_amount(s);
    sn_fill(st->buf, i, SN_SIZE);
    assert_int_equal(uniws_send_binary(s, st->buf, SN_SIZE), 0);
    size_t after = uniws_buffered_amount(s);
    memset(st->buf, 0xee, SN_SIZE); /* the buffer is ours again */
    if (after > before + SN_SIZE)
        st->bad_buffered = 1;
    if (after < before + SN_SIZE) {
        st->direct_part++;
        st->uncopied += before + SN_SIZE - after;
    }
    char tag[32];
    snprintf(tag, sizeof tag, "after %d", i);
    assert_int_equal(uniws_send_text(s, tag, strlen(tag)), 0);
}

static void sn_open(uniws_socket *s, void *u)
{
    sn_send(s, u); /* fired once curl returned from the pass that read the 101 */
}

static void sn_low(uniws_socket *s, void *u)
{
    sn_state *st = u;
    if (st->sent < SN_COUNT) {
        st->direct_tries++;
        sn_send(s, st);
    }
}

static void sn_message(uniws_socket *s, const uniws_message *m, void *u)
{
    sn_state *st = u;
    int i = st->received / 2;
    if (st->received % 2 == 0) {
        uint8_t *want = malloc(SN_SIZE);
        assert_non_null(want);
        sn_fill(want, i, SN_SIZE);
        if (m->type != UNIWS_BINARY || m->len != SN_SIZE || memcmp(m->data, want, SN_SIZE) != 0)
            st->mismatch = 1;
        free(want);
    } else {
        char tag[32];
        snprintf(tag, sizeof tag, "after %d", i);
        if (m->type != UNIWS_TEXT || m->len != strlen(tag) || memcmp(m->data, tag, m->len) != 0)
            st->mismatch = 1;
    }
    st->received++;
    if (st->received == 2 * SN_COUNT)
        uniws_close(s, 1000, "done");
    else if (st->received == 2 * st->sent && st->sent < SN_COUNT)
        sn_send(s, st); /* nothing in flight (in send_now, only when no low event sent it) */
}

static void sn_close(uniws_socket *s, const uniws_close_event *ev, void *u)
{
    sn_state *st = u;
    (void)s;
    st->closed = 1;
    st->clean = ev->was_clean && ev->code == 1000;
}

static void send_now_run(int echo)
{
    sn_state st;
    memset(&st, 0, sizeof st);
    st.echo = echo;
    st.buf = malloc(SN_SIZE);
    assert_non_null(st.buf);
    setenv("UNIWS_CURL_DIRECT", "0", 1); /* curl frames, as through an https:// proxy */
    uniws_loop *loop;
    uniws_socket *s;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "curl";
    o.user_data = &st;
    o.callbacks.on_open = sn_open;
    o.callbacks.on_message = sn_message;
    o.callbacks.on_close = sn_close;
    if (!echo)
        o.callbacks.on_buffered_amount_low = sn_low; /* threshold 0: the queue drained */
    assert_int_equal(uniws_loop_new(&loop), 0);
    assert_int_equal(uniws_connect(loop, g_url, &o, &s), 0);
    for (int n = 0; n < 3000 && !st.closed; n++)
        uniws_loop_run_once(loop, 10);
    uniws_stats ss;
    assert_int_equal(uniws_get_stats(s, &ss), 0);
    assert_int_equal(uniws_buffered_amount(s), 0);
    uniws_free(s);
    assert_int_equal(uniws_loop_free(loop), 0);
    unsetenv("UNIWS_CURL_DIRECT");
    free(st.buf);
    print_message("curl.send_now%s: %d of %d sends from on_buffered_amount_low, %d of all sends "
                  "written at once (in part or whole; %zu KiB of %d KiB never copied into the "
                  "queue)\n",
                  echo ? "_echo" : "", st.direct_tries, SN_COUNT, st.direct_part,
                  st.uncopied / 1024, SN_COUNT * (SN_SIZE / 1024));
    assert_true(st.closed && st.clean);
    assert_int_equal(st.received, 2 * SN_COUNT);
    assert_false(st.mismatch);
    assert_false(st.bad_buffered);
    /* Every frame counted once: two messages per round and the close. */
    assert_int_equal(ss.frames_sent, 2 * SN_COUNT + 1);
    assert_int_equal(ss.bytes_sent, (uint64_t)SN_COUNT * SN_SIZE + 7 * 10 + 8 * 2);
    assert_true(ss.wire_bytes_sent >= ss.bytes_sent + 2 * SN_COUNT * 2 + 2);
    if (echo) {
        /* Each send had nothing queued before it (the last round came back
         * whole) and ran outside curl: each started at once. */
        assert_int_equal(st.direct_tries, 0);
        assert_int_equal(st.direct_part, SN_COUNT);
        return;
    }
    /* Sent outside curl with nothing queued, some of a message left at once. */
    assert_true(st.direct_tries > 0);
    assert_true(st.direct_part > 0);
}

static void send_now(void **state)
{
    (void)state;
    send_now_run(0);
}

static void send_now_echo(void **state)
{
    (void)state;
    send_now_run(1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest mixed[] = {
        cmocka_unit_test_setup_teardown(mixed_loop, setup, teardown)};
    const struct CMUnitTest big[] = {cmocka_unit_test_setup_teardown(scale, setup, teardown)};
    if (argc > 1 && strcmp(argv[1], "mixed") == 0)
        return cmocka_run_group_tests(mixed, NULL, NULL);
    if (argc > 1 && strcmp(argv[1], "scale") == 0)
        return cmocka_run_group_tests(big, NULL, NULL);
    const struct CMUnitTest now[] = {cmocka_unit_test_setup_teardown(send_now, setup, teardown)};
    if (argc > 1 && strcmp(argv[1], "send_now") == 0)
        return cmocka_run_group_tests(now, NULL, NULL);
    const struct CMUnitTest echo[] = {
        cmocka_unit_test_setup_teardown(send_now_echo, setup, teardown)};
    if (argc > 1 && strcmp(argv[1], "send_now_echo") == 0)
        return cmocka_run_group_tests(echo, NULL, NULL);
    fprintf(stderr, "usage: %s mixed|scale|send_now|send_now_echo\n", argv[0]);
    return 2;
}
