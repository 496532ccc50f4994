/*
 * server.h — a small WebSocket/HTTP server over real TCP (optionally TLS)
 * that runs the scripted peer engine (backends/loopback/peer.h) for every
 * connection and serves static files for plain GETs, on POSIX and Windows. Used by `uniws serve`,
 * `uniws demo`, the conformance suite and the examples. Not part of libuniws.
 */
#ifndef UNIWS_TOOLS_SERVER_H
#define UNIWS_TOOLS_SERVER_H

typedef struct uniws__server uniws__server;

typedef struct uniws__server_options {
    const char *host;       /* address to bind; NULL: "127.0.0.1" */
    int port;               /* 0: pick a free port */
    const char *static_dir; /* NULL: plain GETs get 404 */
    const char *tls_cert;   /* PEM certificate; with tls_key: serve TLS (wss/https) */
    const char *tls_key;
    int verbose; /* 1: log connections to stderr */
    /* reliability (issue 12): with TLS, require a client certificate that
     * this PEM CA signed (mutual TLS); the handshake fails without one. */
    const char *tls_client_ca;
} uniws__server_options;

/* Binds, listens and starts serving on a background thread. Returns 0 or a
 * negative UNIWS_E* code (UNIWS_EIO for bind/listen failures, UNIWS_ETLS for
 * bad certificate files, UNIWS_EUNSUPPORTED for TLS in a build without it). */
int uniws__server_start(const uniws__server_options *opts, uniws__server **out);
/* 1 when this build's server can serve TLS (tls_cert); 0 in the Windows
 * cross build (no OpenSSL for mingw in Debian: tools/server/srv_tls_none.c). */
int uniws__server_tls_available(void);
/* The bound port. */
int uniws__server_port(const uniws__server *srv);
/* Stops the thread, closes every connection and frees srv. */
void uniws__server_stop(uniws__server *srv);
/* Serves in the calling thread until SIGINT/SIGTERM or, on Windows, Ctrl-C
 * (for `uniws serve`);
 * prints "listening on ws://HOST:PORT" to stdout first. Returns 0 or an error. */
int uniws__server_run(const uniws__server_options *opts);

#endif
