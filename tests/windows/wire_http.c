/*
 * wire_http.c — wire.h for the Windows runner under wine: like the
 * WebAssembly runner (tests/wasm/wire_web.c), each raw peer runs in the
 * native driver (tests/wasm/wire-peer.mjs), and wire_remote.c (tests/support)
 * reaches it with the blocking HTTP/1.0 request below, over Winsock.
 * wire_wait() is only ever called with a zero timeout (the case runs its
 * loop itself), so a blocking request never stalls the client under test
 * for long.
 */
#include "wire_remote.h"
#include "wire_web.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char host[64];
static int control_port;

void wire_web_set_control(const char *url)
{
    /* "http://127.0.0.1:PORT" */
    host[0] = 0;
    control_port = 0;
    if (url && sscanf(url, "http://%63[^:]:%d", host, &control_port) != 2)
        control_port = 0;
}

json *wire_remote_call(const char *path, const char *body)
{
    if (!control_port)
        return NULL;
    WSADATA wd;
    if (WSAStartup(MAKEWORD(2, 2), &wd) != 0)
        return NULL;
    json *j = NULL;
    char *req = NULL, *resp = NULL;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((u_short)control_port);
    if (s == INVALID_SOCKET || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        connect(s, (struct sockaddr *)&a, sizeof a) != 0)
        goto out;
    size_t blen = body ? strlen(body) : 0, rlen = 256 + strlen(path) + blen;
    req = malloc(rlen);
    if (!req)
        goto out;
    int n = snprintf(req, rlen,
                     "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     body ? "POST" : "GET", path, host, blen, body ? body : "");
    for (int off = 0; off < n;) {
        int w = send(s, req + off, n - off, 0);
        if (w <= 0)
            goto out;
        off += w;
    }
    size_t cap = 8192, len = 0;
    resp = malloc(cap + 1);
    if (!resp)
        goto out;
    for (;;) {
        if (len == cap) {
            char *r = realloc(resp, cap * 2 + 1);
            if (!r)
                goto out;
            resp = r;
            cap *= 2;
        }
        int r = recv(s, resp + len, (int)(cap - len), 0);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        len += (size_t)r;
    }
    resp[len] = 0;
    char *b = strstr(resp, "\r\n\r\n");
    if (strncmp(resp, "HTTP/1.1 200", 12) != 0 && strncmp(resp, "HTTP/1.0 200", 12) != 0)
        goto out;
    if (b) {
        char err[128];
        b += 4;
        j = json_parse(b, strlen(b), err, sizeof err);
    }
out:
    if (s != INVALID_SOCKET)
        closesocket(s);
    free(req);
    free(resp);
    WSACleanup();
    return j;
}
