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
