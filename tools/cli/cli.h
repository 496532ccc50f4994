/*
 * cli.h — what the `uniws` subcommands share: the entry points the
 * dispatcher calls, exit statuses, a tiny option parser, error printing,
 * a clock, and "run the loop until something happened".
 */
#ifndef UNIWS_TOOLS_CLI_H
#define UNIWS_TOOLS_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "uniws/uniws.h"

/* Exit statuses shared by every subcommand (documented in `uniws --help`). */
enum {
    UNIWS__CLI_EXIT_OK = 0,
    UNIWS__CLI_EXIT_USAGE = 1,   /* bad arguments or an option the backend cannot honour */
    UNIWS__CLI_EXIT_FAILED = 2,  /* could not connect / could not start */
    UNIWS__CLI_EXIT_UNCLEAN = 3, /* closed uncleanly, or a check failed */
    UNIWS__CLI_EXIT_SIGNAL = 130 /* interrupted twice */
};

/* The subcommands: argv[0] is the subcommand's name. Each returns an exit status. */
int uniws__cli_connect(int argc, char **argv);
int uniws__cli_serve(int argc, char **argv);
int uniws__cli_backends(int argc, char **argv);
int uniws__cli_demo(int argc, char **argv);
int uniws__cli_autobahn(int argc, char **argv);

/* Walks a subcommand's arguments. Usage:
 *   uniws__cli_args a;  uniws__cli_args_init(&a, argc, argv);
 *   while (uniws__cli_args_next(&a)) {
 *       if (uniws__cli_flag(&a, "--binary")) ...
 *       else if (uniws__cli_value(&a, "--backend", &v)) ...
 *       else return uniws__cli_unknown(&a);
 *   }
 *   if (a.failed) return UNIWS__CLI_EXIT_USAGE;                          */
typedef struct uniws__cli_args {
    int argc;
    char **argv;
    int i;             /* index of the argument being looked at */
    const char *cmd;   /* subcommand name, for messages */
    int failed;        /* a usage error was printed */
    int only_operands; /* after "--" */
} uniws__cli_args;

void uniws__cli_args_init(uniws__cli_args *a, int argc, char **argv);
/* Moves to the next argument; 0 when there are none left. */
int uniws__cli_args_next(uniws__cli_args *a);
/* 1 when the current argument is not an option (or follows "--"). */
int uniws__cli_operand(const uniws__cli_args *a);
/* 1 when the current argument is the flag `name` (e.g. "--binary", "-v"). */
int uniws__cli_flag(uniws__cli_args *a, const char *name);
/* 1 when the current argument is "NAME VALUE" or "NAME=VALUE"; *value is set.
 * A missing value prints a usage error, sets a->failed and still returns 1. */
int uniws__cli_value(uniws__cli_args *a, const char *name, const char **value);
/* Prints "unknown option" for the current argument; returns UNIWS__CLI_EXIT_USAGE. */
int uniws__cli_unknown(uniws__cli_args *a);
/* 1 when the current argument asks for help ("-h" or "--help"). */
int uniws__cli_is_help(const uniws__cli_args *a);

/* Prints "uniws CMD: MESSAGE" and a hint to stderr; returns UNIWS__CLI_EXIT_USAGE. */
int uniws__cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "uniws CMD: MESSAGE" to stderr (one line). */
void uniws__cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parses a whole decimal integer within [min, max]. Returns 0 or -1. */
int uniws__cli_parse_long(const char *s, long min, long max, long *out);

/* Checks that `name` is a compiled backend; prints a usage error listing the
 * compiled ones when it is not. Returns 0 or UNIWS__CLI_EXIT_USAGE. */
int uniws__cli_check_backend(const char *cmd, const char *name);

/* Monotonic time in milliseconds (in connect_posix.c / connect_win32.c). */
double uniws__cli_now_ms(void);

/* Drives loop until done(ctx) returns nonzero or timeout_ms passes
 * (timeout_ms < 0: no limit). Returns 0, UNIWS_ETIMEOUT, or a loop error. */
int uniws__cli_wait(uniws_loop *loop, int (*done)(void *ctx), void *ctx, int timeout_ms);

/* Writes len bytes as lowercase hex. */
void uniws__cli_write_hex(FILE *f, const void *data, size_t len);

/* Writes data as a JSON string (quoted; ", \ and control bytes escaped;
 * other bytes, UTF-8 included, as they are). */
void uniws__cli_json_string(FILE *f, const void *data, size_t len);

/* Formats milliseconds as "0.42 ms" / "12.3 ms" / "1534 ms". */
void uniws__cli_format_ms(char *buf, size_t size, double ms);

#endif
