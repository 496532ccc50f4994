/*
 * demo.c — `uniws demo`: the README's first command. Starts the local
 * scripted server, puts every compiled backend (or the named ones) through the
 * same short exchange and prints the results side by side, so one glance shows
 * that the application code is identical and the behaviour too.
 */
#include "cli.h"
#include "tools/server/server.h"

#include <stdlib.h>
#include <string.h>

#define STEP_TIMEOUT_MS 15000
#define MAX_BACKENDS    16
#define BIG_SIZE        ((size_t)1024 * 1024)
#define DEMO_PROTOCOL   "uniws-demo"
#define FRAG_TEXT       "split-into-4-fragments"
#define TEXT_MSG        "hello from uniws \xc3\xa9\xe2\x9c\x93" /* with 2- and 3-byte UTF-8 */
#define CLOSE_CODE      4000
#define CLOSE_REASON    "demo done"

static const char help_text[] =
    "Usage: uniws demo [--backend NAME]...\n"
    "\n"
    "Starts a local server on 127.0.0.1 (a free port) and runs the same exchange\n"
    "on every compiled backend (or only the named ones), one connection each,\n"
    "offering the subprotocol '" DEMO_PROTOCOL "':\n"
    "  connect             open the connection\n"
    "  fragmented (peer)   the server sends a text message in 4 fragments\n"
    "  text                a UTF-8 text message is echoed back\n"
    "  binary 256 B        a binary message is echoed back\n"
    "  binary 1 MiB        a 1 MiB binary message is echoed back\n"
    "  close 4000          close with code 4000 and reason '" CLOSE_REASON "'; the server\n"
    "                      answers with the same; the close must be clean\n"
    "It prints one row per step and one column per backend ('ok 1.23 ms' or\n"
    "'FAIL (why)'), then the selected protocol, the close event and the total time.\n"
    "The loopback backend runs the same server logic in-process (no network).\n"
    "\n"
    "Options:\n"
    "  -b, --backend NAME   run only this backend (repeatable)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 every step passed on every backend, 1 usage error, 2 the local\n"
    "server could not start, 3 a step failed (details are printed under the table).\n";

enum { S_CONNECT, S_FRAG, S_TEXT, S_BINARY, S_BIG, S_CLOSE, S_PROTOCOL, NUM_CHECKS };

/* S_PROTOCOL is a check without a timing; it is printed with the info rows. */
static const char *const step_names[NUM_CHECKS] = {
    "connect",      "fragmented (peer)", "text",    "binary 256 B",
    "binary 1 MiB", "close 4000",        "protocol"};

typedef struct check {
    int state; /* 0 not run, 1 ok, -1 failed */
    double ms;
    char why[40];     /* short, for the table */
    char detail[200]; /* long, printed under the table */
} check;

typedef struct demo_run {
    uniws_backend_info info;
    uniws_socket *s;
    int opened, closed, errored;
    int err_code, http_status;
    char err_msg[160];
    unsigned msgs, msgs_before;
    uniws_msg_type last_type;
    unsigned char *last;
    size_t last_len;
    int last_oom;
    int close_code, was_clean;
    char close_reason[128];
    char protocol[64];
    check checks[NUM_CHECKS];
    double total_ms;
} demo_run;

static void on_open(uniws_socket *s, void *user_data)
{
    demo_run *r = user_data;
    r->opened = 1;
    snprintf(r->protocol, sizeof(r->protocol), "%s", uniws_protocol(s));
}

static void on_message(uniws_socket *s, const uniws_message *msg, void *user_data)
{
    demo_run *r = user_data;

    (void)s;
    free(r->last);
    r->last = malloc(msg->len ? msg->len : 1);
    r->last_oom = r->last == NULL;
    if (r->last)
        memcpy(r->last, msg->data, msg->len);
    r->last_len = msg->len;
    r->last_type = msg->type;
    r->msgs++;
}

