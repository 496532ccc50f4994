/*
 * txdirect.c — write-through of a big frame: when uniws_send() queues a
 * masked frame of 1 MiB or more with nothing queued before it, on the loop thread, and the
 * backend can write the core's frames to its socket at once (write_now,
 * core/backend.h), the frame is masked a slice at a time into a scratch
 * buffer the size of a core's cache and each slice written at once, for as
 * long as the socket takes them whole. Only what the socket did not take is
 * copied (and masked) into the output queue. Compared with masking the whole
 * payload into the queue and writing it from there, the first bytes leave
 * before the last ones are masked (the peer starts on them while the rest is
 * masked), and the bytes written never go through a buffer bigger than the
 * cache (a 16 MiB frame was masked into 16 MiB of queue, then read again by
 * the kernel from memory). Slices are cut by payload and the header rides
 * with the first, so a frame of k slices of payload takes k writes (cut by
 * header and payload together, a 1 MiB frame took a fifth write for its
 * last 14 bytes: a system call and a tiny segment per message for nothing).
 */
#include <string.h>
#include "core/alloc.h"
#include "core/frame.h"
#include "core/loop_int.h"
#include "core/socket.h"

/* Payload bytes masked and written per write: well inside a core's L2 cache,
 * and big enough that a 16 MiB frame takes 64 writes. The scratch buffer
 * holds a slice and the frame's header. */
#define SLICE   (256u * 1024)
#define SCRATCH (SLICE + UNIWS__FRAME_MAX_HEADER)
/* Smaller frames are queued: one send per frame cost more than the copy it
 * saved when several are in flight (64 KiB x 16: more client CPU per message
 * than masking into the queue and writing many frames in one sendmsg). */
#define DIRECT_MIN (1024u * 1024)

size_t uniws__tx_direct(uniws_socket *s, const uint8_t *hdr, size_t hl, const uint8_t mask[4],
                        const uint8_t *data, size_t len)
{
    if (len < DIRECT_MIN || !s->backend->write_now || !uniws__loop_on_thread(s->loop))
        return 0;
    uniws_loop *l = s->loop;
    if (!l->tx_scratch) {
        l->tx_scratch = uniws__malloc(SCRATCH);
        if (!l->tx_scratch)
            return 0; /* queued whole, as without a scratch buffer */
    }
    uint8_t *buf = l->tx_scratch;
    size_t total = hl + len, done = 0;
    while (done < total) {
        size_t n = 0;
        if (done < hl) {
            n = hl - done;
            memcpy(buf, hdr + done, n);
        }
        size_t off = done + n - hl; /* payload offset of this slice */
        size_t m = len - off < SLICE ? len - off : SLICE;
        uniws__mask_copy(buf + n, data + off, m, mask, off);
        n += m;
        size_t w = s->backend->write_now(s, buf, n);
        done += w < n ? w : n;
        if (w < n)
            break; /* the socket is full (or failed: its own write reports it) */
    }
    return done;
}
