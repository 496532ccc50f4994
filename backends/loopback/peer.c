/*
 * peer.c — the scripted test peer: an I/O-free WebSocket server engine written
 * from RFC 6455. The URL path of each upgrade request picks what it does
 * (docs/peer.md); drivers feed it client bytes and carry out its actions.
 */
#include "backends/loopback/peer.h"

#include "core/frame.h"
#include "core/handshake.h"
#include "core/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/atomic.h"

/* Above UNIWS_MAX_REQUEST_HEADER_BYTES, so a request at uniws's limit gets through. */
#define PEER_MAX_HEAD (128 * 1024)
/* 128 MiB: a frame header alone makes the peer reserve its length. */
#define PEER_MAX_MESSAGE  ((size_t)128 << 20)
#define PEER_MAX_COUNT    (1u << 20) /* fragments, pings: keeps scripts from exhausting memory */
#define PEER_MAX_SLEEP_MS 600000u
#define PEER_MAX_HDRLINES 100000u             /* hdrlines: about 6 MB of answer head */
#define PEER_MAX_INFLATED ((uint64_t)1 << 30) /* deflate-zeros: 6.5 MB compressed */
/* Echoed messages are built with their header in front of the payload, so a
 * large one can be handed out without another copy. */
#define PEER_HEADROOM UNIWS__FRAME_MAX_HEADER
#define PEER_SWAP_MIN 65536u
/* Buffers grown past this are released once drained, so idle connections that
 * once echoed a huge message do not keep it. */
#define PEER_KEEP_CAP (1u << 20)
/* binstream: a message of any size made in pieces of this many bytes, each
 * only once the driver took the one before. */
#define PEER_STREAM_PIECE (256u * 1024u)
#define PEER_MAX_STREAM   ((uint64_t)1 << 40)
/* refuse:N:KEY — connections refused per key, and keys remembered (the
 * oldest is forgotten when a new one needs its slot). */
#define PEER_MAX_REFUSE    1000u
#define PEER_REFUSE_KEYS   256
#define PEER_REFUSE_KEYLEN 32

/* A byte buffer holding [off, off + len) of cap bytes. */
typedef struct peer_buf {
    uint8_t *p;
    size_t off, len, cap;
} peer_buf;

enum peer_cmd_kind {
    /* handshake commands: applied before the 101, skipped when the script runs */
    C_STATUS,
    C_BAD_ACCEPT,
    C_NO_UPGRADE,
    C_PROTO,
    C_NO_PROTO,
    C_EXT,
    C_SILENT,
    C_SAME_SEGMENT,
    C_HDRLINES,
    C_HUGEHEADER,
    C_SLOW_HEAD,
    /* after the handshake */
    C_TEXT,
    C_TEXTN,
    C_TEXTBAD,
    C_BIN,
    C_FRAG,
    C_FRAGBIN,
    C_FRAME,
    C_PING,
    C_PONG,
    C_PINGFLOOD,
    C_CLOSE,
    C_CLOSE_HEX,
    C_SLEEP,
    C_BYTEWISE,
    C_FIN,
    C_RST,
    C_HEADERS,
    C_HOLD,
    C_NO_CLOSE_REPLY,
    C_REPORT,
    C_MASKS,
    C_ECHO,
    C_NO_READ,
    C_READ,
    C_RAWBYTES,
    C_DEFLATE_ZEROS,
    /* flow control */
    C_REPORT_FRAMES,
    C_BINSTREAM,
    C_XHDR, /* lifecycle (issue 10) */
    C_DROP_AFTER,
    C_REFUSE,
    C_PONG_DELAY,
    C_REDIRECT,
    C_TLS_GARBLE, /* TLS broken mid-stream (wss only, uniws__peer_set_tls) */
    C_TLS_PLAIN,
    C_TLS_FIN,     /* TLS ended: close_notify, then FIN */
    C_TLS_TRUNCATE /* TLS cut short: FIN without close_notify */
};

/* How a command's text after the first ':' is read. */
enum peer_arg_kind {
    A_NONE,    /* no argument allowed */
    A_NUM,     /* N */
    A_STR,     /* percent-decoded text; may be missing (empty) */
    A_HEX,     /* raw bytes */
    A_NUM_STR, /* N:STR */
    A_NUM_NUM, /* N:M */
    A_CLOSE,   /* nothing, CODE or CODE:REASON */
    A_NUM_OPT  /* N or N:STR */
};

static const struct peer_cmd_def {
    const char *name;
    int kind;
    int args;
    uint64_t max; /* bound of the (first) number */
} peer_cmd_defs[] = {
    {"status", C_STATUS, A_NUM, 999},
    {"bad-accept", C_BAD_ACCEPT, A_NONE, 0},
    {"no-upgrade", C_NO_UPGRADE, A_NONE, 0},
    {"proto", C_PROTO, A_STR, 0},
    {"no-proto", C_NO_PROTO, A_NONE, 0},
    {"ext", C_EXT, A_STR, 0},
    {"silent", C_SILENT, A_NONE, 0},
    {"same-segment", C_SAME_SEGMENT, A_NONE, 0},
    {"hdrlines", C_HDRLINES, A_NUM, PEER_MAX_HDRLINES},
    {"hugeheader", C_HUGEHEADER, A_NUM, PEER_MAX_MESSAGE},
    {"slow-head", C_SLOW_HEAD, A_NUM, PEER_MAX_SLEEP_MS},
    {"text", C_TEXT, A_STR, 0},
    {"textn", C_TEXTN, A_NUM, PEER_MAX_MESSAGE},
    {"textbad", C_TEXTBAD, A_NUM_NUM, PEER_MAX_MESSAGE},
    {"bin", C_BIN, A_NUM, PEER_MAX_MESSAGE},
    {"frag", C_FRAG, A_NUM_STR, PEER_MAX_COUNT},
    {"fragbin", C_FRAGBIN, A_NUM_NUM, PEER_MAX_COUNT},
    {"frame", C_FRAME, A_HEX, 0},
    {"ping", C_PING, A_STR, 0},
    {"pong", C_PONG, A_STR, 0},
    {"pingflood", C_PINGFLOOD, A_NUM, PEER_MAX_COUNT},
    {"close", C_CLOSE, A_CLOSE, 65535},
    {"close-hex", C_CLOSE_HEX, A_HEX, 0},
    {"sleep", C_SLEEP, A_NUM, PEER_MAX_SLEEP_MS},
    {"bytewise", C_BYTEWISE, A_NONE, 0},
    {"fin", C_FIN, A_NONE, 0},
    {"rst", C_RST, A_NONE, 0},
    {"headers", C_HEADERS, A_NONE, 0},
    {"hold", C_HOLD, A_NONE, 0},
    {"no-close-reply", C_NO_CLOSE_REPLY, A_NONE, 0},
    {"report", C_REPORT, A_NONE, 0},
    {"masks", C_MASKS, A_NONE, 0},
    {"echo", C_ECHO, A_NONE, 0},
    {"no-read", C_NO_READ, A_NONE, 0},
    {"read", C_READ, A_NONE, 0},
    {"rawbytes", C_RAWBYTES, A_NUM, PEER_MAX_MESSAGE},
    {"deflate-zeros", C_DEFLATE_ZEROS, A_NUM, PEER_MAX_INFLATED},
    {"report-frames", C_REPORT_FRAMES, A_NONE, 0},
    {"binstream", C_BINSTREAM, A_NUM, PEER_MAX_STREAM},
    {"xhdr", C_XHDR, A_STR, 0},
    {"drop-after", C_DROP_AFTER, A_NUM_OPT, PEER_MAX_COUNT},
    {"refuse", C_REFUSE, A_NUM_STR, PEER_MAX_REFUSE},
    {"pong-delay", C_PONG_DELAY, A_NUM, PEER_MAX_SLEEP_MS},
    {"redirect", C_REDIRECT, A_NUM_STR, 399},
    {"tls-garble", C_TLS_GARBLE, A_NONE, 0},
    {"tls-plain", C_TLS_PLAIN, A_NONE, 0},
    {"tls-fin", C_TLS_FIN, A_NONE, 0},
    {"tls-truncate", C_TLS_TRUNCATE, A_NONE, 0},
};

