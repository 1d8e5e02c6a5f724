#!/bin/sh
# cron/: the systemd units and timers pass `systemd-analyze verify`, the worker
# and the API score <= 2.0 in `systemd-analyze security --offline=true`, every
# OnCalendar is accepted by `systemd-analyze calendar` (all offline: no running
# systemd needed), every unit has OnFailure= wired to kopro-alert@, the
# alert script runs its configurable command, and cron/kopro.cron has the same
# schedule and valid crontab lines.
. "$KT_ROOT/tests/integration/lib.sh"

C="$KT_ROOT/cron"
U="$KT_TMP/units"
mkdir -p "$U"
# Point the units at the binaries just built (installed paths: /usr/local/...).
for f in "$C"/*.service "$C"/*.timer; do
    sed -e "s|/usr/local/bin/|$KOPRO_BIN_PLAIN/|g" -e "s|/usr/local/lib/kopro/|$C/|g" "$f" >"$U/$(basename "$f")"
done
cd "$U" || exit 1

kt_check "systemd-analyze verify: every unit and timer is clean" sh -c 'out=$(systemd-analyze verify *.service *.timer 2>&1); echo "$out"; test -z "$out"'
for u in kopro-worker kopro-api; do
    systemd-analyze security --offline=true "$u.service" >"$KT_TMP/sec.$u" 2>&1
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$KT_TMP/sec.$u")
    echo "  $u.service exposure: ${score:-?}"
    kt_check "systemd-analyze security: $u.service <= 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
done
kt_check "kopro-worker.service is Type=notify with a watchdog and restart on failure" sh -c "grep -qx 'Type=notify' kopro-worker.service && grep -q '^WatchdogSec=' kopro-worker.service && grep -qx 'Restart=on-failure' kopro-worker.service"
kt_check "secrets come in as credentials (LoadCredential)" sh -c "grep -q '^LoadCredential=' kopro-worker.service && grep -q '^LoadCredential=jwt_secret:' kopro-api.service"
kt_check "every kopro service wires OnFailure= to kopro-alert@" sh -c 'for f in kopro-*.service; do case $f in kopro-alert@*) continue;; esac; grep -qx "OnFailure=kopro-alert@%n.service" "$f" || { echo "$f"; exit 1; }; done'
kt_check "every timer: Persistent=true and RandomizedDelaySec" sh -c 'for f in *.timer; do grep -qx "Persistent=true" "$f" && grep -q "^RandomizedDelaySec=" "$f" || { echo "$f"; exit 1; }; done'
kt_check "the backup runs daily at 02:00 Europe/Brussels" grep -qx 'OnCalendar=\*-\*-\* 02:00:00 Europe/Brussels' kopro-backup.timer
kt_check "the weekly verify runs verify --latest --restore-check" grep -q 'kopro-backup verify --latest --restore-check' kopro-backup-verify.service
grep -h '^OnCalendar=' *.timer | sed 's/^OnCalendar=//' >"$KT_TMP/calendars"
kt_check "there are timers to check" test -s "$KT_TMP/calendars"
while IFS= read -r cal; do
    kt_check "systemd-analyze calendar accepts '$cal'" systemd-analyze calendar "$cal"
done <"$KT_TMP/calendars"
kt_check "02:00 Brussels is 01:00 UTC in winter" sh -c "TZ=UTC systemd-analyze calendar --base-time='2027-01-10 12:00:00 UTC' '*-*-* 02:00:00 Europe/Brussels' | grep -q 'Next elapse: Mon 2027-01-11 01:00:00 UTC'"
kt_check "... and 00:00 UTC in summer" sh -c "TZ=UTC systemd-analyze calendar --base-time='2027-07-10 12:00:00 UTC' '*-*-* 02:00:00 Europe/Brussels' | grep -q 'Next elapse: Sun 2027-07-11 00:00:00 UTC'"

# kopro-alert: the report reaches the configured command.
kt_check "kopro-alert pipes the report to KOPRO_ALERT_COMMAND" sh -c "KOPRO_ALERT_COMMAND='cat > $KT_TMP/alert.txt' '$C/kopro-alert' kopro-backup.service && grep -q '^kopro: kopro-backup.service failed on ' '$KT_TMP/alert.txt'"
kt_expect_exit "kopro-alert without a unit is a usage error" 2 sh -c "'$C/kopro-alert' 2>/dev/null || exit 2"

# cron/kopro.cron: same schedule, well-formed lines (5 time fields, a user, a command).
kt_check "kopro.cron lines are well formed" sh -c "grep -v '^#' '$C/kopro.cron' | grep -v '^[A-Z_]*=' | grep -v '^\$' | awk 'NF < 7 { print; bad = 1 } END { exit bad }'"
kt_check "kopro.cron schedules the backup at 02:00 Brussels time" sh -c "grep -q '^CRON_TZ=Europe/Brussels' '$C/kopro.cron' && grep -q '^0 2 \\* \\* \\*  kopro  .*kopro-backup run' '$C/kopro.cron'"
kt_check "kopro.cron has verify, prune, GDPR purge, worker and API" sh -c "for w in 'verify --latest --restore-check' 'kopro-backup prune' 'gdpr.purge' 'kopro-worker run' 'kopro-api'; do grep -q -- \"\$w\" '$C/kopro.cron' || { echo \"\$w\"; exit 1; }; done"
kt_done
