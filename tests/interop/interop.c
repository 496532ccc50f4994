/*
 * interop.c — uniws against an independent WebSocket server (the npm `ws`
 * package, tests/interop/server.mjs), once per compiled backend that reaches
 * the network: echo at the length-encoding boundaries, UTF-8, subprotocol
 * selection, server-initiated close, server pings, and permessage-deflate in
 * every context-takeover / window-size variant. The server taps the raw
 * frames, so "compressed" is proven on the wire, not taken from negotiation.
 *
 *   interop NODE SERVER.MJS [--only BACKEND]
 *   interop --missing-node       (what CMake registers when node was not found)
 *
 * Prints one line per case and ends with "N passed, N failed". Exit status:
 * 0 all passed, 1 a case failed or the server could not start, 77 when no
 * compiled backend has UNIWS_CAP_NETWORK (nothing to test).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uniws/uniws.h"

#define CASE_TIMEOUT_MS 30000
#define MIB             ((size_t)1024 * 1024)

/* ---- the server process --------------------------------------------------------- */

static pid_t server_pid = -1;
static int server_stdin = -1, server_stdout = -1;
static int server_port;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Starts `node server.mjs` and reads the port it prints. The server ends when
 * its stdin closes, so it cannot outlive this process. */
static int server_start(const char *node, const char *script)
{
    char ws_pkg[4096];
    const char *slash = strrchr(script, '/');
    int dir_len = slash ? (int)(slash - script) : 1;
    snprintf(ws_pkg, sizeof ws_pkg, "%.*s/../node/node_modules/ws/package.json", dir_len,
             slash ? script : ".");
    if (access(node, X_OK) != 0) {
        fprintf(stderr, "interop: node (%s) is not executable: %s; run scripts/bootstrap.sh\n",
                node, strerror(errno));
        return -1;
    }
    if (access(ws_pkg, R_OK) != 0) {
        fprintf(stderr,
                "interop: the npm package 'ws' is missing (%s); run scripts/bootstrap.sh "
                "(it runs npm install in tests/node)\n",
                ws_pkg);
        return -1;
    }

    int in[2], out[2];
    if (cloexec_pipe(in) != 0 || cloexec_pipe(out) != 0) {
        perror("interop: pipe");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("interop: fork");
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl(node, node, script, (char *)NULL);
        fprintf(stderr, "interop: cannot run %s: %s\n", node, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_pid = pid;
    server_stdin = in[1];
    server_stdout = out[0];

    char line[32];
    size_t n = 0;
    uint64_t deadline = now_ms() + 20000;
    while (n < sizeof line - 1) {
        struct pollfd p = {.fd = server_stdout, .events = POLLIN};
        uint64_t t = now_ms();
        if (t >= deadline || poll(&p, 1, (int)(deadline - t)) <= 0) {
            fprintf(stderr, "interop: %s printed no port within 20 s\n", script);
            return -1;
        }
        ssize_t r = read(server_stdout, line + n, 1);
        if (r <= 0) {
            fprintf(stderr,
                    "interop: %s exited before printing its port (see its message above; "
                    "scripts/bootstrap.sh installs node and ws)\n",
                    script);
            return -1;
        }
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    server_port = atoi(line);
    if (server_port <= 0 || server_port > 65535) {
        fprintf(stderr, "interop: %s printed '%s', not a port\n", script, line);
        return -1;
    }
    return 0;
}

static void server_stop(void)
{
    if (server_pid < 0)
        return;
    close(server_stdin);
    uint64_t deadline = now_ms() + 5000;
    int status;
    while (waitpid(server_pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(server_pid, SIGTERM);
            waitpid(server_pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    close(server_stdout);
    server_pid = -1;
}

/* ---- one connection and its events --------------------------------------------- */

typedef struct msg {
    int type;
    size_t len;
    unsigned char *data;
} msg;

typedef struct conn {
    uniws_socket *s;
    int opened, errored, closed;
    int open_state; /* uniws_ready_state() inside on_open */
    int error, http_status;
    char error_msg[160];
    int close_code, was_clean;
    char reason[128];
    size_t reason_len;
    msg *msgs;
    size_t nmsgs, cap;
    char violation[160]; /* first event-order problem seen */
} conn;

static void violate(conn *c, const char *what)
{
    if (!c->violation[0])
        snprintf(c->violation, sizeof c->violation, "%s", what);
}

static void on_open(uniws_socket *s, void *ud)
{
    conn *c = ud;
    if (c->opened || c->closed || c->errored)
        violate(c, "open after another event");
    c->opened = 1;
    c->open_state = (int)uniws_ready_state(s);
}

static void on_message(uniws_socket *s, const uniws_message *m, void *ud)
{
    conn *c = ud;
    if (!c->opened || c->closed)
        violate(c, "message outside open..close");
    if (m->type == UNIWS_TEXT && ((const char *)m->data)[m->len] != '\0')
        violate(c, "text message not NUL-terminated");
    if (c->nmsgs == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        msg *nm = realloc(c->msgs, cap * sizeof *nm);
        if (!nm) {
            violate(c, "out of memory in the test");
            return;
        }
        c->msgs = nm;
        c->cap = cap;
    }
    msg *d = &c->msgs[c->nmsgs];
    d->type = m->type;
    d->len = m->len;
    d->data = malloc(m->len + 1);
    if (!d->data) {
        violate(c, "out of memory in the test");
        return;
    }
    memcpy(d->data, m->data, m->len);
    d->data[m->len] = 0;
    c->nmsgs++;
}

static void on_error(uniws_socket *s, const uniws_error_event *e, void *ud)
{
    conn *c = ud;
    if (c->closed || c->errored)
        violate(c, "error after close or a second error");
    c->errored = 1;
    c->error = e->error;
    c->http_status = e->http_status;
    snprintf(c->error_msg, sizeof c->error_msg, "%s", e->message ? e->message : "(null)");
}

static void on_close(uniws_socket *s, const uniws_close_event *e, void *ud)
{
    conn *c = ud;
    if (c->closed)
        violate(c, "second close event");
    c->closed = 1;
    c->close_code = e->code;
    c->was_clean = e->was_clean;
    c->reason_len = e->reason_len < sizeof c->reason - 1 ? e->reason_len : sizeof c->reason - 1;
    memcpy(c->reason, e->reason, c->reason_len);
    c->reason[c->reason_len] = 0;
}

static void conn_free(conn *c)
{
    uniws_free(c->s);
    for (size_t i = 0; i < c->nmsgs; i++)
        free(c->msgs[i].data);
    free(c->msgs);
    memset(c, 0, sizeof *c);
}

/* ---- cases ------------------------------------------------------------------------ */

typedef struct tc {
    const uniws_backend_info *b;
    uniws_loop *loop;
    uint64_t deadline;
    char why[1024];
    char note[256];
} tc;

static int fail_at(tc *t, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(tc *t, int line, const char *fmt, ...)
{
    if (t->why[0])
        return 0;
    int n = snprintf(t->why, sizeof t->why, "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why + n, sizeof t->why - (size_t)n, fmt, ap);
    va_end(ap);
    return 0;
}

#define CHECK(t, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return fail_at((t), __LINE__, __VA_ARGS__);                                            \
    } while (0)
#define TRY(e)                                                                                     \
    do {                                                                                           \
        if (!(e))                                                                                  \
            return 0;                                                                              \
    } while (0)

static const char *conn_state(const conn *c, char *buf, size_t size)
{
    if (c->errored)
        snprintf(buf, size, "error %s (%s), close %d '%s' clean=%d", uniws_err_name(c->error),
                 c->error_msg, c->close_code, c->reason, c->was_clean);
    else if (c->closed)
        snprintf(buf, size, "closed %d '%s' clean=%d", c->close_code, c->reason, c->was_clean);
    else
        snprintf(buf, size, "%s, %zu messages", c->opened ? "open" : "connecting", c->nmsgs);
    return buf;
}

/* Drives the loop until done(c) or the case's deadline. */
static int pump(tc *t, conn *c, int (*done)(const conn *, size_t), size_t arg, const char *what)
{
    char st[400];
    while (!done(c, arg)) {
        if (now_ms() > t->deadline)
            return fail_at(t, __LINE__, "timed out waiting for %s (%s)", what,
                           conn_state(c, st, sizeof st));
        int r = uniws_loop_run_once(t->loop, 50);
        if (r < 0)
            return fail_at(t, __LINE__, "uniws_loop_run_once: %s", uniws_err_name(r));
    }
    if (c->violation[0])
        return fail_at(t, __LINE__, "event contract broken: %s", c->violation);
    return 1;
}

static int is_settled(const conn *c, size_t unused)
{
    return c->opened || c->closed;
}

static int has_msgs(const conn *c, size_t n)
{
    return c->nmsgs >= n || c->closed;
}

static int is_closed(const conn *c, size_t unused)
{
    return c->closed;
}

static int conn_open(tc *t, conn *c, const char *path, const uniws_options *extra)
{
    char url[256], st[400];
    uniws_options o = {0};
    if (extra)
        o = *extra;
    o.backend = t->b->name;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = c;
    snprintf(url, sizeof url, "ws://127.0.0.1:%d%s", server_port, path);
    int r = uniws_connect(t->loop, url, &o, &c->s);
    CHECK(t, r == 0, "uniws_connect(%s): %s", url, uniws_err_name(r));
    TRY(pump(t, c, is_settled, 0, "open"));
    /* A server that closes at once may already be done: open is what counts. */
    CHECK(t, c->opened, "%s did not open: %s", path, conn_state(c, st, sizeof st));
    CHECK(t, c->open_state == UNIWS_OPEN, "ready_state %d inside on_open", c->open_state);
    return 1;
}

static int wait_msgs(tc *t, conn *c, size_t n)
{
    char st[400];
    TRY(pump(t, c, has_msgs, n, "messages"));
    CHECK(t, c->nmsgs >= n, "got %zu of %zu messages: %s", c->nmsgs, n,
          conn_state(c, st, sizeof st));
    return 1;
}

/* Closes from our side and checks the closing handshake ended cleanly with
 * the server echoing our code. */
static int conn_close(tc *t, conn *c, int code, const char *reason)
{
    char st[400];
    int r = uniws_close(c->s, code, reason);
    CHECK(t, r == 0, "uniws_close: %s", uniws_err_name(r));
    TRY(pump(t, c, is_closed, 0, "close"));
    CHECK(t, !c->errored && c->was_clean && c->close_code == code, "closing with %d: %s", code,
          conn_state(c, st, sizeof st));
    return 1;
}

static int send_msg(tc *t, conn *c, int type, const void *data, size_t len)
{
    int r =
        type == UNIWS_TEXT ? uniws_send_text(c->s, data, len) : uniws_send_binary(c->s, data, len);
    CHECK(t, r == 0, "send %s of %zu bytes: %s", type == UNIWS_TEXT ? "text" : "binary", len,
          uniws_err_name(r));
    return 1;
}

static int check_msg(tc *t, const conn *c, size_t i, int type, const void *data, size_t len)
{
    CHECK(t, i < c->nmsgs, "message %zu missing", i);
    const msg *m = &c->msgs[i];
    CHECK(t, m->type == type, "message %zu: type %d, expected %d", i, m->type, type);
    CHECK(t, m->len == len, "message %zu: %zu bytes, expected %zu", i, m->len, len);
    if (len && memcmp(m->data, data, len) != 0) {
        size_t at = 0;
        while (m->data[at] == ((const unsigned char *)data)[at])
            at++;
        return fail_at(t, __LINE__, "message %zu (%zu bytes): first difference at byte %zu", i, len,
                       at);
    }
    return 1;
}

/* ---- payloads ----------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

typedef struct payload {
    int type;
    unsigned char *data;
    size_t len;
    const char *what;
} payload;

/* Printable ASCII that does not compress much but is valid text. */
static unsigned char *ascii_pattern(size_t n)
{
    unsigned char *p = malloc(n + 1);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (unsigned char)(' ' + (i * 7 + i / 95) % 95);
    return p;
}

static unsigned char *byte_pattern(size_t n)
{
    unsigned char *p = malloc(n + 1);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (unsigned char)(i * 31 + (i >> 8));
    return p;
}

static unsigned char *random_bytes(size_t n)
{
    unsigned char *p = malloc(n + 1);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (unsigned char)rnd();
    return p;
}

/* Encodes code point cp as UTF-8 into o; returns its length. */
static size_t utf8_put(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Random code points of every UTF-8 length (no surrogates), about n bytes. */
static unsigned char *random_utf8(size_t n, size_t *out_len)
{
    unsigned char *p = malloc(n + 4);
    size_t len = 0;
    while (p && len < n) {
        uint32_t cp;
        switch (rnd() % 4) {
        case 0:
            cp = 0x20 + rnd() % 0x5f;
            break;
        case 1:
            cp = 0x80 + rnd() % (0x800 - 0x80);
            break;
        case 2:
            cp = 0x800 + rnd() % (0x10000 - 0x800);
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xe000;
            break;
        default:
            cp = 0x10000 + rnd() % (0x110000 - 0x10000);
            break;
        }
        len += utf8_put(p + len, cp);
    }
    *out_len = len;
    return p;
}

/* About n bytes of text that deflate shrinks a lot: numbered lines with
 * multibyte characters; exactly n bytes, ending on a whole character. */
static unsigned char *compressible_text(size_t n, unsigned salt)
{
    unsigned char *p = malloc(n + 1);
    size_t len = 0;
    for (unsigned line = 0; p && len < n; line++) {
        char buf[160];
        int k = snprintf(buf, sizeof buf,
                         "%07u/%u the quick brown fox jumps over the lazy dog \xe2\x9c\x93 "
                         "\xc3\xbcn\xc3\xaf"
                         "c\xc3\xb6"
                         "d\xc3\xa9 \xf0\x9f\x98\x80\n",
                         line, salt);
        if (len + (size_t)k > n) {
            memset(p + len, '.', n - len);
            len = n;
        } else {
            memcpy(p + len, buf, (size_t)k);
            len += (size_t)k;
        }
    }
    return p;
}

/* Binary that only compresses with a long window: one random block repeated
 * (with a counter stamped in) at a distance of 5000 bytes, so a sender that
 * ignored a small agreed window would emit matches the receiver rejects. */
static unsigned char *long_distance_binary(size_t n)
{
    enum { BLOCK = 5000 };
    unsigned char *block = random_bytes(BLOCK), *p = malloc(n + 1);
    if (!block || !p) {
        free(block);
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = block[i % BLOCK];
    for (size_t i = 0; i + 4 <= n; i += BLOCK)
        memcpy(p + i, &i, 4);
    free(block);
    return p;
}

static void payloads_free(payload *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].data);
}

/* Sends every payload, waits for as many echoes, compares them in order. */
static int echo_all(tc *t, conn *c, const payload *p, size_t n)
{
    size_t base = c->nmsgs;
    for (size_t i = 0; i < n; i++) {
        CHECK(t, p[i].data || p[i].len == 0, "out of memory building '%s'", p[i].what);
        TRY(send_msg(t, c, p[i].type, p[i].data, p[i].len));
    }
    TRY(wait_msgs(t, c, base + n));
    for (size_t i = 0; i < n; i++)
        if (!check_msg(t, c, base + i, p[i].type, p[i].data, p[i].len)) {
            size_t l = strlen(t->why);
            snprintf(t->why + l, sizeof t->why - l, " [%s]", p[i].what);
            return 0;
        }
    return 1;
}

/* ---- the server's view of a connection ---------------------------------------------- */

typedef struct stats {
    size_t rx, rxz, rxwire, rxbytes, tx, txz, txwire, txbytes;
    char negotiated[256];
    char offered[256];
} stats;

/* Asks the server what it saw on this connection (the request itself counts
 * as one received text message of 9 bytes). */
static int get_stats(tc *t, conn *c, stats *st)
{
    static const char req[] = "__stats__";
    TRY(send_msg(t, c, UNIWS_TEXT, req, sizeof req - 1));
    TRY(wait_msgs(t, c, c->nmsgs + 1));
    const msg *m = &c->msgs[c->nmsgs - 1];
    const char *line = (const char *)m->data;
    memset(st, 0, sizeof *st);
    CHECK(t,
          m->type == UNIWS_TEXT &&
              sscanf(line,
                     "rx=%zu rxz=%zu rxwire=%zu rxbytes=%zu tx=%zu txz=%zu txwire=%zu "
                     "txbytes=%zu",
                     &st->rx, &st->rxz, &st->rxwire, &st->rxbytes, &st->tx, &st->txz, &st->txwire,
                     &st->txbytes) == 8,
          "unexpected stats line: %.200s", line);
    const char *neg = strstr(line, " negotiated="), *off = strstr(line, " offered=");
    CHECK(t, neg && off && neg < off, "stats line without negotiated/offered: %.200s", line);
    neg += strlen(" negotiated=");
    snprintf(st->negotiated, sizeof st->negotiated, "%.*s", (int)(off - neg), neg);
    snprintf(st->offered, sizeof st->offered, "%s", off + strlen(" offered="));
    return 1;
}

static void strip_spaces(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < size; src++)
        if (*src != ' ')
            dst[n++] = *src;
    dst[n] = 0;
}

/* Number of ';'-separated items in s, and whether `item` is one of them. */
static size_t count_items(const char *s, const char *item, int *found)
{
    size_t n = 0, il = item ? strlen(item) : 0;
    for (;;) {
        const char *e = strchr(s, ';');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (item && len == il && strncmp(s, item, il) == 0)
            *found = 1;
        n++;
        if (!e)
            return n;
        s = e + 1;
    }
}

/* 1 when the two extension strings (spaces removed) hold the same parameters,
 * in any order. */
static int same_params(const char *got, const char *want)
{
    int dummy = 0;
    if (count_items(got, NULL, &dummy) != count_items(want, NULL, &dummy))
        return 0;
    for (const char *w = want;;) {
        char item[128];
        const char *e = strchr(w, ';');
        size_t len = e ? (size_t)(e - w) : strlen(w);
        int found = 0;
        snprintf(item, sizeof item, "%.*s", (int)len, w);
        count_items(got, item, &found);
        if (!found)
            return 0;
        if (!e)
            return 1;
        w = e + 1;
    }
}

/* ---- plain cases ---------------------------------------------------------------------- */

static int case_echo_sizes(tc *t)
{
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, MIB};
    enum { N = sizeof sizes / sizeof sizes[0] };
    payload p[2 * N];
    conn c = {0};
    stats st;
    int ok = 0;
    size_t total = 0;

    for (size_t i = 0; i < N; i++) {
        p[2 * i] = (payload){UNIWS_TEXT, ascii_pattern(sizes[i]), sizes[i], "text"};
        p[2 * i + 1] = (payload){UNIWS_BINARY, byte_pattern(sizes[i]), sizes[i], "binary"};
        total += 2 * sizes[i];
    }
    if (!conn_open(t, &c, "/echo", NULL) || !echo_all(t, &c, p, 2 * N) || !get_stats(t, &c, &st))
        goto out;
    /* Without the option nothing may be offered or compressed. */
    if (!uniws_extensions(c.s) || uniws_extensions(c.s)[0]) {
        fail_at(t, __LINE__, "extensions '%s' without permessage_deflate",
                uniws_extensions(c.s) ? uniws_extensions(c.s) : "(null)");
        goto out;
    }
    if (st.offered[0] || st.rxz || st.txz || st.rx != 2 * N + 1 || st.rxbytes != total + 9) {
        fail_at(t, __LINE__,
                "server saw offered='%s' rx=%zu rxz=%zu txz=%zu rxbytes=%zu (sent %zu)", st.offered,
                st.rx, st.rxz, st.txz, st.rxbytes, total + 9);
        goto out;
    }
    ok = conn_close(t, &c, 1000, "done");
out:
    conn_free(&c);
    payloads_free(p, 2 * N);
    return ok;
}

static int case_utf8(tc *t)
{
    static const char mixed[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80 "
                                "\xe4\xb8\xad\xe6\x96\x87 \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
                                "\xd1\x82 \xef\xbf\xbd \xf4\x8f\xbf\xbf";
    size_t rlen = 0;
    unsigned char *rand_text = random_utf8(70000, &rlen);
    unsigned char *edge = malloc(200);
    size_t elen = 0;
    conn c = {0};
    int ok = 0;

    /* A multibyte character straddling the 125/126 length boundary. */
    if (edge) {
        memset(edge, 'a', 124);
        elen = 124 + utf8_put(edge + 124, 0x1F600);
    }
    payload p[] = {
        {UNIWS_TEXT, (unsigned char *)mixed, sizeof mixed - 1, "mixed scripts"},
        {UNIWS_TEXT, edge, elen, "4-byte char across 125/126"},
        {UNIWS_TEXT, rand_text, rlen, "random code points"},
    };
    if (conn_open(t, &c, "/echo", NULL) && echo_all(t, &c, p, 3))
        ok = conn_close(t, &c, 4000, "\xe2\x9c\x93 done");
    conn_free(&c);
    free(rand_text);
    free(edge);
    return ok;
}

static int case_subprotocol(tc *t)
{
    static const char *const protos[] = {"chat.v1", "chat.v2", "chat.v3"};
    uniws_options o = {.protocols = protos, .num_protocols = 3};
    conn c = {0};
    int ok = 0;
    if (!conn_open(t, &c, "/proto", &o) || !wait_msgs(t, &c, 1))
        goto out;
    const char *p = uniws_protocol(c.s);
    if (!p || strcmp(p, "chat.v2") != 0) {
        fail_at(t, __LINE__, "uniws_protocol '%s', the server picked chat.v2", p ? p : "(null)");
        goto out;
    }
    if (!check_msg(t, &c, 0, UNIWS_TEXT, "chat.v2", 7))
        goto out;
    ok = conn_close(t, &c, 1000, NULL);
out:
    conn_free(&c);
    return ok;
}

/* No subprotocol offered: none selected, and "" reported. */
static int case_no_subprotocol(tc *t)
{
    conn c = {0};
    int ok = 0;
    if (!conn_open(t, &c, "/proto", NULL) || !wait_msgs(t, &c, 1))
        goto out;
    const char *p = uniws_protocol(c.s);
    if (!p || p[0]) {
        fail_at(t, __LINE__, "uniws_protocol '%s' without an offer", p ? p : "(null)");
        goto out;
    }
    ok = check_msg(t, &c, 0, UNIWS_TEXT, "", 0) && conn_close(t, &c, 1000, NULL);
out:
    conn_free(&c);
    return ok;
}

static int server_close(tc *t, const char *query, int code, const char *reason)
{
    char path[256], st[400];
    conn c = {0};
    int ok = 0;
    snprintf(path, sizeof path, "/close%s", query);
    if (!conn_open(t, &c, path, NULL))
        goto out;
    if (!pump(t, &c, is_closed, 0, "the server's close"))
        goto out;
    if (c.errored || !c.was_clean || c.close_code != code || strcmp(c.reason, reason) != 0 ||
        c.nmsgs) {
        fail_at(t, __LINE__, "%s: expected clean close %d '%s', got %s, %zu messages", path, code,
                reason, conn_state(&c, st, sizeof st), c.nmsgs);
        goto out;
    }
    if (uniws_ready_state(c.s) != UNIWS_CLOSED) {
        fail_at(t, __LINE__, "ready_state %d after close", (int)uniws_ready_state(c.s));
        goto out;
    }
    ok = 1;
out:
    conn_free(&c);
    return ok;
}

static int case_server_close(tc *t)
{
    return server_close(t, "?code=4001&reason=bye%20%E2%9C%93", 4001, "bye \xe2\x9c\x93") &&
           server_close(t, "?code=1000", 1000, "") &&
           server_close(t, "?code=1001&reason=going", 1001, "going") &&
           server_close(t, "", UNIWS_CLOSE_NO_STATUS, "");
}

/* Our close code and reason reach the server (its tap read our close frame). */
static int case_client_close(tc *t)
{
    conn c = {0}, d = {0};
    int ok = 0;
    if (!conn_open(t, &c, "/echo", NULL) || !conn_close(t, &c, 4321, "client \xe2\x9c\x93"))
        goto out;
    if (!conn_open(t, &d, "/lastclose", NULL) || !wait_msgs(t, &d, 1))
        goto out;
    static const char want[] = "code=4321 reason=client \xe2\x9c\x93";
    if (!check_msg(t, &d, 0, UNIWS_TEXT, want, sizeof want - 1))
        goto out;
    ok = conn_close(t, &d, 1000, NULL);
out:
    conn_free(&c);
    conn_free(&d);
    return ok;
}

static int case_ping(tc *t)
{
    conn c = {0};
    int ok = 0;
    static const char want[] = "pong:uniws-ping";
    if (conn_open(t, &c, "/ping", NULL) && wait_msgs(t, &c, 1) &&
        check_msg(t, &c, 0, UNIWS_TEXT, want, sizeof want - 1))
        ok = conn_close(t, &c, 1000, NULL);
    conn_free(&c);
    return ok;
}

/* ---- permessage-deflate ----------------------------------------------------------------- */

typedef struct pmd_variant {
    const char *query;  /* server configuration, see server.mjs */
    const char *expect; /* uniws_extensions(), spaces removed */
} pmd_variant;

static const pmd_variant variants[] = {
    {"", "permessage-deflate"},
    {"?snct", "permessage-deflate;server_no_context_takeover"},
    {"?cnct", "permessage-deflate;client_no_context_takeover"},
    {"?snct&cnct", "permessage-deflate;server_no_context_takeover;client_no_context_takeover"},
    {"?sbits=10", "permessage-deflate;server_max_window_bits=10"},
    {"?sbits=9&snct", "permessage-deflate;server_no_context_takeover;server_max_window_bits=9"},
    {"?sbits=8", "permessage-deflate;server_max_window_bits=8"},
    {"?cbits=9", "permessage-deflate;client_max_window_bits=9"},
    {"?cbits=8&cnct", "permessage-deflate;client_no_context_takeover;client_max_window_bits=8"},
    {"?sbits=10&cbits=10&snct&cnct",
     "permessage-deflate;server_no_context_takeover;client_no_context_takeover;"
     "server_max_window_bits=10;client_max_window_bits=10"},
};

/* Backends that negotiate permessage-deflate and inflate what they receive,
 * but send every message uncompressed (RFC 7692 allows it): libcurl 8.14
 * cannot put RSV1 on a frame it builds, so when curl frames the output
 * (curl_ws_send(): through TLS, or with UNIWS_CURL_DIRECT=0 as in the test
 * interop.ws-curl-framed) the core queues it uncompressed. On a plain ws://
 * connection the curl backend writes the core's own (compressed) frames.
 * The test holds each to exactly that, so it notices when this goes stale. */
static int backend_sends_uncompressed(const char *name)
{
    const char *direct = getenv("UNIWS_CURL_DIRECT");
    return strcmp(name, "curl") == 0 && direct && strcmp(direct, "0") == 0;
}

static int deflate_variant(tc *t, const pmd_variant *v)
{
    enum { SIMILAR = 6, N = 8 + SIMILAR };
    char path[128], ext[256];
    payload p[N];
    conn c = {0};
    stats st;
    int ok = 0;
    size_t rlen = 0, total = 0;
    uniws_options o = {.permessage_deflate = 1};

    p[0] = (payload){UNIWS_TEXT, (unsigned char *)strdup("hello"), 5, "small text"};
    p[1] = (payload){UNIWS_TEXT, malloc(1), 0, "empty text"};
    p[2] = (payload){UNIWS_TEXT, compressible_text(MIB, 1), MIB, "1 MiB compressible text"};
    p[3] = (payload){UNIWS_BINARY, random_bytes(65536), 65536, "64 KiB random binary"};
    p[4] = (payload){UNIWS_TEXT, random_utf8(65536, &rlen), 0, "64 KiB random UTF-8"};
    p[4].len = rlen;
    p[5] = (payload){UNIWS_BINARY, long_distance_binary(MIB), MIB, "1 MiB long-distance binary"};
    p[6] = (payload){UNIWS_BINARY, malloc(1), 0, "empty binary"};
    p[7] = (payload){UNIWS_BINARY, byte_pattern(126), 126, "126 bytes binary"};
    /* Messages that mostly repeat the previous one: with context takeover the
     * sender refers back into earlier messages, so a receiver that reset its
     * window (or a sender that kept one it agreed to drop) breaks. */
    for (int i = 0; i < SIMILAR; i++)
        p[8 + i] = (payload){UNIWS_TEXT, compressible_text(3000, 7u + (unsigned)(i & 1)), 3000,
                             "similar 3000-byte texts"};
    for (int i = 0; i < N; i++)
        total += p[i].len;

    snprintf(path, sizeof path, "/deflate%s", v->query);
    if (!conn_open(t, &c, path, &o))
        goto out;
    strip_spaces(ext, sizeof ext, uniws_extensions(c.s) ? uniws_extensions(c.s) : "(null)");
    if (strncmp(ext, "permessage-deflate", 18) != 0 || !same_params(ext, v->expect)) {
        fail_at(t, __LINE__, "%s: uniws_extensions '%s', expected '%s'", path,
                uniws_extensions(c.s), v->expect);
        goto out;
    }
    if (!echo_all(t, &c, p, N) || !get_stats(t, &c, &st))
        goto out;
    if (strcmp(st.negotiated, ext) != 0) {
        fail_at(t, __LINE__, "server answered '%s', uniws reports '%s'", st.negotiated, ext);
        goto out;
    }
    if (strncmp(st.offered, "permessage-deflate", 18) != 0) {
        fail_at(t, __LINE__, "server saw the offer '%s'", st.offered);
        goto out;
    }
    /* Every message, ours and the server's, went over the wire compressed
     * (ours plain on the backends listed above). */
    int plain = backend_sends_uncompressed(t->b->name);
    if (st.rx != N + 1 || st.rxz != (plain ? 0 : N + 1) || st.tx != N || st.txz != N) {
        fail_at(t, __LINE__,
                "compressed on the wire: from uniws %zu of %zu%s, from the server "
                "%zu of %zu (sent %d each way)",
                st.rxz, st.rx, plain ? " (this backend is listed as sending uncompressed)" : "",
                st.txz, st.tx, N);
        goto out;
    }
    if (st.rxbytes != total + 9 ||
        (plain ? st.rxwire != st.rxbytes : st.rxwire + MIB / 2 > st.rxbytes) ||
        st.txwire + MIB / 2 > st.txbytes) {
        fail_at(t, __LINE__,
                "uniws sent %zu payload bytes as %zu on the wire, the server %zu "
                "as %zu (%zu were sent)",
                st.rxbytes, st.rxwire, st.txbytes, st.txwire, total + 9);
        goto out;
    }
    snprintf(t->note, sizeof t->note, "%suniws -> ws %zu -> %zu bytes",
             plain ? "sends uncompressed (libcurl framing); " : "", st.rxbytes, st.rxwire);
    ok = conn_close(t, &c, 1000, "deflated");
out:
    conn_free(&c);
    payloads_free(p, N);
    return ok;
}

static int case_deflate(tc *t)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (!deflate_variant(t, &variants[i])) {
            size_t l = strlen(t->why);
            snprintf(t->why + l, sizeof t->why - l, " [variant /deflate%s]", variants[i].query);
            return 0;
        }
    return 1;
}

/* Option 0 against a server that would deflate: nothing offered, nothing
 * negotiated, nothing compressed either way. With the option against a
 * server that does not deflate: plain frames. */
static int no_deflate(tc *t, const char *path, int option)
{
    conn c = {0};
    stats st;
    int ok = 0;
    unsigned char *big = compressible_text(100000, 3);
    payload p[] = {{UNIWS_TEXT, big, 100000, "compressible text"}};
    uniws_options o = {.permessage_deflate = option};
    if (!conn_open(t, &c, path, &o))
        goto out;
    if (!uniws_extensions(c.s) || uniws_extensions(c.s)[0]) {
        fail_at(t, __LINE__, "%s option %d: extensions '%s'", path, option,
                uniws_extensions(c.s) ? uniws_extensions(c.s) : "(null)");
        goto out;
    }
    if (!echo_all(t, &c, p, 1) || !get_stats(t, &c, &st))
        goto out;
    if (st.negotiated[0] || st.rxz || st.txz || st.rxwire != 100000 + 9 ||
        (option == 0) != (st.offered[0] == 0)) {
        fail_at(t, __LINE__,
                "%s option %d: server saw offered='%s' negotiated='%s' rxz=%zu "
                "txz=%zu rxwire=%zu",
                path, option, st.offered, st.negotiated, st.rxz, st.txz, st.rxwire);
        goto out;
    }
    ok = conn_close(t, &c, 1000, NULL);
out:
    conn_free(&c);
    free(big);
    return ok;
}

static int case_no_deflate(tc *t)
{
    return no_deflate(t, "/deflate", 0) && no_deflate(t, "/echo", 1);
}

/* ---- running ---------------------------------------------------------------------------- */

typedef struct test_case {
    const char *name;
    int (*fn)(tc *t);
    int needs_deflate;
} test_case;

static const test_case cases[] = {
    {"echo at length boundaries (0..1 MiB, text and binary)", case_echo_sizes, 0},
    {"multibyte UTF-8 echo", case_utf8, 0},
    {"subprotocol: the server picks the second offered", case_subprotocol, 0},
    {"subprotocol: none offered, none selected", case_no_subprotocol, 0},
    {"server closes with code and reason", case_server_close, 0},
    {"client close code and reason reach the server", case_client_close, 0},
    {"server ping answered with a pong", case_ping, 0},
    {"permessage-deflate in every variant", case_deflate, 1},
    {"no permessage-deflate without both sides agreeing", case_no_deflate, 0},
};

static int passed, failed;

static void report(const uniws_backend_info *b, const char *name, int ok, const char *detail)
{
    printf("%s %s: %s%s%s\n", ok ? "PASS" : "FAIL", b->name, name, detail[0] ? " -- " : "", detail);
    fflush(stdout);
    if (ok)
        passed++;
    else
        failed++;
}

static void run_case(const uniws_backend_info *b, const test_case *k)
{
    tc t = {.b = b};
    int ok;
    if (k->needs_deflate && !(b->caps & UNIWS_CAP_PERMESSAGE_DEFLATE)) {
        /* The contract: an option the backend cannot honour fails connect. */
        uniws_options o = {.backend = b->name, .permessage_deflate = 1};
        uniws_socket *s = NULL;
        char url[64];
        int r = uniws_loop_new(&t.loop);
        snprintf(url, sizeof url, "ws://127.0.0.1:%d/deflate", server_port);
        int c = r == 0 ? uniws_connect(t.loop, url, &o, &s) : r;
        ok = c == UNIWS_EUNSUPPORTED;
        snprintf(t.why, sizeof t.why, "backend lacks the deflate capability; connect returned %s",
                 uniws_err_name(c));
        uniws_free(s);
        if (t.loop)
            uniws_loop_free(t.loop);
        report(b, k->name, ok, ok ? "not supported, connect refuses the option" : t.why);
        return;
    }
    int r = uniws_loop_new(&t.loop);
    if (r != 0) {
        snprintf(t.why, sizeof t.why, "uniws_loop_new: %s", uniws_err_name(r));
        report(b, k->name, 0, t.why);
        return;
    }
    t.deadline = now_ms() + CASE_TIMEOUT_MS;
    uint64_t t0 = now_ms();
    ok = k->fn(&t);
    /* Every socket was freed by the case; the loop must agree. */
    r = uniws_loop_free(t.loop);
    if (r != 0 && ok) {
        ok = 0;
        snprintf(t.why, sizeof t.why, "uniws_loop_free: %s (a socket was left)", uniws_err_name(r));
    }
    if (ok) {
        size_t l = strlen(t.note);
        snprintf(t.note + l, sizeof t.note - l, "%s%llu ms", l ? ", " : "",
                 (unsigned long long)(now_ms() - t0));
    }
    report(b, k->name, ok, ok ? t.note : t.why);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    if (argc >= 2 && strcmp(argv[1], "--missing-node") == 0) {
        fprintf(stderr, "interop: node was not found when CMake configured the build; install it "
                        "(scripts/bootstrap.sh) and re-run cmake\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    if (argc == 5 && strcmp(argv[3], "--only") == 0)
        only = argv[4];
    else if (argc != 3) {
        fprintf(stderr, "usage: %s NODE SERVER.MJS [--only BACKEND]\n", argv[0]);
        return 2;
    }

    size_t nb = uniws_backend_count(), tested = 0;
    uniws_backend_info infos[16];
    size_t ninfos = 0;
    for (size_t i = 0; i < nb && ninfos < 16; i++) {
        uniws_backend_info b;
        if (uniws_backend_get(i, &b) != 0)
            continue;
        if (only ? strcmp(b.name, only) == 0 : (b.caps & UNIWS_CAP_NETWORK) != 0)
            infos[ninfos++] = b;
    }
    if (ninfos == 0) {
        printf("interop: no compiled backend %s%s; nothing to test\n",
               only ? "named " : "has UNIWS_CAP_NETWORK", only ? only : "");
        return only ? 1 : 77;
    }
    if (server_start(argv[1], argv[2]) != 0) {
        server_stop();
        printf("0 passed, 1 failed\n");
        return 1;
    }
    printf("interop: ws server on 127.0.0.1:%d\n", server_port);
    for (size_t i = 0; i < ninfos; i++, tested++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            run_case(&infos[i], &cases[k]);
    server_stop();
    printf("%d passed, %d failed (%zu backend%s)\n", passed, failed, tested,
           tested == 1 ? "" : "s");
    return failed ? 1 : 0;
}
