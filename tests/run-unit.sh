#!/bin/sh
# Run every cmocka unit test binary in BUILD/tests and add up the results.
# usage: tests/run-unit.sh BUILD LABEL [LOG]
set -u
build=$1
label=$2
log=${3:-/dev/null}
passed=0
failed=0
status=0
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export KOPRO_TEMPLATE_DIR="$(pwd)/templates"
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END{print s+0}')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END{print s+0}')
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed, or a sanitizer stopped it
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        status=1
        printf '%s\n' "$out" | tail -n 40
        echo "FAIL  unit/$label $(basename "$t") (exit $rc)"
    else
        echo "ok    unit/$label $(basename "$t") ($p)"
    fi
done
echo "RESULT unit-$label $passed $failed" >>"$log"
echo "unit-$label: $passed passed, $failed failed"
exit $status
