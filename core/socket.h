/*
 * socket.h — the socket object shared by core/socket.c (public API, state
 * machine, event delivery, lifecycle) and core/wsproto.c (RFC 6455 over a
 * STREAM backend's bytes). Not visible outside core/.
 */
#ifndef UNIWS_CORE_SOCKET_H
#define UNIWS_CORE_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include "core/atomic.h" /* state: uniws__atomic_load/store */
#include "core/backend.h"
#include "core/frame.h"
#include "core/hsinfo.h"
#include "core/lifecycle.h"
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
    int state;        /* uniws_state; atomic loads from other threads (core/atomic.h) */

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
    /* core/rxlater.c: input kept until the backend's library has returned */
    uint8_t *later;
    size_t later_len, later_cap;
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

    /* ---- flow control ---- */
    /* core/flow.c: back-pressure (flags guarded by mu) */
    int flow_above;    /* buffered amount went above the low threshold */
    int flow_low_req;  /* on_buffered_amount_low is due (fired from sock_job) */
    int flow_poll_req; /* MESSAGE backends: start polling msg_buffered */
    unsigned flow_poll_ms;
    uniws__timer flow_timer;
    /* core/rxbuf.c: big buffers an idle socket lets go of (loop thread);
     * trim_last: loop time of the last use that keeps them */
    uniws__timer trim_timer;
    uint64_t trim_last;
    /* core/fragment.c: the fragmented message being sent (mu) */
    int tx_frag_op; /* opcode of its first frame; 0 when none is open */
    /* core/txsplit.c: memory ran out after some frames of a message were
     * queued; the connection cannot go on and fails from sock_job (mu) */
    int tx_broken;
    uniws__utf8 tx_utf8;
    /* core/stream_recv.c: the message being delivered in parts (loop thread) */
    uint64_t part_off;
    int part_started, part_ended;
    uint8_t part_carry[4]; /* start of a UTF-8 character split by a read */
    size_t part_carry_len;
    /* ---- connection lifecycle (core/lifecycle.c) ---- */
    uniws__life life;
    uniws__hsinfo hsinfo; /* the handshake answer (core/hsinfo.c) */
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

/* flow.c: back-pressure (docs/api.md "Flow control"). */
void uniws__flow_init(uniws_socket *s);
void uniws__flow_cleanup(uniws_socket *s);
/* Bytes queued now (mu held). */
size_t uniws__flow_buffered(uniws_socket *s);
/* May len more bytes be queued? 0 or UNIWS_EBUFFER_FULL (mu held). */
int uniws__flow_admit(uniws_socket *s, size_t len);
/* After a send queued bytes (mu held): notes a crossing of the threshold.
 * Returns 1 when sock_job must run (uniws__sock_post after unlocking). */
int uniws__flow_sent(uniws_socket *s);
/* After bytes left the queue (mu held): 1 when sock_job must run. */
int uniws__flow_drained(uniws_socket *s);
/* From sock_job (loop thread, mu NOT held): fires what is due. */
void uniws__flow_job(uniws_socket *s);

/* stream_recv.c: opt-in delivery in parts (uniws_callbacks.on_message_part). */
/* 1 when the application takes messages in parts. */
int uniws__parts_on(const uniws_socket *s);
/* A new message begins. */
void uniws__parts_reset(uniws_socket *s);
/* Bytes of the current message as they arrive (text already validated by the
 * caller); final: they end it. Returns 0, or -1 once the socket is done. */
int uniws__parts_data(uniws_socket *s, int type, const uint8_t *p, size_t n, int final);
/* A whole message (inflated, in place, or from a MESSAGE backend) handed
 * out in parts. Returns 0, or -1 once the socket is done. */
int uniws__parts_whole(uniws_socket *s, int type, const uint8_t *p, size_t n);

/* rxbuf.c: the receive buffer of a message being reassembled. */
void uniws__rxbuf_init(uniws_socket *s);
/* Makes room for extra more bytes (plus a NUL) in s->msg; frame_left is
 * what the current frame still brings (a hint, never reserved ahead).
 * Returns 0 or UNIWS_ENOMEM. */
int uniws__rxbuf_room(uniws_socket *s, size_t extra, uint64_t frame_left, int fin);
/* A message was delivered (or refused): a big buffer goes soon. */
void uniws__rxbuf_idle(uniws_socket *s);
/* Frees the receive buffer now. */
void uniws__rxbuf_release(uniws_socket *s);
void uniws__rxbuf_cleanup(uniws_socket *s);
/* wsproto.c: n payload bytes of the data frame being received were put at
 * s->msg + s->msg_len (core/rxinto.c); checks and counts them, and finishes
 * the frame when they end it. Returns 0, or -1 once the socket is done. */
int uniws__ws_rx_stored(uniws_socket *s, size_t n);
/* rxlater.c: lets go of the kept-input buffer when it is empty (trim
 * timer) / at once (cleanup). */
void uniws__rxlater_trim(uniws_socket *s);
void uniws__rxlater_release(uniws_socket *s);
/* txdirect.c: writes a big masked frame (hl header bytes, then len payload
 * bytes masked with mask) through backend->write_now a slice at a time while
 * the socket takes it (loop thread, mu held, nothing queued before it).
 * Returns the frame's bytes written (0 when it could not start); the caller
 * queues the rest. */
size_t uniws__tx_direct(uniws_socket *s, const uint8_t *hdr, size_t hl, const uint8_t mask[4],
                        const uint8_t *data, size_t len);
/* wsproto.c: drops a drained big output chunk kept for reuse. */
void uniws__ws_trim_output(uniws_socket *s);

/* wsproto.c: the RFC 6455 engine for STREAM backends. */
int uniws__ws_init(uniws_socket *s);
void uniws__ws_cleanup(uniws_socket *s);
/* Queues a frame (mu held). Returns 0 or UNIWS_ENOMEM. */
int uniws__ws_queue(uniws_socket *s, int opcode, const void *data, size_t len);
/* Queues one frame as it is (mu held); counted: its bytes in buffered_amount.
 * Returns 0 or UNIWS_ENOMEM. */
int uniws__ws_queue_raw(uniws_socket *s, int fin, int rsv, int opcode, const uint8_t *data,
                        size_t len, size_t counted);
/* txsplit.c: queues a message's (or a part's) payload as data frames of at
 * most max_frame_size bytes: the first with first_op and rsv, the others
 * continuation frames, FIN only on the last and only when fin (mu held). */
int uniws__tx_frames(uniws_socket *s, int first_op, int rsv, const uint8_t *data, size_t len,
                     size_t counted, int fin);
/* Queues one frame of a fragmented message: opcode is TEXT/BINARY for the
 * first, CONT after; never compressed (mu held). Returns 0 or UNIWS_ENOMEM. */
int uniws__ws_queue_fragment(uniws_socket *s, int opcode, const void *data, size_t len, int fin);
/* Queues a close frame (mu held). code 0 = no payload. */
int uniws__ws_queue_close(uniws_socket *s, int code, const char *reason, size_t len);
/* Fails with a close frame carrying wire_code (0: none) sent if possible. */
void uniws__ws_fail(uniws_socket *s, int err, int wire_code, const char *msg);
/* Connect / close timeouts land here. */
void uniws__ws_close_timeout(uniws_socket *s);

#endif
