/*
 * bench_main.c — `uniws-bench`: the `uniws bench` subcommand as a program of
 * its own, so the benchmark script and the smoke test do not depend on the
 * CLI's dispatcher.
 */
#include "bench.h"

int main(int argc, char **argv)
{
    static char name[] = "uniws-bench";
    argv[0] = name;
    return uniws__bench_main(argc, argv);
}
