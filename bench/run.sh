#!/bin/sh
# make bench: run every bench/<area>.sh in turn. Each measures kopro against
# the peer tools its issue names, in the same run, and prints ratios and
# medians. Figures vary with the machine: quote medians and ratios.
# usage: bench/run.sh BUILD [AREA...]
set -u
build=$1
shift
areas=${*:-$(ls bench/*.sh | sed -e 's|bench/||' -e 's|\.sh$||' | grep -v '^run$')}
status=0
for a in $areas; do
    [ -f "bench/$a.sh" ] || { echo "bench: no bench/$a.sh" >&2; status=2; continue; }
    printf '\n######## bench/%s.sh\n' "$a"
    sh "bench/$a.sh" "$build" || status=1
done
exit $status
