/*
 * kopro/hash.h — SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), through
 * OpenSSL's libcrypto. Streaming and one-shot forms.
 */
#ifndef KOPRO_HASH_H
#define KOPRO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define KOPRO_SHA256_BYTES 32
#define KOPRO_SHA256_HEX_BYTES 65 /* 64 hex digits + NUL */

struct kopro_sha256; /* opaque streaming context */

/*
 * Start a streaming SHA-256. *out is owned by the caller; release it with
 * kopro_sha256_free(). Returns 0 or KOPRO_ERROR (allocation failure).
 */
int kopro_sha256_new(struct kopro_sha256 **out);

/* Feed `len` bytes. Returns 0 or KOPRO_ERROR. */
int kopro_sha256_update(struct kopro_sha256 *h, const void *data, size_t len);

/*
 * Finish: write the lowercase hex digest (65 bytes with NUL) into hex_out.
 * The context may not be updated afterwards, only freed. Returns 0 or KOPRO_ERROR.
 */
int kopro_sha256_final_hex(struct kopro_sha256 *h, char hex_out[KOPRO_SHA256_HEX_BYTES]);

/* Finish with the 32 raw bytes. Returns 0 or KOPRO_ERROR. */
int kopro_sha256_final(struct kopro_sha256 *h, uint8_t out[KOPRO_SHA256_BYTES]);

/* Release a context; NULL is allowed. */
void kopro_sha256_free(struct kopro_sha256 *h);

/* One-shot hex digest of a memory block. Returns 0 or KOPRO_ERROR. */
int kopro_sha256_hex(const void *data, size_t len, char hex_out[KOPRO_SHA256_HEX_BYTES]);

/*
 * One-shot hex digest of a whole file. Returns 0, KOPRO_ENOTFOUND if `path`
 * cannot be opened, or KOPRO_ERROR on a read error.
 */
int kopro_sha256_file_hex(const char *path, char hex_out[KOPRO_SHA256_HEX_BYTES]);

/* HMAC-SHA-256 (RFC 2104) of data under key into out (32 bytes). Returns 0 or KOPRO_ERROR. */
int kopro_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[KOPRO_SHA256_BYTES]);

/* Lowercase hex of `len` bytes into `hex_out` (2*len+1 bytes). */
void kopro_hex_encode(const uint8_t *bytes, size_t len, char *hex_out);

#endif
