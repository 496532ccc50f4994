/*
 * runner.c — `uniws-conformance`: runs the one list of cases against one
 * backend and writes the per-case results as JSON for the matrix.
 *
 *   uniws-conformance --backend NAME [--port N] [--tls-port N] [--certs DIR]
 *                     [--json OUT] [--only CASE[,CASE...]] [--list]
 *                     [--no-fork] [--case-timeout MS] [--run-limitations]
 *                     [--column LABEL] [--proxy URL [--proxy-ca FILE]]
 *
 * Without --port it starts the scripted peer in-process (and a TLS instance
 * when --certs holds ca.pem, server.pem, server.key). Each case runs in a
 * child process with its own loop and a deadline, so a crash or a hang is a
 * failed case, not a lost run.
 */
#include "cases.h"
#include "json.h"
#include "tools/server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct result {
    const char *status; /* "pass", "fail", "unsupported", "limitation" */
    char detail[1200];
    long ms;
} result;

typedef struct runner {
    conf_env env;
    const char *json_path;
    const char *only;
    const char *certs;
    int no_fork;
    int run_limitations; /* run the cases of limitations.c too (to re-check them) */
    char ca[1024], other_ca[1024], cert[1024], key[1024];
    char mx[8][1024];   /* the TLS matrix's files (start_tls_matrix) */
    const char *column; /* --column: the matrix column, if not the backend's name */
} runner;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: uniws-conformance --backend NAME [--port N] [--tls-port N] [--certs DIR]\n"
            "                         [--json OUT] [--only CASE[,CASE...]] [--list]\n"
            "                         [--no-fork] [--case-timeout MS] [--run-limitations]\n"
            "                         [--column LABEL] [--proxy URL [--proxy-ca FILE]]\n"
            "  --column LABEL     the matrix column's name (default: the backend's)\n"
            "  --port/--tls-port  use a running scripted peer instead of starting one\n"
            "  --certs DIR        ca.pem, other-ca.pem, server.pem, server.key for wss cases\n"
            "  --only             case names; a trailing '*' matches a prefix\n"
            "  --run-limitations  run the cases of limitations.c too, to see if they still fail\n"
            "  --proxy URL        every connection goes through this proxy (its case naming\n"
            "                     none); --proxy-ca FILE: the CA of an https:// proxy\n");
}

