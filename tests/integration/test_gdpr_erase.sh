#!/bin/sh
# kopro-gdpr erase against the fixture (seed 42): dry run changes nothing, legal
# holds refuse and change nothing, a failure half-way rolls everything back,
# and after an erasure a plain-SQL pg_dump holds the person's email, phone and
# name nowhere (the pseudonym stands in the kept records).
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/integration/lib.sh"

GEN="$KOPRO_TOOLS/kopro-fixture-gen"
GDPR="$KOPRO_BIN/kopro-gdpr"
DB=kt_gdpr_erase

kt_pg_start || exit 1
kt_psql -d postgres -c "drop database if exists $DB" >/dev/null 2>&1
kt_psql -d postgres -c "create database $DB" >/dev/null || exit 1
kt_psql -d $DB -f "$KT_ROOT/tests/fixtures/koprogo-schema.sql" >/dev/null || exit 1
"$GEN" --seed 42 --size 1 | kt_psql -d $DB >/dev/null || exit 1
export KOPRO_DATABASE_URL="$(kt_db_url $DB)"
"$KOPRO_BIN_PLAIN/kopro-worker" migrate >/dev/null || exit 1
export KOPRO_GDPR_KEY="kt-gdpr-erase-test-key-0123456789abcdef"

q() { kt_psql -d $DB -tAc "$1"; }
dump() { pg_dump --no-owner "$DB" >"$KT_TMP/dump.sql"; }
fingerprint() { # everything an erasure may touch, hashed
    q "select md5(string_agg(t::text, '|' order by t::text)) from (
         select row(o.*)::text t from owners o union all select row(u.*)::text from users u
         union all select row(r.*)::text from convocation_recipients r
         union all select row(c.*)::text from consent_records c union all select row(a.*)::text from audit_logs a
         union all select count(*)::text from kopro.gdpr_tombstones union all select count(*)::text from kopro.gdpr_restricted) x"
}

# Élise Dupont: a user with an owner record, co-owner of A201, nothing unpaid.
U=$(q "select id from users where email = 'elise.dupont@example.com'")
PHONE=$(q "select phone from owners where user_id = '$U'")
ADDR=$(q "select address from owners where user_id = '$U'")
OTHERS_AT_ADDR=$(q "select count(*) from owners where address = '$ADDR' and user_id is distinct from '$U'")
BEFORE=$(fingerprint)

echo "== gdpr erase: dry run"
kt_check "--dry-run succeeds and lists per-table counts" sh -c \
    "'$GDPR' erase --user '$U' --dry-run >'$KT_TMP/dry' && grep -Eq '^votes +0 +0 +[1-9]' '$KT_TMP/dry' && grep -Eq '^owners +0 +1 ' '$KT_TMP/dry'"
kt_check "--dry-run changed nothing" test "$(fingerprint)" = "$BEFORE"

