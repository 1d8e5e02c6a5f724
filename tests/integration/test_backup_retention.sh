#!/bin/sh
# Retention: plan-retention on the README's worked example, and prune on a
# file:// repository (dry run = real run, newest verified backup kept,
# forgotten backups gone from list and disk, run --prune).
. "$KT_ROOT/tests/integration/lib.sh"
. "$KT_ROOT/tests/integration/backup_lib.sh"

kt_pg_start || exit 1
kt_gpg_setup || exit 1
B="$KOPRO_BIN/kopro-backup"
REPO="$KT_TMP/repo"
export KOPRO_GNUPGHOME="$GNUPGHOME" KOPRO_BACKUP_REPO="file://$REPO"

cat >"$KT_TMP/example.in" <<'IN'
2026-12-31T23:30:00Z
2026-12-31T12:00:00Z
2026-12-30T02:00:00Z
2026-12-28T02:00:00Z
2026-12-20T02:00:00Z
2026-12-13T02:00:00Z
2026-11-30T02:00:00Z
2026-10-25T00:30:00Z
2026-10-25T01:30:00Z
IN
cat >"$KT_TMP/example.want" <<'OUT'
keep 2026-12-31T23:30:00Z daily 2027-01-01, weekly 2026-W53, monthly 2027-01
keep 2026-12-31T12:00:00Z daily 2026-12-31, monthly 2026-12
keep 2026-12-30T02:00:00Z daily 2026-12-30
forget 2026-12-28T02:00:00Z
keep 2026-12-20T02:00:00Z weekly 2026-W51
forget 2026-12-13T02:00:00Z
keep 2026-11-30T02:00:00Z monthly 2026-11
forget 2026-10-25T00:30:00Z
keep 2026-10-25T01:30:00Z monthly 2026-10
OUT
"$B" plan-retention --keep-daily 3 --keep-weekly 2 --keep-monthly 4 <"$KT_TMP/example.in" >"$KT_TMP/example.got" 2>&1
kt_check "plan-retention: the README's worked example" diff -u "$KT_TMP/example.want" "$KT_TMP/example.got"
"$B" plan-retention --keep-daily 3 --keep-weekly 2 --keep-monthly 4 --tz UTC <"$KT_TMP/example.in" >"$KT_TMP/utc.got"
kt_check "--tz UTC puts the 23:30Z backup on 2026-12-31" grep -qx "keep 2026-12-31T23:30:00Z daily 2026-12-31, weekly 2026-W53, monthly 2026-12" "$KT_TMP/utc.got"
kt_expect_exit "plan-retention: bad timestamp is invalid input" 4 sh -c "echo 2026-13-01T00:00:00Z | '$B' plan-retention"
kb_said "the error names the line" "stdin line 1"
kt_expect_exit "plan-retention: unknown zone" 4 sh -c "'$B' plan-retention --tz Europe/Atlantis </dev/null"
kt_expect_exit "plan-retention: negative count is a usage error" 2 "$B" plan-retention --keep-daily -1
# The CLI against a naive implementation in Python (zoneinfo, isocalendar);
# the library itself is checked over 10,000 histories in tests/unit/test_retention.c.
kt_check "plan-retention agrees with a naive implementation on 200 random histories" \
    /usr/bin/python3 "$KT_ROOT/tests/integration/backup_retention_naive.py" "$B" 200 42

# One real backup, then a history made from it (same object, other ids).
kb_make_db kbr_src || exit 1
SRC=$(kt_db_url kbr_src)
kt_check "run" "$B" run --db "$SRC" --recipient "$KT_FPR"
REAL=$(ls "$REPO/manifests" | sed 's/\.json$//')
for t in 2026-01-05T01:00:00Z 2026-02-10T01:00:00Z 2026-03-28T23:30:00Z 2026-03-29T01:30:00Z \
         2026-03-29T22:30:00Z 2026-04-01T01:00:00Z 2026-04-02T01:00:00Z; do
    id=$(echo "$t" | tr -d ':-' | sed 's/Z$/.000Z/')
    cp "$REPO/data/$REAL.dump.zst.gpg" "$REPO/data/$id.dump.zst.gpg"
    jq --arg id "$id" --arg t "$t" '.id=$id | .started=$t | .ciphertext.key=("data/"+$id+".dump.zst.gpg")' \
        "$REPO/manifests/$REAL.json" >"$REPO/manifests/$id.json"
done
kt_check "list shows 8 backups" test "$("$B" list --json | jq length)" = 8
# verify the oldest one: it must survive any policy
OLD=20260105T010000.000Z
kt_check "verify the oldest" "$B" verify "$OLD"

"$B" prune --keep-daily 2 --keep-weekly 0 --keep-monthly 0 --dry-run >"$KT_TMP/dry.txt" 2>&1
"$B" prune --keep-daily 2 --keep-weekly 0 --keep-monthly 0 --dry-run --json >"$KT_TMP/dry.json"
kt_check "dry run deleted nothing" test "$("$B" list --json | jq length)" = 8
"$B" prune --keep-daily 2 --keep-weekly 0 --keep-monthly 0 >"$KT_TMP/real.txt" 2>&1
kt_check "--dry-run printed exactly what the real run did" diff -u "$KT_TMP/dry.txt" "$KT_TMP/real.txt"
kt_check "the plan keeps 3: 2 daily + the newest verified" \
    test "$(jq '[.[] | select(.action=="keep")] | length' "$KT_TMP/dry.json")" = 3
kt_check "the oldest is kept because it is the newest verified" \
    jq -e --arg id "$OLD" '.[] | select(.id==$id) | .action=="keep" and (.reasons|index("newest verified"))' "$KT_TMP/dry.json"
kt_check "list now shows the 3 kept backups" test "$("$B" list --json | jq length)" = 3
kt_check "forgotten objects are gone from disk" test "$(ls "$REPO/data" | wc -l)" = 3
kt_check "a backup beyond the 2 daily ones is gone" \
    test ! -e "$REPO/manifests/20260329T013000.000Z.json"

# run --prune applies the default policy after a successful backup
kt_check "run --prune" "$B" run --db "$SRC" --recipient "$KT_FPR" --prune
kt_check "the new backup and the daily ones remain" test "$("$B" list --json | jq length)" -ge 2
# an orphan object (no manifest) is removed by gc; a fresh temp file is left alone
cp "$REPO/data/$OLD.dump.zst.gpg" "$REPO/data/20250101T000000.000Z.dump.zst.gpg"
touch -d '2 days ago' "$REPO/data/20250101T000000.000Z.dump.zst.gpg"
: >"$REPO/data/.x.dump.zst.gpg.tmp-abcdef"
touch -d '2 days ago' "$REPO/data/.x.dump.zst.gpg.tmp-abcdef"
: >"$REPO/data/.y.dump.zst.gpg.tmp-ghijkl"
kt_check "gc removes the orphan and the stale temporary file" \
    sh -c "'$B' gc --json | jq -e '.orphans_removed == 1 and .aborted_uploads == 1'"
kt_check "the young temporary file (a run in progress) survives" test -e "$REPO/data/.y.dump.zst.gpg.tmp-ghijkl"
kt_check "every listed backup still verifies" "$B" verify --all

kt_done
