/*
 * json_out.c — writes JSON strings for the tools' machine-readable output
 * (`uniws connect --jsonl`): quotes, backslashes and control bytes escaped,
 * UTF-8 passed through as it is.
 */
#include "cli.h"

void uniws__cli_json_string(FILE *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    fputc('"', f);
    for (i = 0; i < len; i++) {
        unsigned char ch = p[i];
        switch (ch) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                fprintf(f, "\\u%04x", ch);
            else
                fputc(ch, f);
        }
    }
    fputc('"', f);
}
