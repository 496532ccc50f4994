/*
 * limitations.c — the explicit table of known bugs in what lies underneath a
 * backend that uniws cannot absorb: the C library of a native backend (keyed
 * by the backend's name and library version), or the JavaScript engine under
 * the emscripten backend (keyed by "wasm-node" / "wasm-chromium" and the
 * Node.js / Chromium version), or Wine under a Windows column (keyed by
 * "win-<backend>" and Wine's version). A case listed here is reported as
 * "limitation" (with the version and reason) instead of being run, as long
 * as the version still starts with the one given, so a new version runs the
 * case again. Only what the lead agreed to: everything else must be fixed in
 * the backend or the core. Each entry was seen failing the same way with the
 * engine's own WebSocket, without uniws (see the lead's report).
 */
#include "cases.h"

#include <string.h>

/* Wine's WinHTTP WebSocket (the win-winhttp column under wine). */
#define WINE_WINHTTP_PING                                                                          \
    "Wine 8.0's WinHTTP fails WinHttpWebSocketReceive (ERROR_WINHTTP_INVALID_SERVER_RESPONSE) "    \
    "when the server sends a ping, instead of answering it with a pong as Windows' WinHTTP does; " \
    "the frames never reach uniws"
#define WINE_WINHTTP_FRAMING                                                                       \
    "Wine 8.0's WinHTTP does not fail the connection on this framing violation (RFC 6455 "         \
    "5.2/5.4); it frames messages itself, so uniws never sees the frames"

/* Schannel under wine (the win-curl column): checked by hand too, with
 * `uniws.exe connect --backend curl` against `uniws serve --tls-cert`: no CA
 * file -> opens; --ca other-ca.pem -> ETLS (wss_wrong_ca passes). */
#define WINE_SCHANNEL_UNTRUSTED                                                                    \
    "Wine 8.0's Schannel accepts a server certificate from an unknown CA when no CA file is "      \
    "given (no chain check against the system store): libcurl's handshake succeeds and the "       \
    "connection opens; with a CA file (wss_wrong_ca) verification fails as it should"

/* Schannel under wine, both Windows TLS columns (checked by the helper
 * with 40,000 more bytes after the plain ones: libcurl then fails with
 * "GnuTLS error: An unexpected TLS packet was received", Wine's WinHTTP
 * stops on an assertion in dlls/winhttp/net.c). */
#define WINE_SCHANNEL_PLAIN                                                                        \
    "Wine 8.0's Schannel takes 7 plain bytes under TLS for a record header (type 0x81, length "    \
    "27,745: both impossible for TLS) and waits for that many bytes instead of failing; no event " \
    "within the case's deadline (OpenSSL rejects the header at once)"

static const conf_limitation limitations[] = {
    /* Node.js 20's WebSocket (undici). */
    {"wasm-node", "frame_length_not_minimal", "20.",
     "undici accepts a length in a longer form than needed (RFC 6455 5.2) and delivers the "
     "message; a browser engine frames messages itself, uniws never sees the frame"},
    {"wasm-node", "handshake_no_upgrade", "20.",
     "undici neither opens nor fails on a 101 without Upgrade: the socket stays CONNECTING "
     "until uniws's connect timeout (30 s by default) fails it"},
    {"wasm-node", "handshake_protocol_none_offered", "20.",
     "undici throws an uncaught TypeError (null.includes) when the server selects a "
     "subprotocol and none was offered, which ends the Node.js process"},
    /* Chromium's WebSocket. */
    /* Any version: long-standing Chromium behaviour, and Debian's security
     * updates move Chromium's major version every few weeks (re-check with
     * --run-limitations). */
    {"wasm-chromium", "data_after_close_dropped", NULL,
     "(seen on Chromium 156) Chromium fails the connection (error, close 1006) when data frames "
     "follow the peer's "
     "close frame, so the peer's code and reason never reach the page"},
    /* win-deps: the curl backend (Schannel) under Wine (column win-curl). */
    {"win-curl", "wss_verify_default", "wine-8.", WINE_SCHANNEL_UNTRUSTED},
    /* wintls: the same Wine behaviour for a self-signed certificate (the TLS
     * matrix's peers run under wine since run-conformance.mjs starts them). */
    {"win-curl", "tls_self_signed_default", "wine-8.", WINE_SCHANNEL_UNTRUSTED},
    {"win-curl", "wss_plain_bytes", "wine-8.", WINE_SCHANNEL_PLAIN},
    {"win-winhttp", "wss_plain_bytes", "wine-8.", WINE_SCHANNEL_PLAIN},
    /* The winhttp backend under Wine (column win-winhttp, keyed by Wine's
     * version: "wine-8.0 ..."). On Windows itself the cases run. */
    {"win-winhttp", "frag_ping_interleaved", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "ping_answered", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "pingflood_1000", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "pong_during_large_send", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "wire_pong_payload", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "wire_pingflood_100", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "control_fragmented", "wine-8.", WINE_WINHTTP_FRAMING},
    {"win-winhttp", "message_inside_fragmented", "wine-8.", WINE_WINHTTP_FRAMING},
    {"win-winhttp", "binary_inside_fragmented", "wine-8.", WINE_WINHTTP_FRAMING},
    {"win-winhttp", "frame_length_not_minimal", "wine-8.", WINE_WINHTTP_FRAMING},
    {"win-winhttp", "close_code_invalid_0", "wine-8.",
     "Wine 8.0's WinHttpWebSocketQueryCloseStatus reports close code 0 for a close frame without a "
     "code too, so uniws cannot tell the invalid code 0 on the wire from an empty close (1005)"},
    {"win-winhttp", "hostile_ping_flood", "wine-8.", WINE_WINHTTP_PING},
    {"win-winhttp", "hostile_pong_never_read", "wine-8.", WINE_WINHTTP_PING},
    /* Seen under Wine 8.0 only, not yet analysed further (see the
     * win-platform report): the lead decides whether they stay here. */
    {"win-winhttp", "hostile_endless_headers", "wine-8.",
     "Wine 8.0's WinHTTP keeps reading an endless header block (WINHTTP_OPTION_MAX_RESPONSE_HEADER_"
     "SIZE set to 64 KiB is not enforced): no event within the case's 10 s, only uniws's connect "
     "timeout ends it"},
    {"win-winhttp", "hostile_huge_header_line", "wine-8.",
     "Wine 8.0's WinHTTP accepts a header line beyond WINHTTP_OPTION_MAX_RESPONSE_HEADER_SIZE and "
     "completes the upgrade"},
    {"win-winhttp", "hostile_fragment_flood", "wine-8.",
     "Wine 8.0's WinHttpWebSocketReceive returned neither a message nor an error within 10 s for a "
     "message sent as a flood of continuation frames"},
    {"win-winhttp", "hostile_empty_fragments", "wine-8.",
     "Wine 8.0's WinHttpWebSocketReceive returned no message within 10 s for messages made of "
     "empty "
     "continuation frames"},
    {NULL, NULL, NULL, NULL},
};

const conf_limitation *conf_limitation_find(const char *backend, const char *version,
                                            const char *case_name)
{
    for (const conf_limitation *l = limitations; l->backend; l++) {
        if (strcmp(l->backend, backend) != 0 || strcmp(l->case_name, case_name) != 0)
            continue;
        /* Tied to the version it was seen with: a new version runs the case
         * again, so a fixed bug shows up as a pass (or a fresh failure). */
        if (l->version && (!version || strncmp(version, l->version, strlen(l->version)) != 0))
            continue;
        return l;
    }
    return NULL;
}
