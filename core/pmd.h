/*
 * pmd.h — permessage-deflate (RFC 7692) for the core's own framing: the
 * client's offer, checking the server's answer, and (de)compressing whole
 * messages with zlib. Built only with UNIWS_HAVE_ZLIB.
 */
#ifndef UNIWS_CORE_PMD_H
#define UNIWS_CORE_PMD_H

#include <stddef.h>
#include <stdint.h>

typedef struct uniws__pmd uniws__pmd;

/* The Sec-WebSocket-Extensions value the client offers. */
const char *uniws__pmd_offer(void);
/* Checks one extension from the server's answer (the text after the name,
 * e.g. "; server_no_context_takeover; client_max_window_bits=10"). Returns 0
 * and a new context, UNIWS_EPROTOCOL when the parameters are not acceptable
 * for our offer, or UNIWS_ENOMEM. */
int uniws__pmd_accept(const char *params, uniws__pmd **out);
void uniws__pmd_free(uniws__pmd *p);
/* Inflates one whole compressed message (the payload of all its frames
 * joined, without the 00 00 ff ff tail). *out is malloc'd (caller frees) and
 * NUL-terminated past *out_len. Returns 0, UNIWS_ETOO_BIG (more than max
 * bytes), UNIWS_EPROTOCOL (corrupt data) or UNIWS_ENOMEM. */
int uniws__pmd_inflate(uniws__pmd *p, const uint8_t *in, size_t n, size_t max, uint8_t **out,
                       size_t *out_len);
/* Deflates one whole message into a malloc'd buffer (tail removed). Returns 0
 * or UNIWS_ENOMEM. */
int uniws__pmd_deflate(uniws__pmd *p, const uint8_t *in, size_t n, uint8_t **out, size_t *out_len);
/* The extension string to report as uniws_extensions() (e.g.
 * "permessage-deflate; client_max_window_bits=15"). */
const char *uniws__pmd_describe(const uniws__pmd *p);

#endif
