/*
 * test_peer.c — unit tests of the scripted peer engine (backends/loopback/peer.c),
 * driven with bytes and checked frame by frame, plus one round trip through
 * the network server (tools/server/server.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backends/loopback/peer.h"
#include "core/frame.h"
#include "core/handshake.h"
#include "core/alloc.h"
#include "core/pmd.h"
#include "uniws/uniws.h"
#include "tools/server/server.h"
#include "net_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RFC_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ---- helpers ------------------------------------------------------------- */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void b_reserve(bytes *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
}

static void b_add(bytes *b, const void *d, size_t n)
{
    b_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void b_free(bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Appends a masked (or, to test rejection, unmasked) client frame. */
static void client_frame(bytes *b, int fin, int rsv, int op, const void *payload, size_t len,
                         int masked)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    /* The header is written in place: no bounded temporary to copy from. */
    b_reserve(b, UNIWS__FRAME_MAX_HEADER + len);
    b->len += uniws__frame_header(b->p + b->len, fin, rsv, op, len, masked ? mask : NULL);
    if (masked)
        uniws__mask_copy(b->p + b->len, payload, len, mask, 0);
    else if (len)
        memcpy(b->p + b->len, payload, len);
    b->len += len;
}

static void feed_bytes(uniws__peer *p, const bytes *b)
{
    assert_int_equal(uniws__peer_feed(p, b->p, b->len), 0);
}

/* Runs actions until one that is not WRITE; WRITE data is appended to out.
 * Returns that action (its kind, ms, path). */
static uniws__peer_action drain(uniws__peer *p, bytes *out)
{
    uniws__peer_action a;
    for (;;) {
        uniws__peer_next(p, &a);
        if (a.kind != UNIWS__PEER_WRITE)
            return a;
        assert_true(a.len > 0);
        b_add(out, a.data, a.len);
    }
}

static char *request(const char *path, const char *extra)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
             "Sec-WebSocket-Version: 13\r\n%s\r\n",
             path, extra ? extra : "");
    return buf;
}

/* Sends the upgrade request; checks the first action is the whole 101 in
 * one write (unless same-segment), which is stored in head. */
static uniws__peer *open_peer(const char *path, const char *extra, bytes *head)
{
    uniws__peer *p = uniws__peer_new();
    assert_non_null(p);
    const char *req = request(path, extra);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    uniws__peer_action a;
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_WRITE);
    assert_int_equal(a.bytewise, 0);
    assert_true(a.len > 12);
    assert_memory_equal(a.data, "HTTP/1.1 101", 12);
    if (head)
        b_add(head, a.data, a.len);
    return p;
}

typedef struct sframe {
    int fin, rsv, op;
    const uint8_t *payload;
    size_t len;
} sframe;

/* Parses the server frame at *pos, which must be unmasked and complete. */
static sframe next_frame(const bytes *b, size_t *pos)
{
    uniws__frame_hdr h;
    sframe f;
    assert_true(*pos < b->len);
    int r = uniws__frame_parse(b->p + *pos, b->len - *pos, &h);
    assert_true(r > 0);
    assert_int_equal(h.masked, 0);
    assert_true(h.len <= b->len - *pos - (size_t)r);
    f.fin = h.fin;
    f.rsv = h.rsv;
    f.op = h.opcode;
    f.payload = b->p + *pos + r;
    f.len = (size_t)h.len;
    *pos += (size_t)r + f.len;
    return f;
}

static void expect_frame(const bytes *b, size_t *pos, int fin, int op, const void *payload,
                         size_t len)
{
    sframe f = next_frame(b, pos);
    assert_int_equal(f.fin, fin);
    assert_int_equal(f.rsv, 0);
    assert_int_equal(f.op, op);
    assert_int_equal(f.len, len);
    if (len)
        assert_memory_equal(f.payload, payload, len);
}

static void expect_close(const bytes *b, size_t *pos, int code, const char *reason)
{
    sframe f = next_frame(b, pos);
    assert_int_equal(f.op, UNIWS__OP_CLOSE);
    assert_int_equal(f.fin, 1);
    assert_true(f.len >= 2);
    assert_int_equal((f.payload[0] << 8) | f.payload[1], code);
    if (reason) {
        assert_int_equal(f.len - 2, strlen(reason));
        assert_memory_equal(f.payload + 2, reason, f.len - 2);
    }
}

static int contains(const bytes *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->p + i, s, n) == 0)
            return 1;
    return 0;
}

/* The value of header name in an HTTP head, or "" (static buffer). */
static const char *header_value(const bytes *b, const char *name)
{
    static char v[256];
    char pat[64];
    snprintf(pat, sizeof pat, "\r\n%s: ", name);
    size_t n = strlen(pat);
    v[0] = 0;
    for (size_t i = 0; i + n <= b->len; i++) {
        if (memcmp(b->p + i, pat, n) == 0) {
            size_t j = i + n, k = 0;
            while (j < b->len && b->p[j] != '\r' && k + 1 < sizeof v)
                v[k++] = (char)b->p[j++];
            v[k] = 0;
            break;
        }
    }
    return v;
}

/* ---- handshake ----------------------------------------------------------- */

static void test_handshake_rfc_key(void **state)
{
    bytes head = {0}, out = {0};
    uniws__peer *p = open_peer("/echo", "Sec-WebSocket-Protocol: chat, superchat\r\n", &head);
    assert_string_equal(header_value(&head, "Sec-WebSocket-Accept"), RFC_ACCEPT);
    assert_string_equal(header_value(&head, "Upgrade"), "websocket");
    assert_string_equal(header_value(&head, "Connection"), "Upgrade");
    assert_string_equal(header_value(&head, "Sec-WebSocket-Protocol"), "chat");
    assert_false(contains(&head, "Sec-WebSocket-Extensions"));
    assert_memory_equal(head.p + head.len - 4, "\r\n\r\n", 4);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    assert_int_equal(out.len, 0);
    uniws__peer_free(p);
    b_free(&head);
    b_free(&out);
}

