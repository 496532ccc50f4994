/*
 * connect.c — `uniws connect URL`: an interactive / scriptable client in the
 * manner of wscat and websocat. Lines read from stdin become messages, every
 * message received goes to stdout, EOF on stdin starts the closing handshake
 * and the exit status says how the connection ended.
 *
 * The loop is embedded rather than run: stdin, interrupts and the loop are
 * waited on together (connect_io.h, one file per OS), so sending and every
 * callback happen on one thread and stdin is never read while a send would
 * fail because the socket is still connecting.
 */
#include "cli.h"
#include "connect_io.h"
#include "connect_stream.h"

#include <stdlib.h>
#include <string.h>

/* Stop reading stdin while this many bytes wait to be written, so a large
 * file piped in does not end up entirely in memory. */
#define HIGH_WATER ((size_t)4 * 1024 * 1024)
#define READ_CHUNK 65536

static const char help_text[] =
    "Usage: uniws connect URL [OPTIONS]\n"
    "\n"
    "Connects to URL (ws://, wss://, http:// or https://). Every line read from\n"
    "stdin is sent as one message (without its newline; a last line without a\n"
    "newline is sent too). Every message received is written to stdout followed by\n"
    "a newline. At end of input (Ctrl-D) everything queued is sent, then, once no\n"
    "message has arrived for --wait milliseconds (replies still on their way are\n"
    "printed), the connection is closed with the --close-code and the server's close\n"
    "frame is awaited. Ctrl-C closes at once (quits while still connecting); a second\n"
    "Ctrl-C quits. Status lines and errors go to stderr, data to stdout.\n"
    "\n"
    "Options:\n"
    "  -b, --backend NAME     backend to use (see 'uniws backends'; default: the\n"
    "                         UNIWS_BACKEND environment variable, then the build default)\n"
    "  -p, --protocol NAME    offer a subprotocol (repeatable; the server picks one)\n"
    "  -H, --header 'K: V'    add a handshake header (repeatable)\n"
    "      --binary           send each line as a binary message instead of text\n"
    "      --ca FILE          verify the server with this PEM CA bundle\n"
    "  -k, --insecure         do not verify the server's TLS certificate\n"
    "      --proxy URL        connect through a proxy (http://HOST:PORT, https://...,\n"
    "                         socks5://...)\n"
    "      --close-code N     code sent at end of input: 1000 (default) or 3000-4999\n"
    "  -w, --wait MS          at end of input, close after MS ms without a message\n"
    "                         (default 1000; 0: close at once, replies are lost)\n"
    "      --timeout MS       connect timeout in milliseconds (default 30000)\n"
    /* Options reaching the rest of uniws_options, and wscat/websocat habits. */
    "  -s, --subprotocol NAME same as --protocol (wscat's spelling)\n"
    "  -o, --origin URL       send an Origin header (same as -H 'Origin: URL')\n"
    "      --deflate          offer permessage-deflate (compressed messages)\n"
    "      --cert FILE        TLS client certificate (PEM; may hold the key too)\n"
    "      --key FILE         private key for --cert (PEM)\n"
    "      --max-size BYTES   largest message accepted (suffix k, M or G allowed;\n"
    "                         default 64M); a larger one closes with 1009, exit 3\n"
    "      --close-timeout MS wait this long for the server's close frame once we\n"
    "                         closed (default 5000), then drop the connection\n"
    "  -n, --no-close         at end of input do not close: keep printing what\n"
    "                         arrives until the server closes (or Ctrl-C)\n"
    "      --count N          close (with --close-code) once N messages arrived\n"
    "      --proxy-ca FILE    verify an https:// proxy with this PEM CA bundle (--ca\n"
    "                         and -k apply to the server only)\n"
    "      --jsonl            write every event to stdout as one JSON object per line\n"
    "                         (see Output) instead of the plain message lines\n"
    "  -q, --quiet            no 'connected' / 'closed' status lines on stderr\n"
    /* flow control (tools/cli/connect_stream.c) */
    "      --send-file PATH   send PATH as ONE binary message in 1 MiB parts (paced by\n"
    "                         the send queue: any size, ~8 MiB of memory) instead of\n"
    "                         reading stdin; then close as at end of input\n"
    "      --save-dir DIR     write each received message to DIR/msg-NNNNNN.txt|.bin\n"
    "                         as its parts arrive, instead of printing it\n"
    /* lifecycle (issue 10) */
    "      --ping-interval MS send a ping after MS ms without traffic (heartbeat)\n"
    "      --idle-timeout MS  fail (UNIWS_EIDLE_TIMEOUT) when nothing arrives for MS ms\n"
    "      --stats            print the connection's statistics on stderr at exit\n"
    "      --reconnect N      reconnect after a dropped connection, a server restart or a\n"
    "                         failed attempt: at most N attempts in a row (-1: forever),\n"
    "                         backoff 500 ms doubling to 30 s; lines read meanwhile are\n"
    "                         not sent\n"
    "      --show-headers     print the server's handshake answer headers on stderr\n"
    "      --follow N         follow up to N redirects (301/302/307/308) of the\n"
    "                         handshake, never from wss:// to ws:// (default: 0, a\n"
    "                         redirect is an error that shows its Location)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Output:\n"
    "  text message           written as is, then a newline\n"
    "  binary message         '[binary N bytes] HEX' (lowercase hex of the payload);\n"
    "                         with --binary the raw bytes, then a newline\n"
    "  with --jsonl, one object per line, keys in this order:\n"
    "    {\"type\":\"open\",\"url\":U,\"backend\":B,\"protocol\":P,\"extensions\":E}\n"
    "    {\"type\":\"text\",\"length\":N,\"data\":STRING}\n"
    "    {\"type\":\"binary\",\"length\":N,\"hex\":HEX}\n"
    "    {\"type\":\"error\",\"error\":NAME,\"message\":M,\"http_status\":S}\n"
    "    {\"type\":\"close\",\"code\":C,\"reason\":R,\"clean\":true|false}\n"
    "  A text line that is not valid UTF-8 is not sent (error on stderr; use --binary).\n"
    "  Options a backend cannot honour (e.g. --proxy) are an error, never ignored.\n"
    "\n"
    "Exit status:\n"
    "  0  closed cleanly with code 1000 or the --close-code (or, after we closed,\n"
    "     an answer without a code)\n"
    "  1  usage error: bad option, bad URL, unknown backend, unsupported option\n"
    "  2  connection failed before it opened (DNS, refused, TLS, handshake, timeout);\n"
    "     stderr names the error code and the HTTP status, if any\n"
    "  3  closed uncleanly (no close frame, protocol error, ...) or with another\n"
    "     code (e.g. the server closed with 1001 or 4000)\n"
    "  130  interrupted by a second Ctrl-C\n"
    "\n"
    "Example:\n"
    "  echo hello | uniws connect ws://127.0.0.1:8080/echo\n";

