/*
 * kopro/queue.h — the PostgreSQL job queue (kopro.jobs, see
 * lib/migrations/0001_jobs.sql and README.md "Job queue").
 *
 * Life of a job: kopro.enqueue() inserts it `queued`; a worker claims a batch
 * with FOR UPDATE SKIP LOCKED, which sets `running`, attempts+1 and a lease
 * (locked_by, locked_until). The lease is renewed by heartbeat. The worker then
 * completes (`succeeded`) or fails it (`failed` with a retry at run_at, or
 * `dead` when attempts are exhausted or the error is permanent). An expired
 * lease is rescued by any worker (`failed`, runnable at once, or `dead`).
 *
 * Fencing: completing, failing, heartbeating or releasing needs the token
 * (job id, attempt number, worker id) handed out by the claim. If the lease was
 * rescued in the meantime, the call changes nothing and returns KOPRO_ESTALE.
 *
 * All functions take a libpq connection owned by the caller; none of them is
 * safe to call on one connection from two threads at once. Sources:
 * https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE
 * (SKIP LOCKED), https://www.postgresql.org/docs/15/sql-notify.html.
 */
#ifndef KOPRO_QUEUE_H
#define KOPRO_QUEUE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/* Hard caps. */
#define KOPRO_QUEUE_PAYLOAD_MAX_BYTES (1024 * 1024) /* payload JSON text */
#define KOPRO_QUEUE_ERROR_MAX_BYTES 1000            /* one attempt's error text */
#define KOPRO_QUEUE_WORKER_ID_BYTES 128

/* Optional arguments of kopro_queue_enqueue(); zero/NULL fields take the default. */
struct kopro_enqueue_opts {
    const char *organization_id; /* uuid text, or NULL (system job) */
    const char *run_at;          /* timestamptz text (RFC 3339), or NULL for now() */
    int max_attempts;            /* 0: the kind's default from kopro.job_kinds, else 25 */
    int priority;                /* lower runs first; -32768..32767 */
    const char *unique_key;      /* idempotency key, or NULL */
    const char *created_by;      /* uuid text of the requesting user, or NULL */
};

/*
 * Add a job through kopro.enqueue(). With a unique_key, while a job with that
 * key is queued, running or failed (retry scheduled), concurrent callers all
 * get that job's id and no row is added.
 *
 * id_out:  receives the job id (uuid text, caller frees with free()).
 * kind:    e.g. "pdf.minutes" (not checked against the registry here).
 * payload: a JSON object, at most KOPRO_QUEUE_PAYLOAD_MAX_BYTES serialised.
 * opts:    may be NULL.
 * Returns 0; KOPRO_EINVAL (payload not an object, bad uuid/time/priority:
 * the message names it); KOPRO_ETOOBIG (payload); KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_enqueue(char **id_out, PGconn *db, const char *kind, const json_t *payload,
                        const struct kopro_enqueue_opts *opts);

/* A claimed job. All strings and the payload are owned by the array. */
struct kopro_queue_job {
    char *id;              /* uuid text */
    char *kind;
    char *organization_id; /* or NULL */
    char *created_by;      /* or NULL */
    json_t *payload;       /* an object */
    int attempt;           /* 1-based; the fencing token with id and worker id */
    int max_attempts;
};

/*
 * Claim up to max_jobs runnable jobs (state queued or failed, run_at <= now()),
 * lowest priority value first, then oldest run_at, with FOR UPDATE SKIP LOCKED
 * so concurrent workers never get the same job. Each becomes `running` with
 * attempts+1, locked_by = worker_id and locked_until = now() + lease_s.
 *
 * jobs_out/n_out: the claimed jobs (possibly none: *jobs_out NULL, *n_out 0);
 *                 free with kopro_queue_jobs_free(*jobs_out, *n_out).
 * kinds:          NULL-terminated list of kinds to take, or NULL for all.
 * Returns 0; KOPRO_EINVAL (max_jobs or lease_s < 1); KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_claim(struct kopro_queue_job **jobs_out, size_t *n_out, PGconn *db,
                      const char *worker_id, const char *const *kinds, size_t max_jobs,
                      int lease_s);

/* Free an array from kopro_queue_claim(); NULL allowed. */
void kopro_queue_jobs_free(struct kopro_queue_job *jobs, size_t n);

/* The fencing token of one attempt. */
struct kopro_queue_fence {
    const char *job_id;
    int attempt;
    const char *worker_id;
};

/*
 * Mark the attempt succeeded and store `result` (a JSON object, or NULL).
 * If `db` has a transaction open, the update joins it and the caller commits
 * (transactional completion: the handler's own writes and the completion are
 * one transaction); otherwise it commits by itself.
 * Returns 0; KOPRO_ESTALE if the token no longer matches a running job (lease
 * rescued, job cancelled): nothing changed; KOPRO_EINVAL (result not an
 * object); KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_complete(PGconn *db, const struct kopro_queue_fence *f, const json_t *result);

/* Outcome of kopro_queue_fail(). */
enum kopro_queue_fail_outcome {
    KOPRO_QUEUE_RETRY = 1, /* state failed, retried at run_at */
    KOPRO_QUEUE_DEAD = 2,  /* state dead */
};

