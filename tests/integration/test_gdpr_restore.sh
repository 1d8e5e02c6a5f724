#!/bin/sh
# kopro-backup restore never brings an erased person back (GDPR art. 17, 19):
# back up the fixture, erase an owner, restore the backup into a fresh
# database and over the live database itself (--clean): the tombstones newer
# than the backup are re-applied, the restore reports how many, and a plain
# pg_dump holds her email, phone and first name nowhere (pseudonym only).
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/integration/lib.sh"

GEN="$KOPRO_TOOLS/kopro-fixture-gen"
GDPR="$KOPRO_BIN/kopro-gdpr"
B="$KOPRO_BIN/kopro-backup"
DB=kt_gdpr_restore
REPO="file://$KT_TMP/repo"

kt_pg_start || exit 1
kt_gpg_setup || exit 1
export KOPRO_GNUPGHOME="$GNUPGHOME"
for d in $DB ${DB}_a ${DB}_b; do kt_psql -d postgres -c "drop database if exists $d" >/dev/null 2>&1; done
kt_psql -d postgres -c "create database $DB" >/dev/null || exit 1
kt_psql -d $DB -f "$KT_ROOT/tests/fixtures/koprogo-schema.sql" >/dev/null || exit 1
"$GEN" --seed 42 --size 1 | kt_psql -d $DB >/dev/null || exit 1
export KOPRO_DATABASE_URL="$(kt_db_url $DB)"
"$KOPRO_BIN_PLAIN/kopro-worker" migrate >/dev/null || exit 1
export KOPRO_GDPR_KEY="kt-gdpr-restore-test-key-0123456789abcdef"

q() { kt_psql -d "${2:-$DB}" -tAc "$1"; }
U=$(q "select id from users where email = 'elise.dupont@example.com'")
PHONE=$(q "select phone from owners where user_id = '$U'")
no_trace() { # database: none of her identifiers in a plain pg_dump
    pg_dump --no-owner "$1" >"$KT_TMP/$1.sql" || return 1
    ! grep -qF 'elise.dupont@example.com' "$KT_TMP/$1.sql" && ! grep -qF "$PHONE" "$KT_TMP/$1.sql" &&
        ! grep -qF 'Élise' "$KT_TMP/$1.sql"
}

echo "== gdpr restore: backup, then erase"
kt_check "a backup of the fixture before the erasure" "$B" run --repo "$REPO" --recipient "$KT_FPR"
ID=$("$B" list --repo "$REPO" --json | jq -r '.[0].id')
kt_check "erase Élise Dupont" "$GDPR" erase --user "$U"
PSEUDO=$(q "select last_name from owners where user_id = '$U'")

echo "== gdpr restore: into a fresh database"
q "create database ${DB}_a" postgres >/dev/null
kt_check "restore reads the tombstones from the live database and reports 1 applied, 1 person erased" sh -c \
    "'$B' restore '$ID' --repo '$REPO' --to '$(kt_db_url ${DB}_a)' >'$KT_TMP/out' &&
     grep -q 'GDPR tombstones: 1 read from database $DB, 1 newer than the backup applied, 1 person(s) erased again' '$KT_TMP/out'"
kt_check "the restored database holds her email, phone and first name nowhere" no_trace ${DB}_a
kt_check "her records carry the same pseudonym as the live erasure" test \
    "$(q "select last_name from owners where user_id = '$U'" ${DB}_a)" = "$PSEUDO" -a -n "$PSEUDO"
kt_check "the restored database has the tombstone" test "$(q "select count(*) from kopro.gdpr_tombstones" ${DB}_a)" = 1

echo "== gdpr restore: --tombstones FILE, --json"
"$GDPR" tombstones dump >"$KT_TMP/tomb.json"
q "create database ${DB}_b" postgres >/dev/null
kt_check "restore --tombstones FILE --json reports the counts" sh -c \
    "KOPRO_DATABASE_URL=postgresql:///nonexistent '$B' restore '$ID' --repo '$REPO' --to '$(kt_db_url ${DB}_b)' \
       --tombstones '$KT_TMP/tomb.json' --json >'$KT_TMP/out.json' &&
     jq -e '.tombstones_source == \"file\" and .tombstones_read == 1 and .tombstones_applied == 1 and .persons_erased == 1' '$KT_TMP/out.json'"
kt_check "that database holds her nowhere either" no_trace ${DB}_b
kt_expect_exit "without KOPRO_GDPR_KEY the restore refuses before restoring anything" 4 \
    env KOPRO_GDPR_KEY= "$B" restore "$ID" --repo "$REPO" --to "$(kt_db_url ${DB}_b)" --clean
kt_expect_exit "a missing --tombstones FILE is 'not found', before restoring anything" 3 \
    "$B" restore "$ID" --repo "$REPO" --to "$(kt_db_url ${DB}_b)" --clean --tombstones "$KT_TMP/missing.json"
kt_check "a restore whose live database cannot be read refuses (no silent zero)" sh -c \
    "! '$B' restore '$ID' --repo '$REPO' --to '$(kt_db_url ${DB}_b)' --clean --db 'postgresql:///kt_no_such_db?host=$PGHOST' 2>'$KT_TMP/err' &&
     grep -q 'tombstones' '$KT_TMP/err'"

echo "== gdpr restore: over the live database itself (--clean)"
kt_check "restore --clean over the live database re-applies the tombstone read before dropping" sh -c \
    "'$B' restore '$ID' --repo '$REPO' --to '$KOPRO_DATABASE_URL' --clean >'$KT_TMP/out2' &&
     grep -q '1 newer than the backup applied, 1 person(s) erased again' '$KT_TMP/out2'"
kt_check "the live database still holds her nowhere" no_trace $DB
kt_check "a second restore over it finds the re-applied tombstone in the live database again" sh -c \
    "'$B' restore '$ID' --repo '$REPO' --to '$KOPRO_DATABASE_URL' --clean | grep -q '1 read from database $DB, 1 newer'"

for d in ${DB}_a ${DB}_b; do kt_psql -d postgres -c "drop database if exists $d" >/dev/null 2>&1; done
kt_done