typedef struct conn {
    uniws_socket *s;
    int binary;
    int quiet;
    int close_code;    /* what we send at end of input */
    int opened;        /* on_open fired */
    int close_started; /* we called uniws_close */
    int closed;        /* on_close fired */
    int errored;       /* on_error fired */
    int ev_code;       /* close event */
    int ev_clean;
    int stdout_failed;
    unsigned long line_no;
    int wait_ms;          /* --wait */
    double last_activity; /* end of input, a message, unsent bytes */
    /* Output and ending options (--jsonl, --no-close, --count). */
    int jsonl;
    int no_close;
    unsigned long count; /* 0: no limit */
    unsigned long received;
    /* flow control: --send-file / --save-dir */
    uniws__cli_stream st;
    int file_done; /* the whole file is queued (or failed) */
    /* ---- lifecycle (issue 10) ---- */
    int show_headers; /* --show-headers */
} conn;

static void start_close(conn *c)
{
    int rc;

    if (c->close_started || c->closed)
        return;
    c->close_started = 1;
    rc = uniws_close(c->s, c->close_code, NULL);
    if (rc < 0)
        uniws__cli_error("connect", "close failed: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
}

/* A NUL-terminated string (NULL: "") as JSON, for --jsonl. */
static void json_str(const char *str)
{
    uniws__cli_json_string(stdout, str ? str : "", str ? strlen(str) : 0);
}

static void flush_stdout(conn *c)
{
    if (c->stdout_failed)
        return;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        /* Nobody reads our output any more (e.g. `| head`): say goodbye. */
        c->stdout_failed = 1;
        start_close(c);
    }
}

