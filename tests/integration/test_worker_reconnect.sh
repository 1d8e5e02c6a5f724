#!/bin/sh
# Reconnect: the worker's database sessions are killed (pg_terminate_backend,
# as after a PostgreSQL restart or a failover) while it waits for work. It
# reconnects, sets its session up again (LISTEN, planner settings, its
# prepared statements, which died with the session) and runs what comes next,
# both by the batched path and by --no-batch.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || exit 1

DB=kq_reconnect
kt_queue_db $DB || exit 1
q() { kt_psql -d $DB -tAc "$1"; }

kill_sessions() {
    q "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = '$DB' and application_name like 'kopro-worker%'"
}

for mode in batched no-batch; do
    flag=""
    [ "$mode" = no-batch ] && flag="--no-batch"
    q "delete from kopro.jobs" >/dev/null
    "$KOPRO_BIN/kopro-worker" run --concurrency 2 --poll-ms 200 $flag 2>"$KT_TMP/$mode.log" &
    w=$!
    q "insert into kopro.jobs (kind) select 'test.noop' from generate_series(1, 50)" >/dev/null
    kt_check "$mode: the first 50 jobs succeed" kt_wait_sql "(select count(*) = 50 from kopro.jobs where state = 'succeeded')"
    killed=$(kill_sessions)
    kt_check "$mode: the worker's sessions were killed ($killed)" test "$killed" -ge 1
    sleep 0.5
    q "insert into kopro.jobs (kind) select 'test.noop' from generate_series(1, 50)" >/dev/null
    kt_check "$mode: after reconnecting it runs the next 50" kt_wait_sql "(select count(*) = 100 from kopro.jobs where state = 'succeeded')"
    kt_check "$mode: the log says it reconnected" grep -q "database connection re-established" "$KT_TMP/$mode.log"
    kt_check "$mode: the daemon is still running" kill -0 $w
    kill -TERM $w
    wait $w
    kt_check "$mode: it stops with exit 0" test $? = 0
done
kt_done
