/*
 * uniws.h — the one public header of uniws: a WebSocket client API shaped like
 * the browser's WebSocket object, served by pluggable backends (libwebsockets,
 * libcurl, the browser under Emscripten, an in-process loopback).
 *
 * Conventions
 *  - Every function that can fail returns an int: 0 (UNIWS_OK) or a negative
 *    UNIWS_E* code from the table below. uniws_strerror() describes it.
 *  - A call that fails never fires a callback for that call.
 *  - Handles are opaque. Option structs are zero-initialised; 0 / NULL always
 *    means "the default", so new fields never break old callers.
 *  - Callbacks run only inside uniws_loop_run*() on the thread that drives the
 *    loop, never concurrently and never from a hidden thread.
 *  - uniws_send_*, uniws_close, uniws_ready_state and uniws_buffered_amount may
 *    be called from any thread. Everything else belongs to the loop thread.
 */
#ifndef UNIWS_UNIWS_H
#define UNIWS_UNIWS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(UNIWS_SHARED)
#ifdef UNIWS_BUILDING
#define UNIWS_API __declspec(dllexport)
#else
#define UNIWS_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define UNIWS_API __attribute__((visibility("default")))
#else
#define UNIWS_API
#endif

#define UNIWS_VERSION_MAJOR  0
#define UNIWS_VERSION_MINOR  1
#define UNIWS_VERSION_PATCH  0
#define UNIWS_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* X(name, value, description). Values are stable across releases. */
#define UNIWS_ERRNO_MAP(X)                                                                         \
    X(INVAL, -1, "invalid argument")                                                               \
    X(SYNTAX, -2, "syntax error (bad URL, subprotocol token, header or close reason)")             \
    X(INVALID_ACCESS, -3, "close code not allowed (use 1000 or 3000-4999)")                        \
    X(INVALID_STATE, -4, "socket is still connecting")                                             \
    X(CLOSED, -5, "socket is closing or closed")                                                   \
    X(NOMEM, -6, "out of memory")                                                                  \
    X(NO_BACKEND, -7, "unknown or not compiled backend")                                           \
    X(UNSUPPORTED, -8, "the chosen backend cannot honour this option")                             \
    X(UTF8, -9, "text is not valid UTF-8")                                                         \
    X(TOO_BIG, -10, "message exceeds the size limit")                                              \
    X(IO, -11, "network I/O error")                                                                \
    X(DNS, -12, "host name could not be resolved")                                                 \
    X(REFUSED, -13, "connection refused")                                                          \
    X(TIMEOUT, -14, "timed out")                                                                   \
    X(TLS, -15, "TLS handshake or certificate verification failed")                                \
    X(HANDSHAKE, -16, "WebSocket handshake rejected")                                              \
    X(PROTOCOL, -17, "the peer violated the WebSocket protocol")                                   \
    X(RESET, -18, "connection closed by the peer without a close frame")                           \
    X(WRONG_THREAD, -19, "must be called on the thread that drives the loop")                      \
    X(BUSY, -20, "resource busy (loop still has sockets, or is running)")                          \
    X(PROXY, -21, "proxy failure")                                                                 \
    X(INTERNAL, -22, "internal error (a bug in uniws or a backend)")                               \
    /* lifecycle (docs/api.md "Heartbeat and dead-peer detection") */                              \
    X(IDLE_TIMEOUT, -23, "nothing arrived from the peer within idle_timeout_ms")                   \
    /* flow control (docs/api.md "Flow control") */                                                \
    X(BUFFER_FULL, -25, "send would exceed max_buffered_amount (nothing was queued)")              \
    X(FRAGMENT_OPEN, -26, "a fragmented message is being sent: finish it with last = 1 first")     \
    /* lifecycle (docs/api.md "Redirects") */                                                      \
    X(REDIRECT, -27, "a redirect was not followed (max_redirects reached, wss to ws, scheme)")

typedef enum uniws_err {
    UNIWS_OK = 0,
#define UNIWS__ERR_ENUM(name, val, desc) UNIWS_E##name = val,
    UNIWS_ERRNO_MAP(UNIWS__ERR_ENUM)
#undef UNIWS__ERR_ENUM
} uniws_err;