static void pump_file(conn *c);
/* ---- lifecycle (issue 10) ---- */
/* --stats: the counters of uniws_get_stats() on stderr. */
static void print_stats(const uniws_socket *s)
{
    uniws_stats st;
    if (uniws_get_stats(s, &st) != 0)
        return;
    fprintf(stderr,
            "uniws connect: stats: messages sent %llu (%llu bytes), received %llu (%llu bytes)\n"
            "uniws connect: stats: wire bytes sent %llu, received %llu; frames sent %llu, "
            "received %llu\n"
            "uniws connect: stats: pings sent %llu, received %llu; pongs received %llu; "
            "rtt last %d ms, smoothed %d ms\n"
            "uniws connect: stats: compression ratio sent %.2f, received %.2f; transport %d ms, "
            "open %d ms\n",
            (unsigned long long)st.msgs_sent, (unsigned long long)st.bytes_sent,
            (unsigned long long)st.msgs_received, (unsigned long long)st.bytes_received,
            (unsigned long long)st.wire_bytes_sent, (unsigned long long)st.wire_bytes_received,
            (unsigned long long)st.frames_sent, (unsigned long long)st.frames_received,
            (unsigned long long)st.pings_sent, (unsigned long long)st.pings_received,
            (unsigned long long)st.pongs_received, st.rtt_last_ms, st.rtt_smoothed_ms,
            st.compression_ratio_sent, st.compression_ratio_received, st.transport_ms, st.open_ms);
    /* -1: the backend does not report that phase (docs/api.md "Statistics") */
    char ph[4][16];
    int v[4] = {st.dns_ms, st.tcp_ms, st.tls_ms, st.upgrade_ms};
    for (int i = 0; i < 4; i++) {
        if (v[i] < 0)
            snprintf(ph[i], sizeof ph[i], "n/a");
        else
            snprintf(ph[i], sizeof ph[i], "%d ms", v[i]);
    }
    fprintf(stderr,
            "uniws connect: stats: connect phases: dns %s, tcp %s, tls %s, upgrade %s; "
            "redirects %llu, reconnects %llu\n",
            ph[0], ph[1], ph[2], ph[3], (unsigned long long)st.redirects,
            (unsigned long long)st.reconnects);
}

/* --show-headers: the handshake answer's header lines. */
static void print_headers(const uniws_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "uniws connect: < %s: %s\n", h[i].name, h[i].value);
}

/* --reconnect: one line before each wait. */
static void on_reconnecting(uniws_socket *s, const uniws_reconnect_event *ev, void *user_data)
{
    conn *c = user_data;
    (void)s;
    if (!c->quiet)
        fprintf(stderr, "uniws connect: reconnecting in %d ms (attempt %d; ended with %d%s%s)\n",
                ev->delay_ms, ev->attempt, ev->code, ev->cause ? ", " : "",
                ev->cause ? uniws_err_name(ev->cause) : "");
}
/* ---- end lifecycle ---- */

static void on_open(uniws_socket *s, void *user_data)
{
    conn *c = user_data;
    const char *proto = uniws_protocol(s), *ext = uniws_extensions(s);

    if (c->show_headers) {
        uniws_header h;
        for (size_t i = 0; uniws_response_header_at(s, i, &h) == 0; i++)
            print_headers(&h, 1);
    }
    c->opened = 1;
    if (c->jsonl) {
        printf("{\"type\":\"open\",\"url\":");
        json_str(uniws_url(s));
        printf(",\"backend\":");
        json_str(uniws_backend_name(s));
        printf(",\"protocol\":");
        json_str(proto);
        printf(",\"extensions\":");
        json_str(ext);
        printf("}\n");
        flush_stdout(c);
    }
    if (c->st.send_path)
        pump_file(c);
    if (c->quiet)
        return;
    fprintf(stderr, "uniws connect: connected to %s (backend %s", uniws_url(s),
            uniws_backend_name(s));
    if (proto && *proto)
        fprintf(stderr, ", protocol %s", proto);
    if (ext && *ext)
        fprintf(stderr, ", extensions %s", ext);
    fprintf(stderr, ")\n");
}

/* --send-file: queue what fits; the rest when the queue drains. */
static void pump_file(conn *c)
{
    int r = uniws__cli_stream_pump(&c->st, c->s);
    if (r != 0)
        c->file_done = 1;
    if (r < 0)
        start_close(c);
}

static void on_buffered_low(uniws_socket *s, void *user_data)
{
    conn *c = user_data;
    (void)s;
    c->last_activity = uniws__cli_now_ms();
    if (c->st.send_path && !c->file_done && !c->close_started)
        pump_file(c);
}

