/*
 * ascii.c — ASCII case-insensitive comparison (ascii.h): the one place the
 * library folds case, so no code depends on the locale or on POSIX's
 * strcasecmp.
 */
#include "core/ascii.h"

static unsigned char fold(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 'A' && u <= 'Z' ? (unsigned char)(u - 'A' + 'a') : u;
}

int uniws__ascii_ncasecmp(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = fold(a[i]), y = fold(b[i]);
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            break;
    }
    return 0;
}

int uniws__ascii_casecmp(const char *a, const char *b)
{
    return uniws__ascii_ncasecmp(a, b, (size_t)-1);
}
