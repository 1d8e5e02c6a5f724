/*
 * Job kind "gdpr.export": answer an access / portability request (GDPR art.
 * 15, 20) with the ZIP of lib/gdpr_export.c, kept in the document store.
 *
 * payload: {"user_id": uuid (users.id), "as_of": seconds since 1970 (optional;
 *           default: now)}
 * result:  {"path", "content_type": "application/zip", "size_bytes", "sha256",
 *           "files", "rows", "user_id", "generated_at", "expires_at" (+7 days)}
 * The archive is encrypted at rest (GDPR art. 32) with a fresh 256-bit key
 * kept only in kopro.gdpr_export_keys (kopro_gdpr_seal(), format KOPROGX1)
 * and goes to KOPRO_DOCUMENT_STORE under gdpr/{128-bit random hex}.kgx
 * (unguessable, written atomically, mode 0600); result.path names that file,
 * which kopro-api streams: the store must be a directory (file:// or a path),
 * an s3:// KOPRO_DOCUMENT_STORE fails the job (KOPRO_EINVAL, not retried),
 * result.size_bytes/sha256 describe the ZIP inside, result.encryption the
 * format. Deleting the key destroys the archive; GET /api/v1/jobs/{id}/result
 * decrypts it. The CLI (kopro-gdpr export -o) writes a plain ZIP instead. Every run writes one audit_logs row
 * (event_type GdprDataExported) with the row count, the file count and the
 * archive's SHA-256: no readable personal data. Enqueue with unique_key
 * "gdpr.export:{user_id}" so a second request returns the running job.
 */
#include "jobs.h"

#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/hash.h"
#include "kopro/valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#define DOWNLOAD_DAYS 7

static int validate(const json_t *payload)
{
    const json_t *u = json_object_get(payload, "user_id");
    const json_t *a = json_object_get(payload, "as_of");
    if (!json_is_string(u) || !kopro_valid_uuid(json_string_value(u)))
        return kopro_error_set(KOPRO_EINVAL, "gdpr.export: payload.user_id must be a users.id uuid string");
    if (a != NULL && (!json_is_integer(a) || json_integer_value(a) < 0))
        return kopro_error_set(KOPRO_EINVAL,
                               "gdpr.export: payload.as_of must be a non-negative number of seconds");
    return 0;
}

static void iso(char *out, size_t n, long long epoch)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_gdpr_export_summary *sum = NULL;
    unsigned char *zip = NULL, *sealed = NULL, rnd[16], key[KOPRO_GDPR_SEAL_KEY_BYTES];
    size_t zip_bytes = 0, sealed_bytes = 0;
    char *path = NULL;
    char name[64], hex[33], when[32], expires[32];
    int rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    const char *store = kopro_config_get(ctx->cfg, "KOPRO_DOCUMENT_STORE", NULL);
    /* kopro-api streams and decrypts the archive from a local file and serves
     * only file:// stores: an archive in S3 could never be downloaded. Refuse
     * before any key is drawn (permanent: the job goes dead, not retried). */
    if (kopro_docstore_is_s3(store))
        return kopro_error_set(KOPRO_EINVAL,
                               "gdpr.export: KOPRO_DOCUMENT_STORE \"%.200s\" is an S3 store, but the encrypted "
                               "export must stay in a file:// store that kopro-api serves; run the gdpr.export "
                               "worker with KOPRO_DOCUMENT_STORE=file:///DIR (the same directory as kopro-api), "
                               "or use kopro-gdpr export -o FILE",
                               store);
    const char *user = json_string_value(json_object_get(ctx->payload, "user_id"));
    const json_t *a = json_object_get(ctx->payload, "as_of");
    long long as_of = a != NULL ? (long long)json_integer_value(a) : (long long)time(NULL);

    sum = calloc(1, sizeof *sum);
    if (sum == NULL)
        return kopro_error_set(KOPRO_ERROR, "gdpr.export: out of memory");
    rc = kopro_gdpr_export(sum, &zip, &zip_bytes, ctx->db, user, as_of);
    if (rc != 0)
        goto done;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        rc = kopro_error_set(KOPRO_ERROR, "gdpr.export: getrandom() failed; retry");
        goto done;
    }
    kopro_hex_encode(rnd, sizeof rnd, hex);
    snprintf(name, sizeof name, "gdpr/%s.kgx", hex);
    iso(expires, sizeof expires, (long long)time(NULL) + DOWNLOAD_DAYS * 86400LL);
    /* a fresh key per export, only in the database: deleting it destroys the archive */
    rc = kopro_gdpr_export_key_new(key, ctx->db, ctx->job_id, expires);
    if (rc == 0)
        rc = kopro_gdpr_seal(&sealed, &sealed_bytes, zip, zip_bytes, key);
    explicit_bzero(key, sizeof key);
    if (rc == 0)
        rc = kopro_docstore_put(&path, store, name, sealed, sealed_bytes);
    if (rc != 0)
        goto done;
    if (chmod(path, 0600) != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "gdpr.export: cannot make %s mode 0600", path);
        goto done;
    }

    /* The audit row: counts and the checksum only. */
    rc = kopro_gdpr_export_audit(ctx->db, user, sum, ctx->job_id);
    if (rc != 0)
        goto done;

    iso(when, sizeof when, as_of);
    ctx->result = json_pack("{s:s, s:s, s:I, s:s, s:i, s:I, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:I}}", "path", path,
                            "content_type", "application/zip", "size_bytes", (json_int_t)zip_bytes, "sha256",
                            sum->archive_sha256, "files", sum->nfiles, "rows", (json_int_t)sum->total_rows,
                            "user_id", user, "generated_at", when, "expires_at", expires, "encryption", "format",
                            "KOPROGX1", "cipher", "chacha20-poly1305", "key", "kopro.gdpr_export_keys",
                            "stored_bytes", (json_int_t)sealed_bytes);
    if (ctx->result == NULL)
        rc = kopro_error_set(KOPRO_ERROR, "gdpr.export: out of memory building the result");
done:
    if (rc != 0 && path != NULL)
        unlink(path); /* no archive without its result */
    free(sealed);
    free(path);
    free(sum);
    kopro_gdpr_export_free(zip, zip_bytes);
    return rc;
}

const struct kopro_job_kind kopro_job_gdpr_export = {
    .name = "gdpr.export",
    .summary = "export a person's data (GDPR art. 15/20) as a ZIP into the document store",
    .max_attempts = 3,
    .timeout_s = 600,
    .validate = validate,
    .run = run,
};
