#!/bin/sh
# kopro-gdpr export against the fixture (seed 42, two buildings): the archive's
# checksums validate, every category is there with counts equal to direct SQL
# counts, no other owner's email or phone and no other building's meeting
# leaks, and two exports of the same state are byte-identical.
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/integration/lib.sh"

GEN="$KOPRO_TOOLS/kopro-fixture-gen"
GDPR="$KOPRO_BIN/kopro-gdpr"
DB=kt_gdpr_export

kt_pg_start || exit 1
kt_psql -d postgres -c "drop database if exists $DB" >/dev/null 2>&1
kt_psql -d postgres -c "create database $DB" >/dev/null || exit 1
kt_psql -d $DB -f "$KT_ROOT/tests/fixtures/koprogo-schema.sql" >/dev/null || exit 1
"$GEN" --seed 42 --size 2 | kt_psql -d $DB >/dev/null || exit 1
export KOPRO_DATABASE_URL="$(kt_db_url $DB)"
export SOURCE_DATE_EPOCH=1780000000 # 2026-05-28T20:26:40Z

q() { kt_psql -d $DB -tAc "$1"; }

# Élise Dupont: a user, co-owner of A201 with Mehdi Benali, in building 1.
U=$(q "select id from users where email = 'elise.dupont@example.com'")
MINE="(select id from owners where user_id = '$U')"
OUT="$KT_TMP/export"
mkdir -p "$OUT/a" "$OUT/docs"
# One listed document exists on this host: its PDF must travel in documents/.
DOC=$(q "select id from documents where document_type = 'financial_statement'
          and building_id = (select id from buildings where slug = 'residence-les-tilleuls-liege')")
printf '%%PDF-1.4\n%% comptes annuels 2025 (test)\n' >"$OUT/docs/comptes-2025.pdf"
q "update documents set file_path = '$OUT/docs/comptes-2025.pdf' where id = '$DOC'" >/dev/null

echo "== gdpr export: the archive"
kt_check "export of a fixture owner succeeds" "$GDPR" export --user "$U" -o "$OUT/a.zip"
kt_check "the archive is private (mode 0600)" test "$(stat -c %a "$OUT/a.zip")" = 600
kt_check "the archive unzips" unzip -q "$OUT/a.zip" -d "$OUT/a"

# j FILE PATH — a jq-like look-up through PostgreSQL's jsonb (no extra tool).
j() {
    echo "select (:'doc'::jsonb) $2" | kt_psql -d $DB -tA -v doc="$(cat "$OUT/a/$1")"
}

check_manifest() {
    n=$(echo "select count(*) from jsonb_array_elements(:'f'::jsonb)" |
        kt_psql -d $DB -tA -v f="$(j manifest.json "-> 'files'")")
    [ "$n" -ge 14 ] || { echo "only $n files"; return 1; }
    echo "select e->>'sha256' || '  ' || (e->>'name') from jsonb_array_elements(:'f'::jsonb) e" |
        kt_psql -d $DB -tA -v f="$(j manifest.json "-> 'files'")" >"$KT_TMP/sums"
    (cd "$OUT/a" && sha256sum -c --quiet "$KT_TMP/sums")
}
kt_check "manifest.json: every file's SHA-256 validates" check_manifest
kt_check "manifest names the person and the generation time" test \
    "$(j manifest.json "->> 'user_id'") $(j manifest.json "->> 'generated_at'")" = "$U 2026-05-28T20:26:40Z"

has_files() {
    for f in README.txt processing.json profile.json units.json units.csv assemblies.json votes.json \
        votes.csv charges.json contributions.json contributions.csv consents.json audit.json documents.json; do
        [ -s "$OUT/a/$f" ] || { echo "missing $f"; return 1; }
    done
}
kt_check "every category file is present (JSON, CSV, README, processing)" has_files
kt_check "the document's PDF is in documents/, byte for byte" cmp "$OUT/docs/comptes-2025.pdf" \
    "$OUT/a/documents/$DOC-comptes-2025.pdf"
kt_check "README.txt is in FR, NL, DE and EN" sh -c \
    "grep -q '^FR - ' '$OUT/a/README.txt' && grep -q '^NL - ' '$OUT/a/README.txt' && grep -q '^DE - ' '$OUT/a/README.txt' && grep -q '^EN - ' '$OUT/a/README.txt'"
kt_check "processing.json gives purposes, basis, recipients, retention per category (art. 15(1))" test \
    "$(j processing.json "-> 'categories' -> 'financial' ?& array['purposes','legal_basis','recipients','retention']")" = t

echo "== gdpr export: counts equal direct SQL counts"
same() { # same "desc" FILE JSONPATH-SECTION "SQL count"
    got=$(echo "select jsonb_array_length((:'d'::jsonb) -> '$3')" | kt_psql -d $DB -tA -v d="$(cat "$OUT/a/$2")")
    want=$(q "$4")
    kt_check "$1: $got rows = SQL $want (> 0)" sh -c "[ '$got' = '$want' ] && [ '$want' -gt 0 ]"
}
same "profile: the user" profile.json user "select count(*) from users where id = '$U'"
same "profile: owner records" profile.json owners "select count(*) from owners where user_id = '$U'"
same "units: ownership rows" units.json unit_owners "select count(*) from unit_owners where owner_id in $MINE"
same "votes" votes.json votes "select count(*) from votes where owner_id in $MINE"
same "contributions" contributions.json owner_contributions "select count(*) from owner_contributions where owner_id in $MINE"
same "payments" contributions.json payments "select count(*) from payments where owner_id in $MINE"
same "charge distributions" charges.json charge_distributions "select count(*) from charge_distributions where owner_id in $MINE"
same "consents" consents.json consent_records "select count(*) from consent_records where user_id = '$U'"
same "audit entries" audit.json audit_logs "select count(*) from audit_logs where (user_id = '$U' or resource_id = '$U' or resource_id in $MINE) and timestamp <= to_timestamp($SOURCE_DATE_EPOCH)"
same "assemblies: meetings of her building she was convened to" assemblies.json meetings "
    select count(distinct c.meeting_id) from convocations c join convocation_recipients cr on cr.convocation_id = c.id
     where cr.owner_id in $MINE"
kt_check "the CSV has one line per vote plus a header" test \
    "$(wc -l <"$OUT/a/votes.csv")" = "$(($(q "select count(*) from votes where owner_id in $MINE") + 1))"
kt_check "password_hash is never exported" sh -c "! grep -rq password_hash '$OUT/a'"

echo "== gdpr export: nothing about other people"
q "select email from owners where user_id is distinct from '$U' union select phone from owners where user_id is distinct from '$U' and phone is not null
   union select email from users where id <> '$U'" >"$KT_TMP/others"
kt_check "list of other owners' emails and phones is not empty" test -s "$KT_TMP/others"
kt_check "no other owner's email or phone appears in any file" sh -c "! grep -rFf '$KT_TMP/others' '$OUT/a'"
kt_check "the co-owner of her lot appears by name" grep -q '"name" : "Mehdi Benali"' "$OUT/a/units.json"
OTHER_MEETINGS=$(q "select string_agg(id::text, '|') from meetings where building_id <> (select id from buildings where slug = 'residence-les-tilleuls-liege')")
kt_check "the fixture has meetings in another building" test -n "$OTHER_MEETINGS"
kt_check "no meeting of another building appears" sh -c "! grep -rEq '$OTHER_MEETINGS' '$OUT/a'"

echo "== gdpr export: byte-identical"
kt_check "a second export of the same state" "$GDPR" export --user "$U" -o "$OUT/b.zip" --quiet
kt_check "the two archives are byte-identical" cmp "$OUT/a.zip" "$OUT/b.zip"
kt_check "each CLI export wrote a GdprDataExported audit row (2)" test \
    "$(q "select count(*) from audit_logs where event_type = 'GdprDataExported' and user_id = '$U' and metadata->>'via' = 'cli'")" = 2

echo "== gdpr export: the gdpr.export job"
run_job() {
    "$KOPRO_BIN_PLAIN/kopro-worker" migrate >/dev/null &&
        JOB=$("$KOPRO_BIN/kopro-queue" enqueue gdpr.export --payload "{\"user_id\": \"$U\", \"as_of\": $SOURCE_DATE_EPOCH}" \
            --unique-key "gdpr.export:$U") &&
        KOPRO_DOCUMENT_STORE="file://$OUT/store" "$KOPRO_BIN/kopro-worker" --once >/dev/null 2>&1 &&
        echo "$JOB" >"$KT_TMP/job"
}
kt_check "the job is enqueued and the worker runs it" run_job
JOB=$(cat "$KT_TMP/job" 2>/dev/null)
job_ok() {
    r=$(q "select state || ' ' || (result->>'path') || ' ' || (result->>'sha256') || ' ' || (result->>'content_type')
              || ' ' || (result->'encryption'->>'format') || ' ' || (result->'encryption'->>'stored_bytes')
             from kopro.jobs where id = '$JOB'")
    set -- $r
    [ "$1" = succeeded ] && [ -f "$2" ] && [ "$4" = application/zip ] && [ "$5" = KOPROGX1 ] &&
        [ "$(stat -c %s "$2")" = "$6" ] && case "$2" in "$OUT/store/gdpr/"????????????????????????????????.kgx) true ;; *) false ;; esac
}
kt_check "job succeeded; result.path is a random .kgx name in the store, sealed (KOPROGX1)" job_ok
STORED=$(q "select result->>'path' from kopro.jobs where id = '$JOB'")
kt_check "the ZIP inside is the CLI export of the same SOURCE_DATE_EPOCH (result.sha256)" test \
    "$(q "select result->>'sha256' from kopro.jobs where id = '$JOB'")" = "$(sha256sum <"$OUT/a.zip" | cut -d' ' -f1)"