typedef struct peer_cmd {
    int kind;
    uint64_t n, m;
    int has_n;
    uint8_t *data; /* NUL-terminated so proto/ext can be used as strings */
    size_t len;
} peer_cmd;

enum peer_state { S_HEAD, S_OPEN, S_SILENT, S_DONE };
enum peer_mode { M_ECHO, M_HOLD, M_NO_CLOSE_REPLY, M_REPORT, M_MASKS };
/* Besides the public action kinds: write what is queued before going on. */
#define PEER_FLUSH 100

struct uniws__peer {
    int state;
    int mode;
    peer_buf in, out, handed, msg;
    uint8_t ctl[125];

    char *path;    /* decoded request path (HTTP action) */
    char *headers; /* the header lines as received */
    size_t headers_len;

    peer_cmd *cmds;
    size_t ncmds, next_cmd;
    int same_segment;

    int bytewise;
    int no_read;      /* no-read: the driver must not read from the client */
    peer_buf slow;    /* slow-head: the answer head still to trickle out */
    unsigned slow_ms; /* ...one byte, then this long a sleep */
    int slow_sleep;
    int pending; /* action waiting for the queued output to be written */
    unsigned pending_ms;
    int terminal; /* FIN, RESET or TLS_TRUNCATE: the connection is over */
    int eof, oom;
    size_t head_scanned; /* bytes of the head already searched for its end */

    /* frame parser */
    int have_hdr;
    uniws__frame_hdr hdr;
    uint64_t pay_done;
    int msg_op; /* opcode of the message being received, 0 when none */
    size_t msg_len;
    uniws__utf8 utf8;
    int sent_close, got_close;
    uint64_t report_msgs, report_bytes;
    /* flow control */
    int report_frames; /* report-frames: the close reason counts frames too */
    uint64_t report_nframes;
    int64_t report_ping_at;           /* data frames seen before the first ping, -1: none */
    uint64_t stream_left, stream_off; /* binstream: payload still to make */
    /* lifecycle (issue 10) */
    uint64_t drop_after, drop_count; /* drop-after:N: data messages before dropping TCP */
    int drop_kind;                   /* ...with UNIWS__PEER_FIN or UNIWS__PEER_RESET */
    unsigned pong_delay_ms;          /* pong-delay:MS */
    int late_pong;                   /* a pong waits for the end of its delay */
    uint8_t late[125];
    size_t late_len;
    /* TLS broken mid-stream */
    int tls;         /* the driver runs TLS: tls-* commands are allowed */
    uint8_t brk[16]; /* the frame a TLS action carries (tls-garble, tls-plain) */
    size_t brk_len;
};

/* ---- small helpers ------------------------------------------------------- */

/* Makes the buffer hold at least total bytes in all. */
static int buf_grow(uniws__peer *p, peer_buf *b, size_t total)
{
    if (total <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < total)
        cap = cap > SIZE_MAX / 2 ? total : cap * 2;
    uint8_t *n = uniws__realloc(b->p, cap);
    if (!n) {
        p->oom = 1;
        return -1;
    }
    b->p = n;
    b->cap = cap;
    return 0;
}

/* Makes room for extra more bytes after the data. */
static int buf_reserve(uniws__peer *p, peer_buf *b, size_t extra)
{
    if (b->cap - b->off - b->len >= extra)
        return 0;
    if (b->off > 0 && b->cap - b->len >= extra) {
        memmove(b->p, b->p + b->off, b->len);
        b->off = 0;
        return 0;
    }
    if (extra > SIZE_MAX - b->off - b->len) {
        p->oom = 1;
        return -1;
    }
    return buf_grow(p, b, b->off + b->len + extra);
}

static int buf_append(uniws__peer *p, peer_buf *b, const void *data, size_t n)
{
    if (buf_reserve(p, b, n) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->off + b->len, data, n);
    b->len += n;
    return 0;
}

static void buf_recycle(peer_buf *b)
{
    b->off = b->len = 0;
    if (b->cap > PEER_KEEP_CAP) {
        uniws__free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

static void buf_swap(peer_buf *a, peer_buf *b)
{
    peer_buf t = *a;
    *a = *b;
    *b = t;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new NUL-terminated string; a '%' not
 * followed by two hex digits stays as it is. */
static uint8_t *pct_decode(const char *s, size_t n, size_t *out_len)
{
    uint8_t *d = uniws__malloc(n + 1);
    size_t j = 0;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            d[j++] = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            d[j++] = (uint8_t)s[i];
        }
    }
    d[j] = 0;
    if (out_len)
        *out_len = j;
    return d;
}

static uint8_t *hex_decode(const char *s, size_t n, size_t *out_len)
{
    if (n % 2)
        return NULL;
    uint8_t *d = uniws__malloc(n / 2 + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            uniws__free(d);
            return NULL;
        }
        d[i / 2] = (uint8_t)(hi * 16 + lo);
    }
    d[n / 2] = 0;
    *out_len = n / 2;
    return d;
}

/* Strict decimal: digits only, no sign, at most max. */
static int parse_num(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_ows(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_ows((*s)[*n - 1]))
        (*n)--;
}

/* 1 when the comma-separated list v[0..n) holds token (case-insensitive). */
static int has_token(const char *v, size_t n, const char *token)
{
    while (n) {
        const char *comma = memchr(v, ',', n);
        size_t len = comma ? (size_t)(comma - v) : n;
        const char *t = v;
        size_t tn = len;
        trim(&t, &tn);
        if (ieq(t, tn, token))
            return 1;
        if (!comma)
            break;
        v += len + 1;
        n -= len + 1;
    }
    return 0;
}

static int is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Sec-WebSocket-Key must be the base64 of exactly 16 bytes. */
static int valid_key(const char *k, size_t n)
{
    if (n != 24 || k[22] != '=' || k[23] != '=')
        return 0;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(k[i]))
            return 0;
    return 1;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

int uniws__peer_http_head(char *buf, size_t size, int status, const char *content_type,
                          size_t content_length)
{
    int n;
    if (content_type)
        n = snprintf(buf, size,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason_phrase(status), content_type, content_length);
    else
        n = snprintf(buf, size,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                     reason_phrase(status), content_length);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return n;
}

/* ---- output -------------------------------------------------------------- */

/* Queues a server frame header and returns where its len payload bytes go
 * (NULL when out of memory). */
static uint8_t *out_frame_space(uniws__peer *p, int fin, int opcode, uint64_t len)
{
    uint8_t h[UNIWS__FRAME_MAX_HEADER];
    size_t hn = uniws__frame_header(h, fin, 0, opcode, len, NULL);
    if (len > SIZE_MAX - hn || buf_reserve(p, &p->out, hn + (size_t)len) < 0) {
        p->oom = 1;
        return NULL;
    }
    uint8_t *d = p->out.p + p->out.off + p->out.len;
    memcpy(d, h, hn);
    p->out.len += hn + (size_t)len;
    return d + hn;
}

