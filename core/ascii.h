/*
 * ascii.h — case-insensitive comparison of ASCII text (HTTP header names,
 * tokens, subprotocols), independent of the C locale and of POSIX's
 * strcasecmp/<strings.h>, which MSVC does not have.
 */
#ifndef UNIWS_CORE_ASCII_H
#define UNIWS_CORE_ASCII_H

#include <stddef.h>

/* Compares a and b with A-Z folded to a-z (other bytes as unsigned char):
 * <0, 0 or >0 like strcmp. */
int uniws__ascii_casecmp(const char *a, const char *b);
/* The same over at most n bytes (stops at a NUL), like strncmp. */
int uniws__ascii_ncasecmp(const char *a, const char *b, size_t n);

#endif
