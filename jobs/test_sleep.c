/* test.sleep — TEST-ONLY job kind: sleeps {"ms": N} milliseconds (0..600000),
 * then succeeds with {"slept_ms": N}. Runs only with KOPRO_ENABLE_TEST_JOBS=1. */
#include "jobs.h"

#include "kopro/error.h"

#include <errno.h>
#include <time.h>

static int validate(const json_t *payload)
{
    const json_t *ms = json_object_get(payload, "ms");
    if (!json_is_integer(ms) || json_integer_value(ms) < 0 || json_integer_value(ms) > 600000)
        return kopro_error_set(KOPRO_EINVAL, "test.sleep: payload field 'ms' must be an "
                               "integer 0..600000");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    json_int_t ms;
    struct timespec ts;
    int rc = validate(ctx->payload);

    if (rc != 0)
        return rc;
    ms = json_integer_value(json_object_get(ctx->payload, "ms"));
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    ctx->result = json_pack("{s:I}", "slept_ms", ms);
    return 0;
}

const struct kopro_job_kind kopro_job_test_sleep = {
    .name = "test.sleep",
    .summary = "test only: sleep for payload.ms milliseconds",
    .max_attempts = 3,
    .timeout_s = 60,
    .validate = validate,
    .run = run,
};