static void on_error(uniws_socket *s, const uniws_error_event *ev, void *user_data)
{
    demo_run *r = user_data;

    (void)s;
    if (r->errored)
        return;
    r->errored = 1;
    r->err_code = ev->error;
    r->http_status = ev->http_status;
    snprintf(r->err_msg, sizeof(r->err_msg), "%s", ev->message);
}

static void on_close(uniws_socket *s, const uniws_close_event *ev, void *user_data)
{
    demo_run *r = user_data;

    (void)s;
    r->closed = 1;
    r->close_code = ev->code;
    r->was_clean = ev->was_clean;
    snprintf(r->close_reason, sizeof(r->close_reason), "%s", ev->reason ? ev->reason : "");
}

static int opened_or_closed(void *ctx)
{
    demo_run *r = ctx;
    return r->opened || r->closed;
}

static int got_message(void *ctx)
{
    demo_run *r = ctx;
    return r->msgs > r->msgs_before || r->closed;
}

static int is_closed(void *ctx)
{
    return ((demo_run *)ctx)->closed;
}

static void pass(demo_run *r, int step, double t0)
{
    r->checks[step].state = 1;
    r->checks[step].ms = uniws__cli_now_ms() - t0;
}

static void fail(demo_run *r, int step, const char *why, const char *detail)
{
    check *c = &r->checks[step];
    c->state = -1;
    snprintf(c->why, sizeof(c->why), "%s", why);
    snprintf(c->detail, sizeof(c->detail), "%s", detail);
}

/* Fails a step whose wait ended without the awaited event, saying why. */
static void fail_wait(demo_run *r, int step, int rc)
{
    char detail[200];

    if (r->errored) {
        snprintf(detail, sizeof(detail), "error event %s: %s", uniws_err_name(r->err_code),
                 r->err_msg);
        fail(r, step, uniws_err_name(r->err_code), detail);
    } else if (r->closed) {
        char why[40];
        snprintf(why, sizeof(why), "closed %d", r->close_code);
        snprintf(detail, sizeof(detail), "closed early: code %d, reason \"%s\", %s", r->close_code,
                 r->close_reason, r->was_clean ? "clean" : "not clean");
        fail(r, step, why, detail);
    } else if (rc == UNIWS_ETIMEOUT) {
        snprintf(detail, sizeof(detail), "nothing happened within %d ms", STEP_TIMEOUT_MS);
        fail(r, step, "timeout", detail);
    } else {
        snprintf(detail, sizeof(detail), "loop: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
        fail(r, step, uniws_err_name(rc), detail);
    }
}

/* Checks that the last message received is exactly (type, data, len). */
static int check_message(demo_run *r, int step, uniws_msg_type type, const void *data, size_t len)
{
    char detail[200];

    if (r->last_oom) {
        fail(r, step, "no memory", "out of memory copying the message");
        return -1;
    }
    if (r->last_type != type) {
        snprintf(detail, sizeof(detail), "got a %s message, wanted %s",
                 r->last_type == UNIWS_TEXT ? "text" : "binary",
                 type == UNIWS_TEXT ? "text" : "binary");
        fail(r, step, "wrong type", detail);
        return -1;
    }
    if (r->last_len != len) {
        snprintf(detail, sizeof(detail), "got %zu bytes, wanted %zu", r->last_len, len);
        fail(r, step, "wrong length", detail);
        return -1;
    }
    if (len && memcmp(r->last, data, len) != 0) {
        fail(r, step, "wrong bytes", "the payload differs from what was sent");
        return -1;
    }
    return 0;
}

static int echo_step(demo_run *r, uniws_loop *loop, int step, uniws_msg_type type, const void *data,
                     size_t len)
{
    double t0 = uniws__cli_now_ms();
    char detail[200];
    int rc;

    r->msgs_before = r->msgs;
    rc = type == UNIWS_TEXT ? uniws_send_text(r->s, data, len) : uniws_send_binary(r->s, data, len);
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "send: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
        fail(r, step, uniws_err_name(rc), detail);
        return -1;
    }
    rc = uniws__cli_wait(loop, got_message, r, STEP_TIMEOUT_MS);
    if (r->msgs == r->msgs_before) {
        fail_wait(r, step, rc);
        return -1;
    }
    if (check_message(r, step, type, data, len) != 0)
        return 0; /* still open: the next steps can run */
    pass(r, step, t0);
    return 0;
}

