/*
 * test_curl_tls_reason.c — backends/curl/tls_reason.c: Schannel's
 * CERT_TRUST_* statuses come out in words, other messages stay as they are,
 * and the silent IP-address mismatch is named only over Schannel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "backends/curl/tls_reason.h"

static void test_partial_chain_in_words(void **state)
{
    (void)state;
    char buf[256];
    const char *in = "schannel: CertGetCertificateChain trust error CERT_TRUST_IS_PARTIAL_CHAIN";
    const char *out = uniws__curl_tls_reason(in, buf, sizeof buf);
    assert_ptr_equal(out, buf);
    assert_int_equal(strncmp(out, in, strlen(in)), 0);
    assert_non_null(strstr(out, "unknown issuer"));
}

static void test_expired_and_root_in_words(void **state)
{
    (void)state;
    char buf[256];
    assert_non_null(strstr(
        uniws__curl_tls_reason("x CERT_TRUST_IS_NOT_TIME_VALID", buf, sizeof buf), "expired"));
    assert_non_null(
        strstr(uniws__curl_tls_reason("x CERT_TRUST_IS_UNTRUSTED_ROOT", buf, sizeof buf),
               "self-signed root"));
}

/* libcurl prints the flags it has no line for as a mask: Wine 8 said
 * 0x00000008 (signature not valid) for a test certificate it misread. */
static void test_error_mask_in_words(void **state)
{
    (void)state;
    char buf[256];
    const char *in = "schannel: CertGetCertificateChain error mask: 0x00000008";
    const char *out = uniws__curl_tls_reason(in, buf, sizeof buf);
    assert_ptr_equal(out, buf);
    assert_int_equal(strncmp(out, in, strlen(in)), 0);
    assert_non_null(strstr(out, "signature is not valid"));
    assert_null(strstr(out, "expired"));
    out = uniws__curl_tls_reason("x error mask: 0x00000090", buf, sizeof buf);
    assert_non_null(strstr(out, "server authentication"));
    assert_non_null(strstr(out, "cyclic"));
    in = "x error mask: 0x00000000";
    assert_ptr_equal(uniws__curl_tls_reason(in, buf, sizeof buf), in);
}

static void test_other_messages_unchanged(void **state)
{
    (void)state;
    char buf[256];
    const char *in = "SSL certificate problem: certificate has expired";
    assert_ptr_equal(uniws__curl_tls_reason(in, buf, sizeof buf), in);
    assert_null(uniws__curl_tls_reason(NULL, buf, sizeof buf));
}

static void test_small_buffer_truncates(void **state)
{
    (void)state;
    char buf[16];
    const char *out = uniws__curl_tls_reason("CERT_TRUST_IS_PARTIAL_CHAIN", buf, sizeof buf);
    assert_int_equal(strlen(out), sizeof buf - 1);
}

static void test_silent_reason_only_for_schannel_ip(void **state)
{
    (void)state;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    int schannel = v->ssl_version && !strncmp(v->ssl_version, "Schannel", 8);
    const char *ip = uniws__curl_tls_silent_reason("wss://127.0.0.1:443/echo");
    if (schannel)
        assert_non_null(ip && strstr(ip, "match"));
    else
        assert_null(ip);
    assert_null(uniws__curl_tls_silent_reason("wss://localhost:443/echo"));
    assert_null(uniws__curl_tls_silent_reason("wss://1.example:443/"));
    assert_null(uniws__curl_tls_silent_reason(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_chain_in_words),
        cmocka_unit_test(test_expired_and_root_in_words),
        cmocka_unit_test(test_error_mask_in_words),
        cmocka_unit_test(test_other_messages_unchanged),
        cmocka_unit_test(test_small_buffer_truncates),
        cmocka_unit_test(test_silent_reason_only_for_schannel_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