static void on_message_part(uniws_socket *s, const uniws_message_part *m, void *user_data)
{
    conn *c = user_data;
    (void)s;
    c->last_activity = uniws__cli_now_ms();
    uniws__cli_stream_part(&c->st, m);
    if (c->st.failed)
        start_close(c);
}

static void on_message(uniws_socket *s, const uniws_message *msg, void *user_data)
{
    conn *c = user_data;

    (void)s;
    c->last_activity = uniws__cli_now_ms();
    if (c->stdout_failed)
        return;
    if (c->jsonl) {
        printf("{\"type\":\"%s\",\"length\":%zu,", msg->type == UNIWS_TEXT ? "text" : "binary",
               msg->len);
        if (msg->type == UNIWS_TEXT) {
            printf("\"data\":");
            uniws__cli_json_string(stdout, msg->data, msg->len);
        } else {
            printf("\"hex\":\"");
            uniws__cli_write_hex(stdout, msg->data, msg->len);
            putchar('"');
        }
        putchar('}');
    } else if (msg->type == UNIWS_TEXT || c->binary) {
        fwrite(msg->data, 1, msg->len, stdout);
    } else {
        printf("[binary %zu bytes] ", msg->len);
        uniws__cli_write_hex(stdout, msg->data, msg->len);
    }
    fputc('\n', stdout);
    flush_stdout(c);
    if (c->count && ++c->received >= c->count)
        start_close(c);
}

static void on_error(uniws_socket *s, const uniws_error_event *ev, void *user_data)
{
    conn *c = user_data;
    char http[32] = "";

    (void)s;
    c->errored = 1;
    if (c->jsonl) {
        printf("{\"type\":\"error\",\"error\":\"%s\",\"message\":", uniws_err_name(ev->error));
        json_str(ev->message);
        printf(",\"http_status\":%d}\n", ev->http_status);
        flush_stdout(c);
    }
    if (ev->http_status)
        snprintf(http, sizeof(http), " (HTTP %d)", ev->http_status);
    uniws__cli_error("connect", "%s: %s: %s%s",
                     c->opened ? "connection error" : "connection failed",
                     uniws_err_name(ev->error), ev->message, http);
    if (ev->location)
        uniws__cli_error("connect", "redirected to %s (not followed)", ev->location);
    if (c->show_headers)
        print_headers(ev->headers, ev->num_headers);
}

static void on_close(uniws_socket *s, const uniws_close_event *ev, void *user_data)
{
    conn *c = user_data;

    (void)s;
    c->closed = 1;
    c->ev_code = ev->code;
    c->ev_clean = ev->was_clean;
    if (c->jsonl) {
        printf("{\"type\":\"close\",\"code\":%d,\"reason\":", ev->code);
        json_str(ev->reason);
        printf(",\"clean\":%s}\n", ev->was_clean ? "true" : "false");
        flush_stdout(c);
    }
    /* A connection that never opened ends in one line: the error said it all
     * (its close is always 1006). */
    if (c->quiet || (c->errored && !c->opened))
        return;
    fprintf(stderr, "uniws connect: closed: code %d, reason \"%s\", %s\n", ev->code,
            ev->reason ? ev->reason : "", ev->was_clean ? "clean" : "not clean");
}

