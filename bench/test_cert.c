/*
 * test_cert.c — makes the benchmarks' self-signed test certificate (see
 * test_cert.h). Valid from an hour ago for 30 days; the subject alternative
 * names cover how the bench clients dial the server: IP 127.0.0.1 (checked
 * as an address by curl and OpenSSL's IP check), and the DNS names
 * localhost and "127.0.0.1" (for clients that check an IP literal as a
 * host name, as libwebsockets 4.1.6 does).
 */
#include "test_cert.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static int fail(char *err, size_t size, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, size, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
    return -1;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

int uniws__bench_make_cert(const char *cert_path, const char *key_path, char *err, size_t err_size)
{
    int rc = -1;
    X509 *x = NULL;
    FILE *f;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return fail(err, err_size, "generating the key");
    x = X509_new();
    if (!x) {
        fail(err, err_size, "X509_new");
        goto out;
    }
    unsigned char serial[8];
    FILE *ur = fopen("/dev/urandom", "rb");
    size_t got = ur ? fread(serial, 1, sizeof serial, ur) : 0;
    if (ur)
        fclose(ur);
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, got == sizeof serial ? (int)sizeof serial : 0, NULL);
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, 2) || !bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"uniws bench 127.0.0.1", -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
        add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost,DNS:127.0.0.1") ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") ||
        add_ext(x, NID_ext_key_usage, "serverAuth") || !X509_sign(x, key, EVP_sha256())) {
        BN_free(bn);
        fail(err, err_size, "building the certificate");
        goto out;
    }
    BN_free(bn);
    int kfd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = kfd >= 0 ? fdopen(kfd, "w") : NULL;
    if (!f) {
        if (kfd >= 0)
            close(kfd);
        snprintf(err, err_size, "cannot write %s", key_path);
        goto out;
    }
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok) {
        fail(err, err_size, "writing the key");
        goto out;
    }
    f = fopen(cert_path, "w");
    if (!f) {
        snprintf(err, err_size, "cannot write %s", cert_path);
        goto out;
    }
    ok = PEM_write_X509(f, x);
    if (fclose(f) != 0 || !ok) {
        fail(err, err_size, "writing the certificate");
        goto out;
    }
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
