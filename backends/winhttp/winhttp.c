/*
 * winhttp.c — Windows' own WebSocket client (the WinHTTP WebSocket API:
 * WinHttpWebSocketCompleteUpgrade/Send/Receive/Shutdown/QueryCloseStatus) as
 * a MESSAGE backend, the Windows counterpart of backends/emscripten: WinHTTP
 * does the handshake, TLS (Schannel, the Windows certificate store), masking
 * and framing; the core keeps the contract's states and event rules on top.
 * Zero dependencies beyond winhttp.dll.
 *
 * Threads: WinHTTP is used synchronously on two threads per socket — a
 * reader (connect, upgrade, then one blocking WinHttpWebSocketReceive after
 * another) and a writer (sends and the close frame, one at a time, as
 * WinHTTP allows one pending send or close). The loop thread never blocks in
 * WinHTTP. What the threads see is queued as events and handed to the loop
 * thread with a job (uniws__job_post wakes the poller), so user callbacks
 * run only inside uniws_loop_run*(), as on every backend.
 *
 * Lifetime: the state both threads touch is reference-counted. destroy()
 * marks it abandoned (from then on no thread touches the loop or the socket)
 * and closes the WinHTTP handles, which ends the threads' blocking calls;
 * the last thread out frees the state. destroy() never waits for a thread.
 */
#include <windows.h>
#include <winhttp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "core/backend.h"
#include "core/handshake.h"
#include "core/loop.h"
#include "core/utf8.h"
#include "core/validate.h"
#include "core/alloc.h"

enum { EV_OPEN = 1, EV_MESSAGE, EV_ERROR, EV_CLOSE };
enum { OP_SEND = 1, OP_CLOSE, OP_CLOSE_REPLY };

/* One thing a WinHTTP thread saw, copied for the loop thread. */
typedef struct wh_event {
    struct wh_event *next;
    int kind;
    int binary;      /* EV_MESSAGE */
    int code;        /* EV_CLOSE: close code; EV_ERROR: UNIWS_E* */
    int http_status; /* EV_ERROR */
    int clean;       /* EV_CLOSE */
    size_t len;      /* payload, reason, protocol or message */
    char data[];     /* NUL-terminated */
} wh_event;

/* One job for the writer thread. */
typedef struct wh_op {
    struct wh_op *next;
    int kind;
    int binary;   /* OP_SEND */
    int code;     /* OP_CLOSE, OP_CLOSE_REPLY */
    int fail_err; /* OP_CLOSE_REPLY: once the close frame is out, fail with this */
    char fail_msg[160];
    size_t len;
    char data[];
} wh_op;

/* Shared between the loop thread and the two WinHTTP threads. */
typedef struct wh_shared {
    SRWLOCK lock;
    CONDITION_VARIABLE cv; /* the writer waits for ops */
    LONG refs;
    int abandoned; /* destroy() ran: loop and job are gone */
    uniws_loop *loop;
    uniws__job *job;
    wh_event *ev_head, *ev_tail;
    int ended; /* a close event was queued: later events are dropped */
    wh_op *op_head, *op_tail;
    size_t buffered;  /* bytes handed over and not yet taken by WinHTTP */
    int close_queued; /* OP_CLOSE or OP_CLOSE_REPLY queued: no more sends */
    int close_sent;   /* our close frame went out */
    HINTERNET session, connect, request, ws;
    /* Connect parameters (immutable once the reader runs). */
    wchar_t *host, *path, *headers;
    INTERNET_PORT port;
    int tls, skip_verify, connect_timeout_ms;
    size_t max_message;
    char **protocols; /* offered, NULL-terminated */
} wh_shared;

typedef struct wh_sock {
    wh_shared *sh;
    uniws__job dispatch;
} wh_sock;

/* ---- small helpers ---------------------------------------------------------------- */

static wchar_t *widen(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = uniws__malloc((size_t)n * sizeof *w);
    if (w && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n) {
        uniws__free(w);
        w = NULL;
    }
    return w;
}

/* WinHTTP's wide header value as UTF-8 (header values here are ASCII tokens). */
static char *narrow(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return NULL;
    char *s = uniws__malloc((size_t)n);
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        uniws__free(s);
        s = NULL;
    }
    return s;
}

static void shared_release(wh_shared *sh)
{
    if (InterlockedDecrement(&sh->refs) != 0)
        return;
    if (sh->ws)
        WinHttpCloseHandle(sh->ws);
    if (sh->request)
        WinHttpCloseHandle(sh->request);
    if (sh->connect)
        WinHttpCloseHandle(sh->connect);
    if (sh->session)
        WinHttpCloseHandle(sh->session);
    while (sh->ev_head) {
        wh_event *e = sh->ev_head;
        sh->ev_head = e->next;
        uniws__free(e);
    }
    while (sh->op_head) {
        wh_op *o = sh->op_head;
        sh->op_head = o->next;
        uniws__free(o);
    }
    uniws__free(sh->host);
    uniws__free(sh->path);
    uniws__free(sh->headers);
    if (sh->protocols) {
        for (char **p = sh->protocols; *p; p++)
            uniws__free(*p);
        uniws__free(sh->protocols);
    }
    uniws__free(sh);
}

