/*
 * backend.h — the private contract between the core and each backend.
 * A backend exports exactly one `const uniws__backend` symbol (the registry
 * lists them); everything else in its folder is static.
 *
 * Two kinds of backend exist:
 *  - STREAM backends (lws, curl, loopback) move bytes: they connect a
 *    transport (DNS, TCP, TLS, proxy) and the core speaks RFC 6455 over it
 *    (handshake, framing, masking, UTF-8, close rules: core/wsproto.c).
 *  - MESSAGE backends (emscripten) sit on a WebSocket implementation that
 *    frames messages itself (the browser); the core keeps the same event and
 *    state rules on top.
 * The core calls every function below on the loop thread, never re-entrantly
 * from inside one of the backend's own calls into the core.
 */
#ifndef UNIWS_CORE_BACKEND_H
#define UNIWS_CORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "uniws/uniws.h"
#include "core/url.h"
#include "core/platform.h"

enum uniws__backend_kind { UNIWS__STREAM = 1, UNIWS__MESSAGE = 2 };

/* What a backend needs to open a connection; owned by the core, valid until
 * destroy(). */
typedef struct uniws__connect_req {
    const uniws__url *url;        /* parsed and validated */
    const uniws_options *opts;    /* copy with core-owned strings */
    const char *protocols_joined; /* "a, b" or NULL */
} uniws__connect_req;

typedef struct uniws__backend {
    const char *name;
    const char *description;
    unsigned caps;    /* UNIWS_CAP_* */
    int auto_select;  /* 0: demand only (loopback) */
    int kind;         /* enum uniws__backend_kind */
    int does_upgrade; /* STREAM: the library performs the HTTP upgrade itself */
    /* STREAM: the library frames again what it sends (it masks with its own
     * key and cannot set RSV bits), so the core queues its frames unmasked
     * and uncompressed: the backend reads opcode, FIN and payload from them. */
    int reframes_output;
    size_t priv_size; /* zeroed per-socket state, see uniws__sock_priv() */
    const char *(*version)(void);

    /* Optional per-loop state. */
    int (*loop_init)(uniws_loop *loop, void **state);
    void (*loop_free)(uniws_loop *loop, void *state);
    /* Optional: called before the loop waits (re-arm timers etc.). */
    void (*loop_prepare)(uniws_loop *loop, void *state);

    /* Starts connecting. Return 0, or an error (e.g. UNIWS_ENOMEM,
     * UNIWS_EUNSUPPORTED); on error no event fires and destroy() still runs.
     * Must not call back into the core synchronously. */
    int (*connect)(uniws_socket *s, const uniws__connect_req *req);
    /* Drops the transport at once and frees everything the backend holds for
     * s. After it returns the backend never mentions s again. Always called
     * exactly once per socket whose connect() was called. */
    void (*destroy)(uniws_socket *s);

    /* STREAM: the core has bytes to write; when the transport is writable,
     * take them with uniws__stream_out_peek/_consume. */
    void (*want_write)(uniws_socket *s);
    /* STREAM, reframes_output, optional: a big data frame (fin, opcode,
     * len payload bytes) is being queued while nothing is queued before it,
     * on the loop thread with s's lock held (make no calls into the core).
     * The backend may write the frame at once straight from data, as far as
     * the transport takes it without blocking, so the payload is not copied
     * into the queue first. Returns 0 when it did not start the frame (the
     * core queues it whole, as without this hook), or 1 when it did: *sent
     * is the payload bytes written, and the core queues the rest of the
     * payload (no header), which the backend sends as the rest of that
     * frame. */
    int (*send_now)(uniws_socket *s, int fin, int opcode, const uint8_t *data, size_t len,
                    size_t *sent);
    /* STREAM, not reframing, optional: writes n bytes of the core's frames
     * to the transport at once, as far as it takes them without blocking.
     * Called on the loop thread with s's lock held (make no calls into the
     * core) when nothing is queued, for a big frame being queued (core/
     * txdirect.c). Returns the bytes taken: 0 when the transport is full,
     * cannot be written to directly now, or failed (the queue's own write
     * meets the failure and reports it); the core queues what was not
     * taken, and the backend writes it as usual. */
    size_t (*write_now)(uniws_socket *s, const uint8_t *p, size_t n);
    /* STREAM, optional: lets go of buffers a burst grew, once the socket
     * has been quiet for a while: the core's idle trim (core/rxbuf.c) calls
     * it on the loop thread, 200 ms after the last
     * uniws__stream_trim_later(). Returns nonzero when something could not
     * go yet (it is called again after another quiet period). */
    int (*trim)(uniws_socket *s);

    /* MESSAGE: hand over one whole message / start the close handshake /
     * report bytes not yet sent / send a ping. */
    int (*msg_send)(uniws_socket *s, uniws_msg_type type, const void *data, size_t len);
    int (*msg_close)(uniws_socket *s, int code, const char *reason, size_t reason_len);
    size_t (*msg_buffered)(uniws_socket *s);
} uniws__backend;

