/* test_stream_read.c — the core's socket read path (core/stream_read.c): a
 * socket on the loopback backend whose peer never answers, opened by hand
 * with a 101 written into one end of a socketpair; uniws__stream_read()
 * reads the other end as a backend would. Checks the slicing (first 1 KiB,
 * then 64 KiB, each slice answered before the next is handed over), where a
 * read goes (receive-into, a lone frame header, the backend's buffer), drop,
 * stop, refusal, and the outcomes of the recv() (again, end, reset); and
 * the same through a backend's own read function (a TLS connection's
 * decrypted input), here a stream in memory given out a record at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "core/backend.h"
#include "core/handshake.h"
#include "core/socket.h"
#include "uniws/uniws.h"

#define BUF (256u * 1024u)

typedef struct fx {
    uniws_loop *loop;
    uniws_socket *s;
    int fd[2];    /* [0] read by uniws__stream_read, [1] the server writes */
    uint8_t *buf; /* the "backend's" read buffer */
    int opens, messages, errors;
    size_t last_len;
    /* answer hook */
    int calls, refused_calls, stop_at;
    int messages_at_call[16];
    /* mem_read: a stream in memory, at most MEM_RECORD bytes per read, then
     * mem_rc (with mem_err) */
    const uint8_t *mem;
    size_t mem_len, mem_off;
    int mem_rc, mem_err, mem_reads;
} fx;

#define MEM_RECORD 16384u

static void on_open(uniws_socket *s, void *ud)
{
    (void)s;
    ((fx *)ud)->opens++;
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    fx *f = ud;
    (void)s;
    f->messages++;
    f->last_len = m->len;
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    (void)s;
    (void)e;
    ((fx *)ud)->errors++;
}

static int answer(void *ctx, int refused)
{
    fx *f = ctx;
    if (f->calls < 16)
        f->messages_at_call[f->calls] = f->messages;
    f->calls++;
    f->refused_calls += refused;
    return f->stop_at && f->calls >= f->stop_at;
}

static int do_read(fx *f, int drop)
{
    uniws__stream_reader r = {.buf = f->buf, .cap = BUF, .drop = drop, .answer = answer, .ctx = f};
    int err = 0;
    r.fd = (uniws__fd)f->fd[0];
    return uniws__stream_read(f->s, &r, &err);
}

static int mem_read(void *ctx, void *p, size_t cap, size_t *got, int *err)
{
    fx *f = ctx;
    f->mem_reads++;
    if (f->mem_off == f->mem_len) {
        *err = f->mem_err;
        return f->mem_rc;
    }
    size_t n = f->mem_len - f->mem_off;
    if (n > cap)
        n = cap;
    if (n > MEM_RECORD)
        n = MEM_RECORD;
    memcpy(p, f->mem + f->mem_off, n);
    f->mem_off += n;
    *got = n;
    return UNIWS__RECV_OK;
}

static int do_mem_read(fx *f, int *err)
{
    uniws__stream_reader r = {
        .buf = f->buf, .cap = BUF, .read = mem_read, .answer = answer, .ctx = f};
    r.fd = (uniws__fd)-1;
    return uniws__stream_read(f->s, &r, err);
}

static void put(fx *f, const void *p, size_t n)
{
    assert_int_equal(send(f->fd[1], p, n, 0), (ssize_t)n);
}