static wh_event *new_event(int kind, const void *data, size_t len)
{
    wh_event *e = uniws__calloc(1, sizeof *e + len + 1);
    if (!e)
        return NULL;
    e->kind = kind;
    e->len = len;
    if (len)
        memcpy(e->data, data, len);
    return e;
}

/* Queues e for the loop thread (any thread). Takes e; drops it once the
 * socket is abandoned or its close event is queued. */
static void post(wh_shared *sh, wh_event *e)
{
    AcquireSRWLockExclusive(&sh->lock);
    if (!e) {
        /* Out of memory: nothing can be reported but the end. */
        e = new_event(EV_CLOSE, NULL, 0);
        if (e)
            e->code = UNIWS_CLOSE_ABNORMAL;
    }
    if (!e || sh->abandoned || sh->ended) {
        ReleaseSRWLockExclusive(&sh->lock);
        uniws__free(e);
        return;
    }
    if (e->kind == EV_CLOSE)
        sh->ended = 1;
    e->next = NULL;
    if (sh->ev_tail)
        sh->ev_tail->next = e;
    else
        sh->ev_head = e;
    sh->ev_tail = e;
    /* Under the lock, so destroy() cannot free the job meanwhile. */
    uniws__job_post(sh->loop, sh->job);
    ReleaseSRWLockExclusive(&sh->lock);
}

static void post_error(wh_shared *sh, int err, int http_status, const char *msg)
{
    wh_event *e = new_event(EV_ERROR, msg, strlen(msg));
    if (e) {
        e->code = err;
        e->http_status = http_status;
    }
    post(sh, e);
}

static void post_close(wh_shared *sh, int code, const void *reason, size_t len, int clean)
{
    wh_event *e = new_event(EV_CLOSE, reason, len);
    if (e) {
        e->code = code;
        e->clean = clean;
    }
    post(sh, e);
}

/* A failure: error then close 1006. */
static void post_fail(wh_shared *sh, int err, int http_status, const char *msg)
{
    post_error(sh, err, http_status, msg);
    post_close(sh, UNIWS_CLOSE_ABNORMAL, NULL, 0, 0);
}

static int abandoned(wh_shared *sh)
{
    AcquireSRWLockShared(&sh->lock);
    int a = sh->abandoned;
    ReleaseSRWLockShared(&sh->lock);
    return a;
}

/* uniws's error code for a WinHTTP error, while connecting or after. */
static int map_error(DWORD e)
{
    switch (e) {
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
        return UNIWS_EDNS;
    case ERROR_WINHTTP_CANNOT_CONNECT:
        return UNIWS_EREFUSED;
    case ERROR_WINHTTP_TIMEOUT:
        return UNIWS_ETIMEOUT;
    case ERROR_WINHTTP_SECURE_FAILURE:
    case ERROR_WINHTTP_SECURE_CERT_DATE_INVALID:
    case ERROR_WINHTTP_SECURE_CERT_CN_INVALID:
    case ERROR_WINHTTP_SECURE_INVALID_CA:
    case ERROR_WINHTTP_SECURE_CERT_REV_FAILED:
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR:
    case ERROR_WINHTTP_SECURE_INVALID_CERT:
    case ERROR_WINHTTP_SECURE_CERT_REVOKED:
    case ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE:
        return UNIWS_ETLS;
    case ERROR_WINHTTP_INVALID_SERVER_RESPONSE:
        return UNIWS_EHANDSHAKE;
    case ERROR_WINHTTP_CONNECTION_ERROR:
    case WSAECONNRESET:
    case WSAECONNABORTED:
        return UNIWS_ERESET;
    default:
        /* Once open, WinHttpWebSocketReceive passes on what Schannel said
         * (an HRESULT of the security facility, SEC_E_*) or Winsock (a
         * reset above): TLS broken after the open (wss_garbled_record). */
        return HRESULT_FACILITY(e) == FACILITY_SECURITY ? UNIWS_ETLS : UNIWS_EIO;
    }
}

static void post_winhttp_fail(wh_shared *sh, const char *what, DWORD e)
{
    char msg[160];
    snprintf(msg, sizeof msg, "WinHTTP: %s failed (error %lu)", what, (unsigned long)e);
    post_fail(sh, map_error(e), 0, msg);
}

