#include "kopro/queue.h"

#include "kopro/buf.h"
#include "kopro/db.h"
#include "kopro/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const states[] = {"queued", "running", "succeeded", "failed",
                                     "dead",   "cancelled", NULL};

int kopro_queue_state_valid(const char *s)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; states[i] != NULL; i++)
        if (strcmp(states[i], s) == 0)
            return 1;
    return 0;
}

double kopro_queue_backoff_s(int attempt, double jitter01)
{
    double a;

    if (attempt < 1)
        attempt = 1;
    if (attempt > 100)
        attempt = 100;
    if (!(jitter01 >= 0.0))
        jitter01 = 0.0;
    if (jitter01 > 1.0)
        jitter01 = 1.0;
    a = (double)attempt;
    return (a * a * a * a + 15.0) * (0.9 + 0.2 * jitter01);
}

static int json_text(char **out, const json_t *v, const char *what)
{
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "cannot serialise the %s as JSON", what);
    if (strlen(*out) > KOPRO_QUEUE_PAYLOAD_MAX_BYTES) {
        free(*out);
        *out = NULL;
        return kopro_error_set(KOPRO_ETOOBIG, "the %s exceeds %d bytes of JSON; store big data "
                               "elsewhere and pass its id", what, KOPRO_QUEUE_PAYLOAD_MAX_BYTES);
    }
    return 0;
}

int kopro_queue_enqueue(char **id_out, PGconn *db, const char *kind, const json_t *payload,
                        const struct kopro_enqueue_opts *opts)
{
    static const struct kopro_enqueue_opts none;
    char *text = NULL;
    char max_s[16];
    char prio_s[16];
    const char *params[8];
    PGresult *res = NULL;
    int rc;

    *id_out = NULL;
    if (opts == NULL)
        opts = &none;
    if (kind == NULL || kind[0] == '\0')
        return kopro_error_set(KOPRO_EINVAL, "job kind is empty; give one such as pdf.minutes");
    if (!json_is_object(payload))
        return kopro_error_set(KOPRO_EINVAL, "payload of the %s job must be a JSON object", kind);
    if (opts->max_attempts < 0)
        return kopro_error_set(KOPRO_EINVAL, "max_attempts %d: must be 1 or more",
                               opts->max_attempts);
    rc = json_text(&text, payload, "payload");
    if (rc != 0)
        goto done;
    snprintf(max_s, sizeof(max_s), "%d", opts->max_attempts);
    snprintf(prio_s, sizeof(prio_s), "%d", opts->priority);
    params[0] = kind;
    params[1] = text;
    params[2] = opts->organization_id;
    params[3] = opts->run_at;
    params[4] = opts->max_attempts > 0 ? max_s : NULL;
    params[5] = prio_s;
    params[6] = opts->unique_key;
    params[7] = opts->created_by;
    rc = kopro_db_exec(db, &res, "kopro.enqueue",
                       "SELECT kopro.enqueue($1, $2::jsonb, $3::uuid, "
                       "coalesce($4::timestamptz, now()), $5::int, $6::int, $7, $8::uuid)",
                       8, params);
    if (rc != 0)
        goto done;
    *id_out = strdup(PQgetvalue(res, 0, 0));
    if (*id_out == NULL)
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
done:
    PQclear(res);
    free(text);
    return rc;
}

void kopro_queue_jobs_free(struct kopro_queue_job *jobs, size_t n)
{
    if (jobs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].id);
        free(jobs[i].kind);
        free(jobs[i].organization_id);
        free(jobs[i].created_by);
        json_decref(jobs[i].payload);
    }
    free(jobs);
}

