/*
 * echo_server.h — the benchmarks' echo server: one thread, epoll, one large
 * shared read buffer, frames streamed back as they arrive (unmasked in place,
 * header rewritten in place, written with writev) so it is never the
 * bottleneck. Speaks just enough RFC 6455 for an echo: the upgrade, data
 * frames (fragmented or not), ping -> pong, close -> echoed close. A client
 * that starts with "RAWECHO\n" instead gets a plain TCP echo (the TCP
 * baseline). Listens on 127.0.0.1 only. With a certificate it speaks TLS
 * instead (wss://, and the raw echo over TLS for the TLS-over-TCP baseline).
 */
#ifndef UNIWS_BENCH_ECHO_SERVER_H
#define UNIWS_BENCH_ECHO_SERVER_H

typedef struct uniws__echo_server uniws__echo_server;

typedef struct uniws__echo_opts {
    int port;          /* 0: any free port */
    int corrupt_every; /* > 0: flip a payload byte in every Nth data frame (tests the checkers) */
    const char *tls_cert; /* PEM certificate (chain): serve TLS; NULL: plain TCP */
    const char *tls_key;  /* PEM private key for tls_cert */
} uniws__echo_opts;

/* Binds 127.0.0.1:port and listens. Returns 0 or -1 (errno set; EINVAL
 * with a message on stderr when the certificate or key cannot be used). */
int uniws__echo_new(const uniws__echo_opts *opts, uniws__echo_server **out);
int uniws__echo_port(const uniws__echo_server *srv);
/* Serves until uniws__echo_stop() (from any thread or a signal handler). */
int uniws__echo_run(uniws__echo_server *srv);
void uniws__echo_stop(uniws__echo_server *srv);
/* Frees a server that is not running. */
void uniws__echo_free(uniws__echo_server *srv);

/* Convenience for in-process use: new + run on a background thread. */
int uniws__echo_start_thread(const uniws__echo_opts *opts, uniws__echo_server **out);
/* Stops the background thread, joins it and frees the server. */
void uniws__echo_stop_thread(uniws__echo_server *srv);

#endif
