/*
 * autobahn.c — `uniws autobahn`: the standard Autobahn|Testsuite client
 * driver. The fuzzing server holds the test cases and judges them; the client
 * only asks how many there are (/getCaseCount), runs each one by echoing every
 * message back with its type until the server closes (/runCase), and finally
 * asks the server to write its reports (/updateReports).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL             "ws://127.0.0.1:9001"
#define DEFAULT_CASE_TIMEOUT_MS 300000
#define CONTROL_TIMEOUT_MS      30000
/* Autobahn 9.x sends messages of up to 16 MiB; leave room above that. */
#define MAX_MESSAGE ((size_t)64 * 1024 * 1024)

static const char help_text[] =
    "Usage: uniws autobahn [--url ws://HOST:PORT] [--agent NAME] [--backend NAME]\n"
    "                      [--cases A-B] [--timeout MS]\n"
    "\n"
    "Drives an Autobahn|Testsuite fuzzing server (wstest -m fuzzingserver) with one\n"
    "backend: reads the case count from URL/getCaseCount, runs every case through\n"
    "URL/runCase?case=N&agent=NAME echoing each message back with the same type until\n"
    "the server closes, then calls URL/updateReports?agent=NAME. The server judges\n"
    "the cases and writes the report; this prints one progress line per case.\n"
    "Messages of up to 64 MiB are accepted.\n"
    "\n"
    "Options:\n"
    "      --url URL          the fuzzing server (default " DEFAULT_URL ")\n"
    "      --agent NAME       the name in the report (default uniws-BACKEND)\n"
    "  -b, --backend NAME     backend to test (default: UNIWS_BACKEND, then the build\n"
    "                         default)\n"
    "      --cases A-B        run only cases A to B (1-based; or a single N)\n"
    "      --timeout MS       give up on a case after MS milliseconds (default 300000)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 every case ran and the reports were updated (verdicts are in\n"
    "the server's report), 1 usage error, 2 the server could not be reached\n"
    "(getCaseCount failed), 3 a case could not connect or timed out, or\n"
    "updateReports failed.\n";

typedef struct session {
    int echo;
    int opened, closed, errored;
    int err_code, http_status;
    char err_msg[160];
    int close_code, was_clean;
    char first_text[32];
    int got_text;
    unsigned long msgs;
} session;

static void on_open(uniws_socket *s, void *user_data)
{
    (void)s;
    ((session *)user_data)->opened = 1;
}

static void on_message(uniws_socket *s, const uniws_message *msg, void *user_data)
{
    session *c = user_data;

    c->msgs++;
    if (!c->got_text && msg->type == UNIWS_TEXT) {
        size_t n = msg->len < sizeof(c->first_text) - 1 ? msg->len : sizeof(c->first_text) - 1;
        memcpy(c->first_text, msg->data, n);
        c->first_text[n] = '\0';
        c->got_text = 1;
    }
    if (!c->echo)
        return;
    /* A failed send means the connection is going away; the close event
     * that follows tells the story. */
    if (msg->type == UNIWS_TEXT)
        uniws_send_text(s, msg->data, msg->len);
    else
        uniws_send_binary(s, msg->data, msg->len);
}

static void on_error(uniws_socket *s, const uniws_error_event *ev, void *user_data)
{
    session *c = user_data;

    (void)s;
    if (c->errored)
        return;
    c->errored = 1;
    c->err_code = ev->error;
    c->http_status = ev->http_status;
    snprintf(c->err_msg, sizeof(c->err_msg), "%s", ev->message);
}

static void on_close(uniws_socket *s, const uniws_close_event *ev, void *user_data)
{
    session *c = user_data;

    (void)s;
    c->closed = 1;
    c->close_code = ev->code;
    c->was_clean = ev->was_clean;
}

static int is_closed(void *ctx)
{
    return ((session *)ctx)->closed;
}

/* One connection to url, run until the close event or timeout_ms. Returns
 * 0 when it opened and closed, UNIWS_ETIMEOUT, or another negative code
 * (connect refused the arguments, or the connection failed: c->errored). */
