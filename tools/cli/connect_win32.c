/*
 * connect_win32.c — `uniws connect`'s OS part on Windows (connect_io.h).
 * WSAPoll takes only sockets, and a console or pipe handle has no readiness
 * to wait on together with them, so a reader thread blocks in ReadFile() on
 * stdin, hands the bytes over through a bounded buffer and wakes the loop
 * (uniws_loop_stop() is safe from any thread and only wakes
 * uniws_loop_run_once()). A console control handler counts Ctrl-C the same
 * way. The waiting itself is uniws_loop_run_once() on the main thread, so
 * sending and every callback stay on one thread, as on POSIX.
 */
#include "connect_io.h"
#include "cli.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

/* Bytes the reader may hold before it waits for the main thread. */
#define IN_CAP 65536

static struct {
    uniws_loop *loop;
    CRITICAL_SECTION mu;
    CONDITION_VARIABLE room; /* signalled when the main thread took bytes */
    char buf[IN_CAP];
    size_t len;            /* under mu */
    int eof;               /* under mu: the reader saw the end of input */
    DWORD error;           /* under mu: ReadFile's error, or 0 */
    volatile LONG signals; /* Ctrl-C / Ctrl-Break / close, not yet taken */
} in;

static BOOL WINAPI on_ctrl(DWORD type)
{
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT && type != CTRL_CLOSE_EVENT)
        return FALSE;
    InterlockedIncrement(&in.signals);
    uniws_loop_stop(in.loop);
    return TRUE;
}

/* Console input arrives as CRLF lines: keep only the LF, as on POSIX. */
static DWORD strip_cr(char *p, DWORD n)
{
    DWORD i, o = 0;
    for (i = 0; i < n; i++)
        if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
            p[o++] = p[i];
    return o;
}

static DWORD WINAPI reader(LPVOID arg)
{
    static char chunk[IN_CAP];
    HANDLE h = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode;
    int console = h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode);

    (void)arg;
    for (;;) {
        DWORD got = 0, err = 0;
        if (h == INVALID_HANDLE_VALUE || h == NULL)
            got = 0; /* no stdin at all: the end of input */
        else if (!ReadFile(h, chunk, sizeof chunk, &got, NULL)) {
            err = GetLastError();
            got = 0;
            if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF)
                err = 0; /* the writer closed the pipe: the end of input */
        }
        if (console)
            got = strip_cr(chunk, got);
        EnterCriticalSection(&in.mu);
        if (got == 0) {
            in.eof = 1;
            in.error = err;
        } else {
            while (in.len + got > IN_CAP)
                SleepConditionVariableCS(&in.room, &in.mu, INFINITE);
            memcpy(in.buf + in.len, chunk, got);
            in.len += got;
        }
        LeaveCriticalSection(&in.mu);
        uniws_loop_stop(in.loop); /* wakes uniws_loop_run_once() */
        if (got == 0)
            return 0;
    }
}

int uniws__cli_io_start(uniws_loop *loop)
{
    HANDLE t;

    in.loop = loop;
    InitializeCriticalSection(&in.mu);
    InitializeConditionVariable(&in.room);
    /* Messages go to stdout byte for byte (--binary), lines end in LF. */
    _setmode(_fileno(stdout), _O_BINARY);
    SetConsoleCtrlHandler(on_ctrl, TRUE);
    /* The thread runs until the end of input; at exit the process ends it
     * (it may be blocked in ReadFile on a console nobody types into). */
    t = CreateThread(NULL, 0, reader, NULL, 0, NULL);
    if (!t) {
        uniws__cli_error("connect", "cannot start the stdin reader (error %lu)",
                         (unsigned long)GetLastError());
        return -1;
    }
    CloseHandle(t);
    return 0;
}

static int ready_now(int want_input)
{
    int ready = 0;
    if (InterlockedCompareExchange(&in.signals, 0, 0) > 0)
        ready |= UNIWS__CLI_IO_SIGNAL;
    if (want_input) {
        EnterCriticalSection(&in.mu);
        if (in.len > 0 || in.eof)
            ready |= UNIWS__CLI_IO_INPUT;
        LeaveCriticalSection(&in.mu);
    }
    return ready;
}

int uniws__cli_io_wait(uniws_loop *loop, int want_input, int timeout_ms)
{
    int rc, ready = ready_now(want_input);
    if (ready)
        return ready;
    /* The reader and the control handler wake this wait; their wake-up
     * stays pending if it came just before the wait started. */
    rc = uniws_loop_run_once(loop, timeout_ms);
    if (rc < 0) {
        uniws__cli_error("connect", "loop: %s: %s", uniws_err_name(rc), uniws_strerror(rc));
        return -1;
    }
    return ready_now(want_input);
}

int uniws__cli_io_signals(void)
{
    return (int)InterlockedExchange(&in.signals, 0);
}

long uniws__cli_io_read(char *buf, size_t n)
{
    long r;
    EnterCriticalSection(&in.mu);
    if (in.len > 0) {
        size_t k = in.len < n ? in.len : n;
        memcpy(buf, in.buf, k);
        memmove(in.buf, in.buf + k, in.len - k);
        in.len -= k;
        r = (long)k;
        WakeConditionVariable(&in.room);
    } else if (in.eof) {
        r = in.error ? -1 : 0;
    } else {
        r = -2;
    }
    LeaveCriticalSection(&in.mu);
    if (r == -1)
        uniws__cli_error("connect", "reading stdin: error %lu", (unsigned long)in.error);
    return r;
}

/* (cli.h) The performance counter: monotonic, finer than a millisecond (the
 * demo prints hundredths), and in every Windows C toolchain, which
 * clock_gettime is not. */
double uniws__cli_now_ms(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart * 1000.0 / (double)freq.QuadPart;
}
