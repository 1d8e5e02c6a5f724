-- 0001_jobs.sql — kopro's job queue: kopro.jobs, kopro.job_kinds, kopro.enqueue()
-- and the statement-level NOTIFY trigger. Applied by `kopro-worker migrate` in one
-- transaction. Never touches KoproGo's `public` schema.

CREATE SCHEMA IF NOT EXISTS kopro;
COMMENT ON SCHEMA kopro IS
    'kopro (KoproGo batch side): job queue and bookkeeping. Owned by kopro-worker migrate; '
    'KoproGo''s public tables are never altered.';

-- Defaults per kind, upserted by kopro-worker from its compiled registry (jobs/).
CREATE TABLE kopro.job_kinds (
    kind          text PRIMARY KEY,
    summary       text NOT NULL DEFAULT '',
    max_attempts  int  NOT NULL CHECK (max_attempts >= 1),
    timeout_s     int  NOT NULL CHECK (timeout_s >= 1),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kopro.job_kinds IS
    'Job kinds known to the installed kopro-worker, with their default max_attempts and '
    'timeout. Written by kopro-worker at start; read by kopro.enqueue().';

CREATE TABLE kopro.jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text NOT NULL
                    CHECK (length(kind) BETWEEN 1 AND 64
                           AND kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb
                    CHECK (jsonb_typeof(payload) = 'object'),
    organization_id uuid,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead',
                                     'cancelled')),
    priority        smallint NOT NULL DEFAULT 0,
    attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    int NOT NULL DEFAULT 25 CHECK (max_attempts >= 1),
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_by       text,
    locked_until    timestamptz,
    last_error      text,
    errors          jsonb NOT NULL DEFAULT '[]'::jsonb
                    CHECK (jsonb_typeof(errors) = 'array'),
    result          jsonb CHECK (result IS NULL OR jsonb_typeof(result) = 'object'),
    unique_key      text CHECK (unique_key IS NULL OR length(unique_key) BETWEEN 1 AND 255),
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK (state <> 'running' OR (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);

COMMENT ON TABLE kopro.jobs IS
    'The job queue. Add jobs with kopro.enqueue(); kopro-worker claims them with '
    'FOR UPDATE SKIP LOCKED. Rows in succeeded/dead/cancelled are pruned after a '
    'configurable age (kopro-worker run --prune-after).';
COMMENT ON COLUMN kopro.jobs.kind IS 'Job kind, e.g. pdf.minutes or backup.run (see kopro.job_kinds).';
COMMENT ON COLUMN kopro.jobs.payload IS 'Arguments of the job: a JSON object, validated by the kind.';
COMMENT ON COLUMN kopro.jobs.organization_id IS 'KoproGo organization the job belongs to (tenancy); NULL for system jobs such as backups.';
COMMENT ON COLUMN kopro.jobs.state IS
    'queued: waiting for run_at; running: leased by locked_by until locked_until; '
    'succeeded: done, result set; failed: an attempt failed and a retry is scheduled at run_at; '
    'dead: attempts exhausted or permanent error; cancelled: cancelled before it ran.';
COMMENT ON COLUMN kopro.jobs.priority IS 'Lower runs first among runnable jobs (default 0; negative allowed).';
COMMENT ON COLUMN kopro.jobs.attempts IS 'Attempts started so far. The current attempt number is also the fencing token of the lease.';
COMMENT ON COLUMN kopro.jobs.max_attempts IS 'After this many failed attempts the job becomes dead.';
COMMENT ON COLUMN kopro.jobs.run_at IS 'Earliest time (UTC) the job may start; the next retry time when failed.';
COMMENT ON COLUMN kopro.jobs.locked_by IS 'Worker holding the lease ("host:pid"), while running.';
COMMENT ON COLUMN kopro.jobs.locked_until IS 'Lease expiry; renewed by heartbeat. An expired lease is rescued by any worker.';
COMMENT ON COLUMN kopro.jobs.last_error IS 'Error of the latest failed attempt (one line, no personal data).';
COMMENT ON COLUMN kopro.jobs.errors IS 'Every failed attempt: [{"attempt":n,"at":"…","error":"…"}].';
COMMENT ON COLUMN kopro.jobs.result IS 'JSON object set on success. Jobs producing a file set path, content_type, size_bytes, sha256.';
COMMENT ON COLUMN kopro.jobs.unique_key IS 'Idempotency key: while a job with this key is queued, running or failed (retry scheduled), kopro.enqueue() with the same key returns that job''s id.';
COMMENT ON COLUMN kopro.jobs.created_by IS 'KoproGo user who requested the job (for API ownership checks), or NULL.';

-- Claiming: runnable jobs in priority, then run_at order.
CREATE INDEX jobs_claim_idx ON kopro.jobs (priority, run_at, id)
    WHERE state IN ('queued', 'failed');
-- Lease rescue: running jobs by lease expiry.
CREATE INDEX jobs_lease_idx ON kopro.jobs (locked_until) WHERE state = 'running';
-- Idempotent enqueue: one active job per unique key.
CREATE UNIQUE INDEX jobs_unique_key_idx ON kopro.jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed');
-- Pruning of finished jobs.
CREATE INDEX jobs_finished_idx ON kopro.jobs (finished_at)
    WHERE state IN ('succeeded', 'dead', 'cancelled');
-- API listing per tenant.
CREATE INDEX jobs_org_idx ON kopro.jobs (organization_id, created_at);

-- Many short-lived rows: vacuum early so the table stays small (see issue 5: bloat).
ALTER TABLE kopro.jobs SET (autovacuum_vacuum_scale_factor = 0.02,
                            autovacuum_vacuum_insert_scale_factor = 0.05,
                            fillfactor = 80);

-- One tiny notification per INSERT statement, whatever its row count: the kind if all
-- new rows share one, else '*'. Nothing is sent for jobs scheduled in the future
-- (workers poll for those).
CREATE FUNCTION kopro.jobs_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_min text;
    v_max text;
BEGIN
    SELECT min(kind), max(kind) INTO v_min, v_max
      FROM new_jobs WHERE run_at <= now() + interval '1 second';
    IF v_min IS NOT NULL THEN
        PERFORM pg_notify('kopro_jobs', CASE WHEN v_min = v_max THEN v_min ELSE '*' END);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION kopro.jobs_notify() IS
    'Statement-level trigger: at most one NOTIFY kopro_jobs per INSERT statement.';

CREATE TRIGGER jobs_notify AFTER INSERT ON kopro.jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION kopro.jobs_notify();

CREATE FUNCTION kopro.enqueue(p_kind text, p_payload jsonb, p_organization_id uuid,
                              p_run_at timestamptz DEFAULT now(),
                              p_max_attempts int DEFAULT NULL,
                              p_priority int DEFAULT 0,
                              p_unique_key text DEFAULT NULL,
                              p_created_by uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_id  uuid;
    v_max int;
BEGIN
    IF p_kind IS NULL THEN
        RAISE EXCEPTION 'kopro.enqueue: kind is NULL; give a job kind such as pdf.minutes'
            USING ERRCODE = '22004';
    END IF;
    IF p_payload IS NULL OR jsonb_typeof(p_payload) <> 'object' THEN
        RAISE EXCEPTION 'kopro.enqueue: payload of a % job must be a JSON object', p_kind
            USING ERRCODE = '22023';
    END IF;
    IF p_priority IS NULL OR p_priority < -32768 OR p_priority > 32767 THEN
        RAISE EXCEPTION 'kopro.enqueue: priority % is out of range -32768..32767', p_priority
            USING ERRCODE = '22003';
    END IF;
    v_max := coalesce(p_max_attempts,
                      (SELECT k.max_attempts FROM kopro.job_kinds k WHERE k.kind = p_kind),
                      25);
    LOOP
        INSERT INTO kopro.jobs (kind, payload, organization_id, run_at, max_attempts,
                                priority, unique_key, created_by)
        VALUES (p_kind, p_payload, p_organization_id, coalesce(p_run_at, now()), v_max,
                p_priority, p_unique_key, p_created_by)
        ON CONFLICT (unique_key)
            WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed')
            DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NOT NULL THEN
            RETURN v_id;
        END IF;
        -- An active job holds the key: return its id. If it finished in between, loop
        -- and insert again.
        SELECT j.id INTO v_id FROM kopro.jobs j
         WHERE j.unique_key = p_unique_key AND j.state IN ('queued', 'running', 'failed');
        IF v_id IS NOT NULL THEN
            RETURN v_id;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION kopro.enqueue(text, jsonb, uuid, timestamptz, int, int, text, uuid) IS
    'The documented way to add a job: kopro.enqueue(kind, payload, organization_id, '
    'run_at DEFAULT now(), max_attempts DEFAULT the kind''s, priority DEFAULT 0 (lower first), '
    'unique_key DEFAULT NULL, created_by DEFAULT NULL) returns the job id. With a unique_key, '
    'concurrent calls while a job with that key is queued/running/failed return the same id.';
