/*
 * fragment.c — uniws_send_fragment(): a message sent in parts, each part one
 * frame on the wire (the first with the message's opcode, the others
 * continuation frames), so a message of any size needs only its current part
 * in memory. One call with a `last` flag (rather than begin/part/end) keeps
 * the API one function that maps 1:1 onto frames and needs no handle: the
 * socket itself knows whether a message is open. Text is checked as a
 * stream (a part may end inside a character; the message may not).
 */
#include "core/socket.h"

int uniws_send_fragment(uniws_socket *s, uniws_msg_type type, const void *data, size_t len,
                        int last)
{
    if (!s || (!data && len) || (type != UNIWS_TEXT && type != UNIWS_BINARY))
        return UNIWS_EINVAL;
    if (!(s->backend->caps & UNIWS_CAP_SEND_FRAGMENTS) || s->backend->kind != UNIWS__STREAM)
        return UNIWS_EUNSUPPORTED;
    int op = type == UNIWS_TEXT ? UNIWS__OP_TEXT : UNIWS__OP_BINARY;
    int r = 0, post = 0;
    uniws__mutex_lock(s->mu);
    int st = uniws__atomic_load(&s->state);
    if (s->freed || st >= UNIWS_CLOSING || s->tx_broken) {
        r = UNIWS_ECLOSED;
    } else if (st == UNIWS_CONNECTING) {
        r = UNIWS_EINVALID_STATE;
    } else if (s->tx_frag_op && s->tx_frag_op != op) {
        r = UNIWS_EINVAL;
    } else if ((r = uniws__flow_admit(s, len)) == 0) {
        uniws__utf8 v = s->tx_frag_op ? s->tx_utf8 : (uniws__utf8)UNIWS__UTF8_INIT;
        if (op == UNIWS__OP_TEXT &&
            (uniws__utf8_feed(&v, data, len) < 0 || (last && !uniws__utf8_done(&v))))
            r = UNIWS_EUTF8;
        if (!r)
            r = uniws__ws_queue_fragment(s, s->tx_frag_op ? UNIWS__OP_CONT : op, data, len,
                                         last ? 1 : 0);
        if (!r) {
            s->tx_frag_op = last ? 0 : op;
            s->tx_utf8 = v;
            s->want_kick = post = 1;
            uniws__flow_sent(s);
        }
    }
    if (s->tx_broken)
        post = 1; /* txsplit.c: part of a part is queued; sock_job fails it */
    uniws__mutex_unlock(s->mu);
    if (post)
        uniws__sock_post(s);
    return r;
}
