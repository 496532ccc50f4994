/* test_error.c — the error table: unique values, names and descriptions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "uniws/uniws.h"

static const struct {
    int code;
    const char *name;
} table[] = {
#define UNIWS__T(name, val, desc) {val, "UNIWS_E" #name},
    UNIWS_ERRNO_MAP(UNIWS__T)
#undef UNIWS__T
};
#define N (sizeof table / sizeof table[0])

static void codes_are_negative_and_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++) {
        assert_true(table[i].code < 0);
        for (size_t j = i + 1; j < N; j++)
            assert_int_not_equal(table[i].code, table[j].code);
    }
}

static void every_code_has_name_and_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++) {
        assert_string_equal(uniws_err_name(table[i].code), table[i].name);
        const char *d = uniws_strerror(table[i].code);
        assert_non_null(d);
        assert_true(strlen(d) > 5);
        assert_string_not_equal(d, "unknown error");
    }
}

static void unknown_and_ok(void **state)
{
    (void)state;
    assert_string_equal(uniws_strerror(0), "success");
    assert_string_equal(uniws_err_name(0), "UNIWS_OK");
    assert_string_equal(uniws_strerror(-9999), "unknown error");
    assert_string_equal(uniws_err_name(12345), "UNIWS_EUNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_are_negative_and_unique),
        cmocka_unit_test(every_code_has_name_and_text),
        cmocka_unit_test(unknown_and_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
