#!/bin/sh
# bench/backup.sh BUILD — kopro-backup against KoproGo's pipeline and rclone,
# on the same database and the same local S3 endpoint (s3-swift-up), in one run.
#
#   A  kopro-backup run --repo s3://...          (zstd -3 x2 threads, GPGME, multipart)
#   B  pg_dump | gzip -9 | gpg -e --compress-algo none | rclone rcat   (KoproGo today)
#   C  pg_dump -Fc | gpg -e --compress-algo none | rclone rcat
#
# Reports wall time, output size and peak RSS (/usr/bin/time -v: the largest
# single process of the command, pipelines included) and the ratios; then
# kopro-backup's peak RSS again on a database 4x larger.
# Knobs: BENCH_BACKUP_MB (default 700), BENCH_BACKUP_SCALE4=0 to skip the 4x run.
set -u
BUILD=${1:?usage: bench/backup.sh BUILD}
KT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
KOPRO_BIN="$BUILD/bin"
KOPRO_BIN_PLAIN="$BUILD/bin"
export KT_ROOT KOPRO_BIN KOPRO_BIN_PLAIN
. "$KT_ROOT/tests/integration/lib.sh"
TOOLS="$KT_ROOT/../shared/tools"
MB=${BENCH_BACKUP_MB:-700}
SCALE4=${BENCH_BACKUP_SCALE4:-1}
S3DIR="$KT_TMP/s3"
bench_stop() {
    "$TOOLS/s3-swift-up" stop "$S3DIR" >/dev/null 2>&1
    kt_cleanup
}
trap bench_stop EXIT

for t in rclone /usr/bin/time gzip gpg; do
    command -v "$t" >/dev/null 2>&1 || { echo "bench/backup: $t is missing (make deps)"; exit 1; }
done
kt_pg_start || exit 1
kt_gpg_setup || exit 1
"$TOOLS/s3-swift-up" start "$S3DIR" >"$KT_TMP/s3.env" 2>"$KT_TMP/s3.log" || { cat "$KT_TMP/s3.log"; exit 1; }
. "$KT_TMP/s3.env"
export KOPRO_GNUPGHOME="$GNUPGHOME" KOPRO_BACKUP_RECIPIENTS="$KT_FPR"
export KOPRO_S3_ENDPOINT="$S3_ENDPOINT" KOPRO_S3_REGION="$S3_REGION" KOPRO_S3_PATH_STYLE=1
export KOPRO_S3_ACCESS_KEY="$S3_ACCESS_KEY" KOPRO_S3_SECRET_KEY="$S3_SECRET_KEY"
# rclone reads its remote "kb" from the environment (no secret in argv)
export RCLONE_CONFIG_KB_TYPE=s3 RCLONE_CONFIG_KB_PROVIDER=Other
export RCLONE_CONFIG_KB_ENDPOINT="$S3_ENDPOINT" RCLONE_CONFIG_KB_REGION="$S3_REGION"
export RCLONE_CONFIG_KB_ACCESS_KEY_ID="$S3_ACCESS_KEY" RCLONE_CONFIG_KB_SECRET_ACCESS_KEY="$S3_SECRET_KEY"
export RCLONE_CONFIG_KB_FORCE_PATH_STYLE=true
# the endpoint is plain http; a custom CA bundle in the environment breaks rclone's S3 client
unset AWS_CA_BUNDLE
: >"$KT_TMP/rclone.conf"
export RCLONE_CONFIG="$KT_TMP/rclone.conf"
PG_DUMP=/usr/lib/postgresql/15/bin/pg_dump

# A database of about $1 MB of generated text and numbers: names, addresses,
# amounts, dates and free text built from md5 words (not trivially compressible).
make_db() {
    db=$1
    mb=$2
    rows=$((mb * 4450))
    kt_psql -d postgres -c "drop database if exists $db" >/dev/null
    kt_psql -d postgres -c "create database $db" >/dev/null
    kt_psql -d "$db" >/dev/null <<SQL || return 1
create table ledger (id bigint primary key, building int, owner text, iban text,
                     amount_cents bigint, booked timestamptz, pcn text, memo text);
insert into ledger
select i, i % 997,
       (array['Dupont','Van den Broeck','Müller','Janssens','Peeters','Lambert','Dubois'])[1 + i % 7]
         || ' ' || substr(md5((i * 31)::text), 1, 6),
       'BE' || lpad(((i * 7919) % 100000000)::text, 14, '0'),
       (i * 104729) % 100000000 - 50000000,
       timestamptz '2020-01-01' + (i * 7) * interval '1 minute',
       '6' || lpad((i % 1000)::text, 5, '0'),
       md5(i::text) || ' ' || substr(md5((i + 1)::text), 1, (i % 23)::int + 5) || ' '
         || md5((i * 3)::text) || ' appel de fonds ' || (i % 12 + 1) || '/' || (2020 + i % 6)
from generate_series(1::bigint, $rows) i;
SQL
    kt_psql -d "$db" -tAc "select pg_database_size('$db') / 1048576"
}

