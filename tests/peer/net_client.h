/*
 * net_client.h — the client end of the peer's network tests (test_peer.c,
 * test_server_tls.c): a blocking TCP connection to the server on 127.0.0.1.
 */
#ifndef UNIWS_TEST_NET_CLIENT_H
#define UNIWS_TEST_NET_CLIENT_H

/* Connects to 127.0.0.1:port. Reads on the socket give up after 5 s, so a
 * peer that says nothing fails the test instead of hanging it. Returns the
 * socket, or -1. */
int net_client_connect(int port);

#endif
