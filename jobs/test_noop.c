/* test.noop — TEST-ONLY job kind: does nothing and succeeds. The worker runs
 * test.* kinds only with KOPRO_ENABLE_TEST_JOBS=1 (queue tests and benchmarks). */
#include "jobs.h"

#include "kopro/error.h"

static int run(struct kopro_job_ctx *ctx)
{
    (void)ctx;
    return 0;
}

const struct kopro_job_kind kopro_job_test_noop = {
    .name = "test.noop",
    .summary = "test only: succeed at once",
    .max_attempts = 3,
    .timeout_s = 30,
    .validate = NULL,
    .run = run,
};
