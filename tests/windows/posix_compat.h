/*
 * posix_compat.h — the few POSIX calls the shared test sources use that the
 * Windows C runtime names differently; force-included (-include) into the
 * tests built for Windows, so the sources stay as they are.
 */
#ifndef UNIWS_TESTS_WINDOWS_POSIX_COMPAT_H
#define UNIWS_TESTS_WINDOWS_POSIX_COMPAT_H
#ifdef _WIN32
#include <stdlib.h>

/* _putenv_s with an empty value removes the variable, as unsetenv does. */
static inline int uniws_test_setenv(const char *name, const char *value, int overwrite)
{
    if (!overwrite && getenv(name))
        return 0;
    return _putenv_s(name, value);
}

static inline int uniws_test_unsetenv(const char *name)
{
    return _putenv_s(name, "");
}

#define setenv   uniws_test_setenv
#define unsetenv uniws_test_unsetenv
#endif
#endif
