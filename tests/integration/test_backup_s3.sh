#!/bin/sh
# kopro-backup on a real S3 server that verifies SigV4 (s3-swift-up), with
# s3-sigv4-proxy in front for faults: round trip, 20% faults, endpoint down,
# kill -9 at each step of the commit protocol, gc, wrong secret, no bucket.
. "$KT_ROOT/tests/integration/lib.sh"
. "$KT_ROOT/tests/integration/backup_lib.sh"

TOOLS="$KT_ROOT/../shared/tools"
if [ ! -x "$TOOLS/s3-swift-up" ]; then
    echo "s3-swift-up not found in $TOOLS"
    exit 1
fi
S3DIR="$KT_TMP/s3"
PROXY_PID=""
kb_s3_stop() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    "$TOOLS/s3-swift-up" stop "$S3DIR" >/dev/null 2>&1
    kt_cleanup
}
trap kb_s3_stop EXIT

kt_pg_start || exit 1
kt_gpg_setup || exit 1
"$TOOLS/s3-swift-up" start "$S3DIR" >"$KT_TMP/s3.env" 2>"$KT_TMP/s3.log" || { cat "$KT_TMP/s3.log"; exit 1; }
. "$KT_TMP/s3.env"
B="$KOPRO_BIN/kopro-backup"
export KOPRO_GNUPGHOME="$GNUPGHOME" KOPRO_BACKUP_RECIPIENTS="$KT_FPR"
export KOPRO_S3_ENDPOINT="$S3_ENDPOINT" KOPRO_S3_REGION="$S3_REGION" KOPRO_S3_PATH_STYLE=1
export KOPRO_S3_ACCESS_KEY="$S3_ACCESS_KEY" KOPRO_S3_SECRET_KEY="$S3_SECRET_KEY"
export KOPRO_S3_RETRY_BASE_MS=50
REPO="s3://$S3_BUCKET/prod/kopro"

# Incomplete multipart uploads in the bucket, counted with curl (not kopro).
kb_s3_uploads() {
    printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" |
        curl -s -K - --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
            "$S3_ENDPOINT/$S3_BUCKET/?uploads=" | grep -o '<Upload>' | wc -l
}
kb_s3_keys() {
    printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" |
        curl -s -K - --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
            "$S3_ENDPOINT/$S3_BUCKET/?list-type=2&prefix=$1" | grep -o '<Key>[^<]*</Key>' | wc -l
}

kb_make_db kbs_src || exit 1
# ~14 MB of hex text: a multi-part (5 MiB parts) object after zstd
kt_psql -d kbs_src -c "create table notes as select i, md5(i::text) || md5((i*7)::text) as t from generate_series(1, 200000) i" >/dev/null
SRC=$(kt_db_url kbs_src)

kt_check "run into S3 (path style, SigV4)" "$B" run --repo "$REPO" --db "$SRC" --json
cp "$KT_TMP/check.out" "$KT_TMP/run1.json"
ID=$(jq -r .id "$KT_TMP/run1.json")
kt_check "the object took several multipart parts" test "$(jq .ciphertext.parts "$KT_TMP/run1.json")" -ge 2
kt_check "list shows it" test "$("$B" list --repo "$REPO" --json | jq -r '.[-1].id')" = "$ID"
kt_psql -d postgres -c "create database kbs_restored" >/dev/null
kt_check "restore from S3" "$B" restore "$ID" --repo "$REPO" --to "$(kt_db_url kbs_restored)"
kt_check "restored database equals the source" kb_same_db kbs_src kbs_restored
kt_check "verify from S3" "$B" verify --latest --repo "$REPO"

# 20% of requests fail (500, 503, reset, 2 s delay) behind the proxy.
S3PROXY_ACCESS_KEY="$S3_ACCESS_KEY" S3PROXY_SECRET_KEY="$S3_SECRET_KEY" \
    "$TOOLS/s3-sigv4-proxy" --listen 127.0.0.1:0 --upstream "$S3_ENDPOINT" --region "$S3_REGION" \
    --fault-rate 0.2 --fault-seed 4 --preserve-host --log "$KT_TMP/proxy.log" >"$KT_TMP/proxy.out" 2>&1 &
