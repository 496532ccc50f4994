/*
 * socket.h — the socket object shared by core/socket.c (public API, state
 * machine, event delivery, lifecycle) and core/wsproto.c (RFC 6455 over a
 * STREAM backend's bytes). Not visible outside core/.
 */
#ifndef UNIWS_CORE_SOCKET_H
#define UNIWS_CORE_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include "core/backend.h"
#include "core/frame.h"
#include "core/loop.h"
#include "core/platform.h"
#include "core/pmd.h"
#include "core/utf8.h"

/* Outgoing bytes: a list of chunks; appends never move bytes already queued,
 * so a backend may write from a peeked pointer while other threads append. */
typedef struct uniws__chunk {
    struct uniws__chunk *next;
    size_t len;     /* bytes filled */
    size_t cap;     /* capacity of data[] */
    size_t off;     /* bytes already written */
    size_t payload; /* payload bytes still counted in buffered_amount */
    size_t hdr;     /* single-frame chunk: header bytes before the payload; else SIZE_MAX */
    uint8_t data[];
} uniws__chunk;

struct uniws_socket {
    uniws_loop *loop;
    const uniws__backend *backend;
    void *priv;
    uniws__mutex *mu; /* guards state, the output queue and the close request */
    int state;        /* uniws_state; atomic loads from other threads */

    uniws_callbacks cb;
    void *user_data;
    uniws_options opts; /* copy; strings below are owned */
    char **protos;
    size_t nprotos;
    uniws_header *hdrs;
    size_t nhdrs;
    char *protocols_joined;
    char *str_ca, *str_cert, *str_key, *str_proxy;
    char *str_proxy_ca; /* cli (issue 14) */
    uniws__url url;
    uniws__connect_req req;
    char *protocol;   /* selected subprotocol, "" */
    char *extensions; /* accepted extensions, "" */
    size_t max_msg;

    /* lifecycle (loop thread) */
    int opened, close_fired, freed, destroyed, connect_called;
    int linger;      /* transport kept after the close event to flush a close frame */
    int linger_done; /* ...and it is flushed */
    int want_kick;   /* backend->want_write requested (guarded by mu) */
    int fail_req;    /* close() while CONNECTING from some thread (guarded by mu) */
    int close_timer_req;
    uniws__job job;
    uniws__timer conn_timer, close_timer;

    /* ---- stream protocol state (core/wsproto.c) ---- */
    int transport_up, hs_done;
    int reframed; /* the backend frames our output again: queue it plain */
    char key[25];
    char *hsbuf;
    size_t hslen;
    const char **upgrade_lines;
    size_t nupgrade_lines;
    char *upgrade_store;
    /* receive */
    uint8_t hdr[UNIWS__FRAME_MAX_HEADER];
    size_t hdr_have;
    int in_frame;
    uniws__frame_hdr fh;
    uint64_t remaining;
    int frag_op; /* opcode of the message being reassembled, 0 when none */
    int frag_compressed;
    uint8_t *msg;
    size_t msg_len, msg_cap;
    uniws__utf8 utf8;
    uint8_t ctrl[125];
    size_t ctrl_len;
    int close_received, close_sent, close_after_flush;
    int peer_code;
    char peer_reason[124];
    size_t peer_reason_len;
    /* send (guarded by mu) */
    uniws__chunk *out_head, *out_tail;
    size_t buffered;
    uint8_t rnd[256];
    size_t rnd_off;
    uniws__pmd *pmd;
    /* automatic pongs (core/wsproto.c, guarded by mu): at most one pong
     * waits in the output queue; pings arriving meanwhile only replace the
     * payload of the one pending pong (RFC 6455 5.5.3), so a ping flood from
     * a peer that never reads keeps the queue bounded. */
    uint64_t out_queued, out_written; /* bytes ever appended / written */
    uint64_t pong_end;                /* out_queued after the last queued pong */
    int pong_pending;
    size_t pong_len;
    uint8_t pong_buf[125];
};

/* socket.c: event delivery. Each checks that the socket may still fire. */
void uniws__sock_emit_open(uniws_socket *s);
void uniws__sock_emit_message(uniws_socket *s, uniws_msg_type type, const void *data, size_t len);
void uniws__sock_emit_error(uniws_socket *s, int err, int http_status, const char *msg);
void uniws__sock_emit_close(uniws_socket *s, int code, const char *reason, size_t len, int clean);
/* 1 once no more events may fire (closed or freed). */
int uniws__sock_done(const uniws_socket *s);
/* Asks for backend->want_write from a safe point. Any thread. */
void uniws__sock_kick(uniws_socket *s);
/* Schedules lifecycle work (teardown, timers) at a safe point. Any thread. */
void uniws__sock_post(uniws_socket *s);
/* Fails the connection: error then close 1006 (was_clean 0). */
void uniws__sock_fail(uniws_socket *s, int err, int http_status, const char *msg);

/* wsproto.c: the RFC 6455 engine for STREAM backends. */
int uniws__ws_init(uniws_socket *s);
void uniws__ws_cleanup(uniws_socket *s);
/* Queues a frame (mu held). Returns 0 or UNIWS_ENOMEM. */
int uniws__ws_queue(uniws_socket *s, int opcode, const void *data, size_t len);
/* Queues a close frame (mu held). code 0 = no payload. */
int uniws__ws_queue_close(uniws_socket *s, int code, const char *reason, size_t len);
/* Fails with a close frame carrying wire_code (0: none) sent if possible. */
void uniws__ws_fail(uniws_socket *s, int err, int wire_code, const char *msg);
/* Connect / close timeouts land here. */
void uniws__ws_close_timeout(uniws_socket *s);

#endif
