/*
 * matrix.c — `uniws-conformance-matrix`: merges the result files of any
 * number of conformance runs (native backends, and later WebAssembly runs
 * in Node.js or Chromium: each file names its backend) into
 * conformance-matrix.json (every case x backend) and conformance-matrix.md
 * (a table for people).
 *
 *   uniws-conformance-matrix --json OUT.json --md OUT.md [--dir DIR] [FILE...]
 *
 * --dir adds every conformance-*.json in DIR (the matrix itself excluded).
 * Exits 1 when a named file is missing or unreadable (the matrix is still
 * written from the others), 2 on usage errors.
 */
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct column {
    char *source;
    json *doc;
    const char *backend;
} column;

typedef struct row {
    const char *name, *item, *what;
} row;

typedef struct matrix {
    column *cols;
    size_t ncols, capcols;
    row *rows;
    size_t nrows, caprows;
    int problems;
} matrix;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int has_backend(const matrix *m, const char *name)
{
    for (size_t i = 0; i < m->ncols; i++)
        if (!strcmp(m->cols[i].backend, name))
            return 1;
    return 0;
}

static void add_file(matrix *m, const char *path, int named)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "conformance-matrix: cannot read %s: %s\n", path, strerror(errno));
        m->problems += named;
        return;
    }
    char err[128];
    json *doc = json_parse(text, len, err, sizeof err);
    free(text);
    const char *backend = json_str(json_get(doc, "backend"), NULL);
    const json *cases = json_get(doc, "cases");
    if (!doc || !backend || !cases || cases->type != JSON_ARRAY) {
        fprintf(stderr, "conformance-matrix: %s: %s\n", path,
                doc ? "not a conformance result (backend, cases)" : err);
        json_free(doc);
        m->problems++;
        return;
    }
    if (has_backend(m, backend)) {
        if (named)
            fprintf(stderr, "conformance-matrix: %s: backend %s already merged; skipped\n", path,
                    backend);
        json_free(doc);
        return;
    }
    if (m->ncols == m->capcols) {
        m->capcols = m->capcols ? m->capcols * 2 : 8;
        m->cols = realloc(m->cols, m->capcols * sizeof *m->cols);
        if (!m->cols) {
            fprintf(stderr, "conformance-matrix: out of memory\n");
            exit(2);
        }
    }
    column *c = &m->cols[m->ncols++];
    c->source = strdup(path);
    c->doc = doc;
    c->backend = backend;
    for (size_t i = 0; i < cases->n; i++) {
        const json *k = &cases->items[i];
        const char *name = json_str(json_get(k, "name"), NULL);
        if (!name)
            continue;
        size_t r = 0;
        while (r < m->nrows && strcmp(m->rows[r].name, name) != 0)
            r++;
        if (r < m->nrows)
            continue;
        if (m->nrows == m->caprows) {
            m->caprows = m->caprows ? m->caprows * 2 : 256;
            m->rows = realloc(m->rows, m->caprows * sizeof *m->rows);
            if (!m->rows) {
                fprintf(stderr, "conformance-matrix: out of memory\n");
                exit(2);
            }
        }
        m->rows[m->nrows].name = name;
        m->rows[m->nrows].item = json_str(json_get(k, "item"), "");
        m->rows[m->nrows].what = json_str(json_get(k, "what"), "");
        m->nrows++;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_dir(matrix *m, const char *dir, const char *skip1, const char *skip2)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "conformance-matrix: cannot open %s: %s\n", dir, strerror(errno));
        m->problems++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "conformance-", 12) != 0 || len < 17 ||
            strcmp(e->d_name + len - 5, ".json") != 0 ||
            !strcmp(e->d_name, "conformance-matrix.json"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if ((!skip1 || strcmp(path, skip1) != 0) && (!skip2 || strcmp(path, skip2) != 0))
            add_file(m, path, 0);
        free(names[i]);
    }
    free(names);
}

/* The result object of case `name` in column c, or NULL when not run. */
static const json *find_case(const column *c, const char *name)
{
    const json *cases = json_get(c->doc, "cases");
    for (size_t i = 0; i < cases->n; i++)
        if (!strcmp(json_str(json_get(&cases->items[i], "name"), ""), name))
            return &cases->items[i];
    return NULL;
}