/* A response header (or with WINHTTP_QUERY_FLAG_REQUEST_HEADERS in flags, a
 * request header) as UTF-8, or NULL when absent. */
static char *query_header_flags(HINTERNET req, DWORD flags, const wchar_t *name)
{
    DWORD size = 0;
    WinHttpQueryHeaders(req, WINHTTP_QUERY_CUSTOM | flags, name, NULL, &size,
                        WINHTTP_NO_HEADER_INDEX);
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || size == 0)
        return NULL;
    wchar_t *w = uniws__malloc(size + sizeof(wchar_t));
    if (!w)
        return NULL;
    char *s = NULL;
    if (WinHttpQueryHeaders(req, WINHTTP_QUERY_CUSTOM | flags, name, w, &size,
                            WINHTTP_NO_HEADER_INDEX)) {
        w[size / sizeof(wchar_t)] = 0;
        s = narrow(w);
    }
    uniws__free(w);
    return s;
}

static char *query_header(HINTERNET req, const wchar_t *name)
{
    return query_header_flags(req, 0, name);
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* 1 when the comma-separated header value v holds token t (ASCII case
 * ignored). */
static int has_token(const char *v, const char *t)
{
    size_t n = strlen(t);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t k = 0;
        while (v[k] && v[k] != ',')
            k++;
        size_t e = k;
        while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e == n) {
            size_t i = 0;
            while (i < n && ascii_lower((unsigned char)v[i]) == ascii_lower((unsigned char)t[i]))
                i++;
            if (i == n)
                return 1;
        }
        v += k;
    }
    return 0;
}

/* ---- the writer thread ------------------------------------------------------------ */

static DWORD WINAPI writer_main(void *arg)
{
    wh_shared *sh = arg;
    for (;;) {
        AcquireSRWLockExclusive(&sh->lock);
        while (!sh->op_head && !sh->abandoned)
            SleepConditionVariableSRW(&sh->cv, &sh->lock, INFINITE, 0);
        if (sh->abandoned) {
            /* The socket is gone: drop the sends, but a queued close frame
             * still goes out (destroy() left the WebSocket open for it). */
            while (sh->op_head && sh->op_head->kind == OP_SEND) {
                wh_op *o = sh->op_head;
                sh->op_head = o->next;
                uniws__free(o);
            }
            if (!sh->op_head) {
                sh->op_tail = NULL;
                ReleaseSRWLockExclusive(&sh->lock);
                break;
            }
        }
        wh_op *op = sh->op_head;
        sh->op_head = op->next;
        if (!sh->op_head)
            sh->op_tail = NULL;
        HINTERNET ws = sh->ws;
        ReleaseSRWLockExclusive(&sh->lock);

        DWORD r;
        if (op->kind == OP_SEND) {
            WINHTTP_WEB_SOCKET_BUFFER_TYPE t = op->binary
                                                   ? WINHTTP_WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE
                                                   : WINHTTP_WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE;
            r = WinHttpWebSocketSend(ws, t, op->len ? op->data : NULL, (DWORD)op->len);
            AcquireSRWLockExclusive(&sh->lock);
            sh->buffered -= op->len;
            ReleaseSRWLockExclusive(&sh->lock);
            if (r != NO_ERROR) {
                /* The reader sees the broken connection too; the first
                 * close event queued wins. */
                post_winhttp_fail(sh, "WinHttpWebSocketSend", r);
                uniws__free(op);
                break;
            }
            uniws__free(op);
            continue;
        }
        /* Our close frame (OP_CLOSE) or the answer to the peer's
         * (OP_CLOSE_REPLY); no code (1005) is sent as an empty close. */
        USHORT code = op->code == UNIWS_CLOSE_NO_STATUS ? WINHTTP_WEB_SOCKET_EMPTY_CLOSE_STATUS
                                                        : (USHORT)op->code;
        r = WinHttpWebSocketShutdown(ws, code, op->len ? op->data : NULL, (DWORD)op->len);
        AcquireSRWLockExclusive(&sh->lock);
        sh->close_sent = 1;
        HINTERNET drop = NULL;
        if (sh->abandoned) {
            /* destroy() waited for this frame: now end the connection. */
            drop = sh->ws;
            sh->ws = NULL;
        }
        ReleaseSRWLockExclusive(&sh->lock);
        if (drop)
            WinHttpCloseHandle(drop);
        if (op->fail_err)
            post_fail(sh, op->fail_err, 0, op->fail_msg);
        else if (r != NO_ERROR && op->kind == OP_CLOSE)
            post_winhttp_fail(sh, "WinHttpWebSocketShutdown", r);
        uniws__free(op);
        break; /* nothing is sent after a close frame */
    }
    shared_release(sh);
    return 0;
}

