/* test.record — TEST-ONLY job kind for the crash-safety tests: inserts
 * (job id, attempt, pid) into kopro_test.records inside a transaction that it
 * leaves open, so the worker writes the completion in that same transaction
 * (both commit, or neither). Optional {"sleep_ms": N} (0..60000) sleeps
 * between the insert and the return. The test creates the table:
 *   CREATE TABLE kopro_test.records (job_id uuid, attempt int, pid int,
 *                                    at timestamptz DEFAULT clock_timestamp());
 * Runs only with KOPRO_ENABLE_TEST_JOBS=1. */
#include "jobs.h"

#include "kopro/db.h"
#include "kopro/error.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int validate(const json_t *payload)
{
    const json_t *ms = json_object_get(payload, "sleep_ms");
    if (ms != NULL &&
        (!json_is_integer(ms) || json_integer_value(ms) < 0 || json_integer_value(ms) > 60000))
        return kopro_error_set(KOPRO_EINVAL, "test.record: payload field 'sleep_ms' must be an "
                               "integer 0..60000");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    char attempt[16];
    char pid[16];
    const char *params[3];
    json_int_t ms = json_integer_value(json_object_get(ctx->payload, "sleep_ms"));
    int rc;

    rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    snprintf(attempt, sizeof(attempt), "%d", ctx->attempt);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    params[0] = ctx->job_id;
    params[1] = attempt;
    params[2] = pid;
    rc = kopro_db_begin(ctx->db);
    if (rc != 0)
        return rc;
    rc = kopro_db_exec(ctx->db, NULL, "test.record insert",
                       "INSERT INTO kopro_test.records (job_id, attempt, pid)"
                       " VALUES ($1::uuid, $2::int, $3::int)",
                       3, params);
    if (rc != 0) {
        kopro_db_rollback(ctx->db);
        return rc;
    }
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return 0; /* transaction left open: the worker completes the job inside it */
}

const struct kopro_job_kind kopro_job_test_record = {
    .name = "test.record",
    .summary = "test only: record (job, attempt) in the completion transaction",
    .max_attempts = 25,
    .timeout_s = 120,
    .validate = validate,
    .run = run,
};
