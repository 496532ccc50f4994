/*
 * echo_client.h — the batched echo client of the byte-stream baselines
 * (raw-tcp, raw-tls): dialling the bench server, and the one send/echo loop
 * both run over their own read and write functions (plain socket or TLS).
 * A "message" is --size bytes of the stream; small ones are written in
 * batches (one write for many), every echo is checked as the WebSocket
 * clients check theirs (workload.h), and the run ends in the same JSON line.
 */
#ifndef UNIWS_BENCH_ECHO_CLIENT_H
#define UNIWS_BENCH_ECHO_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "report.h"
#include "workload.h"

/* What the io functions return besides a byte count (> 0). */
enum {
    UNIWS__ECHO_AGAIN = 0,   /* nothing could be done now: wait and retry */
    UNIWS__ECHO_FAILED = -1, /* a failure, already recorded in the verifier */
    UNIWS__ECHO_EOF = -2     /* read: the server closed the stream */
};

/* A byte stream to the server's raw echo. */
typedef struct uniws__echo_io {
    void *ctx;
    /* Writes up to len bytes; returns the count or UNIWS__ECHO_AGAIN/FAILED. */
    long (*write)(void *ctx, const uint8_t *buf, size_t len);
    /* Reads up to len bytes; returns the count or UNIWS__ECHO_AGAIN/FAILED/EOF. */
    long (*read)(void *ctx, uint8_t *buf, size_t len);
    /* Waits up to 100 ms for input, or for room to write too when the last
     * write this round returned UNIWS__ECHO_AGAIN (write_blocked). */
    void (*wait)(void *ctx, int write_blocked);
    /* Messages this big or bigger are read straight into the one message
     * buffer (as the uniws core reads a big frame); 0: never. */
    size_t direct_from;
} uniws__echo_io;

typedef struct uniws__echo_client {
    const uniws__bench_cfg *cfg;
    uniws__bench_payload pl;
    uniws__bench_verify v; /* the io functions record their failures here */
    uniws__bench_rtt rtt;
    uint8_t *rbuf, *msg, *batch;
} uniws__echo_client;

/* Allocates the buffers for cfg's workload (binary messages). Returns 0 or -1
 * (then uniws__echo_client_free is still due). */
int uniws__echo_client_init(uniws__echo_client *c, const uniws__bench_cfg *cfg);
void uniws__echo_client_free(uniws__echo_client *c);

/* Connects to the IPv4 address host (or "localhost") and port with
 * TCP_NODELAY, writes greeting (when not NULL) and makes the socket
 * non-blocking. Returns the socket, or -1 after a message on stderr naming
 * tool. */
int uniws__echo_dial(const char *tool, const char *host, int port, const char *greeting);

/* Sends cfg->count messages with cfg->window in flight over io and checks
 * every echo until all came back, one failed, or deadline (monotonic ns)
 * passed; fills res's measured fields (secs, cpu_secs, RTT, echoes, ok,
 * error). */
void uniws__echo_client_run(uniws__echo_client *c, const uniws__echo_io *io, uint64_t deadline,
                            uniws__bench_result *res);

/* The whole run for a client whose io is ready: runs the workload (cfg's
 * timeout from now), prints the result, frees c; returns the exit status. */
int uniws__echo_client_main(uniws__echo_client *c, const uniws__echo_io *io, const char *backend);

/* Waits up to 100 ms for fd to be readable (rd) and/or writable (wr). */
void uniws__echo_wait_fd(int fd, int rd, int wr);

/* Prints res and returns the exit status for it (0, 2, or 3 for a bad echo). */
int uniws__echo_client_report(const uniws__echo_client *c, const uniws__bench_result *res);

#endif