/* Queues an op for the writer (any thread). Returns 0 or UNIWS_ECLOSED. */
static int queue_op(wh_shared *sh, wh_op *op)
{
    AcquireSRWLockExclusive(&sh->lock);
    if (sh->close_queued) {
        ReleaseSRWLockExclusive(&sh->lock);
        uniws__free(op);
        return UNIWS_ECLOSED;
    }
    if (op->kind != OP_SEND)
        sh->close_queued = 1;
    else
        sh->buffered += op->len;
    op->next = NULL;
    if (sh->op_tail)
        sh->op_tail->next = op;
    else
        sh->op_head = op;
    sh->op_tail = op;
    WakeConditionVariable(&sh->cv);
    ReleaseSRWLockExclusive(&sh->lock);
    return 0;
}

static wh_op *new_op(int kind, const void *data, size_t len)
{
    wh_op *op = uniws__calloc(1, sizeof *op + len + 1);
    if (!op)
        return NULL;
    op->kind = kind;
    op->len = len;
    if (len)
        memcpy(op->data, data, len);
    return op;
}

/* Fails the connection as RFC 6455 7.1.7 says: the close frame (code) goes
 * out first, then the error and close events are queued (by the writer,
 * so that destroy() cannot cut the close frame off). */
static void fail_with_close(wh_shared *sh, int code, int err, const char *msg)
{
    wh_op *op = new_op(OP_CLOSE_REPLY, NULL, 0);
    if (op) {
        op->code = code;
        op->fail_err = err;
        snprintf(op->fail_msg, sizeof op->fail_msg, "%s", msg);
        if (queue_op(sh, op) == 0)
            return;
    }
    post_fail(sh, err, 0, msg); /* a close frame is already on its way */
}

/* ---- the reader thread: connect, upgrade, receive ---------------------------------- */

/* Opens the session, connection and request, sends the upgrade request and
 * reads the answer's headers. Returns 0, or -1 after posting the failure. */
static int open_request(wh_shared *sh)
{
    /* No proxy: UNIWS_CAP_PROXY is not claimed (WinHTTP's named proxies
     * speak HTTP CONNECT only, and no test here covers them yet). */
    HINTERNET session = WinHttpOpen(L"uniws", WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                                    WINHTTP_NO_PROXY_BYPASS, 0);
    if (!session) {
        post_winhttp_fail(sh, "WinHttpOpen", GetLastError());
        return -1;
    }
    /* The connect timeout bounds name resolution, TCP and the handshake;
     * receives wait forever once open (a WebSocket may idle for hours). The
     * core's own connect timer fails the socket too. */
    int t = sh->connect_timeout_ms > 0 ? sh->connect_timeout_ms : 0;
    WinHttpSetTimeouts(session, t, t, t, 0);
    AcquireSRWLockExclusive(&sh->lock);
    sh->session = session;
    if (!sh->abandoned)
        sh->connect = WinHttpConnect(session, sh->host, sh->port, 0);
    HINTERNET connect = sh->connect;
    ReleaseSRWLockExclusive(&sh->lock);
    if (!connect) {
        post_winhttp_fail(sh, "WinHttpConnect", GetLastError());
        return -1;
    }
    HINTERNET req =
        WinHttpOpenRequest(connect, L"GET", sh->path, NULL, WINHTTP_NO_REFERER,
                           WINHTTP_DEFAULT_ACCEPT_TYPES, sh->tls ? WINHTTP_FLAG_SECURE : 0);
    AcquireSRWLockExclusive(&sh->lock);
    sh->request = req;
    ReleaseSRWLockExclusive(&sh->lock);
    if (!req) {
        post_winhttp_fail(sh, "WinHttpOpenRequest", GetLastError());
        return -1;
    }
    if (sh->skip_verify) {
        DWORD f = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID |
                  SECURITY_FLAG_IGNORE_CERT_DATE_INVALID | SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
        if (!WinHttpSetOption(req, WINHTTP_OPTION_SECURITY_FLAGS, &f, sizeof f)) {
            post_winhttp_fail(sh, "WINHTTP_OPTION_SECURITY_FLAGS", GetLastError());
            return -1;
        }
    }
    /* The answer's headers are bounded (as the core bounds them for the
     * stream backends); WinHTTP's documented default is 64 KiB. */
    DWORD max_headers = 64 * 1024;
    WinHttpSetOption(req, WINHTTP_OPTION_MAX_RESPONSE_HEADER_SIZE, &max_headers,
                     sizeof max_headers);
    /* A WebSocket handshake never follows a redirect (WHATWG: a 3xx fails). */
    DWORD never = WINHTTP_OPTION_REDIRECT_POLICY_NEVER;
    if (!WinHttpSetOption(req, WINHTTP_OPTION_REDIRECT_POLICY, &never, sizeof never)) {
        post_winhttp_fail(sh, "WINHTTP_OPTION_REDIRECT_POLICY", GetLastError());
        return -1;
    }
    if (!WinHttpSetOption(req, WINHTTP_OPTION_UPGRADE_TO_WEB_SOCKET, NULL, 0)) {
        post_winhttp_fail(sh, "WINHTTP_OPTION_UPGRADE_TO_WEB_SOCKET", GetLastError());
        return -1;
    }
    if (sh->headers &&
        !WinHttpAddRequestHeaders(req, sh->headers, (DWORD)-1L, WINHTTP_ADDREQ_FLAG_ADD)) {
        post_winhttp_fail(sh, "WinHttpAddRequestHeaders", GetLastError());
        return -1;
    }
    if (!WinHttpSendRequest(req, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0, 0,
                            0)) {
        post_winhttp_fail(sh, "WinHttpSendRequest", GetLastError());
        return -1;
    }
    if (!WinHttpReceiveResponse(req, NULL)) {
        post_winhttp_fail(sh, "WinHttpReceiveResponse", GetLastError());
        return -1;
    }
    return 0;
}

