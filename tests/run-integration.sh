#!/bin/sh
# Run tests/integration/test_*.sh against the real binaries (the ASan/UBSan
# build), one shared throwaway PostgreSQL cluster, and real gpg.
# usage: tests/run-integration.sh BUILD ASAN_BUILD [LOG] [PATTERN]
# (KT_STAGE names the stage in LOG's RESULT line; default "integration".)
set -u
build=$(cd "$1" && pwd)
asan=$(cd "$2" && pwd)
log=${3:-/dev/null}
pattern=${4:-}
KT_ROOT=$(pwd)
KOPRO_BIN="$asan/bin"
KOPRO_BIN_PLAIN="$build/bin"
KOPRO_TOOLS="$build/tools"
export KT_ROOT KOPRO_BIN KOPRO_BIN_PLAIN KOPRO_TOOLS

# One cluster for the whole run; each test makes its own databases.
. "$KT_ROOT/tests/integration/lib.sh"
kt_pg_start || { echo "RESULT ${KT_STAGE:-integration} 0 1" >>"$log"; echo "${KT_STAGE:-integration}: cannot start PostgreSQL"; exit 1; }
export KT_PG_SHARED=1

passed=0
failed=0
status=0
for t in tests/integration/test_*.sh; do
    name=$(basename "$t" .sh)
    case "$name" in *"$pattern"*) ;; *) continue ;; esac
    start=$(date +%s)
    out=$(sh "$t" 2>&1)
    rc=$?
    secs=$(( $(date +%s) - start ))
    p=$(printf '%s\n' "$out" | awk '/^CHECKS /{p+=$2} END{print p+0}')
    f=$(printf '%s\n' "$out" | awk '/^CHECKS /{f+=$3} END{print f+0}')
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
        status=1
        printf '%s\n' "$out" | grep -v '^CHECKS ' | tail -n 60
        echo "FAIL  integration $name (${secs}s, exit $rc)"
    else
        printf '%s\n' "$out" | grep -v '^CHECKS '
        echo "ok    integration $name (${secs}s, $p checks)"
    fi
done
echo "RESULT ${KT_STAGE:-integration} $passed $failed" >>"$log"
echo "integration: $passed passed, $failed failed"
exit $status
