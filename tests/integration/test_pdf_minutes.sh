#!/bin/sh
# kopro-pdf minutes: from the fixture database (FR, NL) and from JSON models
# (4 languages), checked with qpdf, pdffonts and pdftotext; exit codes;
# determinism under two time zones; the pdf.minutes job through the worker.
. "$(dirname "$0")/lib.sh"

kt_pg_start || exit 1
kt_fixture_db kt_pdf_minutes || exit 1
URL=$(kt_db_url kt_pdf_minutes)
export KOPRO_DATABASE_URL="$URL"
PDF="$KOPRO_BIN/kopro-pdf"
q() { kt_psql -d kt_pdf_minutes -tA -c "$1"; }

MEETING=$(q "select m.id from meetings m join resolutions r on r.meeting_id = m.id
             group by m.id order by count(*) desc, m.id limit 1")
NRES=$(q "select count(*) from resolutions where meeting_id = '$MEETING'")

# The text of a PDF on one line, whitespace squeezed (table cells and
# paragraphs wrap, so a name may be split across lines).
flat() { pdftotext "$1" - 2>/dev/null | tr '\n\f' '  ' | tr -s ' '; }

# pdffonts: every font embedded, subset and with a Unicode map.
fonts_ok() {
    pdffonts "$1" >"$KT_TMP/fonts.txt" 2>&1 || return 1
    n=$(tail -n +3 "$KT_TMP/fonts.txt" | wc -l)
    bad=$(tail -n +3 "$KT_TMP/fonts.txt" | awk '{ if ($(NF-4) != "yes" || $(NF-3) != "yes" || $(NF-2) != "yes") print }' | wc -l)
    [ "$n" -ge 1 ] && [ "$bad" -eq 0 ] || { cat "$KT_TMP/fonts.txt"; return 1; }
}

# No warning or error from poppler while extracting the text.
poppler_quiet() {
    pdftotext "$1" /dev/null 2>"$KT_TMP/poppler.err"
    [ ! -s "$KT_TMP/poppler.err" ] || { cat "$KT_TMP/poppler.err"; return 1; }
}

contains_all() { # file listfile
    flat "$1" >"$KT_TMP/flat.txt"
    missing=0
    while IFS= read -r item; do
        [ -n "$item" ] || continue
        if ! grep -qF -- "$item" "$KT_TMP/flat.txt"; then
            echo "missing: $item"
            missing=1
        fi
    done <"$2"
    [ "$missing" -eq 0 ]
}

count_is() { # file word expected
    got=$(flat "$1" | grep -oF -- "$2" | wc -l)
    [ "$got" -eq "$3" ] || { echo "'$2' appears $got times, expected $3"; return 1; }
}

# names of every unit holder at the meeting, resolution titles, signatories
q "select distinct trim(coalesce(o.first_name,'') || ' ' || o.last_name)
   from unit_owners uo join owners o on o.id = uo.owner_id join units u on u.id = uo.unit_id
   join meetings m on m.building_id = u.building_id
   where m.id = '$MEETING' and uo.end_date is null" >"$KT_TMP/names.txt"
q "select title from resolutions where meeting_id = '$MEETING'" >"$KT_TMP/titles.txt"

for lang in fr nl; do
    out="$KT_TMP/minutes-$lang.pdf"
    kt_check "minutes $lang from the database" "$PDF" minutes --meeting "$MEETING" --lang "$lang" -o "$out"
    kt_check "minutes $lang: qpdf --check" qpdf --check "$out"
    kt_check "minutes $lang: fonts embedded, subset, unicode" fonts_ok "$out"
    kt_check "minutes $lang: no poppler warnings" poppler_quiet "$out"
    kt_check "minutes $lang: owners' names with diacritics" contains_all "$out" "$KT_TMP/names.txt"
    kt_check "minutes $lang: every resolution title" contains_all "$out" "$KT_TMP/titles.txt"
    case $lang in
    fr) adopted="ADOPTÉE"; rejected="REJETÉE"; owner=", copropriétaire"; proxy=", mandataire" ;;
    nl) adopted="AANGENOMEN"; rejected="VERWORPEN"; owner=", mede-eigenaar"; proxy=", volmachthouder" ;;
    esac
    kt_check "minutes $lang: one outcome per resolution" \
        sh -c "n=\$(pdftotext '$out' - | grep -oE '$adopted|$rejected' | wc -l); [ \"\$n\" -eq $NRES ]"
    kt_check "minutes $lang: a signature line per person present" \
        sh -c "n=\$(pdftotext '$out' - | grep -cE '($owner|$proxy)\$'); [ \"\$n\" -ge 1 ]"
done

# Signatures: everyone recorded as attending signs (as owner or proxy holder).
q "select trim(coalesce(o.first_name,'') || ' ' || o.last_name) || ', '
   from convocation_recipients cr join convocations c on c.id = cr.convocation_id
   join owners o on o.id = cr.owner_id
   where c.meeting_id = '$MEETING' and cr.attendance_status = 'attended'" >"$KT_TMP/signers.txt"
signatures_of() { pdftotext "$1" - 2>/dev/null | sed -n '/^Signatures$/,$p' >"$KT_TMP/sig.txt"; }
signers_ok() {
    signatures_of "$1"
    missing=0
    while IFS= read -r item; do
        grep -qF -- "$item" "$KT_TMP/sig.txt" || { echo "no signature line for: $item"; missing=1; }
    done <"$KT_TMP/signers.txt"
    [ -s "$KT_TMP/signers.txt" ] && [ "$missing" -eq 0 ]
}
kt_check "minutes fr: every attending owner has a signature line" signers_ok "$KT_TMP/minutes-fr.pdf"