static int selected(const char *only, const char *name)
{
    if (!only)
        return 1;
    const char *p = only;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && p[n - 1] == '*') {
            if (!strncmp(name, p, n - 1))
                return 1;
        } else if (strlen(name) == n && !strncmp(name, p, n)) {
            return 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* A port on 127.0.0.1 that nobody listens on (bound, then released). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void missing_caps(unsigned need, char *out, size_t size)
{
    size_t off = 0;
    out[0] = 0;
    for (unsigned bit = 1; bit && bit <= need; bit <<= 1) {
        if (!(need & bit))
            continue;
        int n = snprintf(out + off, size - off, "%s%s", off ? ", " : "needs ", conf_cap_name(bit));
        if (n < 0 || (size_t)n >= size - off)
            break;
        off += (size_t)n;
    }
}

static void run_inline(const runner *rn, const conf_case *k, result *res)
{
    cx_run_case(&rn->env, k, &res->status, res->detail, sizeof res->detail);
}

static const char *intern_status(const char *s)
{
    static const char *const known[] = {"pass", "fail", "unsupported", "limitation"};
    for (size_t i = 0; i < 4; i++)
        if (!strcmp(s, known[i]))
            return known[i];
    return NULL;
}

/* The child runs the case and writes "status\ndetail" to the pipe. */
static void run_forked(const runner *rn, const conf_case *k, result *res)
{
    int fds[2];
    if (pipe(fds) != 0) {
        res->status = "fail";
        snprintf(res->detail, sizeof res->detail, "runner: pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        res->status = "fail";
        snprintf(res->detail, sizeof res->detail, "runner: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        /* A library must survive peers that vanish: no SIGPIPE shield here. */
        signal(SIGPIPE, SIG_DFL);
        result r;
        memset(&r, 0, sizeof r);
        run_inline(rn, k, &r);
        char out[sizeof r.detail + 32];
        int n = snprintf(out, sizeof out, "%s\n%s", r.status, r.detail);
        const char *p = out;
        size_t left = n > 0 ? (size_t)n : 0;
        while (left) {
            ssize_t w = write(fds[1], p, left);
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[sizeof res->detail + 32];
    size_t got = 0;
    int killed = 0;
    uint64_t limit = cx_now_ms() + (uint64_t)rn->env.case_timeout_ms + 5000;
    for (;;) {
        uint64_t now = cx_now_ms();
        if (now >= limit) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, (int)(limit - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t r = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == sizeof buf - 1)
            break;
    }
    close(fds[0]);
    buf[got] = 0;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char *nl = strchr(buf, '\n');
    const char *status = NULL;
    if (nl) {
        *nl = 0;
        status = intern_status(buf);
    }
    if (killed) {
        res->status = "fail";
        snprintf(res->detail, sizeof res->detail,
                 "did not finish within %d ms (killed; a call blocked or the loop hung)",
                 rn->env.case_timeout_ms + 5000);
    } else if (WIFSIGNALED(st)) {
        res->status = "fail";
        snprintf(res->detail, sizeof res->detail, "crashed with signal %d (%s)%s%s", WTERMSIG(st),
                 strsignal(WTERMSIG(st)), status ? " after: " : "", status && nl ? nl + 1 : "");
    } else if (!status) {
        res->status = "fail";
        snprintf(res->detail, sizeof res->detail,
                 "exited with status %d before reporting (a sanitizer report may be on stderr)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    } else {
        res->status = status;
        snprintf(res->detail, sizeof res->detail, "%s", nl + 1);
    }
}

/* One line per suite of the reliability work (issue 12): how many of its
 * cases ran and passed, and the largest peak-RSS growth their details name
 * ("peak RSS +N KiB", written by cases_hostile.c). */
static void suite_summary(const char *prefix, const result *res, const unsigned char *ran)
{
    int n = 0, counts[4] = {0, 0, 0, 0};
    long peak = -1;
    const char *peak_case = "";
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < conf_case_count; i++) {
        if (!ran[i] || strncmp(conf_cases[i].name, prefix, pl) != 0)
            continue;
        n++;
        const char *st = res[i].status;
        counts[!strcmp(st, "pass")          ? 0
               : !strcmp(st, "fail")        ? 1
               : !strcmp(st, "unsupported") ? 2
                                            : 3]++;
        const char *m = strstr(res[i].detail, "peak RSS +");
        if (m) {
            long v = strtol(m + 10, NULL, 10);
            if (v > peak) {
                peak = v;
                peak_case = conf_cases[i].name;
            }
        }
    }
    if (!n)
        return;
    printf("suite %.*s: %d cases, %d passed, %d failed, %d unsupported, %d limitation",
           (int)(pl - 1), prefix, n, counts[0], counts[1], counts[2], counts[3]);
    if (peak >= 0)
        printf("; peak RSS growth max %ld KiB (%s)", peak, peak_case);
    printf("\n");
}

/* The TLS matrix's extra peers (reliability, issue 12), each in-process on
 * 127.0.0.1 with one certificate of --certs; a missing file leaves its port
 * 0 (its cases then fail, naming the missing peer). */
static void start_tls_matrix(runner *rn, uniws__server **srv)
{
    static const char *const files[8] = {"expired.pem",   "expired.key",    "wronghost.pem",
                                         "wronghost.key", "selfsigned.pem", "selfsigned.key",
                                         "client.pem",    "client.key"};
    for (int i = 0; i < 8; i++)
        snprintf(rn->mx[i], sizeof rn->mx[i], "%s/%s", rn->certs, files[i]);
    int *ports[4] = {&rn->env.tls_expired_port, &rn->env.tls_wronghost_port,
                     &rn->env.tls_selfsigned_port, &rn->env.tls_mtls_port};
    for (int i = 0; i < 4; i++) {
        uniws__server_options so;
        memset(&so, 0, sizeof so);
        if (i < 3) {
            so.tls_cert = rn->mx[2 * i];
            so.tls_key = rn->mx[2 * i + 1];
        } else {
            so.tls_cert = rn->cert;
            so.tls_key = rn->key;
            so.tls_client_ca = rn->ca;
        }
        if (!file_exists(so.tls_cert) || !file_exists(so.tls_key) ||
            (so.tls_client_ca && !file_exists(so.tls_client_ca)))
            continue;
        if (uniws__server_start(&so, &srv[i]) == 0)
            *ports[i] = uniws__server_port(srv[i]);
    }
    if (file_exists(rn->mx[6]) && file_exists(rn->mx[7])) {
        rn->env.client_cert = rn->mx[6];
        rn->env.client_key = rn->mx[7];
    }
    static char other[1024];
    snprintf(other, sizeof other, "%s/client-other.key", rn->certs);
    if (file_exists(other))
        rn->env.client_other_key = other;
}

static void iso_time(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_json(const runner *rn, const result *res, const unsigned char *ran, int counts[4])
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", rn->json_path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "uniws-conformance: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    char caps[512], when[32];
    uniws_caps_string(rn->env.info.caps, caps, sizeof caps);
    iso_time(when, sizeof when);
    fputs("{\n  \"backend\": ", f);
    json_write_string(f, rn->column ? rn->column : rn->env.backend);
    fputs(",\n  \"version\": ", f);
    json_write_string(f, rn->env.info.version);
    fputs(",\n  \"description\": ", f);
    json_write_string(f, rn->env.info.description);
    fputs(",\n  \"caps\": ", f);
    json_write_string(f, caps);
    fprintf(f, ",\n  \"caps_bits\": %u,\n  \"runner\": \"native\",\n  \"generated\": ",
            rn->env.info.caps);
    json_write_string(f, when);
    fprintf(f,
            ",\n  \"passed\": %d,\n  \"failed\": %d,\n  \"unsupported\": %d,\n"
            "  \"limitation\": %d,\n  \"cases\": [",
            counts[0], counts[1], counts[2], counts[3]);
    int first = 1;
    for (size_t i = 0; i < conf_case_count; i++) {
        if (!ran[i])
            continue;
        const conf_case *k = &conf_cases[i];
        fputs(first ? "\n    {\"name\": " : ",\n    {\"name\": ", f);
        first = 0;
        json_write_string(f, k->name);
        fputs(", \"item\": ", f);
        json_write_string(f, k->item);
        fputs(", \"what\": ", f);
        json_write_string(f, k->what);
        fputs(", \"status\": ", f);
        json_write_string(f, res[i].status);
        fputs(", \"detail\": ", f);
        json_write_string(f, res[i].detail);
        fprintf(f, ", \"ms\": %ld}", res[i].ms);
    }
    fputs("\n  ]\n}\n", f);
    if (fclose(f) != 0 || rename(tmp, rn->json_path) != 0) {
        fprintf(stderr, "uniws-conformance: cannot write %s: %s\n", rn->json_path, strerror(errno));
        return -1;
    }
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    runner rn;
    memset(&rn, 0, sizeof rn);
    rn.env.case_timeout_ms = 10000;
    const char *backend = NULL;
    int list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--backend") && v) {
            backend = v;
            i++;
        } else if (!strcmp(a, "--column") && v) {
            rn.column = v;
            i++;
        } else if (!strcmp(a, "--port") && v) {
            bad = parse_int(v, 1, 65535, &rn.env.port);
            i++;
        } else if (!strcmp(a, "--tls-port") && v) {
            bad = parse_int(v, 1, 65535, &rn.env.tls_port);
            i++;
        } else if (!strcmp(a, "--certs") && v) {
            rn.certs = v;
            i++;
        } else if (!strcmp(a, "--json") && v) {
            rn.json_path = v;
            i++;
        } else if (!strcmp(a, "--only") && v) {
            rn.only = v;
            i++;
        } else if (!strcmp(a, "--case-timeout") && v) {
            bad = parse_int(v, 100, 600000, &rn.env.case_timeout_ms);
            i++;
        } else if (!strcmp(a, "--proxy") && v) {
            rn.env.proxy = v;
            i++;
        } else if (!strcmp(a, "--proxy-ca") && v) {
            rn.env.proxy_ca_file = v;
            i++;
        } else if (!strcmp(a, "--no-fork")) {
            rn.no_fork = 1;
        } else if (!strcmp(a, "--run-limitations")) {
            rn.run_limitations = 1;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "uniws-conformance: bad argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (list) {
        for (size_t i = 0; i < conf_case_count; i++)
            printf("%-34s item %-6s %s\n", conf_cases[i].name, conf_cases[i].item,
                   conf_cases[i].what);
        return 0;
    }
    if (!backend) {
        usage(stderr);
        return 2;
    }
    size_t total = 0;
    for (size_t i = 0; i < conf_case_count; i++)
        total += selected(rn.only, conf_cases[i].name);
    if (!total) {
        fprintf(stderr, "uniws-conformance: --only %s matches no case (see --list)\n", rn.only);
        return 2;
    }
    int rc = uniws_backend_find(backend, &rn.env.info);
    if (rc != 0) {
        fprintf(stderr, "uniws-conformance: backend \"%s\": %s\n", backend, uniws_strerror(rc));
        return 2;
    }
    rn.env.backend = backend;
    if (rn.json_path)
        remove(rn.json_path); /* never leave a stale result behind */

    /* The scripted peer is test infrastructure: keep it alive whatever the
     * connections do; each case's child restores SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    uniws__server *plain = NULL, *tls = NULL;
    if (!rn.env.port) {
        uniws__server_options so;
        memset(&so, 0, sizeof so);
        rc = uniws__server_start(&so, &plain);
        if (rc != 0) {
            fprintf(stderr, "uniws-conformance: cannot start the peer: %s\n", uniws_strerror(rc));
            return 2;
        }
        rn.env.port = uniws__server_port(plain);
    }
    if (rn.certs) {
        snprintf(rn.ca, sizeof rn.ca, "%s/ca.pem", rn.certs);
        snprintf(rn.other_ca, sizeof rn.other_ca, "%s/other-ca.pem", rn.certs);
        snprintf(rn.cert, sizeof rn.cert, "%s/server.pem", rn.certs);
        snprintf(rn.key, sizeof rn.key, "%s/server.key", rn.certs);
        if (file_exists(rn.ca))
            rn.env.ca_file = rn.ca;
        if (file_exists(rn.other_ca))
            rn.env.other_ca_file = rn.other_ca;
        if (!rn.env.tls_port && file_exists(rn.cert) && file_exists(rn.key)) {
            uniws__server_options so;
            memset(&so, 0, sizeof so);
            so.tls_cert = rn.cert;
            so.tls_key = rn.key;
            rc = uniws__server_start(&so, &tls);
            if (rc != 0)
                fprintf(stderr, "uniws-conformance: cannot start the TLS peer: %s\n",
                        uniws_strerror(rc));
            else
                rn.env.tls_port = uniws__server_port(tls);
        }
    }
    if (!rn.env.tls_port || !rn.env.ca_file)
        fprintf(stderr, "uniws-conformance: no TLS peer/CA (--certs): wss cases will fail\n");
    uniws__server *matrix_srv[4] = {NULL, NULL, NULL, NULL};
    if (rn.certs)
        start_tls_matrix(&rn, matrix_srv);
    rn.env.closed_port = closed_port();

    char caps[512];
    uniws_caps_string(rn.env.info.caps, caps, sizeof caps);
    printf("uniws conformance: backend %s %s (caps: %s), peer ws:%d wss:%d\n", backend,
           rn.env.info.version, caps, rn.env.port, rn.env.tls_port);
    if (rn.env.proxy)
        printf("every connection goes through the proxy %s (CA: %s)\n", rn.env.proxy,
               rn.env.proxy_ca_file ? rn.env.proxy_ca_file : "system store");

    result *res = calloc(conf_case_count, sizeof *res);
    unsigned char *ran = calloc(conf_case_count, 1);
    if (!res || !ran) {
        fprintf(stderr, "uniws-conformance: out of memory\n");
        return 2;
    }
    int counts[4] = {0, 0, 0, 0}; /* pass, fail, unsupported, limitation */
    size_t done = 0;
    uint64_t t_start = cx_now_ms();
    for (size_t i = 0; i < conf_case_count; i++) {
        const conf_case *k = &conf_cases[i];
        if (!selected(rn.only, k->name))
            continue;
        ran[i] = 1;
        done++;
        result *r = &res[i];
        unsigned missing = k->caps & ~conf_caps(&rn.env);
        const conf_limitation *lim =
            rn.run_limitations ? NULL : conf_limitation_find(backend, rn.env.info.version, k->name);
        uint64_t t0 = cx_now_ms();
        if (missing) {
            r->status = "unsupported";
            missing_caps(missing, r->detail, sizeof r->detail);
        } else if (lim) {
            r->status = "limitation";
            snprintf(r->detail, sizeof r->detail, "%s: %s", lim->version ? lim->version : "",
                     lim->reason);
        } else if (rn.no_fork) {
            run_inline(&rn, k, r);
        } else {
            run_forked(&rn, k, r);
        }
        r->ms = (long)(cx_now_ms() - t0);
        int idx = !strcmp(r->status, "pass")          ? 0
                  : !strcmp(r->status, "fail")        ? 1
                  : !strcmp(r->status, "unsupported") ? 2
                                                      : 3;
        counts[idx]++;
        static const char *const tags[] = {"PASS", "FAIL", "SKIP", "LIMIT"};
        printf("[%3zu/%zu] %-5s %-34s %5ld ms%s%s\n", done, total, tags[idx], k->name, r->ms,
               idx && r->detail[0] ? "  " : "", idx ? r->detail : "");
        fflush(stdout);
    }
    for (int i = 0; i < 4; i++)
        uniws__server_stop(matrix_srv[i]);
    if (tls)
        uniws__server_stop(tls);
    if (plain)
        uniws__server_stop(plain);
    suite_summary("hostile_", res, ran);
    suite_summary("tls_", res, ran);
    int wrote = rn.json_path ? write_json(&rn, res, ran, counts) : 0;
    printf("backend %s: %.1f s\n", backend, (double)(cx_now_ms() - t_start) / 1000.0);
    printf("%d passed, %d failed, %d skipped\n", counts[0], counts[1], counts[2] + counts[3]);
    free(res);
    free(ran);
    if (wrote != 0)
        return 2;
    return counts[1] ? 1 : 0;
}