/* Describes an error code; never NULL ("unknown error" for unknown codes). */
UNIWS_API const char *uniws_strerror(int err);
/* The code's name, e.g. "UNIWS_ESYNTAX"; "UNIWS_OK" for 0; never NULL. */
UNIWS_API const char *uniws_err_name(int err);

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

typedef void *(*uniws_malloc_fn)(size_t size);
typedef void *(*uniws_realloc_fn)(void *p, size_t size);
typedef void (*uniws_free_fn)(void *p);
/* Routes every allocation uniws itself makes (and zlib's, for
 * permessage-deflate) through the given functions. Call it before any other
 * uniws function, or while no loop or socket exists; all three or none (NULL,
 * NULL, NULL restores malloc/realloc/free). A failing allocation surfaces as
 * UNIWS_ENOMEM or as an error event; it never crashes or leaks. The libraries
 * under a backend (libcurl, libwebsockets, OpenSSL) keep their own allocators.
 * Returns 0 or UNIWS_EINVAL (only some of the three given). */
UNIWS_API int uniws_set_allocator(uniws_malloc_fn malloc_fn, uniws_realloc_fn realloc_fn,
                                  uniws_free_fn free_fn);

/* ------------------------------------------------------------------------ */
/* Backends and capabilities                                                */
/* ------------------------------------------------------------------------ */

/* Capability bits a backend reports. Asking for an option whose bit is not set
 * fails uniws_connect() with UNIWS_EUNSUPPORTED; nothing is silently ignored. */
enum uniws_cap {
    UNIWS_CAP_WS = 1u << 0,                 /* ws:// URLs */
    UNIWS_CAP_WSS = 1u << 1,                /* wss:// URLs (TLS) */
    UNIWS_CAP_CUSTOM_HEADERS = 1u << 2,     /* uniws_options.headers */
    UNIWS_CAP_PROXY = 1u << 3,              /* uniws_options.proxy */
    UNIWS_CAP_TLS_CA_FILE = 1u << 4,        /* uniws_options.tls_ca_file */
    UNIWS_CAP_TLS_SKIP_VERIFY = 1u << 5,    /* uniws_options.tls_skip_verify */
    UNIWS_CAP_TLS_CLIENT_CERT = 1u << 6,    /* uniws_options.tls_client_cert/key */
    UNIWS_CAP_PERMESSAGE_DEFLATE = 1u << 7, /* uniws_options.permessage_deflate */
    UNIWS_CAP_PING = 1u << 8,               /* uniws_ping() */
    UNIWS_CAP_CONNECT_TIMEOUT = 1u << 9,    /* uniws_options.connect_timeout_ms */
    UNIWS_CAP_ANY_CLOSE_CODE = 1u << 10,    /* peer-sent codes like 1009 reach the wire */
    UNIWS_CAP_NETWORK = 1u << 11,           /* reaches real hosts (loopback does not) */
    UNIWS_CAP_RAW_FRAMES = 1u << 12,        /* uniws frames RFC 6455 itself (all checks) */
    /* flow control */
    UNIWS_CAP_SEND_FRAGMENTS = 1u << 16, /* uniws_send_fragment(): a message in parts on the wire */
    UNIWS_CAP_FRAME_SIZE = 1u << 17,     /* uniws_options.max_frame_size */
    /* cli (issue 14): */
    UNIWS_CAP_PROXY_CA_FILE = 1u << 23, /* uniws_options.proxy_ca_file */
    /* ---- lifecycle (issue 10) ---- */
    UNIWS_CAP_RESPONSE_HEADERS = 1u << 13 /* uniws_response_header(), handshake details in errors */
};

typedef struct uniws_backend_info {
    const char *name;        /* "lws", "curl", "emscripten", "loopback" */
    const char *description; /* one line */
    const char *version;     /* version of the library underneath, e.g. "4.1.6" */
    unsigned caps;           /* UNIWS_CAP_* bits */
    int auto_select;         /* 0: only picked when named ("demand only") */
} uniws_backend_info;

/* Number of compiled backends. */
UNIWS_API size_t uniws_backend_count(void);
/* Fills *out for backend number i (0 <= i < count).
 * Returns 0, or UNIWS_EINVAL when i is out of range or out is NULL. */
