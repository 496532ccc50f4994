/*
 * test_curl_connects.c — the curl backend keeps at most 256 openings (TCP,
 * TLS, upgrade) in progress per loop and lets the others wait in line
 * (backends/curl/curl.c, "pacing openings"). A small server of the test's
 * own counts the connections it accepted but has not answered yet:
 *   peak:    600 sockets at once, each answered 100 ms after its request:
 *            the count never exceeds 256, every socket opens, sockets freed
 *            while they wait never reach the server nor call back, and the
 *            wait counts in the statistics' tcp_ms;
 *   waiting: 256 openings the server never answers fill the line; a socket
 *            waiting behind them times out with UNIWS_ETIMEOUT without ever
 *            reaching the server, and one with a longer timeout starts once
 *            the 256 have timed out, and opens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "nofile.h"
#include "uniws/uniws.h"
#include "core/handshake.h"

/* The backend's limit (MAX_CONNECTING in backends/curl/curl.c). */
enum { LIMIT = 256 };
/* How long the server holds each /open request before its 101. */
enum { HOLD_MS = 100 };
enum { MAX_CONNS = 1024, REQ_MAX = 2048 };

/* ---- the counting server ----------------------------------------------------- */

enum { PATH_OPEN, PATH_SILENT, PATH_LATE, PATH_FREED, PATH_OTHER, NPATHS };

typedef struct conn {
    int fd;
    size_t len;
    char req[REQ_MAX];
    int answered;         /* the 101 was written */
    int path;             /* once the request is complete, else -1 */
    long long request_at; /* when the request was complete */
} conn;

static struct {
    int lfd, port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    conn c[MAX_CONNS];
    int n;
    int pending, peak;    /* accepted and not answered */
    int requests[NPATHS]; /* complete requests per path */
    int answered;         /* 101s written */
} g;

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int path_of(const char *req)
{
    static const char *const names[] = {"GET /open ", "GET /silent ", "GET /late ", "GET /freed "};
    for (int i = 0; i < PATH_OTHER; i++)
        if (strncmp(req, names[i], strlen(names[i])) == 0)
            return i;
    return PATH_OTHER;
}

static void drop(int i)
{
    conn *c = &g.c[i];
    close(c->fd);
    if (!c->answered)
        g.pending--;
    g.c[i] = g.c[--g.n];
}