kt_check "the stored file is mode 0600 and starts with the KOPROGX1 header" sh -c \
    "[ \"\$(stat -c %a '$STORED')\" = 600 ] && [ \"\$(head -c 8 '$STORED')\" = KOPROGX1 ]"
kt_check "the stored file is not a ZIP (unzip refuses it)" sh -c "! unzip -l '$STORED' >/dev/null 2>&1"
kt_check "the plain export names her email (so the next check means something)" sh -c \
    "unzip -p '$OUT/a.zip' profile.json | grep -qF elise.dupont@example.com"
no_plaintext() { # no 48-byte window of the plain ZIP, nor her email, in the stored file
    python3 - "$OUT/a.zip" "$STORED" <<'PY'
import sys
plain, sealed = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
bad = [i for i in range(0, len(plain) - 48, 61) if plain[i:i + 48] in sealed]
sys.exit(1 if bad or b'elise.dupont@example.com' in sealed or len(plain) < 1000 else 0)
PY
}
kt_check "the stored file holds no plaintext of the export" no_plaintext
kt_check "its key is in kopro.gdpr_export_keys (32 bytes, expires in 7 days)" test \
    "$(q "select count(*) from kopro.gdpr_export_keys where job_id = '$JOB' and octet_length(key) = 32
            and expires_at between now() + interval '6 days 23 hours' and now() + interval '7 days 1 hour'")" = 1
