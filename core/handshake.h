/*
 * handshake.h — the small crypto-free pieces of the opening handshake:
 * SHA-1, base64 and the Sec-WebSocket-Key / Sec-WebSocket-Accept pair.
 */
#ifndef UNIWS_CORE_HANDSHAKE_H
#define UNIWS_CORE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

void uniws__sha1(const void *data, size_t n, uint8_t out[20]);
/* Writes base64 of in[0..n) plus a NUL into out (4 * ((n + 2) / 3) + 1
 * bytes); returns the length without the NUL. */
size_t uniws__base64(const uint8_t *in, size_t n, char *out);
/* out = base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), 28
 * characters plus NUL. */
void uniws__ws_accept(const char *key, char out[29]);
/* A fresh random key: base64 of 16 random bytes (24 chars + NUL). Returns 0
 * or UNIWS_EIO when no randomness is available. */
int uniws__ws_key(char out[25]);

#endif
