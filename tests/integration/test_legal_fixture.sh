#!/bin/sh
# The legal engine on KoproGo's data: the fixture assembly loaded from
# PostgreSQL (kopro_assembly_load_db) and computed (kopro_legal_compute)
# through `kopro-pdf minutes`. Outcomes are cross-checked against the
# generator's stored statuses (an independent implementation of art. 3.88),
# the names voting contre against SQL, and every kind of inconsistent data
# must stop with exit 4 and a message naming the row and the rule.
. "$(dirname "$0")/lib.sh"

PDF="$KOPRO_BIN/kopro-pdf"
kt_pg_start || exit 1
kt_fixture_db kt_legal || exit 1
export KOPRO_DATABASE_URL=$(kt_db_url kt_legal)
sql() { kt_psql -d kt_legal -tAc "$1"; }

MID=$(sql "SELECT m.id FROM meetings m JOIN buildings b ON b.id = m.building_id
            WHERE b.slug = 'residence-les-tilleuls-liege' AND m.status = 'completed'")

# minutes as text, all on one line (names may wrap)
minutes_text() {
    "$PDF" minutes --meeting "$MID" --lang fr -o "$KT_TMP/m.pdf" >"$KT_TMP/m.err" 2>&1 || {
        cat "$KT_TMP/m.err"
        return 1
    }
    pdftotext "$KT_TMP/m.pdf" - | tr '\n' ' ' >"$KT_TMP/m.txt"
}

# expect_fail DESC EXIT PATTERN: kopro-pdf minutes exits EXIT and says PATTERN
expect_fail() {
    kt_checks=$((kt_checks + 1))
    "$PDF" minutes --meeting "${MEETING:-$MID}" -o "$KT_TMP/bad.pdf" >"$KT_TMP/bad.err" 2>&1
    got=$?
    if [ "$got" = "$2" ] && grep -qF -- "$3" "$KT_TMP/bad.err" && [ ! -e "$KT_TMP/bad.pdf" ]; then
        echo "  ok   $1"
    else
        kt_fails=$((kt_fails + 1))
        echo "  FAIL $1 (exit $got, wanted $2 and \"$3\", no output file)"
        sed 's/^/       | /' "$KT_TMP/bad.err" | tail -n 5
    fi
    rm -f "$KT_TMP/bad.pdf"
}

kt_check "fixture minutes render" minutes_text

adopted=$(sql "SELECT count(*) FROM resolutions WHERE meeting_id = '$MID' AND status = 'Adopted'")
rejected=$(sql "SELECT count(*) FROM resolutions WHERE meeting_id = '$MID' AND status = 'Rejected'")
kt_check "14 resolutions stored, both outcomes present" sh -c "[ $((adopted + rejected)) -eq 14 ] && [ $adopted -gt 0 ] && [ $rejected -gt 0 ]"
kt_check "engine agrees with every stored outcome ($adopted adopted, $rejected rejected)" \
    sh -c "[ \$(grep -o 'ADOPTÉE' '$KT_TMP/m.txt' | wc -l) -eq $adopted ] && [ \$(grep -o 'REJETÉE' '$KT_TMP/m.txt' | wc -l) -eq $rejected ]"

# every owner of a lot that voted contre is named (art. 3.87 §10)
sql "SELECT DISTINCT CASE WHEN o.first_name = '' THEN o.last_name ELSE o.first_name || ' ' || o.last_name END
       FROM votes v JOIN resolutions r ON r.id = v.resolution_id
       JOIN unit_owners uo ON uo.unit_id = v.unit_id AND uo.end_date IS NULL
       JOIN owners o ON o.id = uo.owner_id
      WHERE r.meeting_id = '$MID' AND v.vote_choice IN ('Contre', 'Abstention')" >"$KT_TMP/names"
kt_check "contre/abstention names from SQL: at least 5" sh -c "[ \$(wc -l <'$KT_TMP/names') -ge 5 ]"
kt_check "every contre/abstention owner is named in the minutes" \
    sh -c "while IFS= read -r n; do grep -qF \"\$n\" '$KT_TMP/m.txt' || { echo \"missing: \$n\"; exit 1; }; done <'$KT_TMP/names'"

# president and secretary from kopro.meeting_officers (migration 0050)
sql "INSERT INTO kopro.meeting_officers (meeting_id, president_name, secretary_name)
     VALUES ('$MID', 'Présidente Gülşen Aydın', 'Secrétaire Jörg Łęcki')" >/dev/null
minutes_text >/dev/null 2>&1
kt_check "president and secretary named" sh -c "grep -qF 'Présidente Gülşen Aydın' '$KT_TMP/m.txt' && grep -qF 'Secrétaire Jörg Łęcki' '$KT_TMP/m.txt'"

# a mandate held by the syndic's user account (meeting_proxy_mandates): the
# absent owner becomes represented, the holder is named, the breach reported
ABSENT=$(sql "SELECT cr.owner_id FROM convocation_recipients cr JOIN convocations c ON c.id = cr.convocation_id
               WHERE c.meeting_id = '$MID' AND cr.attendance_status = 'did_not_attend'
                 AND cr.proxy_owner_id IS NULL ORDER BY cr.owner_id LIMIT 1")
SYNDIC=$(sql "SELECT u.id FROM users u JOIN meetings m ON m.organization_id = u.organization_id
               WHERE m.id = '$MID' AND u.role = 'syndic' ORDER BY u.id LIMIT 1")
SYNDIC_NAME=$(sql "SELECT first_name || ' ' || last_name FROM users WHERE id = '$SYNDIC'")
kt_check "the syndic is not named before the mandate" sh -c "! grep -qF '$SYNDIC_NAME' '$KT_TMP/m.txt'"
sql "INSERT INTO meeting_proxy_mandates (meeting_id, proxy_holder_id, grantor_owner_id, voting_power)
     VALUES ('$MID', '$SYNDIC', '$ABSENT', 0)" >/dev/null
kt_check "mandate to the syndic's user: renders" minutes_text
kt_check "the syndic ($SYNDIC_NAME) is named as proxy holder" grep -qF "$SYNDIC_NAME" "$KT_TMP/m.txt"
kt_check "an absent owner and a syndic user were found in the fixture" [ -n "$ABSENT" -a -n "$SYNDIC" ]
sql "DELETE FROM meeting_proxy_mandates WHERE grantor_owner_id = '$ABSENT' AND proxy_holder_id = '$SYNDIC'" >/dev/null

# a stored status that disagrees is reported, not an error
R1=$(sql "SELECT id FROM resolutions WHERE meeting_id = '$MID' ORDER BY created_at, id LIMIT 1")
sql "UPDATE resolutions SET status = CASE status WHEN 'Adopted' THEN 'Rejected' ELSE 'Adopted' END WHERE id = '$R1'" >/dev/null
kt_check "stored status disagreeing: still a document (discrepancy reported)" minutes_text
sql "UPDATE resolutions SET status = CASE status WHEN 'Adopted' THEN 'Rejected' ELSE 'Adopted' END WHERE id = '$R1'" >/dev/null

# one voter's attendance never recorded: the vote shows they were there
VOTER=$(sql "SELECT cr.owner_id FROM convocation_recipients cr JOIN convocations c ON c.id = cr.convocation_id
              WHERE c.meeting_id = '$MID' AND cr.attendance_status = 'attended' ORDER BY cr.owner_id LIMIT 1")
sql "UPDATE convocation_recipients SET attendance_status = 'pending' WHERE owner_id = '$VOTER'" >/dev/null
kt_check "a voter with attendance pending counts as present" minutes_text
sql "UPDATE convocation_recipients SET attendance_status = 'did_not_attend' WHERE owner_id = '$VOTER'" >/dev/null
expect_fail "a voter recorded did_not_attend: exit 4 naming the vote" 4 "recorded absent"
sql "UPDATE convocation_recipients SET attendance_status = 'attended' WHERE owner_id = '$VOTER'" >/dev/null

# no attendance recorded: derived from the votes
sql "UPDATE convocation_recipients SET attendance_status = 'pending'" >/dev/null
kt_check "attendance derived from votes when none was recorded" minutes_text
kt_psql -d postgres -c "drop database kt_legal" >/dev/null
kt_fixture_db kt_legal || exit 1

# inconsistent data: exit 4, the row and the rule named, no document
U1=$(sql "SELECT u.id FROM units u JOIN meetings m ON m.building_id = u.building_id
           WHERE m.id = '$MID' ORDER BY u.unit_number LIMIT 1")
sql "UPDATE units SET quota = quota + 1 WHERE id = '$U1'" >/dev/null
expect_fail "quotas not summing to total_tantiemes: exit 4" 4 "total_tantiemes is 10000"
sql "UPDATE units SET quota = quota - 1 + 0.00001 WHERE id = '$U1'" >/dev/null
expect_fail "quota not exact in 1/10000: exit 4 naming the unit" 4 "units $U1: quota"
sql "UPDATE units SET quota = round(quota::numeric, 4)::float8 WHERE id = '$U1'" >/dev/null

sql "UPDATE resolutions SET majority_required = 'Simple' WHERE id = '$R1'" >/dev/null
expect_fail "unknown majority_required: exit 4 naming the resolution" 4 "resolutions $R1"
sql "UPDATE resolutions SET majority_required = 'Absolute' WHERE id = '$R1'" >/dev/null

V1=$(sql "SELECT v.id FROM votes v WHERE v.resolution_id = '$R1' AND v.proxy_owner_id IS NULL ORDER BY v.id LIMIT 1")
VO=$(sql "SELECT owner_id FROM votes WHERE id = '$V1'")
OTHER=$(sql "SELECT o.id FROM owners o WHERE o.id <> '$VO' AND o.id NOT IN
               (SELECT owner_id FROM unit_owners WHERE unit_id = (SELECT unit_id FROM votes WHERE id = '$V1'))
               AND o.id IN (SELECT owner_id FROM votes WHERE resolution_id = '$R1') ORDER BY o.id LIMIT 1")
sql "UPDATE votes SET owner_id = '$OTHER' WHERE id = '$V1'" >/dev/null
expect_fail "vote on a lot the owner does not hold: exit 4" 4 "votes $V1: owner"
sql "UPDATE votes SET owner_id = '$VO' WHERE id = '$V1'" >/dev/null

sql "UPDATE votes SET voting_power = voting_power + 1 WHERE id = '$V1'" >/dev/null
expect_fail "voting_power differing from the quota: exit 4" 4 "differs from the quota"
sql "UPDATE votes SET voting_power = voting_power - 1 WHERE id = '$V1'" >/dev/null

UO=$(sql "SELECT uo.id FROM unit_owners uo JOIN votes v ON v.unit_id = uo.unit_id WHERE v.id = '$V1' AND uo.end_date IS NULL LIMIT 1")
sql "UPDATE unit_owners SET ownership_percentage = ownership_percentage - 0.1 WHERE id = '$UO'" >/dev/null
expect_fail "ownership fractions not summing to 1: exit 4" 4 "must sum to 1"
sql "UPDATE unit_owners SET ownership_percentage = ownership_percentage + 0.1 WHERE id = '$UO'" >/dev/null

kt_check "restored data renders again" minutes_text

MEETING=not-a-uuid expect_fail "malformed meeting id: exit 4" 4 "is not a uuid"
MEETING=00000000-0000-4000-8000-000000000000 expect_fail "unknown meeting: exit 3" 3 "not found"

kt_psql -d postgres -c "drop database kt_legal" >/dev/null
kt_done
