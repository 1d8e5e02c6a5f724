#!/bin/sh
# kopro-backup into a file:// repository: run, list, restore by hand with
# standard tools (gpg -d | zstd -d | pg_restore), kopro-backup restore and
# verify, tamper detection, and clear errors for bad input.
. "$KT_ROOT/tests/integration/lib.sh"
. "$KT_ROOT/tests/integration/backup_lib.sh"

kt_pg_start || exit 1
kt_gpg_setup || exit 1
B="$KOPRO_BIN/kopro-backup"
REPO="$KT_TMP/repo"
export KOPRO_GNUPGHOME="$GNUPGHOME"

kb_make_db kbf_src || exit 1
SRC=$(kt_db_url kbf_src)

kt_check "run writes a backup into file://" \
    "$B" run --repo "file://$REPO" --db "$SRC" --recipient "$KT_FPR"
ID=$("$B" list --repo "file://$REPO" --json | jq -r '.[0].id')
kt_check "list --json shows one backup with an id" test -n "$ID" -a "$ID" != null
kt_check "the object and the manifest exist, mode 0600" \
    sh -c "test \"\$(stat -c %a '$REPO/data/$ID.dump.zst.gpg')\" = 600 && test -s '$REPO/manifests/$ID.json'"
kt_check "manifest counts match the source tables" \
    test "$(jq -r '.tables["public.owners"]' "$REPO/manifests/$ID.json")" = "$(kt_psql -d kbf_src -tAc 'select count(*) from owners')" \
    -a "$(jq -r '.tables["kopro.jobs"]' "$REPO/manifests/$ID.json")" = 50
kt_check "manifest names the recipient and both SHA-256" \
    sh -c "jq -e --arg f '$KT_FPR' '.encryption.recipients == [\$f] and (.ciphertext.sha256|length) == 64 and (.plaintext.sha256|length) == 64 and .compression.algorithm == \"zstd\"' '$REPO/manifests/$ID.json'"
kt_check "ciphertext SHA-256 in the manifest is the object's" \
    sh -c "test \"\$(sha256sum < '$REPO/data/$ID.dump.zst.gpg' | cut -d' ' -f1)\" = \"\$(jq -r .ciphertext.sha256 '$REPO/manifests/$ID.json')\""
kt_check "list prints the id" sh -c "'$B' list --repo 'file://$REPO' | grep -q '$ID'"

# Manual restore with standard tools only (README).
kt_psql -d postgres -c "create database kbf_manual" >/dev/null
kt_check "manual restore: gpg -d | zstd -d | pg_restore" \
    sh -c "gpg --batch -q -d '$REPO/data/$ID.dump.zst.gpg' | zstd -d -q | pg_restore --exit-on-error -d kbf_manual"
kt_check "manual restore equals the source table by table" kb_same_db kbf_src kbf_manual

# kopro-backup restore and verify.
kt_psql -d postgres -c "create database kbf_restored" >/dev/null
kt_check "restore into an empty database" "$B" restore "$ID" --repo "file://$REPO" --to "$(kt_db_url kbf_restored)"
kt_check "restored database equals the source" kb_same_db kbf_src kbf_restored
kt_expect_exit "restore refuses a non-empty target" 4 \
    "$B" restore "$ID" --repo "file://$REPO" --to "$(kt_db_url kbf_restored)"
kt_check "restore --clean replaces a non-empty target" \
    "$B" restore "$ID" --repo "file://$REPO" --to "$(kt_db_url kbf_restored)" --clean
kt_expect_exit "restore of an unknown id: not found" 3 \
    "$B" restore 20000101T000000.000Z --repo "file://$REPO" --to "$(kt_db_url kbf_restored)"
kt_check "verify --latest --restore-check passes" \
    "$B" verify --latest --restore-check --repo "file://$REPO" --db "$SRC"
kt_check "verify records the success" test -s "$REPO/verified/$ID.json"

# A flipped byte anywhere makes verify fail with exit 4, every time.
cp "$REPO/data/$ID.dump.zst.gpg" "$KT_TMP/good"
size=$(stat -c %s "$KT_TMP/good")
for off in 0 40 $((size / 3)) $((size / 2)) $((size - 30)) $((size - 1)); do
    kb_flip "$REPO/data/$ID.dump.zst.gpg" "$off"
    kt_expect_exit "verify fails on a flipped byte at offset $off of $size" 4 \
        "$B" verify "$ID" --repo "file://$REPO"
    cp "$KT_TMP/good" "$REPO/data/$ID.dump.zst.gpg"
