#!/bin/sh
# bench/api.sh — kopro-api enqueue latency and throughput under wrk with 100
# connections (issue 5: "API p99 <= 5 ms at 100 connections"; KoproGo's own
# API measured p99 82–752 ms). Two endpoints, each a full request: JWT
# verification, JSON parsing, the kind's validation, and the insert through
# the server's group commit (kopro.enqueue_many()), answered after its commit:
#   1. POST /api/v1/jobs {"kind":"test.noop"}             (superadmin)
#   2. POST /api/v1/meetings/{id}/minutes {"lang":"fr"}   (syndic; adds the
#      tenancy lookup of the meeting), when pdf.minutes is built in.
# Plus 1 connection, and 100 connections that each pause THINK_MS between
# requests (a set load rather than saturation).
# PostgreSQL: a private cluster from tests/integration/lib.sh (unix socket,
# fsync=off, as every kopro benchmark here). The plain -O2 build is measured.
# usage: bench/api.sh BUILD   (env: DURATION_S=10 CONNECTIONS=100 THREADS=8 THINK_MS=10)
set -u
BUILD=$(cd "${1:-build}" && pwd)
KT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
KOPRO_BIN=$BUILD/bin
KOPRO_BIN_PLAIN=$BUILD/bin
KOPRO_TOOLS=$BUILD/tools
export KT_ROOT KOPRO_BIN KOPRO_BIN_PLAIN KOPRO_TOOLS
. "$KT_ROOT/tests/integration/lib.sh"
DURATION_S=${DURATION_S:-10}
CONNECTIONS=${CONNECTIONS:-100}
THREADS=${THREADS:-8}
THINK_MS=${THINK_MS:-10}

command -v wrk >/dev/null || { echo "bench/api: wrk is missing (mk/debian-packages-bench; make bench installs it)"; exit 1; }
kt_pg_start || exit 1
DB=kb_api
kt_psql -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null || exit 1
kt_psql -d "$DB" -f "$KT_ROOT/tests/fixtures/koprogo-schema.sql" >/dev/null || exit 1
KOPRO_DATABASE_URL=$(kt_db_url "$DB")
export KOPRO_DATABASE_URL KOPRO_ENABLE_TEST_JOBS=1
"$KOPRO_BIN/kopro-worker" migrate >/dev/null || exit 1
ORG=aaaaaaaa-0000-4000-8000-000000000001
BLD=aaaaaaaa-0000-4000-8000-0000000000b1
MTG=aaaaaaaa-0000-4000-8000-0000000000e1
kt_psql -d "$DB" >/dev/null <<SQL || exit 1
insert into organizations (id, name, slug, contact_email) values ('$ORG', 'Bench', 'bench', 'b@example.be');
insert into buildings (id, name, address, city, postal_code, country, total_units, organization_id)
  values ('$BLD', 'Bench', 'Rue 1', 'Bruxelles', '1000', 'BE', 4, '$ORG');
insert into meetings (id, building_id, meeting_type, title, scheduled_date, location, organization_id)
  values ('$MTG', '$BLD', 'ordinary', 'AG', now(), 'Salle', '$ORG');
SQL

SECRET="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
mint() { # PAYLOAD_JSON (throwaway secret; on openssl's argv only in this bench)
    h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
    p=$(printf '%s' "$1" | b64url)
    s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)
    printf '%s.%s.%s' "$h" "$p" "$s"
}
EXP=$(($(date +%s) + 3600))
T_ADMIN=$(mint "{\"sub\":\"cccccccc-0000-4000-8000-00000000ad01\",\"role\":\"superadmin\",\"organization_id\":null,\"exp\":$EXP}")
T_SYNDIC=$(mint "{\"sub\":\"aaaaaaaa-0000-4000-8000-00000000a5a1\",\"role\":\"syndic\",\"organization_id\":\"$ORG\",\"exp\":$EXP}")

: >"$KT_TMP/api.log"
KOPRO_JWT_SECRET=$SECRET "$KOPRO_BIN/kopro-api" --listen 127.0.0.1:0 --threads "$THREADS" --quiet \
    2>"$KT_TMP/api.log" &
