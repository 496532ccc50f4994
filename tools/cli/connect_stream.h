/*
 * connect_stream.h — `uniws connect --send-file / --save-dir` (connect_stream.c):
 * a file sent as one message in parts, received messages saved to files as
 * their parts arrive.
 */
#ifndef UNIWS_CLI_CONNECT_STREAM_H
#define UNIWS_CLI_CONNECT_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include "uniws/uniws.h"

typedef struct uniws__cli_stream {
    /* --send-file */
    const char *send_path;
    FILE *file;
    unsigned char *buf;
    size_t held; /* bytes in buf not yet accepted by send */
    int at_eof, sent_all;
    uint64_t sent_bytes;
    /* --save-dir */
    const char *save_dir;
    FILE *out;
    char out_path[4096];
    unsigned long msg_no;
    int failed;
    int quiet;
} uniws__cli_stream;

/* Opens the file and sets the pacing options. Returns 0 or -1 (said why). */
int uniws__cli_stream_setup(uniws__cli_stream *st, uniws_options *o);
void uniws__cli_stream_free(uniws__cli_stream *st);
/* Queues what fits: 1 when the whole file is queued, 0 for later, -1 on failure. */
int uniws__cli_stream_pump(uniws__cli_stream *st, uniws_socket *s);
/* One part of a received message, appended to its file. */
void uniws__cli_stream_part(uniws__cli_stream *st, const uniws_message_part *m);

#endif
