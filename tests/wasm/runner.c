/*
 * runner.c — the conformance suite compiled to WebAssembly (built with
 * -sASYNCIFY so the cases' blocking waits yield to the JavaScript event loop).
 * The same runner.js runs under Node.js and in a browser page; it cannot
 * fork, listen or write files there, so a native driver (run-conformance.mjs)
 * starts the scripted peer (and the raw wire peers, see wire_web.c), passes
 * their addresses here, reads the results this
 * prints, restarts the runner after a crash and writes the JSON file.
 *
 * The Windows runner (tests/windows) is this same file built with mingw-w64
 * and run under wine, with --backend naming the backend to test.
 *
 *   runner.js --engine NAME [--engine-version V] [--backend NAME] --port N [--closed-port N]
 *             [--tls-port N] [--wire-url URL] [--ca FILE --other-ca FILE]
 *             [--only CASE[,CASE...]]
 *             [--case-timeout MS] [--run-limitations] [--list]
 *             [--platform-trusts-ca] [--untrusted-tls-port N]
 *             [--tls-expired-port N --tls-wronghost-port N --tls-selfsigned-port N
 *              --tls-mtls-port N --client-cert FILE --client-key FILE
 *              --client-other-key FILE]
 *
 * The TLS-matrix options (issue 12) give the peers the native runner starts
 * in-process (runner.c, start_tls_matrix): the driver starts them as
 * `uniws serve` processes and passes their ports and the client files.
 *
 * Every line meant for the driver starts with "@@uniws " and holds one JSON
 * object: {"event":"start",...}, {"event":"begin","name":...} before each
 * case, {"event":"case",...} with its result, {"event":"done"}.
 */
#include "cases.h"
#include "json.h"
#include "wire_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARK "@@uniws "

static int selected(const char *only, const char *name)
{
    if (!only)
        return 1;
    size_t nl = strlen(name);
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && p[n - 1] == '*' ? !strncmp(name, p, n - 1) : (n == nl && !strncmp(name, p, n)))
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
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

static void field(const char *key, const char *value, int comma)
{
    printf("\"%s\":", key);
    json_write_string(stdout, value);
    if (comma)
        putchar(',');
}

