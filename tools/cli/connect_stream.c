/*
 * connect_stream.c — the flow-control flags of `uniws connect`:
 *   --send-file PATH  sends PATH as ONE binary message in 1 MiB parts
 *                     (uniws_send_fragment), paced by max_buffered_amount and
 *                     on_buffered_amount_low, so a file of any size needs
 *                     about 8 MiB of memory;
 *   --save-dir DIR    writes every received message to DIR/msg-N.txt|.bin as
 *                     its parts arrive (on_message_part), never holding one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "connect_stream.h"

#define PART (1024 * 1024)

int uniws__cli_stream_setup(uniws__cli_stream *st, uniws_options *o)
{
    if (st->send_path) {
        st->file = fopen(st->send_path, "rb");
        if (!st->file) {
            uniws__cli_error("connect", "--send-file %s: %s", st->send_path, strerror(errno));
            return -1;
        }
        st->buf = malloc(PART);
        if (!st->buf) {
            uniws__cli_error("connect", "out of memory");
            return -1;
        }
        o->max_buffered_amount = 8u * PART;
        o->buffered_amount_low_threshold = 2u * PART;
    }
    return 0;
}

void uniws__cli_stream_free(uniws__cli_stream *st)
{
    if (st->file)
        fclose(st->file);
    if (st->out)
        fclose(st->out);
    free(st->buf);
    st->file = st->out = NULL;
    st->buf = NULL;
}

/* Queues parts until the queue is full or the file is done. Returns 1 once
 * the whole file is queued, 0 while more is to come, -1 on failure. */
int uniws__cli_stream_pump(uniws__cli_stream *st, uniws_socket *s)
{
    if (!st->file)
        return st->sent_all ? 1 : 0;
    for (;;) {
        if (st->held == 0 && !st->at_eof) {
            st->held = fread(st->buf, 1, PART, st->file);
            if (st->held < PART) {
                if (ferror(st->file)) {
                    uniws__cli_error("connect", "--send-file %s: read error", st->send_path);
                    return -1;
                }
                st->at_eof = 1;
            }
        }
        /* The part after which the file ends is the last one (maybe empty). */
        int last = st->at_eof;
        int rc = uniws_send_fragment(s, UNIWS_BINARY, st->buf, st->held, last);
        if (rc == UNIWS_EBUFFER_FULL)
            return 0; /* on_buffered_amount_low calls again */
        if (rc != 0) {
            uniws__cli_error("connect", "--send-file: %s: %s", uniws_err_name(rc),
                             uniws_strerror(rc));
            return -1;
        }
        st->sent_bytes += st->held;
        st->held = 0;
        if (last) {
            fclose(st->file);
            st->file = NULL;
            st->sent_all = 1;
            if (!st->quiet)
                fprintf(stderr, "uniws connect: %s queued as one message (%llu bytes)\n",
                        st->send_path, (unsigned long long)st->sent_bytes);
            return 1;
        }
    }
}

void uniws__cli_stream_part(uniws__cli_stream *st, const uniws_message_part *m)
{
    if (st->failed)
        return;
    if (m->first) {
        char path[4096];
        st->msg_no++;
        snprintf(path, sizeof path, "%s/msg-%06lu.%s", st->save_dir, st->msg_no,
                 m->type == UNIWS_TEXT ? "txt" : "bin");
        st->out = fopen(path, "wb");
        if (!st->out) {
            uniws__cli_error("connect", "--save-dir: %s: %s", path, strerror(errno));
            st->failed = 1;
            return;
        }
        snprintf(st->out_path, sizeof st->out_path, "%s", path);
    }
    if (m->len && st->out && fwrite(m->data, 1, m->len, st->out) != m->len) {
        uniws__cli_error("connect", "--save-dir: %s: write error", st->out_path);
        st->failed = 1;
    }
    if (m->last && st->out) {
        if (fclose(st->out) != 0 && !st->failed) {
            uniws__cli_error("connect", "--save-dir: %s: write error", st->out_path);
            st->failed = 1;
        }
        st->out = NULL;
        if (!st->quiet && !st->failed)
            fprintf(stderr, "uniws connect: saved %s (%llu bytes)\n", st->out_path,
                    (unsigned long long)(m->offset + m->len));
    }
}
