/*
 * driver.c — a small stand-in for libFuzzer's main(), so every fuzz target
 * builds with any compiler (gcc, no -fsanitize=fuzzer) and runs under ctest
 * deterministically: the seed corpus first, then generated inputs (random
 * bytes, and corpus entries mutated and spliced, dictionary tokens inserted)
 * from a fixed-seed generator, bounded by a count and a wall-clock budget.
 * There is no coverage feedback; it is a smoke test that reproduces what the
 * corpus holds and shakes the parsers a little on every build. For real
 * fuzzing build the targets with libFuzzer (fuzz/README.md).
 *
 * Flags follow libFuzzer's spelling: -runs=N -max_total_time=S -seed=N
 * -max_len=N -dict=FILE -timeout=S -artifact_prefix=P; other arguments are
 * corpus directories, or files to run once each (reproducing a crash).
 * A crash, failed property or hang writes the input to <prefix>crash-<n> or
 * <prefix>timeout-<n> and prints it in hex.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

/* Present when linked with ASan/UBSan: lets a sanitizer report save the input
 * too (sanitizers exit through their own path, not through a signal). */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

typedef struct blobs {
    blob *v;
    size_t n, cap;
} blobs;

/* ---- state the crash handlers read ------------------------------------------ */

static const uint8_t *volatile g_cur;
static volatile size_t g_cur_len;
static volatile unsigned long long g_iter;
static volatile int64_t g_unit_start_ms; /* 0 when no input is running */
static int64_t g_timeout_ms = 10000;
static char g_prefix[512] = "";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only async-signal-safe calls from here on to the end of dump_input(). */
static void put_str(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void put_num(unsigned long long v, char *buf)
{
    char t[24];
    int i = 0;
    do {
        t[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        *buf++ = t[--i];
    *buf = 0;
}

static void dump_input(const char *kind)
{
    static volatile sig_atomic_t dumped;
    if (dumped)
        return;
    dumped = 1;
    const uint8_t *p = g_cur;
    size_t n = g_cur_len;
    char num[24], path[600];
    put_num(g_iter, num);
    size_t pl = strlen(g_prefix), kl = strlen(kind), nl = strlen(num);
    if (pl + kl + 1 + nl + 1 > sizeof path)
        pl = 0;
    memcpy(path, g_prefix, pl);
    memcpy(path + pl, kind, kl);
    path[pl + kl] = '-';
    memcpy(path + pl + kl + 1, num, nl + 1);
    put_str("\nfuzz driver: ");
    put_str(kind);
    put_str(" on input #");
    put_str(num);
    if (!p) {
        put_str(" (no input running)\n");
        return;
    }
    put_num(n, num);
    put_str(" (");
    put_str(num);
    put_str(" bytes): ");
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && i < 512; i++) {
        char h[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        if (write(2, h, 2) < 0)
            break;
    }
    put_str(n > 512 ? "...\n" : "\n");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(fd, p + off, n - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(fd);
        put_str("fuzz driver: input saved to ");
        put_str(path);
        put_str("\n");
    }
}

static void on_fatal_signal(int sig)
{
    dump_input("crash");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_sanitizer_death(void)
{
    dump_input("crash");
}

static void on_alarm(int sig)
{
    (void)sig;
    int64_t start = g_unit_start_ms;
    if (start && now_ms() - start > g_timeout_ms) {
        dump_input("timeout");
        put_str("fuzz driver: one input ran longer than -timeout\n");
        _exit(70);
    }
}

static void install_handlers(void)
{
    static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_sanitizer_death);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{1, 0}, {1, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- inputs ------------------------------------------------------------------- */

static void run_one(const uint8_t *p, size_t n)
{
    /* A private copy of exactly n bytes, so reads past the end are caught by
     * ASan just as under libFuzzer. */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        fprintf(stderr, "fuzz driver: out of memory\n");
        exit(2);
    }
    if (n)
        memcpy(copy, p, n);
    g_cur = copy;
    g_cur_len = n;
    g_unit_start_ms = now_ms();
    LLVMFuzzerTestOneInput(copy, n);
    g_unit_start_ms = 0;
    g_cur = NULL;
    free(copy);
    g_iter++;
}

static void blobs_add(blobs *b, uint8_t *p, size_t n)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        blob *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "fuzz driver: out of memory\n");
            exit(2);
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n].p = p;
    b->v[b->n].n = n;
    b->n++;
}

static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        if (n == cap) {
            uint8_t *np = realloc(p, cap * 2);
            if (!np) {
                free(p);
                p = NULL;
                break;
            }
            p = np;
            cap *= 2;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    if (!p)
        return -1;
    *out = p;
    *out_len = n;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every regular file of dir, in name order (readdir order is not
 * stable, and the run must be). */
static void load_dir(const char *dir, blobs *corpus)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz driver: cannot open %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                exit(2);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        uint8_t *p;
        size_t len;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && read_file(path, &p, &len) == 0)
            blobs_add(corpus, p, len);
        free(names[i]);
    }
    free(names);
}

