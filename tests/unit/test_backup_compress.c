/* Unit tests for lib/compress.c (zstd streams) and the recipient checks of
 * lib/gpg.c that need no keyring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kopro/compress.h"
#include "kopro/error.h"
#include "kopro/gpg.h"

#define N (3u * 1024 * 1024 + 17)

/* Compress `in` in odd-sized slices, then decompress it the same way. */
static void round_trip(int workers)
{
    unsigned char *in = malloc(N), *z = malloc(2 * N), *out = malloc(N + 1);
    struct kopro_compress *e = NULL, *d = NULL;
    size_t zlen = 0, olen = 0, pos = 0;
    int fin = 0;
    uint32_t x = 12345;

    assert_non_null(in);
    for (size_t i = 0; i < N; i++) { /* half text, half noise */
        x = x * 1103515245u + 12345u;
        in[i] = i % 2 ? (unsigned char)(x >> 24) : (unsigned char)('a' + i % 26);
    }
    assert_int_equal(kopro_compress_new(&e, KOPRO_COMPRESS_ENCODE, 3, workers), 0);
    while (!fin) {
        size_t used = 0, produced = 0, chunk = pos < N ? (N - pos < 70001 ? N - pos : 70001) : 0;
        assert_int_equal(kopro_compress_step(e, in + pos, chunk, &used, z + zlen, 2 * N - zlen,
                                             &produced, pos + chunk == N, &fin),
                         0);
        pos += used;
        zlen += produced;
    }
    assert_true(zlen < N);
    assert_int_equal(kopro_compress_new(&d, KOPRO_COMPRESS_DECODE, 0, 0), 0);
    pos = 0;
    fin = 0;
    while (!fin) {
        size_t used = 0, produced = 0;
        size_t chunk = zlen - pos < 4099 ? zlen - pos : 4099;
        assert_int_equal(kopro_compress_step(d, z + pos, chunk, &used, out + olen, N + 1 - olen,
                                             &produced, 0, &fin),
                         0);
        assert_true(used > 0 || produced > 0 || fin);
        pos += used;
        olen += produced;
    }
    assert_int_equal(olen, N);
    assert_memory_equal(in, out, N);

    /* a flipped byte in the frame: corrupt data (the frame has a checksum) */
    z[zlen / 2] ^= 0x40;
    kopro_compress_free(d);
    assert_int_equal(kopro_compress_new(&d, KOPRO_COMPRESS_DECODE, 0, 0), 0);
    {
        int rc = 0;
        pos = 0;
        fin = 0;
        while (rc == 0 && !fin && pos < zlen) {
            size_t used = 0, produced = 0;
            rc = kopro_compress_step(d, z + pos, zlen - pos, &used, out, N + 1, &produced, 0,
                                     &fin);
            pos += used;
        }
        assert_int_equal(rc, KOPRO_EVERIFY);
        assert_non_null(strstr(kopro_error_last(), "corrupt"));
    }
    kopro_compress_free(e);
    kopro_compress_free(d);
    free(in);
    free(z);
    free(out);
}

static void test_backup__zstd_round_trip_single_thread(void **state)
{
    (void)state;
    round_trip(0);
}

static void test_backup__zstd_round_trip_two_workers(void **state)
{
    (void)state;
    round_trip(2);
}

static void test_backup__zstd_bad_level(void **state)
{
    struct kopro_compress *c = NULL;
    (void)state;
    assert_int_equal(kopro_compress_new(&c, KOPRO_COMPRESS_ENCODE, 23, 0), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "23"));
    assert_null(c);
    kopro_compress_free(NULL);
}

static void test_backup__recipient_must_be_a_fingerprint(void **state)
{
    struct kopro_gpg *g = NULL;
    const char *bad[] = {"3FF5A974"};
    const char *hex39[] = {"0BAA4A72CA438D3345EF1DDC5CCE02283FF5A97"};
    (void)state;
    assert_int_equal(kopro_gpg_open(&g, NULL), 0);
    assert_int_equal(kopro_gpg_set_recipients(g, bad, 1), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "3FF5A974"));
    assert_int_equal(kopro_gpg_set_recipients(g, hex39, 1), KOPRO_EINVAL);
    assert_int_equal(kopro_gpg_set_recipients(g, NULL, 0), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "KOPRO_BACKUP_RECIPIENTS"));
    assert_int_equal(kopro_gpg_recipient_count(g), 0);
    kopro_gpg_free(g);
    assert_int_equal(kopro_gpg_open(&g, "/nonexistent/gnupg-home"), KOPRO_ENOTFOUND);
    assert_null(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup__zstd_round_trip_single_thread),
        cmocka_unit_test(test_backup__zstd_round_trip_two_workers),
        cmocka_unit_test(test_backup__zstd_bad_level),
        cmocka_unit_test(test_backup__recipient_must_be_a_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
