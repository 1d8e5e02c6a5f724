/*
 * Unit tests for lib/gdpr_register.c: the register covers every column of
 * tests/fixtures/koprogo-schema.sql (parsed here, CREATE TABLE blocks), names
 * no column that does not exist, and classifies personal data consistently.
 * Run from the repository root (tests/run-unit.sh does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/gdpr.h"

#define SCHEMA "tests/fixtures/koprogo-schema.sql"
#define MAX_COLS 1024

struct col {
    char table[64], column[64];
};

/* Every table.column of the CREATE TABLE blocks of the schema file. */
static int parse_schema(struct col *out, int max)
{
    char *sql = NULL;
    int n = 0;
    assert_int_equal(kopro_fs_read_file(&sql, NULL, SCHEMA, 1 << 20), 0);
    char *p = sql;
    while ((p = strstr(p, "CREATE TABLE ")) != NULL) {
        char table[64] = "";
        p += strlen("CREATE TABLE ");
        assert_int_equal(sscanf(p, "%63[a-z_]", table), 1);
        char *body = strchr(p, '\n');
        char *end = strstr(p, "\n);");
        assert_non_null(body);
        assert_non_null(end);
        for (char *line = body + 1; line < end;) {
            char *nl = strchr(line, '\n');
            while (*line == ' ')
                line++;
            char word[64] = "";
            /* A column line starts with its lowercase name; constraints are uppercase. */
            if (sscanf(line, "%63[a-zA-Z_]", word) == 1 && islower((unsigned char)word[0])) {
                assert_true(n < max);
                snprintf(out[n].table, sizeof out[n].table, "%s", table);
                snprintf(out[n].column, sizeof out[n].column, "%s", word);
                n++;
            }
            line = nl + 1;
        }
        p = end;
    }
    free(sql);
    return n;
}

static void test_gdpr__register_covers_every_schema_column(void **state)
{
    static struct col cols[MAX_COLS];
    (void)state;
    int n = parse_schema(cols, MAX_COLS);
    assert_true(n > 300); /* 27 tables; a parse failure would find few */
    int missing = 0;
    for (int i = 0; i < n; i++) {
        if (kopro_gdpr_register_find(cols[i].table, cols[i].column) == NULL) {
            fprintf(stderr, "register misses %s.%s\n", cols[i].table, cols[i].column);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    size_t nreg = 0;
    kopro_gdpr_register(&nreg);
    assert_int_equal((int)nreg, n); /* and names nothing the schema lacks */
}

static void test_gdpr__register_sorted_and_unique(void **state)
{
    size_t n = 0;
    const struct kopro_gdpr_column *r = kopro_gdpr_register(&n);
    (void)state;
    for (size_t i = 1; i < n; i++) {
        int c = strcmp(r[i - 1].table, r[i].table);
        if (c == 0)
            c = strcmp(r[i - 1].column, r[i].column);
        assert_true(c < 0);
    }
    assert_null(kopro_gdpr_register_find("owners", "shoe_size"));
    assert_null(kopro_gdpr_register_find(NULL, "email"));
}

static void test_gdpr__personal_data_is_classified(void **state)
{
    size_t n = 0;
    const struct kopro_gdpr_column *r = kopro_gdpr_register(&n);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        if (r[i].category == KOPRO_GDPR_CAT_NONE) {
            assert_int_equal(r[i].action, KOPRO_GDPR_ACT_KEEP);
            continue;
        }
        /* Personal data always has a basis and a retention class. */
        assert_int_not_equal(r[i].basis, KOPRO_GDPR_BASIS_NONE);
        assert_int_not_equal(r[i].retention, KOPRO_GDPR_RET_NONE);
    }
    const struct kopro_gdpr_column *e = kopro_gdpr_register_find("owners", "email");
    assert_non_null(e);
    assert_int_equal(e->category, KOPRO_GDPR_CAT_CONTACT);
    assert_int_equal(e->action, KOPRO_GDPR_ACT_DELETE);
    e = kopro_gdpr_register_find("owners", "phone");
    assert_int_equal(e->action, KOPRO_GDPR_ACT_DELETE);
    e = kopro_gdpr_register_find("owners", "last_name");
    assert_int_equal(e->action, KOPRO_GDPR_ACT_ANONYMIZE);
    e = kopro_gdpr_register_find("users", "password_hash");
    assert_int_equal(e->exported, 0);
    e = kopro_gdpr_register_find("votes", "vote_choice");
    assert_int_equal(e->category, KOPRO_GDPR_CAT_VOTING);
    assert_int_equal(e->retention, KOPRO_GDPR_RET_ASSOCIATION);
    assert_int_equal(e->action, KOPRO_GDPR_ACT_KEEP_RESTRICTED);
    e = kopro_gdpr_register_find("owner_contributions", "amount");
    assert_int_equal(e->retention, KOPRO_GDPR_RET_ACCOUNTING);
    e = kopro_gdpr_register_find("convocation_recipients", "email");
    assert_int_equal(e->action, KOPRO_GDPR_ACT_DELETE);
    for (int c = 0; c < KOPRO_GDPR_CAT_COUNT; c++) {
        const struct kopro_gdpr_category_info *info = kopro_gdpr_category_describe(c);
        assert_non_null(info);
        assert_string_equal(info->name, kopro_gdpr_category_name(c));
    }
    assert_null(kopro_gdpr_category_describe(KOPRO_GDPR_CAT_COUNT));
}

static void test_gdpr__accounting_years_configurable(void **state)
{
    int y = 0;
    (void)state;
    unsetenv("KOPRO_GDPR_ACCOUNTING_YEARS");
    assert_int_equal(kopro_gdpr_accounting_years(&y, NULL), 0);
    assert_int_equal(y, 7);
    setenv("KOPRO_GDPR_ACCOUNTING_YEARS", "10", 1);
    assert_int_equal(kopro_gdpr_accounting_years(&y, NULL), 0);
    assert_int_equal(y, 10);
    setenv("KOPRO_GDPR_ACCOUNTING_YEARS", "ten", 1);
    assert_int_equal(kopro_gdpr_accounting_years(&y, NULL), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "KOPRO_GDPR_ACCOUNTING_YEARS='ten'"));
    setenv("KOPRO_GDPR_ACCOUNTING_YEARS", "0", 1);
    assert_int_equal(kopro_gdpr_accounting_years(&y, NULL), KOPRO_EINVAL);
    unsetenv("KOPRO_GDPR_ACCOUNTING_YEARS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gdpr__register_covers_every_schema_column),
        cmocka_unit_test(test_gdpr__register_sorted_and_unique),
        cmocka_unit_test(test_gdpr__personal_data_is_classified),
        cmocka_unit_test(test_gdpr__accounting_years_configurable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
