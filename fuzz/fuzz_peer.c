/*
 * fuzz_peer.c — the scripted peer engine (backends/loopback/peer.h) fed
 * arbitrary client bytes. It must never crash, never ask for an endless run
 * of actions on finite input, keep FIN/RESET final, and on the plain echo
 * paths only ever write a 101 followed by well-formed server frames.
 *
 * Input: byte 0 picks a path from the list below (or, past its end, "raw":
 * the client bytes carry their own request head); byte 1 seeds the split
 * points; byte 2 bit 0: the client ends TCP afterwards, bit 1: it offers
 * subprotocols, bit 2: the driver runs TLS (uniws__peer_set_tls: the tls-*
 * commands are allowed, else refused). The rest is what the client sends after its request.
 */
#include <string.h>

#include "backends/loopback/peer.h"
#include "core/frame.h"
#include "core/utf8.h"
#include "fuzz/fuzz.h"

static const char *const paths[] = {
    "/",
    "/echo",
    "/script/hold",
    "/script/no-close-reply",
    "/script/report",
    "/script/text:hi/bytewise/echo",
    "/script/silent",
    "/script/status:404",
    "/script/status:301",
    "/script/frag:3:hello/fragbin:2:10",
    "/script/sleep:10/ping:x/pong:y",
    "/script/close:1000:bye",
    "/script/same-segment/text:a/close",
    "/script/pingflood:3/echo",
    "/script/proto:x/ext:y/no-upgrade",
    "/script/bad-accept/no-proto",
    "/script/headers",
    "/script/frame:8a80/fin",
    "/script/rst",
    "/script/textn:300/bin:70000",
    "/script/close-hex:03e8",
    "/script/report/close:4000",
    "/nope",
    "/script/bogus",
    /* lifecycle (issue 10) */
    "/script/drop-after:1:rst",
    "/script/pong-delay:5/drop-after:2",
    "/script/refuse:1:fuzz",
    "/script/redirect:307:%2Fscript%2Ftext:x",
    /* TLS broken mid-stream (refused unless byte 2 bit 2 says TLS) */
    "/script/text:a/tls-garble/tls-plain/echo",
    "/script/text:a/tls-fin",
    "/script/text:a/tls-truncate",
};
#define NPATHS (sizeof paths / sizeof paths[0])

/* More actions than any finite input and the scripts above can need: past
 * this the peer is spinning. */
#define MAX_ACTIONS 100000
/* Output kept for the echo check; beyond it the check is skipped. */
#define MAX_KEEP (4u << 20)

typedef struct run {
    uniws__peer *p;
    int tls;  /* uniws__peer_set_tls was called */
    int over; /* FIN, RESET or HTTP seen */
    uint8_t *out;
    size_t out_len, out_cap;
    int keep_failed;
} run;

static void keep(run *r, const uint8_t *d, size_t n)
{
    if (r->keep_failed)
        return;
    if (r->out_len + n > MAX_KEEP) {
        r->keep_failed = 1;
        return;
    }
    if (r->out_len + n > r->out_cap) {
        size_t cap = r->out_cap ? r->out_cap : 1024;
        while (cap < r->out_len + n)
            cap *= 2;
        uint8_t *np = realloc(r->out, cap);
        if (!np) {
            r->keep_failed = 1;
            return;
        }
        r->out = np;
        r->out_cap = cap;
    }
    memcpy(r->out + r->out_len, d, n);
    r->out_len += n;
}

/* Carries out actions until the peer waits for input (sleeps cost nothing). */
static void drain(run *r)
{
    for (int i = 0; i < MAX_ACTIONS; i++) {
        uniws__peer_action a;
        uniws__peer_next(r->p, &a);
        switch (a.kind) {
        case UNIWS__PEER_NONE:
            return;
        case UNIWS__PEER_WRITE:
            FUZZ_CHECK(a.len > 0 && a.data != NULL);
            keep(r, a.data, a.len);
            break;
        case UNIWS__PEER_SLEEP:
            FUZZ_CHECK(a.ms <= 600000);
            break;
        case UNIWS__PEER_TLS_GARBLE:
        case UNIWS__PEER_TLS_PLAIN:
            /* only where the driver said it runs TLS */
            FUZZ_CHECK(r->tls && a.len > 0 && a.data != NULL);
            break;
        case UNIWS__PEER_HTTP:
            FUZZ_CHECK(a.path != NULL);
            r->over = 1;
            break;
        case UNIWS__PEER_TLS_TRUNCATE:
            FUZZ_CHECK(r->tls); /* only where the driver said it runs TLS */
            /* fall through */
        case UNIWS__PEER_FIN:
        case UNIWS__PEER_RESET: {
            /* Final: asking again gives the same answer. */
            uniws__peer_action again;
            uniws__peer_next(r->p, &again);
            FUZZ_CHECK(again.kind == a.kind);
            r->over = 1;
            return;
        }
        default:
            FUZZ_CHECK(!"unknown peer action");
        }
    }
    FUZZ_CHECK(!"the peer wants endless actions");
}