static void answer(conn *c)
{
    const char *key = NULL;
    for (char *line = strstr(c->req, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Sec-WebSocket-Key:", 18) == 0) {
            key = line + 20;
            break;
        }
    char k[64] = "", acc[29], out[256];
    if (key) {
        while (*key == ' ')
            key++;
        size_t n = strcspn(key, "\r\n ");
        if (n < sizeof k) {
            memcpy(k, key, n);
            k[n] = 0;
        }
    }
    uniws__ws_accept(k, acc);
    int len = snprintf(out, sizeof out,
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                       acc);
    if (write(c->fd, out, (size_t)len) != len)
        return; /* the client sees no answer and times out */
    c->answered = 1;
    g.pending--;
    g.answered++;
}

/* Returns 0 to keep the connection, -1 to drop it. */
static int on_readable(conn *c)
{
    char buf[4096];
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        return -1;
    if (r < 0 || c->path >= 0)
        return 0; /* frames after the 101 (or more than a request): ignored */
    size_t take = (size_t)r < REQ_MAX - 1 - c->len ? (size_t)r : REQ_MAX - 1 - c->len;
    memcpy(c->req + c->len, buf, take);
    c->len += take;
    c->req[c->len] = 0;
    if (strstr(c->req, "\r\n\r\n")) {
        c->path = path_of(c->req);
        c->request_at = now_ms();
        g.requests[c->path]++;
    }
    return 0;
}

static void *serve(void *arg)
{
    static struct pollfd p[MAX_CONNS + 1];
    (void)arg;
    pthread_mutex_lock(&g.mu);
    while (!g.stop) {
        p[0].fd = g.lfd;
        p[0].events = POLLIN;
        for (int i = 0; i < g.n; i++) {
            p[i + 1].fd = g.c[i].fd;
            p[i + 1].events = POLLIN;
            p[i + 1].revents = 0;
        }
        int n = g.n;
        pthread_mutex_unlock(&g.mu);
        poll(p, (nfds_t)n + 1, 5);
        pthread_mutex_lock(&g.mu);
        for (int i = n - 1; i >= 0; i--)
            if ((p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && on_readable(&g.c[i]) < 0)
                drop(i);
        long long now = now_ms();
        for (int i = 0; i < g.n; i++) {
            conn *c = &g.c[i];
            if (!c->answered && c->path >= 0 && c->path != PATH_SILENT &&
                now - c->request_at >= HOLD_MS)
                answer(c);
        }
        for (;;) {
            int fd = accept(g.lfd, NULL, NULL);
            if (fd < 0)
                break;
            if (g.n == MAX_CONNS) {
                close(fd);
                continue;
            }
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            conn *c = &g.c[g.n++];
            memset(c, 0, sizeof *c);
            c->fd = fd;
            c->path = -1;
            if (++g.pending > g.peak)
                g.peak = g.pending;
        }
    }
    for (int i = g.n - 1; i >= 0; i--)
        drop(i);
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    /* Both ends of every connection live in this process. */
    if (uniws_test_raise_nofile() < 2 * 700 + 64) {
        fprintf(stderr, "test_curl_connects: needs %d descriptors\n", 2 * 700 + 64);
        return -1;
    }
    memset(&g, 0, sizeof g);
    pthread_mutex_init(&g.mu, NULL);
    g.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (g.lfd < 0 || bind(g.lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(g.lfd, 1024) ||
        getsockname(g.lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    g.port = ntohs(a.sin_port);
    fcntl(g.lfd, F_SETFL, fcntl(g.lfd, F_GETFL) | O_NONBLOCK);
    return pthread_create(&g.thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pthread_mutex_lock(&g.mu);
    g.stop = 1;
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    close(g.lfd);
    pthread_mutex_destroy(&g.mu);
    return 0;
}

static int server_get(const int *field)
{
    pthread_mutex_lock(&g.mu);
    int v = *field;
    pthread_mutex_unlock(&g.mu);
    return v;
}

/* ---- the clients --------------------------------------------------------------- */

typedef struct client {
    uniws_socket *s;
    int freed;
    int opened, closed, close_code, error, events_after_free;
    long long closed_at;
    uniws_stats st; /* taken in on_open */
} client;

static void on_open(uniws_socket *s, void *ud)
{
    client *c = ud;
    c->events_after_free += c->freed;
    c->opened = 1;
    uniws_get_stats(s, &c->st);
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    client *c = ud;
    (void)s;
    c->events_after_free += c->freed;
    c->error = e->error;
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    client *c = ud;
    (void)s;
    c->events_after_free += c->freed;
    c->closed = 1;
    c->close_code = e->code;
    c->closed_at = now_ms();
}

static void connect_one(uniws_loop *loop, const char *path, int timeout_ms, client *c)
{
    char url[96];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d%s", g.port, path);
    memset(c, 0, sizeof *c);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "curl";
    o.user_data = c;
    o.connect_timeout_ms = timeout_ms;
    o.callbacks.on_open = on_open;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    assert_int_equal(uniws_connect(loop, url, &o, &c->s), 0);
}

static void free_all(client *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].s) {
            uniws_free(c[i].s);
            c[i].s = NULL;
        }
}

enum { N = 600 };
static client g_c[N];

static void peak(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    for (size_t i = 0; i < N; i++)
        connect_one(loop, i >= 300 && i % 7 == 0 ? "/freed" : "/open", 20000, &g_c[i]);
    /* One turn: the first 256 are added to curl, the others join the line. */
    uniws_loop_run_once(loop, 0);
    size_t want = 0;
    for (size_t i = 0; i < N; i++) {
        if (i >= 300 && i % 7 == 0) {
            g_c[i].freed = 1;
            uniws_free(g_c[i].s);
            g_c[i].s = NULL;
        } else {
            want++;
        }
    }
    long long deadline = now_ms() + 60000;
    size_t opened = 0;
    while (now_ms() < deadline && opened < want) {
        uniws_loop_run_once(loop, 50);
        opened = 0;
        for (size_t i = 0; i < N; i++)
            opened += g_c[i].opened;
    }
    int pk = server_get(&g.peak), freed_reqs = server_get(&g.requests[PATH_FREED]);
    print_message("curl.connects peak: %zu of %zu opened, at most %d unanswered at the server "
                  "(limit %d)\n",
                  opened, want, pk, LIMIT);
    assert_int_equal(opened, want);
    assert_true(pk <= LIMIT);
    assert_int_equal(freed_reqs, 0);
    for (size_t i = 0; i < N; i++) {
        client *c = &g_c[i];
        assert_int_equal(c->events_after_free, 0);
        if (c->freed)
            continue;
        assert_int_equal(c->error, 0);
        /* The third group waited for two holds of the server at least: the
         * wait counts as connecting, and no phase exceeds the whole. */
        if (i >= 2 * LIMIT)
            assert_true(c->st.tcp_ms >= HOLD_MS);
        int sum = c->st.dns_ms + c->st.tcp_ms + c->st.tls_ms + c->st.upgrade_ms;
        assert_true(c->st.dns_ms >= 0 && c->st.tcp_ms >= 0 && c->st.upgrade_ms >= 0);
        assert_true(sum <= c->st.open_ms + 4); /* each phase rounded down from us */
    }
    free_all(g_c, N);
    assert_int_equal(uniws_loop_free(loop), 0);
}

static void waiting(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    enum { SILENT_MS = 1500, LATE_MS = 300 };
    for (size_t i = 0; i < LIMIT; i++)
        connect_one(loop, "/silent", SILENT_MS, &g_c[i]);
    long long t0 = now_ms();
    while (server_get(&g.requests[PATH_SILENT]) < LIMIT && now_ms() < t0 + 10000)
        uniws_loop_run_once(loop, 10);
    assert_int_equal(server_get(&g.requests[PATH_SILENT]), LIMIT);
    client *late = &g_c[LIMIT], *freed = &g_c[LIMIT + 1], *patient = &g_c[LIMIT + 2];
    long long t_late = now_ms();
    connect_one(loop, "/late", LATE_MS, late);
    connect_one(loop, "/freed", 0, freed);
    connect_one(loop, "/open", 20000, patient);
    uniws_loop_run_once(loop, 0); /* all three join the line */
    freed->freed = 1;
    uniws_free(freed->s);
    freed->s = NULL;

    long long deadline = now_ms() + 30000;
    while (now_ms() < deadline && !(late->closed && patient->opened))
        uniws_loop_run_once(loop, 20);
    int silent_timeouts = 0;
    long long first_silent_end = 0;
    for (size_t i = 0; i < LIMIT; i++) {
        silent_timeouts += g_c[i].closed && g_c[i].error == UNIWS_ETIMEOUT;
        if (g_c[i].closed && (!first_silent_end || g_c[i].closed_at < first_silent_end))
            first_silent_end = g_c[i].closed_at;
    }
    print_message("curl.connects waiting: the late socket ended after %lld ms (%s, %d), the "
                  "patient one opened after %d ms (tcp_ms %d); %d of %d silent ones timed out\n",
                  late->closed_at - t_late, late->error ? uniws_err_name(late->error) : "no error",
                  late->close_code, patient->st.open_ms, patient->st.tcp_ms, silent_timeouts,
                  LIMIT);
    /* The waiting socket timed out in line, before any slot came free. */
    assert_int_equal(late->opened, 0);
    assert_int_equal(late->closed, 1);
    assert_int_equal(late->error, UNIWS_ETIMEOUT);
    assert_int_equal(late->close_code, 1006);
    assert_true(late->closed_at - t_late >= LATE_MS);
    assert_true(!first_silent_end || late->closed_at <= first_silent_end);
    assert_int_equal(server_get(&g.requests[PATH_LATE]), 0);
    assert_int_equal(server_get(&g.requests[PATH_FREED]), 0);
    assert_int_equal(freed->events_after_free, 0);
    /* The patient one started once the silent ones had timed out. */
    assert_int_equal(silent_timeouts, LIMIT);
    assert_int_equal(patient->opened, 1);
    assert_true(first_silent_end > 0);
    assert_true(patient->st.open_ms >= first_silent_end - t_late);
    assert_true(patient->st.tcp_ms >= first_silent_end - t_late - 100);
    free_all(g_c, LIMIT + 3);
    assert_int_equal(uniws_loop_free(loop), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest peak_t[] = {cmocka_unit_test_setup_teardown(peak, setup, teardown)};
    const struct CMUnitTest wait_t[] = {cmocka_unit_test_setup_teardown(waiting, setup, teardown)};
    if (argc > 1 && strcmp(argv[1], "peak") == 0)
        return cmocka_run_group_tests(peak_t, NULL, NULL);
    if (argc > 1 && strcmp(argv[1], "waiting") == 0)
        return cmocka_run_group_tests(wait_t, NULL, NULL);
    fprintf(stderr, "usage: %s peak|waiting\n", argv[0]);
    return 2;
}
