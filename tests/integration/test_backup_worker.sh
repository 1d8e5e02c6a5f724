#!/bin/sh
# The backup job kinds through the real queue and worker, on the KoproGo
# fixture database: backup.run, then backup.verify and backup.prune; the
# backup restored by hand equals the fixture database table by table.
. "$KT_ROOT/tests/integration/lib.sh"
. "$KT_ROOT/tests/integration/backup_lib.sh"

kt_pg_start || exit 1
kt_gpg_setup || exit 1
kt_fixture_db kbw_fx || exit 1
export KOPRO_DATABASE_URL=$(kt_db_url kbw_fx)
export KOPRO_BACKUP_REPO="file://$KT_TMP/repo" KOPRO_BACKUP_RECIPIENTS="$KT_FPR"
export KOPRO_GNUPGHOME="$GNUPGHOME" KOPRO_BACKUP_METRICS="$KT_TMP/backup.prom"
W="$KOPRO_BIN/kopro-worker"

enqueue() {
    kt_psql -d kbw_fx -tAc "select kopro.enqueue('$1', '$2'::jsonb, NULL)"
}
job() {
    kt_psql -d kbw_fx -tAc "select $2 from kopro.jobs where id = '$1'"
}

J1=$(enqueue backup.run '{}')
kt_check "kopro-worker --once runs backup.run" "$W" --once
kt_check "the job succeeded" test "$(job "$J1" state)" = succeeded
ID=$(job "$J1" "result->>'id'")
kt_check "its result names the backup that list shows" \
    test "$("$KOPRO_BIN/kopro-backup" list --json | jq -r '.[0].id')" = "$ID"
kt_check "its result carries size and sha256" \
    test "$(job "$J1" "(result->>'size_bytes')::bigint > 0 and length(result->>'sha256') = 64")" = t
kt_check "the worker wrote the metrics" grep -q '^kopro_backup_last_result{.*} 1$' "$KT_TMP/backup.prom"

kt_psql -d postgres -c "create database kbw_fx_copy" >/dev/null
kt_check "gpg -d | zstd -d | pg_restore of the fixture backup" \
    sh -c "gpg --batch -q -d '$KT_TMP/repo/data/$ID.dump.zst.gpg' | zstd -d -q | pg_restore --exit-on-error -d kbw_fx_copy"
kt_check "the restored fixture equals the source, table by table" kb_same_db kbw_fx kbw_fx_copy kopro.jobs
# the dump is the snapshot taken while the job ran: the job is 'running' in it
kt_check "snapshot consistency: the backup job is running in its own backup" \
    test "$(kt_psql -d kbw_fx_copy -tAc "select state from kopro.jobs where id = '$J1'")" = running

J2=$(enqueue backup.verify '{"restore_check": true}')
J3=$(enqueue backup.prune '{"dry_run": true}')
J4=$(enqueue backup.run '{"recipients": ["not-a-fingerprint"]}')
kt_check "kopro-worker --once runs backup.verify and backup.prune" "$W" --once
kt_check "backup.verify succeeded with a report" \
    test "$(job "$J2" "state || ' ' || (result->'report'->0->>'ok')")" = "succeeded true"
kt_check "backup.prune (dry run) keeps the one backup" \
    test "$(job "$J3" "state || ' ' || (result->>'kept') || ' ' || (result->>'forgotten')")" = "succeeded 1 0"
kt_check "a bad recipient in the payload fails permanently (not retried)" \
    test "$(job "$J4" "state || ' ' || attempts")" = "dead 1"
kt_check "and the job's error names the field" sh -c "echo '$(job "$J4" last_error)' | grep -q 'recipients\[0\]'"

kt_done
