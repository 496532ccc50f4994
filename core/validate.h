/*
 * validate.h — argument checks shared by every backend, so each rejects the
 * same inputs with the same error codes (docs/contract.md rules 5, 6, 11).
 */
#ifndef UNIWS_CORE_VALIDATE_H
#define UNIWS_CORE_VALIDATE_H

#include <stddef.h>
#include "uniws/uniws.h"

/* uniws_close() arguments: code 0 (none), 1000 or 3000-4999 else
 * UNIWS_EINVALID_ACCESS; reason (NULL = "") UTF-8 of <= 123 bytes else
 * UNIWS_ESYNTAX; a non-empty reason with code 0 is UNIWS_ESYNTAX. On success
 * stores strlen(reason) in *reason_len. */
int uniws__check_close_args(int code, const char *reason, size_t *reason_len);
/* 1 when a close frame received from the peer may carry this code:
 * 1000-1003, 1007-1014, 3000-4999. */
int uniws__close_code_receivable(int code);
/* 1 when s[0..n) is a non-empty RFC 7230 token. */
int uniws__is_token(const char *s, size_t n);
/* Subprotocols: each a token, no duplicates (compared without case, as browsers do), else
 * UNIWS_ESYNTAX; NULL list with n > 0 is UNIWS_EINVAL. */
int uniws__check_protocols(const char *const *p, size_t n);
/* Custom headers: name a token, value without control characters but TAB
 * (RFC 7230 field-value: no CR, LF, NUL, DEL either), and not one the
 * handshake owns (Host, Upgrade, Connection, Sec-WebSocket-*, Content-Length,
 * Transfer-Encoding) else UNIWS_ESYNTAX; NULL list with n > 0: UNIWS_EINVAL. */
int uniws__check_headers(const uniws_header *h, size_t n);
/* The application's share of the upgrade request (header lines with CRLF,
 * the joined subprotocol list): UNIWS_ETOO_BIG past
 * UNIWS_MAX_REQUEST_HEADER_BYTES, else 0. Call after the checks above. */
int uniws__check_request_size(const char *const *p, size_t np, const uniws_header *h, size_t nh);

#endif