static void out_frame(uniws__peer *p, int fin, int opcode, const void *payload, size_t len)
{
    uint8_t *d = out_frame_space(p, fin, opcode, len);
    if (d && len)
        memcpy(d, payload, len);
}

static void out_close(uniws__peer *p, int code, const char *reason, size_t reason_len)
{
    uint8_t pl[125];
    if (reason_len > sizeof pl - 2)
        reason_len = sizeof pl - 2;
    pl[0] = (uint8_t)(code >> 8);
    pl[1] = (uint8_t)code;
    if (reason_len)
        memcpy(pl + 2, reason, reason_len);
    out_frame(p, 1, UNIWS__OP_CLOSE, pl, 2 + reason_len);
    p->sent_close = 1;
}

static void http_response(uniws__peer *p, int status, const char *extra, const char *body)
{
    char head[512];
    size_t bl = strlen(body);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                     status, reason_phrase(status), bl, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof head)
        n = 0;
    buf_append(p, &p->out, head, (size_t)n);
    buf_append(p, &p->out, body, bl);
    p->state = S_DONE;
    p->pending = UNIWS__PEER_FIN;
}

/* The name of a command only a TLS driver can carry out, or NULL. */
static const char *tls_cmd_name(int kind)
{
    switch (kind) {
    case C_TLS_GARBLE:
        return "tls-garble";
    case C_TLS_PLAIN:
        return "tls-plain";
    case C_TLS_FIN:
        return "tls-fin";
    case C_TLS_TRUNCATE:
        return "tls-truncate";
    default:
        return NULL;
    }
}

static void bad_request(uniws__peer *p, const char *why, const char *detail, size_t detail_len)
{
    char body[256];
    if (detail_len > 100)
        detail_len = 100;
    snprintf(body, sizeof body, "bad request: %s%.*s\n", why, (int)detail_len,
             detail ? detail : "");
    http_response(p, 400, NULL, body);
}

static void fill_text(uint8_t *d, uint64_t n, uint64_t start)
{
    for (uint64_t i = 0; i < n; i++)
        d[i] = (uint8_t)('a' + (start + i) % 26);
}

static void fill_bin(uint8_t *d, uint64_t n, uint64_t start)
{
    for (uint64_t i = 0; i < n; i++)
        d[i] = (uint8_t)(start + i);
}

/* Bits of a raw DEFLATE stream, least significant first (RFC 1951 3.1.1). */
typedef struct bitw {
    uint8_t *p;
    size_t n;
    unsigned acc, nacc;
} bitw;

/* A Huffman code of len bits, most significant bit first. */
static void bits_code(bitw *w, unsigned code, unsigned len)
{
    while (len--) {
        w->acc |= ((code >> len) & 1u) << w->nacc;
        if (++w->nacc == 8) {
            w->p[w->n++] = (uint8_t)w->acc;
            w->acc = w->nacc = 0;
        }
    }
}

/* deflate-zeros:N — a binary message with RSV1 set whose permessage-deflate
 * payload inflates to N zero bytes (N rounded up to 1 + a multiple of 258):
 * one fixed-Huffman block of the literal 0 and then matches of length 258 at
 * distance 1 (13 bits each, 1:159), closed like a sync flush without its
 * trailing 00 00 ff ff (RFC 7692 7.2.1). A decompression bomb, in the
 * smallest code that makes one. */
static void out_deflate_zeros(uniws__peer *p, uint64_t n)
{
    uint64_t matches = n > 1 ? (n - 1 + 257) / 258 : 0;
    size_t bytes = (size_t)((3 + 8 + matches * 13 + 7 + 3 + 7) / 8);
    uint8_t h[UNIWS__FRAME_MAX_HEADER];
    size_t hn = uniws__frame_header(h, 1, 4, UNIWS__OP_BINARY, bytes, NULL);
    if (buf_reserve(p, &p->out, hn + bytes) < 0)
        return;
    uint8_t *d = p->out.p + p->out.off + p->out.len;
    memcpy(d, h, hn);
    bitw w = {d + hn, 0, 0, 0};
    memset(w.p, 0, bytes);
    bits_code(&w, 0, 1); /* BFINAL 0 */
    bits_code(&w, 1, 1); /* BTYPE 01 (fixed Huffman), least significant bit first */
    bits_code(&w, 0, 1);
    bits_code(&w, 0x30, 8); /* literal 0 */
    for (uint64_t i = 0; i < matches; i++) {
        bits_code(&w, 0xc5, 8); /* length 258 (code 285) */
        bits_code(&w, 0, 5);    /* distance 1 (code 0) */
    }
    bits_code(&w, 0, 7); /* end of block */
    bits_code(&w, 0, 3); /* an empty stored block's header: BFINAL 0, BTYPE 00 */
    if (w.nacc)
        w.p[w.n++] = (uint8_t)w.acc;
    p->out.len += hn + w.n;
}

/* ---- the script ---------------------------------------------------------- */

static void free_cmds(uniws__peer *p)
{
    for (size_t i = 0; i < p->ncmds; i++)
        uniws__free(p->cmds[i].data);
    uniws__free(p->cmds);
    p->cmds = NULL;
    p->ncmds = 0;
}

/* Reads one command s[0..n) by its argument kind. Returns 0, -1 on a bad
 * command, -2 on OOM. */
static int parse_args(const char *s, size_t n, peer_cmd *c)
{
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    const char *arg = colon ? colon + 1 : NULL;
    size_t arg_len = colon ? n - name_len - 1 : 0;
    const struct peer_cmd_def *def = NULL;

    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof peer_cmd_defs / sizeof peer_cmd_defs[0]; i++) {
        if (strlen(peer_cmd_defs[i].name) == name_len &&
            memcmp(peer_cmd_defs[i].name, s, name_len) == 0) {
            def = &peer_cmd_defs[i];
            break;
        }
    }
    if (!def)
        return -1;
    c->kind = def->kind;
    switch (def->args) {
    case A_NONE:
        return arg ? -1 : 0;
    case A_NUM:
        c->has_n = 1;
        if (!arg || parse_num(arg, arg_len, def->max, &c->n) < 0)
            return -1;
        return c->kind == C_STATUS && c->n < 100 ? -1 : 0;
    case A_NUM_OPT: {
        if (!arg)
            return -1;
        const char *c2 = memchr(arg, ':', arg_len);
        size_t first = c2 ? (size_t)(c2 - arg) : arg_len;
        c->has_n = 1;
        if (parse_num(arg, first, def->max, &c->n) < 0)
            return -1;
        if (!c2)
            return 0;
        c->data = pct_decode(c2 + 1, arg_len - first - 1, &c->len);
        return c->data ? 0 : -2;
    }
    case A_STR:
        c->data = pct_decode(arg ? arg : "", arg_len, &c->len);
        return c->data ? 0 : -2;
    case A_HEX:
        if (!arg)
            return -1;
        c->data = hex_decode(arg, arg_len, &c->len);
        return c->data ? 0 : -1;
    case A_NUM_STR:
    case A_NUM_NUM:
    case A_CLOSE: {
        if (!arg)
            return def->args == A_CLOSE ? 0 : -1;
        const char *c2 = memchr(arg, ':', arg_len);
        size_t first = c2 ? (size_t)(c2 - arg) : arg_len;
        c->has_n = 1;
        if (parse_num(arg, first, def->max, &c->n) < 0)
            return -1;
        if (def->args != A_CLOSE && c->n == 0)
            return -1; /* N fragments: at least one */
        if (!c2)
            return def->args == A_CLOSE ? 0 : -1;
        if (def->args == A_NUM_NUM)
            return parse_num(c2 + 1, arg_len - first - 1, PEER_MAX_MESSAGE, &c->m);
        c->data = pct_decode(c2 + 1, arg_len - first - 1, &c->len);
        return c->data ? 0 : -2;
    }
    }
    return -1;
}

