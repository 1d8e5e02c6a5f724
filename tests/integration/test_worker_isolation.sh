#!/bin/sh
# Crash isolation: a handler that segfaults, aborts, loops forever or allocates
# without bound fails its own attempt, with the signal named, and nothing else:
# the daemon stays up and the other jobs succeed. The sanitizer build is told to
# let SIGSEGV/SIGABRT through (it would otherwise turn them into exit 1), and
# the allocation bomb runs under the normal build, since ASan cannot run with
# an address-space limit.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || exit 1

DB=kq_isolation
kt_queue_db $DB || exit 1
q() { kt_psql -d $DB -tAc "$1"; }

Q="$KOPRO_BIN/kopro-queue"
segv=$("$Q" enqueue test.crash --payload '{"how":"segv"}')
abrt=$("$Q" enqueue test.crash --payload '{"how":"abort"}')
loop=$("$Q" enqueue test.crash --payload '{"how":"loop"}')
for i in 1 2 3 4 5 6; do "$Q" enqueue test.noop >/dev/null; done

# A daemon (not --once): it must survive all of the above.
ASAN_OPTIONS="$ASAN_OPTIONS:handle_segv=0:handle_abort=0" \
    "$KOPRO_BIN/kopro-worker" run --concurrency 2 --poll-ms 200 2>"$KT_TMP/w.log" &
wpid=$!
i=0
while [ $i -lt 300 ] && [ "$(q "select count(*) from kopro.jobs where state in ('queued', 'running')")" != 0 ]; do
    sleep 0.1
    i=$((i + 1))
done
kt_check "every job reached a final state" test "$(q "select count(*) from kopro.jobs where state in ('queued', 'running')")" = 0
kt_check "the daemon is still running" kill -0 $wpid
kt_check "segfault: attempt failed, SIGSEGV named" sh -c "psql -X -d $DB -tAc \"select state || ' ' || last_error from kopro.jobs where id = '$segv'\" | tee /dev/stderr | grep -q '^dead job process killed by signal 11 (SIGSEGV'"
kt_check "abort: attempt failed, SIGABRT named" sh -c "psql -X -d $DB -tAc \"select last_error from kopro.jobs where id = '$abrt'\" | grep -q 'signal 6 (SIGABRT'"
kt_check "endless loop: killed at the kind's timeout" sh -c "psql -X -d $DB -tAc \"select last_error from kopro.jobs where id = '$loop'\" | grep -q 'timed out after 3 s.*SIGKILL'"
kt_check "the other jobs all succeeded" test "$(q "select count(*) from kopro.jobs where kind = 'test.noop' and state = 'succeeded'")" = 6
kt_check "the crashes are in the log with their job ids" sh -c "grep -c 'kind=test.crash attempt=1 event=dead' '$KT_TMP/w.log' | grep -qx 3"

kill -TERM $wpid
wait $wpid
kt_check "the daemon exits 0 on SIGTERM" test $? = 0

# Allocation bomb under an address-space limit (normal build; the sanitizer
# daemon above is stopped first: it has no RLIMIT_AS and must not take it).
bomb=$("$Q" enqueue test.crash --payload '{"how":"alloc"}')
after=$("$Q" enqueue test.noop)
"$KOPRO_BIN_PLAIN/kopro-worker" run --once --concurrency 1 --memory-limit-mb 256 2>"$KT_TMP/w2.log"
kt_check "allocation bomb: stopped by RLIMIT_AS, attempt failed" sh -c "psql -X -d $DB -tAc \"select state || ' ' || last_error from kopro.jobs where id = '$bomb'\" | tee /dev/stderr | grep -q '^dead job process killed by signal 6 (SIGABRT'"
kt_check "the job after it, in the same slot, succeeded" test "$(q "select state from kopro.jobs where id = '$after'")" = succeeded

kt_done
