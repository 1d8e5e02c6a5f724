/* Unit tests for lib/gdpr_seal.c: the KOPROGX1 encryption at rest of GDPR
 * export archives (ChaCha20-Poly1305 in age's STREAM framing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kopro/error.h"
#include "kopro/gdpr.h"

static const unsigned char KEY[KOPRO_GDPR_SEAL_KEY_BYTES] = "0123456789abcdef0123456789abcdef";

static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 131 + (i >> 8));
    return p;
}

static void roundtrip(size_t n)
{
    unsigned char *plain = pattern(n), *sealed = NULL, *back = NULL;
    size_t sealed_bytes = 0, back_bytes = 0;
    assert_int_equal(kopro_gdpr_seal(&sealed, &sealed_bytes, plain, n, KEY), 0);
    assert_int_equal(sealed_bytes, kopro_gdpr_sealed_bytes(n));
    assert_memory_equal(sealed, "KOPROGX1", 8);
    if (n >= 64) /* the plaintext does not show through */
        assert_null(memmem(sealed, sealed_bytes, plain, 64));
    assert_int_equal(kopro_gdpr_unseal(&back, &back_bytes, sealed, sealed_bytes, KEY), 0);
    assert_int_equal(back_bytes, n);
    if (n > 0)
        assert_memory_equal(back, plain, n);
    free(plain);
    free(sealed);
    free(back);
}

static void test_gdpr_seal__roundtrip_at_chunk_edges(void **state)
{
    (void)state;
    const size_t c = KOPRO_GDPR_SEAL_CHUNK_BYTES;
    const size_t sizes[] = {0, 1, 100, c - 1, c, c + 1, 2 * c, 3 * c + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        roundtrip(sizes[i]);
    /* sizes: header + plaintext + one 16-byte tag per 64 KiB chunk */
    assert_int_equal(kopro_gdpr_sealed_bytes(0), 16 + 16);
    assert_int_equal(kopro_gdpr_sealed_bytes(c), 16 + c + 16);
    assert_int_equal(kopro_gdpr_sealed_bytes(c + 1), 16 + c + 1 + 32);
}

static int open_rc(const unsigned char *sealed, size_t n, const unsigned char *key)
{
    unsigned char *back = NULL;
    size_t back_bytes = 0;
    int rc = kopro_gdpr_unseal(&back, &back_bytes, sealed, n, key);
    if (rc != 0)
        assert_null(back);
    free(back);
    return rc;
}

static void test_gdpr_seal__tamper_truncate_reorder_wrong_key_fail(void **state)
{
    (void)state;
    const size_t c = KOPRO_GDPR_SEAL_CHUNK_BYTES, n = 2 * c + 500;
    unsigned char *plain = pattern(n), *sealed = NULL, key2[KOPRO_GDPR_SEAL_KEY_BYTES];
    size_t sb = 0;
    assert_int_equal(kopro_gdpr_seal(&sealed, &sb, plain, n, KEY), 0);
    assert_int_equal(open_rc(sealed, sb, KEY), 0);

    sealed[16 + c + 40] ^= 1; /* one bit in the second chunk */
    assert_int_equal(open_rc(sealed, sb, KEY), KOPRO_EVERIFY);
    sealed[16 + c + 40] ^= 1;

    /* truncated at a chunk boundary: the new last chunk lacks the final flag */
    assert_int_equal(open_rc(sealed, 16 + 2 * (c + 16), KEY), KOPRO_EVERIFY);
    assert_int_equal(open_rc(sealed, sb - 1, KEY), KOPRO_EVERIFY);

    /* two full chunks swapped */
    unsigned char *sw = malloc(sb);
    assert_non_null(sw);
    memcpy(sw, sealed, sb);
    memcpy(sw + 16, sealed + 16 + c + 16, c + 16);
    memcpy(sw + 16 + c + 16, sealed + 16, c + 16);
    assert_int_equal(open_rc(sw, sb, KEY), KOPRO_EVERIFY);
    free(sw);

    memcpy(key2, KEY, sizeof key2);
    key2[0] ^= 0x80;
    assert_int_equal(open_rc(sealed, sb, key2), KOPRO_EVERIFY);

    /* a plain ZIP is not a sealed archive */
    assert_int_equal(open_rc((const unsigned char *)"PK\003\004 0123456789012345678901234567890", 36, KEY),
                     KOPRO_EVERIFY);
    free(plain);
    free(sealed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gdpr_seal__roundtrip_at_chunk_edges),
        cmocka_unit_test(test_gdpr_seal__tamper_truncate_reorder_wrong_key_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
