/*
 * server_main.c — `uniws-bench-server`: runs the benchmarks' echo server
 * (echo_server.h) in the foreground until SIGINT/SIGTERM. Prints
 * "listening on ws://127.0.0.1:PORT/" and then "port PORT" so scripts can
 * start it on port 0 and read the port back. With --tls it serves wss://
 * with --cert/--key, or with a self-signed certificate made at start
 * (test_cert.h) in a temporary folder removed at exit; a "ca FILE" line
 * (before the port line) names the file clients verify it with.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "echo_server.h"
#include "test_cert.h"

static uniws__echo_server *g_srv;

static void on_signal(int sig)
{
    (void)sig;
    if (g_srv)
        uniws__echo_stop(g_srv);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: uniws-bench-server [--port N] [--tls [--cert FILE --key FILE]]\n\n"
               "A fast single-threaded WebSocket echo server for benchmarks, on 127.0.0.1.\n"
               "Clients that send \"RAWECHO\\n\" first get a plain TCP echo instead.\n\n"
               "  --port N           port to listen on (default 0: any free port)\n"
               "  --tls              serve TLS (wss://; the raw echo over TLS too), with a\n"
               "                     self-signed certificate for 127.0.0.1 made at start\n"
               "                     (its file, the CA to verify with, is printed: ca FILE)\n"
               "  --cert FILE        with --tls: PEM certificate (chain) to use instead\n"
               "  --key FILE         with --tls: its PEM private key\n"
               "  --corrupt-every N  flip a payload byte in every Nth data frame (tests the\n"
               "                     benchmark's echo checks; never use for measurements)\n");
}

int main(int argc, char **argv)
{
    uniws__echo_opts o = {0};
    int tls = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--tls") == 0) {
            tls = 1;
            continue;
        }
        const char **sdst = strcmp(argv[i], "--cert") == 0  ? &o.tls_cert
                            : strcmp(argv[i], "--key") == 0 ? &o.tls_key
                                                            : NULL;
        if (sdst && i + 1 < argc) {
            *sdst = argv[++i];
            continue;
        }
        int *dst = strcmp(argv[i], "--port") == 0            ? &o.port
                   : strcmp(argv[i], "--corrupt-every") == 0 ? &o.corrupt_every
                                                             : NULL;
        char *end;
        if (!dst || i + 1 >= argc) {
            usage(stderr);
            return 1;
        }
        long v = strtol(argv[++i], &end, 10);
        if (*end || v < 0 || v > 65535) {
            usage(stderr);
            return 1;
        }
        *dst = (int)v;
    }
    /* Room for the connection-scale runs. */
    struct rlimit rl, want = {65536, 65536};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        (rl.rlim_max >= want.rlim_max || setrlimit(RLIMIT_NOFILE, &want) != 0)) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    if ((!tls && (o.tls_cert || o.tls_key)) || !o.tls_cert != !o.tls_key) {
        usage(stderr);
        return 1;
    }
    char dir[] = "/tmp/uniws-bench-XXXXXX", certf[64] = "", keyf[64] = "";
    if (tls && !o.tls_cert) {
        char err[256];
        if (!mkdtemp(dir)) {
            perror("uniws-bench-server: mkdtemp");
            return 2;
        }
        snprintf(certf, sizeof certf, "%s/cert.pem", dir);
        snprintf(keyf, sizeof keyf, "%s/key.pem", dir);
        if (uniws__bench_make_cert(certf, keyf, err, sizeof err) != 0) {
            fprintf(stderr, "uniws-bench-server: test certificate: %s\n", err);
            unlink(certf);
            unlink(keyf);
            rmdir(dir);
            return 2;
        }
        o.tls_cert = certf;
        o.tls_key = keyf;
    }
    int made = certf[0] != 0;
    if (uniws__echo_new(&o, &g_srv) != 0) {
        perror("uniws-bench-server: listen");
        if (made) {
            unlink(certf);
            unlink(keyf);
            rmdir(dir);
        }
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("listening on %s://127.0.0.1:%d/\n", tls ? "wss" : "ws", uniws__echo_port(g_srv));
    if (tls)
        printf("ca %s\n", o.tls_cert);
    printf("port %d\n", uniws__echo_port(g_srv));
    fflush(stdout);
    int r = uniws__echo_run(g_srv);
    uniws__echo_free(g_srv);
    if (made) {
        unlink(certf);
        unlink(keyf);
        rmdir(dir);
    }
    return r ? 2 : 0;
}
