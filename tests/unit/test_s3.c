/* Unit tests for lib/s3.c: settings validation (no network needed). The
 * requests themselves are tested against a real S3 server in
 * tests/integration/test_backup_s3.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kopro/error.h"
#include "kopro/repo.h"
#include "kopro/s3.h"

static struct kopro_s3_settings good(void)
{
    struct kopro_s3_settings s;
    memset(&s, 0, sizeof(s));
    s.endpoint = "https://s3.gra.io.cloud.ovh.net";
    s.region = "gra";
    s.access_key = "AKIDEXAMPLE";
    s.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return s;
}

static void test_s3__valid_settings(void **state)
{
    struct kopro_s3_settings s = good();
    struct kopro_s3 *c = NULL;
    (void)state;
    assert_int_equal(kopro_s3_new(&c, &s, "kopro-backups"), 0);
    assert_non_null(c);
    assert_int_equal(kopro_s3_retries(c), 0);
    kopro_s3_free(c);
    kopro_s3_free(NULL);
}

static void expect_einval(struct kopro_s3_settings s, const char *bucket, const char *needle)
{
    struct kopro_s3 *c = NULL;
    assert_int_equal(kopro_s3_new(&c, &s, bucket), KOPRO_EINVAL);
    assert_null(c);
    if (strstr(kopro_error_last(), needle) == NULL)
        fail_msg("error '%s' does not mention '%s'", kopro_error_last(), needle);
}

static void test_s3__bad_settings_name_the_setting(void **state)
{
    struct kopro_s3_settings s;
    (void)state;
    s = good();
    s.endpoint = NULL;
    expect_einval(s, "b-ok", "KOPRO_S3_ENDPOINT");
    s = good();
    s.endpoint = "ftp://host";
    expect_einval(s, "b-ok", "ftp://host");
    s = good();
    s.endpoint = "https://host/some/path";
    expect_einval(s, "b-ok", "without a path");
    s = good();
    s.region = "";
    expect_einval(s, "b-ok", "KOPRO_S3_REGION");
    s = good();
    s.region = "gra/../x";
    expect_einval(s, "b-ok", "malformed");
    s = good();
    s.secret_key = NULL;
    expect_einval(s, "b-ok", "KOPRO_S3_SECRET_KEY");
    s = good();
    s.access_key = "a:b";
    expect_einval(s, "b-ok", "':'");
    s = good();
    expect_einval(s, "Upper_Case", "Upper_Case");
    expect_einval(s, "ab", "not valid");
}

static void test_s3__repo_url_errors(void **state)
{
    struct kopro_repo *r = NULL;
    (void)state;
    assert_int_equal(kopro_repo_open(&r, "ftp://x/y", NULL), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "ftp://x/y"));
    assert_int_equal(kopro_repo_open(&r, "file://relative/path", NULL), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "absolute"));
    unsetenv("KOPRO_S3_ENDPOINT");
    assert_int_equal(kopro_repo_open(&r, "s3://bucket/prefix", NULL), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "KOPRO_S3_ENDPOINT"));
    assert_null(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3__valid_settings),
        cmocka_unit_test(test_s3__bad_settings_name_the_setting),
        cmocka_unit_test(test_s3__repo_url_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
