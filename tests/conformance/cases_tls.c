/*
 * cases_tls.c — wss (contract items 11 and 13): a custom CA, verification on
 * by default (an unknown CA fails), an unrelated CA fails, explicit
 * skip-verify, and the usual data and close paths over TLS. A backend without
 * UNIWS_CAP_TLS_CA_FILE (the browser) runs the test-CA cases when the run made
 * its platform trust that CA (conf_env.platform_trusts_ca).
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

/* arg 0: the test CA; 1: tls_skip_verify; 2: the test CA with one-byte
 * writes and a fragmented message. */
void case_wss_echo(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    memset(&o, 0, sizeof o);
    if (k->arg == 1)
        o.tls_skip_verify = 1;
    else
        TRY(cx_trust_test_ca(c, &o));
    if (k->arg == 2) {
        TRY(cx_wss_url(c, url, sizeof url, "/script/bytewise/text:hello/fragbin:3:1000"));
        rec *r = cx_connect(c, url, &o);
        TRY(r);
        TRY(rec_wait_msgs(r, 2));
        unsigned char b[1000];
        conf_pattern(b, sizeof b, UNIWS_BINARY);
        TRY(expect_msg(r, 0, UNIWS_TEXT, "hello", 5));
        TRY(expect_msg(r, 1, UNIWS_BINARY, b, sizeof b));
        TRY(close_and_wait(r));
        return;
    }
    TRY(cx_wss_url(c, url, sizeof url, "/echo"));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(rec_wait_open(r));
    const size_t n = 1 << 20;
    unsigned char *buf = cx_malloc(c, n);
    TRY(buf);
    conf_pattern(buf, n, UNIWS_BINARY);
    CHECK_RC(c, uniws_send_text(r->s, "over tls", 8), 0);
    CHECK_RC(c, uniws_send_binary(r->s, buf, n), 0);
    TRY(rec_wait_msgs(r, 2));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "over tls", 8));
    TRY(expect_msg(r, 1, UNIWS_BINARY, buf, n));
    /* Quiet long enough for a backend to let go of what the burst grew (the
     * lws backend swaps its TLS memory BIOs after 200 ms), then the same
     * again through whatever replaced them. */
    cx_run_for(c, 400);
    CHECK_RC(c, uniws_send_binary(r->s, buf, n), 0);
    TRY(rec_wait_msgs(r, 3));
    TRY(expect_msg(r, 2, UNIWS_BINARY, buf, n));
    TRY(close_and_wait(r));
}

/* arg 0: no CA option (the system store does not know the test CA); 1: an
 * unrelated CA. Either way: UNIWS_ETLS, then close 1006, never open. */
void case_wss_verify_fails(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    memset(&o, 0, sizeof o);
    if (k->arg == 1)
        o.tls_ca_file = c->env->other_ca_file;
    if (k->arg == 0 && c->env->platform_trusts_ca) {
        /* The default store trusts the test CA in this run: an unknown CA is
         * the unrelated one's peer. */
        if (!c->env->untrusted_tls_port) {
            c->unsupported = 1;
            snprintf(c->detail, sizeof c->detail,
                     "the platform trusts the test CA and there is no peer of an unknown CA");
            return;
        }
        snprintf(url, sizeof url, "wss://127.0.0.1:%d/echo", c->env->untrusted_tls_port);
        rec *r = cx_connect(c, url, &o);
        TRY(r);
        TRY(expect_failure(r, UNIWS_ETLS, 0));
        return;
    }
    TRY(cx_wss_url(c, url, sizeof url, "/echo"));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_ETLS, 0));
}

void case_wss_close(cx *c, const conf_case *k)
{
    char url[128];
    uniws_options o;
    memset(&o, 0, sizeof o);
    TRY(cx_trust_test_ca(c, &o));
    TRY(cx_wss_url(c, url, sizeof url, "/script/text:bye/close:4001:tls"));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "bye", 3));
    TRY(expect_clean_close(r, 4001, "tls"));
}

/* Options for a case whose checks come after the handshake: the test CA,
 * or where it cannot be trusted (WinHTTP under wine: no CA file, a store of
 * its own) tls_skip_verify, which does as well. Returns 0 after marking the
 * case unsupported. */