done
kb_flip "$REPO/data/$ID.dump.zst.gpg" $((size / 2))
kt_psql -d postgres -c "create database kbf_tampered" >/dev/null
kt_expect_exit "restore refuses a damaged backup" 4 \
    "$B" restore "$ID" --repo "file://$REPO" --to "$(kt_db_url kbf_tampered)"
kt_check "and restored nothing" test "$(kt_psql -d kbf_tampered -tAc "select count(*) from pg_tables where schemaname='public'")" = 0
cp "$KT_TMP/good" "$REPO/data/$ID.dump.zst.gpg"
kt_check "verify passes again on the original bytes" "$B" verify "$ID" --repo "file://$REPO"

# Bad input: clear errors, and no manifest.
n_before=$(ls "$REPO/manifests" | wc -l)
kt_expect_exit "unknown recipient: not found" 3 \
    "$B" run --repo "file://$REPO" --db "$SRC" --recipient 0123456789ABCDEF0123456789ABCDEF01234567
kb_said "the error names the fingerprint" 0123456789ABCDEF0123456789ABCDEF01234567
kt_expect_exit "a short key id is refused" 4 \
    "$B" run --repo "file://$REPO" --db "$SRC" --recipient "$(echo "$KT_FPR" | cut -c25-40)"
gpg --batch --quiet --passphrase '' --quick-gen-key "expired <expired@kopro.invalid>" \
    future-default default seconds=1 2>/dev/null
EXP=$(gpg --batch --with-colons --list-keys expired@kopro.invalid | awk -F: '/^fpr:/{print $10; exit}')
sleep 2
kt_expect_exit "an expired key is refused" 4 \
    "$B" run --repo "file://$REPO" --db "$SRC" --recipient "$EXP"
kb_said "the error says expired" "has expired"
# a revoked key: import the revocation certificate gpg made when creating it
gpg --batch --quiet --passphrase '' --quick-gen-key "revoked <revoked@kopro.invalid>" \
    future-default default never 2>/dev/null
REV=$(gpg --batch --with-colons --list-keys revoked@kopro.invalid | awk -F: '/^fpr:/{print $10; exit}')
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/$REV.rev" | gpg --batch --quiet --import 2>/dev/null
kt_expect_exit "a revoked key is refused" 4 \
    "$B" run --repo "file://$REPO" --db "$SRC" --recipient "$REV"
kb_said "the error says revoked" "revoked"
kt_expect_exit "database unreachable: clear error" 1 \
    "$B" run --repo "file://$REPO" --db "postgresql:///kbf_src?host=$KT_TMP/nosuchdir" --recipient "$KT_FPR"
kb_said "the error says it cannot connect" "cannot connect"
# a path below a regular file cannot be created, even by root
: >"$KT_TMP/afile"
kt_expect_exit "repository unwritable: clear error" 1 \
    "$B" run --repo "file://$KT_TMP/afile/repo" --db "$SRC" --recipient "$KT_FPR"
kb_said "the error says not writable" "not writable"
kt_check "no manifest was written by the failed runs" test "$(ls "$REPO/manifests" | wc -l)" = "$n_before"
# Prometheus textfile metrics: success, then a failure keeps the last success.
M="$KT_TMP/kopro_backup.prom"
kt_check "run --metrics" "$B" run --repo "file://$REPO" --db "$SRC" --recipient "$KT_FPR" --metrics "$M"
kt_check "metrics: result 1, success time and size" \
    sh -c "grep -q '^kopro_backup_last_result{repo=\"file://$REPO\"} 1\$' '$M' && grep -q '^kopro_backup_last_success_timestamp_seconds{' '$M' && grep -q '^kopro_backup_last_size_bytes{.*} [1-9]' '$M' && grep -q '^# TYPE kopro_backup_last_duration_seconds gauge' '$M'"
ok_line=$(grep '^kopro_backup_last_success_timestamp_seconds' "$M")
kt_expect_exit "a failing run with metrics" 1 env KOPRO_BACKUP_METRICS="$M" \
    "$B" run --repo "file://$REPO" --db "postgresql:///kbf_src?host=$KT_TMP/nosuchdir" --recipient "$KT_FPR"
kt_check "metrics: result 0, last success kept" \
    sh -c "grep -q '^kopro_backup_last_result{.*} 0\$' '$M' && grep -qxF '$ok_line' '$M'"
kt_check "metrics file is world-readable for node_exporter" test "$(stat -c %a "$M")" = 644
kt_expect_exit "list of a missing repository: not found" 3 "$B" list --repo "file://$KT_TMP/nothing"
kt_expect_exit "unknown option: usage" 2 "$B" list --bogus
kt_check "--help works" "$B" --help

kt_done
