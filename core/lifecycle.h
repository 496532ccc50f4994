/*
 * lifecycle.h — hooks of the connection-lifecycle features (issue 10) that
 * core/socket.c and core/wsproto.c call: the heartbeat timer and dead-peer
 * deadline, statistics counters, pong events and the close event's cause.
 * The per-socket state is the `life` block of struct uniws_socket.
 */
#ifndef UNIWS_CORE_LIFECYCLE_H
#define UNIWS_CORE_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>
#include "uniws/uniws.h"
#include "core/heartbeat.h"
#include "core/loop.h"
#include "core/reconnect.h"
#include "core/url.h"

typedef struct uniws__life {
    uniws__hb hb;
    uniws__timer hb_timer;
    int cause;        /* the last error event's code, for the close event */
    uint64_t t_start; /* uniws_connect() */
    int ph[3];        /* ms since t_start at which each UNIWS__PHASE_* ended, -1: not yet */
    uniws_stats st;
    /* permessage-deflate: application and compressed payload bytes */
    uint64_t z_app_sent, z_wire_sent, z_app_recv, z_wire_recv;
    int cause_status; /* the last error event's HTTP status */
    /* reconnect policy */
    uniws__rc rc;
    uniws__timer rc_timer;
    int rc_on;      /* the policy is on */
    int rc_waiting; /* an ending was taken over: no event until the next attempt */
    int rc_reset;   /* the old connection still has to be torn down (sock_job) */
    int rc_delay;
    int app_closed; /* uniws_close() was called: never reconnect */
    /* redirects (max_redirects): followed since the last open, and the next URL */
    int rd_hops;
    int rd_pending; /* the error was a redirect to follow: take the ending over */
    int rd_swap;    /* rd_next replaces the socket's URL once the old connection is gone */
    uniws__url rd_next;
} uniws__life;

/* Option checks at connect: 0, UNIWS_EINVAL or UNIWS_EUNSUPPORTED. */
int uniws__life_check(const uniws_options *o, unsigned caps);
/* uniws_connect() made the socket (loop thread). */
void uniws__life_init(uniws_socket *s);
/* The open event is about to fire: starts the heartbeat and deadline. */
void uniws__life_opened(uniws_socket *s);
/* The transport (DNS, TCP, TLS, proxy) is up. */
void uniws__life_transport_up(uniws_socket *s);
/* The close event is about to fire, or the socket is torn down. */
void uniws__life_stop(uniws_socket *s);
/* Bytes arrived from the peer (stream: raw bytes; message: one message). */
void uniws__life_rx(uniws_socket *s, size_t wire_bytes);
/* n bytes went to the transport (loop thread). */
void uniws__life_tx(uniws_socket *s, size_t wire_bytes);
/* A data message or ping was accepted by send (mu held; any thread). */
void uniws__life_sent(uniws_socket *s, int opcode, const void *data, size_t len);
/* A frame of this opcode was queued (mu held) / parsed. */
void uniws__life_frame_sent(uniws_socket *s);
void uniws__life_frame_received(uniws_socket *s, int opcode);
/* A data message reached the application. */
void uniws__life_delivered(uniws_socket *s, size_t len);
/* A part of one (on_message_part): its bytes, and the message once last. */
void uniws__life_part(uniws_socket *s, size_t len, int last);
/* permessage-deflate counted payloads (mu held for the sent side). */
void uniws__life_zsent(uniws_socket *s, size_t app, size_t wire);
void uniws__life_zrecv(uniws_socket *s, size_t app, size_t wire);
/* The close event is about to fire: 1 when the reconnect policy takes the
 * ending over instead (on_reconnecting fired; the socket is CONNECTING). */
int uniws__life_reconnect(uniws_socket *s, int code, int clean);
/* 1 while a reconnect waits (no event may fire). */
int uniws__life_waiting(const uniws_socket *s);
/* At a safe point (sock_job): tears a taken-over connection down and starts
 * the wait. */
void uniws__life_job(uniws_socket *s);
/* uniws_close() during the wait: stop waiting, the caller fails the socket. */
void uniws__life_abort(uniws_socket *s);
/* An error event is about to fire (loop thread): 1 when it is a redirect
 * that will be followed (no event: the close that follows is taken over);
 * else 0, possibly with *err and *msg changed (UNIWS_EREDIRECT: why it is not
 * followed). */
int uniws__life_redirect(uniws_socket *s, int *err, int http_status, const char **msg);
/* A pong frame arrived (loop thread): round trip and the on_pong event. */
void uniws__life_pong(uniws_socket *s, const void *data, size_t len);

#endif