static char *dup_or_null(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

int kopro_queue_claim(struct kopro_queue_job **jobs_out, size_t *n_out, PGconn *db,
                      const char *worker_id, const char *const *kinds, size_t max_jobs,
                      int lease_s)
{
    struct kopro_buf kl;
    struct kopro_queue_job *jobs = NULL;
    char max_s[24];
    char lease_str[16];
    const char *params[4];
    PGresult *res = NULL;
    size_t n = 0;
    int rc = 0;

    *jobs_out = NULL;
    *n_out = 0;
    kopro_buf_init(&kl, 64 * 1024);
    if (max_jobs < 1 || max_jobs > 10000 || lease_s < 1)
        return kopro_error_set(KOPRO_EINVAL, "claim: batch size %zu (1..10000) or lease %d s "
                               "(>= 1) out of range", max_jobs, lease_s);
    if (kinds != NULL) {
        for (size_t i = 0; kinds[i] != NULL; i++) {
            rc = kopro_buf_addf(&kl, "%s%s", i ? "," : "", kinds[i]);
            if (rc != 0)
                goto done;
        }
    }
    snprintf(max_s, sizeof(max_s), "%zu", max_jobs);
    snprintf(lease_str, sizeof(lease_str), "%d", lease_s);
    params[0] = worker_id;
    params[1] = lease_str;
    params[2] = max_s;
    params[3] = kinds != NULL ? (kl.data != NULL ? kl.data : "") : NULL;
    rc = kopro_db_exec_prepared(
        db, &res, "claiming jobs", "kopro_queue_claim",
        "WITH c AS ("
        " SELECT id FROM kopro.jobs"
        "  WHERE state IN ('queued', 'failed') AND run_at <= now()"
        "    AND ($4::text IS NULL OR kind = ANY (string_to_array($4::text, ',')))"
        "  ORDER BY priority, run_at, id"
        "  LIMIT $3::int FOR UPDATE SKIP LOCKED)"
        " UPDATE kopro.jobs j SET state = 'running', attempts = j.attempts + 1,"
        "   locked_by = $1, locked_until = now() + make_interval(secs => $2::int),"
        "   updated_at = now()"
        "  FROM c WHERE j.id = c.id"
        " RETURNING j.id, j.kind, j.organization_id, j.created_by, j.payload::text,"
        "   j.attempts, j.max_attempts",
        4, params);
    if (rc != 0)
        goto done;
    if (PQntuples(res) == 0)
        goto done;
    jobs = calloc((size_t)PQntuples(res), sizeof(*jobs));
    if (jobs == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        json_error_t jerr;
        struct kopro_queue_job *j = &jobs[n++];
        j->id = strdup(PQgetvalue(res, r, 0));
        j->kind = strdup(PQgetvalue(res, r, 1));
        j->organization_id = dup_or_null(kopro_db_value(res, r, 2));
        j->created_by = dup_or_null(kopro_db_value(res, r, 3));
        j->payload = json_loads(PQgetvalue(res, r, 4), 0, &jerr);
        j->attempt = atoi(PQgetvalue(res, r, 5));
        j->max_attempts = atoi(PQgetvalue(res, r, 6));
        if (j->id == NULL || j->kind == NULL || j->payload == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory reading claimed job %s",
                                 PQgetvalue(res, r, 0));
            goto done;
        }
    }
    *jobs_out = jobs;
    *n_out = n;
    jobs = NULL;
done:
    kopro_queue_jobs_free(jobs, n);
    kopro_buf_free(&kl);
    PQclear(res);
    return rc;
}

/* Run a fenced UPDATE; 0 rows means the token is stale. */
static int fenced(PGresult **out, PGconn *db, const struct kopro_queue_fence *f, const char *what,
                  const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    int rc = kopro_db_exec(db, &res, what, sql, nparams, params);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return kopro_error_set(KOPRO_ESTALE,
                               "%s: job %s attempt %d is no longer leased by %s (lease rescued or "
                               "job cancelled); nothing was changed",
                               what, f->job_id, f->attempt, f->worker_id);
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return 0;
}