UNIWS_API int uniws_backend_get(size_t i, uniws_backend_info *out);
/* Looks a backend up by name. Returns 0, UNIWS_EINVAL (NULL argument) or
 * UNIWS_ENO_BACKEND (unknown or not compiled). */
UNIWS_API int uniws_backend_find(const char *name, uniws_backend_info *out);
/* The backend uniws_connect() picks when the options name none:
 * UNIWS_BACKEND environment variable > build default > first auto-selectable.
 * Returns 0, or UNIWS_ENO_BACKEND when UNIWS_BACKEND names an unknown backend. */
UNIWS_API int uniws_backend_default(uniws_backend_info *out);
/* Comma-separated names of the capability bits in caps, written into buf
 * (always NUL-terminated when size > 0). Returns the length it needed. */
UNIWS_API size_t uniws_caps_string(unsigned caps, char *buf, size_t size);
/* The platform layer this library was built with and its wait primitive, e.g.
 * "linux-epoll", "posix-poll", "win32-wsapoll", "web" (docs/platforms.md). Never NULL. */
UNIWS_API const char *uniws_platform(void);

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct uniws_loop uniws_loop;

/* Creates a loop. Returns 0, UNIWS_EINVAL or UNIWS_ENOMEM / UNIWS_EIO. */
UNIWS_API int uniws_loop_new(uniws_loop **out);
/* Frees a loop. Every socket on it must have been freed first.
 * Returns 0, UNIWS_EBUSY (sockets remain; nothing is freed) or UNIWS_EINVAL. */
UNIWS_API int uniws_loop_free(uniws_loop *loop);
/* Runs until no socket on the loop is alive (every socket has fired its close
 * event) or uniws_loop_stop() is called. Returns 0 or a negative error.
 * On the web without Asyncify it hands the loop to the browser's event loop
 * and returns 0 at once; events keep coming (docs/web.md). */
UNIWS_API int uniws_loop_run(uniws_loop *loop);
/* Waits at most timeout_ms (-1: forever, 0: do not wait) for work and
 * dispatches it (on the web without Asyncify it never waits). Returns the number of sockets still
 * alive (>= 0), or a negative error. Use it to drive uniws from a game loop or another loop. */
UNIWS_API int uniws_loop_run_once(uniws_loop *loop, int timeout_ms);
/* A file descriptor that becomes readable when the loop has work: add it to
 * your epoll / libuv / glib loop and call uniws_loop_run_once(loop, 0) when it
 * fires or when uniws_loop_timeout() expires. -1 where there is none (web). */
UNIWS_API int uniws_loop_fd(const uniws_loop *loop);
/* Milliseconds until the loop's next timer is due; -1 if none; 0 if work is
 * pending now. */
UNIWS_API int uniws_loop_timeout(uniws_loop *loop);
/* Makes uniws_loop_run() return soon. Safe from any thread and from callbacks. */
UNIWS_API void uniws_loop_stop(uniws_loop *loop);
/* Number of sockets on the loop that have not fired their close event yet. */
UNIWS_API int uniws_loop_alive(const uniws_loop *loop);

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct uniws_socket uniws_socket;

typedef enum uniws_state {
    UNIWS_CONNECTING = 0,
    UNIWS_OPEN = 1,
    UNIWS_CLOSING = 2,
    UNIWS_CLOSED = 3
} uniws_state;

typedef enum uniws_msg_type { UNIWS_TEXT = 1, UNIWS_BINARY = 2 } uniws_msg_type;

/* Close codes with names (RFC 6455 section 7.4.1). */
enum uniws_close_code {
    UNIWS_CLOSE_NONE = 0, /* uniws_close(): send a close frame without a code */
    UNIWS_CLOSE_NORMAL = 1000,
    UNIWS_CLOSE_GOING_AWAY = 1001,
    UNIWS_CLOSE_PROTOCOL_ERROR = 1002,
    UNIWS_CLOSE_UNSUPPORTED_DATA = 1003,
    UNIWS_CLOSE_NO_STATUS = 1005, /* close event only: the frame had no code */
    UNIWS_CLOSE_ABNORMAL = 1006,  /* close event only: no close frame at all */
    UNIWS_CLOSE_INVALID_DATA = 1007,
    UNIWS_CLOSE_POLICY = 1008,
    UNIWS_CLOSE_TOO_BIG = 1009,
    UNIWS_CLOSE_MANDATORY_EXT = 1010,
    UNIWS_CLOSE_INTERNAL_ERROR = 1011
};

