/*
 * backends.c — `uniws backends [--json]`: the compiled backends, their
 * versions and capability bits, with the one uniws_connect() would pick
 * marked. The table uses short column titles (explained under it) so it
 * fits a terminal; the JSON form carries the library's own capability names.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help_text[] =
    "Usage: uniws backends [--json]\n"
    "\n"
    "Lists the compiled backends: name, version of the library underneath,\n"
    "whether it is picked automatically ('auto'; loopback is demand only), and\n"
    "one yes/no column per capability. '*' marks the backend used when none is\n"
    "named (UNIWS_BACKEND, then the build default, then the first 'auto' one).\n"
    "A legend under the table names each capability.\n"
    "\n"
    "Options:\n"
    "      --json    print a JSON object instead:\n"
    "                {\"default\": NAME|null, \"backends\": [{\"name\", \"description\",\n"
    "                \"version\", \"auto_select\", \"default\", \"caps\": [NAMES]}]}\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0, or 1 on a usage error. An unknown UNIWS_BACKEND is reported on\n"
    "stderr (nothing is marked default) but is not an error here.\n";

/* Short column titles so the table fits a terminal, and what each means.
 * A new capability bit needs a row here; --json lists every bit under the
 * library's own name (uniws_caps_string). */
static const struct {
    unsigned bit;
    const char *title;
    const char *meaning;
} columns[] = {
    {UNIWS_CAP_WS, "ws", "ws:// URLs"},
    {UNIWS_CAP_WSS, "wss", "wss:// URLs (TLS)"},
    {UNIWS_CAP_CUSTOM_HEADERS, "hdr", "custom handshake headers (--header)"},
    {UNIWS_CAP_PROXY, "proxy", "HTTP / SOCKS proxy (--proxy)"},
    {UNIWS_CAP_TLS_CA_FILE, "ca", "custom CA bundle (--ca)"},
    {UNIWS_CAP_TLS_SKIP_VERIFY, "noverify", "skip certificate verification (--insecure)"},
    {UNIWS_CAP_TLS_CLIENT_CERT, "cert", "TLS client certificate (--cert/--key)"},
    {UNIWS_CAP_PERMESSAGE_DEFLATE, "deflate", "permessage-deflate compression (--deflate)"},
    {UNIWS_CAP_PING, "ping", "uniws_ping()"},
    {UNIWS_CAP_CONNECT_TIMEOUT, "timeout", "connect timeout (--timeout)"},
    {UNIWS_CAP_ANY_CLOSE_CODE, "codes", "every close code reaches the wire"},
    {UNIWS_CAP_NETWORK, "net", "reaches real hosts (not in-process)"},
    {UNIWS_CAP_RAW_FRAMES, "raw", "uniws frames RFC 6455 itself (all protocol checks)"},
    {UNIWS_CAP_PROXY_CA_FILE, "pxca", "CA bundle for an https:// proxy (--proxy-ca)"},
};

#define NUM_COLUMNS  (sizeof(columns) / sizeof(columns[0]))
#define MAX_BACKENDS 32

static void json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_json(const uniws_backend_info *b, size_t n, const char *def)
{
    size_t i;
    unsigned bit;

    printf("{\"platform\": ");
    json_string(uniws_platform());
    printf(", \"default\": ");
    if (def)
        json_string(def);
    else
        printf("null");
    printf(", \"backends\": [");
    for (i = 0; i < n; i++) {
        int first = 1;
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_string(b[i].name);
        printf(", \"description\": ");
        json_string(b[i].description);
        printf(", \"version\": ");
        json_string(b[i].version);
        printf(", \"auto_select\": %s, \"default\": %s, \"caps\": [",
               b[i].auto_select ? "true" : "false",
               def && strcmp(def, b[i].name) == 0 ? "true" : "false");
        for (bit = 1; bit; bit <<= 1) {
            char name[64];
            if (!(b[i].caps & bit))
                continue;
            uniws_caps_string(bit, name, sizeof(name));
            printf("%s", first ? "" : ", ");
            json_string(name);
            first = 0;
        }
        printf("]}");
    }
    printf("\n]}\n");
}

/* Wide enough for the title and for "yes". */
static int column_width(size_t j)
{
    size_t w = strlen(columns[j].title);
    return w > 3 ? (int)w : 3;
}

static void print_table(const uniws_backend_info *b, size_t n, const char *def)
{
    size_t i, j, wname = 4, wver = 7;
    char name[64];

    for (i = 0; i < n; i++) {
        size_t l = strlen(b[i].name) + 1; /* room for the '*' */
        if (l > wname)
            wname = l;
        l = b[i].version ? strlen(b[i].version) : 0;
        if (l > wver)
            wver = l;
    }
    printf("%-*s  %-*s  %-4s", (int)wname, "name", (int)wver, "version", "auto");
    for (j = 0; j < NUM_COLUMNS; j++)
        printf("  %-*s", j + 1 < NUM_COLUMNS ? column_width(j) : 0, columns[j].title);
    printf("\n");
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s%s", b[i].name,
                 def && strcmp(def, b[i].name) == 0 ? "*" : "");
        printf("%-*s  %-*s  %-4s", (int)wname, name, (int)wver, b[i].version ? b[i].version : "",
               b[i].auto_select ? "yes" : "no");
        for (j = 0; j < NUM_COLUMNS; j++)
            printf("  %-*s", j + 1 < NUM_COLUMNS ? column_width(j) : 0,
                   (b[i].caps & columns[j].bit) ? "yes" : "no");
        printf("\n");
    }
    printf("\n* default backend (UNIWS_BACKEND, else the build default, else the first auto)%s\n",
           def ? "" : ": none, see stderr");
    for (j = 0; j < NUM_COLUMNS; j++) {
        uniws_caps_string(columns[j].bit, name, sizeof(name));
        printf("  %-8s %-20s %s\n", columns[j].title, name, columns[j].meaning);
    }
    printf("\nplatform: %s\n", uniws_platform());
}

int uniws__cli_backends(int argc, char **argv)
{
    uniws__cli_args a;
    uniws_backend_info infos[MAX_BACKENDS], def_info;
    const char *def = NULL;
    size_t i, n = 0, count = uniws_backend_count();
    int json = 0, rc;

    uniws__cli_args_init(&a, argc, argv);
    while (!a.failed && uniws__cli_args_next(&a)) {
        if (uniws__cli_is_help(&a)) {
            fputs(help_text, stdout);
            return UNIWS__CLI_EXIT_OK;
        } else if (uniws__cli_flag(&a, "--json")) {
            json = 1;
        } else {
            uniws__cli_unknown(&a);
        }
    }
    if (a.failed)
        return UNIWS__CLI_EXIT_USAGE;

    for (i = 0; i < count && n < MAX_BACKENDS; i++)
        if (uniws_backend_get(i, &infos[n]) == 0)
            n++;
    rc = uniws_backend_default(&def_info);
    if (rc == 0)
        def = def_info.name;
    else if (getenv("UNIWS_BACKEND"))
        uniws__cli_error("backends", "UNIWS_BACKEND=%s: %s: %s", getenv("UNIWS_BACKEND"),
                         uniws_err_name(rc), uniws_strerror(rc));
    else
        uniws__cli_error("backends", "no backend is picked automatically: %s", uniws_strerror(rc));
    if (json)
        print_json(infos, n, def);
    else
        print_table(infos, n, def);
    return UNIWS__CLI_EXIT_OK;
}
