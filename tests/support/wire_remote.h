/*
 * wire_remote.h — wire.h (tests/conformance) for runners that cannot listen
 * on a port or start a thread of their own (the WebAssembly runner, the
 * Windows runner under wine): each raw peer runs in the native driver
 * (tests/wasm/wire-peer.mjs), and wire_remote.c turns wire.h's calls into
 * requests to it. Each runner supplies the one request function over what it
 * has (fetch() in tests/wasm/wire_web.c, Winsock in tests/windows/wire_http.c).
 */
#ifndef UNIWS_TEST_WIRE_REMOTE_H
#define UNIWS_TEST_WIRE_REMOTE_H

#include "json.h"

/* Sends one request to the driver: GET path, or POST body to path when body
 * is not NULL. Returns the parsed JSON of a 200 answer (json_free it), or
 * NULL when there is no driver, no answer or another status. */
json *wire_remote_call(const char *path, const char *body);

#endif