PROXY_PID=$!
i=0
while ! grep -q '^listening on' "$KT_TMP/proxy.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PROXY="http://$(sed -n 's/^listening on //p' "$KT_TMP/proxy.out")"
kt_check "run through 20% faults succeeds" \
    env KOPRO_S3_ENDPOINT="$PROXY" "$B" run --repo "$REPO" --db "$SRC" --json
cp "$KT_TMP/check.out" "$KT_TMP/run2.json"
ID2=$(jq -r .id "$KT_TMP/run2.json")
kt_check "faults were injected" grep -q ' fault:' "$KT_TMP/proxy.log"
kt_check "no request failed signature verification" sh -c "! grep -q ' auth:' '$KT_TMP/proxy.log'"
kt_check "verify through 20% faults" env KOPRO_S3_ENDPOINT="$PROXY" "$B" verify "$ID2" --repo "$REPO"
kt_check "same plaintext size as the fault-free run" \
    test "$(jq .plaintext.size_bytes "$KT_TMP/run1.json")" = "$(jq .plaintext.size_bytes "$KT_TMP/run2.json")"
kt_psql -d postgres -c "create database kbs_faulty" >/dev/null
kt_check "restore through 20% faults" \
    env KOPRO_S3_ENDPOINT="$PROXY" "$B" restore "$ID2" --repo "$REPO" --to "$(kt_db_url kbs_faulty)"
kt_check "and it equals the source" kb_same_db kbs_src kbs_faulty

n=$("$B" list --repo "$REPO" --json | jq length)
kt_expect_exit "endpoint down: clear failure" 1 \
    env KOPRO_S3_ENDPOINT=http://127.0.0.1:9 KOPRO_S3_MAX_ATTEMPTS=3 "$B" run --repo "$REPO" --db "$SRC"
kb_said "the error names the endpoint problem" "KOPRO_S3_ENDPOINT"

# kill -9 at each step of the commit protocol: never a listed partial backup.
for point in before-initiate mid-upload before-complete before-manifest; do
    kt_expect_exit "killed $point" 137 env KOPRO_FAULT_KILL_AT=$point "$B" run --repo "$REPO" --db "$SRC"
    kt_check "after the kill $point, list shows no new backup" \
        test "$("$B" list --repo "$REPO" --json | jq length)" = "$n"
done
kt_check "the kills left incomplete multipart uploads" test "$(kb_s3_uploads)" -ge 2
kt_check "the next run succeeds" "$B" run --repo "$REPO" --db "$SRC"
kt_check "gc --older-than 0" "$B" gc --repo "$REPO" --older-than 0
kt_check "no incomplete multipart upload is left" test "$(kb_s3_uploads)" = 0
kt_check "no orphan object is left: one object per manifest" \
    test "$(kb_s3_keys prod/kopro/data/)" = "$(kb_s3_keys prod/kopro/manifests/)"
kt_check "list shows exactly one more backup" test "$("$B" list --repo "$REPO" --json | jq length)" = $((n + 1))

# Credentials from an AWS-style credentials file instead of the environment.
umask 077
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$KT_TMP/credentials"
kt_check "credentials from KOPRO_S3_CREDENTIALS_FILE" \
    env -u KOPRO_S3_ACCESS_KEY -u KOPRO_S3_SECRET_KEY KOPRO_S3_CREDENTIALS_FILE="$KT_TMP/credentials" \
    "$B" list --repo "$REPO"

# Credentials and bucket errors.
kt_expect_exit "wrong secret: clear error" 1 \
    env KOPRO_S3_SECRET_KEY=not-the-secret "$B" list --repo "$REPO"
kb_said "the error says S3 refused the credentials" "KOPRO_S3_SECRET_KEY"
kt_expect_exit "missing bucket: not found" 3 "$B" run --repo "s3://no-such-bucket-kopro/x" --db "$SRC"
kb_said "the error says NoSuchBucket" "NoSuchBucket"
kt_check "no manifest appeared for the failed runs" \
    test "$("$B" list --repo "$REPO" --json | jq length)" = $((n + 1))

kt_done
