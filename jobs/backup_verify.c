/*
 * backup.verify — verify backups (kopro_backup_verify).
 * Payload: {"repo"?: URL, "id"?: "ID", "all"?: bool, "restore_check"?: bool};
 * without id or all, the newest backup. Result: {"report": [{"id", "ok", ...}]}.
 * A failed verification is KOPRO_EVERIFY (retried, then dead: it shows up in
 * kopro.jobs and in the metrics).
 */
#include "jobs.h"

#include "kopro/backup.h"
#include "kopro/error.h"

#include <string.h>

static int validate(const json_t *p)
{
    const json_t *v;
    if (!json_is_object(p))
        return kopro_error_set(KOPRO_EINVAL, "backup.verify: the payload must be a JSON object");
    v = json_object_get(p, "repo");
    if (v != NULL && !json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.verify: payload field repo must be a string");
    v = json_object_get(p, "id");
    if (v != NULL && !json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.verify: payload field id must be a string");
    v = json_object_get(p, "all");
    if (v != NULL && !json_is_boolean(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.verify: payload field all must be a boolean");
    v = json_object_get(p, "restore_check");
    if (v != NULL && !json_is_boolean(v))
        return kopro_error_set(KOPRO_EINVAL,
                               "backup.verify: payload field restore_check must be a boolean");
    if (json_object_get(p, "id") != NULL && json_is_true(json_object_get(p, "all")))
        return kopro_error_set(KOPRO_EINVAL, "backup.verify: give id or all, not both");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_backup_opts o;
    enum kopro_backup_select which = KOPRO_BACKUP_LATEST;
    const char *id = json_string_value(json_object_get(ctx->payload, "id"));
    json_t *rep = NULL;
    int rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    memset(&o, 0, sizeof(o));
    o.cfg = ctx->cfg;
    o.repo_url = json_string_value(json_object_get(ctx->payload, "repo"));
    if (id != NULL)
        which = KOPRO_BACKUP_ONE;
    else if (json_is_true(json_object_get(ctx->payload, "all")))
        which = KOPRO_BACKUP_ALL;
    rc = kopro_backup_verify(&rep, &o, which, id,
                             json_is_true(json_object_get(ctx->payload, "restore_check")));
    if (rep != NULL)
        ctx->result = json_pack("{s:o}", "report", rep);
    return rc;
}

const struct kopro_job_kind kopro_job_backup_verify = {
    .name = "backup.verify",
    .summary = "re-read, decrypt and check backups (optionally restore into a scratch database)",
    .max_attempts = 2,
    .timeout_s = 6 * 3600,
    .validate = validate,
    .run = run,
};
