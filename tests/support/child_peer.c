/*
 * child_peer.c — runs the scripted peer in a forked child process and hands
 * its port back to the parent through a pipe (see child_peer.h).
 */
#include "child_peer.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "server.h"

int child_peer_start(pid_t *child)
{
    int fds[2];
    *child = -1;
    if (pipe(fds) != 0)
        return -1;
    *child = fork();
    if (*child < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (*child == 0) {
        close(fds[0]);
        uniws__server_options so;
        memset(&so, 0, sizeof so);
        so.host = "127.0.0.1";
        uniws__server *srv = NULL;
        int port = uniws__server_start(&so, &srv) == 0 ? uniws__server_port(srv) : -1;
        if (write(fds[1], &port, sizeof port) != (ssize_t)sizeof port)
            _exit(1);
        close(fds[1]);
        for (;;)
            pause();
    }
    close(fds[1]);
    int port = -1;
    if (read(fds[0], &port, sizeof port) != (ssize_t)sizeof port)
        port = -1;
    close(fds[0]);
    return port;
}

void child_peer_stop(pid_t child)
{
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
    }
}