static int after_handshake_opts(cx *c, uniws_options *o)
{
    memset(o, 0, sizeof *o);
    if (!(c->env->info.caps & UNIWS_CAP_TLS_CA_FILE) && !c->env->platform_trusts_ca &&
        (c->env->info.caps & UNIWS_CAP_TLS_SKIP_VERIFY)) {
        o->tls_skip_verify = 1;
        return 1;
    }
    return cx_trust_test_ca(c, o);
}

/* TLS broken after the open (docs/peer.md, "TLS broken mid-stream"): a
 * message over good TLS first, then the peer corrupts one record
 * (tls-garble), writes plain bytes under TLS (tls-plain) or resets TCP (rst).
 * arg 0, 1: the error is UNIWS_ETLS; 2: UNIWS_ERESET. Either way close 1006,
 * the first message and nothing else delivered (the broken record holds a
 * whole text frame, "garbled" or "plain", and "after" follows it), within a
 * few seconds. A browser says nothing of why an open connection ended: close
 * 1006 without an error event (WHATWG: not a "failure"), the close cause
 * UNIWS_ERESET, as in life_cause_error. Without a way to trust the test CA
 * the case skips verification (after_handshake_opts). */
void case_wss_broken_midstream(cx *c, const conf_case *k)
{
    static const char *const scripts[] = {
        "/script/text:hello/sleep:200/tls-garble/text:after",
        "/script/text:hello/sleep:200/tls-plain/text:after",
        "/script/text:hello/sleep:200/rst",
    };
    char url[128], buf[512];
    uniws_options o;
    TRY(after_handshake_opts(c, &o));
    TRY(cx_wss_url(c, url, sizeof url, scripts[k->arg]));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "hello", 5));
    TRY(rec_wait_close(r));
    const conf_ev *e = rec_first(r, EV_ERROR), *cl = rec_first(r, EV_CLOSE);
    if (!e && !(c->env->info.caps & UNIWS_CAP_RAW_FRAMES)) {
        CHECK(c, cl->code == 1006 && !cl->was_clean && cl->cause == UNIWS_ERESET,
              "close %d clean=%d cause %s, expected 1006 unclean, UNIWS_ERESET; saw: %s", cl->code,
              cl->was_clean, uniws_err_name(cl->cause), rec_describe(r, buf, sizeof buf));
        snprintf(c->note, sizeof c->note, "no error event (the engine hides why); cause %s",
                 uniws_err_name(cl->cause));
    } else {
        TRY(expect_failure(r, k->arg == 2 ? UNIWS_ERESET : UNIWS_ETLS, 1));
    }
    CHECK(c, r->n_msg == 1, "%zu messages, expected only \"hello\"; saw: %s", r->n_msg,
          rec_describe(r, buf, sizeof buf));
    long took = (long)(cl->at_ms - rec_msg(r, 0)->at_ms);
    CHECK(c, took <= 5000, "close %ld ms after the message (the peer broke TLS after 200 ms)",
          took);
    if (e && !c->note[0])
        snprintf(c->note, sizeof c->note, "%s: %.200s", uniws_err_name(e->error), e->message);
}

/* The wss twin of close_1006_fin (docs/peer.md "TLS broken mid-stream"):
 * the peer ends the stream without a WebSocket close frame, with TLS's
 * close_notify first (tls-fin) or without it (tls-truncate: a truncated TLS
 * stream), before any message, after one, or in the middle of a frame.
 * Either way the connection ended without a close frame: as on ws://,
 * expect_tcp_end (close 1006, UNIWS_ERESET, the messages before it and
 * nothing of the half frame). The end right behind the 101 or the half
 * frame comes in the reads of the handshake; after the message it comes
 * 200 ms later, to a backend that reads TLS itself once open (curl's
 * direct path). sarg: the script; arg: the messages first. */
void case_wss_tcp_end(cx *c, const conf_case *k)
{
    char url[256];
    uniws_options o;
    TRY(after_handshake_opts(c, &o));
    TRY(cx_wss_url(c, url, sizeof url, k->sarg));
    rec *r = cx_connect(c, url, &o);
    TRY(r);
    TRY(expect_tcp_end(r, k->arg));
}