static void run_backend(demo_run *r, int port)
{
    uniws_loop *loop = NULL;
    uniws_options o;
    const char *protocols[] = {DEMO_PROTOCOL};
    char url[160], detail[200];
    unsigned char small[256], *big;
    double t0, start;
    size_t i;
    int rc;

    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/script/frag:4:%s", port, FRAG_TEXT);
    memset(&o, 0, sizeof(o));
    o.backend = r->info.name;
    o.protocols = protocols;
    o.num_protocols = 1;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = r;

    rc = uniws_loop_new(&loop);
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "uniws_loop_new: %s", uniws_strerror(rc));
        fail(r, S_CONNECT, uniws_err_name(rc), detail);
        return;
    }
    start = t0 = uniws__cli_now_ms();
    rc = uniws_connect(loop, url, &o, &r->s);
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "uniws_connect: %s: %s", uniws_err_name(rc),
                 uniws_strerror(rc));
        fail(r, S_CONNECT, uniws_err_name(rc), detail);
        goto done;
    }
    rc = uniws__cli_wait(loop, opened_or_closed, r, STEP_TIMEOUT_MS);
    if (!r->opened) {
        fail_wait(r, S_CONNECT, rc);
        if (r->http_status)
            snprintf(r->checks[S_CONNECT].why, sizeof(r->checks[S_CONNECT].why), "HTTP %d",
                     r->http_status);
        goto done;
    }
    pass(r, S_CONNECT, t0);
    if (strcmp(r->protocol, DEMO_PROTOCOL) == 0) {
        r->checks[S_PROTOCOL].state = 1;
    } else {
        snprintf(detail, sizeof(detail), "server selected \"%s\", offered only \"%s\"", r->protocol,
                 DEMO_PROTOCOL);
        fail(r, S_PROTOCOL, "mismatch", detail);
    }

    /* The server sent this right after its handshake; it may be here already. */
    t0 = uniws__cli_now_ms();
    r->msgs_before = 0;
    rc = uniws__cli_wait(loop, got_message, r, STEP_TIMEOUT_MS);
    if (r->msgs == 0) {
        fail_wait(r, S_FRAG, rc);
        goto done;
    }
    if (check_message(r, S_FRAG, UNIWS_TEXT, FRAG_TEXT, strlen(FRAG_TEXT)) == 0)
        pass(r, S_FRAG, t0);

    if (echo_step(r, loop, S_TEXT, UNIWS_TEXT, TEXT_MSG, strlen(TEXT_MSG)) != 0)
        goto done;
    for (i = 0; i < sizeof(small); i++)
        small[i] = (unsigned char)(255 - i);
    if (echo_step(r, loop, S_BINARY, UNIWS_BINARY, small, sizeof(small)) != 0)
        goto done;
    big = malloc(BIG_SIZE);
    if (!big) {
        fail(r, S_BIG, "no memory", "out of memory");
        goto done;
    }
    for (i = 0; i < BIG_SIZE; i++)
        big[i] = (unsigned char)(i * 31 + 7);
    rc = echo_step(r, loop, S_BIG, UNIWS_BINARY, big, BIG_SIZE);
    free(big);
    if (rc != 0)
        goto done;

    t0 = uniws__cli_now_ms();
    rc = uniws_close(r->s, CLOSE_CODE, CLOSE_REASON);
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "uniws_close: %s: %s", uniws_err_name(rc),
                 uniws_strerror(rc));
        fail(r, S_CLOSE, uniws_err_name(rc), detail);
        goto done;
    }
    rc = uniws__cli_wait(loop, is_closed, r, STEP_TIMEOUT_MS);
    if (!r->closed) {
        fail_wait(r, S_CLOSE, rc);
    } else if (r->close_code != CLOSE_CODE || strcmp(r->close_reason, CLOSE_REASON) != 0 ||
               !r->was_clean) {
        snprintf(detail, sizeof(detail),
                 "close event: code %d, reason \"%.40s\", %s; wanted %d, \"%s\", clean%s%.60s",
                 r->close_code, r->close_reason, r->was_clean ? "clean" : "not clean", CLOSE_CODE,
                 CLOSE_REASON, r->errored ? "; error event: " : "", r->errored ? r->err_msg : "");
        fail(r, S_CLOSE, r->was_clean ? "wrong close" : "not clean", detail);
    } else {
        pass(r, S_CLOSE, t0);
    }

