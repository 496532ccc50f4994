/*
 * validate.c — the argument checks every backend shares, so a bad close code,
 * reason, subprotocol or header fails the same way whichever backend (or the
 * browser underneath) would otherwise have accepted or thrown.
 */
#include "core/validate.h"

#include <string.h>

#include "core/ascii.h"
#include "core/utf8.h"

#define MAX_REASON 123 /* 125-byte control payload minus the 2-byte code */

int uniws__check_close_args(int code, const char *reason, size_t *reason_len)
{
    size_t len;

    if (code != 0 && code != 1000 && (code < 3000 || code > 4999))
        return UNIWS_EINVALID_ACCESS;
    if (!reason)
        reason = "";
    len = strlen(reason);
    if (len > MAX_REASON || !uniws__utf8_valid(reason, len))
        return UNIWS_ESYNTAX;
    /* A close frame can only carry a reason after a status code. */
    if (len > 0 && code == 0)
        return UNIWS_ESYNTAX;
    if (reason_len)
        *reason_len = len;
    return 0;
}

int uniws__close_code_receivable(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int uniws__is_token(const char *s, size_t n)
{
    size_t i;
    if (!s || n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

int uniws__check_protocols(const char *const *p, size_t n)
{
    size_t i, j;

    if (n == 0)
        return 0;
    if (!p)
        return UNIWS_EINVAL;
    for (i = 0; i < n; i++) {
        if (!p[i])
            return UNIWS_EINVAL;
        if (!uniws__is_token(p[i], strlen(p[i])))
            return UNIWS_ESYNTAX;
        /* Duplicates compare without case, as the WHATWG constructor does
         * (web-platform-tests: protocols repeated case-insensitively). */
        for (j = 0; j < i; j++)
            if (uniws__ascii_casecmp(p[i], p[j]) == 0)
                return UNIWS_ESYNTAX;
    }
    return 0;
}

static int ci_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* Headers the handshake writes itself; letting a caller set them would break
 * the upgrade or smuggle a second value past our checks. */
static int header_reserved(const char *name)
{
    static const char *const exact[] = {"host", "upgrade", "connection", "content-length",
                                        "transfer-encoding"};
    size_t i, len = strlen(name);

    for (i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (len == strlen(exact[i]) && ci_prefix(name, exact[i]))
            return 1;
    return ci_prefix(name, "sec-websocket-");
}

int uniws__check_headers(const uniws_header *h, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    if (!h)
        return UNIWS_EINVAL;
    for (i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value)
            return UNIWS_EINVAL;
        if (!uniws__is_token(h[i].name, strlen(h[i].name)) || header_reserved(h[i].name))
            return UNIWS_ESYNTAX;
        for (const unsigned char *v = (const unsigned char *)h[i].value; *v; v++)
            if ((*v < 0x20 && *v != '\t') || *v == 0x7f)
                return UNIWS_ESYNTAX; /* RFC 7230 3.2: field-value has no CTLs */
    }
    return 0;
}

int uniws__check_request_size(const char *const *p, size_t np, const uniws_header *h, size_t nh)
{
    size_t total = 0, i;
    const size_t max = UNIWS_MAX_REQUEST_HEADER_BYTES;

    for (i = 0; i < np; i++) {
        total += strlen(p[i]) + 2; /* ", " between them, or the line's CRLF */
        if (total > max)
            return UNIWS_ETOO_BIG;
    }
    if (np)
        total += strlen("Sec-WebSocket-Protocol: ");
    for (i = 0; i < nh; i++) {
        total += strlen(h[i].name) + strlen(h[i].value) + 4;
        if (total > max)
            return UNIWS_ETOO_BIG;
    }
    return total > max ? UNIWS_ETOO_BIG : 0;
}
