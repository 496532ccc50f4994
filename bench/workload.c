/*
 * workload.c — the benchmark clients' shared options, message payload and
 * echo verification (see workload.h).
 */
#include "workload.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_EVERY 97

void uniws__bench_usage(const char *tool, const char *extra_help)
{
    printf("Usage: %s [OPTIONS]\n\n"
           "Echo benchmark: sends --count messages of --size bytes with --window of them in\n"
           "flight, checks every echo (size, type, sequence; whole content on a sample) and\n"
           "reports msgs/s, MiB/s (payload one way), RTT p50/p99, client CPU %% and peak RSS.\n\n"
           "Options:\n"
           "  --url URL          echo server, ws://127.0.0.1:PORT/ (uniws bench without it:\n"
           "                     an in-process echo server; with --backend loopback: none)\n"
           "                     or wss://127.0.0.1:PORT/ (uniws-bench-server --tls)\n"
           "  --ca FILE          wss://: verify the server with this PEM CA file (default:\n"
           "                     the system's CA store)\n"
           "  --insecure         wss://: do not verify the server at all\n"
           "%s"
           "  --size N           payload bytes per message; K/M suffixes (default 64)\n"
           "  --count N          messages to echo (default 10000)\n"
           "  --window N         messages in flight; 1 = one round trip at a time (default 1)\n"
           "  --connections N    open N sockets on one loop instead, one echo each; reports\n"
           "                     open time, echo time and RSS per connection\n"
           "  --idle-ms N        with --connections: stay idle N ms, report the CPU used and\n"
           "                     the wake-ups (context switches) per second\n"
           "  --text             send text messages (default binary)\n"
           "  --timeout S        give up after S seconds (default 120)\n"
           "  --json             print one JSON line instead of the table\n"
           "  -h, --help         show this help\n\n"
           "Exit status: 0 ok, 1 usage, 2 could not connect / lost / timed out, 3 bad echo.\n",
           tool, extra_help ? extra_help : "");
}

static int parse_num(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s)
        return -1;
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
        end++;
    }
    if (*end == 'i' && end[1] == 'B')
        end += 2;
    else if (*end == 'B')
        end++;
    if (*end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int uniws__bench_parse_baseline(uniws__bench_cfg *cfg, int argc, char **argv)
{
    int pr = uniws__bench_parse(cfg, argc, argv, NULL, NULL);
    if (pr > 0) {
        uniws__bench_usage(cfg->tool, NULL);
        return 0;
    }
    return pr < 0 ? UNIWS__BENCH_EXIT_USAGE : -1;
}

int uniws__bench_parse(uniws__bench_cfg *cfg, int argc, char **argv, const char *const *extra,
                       const char **extra_val)
{
    const char *tool = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        if (strcmp(a, "--json") == 0) {
            cfg->json = 1;
            continue;
        }
        if (strcmp(a, "--text") == 0) {
            cfg->text = 1;
            continue;
        }
        if (strcmp(a, "--deflate") == 0) {
            int ok = 0;
            for (size_t k = 0; extra && extra[k]; k++)
                ok |= strcmp(extra[k], "--deflate") == 0;
            if (!ok) {
                fprintf(stderr, "%s: --deflate is not supported by this client\n", tool);
                return -1;
            }
            cfg->deflate = 1;
            continue;
        }
        if (strcmp(a, "--insecure") == 0) {
            cfg->insecure = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "%s: unexpected argument '%s'\n", tool, a);
            return -1;
        }
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name) {
            fprintf(stderr, "%s: unknown option '%s'\n", tool, a);
            return -1;
        }
        memcpy(name, a, nl);
        name[nl] = 0;
        static const char *const known[] = {"--url",         "--size",    "--count",   "--window",
                                            "--connections", "--idle-ms", "--timeout", "--ca"};
        int is_known = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            is_known |= strcmp(name, known[k]) == 0;
        for (size_t k = 0; extra && extra[k]; k++)
            is_known |= strcmp(name, extra[k]) == 0;
        if (!is_known) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", tool, name);
            return -1;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "%s: option '%s' needs a value\n", tool, name);
            return -1;
        }
        long n = 0;
        int bad = 0;
        if (strcmp(name, "--url") == 0) {
            cfg->url = val;
        } else if (strcmp(name, "--ca") == 0) {
            cfg->ca_file = val;
        } else if (strcmp(name, "--size") == 0) {
            bad = parse_num(val, 0, 1L << 30, &n);
            cfg->size = (size_t)n;
        } else if (strcmp(name, "--count") == 0) {
            /* 2^40, or what a long holds (wasm32) */
            bad = parse_num(val, 1, LONG_MAX < (1LL << 40) ? LONG_MAX : (long)(1LL << 40), &n);
            cfg->count = n;
        } else if (strcmp(name, "--window") == 0) {
            bad = parse_num(val, 1, 1 << 20, &n);
            cfg->window = (int)n;
        } else if (strcmp(name, "--connections") == 0) {
            bad = parse_num(val, 1, 1 << 20, &n);
            cfg->connections = (int)n;
        } else if (strcmp(name, "--idle-ms") == 0) {
            bad = parse_num(val, 0, 3600 * 1000, &n);
            cfg->idle_ms = (int)n;
        } else if (strcmp(name, "--timeout") == 0) {
            bad = parse_num(val, 1, 24 * 3600, &n);
            cfg->timeout_s = (int)n;
        } else {
            int found = 0;
            for (size_t k = 0; extra && extra[k]; k++)
                if (strcmp(name, extra[k]) == 0) {
                    extra_val[k] = val;
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "%s: unknown option '%s' (see --help)\n", tool, name);
                return -1;
            }
        }
        if (bad) {
            fprintf(stderr, "%s: bad value '%s' for %s\n", tool, val, name);
            return -1;
        }
    }
    return 0;
}

