#!/bin/sh
# make demo: the whole pipeline on real data, with the embedded defaults.
#   - a private PostgreSQL 15 cluster under ./var/ (unix socket only, no system service)
#   - the KoproGo fixture schema and seeded data, kopro's own schema
#   - a demo GPG key in ./var/gnupg, a local backup repository in ./var/backups
#   - minutes (FR and NL) and a backup enqueued, then drained by kopro-worker
# usage: mk/demo.sh BUILD        run the demo (again: it starts over with fresh data)
#        mk/demo.sh --stop BUILD stop the demo cluster
set -eu
stop=0
if [ "${1:-}" = "--stop" ]; then
    stop=1
    shift
fi
build=$1
top=$(pwd)
var="$top/var"
bin="$build/bin"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB=kopro_demo

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_running() {
    as_pg "$PG_BIN/pg_ctl" -D "$var/pg" status >/dev/null 2>&1
}

if [ "$stop" = 1 ]; then
    # gpg may have left an agent for var/gnupg; it holds nothing we need.
    [ -d "$var/gnupg" ] && gpgconf --homedir "$var/gnupg" --kill all >/dev/null 2>&1
    if [ -d "$var/pg" ] && pg_running; then
        as_pg "$PG_BIN/pg_ctl" -D "$var/pg" -m fast -w stop >/dev/null
        echo "demo: PostgreSQL cluster in $var/pg stopped"
    else
        echo "demo: no running cluster in $var/pg"
    fi
    exit 0
fi

step() { printf '\n== %s\n' "$*"; }
t0=$(date +%s)

# ---------------------------------------------------------------- cluster
step "PostgreSQL 15 cluster in var/pg (socket in var/run)"
mkdir -p "$var/run" "$var/documents" "$var/backups"
chmod 700 "$var/run"
if [ ! -f "$var/pg/PG_VERSION" ]; then
    mkdir -p "$var/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$var/pg" "$var/run"
    as_pg "$PG_BIN/initdb" -D "$var/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    echo "initialised"
fi
[ "$(id -u)" = 0 ] && chown postgres "$var/run"
if ! pg_running; then
    touch "$var/pg.log"
    [ "$(id -u)" = 0 ] && chown postgres "$var/pg.log"
    as_pg "$PG_BIN/pg_ctl" -D "$var/pg" -w -l "$var/pg.log" \
        -o "-c listen_addresses='' -c unix_socket_directories=$var/run" start >/dev/null
    echo "started"
else
    echo "already running"
fi
export PGHOST="$var/run" PGPORT=5432 PGUSER=postgres
url="postgresql:///$DB?host=$var/run&port=5432&user=postgres"

# ---------------------------------------------------------------- data
step "KoproGo fixture schema and seeded data (database $DB)"
PGOPTIONS='-c client_min_messages=warning' psql -X -q -d postgres -c "drop database if exists $DB with (force)" >/dev/null
psql -X -q -d postgres -c "create database $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f tests/fixtures/koprogo-schema.sql >/dev/null
"$build/tools/kopro-fixture-gen" --seed 42 --size 1 | psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null
psql -X -At -d "$DB" -c "select format('%s buildings, %s lots, %s owners, %s meetings, %s resolutions, %s votes',
    (select count(*) from buildings), (select count(*) from units), (select count(*) from owners),
    (select count(*) from meetings), (select count(*) from resolutions), (select count(*) from votes))"

# ---------------------------------------------------------------- gpg
step "Demo GPG key in var/gnupg"
export GNUPGHOME="$var/gnupg"
if [ ! -d "$GNUPGHOME" ]; then
    mkdir -p "$GNUPGHOME"
    chmod 700 "$GNUPGHOME"
fi
if ! gpg --batch --list-keys demo@kopro.invalid >/dev/null 2>&1; then
    echo "creating the key (ed25519/cv25519, no passphrase: a demo only)"
    gpg --batch --quiet --passphrase '' --quick-gen-key "kopro demo backups <demo@kopro.invalid>" \
        future-default default never 2>/dev/null
fi
fpr=$(gpg --batch --with-colons --list-keys demo@kopro.invalid 2>/dev/null | awk -F: '/^fpr:/{print $10; exit}')
echo "recipient $fpr"

# ---------------------------------------------------------------- config
cat >"$var/kopro.conf" <<CONF
# written by make demo; use it with KOPRO_CONFIG=$var/kopro.conf
KOPRO_DATABASE_URL=$url
KOPRO_DOCUMENT_STORE=file://$var/documents
KOPRO_BACKUP_REPO=file://$var/backups
KOPRO_BACKUP_RECIPIENTS=$fpr
KOPRO_GNUPGHOME=$var/gnupg
KOPRO_TEMPLATE_DIR=$top/templates
KOPRO_FONT_DIR=$build/fonts
CONF
chmod 600 "$var/kopro.conf"
export KOPRO_CONFIG="$var/kopro.conf"

# ---------------------------------------------------------------- queue
step "kopro schema (kopro-worker migrate)"
"$bin/kopro-worker" migrate

meeting=$(psql -X -At -d "$DB" -c "select id from meetings where status = 'completed'
    order by scheduled_date, id limit 1")
org=$(psql -X -At -d "$DB" -c "select organization_id from meetings where id = '$meeting'")
step "Enqueue: minutes FR + NL of meeting $meeting, and a backup"
"$bin/kopro-queue" enqueue pdf.minutes --org "$org" --payload "{\"meeting_id\":\"$meeting\",\"lang\":\"fr\"}"
"$bin/kopro-queue" enqueue pdf.minutes --org "$org" --payload "{\"meeting_id\":\"$meeting\",\"lang\":\"nl\"}"
"$bin/kopro-queue" enqueue backup.run --payload '{}'

step "kopro-worker run --once (drains the queue)"
"$bin/kopro-worker" run --once
# Encryption needs only public keys: leave no gpg-agent running behind the demo.
gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true

step "Jobs"
"$bin/kopro-queue" list

step "Backups in var/backups"
"$bin/kopro-backup" list --repo "file://$var/backups"

# ---------------------------------------------------------------- summary
failed=$(psql -X -At -d "$DB" -c "select count(*) from kopro.jobs where state <> 'succeeded'")
step "Result ($(( $(date +%s) - t0 ))s)"
echo "Minutes (PDF):"
find "$var/documents" -name '*.pdf' -newer "$var/kopro.conf" | sort | while read -r f; do
    pages=$(pdfinfo "$f" 2>/dev/null | awk '/^Pages:/{print $2}')
    printf '  %s  (%s pages, %s bytes)\n' "$f" "$pages" "$(wc -c <"$f" | tr -d ' ')"
done
echo "Open one with:   xdg-open FILE   or read it with:   pdftotext -layout FILE - | less"
echo "Backups:         KOPRO_CONFIG=$var/kopro.conf $bin/kopro-backup list"
echo "Restore by hand: GNUPGHOME=$var/gnupg gpg -d $var/backups/data/ID.dump.zst.gpg | zstd -d | pg_restore -d NEWDB"
echo "Use the CLIs:    export KOPRO_CONFIG=$var/kopro.conf; $bin/kopro-queue list"
echo "Stop the cluster: make demo-stop"
if [ "$failed" != 0 ]; then
    echo "demo: $failed job(s) did not succeed; see 'kopro-queue list' above" >&2
    exit 1
fi
