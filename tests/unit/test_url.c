/*
 * test_url.c — unit tests for core/url.c: which URLs the WebSocket
 * constructor accepts and how they are normalised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/url.h"
#include "uniws/uniws.h"

typedef struct good_case {
    const char *in;
    int tls;
    const char *host;
    int ipv6;
    unsigned port;
    const char *path;
    const char *host_header;
    const char *normalized;
} good_case;

static const good_case good[] = {
    {"ws://example.com", 0, "example.com", 0, 80, "/", "example.com", "ws://example.com/"},
    {"ws://example.com/", 0, "example.com", 0, 80, "/", "example.com", "ws://example.com/"},
    {"wss://example.com/chat", 1, "example.com", 0, 443, "/chat", "example.com",
     "wss://example.com/chat"},
    {"http://Example.COM/Path", 0, "example.com", 0, 80, "/Path", "example.com",
     "ws://example.com/Path"},
    {"HTTPS://example.com", 1, "example.com", 0, 443, "/", "example.com", "wss://example.com/"},
    {"WsS://h", 1, "h", 0, 443, "/", "h", "wss://h/"},
    {"ws://example.com:80/x", 0, "example.com", 0, 80, "/x", "example.com", "ws://example.com/x"},
    {"wss://example.com:443/x", 1, "example.com", 0, 443, "/x", "example.com",
     "wss://example.com/x"},
    {"ws://example.com:443/x", 0, "example.com", 0, 443, "/x", "example.com:443",
     "ws://example.com:443/x"},
    {"wss://example.com:80", 1, "example.com", 0, 80, "/", "example.com:80",
     "wss://example.com:80/"},
    {"ws://127.0.0.1:9001/runCase?case=1&agent=uniws", 0, "127.0.0.1", 0, 9001,
     "/runCase?case=1&agent=uniws", "127.0.0.1:9001",
     "ws://127.0.0.1:9001/runCase?case=1&agent=uniws"},
    {"ws://h:065535", 0, "h", 0, 65535, "/", "h:65535", "ws://h:65535/"},
    {"ws://h:1", 0, "h", 0, 1, "/", "h:1", "ws://h:1/"},
    {"ws://h?q", 0, "h", 0, 80, "/?q", "h", "ws://h/?q"},
    {"ws://h?", 0, "h", 0, 80, "/?", "h", "ws://h/?"},
    {"ws://h/a?b/c?d", 0, "h", 0, 80, "/a?b/c?d", "h", "ws://h/a?b/c?d"},
    {"ws://[::1]:9000/x", 0, "::1", 1, 9000, "/x", "[::1]:9000", "ws://[::1]:9000/x"},
    {"ws://[::1]", 0, "::1", 1, 80, "/", "[::1]", "ws://[::1]/"},
    {"wss://[2001:DB8::1]:443/", 1, "2001:db8::1", 1, 443, "/", "[2001:db8::1]",
     "wss://[2001:db8::1]/"},
    {"ws://[0:0:0:0:0:0:0:1]/", 0, "::1", 1, 80, "/", "[::1]", "ws://[::1]/"},
    {"ws://[1:0:0:2:0:0:0:3]/", 0, "1:0:0:2::3", 1, 80, "/", "[1:0:0:2::3]", "ws://[1:0:0:2::3]/"},
    {"ws://[1:2:3:4:5:6:7:8]/", 0, "1:2:3:4:5:6:7:8", 1, 80, "/", "[1:2:3:4:5:6:7:8]",
     "ws://[1:2:3:4:5:6:7:8]/"},
    {"ws://[1::]/", 0, "1::", 1, 80, "/", "[1::]", "ws://[1::]/"},
    {"ws://[::]/", 0, "::", 1, 80, "/", "[::]", "ws://[::]/"},
    {"ws://[1:0:2:3:4:5:6:7]/", 0, "1:0:2:3:4:5:6:7", 1, 80, "/", "[1:0:2:3:4:5:6:7]",
     "ws://[1:0:2:3:4:5:6:7]/"},
    {"ws://[::ffff:192.168.0.1]/", 0, "::ffff:c0a8:1", 1, 80, "/", "[::ffff:c0a8:1]",
     "ws://[::ffff:c0a8:1]/"},
    {"ws://[0001:02:3::]/", 0, "1:2:3::", 1, 80, "/", "[1:2:3::]", "ws://[1:2:3::]/"},
    {"ws://my-host_1.example~x%41/", 0, "my-host_1.example~xa", 0, 80, "/", "my-host_1.example~xa",
     "ws://my-host_1.example~xa/"},
    {"ws://%31%32%37.0.0.1:1/", 0, "127.0.0.1", 0, 1, "/", "127.0.0.1:1", "ws://127.0.0.1:1/"},
    {"ws://example.com./", 0, "example.com.", 0, 80, "/", "example.com.", "ws://example.com./"},
    {"ws://a.b.c.d4/", 0, "a.b.c.d4", 0, 80, "/", "a.b.c.d4", "ws://a.b.c.d4/"},
    {"ws://255.255.255.255/", 0, "255.255.255.255", 0, 80, "/", "255.255.255.255",
     "ws://255.255.255.255/"},
    {"ws://10.0.0.1.:81/", 0, "10.0.0.1", 0, 81, "/", "10.0.0.1:81", "ws://10.0.0.1:81/"},
    {"ws://h/a/./b/../c", 0, "h", 0, 80, "/a/c", "h", "ws://h/a/c"},
    {"ws://h/a/b/..", 0, "h", 0, 80, "/a/", "h", "ws://h/a/"},
    {"ws://h/../../x", 0, "h", 0, 80, "/x", "h", "ws://h/x"},
    {"ws://h/a/%2E%2e/b", 0, "h", 0, 80, "/b", "h", "ws://h/b"},
    {"ws://h//x", 0, "h", 0, 80, "//x", "h", "ws://h//x"},
    {"ws://h/a\\b", 0, "h", 0, 80, "/a/b", "h", "ws://h/a/b"},
    {"ws:\\\\h\\x", 0, "h", 0, 80, "/x", "h", "ws://h/x"},
    {"ws://h/\xc3\xa9?\xc3\xa9", 0, "h", 0, 80, "/%C3%A9?%C3%A9", "h", "ws://h/%C3%A9?%C3%A9"},
    {"ws://h/<\"`{}>?'\"<>", 0, "h", 0, 80, "/%3C%22%60%7B%7D%3E?%27%22%3C%3E", "h",
     "ws://h/%3C%22%60%7B%7D%3E?%27%22%3C%3E"},
    {"ws://h/%20ok", 0, "h", 0, 80, "/%20ok", "h", "ws://h/%20ok"},
};

static void test_good(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_case *c = &good[i];
        uniws__url u;
        int rc = uniws__url_parse(c->in, &u);
        if (rc != 0 || strcmp(u.normalized, c->normalized) != 0)
            print_message("case: %s\n", c->in);
        assert_int_equal(rc, 0);
        assert_int_equal(u.tls, c->tls);
        assert_string_equal(u.host, c->host);
        assert_int_equal(u.ipv6, c->ipv6);
        assert_int_equal(u.port, c->port);
        assert_string_equal(u.path, c->path);
        assert_string_equal(u.host_header, c->host_header);
        assert_string_equal(u.normalized, c->normalized);
        uniws__url_free(&u);
    }
}

/* Normalising is idempotent: the normalised form parses to itself. */
static void test_normalized_reparses(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        uniws__url a, b;
        assert_int_equal(uniws__url_parse(good[i].in, &a), 0);
        assert_int_equal(uniws__url_parse(a.normalized, &b), 0);
        assert_string_equal(a.normalized, b.normalized);
        assert_string_equal(a.host, b.host);
        assert_int_equal(a.port, b.port);
        uniws__url_free(&a);
        uniws__url_free(&b);
    }
}

