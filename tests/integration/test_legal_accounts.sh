#!/bin/sh
# The PCN accounting engine on KoproGo's data: job accounts.statements run by
# the real kopro-worker on the fixture database (fiscal year 2025). The
# result is cross-checked in SQL against journal_entry_lines, expenses and
# owner_contributions: class-6 totals, every account's owner parts summing to
# the cent, each owner within a cent per account of their exact share, the
# working-capital and reserve-fund calls, and the expenses fallback.
. "$(dirname "$0")/lib.sh"

kt_pg_start || exit 1
kt_fixture_db kt_accounts || exit 1
export KOPRO_DATABASE_URL=$(kt_db_url kt_accounts)
sql() { kt_psql -d kt_accounts -tAc "$1"; }

B=$(sql "SELECT id FROM buildings WHERE slug = 'residence-les-tilleuls-liege'")
START="('2025-01-01'::timestamp AT TIME ZONE 'Europe/Brussels')"
END="('2026-01-01'::timestamp AT TIME ZONE 'Europe/Brussels')"

# run_job PAYLOAD: enqueue, run the worker once, print the job id
run_job() {
    j=$("$KOPRO_BIN/kopro-queue" enqueue accounts.statements --payload "$1") || return 1
    "$KOPRO_BIN/kopro-worker" run --once --concurrency 1 >"$KT_TMP/worker.log" 2>&1 || {
        cat "$KT_TMP/worker.log" >&2
        return 1
    }
    echo "$j"
}
res() { sql "SELECT result $1 FROM kopro.jobs WHERE id = '$J'"; }

J=$(run_job "{\"building_id\":\"$B\",\"from\":\"2025-01-01\",\"to\":\"2025-12-31\"}")
kt_check "job accounts.statements succeeds" [ "$(sql "SELECT state FROM kopro.jobs WHERE id = '$J'")" = succeeded ]
kt_check "source is journal_entry_lines" [ "$(res "->>'source'")" = journal_entry_lines ]

want=$(sql "SELECT ((sum(l.debit) - sum(l.credit)) * 100)::bigint
              FROM journal_entry_lines l JOIN journal_entries e ON e.id = l.journal_entry_id
             WHERE e.building_id = '$B' AND left(l.account_code, 1) = '6'
               AND e.entry_date >= $START AND e.entry_date < $END")
kt_check "class-6 total equals the journal ($want cents)" [ "${want:-0}" -gt 0 -a "$(res "->>'total_charges_cents'")" = "$want" ]
want=$(sql "SELECT ((sum(l.credit) - sum(l.debit)) * 100)::bigint
              FROM journal_entry_lines l JOIN journal_entries e ON e.id = l.journal_entry_id
             WHERE e.building_id = '$B' AND left(l.account_code, 1) = '7'
               AND e.entry_date >= $START AND e.entry_date < $END")
kt_check "class-7 total equals the journal ($want cents)" [ "$(res "->>'total_income_cents'")" = "$want" ]

ACC="(SELECT a->>'code' AS code, (a->>'amount_cents')::bigint AS amt
        FROM kopro.jobs j, jsonb_array_elements(j.result->'accounts') a
       WHERE j.id = '$J' AND (a->>'class')::int = 6)"
PARTS="(SELECT l->>'code' AS code, sum((l->>'owner_cents')::bigint) AS s
          FROM kopro.jobs j, jsonb_array_elements(j.result->'statements') st,
               jsonb_array_elements(st->'lines') l WHERE j.id = '$J' GROUP BY 1)"
STMTS="(SELECT st FROM kopro.jobs j, jsonb_array_elements(j.result->'statements') st WHERE j.id = '$J')"
n_acc=$(sql "SELECT count(*) FROM $ACC x")
unlabelled=$(sql "SELECT count(*) FROM kopro.jobs j, jsonb_array_elements(j.result->'accounts') a WHERE j.id = '$J' AND a->>'label' IS NULL")
kt_check "several class-6 accounts ($n_acc), labels from the accounts table" [ "$n_acc" -ge 3 -a "$unlabelled" = 0 ]
kt_check "every account's owner parts sum to it, to the cent" \
    [ "$(sql "SELECT count(*) FROM $ACC acc LEFT JOIN $PARTS p USING (code) WHERE p.s IS DISTINCT FROM acc.amt")" = 0 ]
kt_check "owners' shares sum to the whole building" \
    [ "$(sql "SELECT sum((st->>'share_num')::numeric) = min((st->>'share_den')::numeric) FROM $STMTS s")" = t ]
kt_check "each owner's charges within one cent per account of the exact share" \
    [ "$(sql "SELECT count(*) FROM $STMTS s, (SELECT (result->>'total_charges_cents')::numeric AS t FROM kopro.jobs WHERE id = '$J') tot
              WHERE abs((st->>'charges_cents')::numeric - tot.t * (st->>'share_num')::numeric / (st->>'share_den')::numeric) >= $n_acc")" = 0 ]