/* A received message. data is valid only during the callback; for text it is
 * also NUL-terminated (len never counts the terminator). */
typedef struct uniws_message {
    uniws_msg_type type;
    const void *data;
    size_t len;
} uniws_message;

/* A piece of a received message (uniws_callbacks.on_message_part). data is
 * valid only during the callback and is NOT NUL-terminated. A text part
 * never ends inside a UTF-8 character. */
typedef struct uniws_message_part {
    uniws_msg_type type;
    const void *data;
    size_t len;
    uint64_t offset; /* bytes of this message delivered in earlier parts */
    int first;       /* 1 on the message's first part */
    int last;        /* 1 on its last part (possibly empty) */
} uniws_message_part;

/* Why a connection failed. Strings are valid only during the callback. */
typedef struct uniws_header uniws_header;

typedef struct uniws_error_event {
    int error;           /* UNIWS_E* code */
    int http_status;     /* HTTP status of a rejected handshake, else 0 */
    const char *message; /* one human-readable line, never NULL */
    /* ---- lifecycle (issue 10): a refused handshake's answer
     * (UNIWS_CAP_RESPONSE_HEADERS; else NULL / 0) ---- */
    const uniws_header *headers; /* its header lines, in order */
    size_t num_headers;
    const char *body; /* the first bytes of its body that came with the head (at most 256; the
                       * curl backend has none), NUL-terminated; NULL when none */
    size_t body_len;
    const char *location; /* the Location header of a redirect (3xx), else NULL */
} uniws_error_event;

/* How a connection ended. reason is valid only during the callback and is
 * NUL-terminated UTF-8 ("" when none). */
typedef struct uniws_close_event {
    int code; /* the peer's code, 1005 (frame without code), 1006 (no frame) */
    const char *reason;
    size_t reason_len;
    int was_clean; /* 1 when both close frames were exchanged */
    /* ---- lifecycle (issue 10) ---- */
    int cause; /* the UNIWS_E* that ended the connection (the error event's
                * code); 0 for a clean close */
} uniws_close_event;

/* A pong arrived (lifecycle, issue 10). data is valid only during the
 * callback. rtt_ms is the round trip when the pong answers the last ping this
 * socket sent (uniws_ping() or the heartbeat), else -1 (an unsolicited pong). */
typedef struct uniws_pong_event {
    const void *data;
    size_t len;
    int rtt_ms;
} uniws_pong_event;

/* A reconnect is about to wait (lifecycle, issue 10). */
typedef struct uniws_reconnect_event {
    int attempt;  /* 1 for the first attempt after an ending, 2, ... */
    int delay_ms; /* the wait before that attempt */
    int cause;    /* UNIWS_E* of the ending; 0 when the server closed cleanly */
    int code;     /* the close code of the ending (1006, or e.g. 1012) */
} uniws_reconnect_event;

/* The four events. Any callback may be NULL. user_data is
 * uniws_options.user_data. Freeing the socket inside any callback is safe. */
typedef struct uniws_callbacks {
    void (*on_open)(uniws_socket *s, void *user_data);
    void (*on_message)(uniws_socket *s, const uniws_message *msg, void *user_data);
    void (*on_error)(uniws_socket *s, const uniws_error_event *ev, void *user_data);
    void (*on_close)(uniws_socket *s, const uniws_close_event *ev, void *user_data);
    /* ---- flow control ---- */
    /* uniws_buffered_amount() fell to or below
     * uniws_options.buffered_amount_low_threshold after having been above it
     * (as RTCDataChannel's bufferedamountlow). Fires once per crossing. */
    void (*on_buffered_amount_low)(uniws_socket *s, void *user_data);
    /* Opt-in streaming receive: when set, every message arrives through this
     * in parts as its bytes come (on_message is not called), so a message of
     * any size needs no buffer of its size; max_message_size then no longer
     * applies, except to permessage-deflate messages (inflated whole). Invalid
     * UTF-8 still fails the connection (1007) after the parts before it. */
    void (*on_message_part)(uniws_socket *s, const uniws_message_part *part, void *user_data);
    /* ---- lifecycle (issue 10) ---- */
    /* A pong frame arrived (backends with UNIWS_CAP_PING; the browser does
     * not expose pongs). */
    void (*on_pong)(uniws_socket *s, const uniws_pong_event *ev, void *user_data);
    /* The connection ended in a way uniws_options.reconnect covers: instead
     * of the close event, this fires, the socket waits ev->delay_ms in
     * CONNECTING and connects again (open fires again on success). */
    void (*on_reconnecting)(uniws_socket *s, const uniws_reconnect_event *ev, void *user_data);
} uniws_callbacks;