done:
    r->total_ms = uniws__cli_now_ms() - start;
    uniws_free(r->s);
    r->s = NULL;
    free(r->last);
    r->last = NULL;
    uniws_loop_free(loop);
}

/* ---- the table --------------------------------------------------------- */

#define CELL 48

static void cell_text(const demo_run *r, int row, char *out)
{
    const check *c = &r->checks[row];
    char ms[24];

    if (c->state == 0) {
        snprintf(out, CELL, "-");
    } else if (c->state < 0) {
        snprintf(out, CELL, "FAIL (%s)", c->why);
    } else {
        uniws__cli_format_ms(ms, sizeof(ms), c->ms);
        snprintf(out, CELL, "ok %s", ms);
    }
}

enum { R_PROTOCOL = NUM_CHECKS, R_CODE, R_REASON, R_CLEAN, R_TOTAL, NUM_ROWS };

static const char *row_name(int row)
{
    static const char *const info[] = {"protocol", "close code", "close reason", "was_clean",
                                       "total"};
    return row < S_PROTOCOL ? step_names[row] : info[row - R_PROTOCOL];
}

static void row_cell(const demo_run *r, int row, char *out)
{
    char ms[24];

    switch (row) {
    case R_PROTOCOL:
        if (r->checks[S_PROTOCOL].state < 0)
            snprintf(out, CELL, "FAIL (\"%.30s\")", r->protocol);
        else
            snprintf(out, CELL, "%.40s", r->opened ? (r->protocol[0] ? r->protocol : "\"\"") : "-");
        break;
    case R_CODE:
        if (r->closed)
            snprintf(out, CELL, "%d", r->close_code);
        else
            snprintf(out, CELL, "-");
        break;
    case R_REASON:
        if (!r->closed)
            snprintf(out, CELL, "-");
        else
            snprintf(out, CELL, "%.40s", r->close_reason[0] ? r->close_reason : "\"\"");
        break;
    case R_CLEAN:
        snprintf(out, CELL, "%s", !r->closed ? "-" : r->was_clean ? "yes" : "no");
        break;
    case R_TOTAL:
        uniws__cli_format_ms(ms, sizeof(ms), r->total_ms);
        snprintf(out, CELL, "%s", ms);
        break;
    default:
        cell_text(r, row, out);
        break;
    }
}

static int is_table_row(int row)
{
    return row != S_PROTOCOL; /* shown as R_PROTOCOL with the info rows */
}

