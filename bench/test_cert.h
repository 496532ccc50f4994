/*
 * test_cert.h — a throw-away TLS identity for the benchmarks' wss:// runs:
 * a fresh P-256 key and a self-signed certificate for 127.0.0.1 and
 * localhost, made with OpenSSL at start-up (no openssl CLI, nothing kept).
 * The certificate file doubles as the CA file clients verify the server with.
 */
#ifndef UNIWS_BENCH_TEST_CERT_H
#define UNIWS_BENCH_TEST_CERT_H

#include <stddef.h>

/* Writes the certificate (PEM) to cert_path and the private key (PEM, mode
 * 0600) to key_path. Returns 0, or -1 with the reason in err. */
int uniws__bench_make_cert(const char *cert_path, const char *key_path, char *err, size_t err_size);

#endif