/* The backend's private per-socket block (priv_size bytes, zeroed). */
void *uniws__sock_priv(uniws_socket *s);
uniws_loop *uniws__sock_loop(uniws_socket *s);

/* ---- STREAM backends report to the core (loop thread only) ------------- */

/* The transport is up (TCP connected, TLS and proxy done). */
void uniws__stream_connected(uniws_socket *s);
/* Bytes arrived. Returns 0 to go on reading, or a negative value when the
 * core no longer wants data for s (it failed or closed; the core will call
 * destroy() later from a safe point). */
int uniws__stream_recv(uniws_socket *s, const void *data, size_t len);
/* Bytes arrived inside a callback of the backend's library, where an event
 * would run inside the library too (and a send from it could not go to the
 * library at once). The core takes now what fires no event and keeps a copy
 * of the rest (core/rxlater.c). Returns 0 (all taken), 1 (bytes were kept:
 * call uniws__stream_recv_resume() once the library has returned, before
 * any later input or the end of the transport is reported), or a negative
 * value as uniws__stream_recv. */
int uniws__stream_recv_deferred(uniws_socket *s, const void *data, size_t len);
/* Outside the library: parses the kept bytes now (their events fire here).
 * Returns as uniws__stream_recv. */
int uniws__stream_recv_resume(uniws_socket *s);
/* A burst grew buffers (the backend's, or the core's kept rx / output
 * chunks): let go of what is still unused, and call backend->trim, once the
 * socket is quiet (the core's per-socket idle timer, core/rxbuf.c; one
 * clock read, and a timer start only when it is not armed). Loop thread. */
void uniws__stream_trim_later(uniws_socket *s);
/* The transport ended: err is UNIWS_EDNS, UNIWS_EREFUSED, UNIWS_ETLS,
 * UNIWS_EPROXY, UNIWS_EIO, UNIWS_ETIMEOUT, or UNIWS_ERESET for an orderly
 * end of stream. msg may be NULL. */
void uniws__stream_fail(uniws_socket *s, int err, const char *msg);
/* Output: the next contiguous run of bytes to write (0 when none). The
 * pointer stays valid until the matching consume. */
size_t uniws__stream_out_peek(uniws_socket *s, const uint8_t **p);
void uniws__stream_out_consume(uniws_socket *s, size_t n);
/* Output for a gathering write (writev): up to max runs in queue order,
 * together at most limit bytes. Returns how many runs were filled (0 when
 * nothing is queued); each pointer stays valid until consumed. */
typedef struct uniws__out_run {
    const uint8_t *p;
    size_t n;
} uniws__out_run;
size_t uniws__stream_out_peekv(uniws_socket *s, uniws__out_run *runs, size_t max, size_t limit);

/* One gathering write (sendmsg() on POSIX, WSASend() on Windows) of s's
 * queued output to the non-blocking socket fd, consuming what the kernel
 * took. Returns UNIWS__WRITE_IDLE (nothing queued), _MORE (all of it went
 * out: call again, but first check that the socket is still yours — the
 * consume may have ended it), _FULL (the socket took part or none of it:
 * wait for writability) or _ERROR (errno says why; on Windows errno is set
 * from the Winsock error). */