/* libFuzzer dictionary lines: name="value" or "value", with \\ \" \xNN. */
static void load_dict(const char *path, blobs *dict)
{
    uint8_t *text;
    size_t n;
    if (read_file(path, &text, &n) != 0) {
        fprintf(stderr, "fuzz driver: cannot read dictionary %s\n", path);
        exit(2);
    }
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && text[end] != '\n')
            end++;
        size_t q = i;
        while (q < end && text[q] != '"' && text[q] != '#')
            q++;
        if (q < end && text[q] == '"') {
            uint8_t *tok = malloc(end - q);
            size_t tn = 0;
            int closed = 0;
            for (size_t k = q + 1; tok && k < end; k++) {
                if (text[k] == '"') {
                    closed = 1;
                    break;
                }
                if (text[k] == '\\' && k + 1 < end) {
                    k++;
                    if (text[k] == 'x' && k + 2 < end) {
                        char h[3] = {(char)text[k + 1], (char)text[k + 2], 0};
                        tok[tn++] = (uint8_t)strtoul(h, NULL, 16);
                        k += 2;
                        continue;
                    }
                }
                tok[tn++] = text[k];
            }
            if (tok && closed && tn)
                blobs_add(dict, tok, tn);
            else
                free(tok);
        }
        i = end + 1;
    }
    free(text);
}

/* ---- generation ---------------------------------------------------------------- */

static uint64_t g_rng;

