#!/bin/sh
# make check: every stage runs even if an earlier one failed; the last line is
# the total "N passed, N failed" and the exit status is non-zero on any failure.
# usage: tests/check.sh BUILD ASAN_BUILD TSAN_BUILD
set -u
build=$1
asan=$2
tsan=$3
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
# kopro-api is the one threaded server (polling, handler and group-commit
# threads): its whole test again on the ThreadSanitizer build. A race report
# makes the server exit 66 at SIGTERM, which its checks catch. setarch -R:
# without address randomisation, so that TSan's fixed memory layout holds on
# kernels that randomise more bits than gcc 12's TSan expects.
KT_STAGE=integration-tsan setarch "$(uname -m)" -R \
    sh tests/run-integration.sh "$build" "$tsan" "$log" test_api || status=1

passed=$(awk '/^RESULT /{p+=$3} END{print p+0}' "$log")
failed=$(awk '/^RESULT /{f+=$4} END{print f+0}' "$log")
echo
grep '^RESULT ' "$log" | awk '{printf "  %-24s %5d passed, %d failed\n", $2, $3, $4}'
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