static void print_table(demo_run *runs, size_t n)
{
    char cell[CELL], header[MAX_BACKENDS][64];
    size_t widths[MAX_BACKENDS], i, label = 0;
    int row;

    for (i = 0; i < n; i++) {
        snprintf(header[i], sizeof(header[i]), "%s%s", runs[i].info.name,
                 (runs[i].info.caps & UNIWS_CAP_NETWORK) ? "" : " (in-process)");
        widths[i] = strlen(header[i]);
    }
    for (row = 0; row < NUM_ROWS; row++) {
        if (!is_table_row(row))
            continue;
        if (strlen(row_name(row)) > label)
            label = strlen(row_name(row));
        for (i = 0; i < n; i++) {
            row_cell(&runs[i], row, cell);
            if (strlen(cell) > widths[i])
                widths[i] = strlen(cell);
        }
    }
    printf("%-*s", (int)label, "step");
    for (i = 0; i < n; i++)
        printf("  %-*s", i + 1 < n ? (int)widths[i] : 0, header[i]);
    printf("\n");
    for (row = 0; row < NUM_ROWS; row++) {
        if (!is_table_row(row))
            continue;
        if (row == R_PROTOCOL) {
            /* a rule between the timed steps and the facts */
            size_t w = label;
            for (i = 0; i < n; i++)
                w += 2 + widths[i];
            while (w--)
                putchar('-');
            putchar('\n');
        }
        printf("%-*s", (int)label, row_name(row));
        for (i = 0; i < n; i++) {
            row_cell(&runs[i], row, cell);
            printf("  %-*s", i + 1 < n ? (int)widths[i] : 0, cell);
        }
        printf("\n");
    }
}

int uniws__cli_demo(int argc, char **argv)
{
    uniws__cli_args a;
    uniws__server_options so;
    uniws__server *srv = NULL;
    demo_run *runs;
    const char *v;
    size_t n = 0, i, failures = 0;
    int rc, step;

    runs = calloc(MAX_BACKENDS, sizeof(*runs));
    if (!runs) {
        uniws__cli_error("demo", "out of memory");
        return UNIWS__CLI_EXIT_FAILED;
    }
    uniws__cli_args_init(&a, argc, argv);
    while (!a.failed && uniws__cli_args_next(&a)) {
        if (uniws__cli_is_help(&a)) {
            fputs(help_text, stdout);
            free(runs);
            return UNIWS__CLI_EXIT_OK;
        } else if (uniws__cli_value(&a, "--backend", &v) || uniws__cli_value(&a, "-b", &v)) {
            if (!v)
                break;
            if (uniws__cli_check_backend("demo", v) != 0) {
                a.failed = 1;
            } else if (n < MAX_BACKENDS) {
                uniws_backend_find(v, &runs[n++].info);
            }
        } else {
            uniws__cli_unknown(&a);
        }
    }
    if (a.failed) {
        free(runs);
        return UNIWS__CLI_EXIT_USAGE;
    }
    if (n == 0) {
        size_t count = uniws_backend_count();
        for (i = 0; i < count && n < MAX_BACKENDS; i++)
            if (uniws_backend_get(i, &runs[n].info) == 0)
                n++;
    }
    if (n == 0) {
        uniws__cli_error("demo", "no backend is compiled in");
        free(runs);
        return UNIWS__CLI_EXIT_FAILED;
    }

    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    rc = uniws__server_start(&so, &srv);
    if (rc < 0) {
        uniws__cli_error("demo", "cannot start the local server: %s: %s", uniws_err_name(rc),
                         uniws_strerror(rc));
        free(runs);
        return UNIWS__CLI_EXIT_FAILED;
    }
    printf("uniws %s demo: the same exchange on %zu backend%s against ws://127.0.0.1:%d\n\n",
           UNIWS_VERSION_STRING, n, n == 1 ? "" : "s", uniws__server_port(srv));
    fflush(stdout);
    for (i = 0; i < n; i++)
        run_backend(&runs[i], uniws__server_port(srv));
    uniws__server_stop(srv);

    print_table(runs, n);
    printf("\n");
    for (i = 0; i < n; i++) {
        for (step = 0; step < NUM_CHECKS; step++) {
            const check *c = &runs[i].checks[step];
            if (c->state == 1)
                continue;
            failures++;
            if (c->state < 0)
                printf("FAIL %s / %s: %s\n", runs[i].info.name, step_names[step], c->detail);
        }
    }
    if (failures == 0)
        printf("All %zu backend%s passed every step.\n", n, n == 1 ? "" : "s");
    else
        printf("%zu check%s failed or did not run.\n", failures, failures == 1 ? "" : "s");
    free(runs);
    return failures ? UNIWS__CLI_EXIT_UNCLEAN : UNIWS__CLI_EXIT_OK;
}