static int key_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}

/* Parses one command s[0..n) and checks what its argument kind cannot.
 * Returns 0, -1 on a bad command, -2 on OOM. */
static int parse_cmd(const char *s, size_t n, peer_cmd *c)
{
    int r = parse_args(s, n, c);
    if (r < 0)
        return r;
    switch (c->kind) {
    case C_DROP_AFTER: /* N >= 1, then nothing, "fin" or "rst" */
        if (c->n == 0)
            return -1;
        c->m = UNIWS__PEER_FIN;
        if (c->len == 3 && memcmp(c->data, "rst", 3) == 0)
            c->m = UNIWS__PEER_RESET;
        else if (c->data && !(c->len == 3 && memcmp(c->data, "fin", 3) == 0))
            return -1;
        return 0;
    case C_REFUSE: { /* N:KEY or N:KEY:STATUS (300..599, default 503) */
        const uint8_t *colon = memchr(c->data, ':', c->len);
        size_t kl = colon ? (size_t)(colon - c->data) : c->len;
        if (kl == 0 || kl > PEER_REFUSE_KEYLEN)
            return -1;
        for (size_t i = 0; i < kl; i++)
            if (!key_char(c->data[i]))
                return -1;
        c->m = 503;
        if (colon &&
            (parse_num((const char *)colon + 1, c->len - kl - 1, 599, &c->m) < 0 || c->m < 300))
            return -1;
        c->len = kl;
        c->data[kl] = 0;
        return 0;
    }
    case C_REDIRECT: /* CODE:TARGET, a 3xx and a Location without CR or LF */
        if (c->n < 300 || c->len == 0 || c->len > 1024 || memchr(c->data, '\r', c->len) ||
            memchr(c->data, '\n', c->len))
            return -1;
        return 0;
    default:
        return 0;
    }
}

/* ---- refuse:N:KEY: a count that outlives connections -------------------- */

/* Shared by every peer of the process (loopback sockets on any loop, the
 * network server's thread), hence the lock; bounded: a full table forgets
 * its oldest key. */
static struct {
    char key[PEER_REFUSE_KEYLEN + 1];
    uint64_t refused;
    uint64_t born;
} refuse_table[PEER_REFUSE_KEYS];
static uint64_t refuse_clock;
static char refuse_lock;

/* 1 when this connection is to be refused: key has been refused fewer than
 * n times so far (and this one counts). */
static int refuse_take(const char *key, uint64_t n)
{
    uniws__spin_lock(&refuse_lock);
    size_t slot = PEER_REFUSE_KEYS, oldest = 0;
    for (size_t i = 0; i < PEER_REFUSE_KEYS; i++) {
        if (refuse_table[i].key[0] && strcmp(refuse_table[i].key, key) == 0) {
            slot = i;
            break;
        }
        if (!refuse_table[i].key[0] ||
            (refuse_table[oldest].key[0] && refuse_table[i].born < refuse_table[oldest].born))
            oldest = i;
    }
    if (slot == PEER_REFUSE_KEYS) {
        slot = oldest;
        snprintf(refuse_table[slot].key, sizeof refuse_table[slot].key, "%s", key);
        refuse_table[slot].refused = 0;
        refuse_table[slot].born = ++refuse_clock;
    }
    int take = refuse_table[slot].refused < n;
    if (take)
        refuse_table[slot].refused++;
    uniws__spin_unlock(&refuse_lock);
    return take;
}

/* Splits "/CMD/CMD/..." (raw, still percent-encoded) into commands. On a bad
 * command returns -1 and points *bad at it. */
static int parse_script(uniws__peer *p, const char *s, size_t n, const char **bad, size_t *bad_len)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '/';
    p->cmds = uniws__calloc(count + 1, sizeof *p->cmds);
    if (!p->cmds) {
        p->oom = 1;
        return -2;
    }
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == '/')
            i++;
        size_t start = i;
        while (i < n && s[i] != '/')
            i++;
        if (i == start)
            break;
        int r = parse_cmd(s + start, i - start, &p->cmds[p->ncmds]);
        if (r < 0) {
            uniws__free(p->cmds[p->ncmds].data);
            if (r == -2)
                p->oom = 1;
            *bad = s + start;
            *bad_len = i - start;
            return r;
        }
        p->ncmds++;
    }
    return 0;
}

/* Runs the command at next_cmd; leaves next_cmd in place when it must wait for
 * the queued output to be written first. */