API_PID=$!
PORT=""
i=0
while [ $i -lt 100 ] && [ -z "$PORT" ]; do
    PORT=$(sed -n 's/^kopro-api: listening on .*:\([0-9][0-9]*\)$/\1/p' "$KT_TMP/api.log")
    [ -n "$PORT" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$PORT" ] || { cat "$KT_TMP/api.log"; kill "$API_PID"; exit 1; }

# CPU time (clock ticks) of a process: utime + stime (+ cutime + cstime with "all").
ticks() { awk -v all="${2:-}" '{ t = $14 + $15; if (all != "") t += $16 + $17; print t }' "/proc/$1/stat"; }
# CPU ticks of the whole private cluster: the postmaster, its reaped children, live backends.
pg_ticks() {
    pm=$(head -n 1 "$KT_TMP/pg/postmaster.pid")
    t=$(ticks "$pm" all)
    for f in /proc/[0-9]*/stat; do
        awk -v pm="$pm" '$4 == pm { print $14 + $15 }' "$f" 2>/dev/null
    done | awk -v t="$t" '{ t += $1 } END { print t }'
}
HZ=$(getconf CLK_TCK)

# run TAG LABEL TOKEN PATH BODY [CONNECTIONS]: one wrk run; prints p50/p99, requests/s and
# the CPU time kopro-api and PostgreSQL spent per job (robust on a shared machine).
run() {
    tag=$1 label=$2 token=$3 path=$4 body=$5
    cat >"$KT_TMP/$tag.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
    # THINK_MS: each connection pauses that long before its next request
    # (wrk's delay() hook), so 100 connections offer a set load instead of
    # saturating the machine.
    [ "${7:-0}" -gt 0 ] && printf 'function delay()\n  return %d\nend\n' "$7" >>"$KT_TMP/$tag.lua"
    chmod 600 "$KT_TMP/$tag.lua"
    before=$(kt_psql -d "$DB" -tAc "select count(*) from kopro.jobs")
    api0=$(ticks "$API_PID")
    pg0=$(pg_ticks)
    conns=${6:-$CONNECTIONS}
    # wrk inside a shell that reports the CPU ticks of its waited-for child (wrk)
    sh -c 'wrk "$@"; awk "{ print \$16 + \$17 }" /proc/$$/stat >"$0"' "$KT_TMP/$tag.wrkcpu" \
        -t"$([ "$conns" -ge 2 ] && echo 2 || echo 1)" -c"$conns" -d"${DURATION_S}s" --latency -s "$KT_TMP/$tag.lua" \
        "http://127.0.0.1:$PORT$path" >"$KT_TMP/$tag.out" 2>&1
    api1=$(ticks "$API_PID")
    pg1=$(pg_ticks)
    after=$(kt_psql -d "$DB" -tAc "select count(*) from kopro.jobs")
    jobs=$((after - before))
    cpu=$(awk -v a=$((api1 - api0)) -v p=$((pg1 - pg0)) -v w="$(cat "$KT_TMP/$tag.wrkcpu")" -v j="$jobs" -v hz="$HZ" \
        'BEGIN { if (j > 0) printf "api %.0f us + pg %.0f us + wrk %.0f us", a / hz / j * 1e6, p / hz / j * 1e6, w / hz / j * 1e6 }')
    p50=$(awk '$1 == "50%" {print $2}' "$KT_TMP/$tag.out")
    p99=$(awk '$1 == "99%" {print $2}' "$KT_TMP/$tag.out")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$KT_TMP/$tag.out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$KT_TMP/$tag.out")
    errs=$(grep -E '^  Socket errors' "$KT_TMP/$tag.out" || true)
    curl -s "http://127.0.0.1:$PORT/metrics" >"$KT_TMP/$tag.metrics"
    batches=$(awk '$1 == "kopro_api_enqueue_batches_total" {print $2}' "$KT_TMP/$tag.metrics")
    batched=$(awk '$1 == "kopro_api_enqueue_batched_jobs_total" {print $2}' "$KT_TMP/$tag.metrics")
    mean=$(awk -v j="$((batched - ${last_batched:-0}))" -v b="$((batches - ${last_batches:-0}))" \
        'BEGIN { if (b > 0) printf "%.1f", j / b; else print "-" }')
    last_batches=$batches last_batched=$batched
    printf '%-30s p50 %8s  p99 %8s  %8s req/s  jobs +%s  non-2xx %s  jobs/commit %s  CPU/job: %s %s\n' \
        "$label" "$p50" "$p99" "$rps" "$jobs" "${non2xx:-0}" "$mean" "$cpu" "$errs"
}

echo "kopro-api $("$KOPRO_BIN/kopro-api" --version | cut -d' ' -f2), $THREADS threads, wrk -t2 -c$CONNECTIONS -d${DURATION_S}s, $(nproc) cores"
run jobs "POST /api/v1/jobs (test.noop)" "$T_ADMIN" /api/v1/jobs '{"kind":"test.noop","payload":{}}'
run jobs1 "POST /api/v1/jobs, 1 connection" "$T_ADMIN" /api/v1/jobs '{"kind":"test.noop","payload":{}}' 1
run jobst "POST /api/v1/jobs, ${THINK_MS}ms think" "$T_ADMIN" /api/v1/jobs '{"kind":"test.noop","payload":{}}' \
    "$CONNECTIONS" "$THINK_MS"
if "$KOPRO_BIN/kopro-api" --kinds | cut -f1 | grep -qx pdf.minutes; then
    run minutes "POST /meetings/{id}/minutes" "$T_SYNDIC" "/api/v1/meetings/$MTG/minutes" '{"lang":"fr"}'
fi
kill -TERM "$API_PID"
wait "$API_PID"
