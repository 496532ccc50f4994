/*
 * srv_os_win32.c — srv_os.h on Windows: Winsock with WSAPoll (the library's
 * win32 poller says why WSAPoll), a UDP socket connected to itself as the
 * wake-up (WSAPoll takes sockets only), a Win32 thread, the console control
 * handler for Ctrl-C, GetFileAttributesEx for static files. No fork on
 * Windows, so the idle hooks do nothing.
 */
#include "tools/server/srv_os.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

int srv_os_init(void)
{
    WSADATA wd;
    return WSAStartup(MAKEWORD(2, 2), &wd) == 0 ? 0 : -1;
}

void srv_os_cleanup(void)
{
    WSACleanup();
}

int64_t srv_os_now_ms(void)
{
    return (int64_t)GetTickCount64();
}

static int set_nonblocking(SOCKET s)
{
    u_long on = 1;
    return ioctlsocket(s, FIONBIO, &on) == 0 ? 0 : -1;
}

srv_sock srv_os_socket(int family)
{
    /* WSA_FLAG_NO_HANDLE_INHERIT: the close-on-exec of Winsock. */
    SOCKET s = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s != INVALID_SOCKET && set_nonblocking(s) != 0) {
        closesocket(s);
        s = INVALID_SOCKET;
    }
    return s;
}

void srv_os_reuse_addr(srv_sock s)
{
    /* SO_REUSEADDR on Windows lets another program take a port in use; what
     * POSIX's SO_REUSEADDR gives (rebinding over TIME_WAIT) is the default. */
    BOOL on = TRUE;
    setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&on, sizeof on);
}

srv_sock srv_os_accept(srv_sock l, struct sockaddr_storage *ss, socklen_t *sl)
{
    for (;;) {
        SOCKET s = accept(l, (struct sockaddr *)ss, sl);
        if (s == INVALID_SOCKET) {
            int e = WSAGetLastError();
            if (e == WSAEINTR || e == WSAECONNABORTED || e == WSAECONNRESET)
                continue;
            return INVALID_SOCKET; /* WSAEWOULDBLOCK or out of resources */
        }
        /* (An accepted socket inherits non-blocking mode; set it anyway.) */
        if (set_nonblocking(s) != 0) {
            closesocket(s);
            continue;
        }
        /* Every write must leave as its own segment (bytewise, same-segment). */
        BOOL one = TRUE;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
        return s;
    }
}

static long io_error(void)
{
    int e = WSAGetLastError();
    return e == WSAEWOULDBLOCK ? SRV_IO_AGAIN : SRV_IO_FAIL;
}

/* Winsock counts in int: larger requests go in pieces. */
static int io_len(size_t n)
{
    return n > INT_MAX ? INT_MAX : (int)n;
}

long srv_os_recv(srv_sock s, void *buf, size_t n)
{
    for (;;) {
        int r = recv(s, (char *)buf, io_len(n), 0);
        if (r >= 0)
            return r;
        if (WSAGetLastError() == WSAEINTR)
            continue;
        return io_error();
    }
}

long srv_os_send(srv_sock s, const void *buf, size_t n)
{
    for (;;) {
        int r = send(s, (const char *)buf, io_len(n), 0);
        if (r >= 0)
            return r;
        if (WSAGetLastError() == WSAEINTR)
            continue;
        return io_error();
    }
}

void srv_os_shutdown_wr(srv_sock s)
{
    shutdown(s, SD_SEND);
}

void srv_os_reset(srv_sock s)
{
    struct linger lg;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&lg, sizeof lg);
    closesocket(s);
}

void srv_os_close(srv_sock s)
{
    closesocket(s);
}

int srv_os_poll(srv_pollfd *fds, size_t n, int timeout_ms)
{
    int r = WSAPoll(fds, (ULONG)n, timeout_ms);
    if (r == SOCKET_ERROR)
        return WSAGetLastError() == WSAEINTR ? 0 : -1;
    return r;
}

/* ---- wake-up: a UDP socket on 127.0.0.1 connected to itself ------------------ */

int srv_os_wake_open(srv_wake *w)
{
    struct sockaddr_in a;
    int len = (int)sizeof a;
    SOCKET s = WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);

    w->rd = w->wr = INVALID_SOCKET;
    if (s == INVALID_SOCKET)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0 ||
        connect(s, (struct sockaddr *)&a, sizeof a) != 0 || set_nonblocking(s) != 0) {
        closesocket(s);
        return -1;
    }
    w->rd = w->wr = s; /* one socket: a datagram sent on it makes it readable */
    return 0;
}

void srv_os_wake_signal(srv_wake *w)
{
    char b = 1;
    send(w->wr, &b, 1, 0);
}

void srv_os_wake_close(srv_wake *w)
{
    if (w->rd != INVALID_SOCKET)
        closesocket(w->rd);
    w->rd = w->wr = INVALID_SOCKET;
}

/* ---- the thread ------------------------------------------------------------------ */

struct srv_thread {
    HANDLE h;
    void (*fn)(void *);
    void *arg;
};

static DWORD WINAPI thread_main(LPVOID p)
{
    srv_thread *t = p;
    t->fn(t->arg);
    return 0;
}

int srv_os_thread_start(srv_thread **out, void (*fn)(void *), void *arg)
{
    srv_thread *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->fn = fn;
    t->arg = arg;
    /* Signals do not reach threads on Windows (Ctrl-C runs a handler on a
     * thread of its own), and there is no fork to wait for: the thread may
     * still be starting when this returns. */
    t->h = CreateThread(NULL, 0, thread_main, t, 0, NULL);
    if (!t->h) {
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void srv_os_thread_join(srv_thread *t)
{
    WaitForSingleObject(t->h, INFINITE);
    CloseHandle(t->h);
    free(t);
}

void srv_os_idle_begin(void) {}

void srv_os_idle_end(void) {}

/* ---- the foreground stop: the console control handler ----------------------------- */

struct srv_stop {
    HANDLE ev;
};

static HANDLE g_stop_ev; /* the event the control handler sets (one srv_stop at a time) */

static BOOL WINAPI on_ctrl(DWORD type)
{
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT && type != CTRL_CLOSE_EVENT)
        return FALSE;
    SetEvent(g_stop_ev);
    return TRUE;
}

int srv_os_stop_begin(srv_stop **out)
{
    srv_stop *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!s->ev) {
        free(s);
        return -1;
    }
    g_stop_ev = s->ev;
    if (!SetConsoleCtrlHandler(on_ctrl, TRUE)) {
        CloseHandle(s->ev);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void srv_os_stop_wait(srv_stop *s)
{
    WaitForSingleObject(s->ev, INFINITE);
}

void srv_os_stop_end(srv_stop *s)
{
    SetConsoleCtrlHandler(on_ctrl, FALSE);
    g_stop_ev = NULL;
    CloseHandle(s->ev);
    free(s);
}

int srv_os_file_size(const char *path, uint64_t *size)
{
    WIN32_FILE_ATTRIBUTE_DATA fa;
    if (!GetFileAttributesExA(path, GetFileExInfoStandard, &fa) ||
        (fa.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE)))
        return -1;
    *size = ((uint64_t)fa.nFileSizeHigh << 32) | fa.nFileSizeLow;
    return 0;
}
