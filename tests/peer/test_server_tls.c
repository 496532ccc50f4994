/*
 * test_server_tls.c — the network peer's TLS commands (tools/server/server.c,
 * docs/peer.md "TLS broken mid-stream") seen from an OpenSSL client of our
 * own: tls-garble writes a record that fails its check, tls-plain writes
 * bytes that are no record, rst resets TCP after TLS data, tls-fin (and
 * fin) end TLS with close_notify, tls-truncate without, and a server
 * without TLS refuses the tls-* commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tools/server/server.h"
#include "net_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST                                                                                    \
    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"          \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

/* A TLS server on a fresh self-signed certificate (files in dir). */
typedef struct fixture {
    char dir[64], cert[96], key[96];
    uniws__server *srv;
    int port;
    SSL_CTX *client;
} fixture;

static void make_cert(fixture *f)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(key);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    FILE *fc = fopen(f->cert, "w"), *fk = fopen(f->key, "w");
    assert_non_null(fc);
    assert_non_null(fk);
    assert_int_equal(PEM_write_X509(fc, x), 1);
    assert_int_equal(PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fc);
    fclose(fk);
    X509_free(x);
    EVP_PKEY_free(key);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/uniws-srvtls-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->cert, sizeof f->cert, "%s/cert.pem", f->dir);
    snprintf(f->key, sizeof f->key, "%s/key.pem", f->dir);
    make_cert(f);
    uniws__server_options o;
    memset(&o, 0, sizeof o);
    o.tls_cert = f->cert;
    o.tls_key = f->key;
    assert_int_equal(uniws__server_start(&o, &f->srv), 0);
    f->port = uniws__server_port(f->srv);
    f->client = SSL_CTX_new(TLS_client_method());
    assert_non_null(f->client);
    SSL_CTX_set_verify(f->client, SSL_VERIFY_NONE, NULL); /* the peer, not the certificate */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    uniws__server_stop(f->srv);
    SSL_CTX_free(f->client);
    unlink(f->cert);
    unlink(f->key);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int connect_to(int port)
{
    int fd = net_client_connect(port);
    assert_true(fd >= 0);
    return fd;
}

/* Opens wss to path and reads, record by record, the 101 and the text
 * message "hello" (OpenSSL reads no further than the record it returns, so
 * whatever the peer wrote next is still unread in the socket). */
static SSL *open_hello(fixture *f, const char *path, int *fd)
{
    *fd = connect_to(f->port);
    SSL *ssl = SSL_new(f->client);
    assert_non_null(ssl);
    assert_int_equal(SSL_set_fd(ssl, *fd), 1);
    assert_int_equal(SSL_connect(ssl), 1);
    char req[512];
    int n = snprintf(req, sizeof req, REQUEST, path);
    assert_int_equal(SSL_write(ssl, req, n), n);
    char in[4096];
    size_t len = 0;
    static const char hello[] = "\x81\x05hello";
    for (;;) {
        char *end = len ? strstr(in, "\r\n\r\n") : NULL;
        if (end && len - (size_t)(end + 4 - in) >= sizeof hello - 1) {
            assert_memory_equal(in, "HTTP/1.1 101 ", 13);
            assert_int_equal(len - (size_t)(end + 4 - in), sizeof hello - 1);
            assert_memory_equal(end + 4, hello, sizeof hello - 1);
            return ssl;
        }
        int r = SSL_read(ssl, in + len, (int)(sizeof in - 1 - len));
        assert_true(r > 0);
        len += (size_t)r;
        in[len] = 0;
    }
}

