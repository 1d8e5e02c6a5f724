#include "kopro/hash.h"

#include "kopro/error.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kopro_sha256 {
    EVP_MD_CTX *ctx;
};

int kopro_sha256_new(struct kopro_sha256 **out)
{
    struct kopro_sha256 *h = NULL;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for a SHA-256 context");
    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        kopro_sha256_free(h);
        return kopro_error_set(KOPRO_ERROR, "cannot start SHA-256 (libcrypto)");
    }
    *out = h;
    return 0;
}

int kopro_sha256_update(struct kopro_sha256 *h, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (EVP_DigestUpdate(h->ctx, data, len) != 1)
        return kopro_error_set(KOPRO_ERROR, "SHA-256 update failed (libcrypto)");
    return 0;
}

int kopro_sha256_final(struct kopro_sha256 *h, uint8_t out[KOPRO_SHA256_BYTES])
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != KOPRO_SHA256_BYTES)
        return kopro_error_set(KOPRO_ERROR, "SHA-256 final failed (libcrypto)");
    return 0;
}

int kopro_sha256_final_hex(struct kopro_sha256 *h, char hex_out[KOPRO_SHA256_HEX_BYTES])
{
    uint8_t raw[KOPRO_SHA256_BYTES];
    int rc = kopro_sha256_final(h, raw);
    if (rc != 0)
        return rc;
    kopro_hex_encode(raw, sizeof(raw), hex_out);
    return 0;
}

void kopro_sha256_free(struct kopro_sha256 *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

int kopro_sha256_hex(const void *data, size_t len, char hex_out[KOPRO_SHA256_HEX_BYTES])
{
    struct kopro_sha256 *h = NULL;
    int rc = kopro_sha256_new(&h);
    if (rc == 0)
        rc = kopro_sha256_update(h, data, len);
    if (rc == 0)
        rc = kopro_sha256_final_hex(h, hex_out);
    kopro_sha256_free(h);
    return rc;
}

int kopro_sha256_file_hex(const char *path, char hex_out[KOPRO_SHA256_HEX_BYTES])
{
    struct kopro_sha256 *h = NULL;
    FILE *f = NULL;
    char buf[65536];
    size_t n;
    int rc;

    f = fopen(path, "rb");
    if (f == NULL)
        return kopro_error_set(KOPRO_ENOTFOUND, "%s: cannot open: %s", path, strerror(errno));
    rc = kopro_sha256_new(&h);
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        rc = kopro_sha256_update(h, buf, n);
    if (rc == 0 && ferror(f))
        rc = kopro_error_set(KOPRO_ERROR, "%s: read error", path);
    if (rc == 0)
        rc = kopro_sha256_final_hex(h, hex_out);
    kopro_sha256_free(h);
    fclose(f);
    return rc;
}

int kopro_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[KOPRO_SHA256_BYTES])
{
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) == NULL ||
        n != KOPRO_SHA256_BYTES)
        return kopro_error_set(KOPRO_ERROR, "HMAC-SHA-256 failed (libcrypto)");
    return 0;
}

void kopro_hex_encode(const uint8_t *bytes, size_t len, char *hex_out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex_out[2 * i] = digits[bytes[i] >> 4];
        hex_out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    hex_out[2 * len] = '\0';
}
