/*
 * cli.c — helpers shared by the `uniws` subcommands (see cli.h): option
 * parsing in the GNU long-option style wscat and websocat use, one-line error
 * messages, timing, and a bounded "run the loop until" used by demo and
 * autobahn.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void uniws__cli_args_init(uniws__cli_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->argc = argc;
    a->argv = argv;
    a->i = 0; /* argv[0] is the subcommand itself */
    a->cmd = argc > 0 ? argv[0] : "uniws";
}

int uniws__cli_args_next(uniws__cli_args *a)
{
    a->i++;
    if (a->i >= a->argc)
        return 0;
    if (!a->only_operands && strcmp(a->argv[a->i], "--") == 0) {
        a->only_operands = 1;
        return uniws__cli_args_next(a);
    }
    return 1;
}

int uniws__cli_operand(const uniws__cli_args *a)
{
    const char *s = a->argv[a->i];
    /* "-" alone is an operand by convention (stdin). */
    return a->only_operands || s[0] != '-' || s[1] == '\0';
}

int uniws__cli_flag(uniws__cli_args *a, const char *name)
{
    return !a->only_operands && strcmp(a->argv[a->i], name) == 0;
}

int uniws__cli_value(uniws__cli_args *a, const char *name, const char **value)
{
    const char *s = a->argv[a->i];
    size_t n = strlen(name);

    if (a->only_operands || strncmp(s, name, n) != 0)
        return 0;
    if (s[n] == '=') {
        *value = s + n + 1;
        return 1;
    }
    if (s[n] != '\0')
        return 0;
    if (a->i + 1 >= a->argc) {
        uniws__cli_usage_error(a->cmd, "option %s needs a value", name);
        a->failed = 1;
        *value = NULL;
        return 1;
    }
    a->i++;
    *value = a->argv[a->i];
    return 1;
}

int uniws__cli_unknown(uniws__cli_args *a)
{
    a->failed = 1;
    if (uniws__cli_operand(a))
        return uniws__cli_usage_error(a->cmd, "unexpected argument '%s'", a->argv[a->i]);
    return uniws__cli_usage_error(a->cmd, "unknown option '%s'", a->argv[a->i]);
}

int uniws__cli_is_help(const uniws__cli_args *a)
{
    const char *s = a->argv[a->i];
    return !a->only_operands && (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0);
}

static void vprint(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "uniws %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int uniws__cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'uniws %s --help'.\n", cmd);
    return UNIWS__CLI_EXIT_USAGE;
}

void uniws__cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(cmd, fmt, ap);
    va_end(ap);
}

int uniws__cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int uniws__cli_check_backend(const char *cmd, const char *name)
{
    uniws_backend_info info;
    char list[256] = "";
    size_t i, n = uniws_backend_count();

    if (uniws_backend_find(name, &info) == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (uniws_backend_get(i, &info) != 0)
            continue;
        if (list[0])
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, info.name, sizeof(list) - strlen(list) - 1);
    }
    return uniws__cli_usage_error(cmd, "unknown backend '%s' (compiled: %s)", name,
                                  list[0] ? list : "none");
}

int uniws__cli_wait(uniws_loop *loop, int (*done)(void *ctx), void *ctx, int timeout_ms)
{
    double deadline = uniws__cli_now_ms() + timeout_ms;

    while (!done(ctx)) {
        int wait = -1, rc;
        if (timeout_ms >= 0) {
            double left = deadline - uniws__cli_now_ms();
            if (left <= 0)
                return UNIWS_ETIMEOUT;
            wait = (int)left + 1;
        }
        rc = uniws_loop_run_once(loop, wait);
        if (rc < 0)
            return rc;
        /* No socket left alive and still not done: nothing more can happen. */
        if (rc == 0 && !done(ctx))
            return UNIWS_ECLOSED;
    }
    return 0;
}

void uniws__cli_write_hex(FILE *f, const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        fputc(digits[p[i] >> 4], f);
        fputc(digits[p[i] & 15], f);
    }
}

void uniws__cli_format_ms(char *buf, size_t size, double ms)
{
    if (ms < 10.0)
        snprintf(buf, size, "%.2f ms", ms);
    else if (ms < 1000.0)
        snprintf(buf, size, "%.1f ms", ms);
    else
        snprintf(buf, size, "%.0f ms", ms);
}
