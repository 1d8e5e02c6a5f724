# Helpers for tests/integration/test_backup*.sh (sourced after lib.sh).

# A small database with varied types, a second schema and a few MB of
# not-trivially-compressible data.
kb_make_db() {
    kt_psql -d postgres -c "create database $1" >/dev/null || return 1
    kt_psql -d "$1" >/dev/null <<'SQL'
create table owners (id serial primary key, name text not null, email text, share int);
insert into owners (name, email, share)
select (array['Émile Dupont','Anneleen Van den Broeck','Jürgen Müller','SA Immo Liège'])[1 + i % 4]
       || ' ' || i, 'o' || i || '@example.be', 100 + i % 250
from generate_series(1, 2000) i;
create table expenses (id bigserial primary key, owner_id int references owners(id),
                       amount_cents bigint, label text, at timestamptz, blob bytea);
insert into expenses (owner_id, amount_cents, label, at, blob)
select 1 + i % 2000, (i * 7919) % 1000003, md5(i::text) || ' PCN 6' || (i % 100),
       timestamptz '2026-01-01 00:00+01' + i * interval '17 minutes',
       decode(md5(i::text) || md5((i * 3)::text), 'hex')
from generate_series(1, 30000) i;
create schema kopro;
create table kopro.jobs (id uuid primary key default gen_random_uuid(), kind text, payload jsonb);
insert into kopro.jobs (kind, payload) select 'pdf.minutes', jsonb_build_object('n', i) from generate_series(1, 50) i;
create table empty_one (x int);
SQL
}

# Equal databases: same user tables, and for each the same row count and
# ordered checksum. $3 (optional): a table whose content is not compared.
kb_same_db() {
    skip=${3:-}
    q="select n.nspname||'.'||c.relname from pg_class c join pg_namespace n on n.oid=c.relnamespace
       where c.relkind='r' and n.nspname not in ('pg_catalog','information_schema') and n.nspname not like 'pg_toast%' order by 1"
    a=$(kt_psql -d "$1" -tAc "$q")
    b=$(kt_psql -d "$2" -tAc "$q")
    [ "$a" = "$b" ] || { echo "tables differ: [$a] vs [$b]"; return 1; }
    for t in $a; do
        [ "$t" = "$skip" ] && continue
        s="select count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '-') from $t t"
        x=$(kt_psql -d "$1" -tAc "$s")
        y=$(kt_psql -d "$2" -tAc "$s")
        [ "$x" = "$y" ] || { echo "$t differs: $x vs $y"; return 1; }
    done
}

# Flip the bits of the byte at offset $2 of file $1.
kb_flip() {
    v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o' $((v ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# kb_said "description" TEXT — the output of the previous kt_expect_exit contains TEXT.
kb_said() {
    cp "$KT_TMP/check.out" "$KT_TMP/said.out"
    kt_check "$1" grep -q -- "$2" "$KT_TMP/said.out"
}
