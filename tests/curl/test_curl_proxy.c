/*
 * test_curl_proxy.c — the curl backend through a real HTTP proxy: tinyproxy,
 * started here on 127.0.0.1 with a generated configuration, in front of the
 * scripted echo peer. Proves the explicit proxy option, the environment
 * convention (http_proxy for ws://, no_proxy) and proxy failures, and reads
 * tinyproxy's log to see that the traffic really went through a CONNECT.
 * A SOCKS5 case does the same through microsocks. Both proxies are installed
 * by scripts/bootstrap.sh, so their absence is a failure, not a skip.
 * An HTTPS proxy (TLS to the proxy) is tinyproxy behind tls_front.mjs (node),
 * trusted through proxy_ca_file, for ws:// and for wss:// (TLS inside TLS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "uniws/uniws.h"
#include "server.h"
#include "echo_clients.h"

typedef struct proxy {
    pid_t pid;
    int port;
    char dir[64];
    char log[128];
} proxy;

static uniws__server *g_srv;
static proxy g_px;        /* allows CONNECT to any port */
static proxy g_strict_px; /* allows CONNECT to port 1 only */
static proxy g_socks;     /* microsocks (SOCKS5), logging to g_socks.log */
static proxy g_front;     /* tls_front.mjs: TLS in front of g_px (an HTTPS proxy) */
static uniws__server *g_tls_srv;
static char g_url[128];
static char g_wss_url[128];

static const char *const k_proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                           "ws_proxy",   "WS_PROXY",   "wss_proxy",   "WSS_PROXY",
                                           "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};

static void clear_proxy_env(void)
{
    for (size_t i = 0; i < sizeof k_proxy_vars / sizeof k_proxy_vars[0]; i++)
        unsetenv(k_proxy_vars[i]);
}

static const char *find_program(const char *name)
{
    static char path[64];
    static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin",
                                       "/usr/local/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Waits until p->port accepts connections or the child exits. */
static int proxy_wait(proxy *p, const char *what)
{
    for (int i = 0; i < 100; i++) {
        if (port_open(p->port))
            return 0;
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            fprintf(stderr, "%s exited at start\n", what);
            p->pid = 0;
            return -1;
        }
        usleep(50 * 1000);
    }
    fprintf(stderr, "%s did not listen on 127.0.0.1:%d\n", what, p->port);
    return -1;
}

/* Starts tinyproxy with extra configuration lines. Returns 0 or -1 (with a
 * message on stderr). */
