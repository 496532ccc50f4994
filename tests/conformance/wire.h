/*
 * wire.h — a one-connection raw WebSocket peer that a case starts in its own
 * process to see what the client puts on the wire: the close code it sends
 * when it fails a connection (1002, 1007, 1009), the pongs it answers pings
 * with, whether its frames are masked. The scripted peer cannot report these
 * back through the client's events, so this little peer watches them.
 */
#ifndef UNIWS_CONFORMANCE_WIRE_H
#define UNIWS_CONFORMANCE_WIRE_H

#include <stddef.h>

typedef struct wire_peer wire_peer;

/* What the client sent on the one connection. */
typedef struct wire_obs {
    int upgraded;   /* a valid upgrade request came and got its 101 */
    int close_code; /* -1: no close frame; 0: a close frame without a code */
    char close_reason[128];
    int data_frames; /* text, binary and continuation frames */
    int pongs;       /* pong frames */
    char last_pong[128];
    size_t last_pong_len;
    int unmasked; /* frames without the mask bit (a client must mask) */
    int bad;      /* bytes that are not a frame */
    int eof;      /* the client closed TCP */
    int done;     /* the connection is over */
} wire_obs;

/* Starts listening on 127.0.0.1:0. After the 101 the peer writes
 * frames[0..len) (raw server frames), then reads the client's frames: it
 * answers a ping with a pong, answers each pong with a text message
 * "pong:<payload>", answers a close frame with the same payload and then
 * waits for the client to close TCP. Returns 0 or -1. */
int wire_start(const void *frames, size_t len, wire_peer **out);
int wire_port(const wire_peer *w);
/* Waits up to timeout_ms for the connection to end; copies what was seen. */
void wire_wait(wire_peer *w, int timeout_ms, wire_obs *obs);
/* Stops the thread and frees w (NULL is a no-op). */
void wire_stop(wire_peer *w);

#endif