# Exit codes.
kt_expect_exit "unknown meeting uuid: exit 3" 3 "$PDF" minutes --meeting 00000000-0000-4000-8000-000000000000 -o "$KT_TMP/x.pdf"
kt_expect_exit "malformed meeting id: exit 4" 4 "$PDF" minutes --meeting not-a-uuid -o "$KT_TMP/x.pdf"
kt_check "malformed meeting id: message names it" sh -c "'$PDF' minutes --meeting not-a-uuid -o '$KT_TMP/x.pdf' 2>&1 | grep -q not-a-uuid"
kt_expect_exit "missing --meeting: exit 2" 2 "$PDF" minutes -o "$KT_TMP/x.pdf"
kt_expect_exit "unknown language: exit 2" 2 "$PDF" minutes --meeting "$MEETING" --lang es -o "$KT_TMP/x.pdf"
kt_check "--help" "$PDF" --help
kt_check "nothing left at -o after a failure" test ! -e "$KT_TMP/x.pdf"

# Determinism: same bytes under two time zones and locales.
TZ=America/New_York LC_ALL=C "$PDF" minutes --meeting "$MEETING" -o "$KT_TMP/tz1.pdf" 2>/dev/null
TZ=Asia/Tokyo LC_ALL=C.UTF-8 "$PDF" minutes --meeting "$MEETING" -o "$KT_TMP/tz2.pdf" 2>/dev/null
kt_check "same sha256 under TZ=America/New_York and TZ=Asia/Tokyo" cmp "$KT_TMP/tz1.pdf" "$KT_TMP/tz2.pdf"
kt_check "draft and final differ" sh -c "'$PDF' minutes --meeting '$MEETING' --final -o '$KT_TMP/final.pdf' 2>/dev/null && ! cmp -s '$KT_TMP/final.pdf' '$KT_TMP/tz1.pdf'"

# JSON models: four languages, without a database.
awk -v lots=40 -v res=15 -f "$KT_ROOT/tests/integration/pdf-model.awk" >"$KT_TMP/m40.json"
printf '%s\n' "Łukasz" "Şahin" "Ødegaard" "Παπαδόπουλος" "Иванов" "SRL Immo Ἀθῆναι & Fils" >"$KT_TMP/m40-names.txt"
for lang in fr nl de en; do
    out="$KT_TMP/render-$lang.pdf"
    kt_check "render minutes $lang --data" "$PDF" render minutes --data "$KT_TMP/m40.json" --lang "$lang" -o "$out"
    kt_check "render $lang: qpdf, fonts, no warnings" sh -c "qpdf --check '$out' >/dev/null && [ -z \"\$(pdftotext '$out' /dev/null 2>&1)\" ]"
    kt_check "render $lang: fonts embedded, subset, unicode" fonts_ok "$out"
    kt_check "render $lang: Latin, Greek, Cyrillic names" contains_all "$out" "$KT_TMP/m40-names.txt"
done

# The signature block (heading, intro, 31 lines) is not split across pages.
sig_block_one_page() {
    pages=$(pdfinfo "$1" | awk '/^Pages:/{print $2}')
    all=$(pdftotext "$1" - | grep -cE ', (copropriétaire|mandataire|président de séance|secrétaire)$')
    last=$(pdftotext -f "$pages" -l "$pages" "$1" - | grep -cE ', (copropriétaire|mandataire|président de séance|secrétaire)$')
    heading=$(pdftotext -f "$pages" -l "$pages" "$1" - | grep -c '^Signatures$')
    [ "$all" -ge 10 ] && [ "$all" -eq "$last" ] && [ "$heading" -eq 1 ] ||
        { echo "$all signature lines, $last on the last page, heading there: $heading"; return 1; }
}
kt_check "render fr: the signature block is on one page with its heading" sig_block_one_page "$KT_TMP/render-fr.pdf"

# The pdf.minutes job through the queue and the worker.
export KOPRO_DOCUMENT_STORE="file://$KT_TMP/store"
ORG=$(q "select organization_id from meetings where id = '$MEETING'")
JOB=$("$KOPRO_BIN/kopro-queue" enqueue pdf.minutes --org "$ORG" --payload "{\"meeting_id\":\"$MEETING\",\"lang\":\"nl\"}")
kt_check "job enqueued" test -n "$JOB"
kt_expect_exit "bad lang is refused at enqueue (exit 4)" 4 "$KOPRO_BIN/kopro-queue" enqueue pdf.minutes --payload "{\"meeting_id\":\"$MEETING\",\"lang\":\"xx\"}"
kt_check "worker --once runs it" "$KOPRO_BIN/kopro-worker" run --once --concurrency 1
kt_check "job succeeded" sh -c "[ \"\$(psql -X -tA -d kt_pdf_minutes -c \"select state from kopro.jobs where id = '$JOB'\")\" = succeeded ]"
RPATH=$(q "select result->>'path' from kopro.jobs where id = '$JOB'")
RSHA=$(q "select result->>'sha256' from kopro.jobs where id = '$JOB'")
kt_check "result path is in the store, layout {org}/{building}/pv/{meeting}-nl.pdf" \
    sh -c "case '$RPATH' in '$KT_TMP/store/$ORG/'*'/pv/$MEETING-nl.pdf') test -s '$RPATH' ;; *) false ;; esac"
kt_check "result sha256 matches the file" sh -c "[ \"\$(sha256sum '$RPATH' | cut -d' ' -f1)\" = '$RSHA' ]"

kt_done