struct uniws_header {
    const char *name;  /* RFC 7230 token; not a header uniws writes itself */
    const char *value; /* no CR or LF */
};

/* Which endings uniws_reconnect covers (lifecycle, issue 10). */
enum uniws_reconnect_on {
    /* A connection that never opened: DNS, refused, timeout, reset, I/O, proxy,
     * a 5xx (or, on the web, any) refused handshake. Never TLS or a 4xx. */
    UNIWS_RECONNECT_ON_FAILURE = 1u << 0,
    /* An open connection that ended without a closing handshake (close 1006:
     * reset, idle timeout, protocol error, ...). */
    UNIWS_RECONNECT_ON_ABNORMAL = 1u << 1,
    /* The server closed with 1001, 1011, 1012, 1013 or 1014. */
    UNIWS_RECONNECT_ON_SERVER_CLOSE = 1u << 2
};

/* Reconnect policy (lifecycle, issue 10). All zero: no reconnecting. Never
 * after the application's own uniws_close() or uniws_free(). Delay before
 * attempt n: min(max_delay_ms, initial_delay_ms * multiplier^(n-1)), minus up
 * to jitter of it at random. The attempt count starts over after each open. */
typedef struct uniws_reconnect {
    int max_attempts;     /* 0: off; -1: unlimited; N: give up after N attempts in a row */
    int initial_delay_ms; /* 0: 500 */
    int max_delay_ms;     /* 0: 30000 */
    double multiplier;    /* 0: 2.0; else >= 1 */
    double jitter;        /* 0..1 (0: none): a delay d becomes d - jitter * d * random[0,1) */
    uint32_t seed;        /* seed of the jitter; 0: a random one */
    unsigned on;          /* UNIWS_RECONNECT_ON_* bits; 0: all of them */
} uniws_reconnect;

/* Defaults that 0 selects. */
#define UNIWS_DEFAULT_CONNECT_TIMEOUT_MS 30000
#define UNIWS_DEFAULT_CLOSE_TIMEOUT_MS   5000
#define UNIWS_DEFAULT_MAX_MESSAGE_SIZE   ((size_t)64 * 1024 * 1024)
/* reliability (issue 12): the most the application's part of the upgrade
 * request may take on any backend: every custom header line ("Name: value"
 * plus CRLF) and the Sec-WebSocket-Protocol list together. Past it
 * uniws_connect() returns UNIWS_ETOO_BIG (libcurl would drop such a header
 * silently; servers refuse far less: nginx 8 KiB a line, Node.js 16 KiB). */
#define UNIWS_MAX_REQUEST_HEADER_BYTES ((size_t)64 * 1024)

/* Options for uniws_connect(). Zero-initialise; 0 / NULL means default.
 * uniws_connect() copies everything it needs; nothing here must outlive it. */