static int run_session(uniws_loop *loop, const char *url, const char *backend, session *c,
                       int timeout_ms)
{
    uniws_options o;
    uniws_socket *s = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    o.backend = backend;
    o.max_message_size = MAX_MESSAGE;
    o.callbacks.on_open = on_open;
    o.callbacks.on_message = on_message;
    o.callbacks.on_error = on_error;
    o.callbacks.on_close = on_close;
    o.user_data = c;
    rc = uniws_connect(loop, url, &o, &s);
    if (rc < 0)
        return rc;
    rc = uniws__cli_wait(loop, is_closed, c, timeout_ms);
    uniws_free(s);
    if (rc < 0)
        return rc;
    return c->opened ? 0 : (c->err_code ? c->err_code : UNIWS_EIO);
}

static void describe_failure(const char *what, const session *c, int rc)
{
    char http[32] = "";

    if (c->http_status)
        snprintf(http, sizeof(http), " (HTTP %d)", c->http_status);
    if (c->errored)
        uniws__cli_error("autobahn", "%s: %s: %s%s", what, uniws_err_name(c->err_code), c->err_msg,
                         http);
    else
        uniws__cli_error("autobahn", "%s: %s: %s", what, uniws_err_name(rc), uniws_strerror(rc));
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static void url_encode(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *in && o + 4 < size; in++) {
        unsigned char ch = (unsigned char)*in;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
}

static int parse_cases(const char *s, long *first, long *last)
{
    char buf[64];
    char *dash;

    snprintf(buf, sizeof(buf), "%s", s);
    dash = strchr(buf, '-');
    if (!dash)
        return uniws__cli_parse_long(buf, 1, 1000000, first) == 0 ? (*last = *first, 0) : -1;
    *dash = '\0';
    if (uniws__cli_parse_long(buf, 1, 1000000, first) != 0 ||
        uniws__cli_parse_long(dash + 1, 1, 1000000, last) != 0 || *last < *first)
        return -1;
    return 0;
}

int uniws__cli_autobahn(int argc, char **argv)
{
    uniws__cli_args a;
    const char *v, *backend = NULL, *agent = NULL, *cases = NULL;
    char base[512], url[1024], agent_buf[128], agent_enc[400];
    uniws_backend_info info;
    uniws_loop *loop = NULL;
    session c;
    long first = 1, last = 0, count, timeout = DEFAULT_CASE_TIMEOUT_MS, i;
    unsigned long failed_cases = 0;
    size_t len;
    int rc, status = UNIWS__CLI_EXIT_OK;

    snprintf(base, sizeof(base), "%s", DEFAULT_URL);
    uniws__cli_args_init(&a, argc, argv);
    while (!a.failed && uniws__cli_args_next(&a)) {
        if (uniws__cli_is_help(&a)) {
            fputs(help_text, stdout);
            return UNIWS__CLI_EXIT_OK;
        } else if (uniws__cli_value(&a, "--url", &v)) {
            if (v && strlen(v) >= sizeof(base) - 64) {
                uniws__cli_usage_error("autobahn", "--url is too long");
                a.failed = 1;
            } else if (v) {
                snprintf(base, sizeof(base), "%s", v);
            }
        } else if (uniws__cli_value(&a, "--agent", &v)) {
            if (v && (!*v || strlen(v) > 100)) {
                uniws__cli_usage_error("autobahn", "--agent must be 1-100 characters");
                a.failed = 1;
            }
            agent = v;
        } else if (uniws__cli_value(&a, "--backend", &v) || uniws__cli_value(&a, "-b", &v)) {
            if (v && uniws__cli_check_backend("autobahn", v) != 0)
                a.failed = 1;
            backend = v;
        } else if (uniws__cli_value(&a, "--cases", &v)) {
            if (v && parse_cases(v, &first, &last) != 0) {
                uniws__cli_usage_error("autobahn", "--cases wants A-B or N (1-based, A <= B)");
                a.failed = 1;
            }
            cases = v;
        } else if (uniws__cli_value(&a, "--timeout", &v)) {
            if (v && uniws__cli_parse_long(v, 1, 24L * 3600 * 1000, &timeout) != 0) {
                uniws__cli_usage_error("autobahn", "--timeout needs milliseconds (> 0)");
                a.failed = 1;
            }
        } else {
            uniws__cli_unknown(&a);
        }
    }
    if (a.failed)
        return UNIWS__CLI_EXIT_USAGE;

    rc = backend ? uniws_backend_find(backend, &info) : uniws_backend_default(&info);
    if (rc < 0) {
        uniws__cli_error("autobahn", "no backend: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
        return UNIWS__CLI_EXIT_USAGE;
    }
    backend = info.name;
    if (!agent) {
        snprintf(agent_buf, sizeof(agent_buf), "uniws-%s", info.name);
        agent = agent_buf;
    }
    url_encode(agent, agent_enc, sizeof(agent_enc));
    len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        base[--len] = '\0';

    rc = uniws_loop_new(&loop);
    if (rc < 0) {
        uniws__cli_error("autobahn", "cannot create the loop: %s", uniws_strerror(rc));
        return UNIWS__CLI_EXIT_FAILED;
    }

    memset(&c, 0, sizeof(c));
    snprintf(url, sizeof(url), "%s/getCaseCount", base);
    rc = run_session(loop, url, backend, &c, CONTROL_TIMEOUT_MS);
    if (rc == UNIWS_ESYNTAX || rc == UNIWS_EUNSUPPORTED || rc == UNIWS_ENO_BACKEND) {
        uniws__cli_error("autobahn", "%s: %s: %s", url, uniws_err_name(rc), uniws_strerror(rc));
        status = UNIWS__CLI_EXIT_USAGE;
        goto out;
    }
    if (rc < 0) {
        describe_failure(url, &c, rc);
        status = UNIWS__CLI_EXIT_FAILED;
        goto out;
    }
    if (!c.got_text || uniws__cli_parse_long(c.first_text, 0, 1000000, &count) != 0) {
        uniws__cli_error("autobahn", "%s: expected the case count as a text message, got %s\"%s\"",
                         url, c.got_text ? "" : "nothing ", c.first_text);
        status = UNIWS__CLI_EXIT_FAILED;
        goto out;
    }
    if (!cases)
        last = count;
    if (last > count)
        last = count;
    printf("autobahn: %ld cases on %s, backend %s, agent %s\n", count, base, backend, agent);
    if (first > last) {
        uniws__cli_error("autobahn", "--cases %s: the server has only %ld cases", cases, count);
        status = UNIWS__CLI_EXIT_USAGE;
        goto out;
    }
    fflush(stdout);

    for (i = first; i <= last; i++) {
        char ms[24];
        double t0 = uniws__cli_now_ms();

        memset(&c, 0, sizeof(c));
        c.echo = 1;
        snprintf(url, sizeof(url), "%s/runCase?case=%ld&agent=%s", base, i, agent_enc);
        rc = run_session(loop, url, backend, &c, (int)timeout);
        uniws__cli_format_ms(ms, sizeof(ms), uniws__cli_now_ms() - t0);
        printf("[%ld/%ld] case %ld: ", i - first + 1, last - first + 1, i);
        if (!c.opened || rc == UNIWS_ETIMEOUT) {
            failed_cases++;
            printf("%s", rc == UNIWS_ETIMEOUT ? "timed out" : "could not connect");
            if (c.errored)
                printf(": %s: %s", uniws_err_name(c.err_code), c.err_msg);
            else if (rc < 0 && rc != UNIWS_ETIMEOUT)
                printf(": %s", uniws_err_name(rc));
            printf(" (%s)\n", ms);
        } else {
            printf("%lu message%s, ", c.msgs, c.msgs == 1 ? "" : "s");
            if (c.errored)
                printf("error %s, ", uniws_err_name(c.err_code));
            printf("closed %d %s in %s\n", c.close_code, c.was_clean ? "clean" : "not clean", ms);
        }
        fflush(stdout);
    }

    memset(&c, 0, sizeof(c));
    snprintf(url, sizeof(url), "%s/updateReports?agent=%s", base, agent_enc);
    rc = run_session(loop, url, backend, &c, CONTROL_TIMEOUT_MS);
    if (rc < 0) {
        describe_failure(url, &c, rc);
        status = UNIWS__CLI_EXIT_UNCLEAN;
        goto out;
    }
    printf("autobahn: %ld case%s run, %lu could not connect or timed out; reports updated for "
           "agent %s\n",
           last - first + 1, last == first ? "" : "s", failed_cases, agent);
    if (failed_cases)
        status = UNIWS__CLI_EXIT_UNCLEAN;

out:
    uniws_loop_free(loop);
    return status;
}