enum { UNIWS__WRITE_IDLE, UNIWS__WRITE_MORE, UNIWS__WRITE_FULL, UNIWS__WRITE_ERROR };
int uniws__stream_write_fd(uniws_socket *s, uniws__fd fd);
/* One send() of n bytes to the non-blocking socket fd, for write_now:
 * returns the bytes the kernel took, 0 when it took none (full, or an error:
 * the next uniws__stream_write_fd meets it again and says why). */
size_t uniws__stream_send_fd(uniws__fd fd, const uint8_t *p, size_t n);
/* The same send(), for a backend that keeps what the socket did not take
 * itself (lws's wss output): returns the bytes the kernel took (0: full),
 * or -1 on an error, errno saying which (on Windows set from the Winsock
 * error, as for uniws__stream_write_fd). */
long uniws__stream_send_some(uniws__fd fd, const uint8_t *p, size_t n);

/* Receive-into (core/rxinto.c): while a big data frame is arriving, its
 * payload may be read from the socket straight into the message buffer.
 * uniws__stream_recv_room() gives where and how many bytes at most (0: no
 * such frame now, read the usual way and call uniws__stream_recv); after
 * reading n (1..that many) bytes there, uniws__stream_recv_into() hands them
 * over, with the same return values as uniws__stream_recv. Nothing else may
 * be read from the stream in between. */
size_t uniws__stream_recv_room(uniws_socket *s, uint8_t **p);
int uniws__stream_recv_into(uniws_socket *s, size_t n);
/* When no room is offered: how many bytes the next ordinary read should take
 * at most (SIZE_MAX: no limit). Right after a big data frame it is one frame
 * header's worth, so that the next big frame's payload can be read into
 * place too. */
size_t uniws__stream_recv_limit(uniws_socket *s);
/* Reads a stream into the core (core/stream_read.c, where the platform has
 * sockets): one read per call, into the message buffer while a big frame
 * arrives (receive-into), a frame header's worth when
 * uniws__stream_recv_limit() asks for it, else into the backend's buffer.
 * The stream is a non-blocking socket (fd, read with the platform's recv())
 * or whatever the backend's read() gives: a TLS connection's decrypted
 * input. What went into the buffer is handed to the core in slices, the
 * first one small (1 KiB) and then 64 KiB at a time, and after each slice
 * answer() writes what the core queued: the first answers leave while the
 * rest is handled, and the peer has work meanwhile instead of waiting for
 * all of a big read's answers in one write. */
typedef struct uniws__stream_reader {
    uint8_t *buf; /* the backend's read buffer, cap bytes (owned by the backend) */
    size_t cap;
    int drop;     /* the core wants no more input: read into buf and discard it */
    uniws__fd fd; /* the socket to recv() from, when read is NULL */
    /* One read of at most cap bytes into p, non-blocking: returns a
     * UNIWS__RECV_* value and sets *got and *err as uniws__sock_recv()
     * does (core/platform.h). */
    int (*read)(void *ctx, void *p, size_t cap, size_t *got, int *err);
    /* After each slice (refused: the core refused it and wants no more
     * input; the rest of the read is dropped): write what the core queued.
     * Returns 0 to go on, nonzero when the socket is no longer the
     * backend's to use (it failed, or the core let go of it): s and the
     * stream are not touched again. */
    int (*answer)(void *ctx, int refused);
    void *ctx; /* for read and answer */
} uniws__stream_reader;
/* Returns UNIWS__READ_MORE (bytes went in, each slice was answered; the
 * socket may hold more), _STOP (answer() said stop), _AGAIN (nothing to read
 * now), _END (the peer ended the stream), _RESET or _ERROR (the read failed;
 * *err has the system's error code for a message). On _END, _RESET and
 * _ERROR nothing reached the core: the backend reports the end itself or
 * leaves it to its library, which sees it on its own read. */
