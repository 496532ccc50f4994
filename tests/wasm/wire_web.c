/*
 * wire_web.c — wire.h for the WebAssembly runner: a page or a Node.js wasm
 * program cannot listen on a port, so each raw peer runs in the native
 * driver (wire-peer.mjs) and these functions reach it over HTTP. The calls
 * block the way wire.c's do, by suspending the C stack (Asyncify) while
 * fetch() runs; JavaScript keeps delivering WebSocket events meanwhile.
 */
#include "wire.h"
#include "wire_web.h"
#include "json.h"

#include <emscripten/emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wire_peer {
    int id, port;
};

static char control[256];

void wire_web_set_control(const char *url)
{
    snprintf(control, sizeof control, "%s", url ? url : "");
}

/* Fetches base+path (POSTing body when not NULL) and copies the response
 * text into out. Returns its length, or -1. */
/* clang-format off */
EM_ASYNC_JS(int, wire_fetch, (const char *url, const char *body, char *out, int size), {
    try {
        var init = body ? { method: 'POST', body: UTF8ToString(body) } : {};
        var r = await fetch(UTF8ToString(url), init);
        var text = await r.text();
        if (!r.ok)
            return -1;
        return stringToUTF8(text, out, size);
    } catch (e) {
        return -1;
    }
});
/* clang-format on */

static json *call(const char *path, const char *body)
{
    if (!control[0])
        return NULL;
    char url[512], err[128];
    static char out[4096];
    snprintf(url, sizeof url, "%s%s", control, path);
    int n = wire_fetch(url, body, out, (int)sizeof out);
    if (n < 0)
        return NULL;
    err[0] = 0;
    return json_parse(out, (size_t)n, err, sizeof err);
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
