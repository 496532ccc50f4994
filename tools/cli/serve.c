/*
 * serve.c — `uniws serve`: runs the scripted echo server (tools/server) in
 * the foreground until Ctrl-C, for trying clients by hand and for the web
 * build's pages (--static).
 */
#include "cli.h"
#include "tools/server/server.h"

#include <string.h>

static const char help_text[] =
    "Usage: uniws serve [OPTIONS]\n"
    "\n"
    "Runs a local WebSocket server in the foreground until Ctrl-C. It prints\n"
    "'listening on ws://HOST:PORT' first. Paths pick the behaviour:\n"
    "  /  or /echo        echo every message with its type; answer close with the\n"
    "                     same code and reason\n"
    "  /script/CMD/...    scripted replies, e.g. /script/text:hello/close:4000:bye\n"
    "                     (the command list is in docs/peer.md)\n"
    "  other plain GETs   files from --static DIR, else 404\n"
    "\n"
    "Options:\n"
    "      --port N           port to listen on (default 0: pick a free one)\n"
    "      --host H           address to bind (default 127.0.0.1)\n"
    "      --static DIR       serve the files in DIR to plain HTTP GETs\n"
    "      --tls-cert FILE    PEM certificate: serve wss:// and https:// (needs --tls-key)\n"
    "      --tls-key FILE     PEM private key for --tls-cert\n"
    "      --tls-client-ca FILE  with --tls-cert: require a client certificate\n"
    "                         signed by this PEM CA (mutual TLS)\n"
    "  -v, --verbose          log every connection to stderr\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 usage error, 2 could not listen or bad\n"
    "certificate files.\n";

int uniws__cli_serve(int argc, char **argv)
{
    uniws__cli_args a;
    uniws__server_options o;
    const char *v;
    long port;
    int rc;

    memset(&o, 0, sizeof(o));
    uniws__cli_args_init(&a, argc, argv);
    while (!a.failed && uniws__cli_args_next(&a)) {
        if (uniws__cli_is_help(&a)) {
            fputs(help_text, stdout);
            return UNIWS__CLI_EXIT_OK;
        } else if (uniws__cli_value(&a, "--port", &v)) {
            if (v && uniws__cli_parse_long(v, 0, 65535, &port) != 0) {
                uniws__cli_usage_error("serve", "--port must be 0-65535");
                a.failed = 1;
            } else if (v) {
                o.port = (int)port;
            }
        } else if (uniws__cli_value(&a, "--host", &v)) {
            o.host = v;
        } else if (uniws__cli_value(&a, "--static", &v)) {
            o.static_dir = v;
        } else if (uniws__cli_value(&a, "--tls-cert", &v)) {
            o.tls_cert = v;
        } else if (uniws__cli_value(&a, "--tls-key", &v)) {
            o.tls_key = v;
        } else if (uniws__cli_value(&a, "--tls-client-ca", &v)) {
            o.tls_client_ca = v;
        } else if (uniws__cli_flag(&a, "-v") || uniws__cli_flag(&a, "--verbose")) {
            o.verbose = 1;
        } else {
            uniws__cli_unknown(&a);
        }
    }
    if (a.failed)
        return UNIWS__CLI_EXIT_USAGE;
    if (!o.tls_cert != !o.tls_key)
        return uniws__cli_usage_error("serve", "--tls-cert and --tls-key go together");
    if (o.tls_client_ca && !o.tls_cert)
        return uniws__cli_usage_error("serve", "--tls-client-ca needs --tls-cert");
    if (o.tls_cert && !uniws__server_tls_available())
        return uniws__cli_usage_error("serve",
                                      "--tls-cert: this build's server has no TLS (the "
                                      "Windows cross build has no OpenSSL); serve ws:// only");

    rc = uniws__server_run(&o);
    if (rc < 0) {
        uniws__cli_error("serve", "cannot serve on %s:%d: %s: %s", o.host ? o.host : "127.0.0.1",
                         o.port, uniws_err_name(rc), uniws_strerror(rc));
        return UNIWS__CLI_EXIT_FAILED;
    }
    return UNIWS__CLI_EXIT_OK;
}
