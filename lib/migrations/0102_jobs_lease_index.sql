-- 0102_jobs_lease_index.sql — the lease-rescue index keyed on the lease itself.
--
-- 0001 made jobs_lease_idx partial on state = 'running'. Right after a bulk
-- INSERT, before autoanalyze has run, the planner believes about one job is
-- running, so it answered the worker's batched completion and heartbeat
-- (... WHERE j.id = t.id AND j.state = 'running', 500 ids at a time) by reading
-- that whole index once per id: 300 ms instead of 15 ms per batch. With the
-- predicate on locked_until, those statements cannot use it and take the
-- primary key; the rescue query (state = 'running' AND locked_until < now())
-- still can, since "locked_until < x" implies "locked_until IS NOT NULL".
-- Only running jobs hold a lease (every other state clears locked_until), so
-- the index holds the same rows as before.
DROP INDEX kopro.jobs_lease_idx;
CREATE INDEX jobs_lease_idx ON kopro.jobs (locked_until) WHERE locked_until IS NOT NULL;
COMMENT ON INDEX kopro.jobs_lease_idx IS
    'Lease rescue: leased (running) jobs by lease expiry.';
