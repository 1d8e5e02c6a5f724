#!/bin/sh
# The KoproGo fixture: tests/fixtures/koprogo-schema.sql loads into PostgreSQL 15,
# build/tools/kopro-fixture-gen data loads into it, and the data keeps the
# invariants the other parts of kopro rely on (shares, balances, art. 3.88).
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/integration/lib.sh"

GEN="$KOPRO_TOOLS/kopro-fixture-gen"
SCHEMA="$KT_ROOT/tests/fixtures/koprogo-schema.sql"
DB=kt_fixtures_main
DB5=kt_fixtures_size5

kt_pg_start || exit 1

# q DB SQL — one value, unaligned.
q() {
    kt_psql -d "$1" -tAc "$2"
}

# zero "SQL counting violations" — passes when the count is 0.
zero() {
    n=$(q "$DB" "$1") || return 1
    [ "$n" = 0 ] || { echo "violations: $n"; echo "$1"; return 1; }
}

# equals "SQL" expected
equals() {
    v=$(q "$DB" "$1") || return 1
    [ "$v" = "$2" ] || { echo "got '$v', wanted '$2'"; return 1; }
}

fresh_db() {
    kt_psql -d postgres -c "drop database if exists $1" >/dev/null 2>&1
    kt_psql -d postgres -c "create database $1" >/dev/null
}

load() { # load DB SEED SIZE
    kt_psql -d "$1" -f "$SCHEMA" >/dev/null &&
        "$GEN" --seed "$2" --size "$3" | kt_psql -d "$1" >/dev/null
}

echo "== fixtures: schema and data load"
fresh_db $DB
kt_check "koprogo-schema.sql and seed 42 size 1 load with ON_ERROR_STOP" load $DB 42 1

MAIN="(select m.id from meetings m join buildings b on b.id = m.building_id
        where b.slug = 'residence-les-tilleuls-liege' and m.status = 'completed')"

echo "== fixtures: shares"
kt_check "one building, 40 lots, total_tantiemes 10000" \
    equals "select count(*) || ' ' || sum(total_units) || ' ' || sum(total_tantiemes) from buildings" "1 40 10000"
kt_check "unit quotas sum to total_tantiemes in every building" zero "
    select count(*) from buildings b
     where b.total_tantiemes <> (select sum(quota) from units u where u.building_id = b.id)"
kt_check "active unit_owners fractions sum to 1 for every unit" zero "
    select count(*) from units u
     where coalesce((select sum(ownership_percentage) from unit_owners uo
                      where uo.unit_id = u.id and uo.end_date is null), 0) <> 1"
kt_check "a couple co-owns one lot 0.5 + 0.5" equals "
    select count(*) from (select unit_id from v_current_unit_owners
                           where ownership_percentage = 0.5 group by unit_id having count(*) = 2) x" 1
kt_check "an owner holds several lots and a company owns one" equals "
    select (select count(*) > 0 from (select owner_id from v_current_unit_owners
                                      group by owner_id having count(*) > 2) x)
        || ' ' || (select count(*) from owners where last_name = 'Immo Delcourt SRL')" "true 1"
kt_check "a former owner has only an ended unit_owners row" equals "
    select count(*) from owners o where exists (select 1 from unit_owners uo where uo.owner_id = o.id and uo.end_date is not null)
       and not exists (select 1 from unit_owners uo where uo.owner_id = o.id and uo.end_date is null)" 1

echo "== fixtures: names come back intact"
for name in 'Łukasz Wiśniewski' 'Ayşe Şahin' 'Ingrid Ødegaard' 'Γιώργος Παπαδόπουλος' \
    'Иван Иванов' 'François Dubois' 'Jürgen Müller' 'Pieter Van den Broeck' "Siobhán O'Connor" \
    'Nguyễn Văn An'; do
    lit=$(printf '%s' "$name" | sed "s/'/''/g")
    kt_check "owner '$name' stored byte for byte" equals \
        "select count(*) from owners where first_name || ' ' || last_name = '$lit'" 1
done

echo "== fixtures: the main meeting"
kt_check "exactly one completed meeting and one scheduled meeting in building 1" equals "
    select string_agg(m.status::text, ',' order by m.status) from meetings m join buildings b on b.id = m.building_id
     where b.slug = 'residence-les-tilleuls-liege'" "scheduled,completed"
kt_check ">= 12 resolutions covering all four majority types" equals "
    select (count(*) >= 12) || ' ' || string_agg(distinct majority_required, ',' order by majority_required)
      from resolutions where meeting_id = $MAIN" "true Absolute,FourFifths,TwoThirds,Unanimity"
kt_check "adopted and rejected resolutions both occur" equals "
    select string_agg(distinct status, ',' order by status) from resolutions where meeting_id = $MAIN" "Adopted,Rejected"
