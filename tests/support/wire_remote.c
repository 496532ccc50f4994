/*
 * wire_remote.c — wire.h over the driver's wire-peer.mjs (see wire_remote.h):
 * a peer is started with its frames as hex, waited for and stopped by id;
 * the request itself is the runner's wire_remote_call().
 */
#include "wire.h"
#include "wire_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wire_peer {
    int id, port;
};

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
    json *j = wire_remote_call("/start", body);
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
    json *j = wire_remote_call(path, NULL);
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
    json_free(wire_remote_call(path, NULL));
    free(w);
}
