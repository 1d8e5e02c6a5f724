#!/bin/sh
# kopro-pdf --store s3://BUCKET/PREFIX on a real S3 server that verifies
# SigV4 and the payload SHA-256 (s3-swift-up): the object lands at
# PREFIX/{org}/{building}/pv/{meeting}-{lang}.pdf, equals the -o output byte
# for byte, the documents row holds its s3:// URL and minutes_document_id is
# set; a wrong secret fails with a clear error, exit 1 and no documents row;
# a pdf.minutes job with KOPRO_DOCUMENT_STORE=s3://... gives result.url.
. "$(dirname "$0")/lib.sh"

TOOLS="$KT_ROOT/../shared/tools"
if [ ! -x "$TOOLS/s3-swift-up" ]; then
    echo "s3-swift-up not found in $TOOLS"
    exit 1
fi
S3DIR="$KT_TMP/s3"
kt_s3_stop() {
    "$TOOLS/s3-swift-up" stop "$S3DIR" >/dev/null 2>&1
    kt_cleanup
}
trap kt_s3_stop EXIT

kt_pg_start || exit 1
kt_fixture_db kt_pdf_s3 || exit 1
kt_gpg_setup || exit 1
"$TOOLS/s3-swift-up" start "$S3DIR" >"$KT_TMP/s3.env" 2>"$KT_TMP/s3.log" || { cat "$KT_TMP/s3.log"; exit 1; }
. "$KT_TMP/s3.env"
export KOPRO_DATABASE_URL=$(kt_db_url kt_pdf_s3)
export KOPRO_S3_ENDPOINT="$S3_ENDPOINT" KOPRO_S3_REGION="$S3_REGION" KOPRO_S3_PATH_STYLE=1
export KOPRO_S3_ACCESS_KEY="$S3_ACCESS_KEY" KOPRO_S3_SECRET_KEY="$S3_SECRET_KEY"
export KOPRO_S3_RETRY_BASE_MS=50
PDF="$KOPRO_BIN/kopro-pdf"
q() { kt_psql -d kt_pdf_s3 -tA -c "$1"; }
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# S3 read with curl, not kopro: GetObject to $2, ListObjectsV2 keys of prefix $1
# (percent-encoded: curl signs the query as given).
s3_get() {
    printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" |
        curl -sf -K - --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: $EMPTY_SHA" \
            -o "$2" "$S3_ENDPOINT/$S3_BUCKET/$1"
}
s3_keys() {
    printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" |
        curl -s -K - --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: $EMPTY_SHA" \
            "$S3_ENDPOINT/$S3_BUCKET/?list-type=2&prefix=$1" | grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'
}

