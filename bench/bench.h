/*
 * bench.h — the `uniws bench` subcommand: an echo benchmark of the uniws API
 * on any backend, against a given server or an in-process one.
 */
#ifndef UNIWS_BENCH_BENCH_H
#define UNIWS_BENCH_BENCH_H

/* argv[0] is "bench". Returns an exit status: 0 ok, 1 usage, 2 could not
 * connect / lost / timed out, 3 an echo did not match. */
int uniws__bench_main(int argc, char **argv);

#include <stdint.h>
#include "uniws/uniws.h"
#include "workload.h"
/* stream.c: the --stream workload (messages of `size` bytes sent and received
 * in parts). Returns 0 (printed the result) or a UNIWS_E* code. */
int uniws__bench_stream(const uniws__bench_cfg *cfg, uniws_loop *loop, const uniws_options *base,
                        uint64_t size);

#endif