int uniws__bench_split_url(const char *url, char *host, size_t host_size, int *port, char *path,
                           size_t path_size)
{
    int tls = uniws__bench_url_tls(url);
    if (!tls && strncmp(url, "ws://", 5) != 0)
        return -1;
    const char *h = url + (tls ? 6 : 5);
    const char *slash = strchr(h, '/');
    const char *end = slash ? slash : h + strlen(h);
    const char *colon = memchr(h, ':', (size_t)(end - h));
    const char *hend = colon ? colon : end;
    if (hend == h || (size_t)(hend - h) >= host_size)
        return -1;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = 0;
    *port = tls ? 443 : 80;
    if (colon) {
        long p;
        char buf[8];
        size_t pl = (size_t)(end - colon - 1);
        if (pl == 0 || pl >= sizeof buf)
            return -1;
        memcpy(buf, colon + 1, pl);
        buf[pl] = 0;
        if (parse_num(buf, 1, 65535, &p))
            return -1;
        *port = (int)p;
    }
    const char *pa = slash ? slash : "/";
    if (strlen(pa) >= path_size)
        return -1;
    strcpy(path, pa);
    return 0;
}

int uniws__bench_url_tls(const char *url)
{
    return strncmp(url, "wss://", 6) == 0;
}

/* ---- payload -------------------------------------------------------------- */

int uniws__bench_payload_init(uniws__bench_payload *p, size_t size)
{
    p->size = size;
    p->pattern = malloc(size ? size : 1);
    p->buf = malloc(size ? size : 1);
    if (!p->pattern || !p->buf) {
        uniws__bench_payload_free(p);
        return -1;
    }
    /* Printable ASCII with a period (26 * 251) that no power-of-two chunking
     * lines up with, so a shifted or repeated block shows. */
    for (size_t i = 0; i < size; i++)
        p->pattern[i] = (uint8_t)('a' + (i + i / 251) % 26);
    memcpy(p->buf, p->pattern, size);
    return 0;
}

void uniws__bench_payload_free(uniws__bench_payload *p)
{
    free(p->pattern);
    free(p->buf);
    p->pattern = p->buf = NULL;
}

static size_t seq_len(size_t size)
{
    return size < 16 ? size : 16;
}

static void seq_digits(uint64_t seq, uint8_t out[16])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = (uint8_t)hex[seq & 15];
        seq >>= 4;
    }
}

const uint8_t *uniws__bench_payload_make(uniws__bench_payload *p, uint64_t seq)
{
    uint8_t d[16];
    size_t n = seq_len(p->size);
    seq_digits(seq, d);
    memcpy(p->buf, d + 16 - n, n);
    return p->buf;
}

/* ---- verification ------------------------------------------------------- */

void uniws__bench_verify_init(uniws__bench_verify *v, const uniws__bench_payload *p, int text)
{
    memset(v, 0, sizeof *v);
    v->payload = p;
    v->text = text;
}

void uniws__bench_verify_fail(uniws__bench_verify *v, const char *fmt, ...)
{
    v->errors++;
    if (v->errors > 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->first_error, sizeof v->first_error, fmt, ap);
    va_end(ap);
}

int uniws__bench_verify_one(uniws__bench_verify *v, const void *data, size_t len, int is_text,
                            uint64_t seq, int full)
{
    const uniws__bench_payload *p = v->payload;
    const uint8_t *b = data;
    uint8_t d[16];
    size_t n = seq_len(p->size);
    v->checked++;
    if (len != p->size) {
        uniws__bench_verify_fail(v, "echo %llu: %zu bytes, sent %zu", (unsigned long long)seq, len,
                                 p->size);
        return -1;
    }
    if (is_text != v->text) {
        uniws__bench_verify_fail(v, "echo %llu: came back as %s", (unsigned long long)seq,
                                 is_text ? "text" : "binary");
        return -1;
    }
    seq_digits(seq, d);
    if (memcmp(b, d + 16 - n, n) != 0) {
        uniws__bench_verify_fail(v, "echo %llu: wrong sequence number '%.*s'",
                                 (unsigned long long)seq, (int)n, (const char *)b);
        return -1;
    }
    if (full) {
        v->full++;
        if (memcmp(b + n, p->pattern + n, len - n) != 0) {
            size_t i = n;
            while (b[i] == p->pattern[i])
                i++;
            uniws__bench_verify_fail(v, "echo %llu: content differs at byte %zu",
                                     (unsigned long long)seq, i);
            return -1;
        }
    }
    return 0;
}

int uniws__bench_verify_echo(uniws__bench_verify *v, const void *data, size_t len, int is_text,
                             int last)
{
    uint64_t seq = v->next_seq++;
    int full = last || seq % SAMPLE_EVERY == 0;
    return uniws__bench_verify_one(v, data, len, is_text, seq, full);
}
