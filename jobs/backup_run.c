/*
 * backup.run — take one backup (kopro_backup_run), optionally prune after it.
 * Payload: {"repo"?: "file:///..."|"s3://...", "recipients"?: ["40-hex", ...],
 *           "prune"?: bool}
 * Defaults: KOPRO_BACKUP_REPO, KOPRO_BACKUP_RECIPIENTS, KOPRO_GNUPGHOME and the
 * worker's KOPRO_DATABASE_URL. Result: {"id", "repo", "size_bytes", "sha256",
 * "plaintext_size_bytes", "plaintext_sha256", "tables", "pruned"?}.
 */
#include "jobs.h"

#include "kopro/backup.h"
#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/valid.h"

#include <string.h>

#define MAX_RECIPIENTS 16

static int validate(const json_t *p)
{
    const json_t *v;
    size_t i;
    if (!json_is_object(p))
        return kopro_error_set(KOPRO_EINVAL, "backup.run: the payload must be a JSON object");
    v = json_object_get(p, "repo");
    if (v != NULL && !json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.run: payload field repo must be a URL string");
    v = json_object_get(p, "prune");
    if (v != NULL && !json_is_boolean(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.run: payload field prune must be true or false");
    v = json_object_get(p, "recipients");
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_RECIPIENTS)
        return kopro_error_set(KOPRO_EINVAL, "backup.run: payload field recipients must be an "
                                             "array of 1 to 16 fingerprints");
    for (i = 0; i < json_array_size(v); i++) {
        if (!kopro_valid_fingerprint(json_string_value(json_array_get(v, i))))
            return kopro_error_set(KOPRO_EINVAL,
                                   "backup.run: recipients[%zu] is not a 40-hex-digit fingerprint",
                                   i);
    }
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_backup_opts o;
    const char *recips[MAX_RECIPIENTS];
    const json_t *arr;
    json_t *m = NULL;
    int rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    memset(&o, 0, sizeof(o));
    o.cfg = ctx->cfg;
    o.repo_url = json_string_value(json_object_get(ctx->payload, "repo"));
    arr = json_object_get(ctx->payload, "recipients");
    for (size_t i = 0; i < json_array_size(arr); i++)
        recips[o.n_recipients++] = json_string_value(json_array_get(arr, i));
    o.recipients = o.n_recipients ? recips : NULL;
    rc = kopro_backup_run(&m, &o);
    if (rc != 0)
        return rc;
    ctx->result = json_pack(
        "{s:O, s:s, s:O, s:O, s:O, s:O, s:I}", "id", json_object_get(m, "id"), "repo",
        o.repo_url ? o.repo_url : kopro_config_get(ctx->cfg, "KOPRO_BACKUP_REPO", ""), "size_bytes",
        json_object_get(json_object_get(m, "ciphertext"), "size_bytes"), "sha256",
        json_object_get(json_object_get(m, "ciphertext"), "sha256"), "plaintext_size_bytes",
        json_object_get(json_object_get(m, "plaintext"), "size_bytes"), "plaintext_sha256",
        json_object_get(json_object_get(m, "plaintext"), "sha256"), "tables",
        (json_int_t)json_object_size(json_object_get(m, "tables")));
    json_decref(m);
    if (json_is_true(json_object_get(ctx->payload, "prune"))) {
        struct kopro_retention_policy pol;
        json_t *plan = NULL;
        size_t forgotten = 0;
        kopro_retention_default(&pol);
        rc = kopro_backup_prune(&plan, &o, &pol, 0);
        if (rc != 0)
            return kopro_error_wrap(rc, "backup succeeded, prune failed");
        for (size_t i = 0; i < json_array_size(plan); i++)
            if (strcmp(json_string_value(json_object_get(json_array_get(plan, i), "action")),
                       "forget") == 0)
                forgotten++;
        json_object_set_new(ctx->result, "pruned", json_integer((json_int_t)forgotten));
        json_decref(plan);
    }
    return 0;
}

const struct kopro_job_kind kopro_job_backup_run = {
    .name = "backup.run",
    .summary = "pg_dump | zstd | gpg into the backup repository, manifest last",
    .max_attempts = 3,
    .timeout_s = 6 * 3600,
    .validate = validate,
    .run = run,
};