/* A server frame (unmasked) header for len payload bytes; returns its size. */
static size_t frame_hdr(uint8_t *h, int opcode, size_t len)
{
    h[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        h[1] = (uint8_t)len;
        return 2;
    }
    if (len < 65536) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->buf = malloc(BUF);
    assert_non_null(f->buf);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->fd), 0);
    int big = 1 << 20;
    setsockopt(f->fd[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    assert_int_equal(uniws_loop_new(&f->loop), 0);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "loopback";
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.user_data = f;
    assert_int_equal(uniws_connect(f->loop, "ws://f/script/silent", &o, &f->s), 0);
    const uint8_t *pending;
    for (int i = 0; i < 100 && !(f->s->transport_up && uniws__stream_out_peek(f->s, &pending) == 0);
         i++)
        uniws_loop_run_once(f->loop, 0);
    assert_true(f->s->transport_up);
    char accept[29], head[256];
    uniws__ws_accept(f->s->key, accept);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    put(f, head, (size_t)n);
    assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
    assert_int_equal(f->opens, 1);
    assert_int_equal(f->calls, 1); /* one slice: the answer */
    f->calls = f->refused_calls = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    uniws_free(f->s);
    uniws_loop_free(f->loop);
    close(f->fd[0]);
    close(f->fd[1]);
    free(f->buf);
    free(f);
    return 0;
}

/* count frames of 4 KiB, in as many writes. */
static void put_small_frames(fx *f, int count)
{
    static uint8_t fr[4 + 4096];
    size_t hl = frame_hdr(fr, 2, 4096);
    memset(fr + hl, 'x', 4096);
    for (int i = 0; i < count; i++)
        put(f, fr, hl + 4096);
}

/* 1,280 frames of 100 bytes (130,560 bytes) in one read: handed over as
 * 1,024, 65,536 and 64,000 bytes, each slice answered before the next. */
static void test_slices(void **state)
{
    fx *f = *state;
    enum { N = 1280, FR = 102 };
    uint8_t *all = malloc((size_t)N * FR);
    assert_non_null(all);
    for (int i = 0; i < N; i++) {
        frame_hdr(all + (size_t)i * FR, 2, 100);
        memset(all + (size_t)i * FR + 2, 'x', 100);
    }
    put(f, all, (size_t)N * FR);
    free(all);
    assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
    assert_int_equal(f->calls, 3);
    assert_int_equal(f->messages_at_call[0], 1024 / FR);
    assert_int_equal(f->messages_at_call[1], (1024 + 65536) / FR);
    assert_int_equal(f->messages_at_call[2], N);
    assert_int_equal(f->refused_calls, 0);
    assert_int_equal(do_read(f, 0), UNIWS__READ_AGAIN);
    assert_int_equal(f->calls, 3);
}

/* Once a big frame's header is in, its rest goes into the message buffer,
 * not the backend's; right after it, a read takes one header's worth. */
static void test_receive_into(void **state)
{
    fx *f = *state;
    const size_t len = 150 * 1024;
    uint8_t *fr = malloc(10 + len);
    assert_non_null(fr);
    size_t hl = frame_hdr(fr, 2, len);
    memset(fr + hl, 'y', len);
    put(f, fr, hl + 1000);
    assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
    assert_int_equal(f->messages, 0);
    put(f, fr + hl + 1000, len - 1000);
    memset(f->buf, 0xA5, BUF);
    int calls = f->calls, reads = 0;
    while (f->messages == 0 && reads < 100) {
        assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
        reads++;
    }
    assert_int_equal(f->last_len, len);
    assert_int_equal(f->calls - calls, reads); /* into: one answer per read, no slices */
    for (size_t i = 0; i < BUF; i++)
        if (f->buf[i] != 0xA5)
            fail_msg("byte %zu of the backend's buffer was written", i);
    free(fr);

    /* Two small frames (24 bytes): the first read takes 14 (a header's
     * worth), so only the first message is whole. */
    uint8_t two[24];
    for (int i = 0; i < 2; i++) {
        frame_hdr(two + 12 * i, 2, 10);
        memset(two + 12 * i + 2, 'z', 10);
    }
    put(f, two, sizeof two);
    assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
    assert_int_equal(f->messages, 2);
    assert_int_equal(f->last_len, 10);
    assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
    assert_int_equal(f->messages, 3);
}

static void test_drop(void **state)
{
    fx *f = *state;
    put_small_frames(f, 2);
    assert_int_equal(do_read(f, 1), UNIWS__READ_MORE);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->messages, 0);
    assert_int_equal(f->buf[4], 'x');
    assert_int_equal(do_read(f, 1), UNIWS__READ_AGAIN);
}

