/* test.crash — TEST-ONLY job kind that misbehaves on purpose, to test the
 * worker's isolation: {"how": "segv"} dereferences NULL, "abort" calls
 * abort(), "loop" spins forever (killed at the 3 s timeout or by RLIMIT_CPU),
 * "alloc" allocates and touches memory without bound (stopped by RLIMIT_AS).
 * Runs only with KOPRO_ENABLE_TEST_JOBS=1. */
#include "jobs.h"

#include "kopro/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int validate(const json_t *payload)
{
    const char *how = json_string_value(json_object_get(payload, "how"));
    if (how == NULL || (strcmp(how, "segv") != 0 && strcmp(how, "abort") != 0 &&
                        strcmp(how, "loop") != 0 && strcmp(how, "alloc") != 0))
        return kopro_error_set(KOPRO_EINVAL, "test.crash: payload field 'how' must be segv, "
                               "abort, loop or alloc");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    const char *how = json_string_value(json_object_get(ctx->payload, "how"));
    int rc = validate(ctx->payload);

    if (rc != 0)
        return rc;
    if (strcmp(how, "segv") == 0) {
        /* A wild, non-NULL address: a real SIGSEGV, not a sanitizer's NULL check. */
        volatile int *volatile p = (volatile int *)(uintptr_t)64;
        *p = 1;
    } else if (strcmp(how, "abort") == 0) {
        abort();
    } else if (strcmp(how, "loop") == 0) {
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    } else {
        for (;;) {
            /* 64 MiB at a time, touched so that it is really used; never freed. */
            char *p = malloc(64u << 20);
            if (p == NULL)
                abort(); /* as a library that aborts on out-of-memory would */
            memset(p, 0xA5, 64u << 20);
        }
    }
    return kopro_error_set(KOPRO_ERROR, "test.crash: survived '%s'", how);
}

const struct kopro_job_kind kopro_job_test_crash = {
    .name = "test.crash",
    .summary = "test only: segfault, abort, loop or allocate without bound",
    .max_attempts = 1,
    .timeout_s = 3,
    .validate = validate,
    .run = run,
};