CALLS="FROM owner_contributions oc LEFT JOIN call_for_funds c ON c.id = oc.call_for_funds_id
        WHERE (c.building_id = '$B' OR (c.id IS NULL AND oc.unit_id IN (SELECT id FROM units WHERE building_id = '$B')))
          AND oc.contribution_date >= $START AND oc.contribution_date < $END"
want=$(sql "SELECT (sum(oc.amount) * 100)::bigint $CALLS AND coalesce(c.contribution_type::text, oc.contribution_type) <> 'extraordinary'")
got=$(sql "SELECT sum((st->>'provisions_called_cents')::bigint) FROM $STMTS s")
kt_check "working-capital provisions called: $got = $want cents" [ -n "$want" -a "$got" = "$want" ]
want=$(sql "SELECT (sum(oc.amount) * 100)::bigint $CALLS AND coalesce(c.contribution_type::text, oc.contribution_type) = 'extraordinary'")
got=$(sql "SELECT sum((st->>'reserve_called_cents')::bigint) FROM $STMTS s")
kt_check "reserve-fund calls shown separately: $got = $want cents" [ "${want:-0}" -gt 0 -a "$got" = "$want" ]
want=$(sql "SELECT (sum(oc.amount) * 100)::bigint $CALLS AND oc.payment_status <> 'paid'")
got=$(sql "SELECT sum((st->>'outstanding_cents')::bigint) FROM $STMTS s")
kt_check "unpaid calls outstanding: $got = $want cents (one owner has unpaid calls)" [ "${want:-0}" -gt 0 -a "$got" = "$want" ]
kt_check "balance = charges - provisions called, for every owner" \
    [ "$(sql "SELECT count(*) FROM $STMTS s WHERE (st->>'balance_cents')::bigint <> (st->>'charges_cents')::bigint - (st->>'provisions_called_cents')::bigint")" = 0 ]

# one owner only
O=$(sql "SELECT st->>'owner_id' FROM $STMTS s ORDER BY st->>'owner_id' LIMIT 1")
J1=$(run_job "{\"building_id\":\"$B\",\"from\":\"2025-01-01\",\"to\":\"2025-12-31\",\"owner_id\":\"$O\"}")
kt_check "owner_id keeps one statement, the same numbers" \
    [ "$(sql "SELECT (SELECT result->'statements' FROM kopro.jobs WHERE id = '$J1') = jsonb_build_array((SELECT st FROM $STMTS s WHERE st->>'owner_id' = '$O'))")" = t ]

# refused payloads and unknown buildings
kt_expect_exit "bad period refused at enqueue (exit 4)" 4 \
    "$KOPRO_BIN/kopro-queue" enqueue accounts.statements --payload "{\"building_id\":\"$B\",\"from\":\"2025-12-31\",\"to\":\"2025-01-01\"}"
J2=$(run_job '{"building_id":"00000000-0000-4000-8000-000000000000","from":"2025-01-01","to":"2025-12-31"}')
sql "SELECT state, last_error FROM kopro.jobs WHERE id = '$J2'" >"$KT_TMP/j2"
kt_check "unknown building: the job ends dead with a clear error, not retried" grep -q '^dead|.*not found in buildings' "$KT_TMP/j2"

# no journal lines: expenses.account_code
sql "DELETE FROM journal_entry_lines l USING journal_entries e WHERE e.id = l.journal_entry_id AND e.building_id = '$B'" >/dev/null
want=$(sql "SELECT (sum(amount) * 100)::bigint FROM expenses WHERE building_id = '$B'
              AND expense_date >= $START AND expense_date < $END AND left(account_code, 1) = '6'
              AND payment_status <> 'cancelled' AND approval_status <> 'rejected'")
J=$(run_job "{\"building_id\":\"$B\",\"from\":\"2025-01-01\",\"to\":\"2025-12-31\"}")
kt_check "without journal lines: source expenses" [ "$(res "->>'source'")" = expenses ]
kt_check "without journal lines: class-6 total from expenses ($want cents)" [ -n "$want" -a "$(res "->>'total_charges_cents'")" = "$want" ]
kt_check "without journal lines: parts still sum to every account" \
    [ "$(sql "SELECT count(*) FROM $ACC acc LEFT JOIN $PARTS p USING (code) WHERE p.s IS DISTINCT FROM acc.amt")" = 0 ]
E=$(sql "SELECT id FROM expenses WHERE building_id = '$B' AND expense_date >= $START ORDER BY id LIMIT 1")
sql "UPDATE expenses SET account_code = NULL WHERE id = '$E'" >/dev/null
J=$(run_job "{\"building_id\":\"$B\",\"from\":\"2025-01-01\",\"to\":\"2025-12-31\"}")
sql "SELECT state, last_error FROM kopro.jobs WHERE id = '$J'" >"$KT_TMP/j3"
kt_check "an expense without account_code: dead, the expense named" grep -q "^dead|.*expenses $E has no account_code" "$KT_TMP/j3"

kt_psql -d postgres -c "drop database kt_accounts" >/dev/null
kt_done