static void test_handshake_bytewise_request(void **state)
{
    uniws__peer *p = uniws__peer_new();
    const char *req = request("/", "sec-websocket-protocol: x\r\n");
    bytes out = {0};
    size_t n = strlen(req);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(uniws__peer_feed(p, req + i, 1), 0);
        uniws__peer_action a = drain(p, &out);
        assert_int_equal(a.kind, UNIWS__PEER_NONE);
        assert_int_equal(out.len > 0, i == n - 1);
    }
    assert_string_equal(header_value(&out, "Sec-WebSocket-Accept"), RFC_ACCEPT);
    assert_string_equal(header_value(&out, "Sec-WebSocket-Protocol"), "x");
    uniws__peer_free(p);
    b_free(&out);
}

static void test_bad_requests(void **state)
{
    static const char *const reqs[] = {
        "GET /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n", /* no key */
        "GET /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", /* short key */
        "GET /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n",
        "GET /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: close\r\n"
        "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "GET /echo HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "POST /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "garbage\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        uniws__peer *p = uniws__peer_new();
        bytes out = {0};
        assert_int_equal(uniws__peer_feed(p, reqs[i], strlen(reqs[i])), 0);
        assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
        assert_true(out.len > 12);
        assert_memory_equal(out.p, "HTTP/1.1 400 ", 13);
        uniws__peer_free(p);
        b_free(&out);
    }

    /* unknown script command, unknown WebSocket path, a head that never ends */
    const char *cases[][2] = {
        {"/script/text:a/nonsense", "HTTP/1.1 400 "}, {"/script/textn:12x", "HTTP/1.1 400 "},
        {"/script/frag:0:abc", "HTTP/1.1 400 "},      {"/script/frame:abc", "HTTP/1.1 400 "},
        {"/script/fin:now", "HTTP/1.1 400 "},         {"/elsewhere", "HTTP/1.1 404 "}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uniws__peer *p = uniws__peer_new();
        bytes out = {0};
        const char *req = request(cases[i][0], NULL);
        assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
        assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
        assert_true(out.len > 13);
        assert_memory_equal(out.p, cases[i][1], 13);
        uniws__peer_free(p);
        b_free(&out);
    }

    uniws__peer *p = uniws__peer_new();
    bytes out = {0};
    char junk[1024];
    memset(junk, 'x', sizeof junk);
    memcpy(junk, "GET / HTTP/1.1\r\nX: ", 19);
    /* The head may take 128 KiB (above UNIWS_MAX_REQUEST_HEADER_BYTES). */
    for (int i = 0; i < 128; i++) {
        assert_int_equal(uniws__peer_feed(p, junk, sizeof junk), 0);
        if (i < 127)
            assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    }
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_memory_equal(out.p, "HTTP/1.1 400 ", 13);
    uniws__peer_free(p);
    b_free(&out);
}

static void test_http_action(void **state)
{
    uniws__peer *p = uniws__peer_new();
    const char *req = "GET /dir/a%20b.html?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    uniws__peer_action a;
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_HTTP);
    assert_string_equal(a.path, "/dir/a b.html");
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_FIN);
    uniws__peer_free(p);

    char head[256];
    int n = uniws__peer_http_head(head, sizeof head, 404, "text/plain", 10);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(head));
    assert_non_null(strstr(head, "HTTP/1.1 404 Not Found\r\n"));
    assert_non_null(strstr(head, "Content-Length: 10\r\n"));
    assert_non_null(strstr(head, "Content-Type: text/plain\r\n"));
    assert_int_equal(uniws__peer_http_head(head, 20, 200, "text/plain", 10), -1);
}