int kopro_queue_complete(PGconn *db, const struct kopro_queue_fence *f, const json_t *result)
{
    char *text = NULL;
    char att[16];
    const char *params[4];
    int rc;

    if (result != NULL && !json_is_object(result))
        return kopro_error_set(KOPRO_EINVAL, "result of job %s must be a JSON object", f->job_id);
    if (result != NULL) {
        rc = json_text(&text, result, "result");
        if (rc != 0)
            return rc;
    }
    snprintf(att, sizeof(att), "%d", f->attempt);
    params[0] = f->job_id;
    params[1] = att;
    params[2] = f->worker_id;
    params[3] = text;
    rc = fenced(NULL, db, f, "completing a job",
                "UPDATE kopro.jobs SET state = 'succeeded', result = $4::jsonb,"
                " locked_until = NULL, finished_at = now(), updated_at = now()"
                " WHERE id = $1::uuid AND attempts = $2::int AND locked_by = $3"
                "   AND state = 'running' RETURNING id",
                4, params);
    free(text);
    return rc;
}

/* Copy `error` into a one-line, capped string. */
static void one_line(char *dst, size_t cap, const char *error)
{
    size_t i = 0;
    if (error == NULL || error[0] == '\0')
        error = "unknown error";
    for (; error[i] != '\0' && i + 1 < cap; i++)
        dst[i] = (error[i] == '\n' || error[i] == '\r' || error[i] == '\t') ? ' ' : error[i];
    dst[i] = '\0';
}

int kopro_queue_fail(int *outcome_out, PGconn *db, const struct kopro_queue_fence *f,
                     const char *error, int permanent)
{
    char msg[KOPRO_QUEUE_ERROR_MAX_BYTES + 1];
    char att[16];
    char backoff[32];
    const char *params[6];
    PGresult *res = NULL;
    int rc;

    if (outcome_out != NULL)
        *outcome_out = 0;
    one_line(msg, sizeof(msg), error);
    snprintf(att, sizeof(att), "%d", f->attempt);
    snprintf(backoff, sizeof(backoff), "%.3f",
             kopro_queue_backoff_s(f->attempt, (double)random() / (double)RAND_MAX));
    params[0] = f->job_id;
    params[1] = att;
    params[2] = f->worker_id;
    params[3] = msg;
    params[4] = backoff;
    params[5] = permanent ? "t" : "f";
    rc = fenced(&res, db, f, "failing a job",
                "UPDATE kopro.jobs SET"
                " state = CASE WHEN $6::bool OR attempts >= max_attempts THEN 'dead'"
                "              ELSE 'failed' END,"
                " run_at = CASE WHEN $6::bool OR attempts >= max_attempts THEN run_at"
                "               ELSE now() + make_interval(secs => $5::float8) END,"
                " finished_at = CASE WHEN $6::bool OR attempts >= max_attempts THEN now() END,"
                " last_error = $4,"
                " errors = errors || jsonb_build_array(jsonb_build_object("
                "   'attempt', attempts, 'at', now(), 'worker', locked_by, 'error', $4::text)),"
                " locked_until = NULL, updated_at = now()"
                " WHERE id = $1::uuid AND attempts = $2::int AND locked_by = $3"
                "   AND state = 'running' RETURNING state",
                6, params);
    if (rc != 0)
        goto done;
    if (outcome_out != NULL)
        *outcome_out = strcmp(PQgetvalue(res, 0, 0), "dead") == 0 ? KOPRO_QUEUE_DEAD
                                                                  : KOPRO_QUEUE_RETRY;
done:
    PQclear(res);
    return rc;
}

int kopro_queue_release(PGconn *db, const struct kopro_queue_fence *f, const char *reason)
{
    char msg[KOPRO_QUEUE_ERROR_MAX_BYTES + 1];
    char att[16];
    const char *params[4];

    one_line(msg, sizeof(msg), reason);
    snprintf(att, sizeof(att), "%d", f->attempt);
    params[0] = f->job_id;
    params[1] = att;
    params[2] = f->worker_id;
    params[3] = msg;
    return fenced(NULL, db, f, "releasing a job",
                  "UPDATE kopro.jobs SET state = 'queued', run_at = now(),"
                  " max_attempts = max_attempts + 1, locked_until = NULL, updated_at = now(),"
                  " errors = errors || jsonb_build_array(jsonb_build_object("
                  "   'attempt', attempts, 'at', now(), 'worker', locked_by,"
                  "   'error', $4::text, 'released', true))"
                  " WHERE id = $1::uuid AND attempts = $2::int AND locked_by = $3"
                  "   AND state = 'running' RETURNING pg_notify('kopro_jobs', kind)",
                  4, params);
}

