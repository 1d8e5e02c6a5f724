/* test.fail — TEST-ONLY job kind: fails every attempt. Payload
 * {"permanent": true} fails with KOPRO_EINVAL (no retry), else with a
 * retryable error. Runs only with KOPRO_ENABLE_TEST_JOBS=1. */
#include "jobs.h"

#include "kopro/error.h"

static int validate(const json_t *payload)
{
    const json_t *p = json_object_get(payload, "permanent");
    if (p != NULL && !json_is_boolean(p))
        return kopro_error_set(KOPRO_EINVAL, "test.fail: payload field 'permanent' must be "
                               "true or false");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    if (json_is_true(json_object_get(ctx->payload, "permanent")))
        return kopro_error_set(KOPRO_EINVAL, "test.fail: permanent failure requested");
    return kopro_error_set(KOPRO_ERROR, "test.fail: transient failure of attempt %d requested",
                           ctx->attempt);
}

const struct kopro_job_kind kopro_job_test_fail = {
    .name = "test.fail",
    .summary = "test only: fail every attempt",
    .max_attempts = 3,
    .timeout_s = 30,
    .validate = validate,
    .run = run,
};