static void run_cmd(uniws__peer *p)
{
    peer_cmd *c = &p->cmds[p->next_cmd];
    switch (c->kind) {
    case C_TEXT:
        out_frame(p, 1, UNIWS__OP_TEXT, c->data, c->len);
        break;
    case C_TEXTN:
    case C_BIN: {
        uint8_t *d =
            out_frame_space(p, 1, c->kind == C_TEXTN ? UNIWS__OP_TEXT : UNIWS__OP_BINARY, c->n);
        if (d && c->kind == C_TEXTN)
            fill_text(d, c->n, 0);
        else if (d)
            fill_bin(d, c->n, 0);
        break;
    }
    case C_TEXTBAD: {
        /* Text that turns invalid at byte m: late in a big frame, where a
         * client may be reading straight into its message buffer. */
        uint8_t *d = out_frame_space(p, 1, UNIWS__OP_TEXT, c->n);
        if (d) {
            fill_text(d, c->n, 0);
            if (c->m < c->n)
                d[c->m] = 0xff;
        }
        break;
    }
    case C_FRAG:
    case C_FRAGBIN: {
        uint64_t total = c->kind == C_FRAG ? c->len : c->m;
        for (uint64_t k = 0; k < c->n && !p->oom; k++) {
            uint64_t a = total * k / c->n, b = total * (k + 1) / c->n;
            int op =
                k == 0 ? (c->kind == C_FRAG ? UNIWS__OP_TEXT : UNIWS__OP_BINARY) : UNIWS__OP_CONT;
            int fin = k + 1 == c->n;
            if (c->kind == C_FRAG) {
                out_frame(p, fin, op, c->data + a, (size_t)(b - a));
            } else {
                uint8_t *d = out_frame_space(p, fin, op, b - a);
                if (d)
                    fill_bin(d, b - a, a);
            }
        }
        break;
    }
    case C_FRAME:
        buf_append(p, &p->out, c->data, c->len);
        /* A raw close still starts the closing handshake for the echo logic. */
        if (c->len && (c->data[0] & 0x0f) == UNIWS__OP_CLOSE)
            p->sent_close = 1;
        break;
    case C_PING:
    case C_PONG:
        out_frame(p, 1, c->kind == C_PING ? UNIWS__OP_PING : UNIWS__OP_PONG, c->data, c->len);
        break;
    case C_PINGFLOOD:
        for (uint64_t i = 0; i < c->n && !p->oom; i++) {
            char num[24];
            int len = snprintf(num, sizeof num, "%llu", (unsigned long long)i);
            out_frame(p, 1, UNIWS__OP_PING, num, (size_t)len);
        }
        break;
    case C_CLOSE:
        if (c->has_n)
            out_close(p, (int)c->n, (const char *)c->data, c->len);
        else
            out_frame(p, 1, UNIWS__OP_CLOSE, NULL, 0);
        p->sent_close = 1;
        break;
    case C_CLOSE_HEX:
        out_frame(p, 1, UNIWS__OP_CLOSE, c->data, c->len);
        p->sent_close = 1;
        break;
    case C_SLEEP:
        p->pending = UNIWS__PEER_SLEEP;
        p->pending_ms = (unsigned)c->n;
        break;
    case C_BYTEWISE:
        if (p->out.len) {
            p->pending = PEER_FLUSH; /* what is queued was meant to go out whole */
            return;
        }
        p->bytewise = 1;
        break;
    case C_FIN:
    case C_TLS_FIN: /* the same action: the TLS driver sends close_notify first */
        p->pending = UNIWS__PEER_FIN;
        p->state = S_DONE;
        break;
    case C_RST:
        p->pending = UNIWS__PEER_RESET;
        p->state = S_DONE;
        break;
    case C_TLS_TRUNCATE:
        p->pending = UNIWS__PEER_TLS_TRUNCATE;
        p->state = S_DONE;
        break;
    case C_HEADERS:
        out_frame(p, 1, UNIWS__OP_TEXT, p->headers, p->headers_len);
        break;
    case C_HOLD:
        p->mode = M_HOLD;
        break;
    case C_NO_CLOSE_REPLY:
        p->mode = M_NO_CLOSE_REPLY;
        break;
    case C_REPORT:
        p->mode = M_REPORT;
        break;
    case C_MASKS:
        p->mode = M_MASKS;
        break;
    case C_ECHO:
        p->mode = M_ECHO;
        break;
    case C_NO_READ:
    case C_READ:
        p->no_read = c->kind == C_NO_READ;
        break;
    case C_RAWBYTES:
        if (buf_reserve(p, &p->out, (size_t)c->n) == 0) {
            fill_bin(p->out.p + p->out.off + p->out.len, c->n, 0);
            p->out.len += (size_t)c->n;
        }
        break;
    case C_DEFLATE_ZEROS:
        out_deflate_zeros(p, c->n);
        break;
    case C_REPORT_FRAMES:
        p->mode = M_REPORT;
        p->report_frames = 1;
        break;
    case C_BINSTREAM: {
        /* The header now, the payload piece by piece (stream_piece()). */
        uint8_t h[UNIWS__FRAME_MAX_HEADER];
        size_t hn = uniws__frame_header(h, 1, 0, UNIWS__OP_BINARY, c->n, NULL);
        buf_append(p, &p->out, h, hn);
        p->stream_left = c->n;
        p->stream_off = 0;
        break;
    }
    case C_DROP_AFTER:
        p->drop_after = c->n;
        p->drop_count = 0;
        p->drop_kind = (int)c->m;
        break;
    case C_PONG_DELAY:
        p->pong_delay_ms = (unsigned)c->n;
        break;
    case C_TLS_GARBLE:
    case C_TLS_PLAIN: {
        /* A text frame the driver sends under TLS's feet: encrypted and then
         * corrupted, or not encrypted at all. A client that delivered
         * whatever it decoded would show "garbled" or "plain". */
        const char *word = c->kind == C_TLS_GARBLE ? "garbled" : "plain";
        size_t wl = strlen(word);
        p->brk_len = uniws__frame_header(p->brk, 1, 0, UNIWS__OP_TEXT, wl, NULL);
        memcpy(p->brk + p->brk_len, word, wl);
        p->brk_len += wl;
        p->pending = c->kind == C_TLS_GARBLE ? UNIWS__PEER_TLS_GARBLE : UNIWS__PEER_TLS_PLAIN;
        break;
    }
    default: /* handshake commands were applied before the 101 */
        break;
    }
    p->next_cmd++;
}

/* ---- the opening handshake ----------------------------------------------- */

typedef struct peer_req {
    const char *upgrade, *connection, *key, *version, *proto;
    size_t upgrade_len, connection_len, key_len, version_len, proto_len;
} peer_req;

/* xhdr:LINE commands: extra header lines of the answer, appended to p->out
 * or (dst) written into a buffer of that size; returns the bytes written. */
static size_t append_xhdrs(uniws__peer *p, char *dst, size_t size)
{
    size_t w = 0;
    for (size_t i = 0; i < p->ncmds; i++) {
        const peer_cmd *c = &p->cmds[i];
        if (c->kind != C_XHDR || memchr(c->data, '\r', c->len) || memchr(c->data, '\n', c->len))
            continue;
        if (!dst) {
            buf_append(p, &p->out, c->data, c->len);
            buf_append(p, &p->out, "\r\n", 2);
        } else if (w + c->len + 3 <= size) {
            memcpy(dst + w, c->data, c->len);
            memcpy(dst + w + c->len, "\r\n", 3);
            w += c->len + 2;
        }
    }
    return w;
}

static void write_101(uniws__peer *p, const peer_req *r)
{
    int bad_accept = 0, no_upgrade = 0, no_proto = 0;
    const peer_cmd *proto = NULL, *ext = NULL;
    for (size_t i = 0; i < p->ncmds; i++) {
        const peer_cmd *c = &p->cmds[i];
        if (c->kind == C_BAD_ACCEPT)
            bad_accept = 1;
        else if (c->kind == C_NO_UPGRADE)
            no_upgrade = 1;
        else if (c->kind == C_NO_PROTO) {
            no_proto = 1;
            proto = NULL;
        } else if (c->kind == C_PROTO) {
            proto = c;
            no_proto = 0;
        } else if (c->kind == C_EXT)
            ext = c;
    }

    char key[32], accept[29];
    memcpy(key, r->key, r->key_len);
    key[r->key_len] = 0;
    uniws__ws_accept(key, accept);
    if (bad_accept)
        accept[0] = accept[0] == 'A' ? 'B' : 'A'; /* still base64, certainly wrong */

    static const char status[] = "HTTP/1.1 101 Switching Protocols\r\n";
    buf_append(p, &p->out, status, sizeof status - 1);
    if (!no_upgrade)
        buf_append(p, &p->out, "Upgrade: websocket\r\n", 20);
    buf_append(p, &p->out, "Connection: Upgrade\r\nSec-WebSocket-Accept: ", 43);
    buf_append(p, &p->out, accept, strlen(accept));
    buf_append(p, &p->out, "\r\n", 2);
    if (proto) {
        buf_append(p, &p->out, "Sec-WebSocket-Protocol: ", 24);
        buf_append(p, &p->out, proto->data, proto->len);
        buf_append(p, &p->out, "\r\n", 2);
    } else if (!no_proto && r->proto_len) {
        /* the first protocol the client offered */
        const char *comma = memchr(r->proto, ',', r->proto_len);
        const char *t = r->proto;
        size_t tn = comma ? (size_t)(comma - r->proto) : r->proto_len;
        trim(&t, &tn);
        buf_append(p, &p->out, "Sec-WebSocket-Protocol: ", 24);
        buf_append(p, &p->out, t, tn);
        buf_append(p, &p->out, "\r\n", 2);
    }
    if (ext) {
        buf_append(p, &p->out, "Sec-WebSocket-Extensions: ", 26);
        buf_append(p, &p->out, ext->data, ext->len);
        buf_append(p, &p->out, "\r\n", 2);
    }
    for (size_t i = 0; i < p->ncmds; i++) {
        const peer_cmd *c = &p->cmds[i];
        if (c->kind == C_HDRLINES) {
            for (uint64_t k = 0; k < c->n && !p->oom; k++) {
                char line[80];
                int len = snprintf(line, sizeof line,
                                   "X-Filler-%07llu: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
                                   (unsigned long long)k);
                buf_append(p, &p->out, line, (size_t)len);
            }
        } else if (c->kind == C_HUGEHEADER && buf_reserve(p, &p->out, (size_t)c->n + 12) == 0) {
            uint8_t *d = p->out.p + p->out.off + p->out.len;
            memcpy(d, "X-Huge: ", 8);
            memset(d + 8, 'a', (size_t)c->n);
            memcpy(d + 8 + c->n, "\r\n", 2);
            p->out.len += (size_t)c->n + 10;
        } else if (c->kind == C_SLOW_HEAD) {
            p->slow_ms = (unsigned)c->n;
            p->slow_sleep = 0;
        }
    }
    append_xhdrs(p, NULL, 0);
    buf_append(p, &p->out, "\r\n", 2);
    if (p->slow_ms) /* slow-head: the head trickles out from peer_next() */
        buf_swap(&p->out, &p->slow);
}

