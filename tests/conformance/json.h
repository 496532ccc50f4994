/*
 * json.h — the little JSON the conformance tools need: writing escaped
 * strings (the runner) and reading result files into a tree (the matrix
 * merger, which must also read files written by other runners, e.g. the
 * WebAssembly ones). No dependency beyond libc, so tests need no Python.
 */
#ifndef UNIWS_CONFORMANCE_JSON_H
#define UNIWS_CONFORMANCE_JSON_H

#include <stddef.h>
#include <stdio.h>

typedef enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json json;
struct json {
    json_type type;
    int boolean;
    double number;
    char *string; /* JSON_STRING: UTF-8, NUL-terminated */
    json *items;  /* JSON_ARRAY / JSON_OBJECT: n values */
    char **keys;  /* JSON_OBJECT: n keys */
    size_t n;
};

/* Parses text[0..len). Returns a tree to free with json_free(), or NULL with
 * a message in err. */
json *json_parse(const char *text, size_t len, char *err, size_t errsize);
void json_free(json *v);
/* The value of key in an object, or NULL. */
const json *json_get(const json *obj, const char *key);
/* The string value, or fallback when v is not a string. */
const char *json_str(const json *v, const char *fallback);
/* The number value, or fallback. */
double json_num(const json *v, double fallback);
/* Writes s as a quoted JSON string; bytes that are not UTF-8 become U+FFFD. */
void json_write_string(FILE *f, const char *s);

#endif