/* Checks the 101 answer as a browser does (WinHTTP checks the accept key
 * itself). Returns the selected subprotocol ("" for none; NULL after
 * posting the failure). */
static char *check_response(wh_shared *sh)
{
    HINTERNET req = sh->request;
    DWORD status = 0, size = sizeof status;
    if (!WinHttpQueryHeaders(req, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &size,
                             WINHTTP_NO_HEADER_INDEX)) {
        post_winhttp_fail(sh, "reading the status code", GetLastError());
        return NULL;
    }
    if (status != 101) {
        char msg[96];
        snprintf(msg, sizeof msg, "the server answered the upgrade with HTTP %lu",
                 (unsigned long)status);
        post_fail(sh, UNIWS_EHANDSHAKE, (int)status, msg);
        return NULL;
    }
    /* RFC 6455 4.1: Upgrade: websocket, Connection: upgrade and the accept
     * value of our key (Wine's WinHTTP checks none of them). */
    char *up = query_header(req, L"Upgrade"), *conn = query_header(req, L"Connection");
    int ok = up && has_token(up, "websocket") && conn && has_token(conn, "upgrade");
    uniws__free(up);
    uniws__free(conn);
    if (!ok) {
        post_fail(sh, UNIWS_EHANDSHAKE, 101,
                  "the 101 answer lacks Upgrade: websocket or Connection: upgrade");
        return NULL;
    }
    char *key = query_header_flags(req, WINHTTP_QUERY_FLAG_REQUEST_HEADERS, L"Sec-WebSocket-Key");
    char *accept = query_header(req, L"Sec-WebSocket-Accept");
    char want[29];
    ok = key && accept;
    if (ok) {
        uniws__ws_accept(key, want);
        ok = strcmp(want, accept) == 0;
    }
    uniws__free(key);
    uniws__free(accept);
    if (!ok) {
        post_fail(sh, UNIWS_EHANDSHAKE, 101, "Sec-WebSocket-Accept does not match the key");
        return NULL;
    }
    char *ext = query_header(req, L"Sec-WebSocket-Extensions");
    int bad_ext = ext && *ext;
    uniws__free(ext);
    if (bad_ext) {
        post_fail(sh, UNIWS_EHANDSHAKE, 101, "the server selected an extension none was offered");
        return NULL;
    }
    char *proto = query_header(req, L"Sec-WebSocket-Protocol");
    if ((!proto || !*proto) && sh->protocols && sh->protocols[0]) {
        uniws__free(proto);
        post_fail(sh, UNIWS_EHANDSHAKE, 101, "subprotocols were offered and none was selected");
        return NULL;
    }
    if (!proto || !*proto) {
        uniws__free(proto);
        proto = uniws__calloc(1, 1);
        if (!proto)
            post_fail(sh, UNIWS_ENOMEM, 0, "out of memory");
        return proto;
    }
    for (char **p = sh->protocols; p && *p; p++)
        if (strcmp(*p, proto) == 0)
            return proto;
    uniws__free(proto);
    post_fail(sh, UNIWS_EHANDSHAKE, 101, "the server selected a subprotocol that was not offered");
    return NULL;
}