/* After a complete upgrade request: route, parse the script, answer. */
static void start_websocket(uniws__peer *p, const char *path, size_t path_len, const peer_req *r)
{
    if (!r->upgrade || !has_token(r->upgrade, r->upgrade_len, "websocket")) {
        bad_request(p, "Upgrade is not websocket", NULL, 0);
        return;
    }
    if (!r->connection || !has_token(r->connection, r->connection_len, "upgrade")) {
        bad_request(p, "Connection does not list upgrade", NULL, 0);
        return;
    }
    if (!r->version || !ieq(r->version, r->version_len, "13")) {
        bad_request(p, "Sec-WebSocket-Version is not 13", NULL, 0);
        return;
    }
    if (!r->key || !valid_key(r->key, r->key_len)) {
        bad_request(p, "bad Sec-WebSocket-Key", NULL, 0);
        return;
    }

    if (ieq(path, path_len, "/") || (path_len == 5 && memcmp(path, "/echo", 5) == 0)) {
        /* plain echo */
    } else if (path_len >= 7 && memcmp(path, "/script", 7) == 0 &&
               (path_len == 7 || path[7] == '/')) {
        const char *bad = NULL;
        size_t bad_len = 0;
        int rc = parse_script(p, path + 7, path_len - 7, &bad, &bad_len);
        if (rc == -2)
            return;
        if (rc < 0) {
            bad_request(p, "bad script command: ", bad, bad_len);
            return;
        }
        for (size_t i = 0; i < p->ncmds && !p->tls; i++) {
            const char *name = tls_cmd_name(p->cmds[i].kind);
            if (name) {
                /* Nothing here to break: refused, so that a test meant for
                 * wss:// cannot pass on ws:// or the loopback backend. */
                bad_request(p, "needs a TLS connection (wss://): ", name, strlen(name));
                return;
            }
        }
    } else {
        {
            http_response(p, 404, NULL, "no such WebSocket path (use /echo or /script/...)\n");
            return;
        }
    }

    int status = 101, silent = 0;
    const peer_cmd *redirect = NULL;
    for (size_t i = 0; i < p->ncmds; i++) {
        if (p->cmds[i].kind == C_STATUS)
            status = (int)p->cmds[i].n;
        else if (p->cmds[i].kind == C_REDIRECT) {
            status = (int)p->cmds[i].n;
            redirect = &p->cmds[i];
        } else if (p->cmds[i].kind == C_REFUSE && status == 101 &&
                   refuse_take((const char *)p->cmds[i].data, p->cmds[i].n))
            status = (int)p->cmds[i].m;
        else if (p->cmds[i].kind == C_SILENT)
            silent = 1;
        else if (p->cmds[i].kind == C_SAME_SEGMENT)
            p->same_segment = 1;
    }
    if (silent) {
        p->state = S_SILENT;
        return;
    }
    if (status != 101) {
        char body[64];
        int no_body = status < 200 || status == 204 || status == 304;
        snprintf(body, sizeof body, "%d %s\n", status, reason_phrase(status));
        {
            char extra[1280];
            size_t n = 0;
            if (redirect && redirect->len < sizeof extra - 16)
                n = (size_t)snprintf(extra, sizeof extra, "Location: %s\r\n",
                                     (const char *)redirect->data);
            else if (status >= 300 && status < 400)
                n = (size_t)snprintf(extra, sizeof extra, "Location: /echo\r\n");
            n += append_xhdrs(p, extra + n, sizeof extra - n);
            extra[n] = 0;
            http_response(p, status, n ? extra : NULL, no_body ? "" : body);
            return;
        }
    }
    write_101(p, r);
    p->state = S_OPEN;
    if (!p->same_segment)
        p->pending = PEER_FLUSH; /* the 101 goes out in its own write */
}

/* Parses the request head once it is complete. */
static void parse_head(uniws__peer *p)
{
    /* Nothing received yet leaves in.p NULL: no arithmetic on it (UB). */
    const char *h = p->in.p ? (const char *)p->in.p + p->in.off : "";
    size_t avail = p->in.len, end = 0, i = p->head_scanned;
    for (; i + 3 < avail && i < PEER_MAX_HEAD; i++) {
        if (h[i] == '\r' && h[i + 1] == '\n' && h[i + 2] == '\r' && h[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    }
    p->head_scanned = i;
    if (!end) {
        if (avail >= PEER_MAX_HEAD) {
            bad_request(p, "request head larger than 128 KiB", NULL, 0);
            return;
        }
        if (p->eof) {
            p->state = S_DONE;
            p->pending = UNIWS__PEER_FIN;
        }
        return;
    }

    /* request line: METHOD SP TARGET SP VERSION */
    const char *line_end = memchr(h, '\r', end);
    /* A bare CR is not a line end: without this the header block below
     * would start past its own end. */
    if (line_end[1] != '\n') {
        bad_request(p, "bare CR in the request line", NULL, 0);
        return;
    }
    size_t ll = (size_t)(line_end - h);
    const char *sp1 = memchr(h, ' ', ll);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - h)) : NULL;
    if (!sp1 || !sp2 || sp1 == h) {
        bad_request(p, "malformed request line", NULL, 0);
        return;
    }
    const char *target = sp1 + 1;
    size_t target_len = (size_t)(sp2 - target);
    const char *version = sp2 + 1;
    size_t version_len = ll - (size_t)(version - h);
    if (version_len != 8 || memcmp(version, "HTTP/1.", 7) != 0) {
        bad_request(p, "not HTTP/1.x", NULL, 0);
        return;
    }
    if ((size_t)(sp1 - h) != 3 || memcmp(h, "GET", 3) != 0) {
        bad_request(p, "only GET is served", NULL, 0);
        return;
    }
    if (target_len == 0 || target[0] != '/') {
        bad_request(p, "request target must be a path", NULL, 0);
        return;
    }
    const char *q = memchr(target, '?', target_len);
    size_t path_len = q ? (size_t)(q - target) : target_len;

    /* header lines: from after the request line up to the final CRLFCRLF */
    peer_req r;
    memset(&r, 0, sizeof r);
    const char *lines = line_end + 2;
    const char *stop = h + end - 2; /* each line, the last included, ends with CRLF */
    size_t block = stop > lines ? (size_t)(stop - lines) - 2 : 0;
    uniws__free(p->headers);
    p->headers = uniws__malloc(block + 1);
    if (!p->headers) {
        p->oom = 1;
        return;
    }
    memcpy(p->headers, lines, block);
    p->headers[block] = 0;
    p->headers_len = block;

    int upgrade_present = 0;
    for (const char *s = lines; s < stop;) {
        const char *e = s;
        while (!(e[0] == '\r' && e[1] == '\n'))
            e++;
        const char *colon = memchr(s, ':', (size_t)(e - s));
        if (!colon || colon == s) {
            bad_request(p, "malformed header line", NULL, 0);
            return;
        }
        size_t nl = (size_t)(colon - s);
        const char *v = colon + 1;
        size_t vl = (size_t)(e - v);
        trim(&v, &vl);
        if (ieq(s, nl, "upgrade")) {
            upgrade_present = 1;
            r.upgrade = v;
            r.upgrade_len = vl;
        } else if (ieq(s, nl, "connection")) {
            r.connection = v;
            r.connection_len = vl;
        } else if (ieq(s, nl, "sec-websocket-key")) {
            r.key = v;
            r.key_len = vl;
        } else if (ieq(s, nl, "sec-websocket-version")) {
            r.version = v;
            r.version_len = vl;
        } else if (ieq(s, nl, "sec-websocket-protocol") && !r.proto_len) {
            r.proto = v;
            r.proto_len = vl;
        }
        s = e + 2;
    }

    /* The head is consumed before answering (what follows are frames); the
     * pointers into it stay valid because nothing is appended to `in` here. */
    p->in.off += end;
    p->in.len -= end;

    if (!upgrade_present) {
        p->path = (char *)pct_decode(target, path_len, NULL);
        if (!p->path) {
            p->oom = 1;
            return;
        }
        p->state = S_DONE;
        p->pending = UNIWS__PEER_HTTP;
        return;
    }
    start_websocket(p, target, path_len, &r);
}

