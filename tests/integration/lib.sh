# Shared helpers for integration tests (POSIX sh). Source it:
#   . "$KT_ROOT/tests/integration/lib.sh"
# Everything lives under a private temporary directory removed at exit.
# Real components only: a throwaway PostgreSQL 15 cluster (initdb/pg_ctl on a
# unix socket, no TCP), a gpg keyring made here, the real kopro binaries.

set -u
: "${KT_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${KOPRO_BIN:=$KT_ROOT/build-asan/bin}"
: "${KOPRO_BIN_PLAIN:=$KT_ROOT/build/bin}"
: "${KOPRO_TOOLS:=$KT_ROOT/build/tools}"
export KT_ROOT KOPRO_BIN KOPRO_BIN_PLAIN KOPRO_TOOLS
export KOPRO_TEMPLATE_DIR="$KT_ROOT/templates"
export KOPRO_FONT_DIR="$(cd "$KOPRO_BIN_PLAIN/.." 2>/dev/null && pwd)/fonts"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$KT_ROOT/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Short paths: gpg-agent and PostgreSQL sockets have a 107-byte path limit.
KT_TMP=$(mktemp -d /tmp/kt.XXXXXX)
chmod 755 "$KT_TMP"
KT_OWN_PG=0
kt_checks=0
kt_fails=0

kt_cleanup() {
    if [ "$KT_OWN_PG" = 1 ]; then
        kt_as_pg "$PG_BIN/pg_ctl" -D "$KT_TMP/pg" -m immediate stop >/dev/null 2>&1
    fi
    [ -n "${GNUPGHOME:-}" ] && gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1
    [ -n "${KT_KEEP:-}" ] || rm -rf "$KT_TMP"
}
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

# Run a command as the PostgreSQL owner: initdb refuses to run as root.
kt_as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Start a private cluster unless the runner already shares one (PGHOST set).
kt_pg_start() {
    if [ -n "${KT_PG_SHARED:-}" ]; then
        return 0
    fi
    mkdir -p "$KT_TMP/pg" "$KT_TMP/sock"
    : >"$KT_TMP/pg.log"
    [ "$(id -u)" = 0 ] && chown postgres "$KT_TMP/pg" "$KT_TMP/sock" "$KT_TMP/pg.log"
    kt_as_pg "$PG_BIN/initdb" -D "$KT_TMP/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$KT_TMP/initdb.log" 2>&1 || { cat "$KT_TMP/initdb.log"; return 1; }
    kt_as_pg "$PG_BIN/pg_ctl" -D "$KT_TMP/pg" -w -l "$KT_TMP/pg.log" \
        -o "-c listen_addresses='' -c unix_socket_directories=$KT_TMP/sock -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$KT_TMP/pg.log"; return 1; }
    KT_OWN_PG=1
    export PGHOST="$KT_TMP/sock" PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
}

# The libpq URL of database $1 on the test cluster.
kt_db_url() {
    echo "postgresql:///$1?host=$PGHOST&port=$PGPORT&user=$PGUSER"
}

kt_psql() {
    psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# A throwaway database $1 with kopro's schema only (kopro-worker migrate), for
# queue and worker tests: exports KOPRO_DATABASE_URL for it and
# KOPRO_ENABLE_TEST_JOBS=1. kt_wait_sql then polls it.
kt_queue_db() {
    KT_QDB=$1
    kt_psql -d postgres -c "drop database if exists $1" -c "create database $1" >/dev/null 2>&1 || return 1
    KOPRO_DATABASE_URL=$(kt_db_url "$1")
    export KOPRO_DATABASE_URL KOPRO_ENABLE_TEST_JOBS=1
    "$KOPRO_BIN/kopro-worker" migrate >/dev/null
}

# Wait until the SQL boolean expression $1 is true in the kt_queue_db database,
# polling every 0.1 s, at most $2 polls (default 300). Returns 1 on timeout.
kt_wait_sql() {
    kt_n=0
    while [ $kt_n -lt "${2:-300}" ]; do
        [ "$(kt_psql -d "$KT_QDB" -tAc "select ($1)")" = t ] && return 0
        sleep 0.1
        kt_n=$((kt_n + 1))
    done
    return 1
}

# Create database $1 holding the KoproGo fixture schema and the seeded data
# (seed ${2:-42}, size ${3:-1}), plus kopro's own schema (kopro-worker migrate).
kt_fixture_db() {
    db=$1
    seed=${2:-42}
    size=${3:-1}
    tpl="kt_tpl_${seed}_${size}"
    if ! kt_psql -d postgres -tAc "select 1 from pg_database where datname='$tpl'" | grep -q 1; then
        kt_psql -d postgres -c "create database $tpl" || return 1
        kt_psql -d "$tpl" -f "$KT_ROOT/tests/fixtures/koprogo-schema.sql" >/dev/null || return 1
        "$KOPRO_TOOLS/kopro-fixture-gen" --seed "$seed" --size "$size" | kt_psql -d "$tpl" >/dev/null || return 1
    fi
    kt_psql -d postgres -c "create database $db template $tpl" || return 1
    KOPRO_DATABASE_URL=$(kt_db_url "$db") "$KOPRO_BIN_PLAIN/kopro-worker" migrate >/dev/null || return 1
}

# A fresh GNUPGHOME with one encryption key (ed25519/cv25519, no passphrase).
# Sets KT_FPR to its 40-hex fingerprint.
kt_gpg_setup() {
    export GNUPGHOME="$KT_TMP/gnupg"
    mkdir -p "$GNUPGHOME"
    chmod 700 "$GNUPGHOME"
    gpg --batch --quiet --passphrase '' --quick-gen-key "kopro test <test@kopro.invalid>" \
        future-default default never 2>/dev/null || return 1
    KT_FPR=$(gpg --batch --with-colons --list-keys test@kopro.invalid 2>/dev/null | awk -F: '/^fpr:/{print $10; exit}')
    export KT_FPR
}

# kt_check "description" command...  — records a passed or failed check.
kt_check() {
    desc=$1
    shift
    kt_checks=$((kt_checks + 1))
    if "$@" >"$KT_TMP/check.out" 2>&1; then
        echo "  ok   $desc"
    else
        kt_fails=$((kt_fails + 1))
        echo "  FAIL $desc"
        sed 's/^/       | /' "$KT_TMP/check.out" | tail -n 30
    fi
}

# kt_expect_fail "description" EXPECTED_EXIT command...  — a command must fail with that exit code.
kt_expect_exit() {
    desc=$1
    want=$2
    shift 2
    kt_checks=$((kt_checks + 1))
    "$@" >"$KT_TMP/check.out" 2>&1
    got=$?
    if [ "$got" = "$want" ]; then
        echo "  ok   $desc"
    else
        kt_fails=$((kt_fails + 1))
        echo "  FAIL $desc (exit $got, wanted $want)"
        sed 's/^/       | /' "$KT_TMP/check.out" | tail -n 30
    fi
}

# Last line of every test script: prints the count the runner adds up.
kt_done() {
    echo "CHECKS $((kt_checks - kt_fails)) $kt_fails"
    [ "$kt_fails" -eq 0 ]
}
