/*
 * wire_web.c — wire.h for the WebAssembly runner: a page or a Node.js wasm
 * program cannot listen on a port, so each raw peer runs in the native
 * driver (wire-peer.mjs), and wire_remote.c (tests/support) reaches it over
 * HTTP with the request below. The calls block the way wire.c's do, by
 * suspending the C stack (Asyncify) while fetch() runs; JavaScript keeps
 * delivering WebSocket events meanwhile.
 */
#include "wire_remote.h"
#include "wire_web.h"

#include <emscripten/emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

json *wire_remote_call(const char *path, const char *body)
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
