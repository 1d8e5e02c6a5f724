/*
 * gdpr_seal.c — encryption at rest of the GDPR export archives (GDPR art. 32):
 * ChaCha20-Poly1305 (RFC 8439) from OpenSSL libcrypto, in the STREAM framing
 * of age's payload (C2SP age spec, "Payload"; Hoang, Reyhanitabar, Rogaway,
 * Vizár 2015), and the per-export keys in kopro.gdpr_export_keys. The format
 * is documented with kopro_gdpr_seal() in kopro/gdpr.h.
 */
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/hash.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define TAG_BYTES 16
#define NONCE_BYTES 12

static const unsigned char MAGIC[8] = {'K', 'O', 'P', 'R', 'O', 'G', 'X', '1'};

static void header(unsigned char h[KOPRO_GDPR_SEAL_HEADER_BYTES])
{
    memcpy(h, MAGIC, sizeof MAGIC);
    h[8] = (unsigned char)(KOPRO_GDPR_SEAL_CHUNK_BYTES >> 24);
    h[9] = (unsigned char)(KOPRO_GDPR_SEAL_CHUNK_BYTES >> 16);
    h[10] = (unsigned char)(KOPRO_GDPR_SEAL_CHUNK_BYTES >> 8);
    h[11] = (unsigned char)KOPRO_GDPR_SEAL_CHUNK_BYTES;
    memset(h + 12, 0, 4);
}

/* nonce = 11-byte big-endian chunk counter || last-chunk flag */
static void nonce(unsigned char n[NONCE_BYTES], uint64_t counter, int last)
{
    memset(n, 0, NONCE_BYTES);
    for (int i = 0; i < 8; i++)
        n[10 - i] = (unsigned char)(counter >> (8 * i));
    n[11] = last ? 1 : 0;
}

/* One chunk, in or out. Returns 0, or KOPRO_EVERIFY when the tag does not match. */
static int chunk(EVP_CIPHER_CTX *c, int enc, const unsigned char key[KOPRO_GDPR_SEAL_KEY_BYTES],
                 uint64_t counter, int last, const unsigned char *in, size_t in_bytes, unsigned char *out,
                 unsigned char tag[TAG_BYTES])
{
    unsigned char n[NONCE_BYTES], h[KOPRO_GDPR_SEAL_HEADER_BYTES];
    int len = 0, fin = 0;
    nonce(n, counter, last);
    header(h);
    if (EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, n, enc) != 1 ||
        EVP_CipherUpdate(c, NULL, &len, h, sizeof h) != 1 ||
        (len = 0, in_bytes > 0 && EVP_CipherUpdate(c, out, &len, in, (int)in_bytes) != 1))
        return kopro_error_set(KOPRO_ERROR, "GDPR archive: ChaCha20-Poly1305 setup failed (OpenSSL)");
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag) != 1)
        return kopro_error_set(KOPRO_ERROR, "GDPR archive: ChaCha20-Poly1305 setup failed (OpenSSL)");
    if (EVP_CipherFinal_ex(c, out + len, &fin) != 1)
        return kopro_error_set(KOPRO_EVERIFY, "GDPR archive: chunk %llu fails authentication (damaged, truncated "
                                              "or wrong key); the archive cannot be trusted, export again",
                               (unsigned long long)counter);
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, tag) != 1)
        return kopro_error_set(KOPRO_ERROR, "GDPR archive: cannot read the Poly1305 tag (OpenSSL)");
    return 0;
}

size_t kopro_gdpr_sealed_bytes(size_t plain_bytes)
{
    size_t n = plain_bytes == 0 ? 1 : (plain_bytes + KOPRO_GDPR_SEAL_CHUNK_BYTES - 1) / KOPRO_GDPR_SEAL_CHUNK_BYTES;
    return KOPRO_GDPR_SEAL_HEADER_BYTES + plain_bytes + n * TAG_BYTES;
}

int kopro_gdpr_seal(unsigned char **sealed_out, size_t *sealed_bytes_out, const unsigned char *plain,
                    size_t plain_bytes, const unsigned char key[KOPRO_GDPR_SEAL_KEY_BYTES])
{
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *out = NULL;
    size_t total = kopro_gdpr_sealed_bytes(plain_bytes), off = 0, pos = 0;
    uint64_t i = 0;
    int rc = 0;
    *sealed_out = NULL;
    *sealed_bytes_out = 0;
    if (plain_bytes > KOPRO_GDPR_SEAL_MAX_BYTES)
        return kopro_error_set(KOPRO_ETOOBIG, "GDPR archive: %zu bytes exceed the %llu-byte limit", plain_bytes,
                               (unsigned long long)KOPRO_GDPR_SEAL_MAX_BYTES);
    out = malloc(total);
    c = EVP_CIPHER_CTX_new();
    if (out == NULL || c == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "GDPR archive: out of memory sealing %zu bytes", plain_bytes);
        goto done;
    }
    header(out);
    off = KOPRO_GDPR_SEAL_HEADER_BYTES;
    do {
        size_t n = plain_bytes - pos < KOPRO_GDPR_SEAL_CHUNK_BYTES ? plain_bytes - pos : KOPRO_GDPR_SEAL_CHUNK_BYTES;
        int last = pos + n == plain_bytes;
        rc = chunk(c, 1, key, i++, last, plain + pos, n, out + off, out + off + n);
        pos += n;
        off += n + TAG_BYTES;
    } while (rc == 0 && pos < plain_bytes);
    if (rc == 0) {
        *sealed_out = out;
        *sealed_bytes_out = off;
        out = NULL;
    }
