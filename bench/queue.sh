#!/bin/sh
# bench/queue.sh — kopro's queue against graphile-worker 0.17.3 (npm) on the
# same private PostgreSQL 15 cluster (unix socket, fsync=off), in the same run:
#   1. throughput draining N no-op jobs (default 200,000) with 2 worker
#      processes, each side "batched" (kopro: claims and completions of up to
#      512 jobs; graphile-worker: its local queue of 500 and batched
#      completions) and "unbatched", one commit per job (kopro --no-batch;
#      graphile-worker without local queue or completion batching);
#   2. enqueue -> start latency over L sequential jobs (default 1,000), both
#      measured on the database clock: the job's handler inserts
#      clock_timestamp() (kopro: test.record; graphile: an equivalent task);
#   3. idle CPU and RSS of one worker over IDLE_S seconds.
# usage: bench/queue.sh BUILD   (env: N=200000 C=4 L=1000 IDLE_S=10 ROUNDS=3
#                                      UNBATCHED_ROUNDS=1 ANALYZE=0)
# ANALYZE=1 runs ANALYZE after each bulk insert: both sides then plan with
# fresh statistics (graphile-worker's plans depend on them; kopro's do not).
set -u
BUILD=$(cd "${1:-build}" && pwd)
KT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
KOPRO_BIN=$BUILD/bin
KOPRO_BIN_PLAIN=$BUILD/bin
KOPRO_TOOLS=$BUILD/tools
export KT_ROOT KOPRO_BIN KOPRO_BIN_PLAIN KOPRO_TOOLS
. "$KT_ROOT/tests/integration/lib.sh"
N=${N:-200000}
C=${C:-4}
L=${L:-1000}
IDLE_S=${IDLE_S:-10}
ROUNDS=${ROUNDS:-3}
UNBATCHED_ROUNDS=${UNBATCHED_ROUNDS:-1}
ANALYZE=${ANALYZE:-0}
NODE_DIR="$BUILD/bench-node"

command -v node >/dev/null || { echo "bench/queue: node is missing"; exit 1; }
if [ ! -d "$NODE_DIR/node_modules/graphile-worker" ]; then
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error graphile-worker@0.17.3) || exit 1
fi
export NODE_PATH="$NODE_DIR/node_modules"
G="node $KT_ROOT/bench/queue_graphile.js"

kt_pg_start || exit 1
DB=kb_queue
kt_psql -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null 2>&1 || exit 1
KOPRO_DATABASE_URL=$(kt_db_url "$DB")
DATABASE_URL="postgres:///$DB?host=$PGHOST&port=$PGPORT&user=$PGUSER"
export KOPRO_DATABASE_URL DATABASE_URL KOPRO_ENABLE_TEST_JOBS=1
q() { kt_psql -d $DB -tAc "$1"; }
"$KOPRO_BIN/kopro-worker" migrate >/dev/null || exit 1
$G migrate || exit 1
q "create schema kopro_test; create table kopro_test.records (job_id uuid, attempt int, pid int, at timestamptz default clock_timestamp())" >/dev/null
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
pct() { sort -n | awk '{ v[NR] = $1 } END { printf "p50 %.2f ms, p99 %.2f ms", v[int(NR * 0.50 + 0.5)], v[int(NR * 0.99 + 0.5)] }'; }

echo "== throughput: $N no-op jobs, 2 worker processes x $C"
# Each side drains a table filled by one bulk INSERT just before, by default
# with no ANALYZE in between (as after a real burst): statistics are stale.
# Before each timed drain: no dead rows of the previous run left for
# autovacuum to clean up during this one, and no checkpoint due.
settle() {
    q "truncate kopro.jobs" >/dev/null
    q "vacuum" >/dev/null 2>&1
    q "checkpoint" >/dev/null
}
kopro_drain() { # MODE: prints jobs/s
    flag=""
    [ "$1" = unbatched ] && flag="--no-batch"
    settle
    q "insert into kopro.jobs (kind) select 'test.noop' from generate_series(1, $N)" >/dev/null
    [ "$ANALYZE" = 1 ] && q "analyze" >/dev/null
    t0=$(now)
    "$KOPRO_BIN/kopro-worker" run --once --concurrency "$C" --prune-after 0 $flag 2>/dev/null &
    "$KOPRO_BIN/kopro-worker" run --once --concurrency "$C" --prune-after 0 $flag 2>/dev/null &
    wait
    t1=$(now)
    ok=$(q "select count(*) from kopro.jobs where state = 'succeeded'")
    [ "$ok" = "$N" ] || echo "kopro: only $ok of $N jobs succeeded" >&2
    rate "$N" "$t0" "$t1"
}
graphile_drain() { # MODE: prints jobs/s
    settle
    $G enqueue "$N" || exit 1
    [ "$ANALYZE" = 1 ] && q "analyze" >/dev/null
    t0=$(now)
    $G drain "$C" "$1" & $G drain "$C" "$1" &
    wait
    t1=$(now)
    rate "$N" "$t0" "$t1"
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Rounds alternate the two sides (A B A B ...), so that a drift of the
# machine's speed touches both; the medians are compared.
for mode in batched unbatched; do
    rounds=$ROUNDS
    [ "$mode" = unbatched ] && rounds=$UNBATCHED_ROUNDS
    [ "$rounds" -ge 1 ] || continue
    ks="" gs=""
    for r in $(seq "$rounds"); do
        k=$(kopro_drain $mode)
        g=$(graphile_drain $mode)
        echo "round $r $mode: kopro $k jobs/s, graphile $g jobs/s"
        ks="$ks $k" gs="$gs $g"
    done
    k=$(echo "$ks" | median) g=$(echo "$gs" | median)
    echo "$mode (median of $rounds): kopro $k jobs/s, graphile-worker $g jobs/s, ratio $(awk -v k="$k" -v g="$g" 'BEGIN { printf "%.2f", k / g }')"
done

echo "== enqueue -> start latency, $L sequential jobs"
settle
"$KOPRO_BIN/kopro-worker" run --concurrency 1 --poll-ms 1000 2>/dev/null &
wk=$!
sleep 1
# The same Node driver (one persistent connection, 1 ms polling) for both.
$G kopro-latency "$L" >"$KT_TMP/kopro.lat" || exit 1
kill -TERM $wk; wait $wk
echo "kopro    $(pct <"$KT_TMP/kopro.lat")"
settle
$G latency "$L" >"$KT_TMP/g.lat" || exit 1
echo "graphile $(pct <"$KT_TMP/g.lat")"

echo "== idle worker, ${IDLE_S} s"
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
"$KOPRO_BIN/kopro-worker" run --concurrency 2 2>/dev/null &
wk=$!
sleep 2
a=$(ticks $wk); sleep "$IDLE_S"; b=$(ticks $wk)
echo "kopro    cpu $(awk -v t=$((b - a)) -v hz=$HZ -v s=$IDLE_S 'BEGIN { printf "%.2f%%", 100 * t / hz / s }'), rss $(rss $wk) kB"
kill -TERM $wk; wait $wk
$G idle $((IDLE_S + 4)) 2>/dev/null &
gw=$!
sleep 2
gp=$(pgrep -n -f "queue_graphile.js idle")
a=$(ticks $gp); sleep "$IDLE_S"; b=$(ticks $gp)
echo "graphile cpu $(awk -v t=$((b - a)) -v hz=$HZ -v s=$IDLE_S 'BEGIN { printf "%.2f%%", 100 * t / hz / s }'), rss $(rss $gp) kB"
wait $gw