MEETING=$(q "select m.id from meetings m join resolutions r on r.meeting_id = m.id
             group by m.id order by count(*) desc, m.id limit 1")
BUILDING=$(q "select building_id from meetings where id = '$MEETING'")
ORG=$(q "select organization_id from buildings where id = '$BUILDING'")
KEY="docs/$ORG/$BUILDING/pv/$MEETING-fr.pdf"

kt_check "minutes --store s3://BUCKET/docs -o PATH" \
    "$PDF" minutes --meeting "$MEETING" --store "s3://$S3_BUCKET/docs" -o "$KT_TMP/m.pdf"
s3_keys docs%2F >"$KT_TMP/keys1"
kt_check "ListObjectsV2 shows exactly the KoproGo key under the prefix" \
    sh -c "[ \"\$(cat '$KT_TMP/keys1')\" = '$KEY' ] || { cat '$KT_TMP/keys1'; false; }"
kt_check "GetObject of the key" s3_get "$KEY" "$KT_TMP/got.pdf"
kt_check "the object equals the -o output byte for byte" cmp "$KT_TMP/m.pdf" "$KT_TMP/got.pdf"
DOC=$(q "select minutes_document_id from meetings where id = '$MEETING'")
kt_check "meetings.minutes_document_id is set" test -n "$DOC"
kt_check "documents.file_path is the object's s3:// URL" \
    test "$(q "select file_path from documents where id = '$DOC'")" = "s3://$S3_BUCKET/$KEY"
kt_check "documents.file_size is the object's size" \
    test "$(q "select file_size from documents where id = '$DOC'")" = "$(wc -c <"$KT_TMP/got.pdf")"
kt_check "audit_logs ReportGenerated with the object's sha256" \
    test "$(q "select count(*) from audit_logs where event_type = 'ReportGenerated' and resource_id = '$DOC'
               and metadata->>'sha256' = '$(sha256sum "$KT_TMP/got.pdf" | cut -d' ' -f1)'
               and metadata->>'path' = 's3://$S3_BUCKET/$KEY'")" = 1

# Wrong secret: S3 refuses (403), exit 1, a message naming the store, no row.
NDOCS=$(q "select count(*) from documents")
NAUDIT=$(q "select count(*) from audit_logs")
kt_expect_exit "wrong secret: exit 1" 1 \
    env KOPRO_S3_SECRET_KEY=0000000000000000wrong00000000000 \
    "$PDF" votes --meeting "$MEETING" --lang nl --store "s3://$S3_BUCKET/docs"
cp "$KT_TMP/check.out" "$KT_TMP/wrong.err"
kt_check "the message names the object's URL and S3's refusal" \
    sh -c "grep -q 's3://$S3_BUCKET/docs/$ORG/$BUILDING/.*SignatureDoesNotMatch' '$KT_TMP/wrong.err' || { cat '$KT_TMP/wrong.err'; false; }"
kt_check "no documents row after the refused upload" test "$(q "select count(*) from documents")" = "$NDOCS"
kt_check "no audit_logs row after the refused upload" test "$(q "select count(*) from audit_logs")" = "$NAUDIT"
kt_check "no object after the refused upload" test "$(s3_keys docs%2F | wc -l)" = 1
# The upload succeeds but registering fails (a trigger refuses the documents
# row): the object is removed again, so the store holds nothing unregistered.
kt_psql -d kt_pdf_s3 -q -c "create function kt_refuse() returns trigger language plpgsql as
    \$\$ begin raise exception 'kt: documents refused'; end \$\$;
    create trigger kt_refuse before insert on documents for each row execute function kt_refuse()"
kt_expect_exit "registration refused after the upload: exit 1" 1 \
    "$PDF" votes --meeting "$MEETING" --lang de --store "s3://$S3_BUCKET/docs"
cp "$KT_TMP/check.out" "$KT_TMP/refused.err"
kt_check "the message is the database's refusal" grep -q 'documents refused' "$KT_TMP/refused.err"
kt_check "and the uploaded object was removed" test "$(s3_keys docs%2F | wc -l)" = 1
export KOPRO_DOCUMENT_STORE="s3://$S3_BUCKET/jobs/"
J0=$("$KOPRO_BIN/kopro-queue" enqueue pdf.votes --org "$ORG" --max-attempts 1 --payload "{\"meeting_id\":\"$MEETING\"}")
"$KOPRO_BIN/kopro-worker" run --once --concurrency 1 >/dev/null 2>&1
kt_check "the same through a pdf.votes job: not succeeded" \
    test "$(q "select state from kopro.jobs where id = '$J0'")" != succeeded
kt_check "and no object under the jobs prefix" test "$(s3_keys jobs%2F | wc -l)" = 0
kt_psql -d kt_pdf_s3 -q -c "drop trigger kt_refuse on documents"

# --sign without -o: the detached signature goes beside the object.
kt_check "votes --sign --store s3:// (no -o)" \
    "$PDF" votes --meeting "$MEETING" --lang en --sign "$KT_FPR" --store "s3://$S3_BUCKET/docs"
VKEY="docs/$ORG/$BUILDING/pv/$MEETING-votes-en.pdf"
get_signed() { s3_get "$VKEY" "$KT_TMP/votes.pdf" && s3_get "$VKEY.asc" "$KT_TMP/votes.pdf.asc"; }
kt_check "GetObject of the votes and of its .asc" get_signed
kt_check "gpg --verify accepts the object with the .asc beside it" \
    gpg --batch --verify "$KT_TMP/votes.pdf.asc" "$KT_TMP/votes.pdf"
kt_expect_exit "s3:// without a bucket: exit 4" 4 "$PDF" minutes --meeting "$MEETING" --store "s3:///docs"

# The job kind, with KOPRO_DOCUMENT_STORE=s3://...: result.url, no result.path.
export KOPRO_DOCUMENT_STORE="s3://$S3_BUCKET/jobs/"
J=$("$KOPRO_BIN/kopro-queue" enqueue pdf.minutes --org "$ORG" --payload "{\"meeting_id\":\"$MEETING\",\"lang\":\"de\"}")
kt_check "worker --once runs pdf.minutes into S3" "$KOPRO_BIN/kopro-worker" run --once --concurrency 1
kt_check "the job succeeded" test "$(q "select state from kopro.jobs where id = '$J'")" = succeeded
JKEY="jobs/$ORG/$BUILDING/pv/$MEETING-de.pdf"
kt_check "result.url is the object's URL and there is no result.path" \
    test "$(q "select (result->>'url') || '|' || coalesce(result->>'path', '')  from kopro.jobs where id = '$J'")" = "s3://$S3_BUCKET/$JKEY|"
kt_check "the job's object is there" s3_get "$JKEY" "$KT_TMP/job.pdf"
kt_check "its sha256 is the result's" \
    test "$(sha256sum <"$KT_TMP/job.pdf" | cut -d' ' -f1)" = "$(q "select coalesce(result->>'sha256', 'none') from kopro.jobs where id = '$J'")"
kt_check "minutes_document_id now names the job's document" \
    test "$(q "select minutes_document_id from meetings where id = '$MEETING'")" = "$(q "select result->>'document_id' from kopro.jobs where id = '$J'")"

kt_done