int kopro_queue_heartbeat(size_t *renewed_out, PGconn *db, const char *worker_id,
                          const char *const *ids, const int *attempts, size_t n, int lease_s)
{
    struct kopro_buf idl;
    struct kopro_buf atl;
    char lease_str[16];
    const char *params[4];
    PGresult *res = NULL;
    int rc = 0;

    if (renewed_out != NULL)
        *renewed_out = 0;
    if (n == 0)
        return 0;
    kopro_buf_init(&idl, 1024 * 1024);
    kopro_buf_init(&atl, 256 * 1024);
    rc = kopro_buf_adds(&idl, "{");
    if (rc == 0)
        rc = kopro_buf_adds(&atl, "{");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = kopro_buf_addf(&idl, "%s%s", i ? "," : "", ids[i]);
        if (rc == 0)
            rc = kopro_buf_addf(&atl, "%s%d", i ? "," : "", attempts[i]);
    }
    if (rc == 0)
        rc = kopro_buf_adds(&idl, "}");
    if (rc == 0)
        rc = kopro_buf_adds(&atl, "}");
    if (rc != 0)
        goto done;
    snprintf(lease_str, sizeof(lease_str), "%d", lease_s);
    params[0] = worker_id;
    params[1] = lease_str;
    params[2] = idl.data;
    params[3] = atl.data;
    rc = kopro_db_exec_prepared(db, &res, "renewing leases", "kopro_queue_heartbeat",
                       "UPDATE kopro.jobs j SET locked_until = now() + make_interval(secs => "
                       "$2::int), updated_at = now()"
                       " FROM unnest($3::uuid[], $4::int[]) AS t(id, attempt)"
                       " WHERE j.id = t.id AND j.attempts = t.attempt AND j.locked_by = $1"
                       "   AND j.state = 'running'",
                       4, params);
    if (rc != 0)
        goto done;
    if (renewed_out != NULL)
        *renewed_out = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
done:
    PQclear(res);
    kopro_buf_free(&idl);
    kopro_buf_free(&atl);
    return rc;
}

int kopro_queue_rescue(size_t *rescued_out, PGconn *db)
{
    PGresult *res = NULL;
    int rc;

    if (rescued_out != NULL)
        *rescued_out = 0;
    rc = kopro_db_exec(
        db, &res, "rescuing expired leases",
        "WITH x AS (SELECT id FROM kopro.jobs WHERE state = 'running' AND locked_until < now()"
        "  ORDER BY locked_until LIMIT 1000 FOR UPDATE SKIP LOCKED)"
        " UPDATE kopro.jobs j SET"
        "  state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,"
        "  run_at = now(),"
        "  finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,"
        "  last_error = 'lease expired at ' || j.locked_until || ': worker ' || j.locked_by"
        "    || ' stopped renewing it (crashed, killed or frozen)',"
        "  errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempts,"
        "    'at', now(), 'worker', j.locked_by, 'error', 'lease expired', 'rescued', true)),"
        "  locked_until = NULL, updated_at = now()"
        " FROM x WHERE j.id = x.id AND j.state = 'running'",
        0, NULL);
    if (rc != 0)
        goto done;
    if (rescued_out != NULL)
        *rescued_out = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
done:
    PQclear(res);
    return rc;
}