static const char *const bad[] = {
    "",
    "example.com",
    "ftp://example.com/",
    "file:///etc/passwd",
    "wsx://h/",
    "w://h/",
    "wss:",
    "ws:",
    "ws:/h",
    "ws:h",
    "://h",
    "javascript:alert(1)",
    "ws://",
    "ws:///path",
    "ws://?q",
    "ws://:80/",
    "ws://h/#",
    "ws://h/#frag",
    "ws://h#",
    "ws://h/?a#b",
    "ws://user@h/",
    "ws://user:pass@h/",
    "ws://@h/",
    "ws://h:/",
    "ws://h:",
    "ws://h:0/",
    "ws://h:00/",
    "ws://h:65536/",
    "ws://h:99999999999999999999/",
    "ws://h:8a/",
    "ws://h:-1/",
    "ws://h:+80/",
    "ws://h:80:80/",
    "ws://h /",
    " ws://h/",
    "ws://h/ ",
    "ws://h/a b",
    "ws://h/\t",
    "ws://h/\r\n",
    "ws://h/\x01",
    "ws://h/\x7f",
    "ws://h\x1f/",
    "ws://ex ample.com/",
    "ws://exa$mple.com/",
    "ws://exa!mple/",
    "ws://h,x/",
    "ws://h\xc3\xa9/",
    "ws://[::1/",
    "ws://::1/",
    "ws://[::1]x/",
    "ws://[::1]:/",
    "ws://[::1]:0/",
    "ws://[]/",
    "ws://[:]/",
    "ws://[:::]/",
    "ws://[1:::2]/",
    "ws://[1::2::3]/",
    "ws://[1:2:3:4:5:6:7:8:9]/",
    "ws://[1:2:3:4:5:6:7]/",
    "ws://[1:2:3:4:5:6:7::8]/",
    "ws://[1:2:3:4:5:6:7:8::]/",
    "ws://[12345::]/",
    "ws://[g::1]/",
    "ws://[1:]/",
    "ws://[:1]/",
    "ws://[1::2:]/",
    "ws://[::1%25eth0]/",
    "ws://[::1.2.3]/",
    "ws://[::1.2.3.256]/",
    "ws://[1:2:3:4:5:6:7:1.2.3.4]/",
    "ws://[1.2.3.4]/",
    "ws://[v1.x]/",
    "ws://1.2.3/",
    "ws://1.2.3.4.5/",
    "ws://256.1.1.1/",
    "ws://1.2.3.999/",
    "ws://01.2.3.4/",
    "ws://1..2.3/",
    "ws://123/",
    "ws://0x7f.1/",
    "ws://example.123/",
    "ws://[::1]]/",
    "ws://h%/",
    "ws://h%4/",
    "ws://h%zz/",
    "ws://h%20x/",
    "ws://h%2f/",
    "ws://h%25/",
    "ws://h%c3%a9/",
    "ws://%31%32%33/",
};