kt_check "the job wrote one GdprDataExported audit row with counts and the sha256, no email" test \
    "$(q "select count(*) from audit_logs where event_type = 'GdprDataExported' and user_id = '$U' and metadata->>'via' = 'job'
            and metadata->>'sha256' ~ '^[0-9a-f]{64}$' and (metadata->>'rows')::int > 0
            and metadata::text not like '%@%'")" = 1

expire_run() {
    q "update kopro.jobs set result = jsonb_set(result, '{expires_at}', '\"2000-01-01T00:00:00Z\"') where id = '$JOB'" >/dev/null &&
        EJOB=$("$KOPRO_BIN/kopro-queue" enqueue gdpr.expire) &&
        "$KOPRO_BIN/kopro-worker" --once >/dev/null 2>&1 &&
        echo "$EJOB" >"$KT_TMP/ejob"
}
kt_check "gdpr.expire runs after the download window" expire_run
ARCHIVE=$(q "select result->>'path' from kopro.jobs where id = '$JOB'")
kt_check "the expired archive is deleted and the result marked deleted (API answers 410)" test \
    "$(test -e "$ARCHIVE" && echo present || echo gone) $(q "select (result->>'deleted') || ' ' || (select result->>'deleted' from kopro.jobs where id = '$(cat "$KT_TMP/ejob" 2>/dev/null)')
                                                            from kopro.jobs where id = '$JOB'")" = "gone true 1"
kt_check "gdpr.expire destroyed its key" test "$(q "select count(*) from kopro.gdpr_export_keys where job_id = '$JOB'")" = 0

echo "== gdpr export: errors"
kt_expect_exit "unknown user exits 3" 3 "$GDPR" export --user 00000000-0000-4000-8000-000000000000 -o "$OUT/x.zip"
kt_expect_exit "a user id that is not a uuid exits 4" 4 "$GDPR" export --user 42 -o "$OUT/x.zip"
kt_expect_exit "export without -o exits 2" 2 "$GDPR" export --user "$U"
kt_expect_exit "--help exits 0" 0 "$GDPR" --help
kt_check "no archive was left behind by the failures" test ! -e "$OUT/x.zip"
s3_refused() { # the API serves only file:// stores: an export into S3 could never be downloaded
    SJOB=$("$KOPRO_BIN/kopro-queue" enqueue gdpr.export --payload "{\"user_id\": \"$U\"}") &&
        KOPRO_DOCUMENT_STORE=s3://kopro-docs/prefix "$KOPRO_BIN/kopro-worker" --once >/dev/null 2>&1
    r=$(q "select state || ' ' || (select count(*) from kopro.gdpr_export_keys where job_id = '$SJOB')
             from kopro.jobs where id = '$SJOB'")
    e=$(q "select last_error from kopro.jobs where id = '$SJOB'")
    [ "$r" = "dead 0" ] && case "$e" in *KOPRO_DOCUMENT_STORE*s3://kopro-docs*file://*) true ;; *) echo "$r: $e"; false ;; esac
}
kt_check "gdpr.export with an s3:// store goes dead at once, naming KOPRO_DOCUMENT_STORE and file://; no key drawn" s3_refused

kt_psql -d postgres -c "drop database $DB" >/dev/null 2>&1
kt_done