kt_check "one vote per unit of each present or represented owner, voting_power = quota" zero "
    select count(*) from votes v join units u on u.id = v.unit_id
     where v.resolution_id in (select id from resolutions where meeting_id = $MAIN)
       and (v.voting_power <> u.quota
            or not exists (select 1 from convocation_recipients cr join convocations c on c.id = cr.convocation_id
                            where c.meeting_id = $MAIN and cr.owner_id = v.owner_id
                              and (cr.attendance_status = 'attended' or cr.proxy_owner_id is not null)))"
kt_check "every unit of a present or represented owner voted on every resolution" zero "
    select count(*) from resolutions r, v_current_unit_owners cu
      join convocation_recipients cr on cr.owner_id = cu.owner_id
      join convocations c on c.id = cr.convocation_id and c.meeting_id = $MAIN
     where r.meeting_id = $MAIN and cu.is_primary_contact
       and (cr.attendance_status = 'attended' or cr.proxy_owner_id is not null)
       and not exists (select 1 from votes v where v.resolution_id = r.id and v.unit_id = cu.unit_id)"
kt_check "proxy votes carry the holder named on the attendance list" zero "
    select count(*) from votes v
      join convocation_recipients cr on cr.owner_id = v.owner_id
      join convocations c on c.id = cr.convocation_id and c.meeting_id = $MAIN
     where v.resolution_id in (select id from resolutions where meeting_id = $MAIN)
       and v.proxy_owner_id is distinct from cr.proxy_owner_id"
kt_check "represented owners exist, each with a mandate; no holder has more than 3 (art. 3.87 §7)" equals "
    select (select count(*) > 0 from meeting_proxy_mandates where meeting_id = $MAIN)
        || ' ' || (select coalesce(max(n), 0) <= 3 from (select count(*) n from meeting_proxy_mandates
                                                         where meeting_id = $MAIN group by proxy_holder_id) x)
        || ' ' || (select count(*) > 0 from convocation_recipients cr join convocations c on c.id = cr.convocation_id
                    where c.meeting_id = $MAIN and cr.attendance_status = 'did_not_attend' and cr.proxy_owner_id is null)" \
    "true true true"
kt_check "stored tallies equal the sums of the votes" zero "
    select count(*) from resolutions r
      left join lateral (select count(*) filter (where vote_choice = 'Pour') cp,
                                count(*) filter (where vote_choice = 'Contre') cc,
                                count(*) filter (where vote_choice = 'Abstention') ca,
                                coalesce(sum(voting_power) filter (where vote_choice = 'Pour'), 0) pp,
                                coalesce(sum(voting_power) filter (where vote_choice = 'Contre'), 0) pc,
                                coalesce(sum(voting_power) filter (where vote_choice = 'Abstention'), 0) pa
                           from votes v where v.resolution_id = r.id) t on true
     where r.meeting_id = $MAIN
       and (r.vote_count_pour, r.vote_count_contre, r.vote_count_abstention,
            r.total_voting_power_pour, r.total_voting_power_contre, r.total_voting_power_abstention)
           <> (t.cp::int, t.cc::int, t.ca::int, t.pp, t.pc, t.pa)"
# Art. 3.88: abstentions are not votes cast; unanimity counts every share of
# the building, absent owners included; no votes cast means rejected.
kt_check "stored statuses agree with art. 3.88 recomputed from the votes" zero "
    select count(*) from resolutions r
      join meetings m on m.id = r.meeting_id
      join buildings b on b.id = m.building_id
      left join lateral (select coalesce(sum(voting_power) filter (where vote_choice = 'Pour'), 0) p,
                                coalesce(sum(voting_power) filter (where vote_choice = 'Contre'), 0) c
                           from votes v where v.resolution_id = r.id) t on true
     where m.status = 'completed'
       and r.status <> case
             when r.majority_required = 'Unanimity' then case when t.p = b.total_tantiemes then 'Adopted' else 'Rejected' end
             when t.p + t.c = 0 then 'Rejected'
             when r.majority_required = 'Absolute'   and t.p * 2 > t.p + t.c then 'Adopted'
             when r.majority_required = 'TwoThirds'  and t.p * 3 >= (t.p + t.c) * 2 then 'Adopted'
             when r.majority_required = 'FourFifths' and t.p * 5 >= (t.p + t.c) * 4 then 'Adopted'
             when r.majority_required in ('Absolute', 'TwoThirds', 'FourFifths') then 'Rejected'
             else 'unknown majority ' || r.majority_required end"
kt_check "quorum reached per art. 3.87 §5 and stored present_quotas match" zero "
    with p as (select cr.owner_id from convocation_recipients cr join convocations c on c.id = cr.convocation_id
                where c.meeting_id = $MAIN and (cr.attendance_status = 'attended' or cr.proxy_owner_id is not null)),
         q as (select coalesce(sum(quota), 0) s from v_current_unit_owners where is_primary_contact and owner_id in (select owner_id from p)),
         n as (select count(distinct owner_id) n from v_current_unit_owners)
    select count(*) from meetings m, q, n
     where m.id = $MAIN
       and (m.present_quotas <> q.s or not m.quorum_validated
            or not (((select count(*) from p) * 2 > n.n and q.s * 2 >= m.total_quotas) or q.s * 4 > m.total_quotas * 3))"

