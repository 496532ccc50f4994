/*
 * tls.h — client TLS for the lws backend, run over OpenSSL memory BIOs.
 * libwebsockets 4.1.6 cannot put TLS on a RAW client connection (it calls
 * SSL_connect before the socket exists), so lws carries the TCP bytes and this
 * file runs the TLS state machine: ciphertext in from the network, plaintext
 * out to the core, and the reverse for writes.
 */
#ifndef UNIWS_BACKENDS_LWS_TLS_H
#define UNIWS_BACKENDS_LWS_TLS_H

#include <stddef.h>
#include "uniws/uniws.h"

/* The capability bits TLS gives the backend: all of them with OpenSSL
 * (tls.c), none without a TLS library (tls_none.c, UNIWS_LWS_NO_TLS). */
#ifdef UNIWS_LWS_NO_TLS
#define UNIWS__LWSTLS_CAPS 0u
#else
#define UNIWS__LWSTLS_CAPS                                                                         \
    (UNIWS_CAP_WSS | UNIWS_CAP_TLS_CA_FILE | UNIWS_CAP_TLS_SKIP_VERIFY | UNIWS_CAP_TLS_CLIENT_CERT)
#endif

/* One per loop: SSL_CTXs keyed by (CA file, client cert, client key). */
typedef struct uniws__lwstls_cache uniws__lwstls_cache;
/* One per wss connection. */
typedef struct uniws__lwstls uniws__lwstls;

void uniws__lwstls_cache_free(uniws__lwstls_cache *c);

/* Starts a client session for host (host_is_ip: an IP literal, checked as an
 * address and sent without SNI). *cache is created on first use. Returns 0,
 * UNIWS_ENOMEM, or UNIWS_ETLS with a reason in msg (unreadable CA file, bad
 * client certificate or key). */
int uniws__lwstls_new(uniws__lwstls_cache **cache, const uniws_options *opts, const char *host,
                      int host_is_ip, uniws__lwstls **out, char *msg, size_t msg_size);
void uniws__lwstls_free(uniws__lwstls *t);
/* 1 when the server asked for a client certificate and none was given: a
 * TLS 1.3 server refuses that after the client's handshake is done, so the
 * connection may end (even with a reset that loses the alert) later. */
int uniws__lwstls_cert_asked(const uniws__lwstls *t);

/* Ciphertext that arrived from the network. Returns 0 or UNIWS_ENOMEM. */
int uniws__lwstls_put(uniws__lwstls *t, const void *data, size_t len);
/* Drives the handshake: 1 done, 0 needs more bytes, UNIWS_ETLS (msg says why:
 * verification, alert, protocol). */
int uniws__lwstls_handshake(uniws__lwstls *t, char *msg, size_t msg_size);
/* Decrypted bytes into buf: > 0 bytes, 0 when it needs more ciphertext,
 * UNIWS_ERESET when the peer sent close_notify, UNIWS_ETLS on error. */
long uniws__lwstls_read(uniws__lwstls *t, void *buf, size_t cap, char *msg, size_t msg_size);
/* Encrypts up to len bytes (after the handshake). Returns the bytes taken
 * (>= 0) or UNIWS_ETLS. */
long uniws__lwstls_write(uniws__lwstls *t, const void *data, size_t len, char *msg,
                         size_t msg_size);
/* 1 when a read or write since the last trim went through more than a few
 * records at once: the memory BIOs are big, and OpenSSL's record buffers
 * are kept between records until uniws__lwstls_trim (otherwise they are let
 * go whenever empty). */
int uniws__lwstls_grown(const uniws__lwstls *t);
/* Lets go of those buffers, BIOs and record buffers (call once the
 * connection has been quiet for a while: taking them again costs a page
 * fault per 4 KiB). Returns 0 when done, 1 when some could not go yet (bytes
 * still in them, the handshake not over, out of memory): try again later. */
int uniws__lwstls_trim(uniws__lwstls *t);
/* Ciphertext waiting for the network, and taking it. */
size_t uniws__lwstls_pending(uniws__lwstls *t);
size_t uniws__lwstls_take(uniws__lwstls *t, void *buf, size_t cap);

#endif
