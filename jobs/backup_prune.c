/*
 * backup.prune — apply retention to the backup repository (kopro_backup_prune).
 * Payload: {"repo"?: URL, "keep_last"?, "keep_daily"?, "keep_weekly"?,
 *           "keep_monthly"?, "keep_yearly"?: integer >= 0, "tz"?: "Europe/Brussels",
 *           "dry_run"?: bool}; unset counts take the default 7 daily / 4 weekly /
 * 12 monthly. Result: {"kept": N, "forgotten": N, "plan": [...]}.
 */
#include "jobs.h"

#include "kopro/backup.h"
#include "kopro/error.h"

#include <string.h>

static const char *const COUNTS[] = {"keep_last", "keep_daily", "keep_weekly", "keep_monthly",
                                     "keep_yearly"};

static int validate(const json_t *p)
{
    const json_t *v;
    if (!json_is_object(p))
        return kopro_error_set(KOPRO_EINVAL, "backup.prune: the payload must be a JSON object");
    for (size_t i = 0; i < sizeof(COUNTS) / sizeof(COUNTS[0]); i++) {
        v = json_object_get(p, COUNTS[i]);
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
                          json_integer_value(v) > 1000000))
            return kopro_error_set(KOPRO_EINVAL,
                                   "backup.prune: payload field %s must be an integer >= 0",
                                   COUNTS[i]);
    }
    v = json_object_get(p, "repo");
    if (v != NULL && !json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.prune: payload field repo must be a string");
    v = json_object_get(p, "tz");
    if (v != NULL && !json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.prune: payload field tz must be a string");
    v = json_object_get(p, "dry_run");
    if (v != NULL && !json_is_boolean(v))
        return kopro_error_set(KOPRO_EINVAL, "backup.prune: payload field dry_run must be a boolean");
    return 0;
}

static void count_from(int *dst, const json_t *p, const char *name)
{
    const json_t *v = json_object_get(p, name);
    if (v != NULL)
        *dst = (int)json_integer_value(v);
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_backup_opts o;
    struct kopro_retention_policy pol;
    json_t *plan = NULL;
    size_t forgotten = 0;
    int rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    memset(&o, 0, sizeof(o));
    o.cfg = ctx->cfg;
    o.repo_url = json_string_value(json_object_get(ctx->payload, "repo"));
    kopro_retention_default(&pol);
    count_from(&pol.keep_last, ctx->payload, "keep_last");
    count_from(&pol.keep_daily, ctx->payload, "keep_daily");
    count_from(&pol.keep_weekly, ctx->payload, "keep_weekly");
    count_from(&pol.keep_monthly, ctx->payload, "keep_monthly");
    count_from(&pol.keep_yearly, ctx->payload, "keep_yearly");
    if (json_is_string(json_object_get(ctx->payload, "tz")))
        pol.tz = json_string_value(json_object_get(ctx->payload, "tz"));
    rc = kopro_backup_prune(&plan, &o, &pol,
                            json_is_true(json_object_get(ctx->payload, "dry_run")));
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < json_array_size(plan); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(plan, i), "action")),
                   "forget") == 0)
            forgotten++;
    ctx->result = json_pack("{s:I, s:I, s:o}", "kept",
                            (json_int_t)(json_array_size(plan) - forgotten), "forgotten",
                            (json_int_t)forgotten, "plan", plan);
    return 0;
}

const struct kopro_job_kind kopro_job_backup_prune = {
    .name = "backup.prune",
    .summary = "apply the retention policy (7 daily / 4 weekly / 12 monthly) to the repository",
    .max_attempts = 3,
    .timeout_s = 3600,
    .validate = validate,
    .run = run,
};