static void test_status(void **state)
{
    bytes out = {0};
    uniws__peer *p = uniws__peer_new();
    const char *req = request("/script/text:x/status:401", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_true(out.len > 30);
    assert_memory_equal(out.p, "HTTP/1.1 401 Unauthorized\r\n", 27);
    assert_false(contains(&out, "Sec-WebSocket-Accept"));
    assert_false(contains(&out, "Location"));
    uniws__peer_free(p);
    b_free(&out);

    p = uniws__peer_new();
    req = request("/script/status:302", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_memory_equal(out.p, "HTTP/1.1 302 ", 13);
    assert_string_equal(header_value(&out, "Location"), "/echo");
    uniws__peer_free(p);
    b_free(&out);
}

/* lifecycle (issue 10): xhdr:LINE adds header lines to the 101 and to a
 * status answer (after a redirect's Location); CR or LF in one drops it. */
static void test_xhdr(void **state)
{
    (void)state;
    bytes head = {0}, out = {0};
    uniws__peer *p =
        open_peer("/script/xhdr:X-Uniws-Id:%2042/xhdr:X-Bad:a%0D%0AInjected:1", NULL, &head);
    assert_string_equal(header_value(&head, "X-Uniws-Id"), "42");
    assert_false(contains(&head, "X-Bad"));
    assert_false(contains(&head, "Injected"));
    uniws__peer_free(p);
    b_free(&head);

    p = uniws__peer_new();
    const char *req = request("/script/status:307/xhdr:Retry-After:%207", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_memory_equal(out.p, "HTTP/1.1 307 ", 13);
    assert_string_equal(header_value(&out, "Location"), "/echo");
    assert_string_equal(header_value(&out, "Retry-After"), "7");
    uniws__peer_free(p);
    b_free(&out);
}

static void test_handshake_options(void **state)
{
    bytes head = {0};
    uniws__peer *p = open_peer("/script/bad-accept", NULL, &head);
    const char *acc = header_value(&head, "Sec-WebSocket-Accept");
    assert_int_equal(strlen(acc), 28);
    assert_string_not_equal(acc, RFC_ACCEPT);
    uniws__peer_free(p);
    b_free(&head);

    p = open_peer("/script/no-upgrade", NULL, &head);
    assert_false(contains(&head, "Upgrade: websocket"));
    assert_string_equal(header_value(&head, "Sec-WebSocket-Accept"), RFC_ACCEPT);
    uniws__peer_free(p);
    b_free(&head);

    p = open_peer("/script/proto:notoffered", "Sec-WebSocket-Protocol: a, b\r\n", &head);
    assert_string_equal(header_value(&head, "Sec-WebSocket-Protocol"), "notoffered");
    uniws__peer_free(p);
    b_free(&head);

    p = open_peer("/script/no-proto", "Sec-WebSocket-Protocol: a, b\r\n", &head);
    assert_false(contains(&head, "Sec-WebSocket-Protocol"));
    uniws__peer_free(p);
    b_free(&head);

    p = open_peer("/script/ext:permessage-deflate%3B%20client_max_window_bits", NULL, &head);
    assert_string_equal(header_value(&head, "Sec-WebSocket-Extensions"),
                        "permessage-deflate; client_max_window_bits");
    uniws__peer_free(p);
    b_free(&head);
}

static void test_silent(void **state)
{
    bytes out = {0};
    uniws__peer *p = uniws__peer_new();
    const char *req = request("/script/silent", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    assert_int_equal(out.len, 0);
    uniws__peer_eof(p);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_int_equal(out.len, 0);
    uniws__peer_free(p);
}

static void test_same_segment(void **state)
{
    bytes head = {0}, out = {0};
    size_t pos = 0;
    /* default: the 101 is written alone, the frame follows in its own write */
    uniws__peer *p = open_peer("/script/text:hi", NULL, &head);
    assert_memory_equal(head.p + head.len - 4, "\r\n\r\n", 4);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "hi", 2);
    uniws__peer_free(p);
    b_free(&head);
    b_free(&out);

    p = uniws__peer_new();
    const char *req = request("/script/text:hi/same-segment/ping:x", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    uniws__peer_action a;
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_WRITE);
    b_add(&out, a.data, a.len);
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_NONE);
    const uint8_t *end = NULL;
    for (size_t i = 0; i + 4 <= out.len; i++)
        if (memcmp(out.p + i, "\r\n\r\n", 4) == 0) {
            end = out.p + i + 4;
            break;
        }
    assert_non_null(end);
    pos = (size_t)(end - out.p);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "hi", 2);
    expect_frame(&out, &pos, 1, UNIWS__OP_PING, "x", 1);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&out);
}

/* ---- echo ---------------------------------------------------------------- */

static void test_echo_text_binary(void **state)
{
    bytes in = {0}, out = {0};
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 7);
    uniws__peer *p = open_peer("/", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "Hello", 5, 1);
    client_frame(&in, 1, 0, UNIWS__OP_BINARY, bin, sizeof bin, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "", 0, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    /* exact bytes of the first frame: unmasked, minimal header */
    static const uint8_t hello[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
    assert_true(out.len > sizeof hello);
    assert_memory_equal(out.p, hello, sizeof hello);
    assert_int_equal(out.p[7], 0x82);
    assert_int_equal(out.p[8], 126);
    assert_int_equal((out.p[9] << 8) | out.p[10], 300);
    size_t pos = sizeof hello;
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, bin, sizeof bin);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, NULL, 0);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

static void test_echo_16mib_fragmented(void **state)
{
    const size_t size = 16u << 20, nfrag = 5;
    uint8_t *msg = malloc(size);
    assert_non_null(msg);
    for (size_t i = 0; i < size; i++)
        msg[i] = (uint8_t)(i * 31 + (i >> 13));
    bytes in = {0}, out = {0};
    for (size_t k = 0; k < nfrag; k++) {
        size_t a = size * k / nfrag, b = size * (k + 1) / nfrag;
        client_frame(&in, k + 1 == nfrag, 0, k ? UNIWS__OP_CONT : UNIWS__OP_BINARY, msg + a, b - a,
                     1);
        if (k == 2)
            client_frame(&in, 1, 0, UNIWS__OP_PING, "mid", 3, 1);
    }
    uniws__peer *p = open_peer("/echo", NULL, NULL);
    /* fed in uneven chunks; nothing but the pong may come out before the end */
    size_t off = 0, chunk = 65521;
    while (off < in.len) {
        size_t n = in.len - off < chunk ? in.len - off : chunk;
        assert_int_equal(uniws__peer_feed(p, in.p + off, n), 0);
        off += n;
        uniws__peer_action a = drain(p, &out);
        assert_int_equal(a.kind, UNIWS__PEER_NONE);
        if (off < in.len)
            assert_true(out.len == 0 || out.len == 5);
    }
    size_t pos = 0;
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "mid", 3);
    assert_int_equal(out.p[pos], 0x82);
    assert_int_equal(out.p[pos + 1], 127);
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, msg, size);
    assert_int_equal(pos, out.len);

    /* and again as one text message, which must still echo whole */
    memset(msg, 'q', size);
    in.len = 0;
    out.len = 0;
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, msg, size, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    pos = 0;
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, msg, size);
    uniws__peer_free(p);
    free(msg);
    b_free(&in);
    b_free(&out);
}