static void send_line(conn *c, const char *p, size_t n)
{
    int rc;

    c->line_no++;
    rc = c->binary ? uniws_send_binary(c->s, p, n) : uniws_send_text(c->s, p, n);
    if (rc == UNIWS_EUTF8)
        uniws__cli_error("connect", "line %lu is not valid UTF-8; not sent (use --binary)",
                         c->line_no);
    else if (rc < 0 && rc != UNIWS_ECLOSED)
        uniws__cli_error("connect", "send failed: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
}

typedef struct line_buf {
    char *data;
    size_t len, cap;
} line_buf;

/* Reads once from stdin (poll said it would not block) and sends every
 * complete line. Returns 1 at end of input (or when it cannot be read). */
static int read_stdin(conn *c, line_buf *lb)
{
    long r;
    size_t start = 0, i;

    if (lb->cap - lb->len < READ_CHUNK) {
        size_t cap = lb->cap ? lb->cap * 2 : READ_CHUNK * 2;
        char *p = realloc(lb->data, cap);
        if (!p) {
            uniws__cli_error("connect", "out of memory reading stdin");
            return 1;
        }
        lb->data = p;
        lb->cap = cap;
    }
    r = uniws__cli_io_read(lb->data + lb->len, READ_CHUNK);
    if (r == -2)
        return 0;
    if (r < 0)
        return 1;
    if (r == 0) {
        if (lb->len > 0)
            send_line(c, lb->data, lb->len);
        lb->len = 0;
        return 1;
    }
    /* Only the new bytes can hold a newline we have not seen yet. */
    for (i = lb->len; i < lb->len + (size_t)r; i++) {
        if (lb->data[i] == '\n') {
            send_line(c, lb->data + start, i - start);
            start = i + 1;
        }
    }
    lb->len += (size_t)r;
    if (start > 0) {
        memmove(lb->data, lb->data + start, lb->len - start);
        lb->len -= start;
    }
    return 0;
}

/* Explains UNIWS_EUNSUPPORTED by naming the options the backend lacks. */
static void explain_unsupported(const uniws_options *o, unsigned wanted)
{
    uniws_backend_info info;
    char names[256];
    int rc = o->backend ? uniws_backend_find(o->backend, &info) : uniws_backend_default(&info);
    unsigned missing;

    if (rc != 0) {
        uniws__cli_error("connect", "the backend cannot honour an option");
        return;
    }
    missing = wanted & ~info.caps;
    if (!missing) {
        uniws__cli_error("connect", "the %s backend cannot honour an option (%s)", info.name,
                         uniws_strerror(UNIWS_EUNSUPPORTED));
        return;
    }
    uniws_caps_string(missing, names, sizeof(names));
    uniws__cli_error("connect", "the %s backend cannot honour: %s (see 'uniws backends')",
                     info.name, names);
}

static int parse_header(char *arg, uniws_header *h)
{
    char *colon = strchr(arg, ':'), *end;

    if (!colon || colon == arg)
        return -1;
    *colon = '\0';
    end = colon;
    while (end > arg && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    if (end == arg)
        return -1;
    colon++;
    while (*colon == ' ' || *colon == '\t')
        colon++;
    end = colon + strlen(colon);
    while (end > colon && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    h->name = arg;
    h->value = colon;
    return 0;
}

/* Parses a size such as 1000, 64k, 16M or 1G into *out (>= 1). Returns 0 or -1. */
static int parse_size(const char *v, size_t *out)
{
    char digits[32];
    size_t n = strlen(v);
    long num, mult = 1;

    if (n == 0 || n >= sizeof(digits))
        return -1;
    memcpy(digits, v, n + 1);
    switch (digits[n - 1]) {
    case 'k':
    case 'K':
        mult = 1024;
        break;
    case 'm':
    case 'M':
        mult = 1024L * 1024;
        break;
    case 'g':
    case 'G':
        mult = 1024L * 1024 * 1024;
        break;
    default:
        break;
    }
    if (mult > 1)
        digits[n - 1] = '\0';
    if (uniws__cli_parse_long(digits, 1, 2147483647L / mult, &num) != 0)
        return -1;
    *out = (size_t)num * (size_t)mult;
    return 0;
}

/* The options that reach the rest of uniws_options (--deflate, --cert/--key,
 * --max-size, --close-timeout), wscat/websocat spellings (-s, -o) and how the
 * session ends and prints (--no-close, --count, --jsonl). Returns 1 when the
 * current argument was one of them (a bad value sets a->failed). */
static int parse_reach_option(uniws__cli_args *a, uniws_options *o, conn *c, unsigned *wanted,
                              const char **protocols, uniws_header *headers)
{
    const char *v;
    long num;

    if (uniws__cli_value(a, "--subprotocol", &v) || uniws__cli_value(a, "-s", &v)) {
        if (v)
            protocols[o->num_protocols++] = v;
    } else if (uniws__cli_value(a, "--origin", &v) || uniws__cli_value(a, "-o", &v)) {
        if (v) {
            headers[o->num_headers].name = "Origin";
            headers[o->num_headers++].value = v;
            *wanted |= UNIWS_CAP_CUSTOM_HEADERS;
        }
    } else if (uniws__cli_flag(a, "--deflate")) {
        o->permessage_deflate = 1;
        *wanted |= UNIWS_CAP_PERMESSAGE_DEFLATE;
    } else if (uniws__cli_value(a, "--cert", &v)) {
        o->tls_client_cert = v;
        *wanted |= UNIWS_CAP_TLS_CLIENT_CERT;
    } else if (uniws__cli_value(a, "--key", &v)) {
        o->tls_client_key = v;
        *wanted |= UNIWS_CAP_TLS_CLIENT_CERT;
    } else if (uniws__cli_value(a, "--max-size", &v)) {
        if (v && parse_size(v, &o->max_message_size) != 0) {
            uniws__cli_usage_error("connect", "--max-size needs bytes (>= 1, suffix k, M or G)");
            a->failed = 1;
        }
    } else if (uniws__cli_value(a, "--close-timeout", &v)) {
        if (v && uniws__cli_parse_long(v, 1, 24L * 3600 * 1000, &num) != 0) {
            uniws__cli_usage_error("connect", "--close-timeout needs milliseconds (> 0)");
            a->failed = 1;
        } else if (v) {
            o->close_timeout_ms = (int)num;
        }
    } else if (uniws__cli_flag(a, "--no-close") || uniws__cli_flag(a, "-n")) {
        c->no_close = 1;
    } else if (uniws__cli_value(a, "--count", &v)) {
        if (v && uniws__cli_parse_long(v, 1, 2147483647L, &num) != 0) {
            uniws__cli_usage_error("connect", "--count needs a number of messages (>= 1)");
            a->failed = 1;
        } else if (v) {
            c->count = (unsigned long)num;
        }
    } else if (uniws__cli_value(a, "--proxy-ca", &v)) {
        o->proxy_ca_file = v;
        *wanted |= UNIWS_CAP_PROXY_CA_FILE;
    } else if (uniws__cli_flag(a, "--jsonl")) {
        c->jsonl = 1;
    } else {
        return 0;
    }
    return 1;
}

static int run(conn *c, uniws_loop *loop)
{
    line_buf lb = {NULL, 0, 0};
    int in_eof = 0, signals = 0;

    while (uniws_loop_alive(loop) > 0) {
        int want_in = 0, timeout, rc, throttled = 0;

        if (c->st.send_path && c->file_done && !in_eof) {
            /* --send-file: the file is queued, as if stdin had ended */
            in_eof = 1;
            c->last_activity = uniws__cli_now_ms();
            if (c->wait_ms == 0)
                start_close(c);
        }
        if (c->opened && !in_eof && !c->close_started && !c->st.send_path &&
            uniws_ready_state(c->s) == UNIWS_OPEN) {
            if (uniws_buffered_amount(c->s) < HIGH_WATER)
                want_in = 1;
            else
                throttled = 1;
        }
        timeout = uniws_loop_timeout(loop);
        if (in_eof && !c->no_close && !c->close_started && !c->closed) {
            /* Replies to what we sent may still be on their way, and a browser-
             * style socket drops messages once closing: wait for quiet. */
            double now = uniws__cli_now_ms(), left;
            if (uniws_buffered_amount(c->s) > 0) {
                c->last_activity = now;
                throttled = 1;
            }
            left = c->last_activity + c->wait_ms - now;
            if (left <= 0) {
                start_close(c);
                continue;
            }
            if (timeout < 0 || timeout > (int)left + 1)
                timeout = (int)left + 1;
        }
        /* While waiting for the send queue to drain nothing wakes us: look
         * again soon. */
        if (throttled && (timeout < 0 || timeout > 10))
            timeout = 10;
        rc = uniws__cli_io_wait(loop, want_in, timeout);
        if (rc < 0)
            break;
        if (rc & UNIWS__CLI_IO_SIGNAL) {
            signals += uniws__cli_io_signals();
            if (signals >= 2 || !c->opened) {
                free(lb.data);
                return UNIWS__CLI_EXIT_SIGNAL;
            }
            start_close(c);
        }
        if (rc & UNIWS__CLI_IO_INPUT) {
            if (read_stdin(c, &lb)) {
                in_eof = 1;
                c->last_activity = uniws__cli_now_ms();
                if (c->wait_ms == 0 && !c->no_close)
                    start_close(c);
            }
        }
        rc = uniws_loop_run_once(loop, 0);
        if (rc < 0) {
            uniws__cli_error("connect", "loop: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
            break;
        }
    }
    free(lb.data);
    if (!c->closed)
        return UNIWS__CLI_EXIT_UNCLEAN;
    if (!c->opened)
        return UNIWS__CLI_EXIT_FAILED;
    if (c->ev_clean && (c->ev_code == UNIWS_CLOSE_NORMAL || c->ev_code == c->close_code ||
                        (c->close_started && c->ev_code == UNIWS_CLOSE_NO_STATUS)))
        return UNIWS__CLI_EXIT_OK;
    return UNIWS__CLI_EXIT_UNCLEAN;
}

int uniws__cli_connect(int argc, char **argv)
{
    uniws__cli_args a;
    uniws_options o;
    conn c;
    const char *url = NULL, *v;
    const char **protocols;
    uniws_header *headers;
    unsigned wanted = 0;
    int show_stats = 0; /* --stats (lifecycle) */
    uniws_loop *loop = NULL;
    long num;
    int rc, status;

    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    c.close_code = UNIWS_CLOSE_NORMAL;
    c.wait_ms = 1000;
    protocols = calloc((size_t)argc + 1, sizeof(*protocols));
    headers = calloc((size_t)argc + 1, sizeof(*headers));
    if (!protocols || !headers) {
        free(protocols);
        free(headers);
        uniws__cli_error("connect", "out of memory");
        return UNIWS__CLI_EXIT_FAILED;
    }

    uniws__cli_args_init(&a, argc, argv);
    while (!a.failed && uniws__cli_args_next(&a)) {
        if (uniws__cli_is_help(&a)) {
            fputs(help_text, stdout);
            free(protocols);
            free(headers);
            return UNIWS__CLI_EXIT_OK;
        } else if (uniws__cli_operand(&a)) {
            if (url) {
                uniws__cli_unknown(&a);
                break;
            }
            url = a.argv[a.i];
        } else if (uniws__cli_value(&a, "--backend", &v) || uniws__cli_value(&a, "-b", &v)) {
            if (v && uniws__cli_check_backend("connect", v) != 0)
                a.failed = 1;
            o.backend = v;
        } else if (uniws__cli_value(&a, "--protocol", &v) || uniws__cli_value(&a, "-p", &v)) {
            if (v)
                protocols[o.num_protocols++] = v;
        } else if (uniws__cli_value(&a, "--header", &v) || uniws__cli_value(&a, "-H", &v)) {
            /* v points into argv, which is ours to split in place. */
            char *arg = v ? a.argv[a.i] + (v - a.argv[a.i]) : NULL;
            if (arg && parse_header(arg, &headers[o.num_headers]) != 0) {
                uniws__cli_usage_error("connect", "header must look like 'Name: value'");
                a.failed = 1;
            } else if (arg) {
                o.num_headers++;
                wanted |= UNIWS_CAP_CUSTOM_HEADERS;
            }
        } else if (uniws__cli_flag(&a, "--binary")) {
            c.binary = 1;
        } else if (uniws__cli_value(&a, "--ca", &v)) {
            o.tls_ca_file = v;
            wanted |= UNIWS_CAP_TLS_CA_FILE;
        } else if (uniws__cli_flag(&a, "--insecure") || uniws__cli_flag(&a, "-k")) {
            o.tls_skip_verify = 1;
            wanted |= UNIWS_CAP_TLS_SKIP_VERIFY;
        } else if (uniws__cli_value(&a, "--proxy", &v)) {
            o.proxy = v;
            wanted |= UNIWS_CAP_PROXY;
        } else if (uniws__cli_value(&a, "--close-code", &v)) {
            if (v &&
                (uniws__cli_parse_long(v, 1000, 4999, &num) != 0 || (num != 1000 && num < 3000))) {
                uniws__cli_usage_error("connect", "--close-code must be 1000 or 3000-4999");
                a.failed = 1;
            } else if (v) {
                c.close_code = (int)num;
            }
        } else if (uniws__cli_value(&a, "--wait", &v) || uniws__cli_value(&a, "-w", &v)) {
            if (v && uniws__cli_parse_long(v, 0, 24L * 3600 * 1000, &num) != 0) {
                uniws__cli_usage_error("connect", "--wait needs milliseconds (>= 0)");
                a.failed = 1;
            } else if (v) {
                c.wait_ms = (int)num;
            }
        } else if (uniws__cli_value(&a, "--timeout", &v)) {
            if (v && uniws__cli_parse_long(v, 1, 24L * 3600 * 1000, &num) != 0) {
                uniws__cli_usage_error("connect", "--timeout needs milliseconds (> 0)");
                a.failed = 1;
            } else if (v) {
                o.connect_timeout_ms = (int)num;
                wanted |= UNIWS_CAP_CONNECT_TIMEOUT;
            }
        } else if (uniws__cli_flag(&a, "--quiet") || uniws__cli_flag(&a, "-q")) {
            c.quiet = 1;
            /* ---- lifecycle (issue 10) ---- */
        } else if (uniws__cli_value(&a, "--ping-interval", &v)) {
            if (v && uniws__cli_parse_long(v, 1, 24L * 3600 * 1000, &num) != 0) {
                uniws__cli_usage_error("connect", "--ping-interval needs milliseconds (> 0)");
                a.failed = 1;
            } else if (v) {
                o.ping_interval_ms = (int)num;
                wanted |= UNIWS_CAP_PING;
            }
        } else if (uniws__cli_value(&a, "--idle-timeout", &v)) {
            if (v && uniws__cli_parse_long(v, 1, 24L * 3600 * 1000, &num) != 0) {
                uniws__cli_usage_error("connect", "--idle-timeout needs milliseconds (> 0)");
                a.failed = 1;
            } else if (v) {
                o.idle_timeout_ms = (int)num;
            }
        } else if (uniws__cli_flag(&a, "--stats")) {
            show_stats = 1;
        } else if (uniws__cli_value(&a, "--reconnect", &v)) {
            if (v && (uniws__cli_parse_long(v, -1, 1000000, &num) != 0 || num == 0)) {
                uniws__cli_usage_error("connect", "--reconnect needs attempts (> 0, or -1)");
                a.failed = 1;
            } else if (v) {
                o.reconnect.max_attempts = (int)num;
            }
        } else if (uniws__cli_flag(&a, "--show-headers")) {
            c.show_headers = 1;
        } else if (uniws__cli_value(&a, "--follow", &v)) {
            if (v && uniws__cli_parse_long(v, 0, 100, &num) != 0) {
                uniws__cli_usage_error("connect", "--follow needs a number of redirects (0-100)");
                a.failed = 1;
            } else if (v) {
                o.max_redirects = (int)num;
                if (num > 0)
                    wanted |= UNIWS_CAP_RESPONSE_HEADERS;
            }
            /* ---- end lifecycle ---- */
        } else if (parse_reach_option(&a, &o, &c, &wanted, protocols, headers)) {
            /* done: --subprotocol, --origin, --deflate, --cert, --key, ... */
        } else if (uniws__cli_value(&a, "--send-file", &v)) {
            c.st.send_path = v;
        } else if (uniws__cli_value(&a, "--save-dir", &v)) {
            c.st.save_dir = v;
        } else {
            uniws__cli_unknown(&a);
        }
    }
    if (!a.failed && !url)
        uniws__cli_usage_error("connect", "missing URL");
    if (a.failed || !url) {
        free(protocols);
        free(headers);
        return UNIWS__CLI_EXIT_USAGE;
    }
    if (strncmp(url, "wss:", 4) == 0 || strncmp(url, "https:", 6) == 0)
        wanted |= UNIWS_CAP_WSS;
    o.protocols = protocols;
    o.headers = headers;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.callbacks.on_reconnecting = on_reconnecting;
    o.user_data = &c;
    o.callbacks.on_buffered_amount_low = on_buffered_low;
    if (c.st.save_dir)
        o.callbacks.on_message_part = on_message_part;
    c.st.quiet = c.quiet;
    if (uniws__cli_stream_setup(&c.st, &o) != 0) {
        status = UNIWS__CLI_EXIT_FAILED;
        goto out;
    }

    rc = uniws_loop_new(&loop);
    if (rc < 0) {
        uniws__cli_error("connect", "cannot create the loop: %s", uniws_strerror(rc));
        status = UNIWS__CLI_EXIT_FAILED;
        goto out;
    }
    if (uniws__cli_io_start(loop) != 0) {
        status = UNIWS__CLI_EXIT_FAILED;
        goto out;
    }
    rc = uniws_connect(loop, url, &o, &c.s);
    if (rc < 0) {
        if (rc == UNIWS_EUNSUPPORTED)
            explain_unsupported(&o, wanted);
        else
            uniws__cli_error("connect", "%s: %s", uniws_err_name(rc), uniws_strerror(rc));
        status = (rc == UNIWS_ENOMEM || rc == UNIWS_EWRONG_THREAD) ? UNIWS__CLI_EXIT_FAILED
                                                                   : UNIWS__CLI_EXIT_USAGE;
        goto out;
    }
    status = run(&c, loop);
    if (show_stats)
        print_stats(c.s);

out:
    uniws_free(c.s);
    uniws__cli_stream_free(&c.st);
    if (loop)
        uniws_loop_free(loop);
    free(protocols);
    free(headers);
    return status;
}
