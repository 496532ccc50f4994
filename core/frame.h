/*
 * frame.h — the RFC 6455 frame codec: header encode/decode and word-wide
 * payload masking. No state, no I/O; used by the client engine and the peer.
 */
#ifndef UNIWS_CORE_FRAME_H
#define UNIWS_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum uniws__opcode {
    UNIWS__OP_CONT = 0x0,
    UNIWS__OP_TEXT = 0x1,
    UNIWS__OP_BINARY = 0x2,
    UNIWS__OP_CLOSE = 0x8,
    UNIWS__OP_PING = 0x9,
    UNIWS__OP_PONG = 0xA
};

#define UNIWS__FRAME_MAX_HEADER 14

typedef struct uniws__frame_hdr {
    int fin;
    int rsv; /* the three RSV bits, as (byte0 >> 4) & 7 */
    int opcode;
    int masked;
    uint8_t mask[4];
    uint64_t len;
    size_t header_len;
} uniws__frame_hdr;

/* Decodes a header from buf[0..n). Returns the header length (2..14) and
 * fills *h, 0 when more bytes are needed, or -1 when the header is malformed
 * (64-bit length with the top bit set, or a length not in minimal form). */
int uniws__frame_parse(const uint8_t *buf, size_t n, uniws__frame_hdr *h);
/* Encodes a header into out (at least UNIWS__FRAME_MAX_HEADER bytes) using the
 * minimal length form. mask NULL means unmasked. Returns its length. */
size_t uniws__frame_header(uint8_t *out, int fin, int rsv, int opcode, uint64_t len,
                           const uint8_t *mask);
/* XORs n bytes at p with mask, where p sits at byte `offset` of the payload
 * (so a payload can be (un)masked in pieces), any alignment: 16-byte vectors
 * (32-byte AVX2 where the x86 CPU has it) from a 32-byte aligned dst. */
void uniws__mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);
/* Copies and masks at once (dst and src must not overlap). */
void uniws__mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                      uint64_t offset);

#endif
