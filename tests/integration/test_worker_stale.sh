#!/bin/sh
# Stale lease: a worker frozen (SIGSTOP) past its lease loses the job to a
# rescue; another worker runs attempt 2 to completion. When the frozen worker
# resumes, its completion of attempt 1 is fenced off: it changes nothing, and
# the writes it made in its completion transaction are rolled back.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || exit 1

DB=kq_stale
kt_queue_db $DB || exit 1
q() { kt_psql -d $DB -tAc "$1"; }
q "create schema kopro_test; create table kopro_test.records (job_id uuid, attempt int, pid int, at timestamptz default clock_timestamp())" >/dev/null


job=$("$KOPRO_BIN/kopro-queue" enqueue test.record --payload '{"sleep_ms":3000}')
"$KOPRO_BIN/kopro-worker" run --worker-id stale-A --lease 2 --concurrency 1 --poll-ms 200 2>"$KT_TMP/a.log" &
a=$!
kt_check "worker A runs attempt 1" kt_wait_sql "(select state = 'running' and locked_by = 'stale-A' from kopro.jobs where id = '$job')"
child=$(pgrep -P $a)
kill -STOP $a $child
kt_check "A's lease expires while it is frozen" kt_wait_sql "(select locked_until < now() from kopro.jobs where id = '$job')" 100
"$KOPRO_BIN/kopro-worker" run --worker-id stale-B --once --lease 30 2>"$KT_TMP/b.log"
kt_check "worker B rescued the job and completed attempt 2" test "$(q "select state || ':' || attempts || ':' || locked_by from kopro.jobs where id = '$job'")" = "succeeded:2:stale-B"
kt_check "the rescue is in the job's errors" test "$(q "select (errors->0->>'attempt') || ':' || (errors->0->>'rescued') || ':' || (errors->0->>'worker') from kopro.jobs where id = '$job'")" = "1:true:stale-A"
snapshot=$(q "select md5(row(state, attempts, locked_by, locked_until, result, errors, finished_at, updated_at)::text) from kopro.jobs where id = '$job'")

kill -CONT $child $a
i=0
while ! grep -q "job=$job kind=test.record attempt=1 event=stale" "$KT_TMP/a.log" && [ $i -lt 150 ]; do
    sleep 0.1
    i=$((i + 1))
done
kt_check "resumed worker A finds its attempt stale" grep -q "job=$job kind=test.record attempt=1 event=stale" "$KT_TMP/a.log"
kt_check "... and overwrote nothing" test "$(q "select md5(row(state, attempts, locked_by, locked_until, result, errors, finished_at, updated_at)::text) from kopro.jobs where id = '$job'")" = "$snapshot"
kt_check "only attempt 2's record exists: attempt 1's transaction was rolled back" test "$(q "select string_agg(attempt::text, ',') from kopro_test.records where job_id = '$job'")" = 2
kill -TERM $a
wait $a
kt_check "worker A still stops cleanly" test $? = 0
kt_done