static void test_client_must_mask(void **state)
{
    bytes in = {0}, out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/echo", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "Hello", 5, 0);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_close(&out, &pos, 1002, NULL);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

static void test_protocol_errors(void **state)
{
    struct {
        int fin, rsv, op;
        size_t len;
        int code;
    } cases[] = {
        {1, 4, UNIWS__OP_TEXT, 1, 1002},   /* RSV1 */
        {1, 1, UNIWS__OP_BINARY, 1, 1002}, /* RSV3 */
        {1, 0, 3, 1, 1002},                /* reserved data opcode */
        {1, 0, 0xB, 1, 1002},              /* reserved control opcode */
        {1, 0, UNIWS__OP_CONT, 1, 1002},   /* continuation of nothing */
        {0, 0, UNIWS__OP_PING, 1, 1002},   /* fragmented control frame */
        {1, 0, UNIWS__OP_PING, 126, 1002},
        {1, 0, UNIWS__OP_CLOSE, 1, 1002},
    };
    uint8_t payload[126] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes in = {0}, out = {0};
        size_t pos = 0;
        uniws__peer *p = open_peer("/", NULL, NULL);
        client_frame(&in, cases[i].fin, cases[i].rsv, cases[i].op, payload, cases[i].len, 1);
        feed_bytes(p, &in);
        assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
        expect_close(&out, &pos, cases[i].code, NULL);
        uniws__peer_free(p);
        b_free(&in);
        b_free(&out);
    }

    /* a new message inside a fragmented one; invalid UTF-8 text */
    bytes in = {0}, out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/", NULL, NULL);
    client_frame(&in, 0, 0, UNIWS__OP_TEXT, "a", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "b", 1, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_close(&out, &pos, 1002, NULL);
    uniws__peer_free(p);
    in.len = out.len = pos = 0;

    p = open_peer("/", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "\xc3\x28", 2, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_close(&out, &pos, 1007, NULL);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

static void test_ping_and_close_echo(void **state)
{
    bytes in = {0}, out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/echo", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_PING, "abc", 3, 1);
    client_frame(&in, 1, 0, UNIWS__OP_PONG, "ignored", 7, 1);
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE,
                 "\x0f\xa1"
                 "bye",
                 5, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "late", 4, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "abc", 3);
    expect_close(&out, &pos, 4001, "bye");
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    in.len = out.len = pos = 0;

    p = open_peer("/echo", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, NULL, 0, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_frame(&out, &pos, 1, UNIWS__OP_CLOSE, NULL, 0);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    in.len = out.len = pos = 0;

    /* TCP ends without a close frame: the peer closes too */
    p = open_peer("/echo", NULL, NULL);
    uniws__peer_eof(p);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_int_equal(out.len, 0);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

/* ---- script commands ----------------------------------------------------- */

static void test_script_messages(void **state)
{
    bytes out = {0}, in = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/text:hello%2Fworld%3A%20x/textn:30/bin:300/frag:3:abcdefg/"
                               "fragbin:2:5/frag:4:ab/frame:8a80/ping:p%3Aq/pong:po/pingflood:3/"
                               "text:a:b/close:4000:bye%20now",
                               NULL, NULL);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);

    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "hello/world: x", 14);
    char t[30];
    for (int i = 0; i < 30; i++)
        t[i] = (char)('a' + i % 26);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, t, 30);
    assert_int_equal(out.p[pos], 0x82);
    assert_int_equal(out.p[pos + 1], 126);
    uint8_t b[300];
    for (int i = 0; i < 300; i++)
        b[i] = (uint8_t)i;
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, b, 300);
    /* frag:3:abcdefg -> "ab" "cd" "efg" */
    expect_frame(&out, &pos, 0, UNIWS__OP_TEXT, "ab", 2);
    expect_frame(&out, &pos, 0, UNIWS__OP_CONT, "cd", 2);
    expect_frame(&out, &pos, 1, UNIWS__OP_CONT, "efg", 3);
    /* fragbin:2:5 -> 00 01 | 02 03 04 */
    expect_frame(&out, &pos, 0, UNIWS__OP_BINARY, "\x00\x01", 2);
    expect_frame(&out, &pos, 1, UNIWS__OP_CONT, "\x02\x03\x04", 3);
    /* frag:4:ab -> "" "a" "" "b": empty pieces allowed */
    expect_frame(&out, &pos, 0, UNIWS__OP_TEXT, NULL, 0);
    expect_frame(&out, &pos, 0, UNIWS__OP_CONT, "a", 1);
    expect_frame(&out, &pos, 0, UNIWS__OP_CONT, NULL, 0);
    expect_frame(&out, &pos, 1, UNIWS__OP_CONT, "b", 1);
    /* frame:8a80 goes out verbatim, mask bit and all */
    assert_int_equal(out.p[pos], 0x8a);
    assert_int_equal(out.p[pos + 1], 0x80);
    pos += 2;
    expect_frame(&out, &pos, 1, UNIWS__OP_PING, "p:q", 3);
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "po", 2);
    expect_frame(&out, &pos, 1, UNIWS__OP_PING, "0", 1);
    expect_frame(&out, &pos, 1, UNIWS__OP_PING, "1", 1);
    expect_frame(&out, &pos, 1, UNIWS__OP_PING, "2", 1);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "a:b", 3);
    expect_close(&out, &pos, 4000, "bye now");
    assert_int_equal(pos, out.len);

    /* the peer started the close: the client's reply ends it without another close */
    out.len = pos = 0;
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "ignored", 7, 1);
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, "\x0f\xa0", 2, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_int_equal(out.len, 0);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

static void test_script_close_variants(void **state)
{
    static const struct {
        const char *path;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"/script/close", "\x88\x00", 2},
        {"/script/close:1000", "\x88\x02\x03\xe8", 4},
        {"/script/close:0", "\x88\x02\x00\x00", 4},
        {"/script/close:65535:r", "\x88\x03\xff\xffr", 5},
        {"/script/close-hex:03e8FF", "\x88\x03\x03\xe8\xff", 5},
        {"/script/close-hex:", "\x88\x00", 2},
        {"/script/frame:c10548656c6c6f", "\xc1\x05Hello", 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes out = {0};
        uniws__peer *p = open_peer(cases[i].path, NULL, NULL);
        assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
        assert_int_equal(out.len, cases[i].len);
        assert_memory_equal(out.p, cases[i].bytes, cases[i].len);
        uniws__peer_free(p);
        b_free(&out);
    }
}

