/*
 * srv_tls.h — the TLS seam of the scripted peer's network driver (server.c):
 * a server context from PEM files and a non-blocking TLS session over an
 * accepted socket. srv_tls_openssl.c implements it with OpenSSL;
 * srv_tls_none.c where the build has no OpenSSL (mingw-w64 on Debian has
 * none), so that server.c carries no TLS library and no #ifdef.
 */
#ifndef UNIWS_TOOLS_SRV_TLS_H
#define UNIWS_TOOLS_SRV_TLS_H

#include <stddef.h>

#include "tools/server/srv_os.h"

/* What a TLS call that moved no bytes means (negative returns). */
#define SRV_TLS_WANT_READ  (-1) /* wait until the socket is readable */
#define SRV_TLS_WANT_WRITE (-2) /* wait until the socket is writable */
#define SRV_TLS_FAIL       (-3) /* the session broke */

typedef struct srv_tls_ctx srv_tls_ctx;
typedef struct srv_tls srv_tls;

/* 1 when this build's server can serve TLS. */
int srv_tls_available(void);
/* A server context with the certificate chain and key (and, with client_ca,
 * required client certificates signed by it). Returns 0, UNIWS_ENOMEM,
 * UNIWS_ETLS (bad files) or UNIWS_EUNSUPPORTED (no TLS in this build). */
int srv_tls_ctx_new(const char *cert, const char *key, const char *client_ca, srv_tls_ctx **out);
void srv_tls_ctx_free(srv_tls_ctx *ctx);

/* A session on an accepted socket (which the caller still owns), or NULL. */
srv_tls *srv_tls_new(srv_tls_ctx *ctx, srv_sock s);
void srv_tls_free(srv_tls *t);
/* The server handshake: 1 done, or SRV_TLS_WANT_READ/WANT_WRITE/FAIL. */
int srv_tls_accept(srv_tls *t);
/* Plaintext bytes read (0: the peer ended the session), or SRV_TLS_*. */
long srv_tls_read(srv_tls *t, void *buf, size_t n);
/* Plaintext bytes written (partial writes allowed), or SRV_TLS_*. */
long srv_tls_write(srv_tls *t, const void *buf, size_t n);
/* 1 when decrypted bytes wait inside the session. */
int srv_tls_pending(const srv_tls *t);
/* Sends close_notify, best effort on a non-blocking socket. */
void srv_tls_shutdown(srv_tls *t);
/* tls-garble (docs/peer.md): encrypts n plaintext bytes as the session's next
 * application-data record, into memory instead of the socket, and corrupts
 * one byte of the ciphertext, so the client's record check (AEAD tag or MAC)
 * fails. Returns the record (malloc'd, *len bytes) for the caller to write
 * to the socket as it is, or NULL (out of memory, or TLS failed). Call only
 * when everything written before has gone out. */
unsigned char *srv_tls_garble(srv_tls *t, const void *plain, size_t n, size_t *len);

#endif
