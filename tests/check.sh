#!/bin/sh
# make check: every stage runs even if an earlier one failed; the last line is
# the total "N passed, N failed" and the exit status is non-zero on any failure.
# usage: tests/check.sh BUILD ASAN_BUILD
set -u
build=$1
asan=$2
log="$build/check.log"
: >"$log"
status=0

# Every public function in lib/include/kopro/*.h has a doc comment.
if awk -f tests/check-header-docs.awk lib/include/kopro/*.h; then
    echo "ok    header doc comments"
    echo "RESULT header-docs 1 0" >>"$log"
else
    echo "FAIL  header doc comments"
    echo "RESULT header-docs 0 1" >>"$log"
    status=1
fi

sh tests/run-unit.sh "$build" normal "$log" || status=1
sh tests/run-unit.sh "$asan" asan "$log" || status=1
sh tests/run-integration.sh "$build" "$asan" "$log" || status=1

passed=$(awk '/^RESULT /{p+=$3} END{print p+0}' "$log")
failed=$(awk '/^RESULT /{f+=$4} END{print f+0}' "$log")
echo
grep '^RESULT ' "$log" | awk '{printf "  %-24s %5d passed, %d failed\n", $2, $3, $4}'
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
