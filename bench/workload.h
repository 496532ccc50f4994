/*
 * workload.h — what every benchmark client (uniws bench, raw_lws, raw_curl,
 * raw_tcp, raw_tls) shares about a run: its options, the payload each message carries
 * and how an echo is checked. One definition, so the clients measure the same
 * work and verify it the same way.
 */
#ifndef UNIWS_BENCH_WORKLOAD_H
#define UNIWS_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses (the same as the uniws CLI's). */
enum {
    UNIWS__BENCH_EXIT_OK = 0,
    UNIWS__BENCH_EXIT_USAGE = 1,
    UNIWS__BENCH_EXIT_FAILED = 2, /* could not connect, timed out, connection lost */
    UNIWS__BENCH_EXIT_VERIFY = 3  /* an echo did not match what was sent */
};

typedef struct uniws__bench_cfg {
    const char *tool;    /* label in the output: "uniws", "raw-lws", ... */
    const char *url;     /* ws:// or wss://127.0.0.1:PORT/...; NULL: the tool's default */
    const char *backend; /* uniws only */
    size_t size;         /* payload bytes per message */
    long count;          /* messages (throughput mode) */
    int window;          /* messages in flight; 1 = one round trip at a time */
    int connections;     /* > 0: connection-scale mode (N sockets, one echo each) */
    int idle_ms;         /* connection mode: stay idle this long and measure CPU */
    int text;            /* send text messages instead of binary */
    int deflate;         /* offer permessage-deflate (only tools that list --deflate) */
    int json;            /* one JSON line instead of the human table */
    int timeout_s;       /* give up after this long */
    /* wss:// only: verify the server with this PEM CA file instead of the
     * system's store; or (insecure) not at all. */
    const char *ca_file;
    int insecure;
} uniws__bench_cfg;

/* Parses the common options into cfg (which holds the defaults on entry).
 * `extra` names options this tool also accepts with a value ("--backend"),
 * NULL-terminated; their values land in extra_val[i]. A tool that lists
 * "--deflate" there takes it as a flag (cfg->deflate) instead. argv[0] is the tool's
 * name. Returns 0, 1 when help was printed, or -1 after a usage error. */
int uniws__bench_parse(uniws__bench_cfg *cfg, int argc, char **argv, const char *const *extra,
                       const char **extra_val);
/* Prints the common options' help to stdout. */
void uniws__bench_usage(const char *tool, const char *extra_help);
/* A baseline's command line (cfg->tool names it; no options of its own):
 * -1 to go on, else the status to exit with (0 after --help's usage,
 * UNIWS__BENCH_EXIT_USAGE for a bad option). */
int uniws__bench_parse_baseline(uniws__bench_cfg *cfg, int argc, char **argv);
/* Splits "ws://HOST:PORT/PATH" or "wss://..." into host, port (default 80
 * or 443) and path (default "/"). Returns 0 or -1. */
int uniws__bench_split_url(const char *url, char *host, size_t host_size, int *port, char *path,
                           size_t path_size);
/* 1 for a wss:// URL, else 0. */
int uniws__bench_url_tls(const char *url);

/* The bytes of message number `seq`: a fixed printable pattern (valid UTF-8,
 * so the same payload serves text runs) whose first min(size, 16) bytes are
 * replaced by the low hex digits of seq. */
typedef struct uniws__bench_payload {
    size_t size;
    uint8_t *pattern; /* size bytes */
    uint8_t *buf;     /* size bytes: the pattern with the current seq stamped in */
} uniws__bench_payload;

int uniws__bench_payload_init(uniws__bench_payload *p, size_t size);
void uniws__bench_payload_free(uniws__bench_payload *p);
/* Stamps seq into p->buf and returns it. */
const uint8_t *uniws__bench_payload_make(uniws__bench_payload *p, uint64_t seq);

/* Echo checking: every echo's size, type and sequence number; the whole
 * content of every 97th echo, the first and the last. */
typedef struct uniws__bench_verify {
    const uniws__bench_payload *payload;
    int text;
    uint64_t next_seq; /* the sequence number the next echo must carry */
    long checked;      /* echoes whose size/type/seq were checked */
    long full;         /* echoes whose whole content was compared */
    long errors;
    char first_error[200];
} uniws__bench_verify;

void uniws__bench_verify_init(uniws__bench_verify *v, const uniws__bench_payload *p, int text);
/* Checks the next echo (is_text: its message type). last: the run's final
 * echo (always compared in full). Returns 0, or -1 on a mismatch (recorded). */
int uniws__bench_verify_echo(uniws__bench_verify *v, const void *data, size_t len, int is_text,
                             int last);
/* Checks one echo against message `seq` (connection mode, where echoes of
 * different sockets arrive in any order); full: compare the whole content. */
int uniws__bench_verify_one(uniws__bench_verify *v, const void *data, size_t len, int is_text,
                            uint64_t seq, int full);
/* Records a failure that is not about content (lost connection, timeout). */
void uniws__bench_verify_fail(uniws__bench_verify *v, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