echo "== gdpr erase: legal holds"
D=$(q "select distinct o.user_id from owners o join owner_contributions oc on oc.owner_id = o.id
        where o.user_id is not null and oc.payment_status <> 'paid' limit 1")
kt_check "the fixture has a user with unpaid contributions" test -n "$D"
kt_expect_exit "unpaid contributions refuse the erasure (exit 5)" 5 "$GDPR" erase --user "$D"
kt_check "the refusal names the reason code, the hold's end and the APD/GBA" sh -c \
    "'$GDPR' erase --user '$D' | grep -q 'unpaid_balance' && '$GDPR' erase --user '$D' | grep -q 'APD/GBA'"
letter_ok() {
    "$GDPR" erase --user "$D" --letter "$KT_TMP/letter.pdf" >/dev/null
    [ $? = 5 ] && qpdf --check "$KT_TMP/letter.pdf" >/dev/null && pdftotext "$KT_TMP/letter.pdf" "$KT_TMP/letter.txt" &&
        grep -q "Autorité de protection des données" "$KT_TMP/letter.txt" &&
        grep -q "restent impayées" "$KT_TMP/letter.txt" && grep -q "Ce motif prend fin" "$KT_TMP/letter.txt" &&
        ! pdffonts "$KT_TMP/letter.pdf" | awk 'NR > 2 && $(NF-4) != "yes" {bad = 1} END {exit !bad}'
}
kt_check "--letter writes the reply PDF in French (Liège): reason, end of hold, APD, fonts embedded" letter_ok
q "insert into kopro.gdpr_legal_holds (user_id, reason, held_until) values ('$U', 'Procédure en cours devant le juge de paix', now() + interval '90 days')" >/dev/null
kt_expect_exit "a litigation hold refuses the erasure (exit 5)" 5 "$GDPR" erase --user "$U"
kt_check "the litigation refusal says until when" sh -c "'$GDPR' erase --user '$U' | grep -q 'litigation: .* held until 20'"
kt_check "held erasures changed nothing" test "$(fingerprint)" = "$BEFORE"
q "delete from kopro.gdpr_legal_holds" >/dev/null

echo "== gdpr erase: all or nothing"
q "create function kt_fail() returns trigger language plpgsql as \$\$ begin raise exception 'kt: users is read-only'; end \$\$;
   create trigger kt_fail before update on public.users for each row execute function kt_fail()" >/dev/null
kt_expect_exit "a failure in the last table fails the erasure" 1 "$GDPR" erase --user "$U"
kt_check "the failed erasure left nothing behind (owners, recipients, tombstones unchanged)" test "$(fingerprint)" = "$BEFORE"
q "drop trigger kt_fail on public.users; drop function kt_fail()" >/dev/null

echo "== gdpr erase: the erasure"
kt_check "a backup taken before the erasure (pg_dump -Fc)" sh -c "pg_dump -Fc '$DB' >'$KT_TMP/before.dump'"
kt_check "erase succeeds" "$GDPR" erase --user "$U"
kt_check "the pg_dump runs" dump
kt_check "her email appears nowhere in the dump" sh -c "! grep -qF 'elise.dupont@example.com' '$KT_TMP/dump.sql'"
kt_check "her phone appears nowhere in the dump" sh -c "! grep -qF '$PHONE' '$KT_TMP/dump.sql'"
kt_check "her address remains only on the co-owner who lives there too ($OTHERS_AT_ADDR)" test \
    "$(grep -cF "$ADDR" "$KT_TMP/dump.sql")" = "$OTHERS_AT_ADDR"
kt_check "her first name appears nowhere in the dump" sh -c "! grep -qF 'Élise' '$KT_TMP/dump.sql'"
pseudonym_ok() {
    n=$(q "select count(*) from owners o join users u on u.id = o.user_id
            where u.id = '$U' and u.is_anonymized and u.processing_restricted and o.is_anonymized
              and o.first_name || ' ' || o.last_name ~ '^Anonymized owner [0-9a-f]{10}\$'
              and u.first_name = o.first_name and u.last_name = o.last_name
              and o.email like 'erased-%@deleted.invalid' and o.phone is null")
    [ "$n" = 1 ]
}
kt_check "user and owner carry the pseudonym 'Anonymized owner <hex>', the GDPR flags, no contact" pseudonym_ok
kt_check "her votes are kept, restricted with no end (association lifetime)" test \
    "$(q "select count(*) from kopro.gdpr_restricted r join votes v on v.id = r.row_id where r.table_name = 'votes' and r.retain_until is null")" = \
    "$(q "select count(*) from votes where owner_id in (select id from owners where user_id = '$U')")"
kt_check "her contributions are restricted for 7 accounting years" test \
    "$(q "select count(*) from kopro.gdpr_restricted where table_name = 'owner_contributions'
            and retain_until between now() + interval '7 years' - interval '1 day' and now() + interval '7 years' + interval '1 day'")" -gt 0
kt_check "her user_roles rows are deleted" test "$(q "select count(*) from user_roles where user_id = '$U'")" = 0
kt_check "the tombstone holds keyed hashes, not her id" test \
    "$(q "select count(*) from kopro.gdpr_tombstones where subject_hash ~ '^[0-9a-f]{64}\$'
            and position('$U' in row(kopro.gdpr_tombstones.*)::text) = 0")" = 1
kt_check "the co-owner of her lot is untouched" test \
    "$(q "select count(*) from owners where first_name = 'Mehdi' and last_name = 'Benali' and not is_anonymized")" = 1

echo "== gdpr erase: a restore does not bring her back"
DB2=${DB}_restored
kt_psql -d postgres -c "drop database if exists $DB2" >/dev/null 2>&1
kt_check "tombstones dump (keyed hashes only)" sh -c "'$GDPR' tombstones dump >'$KT_TMP/tomb.json' && ! grep -q '$U' '$KT_TMP/tomb.json'"
restore() {
    kt_psql -d postgres -c "create database $DB2" >/dev/null && pg_restore --no-owner -d "$DB2" "$KT_TMP/before.dump"
}
kt_check "the pre-erasure backup restores into a fresh database" restore
kt_check "the restored database has her back (email present)" test \
    "$(kt_psql -d $DB2 -tAc "select count(*) from owners where email = 'elise.dupont@example.com'")" = 1
kt_check "tombstones apply erases her again (1 person)" sh -c \
    "KOPRO_DATABASE_URL='$(kt_db_url $DB2)' '$GDPR' tombstones apply '$KT_TMP/tomb.json' | grep -q ': 1 person'"
kt_check "after the re-application her email is nowhere in the restored database" sh -c \
    "pg_dump '$DB2' | grep -qF 'elise.dupont@example.com'; [ \$? = 1 ]"
kt_check "the pseudonym is the same as in the original erasure (stable)" test \
    "$(kt_psql -d $DB2 -tAc "select last_name from owners where user_id = '$U'")" = \
    "$(q "select last_name from owners where user_id = '$U'")"
kt_check "applying the same tombstones again erases nobody" sh -c \
    "KOPRO_DATABASE_URL='$(kt_db_url $DB2)' '$GDPR' tombstones apply '$KT_TMP/tomb.json' | grep -q ': 0 person'"
kt_psql -d postgres -c "drop database $DB2" >/dev/null 2>&1

echo "== gdpr erase: the gdpr.erase and gdpr.purge jobs"
jobs_run() {
    "$KOPRO_BIN/kopro-queue" enqueue gdpr.erase --payload "{\"user_id\": \"$D\"}" >"$KT_TMP/j1" &&
        "$KOPRO_BIN/kopro-queue" enqueue gdpr.purge >"$KT_TMP/j2" &&
        KOPRO_DOCUMENT_STORE="file://$KT_TMP/store" "$KOPRO_BIN/kopro-worker" --once >/dev/null 2>&1
}
# Her accounting retention ends (as if 7 years had passed); votes stay forever.
q "update kopro.gdpr_restricted set retain_until = now() - interval '1 day' where retain_until is not null" >/dev/null
KEPT_VOTES=$(q "select count(*) from votes where owner_id in (select id from owners where user_id = '$U')")
kt_check "gdpr.erase and gdpr.purge run through the worker" jobs_run
kt_check "gdpr.erase on a held user succeeds with erased=false and the hold's reason" test \
    "$(q "select state || ' ' || (result->>'erased') || ' ' || (result->>'holds') || ' ' || (result->>'lang') from kopro.jobs where id = '$(cat "$KT_TMP/j1")'")" = \
    "succeeded false unpaid_balance fr"
letter_stored() {
    p=$(q "select result->>'path' from kopro.jobs where id = '$(cat "$KT_TMP/j1")'")
    case "$p" in "$KT_TMP/store/gdpr/"*-refusal-fr.pdf) ;; *) echo "path '$p'"; return 1 ;; esac
    qpdf --check "$p" >/dev/null && pdftotext "$p" - | grep -q "APD"
}
kt_check "its reply letter is a French PDF in the document store" letter_stored
letter_via_s3() { # the letter goes through kopro_docstore_put_cfg: an s3:// store reaches the S3 settings
    "$KOPRO_BIN/kopro-queue" enqueue gdpr.erase --payload "{\"user_id\": \"$D\"}" >"$KT_TMP/j3" &&
        env -u KOPRO_S3_ENDPOINT KOPRO_DOCUMENT_STORE=s3://kopro-docs "$KOPRO_BIN/kopro-worker" --once >/dev/null 2>&1
    e=$(q "select state || ' ' || coalesce(last_error, '') from kopro.jobs where id = '$(cat "$KT_TMP/j3")'")
    case "$e" in dead*KOPRO_S3_ENDPOINT*) true ;; *) echo "$e"; false ;; esac
}
kt_check "with KOPRO_DOCUMENT_STORE=s3://... the reply letter is put to S3 (no endpoint: dead, naming KOPRO_S3_ENDPOINT)" letter_via_s3
kt_check "gdpr.purge deleted her contributions whose retention ended" test \
    "$(q "select (result->>'purged')::int > 0 from kopro.jobs where id = '$(cat "$KT_TMP/j2")'")
     $(q "select count(*) from owner_contributions where owner_id in (select id from owners where user_id = '$U')")" = "t
     0"
kt_check "her votes stay (retained for the association's lifetime)" test \
    "$(q "select count(*) from votes where owner_id in (select id from owners where user_id = '$U')")" = "$KEPT_VOTES"
kt_check "the journal still balances after the purge" test \
    "$(q "select count(*) from (select journal_entry_id from journal_entry_lines group by 1 having sum(debit) <> sum(credit)) x")" = 0

kt_expect_exit "unknown user exits 3" 3 "$GDPR" erase --user 00000000-0000-4000-8000-000000000000
kt_expect_exit "erase without a key exits 4" 4 env KOPRO_GDPR_KEY= "$GDPR" erase --user "$U" --dry-run
kt_expect_exit "erase without --user exits 2" 2 "$GDPR" erase

kt_psql -d postgres -c "drop database $DB" >/dev/null 2>&1
kt_done
