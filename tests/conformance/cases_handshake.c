/*
 * cases_handshake.c — the opening handshake and connect-time options
 * (contract items 10-13): rejected answers, timeouts, refused connections and
 * DNS failures, subprotocol selection and token rules, extensions, custom
 * headers, and options the backend cannot honour.
 */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* arg: the HTTP status the peer answers with instead of 101. */
void case_hs_status(cx *c, const conf_case *k)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/script/status:%ld", k->arg);
    rec *r = cx_connect(c, path, NULL);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EHANDSHAKE, 0));
    const conf_ev *e = rec_first(r, EV_ERROR);
    if (!(c->env->info.caps & UNIWS_CAP_RAW_FRAMES) && e->http_status == 0) {
        /* A browser hides the answer from scripts on purpose: the status is
         * unknown (0), which is what uniws reports. A wrong status still
         * fails below. */
        snprintf(c->note, sizeof c->note,
                 "http_status not checked (no UNIWS_CAP_RAW_FRAMES: the engine hides it): %s, "
                 "http_status 0",
                 uniws_err_name(e->error));
        return;
    }
    CHECK(c, e->http_status == (int)k->arg, "error http_status %d, expected %ld; saw: %s",
          e->http_status, k->arg, rec_describe(r, buf, sizeof buf));
}

/* sarg: a script whose handshake answer must be rejected; arg 1: offer the
 * subprotocols "chat" and "superchat". */
void case_hs_fails(cx *c, const conf_case *k)
{
    static const char *const protos[] = {"chat", "superchat"};
    uniws_options o;
    memset(&o, 0, sizeof o);
    if (k->arg) {
        o.protocols = protos;
        o.num_protocols = 2;
    }
    rec *r = cx_connect(c, k->sarg, &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EHANDSHAKE, 0));
    CHECK(c, r->n_msg == 0, "messages delivered on a rejected handshake");
}

/* Does the request dumped by the peer's "headers" command offer
 * permessage-deflate? */
static int offers_deflate(const conf_ev *m)
{
    for (const char *p = (const char *)m->data; p && (p = strchr(p, '\n')) != NULL;) {
        p++;
        if (!strncasecmp(p, "sec-websocket-extensions:", 25)) {
            const char *eol = strchr(p, '\r');
            size_t n = eol ? (size_t)(eol - p) : strlen(p);
            for (const char *q = p; q + 18 <= p + n; q++)
                if (!strncasecmp(q, "permessage-deflate", 18))
                    return 1;
        }
    }
    return 0;
}

static int pred_msg_or_close(void *arg)
{
    rec *r = arg;
    return r->n_msg > 0 || r->n_close > 0;
}

/* The peer accepts permessage-deflate that the client did not offer: the
 * client must fail the connection. An engine that offers deflate on its own
 * (browsers, Node.js) makes the answer legal; only a backend that controls
 * the offer (UNIWS_CAP_PERMESSAGE_DEFLATE) can be held to this, so without
 * it the case looks at what was really offered and says so. */
void case_hs_unoffered_deflate(cx *c, const conf_case *k)
{
    char buf[512];
    rec *r = cx_connect(c, "/script/ext:permessage-deflate/headers", NULL);
    TRY(r);
    cx_run_until(c, pred_msg_or_close, r, 5000);
    TRY(!c->failed);
    const conf_ev *m = rec_msg(r, 0);
    if (m && m->data && offers_deflate(m) && !(c->env->info.caps & UNIWS_CAP_PERMESSAGE_DEFLATE)) {
        c->unsupported = 1;
        snprintf(c->detail, sizeof c->detail,
                 "needs UNIWS_CAP_PERMESSAGE_DEFLATE: the engine offered permessage-deflate "
                 "itself, so accepting it is legal");
        return;
    }
    CHECK(c, !m || !m->data || !offers_deflate(m),
          "permessage_deflate is 0 but the client offered it: %.300s", (const char *)m->data);
    CHECK(c, !m, "the connection opened with an unoffered permessage-deflate; saw: %s",
          rec_describe(r, buf, sizeof buf));
    TRY(expect_failure(r, UNIWS_EHANDSHAKE, 0));
}

