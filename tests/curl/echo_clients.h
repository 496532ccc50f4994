/*
 * echo_clients.h — a tiny driver shared by the curl backend tests: many
 * sockets on one loop, each sending one text message to an echo server,
 * checking that it comes back unchanged, then closing with 1000.
 */
#ifndef UNIWS_TESTS_CURL_ECHO_CLIENTS_H
#define UNIWS_TESTS_CURL_ECHO_CLIENTS_H

#include <stddef.h>
#include "uniws/uniws.h"

typedef struct echo_client {
    uniws_socket *s;
    const char *backend;
    char text[64]; /* what it sends; the echo must match */
    int opened, echoed, closed, clean, code, mismatch;
    int error; /* UNIWS_E* of an error event, 0 when none */
    int http_status;
    char message[160];                 /* the error event's message */
    unsigned long open_seq, close_seq; /* order of the open / close events */
} echo_client;

/* Called once per loop iteration of echo_run() when set. */
extern void (*echo_tick)(void);

/* Connects n clients to url (backend i % nb from backends), using base for
 * every other option, and runs the loop until every client has closed or
 * timeout_ms passed. Returns how many clients finished with a clean 1000
 * close after a matching echo; a failed uniws_connect() counts as not done
 * and is stored in c[i].error. Frees every socket before it returns. */
size_t echo_run(uniws_loop *loop, const char *url, const uniws_options *base,
                const char *const *backends, size_t nb, echo_client *c, size_t n, int timeout_ms);

#endif
