#!/bin/sh
# kopro-pdf votes, pcn and statement from the fixture database in 4 languages
# (qpdf, pdffonts, pdftotext), --sign checked by gpg --verify, --store with
# the documents / meetings / audit_logs rows, statements for every owner
# whose parts add up, exit codes.
. "$(dirname "$0")/lib.sh"

kt_pg_start || exit 1
kt_fixture_db kt_pdf_docs || exit 1
kt_gpg_setup || exit 1
export KOPRO_DATABASE_URL=$(kt_db_url kt_pdf_docs)
PDF="$KOPRO_BIN/kopro-pdf"
q() { kt_psql -d kt_pdf_docs -tA -c "$1"; }

MEETING=$(q "select m.id from meetings m join resolutions r on r.meeting_id = m.id
             group by m.id order by count(*) desc, m.id limit 1")
BUILDING=$(q "select building_id from meetings where id = '$MEETING'")
FROM=$(q "select coalesce(min(entry_date), min(e.expense_date))::date from expenses e
          left join journal_entries j on j.building_id = e.building_id where e.building_id = '$BUILDING'")
TO=$(q "select coalesce(max(entry_date), max(e.expense_date))::date from expenses e
        left join journal_entries j on j.building_id = e.building_id where e.building_id = '$BUILDING'")

fonts_ok() {
    pdffonts "$1" >"$KT_TMP/fonts.txt" 2>&1 || return 1
    bad=$(tail -n +3 "$KT_TMP/fonts.txt" | awk '{ if ($(NF-4) != "yes" || $(NF-3) != "yes" || $(NF-2) != "yes") print }' | wc -l)
    [ "$(tail -n +3 "$KT_TMP/fonts.txt" | wc -l)" -ge 1 ] && [ "$bad" -eq 0 ] || { cat "$KT_TMP/fonts.txt"; return 1; }
}
valid_pdf() { # qpdf, fonts, no poppler warnings
    qpdf --check "$1" >/dev/null || return 1
    fonts_ok "$1" || return 1
    err=$(pdftotext "$1" /dev/null 2>&1)
    [ -z "$err" ] || { echo "$err"; return 1; }
}
flat() { pdftotext "$1" - 2>/dev/null | tr '\n\f' '  ' | tr -s ' '; }
contains_all() {
    flat "$1" >"$KT_TMP/flat.txt"
    missing=0
    while IFS= read -r item; do
        [ -n "$item" ] || continue
        grep -qF -- "$item" "$KT_TMP/flat.txt" || { echo "missing: $item"; missing=1; }
    done <"$2"
    [ "$missing" -eq 0 ]
}

# Names voting contre and abstaining, and the resolution titles.
q "select distinct trim(coalesce(o.first_name,'') || ' ' || o.last_name) from votes v
   join resolutions r on r.id = v.resolution_id join owners o on o.id = v.owner_id
   where r.meeting_id = '$MEETING' and v.vote_choice in ('Contre', 'Abstention')" >"$KT_TMP/against.txt"
q "select title from resolutions where meeting_id = '$MEETING'" >"$KT_TMP/titles.txt"

for lang in fr nl de en; do
    out="$KT_TMP/votes-$lang.pdf"
    kt_check "votes $lang from the database" "$PDF" votes --meeting "$MEETING" --lang "$lang" -o "$out"
    kt_check "votes $lang: qpdf, fonts embedded/subset/unicode, no warnings" valid_pdf "$out"
    kt_check "votes $lang: every resolution title" contains_all "$out" "$KT_TMP/titles.txt"
    kt_check "votes $lang: every owner voting contre or abstaining is named" contains_all "$out" "$KT_TMP/against.txt"
    kt_check "votes $lang: one chart image per resolution" \
        sh -c "[ \$(pdfimages -list '$out' | tail -n +3 | wc -l) -eq \$(psql -X -tA -d kt_pdf_docs -c \"select count(*) from resolutions where meeting_id = '$MEETING'\") ]"
    kt_check "votes $lang: president and secretary signature blocks" \
        sh -c "[ \$(pdftotext '$out' - | sed -n '/^\(Signatures\|Handtekeningen\|Unterschriften\)\$/,\$p' | grep -c '…') -ge 2 ]"

    out="$KT_TMP/pcn-$lang.pdf"
    kt_check "pcn $lang from the database" "$PDF" pcn --building "$BUILDING" --from "$FROM" --to "$TO" --lang "$lang" -o "$out"
    kt_check "pcn $lang: qpdf, fonts embedded/subset/unicode, no warnings" valid_pdf "$out"
done
kt_check "votes fr: percentages of votes cast" sh -c "pdftotext '$KT_TMP/votes-fr.pdf' - | grep -q '% des voix exprimées'"
kt_check "votes en: money-free, percentages in English format" sh -c "pdftotext '$KT_TMP/votes-en.pdf' - | grep -qE '^[0-9]+\.[0-9]{2}%\$'"

# The PCN lists every class-6 and class-7 account of the period with a movement.
q "select distinct l.account_code from journal_entry_lines l join journal_entries j on j.id = l.journal_entry_id
   where j.building_id = '$BUILDING' and j.entry_date between '$FROM' and '$TO'
     and left(l.account_code, 1) in ('6', '7')" >"$KT_TMP/codes.txt"
kt_check "pcn fr: every class 6/7 account of the journal" contains_all "$KT_TMP/pcn-fr.pdf" "$KT_TMP/codes.txt"
kt_check "pcn fr: totals" sh -c "pdftotext '$KT_TMP/pcn-fr.pdf' - | grep -q 'Total des charges'"

# Statements: one per owner, parts of each account add up to its total.
mkdir -p "$KT_TMP/st"
kt_check "statement --all-owners" "$PDF" statement --building "$BUILDING" --from "$FROM" --to "$TO" --all-owners --out-dir "$KT_TMP/st" --final
NST=$(ls "$KT_TMP/st" | wc -l)
kt_check "one statement per owner holding a lot" sh -c "[ $NST -ge \$(psql -X -tA -d kt_pdf_docs -c \"select count(distinct uo.owner_id) from unit_owners uo join units u on u.id = uo.unit_id where u.building_id = '$BUILDING' and uo.end_date is null\") ]"
FIRST=$(ls "$KT_TMP/st" | head -n 1)
kt_check "a statement: qpdf, fonts, no warnings" valid_pdf "$KT_TMP/st/$FIRST"
# Sum the owners' parts of the first charge account over all statements (cents).
sum_parts() {
    for f in "$KT_TMP"/st/*.pdf; do
        pdftotext -layout "$f" - | awk '/^ *6[0-9]+ /{print $(NF-1) " " $NF; exit}'
    done | awk '{ v = $1; gsub(/\./, "", v); sub(/,/, "", v); s += v } END { print s }'
}
total_first() {
    pdftotext -layout "$KT_TMP/st/$FIRST" - | awk '/^ *6[0-9]+ /{ for (i = 1; i <= NF; i++) if ($i ~ /,[0-9][0-9]$/) { v = $i; gsub(/\./, "", v); sub(/,/, "", v); print v; exit } }'
}
kt_check "owners' parts sum exactly to the account total" test "$(sum_parts)" = "$(total_first)"
OWNER=$(basename "$FIRST" .pdf)
kt_check "statement --owner -o" "$PDF" statement --building "$BUILDING" --from "$FROM" --to "$TO" --owner "$OWNER" --lang de -o "$KT_TMP/one.pdf"
kt_check "statement de: qpdf, fonts, no warnings" valid_pdf "$KT_TMP/one.pdf"
for lang in nl en; do
    kt_check "statement $lang: renders and is valid" sh -c "'$PDF' statement --building '$BUILDING' --from '$FROM' --to '$TO' --owner '$OWNER' --lang $lang -o '$KT_TMP/one-$lang.pdf' 2>/dev/null"
    kt_check "statement $lang: qpdf, fonts, no warnings" valid_pdf "$KT_TMP/one-$lang.pdf"
done
kt_expect_exit "statement for an unknown owner: exit 3" 3 "$PDF" statement --building "$BUILDING" --from "$FROM" --to "$TO" --owner 00000000-0000-4000-8000-000000000000 -o "$KT_TMP/x.pdf"
kt_expect_exit "statement without --owner or --all-owners: exit 2" 2 "$PDF" statement --building "$BUILDING" --from "$FROM" --to "$TO" -o "$KT_TMP/x.pdf"
kt_expect_exit "pcn with a malformed date: exit 4" 4 "$PDF" pcn --building "$BUILDING" --from 2025-13-01 --to "$TO" -o "$KT_TMP/x.pdf"
kt_expect_exit "pcn for an unknown building: exit 3" 3 "$PDF" pcn --building 00000000-0000-4000-8000-000000000000 --from "$FROM" --to "$TO" -o "$KT_TMP/x.pdf"

# --sign: a detached signature gpg accepts, and one it rejects once the PDF changes.
kt_check "votes --sign" "$PDF" votes --meeting "$MEETING" --final --sign "$KT_FPR" -o "$KT_TMP/signed.pdf"
kt_check "gpg --verify accepts FILE.pdf.asc" gpg --batch --verify "$KT_TMP/signed.pdf.asc" "$KT_TMP/signed.pdf"
cp "$KT_TMP/signed.pdf" "$KT_TMP/tampered.pdf" && printf '%%' >>"$KT_TMP/tampered.pdf"
kt_check "gpg --verify rejects a modified PDF" sh -c "! gpg --batch --verify '$KT_TMP/signed.pdf.asc' '$KT_TMP/tampered.pdf' 2>/dev/null"
kt_expect_exit "--sign with an unknown key: exit 3" 3 "$PDF" votes --meeting "$MEETING" --sign 0123456789ABCDEF0123456789ABCDEF01234567 -o "$KT_TMP/x.pdf"

# --store: file in the store, documents row, meetings.minutes_document_id, audit_logs.
kt_check "minutes --store" "$PDF" minutes --meeting "$MEETING" --lang nl --store "file://$KT_TMP/store"
DOC=$(q "select minutes_document_id from meetings where id = '$MEETING'")
kt_check "meetings.minutes_document_id is set" test -n "$DOC"
kt_check "documents row points at the stored file with its size" \
    sh -c "p=\$(psql -X -tA -d kt_pdf_docs -c \"select file_path from documents where id = '$DOC'\"); s=\$(psql -X -tA -d kt_pdf_docs -c \"select file_size from documents where id = '$DOC'\"); [ \"\$(wc -c <\"\$p\")\" -eq \"\$s\" ] && case \"\$p\" in '$KT_TMP/store/'*'/pv/$MEETING-nl.pdf') true ;; *) false ;; esac"
kt_check "audit_logs has a ReportGenerated row for it" \
    test "$(q "select count(*) from audit_logs where event_type = 'ReportGenerated' and resource_id = '$DOC' and metadata->>'kind' = 'minutes'")" = 1

# Determinism of the other documents under two time zones.
TZ=Pacific/Auckland "$PDF" votes --meeting "$MEETING" -o "$KT_TMP/tz1.pdf" 2>/dev/null
TZ=America/Los_Angeles LC_ALL=C "$PDF" votes --meeting "$MEETING" -o "$KT_TMP/tz2.pdf" 2>/dev/null
kt_check "votes: same bytes under two TZ" cmp "$KT_TMP/tz1.pdf" "$KT_TMP/tz2.pdf"

# Jobs pdf.votes, pdf.pcn, pdf.statements through the queue and the worker.
export KOPRO_DOCUMENT_STORE="file://$KT_TMP/jobstore"
ORG=$(q "select organization_id from buildings where id = '$BUILDING'")
J1=$("$KOPRO_BIN/kopro-queue" enqueue pdf.votes --org "$ORG" --payload "{\"meeting_id\":\"$MEETING\",\"lang\":\"de\"}")
J2=$("$KOPRO_BIN/kopro-queue" enqueue pdf.pcn --org "$ORG" --payload "{\"building_id\":\"$BUILDING\",\"from\":\"$FROM\",\"to\":\"$TO\"}")
J3=$("$KOPRO_BIN/kopro-queue" enqueue pdf.statements --org "$ORG" --payload "{\"building_id\":\"$BUILDING\",\"from\":\"$FROM\",\"to\":\"$TO\",\"lang\":\"en\",\"final\":true}")
kt_expect_exit "pdf.pcn with from after to is refused at enqueue (exit 4)" 4 "$KOPRO_BIN/kopro-queue" enqueue pdf.pcn --payload "{\"building_id\":\"$BUILDING\",\"from\":\"$TO\",\"to\":\"$FROM\"}"
kt_expect_exit "pdf.statements with a malformed owner is refused (exit 4)" 4 "$KOPRO_BIN/kopro-queue" enqueue pdf.statements --payload "{\"building_id\":\"$BUILDING\",\"from\":\"$FROM\",\"to\":\"$TO\",\"owner_id\":\"x\"}"
kt_check "worker --once runs the three jobs" "$KOPRO_BIN/kopro-worker" run --once --concurrency 1
for j in "$J1" "$J2" "$J3"; do
    kt_check "job $(q "select kind from kopro.jobs where id = '$j'") succeeded" test "$(q "select state from kopro.jobs where id = '$j'")" = succeeded
done
kt_check "pdf.votes result file is a valid PDF" valid_pdf "$(q "select result->>'path' from kopro.jobs where id = '$J1'")"
kt_check "pdf.pcn result file is a valid PDF" valid_pdf "$(q "select result->>'path' from kopro.jobs where id = '$J2'")"
kt_check "pdf.statements wrote one file per statement" \
    test "$(q "select result->>'count' from kopro.jobs where id = '$J3'")" = "$NST"
kt_check "pdf.statements files registered in documents" \
    test "$(q "select count(*) from documents d join kopro.jobs j on j.id = '$J3' where d.id::text in (select f->>'document_id' from jsonb_array_elements(j.result->'files') f)")" = "$NST"

kt_done
