/* Unit tests for lib/docstore.c: store URLs and their errors (no network,
 * no database). Real S3 puts are tested in
 * tests/integration/test_pdf_store_s3.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/fs.h"

static void test_docstore__is_s3(void **state)
{
    (void)state;
    assert_true(kopro_docstore_is_s3("s3://b/p"));
    assert_false(kopro_docstore_is_s3("file:///tmp/x"));
    assert_false(kopro_docstore_is_s3("/tmp/s3://x"));
    assert_false(kopro_docstore_is_s3(NULL));
}

static void test_docstore__s3_url_errors(void **state)
{
    char *loc = NULL;
    (void)state;
    setenv("KOPRO_S3_ENDPOINT", "http://127.0.0.1:1", 1);
    setenv("KOPRO_S3_REGION", "gra", 1);
    setenv("KOPRO_S3_ACCESS_KEY", "a", 1);
    setenv("KOPRO_S3_SECRET_KEY", "b", 1);
    assert_int_equal(kopro_docstore_put_cfg(&loc, NULL, "s3:///docs", "o/b/pv/m.pdf", "x", 1),
                     KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "no bucket"));
    assert_int_equal(kopro_docstore_put_cfg(&loc, NULL, "s3://bk/docs", "o/../m.pdf", "x", 1),
                     KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "o/../m.pdf"));
    assert_int_equal(kopro_docstore_put_cfg(&loc, NULL, "s3://bk/docs", "/o/m.pdf", "x", 1),
                     KOPRO_EINVAL);
    assert_int_equal(kopro_docstore_put_cfg(&loc, NULL, "ftp://h/docs", "o/m.pdf", "x", 1),
                     KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "ftp://h/docs"));
    /* the file-only entry point refuses s3:// rather than writing a local file */
    assert_int_equal(kopro_docstore_put(&loc, "s3://bk/docs", "o/m.pdf", "x", 1), KOPRO_EINVAL);
    unsetenv("KOPRO_S3_ENDPOINT");
    assert_int_equal(kopro_docstore_put_cfg(&loc, NULL, "s3://bk/docs", "o/m.pdf", "x", 1),
                     KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "KOPRO_S3_ENDPOINT"));
    assert_non_null(strstr(kopro_error_last(), "s3://bk/docs/o/m.pdf"));
    assert_null(loc);
}

static void test_docstore__file_store_through_put_cfg(void **state)
{
    char dir[] = "/tmp/kopro-docstore-XXXXXX", url[64], *loc = NULL, *want = NULL;
    struct stat st;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "file://%s", dir);
    assert_int_equal(kopro_docstore_put_cfg(&loc, NULL, url, "o/b/pv/m-fr.pdf", "%PDF", 4), 0);
    assert_int_not_equal(asprintf(&want, "%s/o/b/pv/m-fr.pdf", dir), -1);
    assert_string_equal(loc, want);
    assert_int_equal(stat(loc, &st), 0);
    assert_int_equal(st.st_size, 4);
    unlink(loc);
    free(want);
    assert_int_not_equal(asprintf(&want, "%s/o/b/pv", dir), -1);
    rmdir(want);
    free(want);
    assert_int_not_equal(asprintf(&want, "%s/o/b", dir), -1);
    rmdir(want);
    free(want);
    assert_int_not_equal(asprintf(&want, "%s/o", dir), -1);
    rmdir(want);
    free(want);
    rmdir(dir);
    free(loc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docstore__is_s3),
        cmocka_unit_test(test_docstore__s3_url_errors),
        cmocka_unit_test(test_docstore__file_store_through_put_cfg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