/* Receives messages until the connection ends. */
static void receive_loop(wh_shared *sh, HINTERNET ws)
{
    size_t cap = 64 * 1024, len = 0;
    char *buf = uniws__malloc(cap);
    if (!buf) {
        post_fail(sh, UNIWS_ENOMEM, 0, "out of memory");
        return;
    }
    for (;;) {
        if (cap - len < 16 * 1024) {
            char *nb = uniws__realloc(buf, cap * 2);
            if (!nb) {
                post_fail(sh, UNIWS_ENOMEM, 0, "out of memory");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        DWORD got = 0;
        WINHTTP_WEB_SOCKET_BUFFER_TYPE type;
        DWORD r = WinHttpWebSocketReceive(ws, buf + len, (DWORD)(cap - len), &got, &type);
        if (r != NO_ERROR) {
            if (!abandoned(sh)) {
                /* Once open, bytes that are no valid frame are a protocol
                 * error, not a failed handshake. */
                char msg[160];
                snprintf(msg, sizeof msg, "WinHTTP: WinHttpWebSocketReceive failed (error %lu)",
                         (unsigned long)r);
                if (r == ERROR_WINHTTP_INVALID_SERVER_RESPONSE)
                    fail_with_close(sh, UNIWS_CLOSE_PROTOCOL_ERROR, UNIWS_EPROTOCOL, msg);
                else
                    post_fail(sh, map_error(r), 0, msg);
            }
            break;
        }
        if (type == WINHTTP_WEB_SOCKET_CLOSE_BUFFER_TYPE) {
            USHORT code = 0;
            char reason[WINHTTP_WEB_SOCKET_MAX_CLOSE_REASON_LENGTH + 1];
            DWORD rlen = 0;
            if (WinHttpWebSocketQueryCloseStatus(ws, &code, reason, sizeof reason - 1, &rlen) !=
                NO_ERROR) {
                code = UNIWS_CLOSE_NO_STATUS;
                rlen = 0;
            }
            /* Wine reports a close frame without a code as 0. 1005 and
             * 1006 (and the others uniws__msg_closed refuses) arrived on
             * the wire, where no endpoint may send them; a reason must be
             * UTF-8. Both fail the connection, as RFC 6455 7.4 / 8.1 say. */
            const char *bad = NULL;
            int bad_err = UNIWS_EPROTOCOL, reply = UNIWS_CLOSE_PROTOCOL_ERROR;
            if (code == 0)
                code = UNIWS_CLOSE_NO_STATUS;
            else if (!uniws__close_code_receivable(code))
                bad = "the peer closed with a code no endpoint may send";
            else if (!uniws__utf8_valid(reason, rlen)) {
                bad = "the peer's close reason is not valid UTF-8";
                bad_err = UNIWS_EUTF8;
                reply = UNIWS_CLOSE_INVALID_DATA;
            }
            if (bad) {
                fail_with_close(sh, reply, bad_err, bad);
                break;
            }
            AcquireSRWLockShared(&sh->lock);
            int sent = sh->close_sent || sh->close_queued;
            ReleaseSRWLockShared(&sh->lock);
            if (!sent) {
                /* Echo the peer's code, as browsers do. */
                wh_op *op = new_op(OP_CLOSE_REPLY, NULL, 0);
                if (op) {
                    op->code = code;
                    queue_op(sh, op);
                }
            }
            post_close(sh, code, reason, rlen, 1);
            break;
        }
        len += got;
        if (len > sh->max_message) {
            /* Stop here: close 1009, then fail (RFC 6455 7.4.1). */
            fail_with_close(sh, UNIWS_CLOSE_TOO_BIG, UNIWS_ETOO_BIG,
                            "received message exceeds max_message_size");
            break;
        }
        if (type == WINHTTP_WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE ||
            type == WINHTTP_WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE) {
            wh_event *e = new_event(EV_MESSAGE, buf, len);
            if (e)
                e->binary = type == WINHTTP_WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE;
            post(sh, e);
            len = 0;
            if (cap > 1024 * 1024) {
                /* Give back what one big message took. */
                char *nb = uniws__realloc(buf, 64 * 1024);
                if (nb) {
                    buf = nb;
                    cap = 64 * 1024;
                }
            }
        }
    }
    uniws__free(buf);
}

static DWORD WINAPI reader_main(void *arg)
{
    wh_shared *sh = arg;
    if (open_request(sh) != 0)
        goto out;
    char *proto = check_response(sh);
    if (!proto)
        goto out;
    HINTERNET ws = WinHttpWebSocketCompleteUpgrade(sh->request, 0);
    if (!ws) {
        uniws__free(proto);
        post_winhttp_fail(sh, "WinHttpWebSocketCompleteUpgrade", GetLastError());
        goto out;
    }
    AcquireSRWLockExclusive(&sh->lock);
    int gone = sh->abandoned;
    sh->ws = ws;
    HINTERNET req = sh->request;
    sh->request = NULL;
    ReleaseSRWLockExclusive(&sh->lock);
    if (req)
        WinHttpCloseHandle(req);
    if (gone) {
        uniws__free(proto);
        goto out;
    }
    /* The writer starts once there is a WebSocket to write to. */
    InterlockedIncrement(&sh->refs);
    HANDLE w = CreateThread(NULL, 0, writer_main, sh, 0, NULL);
    if (!w) {
        InterlockedDecrement(&sh->refs);
        uniws__free(proto);
        post_fail(sh, UNIWS_EIO, 0, "cannot start the WinHTTP writer thread");
        goto out;
    }
    CloseHandle(w);
    post(sh, new_event(EV_OPEN, proto, strlen(proto)));
    uniws__free(proto);
    receive_loop(sh, ws);
out:
    shared_release(sh);
    return 0;
}

/* ---- dispatch on the loop ------------------------------------------------------------ */

static void deliver(uniws_socket *s, wh_event *e)
{
    switch (e->kind) {
    case EV_OPEN:
        uniws__msg_opened(s, e->data, "");
        break;
    case EV_MESSAGE:
        uniws__msg_received(s, e->binary ? UNIWS_BINARY : UNIWS_TEXT, e->data, e->len);
        break;
    case EV_ERROR:
        uniws__msg_error(s, e->code, e->http_status, e->data);
        break;
    case EV_CLOSE:
        uniws__msg_closed(s, e->code, e->data, e->len, e->clean);
        break;
    }
}

static void dispatch(uniws_loop *loop, uniws__job *job)
{
    uniws_socket *s = job->data;
    wh_sock *w = uniws__sock_priv(s);
    (void)loop;
    for (;;) {
        AcquireSRWLockExclusive(&w->sh->lock);
        wh_event *e = w->sh->ev_head;
        if (e) {
            w->sh->ev_head = e->next;
            if (!w->sh->ev_head)
                w->sh->ev_tail = NULL;
        }
        ReleaseSRWLockExclusive(&w->sh->lock);
        if (!e)
            break;
        deliver(s, e);
        uniws__free(e);
    }
}

/* ---- the vtable ----------------------------------------------------------------------- */

static const char *wh_version(void)
{
    return "winhttp.dll";
}

/* "Name: value\r\n" lines for the custom headers and the subprotocols. */
static int build_headers(wh_shared *sh, const uniws__connect_req *req)
{
    const uniws_options *o = req->opts;
    size_t n = 1;
    for (size_t i = 0; i < o->num_headers; i++)
        n += strlen(o->headers[i].name) + strlen(o->headers[i].value) + 4;
    if (req->protocols_joined)
        n += strlen("Sec-WebSocket-Protocol: ") + strlen(req->protocols_joined) + 2;
    if (n == 1)
        return 0;
    char *h = uniws__malloc(n), *p = h;
    if (!h)
        return UNIWS_ENOMEM;
    for (size_t i = 0; i < o->num_headers; i++)
        p += sprintf(p, "%s: %s\r\n", o->headers[i].name, o->headers[i].value);
    if (req->protocols_joined)
        p += sprintf(p, "Sec-WebSocket-Protocol: %s\r\n", req->protocols_joined);
    sh->headers = widen(h);
    uniws__free(h);
    return sh->headers ? 0 : UNIWS_ENOMEM;
}

static int setup(wh_shared *sh, const uniws__connect_req *req)
{
    const uniws_options *o = req->opts;
    sh->host = widen(req->url->host);
    sh->path = widen(req->url->path);
    if (!sh->host || !sh->path)
        return UNIWS_ENOMEM;
    sh->port = req->url->port;
    sh->tls = req->url->tls;
    sh->skip_verify = o->tls_skip_verify;
    sh->connect_timeout_ms = o->connect_timeout_ms;
    sh->max_message = o->max_message_size ? o->max_message_size : UNIWS_DEFAULT_MAX_MESSAGE_SIZE;
    /* With on_message_part, max_message_size does not apply (docs/api.md);
     * WinHTTP's fragments are still joined into whole messages here and cut
     * into parts by the core, as in the browser (docs/backends.md). */
    if (o->callbacks.on_message_part)
        sh->max_message = SIZE_MAX;
    sh->protocols = uniws__calloc(o->num_protocols + 1, sizeof *sh->protocols);
    if (!sh->protocols)
        return UNIWS_ENOMEM;
    for (size_t i = 0; i < o->num_protocols; i++)
        if (!(sh->protocols[i] = uniws__strdup(o->protocols[i])))
            return UNIWS_ENOMEM;
    return build_headers(sh, req);
}

static int wh_connect(uniws_socket *s, const uniws__connect_req *req)
{
    wh_sock *w = uniws__sock_priv(s);
    uniws__job_init(&w->dispatch, dispatch, s);
    wh_shared *sh = uniws__calloc(1, sizeof *sh);
    if (!sh)
        return UNIWS_ENOMEM;
    InitializeSRWLock(&sh->lock);
    InitializeConditionVariable(&sh->cv);
    sh->refs = 1;
    sh->loop = uniws__sock_loop(s);
    sh->job = &w->dispatch;
    w->sh = sh;
    int r = setup(sh, req);
    if (r != 0)
        return r; /* destroy() frees sh */
    InterlockedIncrement(&sh->refs);
    HANDLE t = CreateThread(NULL, 0, reader_main, sh, 0, NULL);
    if (!t) {
        InterlockedDecrement(&sh->refs);
        return UNIWS_EIO;
    }
    CloseHandle(t);
    return 0;
}

static void wh_destroy(uniws_socket *s)
{
    wh_sock *w = uniws__sock_priv(s);
    wh_shared *sh = w->sh;
    if (!sh)
        return;
    w->sh = NULL;
    AcquireSRWLockExclusive(&sh->lock);
    sh->abandoned = 1;
    /* Closing the handles ends the threads' blocking calls (they see an
     * error and leave); the last one out frees sh. When a close frame is
     * queued but not yet sent (the core closed with 1002/1007/1009 and
     * failed the socket), the writer sends it first and then closes the
     * WebSocket itself. */
    HINTERNET hs[4] = {NULL, NULL, NULL, NULL};
    if (!(sh->ws && sh->close_queued && !sh->close_sent)) {
        hs[0] = sh->ws;
        hs[1] = sh->request;
        hs[2] = sh->connect;
        hs[3] = sh->session;
        sh->ws = sh->request = sh->connect = sh->session = NULL;
    }
    WakeAllConditionVariable(&sh->cv);
    ReleaseSRWLockExclusive(&sh->lock);
    for (int i = 0; i < 4; i++)
        if (hs[i])
            WinHttpCloseHandle(hs[i]);
    uniws__job_cancel(uniws__sock_loop(s), &w->dispatch);
    shared_release(sh);
}

static int wh_send(uniws_socket *s, uniws_msg_type type, const void *data, size_t len)
{
    wh_sock *w = uniws__sock_priv(s);
    if (!w->sh)
        return UNIWS_ECLOSED;
    if (len > 0xFFFFFFFFu)
        return UNIWS_ETOO_BIG;
    wh_op *op = new_op(OP_SEND, data, len);
    if (!op)
        return UNIWS_ENOMEM;
    op->binary = type == UNIWS_BINARY;
    return queue_op(w->sh, op);
}

static int wh_close(uniws_socket *s, int code, const char *reason, size_t reason_len)
{
    wh_sock *w = uniws__sock_priv(s);
    if (!w->sh)
        return 0;
    if (reason_len > WINHTTP_WEB_SOCKET_MAX_CLOSE_REASON_LENGTH)
        reason_len = WINHTTP_WEB_SOCKET_MAX_CLOSE_REASON_LENGTH;
    AcquireSRWLockShared(&w->sh->lock);
    int open = w->sh->ws != NULL;
    ReleaseSRWLockShared(&w->sh->lock);
    if (!open) {
        /* Still connecting: there is no WebSocket to send a close frame on;
         * the core fails the socket and destroy() drops the connection. */
        return 0;
    }
    wh_op *op = new_op(OP_CLOSE, reason, reason_len);
    if (!op)
        return UNIWS_ENOMEM;
    op->code = code;
    int r = queue_op(w->sh, op);
    return r == UNIWS_ECLOSED ? 0 : r;
}

static size_t wh_buffered(uniws_socket *s)
{
    wh_sock *w = uniws__sock_priv(s);
    if (!w->sh)
        return 0;
    AcquireSRWLockShared(&w->sh->lock);
    size_t n = w->sh->buffered;
    ReleaseSRWLockShared(&w->sh->lock);
    return n;
}

const uniws__backend uniws__backend_winhttp = {
    .name = "winhttp",
    .description = "Windows' own WebSocket client (WinHTTP, Schannel TLS, no dependencies)",
    /* WinHTTP frames messages itself (no RAW_FRAMES), offers no
     * permessage-deflate and no ping call, verifies TLS against the Windows
     * certificate store only (no CA file) and takes client certificates
     * only as store contexts (not PEM files). It sends the close codes a
     * failing client uses (1002, 1007, 1009: the wire_* cases check them). */
    .caps = UNIWS_CAP_WS | UNIWS_CAP_WSS | UNIWS_CAP_CUSTOM_HEADERS | UNIWS_CAP_TLS_SKIP_VERIFY |
            UNIWS_CAP_CONNECT_TIMEOUT | UNIWS_CAP_NETWORK | UNIWS_CAP_ANY_CLOSE_CODE,
    .auto_select = 1,
    .kind = UNIWS__MESSAGE,
    .priv_size = sizeof(wh_sock),
    .version = wh_version,
    .connect = wh_connect,
    .destroy = wh_destroy,
    .msg_send = wh_send,
    .msg_close = wh_close,
    .msg_buffered = wh_buffered,
};
