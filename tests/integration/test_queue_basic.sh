#!/bin/sh
# kopro schema + job queue basics: migrations (idempotent, concurrent, checksum
# guard, public schema untouched), enqueue / list / show / retry / cancel / stats,
# worker --once drains, retries with backoff and every attempt's error, dead
# after max_attempts, unknown and test-only kinds die with a clear error,
# unique keys under 8 racing connections, one NOTIFY per bulk INSERT, pruning,
# metrics file, CLI exit codes.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || exit 1

DB=kq_basic
kt_psql -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null 2>&1 || exit 1
export KOPRO_DATABASE_URL
KOPRO_DATABASE_URL=$(kt_db_url $DB)
W="$KOPRO_BIN/kopro-worker"
Q="$KOPRO_BIN/kopro-queue"
q() { kt_psql -d $DB -tAc "$1"; }
# Keep the output of the last kt_expect_exit (the next check overwrites check.out).
last() { cp "$KT_TMP/check.out" "$KT_TMP/last.out"; }

# A KoproGo-like table in public that migrations must not touch.
q "create table public.buildings (id uuid primary key, name text)" >/dev/null
before=$(q "select md5(string_agg(c.relname || ':' || c.relkind::text, ',' order by c.relname)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'")

echo "== migrations"
"$W" migrate >"$KT_TMP/m1.out" 2>&1 & p1=$!
"$W" migrate >"$KT_TMP/m2.out" 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
nfiles=$(ls "$KT_ROOT"/lib/migrations/*.sql | wc -l)
latest=$(ls "$KT_ROOT"/lib/migrations/*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | tail -1)
kt_check "two concurrent migrators both succeed" test "$r1:$r2" = "0:0"
kt_check "both report the latest version" sh -c "grep -q 'version $latest ' '$KT_TMP/m1.out' && grep -q 'version $latest ' '$KT_TMP/m2.out'"
kt_check "together they applied each file once" test "$(cat "$KT_TMP/m1.out" "$KT_TMP/m2.out" | sed -n 's/.*(\([0-9]*\) migrations* applied now).*/\1/p' | awk '{s+=$1} END{print s}')" = "$nfiles"
"$W" migrate >"$KT_TMP/m3.out" 2>&1
kt_check "a second run is a no-op" grep -q "(0 migrations applied now)" "$KT_TMP/m3.out"
kt_check "schema_migrations records every file with a sha256" test "$(q "select count(*) || ':' || min(length(checksum)) from kopro.schema_migrations")" = "$nfiles:64"
after=$(q "select md5(string_agg(c.relname || ':' || c.relkind::text, ',' order by c.relname)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'")
kt_check "public schema untouched" test "$before" = "$after"
q "update kopro.schema_migrations set checksum = repeat('0', 64) where version = 1" >/dev/null
kt_expect_exit "an edited applied migration is refused (exit 4)" 4 "$W" migrate
last
kt_check "... with a message saying what to do" grep -q "add a new file instead" "$KT_TMP/last.out"
kt_expect_exit "the worker refuses to start on a mismatched schema (exit 4)" 4 "$W" run --once
"$W" migrate 2>/dev/null
q "update kopro.schema_migrations set checksum = '$(sha256sum "$KT_ROOT/lib/migrations/0001_jobs.sql" | cut -c1-64)' where version = 1" >/dev/null
kt_expect_exit "restored checksum accepted" 0 "$W" migrate
kt_psql -d postgres -c "drop database if exists ${DB}_empty" -c "create database ${DB}_empty" >/dev/null 2>&1
kt_expect_exit "worker on an unmigrated database: exit 3, run migrate" 3 env KOPRO_DATABASE_URL="$(kt_db_url ${DB}_empty)" "$W" run --once
last
kt_check "... and says so" grep -q "kopro-worker migrate" "$KT_TMP/last.out"

echo "== CLI"
kt_expect_exit "kopro-worker --help" 0 "$W" --help
kt_expect_exit "kopro-queue --help" 0 "$Q" --help
kt_expect_exit "kopro-worker bad option is a usage error" 2 "$W" run --concurrency zero
kt_expect_exit "kopro-worker bad --queues is a usage error" 2 "$W" run --queues "Pdf Minutes"
kt_expect_exit "kopro-queue unknown command" 2 "$Q" frobnicate
kt_expect_exit "enqueue an unknown kind: exit 3" 3 "$Q" enqueue no.such.kind
kt_expect_exit "enqueue malformed JSON: exit 4" 4 env KOPRO_ENABLE_TEST_JOBS=1 "$Q" enqueue test.sleep --payload '{"ms":'
last
kt_check "... naming the option" grep -q -- "--payload" "$KT_TMP/last.out"
kt_expect_exit "enqueue a payload the kind rejects: exit 4" 4 env KOPRO_ENABLE_TEST_JOBS=1 "$Q" enqueue test.sleep --payload '{"ms":"soon"}'
kt_expect_exit "enqueue a non-object payload: exit 4" 4 env KOPRO_ENABLE_TEST_JOBS=1 "$Q" enqueue test.noop --payload '[1]'
kt_expect_exit "test kinds refused by kopro-queue without KOPRO_ENABLE_TEST_JOBS" 4 "$Q" enqueue test.noop
kt_expect_exit "show a missing job: exit 3" 3 "$Q" show 00000000-0000-0000-0000-000000000000
kt_expect_exit "show a malformed id: exit 4" 4 "$Q" show not-a-uuid
kt_expect_exit "list with an unknown state: exit 4" 4 "$Q" list --state done

echo "== enqueue, list, drain"
export KOPRO_ENABLE_TEST_JOBS=1
for i in 1 2 3 4 5; do "$Q" enqueue test.noop >/dev/null; done
kt_check "five jobs queued" test "$(q "select count(*) from kopro.jobs where state = 'queued' and kind = 'test.noop'")" = 5
kt_check "max_attempts defaults to the kind's (3)" test "$(q "select distinct max_attempts from kopro.jobs")" = 3
kt_check "list shows them" sh -c "'$Q' list --state queued | grep -c test.noop | grep -qx 5"
kt_check "list --json is JSON with ids" sh -c "'$Q' list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==5 and all(len(j[\"id\"])==36 for j in d)'"
id_future=$("$Q" enqueue test.noop --run-at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)")
"$Q" enqueue test.sleep --payload '{"ms":10}' --org 11111111-2222-3333-4444-555555555555 >/dev/null
kt_expect_exit "worker --once drains the runnable jobs and exits 0" 0 sh -c "'$W' run --once --concurrency 3 --metrics-file '$KT_TMP/metrics.prom' --prune-after 3600 2>'$KT_TMP/drain.log'"
kt_check "all runnable jobs succeeded" test "$(q "select count(*) from kopro.jobs where state = 'succeeded'")" = 6
kt_check "the future job is still queued" test "$(q "select state from kopro.jobs where id = '$id_future'")" = queued
kt_check "one log line per job event with id, kind, attempt, duration" sh -c "grep -c 'kind=test.noop attempt=1 event=succeeded duration_ms=' '$KT_TMP/drain.log' | grep -qx 5"
kt_check "the log holds no payload or organization" sh -c "! grep -q '11111111-2222' '$KT_TMP/drain.log'"
kt_check "result stored as a JSON object" test "$(q "select result->>'slept_ms' from kopro.jobs where kind = 'test.sleep'")" = 10
kt_check "metrics file has jobs by kind and state" grep -q '^kopro_jobs{kind="test.noop",state="succeeded"} 5$' "$KT_TMP/metrics.prom"
kt_check "metrics file has attempts and durations" sh -c "grep -q '^kopro_worker_attempts_total{kind=\"test.noop\",outcome=\"succeeded\"} 5$' '$KT_TMP/metrics.prom' && grep -q '^kopro_worker_job_duration_seconds_count{kind=\"test.sleep\"} 1$' '$KT_TMP/metrics.prom'"

echo "== failures, retries, dead"
fid=$("$Q" enqueue test.fail --max-attempts 2)
"$W" run --once 2>"$KT_TMP/w.log"
kt_check "a failed attempt is 'failed' with a retry scheduled" test "$(q "select state || ':' || attempts from kopro.jobs where id = '$fid'")" = "failed:1"
kt_check "retry backoff is 1^4+15 s +-10%" test "$(q "select extract(epoch from run_at - updated_at) between 14.3 and 17.7 from kopro.jobs where id = '$fid'")" = t
kt_check "the attempt's error is kept" test "$(q "select errors->0->>'attempt' || ':' || (last_error like '%transient failure of attempt 1%') from kopro.jobs where id = '$fid'")" = "1:true"
q "update kopro.jobs set run_at = now() where id = '$fid'" >/dev/null
"$W" run --once 2>>"$KT_TMP/w.log"
kt_check "after max_attempts the job is dead" test "$(q "select state || ':' || attempts || ':' || jsonb_array_length(errors) from kopro.jobs where id = '$fid'")" = "dead:2:2"
kt_check "every attempt's error kept, in order" test "$(q "select string_agg(e->>'attempt', ',') from kopro.jobs, jsonb_array_elements(errors) e where id = '$fid'")" = "1,2"
pid_=$("$Q" enqueue test.fail --payload '{"permanent":true}')
"$W" run --once 2>>"$KT_TMP/w.log"
kt_check "a permanent error (EINVAL) is dead at once" test "$(q "select state || ':' || attempts from kopro.jobs where id = '$pid_'")" = "dead:1"
kt_expect_exit "retry a dead job" 0 "$Q" retry "$pid_"
kt_check "... it is queued again with room for one more attempt" test "$(q "select state || ':' || (max_attempts > attempts) from kopro.jobs where id = '$pid_'")" = "queued:true"
kt_expect_exit "retry a queued job: busy (exit 1)" 1 "$Q" retry "$pid_"
kt_expect_exit "cancel it" 0 "$Q" cancel "$pid_"
kt_expect_exit "cancel it again: exit 4" 4 "$Q" cancel "$pid_"
kt_expect_exit "retry a succeeded job: exit 4" 4 "$Q" retry "$(q "select id from kopro.jobs where state = 'succeeded' limit 1")"
kt_check "show --json has the errors array" sh -c "'$Q' show '$fid' --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"state\"]==\"dead\" and len(d[\"errors\"])==2'"
kt_check "stats --json counts by kind and state" sh -c "'$Q' stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"by_kind\"][\"test.noop\"][\"succeeded\"]==5 and d[\"total\"][\"dead\"]==1'"

echo "== unknown and test-only kinds"
uid=$(q "select kopro.enqueue('no.such', '{}', null)")
tid=$(q "select kopro.enqueue('test.noop', '{}', null)")
env -u KOPRO_ENABLE_TEST_JOBS "$W" run --once 2>>"$KT_TMP/w.log"
kt_check "an unknown kind is dead, never silently dropped" test "$(q "select state from kopro.jobs where id = '$uid'")" = dead
kt_check "... with an error naming the kind" sh -c "psql -X -tAc \"select last_error from kopro.jobs where id = '$uid'\" -d $DB | grep -q \"unknown job kind 'no.such'\""
kt_check "a test kind without KOPRO_ENABLE_TEST_JOBS=1 is dead with the reason" sh -c "psql -X -tAc \"select state || last_error from kopro.jobs where id = '$tid'\" -d $DB | grep -q '^dead.*KOPRO_ENABLE_TEST_JOBS=1'"

echo "== --queues"
a=$("$Q" enqueue test.noop)
b=$("$Q" enqueue test.sleep --payload '{"ms":1}')
"$W" run --once --queues test.sleep 2>>"$KT_TMP/w.log"
kt_check "--queues runs only the named kinds" test "$(q "select string_agg(state, ',' order by kind) from kopro.jobs where id in ('$a', '$b')")" = "queued,succeeded"
"$W" run --once 2>>"$KT_TMP/w.log"

echo "== unique keys"
for i in 1 2 3 4 5 6 7 8; do
    kt_psql -d $DB -tAc "select kopro.enqueue('test.noop', '{}', null, p_unique_key => 'minutes:m1:fr')" >"$KT_TMP/u$i.out" &
done
wait
kt_check "8 racing enqueues with one key create one row" test "$(q "select count(*) from kopro.jobs where unique_key = 'minutes:m1:fr'")" = 1
kt_check "... and all 8 callers got its id" test "$(cat "$KT_TMP"/u?.out | sort -u | wc -l)" = 1
uk=$(cat "$KT_TMP/u1.out")
kt_check "kopro-queue enqueue --unique-key returns the same id" test "$("$Q" enqueue test.noop --unique-key minutes:m1:fr)" = "$uk"
"$W" run --once 2>>"$KT_TMP/w.log"
kt_check "once the job finished, the key is free again" sh -c "test \"\$('$Q' enqueue test.noop --unique-key minutes:m1:fr)\" != '$uk'"

echo "== NOTIFY"
kt_psql -d $DB -c "listen kopro_jobs" \
    -c "insert into kopro.jobs (kind) select 'test.noop' from generate_series(1, 10000)" \
    -c "select 1" >"$KT_TMP/notify.out" 2>&1
kt_check "a bulk insert of 10,000 jobs sends exactly one notification" test "$(grep -c 'Asynchronous notification "kopro_jobs" with payload "test.noop"' "$KT_TMP/notify.out")" = 1
kt_psql -d $DB -c "listen kopro_jobs" \
    -c "insert into kopro.jobs (kind, run_at) select 'test.noop', now() + interval '1 day' from generate_series(1, 10)" \
    -c "select 1" >"$KT_TMP/notify2.out" 2>&1
kt_check "jobs scheduled later send none" test "$(grep -c 'Asynchronous notification' "$KT_TMP/notify2.out")" = 0
kt_psql -d $DB -c "listen kopro_jobs" \
    -c "select n, id from kopro.enqueue_many('[{\"kind\":\"test.noop\"},{\"kind\":\"test.fail\",\"payload\":{\"x\":1}},{\"kind\":\"zz.unknown\",\"organization_id\":\"aaaaaaaa-0000-4000-8000-000000000001\"}]')" \
    -c "select 1" >"$KT_TMP/many.out" 2>&1
kt_check "enqueue_many: one notification for three jobs of mixed kinds" test "$(grep -c 'Asynchronous notification "kopro_jobs" with payload "\*"' "$KT_TMP/many.out")" = 1
kt_check "enqueue_many: one id per element, numbered 1..3 in order" test "$(grep -cE '^ +[123] \| [0-9a-f-]{36}$' "$KT_TMP/many.out")" = 3
id2=$(sed -n 's/^ *2 | \([0-9a-f-]*\)$/\1/p' "$KT_TMP/many.out")
kt_check "enqueue_many: element 2 got the kind's max_attempts and its payload" test "$(q "select j.max_attempts = k.max_attempts and j.payload = '{\"x\":1}' and j.state = 'queued' from kopro.jobs j join kopro.job_kinds k using (kind) where j.id = '$id2'")" = t
kt_check "enqueue_many: an unknown kind gets the default 25 attempts and keeps its organization" test "$(q "select max_attempts || ':' || organization_id from kopro.jobs where kind = 'zz.unknown'")" = "25:aaaaaaaa-0000-4000-8000-000000000001"
before=$(q "select count(*) from kopro.jobs")
kt_expect_exit "enqueue_many: a payload that is not an object is refused" 1 \
    kt_psql -d $DB -tAc "select kopro.enqueue_many('[{\"kind\":\"test.noop\"},{\"kind\":\"test.noop\",\"payload\":[1]}]')"
kt_check "... and nothing of that batch was inserted" test "$(q "select count(*) from kopro.jobs")" = "$before"
q "delete from kopro.jobs where kind in ('test.fail', 'zz.unknown')" >/dev/null
kt_expect_exit "the worker drains 10,000 jobs" 0 "$KOPRO_BIN_PLAIN/kopro-worker" run --once --concurrency 2
kt_check "... all succeeded" test "$(q "select count(*) from kopro.jobs where state = 'succeeded' and kind = 'test.noop'")" -ge 10000

echo "== pruning"
q "update kopro.jobs set finished_at = now() - interval '2 hours' where state = 'succeeded'" >/dev/null
n_old=$(q "select count(*) from kopro.jobs where state = 'succeeded'")
"$W" run --once --prune-after 3600 2>"$KT_TMP/prune.log"
kt_check "finished jobs older than --prune-after are deleted" test "$(q "select count(*) from kopro.jobs where state = 'succeeded'")" = 0
kt_check "... and the count is logged" grep -q "pruned $n_old finished job" "$KT_TMP/prune.log"
kt_check "dead and queued jobs newer than the limit are kept" test "$(q "select count(*) from kopro.jobs where state in ('dead', 'queued')")" -gt 0

echo "== a server that accepts but never answers"
# The kernel completes the handshake (listen backlog), nobody reads: libpq
# waits for the server's reply. kopro must give up after connect_timeout
# (10 s by default, or the URL's own), not after the kernel's TCP timeout.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$KT_TMP/silent.port" &
silent=$!
i=0
while [ ! -s "$KT_TMP/silent.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
SILENT="postgresql://kopro@127.0.0.1:$(cat "$KT_TMP/silent.port")/kopro"
timed() { # SECONDS_MAX LOG command...: fails unless the command fails within SECONDS_MAX
    max=$1 log=$2
    shift 2
    t0=$(date +%s)
    "$@" >"$log" 2>&1 && return 1
    el=$(($(date +%s) - t0))
    echo "gave up after ${el} s: $(cat "$log")"
    [ "$el" -le "$max" ]
}
timed 15 "$KT_TMP/silent.default" env KOPRO_DATABASE_URL="$SILENT" "$KOPRO_BIN/kopro-queue" stats \
    >"$KT_TMP/silent.timed" 2>&1 &
t_default=$!
kt_check "connect_timeout in the URL wins: kopro-queue gives up within 3 s" \
    timed 3 "$KT_TMP/silent.url" env KOPRO_DATABASE_URL="$SILENT?connect_timeout=1" "$KOPRO_BIN/kopro-queue" stats
kt_check "... and the error says it could not connect" grep -q "cannot connect to PostgreSQL" "$KT_TMP/silent.url"
wait $t_default
rc_default=$?
kt_check "without one, the default 10 s applies (not the kernel's ~2 min)" sh -c "cat '$KT_TMP/silent.timed'; [ $rc_default = 0 ] && grep -q 'timeout' '$KT_TMP/silent.default'"
kill "$silent" 2>/dev/null

kt_done
