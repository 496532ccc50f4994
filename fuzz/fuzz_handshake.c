/*
 * fuzz_handshake.c — the opening-handshake answer parser (core/wsproto.c:
 * hs_feed, parse_answer, uniws__stream_upgraded, with core/handshake.c's
 * Sec-WebSocket-Accept) on arbitrary server answers. Two loopback sockets
 * connect to ws://f/script/silent (a peer that never answers); the target
 * plays the server: one socket gets the answer in one piece, the other split
 * at input-chosen points.
 *
 * Input: 2 bytes of settings, then the answer; every "{ACCEPT}" in it becomes
 * the right Sec-WebSocket-Accept for the socket's key.
 *   byte 0  bit 0: offer subprotocols "chat", "v2.chat"
 *           bit 1: offer permessage-deflate
 *   byte 1  seed for the split points
 *
 * Properties besides "no crash, no sanitizer report":
 *  - the outcome (open or fail, error code, HTTP status, protocol, extensions)
 *    does not depend on how the answer was split;
 *  - open only after "HTTP/1.x 101", with the right Sec-WebSocket-Accept
 *    somewhere in the head, an offered (or no) subprotocol and no extension
 *    that was not offered;
 *  - a failure is one error event (HTTP status 0 or the status line's) and
 *    then close 1006, unclean; nothing after close.
 */
#include <string.h>
#include <strings.h>

#include "core/backend.h"
#include "core/handshake.h"
#include "core/socket.h"
#include "fuzz/fuzz.h"
#include "uniws/uniws.h"

static const char *const protos[] = {"chat", "v2.chat"};

typedef struct outcome {
    int opens, errors, closes, error, http_status, close_code, clean;
    char protocol[64], extensions[256];
} outcome;

static void on_open(uniws_socket *s, void *ud)
{
    outcome *o = ud;
    FUZZ_CHECK(o->opens == 0 && o->errors == 0 && o->closes == 0);
    o->opens++;
    snprintf(o->protocol, sizeof o->protocol, "%s", uniws_protocol(s));
    snprintf(o->extensions, sizeof o->extensions, "%s", uniws_extensions(s));
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    outcome *o = ud;
    (void)s;
    FUZZ_CHECK(o->errors == 0 && o->closes == 0);
    FUZZ_CHECK(e->message != NULL);
    o->errors++;
    o->error = e->error;
    o->http_status = e->http_status;
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    outcome *o = ud;
    (void)s;
    (void)m;
    FUZZ_CHECK(o->opens == 1 && o->closes == 0);
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    outcome *o = ud;
    (void)s;
    FUZZ_CHECK(o->closes == 0);
    o->closes++;
    o->close_code = e->code;
    o->clean = e->was_clean;
}

static void turns(uniws_loop *loop, int n)
{
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(uniws_loop_run_once(loop, 0) >= 0);
}

/* Replaces every "{ACCEPT}" in p[0..n) by accept (28 characters). */
static uint8_t *substitute(const uint8_t *p, size_t n, const char *accept, size_t *out_n)
{
    static const char mark[] = "{ACCEPT}";
    const size_t ml = sizeof mark - 1, al = strlen(accept);
    uint8_t *out = malloc(n / ml * al + n + 1);
    size_t o = 0;
    FUZZ_CHECK(out != NULL);
    for (size_t i = 0; i < n;) {
        if (n - i >= ml && memcmp(p + i, mark, ml) == 0) {
            memcpy(out + o, accept, al);
            o += al;
            i += ml;
        } else {
            out[o++] = p[i++];
        }
    }
    out[o] = 0;
    *out_n = o;
    return out;
}

/* Whether some line of the head is "Sec-WebSocket-Accept:" with the value
 * accept (optional whitespace around it). */
static int head_has_accept(const char *head, size_t n, const char *accept)
{
    static const char name[] = "Sec-WebSocket-Accept:";
    const size_t nl = sizeof name - 1;
    for (size_t i = 0; i + nl <= n; i++) {
        if ((i == 0 || head[i - 1] == '\n') && strncasecmp(head + i, name, nl) == 0) {
            const char *v = head + i + nl;
            while (*v == ' ' || *v == '\t')
                v++;
            if (strncmp(v, accept, 28) == 0) {
                v += 28;
                while (*v == ' ' || *v == '\t')
                    v++;
                if (v[0] == '\r' && v[1] == '\n')
                    return 1;
            }
        }
    }
    return 0;
}

/* Connects, answers with the input (whole when rng is NULL, else split), and
 * lets the socket end. Returns the outcome in *o. */
