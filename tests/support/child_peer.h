/*
 * child_peer.h — the scripted peer (tools/server) in a forked child process,
 * for native test programs whose own process must stay free of the server's
 * threads and allocations (the fault sweep and the soak test).
 */
#ifndef UNIWS_TEST_CHILD_PEER_H
#define UNIWS_TEST_CHILD_PEER_H

#include <sys/types.h>

/* Forks a child that serves the scripted peer on 127.0.0.1 and a free port.
 * Returns the port, or -1 (then *child may still need child_peer_stop). */
int child_peer_start(pid_t *child);

/* Stops the child started by child_peer_start (SIGTERM, then waits). */
void child_peer_stop(pid_t child);

#endif