typedef struct uniws_options {
    const char *backend;          /* NULL: UNIWS_BACKEND env > build default > first */
    const char *const *protocols; /* subprotocols to offer, unique tokens */
    size_t num_protocols;
    const uniws_header *headers; /* extra handshake headers (UNIWS_CAP_CUSTOM_HEADERS) */
    size_t num_headers;
    int connect_timeout_ms;      /* 0: default; < 0: no timeout */
    int close_timeout_ms;        /* wait for the peer's close frame; 0: default */
    size_t max_message_size;     /* 0: UNIWS_DEFAULT_MAX_MESSAGE_SIZE */
    const char *tls_ca_file;     /* PEM bundle to verify the server with */
    int tls_skip_verify;         /* 1: do NOT verify the server (explicit, insecure) */
    const char *tls_client_cert; /* PEM client certificate (UNIWS_CAP_TLS_CLIENT_CERT) */
    const char *tls_client_key;  /* PEM key for tls_client_cert */
    const char *proxy;           /* "http://h:p", "socks5://h:p" (UNIWS_CAP_PROXY) */
    int permessage_deflate;      /* 1: offer permessage-deflate (UNIWS_CAP_PERMESSAGE_DEFLATE) */
    uniws_callbacks callbacks;
    void *user_data;
    /* ---- flow control (docs/api.md "Flow control") ---- */
    /* on_buffered_amount_low fires when the queued bytes fall to or below
     * this after having been above it; 0: when they drain completely. */
    size_t buffered_amount_low_threshold;
    /* A send that would make uniws_buffered_amount() exceed this fails with
     * UNIWS_EBUFFER_FULL and queues nothing; 0: no limit. */
    size_t max_buffered_amount;
    /* Outgoing data frames carry at most this many payload bytes; bigger
     * messages go out fragmented, and pings/pongs queued meanwhile are
     * written at the next frame boundary instead of after the whole queue
     * (UNIWS_CAP_FRAME_SIZE). 0: one frame per message. */
    size_t max_frame_size;
    /* cli (issue 14): TLS to an https:// proxy. tls_ca_file, tls_skip_verify and the client
     * certificate apply to the server only; the proxy's certificate is verified against the
     * system's CAs, or this PEM bundle (UNIWS_CAP_PROXY_CA_FILE). Also applies to a proxy
     * taken from the environment (wss_proxy, https_proxy, ...). */
    const char *proxy_ca_file;
    /* ---- lifecycle (issue 10) ---- */
    /* Heartbeat (UNIWS_CAP_PING): while OPEN, a ping goes out when nothing
     * was sent, or nothing received, for ping_interval_ms. 0: off; < 0: EINVAL. */
    int ping_interval_ms;
    /* Dead-peer deadline (every backend): while OPEN, when nothing at all
     * (data or control; on the web: messages) arrived for idle_timeout_ms the
     * connection fails with UNIWS_EIDLE_TIMEOUT (error, then close 1006).
     * 0: off; < 0: EINVAL. With a heartbeat, use at least twice its interval. */
    int idle_timeout_ms;
    /* Reconnect policy; zero: off. While a reconnect waits or connects,
     * uniws_ready_state() reads UNIWS_CONNECTING and send fails with
     * UNIWS_EINVALID_STATE (nothing is queued); uniws_close() ends it (error
     * UNIWS_ECLOSED, then the one close event). */
    uniws_reconnect reconnect;
    /* Redirects of the handshake (301, 302, 307, 308). 0: not followed: the
     * error event (UNIWS_EHANDSHAKE) gives http_status and location. N > 0
     * (UNIWS_CAP_RESPONSE_HEADERS): up to N in a row are followed on the same
     * socket, no event in between: the Location is resolved against the URL
     * of the attempt; ws, wss, http and https only, never from wss to ws. One
     * not followed fails with UNIWS_EREDIRECT (http_status and location
     * set). < 0: EINVAL. */
    int max_redirects;
} uniws_options;

/* Starts connecting to url ("ws://", "wss://", "http://" and "https://" map to
 * ws/wss). On success *out is a CONNECTING socket that will fire open, or error
 * then close. The socket belongs to the caller: free it with uniws_free().
 * Returns 0 or
 *   UNIWS_EINVAL          NULL loop/url/out, or a bad option value
 *   UNIWS_ESYNTAX         bad URL (scheme, host, port, fragment), bad or
 *                         duplicate subprotocol token, bad header (a name
 *                         that is not a token or the handshake's own, a value
 *                         with a control character other than TAB)
 *   UNIWS_ETOO_BIG        custom headers and subprotocols together past
 *                         UNIWS_MAX_REQUEST_HEADER_BYTES
 *   UNIWS_ENO_BACKEND     the named (or UNIWS_BACKEND) backend is not compiled
 *   UNIWS_EUNSUPPORTED    an option the backend cannot honour (see caps)
 *   UNIWS_EWRONG_THREAD   called from a thread other than the loop's while it runs
 *   UNIWS_ENOMEM          out of memory
 * Network failures (DNS, refused, TLS, handshake) are reported later as an
 * error event followed by a close event with code 1006. */
