/*
 * main.c — the `uniws` command: picks the subcommand, prints the overview
 * help and the version. Each subcommand lives in its own file.
 */
#include "cli.h"
#ifndef UNIWS_CLI_NO_BENCH
#include "bench.h"
#endif

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"connect", uniws__cli_connect,
     "talk to a WebSocket server: stdin lines out, messages to stdout"},
    {"serve", uniws__cli_serve, "run the local scripted echo server (also serves static files)"},
    {"backends", uniws__cli_backends, "list the compiled backends and their capabilities"},
    {"demo", uniws__cli_demo, "run the same exchange on every backend against a local server"},
    {"autobahn", uniws__cli_autobahn, "act as an Autobahn|Testsuite client (fuzzingserver driver)"},
#ifndef UNIWS_CLI_NO_BENCH /* Windows: the bench echo server is POSIX (docs/platforms.md) */
    {"bench", uniws__bench_main, "echo benchmark: throughput, latency, connection scale"},
#endif
};

#define NUM_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *f)
{
    size_t i;

    fprintf(f, "uniws %s - one WebSocket client API, many backends\n\n", UNIWS_VERSION_STRING);
    fprintf(f, "Usage: uniws COMMAND [OPTIONS]\n\nCommands:\n");
    for (i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "help", "show this help, or a command's help (uniws help connect)");
    fprintf(f, "\nOptions:\n"
               "  -h, --help     show this help\n"
               "  -V, --version  show the version and the compiled backends\n"
               "\nExit status (every command):\n"
               "  0  success (connect: closed cleanly)\n"
               "  1  usage error, unknown backend, or an option the backend cannot honour\n"
               "  2  could not connect / could not start\n"
               "  3  closed uncleanly or with an unexpected code, or a check failed\n"
               "\nEnvironment:\n"
               "  UNIWS_BACKEND  backend used when --backend is not given\n"
               "\nStart with:  uniws demo\n");
}

static void print_version(void)
{
    size_t i, n = uniws_backend_count();

    printf("uniws %s\nbackends:", UNIWS_VERSION_STRING);
    for (i = 0; i < n; i++) {
        uniws_backend_info info;
        if (uniws_backend_get(i, &info) == 0)
            printf("%s %s %s", i ? "," : "", info.name, info.version ? info.version : "");
    }
    printf("\n");
}

static const command *find_command(const char *name)
{
    size_t i;
    for (i = 0; i < NUM_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const command *cmd;

    if (argc < 2) {
        print_help(stderr);
        return UNIWS__CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        print_help(stdout);
        return UNIWS__CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0 ||
        strcmp(argv[1], "version") == 0) {
        print_version();
        return UNIWS__CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        char help_flag[] = "--help";
        char *sub[3];
        if (argc < 3) {
            print_help(stdout);
            return UNIWS__CLI_EXIT_OK;
        }
        cmd = find_command(argv[2]);
        if (!cmd) {
            fprintf(stderr, "uniws: unknown command '%s'; see 'uniws --help'.\n", argv[2]);
            return UNIWS__CLI_EXIT_USAGE;
        }
        sub[0] = argv[2];
        sub[1] = help_flag;
        sub[2] = NULL;
        return cmd->run(2, sub);
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "uniws: unknown command '%s'; see 'uniws --help'.\n", argv[1]);
        return UNIWS__CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