enum {
    UNIWS__READ_MORE,
    UNIWS__READ_STOP,
    UNIWS__READ_AGAIN,
    UNIWS__READ_END,
    UNIWS__READ_RESET,
    UNIWS__READ_ERROR
};
int uniws__stream_read(uniws_socket *s, const uniws__stream_reader *r, int *err);

/* ---- connect timings (uniws_stats, lifecycle) ---- */
/* Connect phases a backend sees end (loop thread): the first mark of each
 * per attempt counts; stats get each phase's own duration. The upgrade is
 * timed by the core (transport up to the open) unless the backend does it
 * (does_upgrade), which then reports every phase with uniws__life_timings. */
enum { UNIWS__PHASE_DNS = 0, UNIWS__PHASE_TCP = 1, UNIWS__PHASE_TLS = 2 };
void uniws__life_phase(uniws_socket *s, int phase);
/* Durations in ms measured by the library (-1: unknown). */
void uniws__life_timings(uniws_socket *s, int dns_ms, int tcp_ms, int tls_ms, int upgrade_ms);

/* ---- STREAM backends whose library does the HTTP upgrade (does_upgrade) - */

/* Header lines ("Name: value", no CRLF) the upgrade request must carry:
 * Sec-WebSocket-Key, -Version, -Protocol, -Extensions and the custom ones.
 * Valid until destroy(). */
const char *const *uniws__stream_upgrade_headers(uniws_socket *s, size_t *n);
/* Looks up a response header by name (case-insensitive); NULL when absent. */
typedef const char *(*uniws__header_get)(void *ctx, const char *name);
/* The upgrade answer arrived. The core checks it exactly as it checks its own
 * (101, Sec-WebSocket-Accept, subprotocol, extensions). Returns 0 (the socket
 * is open; uniws__stream_recv now takes raw frames) or a negative value (the
 * socket failed; stop, destroy() follows). */
int uniws__stream_upgraded(uniws_socket *s, int http_status, uniws__header_get get, void *ctx);
/* lifecycle (issue 10): before uniws__stream_upgraded, the answer's header
 * lines in order (names and values are copied), for uniws_response_header()
 * and a refusal's error event (UNIWS_CAP_RESPONSE_HEADERS). */
void uniws__stream_response_headers(uniws_socket *s, size_t n, const char *const *names,
                                    const char *const *values);

/* A reframes_output backend found it can write the core's frames to the
 * wire as they are (e.g. a plain TCP connection it can write to itself):
 * from now on s's frames are queued masked, and compressed when
 * permessage-deflate is on. Call before the upgrade is reported, while
 * nothing is queued. */
void uniws__stream_writes_frames(uniws_socket *s);

/* ---- MESSAGE backends report to the core (loop thread only) ------------ */

void uniws__msg_opened(uniws_socket *s, const char *protocol, const char *extensions);
void uniws__msg_received(uniws_socket *s, uniws_msg_type type, const void *data, size_t len);
/* The same, for an engine that fails the connection itself on invalid UTF-8
 * in a text message (a browser's WebSocket): data must be NUL-terminated at
 * data[len] and text is taken as valid, so it is handed out without a
 * second check or a copy. */
void uniws__msg_received_valid(uniws_socket *s, uniws_msg_type type, const char *data, size_t len);
/* An error (err, http_status may be 0); a close event must follow. */
void uniws__msg_error(uniws_socket *s, int err, int http_status, const char *msg);
void uniws__msg_closed(uniws_socket *s, int code, const char *reason, size_t reason_len,
                       int was_clean);

/* ---- The registry -------------------------------------------------------- */

/* NULL-terminated list of compiled backends (core/registry.c). */
extern const uniws__backend *const uniws__backends[];
/* Resolves the backend for a connect: explicit name > UNIWS_BACKEND env >
 * build default > first auto-selectable. Returns 0 or UNIWS_ENO_BACKEND. */
int uniws__backend_select(const char *name, const uniws__backend **out);

extern const uniws__backend uniws__backend_lws;
extern const uniws__backend uniws__backend_curl;
extern const uniws__backend uniws__backend_emscripten;
extern const uniws__backend uniws__backend_loopback;
extern const uniws__backend uniws__backend_winhttp;

#endif