static void test_bad(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uniws__url u;
        int rc = uniws__url_parse(bad[i], &u);
        if (rc != UNIWS_ESYNTAX)
            print_message("case: [%s] -> %d\n", bad[i], rc);
        assert_int_equal(rc, UNIWS_ESYNTAX);
        /* Nothing to free after a failure. */
        assert_null(u.host);
        assert_null(u.path);
        assert_null(u.host_header);
        assert_null(u.normalized);
        uniws__url_free(&u);
    }
}

static void test_null_args(void **state)
{
    uniws__url u;
    (void)state;
    assert_int_equal(uniws__url_parse(NULL, &u), UNIWS_EINVAL);
    assert_int_equal(uniws__url_parse("ws://h/", NULL), UNIWS_EINVAL);
    uniws__url_free(NULL);
}

static void test_free_twice_is_safe(void **state)
{
    uniws__url u;
    (void)state;
    assert_int_equal(uniws__url_parse("ws://h/", &u), 0);
    uniws__url_free(&u);
    assert_null(u.host);
    uniws__url_free(&u);
}

/* A long path survives byte for byte (no fixed-size buffers inside). */
static void test_long_path(void **state)
{
    static char in[10000];
    uniws__url u;
    size_t i;
    (void)state;
    strcpy(in, "ws://h/");
    for (i = strlen(in); i < sizeof in - 1; i++)
        in[i] = (char)('a' + i % 26);
    in[sizeof in - 1] = '\0';
    assert_int_equal(uniws__url_parse(in, &u), 0);
    assert_string_equal(u.path, in + strlen("ws://h"));
    assert_string_equal(u.normalized, in);
    uniws__url_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_normalized_reparses),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_free_twice_is_safe),
        cmocka_unit_test(test_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