done:
    free(out);
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int kopro_gdpr_unseal(unsigned char **plain_out, size_t *plain_bytes_out, const unsigned char *sealed,
                      size_t sealed_bytes, const unsigned char key[KOPRO_GDPR_SEAL_KEY_BYTES])
{
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *out = NULL, h[KOPRO_GDPR_SEAL_HEADER_BYTES];
    unsigned char tag[TAG_BYTES];
    const size_t full = KOPRO_GDPR_SEAL_CHUNK_BYTES + TAG_BYTES;
    size_t body, nchunks, plain_bytes, off = KOPRO_GDPR_SEAL_HEADER_BYTES, pos = 0;
    int rc = 0;
    *plain_out = NULL;
    *plain_bytes_out = 0;
    header(h);
    if (sealed_bytes < KOPRO_GDPR_SEAL_HEADER_BYTES + TAG_BYTES || memcmp(sealed, h, sizeof h) != 0)
        return kopro_error_set(KOPRO_EVERIFY, "GDPR archive: not a kopro sealed archive (header KOPROGX1 with "
                                              "64 KiB chunks expected); was it written by gdpr.export?");
    body = sealed_bytes - KOPRO_GDPR_SEAL_HEADER_BYTES;
    nchunks = (body + full - 1) / full;
    if (body % full != 0 && body % full < TAG_BYTES)
        return kopro_error_set(KOPRO_EVERIFY, "GDPR archive: truncated (a chunk is shorter than its tag)");
    plain_bytes = body - nchunks * TAG_BYTES;
    if (plain_bytes > KOPRO_GDPR_SEAL_MAX_BYTES)
        return kopro_error_set(KOPRO_ETOOBIG, "GDPR archive: %zu bytes exceed the %llu-byte limit", plain_bytes,
                               (unsigned long long)KOPRO_GDPR_SEAL_MAX_BYTES);
    if (nchunks > 1 && body % full == TAG_BYTES)
        return kopro_error_set(KOPRO_EVERIFY, "GDPR archive: empty last chunk (not written by kopro_gdpr_seal)");
    out = malloc(plain_bytes > 0 ? plain_bytes : 1);
    c = EVP_CIPHER_CTX_new();
    if (out == NULL || c == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "GDPR archive: out of memory opening %zu bytes", plain_bytes);
        goto done;
    }
    for (size_t i = 0; rc == 0 && i < nchunks; i++) {
        size_t n = (i + 1 < nchunks ? full : sealed_bytes - off) - TAG_BYTES;
        memcpy(tag, sealed + off + n, TAG_BYTES);
        rc = chunk(c, 0, key, i, i + 1 == nchunks, sealed + off, n, out + pos, tag);
        pos += n;
        off += n + TAG_BYTES;
    }
    if (rc == 0) {
        *plain_out = out;
        *plain_bytes_out = plain_bytes;
        out = NULL;
    }
done:
    if (out != NULL) {
        explicit_bzero(out, plain_bytes);
        free(out);
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}

static int hex_decode(unsigned char *out, size_t n, const char *hex)
{
    if (hex == NULL || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char ch = hex[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

int kopro_gdpr_export_key_new(unsigned char key_out[KOPRO_GDPR_SEAL_KEY_BYTES], PGconn *db, const char *job_id,
                              const char *expires_at)
{
    char hex[2 * KOPRO_GDPR_SEAL_KEY_BYTES + 1];
    int rc;
    if (getrandom(key_out, KOPRO_GDPR_SEAL_KEY_BYTES, 0) != KOPRO_GDPR_SEAL_KEY_BYTES)
        return kopro_error_set(KOPRO_ERROR, "GDPR archive key: getrandom() failed; retry");
    kopro_hex_encode(key_out, KOPRO_GDPR_SEAL_KEY_BYTES, hex);
    const char *p[3] = {job_id, hex, expires_at};
    rc = kopro_db_exec(db, NULL, "GDPR archive key: store",
                       "INSERT INTO kopro.gdpr_export_keys (job_id, key, expires_at)"
                       " VALUES ($1::uuid, decode($2, 'hex'), $3::timestamptz)"
                       " ON CONFLICT (job_id) DO UPDATE SET key = EXCLUDED.key, created_at = now(),"
                       " expires_at = EXCLUDED.expires_at",
                       3, p);
    explicit_bzero(hex, sizeof hex);
    if (rc != 0)
        explicit_bzero(key_out, KOPRO_GDPR_SEAL_KEY_BYTES);
    return rc;
}

int kopro_gdpr_export_key_get(unsigned char key_out[KOPRO_GDPR_SEAL_KEY_BYTES], PGconn *db, const char *job_id)
{
    PGresult *res = NULL;
    const char *p[1] = {job_id};
    int rc = kopro_db_exec(db, &res, "GDPR archive key: read",
                           "SELECT encode(key, 'hex') FROM kopro.gdpr_export_keys"
                           " WHERE job_id = $1::uuid AND expires_at > now()",
                           1, p);
    if (rc == 0 && PQntuples(res) != 1)
        rc = kopro_error_set(KOPRO_ENOTFOUND, "GDPR archive key of job %s is destroyed or expired: the archive "
                                              "can no longer be read; request a new export", job_id);
    else if (rc == 0 && hex_decode(key_out, KOPRO_GDPR_SEAL_KEY_BYTES, PQgetvalue(res, 0, 0)) != 0)
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR archive key of job %s is malformed", job_id);
    if (res != NULL && PQntuples(res) == 1)
        explicit_bzero(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
    PQclear(res);
    return rc;
}
