-- 0103_enqueue_many.sql — kopro.enqueue_many(): many jobs without a unique key
-- in one INSERT statement.
--
-- kopro.enqueue() is one PL/pgSQL call per job (a job_kinds lookup, an INSERT
-- ... ON CONFLICT for the unique key, a loop). An API that groups concurrent
-- requests into one commit (kopro-api does) spent most of its database time
-- there. This function inserts the whole batch with one set-based INSERT:
-- the same defaults as kopro.enqueue() (max_attempts from kopro.job_kinds,
-- else 25; run_at now(); priority 0), the same CHECK constraints, and one
-- statement, so one NOTIFY (trigger jobs_notify). Jobs with a unique_key must
-- go through kopro.enqueue(), which resolves the key.
CREATE FUNCTION kopro.enqueue_many(p_jobs jsonb)
RETURNS TABLE (n bigint, id uuid)
LANGUAGE plpgsql AS $$
BEGIN
    -- PL/pgSQL, not SQL: its plan is cached for the session, where a SQL
    -- function with a data-modifying WITH is planned again at every call.
    RETURN QUERY
    WITH t AS MATERIALIZED (
        SELECT e.n, gen_random_uuid() AS id, e.j
          FROM jsonb_array_elements(p_jobs) WITH ORDINALITY AS e(j, n)),
    ins AS (
        INSERT INTO kopro.jobs AS x (id, kind, payload, organization_id, max_attempts, created_by)
        SELECT t.id, t.j->>'kind', coalesce(t.j->'payload', '{}'::jsonb),
               (t.j->>'organization_id')::uuid, coalesce(k.max_attempts, 25),
               (t.j->>'created_by')::uuid
          FROM t LEFT JOIN kopro.job_kinds k ON k.kind = t.j->>'kind'
        RETURNING 1)
    SELECT t.n, t.id FROM t ORDER BY t.n;
END
$$;
COMMENT ON FUNCTION kopro.enqueue_many(jsonb) IS
    'Enqueue many jobs without a unique key in one INSERT (one NOTIFY): '
    'p_jobs = [{"kind": "pdf.minutes", "payload": {...}, "organization_id": "uuid"|null, '
    '"created_by": "uuid"|null}, ...]; returns (n, id) per element, n 1-based in '
    'array order. Defaults as kopro.enqueue().';
