#!/bin/sh
# valgrind must be clean on the CLIs: no invalid access, no use of
# uninitialised memory, no definite or indirect leak, on real runs of each
# binary (normal build) against the fixture database and a real gpg keyring.
. "$KT_ROOT/tests/integration/lib.sh"

kt_pg_start
kt_fixture_db kt_valgrind
kt_gpg_setup
export KOPRO_DATABASE_URL=$(kt_db_url kt_valgrind)
B=$KOPRO_BIN_PLAIN
meeting=$(kt_psql -d kt_valgrind -tAc "select id from meetings where status = 'completed' order by scheduled_date, id limit 1")
user=$(kt_psql -d kt_valgrind -tAc "select u.id from users u join owners o on o.user_id = u.id order by u.id limit 1")
mkdir -p "$KT_TMP/repo" "$KT_TMP/out"

# vg NAME command... : run under memcheck; exit 99 on any error it reports.
vg() {
    name=$1
    shift
    t0=$(date +%s)
    valgrind --quiet --error-exitcode=99 --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --track-fds=no --child-silent-after-fork=yes --trace-children=no \
        --suppressions="$KT_ROOT/tests/valgrind.supp" \
        --log-file="$KT_TMP/vg-$name.log" "$@" >"$KT_TMP/vg-$name.out" 2>&1
    rc=$?
    echo "$name $(( $(date +%s) - t0 ))s" >>"$KT_TMP/vg-times"
    if [ "$rc" = 99 ]; then
        cat "$KT_TMP/vg-$name.log"
        return 1
    fi
    return 0
}

# Every CLI below runs for real; kopro-api is a daemon, so its --help stands in.
kt_check "valgrind: kopro-api --help" vg api-help "$B/kopro-api" --help
kt_check "valgrind: kopro-worker migrate" vg migrate "$B/kopro-worker" migrate
kt_check "valgrind: kopro-pdf minutes (fr)" vg minutes "$B/kopro-pdf" minutes --meeting "$meeting" --lang fr -o "$KT_TMP/out/pv.pdf"
kt_check "  the PDF was written" test -s "$KT_TMP/out/pv.pdf"
kt_check "valgrind: kopro-pdf with an unknown meeting (error path)" vg minutes-404 sh -c \
    "\"$B/kopro-pdf\" minutes --meeting 00000000-0000-4000-8000-000000000000 -o \"$KT_TMP/out/x.pdf\"; [ \$? = 3 ]"
kt_check "valgrind: kopro-queue enqueue" vg enqueue "$B/kopro-queue" enqueue pdf.minutes --payload "{\"meeting_id\":\"$meeting\",\"lang\":\"nl\"}"
kt_check "valgrind: kopro-queue list --json" vg list "$B/kopro-queue" list --json
kt_check "valgrind: kopro-backup run (file://)" vg backup-run "$B/kopro-backup" run --repo "file://$KT_TMP/repo" --recipient "$KT_FPR" --gnupghome "$GNUPGHOME"
kt_check "valgrind: kopro-backup list" vg backup-list "$B/kopro-backup" list --repo "file://$KT_TMP/repo"
kt_check "valgrind: kopro-backup verify --latest" vg backup-verify "$B/kopro-backup" verify --latest --repo "file://$KT_TMP/repo" --gnupghome "$GNUPGHOME"
if [ -x "$B/kopro-gdpr" ] && [ -n "$user" ]; then
    kt_check "valgrind: kopro-gdpr export" vg gdpr "$B/kopro-gdpr" export --user "$user" -o "$KT_TMP/out/export.zip" --quiet
fi
sort -k2 -t' ' -rn "$KT_TMP/vg-times" | head -n 5 | sed 's/^/  slowest: /'
kt_done