int kopro_queue_prune(size_t *deleted_out, PGconn *db, long older_than_s)
{
    char age[32];
    const char *params[1];
    PGresult *res = NULL;
    int rc;

    if (deleted_out != NULL)
        *deleted_out = 0;
    snprintf(age, sizeof(age), "%ld", older_than_s);
    params[0] = age;
    rc = kopro_db_exec(db, &res, "pruning finished jobs",
                       "DELETE FROM kopro.jobs WHERE id IN (SELECT id FROM kopro.jobs"
                       " WHERE state IN ('succeeded', 'dead', 'cancelled')"
                       "   AND finished_at < now() - make_interval(secs => $1::float8)"
                       " LIMIT 10000)",
                       1, params);
    if (rc != 0)
        goto done;
    if (deleted_out != NULL)
        *deleted_out = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
done:
    PQclear(res);
    return rc;
}

int kopro_queue_register_kind(PGconn *db, const char *kind, const char *summary,
                              int max_attempts, int timeout_s)
{
    char m[16];
    char t[16];
    const char *params[4];

    snprintf(m, sizeof(m), "%d", max_attempts > 0 ? max_attempts : 25);
    snprintf(t, sizeof(t), "%d", timeout_s > 0 ? timeout_s : 3600);
    params[0] = kind;
    params[1] = summary != NULL ? summary : "";
    params[2] = m;
    params[3] = t;
    return kopro_db_exec(db, NULL, "registering a job kind",
                         "INSERT INTO kopro.job_kinds (kind, summary, max_attempts, timeout_s)"
                         " VALUES ($1, $2, $3::int, $4::int)"
                         " ON CONFLICT (kind) DO UPDATE SET summary = EXCLUDED.summary,"
                         "  max_attempts = EXCLUDED.max_attempts, timeout_s = EXCLUDED.timeout_s,"
                         "  updated_at = now()"
                         " WHERE (kopro.job_kinds.summary, kopro.job_kinds.max_attempts,"
                         "        kopro.job_kinds.timeout_s)"
                         "   IS DISTINCT FROM (EXCLUDED.summary, EXCLUDED.max_attempts,"
                         "        EXCLUDED.timeout_s)",
                         4, params);
}

/* Run a query returning one json text cell and parse it into *out. */
static int json_query(json_t **out, PGconn *db, const char *what, const char *sql, int nparams,
                      const char *const *params)
{
    PGresult *res = NULL;
    json_error_t jerr;
    int rc;

    *out = NULL;
    rc = kopro_db_exec(db, &res, what, sql, nparams, params);
    if (rc != 0)
        goto done;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        rc = KOPRO_ENOTFOUND;
        goto done;
    }
    *out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
    if (*out == NULL)
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot parse the server's JSON: %s", what,
                             jerr.text);
done:
    PQclear(res);
    return rc;
}

int kopro_queue_show(json_t **out, PGconn *db, const char *id)
{
    const char *params[1] = {id};
    int rc = json_query(out, db, "showing a job",
                        "SELECT to_jsonb(j) FROM kopro.jobs j WHERE id = $1::uuid", 1, params);
    if (rc == KOPRO_ENOTFOUND)
        return kopro_error_set(KOPRO_ENOTFOUND, "job %s not found (pruned, or wrong id)", id);
    return rc;
}

int kopro_queue_list(json_t **out, PGconn *db, const char *state, const char *kind, int limit)
{
    char lim[16];
    const char *params[3];

    *out = NULL;
    if (state != NULL && !kopro_queue_state_valid(state))
        return kopro_error_set(KOPRO_EINVAL, "unknown state '%s'; use queued, running, "
                               "succeeded, failed, dead or cancelled", state);
    if (limit < 1 || limit > 10000)
        return kopro_error_set(KOPRO_EINVAL, "limit %d: must be 1..10000", limit);
    snprintf(lim, sizeof(lim), "%d", limit);
    params[0] = state;
    params[1] = kind;
    params[2] = lim;
    return json_query(out, db, "listing jobs",
                      "SELECT coalesce(jsonb_agg(x ORDER BY x.created_at DESC, x.id), '[]')"
                      " FROM (SELECT id, kind, state, priority, attempts, max_attempts, run_at,"
                      "   organization_id, locked_by, last_error, created_at, finished_at"
                      "  FROM kopro.jobs WHERE ($1::text IS NULL OR state = $1)"
                      "   AND ($2::text IS NULL OR kind = $2)"
                      "  ORDER BY created_at DESC, id LIMIT $3::int) x",
                      3, params);
}

