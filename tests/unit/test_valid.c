/*
 * Unit tests for lib/valid.c: the uuid text form (RFC 9562 §4) and the
 * calendar date YYYY-MM-DD that payloads and CLI arguments are checked with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kopro/valid.h"

static void test_valid__uuid(void **state)
{
    (void)state;
    assert_true(kopro_valid_uuid("6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4c"));
    assert_true(kopro_valid_uuid("6F1C2C52-8A1E-4C1B-9D55-0A4F1D2E3B4C"));
    assert_true(kopro_valid_uuid("00000000-0000-0000-0000-000000000000"));
    assert_false(kopro_valid_uuid(NULL));
    assert_false(kopro_valid_uuid(""));
    /* no dashes, braces, a non-hex digit, a dash out of place, one short/long */
    assert_false(kopro_valid_uuid("6f1c2c528a1e4c1b9d550a4f1d2e3b4c"));
    assert_false(kopro_valid_uuid("{6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4}"));
    assert_false(kopro_valid_uuid("6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4g"));
    assert_false(kopro_valid_uuid("6f1c2c5-28a1e-4c1b-9d55-0a4f1d2e3b4c"));
    assert_false(kopro_valid_uuid("6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4"));
    assert_false(kopro_valid_uuid("6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4cc"));
    assert_false(kopro_valid_uuid("6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4c\n"));
}

static void test_valid__date(void **state)
{
    (void)state;
    assert_true(kopro_valid_date("2026-01-01"));
    assert_true(kopro_valid_date("2026-12-31"));
    assert_false(kopro_valid_date(NULL));
    assert_false(kopro_valid_date(""));
    assert_false(kopro_valid_date("2026-13-01"));
    assert_false(kopro_valid_date("2026-00-10"));
    assert_false(kopro_valid_date("2026-01-32"));
    assert_false(kopro_valid_date("2026-01-00"));
    assert_false(kopro_valid_date("2026-1-1"));
    assert_false(kopro_valid_date("2026-01-01T00:00:00Z"));
    assert_false(kopro_valid_date("01/01/2026"));
    assert_false(kopro_valid_date("2026-01-0x"));
}

static void test_valid__fingerprint(void **state)
{
    (void)state;
    assert_true(kopro_valid_fingerprint("8E5A83343979952D2422CC0C1E1BE1062BB83862"));
    assert_true(kopro_valid_fingerprint("8e5a83343979952d2422cc0c1e1be1062bb83862"));
    assert_false(kopro_valid_fingerprint(NULL));
    assert_false(kopro_valid_fingerprint(""));
    assert_false(kopro_valid_fingerprint("1E1BE1062BB83862"));                          /* long key ID */
    assert_false(kopro_valid_fingerprint("8E5A83343979952D2422CC0C1E1BE1062BB838620")); /* 41 */
    assert_false(kopro_valid_fingerprint("8E5A83343979952D2422CC0C1E1BE1062BB8386"));   /* 39 */
    assert_false(kopro_valid_fingerprint("8E5A 83343979952D2422CC0C1E1BE1062BB83862"));
    assert_false(kopro_valid_fingerprint("0x8E5A83343979952D2422CC0C1E1BE1062BB838"));
    assert_false(kopro_valid_fingerprint("demo@kopro.invalid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid__uuid),
        cmocka_unit_test(test_valid__date),
        cmocka_unit_test(test_valid__fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
