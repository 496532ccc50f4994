/*
 * txsplit.c — uniws_options.max_frame_size: a message (or a part given to
 * uniws_send_fragment) bigger than the cap leaves as several data frames, so
 * a peer with a frame size limit can take it and pings/pongs can go out
 * between its frames (wsproto.c queues those at the next frame boundary).
 * With permessage-deflate the compressed payload is what is cut: RSV1 only
 * on the first frame, as RFC 7692 wants.
 */
#include "core/socket.h"

int uniws__tx_frames(uniws_socket *s, int first_op, int rsv, const uint8_t *data, size_t len,
                     size_t counted, int fin)
{
    size_t cap = s->opts.max_frame_size;
    if (!cap || len <= cap)
        return uniws__ws_queue_raw(s, fin, rsv, first_op, data, len, counted);
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < cap ? len - off : cap;
        int last = off + n == len;
        /* buffered_amount: a plain payload counts byte for byte; a compressed
         * one counts the application's bytes, all on the first frame. */
        size_t cnt = counted == len ? n : (off == 0 ? counted : 0);
        int r = uniws__ws_queue_raw(s, last ? fin : 0, off == 0 ? rsv : 0,
                                    off == 0 ? first_op : UNIWS__OP_CONT, data + off, n, cnt);
        if (r) {
            /* ENOMEM after some frames: the peer has the start of a message
             * whose end will never come, so the connection cannot go on.
             * Nothing more is queued, and sock_job fails it. */
            if (off > 0)
                s->tx_broken = 1;
            return r;
        }
        off += n;
    }
    return 0;
}