static int proxy_start(proxy *p, const char *extra)
{
    const char *bin = find_program("tinyproxy");
    if (!bin) {
        fprintf(stderr, "tinyproxy is not installed: run scripts/bootstrap.sh "
                        "(Debian package tinyproxy-bin); the curl proxy test needs it\n");
        return -1;
    }
    snprintf(p->dir, sizeof p->dir, "/tmp/uniws-tinyproxy-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    p->port = free_port();
    snprintf(p->log, sizeof p->log, "%s/tinyproxy.log", p->dir);
    char conf[128];
    snprintf(conf, sizeof conf, "%s/tinyproxy.conf", p->dir);
    FILE *f = fopen(conf, "w");
    if (!f || p->port <= 0)
        return -1;
    fprintf(f,
            "Port %d\nListen 127.0.0.1\nTimeout 60\nLogFile \"%s\"\nLogLevel Info\n"
            "PidFile \"%s/tinyproxy.pid\"\nMaxClients 100\nAllow 127.0.0.1\n%s",
            p->port, p->log, p->dir, extra ? extra : "");
    fclose(f);
    p->pid = fork();
    if (p->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(bin, bin, "-d", "-c", conf, (char *)NULL);
        _exit(127);
    }
    return p->pid < 0 ? -1 : proxy_wait(p, "tinyproxy");
}

/* Starts microsocks with its connection log (stdout) in a file. */
static int socks_start(proxy *p)
{
    const char *bin = find_program("microsocks");
    if (!bin) {
        fprintf(stderr, "microsocks is not installed: run scripts/bootstrap.sh "
                        "(Debian package microsocks); the SOCKS5 case needs it\n");
        return -1;
    }
    snprintf(p->dir, sizeof p->dir, "/tmp/uniws-microsocks-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    p->port = free_port();
    snprintf(p->log, sizeof p->log, "%s/microsocks.log", p->dir);
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    p->pid = fork();
    if (p->pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(bin, bin, "-i", "127.0.0.1", "-p", port, (char *)NULL);
        _exit(127);
    }
    return p->pid < 0 ? -1 : proxy_wait(p, "microsocks");
}

/* Starts tls_front.mjs (TLS with the test CA's server certificate) in front
 * of g_px; its port is the first line it prints. */
static int front_start(proxy *p)
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    char target[16];
    snprintf(target, sizeof target, "%d", g_px.port);
    p->pid = fork();
    if (p->pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execlp(UNIWS_TEST_NODE, UNIWS_TEST_NODE, UNIWS_TEST_TLS_FRONT,
               UNIWS_TEST_CERTS "/server.pem", UNIWS_TEST_CERTS "/server.key", target,
               (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[32] = {0};
    ssize_t got = read(out[0], line, sizeof line - 1);
    /* Keep the pipe open (the front writes a line per handshake) but unread:
     * a few lines fit in the pipe's buffer. */
    p->port = got > 0 ? atoi(line) : 0;
    if (p->port <= 0) {
        fprintf(stderr, "tls_front.mjs did not start (node comes from scripts/bootstrap.sh)\n");
        close(out[0]);
        return -1;
    }
    return 0;
}

static void proxy_stop(proxy *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    if (p->dir[0]) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", p->dir);
        p->dir[0] = 0;
    }
}

/* How many CONNECTs to our peer tinyproxy has logged. */
static int connects_logged(const proxy *p)
{
    char needle[64];
    snprintf(needle, sizeof needle, "CONNECT 127.0.0.1:%d ", uniws__server_port(g_srv));
    FILE *f = fopen(p->log, "r");
    if (!f)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/* How many tunnels to our peer microsocks has logged. */
static int socks_logged(const proxy *p)
{
    char needle[64];
    snprintf(needle, sizeof needle, "connected to 127.0.0.1:%d", uniws__server_port(g_srv));
    FILE *f = fopen(p->log, "r");
    if (!f)
        return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/* The log is written by another process: give it a moment to catch up. */
static int wait_connects(const proxy *p, int at_least)
{
    int n = connects_logged(p);
    for (int i = 0; i < 40 && n < at_least; i++) {
        usleep(50 * 1000);
        n = connects_logged(p);
    }
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    clear_proxy_env();
    uniws__server_options so;
    memset(&so, 0, sizeof so);
    if (uniws__server_start(&so, &g_srv) != 0)
        return -1;
    snprintf(g_url, sizeof g_url, "ws://127.0.0.1:%d/echo", uniws__server_port(g_srv));
    so.tls_cert = UNIWS_TEST_CERTS "/server.pem";
    so.tls_key = UNIWS_TEST_CERTS "/server.key";
    if (uniws__server_start(&so, &g_tls_srv) != 0)
        return -1;
    snprintf(g_wss_url, sizeof g_wss_url, "wss://127.0.0.1:%d/echo", uniws__server_port(g_tls_srv));
    if (proxy_start(&g_px, NULL) != 0)
        return -1;
    /* ConnectPort limits CONNECT to the listed ports: ours is refused (403). */
    if (proxy_start(&g_strict_px, "ConnectPort 1\n") != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    proxy_stop(&g_px);
    proxy_stop(&g_strict_px);
    proxy_stop(&g_socks);
    proxy_stop(&g_front);
    if (g_tls_srv)
        uniws__server_stop(g_tls_srv);
    if (g_srv)
        uniws__server_stop(g_srv);
    return 0;
}

static size_t run_curl(const uniws_options *o, echo_client *c, size_t n)
{
    static const char *const curl_only[] = {"curl"};
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    size_t done = echo_run(loop, g_url, o, curl_only, 1, c, n, 20000);
    assert_int_equal(uniws_loop_free(loop), 0);
    return done;
}

static void explicit_http_proxy(void **state)
{
    (void)state;
    char px[64];
    snprintf(px, sizeof px, "http://127.0.0.1:%d", g_px.port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px;
    echo_client c[3];
    int before = connects_logged(&g_px);
    assert_int_equal(run_curl(&o, c, 3), 3);
    assert_int_equal(wait_connects(&g_px, before + 3), before + 3);
}

static void explicit_proxy_ignores_no_proxy(void **state)
{
    (void)state;
    char px[64];
    snprintf(px, sizeof px, "127.0.0.1:%d", g_px.port); /* no scheme: HTTP proxy */
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px;
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    echo_client c[1];
    int before = connects_logged(&g_px);
    size_t done = run_curl(&o, c, 1);
    clear_proxy_env();
    assert_int_equal(done, 1);
    assert_int_equal(wait_connects(&g_px, before + 1), before + 1);
}

static void env_http_proxy_for_ws(void **state)
{
    (void)state;
    char px[64];
    snprintf(px, sizeof px, "http://127.0.0.1:%d", g_px.port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    echo_client c[2];

    setenv("http_proxy", px, 1);
    int before = connects_logged(&g_px);
    size_t done = run_curl(&o, c, 2);
    int after = wait_connects(&g_px, before + 2);

    /* no_proxy names the host: straight to the server. */
    setenv("no_proxy", "127.0.0.1", 1);
    size_t done_direct = run_curl(&o, c, 2);
    usleep(200 * 1000);
    int after_direct = connects_logged(&g_px);
    clear_proxy_env();

    assert_int_equal(done, 2);
    assert_int_equal(after, before + 2);
    assert_int_equal(done_direct, 2);
    assert_int_equal(after_direct, after);
}

/* ws_proxy, then WS_PROXY, beat http_proxy for ws:// URLs. */
static void env_ws_proxy_wins(void **state)
{
    (void)state;
    char px[64], bad[64];
    snprintf(px, sizeof px, "http://127.0.0.1:%d", g_px.port);
    snprintf(bad, sizeof bad, "http://127.0.0.1:%d", free_port());
    uniws_options o;
    memset(&o, 0, sizeof o);
    echo_client c[1];
    int before = connects_logged(&g_px);

    setenv("ws_proxy", px, 1);
    setenv("WS_PROXY", bad, 1);
    setenv("http_proxy", bad, 1);
    size_t done_lower = run_curl(&o, c, 1);
    int after_lower = wait_connects(&g_px, before + 1);

    unsetenv("ws_proxy");
    setenv("WS_PROXY", px, 1);
    size_t done_upper = run_curl(&o, c, 1);
    int after_upper = wait_connects(&g_px, before + 2);
    clear_proxy_env();

    assert_int_equal(done_lower, 1);
    assert_int_equal(after_lower, before + 1);
    assert_int_equal(done_upper, 1);
    assert_int_equal(after_upper, before + 2);
}

static void proxy_refuses_connect(void **state)
{
    (void)state;
    char px[64];
    snprintf(px, sizeof px, "http://127.0.0.1:%d", g_strict_px.port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px;
    echo_client c[1];
    assert_int_equal(run_curl(&o, c, 1), 0);
    assert_true(c[0].closed);
    assert_false(c[0].opened);
    assert_int_equal(c[0].code, UNIWS_CLOSE_ABNORMAL);
    assert_int_equal(c[0].error, UNIWS_EPROXY);
    assert_int_equal(c[0].http_status, 0); /* the proxy's 403 is not the server's answer */
}

static void proxy_unreachable(void **state)
{
    (void)state;
    char px[64];
    snprintf(px, sizeof px, "http://127.0.0.1:%d", free_port());
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px;
    echo_client c[1];
    assert_int_equal(run_curl(&o, c, 1), 0);
    assert_int_equal(c[0].error, UNIWS_EPROXY);
    assert_int_equal(c[0].code, UNIWS_CLOSE_ABNORMAL);
    assert_true(strlen(c[0].message) > 0);
}

static void socks5_proxy(void **state)
{
    (void)state;
    if (g_socks.pid <= 0 && socks_start(&g_socks) != 0)
        fail_msg("could not start microsocks (see above)");
    static const char *const schemes[] = {"socks5", "socks5h"};
    for (size_t i = 0; i < 2; i++) {
        char px[64];
        snprintf(px, sizeof px, "%s://127.0.0.1:%d", schemes[i], g_socks.port);
        uniws_options o;
        memset(&o, 0, sizeof o);
        o.proxy = px;
        echo_client c[2];
        int before = socks_logged(&g_socks);
        assert_int_equal(run_curl(&o, c, 2), 2);
        int after = socks_logged(&g_socks);
        for (int t = 0; t < 40 && after < before + 2; t++) {
            usleep(50 * 1000);
            after = socks_logged(&g_socks);
        }
        assert_int_equal(after, before + 2);
    }
    /* microsocks speaks SOCKS5 only: a SOCKS4 request is a proxy failure. */
    char px4[64];
    snprintf(px4, sizeof px4, "socks4://127.0.0.1:%d", g_socks.port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px4;
    echo_client c[1];
    assert_int_equal(run_curl(&o, c, 1), 0);
    assert_int_equal(c[0].error, UNIWS_EPROXY);
}

static void https_front_up(void)
{
    if (g_front.pid <= 0 && front_start(&g_front) != 0)
        fail_msg("could not start the TLS front (see above)");
}

/* TLS to the proxy, trusted through proxy_ca_file; the tunnel is tinyproxy's. */
static void https_proxy(void **state)
{
    (void)state;
    https_front_up();
    char px[64];
    snprintf(px, sizeof px, "https://127.0.0.1:%d", g_front.port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px;
    o.proxy_ca_file = UNIWS_TEST_CERTS "/ca.pem";
    echo_client c[2];
    int before = connects_logged(&g_px);
    assert_int_equal(run_curl(&o, c, 2), 2);
    assert_int_equal(wait_connects(&g_px, before + 2), before + 2);
}

/* Without proxy_ca_file (or with another CA) the proxy is not trusted, and
 * tls_ca_file is for the server, not the proxy. */
static void https_proxy_untrusted(void **state)
{
    (void)state;
    https_front_up();
    char px[64];
    snprintf(px, sizeof px, "https://127.0.0.1:%d", g_front.port);
    static const char *const cas[] = {NULL, UNIWS_TEST_CERTS "/other-ca.pem"};
    for (size_t i = 0; i < 2; i++) {
        uniws_options o;
        memset(&o, 0, sizeof o);
        o.proxy = px;
        o.proxy_ca_file = cas[i];
        o.tls_ca_file = UNIWS_TEST_CERTS "/ca.pem";
        echo_client c[1];
        int before = connects_logged(&g_px);
        assert_int_equal(run_curl(&o, c, 1), 0);
        assert_false(c[0].opened);
        assert_int_equal(c[0].error, UNIWS_ETLS);
        assert_int_equal(c[0].code, UNIWS_CLOSE_ABNORMAL);
        usleep(100 * 1000);
        assert_int_equal(connects_logged(&g_px), before);
    }
}

/* wss:// through an https:// proxy: TLS to the server inside TLS to the
 * proxy, each verified with its own CA option. */
static void https_proxy_wss(void **state)
{
    (void)state;
    https_front_up();
    char px[64];
    snprintf(px, sizeof px, "https://127.0.0.1:%d", g_front.port);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.proxy = px;
    o.proxy_ca_file = UNIWS_TEST_CERTS "/ca.pem";
    o.tls_ca_file = UNIWS_TEST_CERTS "/ca.pem";
    static const char *const curl_only[] = {"curl"};
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    echo_client c[2];
    assert_int_equal(echo_run(loop, g_wss_url, &o, curl_only, 1, c, 2, 20000), 2);
    assert_int_equal(uniws_loop_free(loop), 0);
    /* And the server's CA does not vouch for the proxy's certificate. */
    o.tls_ca_file = UNIWS_TEST_CERTS "/ca.pem";
    o.proxy_ca_file = UNIWS_TEST_CERTS "/other-ca.pem";
    assert_int_equal(uniws_loop_new(&loop), 0);
    assert_int_equal(echo_run(loop, g_wss_url, &o, curl_only, 1, c, 1, 20000), 0);
    assert_int_equal(c[0].error, UNIWS_ETLS);
    assert_int_equal(uniws_loop_free(loop), 0);
}

/* Backends without an https:// proxy refuse the option instead of ignoring it. */
static void proxy_ca_unsupported_elsewhere(void **state)
{
    (void)state;
    for (size_t i = 0; i < uniws_backend_count(); i++) {
        uniws_backend_info info;
        assert_int_equal(uniws_backend_get(i, &info), 0);
        uniws_loop *loop;
        assert_int_equal(uniws_loop_new(&loop), 0);
        uniws_options o;
        memset(&o, 0, sizeof o);
        o.backend = info.name;
        o.proxy_ca_file = UNIWS_TEST_CERTS "/ca.pem";
        uniws_socket *s = NULL;
        int rc = uniws_connect(loop, g_url, &o, &s);
        if (info.caps & UNIWS_CAP_PROXY_CA_FILE) {
            assert_int_equal(rc, 0);
            uniws_free(s);
        } else {
            assert_int_equal(rc, UNIWS_EUNSUPPORTED);
            assert_null(s);
        }
        assert_int_equal(uniws_loop_free(loop), 0);
    }
}

static void proxy_bad_scheme(void **state)
{
    (void)state;
    uniws_loop *loop;
    assert_int_equal(uniws_loop_new(&loop), 0);
    uniws_options o;
    memset(&o, 0, sizeof o);
    o.backend = "curl";
    o.proxy = "ftp://127.0.0.1:21";
    uniws_socket *s = NULL;
    assert_int_equal(uniws_connect(loop, g_url, &o, &s), UNIWS_EINVAL);
    assert_null(s);
    assert_int_equal(uniws_loop_free(loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explicit_http_proxy),   cmocka_unit_test(explicit_proxy_ignores_no_proxy),
        cmocka_unit_test(env_http_proxy_for_ws), cmocka_unit_test(env_ws_proxy_wins),
        cmocka_unit_test(proxy_refuses_connect), cmocka_unit_test(proxy_unreachable),
        cmocka_unit_test(socks5_proxy),          cmocka_unit_test(proxy_bad_scheme),
        cmocka_unit_test(https_proxy),           cmocka_unit_test(https_proxy_untrusted),
        cmocka_unit_test(https_proxy_wss),       cmocka_unit_test(proxy_ca_unsupported_elsewhere),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