/* A server that accepts TCP but never answers: connect_timeout_ms ends it. */
void case_hs_timeout(cx *c, const conf_case *k)
{
    char buf[512];
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.connect_timeout_ms = (int)k->arg;
    uint64_t t0 = cx_now_ms();
    rec *r = cx_connect(c, "/script/silent", &o);
    TRY(r);
    TRY(expect_failure(r, UNIWS_ETIMEOUT, 0));
    long took = (long)(rec_first(r, EV_CLOSE)->at_ms - t0);
    CHECK(c, took >= k->arg * 8 / 10 && took <= k->arg + 2000,
          "gave up after %ld ms with connect_timeout_ms %ld; saw: %s", took, k->arg,
          rec_describe(r, buf, sizeof buf));
}

void case_refused(cx *c, const conf_case *k)
{
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", c->env->closed_port);
    rec *r = cx_connect(c, url, NULL);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EREFUSED, 0));
}

/* RFC 6761: names under .invalid never resolve (and need no network). */
void case_dns_failure(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "ws://uniws-conformance.invalid/", NULL);
    TRY(r);
    TRY(expect_failure(r, UNIWS_EDNS, 0));
}

/* arg 0: offer two, the echo peer picks the first; 1: the peer picks the
 * second (proto:superchat); 2: nothing offered; 3: offered but the peer
 * selects none. */
void case_protocol_selected(cx *c, const conf_case *k)
{
    static const char *const protos[] = {"chat", "superchat"};
    static const char *const paths[] = {"/echo", "/script/proto:superchat", "/echo",
                                        "/script/no-proto"};
    static const char *const want[] = {"chat", "superchat", "", ""};
    uniws_options o;
    memset(&o, 0, sizeof o);
    if (k->arg != 2) {
        o.protocols = protos;
        o.num_protocols = 2;
    }
    rec *r = cx_connect(c, paths[k->arg], &o);
    TRY(r);
    if (k->arg == 3) {
        /* WHATWG: an offer answered with no subprotocol fails the connection. */
        TRY(expect_failure(r, UNIWS_EHANDSHAKE, 0));
        return;
    }
    const char *p = uniws_protocol(r->s);
    CHECK(c, p && !strcmp(p, ""), "uniws_protocol \"%s\" before open", p ? p : "(null)");
    TRY(rec_wait_open(r));
    p = uniws_protocol(r->s);
    CHECK(c, p && !strcmp(p, want[k->arg]), "uniws_protocol \"%s\", expected \"%s\"",
          p ? p : "(null)", want[k->arg]);
    TRY(close_and_wait(r));
}

static int try_protocols(cx *c, const char *const *p, size_t n, int want)
{
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.protocols = p;
    o.num_protocols = n;
    rec *r = NULL;
    int rc = cx_try_connect(c, "/echo", &o, &r);
    if (rc != want)
        return FAILF(c, "protocols {\"%s\"%s}: uniws_connect returned %s, expected %s",
                     n && p ? p[0] : "", n > 1 ? ", ..." : "", uniws_err_name(rc),
                     uniws_err_name(want));
    if (r && rc == 0)
        rec_free_socket(r);
    return 1;
}

/* Lists that are not unique RFC 7230 tokens fail uniws_connect; a list of
 * every token character is accepted. Returns 0 after failing the case. */
