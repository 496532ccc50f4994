/*
 * connect_io.h — what `uniws connect` needs from the operating system, one
 * file per OS: waiting on stdin, interrupts and the uniws loop together, and
 * reading stdin once that wait said it would not block.
 *   connect_posix.c  poll() over stdin, a self-pipe for signals and
 *                    uniws_loop_fd(): everything on one thread.
 *   connect_win32.c  a console or pipe handle cannot be polled with sockets:
 *                    a reader thread blocks on stdin and wakes the loop, and
 *                    a console control handler counts Ctrl-C.
 * Each file also has the CLI's monotonic clock (uniws__cli_now_ms, cli.h).
 */
#ifndef UNIWS_TOOLS_CLI_CONNECT_IO_H
#define UNIWS_TOOLS_CLI_CONNECT_IO_H

#include <stddef.h>
#include "uniws/uniws.h"

enum {
    UNIWS__CLI_IO_INPUT = 1, /* stdin has bytes (or its end) to read */
    UNIWS__CLI_IO_SIGNAL = 2 /* an interrupt (SIGINT, SIGTERM, Ctrl-C) arrived */
};

/* Sets up interrupt handling (and, on Windows, the stdin reader) for the
 * given loop. Returns 0, or -1 with a message printed. */
int uniws__cli_io_start(uniws_loop *loop);
/* Waits up to timeout_ms (-1: no limit) for stdin (only when want_input),
 * an interrupt, or work for the loop; the caller then runs the loop with
 * uniws_loop_run_once(loop, 0). Returns UNIWS__CLI_IO_* bits (0 on a timeout
 * or loop work), or -1 with a message printed. */
int uniws__cli_io_wait(uniws_loop *loop, int want_input, int timeout_ms);
/* Interrupts since the last call. */
int uniws__cli_io_signals(void);
/* Reads what stdin has (after the wait said UNIWS__CLI_IO_INPUT): returns
 * the byte count, 0 at the end of input, -2 when nothing is there after
 * all, or -1 on an error (message printed). */
long uniws__cli_io_read(char *buf, size_t n);

#endif
