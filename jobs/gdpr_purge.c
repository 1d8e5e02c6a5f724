/*
 * Job kind "gdpr.purge" (daily, e.g. from cron/ or kopro-queue with a
 * unique_key per day): delete the records an erasure kept restricted once
 * their retention has ended (kopro_gdpr_purge()).
 *
 * payload: {} ; result: {"purged": N}
 */
#include "jobs.h"

#include "kopro/error.h"
#include "kopro/gdpr.h"

static int run(struct kopro_job_ctx *ctx)
{
    long n = 0;
    int rc = kopro_gdpr_purge(&n, ctx->db);
    if (rc != 0)
        return rc;
    ctx->result = json_pack("{s:I}", "purged", (json_int_t)n);
    return ctx->result != NULL ? 0 : kopro_error_set(KOPRO_ERROR, "gdpr.purge: out of memory");
}

const struct kopro_job_kind kopro_job_gdpr_purge = {
    .name = "gdpr.purge",
    .summary = "delete records kept restricted after an erasure once their retention has ended",
    .max_attempts = 3,
    .timeout_s = 600,
    .validate = NULL,
    .run = run,
};