static int check_protocol_lists(cx *c)
{
    static const char *const dup[] = {"chat", "chat"};
    static const char *const space[] = {"a b"};
    static const char *const empty[] = {""};
    static const char *const comma[] = {"a,b"};
    static const char *const nonascii[] = {"\xc3\xa9t\xc3\xa9"};
    static const char *const ctl[] = {"chat\r\n"};
    static const char *const sep[] = {"a/b"};
    static const char *const null_entry[] = {"chat", NULL};
    static const char *const good[] = {"v1.chat!#$%&'*+-.^_`|~", "chat"};
    if (!try_protocols(c, dup, 2, UNIWS_ESYNTAX) || !try_protocols(c, space, 1, UNIWS_ESYNTAX) ||
        !try_protocols(c, empty, 1, UNIWS_ESYNTAX) || !try_protocols(c, comma, 1, UNIWS_ESYNTAX) ||
        !try_protocols(c, nonascii, 1, UNIWS_ESYNTAX) || !try_protocols(c, ctl, 1, UNIWS_ESYNTAX) ||
        !try_protocols(c, sep, 1, UNIWS_ESYNTAX))
        return 0;
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.protocols = null_entry;
    o.num_protocols = 2;
    int rc = cx_try_connect(c, "/echo", &o, NULL);
    if (rc != UNIWS_EINVAL && rc != UNIWS_ESYNTAX)
        return FAILF(c, "a NULL protocol entry: uniws_connect returned %s", uniws_err_name(rc));
    o.protocols = NULL;
    o.num_protocols = 1;
    rc = cx_try_connect(c, "/echo", &o, NULL);
    if (rc != UNIWS_EINVAL)
        return FAILF(c, "protocols NULL with num_protocols 1: uniws_connect returned %s",
                     uniws_err_name(rc));
    return try_protocols(c, good, 2, 0);
}

/* Subprotocols must be unique RFC 7230 tokens; a bad list fails at connect
 * and no callback ever fires for that call. arg 1: duplicates compare without
 * case (WHATWG / web-platform-tests), so {"CHAT", "chat"} is a syntax error. */
void case_protocol_tokens(cx *c, const conf_case *k)
{
    static const char *const cased[] = {"CHAT", "chat"};
    if (k->arg == 1)
        TRY(try_protocols(c, cased, 2, UNIWS_ESYNTAX));
    else
        TRY(check_protocol_lists(c));
    cx_run_for(c, 50);
    /* Accepted connects are freed at once, before any event could fire. */
    for (rec *r = c->recs; r; r = r->next)
        CHECK(c, r->n == 0, "a refused (or at once freed) connect fired callbacks");
}

void case_extensions_empty(cx *c, const conf_case *k)
{
    rec *r = cx_connect(c, "/echo", NULL);
    TRY(r);
    TRY(rec_wait_open(r));
    const char *e = uniws_extensions(r->s);
    CHECK(c, e && !strcmp(e, ""), "uniws_extensions \"%s\" with nothing offered", e ? e : "(null)");
    TRY(close_and_wait(r));
}

/* Finds a "Name: value" line (name case-insensitive) in the header dump. */
static int has_header(const char *dump, size_t len, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    const char *p = dump, *end = dump + len;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *q = p + nl;
        if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && *q == ':') {
            q++;
            while (q < eol && (*q == ' ' || *q == '\t'))
                q++;
            if ((size_t)(eol - q) == vl && !memcmp(q, value, vl))
                return 1;
        }
        p = eol + 2;
    }
    return 0;
}

void case_headers_sent(cx *c, const conf_case *k)
{
    static const uniws_header hdrs[] = {
        {"X-Uniws-Test", "hello world"}, {"X-Second", "42"}, {"Authorization", "Bearer abc.def"}};
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.headers = hdrs;
    o.num_headers = 3;
    rec *r = cx_connect(c, "/script/headers", &o);
    TRY(r);
    TRY(rec_wait_msgs(r, 1));
    const conf_ev *m = rec_msg(r, 0);
    CHECK(c, m->type == UNIWS_TEXT && m->data, "headers dump is not a text message");
    const char *d = (const char *)m->data;
    for (size_t i = 0; i < 3; i++)
        CHECK(c, has_header(d, m->len, hdrs[i].name, hdrs[i].value),
              "header \"%s: %s\" missing from the request: %.300s", hdrs[i].name, hdrs[i].value, d);
    CHECK(c, has_header(d, m->len, "Sec-WebSocket-Version", "13"),
          "Sec-WebSocket-Version: 13 missing: %.300s", d);
    TRY(close_and_wait(r));
}