UNIWS_API int uniws_connect(uniws_loop *loop, const char *url, const uniws_options *opts,
                            uniws_socket **out);

/* Queues a text message; text must be valid UTF-8 and is copied.
 * Returns 0 or UNIWS_EINVAL (NULL), UNIWS_EUTF8 (nothing sent),
 * UNIWS_EINVALID_STATE (still connecting), UNIWS_ECLOSED (closing/closed),
 * UNIWS_ENOMEM. Safe from any thread. */
UNIWS_API int uniws_send_text(uniws_socket *s, const char *text, size_t len);
/* Queues a binary message (copied). Same returns as uniws_send_text except
 * UNIWS_EUTF8. Safe from any thread. */
UNIWS_API int uniws_send_binary(uniws_socket *s, const void *data, size_t len);
/* Sends one part of a message; the parts go out as one fragmented message
 * (continuation frames), so a message of any size needs no more memory than
 * its largest part (UNIWS_CAP_SEND_FRAGMENTS). The first call opens the
 * message with its type; later calls must give the same type; last = 1 ends
 * it (a single call with last = 1 is a whole message). Text parts may split a
 * UTF-8 sequence; the message as a whole must be valid UTF-8. While a
 * message is open, uniws_send_text/_binary fail with UNIWS_EFRAGMENT_OPEN;
 * pings, pongs and uniws_close() may still go out between the parts.
 * Returns 0 or UNIWS_EINVAL (NULL, or a type other than the open message's),
 * UNIWS_EUTF8 (this part cannot continue valid UTF-8 or the message ends
 * inside a character; nothing queued, the message stays open),
 * UNIWS_EUNSUPPORTED (no UNIWS_CAP_SEND_FRAGMENTS), UNIWS_EBUFFER_FULL,
 * UNIWS_EINVALID_STATE, UNIWS_ECLOSED, UNIWS_ENOMEM. Any thread. */
UNIWS_API int uniws_send_fragment(uniws_socket *s, uniws_msg_type type, const void *data,
                                  size_t len, int last);
/* Sends a ping with up to 125 bytes of payload (UNIWS_CAP_PING).
 * Returns 0, UNIWS_EINVAL (payload > 125), UNIWS_EUNSUPPORTED, UNIWS_EINVALID_STATE,
 * UNIWS_ECLOSED, UNIWS_ENOMEM. Pongs to the peer's pings are always automatic;
 * while one waits to be written, later pings only replace its payload (RFC
 * 6455 5.5.3: the most recent one is answered), and they never count in
 * uniws_buffered_amount(). */
UNIWS_API int uniws_ping(uniws_socket *s, const void *data, size_t len);
/* Starts the closing handshake. code is UNIWS_CLOSE_NONE, 1000 or 3000-4999;
 * reason (may be NULL) is UTF-8 of at most 123 bytes and needs a code.
 * Messages queued before are sent first. Closing while CONNECTING fails the
 * connection (error, then close 1006). Closing twice is a no-op returning 0.
 * Returns 0, UNIWS_EINVAL, UNIWS_EINVALID_ACCESS (code), UNIWS_ESYNTAX
 * (reason too long or not UTF-8, or a reason without a code), UNIWS_ENOMEM
 * (the close frame could not be queued: nothing changed, the socket stays
 * OPEN; call again, or uniws_free() it). Any thread. */
UNIWS_API int uniws_close(uniws_socket *s, int code, const char *reason);
/* Current state; UNIWS_CLOSED for NULL. Any thread. */
UNIWS_API uniws_state uniws_ready_state(const uniws_socket *s);
/* Bytes accepted by send that are not yet written to the network (payload
 * bytes, as the browser counts them). Any thread. */
