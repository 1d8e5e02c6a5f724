/* Unit tests for lib/i18n.c: templates, number/money/date formatting, tz. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/buf.h"
#include "kopro/error.h"
#include "kopro/i18n.h"

static const char *const docs[] = {"minutes", "votes", "pcn", "statement"};
static const char *const langs[] = {"fr", "nl", "de", "en"};

/* The four languages of every document must define exactly the same keys. */
static void test_i18n__key_sets_match(void **state)
{
    (void)state;
    for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
        char *ref = NULL;
        for (size_t l = 0; l < 4; l++) {
            struct kopro_i18n *t = NULL;
            char *keys = NULL;
            int rc = kopro_i18n_load(&t, NULL, docs[d], langs[l]);
            if (rc != 0)
                fail_msg("%s", kopro_error_last());
            assert_int_equal(kopro_i18n_keys(&keys, t), 0);
            if (ref == NULL) {
                ref = keys;
            } else {
                if (strcmp(ref, keys) != 0)
                    fail_msg("templates/%s/%s.json keys differ from %s.json", docs[d], langs[l],
                             langs[0]);
                free(keys);
            }
            kopro_i18n_free(t);
        }
        free(ref);
    }
}

static void test_i18n__missing_key_names_file_and_key(void **state)
{
    struct kopro_i18n *t = NULL;
    const char *s = NULL;
    (void)state;
    assert_int_equal(kopro_i18n_load(&t, NULL, "minutes", "nl"), 0);
    assert_int_equal(kopro_i18n_get(&s, t, "no_such_key"), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "minutes/nl.json"));
    assert_non_null(strstr(kopro_error_last(), "no_such_key"));
    assert_string_equal(kopro_i18n_s(t, "other_missing"), "");
    assert_int_equal(kopro_i18n_status(t), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "other_missing"));
    kopro_i18n_free(t);
}

static void test_i18n__unknown_language_and_document(void **state)
{
    struct kopro_i18n *t = NULL;
    (void)state;
    assert_int_equal(kopro_i18n_load(&t, NULL, "minutes", "es"), KOPRO_EINVAL);
    assert_null(t);
    assert_int_equal(kopro_i18n_load(&t, NULL, "nonexistent-doc", "fr"), KOPRO_ENOTFOUND);
    assert_non_null(strstr(kopro_error_last(), "nonexistent-doc/fr.json"));
}

static void test_i18n__money_per_language(void **state)
{
    char s[64];
    (void)state;
    kopro_i18n_money(s, sizeof(s), "fr", 123456);
    assert_string_equal(s, "1.234,56 €");
    kopro_i18n_money(s, sizeof(s), "nl", 123456);
    assert_string_equal(s, "1.234,56 €");
    kopro_i18n_money(s, sizeof(s), "de", -5);
    assert_string_equal(s, "-0,05 €");
    kopro_i18n_money(s, sizeof(s), "en", 123456789);
    assert_string_equal(s, "€1,234,567.89");
    kopro_i18n_money(s, sizeof(s), "en", INT64_MIN);
    assert_string_equal(s, "-€92,233,720,368,547,758.08");
}

static void test_i18n__percent_rounds_half_up_exactly(void **state)
{
    char s[64];
    (void)state;
    kopro_i18n_percent(s, sizeof(s), "fr", 2, 3);
    assert_string_equal(s, "66,67 %");
    kopro_i18n_percent(s, sizeof(s), "en", 1, 8); /* 12.5 exactly */
    assert_string_equal(s, "12.50%");
    kopro_i18n_percent(s, sizeof(s), "en", 1, 80000); /* 0.00125 -> 0.00 */
    assert_string_equal(s, "0.00%");
    kopro_i18n_percent(s, sizeof(s), "de", 1, 0);
    assert_string_equal(s, "—");
}

static void test_i18n__brussels_dst_from_tz_database(void **state)
{
    char s[96];
    time_t t;
    (void)state;
    /* 2026-03-29 00:59:59Z is 01:59:59 CET; one second later 03:00 CEST (EU rule) */
    assert_int_equal(kopro_i18n_parse_time(&t, "2026-03-29T00:59:59Z"), 0);
    assert_int_equal(kopro_i18n_datetime(s, sizeof(s), "en", t), 0);
    assert_string_equal(s, "29 March 2026, 01:59 CET");
    assert_int_equal(kopro_i18n_datetime(s, sizeof(s), "fr", t + 1), 0);
    assert_string_equal(s, "29 mars 2026, 03:00 CEST");
    assert_int_equal(kopro_i18n_parse_time(&t, "2026-12-31 23:30:00+00"), 0);
    assert_int_equal(kopro_i18n_date(s, sizeof(s), "de", t), 0);
    assert_string_equal(s, "1. Januar 2027");
    assert_int_equal(kopro_i18n_parse_time(&t, "2026-03-12T14:05:00.5+01:00"), 0);
    assert_int_equal(kopro_i18n_date(s, sizeof(s), "nl", t), 0);
    assert_string_equal(s, "12 maart 2026");
}

static void test_i18n__independent_of_process_tz(void **state)
{
    char a[96], b[96];
    time_t t = 1780000000;
    (void)state;
    setenv("TZ", "America/New_York", 1);
    assert_int_equal(kopro_i18n_datetime(a, sizeof(a), "fr", t), 0);
    setenv("TZ", "Asia/Tokyo", 1);
    assert_int_equal(kopro_i18n_datetime(b, sizeof(b), "fr", t), 0);
    unsetenv("TZ");
    assert_string_equal(a, b);
}

static void test_i18n__parse_time_rejects_ambiguous(void **state)
{
    time_t t;
    (void)state;
    assert_int_equal(kopro_i18n_parse_time(&t, "2026-03-12T14:05:00"), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "2026-03-12T14:05:00"));
    assert_int_equal(kopro_i18n_parse_time(&t, "12/03/2026"), KOPRO_EINVAL);
    assert_int_equal(kopro_i18n_parse_time(&t, "2026-03-12"), 0);
    assert_int_equal((long long)t, 1773273600LL);
}

static void test_i18n__subst(void **state)
{
    struct kopro_buf b;
    const char *kv[] = {"page", "2", "pages", "7", NULL};
    (void)state;
    kopro_buf_init(&b, 256);
    assert_int_equal(kopro_i18n_subst(&b, "page {page} / {pages} {{x}", kv), 0);
    assert_string_equal(b.data, "page 2 / 7 {x}");
    kopro_buf_reset(&b);
    assert_int_equal(kopro_i18n_subst(&b, "{nope}", kv), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "{nope}"));
    kopro_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i18n__key_sets_match),
        cmocka_unit_test(test_i18n__missing_key_names_file_and_key),
        cmocka_unit_test(test_i18n__unknown_language_and_document),
        cmocka_unit_test(test_i18n__money_per_language),
        cmocka_unit_test(test_i18n__percent_rounds_half_up_exactly),
        cmocka_unit_test(test_i18n__brussels_dst_from_tz_database),
        cmocka_unit_test(test_i18n__independent_of_process_tz),
        cmocka_unit_test(test_i18n__parse_time_rejects_ambiguous),
        cmocka_unit_test(test_i18n__subst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