static void test_sleep_fin_rst(void **state)
{
    bytes out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/text:a/sleep:250/text:b/fin/text:never", NULL, NULL);
    uniws__peer_action a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_SLEEP);
    assert_int_equal(a.ms, 250);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "a", 1);
    assert_int_equal(pos, out.len);
    a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_FIN);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "b", 1);
    assert_int_equal(pos, out.len);
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_FIN);
    uniws__peer_free(p);
    b_free(&out);

    p = open_peer("/script/frame:8a80/rst", NULL, NULL);
    a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_RESET);
    assert_int_equal(out.len, 2);
    uniws__peer_free(p);
    b_free(&out);
}

static void test_bytewise(void **state)
{
    uniws__peer *p = open_peer("/script/text:a/bytewise/text:bc", NULL, NULL);
    uniws__peer_action a;
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_WRITE);
    assert_int_equal(a.bytewise, 0);
    assert_int_equal(a.len, 3);
    assert_memory_equal(a.data,
                        "\x81\x01"
                        "a",
                        3);
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_WRITE);
    assert_int_equal(a.bytewise, 1);
    assert_int_equal(a.len, 4);
    assert_memory_equal(a.data,
                        "\x81\x02"
                        "bc",
                        4);

    /* echoes are bytewise from then on too */
    bytes in = {0};
    client_frame(&in, 1, 0, UNIWS__OP_BINARY, "z", 1, 1);
    feed_bytes(p, &in);
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_WRITE);
    assert_int_equal(a.bytewise, 1);
    assert_memory_equal(a.data,
                        "\x82\x01"
                        "z",
                        3);
    uniws__peer_free(p);
    b_free(&in);
}

static void test_headers_command(void **state)
{
    bytes out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/headers", "X-Custom: Some Value\r\n", NULL);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    const char *expect = "Host: 127.0.0.1\r\nUpgrade: websocket\r\n"
                         "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
                         "Sec-WebSocket-Version: 13\r\nX-Custom: Some Value";
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, expect, strlen(expect));
    uniws__peer_free(p);
    b_free(&out);
}

static void test_report(void **state)
{
    bytes in = {0}, out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/report", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "abc", 3, 1);
    client_frame(&in, 0, 0, UNIWS__OP_BINARY, "12", 2, 1);
    client_frame(&in, 1, 0, UNIWS__OP_PING, "p", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_CONT, "345", 3, 1);
    client_frame(&in, 1, 0, UNIWS__OP_BINARY, NULL, 0, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "p", 1); /* pings still answered, no echo */
    assert_int_equal(pos, out.len);
    in.len = 0;
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE,
                 "\x0b\xb9"
                 "x",
                 3, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_close(&out, &pos, 3001, "msgs=3 bytes=8");
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    in.len = out.len = pos = 0;

    p = open_peer("/script/report", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, NULL, 0, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    expect_close(&out, &pos, 1000, "msgs=0 bytes=0");
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

/* masks: every data frame (also a continuation) is answered with its key;
 * control frames are not. */
static void test_masks(void **state)
{
    bytes in = {0}, out = {0};
    size_t pos = 0;
    static const char key[4] = {0x37, (char)0xfa, 0x21, 0x3d}; /* client_frame's */
    (void)state;
    uniws__peer *p = open_peer("/script/masks", NULL, NULL);
    client_frame(&in, 0, 0, UNIWS__OP_TEXT, "ab", 2, 1);
    client_frame(&in, 1, 0, UNIWS__OP_PING, "p", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_CONT, "c", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_BINARY, NULL, 0, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, key, 4);
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "p", 1);
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, key, 4);
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, key, 4);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

static void test_hold_and_no_close_reply(void **state)
{
    bytes in = {0}, out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/hold", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_PING, "p", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "t", 1, 0); /* even unmasked: ignored */
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, "\x03\xe8", 2, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    assert_int_equal(out.len, 0);
    uniws__peer_eof(p);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    uniws__peer_free(p);
    in.len = 0;

    p = open_peer("/script/no-close-reply", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "t", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, "\x03\xe8", 2, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "u", 1, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "t", 1);
    assert_int_equal(pos, out.len);
    uniws__peer_eof(p);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

/* ---- hostile-peer commands ------------------------------------------------ */

static void test_hostile_head(void **state)
{
    bytes head = {0};
    uniws__peer *p = open_peer("/script/hdrlines:3/hugeheader:100", NULL, &head);
    assert_true(contains(&head, "\r\nX-Filler-0000000: aaaa"));
    assert_true(contains(&head, "\r\nX-Filler-0000002: aaaa"));
    assert_false(contains(&head, "X-Filler-0000003"));
    char huge[120] = "\r\nX-Huge: ";
    memset(huge + 10, 'a', 100);
    memcpy(huge + 110, "\r\n\r\n", 5);
    assert_true(contains(&head, huge));
    assert_memory_equal(head.p + head.len - 4, "\r\n\r\n", 4);
    uniws__peer_free(p);
    b_free(&head);
}

static void test_slow_head(void **state)
{
    uniws__peer *p = uniws__peer_new();
    assert_non_null(p);
    const char *req = request("/script/slow-head:7/text:x", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    bytes head = {0};
    uniws__peer_action a;
    /* one byte, a sleep, one byte... until the head is complete */
    for (;;) {
        uniws__peer_next(p, &a);
        assert_int_equal(a.kind, UNIWS__PEER_WRITE);
        assert_int_equal(a.len, 1);
        b_add(&head, a.data, 1);
        if (head.len >= 4 && memcmp(head.p + head.len - 4, "\r\n\r\n", 4) == 0)
            break;
        uniws__peer_next(p, &a);
        assert_int_equal(a.kind, UNIWS__PEER_SLEEP);
        assert_int_equal(a.ms, 7);
    }
    assert_memory_equal(head.p, "HTTP/1.1 101", 12);
    assert_string_equal(header_value(&head, "Sec-WebSocket-Accept"), RFC_ACCEPT);
    bytes out = {0}; /* the frames follow the last byte at once */
    size_t pos = 0;
    drain(p, &out);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "x", 1);
    uniws__peer_free(p);
    b_free(&head);
    b_free(&out);
}

static void test_no_read_rawbytes(void **state)
{
    uniws__peer *p = open_peer("/script/no-read/rawbytes:5/sleep:3/read", NULL, NULL);
    assert_int_equal(uniws__peer_reading(p), 1); /* the script has not run yet */
    bytes out = {0};
    uniws__peer_action a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_SLEEP);
    assert_int_equal(uniws__peer_reading(p), 0);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.p, "\x00\x01\x02\x03\x04", 5);
    a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_NONE);
    assert_int_equal(uniws__peer_reading(p), 1);
    uniws__peer_free(p);
    b_free(&out);
}