/* ---- client frames ------------------------------------------------------- */

static void fail(uniws__peer *p, int code, const char *why)
{
    if (!p->sent_close)
        out_close(p, code, why, strlen(why));
    p->state = S_DONE;
    p->pending = UNIWS__PEER_FIN;
}

static void echo_message(uniws__peer *p)
{
    uint8_t h[UNIWS__FRAME_MAX_HEADER];
    size_t hn = uniws__frame_header(h, 1, 0, p->msg_op, p->msg_len, NULL);
    if (p->out.len == 0 && p->msg_len >= PEER_SWAP_MIN) {
        /* The header fits in the headroom before the payload: hand the
         * reassembly buffer out as it is. */
        memcpy(p->msg.p + PEER_HEADROOM - hn, h, hn);
        buf_swap(&p->out, &p->msg);
        p->out.off = PEER_HEADROOM - hn;
        p->out.len = hn + p->msg_len;
        p->msg.off = p->msg.len = 0;
        return;
    }
    uint8_t *d = out_frame_space(p, 1, p->msg_op, p->msg_len);
    if (d)
        memcpy(d, p->msg.p + PEER_HEADROOM, p->msg_len);
}

static void got_close_frame(uniws__peer *p, size_t len)
{
    if (len == 1) {
        fail(p, 1002, "close payload of 1 byte");
        return;
    }
    if (len > 2 && !uniws__utf8_valid(p->ctl + 2, len - 2)) {
        fail(p, 1007, "close reason is not UTF-8");
        return;
    }
    p->got_close = 1;
    if (p->mode == M_NO_CLOSE_REPLY)
        return;
    if (!p->sent_close) {
        if (p->mode == M_REPORT) {
            char reason[100];
            int code = len >= 2 ? (p->ctl[0] << 8) | p->ctl[1] : 1000;
            int n =
                snprintf(reason, sizeof reason, "msgs=%llu bytes=%llu",
                         (unsigned long long)p->report_msgs, (unsigned long long)p->report_bytes);
            if (p->report_frames)
                n += snprintf(reason + n, sizeof reason - (size_t)n, " frames=%llu",
                              (unsigned long long)p->report_nframes);
            if (p->report_frames && p->report_ping_at >= 0)
                n += snprintf(reason + n, sizeof reason - (size_t)n, " ping_at=%lld",
                              (long long)p->report_ping_at);
            out_close(p, code, reason, (size_t)n);
        } else {
            out_frame(p, 1, UNIWS__OP_CLOSE, p->ctl, len);
            p->sent_close = 1;
        }
    }
    p->state = S_DONE;
    p->pending = UNIWS__PEER_FIN;
}

/* Checks a just-parsed header; returns 0 to go on reading its payload. */
static int check_header(uniws__peer *p)
{
    const uniws__frame_hdr *h = &p->hdr;
    if (!h->masked) {
        fail(p, 1002, "client frames must be masked");
        return -1;
    }
    if (h->rsv) {
        fail(p, 1002, "RSV bits set, no extension negotiated");
        return -1;
    }
    switch (h->opcode) {
    case UNIWS__OP_CONT:
        if (!p->msg_op) {
            fail(p, 1002, "continuation without a message");
            return -1;
        }
        break;
    case UNIWS__OP_TEXT:
    case UNIWS__OP_BINARY:
        if (p->msg_op) {
            fail(p, 1002, "new message inside a fragmented one");
            return -1;
        }
        p->msg_op = h->opcode;
        p->utf8 = (uniws__utf8)UNIWS__UTF8_INIT;
        break;
    case UNIWS__OP_CLOSE:
    case UNIWS__OP_PING:
    case UNIWS__OP_PONG:
        if (!h->fin || h->len > 125) {
            fail(p, 1002, "bad control frame");
            return -1;
        }
        return 0;
    default:
        fail(p, 1002, "unknown opcode");
        return -1;
    }
    if (p->mode == M_REPORT) {
        p->report_bytes += h->len;
        return 0;
    }
    if (p->mode == M_MASKS)
        return 0; /* the payload is not kept */
    if (h->len > PEER_MAX_MESSAGE - p->msg_len) {
        fail(p, 1009, "message too big for the test peer");
        return -1;
    }
    /* room for headroom + the message so far + this frame, all at once */
    return buf_grow(p, &p->msg, PEER_HEADROOM + p->msg_len + (size_t)h->len);
}

/* drop-after:N: a data message arrived whole; the Nth drops TCP once what
 * is queued (its echo) is written. */
static void count_drop(uniws__peer *p)
{
    if (p->drop_after && ++p->drop_count >= p->drop_after) {
        p->state = S_DONE;
        p->pending = p->drop_kind;
    }
}

static void frame_done(uniws__peer *p)
{
    const uniws__frame_hdr *h = &p->hdr;
    size_t len = (size_t)h->len;
    switch (h->opcode) {
    case UNIWS__OP_PING:
        if (p->report_ping_at < 0)
            p->report_ping_at = (int64_t)p->report_nframes;
        if (p->sent_close)
            return;
        if (p->pong_delay_ms) {
            /* pong-delay: wait, then answer (run() writes it after the sleep) */
            memcpy(p->late, p->ctl, len);
            p->late_len = len;
            p->late_pong = 1;
            p->pending = UNIWS__PEER_SLEEP;
            p->pending_ms = p->pong_delay_ms;
            return;
        }
        out_frame(p, 1, UNIWS__OP_PONG, p->ctl, len);
        return;
    case UNIWS__OP_PONG:
        return;
    case UNIWS__OP_CLOSE:
        got_close_frame(p, len);
        return;
    }
    if (p->mode == M_REPORT) {
        p->report_nframes++;
        if (h->fin) {
            p->report_msgs++;
            p->msg_op = 0;
            count_drop(p);
        }
        return;
    }
    if (p->mode == M_MASKS) {
        if (!p->sent_close)
            out_frame(p, 1, UNIWS__OP_BINARY, h->mask, sizeof h->mask);
        if (h->fin) {
            p->msg_op = 0;
            count_drop(p);
        }
        return;
    }
    uint8_t *payload = p->msg.p + PEER_HEADROOM + p->msg_len;
    p->msg_len += len;
    if (p->msg_op == UNIWS__OP_TEXT && uniws__utf8_feed(&p->utf8, payload, len) < 0) {
        fail(p, 1007, "text is not UTF-8");
        return;
    }
    if (!h->fin)
        return;
    if (p->msg_op == UNIWS__OP_TEXT && !uniws__utf8_done(&p->utf8)) {
        fail(p, 1007, "text is not UTF-8");
        return;
    }
    if (!p->sent_close)
        echo_message(p);
    p->msg_op = 0;
    p->msg_len = 0;
    count_drop(p);
}

