/*
 * cases_proxy.c — the proxy options every column must treat the same way
 * (cli, issue 14): proxy_ca_file is honoured by a backend with
 * UNIWS_CAP_PROXY_CA_FILE (a connection that sets it works) and refused with
 * UNIWS_EUNSUPPORTED, before any event, by every other one — never ignored.
 * The HTTPS proxy itself is the curl-https-proxy column (run-https-proxy.sh).
 */
#include "cases.h"

#include <stdio.h>
#include <string.h>

void case_proxy_ca_file_option(cx *c, const conf_case *k)
{
    (void)k;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy_ca_file = c->env->ca_file ? c->env->ca_file : "/nonexistent/ca.pem";
    if (!(c->env->info.caps & UNIWS_CAP_PROXY_CA_FILE)) {
        rec *r = NULL;
        CHECK_RC(c, cx_try_connect(c, "/echo", &o, &r), UNIWS_EUNSUPPORTED);
        cx_run_for(c, 50);
        CHECK(c, !r || r->n == 0, "a refused connect fired callbacks");
        snprintf(c->note, sizeof c->note, "refused: the backend has no https:// proxy");
        return;
    }
    /* Without a proxy (or through the column's own), the option costs nothing. */
    rec *r = cx_connect(c, "/echo", &o);
    TRY(r);
    TRY(rec_wait_open(r));
    CHECK_RC(c, uniws_send_text(r->s, "via", 3), 0);
    TRY(rec_wait_msgs(r, 1));
    TRY(expect_msg(r, 0, UNIWS_TEXT, "via", 3));
    TRY(close_and_wait(r));
}
