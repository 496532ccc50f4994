/*
 * peer.h — an I/O-free scripted WebSocket *server* engine. Feed it the bytes a
 * client sent; take the actions it wants carried out (write bytes, wait, close
 * or reset TCP). The URL path of the upgrade request picks its behaviour
 * (docs/peer.md). Drivers: the loopback backend, tools/server.c (real TCP),
 * unit tests.
 */
#ifndef UNIWS_LOOPBACK_PEER_H
#define UNIWS_LOOPBACK_PEER_H

#include <stddef.h>
#include <stdint.h>

typedef struct uniws__peer uniws__peer;

enum uniws__peer_action_kind {
    UNIWS__PEER_NONE = 0,  /* nothing to do until more input arrives */
    UNIWS__PEER_WRITE = 1, /* write data[0..len); bytewise: one byte per write */
    UNIWS__PEER_SLEEP = 2, /* wait ms milliseconds, then ask again */
    UNIWS__PEER_FIN = 3,   /* close TCP in order; the connection is over */
    UNIWS__PEER_RESET = 4, /* reset TCP; the connection is over */
    UNIWS__PEER_HTTP = 5,  /* plain HTTP GET for path (not an upgrade): the
                              driver serves a static file or 404, then FIN */
    /* TLS only (uniws__peer_set_tls): break TLS mid-stream with data[0..len),
     * a frame. GARBLE: encrypt it as the next record, corrupt one byte of
     * the ciphertext and write the record to TCP. PLAIN: write it to TCP
     * unencrypted. Then ask again: the script goes on. */
    UNIWS__PEER_TLS_GARBLE = 6,
    UNIWS__PEER_TLS_PLAIN = 7,
    /* TLS only: close TCP in order without close_notify first (a truncated
     * TLS stream; FIN sends close_notify); the connection is over. */
    UNIWS__PEER_TLS_TRUNCATE = 8
};

typedef struct uniws__peer_action {
    int kind;
    const uint8_t *data; /* WRITE: owned by the peer, valid until the next call */
    size_t len;
    int bytewise;
    unsigned ms;      /* SLEEP */
    const char *path; /* HTTP: the decoded request path, no query */
} uniws__peer_action;

/* Returns a new peer for one connection, or NULL when out of memory. */
uniws__peer *uniws__peer_new(void);
void uniws__peer_free(uniws__peer *p);
/* Bytes from the client. Returns 0, or -1 when out of memory. */
int uniws__peer_feed(uniws__peer *p, const void *data, size_t len);
/* The client closed its side of TCP (or the connection broke). */
void uniws__peer_eof(uniws__peer *p);
/* 0 while the script told the peer not to read (`no-read`): the driver
 * leaves the client's bytes unread (in the kernel, or in the client's queue)
 * until it returns 1 again. */
int uniws__peer_reading(const uniws__peer *p);
/* The driver runs this connection over TLS and carries out the TLS actions.
 * Without it the scripts with tls-* commands are refused (400). Call
 * before feeding the request. */
void uniws__peer_set_tls(uniws__peer *p);
/* The next action to carry out; call again until it returns NONE, FIN,
 * RESET or TLS_TRUNCATE (those three: the connection is over, free the
 * peer). */
void uniws__peer_next(uniws__peer *p, uniws__peer_action *a);

/* Builds the 404/200 answer for an HTTP action: status line, headers and body
 * ... the driver owns file I/O, so it only gets help with the head. */
int uniws__peer_http_head(char *buf, size_t size, int status, const char *content_type,
                          size_t content_length);

#endif