/* The echo paths answer 101 and then write only frames a client accepts. */
static void check_echo_output(const uint8_t *o, size_t n)
{
    static const char status[] = "HTTP/1.1 101 ";
    if (n == 0)
        return;
    FUZZ_CHECK(n >= sizeof status - 1 && memcmp(o, status, sizeof status - 1) == 0);
    size_t i = 0;
    while (i + 4 <= n && memcmp(o + i, "\r\n\r\n", 4) != 0)
        i++;
    FUZZ_CHECK(i + 4 <= n);
    i += 4;
    int closed = 0;
    while (i < n) {
        uniws__frame_hdr h;
        int r = uniws__frame_parse(o + i, n - i, &h);
        FUZZ_CHECK(r > 0 && !closed); /* whole frames, and none after a close */
        FUZZ_CHECK(!h.masked && h.rsv == 0 && h.fin);
        FUZZ_CHECK(h.opcode == UNIWS__OP_TEXT || h.opcode == UNIWS__OP_BINARY ||
                   h.opcode == UNIWS__OP_CLOSE || h.opcode == UNIWS__OP_PONG);
        FUZZ_CHECK(h.len <= n - i - (size_t)r);
        const uint8_t *pl = o + i + r;
        if (h.opcode == UNIWS__OP_TEXT)
            FUZZ_CHECK(uniws__utf8_valid(pl, (size_t)h.len));
        if (h.opcode >= 8)
            FUZZ_CHECK(h.len <= 125);
        if (h.opcode == UNIWS__OP_CLOSE) {
            FUZZ_CHECK(h.len != 1);
            if (h.len > 2)
                FUZZ_CHECK(uniws__utf8_valid(pl + 2, (size_t)h.len - 2));
            closed = 1;
        }
        i += (size_t)r + (size_t)h.len;
    }
}

/* Raw request heads may script anything, including gigabyte messages and
 * millions of pings, which the peer rightly obeys: keep numbers small. */
static int raw_too_costly(const uint8_t *d, size_t n)
{
    size_t run_len = 0;
    for (size_t i = 0; i < n; i++) {
        run_len = d[i] >= '0' && d[i] <= '9' ? run_len + 1 : 0;
        if (run_len > 4)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t which = fuzz_u8(&in) % (NPATHS + 1);
    uint32_t rng = 0xfeed0000u | fuzz_u8(&in);
    uint8_t flags = fuzz_u8(&in);
    const uint8_t *client;
    size_t n = fuzz_bytes(&in, in.n, &client);
    if (which == NPATHS && raw_too_costly(client, n))
        return 0;

    run r;
    memset(&r, 0, sizeof r);
    r.p = uniws__peer_new();
    FUZZ_CHECK(r.p != NULL);
    if (flags & 4) {
        uniws__peer_set_tls(r.p);
        r.tls = 1;
    }

    if (which < NPATHS) {
        char req[512];
        int len = snprintf(req, sizeof req,
                           "GET %s HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n%s\r\n",
                           paths[which], flags & 2 ? "Sec-WebSocket-Protocol: chat, x\r\n" : "");
        FUZZ_CHECK(len > 0 && (size_t)len < sizeof req);
        FUZZ_CHECK(uniws__peer_feed(r.p, req, (size_t)len) == 0);
        drain(&r);
    }

    size_t at = 0;
    while (at < n && !r.over) {
        uint32_t x = fuzz_rand(&rng);
        size_t k = x % 4 == 0 ? n - at : 1 + (x >> 8) % ((size_t)1 << (x >> 4) % 10);
        if (k > n - at)
            k = n - at;
        FUZZ_CHECK(uniws__peer_feed(r.p, client + at, k) == 0);
        at += k;
        drain(&r);
    }
    if (flags & 1 && !r.over) {
        uniws__peer_eof(r.p);
        drain(&r);
        FUZZ_CHECK(r.over); /* the peer closes when the client does, even in "hold" */
    }
    uniws__peer_free(r.p);

    if (which <= 1 && !r.keep_failed)
        check_echo_output(r.out, r.out_len);
    free(r.out);
    return 0;
}