UNIWS_API size_t uniws_buffered_amount(const uniws_socket *s);
/* The normalised URL, e.g. "ws://example.com/chat". Valid until uniws_free(). */
UNIWS_API const char *uniws_url(const uniws_socket *s);
/* The subprotocol the server selected, "" if none (or not open yet). */
UNIWS_API const char *uniws_protocol(const uniws_socket *s);
/* The extensions the server accepted, "" if none. */
UNIWS_API const char *uniws_extensions(const uniws_socket *s);
/* Name of the backend serving this socket. */
UNIWS_API const char *uniws_backend_name(const uniws_socket *s);
/* Capability bits of this socket's backend. */
UNIWS_API unsigned uniws_capabilities(const uniws_socket *s);
/* The user_data given at connect. */
UNIWS_API void *uniws_user_data(const uniws_socket *s);
/* ---- lifecycle (issue 10): statistics ---- */
typedef struct uniws_stats {
    uint64_t msgs_sent, msgs_received;   /* data messages */
    uint64_t bytes_sent, bytes_received; /* their payload bytes, as the application sees them */
    /* Bytes the core exchanged with a stream backend: handshake, frame headers,
     * masks, compressed payloads. 0 on the web (the browser frames itself). */
    uint64_t wire_bytes_sent, wire_bytes_received;
    uint64_t frames_sent, frames_received; /* every frame, control ones too; 0 on the web */
    uint64_t pings_sent, pings_received, pongs_received;
    int rtt_last_ms;     /* round trip of the last answered ping; -1 when none yet */
    int rtt_smoothed_ms; /* exponentially smoothed (1/8 weight, as TCP's SRTT); -1 when none */
    /* permessage-deflate: application bytes / compressed bytes of the
     * compressed messages in each direction; 0 when none was compressed. */
    double compression_ratio_sent, compression_ratio_received;
    int transport_ms;    /* uniws_connect() to transport up (DNS+TCP+TLS+proxy); -1 unknown */
    int open_ms;         /* uniws_connect() to the open event; -1 when not open (yet) */
    uint64_t reconnects; /* reconnect attempts started (uniws_options.reconnect) */
    uint64_t redirects;  /* redirects followed (uniws_options.max_redirects) */
    /* Connect phases of the latest attempt, each its own duration in ms
     * (docs/api.md "Statistics"): name resolution, TCP connect (through a
     * proxy: up to the tunnel), TLS handshake (0 for ws://), and the upgrade
     * (request written to answer head read). -1 where the backend does not
     * report the phase (the browser, WinHTTP, the loopback's DNS/TCP/TLS). */
    int dns_ms, tcp_ms, tls_ms, upgrade_ms;
} uniws_stats;
/* Fills *out with s's counters so far (they survive the close event, until
 * uniws_free()). Loop thread. Returns 0 or UNIWS_EINVAL (NULL). */
UNIWS_API int uniws_get_stats(const uniws_socket *s, uniws_stats *out);

/* ---- lifecycle (issue 10): the server's handshake answer ---- */
/* The value of the response header `name` (case-insensitive; the first when
 * repeated, leading and trailing blanks removed) of the handshake answer, or
 * NULL (absent, not answered yet, or the backend lacks
 * UNIWS_CAP_RESPONSE_HEADERS). Valid until the next connection attempt or
 * uniws_free(). Loop thread. */
UNIWS_API const char *uniws_response_header(const uniws_socket *s, const char *name);
/* Header line i (0-based, in order) of the handshake answer: 0, or
 * UNIWS_EINVAL (NULL argument or i out of range). Same lifetime. */
UNIWS_API int uniws_response_header_at(const uniws_socket *s, size_t i, uniws_header *out);

/* Frees a socket. If it is not closed yet the connection is dropped and no
 * further callbacks fire (not even close). Safe inside the socket's own
 * callbacks. Call on the loop thread. NULL is a no-op. */
UNIWS_API void uniws_free(uniws_socket *s);

/* ------------------------------------------------------------------------ */
/* Loopback backend scripting (the in-process test peer)                    */
/* ------------------------------------------------------------------------ */
/* With backend "loopback" the URL's path picks the peer's behaviour, exactly
 * as with the scripted test peer (docs/peer.md): "/echo" echoes, other paths
 * script handshakes and frames. The host part is ignored; nothing touches the
 * network. */

#ifdef __cplusplus
}
#endif
#endif /* UNIWS_UNIWS_H */
