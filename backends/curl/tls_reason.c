/*
 * tls_reason.c — puts Schannel's certificate trust statuses (the
 * CERT_TRUST_* flags of CERT_TRUST_STATUS, which libcurl's Schannel
 * backend prints by name, or as a hex "error mask" for the flags it does not
 * name) into words; see tls_reason.h.
 */
#include "tls_reason.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statuses libcurl reports (lib/vtls/schannel_verify.c), by name or in
 * its "error mask: 0x%08lx" line, and what each means, per the
 * CERT_TRUST_STATUS documentation (the bits are wincrypt.h's). */
static const struct {
    const char *flag;
    unsigned long bit;
    const char *words;
} reasons[] = {
    {"CERT_TRUST_IS_NOT_TIME_VALID", 0x1, "the certificate has expired or is not yet valid"},
    {"CERT_TRUST_IS_PARTIAL_CHAIN", 0x10000,
     "unknown issuer: the chain does not reach a trusted root certificate"},
    {"CERT_TRUST_IS_UNTRUSTED_ROOT", 0x20,
     "not trusted: the chain ends in a self-signed root certificate that is not trusted"},
    {"CERT_TRUST_IS_REVOKED", 0x4, "the certificate was revoked"},
    {"CERT_TRUST_IS_NOT_SIGNATURE_VALID", 0x8, "a certificate's signature is not valid"},
    {"CERT_TRUST_IS_NOT_VALID_FOR_USAGE", 0x10,
     "the certificate is not valid for server authentication"},
    {"CERT_TRUST_REVOCATION_STATUS_UNKNOWN", 0x40, "the revocation status is unknown"},
    {"CERT_TRUST_IS_CYCLIC", 0x80, "the certificate chain is cyclic"},
};

/* The bits of libcurl's "error mask: 0x..." line, or 0 without one. */
static unsigned long error_mask(const char *msg)
{
    static const char key[] = "error mask: 0x";
    const char *m = strstr(msg, key);
    return m ? strtoul(m + sizeof key - 1, NULL, 16) : 0;
}

const char *uniws__curl_tls_reason(const char *msg, char *buf, size_t size)
{
    unsigned long mask = msg ? error_mask(msg) : 0;
    if (!msg || (!mask && !strstr(msg, "CERT_TRUST_")))
        return msg;
    int n = snprintf(buf, size, "%s", msg);
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (n < 0 || (size_t)n >= size)
            break;
        if (strstr(msg, reasons[i].flag) || (mask & reasons[i].bit))
            n += snprintf(buf + n, size - (size_t)n, ": %s", reasons[i].words);
    }
    return buf;
}

/* 1 when the host of url (scheme://host[:port]/...) is an IPv4 or IPv6
 * literal. */
static int host_is_ip(const char *url)
{
    const char *h = url ? strstr(url, "://") : NULL;
    if (!h)
        return 0;
    h += 3;
    if (*h == '[')
        return 1;
    size_t n = strcspn(h, ":/?#");
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
            return 0;
    return 1;
}

const char *uniws__curl_tls_silent_reason(const char *url)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (!v || !v->ssl_version || strncmp(v->ssl_version, "Schannel", 8) != 0 || !host_is_ip(url))
        return NULL;
    return "schannel: the server certificate does not match the host: it lists no such IP "
           "address";
}
