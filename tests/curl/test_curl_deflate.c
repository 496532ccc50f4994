/*
 * test_curl_deflate.c — permessage-deflate over the curl backend against an
 * independent server (npm `ws`, deflate_server.mjs), on ws:// and wss://.
 * Where the backend writes the core's frames itself (ws://; wss:// through
 * curl's OpenSSL handle) they go out compressed; where libcurl frames the
 * output (UNIWS_CURL_DIRECT=0: the test curl.deflate-framed) it cannot send
 * RSV1 and the core queues them uncompressed (RFC 7692 allows it): the
 * stats' wire bytes tell which. The server's compressed answers go through
 * the core's inflater either way. Every echo must come back byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "uniws/uniws.h"

typedef struct run {
    size_t next_send, next_recv, n;
    unsigned char **msgs;
    size_t *lens;
    int *types;
    int opened, closed, clean, bad;
    char ext[128];
    uniws_stats st; /* when the last echo came */
} run;

static void on_open(uniws_socket *s, void *ud)
{
    run *r = ud;
    r->opened = 1;
    snprintf(r->ext, sizeof r->ext, "%s", uniws_extensions(s));
    for (size_t i = 0; i < r->n; i++) {
        if (r->types[i] == UNIWS_TEXT)
            uniws_send_text(s, (const char *)r->msgs[i], r->lens[i]);
        else
            uniws_send_binary(s, r->msgs[i], r->lens[i]);
    }
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    run *r = ud;
    size_t i = r->next_recv++;
    if (i >= r->n || (int)m->type != r->types[i] || m->len != r->lens[i] ||
        (m->len && memcmp(m->data, r->msgs[i], m->len) != 0)) {
        fprintf(stderr, "echo %zu differs (type %d len %zu)\n", i, (int)m->type, m->len);
        r->bad = 1;
    }
    if (r->next_recv == r->n) {
        uniws_get_stats(s, &r->st);
        uniws_close(s, 1000, NULL);
    }
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    run *r = ud;
    (void)s;
    r->closed = 1;
    r->clean = e->was_clean && e->code == 1000;
}

/* Whether the backend writes its frames itself on this scheme, so that
 * they are compressed. */
static int writes_frames(int tls)
{
    const char *env = getenv("UNIWS_CURL_DIRECT");
    if (env && strcmp(env, "0") == 0)
        return 0;
#ifdef UNIWS_CURL_OPENSSL
    (void)tls;
    return 1;
#else
    return !tls;
#endif
}

static void deflate_echo(int tls)
{
    int out[2], in[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(in), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        close(out[0]);
        close(in[1]);
        if (tls)
            execlp(UNIWS_TEST_NODE, UNIWS_TEST_NODE, UNIWS_TEST_DEFLATE_SERVER,
                   UNIWS_TEST_CERTS "/server.pem", UNIWS_TEST_CERTS "/server.key", (char *)NULL);
        else
            execlp(UNIWS_TEST_NODE, UNIWS_TEST_NODE, UNIWS_TEST_DEFLATE_SERVER, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    char line[32] = {0};
    ssize_t got = read(out[0], line, sizeof line - 1);
    int port = got > 0 ? atoi(line) : 0;
    if (port <= 0)
        fail_msg("the node deflate server did not start (node and tests/node/node_modules "
                 "come from scripts/bootstrap.sh)");

    enum { N = 7 };
    static const size_t sizes[N] = {0, 1, 125, 4000, 70000, 1 << 20, 300000};
    run r;
    memset(&r, 0, sizeof r);
    r.n = N;
    r.msgs = calloc(N, sizeof *r.msgs);
    r.lens = calloc(N, sizeof *r.lens);
    r.types = calloc(N, sizeof *r.types);
    unsigned x = 12345;
    for (size_t i = 0; i < N; i++) {
        r.lens[i] = sizes[i];
        r.types[i] = i % 2 ? UNIWS_BINARY : UNIWS_TEXT;
        r.msgs[i] = malloc(sizes[i] + 1);
        for (size_t j = 0; j < sizes[i]; j++) {
            x = x * 1103515245u + 12345u;
            /* Text: compressible ASCII; binary: partly random bytes. */
            r.msgs[i][j] = r.types[i] == UNIWS_TEXT ? (unsigned char)('a' + j % 7)
                                                    : (unsigned char)(j % 3 ? x >> 24 : j);
        }
    }
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "curl";
    o.permessage_deflate = 1;
    o.tls_ca_file = UNIWS_TEST_CERTS "/ca.pem";
    o.user_data = &r;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_close = on_close;
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/", tls ? "wss" : "ws", port);
    uniws_socket *s = NULL;
    assert_int_equal(uniws_connect(loop, url, &o, &s), 0);
    for (int i = 0; i < 300 && uniws_loop_alive(loop) > 0; i++)
        uniws_loop_run_once(loop, 100);
    uniws_free(s);
    assert_int_equal(uniws_loop_free(loop), 0);
    close(in[1]); /* the server exits at end of input */
    close(out[0]);
    waitpid(pid, NULL, 0);

    assert_true(r.opened);
    assert_non_null(strstr(r.ext, "permessage-deflate"));
    assert_int_equal(r.next_recv, N);
    assert_false(r.bad);
    assert_true(r.closed);
    assert_true(r.clean);
    /* Most of what was sent is compressible text: compressed, the wire
     * carries well under the payload; plain, a little more. */
    uint64_t sent = 0;
    for (size_t i = 0; i < N; i++)
        sent += r.lens[i];
    assert_int_equal(r.st.bytes_sent, sent);
    if (writes_frames(tls))
        assert_true(r.st.wire_bytes_sent < sent * 8 / 10);
    else
        assert_true(r.st.wire_bytes_sent > sent);
    for (size_t i = 0; i < N; i++)
        free(r.msgs[i]);
    free(r.msgs);
    free(r.lens);
    free(r.types);
}

static void deflate_ws(void **state)
{
    (void)state;
    deflate_echo(0);
}

static void deflate_wss(void **state)
{
    (void)state;
    deflate_echo(1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test(deflate_ws), cmocka_unit_test(deflate_wss)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