void case_headers_invalid(cx *c, const conf_case *k)
{
    static const uniws_header bad[][1] = {
        {{"Bad Name", "x"}},
        {{"", "x"}},
        {{"X-Ok", "a\r\nInjected: 1"}},
        {{"X-Ok", "a\nb"}},
        {{"Sec-WebSocket-Key", "x"}},
        {{"Host", "example.com"}},
        {{"upgrade", "h2c"}},
        {{"Connection", "close"}},
        {{"X(paren)", "x"}},
    };
    uniws_options o;
    memset(&o, 0, sizeof o);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.headers = bad[i];
        o.num_headers = 1;
        int rc = cx_try_connect(c, "/echo", &o, NULL);
        CHECK(c, rc == UNIWS_ESYNTAX, "header \"%s\": uniws_connect returned %s, expected %s",
              bad[i][0].name, uniws_err_name(rc), uniws_err_name(UNIWS_ESYNTAX));
    }
    o.headers = NULL;
    o.num_headers = 1;
    CHECK_RC(c, cx_try_connect(c, "/echo", &o, NULL), UNIWS_EINVAL);
    cx_run_for(c, 50);
    for (rec *r = c->recs; r; r = r->next)
        CHECK(c, r->n == 0, "a refused connect fired callbacks");
}

/* Every option whose capability the backend lacks must be refused with
 * UNIWS_EUNSUPPORTED at connect (never silently ignored). */
void case_options_unsupported(cx *c, const conf_case *k)
{
    static const uniws_header hdr[] = {{"X-Test", "1"}};
    const unsigned caps = c->env->info.caps;
    char checked[200] = "";
    int n = 0;
    for (unsigned bit = 1; bit <= UNIWS_CAP_RAW_FRAMES; bit <<= 1) {
        if (caps & bit)
            continue;
        uniws_options o;
        memset(&o, 0, sizeof o);
        const char *url = "/echo";
        char wss[64];
        switch (bit) {
        case UNIWS_CAP_WSS:
            snprintf(wss, sizeof wss, "wss://127.0.0.1:%d/echo",
                     c->env->tls_port ? c->env->tls_port : c->env->port);
            url = wss;
            break;
        case UNIWS_CAP_CUSTOM_HEADERS:
            o.headers = hdr;
            o.num_headers = 1;
            break;
        case UNIWS_CAP_PROXY:
            o.proxy = "http://127.0.0.1:1";
            break;
        case UNIWS_CAP_TLS_CA_FILE:
            o.tls_ca_file = c->env->ca_file ? c->env->ca_file : "/nonexistent/ca.pem";
            break;
        case UNIWS_CAP_TLS_SKIP_VERIFY:
            o.tls_skip_verify = 1;
            break;
        case UNIWS_CAP_TLS_CLIENT_CERT:
            o.tls_client_cert = "/nonexistent/client.pem";
            o.tls_client_key = "/nonexistent/client.key";
            break;
        case UNIWS_CAP_PERMESSAGE_DEFLATE:
            o.permessage_deflate = 1;
            break;
        case UNIWS_CAP_CONNECT_TIMEOUT:
            o.connect_timeout_ms = 1000;
            break;
        case UNIWS_CAP_PING: {
            rec *r = cx_connect(c, "/echo", NULL);
            TRY(r);
            TRY(rec_wait_open(r));
            CHECK_RC(c, uniws_ping(r->s, "x", 1), UNIWS_EUNSUPPORTED);
            TRY(close_and_wait(r));
            n++;
            size_t len = strlen(checked);
            snprintf(checked + len, sizeof checked - len, " PING");
            continue;
        }
        default:
            continue; /* not an option (ws, network, close codes, raw frames) */
        }
        rec *r = NULL;
        int rc = cx_try_connect(c, url, &o, &r);
        CHECK(c, rc == UNIWS_EUNSUPPORTED, "without %s: uniws_connect returned %s",
              conf_cap_name(bit), uniws_err_name(rc));
        cx_run_for(c, 30);
        CHECK(c, r->n == 0, "a refused connect (%s) fired callbacks", conf_cap_name(bit));
        n++;
        size_t len = strlen(checked);
        snprintf(checked + len, sizeof checked - len, " %s", conf_cap_name(bit) + 10);
    }
    snprintf(c->note, sizeof c->note, "refused:%s", checked);
    if (!n) {
        c->unsupported = 1;
        snprintf(c->detail, sizeof c->detail,
                 "nothing to check: the backend honours every optional capability");
    }
}
