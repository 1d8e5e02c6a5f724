/*
 * jobs/jobs.h — the job kinds the worker runs. One kind is one file in jobs/
 * exporting a `const struct kopro_job_kind`; jobs/registry.c lists them in the
 * table the worker dispatches on (after tmux's cmd-*.c entries).
 */
#ifndef KOPRO_JOBS_H
#define KOPRO_JOBS_H

#include <jansson.h>
#include <libpq-fe.h>

struct kopro_config;

struct kopro_job_ctx {
    PGconn *db;                      /* the worker's connection; no open transaction */
    const struct kopro_config *cfg;  /* environment + config file */
    const char *job_id;              /* uuid text */
    const char *kind;                /* e.g. "pdf.minutes" */
    const char *organization_id;     /* uuid text, or NULL for system jobs */
    int attempt;                     /* 1-based; also the fencing token */
    const json_t *payload;           /* borrowed; an object */
    json_t *result;                  /* set by the handler (owned by ctx), or NULL */
};

struct kopro_job_kind {
    const char *name;        /* "pdf.minutes" */
    const char *summary;     /* one line for --help and docs */
    int max_attempts;        /* default when the enqueuer gives none */
    int timeout_s;           /* a run longer than this is killed */
    /*
     * Check the payload before it is queued: returns 0 or KOPRO_EINVAL with a
     * message naming the bad field. May be NULL (any object accepted).
     */
    int (*validate)(const json_t *payload);
    /*
     * Run the job. Returns 0 and may set ctx->result, or a KOPRO_E* code with
     * kopro_error_last() set; KOPRO_EINVAL and KOPRO_ENOTFOUND are permanent
     * (no retry), other codes are retried.
     */
    int (*run)(struct kopro_job_ctx *ctx);
};

/* The registered kinds, NULL-terminated. */
extern const struct kopro_job_kind *const kopro_job_kinds[];

/* The kind named `name`, or NULL. */
const struct kopro_job_kind *kopro_jobs_find(const char *name);

#endif