static void process_input(uniws__peer *p)
{
    if (p->mode == M_HOLD || p->got_close) {
        p->in.off = p->in.len = 0; /* ignored */
    }
    while (p->in.len && !p->pending && !p->oom) {
        const uint8_t *d = p->in.p + p->in.off;
        if (!p->have_hdr) {
            int r = uniws__frame_parse(d, p->in.len, &p->hdr);
            if (r == 0)
                break;
            if (r < 0) {
                fail(p, 1002, "malformed frame header");
                return;
            }
            p->in.off += (size_t)r;
            p->in.len -= (size_t)r;
            p->have_hdr = 1;
            p->pay_done = 0;
            if (check_header(p) < 0)
                return;
            d += r;
        }
        uint64_t want = p->hdr.len - p->pay_done;
        size_t n = p->in.len < want ? p->in.len : (size_t)want;
        uint8_t *dst = NULL;
        if (p->hdr.opcode & 8)
            dst = p->ctl + p->pay_done;
        else if (p->mode != M_REPORT && p->mode != M_MASKS)
            dst = p->msg.p + PEER_HEADROOM + p->msg_len + p->pay_done;
        if (dst && n)
            uniws__mask_copy(dst, d, n, p->hdr.mask, p->pay_done);
        p->pay_done += n;
        p->in.off += n;
        p->in.len -= n;
        if (p->pay_done < p->hdr.len)
            break;
        p->have_hdr = 0;
        frame_done(p);
        if (p->got_close && !p->pending) {
            p->in.off = p->in.len = 0; /* no-close-reply: nothing after a close matters */
        }
    }
    if (p->in.len == 0)
        p->in.off = 0;
    if (p->eof && !p->pending && p->state != S_DONE) {
        p->state = S_DONE;
        p->pending = UNIWS__PEER_FIN;
    }
}

/* ---- driving ------------------------------------------------------------- */

/* Does whatever can be done now: answer the handshake, run script commands,
 * handle client frames. Stops once an action is pending. */
static void run(uniws__peer *p)
{
    while (!p->pending) {
        if (p->oom) {
            p->state = S_DONE;
            p->pending = UNIWS__PEER_RESET;
            return;
        }
        switch (p->state) {
        case S_HEAD:
            parse_head(p);
            if (p->state == S_HEAD && !p->oom)
                return; /* needs more bytes */
            break;
        case S_OPEN:
            if (p->late_pong) {
                p->late_pong = 0;
                if (!p->sent_close)
                    out_frame(p, 1, UNIWS__OP_PONG, p->late, p->late_len);
            }
            if (p->stream_left) {
                size_t n =
                    p->stream_left < PEER_STREAM_PIECE ? (size_t)p->stream_left : PEER_STREAM_PIECE;
                if (buf_reserve(p, &p->out, n) == 0) {
                    fill_bin(p->out.p + p->out.off + p->out.len, n, p->stream_off);
                    p->out.len += n;
                    p->stream_left -= n;
                    p->stream_off += n;
                    p->pending = PEER_FLUSH; /* hand it over before making more */
                }
                break;
            }
            if (p->next_cmd < p->ncmds) {
                run_cmd(p);
                break;
            }
            process_input(p);
            if (!p->oom)
                return;
            break;
        case S_SILENT:
            p->in.off = p->in.len = 0;
            if (p->eof) {
                p->state = S_DONE;
                p->pending = UNIWS__PEER_FIN;
            }
            return;
        default:
            return;
        }
    }
}

uniws__peer *uniws__peer_new(void)
{
    uniws__peer *p = uniws__calloc(1, sizeof *p);
    if (p)
        p->report_ping_at = -1;
    return p;
}

void uniws__peer_free(uniws__peer *p)
{
    if (!p)
        return;
    uniws__free(p->in.p);
    uniws__free(p->out.p);
    uniws__free(p->handed.p);
    uniws__free(p->slow.p);
    uniws__free(p->msg.p);
    uniws__free(p->path);
    uniws__free(p->headers);
    free_cmds(p);
    uniws__free(p);
}

int uniws__peer_feed(uniws__peer *p, const void *data, size_t len)
{
    if (p->state == S_DONE || p->state == S_SILENT || p->terminal)
        return 0;
    if (buf_append(p, &p->in, data, len) < 0) {
        p->oom = 0; /* the caller learns it from the return value */
        return -1;
    }
    return 0;
}

void uniws__peer_eof(uniws__peer *p)
{
    p->eof = 1;
}

int uniws__peer_reading(const uniws__peer *p)
{
    return !p->no_read;
}

void uniws__peer_set_tls(uniws__peer *p)
{
    p->tls = 1;
}

void uniws__peer_next(uniws__peer *p, uniws__peer_action *a)
{
    memset(a, 0, sizeof *a);
    buf_recycle(&p->handed);
    for (;;) {
        if (p->terminal) {
            a->kind = p->terminal;
            return;
        }
        if (!p->pending)
            run(p);
        if (p->slow.len) {
            /* slow-head: one byte of the answer head, a sleep, the next... */
            if (p->slow_sleep) {
                p->slow_sleep = 0;
                a->kind = UNIWS__PEER_SLEEP;
                a->ms = p->slow_ms;
                return;
            }
            a->kind = UNIWS__PEER_WRITE;
            a->data = p->slow.p + p->slow.off;
            a->len = 1;
            p->slow.off++;
            p->slow.len--;
            p->slow_sleep = 1;
            return;
        }
        if (p->out.len) {
            a->kind = UNIWS__PEER_WRITE;
            a->data = p->out.p + p->out.off;
            a->len = p->out.len;
            a->bytewise = p->bytewise;
            buf_swap(&p->out, &p->handed);
            p->out.off = p->out.len = 0;
            return;
        }
        switch (p->pending) {
        case UNIWS__PEER_NONE:
            a->kind = UNIWS__PEER_NONE;
            return;
        case PEER_FLUSH:
            p->pending = UNIWS__PEER_NONE;
            continue;
        case UNIWS__PEER_SLEEP:
            p->pending = UNIWS__PEER_NONE;
            a->kind = UNIWS__PEER_SLEEP;
            a->ms = p->pending_ms;
            return;
        case UNIWS__PEER_TLS_GARBLE:
        case UNIWS__PEER_TLS_PLAIN:
            a->kind = p->pending;
            a->data = p->brk;
            a->len = p->brk_len;
            p->pending = UNIWS__PEER_NONE;
            return;
        case UNIWS__PEER_HTTP:
            a->kind = UNIWS__PEER_HTTP;
            a->path = p->path;
            p->terminal = UNIWS__PEER_FIN; /* the driver answers, then closes */
            return;
        default: /* FIN, RESET, TLS_TRUNCATE */
            a->kind = p->pending;
            p->terminal = p->pending;
            return;
        }
    }
}