/* Counted from the cases, so every runner's file is summarised alike. */
static double count_status(const column *c, const char *status)
{
    const json *cases = json_get(c->doc, "cases");
    double n = 0;
    for (size_t i = 0; i < cases->n; i++) {
        const char *st = json_str(json_get(&cases->items[i], "status"), "fail");
        int known = !strcmp(st, "pass") || !strcmp(st, "unsupported") || !strcmp(st, "limitation");
        if (!strcmp(st, status) || (!known && !strcmp(status, "fail")))
            n++;
    }
    return n;
}

static void iso_time(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_json(const matrix *m, const char *path, const char *when)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "conformance-matrix: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("{\n  \"generated\": ", f);
    json_write_string(f, when);
    fputs(",\n  \"backends\": [", f);
    static const char *const nums[] = {"passed", "failed", "unsupported", "limitation"};
    static const char *const stat[] = {"pass", "fail", "unsupported", "limitation"};
    for (size_t i = 0; i < m->ncols; i++) {
        const column *c = &m->cols[i];
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        json_write_string(f, c->backend);
        static const char *const strs[] = {"version", "caps", "runner", "generated"};
        for (size_t k = 0; k < 4; k++) {
            fprintf(f, ", \"%s\": ", strs[k]);
            json_write_string(f, json_str(json_get(c->doc, strs[k]), ""));
        }
        for (size_t k = 0; k < 4; k++)
            fprintf(f, ", \"%s\": %.0f", nums[k], count_status(c, stat[k]));
        fputs(", \"source\": ", f);
        json_write_string(f, c->source);
        fputc('}', f);
    }
    fputs("\n  ],\n  \"cases\": [", f);
    for (size_t r = 0; r < m->nrows; r++) {
        const row *rw = &m->rows[r];
        fputs(r ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        json_write_string(f, rw->name);
        fputs(", \"item\": ", f);
        json_write_string(f, rw->item);
        fputs(", \"what\": ", f);
        json_write_string(f, rw->what);
        fputs(", \"results\": {", f);
        for (size_t i = 0; i < m->ncols; i++) {
            const json *k = find_case(&m->cols[i], rw->name);
            fputs(i ? ", " : "", f);
            json_write_string(f, m->cols[i].backend);
            fputs(": {\"status\": ", f);
            json_write_string(f, k ? json_str(json_get(k, "status"), "fail") : "not-run");
            fputs(", \"detail\": ", f);
            json_write_string(f, k ? json_str(json_get(k, "detail"), "") : "");
            fputc('}', f);
        }
        fputs("}}", f);
    }
    fputs("\n  ]\n}\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "conformance-matrix: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* Table cells must stay on one line and must not end the cell early. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

/* "needs UNIWS_CAP_PING, UNIWS_CAP_WSS" -> "PING, WSS". */
static void md_caps(FILE *f, const char *detail)
{
    if (strncmp(detail, "needs ", 6) != 0) {
        fputs("see below", f);
        return;
    }
    for (const char *s = detail + 6; *s;) {
        if (!strncmp(s, "UNIWS_CAP_", 10)) {
            s += 10;
            continue;
        }
        fputc(*s++, f);
    }
}

static int write_md(const matrix *m, const char *path, const char *when)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "conformance-matrix: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# uniws conformance matrix\n\nGenerated %s from %zu result file%s. "
            "Legend: ✅ pass · ❌ fail · ➖ unsupported (missing capability) · "
            "⚠️ limitation (library version: reason) · blank: not run.\n\n",
            when, m->ncols, m->ncols == 1 ? "" : "s");
    fputs("## Summary\n\n", f);
    for (size_t i = 0; i < m->ncols; i++) {
        const json *d = m->cols[i].doc;
        double u = count_status(&m->cols[i], "unsupported"),
               l = count_status(&m->cols[i], "limitation");
        fprintf(f,
                "- **%s** %s (%s): %.0f passed, %.0f failed, %.0f skipped "
                "(%.0f unsupported, %.0f limitations); capabilities: %s\n",
                m->cols[i].backend, json_str(json_get(d, "version"), "?"),
                json_str(json_get(d, "runner"), "?"), count_status(&m->cols[i], "pass"),
                count_status(&m->cols[i], "fail"), u + l, u, l, json_str(json_get(d, "caps"), "?"));
    }
    fputs("\n## Cases\n\n| case | item | what |", f);
    for (size_t i = 0; i < m->ncols; i++) {
        fputc(' ', f);
        md_text(f, m->cols[i].backend);
        fputs(" |", f);
    }
    fputs("\n|---|---|---|", f);
    for (size_t i = 0; i < m->ncols; i++)
        fputs(":-:|", f);
    fputc('\n', f);
    for (size_t r = 0; r < m->nrows; r++) {
        const row *rw = &m->rows[r];
        fprintf(f, "| `%s` | %s | ", rw->name, rw->item);
        md_text(f, rw->what);
        fputs(" |", f);
        for (size_t i = 0; i < m->ncols; i++) {
            const json *k = find_case(&m->cols[i], rw->name);
            const char *st = k ? json_str(json_get(k, "status"), "fail") : "";
            const char *detail = k ? json_str(json_get(k, "detail"), "") : "";
            fputc(' ', f);
            if (!k)
                fputs(" ", f);
            else if (!strcmp(st, "pass"))
                fputs("✅", f);
            else if (!strcmp(st, "unsupported")) {
                fputs("➖ ", f);
                md_caps(f, detail);
            } else if (!strcmp(st, "limitation")) {
                fputs("⚠️ ", f);
                md_text(f, detail);
            } else
                fputs("❌", f);
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    static const char *const sections[] = {"fail", "limitation", "unsupported"};
    static const char *const titles[] = {"Failures", "Limitations", "Unsupported, other reasons"};
    for (size_t s = 0; s < 3; s++) {
        int any = 0;
        for (size_t r = 0; r < m->nrows; r++) {
            for (size_t i = 0; i < m->ncols; i++) {
                const json *k = find_case(&m->cols[i], m->rows[r].name);
                if (!k)
                    continue;
                const char *st = json_str(json_get(k, "status"), "fail");
                const char *detail = json_str(json_get(k, "detail"), "");
                int hit = !strcmp(st, sections[s]) ||
                          (s == 0 && strcmp(st, "pass") && strcmp(st, "limitation") &&
                           strcmp(st, "unsupported"));
                if (!hit || (s == 2 && !strncmp(detail, "needs ", 6)))
                    continue;
                if (!any)
                    fprintf(f, "\n## %s\n\n", titles[s]);
                any = 1;
                fprintf(f, "- **%s** `%s`: ", m->cols[i].backend, m->rows[r].name);
                md_text(f, detail[0] ? detail : "(no detail)");
                fputc('\n', f);
            }
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "conformance-matrix: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *out_json = NULL, *out_md = NULL, *dir = NULL;
    matrix m;
    memset(&m, 0, sizeof m);
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            out_json = argv[++i];
        else if (!strcmp(argv[i], "--md") && i + 1 < argc)
            out_md = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: uniws-conformance-matrix --json OUT.json --md OUT.md "
                            "[--dir DIR] [FILE...]\n");
            return 2;
        } else
            files[nfiles++] = argv[i];
    }
    if (!out_json || !out_md) {
        fprintf(stderr, "usage: uniws-conformance-matrix --json OUT.json --md OUT.md "
                        "[--dir DIR] [FILE...]\n");
        return 2;
    }
    for (size_t i = 0; i < nfiles; i++)
        add_file(&m, files[i], 1);
    if (dir)
        add_dir(&m, dir, out_json, out_md);
    char when[32];
    iso_time(when, sizeof when);
    int rc = write_json(&m, out_json, when) | write_md(&m, out_md, when);
    size_t failed = 0;
    for (size_t i = 0; i < m.ncols; i++)
        failed += (size_t)count_status(&m.cols[i], "fail");
    printf("conformance matrix: %zu cases x %zu backends, %zu failures -> %s, %s\n", m.nrows,
           m.ncols, failed, out_json, out_md);
    for (size_t i = 0; i < m.ncols; i++) {
        json_free(m.cols[i].doc);
        free(m.cols[i].source);
    }
    free(m.cols);
    free(m.rows);
    free(files);
    if (rc)
        return 2;
    return m.problems ? 1 : 0;
}
