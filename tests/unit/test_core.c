/* Unit tests for lib/buf.c, lib/error.c and lib/config.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kopro/buf.h"
#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/hash.h"

static void test_buf__append_and_detach(void **state)
{
    struct kopro_buf b;
    char *s;
    (void)state;
    kopro_buf_init(&b, 64);
    assert_int_equal(kopro_buf_adds(&b, "quote-part "), 0);
    assert_int_equal(kopro_buf_addf(&b, "%d/%d", 250, 10000), 0);
    assert_string_equal(b.data, "quote-part 250/10000");
    s = kopro_buf_detach(&b);
    assert_string_equal(s, "quote-part 250/10000");
    assert_null(b.data);
    free(s);
}

static void test_buf__cap_frees_and_reports(void **state)
{
    struct kopro_buf b;
    (void)state;
    kopro_buf_init(&b, 8);
    assert_int_equal(kopro_buf_adds(&b, "12345678"), 0);
    assert_int_equal(kopro_buf_adds(&b, "9"), KOPRO_ETOOBIG);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_non_null(strstr(kopro_error_last(), "cap of 8 bytes"));
}

static void test_buf__long_format(void **state)
{
    struct kopro_buf b;
    char big[2000];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kopro_buf_init(&b, 4096);
    assert_int_equal(kopro_buf_addf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 2001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[2000], '>');
    kopro_buf_free(&b);
}

static void test_error__wrap_and_exit_codes(void **state)
{
    (void)state;
    kopro_error_clear();
    assert_string_equal(kopro_error_last(), "");
    assert_int_equal(kopro_error_set(KOPRO_ENOTFOUND, "meeting %s", "abc"), KOPRO_ENOTFOUND);
    assert_int_equal(kopro_error_wrap(KOPRO_ENOTFOUND, "kopro-pdf"), KOPRO_ENOTFOUND);
    assert_string_equal(kopro_error_last(), "kopro-pdf: meeting abc");
    assert_int_equal(kopro_error_exit_code(KOPRO_OK), 0);
    assert_int_equal(kopro_error_exit_code(KOPRO_EUSAGE), 2);
    assert_int_equal(kopro_error_exit_code(KOPRO_ENOTFOUND), 3);
    assert_int_equal(kopro_error_exit_code(KOPRO_EINVAL), 4);
    assert_int_equal(kopro_error_exit_code(KOPRO_EVERIFY), 4);
    assert_int_equal(kopro_error_exit_code(KOPRO_ERROR), 1);
}

static void test_hash__sha256_known_vector(void **state)
{
    char hex[KOPRO_SHA256_HEX_BYTES];
    (void)state;
    /* FIPS 180-4 example "abc" */
    assert_int_equal(kopro_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_config__file_then_env(void **state)
{
    char path[] = "/tmp/kopro-config-XXXXXX";
    const char *text = "# comment\nKOPRO_A=from-file\nexport KOPRO_B=\"quoted value\"\n";
    struct kopro_config *c = NULL;
    int fd;
    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(kopro_fs_write_all(fd, text, strlen(text)), 0);
    close(fd);
    unsetenv("KOPRO_A");
    setenv("KOPRO_B", "from-env", 1);
    assert_int_equal(kopro_config_load(&c, path), 0);
    assert_string_equal(kopro_config_get(c, "KOPRO_A", "def"), "from-file");
    assert_string_equal(kopro_config_get(c, "KOPRO_B", "def"), "from-env");
    unsetenv("KOPRO_B");
    assert_string_equal(kopro_config_get(c, "KOPRO_B", "def"), "quoted value");
    assert_string_equal(kopro_config_get(c, "KOPRO_C", "def"), "def");
    kopro_config_free(c);
    unlink(path);
}

static void test_config__bad_line_names_file_and_line(void **state)
{
    char path[] = "/tmp/kopro-config-XXXXXX";
    const char *text = "KOPRO_A=1\nthis is not an assignment\n";
    struct kopro_config *c = NULL;
    int fd;
    (void)state;
    fd = mkstemp(path);
    assert_int_equal(kopro_fs_write_all(fd, text, strlen(text)), 0);
    close(fd);
    assert_int_equal(kopro_config_load(&c, path), KOPRO_EINVAL);
    assert_null(c);
    assert_non_null(strstr(kopro_error_last(), ":2:"));
    unlink(path);
    assert_int_equal(kopro_config_load(&c, "/nonexistent/kopro.conf"), KOPRO_ENOTFOUND);
}

static void test_fs__atomic_write_is_0600_until_commit(void **state)
{
    char dir[] = "/tmp/kopro-fs-XXXXXX";
    char path[256];
    struct kopro_atomic_file f;
    char *back = NULL;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/out.pdf", dir);
    assert_int_equal(kopro_fs_atomic_open(&f, path, 0644), 0);
    assert_int_equal(kopro_fs_atomic_write(&f, "%PDF", 4), 0);
    assert_int_equal(access(path, F_OK), -1); /* not visible before commit */
    assert_int_equal(kopro_fs_atomic_commit(&f), 0);
    assert_int_equal(kopro_fs_read_file(&back, NULL, path, 100), 0);
    assert_string_equal(back, "%PDF");
    free(back);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf__append_and_detach),
        cmocka_unit_test(test_buf__cap_frees_and_reports),
        cmocka_unit_test(test_buf__long_format),
        cmocka_unit_test(test_error__wrap_and_exit_codes),
        cmocka_unit_test(test_hash__sha256_known_vector),
        cmocka_unit_test(test_config__file_then_env),
        cmocka_unit_test(test_config__bad_line_names_file_and_line),
        cmocka_unit_test(test_fs__atomic_write_is_0600_until_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