static void test_deflate_zeros(void **state)
{
    bytes out = {0};
    uniws__peer *p = open_peer("/script/deflate-zeros:1000000", NULL, NULL);
    drain(p, &out);
    size_t pos = 0;
    sframe f = next_frame(&out, &pos);
    assert_int_equal(pos, out.len);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.rsv, 4);
    assert_int_equal(f.op, UNIWS__OP_BINARY);
    assert_true(f.len < 1000000 / 150); /* 13 bits per 258 bytes */
#ifdef UNIWS_HAVE_ZLIB
    /* The client's own inflater makes 1 + 258 * 3876 zero bytes of it. */
    uniws__pmd *z = NULL;
    assert_int_equal(uniws__pmd_accept("", &z), 0);
    uint8_t *big = NULL;
    size_t n = 0;
    assert_int_equal(uniws__pmd_inflate(z, f.payload, f.len, 2000000, &big, &n), 0);
    assert_int_equal(n, 1 + 258 * 3876);
    for (size_t i = 0; i < n; i++)
        if (big[i])
            fail_msg("byte %zu is %d", i, big[i]);
    uniws__free(big);
    /* ...and stops at a limit below that. */
    big = NULL;
    assert_int_equal(uniws__pmd_inflate(z, f.payload, f.len, 65536, &big, &n), UNIWS_ETOO_BIG);
    uniws__free(big);
    uniws__pmd_free(z);
#endif
    uniws__peer_free(p);
    b_free(&out);
}

/* ---- the network server -------------------------------------------------- */

static int connect_to(int port)
{
    int fd = net_client_connect(port);
    assert_true(fd >= 0);
    return fd;
}

static void send_all(int fd, const void *d, size_t n)
{
    const uint8_t *p = d;
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(r > 0);
        p += r;
        n -= (size_t)r;
    }
}

/* Reads until the connection ends (or until `until` bytes when nonzero). */
static void recv_some(int fd, bytes *b, size_t until)
{
    uint8_t buf[65536];
    while (!until || b->len < until) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        b_add(b, buf, (size_t)r);
    }
}

static size_t head_end(const bytes *b)
{
    for (size_t i = 0; i + 4 <= b->len; i++)
        if (memcmp(b->p + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* ---- lifecycle (issue 10): drop-after, refuse, pong-delay, redirect ------- */

/* Feeds one masked text message and returns the next non-WRITE action. */
static uniws__peer_action send_text(uniws__peer *p, const char *t, bytes *out)
{
    bytes in = {0};
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, t, strlen(t), 1);
    feed_bytes(p, &in);
    b_free(&in);
    return drain(p, out);
}

static void test_drop_after(void **state)
{
    (void)state;
    bytes out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/drop-after:2", NULL, NULL);
    assert_int_equal(send_text(p, "one", &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "one", 3);
    /* the second message is echoed, then TCP ends (FIN by default) */
    assert_int_equal(send_text(p, "two", &out).kind, UNIWS__PEER_FIN);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "two", 3);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&out);
    pos = 0;

    /* pings do not count; rst resets */
    p = open_peer("/script/drop-after:1:rst", NULL, NULL);
    bytes in = {0};
    client_frame(&in, 1, 0, UNIWS__OP_PING, "p", 1, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "p", 1);
    assert_int_equal(send_text(p, "x", &out).kind, UNIWS__PEER_RESET);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "x", 1);
    uniws__peer_free(p);
    b_free(&out);
    b_free(&in);

    /* bad forms are refused with 400 */
    const char *bad[] = {"/script/drop-after:0", "/script/drop-after:1:later", "/script/drop-after",
                         "/script/drop-after:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = uniws__peer_new();
        const char *req = request(bad[i], NULL);
        assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
        assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
        assert_memory_equal(out.p, "HTTP/1.1 400 ", 13);
        uniws__peer_free(p);
        b_free(&out);
    }
}

