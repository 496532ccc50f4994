/*
 * wire_http.c — wire.h for the Windows runner under wine: like the
 * WebAssembly runner (tests/wasm/wire_web.c), each raw peer runs in the
 * native driver (tests/wasm/wire-peer.mjs) and these functions reach it
 * with a blocking HTTP/1.0 request over Winsock. wire_wait() is only ever
 * called with a zero timeout (the case runs its loop itself), so a blocking
 * request never stalls the client under test for long.
 */
#include "wire.h"
#include "wire_web.h"
#include "json.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wire_peer {
    int id, port;
};

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

/* Sends one request and returns the parsed JSON body, or NULL. */
static json *call(const char *path, const char *body)
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

int wire_start(const void *frames, size_t len, wire_peer **out)
{
    static const char hex[] = "0123456789abcdef";
    char *body = malloc(2 * len + 1);
    wire_peer *w = calloc(1, sizeof *w);
    if (!body || !w) {
        free(body);
        free(w);
        return -1;
    }
    const unsigned char *p = frames;
    for (size_t i = 0; i < len; i++) {
        body[2 * i] = hex[p[i] >> 4];
        body[2 * i + 1] = hex[p[i] & 15];
    }
    body[2 * len] = 0;
    json *j = call("/start", body);
    free(body);
    w->id = (int)json_num(json_get(j, "id"), -1);
    w->port = (int)json_num(json_get(j, "port"), 0);
    json_free(j);
    if (w->id < 0 || w->port <= 0) {
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

int wire_port(const wire_peer *w)
{
    return w->port;
}

void wire_wait(wire_peer *w, int timeout_ms, wire_obs *obs)
{
    char path[96];
    memset(obs, 0, sizeof *obs);
    obs->close_code = -1;
    snprintf(path, sizeof path, "/wait?id=%d&timeout=%d", w->id, timeout_ms);
    json *j = call(path, NULL);
    if (!j) {
        obs->done = 1; /* the driver is gone: nothing more will be seen */
        return;
    }
    obs->upgraded = (int)json_num(json_get(j, "upgraded"), 0);
    obs->close_code = (int)json_num(json_get(j, "close_code"), -1);
    snprintf(obs->close_reason, sizeof obs->close_reason, "%s",
             json_str(json_get(j, "close_reason"), ""));
    obs->data_frames = (int)json_num(json_get(j, "data_frames"), 0);
    obs->pongs = (int)json_num(json_get(j, "pongs"), 0);
    snprintf(obs->last_pong, sizeof obs->last_pong, "%s", json_str(json_get(j, "last_pong"), ""));
    obs->last_pong_len = (size_t)json_num(json_get(j, "last_pong_len"), 0);
    obs->unmasked = (int)json_num(json_get(j, "unmasked"), 0);
    obs->bad = (int)json_num(json_get(j, "bad"), 0);
    obs->eof = (int)json_num(json_get(j, "eof"), 0);
    obs->done = (int)json_num(json_get(j, "done"), 0);
    json_free(j);
}

void wire_stop(wire_peer *w)
{
    if (!w)
        return;
    char path[64];
    snprintf(path, sizeof path, "/stop?id=%d", w->id);
    json_free(call(path, NULL));
    free(w);
}
