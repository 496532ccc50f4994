/*
 * json.c — a small recursive-descent JSON reader and a string writer for the
 * conformance runner and matrix merger (see json.h).
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *start, *p, *end;
    char *err;
    size_t errsize;
    int depth;
} parser;

static int perr(parser *ps, const char *what)
{
    if (ps->err && ps->errsize && !ps->err[0])
        snprintf(ps->err, ps->errsize, "%s at offset %ld", what, (long)(ps->p - ps->start));
    return -1;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int parse_value(parser *ps, json *out);

static int hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return perr(ps, "short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = *ps->p++;
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return perr(ps, "bad \\u escape");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* ps->p is just after the opening quote. */
static int parse_string(parser *ps, char **out)
{
    /* Escapes never grow the text, so the raw length bounds the output. */
    const char *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= ps->end)
        return perr(ps, "unterminated string");
    char *s = malloc((size_t)(q - ps->p) + 1);
    if (!s)
        return perr(ps, "out of memory");
    size_t n = 0;
    while (*ps->p != '"') {
        char ch = *ps->p++;
        if ((unsigned char)ch < 0x20) {
            free(s);
            return perr(ps, "control character in string");
        }
        if (ch != '\\') {
            s[n++] = ch;
            continue;
        }
        ch = *ps->p++;
        switch (ch) {
        case '"':
        case '\\':
        case '/':
            s[n++] = ch;
            break;
        case 'b':
            s[n++] = '\b';
            break;
        case 'f':
            s[n++] = '\f';
            break;
        case 'n':
            s[n++] = '\n';
            break;
        case 'r':
            s[n++] = '\r';
            break;
        case 't':
            s[n++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(ps, &cp) < 0) {
                free(s);
                return -1;
            }
            if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                ps->p += 2;
                if (hex4(ps, &lo) < 0) {
                    free(s);
                    return -1;
                }
                if (lo >= 0xdc00 && lo < 0xe000)
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                else
                    cp = 0xfffd;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd;
            }
            n += put_utf8(s + n, cp);
            break;
        }
        default:
            free(s);
            return perr(ps, "bad escape");
        }
    }
    ps->p++;
    s[n] = 0;
    *out = s;
    return 0;
}

static int push(json **items, char ***keys, size_t *n, size_t *cap, int with_keys)
{
    if (*n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    json *ni = realloc(*items, c * sizeof *ni);
    if (!ni)
        return -1;
    *items = ni;
    if (with_keys) {
        char **nk = realloc(*keys, c * sizeof *nk);
        if (!nk)
            return -1;
        *keys = nk;
    }
    *cap = c;
    return 0;
}

static int parse_container(parser *ps, json *out, int object)
{
    size_t cap = 0;
    out->type = object ? JSON_OBJECT : JSON_ARRAY;
    char close = object ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (push(&out->items, &out->keys, &out->n, &cap, object) < 0)
            return perr(ps, "out of memory");
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return perr(ps, "expected a key");
            ps->p++;
            if (parse_string(ps, &key) < 0)
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                return perr(ps, "expected ':'");
            }
            ps->p++;
        }
        json *v = &out->items[out->n];
        memset(v, 0, sizeof *v);
        if (object)
            out->keys[out->n] = key;
        out->n++;
        if (parse_value(ps, v) < 0)
            return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        return perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return perr(ps, "unexpected token");
    ps->p += n;
    return 0;
}

static int parse_value(parser *ps, json *out)
{
    if (++ps->depth > 64)
        return perr(ps, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, "unexpected end");
    int rc = 0;
    char ch = *ps->p;
    if (ch == '{' || ch == '[') {
        ps->p++;
        rc = parse_container(ps, out, ch == '{');
    } else if (ch == '"') {
        ps->p++;
        out->type = JSON_STRING;
        rc = parse_string(ps, &out->string);
    } else if (ch == 't') {
        out->type = JSON_BOOL;
        out->boolean = 1;
        rc = literal(ps, "true");
    } else if (ch == 'f') {
        out->type = JSON_BOOL;
        rc = literal(ps, "false");
    } else if (ch == 'n') {
        out->type = JSON_NULL;
        rc = literal(ps, "null");
    } else {
        char buf[64];
        size_t n = 0;
        while (ps->p + n < ps->end && n < sizeof buf - 1 && strchr("+-0123456789.eE", ps->p[n]))
            n++;
        if (!n)
            return perr(ps, "unexpected character");
        memcpy(buf, ps->p, n);
        buf[n] = 0;
        char *endp = NULL;
        out->type = JSON_NUMBER;
        out->number = strtod(buf, &endp);
        if (!endp || *endp)
            return perr(ps, "bad number");
        ps->p += n;
    }
    ps->depth--;
    return rc;
}

json *json_parse(const char *text, size_t len, char *err, size_t errsize)
{
    if (err && errsize)
        err[0] = 0;
    parser ps = {text, text, text + len, err, errsize, 0};
    json *v = calloc(1, sizeof *v);
    if (!v) {
        perr(&ps, "out of memory");
        return NULL;
    }
    if (parse_value(&ps, v) < 0) {
        json_free(v);
        return NULL;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        perr(&ps, "trailing data");
        json_free(v);
        return NULL;
    }
    return v;
}

static void free_inner(json *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free_inner(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

void json_free(json *v)
{
    if (!v)
        return;
    free_inner(v);
    free(v);
}

const json *json_get(const json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i] && !strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

const char *json_str(const json *v, const char *fallback)
{
    return v && v->type == JSON_STRING ? v->string : fallback;
}

double json_num(const json *v, double fallback)
{
    return v && v->type == JSON_NUMBER ? v->number : fallback;
}

/* Length of the valid UTF-8 sequence at s (0 when invalid). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void json_write_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            p++;
        } else if (c == '\n') {
            fputs("\\n", f);
            p++;
        } else if (c == '\t') {
            fputs("\\t", f);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            p++;
        } else {
            size_t n = utf8_seq(p);
            if (!n) {
                fputs("\\ufffd", f);
                p++;
            } else {
                fwrite(p, 1, n, f);
                p += n;
            }
        }
    }
    fputc('"', f);
}
