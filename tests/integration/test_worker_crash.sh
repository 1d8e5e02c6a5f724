#!/bin/sh
# Crash safety (issue 5): N jobs (default 20,000; KOPRO_CRASH_JOBS overrides)
# whose handler (test.record) records (job id, attempt) in its completion
# transaction, drained by 4 workers while a random worker gets kill -9 every
# second and is restarted. Every job must be completed exactly once, by the
# attempt that recorded it, and the re-executions must stay <= the jobs that
# were in flight (leased by the killed worker) at the kills.
# Uses the normal build ($KOPRO_BIN_PLAIN) for speed.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || exit 1

N=${KOPRO_CRASH_JOBS:-20000}
DB=kq_crash
kt_psql -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null 2>&1 || exit 1
export KOPRO_DATABASE_URL KOPRO_ENABLE_TEST_JOBS=1
KOPRO_DATABASE_URL=$(kt_db_url $DB)
q() { kt_psql -d $DB -tAc "$1"; }
W="$KOPRO_BIN_PLAIN/kopro-worker"
"$W" migrate >/dev/null || exit 1
q "create schema kopro_test; create table kopro_test.records (job_id uuid, attempt int, pid int, at timestamptz default clock_timestamp())" >/dev/null
q "insert into kopro.jobs (kind, max_attempts) select 'test.record', 1000 from generate_series(1, $N)" >/dev/null

gen=0
start_worker() { # slot
    gen=$((gen + 1))
    "$W" run --worker-id "crash-$1-$gen" --concurrency 4 --lease 3 --poll-ms 100 2>>"$KT_TMP/workers.log" &
    eval "pid_$1=$!"
    eval "id_$1=crash-$1-$gen"
}
for s in 1 2 3 4; do start_worker $s; done

t0=$(date +%s)
kills=0
inflight=0
while :; do
    sleep 1
    left=$(q "select count(*) from kopro.jobs where state <> 'succeeded'")
    [ "$left" = 0 ] && break
    [ $(( $(date +%s) - t0 )) -gt 240 ] && break
    s=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 4 + 1 ))
    eval "p=\$pid_$s; wid=\$id_$s"
    kill -9 "$p"
    wait "$p" 2>/dev/null
    # Its job processes die with it (PR_SET_PDEATHSIG); what it held stays leased.
    n=$(q "select count(*) from kopro.jobs where state = 'running' and locked_by = '$wid'")
    inflight=$((inflight + n))
    kills=$((kills + 1))
    start_worker $s
done
secs=$(( $(date +%s) - t0 ))
for s in 1 2 3 4; do eval "kill -TERM \$pid_$s"; done
for s in 1 2 3 4; do eval "wait \$pid_$s"; done

reexec=$(q "select coalesce(sum(attempts), 0) - count(*) from kopro.jobs")
echo "  $N jobs, 4 workers x 4 slots, ${secs}s, $kills kill -9, $inflight jobs in flight at the kills, $reexec re-executions"
kt_check "every job succeeded" test "$(q "select count(*) from kopro.jobs where state = 'succeeded'")" = "$N"
kt_check "the workers were really killed (at least once)" test "$kills" -ge 1
kt_check "every job recorded exactly once" test "$(q "select count(*) || ':' || count(distinct job_id) from kopro_test.records")" = "$N:$N"
kt_check "each record is the attempt that completed the job" test "$(q "select count(*) from kopro_test.records r join kopro.jobs j on j.id = r.job_id where r.attempt <> j.attempts")" = 0
kt_check "re-executions ($reexec) <= jobs in flight at the kills ($inflight)" test "$reexec" -le "$inflight"
kt_check "no job is left running or dead" test "$(q "select count(*) from kopro.jobs where state in ('running', 'dead', 'failed', 'queued')")" = 0
kt_done