/* Answers one upgrade request for path; returns its status. */
static int status_of(const char *path)
{
    bytes out = {0};
    uniws__peer *p = uniws__peer_new();
    const char *req = request(path, NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    uniws__peer_action a;
    uniws__peer_next(p, &a);
    assert_int_equal(a.kind, UNIWS__PEER_WRITE);
    b_add(&out, a.data, a.len);
    assert_true(out.len > 12);
    int status = atoi((const char *)out.p + 9);
    uniws__peer_free(p);
    b_free(&out);
    return status;
}

static void test_refuse(void **state)
{
    (void)state;
    /* the count lives across connections, per key */
    assert_int_equal(status_of("/script/refuse:2:peer-a"), 503);
    assert_int_equal(status_of("/script/refuse:2:peer-b:429"), 429);
    assert_int_equal(status_of("/script/refuse:2:peer-a"), 503);
    assert_int_equal(status_of("/script/refuse:2:peer-a"), 101);
    assert_int_equal(status_of("/script/refuse:2:peer-a"), 101);
    assert_int_equal(status_of("/script/refuse:2:peer-b:429"), 429);
    assert_int_equal(status_of("/script/refuse:2:peer-b:429"), 101);
    assert_int_equal(status_of("/script/refuse:0:peer-c"), 400); /* N >= 1 */
    /* the table is bounded: many keys push the oldest out, which then counts
     * from 0 again */
    char path[64];
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof path, "/script/refuse:1:k%d", i);
        assert_int_equal(status_of(path), 503);
    }
    assert_int_equal(status_of("/script/refuse:1:k299"), 101);
    assert_int_equal(status_of("/script/refuse:1:k0"), 503);
    /* bad forms */
    assert_int_equal(status_of("/script/refuse:1"), 400);
    assert_int_equal(status_of("/script/refuse:1:a%2Fb"), 400);
    assert_int_equal(status_of("/script/refuse:1:abc:200"), 400);
    assert_int_equal(status_of("/script/refuse:1:abc:600"), 400);
    assert_int_equal(status_of("/script/refuse:1:abcdefghijabcdefghijabcdefghijabc"), 400);
}

static void test_pong_delay(void **state)
{
    (void)state;
    bytes in = {0}, out = {0};
    size_t pos = 0;
    uniws__peer *p = open_peer("/script/pong-delay:300", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_PING, "hb", 2, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "after", 5, 1);
    feed_bytes(p, &in);
    /* the pong waits 300 ms, and what came after the ping waits with it */
    uniws__peer_action a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_SLEEP);
    assert_int_equal(a.ms, 300);
    assert_int_equal(out.len, 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    expect_frame(&out, &pos, 1, UNIWS__OP_PONG, "hb", 2);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "after", 5);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

static void test_redirect(void **state)
{
    (void)state;
    bytes out = {0};
    uniws__peer *p = uniws__peer_new();
    const char *req = request("/script/redirect:307:%2Fscript%2Ftext:moved/xhdr:X-A:%201", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_memory_equal(out.p, "HTTP/1.1 307 ", 13);
    assert_string_equal(header_value(&out, "Location"), "/script/text:moved");
    assert_string_equal(header_value(&out, "X-A"), "1");
    uniws__peer_free(p);
    b_free(&out);

    p = uniws__peer_new();
    req = request("/script/redirect:301:wss:%2F%2F127.0.0.1:9%2Fecho", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_memory_equal(out.p, "HTTP/1.1 301 ", 13);
    assert_string_equal(header_value(&out, "Location"), "wss://127.0.0.1:9/echo");
    uniws__peer_free(p);
    b_free(&out);

    assert_int_equal(status_of("/script/redirect:200:%2Fecho"), 400);
    assert_int_equal(status_of("/script/redirect:302"), 400);
    assert_int_equal(status_of("/script/redirect:302:"), 400);
    assert_int_equal(status_of("/script/redirect:302:%2Fa%0D%0AX:1"), 400);
}

/* "go silent without closing": hold after the handshake answers nothing, not
 * even a close, and keeps TCP open until the client ends it. */
static void test_hold_goes_silent(void **state)
{
    (void)state;
    bytes in = {0}, out = {0};
    uniws__peer *p = open_peer("/script/hold", NULL, NULL);
    client_frame(&in, 1, 0, UNIWS__OP_PING, "p", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_TEXT, "t", 1, 1);
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, "\x03\xe8", 2, 1);
    feed_bytes(p, &in);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_NONE);
    assert_int_equal(out.len, 0);
    uniws__peer_eof(p);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_int_equal(out.len, 0);
    uniws__peer_free(p);
    b_free(&in);
    b_free(&out);
}

/* A TLS-only command on a peer without TLS: 400, naming the command. */
static void expect_refused_without_tls(const char *path, const char *name)
{
    bytes out = {0};
    uniws__peer *p = uniws__peer_new();
    const char *req = request(path, NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_memory_equal(out.p, "HTTP/1.1 400 ", 13);
    assert_true(contains(&out, name));
    uniws__peer_free(p);
    b_free(&out);
}

/* TLS broken mid-stream: tls-garble and tls-plain are refused (400, naming
 * the command) unless the driver said it runs TLS; then each is an action of
 * its own, in script order, after the frames before it, carrying a whole text
 * frame ("garbled", "plain"), and the script goes on. */
static void test_tls_break(void **state)
{
    (void)state;
    static const char *const scripts[] = {"/script/text:a/tls-garble", "/script/tls-plain/text:a"};
    static const char *const names[] = {"tls-garble", "tls-plain"};
    for (size_t i = 0; i < 2; i++) {
        expect_refused_without_tls(scripts[i], names[i]);
    }

    bytes out = {0}, brk = {0};
    size_t pos = 0, bpos = 0;
    uniws__peer *p = uniws__peer_new();
    uniws__peer_set_tls(p);
    const char *req = request("/script/text:a/tls-garble/text:b/tls-plain/fin", NULL);
    assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
    uniws__peer_action a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_TLS_GARBLE);
    b_add(&brk, a.data, a.len);
    expect_frame(&brk, &bpos, 1, UNIWS__OP_TEXT, "garbled", 7);
    assert_int_equal(bpos, brk.len);
    assert_memory_equal(out.p, "HTTP/1.1 101 ", 13);
    pos = head_end(&out);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "a", 1);
    assert_int_equal(pos, out.len);

    a = drain(p, &out);
    assert_int_equal(a.kind, UNIWS__PEER_TLS_PLAIN);
    b_add(&brk, a.data, a.len);
    expect_frame(&brk, &bpos, 1, UNIWS__OP_TEXT, "plain", 5);
    assert_int_equal(bpos, brk.len);
    expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "b", 1);
    assert_int_equal(pos, out.len);

    assert_int_equal(drain(p, &out).kind, UNIWS__PEER_FIN);
    assert_int_equal(pos, out.len);
    uniws__peer_free(p);
    b_free(&out);
    b_free(&brk);
}