static void test_stop(void **state)
{
    fx *f = *state;
    f->stop_at = 2;
    put_small_frames(f, 32);
    assert_int_equal(do_read(f, 0), UNIWS__READ_STOP);
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->messages, 16);
}

/* A frame the core rejects (reserved opcode 3): the slice is refused, the
 * rest of the read is dropped. */
static void test_refused(void **state)
{
    fx *f = *state;
    uint8_t bad[3000];
    memset(bad, 0, sizeof bad);
    bad[0] = 0x83;
    bad[1] = 0;
    put(f, bad, sizeof bad);
    assert_int_equal(do_read(f, 0), UNIWS__READ_MORE);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->refused_calls, 1);
    for (int i = 0; i < 10 && !f->errors; i++)
        uniws_loop_run_once(f->loop, 0);
    assert_int_equal(f->errors, 1);
}

static void test_end(void **state)
{
    fx *f = *state;
    assert_int_equal(do_read(f, 0), UNIWS__READ_AGAIN);
    shutdown(f->fd[1], SHUT_WR);
    assert_int_equal(do_read(f, 0), UNIWS__READ_END);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->errors, 0);
}

/* A TCP connection on 127.0.0.1 whose peer closes with unread input and a
 * zero linger: the read says reset. */
static void test_reset(void **state)
{
    fx *f = *state;
    int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    int srv = accept(l, NULL, NULL);
    assert_true(srv >= 0);
    struct linger lg = {1, 0};
    setsockopt(srv, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(srv);
    usleep(20000);
    uniws__stream_reader r = {.buf = f->buf, .cap = BUF, .answer = answer, .ctx = f};
    int err = 0;
    r.fd = (uniws__fd)c;
    assert_int_equal(uniws__stream_read(f->s, &r, &err), UNIWS__READ_RESET);
    assert_int_not_equal(err, 0);
    assert_int_equal(f->calls, 0);
    close(c);
    close(l);
}

/* Through a read function: a small frame and then a big one given out
 * 16 KiB at a time; the big frame's rest is read into the message buffer
 * (the backend's buffer is not written), and the function's outcomes
 * (nothing now, the end, a failure with its code) come back as the reads'. */
static void test_read_fn(void **state)
{
    fx *f = *state;
    const size_t len = 150 * 1024;
    uint8_t *st = malloc(12 + 10 + len);
    assert_non_null(st);
    size_t n = frame_hdr(st, 1, 10);
    memset(st + n, 'a', 10);
    n += 10;
    size_t hl = frame_hdr(st + n, 2, len);
    memset(st + n + hl, 'b', len);
    f->mem = st;
    f->mem_len = n + hl + len;
    f->mem_rc = UNIWS__RECV_AGAIN;
    int err = 0, reads = 0;
    while (f->messages < 2 && reads < 100) {
        assert_int_equal(do_mem_read(f, &err), UNIWS__READ_MORE);
        reads++;
        if (reads == 1) {
            /* The first record: the small message and the big one's start. */
            assert_int_equal(f->messages, 1);
            assert_int_equal(f->last_len, 10);
            memset(f->buf, 0xA5, BUF);
        }
    }
    assert_int_equal(f->messages, 2);
    assert_int_equal(f->last_len, len);
    for (size_t i = 0; i < BUF; i++)
        if (f->buf[i] != 0xA5)
            fail_msg("byte %zu of the backend's buffer was written", i);
    assert_int_equal(f->mem_off, f->mem_len);
    assert_int_equal(do_mem_read(f, &err), UNIWS__READ_AGAIN);
    f->mem_rc = UNIWS__RECV_END;
    assert_int_equal(do_mem_read(f, &err), UNIWS__READ_END);
    f->mem_rc = UNIWS__RECV_ERROR;
    f->mem_err = 42;
    assert_int_equal(do_mem_read(f, &err), UNIWS__READ_ERROR);
    assert_int_equal(err, 42);
    assert_int_equal(f->errors, 0);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_into, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_fn, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