int kopro_queue_stats(json_t **out, PGconn *db)
{
    return json_query(
        out, db, "computing queue statistics",
        "WITH c AS (SELECT kind, state, count(*) AS n FROM kopro.jobs GROUP BY kind, state),"
        " k AS (SELECT kind, jsonb_object_agg(state, n) AS s FROM c GROUP BY kind),"
        " t AS (SELECT state, sum(n) AS n FROM c GROUP BY state)"
        " SELECT jsonb_build_object("
        "  'by_kind', coalesce((SELECT jsonb_object_agg(kind, s) FROM k), '{}'),"
        "  'total', coalesce((SELECT jsonb_object_agg(state, n) FROM t), '{}'),"
        "  'oldest_runnable_age_s', coalesce((SELECT extract(epoch FROM now() - min(run_at))"
        "     FROM kopro.jobs WHERE state IN ('queued', 'failed') AND run_at <= now()), 0),"
        "  'expired_leases', (SELECT count(*) FROM kopro.jobs"
        "     WHERE state = 'running' AND locked_until < now()))",
        0, NULL);
}

static int state_of(char **state_out, PGconn *db, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = NULL;
    int rc;

    *state_out = NULL;
    rc = kopro_db_exec(db, &res, "reading a job", "SELECT state FROM kopro.jobs WHERE id = $1::uuid",
                       1, params);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0)
        rc = kopro_error_set(KOPRO_ENOTFOUND, "job %s not found", id);
    else if ((*state_out = strdup(PQgetvalue(res, 0, 0))) == NULL)
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
    PQclear(res);
    return rc;
}

int kopro_queue_retry(PGconn *db, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = NULL;
    char *state = NULL;
    int rc;

    rc = kopro_db_exec(db, &res, "retrying a job",
                       "UPDATE kopro.jobs SET state = 'queued', run_at = now(),"
                       " max_attempts = greatest(max_attempts, attempts + 1),"
                       " finished_at = NULL, updated_at = now()"
                       " WHERE id = $1::uuid AND state IN ('failed', 'dead', 'cancelled')"
                       " RETURNING pg_notify('kopro_jobs', kind)",
                       1, params);
    if (rc != 0)
        goto done;
    if (PQntuples(res) == 1)
        goto done;
    rc = state_of(&state, db, id);
    if (rc != 0)
        goto done;
    if (strcmp(state, "succeeded") == 0)
        rc = kopro_error_set(KOPRO_EINVAL, "job %s already succeeded; enqueue a new job to run "
                             "it again", id);
    else
        rc = kopro_error_set(KOPRO_EBUSY, "job %s is %s; only failed, dead or cancelled jobs can "
                             "be retried", id, state);
done:
    free(state);
    PQclear(res);
    return rc;
}

int kopro_queue_cancel(PGconn *db, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = NULL;
    char *state = NULL;
    int rc;

    rc = kopro_db_exec(db, &res, "cancelling a job",
                       "UPDATE kopro.jobs SET state = 'cancelled', finished_at = now(),"
                       " updated_at = now()"
                       " WHERE id = $1::uuid AND state IN ('queued', 'failed') RETURNING id",
                       1, params);
    if (rc != 0)
        goto done;
    if (PQntuples(res) == 1)
        goto done;
    rc = state_of(&state, db, id);
    if (rc != 0)
        goto done;
    if (strcmp(state, "running") == 0)
        rc = kopro_error_set(KOPRO_EBUSY, "job %s is running and cannot be stopped mid-run; "
                             "wait for it to finish", id);
    else
        rc = kopro_error_set(KOPRO_EINVAL, "job %s is already %s; nothing to cancel", id, state);
done:
    free(state);
    PQclear(res);
    return rc;
}