/* tls-garble: the next record fails the client's check (the AEAD tag). */
static void test_garble(void **state)
{
    fixture *f = *state;
    int fd;
    SSL *ssl = open_hello(f, "/script/text:hello/tls-garble/text:after", &fd);
    char buf[256];
    ERR_clear_error();
    int r = SSL_read(ssl, buf, sizeof buf);
    assert_true(r <= 0);
    assert_int_equal(SSL_get_error(ssl, r), SSL_ERROR_SSL);
    assert_int_equal(ERR_GET_REASON(ERR_peek_error()), SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

/* tls-plain: the frame itself, unencrypted, right after the last record; a
 * TLS client fails on it as a record. */
static void test_plain(void **state)
{
    fixture *f = *state;
    int fd;
    SSL *ssl = open_hello(f, "/script/text:hello/tls-plain/text:after", &fd);
    char raw[7];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t r = recv(fd, raw + got, sizeof raw - got, 0);
        assert_true(r > 0);
        got += (size_t)r;
    }
    assert_memory_equal(raw, "\x81\x05plain", 7);
    SSL_free(ssl);
    close(fd);

    ssl = open_hello(f, "/script/text:hello/tls-plain", &fd);
    char buf[256];
    ERR_clear_error();
    int r = SSL_read(ssl, buf, sizeof buf);
    assert_true(r <= 0);
    assert_int_equal(SSL_get_error(ssl, r), SSL_ERROR_SSL);
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

/* rst after TLS data: a reset, not a TLS alert or close_notify. */
static void test_rst(void **state)
{
    fixture *f = *state;
    int fd;
    SSL *ssl = open_hello(f, "/script/text:hello/rst", &fd);
    char buf[256];
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(ssl, buf, sizeof buf);
    assert_true(r <= 0);
    assert_int_equal(SSL_get_error(ssl, r), SSL_ERROR_SYSCALL);
    assert_int_equal(errno, ECONNRESET);
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

/* The end of the TLS stream as the client's SSL_read() sees it: close_notify
 * (tls-fin, and fin on TLS) is the orderly end, SSL_ERROR_ZERO_RETURN; a
 * FIN without it (tls-truncate) is an unexpected end (OpenSSL 3: an
 * SSL_ERROR_SSL "unexpected eof while reading"; 1.1: SSL_ERROR_SYSCALL with
 * no error queued and errno 0), never a reset. */
static int read_end(fixture *f, const char *path)
{
    int fd;
    SSL *ssl = open_hello(f, path, &fd);
    char buf[256];
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(ssl, buf, sizeof buf);
    assert_true(r <= 0);
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_SSL) {
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        assert_int_equal(ERR_GET_REASON(ERR_peek_error()), SSL_R_UNEXPECTED_EOF_WHILE_READING);
#else
        fail_msg("a TLS failure where the stream only ended");
#endif
    } else if (e == SSL_ERROR_SYSCALL) {
        assert_int_equal(ERR_peek_error(), 0);
        assert_int_equal(errno, 0);
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return e;
}

static void test_tls_fin(void **state)
{
    fixture *f = *state;
    assert_int_equal(read_end(f, "/script/text:hello/tls-fin/text:after"), SSL_ERROR_ZERO_RETURN);
    assert_int_equal(read_end(f, "/script/text:hello/fin"), SSL_ERROR_ZERO_RETURN);
}

static void test_tls_truncate(void **state)
{
    fixture *f = *state;
    int e = read_end(f, "/script/text:hello/tls-truncate/text:after");
    assert_true(e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL);
}

/* Without TLS the commands are refused: 400 naming the command. */
static void test_refused_without_tls(void **state)
{
    (void)state;
    uniws__server_options o;
    memset(&o, 0, sizeof o);
    uniws__server *srv = NULL;
    assert_int_equal(uniws__server_start(&o, &srv), 0);
    static const char *const cmds[] = {"tls-garble", "tls-plain", "tls-fin", "tls-truncate"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int fd = connect_to(uniws__server_port(srv));
        char req[512], path[64], in[1024];
        snprintf(path, sizeof path, "/script/text:a/%s", cmds[i]);
        int n = snprintf(req, sizeof req, REQUEST, path);
        assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
        size_t len = 0;
        ssize_t r;
        while (len < sizeof in - 1 && (r = recv(fd, in + len, sizeof in - 1 - len, 0)) > 0)
            len += (size_t)r;
        in[len] = 0;
        assert_memory_equal(in, "HTTP/1.1 400 ", 13);
        assert_non_null(strstr(in, cmds[i]));
        close(fd);
    }
    uniws__server_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_garble, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_fin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_truncate, setup, teardown),
        cmocka_unit_test(test_refused_without_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
