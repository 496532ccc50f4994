/*
 * test_rtt_pct.c — checks uniws__bench_rtt_pct() (report.c) against a sorted
 * copy: random, sorted, reversed, constant and few-valued samples of many
 * sizes, every percentile the bench prints and the ends. Exits 1 on the first
 * mismatch.
 */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

/* Fills v[0..n) in one of five shapes. */
static void fill(uint32_t *v, size_t n, int shape, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++) {
        switch (shape) {
        case 0:
            v[i] = next_rand(seed);
            break;
        case 1:
            v[i] = (uint32_t)i;
            break;
        case 2:
            v[i] = (uint32_t)(n - i);
            break;
        case 3:
            v[i] = 7;
            break;
        default:
            v[i] = next_rand(seed) % 3;
            break;
        }
    }
}

int main(void)
{
    static const double pcts[] = {0, 1, 50, 90, 99, 99.9, 100};
    static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 16, 97, 1000, 4096, 100003};
    uint64_t seed = 42;
    int checks = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        uint32_t *ref = malloc(n * sizeof *ref);
        uniws__bench_rtt r;
        if (!ref || uniws__bench_rtt_init(&r, 1, (long)n) != 0) {
            fprintf(stderr, "test_rtt_pct: out of memory\n");
            return 1;
        }
        for (int shape = 0; shape < 5; shape++) {
            for (size_t pi = 0; pi < sizeof pcts / sizeof *pcts; pi++) {
                fill(r.rtt_ns, n, shape, &seed);
                r.n = n;
                memcpy(ref, r.rtt_ns, n * sizeof *ref);
                qsort(ref, n, sizeof *ref, cmp_u32);
                size_t i = (size_t)(pcts[pi] / 100.0 * (double)(n - 1) + 0.5);
                double want = (i < n ? ref[i] : ref[n - 1]) / 1000.0;
                double got = uniws__bench_rtt_pct(&r, pcts[pi]);
                if (got != want) {
                    fprintf(stderr, "test_rtt_pct: n %zu shape %d p%g: got %.3f, want %.3f\n", n,
                            shape, pcts[pi], got, want);
                    return 1;
                }
                /* Reordered, never changed: the same samples remain. */
                qsort(r.rtt_ns, n, sizeof *r.rtt_ns, cmp_u32);
                if (memcmp(r.rtt_ns, ref, n * sizeof *ref) != 0) {
                    fprintf(stderr, "test_rtt_pct: n %zu shape %d: samples changed\n", n, shape);
                    return 1;
                }
                checks++;
            }
        }
        uniws__bench_rtt_free(&r);
        free(ref);
    }
    uniws__bench_rtt e;
    if (uniws__bench_rtt_init(&e, 1, 1) != 0 || uniws__bench_rtt_pct(&e, 50) != 0) {
        fprintf(stderr, "test_rtt_pct: no samples must give 0\n");
        return 1;
    }
    uniws__bench_rtt_free(&e);
    printf("test_rtt_pct: %d percentiles match a sorted copy\n", checks);
    return 0;
}
