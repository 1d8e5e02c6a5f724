#!/bin/sh
# SIGTERM: the worker stops claiming at once, lets a running job finish within
# --grace, and when the grace period is over kills what is left and releases it
# (queued, runnable at once, the attempt not counted): exit 0, nothing stuck
# in 'running'. Also systemd's READY=1 / STOPPING=1 through a fake NOTIFY_SOCKET.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || exit 1

DB=kq_shutdown
kt_queue_db $DB || exit 1
q() { kt_psql -d $DB -tAc "$1"; }
Q="$KOPRO_BIN/kopro-queue"

echo "== a job that finishes within the grace period"
short=$("$Q" enqueue test.sleep --payload '{"ms":1500}')
"$KOPRO_BIN/kopro-worker" run --concurrency 1 --grace 20 --poll-ms 200 2>"$KT_TMP/w1.log" &
w=$!
kt_check "the job starts" kt_wait_sql "(select state = 'running' from kopro.jobs where id = '$short')"
later=$("$Q" enqueue test.noop)
kill -TERM $w
wait $w
kt_check "exit 0 after SIGTERM" test $? = 0
kt_check "the running job completed during the grace period" test "$(q "select state from kopro.jobs where id = '$short'")" = succeeded
kt_check "no new job was started after SIGTERM (a prefetched one is released)" sh -c "test \"\$(psql -X -d $DB -tAc \"select state from kopro.jobs where id = '$later'\")\" = queued && ! grep -q 'job=$later .*event=start' '$KT_TMP/w1.log'"
kt_check "the stop is logged" grep -q "stopping: no new jobs" "$KT_TMP/w1.log"

echo "== a job that outlives the grace period"
long=$("$Q" enqueue test.sleep --payload '{"ms":120000}')
next=$("$Q" enqueue test.sleep --payload '{"ms":120000}')
q "update kopro.jobs set state = 'cancelled', finished_at = now() where id = '$later'" >/dev/null
# systemd's notification socket, played by a datagram listener.
python3 - "$KT_TMP/notify.sock" "$KT_TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        msg = s.recv(4096).decode()
        log.write(msg.replace("\n", " ") + "\n")
        log.flush()
        if "STOPPING=1" in msg:
            break
PY
npid=$!
i=0
while [ ! -S "$KT_TMP/notify.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
# Not ready without a database: no READY=1, exit 1.
kt_expect_exit "no database: exit 1 and no READY=1" 1 env NOTIFY_SOCKET="$KT_TMP/notify.sock" KOPRO_DATABASE_URL="postgresql:///nodb?host=$KT_TMP/none" "$KOPRO_BIN/kopro-worker" run
# exec keeps the shell's pid, so WATCHDOG_PID names the worker (sd_watchdog_enabled(3)).
NOTIFY_SOCKET="$KT_TMP/notify.sock" WATCHDOG_USEC=400000 \
    sh -c 'WATCHDOG_PID=$$ exec "$0" run --concurrency 1 --grace 1 --poll-ms 200' "$KOPRO_BIN/kopro-worker" 2>"$KT_TMP/w2.log" &
w=$!
kt_check "the long job starts" kt_wait_sql "(select state = 'running' from kopro.jobs where id = '$long')"
kt_check "the next one is claimed ahead (prefetch) or still queued" kt_wait_sql "(select state in ('running', 'queued') from kopro.jobs where id = '$next')"
kill -TERM $w
wait $w
kt_check "exit 0 after the grace period" test $? = 0
kt_check "the unfinished job was released: queued, runnable now" test "$(q "select state || ':' || (run_at <= now()) || ':' || (locked_until is null) from kopro.jobs where id = '$long'")" = "queued:true:true"
kt_check "... the released attempt is not counted against max_attempts" test "$(q "select (max_attempts - attempts) from kopro.jobs where id = '$long'")" = 3
kt_check "... and is recorded in errors" test "$(q "select errors->0->>'released' from kopro.jobs where id = '$long'")" = true
kt_check "nothing is left running" test "$(q "select count(*) from kopro.jobs where state = 'running'")" = 0
kt_check "the job was cut short, not waited for (the release is logged)" grep -q "job=$long kind=test.sleep attempt=1 event=released" "$KT_TMP/w2.log"
kt_check "no job process is left behind" sh -c "! pgrep -P $w"
wait $npid 2>/dev/null
kt_check "systemd got READY=1 first, then WATCHDOG=1 pings, then STOPPING=1" sh -c "head -1 '$KT_TMP/notify.log' | grep -q 'READY=1' && test \$(grep -c 'READY=1' '$KT_TMP/notify.log') = 1 && grep -q '^WATCHDOG=1' '$KT_TMP/notify.log' && tail -1 '$KT_TMP/notify.log' | grep -q 'STOPPING=1'"

echo "== the released job runs again"
q "update kopro.jobs set payload = '{\"ms\": 10}' where id in ('$long', '$next')" >/dev/null
"$KOPRO_BIN/kopro-worker" run --once 2>/dev/null
kt_check "released jobs complete on the next worker" test "$(q "select string_agg(state || attempts, ',') from kopro.jobs where id in ('$long', '$next')")" = "succeeded2,succeeded2"
kt_done
