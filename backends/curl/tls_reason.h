/*
 * tls_reason.h — words for a TLS library's terse verification error: libcurl
 * over Schannel (Windows) names a failed certificate check only by its
 * CERT_TRUST_* status flag, or by their bits as a hex "error mask"; uniws's
 * error messages say the reason in words on every backend
 * (tests/conformance/cases_tls_matrix.c).
 */
#ifndef UNIWS_CURL_TLS_REASON_H
#define UNIWS_CURL_TLS_REASON_H

#include <stddef.h>

/* msg, or msg with the meaning of each Schannel trust status it names (or
 * sets in an "error mask: 0x..." it holds) appended ("...: unknown issuer
 * ...") written into buf. */
const char *uniws__curl_tls_reason(const char *msg, char *buf, size_t size);

/* libcurl 8.x over Schannel fails an IP-literal host whose address the
 * certificate does not list without any message (CURLE_PEER_FAILED_VERIFICATION
 * and an empty error buffer; lib/vtls/schannel_verify.c, Curl_verify_host);
 * every other Schannel verification failure writes one. Returns the words for
 * that case when url's host is an IP literal and libcurl uses Schannel, else
 * NULL. */
const char *uniws__curl_tls_silent_reason(const char *url);

#endif