static uint64_t rnd(void)
{
    /* splitmix64: tiny, and good enough to pick mutations */
    uint64_t z = (g_rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* Lengths skewed towards small ones, where most parser edges are. */
static size_t small_len(size_t max)
{
    size_t cap = 1 + below(max);
    return below(1 + below(cap + 1));
}

typedef struct gen {
    uint8_t *p;
    size_t n, cap; /* cap: max_len */
} gen;

static void g_insert(gen *g, size_t at, const uint8_t *src, size_t k)
{
    if (g->n + k > g->cap)
        k = g->cap - g->n;
    if (!k)
        return;
    memmove(g->p + at + k, g->p + at, g->n - at);
    if (src)
        memmove(g->p + at, src, k);
    else
        for (size_t i = 0; i < k; i++)
            g->p[at + i] = (uint8_t)rnd();
    g->n += k;
}

static void g_erase(gen *g, size_t at, size_t k)
{
    memmove(g->p + at, g->p + at + k, g->n - at - k);
    g->n -= k;
}

static void mutate(gen *g, const blobs *corpus, const blobs *dict)
{
    /* Edges of the length forms, signed and unsigned limits, close codes. */
    static const uint64_t interesting[] = {
        0,           1,          2,         0x7e,   0x7f,   0x80,    0xff,       0x100,
        0x7ffe,      0x7fff,     0x8000,    0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000u,
        0xffffffffu, UINT64_MAX, INT64_MAX, 125,    126,    127,     999,        1000,
        1004,        1005,       1006,      1015,   2999,   3000,    4999,       5000};
    switch (below(dict->n ? 13 : 11)) {
    case 0: /* flip a bit */
        if (g->n)
            g->p[below(g->n)] ^= (uint8_t)(1u << below(8));
        break;
    case 1: /* a random byte */
        if (g->n)
            g->p[below(g->n)] = (uint8_t)rnd();
        break;
    case 2: /* nudge a byte */
        if (g->n)
            g->p[below(g->n)] += (uint8_t)(below(33) - 16);
        break;
    case 3: { /* an interesting value, 1/2/4/8 bytes, either byte order */
        size_t w = (size_t)1 << below(4);
        if (g->n < w)
            break;
        uint64_t v = interesting[below(sizeof interesting / sizeof interesting[0])];
        size_t at = below(g->n - w + 1);
        int big = (int)below(2);
        for (size_t i = 0; i < w; i++)
            g->p[at + i] = (uint8_t)(v >> (8 * (big ? w - 1 - i : i)));
        break;
    }
    case 4: /* insert random bytes */
        g_insert(g, below(g->n + 1), NULL, 1 + small_len(16));
        break;
    case 5: /* erase a run */
        if (g->n) {
            size_t at = below(g->n);
            g_erase(g, at, 1 + below(g->n - at < 32 ? g->n - at : 32));
        }
        break;
    case 6: { /* duplicate a run of the input inside itself */
        if (!g->n)
            break;
        size_t at = below(g->n), k = 1 + below(g->n - at);
        uint8_t *tmp = malloc(k);
        if (tmp) {
            memcpy(tmp, g->p + at, k);
            g_insert(g, below(g->n + 1), tmp, k);
            free(tmp);
        }
        break;
    }
    case 7: { /* overwrite a run with another part of the input */
        if (g->n < 2)
            break;
        size_t k = 1 + below(g->n / 2), from = below(g->n - k + 1), to = below(g->n - k + 1);
        memmove(g->p + to, g->p + from, k);
        break;
    }
    case 8: { /* splice: insert a piece of another corpus entry */
        if (!corpus->n)
            break;
        const blob *o = &corpus->v[below(corpus->n)];
        if (!o->n)
            break;
        size_t at = below(o->n), k = 1 + below(o->n - at);
        g_insert(g, below(g->n + 1), o->p + at, k);
        break;
    }
    case 9: /* truncate */
        g->n = below(g->n + 1);
        break;
    case 10: /* swap two bytes */
        if (g->n >= 2) {
            size_t a = below(g->n), b = below(g->n);
            uint8_t t = g->p[a];
            g->p[a] = g->p[b];
            g->p[b] = t;
        }
        break;
    case 11: { /* insert a dictionary token */
        const blob *t = &dict->v[below(dict->n)];
        g_insert(g, below(g->n + 1), t->p, t->n);
        break;
    }
    default: { /* overwrite with a dictionary token */
        const blob *t = &dict->v[below(dict->n)];
        if (t->n <= g->n)
            memcpy(g->p + below(g->n - t->n + 1), t->p, t->n);
        break;
    }
    }
}

/* One new input: random bytes now and then, else a corpus entry (or a recent
 * generated input, so mutations stack over time) with 1..8 mutations. */
static void generate(gen *g, const blobs *corpus, const blobs *recent, const blobs *dict)
{
    uint64_t r = below(16);
    const blob *base = NULL;
    if (r >= 2 && corpus->n && (r >= 6 || !recent->n))
        base = &corpus->v[below(corpus->n)];
    else if (r >= 2 && recent->n)
        base = &recent->v[below(recent->n)];
    if (!base) {
        g->n = small_len(g->cap);
        for (size_t i = 0; i < g->n; i++)
            g->p[i] = (uint8_t)rnd();
        return;
    }
    g->n = base->n < g->cap ? base->n : g->cap;
    memcpy(g->p, base->p, g->n);
    for (size_t k = 1 + below(8); k > 0; k--)
        mutate(g, corpus, dict);
}

/* The seed corpus, then generated inputs until the count or the time is up. */
static void fuzz(const blobs *corpus, const blobs *dict, unsigned long long runs, double max_time,
                 unsigned long long seed, size_t max_len)
{
    blobs recent = {0};
    int64_t t0 = now_ms(), budget = (int64_t)(max_time * 1000);
    for (size_t i = 0; i < corpus->n; i++)
        run_one(corpus->v[i].p, corpus->v[i].n);
    unsigned long long done = 0;
    gen g = {malloc(max_len), 0, max_len};
    if (!g.p) {
        fprintf(stderr, "fuzz driver: out of memory\n");
        exit(2);
    }
    g_rng = seed;
    while (done < runs && now_ms() - t0 < budget) {
        generate(&g, corpus, &recent, dict);
        run_one(g.p, g.n);
        done++;
        /* Keep a few generated inputs as bases: without coverage feedback
         * this is only a random walk, but it lets mutations stack. */
        if (below(8) == 0) {
            uint8_t *keep = malloc(g.n ? g.n : 1);
            if (keep) {
                memcpy(keep, g.p, g.n);
                if (recent.n < 64) {
                    blobs_add(&recent, keep, g.n);
                } else {
                    blob *slot = &recent.v[below(recent.n)];
                    free(slot->p);
                    slot->p = keep;
                    slot->n = g.n;
                }
            }
        }
    }
    fprintf(stderr,
            "fuzz driver: %zu corpus input(s) + %llu generated (seed %llu, max_len %zu) in "
            "%.1f s, no failure\n",
            corpus->n, done, seed, max_len, (double)(now_ms() - t0) / 1000.0);
    free(g.p);
    for (size_t i = 0; i < recent.n; i++)
        free(recent.v[i].p);
    free(recent.v);
}

/* ---- main ------------------------------------------------------------------------ */

static int flag(const char *arg, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
        *val = arg + n + 1;
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long runs = 20000, seed = 1;
    double max_time = 20;
    size_t max_len = 4096;
    blobs corpus = {0}, dict = {0}, files = {0};
    char **file_names = calloc((size_t)argc + 1, sizeof *file_names);
    size_t nfile_names = 0;
    if (!file_names)
        return 2;

    for (int i = 1; i < argc; i++) {
        const char *v;
        struct stat st;
        if (flag(argv[i], "-runs", &v))
            runs = strtoull(v, NULL, 10);
        else if (flag(argv[i], "-max_total_time", &v))
            max_time = strtod(v, NULL);
        else if (flag(argv[i], "-seed", &v))
            seed = strtoull(v, NULL, 10);
        else if (flag(argv[i], "-max_len", &v))
            max_len = (size_t)strtoull(v, NULL, 10);
        else if (flag(argv[i], "-timeout", &v))
            g_timeout_ms = (int64_t)(strtod(v, NULL) * 1000);
        else if (flag(argv[i], "-dict", &v))
            load_dict(v, &dict);
        else if (flag(argv[i], "-artifact_prefix", &v))
            snprintf(g_prefix, sizeof g_prefix, "%s", v);
        else if (argv[i][0] == '-') {
            fprintf(stderr,
                    "usage: %s [-runs=N] [-max_total_time=S] [-seed=N] [-max_len=N] "
                    "[-timeout=S] [-dict=FILE] [-artifact_prefix=P] [corpus dir | input file]...\n",
                    argv[0]);
            return 2;
        } else if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            load_dir(argv[i], &corpus);
        } else {
            uint8_t *p;
            size_t n;
            if (read_file(argv[i], &p, &n) != 0) {
                fprintf(stderr, "fuzz driver: cannot read %s\n", argv[i]);
                return 2;
            }
            blobs_add(&files, p, n);
            file_names[nfile_names++] = argv[i];
        }
    }
    if (!max_len)
        max_len = 1;
    install_handlers();

    if (files.n) {
        /* Reproduce mode, as libFuzzer does with file arguments. */
        for (size_t i = 0; i < files.n; i++) {
            fprintf(stderr, "fuzz driver: running %s (%zu bytes)\n", file_names[i], files.v[i].n);
            run_one(files.v[i].p, files.v[i].n);
        }
        fprintf(stderr, "fuzz driver: %zu input(s) ran without failure\n", files.n);
    } else {
        fuzz(&corpus, &dict, runs, max_time, seed, max_len);
    }

    for (size_t i = 0; i < corpus.n; i++)
        free(corpus.v[i].p);
    for (size_t i = 0; i < dict.n; i++)
        free(dict.v[i].p);
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i].p);
    free(corpus.v);
    free(dict.v);
    free(files.v);
    free(file_names);
    return 0;
}