echo "== fixtures: money"
kt_check "every journal entry balances and each line is debit xor credit" zero "
    select count(*) from (select journal_entry_id from journal_entry_lines
                           group by journal_entry_id having sum(debit) <> sum(credit)) x"
kt_check "every journal line uses an account of the organization's chart" zero "
    select count(*) from journal_entry_lines l
     where not exists (select 1 from accounts a where a.code = l.account_code and a.organization_id = l.organization_id)"
kt_check "expenses span 12 months with PCN account codes and VAT that adds up" equals "
    select count(distinct date_trunc('month', expense_date at time zone 'Europe/Brussels'))
        || ' ' || count(*) filter (where account_code is null or amount_incl_vat <> amount_excl_vat + vat_amount or amount <> amount_incl_vat)
      from expenses" "12 0"
kt_check "contributions of each call sum exactly to the call's total" zero "
    select count(*) from call_for_funds c
     where c.total_amount <> (select sum(amount) from owner_contributions oc where oc.call_for_funds_id = c.id)"
kt_check "each owner's part is total × share, to the cent (largest remainder)" zero "
    with share as (select owner_id, sum(quota * ownership_percentage) s from v_current_unit_owners group by owner_id)
    select count(*) from owner_contributions oc
      join call_for_funds c on c.id = oc.call_for_funds_id
      join share on share.owner_id = oc.owner_id
     where abs(oc.amount - c.total_amount * share.s / 10000) >= 0.01"
kt_check "quarterly regular calls and one reserve call; some contributions unpaid" equals "
    select count(*) filter (where contribution_type = 'regular') || ' '
        || count(*) filter (where contribution_type <> 'regular') || ' '
        || (select count(*) > 0 from owner_contributions where payment_status = 'pending')
      from call_for_funds" "4 1 true"
kt_check "SEPA payments match their paid contributions in cents" zero "
    select count(*) from payments p join owner_contributions oc on oc.id = p.owner_contribution_id
     where p.amount_cents <> (oc.amount * 100)::bigint or oc.payment_status <> 'paid' or p.currency <> 'EUR'"
kt_check "documents, audit_logs, consent_records, budgets, etats_dates, reminders are present" equals "
    select (select count(*) > 0 from documents) and (select count(*) > 0 from audit_logs)
       and (select count(*) > 0 from consent_records) and (select count(*) > 0 from budgets)
       and (select count(*) > 0 from etats_dates) and (select count(*) > 0 from payment_reminders)" t

echo "== fixtures: determinism and size"
sum_of() { "$GEN" "$@" | sha256sum | cut -d' ' -f1; }
a=$(sum_of --seed 42 --size 3)
b=$(sum_of --seed 42 --size 3)
c=$(sum_of --seed 43 --size 3)
kt_check "same seed and size twice: identical sha256" test "$a" = "$b"
kt_check "a different seed: different output" test "$a" != "$c"
fresh_db $DB5
kt_check "size 5 loads" load $DB5 7 5
DB_SAVE=$DB
DB=$DB5
kt_check "size 5 gives 5 buildings, each with quotas summing to its tantièmes" equals "
    select count(*) || ' ' || count(*) filter (where total_tantiemes = (select sum(quota) from units u where u.building_id = b.id))
      from buildings b" "5 5"
kt_check "size 5: every journal entry balances, every call is fully split" zero "
    select (select count(*) from (select journal_entry_id from journal_entry_lines group by 1 having sum(debit) <> sum(credit)) x)
         + (select count(*) from call_for_funds c where c.total_amount <> (select sum(amount) from owner_contributions oc where oc.call_for_funds_id = c.id))"
DB=$DB_SAVE

fast_same() {
    "$GEN" --seed 7 --size 5 >"$KT_TMP/slow.sql" && "$GEN" --seed 7 --size 5 --fast >"$KT_TMP/fast.sql" &&
        [ "$(grep -c '^SET LOCAL session_replication_role = replica;$' "$KT_TMP/fast.sql")" = 1 ] &&
        grep -v '^SET LOCAL session_replication_role = replica;$' "$KT_TMP/fast.sql" | cmp - "$KT_TMP/slow.sql"
}
kt_check "--fast is the same data plus one SET LOCAL (loaded above with FK checks on)" fast_same

echo "== fixtures: command line"
kt_expect_exit "--help exits 0" 0 "$GEN" --help
kt_expect_exit "--size 0 is a usage error (exit 2)" 2 "$GEN" --size 0
kt_expect_exit "--seed abc is a usage error (exit 2)" 2 "$GEN" --seed abc
kt_expect_exit "an unknown option is a usage error (exit 2)" 2 "$GEN" --bogus

kt_psql -d postgres -c "drop database $DB" -c "drop database $DB5" >/dev/null 2>&1
kt_done