# measure NAME COMMAND... : wall seconds and max RSS (KiB) into $KT_TMP/NAME.time
measure() {
    name=$1
    shift
    sync
    /usr/bin/time -v -o "$KT_TMP/$name.time" "$@" >"$KT_TMP/$name.out" 2>"$KT_TMP/$name.err" ||
        { echo "bench/backup: $name failed:"; tail -5 "$KT_TMP/$name.err"; return 1; }
}
wall() { awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$KT_TMP/$1.time"; }
rss() { awk -F': ' '/Maximum resident set size/{print $2}' "$KT_TMP/$1.time"; }
rsize() { rclone size --json "kb:$S3_BUCKET/$1" | jq .bytes; }

DB=kb_bench
echo "bench/backup: generating about $MB MB..."
size_mb=$(make_db $DB "$MB") || { echo "bench/backup: cannot generate the database"; exit 1; }
URL=$(kt_db_url $DB)
echo "bench/backup: database $DB is $size_mb MB (pg_database_size)"

measure kopro "$KOPRO_BIN/kopro-backup" run --repo "s3://$S3_BUCKET/kopro" --db "$URL" --json || exit 1
A_SIZE=$(jq .ciphertext.size_bytes "$KT_TMP/kopro.out")
measure koprogo sh -c "'$PG_DUMP' -d $DB | gzip -9 | gpg --batch -q -e -r $KT_FPR --trust-model always --compress-algo none | rclone rcat kb:$S3_BUCKET/koprogo/dump.sql.gz.gpg" || exit 1
B_SIZE=$(rsize koprogo)
measure rclone sh -c "'$PG_DUMP' -Fc -d $DB | gpg --batch -q -e -r $KT_FPR --trust-model always --compress-algo none | rclone rcat kb:$S3_BUCKET/rclone/dump.pgdump.gpg" || exit 1
C_SIZE=$(rsize rclone)

printf '\n%-44s %10s %14s %12s\n' "pipeline ($size_mb MB database)" "wall s" "output bytes" "peak RSS KiB"
printf '%-44s %10s %14s %12s\n' "kopro-backup (zstd -1 x2, GPGME, multipart)" "$(wall kopro)" "$A_SIZE" "$(rss kopro)"
printf '%-44s %10s %14s %12s\n' "pg_dump|gzip -9|gpg|rclone rcat (KoproGo)" "$(wall koprogo)" "$B_SIZE" "$(rss koprogo)"
printf '%-44s %10s %14s %12s\n' "pg_dump -Fc|gpg|rclone rcat" "$(wall rclone)" "$C_SIZE" "$(rss rclone)"
awk -v a="$(wall kopro)" -v b="$(wall koprogo)" -v c="$(wall rclone)" -v sa="$A_SIZE" -v sb="$B_SIZE" -v sc="$C_SIZE" 'BEGIN {
    printf "\nwall time: kopro/KoproGo = %.2f (goal <= 0.35), kopro/rclone = %.2f (goal <= 0.6)\n", a/b, a/c
    printf "output:    kopro/KoproGo = %.3f, kopro/rclone = %.3f (goal <= 1)\n", sa/sb, sa/sc
}'
echo "peak RSS:  kopro $(( $(rss kopro) / 1024 )) MiB (goal <= 64 MiB)"

if [ "$SCALE4" = 1 ]; then
    echo "bench/backup: generating a 4x database ($((MB * 4)) MB)..."
    kt_psql -d postgres -c "drop database $DB" >/dev/null
    size4=$(make_db kb_bench4 $((MB * 4)))
    measure kopro4 "$KOPRO_BIN/kopro-backup" run --repo "s3://$S3_BUCKET/kopro4" --db "$(kt_db_url kb_bench4)" --json || exit 1
    awk -v r1="$(rss kopro)" -v r4="$(rss kopro4)" -v w="$(wall kopro4)" -v s="$size4" 'BEGIN {
        printf "4x database (%s MB): kopro-backup %.1f s, peak RSS %d KiB = %.2f x the 1x run (goal 0.9..1.1)\n", s, w, r4, r4/r1
    }'
fi