static void run(const uint8_t *answer, size_t n, int offer_protos, int offer_pmd, uint32_t *rng,
                outcome *o)
{
    memset(o, 0, sizeof *o);
    uniws_loop *loop;
    FUZZ_CHECK(uniws_loop_new(&loop) == 0);
    uniws_options opt;
    memset(&opt, 0, sizeof opt);
    opt.backend = "loopback";
    opt.protocols = offer_protos ? protos : NULL;
    opt.num_protocols = offer_protos ? 2 : 0;
    opt.permessage_deflate = offer_pmd;
    opt.callbacks.on_open = on_open;
    opt.callbacks.on_message = on_message;
    opt.callbacks.on_error = on_error;
    opt.callbacks.on_close = on_close;
    opt.user_data = o;
    uniws_socket *s;
    FUZZ_CHECK(uniws_connect(loop, "ws://f/script/silent", &opt, &s) == 0);
    const uint8_t *pending;
    for (int i = 0; i < 100 && !(s->transport_up && uniws__stream_out_peek(s, &pending) == 0); i++)
        turns(loop, 1);
    FUZZ_CHECK(s->transport_up && uniws__stream_out_peek(s, &pending) == 0);

    /* The same key in both runs (the silent peer ignores the request), so
     * "{ACCEPT}" becomes the same bytes and the runs see the same answer. */
    snprintf(s->key, sizeof s->key, "%s", "dGhlIHNhbXBsZSBub25jZQ==");
    char accept[29];
    uniws__ws_accept(s->key, accept);
    size_t len;
    uint8_t *stream = substitute(answer, n, accept, &len);

    size_t at = 0;
    while (at < len && !o->closes) {
        size_t k = len - at;
        if (rng) {
            uint32_t x = fuzz_rand(rng);
            k = 1 + (x >> 8) % ((size_t)1 << (x >> 4) % 8);
            if (k > len - at)
                k = len - at;
        }
        int rc = uniws__stream_recv(s, stream + at, k);
        at += k;
        if (rc < 0) {
            FUZZ_CHECK(o->closes == 1);
            break;
        }
    }
    /* Opening means the head was whole: "HTTP/1.x 101", the right accept. */
    if (o->opens) {
        FUZZ_CHECK(len >= 12 && memcmp(stream, "HTTP/1.", 7) == 0);
        FUZZ_CHECK(memcmp(stream + 8, " 101", 4) == 0);
        const uint8_t *end = NULL;
        for (size_t i = 0; i + 4 <= len && !end; i++)
            if (memcmp(stream + i, "\r\n\r\n", 4) == 0)
                end = stream + i + 2;
        FUZZ_CHECK(end != NULL);
        FUZZ_CHECK(head_has_accept((const char *)stream, (size_t)(end - stream), accept));
        if (offer_protos)
            FUZZ_CHECK(!strcmp(o->protocol, protos[0]) || !strcmp(o->protocol, protos[1]));
        else
            FUZZ_CHECK(o->protocol[0] == 0);
        if (!offer_pmd)
            FUZZ_CHECK(o->extensions[0] == 0);
        else if (o->extensions[0])
            FUZZ_CHECK(strncmp(o->extensions, "permessage-deflate", 18) == 0);
    }
    free(stream);

    if (!o->closes)
        uniws__stream_fail(s, UNIWS_ERESET, NULL);
    turns(loop, 2);
    FUZZ_CHECK(o->closes == 1);
    if (o->errors) {
        FUZZ_CHECK(o->close_code == 1006 && !o->clean);
        FUZZ_CHECK(o->http_status == 0 || (o->http_status >= 100 && o->http_status <= 999));
    }
    uniws_free(s);
    turns(loop, 1);
    FUZZ_CHECK(uniws_loop_free(loop) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t flags = fuzz_u8(&in), seed = fuzz_u8(&in);
    int offer_protos = flags & 1, offer_pmd = (flags >> 1) & 1;
#ifndef UNIWS_HAVE_ZLIB
    offer_pmd = 0; /* the loopback backend cannot offer it without zlib */
#endif
    const uint8_t *answer;
    size_t n = fuzz_bytes(&in, in.n, &answer);
    uint32_t rng = 0x51ed27u ^ ((uint32_t)seed << 16 | flags);

    outcome whole, split;
    run(answer, n, offer_protos, offer_pmd, NULL, &whole);
    run(answer, n, offer_protos, offer_pmd, &rng, &split);
    /* The answer's bytes decide, not how they arrive. (The split run may see
     * a head that the whole one saw too; what follows it are frames, which
     * can only end a socket that opened in both.) */
    FUZZ_CHECK(whole.opens == split.opens);
    if (!whole.opens) {
        FUZZ_CHECK(whole.errors == split.errors);
        FUZZ_CHECK(whole.error == split.error);
        FUZZ_CHECK(whole.http_status == split.http_status);
    } else {
        FUZZ_CHECK(strcmp(whole.protocol, split.protocol) == 0);
        FUZZ_CHECK(strcmp(whole.extensions, split.extensions) == 0);
    }
    return 0;
}