static int parse_port(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    conf_env env;
    memset(&env, 0, sizeof env);
    env.case_timeout_ms = 10000;
    env.backend = "emscripten";
    const char *engine = "wasm", *engine_version = NULL, *only = NULL;
    int list = 0, run_limitations = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--list")) {
            list = 1;
            continue;
        }
        if (!strcmp(a, "--platform-trusts-ca")) {
            /* cli (issue 14): the engine was started trusting the test CA
             * (NODE_EXTRA_CA_CERTS, Chromium's SPKI list): wss cases run. */
            env.platform_trusts_ca = 1;
            continue;
        }
        if (!strcmp(a, "--run-limitations")) {
            /* Runs the cases of limitations.c too, to see if they still fail. */
            run_limitations = 1;
            continue;
        }
        if (!v) {
            bad = 1;
        } else if (!strcmp(a, "--engine")) {
            engine = v;
        } else if (!strcmp(a, "--backend")) {
            env.backend = v;
        } else if (!strcmp(a, "--engine-version")) {
            engine_version = v;
        } else if (!strcmp(a, "--port")) {
            bad = parse_port(v, &env.port);
        } else if (!strcmp(a, "--closed-port")) {
            bad = parse_port(v, &env.closed_port);
        } else if (!strcmp(a, "--tls-port")) {
            bad = parse_port(v, &env.tls_port);
        } else if (!strcmp(a, "--ca")) {
            env.ca_file = v; /* Windows: the test CA (a wasm build has no file) */
        } else if (!strcmp(a, "--other-ca")) {
            env.other_ca_file = v;
        } else if (!strcmp(a, "--untrusted-tls-port")) {
            bad = parse_port(v, &env.untrusted_tls_port);
        } else if (!strcmp(a, "--tls-expired-port")) {
            bad = parse_port(v, &env.tls_expired_port);
        } else if (!strcmp(a, "--tls-wronghost-port")) {
            bad = parse_port(v, &env.tls_wronghost_port);
        } else if (!strcmp(a, "--tls-selfsigned-port")) {
            bad = parse_port(v, &env.tls_selfsigned_port);
        } else if (!strcmp(a, "--tls-mtls-port")) {
            bad = parse_port(v, &env.tls_mtls_port);
        } else if (!strcmp(a, "--client-cert")) {
            env.client_cert = v;
        } else if (!strcmp(a, "--client-key")) {
            env.client_key = v;
        } else if (!strcmp(a, "--client-other-key")) {
            env.client_other_key = v;
        } else if (!strcmp(a, "--wire-url")) {
            wire_web_set_control(v);
        } else if (!strcmp(a, "--only")) {
            only = v;
        } else if (!strcmp(a, "--case-timeout")) {
            env.case_timeout_ms = atoi(v);
            bad = env.case_timeout_ms < 100;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "runner: bad argument %s\n", a);
            return 2;
        }
        i++;
    }
    if (list) {
        for (size_t i = 0; i < conf_case_count; i++)
            printf("%s\n", conf_cases[i].name);
        return 0;
    }
    int rc = uniws_backend_find(env.backend, &env.info);
    if (rc != 0 || !env.port) {
        fprintf(stderr, "runner: %s\n", rc ? uniws_strerror(rc) : "--port is required");
        return 2;
    }
    if (!env.closed_port)
        env.closed_port = 1; /* nobody listens on tcpmux */

    char caps[512];
    uniws_caps_string(env.info.caps, caps, sizeof caps);
    printf(MARK "{\"event\":\"start\",");
    field("engine", engine, 1);
    field("backend", env.backend, 1);
    field("version", env.info.version, 1);
    field("description", env.info.description, 1);
    field("caps", caps, 0);
    printf(",\"caps_bits\":%u}\n", env.info.caps);

    int failed = 0;
    for (size_t i = 0; i < conf_case_count; i++) {
        const conf_case *k = &conf_cases[i];
        if (!selected(only, k->name))
            continue;
        printf(MARK "{\"event\":\"begin\",");
        field("name", k->name, 0);
        printf("}\n");
        fflush(stdout);

        const char *status;
        char detail[1200];
        uint64_t t0 = cx_now_ms();
        unsigned missing = k->caps & ~conf_caps(&env);
        /* A limitation names the engine ("wasm-node", with the engine's
         * version: Node.js or Chromium) or the backend (Emscripten's). */
        const conf_limitation *lim =
            run_limitations ? NULL : conf_limitation_find(engine, engine_version, k->name);
        const char *who = engine, *who_version = engine_version;
        if (!lim && !run_limitations) {
            lim = conf_limitation_find(env.backend, env.info.version, k->name);
            who = env.backend;
            who_version = env.info.version;
        }
        if (missing) {
            status = "unsupported";
            missing_caps(missing, detail, sizeof detail);
        } else if (lim) {
            status = "limitation";
            snprintf(detail, sizeof detail, "%s %s: %s", who, who_version ? who_version : "?",
                     lim->reason);
        } else {
            cx_run_case(&env, k, &status, detail, sizeof detail);
        }
        failed += !strcmp(status, "fail");
        printf(MARK "{\"event\":\"case\",");
        field("name", k->name, 1);
        field("item", k->item, 1);
        field("what", k->what, 1);
        field("status", status, 1);
        field("detail", detail, 0);
        printf(",\"ms\":%ld}\n", (long)(cx_now_ms() - t0));
        fflush(stdout);
    }
    printf(MARK "{\"event\":\"done\"}\n");
    fflush(stdout);
    return failed ? 1 : 0;
}
