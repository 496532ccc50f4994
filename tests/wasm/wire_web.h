/*
 * wire_web.h — where the WebAssembly runner's raw peers live: the control URL
 * of the driver's wire-peer.mjs (runner --wire-url).
 */
#ifndef UNIWS_TESTS_WASM_WIRE_WEB_H
#define UNIWS_TESTS_WASM_WIRE_WEB_H

void wire_web_set_control(const char *url);

#endif