/* The end of a TLS stream without a close frame: tls-fin is the FIN action
 * (the TLS driver sends close_notify first), tls-truncate an action of its
 * own (FIN without close_notify), final like FIN; both after the frames
 * before them, both refused (400, naming the command) without TLS. */
static void test_tls_end(void **state)
{
    (void)state;
    static const char *const names[] = {"tls-fin", "tls-truncate"};
    static const int kinds[] = {UNIWS__PEER_FIN, UNIWS__PEER_TLS_TRUNCATE};
    for (size_t i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof path, "/script/text:a/%s/text:b", names[i]);
        expect_refused_without_tls(path, names[i]);

        bytes out = {0};
        uniws__peer *p = uniws__peer_new();
        uniws__peer_set_tls(p);
        const char *req = request(path, NULL);
        assert_int_equal(uniws__peer_feed(p, req, strlen(req)), 0);
        assert_int_equal(drain(p, &out).kind, kinds[i]);
        assert_memory_equal(out.p, "HTTP/1.1 101 ", 13);
        size_t pos = head_end(&out);
        expect_frame(&out, &pos, 1, UNIWS__OP_TEXT, "a", 1);
        assert_int_equal(pos, out.len); /* "b" never comes */
        uniws__peer_action again;
        uniws__peer_next(p, &again);
        assert_int_equal(again.kind, kinds[i]);
        uniws__peer_free(p);
        b_free(&out);
    }
}

static void test_server_echo(void **state)
{
    char dir[] = "/tmp/uniws-peer-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[64];
    snprintf(file, sizeof file, "%s/index.html", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("<p>hi</p>", f);
    fclose(f);

    uniws__server_options opts;
    memset(&opts, 0, sizeof opts);
    opts.static_dir = dir;
    uniws__server *srv = NULL;
    assert_int_equal(uniws__server_start(&opts, &srv), 0);
    int port = uniws__server_port(srv);
    assert_true(port > 0);

    /* handshake by hand, then an echo of a 100 KiB binary message */
    int fd = connect_to(port);
    const char *req = request("/echo", NULL);
    send_all(fd, req, strlen(req));
    bytes in = {0}, out = {0};
    size_t msg_len = 100 * 1024;
    uint8_t *msg = malloc(msg_len);
    assert_non_null(msg);
    for (size_t i = 0; i < msg_len; i++)
        msg[i] = (uint8_t)(i ^ (i >> 8));
    client_frame(&in, 1, 0, UNIWS__OP_BINARY, msg, msg_len, 1);
    send_all(fd, in.p, in.len);
    while (!head_end(&out) || out.len < head_end(&out) + 10 + msg_len) {
        size_t before = out.len;
        recv_some(fd, &out, out.len + 1);
        assert_true(out.len > before);
    }
    size_t pos = head_end(&out);
    assert_memory_equal(out.p, "HTTP/1.1 101 ", 13);
    assert_string_equal(header_value(&out, "Sec-WebSocket-Accept"), RFC_ACCEPT);
    expect_frame(&out, &pos, 1, UNIWS__OP_BINARY, msg, msg_len);

    /* the closing handshake, then an orderly end of TCP */
    in.len = 0;
    client_frame(&in, 1, 0, UNIWS__OP_CLOSE, "\x03\xe8", 2, 1);
    send_all(fd, in.p, in.len);
    recv_some(fd, &out, 0);
    expect_close(&out, &pos, 1000, "");
    assert_int_equal(pos, out.len);
    close(fd);

    /* a plain GET serves the static folder */
    fd = connect_to(port);
    const char *get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, get, strlen(get));
    out.len = 0;
    recv_some(fd, &out, 0);
    close(fd);
    assert_true(out.len > 13);
    assert_memory_equal(out.p, "HTTP/1.1 200 ", 13);
    assert_string_equal(header_value(&out, "Content-Type"), "text/html; charset=utf-8");
    assert_int_equal(out.len - head_end(&out), 9);
    assert_memory_equal(out.p + head_end(&out), "<p>hi</p>", 9);

    fd = connect_to(port);
    get = "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, get, strlen(get));
    out.len = 0;
    recv_some(fd, &out, 0);
    close(fd);
    assert_true(out.len > 13);
    assert_memory_equal(out.p, "HTTP/1.1 404 ", 13);

    /* stopping with a connection still open frees it */
    fd = connect_to(port);
    send_all(fd, req, strlen(req));
    out.len = 0;
    recv_some(fd, &out, 1);
    uniws__server_stop(srv);
    close(fd);

    unlink(file);
    rmdir(dir);
    free(msg);
    b_free(&in);
    b_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_rfc_key),
        cmocka_unit_test(test_handshake_bytewise_request),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_http_action),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_handshake_options),
        cmocka_unit_test(test_xhdr),
        cmocka_unit_test(test_silent),
        cmocka_unit_test(test_same_segment),
        cmocka_unit_test(test_echo_text_binary),
        cmocka_unit_test(test_echo_16mib_fragmented),
        cmocka_unit_test(test_client_must_mask),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_ping_and_close_echo),
        cmocka_unit_test(test_script_messages),
        cmocka_unit_test(test_script_close_variants),
        cmocka_unit_test(test_sleep_fin_rst),
        cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_headers_command),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_hold_and_no_close_reply),
        cmocka_unit_test(test_hostile_head),
        cmocka_unit_test(test_slow_head),
        cmocka_unit_test(test_no_read_rawbytes),
        cmocka_unit_test(test_deflate_zeros),
        cmocka_unit_test(test_drop_after),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_pong_delay),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_hold_goes_silent),
        cmocka_unit_test(test_tls_break),
        cmocka_unit_test(test_tls_end),
        cmocka_unit_test(test_server_echo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