/*
 * Record a failed attempt: `error` (one line, no personal data; truncated to
 * KOPRO_QUEUE_ERROR_MAX_BYTES) is appended to `errors` with the attempt number
 * and time, and kept in last_error. The job is retried after
 * kopro_queue_backoff_s(attempt) unless `permanent` is non-zero or
 * attempts >= max_attempts, in which case it becomes dead.
 *
 * outcome_out: may be NULL; receives KOPRO_QUEUE_RETRY or KOPRO_QUEUE_DEAD.
 * Transaction handling as kopro_queue_complete().
 * Returns 0; KOPRO_ESTALE (token no longer matches; nothing changed);
 * KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_fail(int *outcome_out, PGconn *db, const struct kopro_queue_fence *f,
                     const char *error, int permanent);

/*
 * Give a claimed job back without counting the attempt against it (worker
 * shutting down): state queued, runnable now, max_attempts raised by one so
 * that the released attempt does not use up the budget. The attempt counter
 * itself never goes down (it is the fencing token).
 * Returns 0; KOPRO_ESTALE; KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_release(PGconn *db, const struct kopro_queue_fence *f, const char *reason);

/*
 * Extend the lease of the given running jobs of `worker_id` to now() + lease_s.
 * ids/attempts: n parallel entries (fencing tokens).
 * renewed_out: may be NULL; receives how many leases were extended (fewer than
 * n means some were rescued or cancelled: their workers must stop).
 * Returns 0; KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_heartbeat(size_t *renewed_out, PGconn *db, const char *worker_id,
                          const char *const *ids, const int *attempts, size_t n, int lease_s);

/*
 * Rescue running jobs whose lease expired (their worker crashed, was killed
 * or froze): each becomes `failed` and runnable at once, or `dead` when its
 * attempts are exhausted; the reason is appended to `errors`. At most
 * 1000 jobs per call (call again if *rescued_out == 1000).
 * Returns 0; KOPRO_EUNAVAIL; KOPRO_ERROR.
 */
int kopro_queue_rescue(size_t *rescued_out, PGconn *db);

/*
 * Delete succeeded, dead and cancelled jobs whose finished_at is older than
 * older_than_s seconds, at most 10,000 per call. Returns 0 or a database error.
 */
int kopro_queue_prune(size_t *deleted_out, PGconn *db, long older_than_s);

/*
 * Retry backoff in seconds after failed attempt `attempt` (1-based):
 * attempt^4 + 15, times a jitter factor in [0.9, 1.1] taken from jitter01 in
 * [0, 1] (pass a uniform random number; 0.5 gives the exact middle).
 * attempt is clamped to 1..100.
 * Source: the formula of Sidekiq / Oban / graphile-worker style exponential
 * backoff named in issue 5.
 */
double kopro_queue_backoff_s(int attempt, double jitter01);

/*
 * Record (upsert) a job kind's defaults in kopro.job_kinds so that
 * kopro.enqueue() applies its max_attempts. Returns 0 or a database error.
 */
int kopro_queue_register_kind(PGconn *db, const char *kind, const char *summary,
                              int max_attempts, int timeout_s);

/*
 * One job as a JSON object (all columns; payload and result included).
 * Returns 0; KOPRO_EINVAL (id not a uuid); KOPRO_ENOTFOUND; database errors.
 * *out is owned by the caller: json_decref().
 */
int kopro_queue_show(json_t **out, PGconn *db, const char *id);

/*
 * Jobs as a JSON array of objects (id, kind, state, attempts, max_attempts,
 * run_at, organization_id, last_error, created_at, finished_at), newest first.
 * state/kind: filters, or NULL. limit: 1..10000.
 * Returns 0; KOPRO_EINVAL (unknown state, bad limit); database errors.
 */
int kopro_queue_list(json_t **out, PGconn *db, const char *state, const char *kind, int limit);

/*
 * Counts by kind and state: {"by_kind": {kind: {state: n}}, "total":
 * {state: n}, "oldest_runnable_age_s": x (how late the oldest runnable job
 * is), "expired_leases": n}. *out: caller json_decref()s. Returns 0 or
 * database errors.
 */
int kopro_queue_stats(json_t **out, PGconn *db);

/*
 * Make a failed, dead or cancelled job runnable now (max_attempts raised if
 * exhausted). Returns 0; KOPRO_ENOTFOUND; KOPRO_EBUSY if it is queued or
 * running; KOPRO_EINVAL if it succeeded (enqueue a new one instead).
 */
int kopro_queue_retry(PGconn *db, const char *id);

/*
 * Cancel a queued or failed job. Returns 0; KOPRO_ENOTFOUND; KOPRO_EBUSY if
 * it is running (it cannot be stopped mid-run); KOPRO_EINVAL if it already
 * finished.
 */
int kopro_queue_cancel(PGconn *db, const char *id);

/* 1 if `s` is a valid job state name, else 0. */
int kopro_queue_state_valid(const char *s);

#endif
