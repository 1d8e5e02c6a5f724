/*
 * lib/accounts_db.c — kopro_accounts_load_db(): a building's PCN accounts and
 * owners' calls for funds for a period, read from KoproGo's database with
 * parameterised SQL in one read-only snapshot.
 */
#include "kopro/accounts.h"

#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/valid.h"
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The period [from 00:00, to + 1 day 00:00) in Europe/Brussels, as SQL on $2 and $3. */
#define PERIOD_START "(($2::date)::timestamp AT TIME ZONE 'Europe/Brussels')"
#define PERIOD_END "((($3::date) + 1)::timestamp AT TIME ZONE 'Europe/Brussels')"

static int dup_val(char **dst, const PGresult *res, int row, int col)
{
    return kopro_model__db_str(dst, res, row, col, "accounts");
}

static int load_building(struct kopro_accounts *m, PGconn *db, const char *const *params)
{
    PGresult *res = NULL;
    int rc = kopro_db_exec(db, &res, "reading buildings",
                           "SELECT id, organization_id, name, address, postal_code, city, "
                           "       syndic_name, total_tantiemes FROM buildings WHERE id = $1",
                           1, params);
    if (rc != 0)
        goto done;
    if (PQntuples(res) == 0) {
        rc = kopro_error_set(KOPRO_ENOTFOUND,
                             "building %s not found in buildings; check the id", params[0]);
        goto done;
    }
    if ((rc = dup_val(&m->building.id, res, 0, 0)) != 0 ||
        (rc = dup_val(&m->building.organization_id, res, 0, 1)) != 0 ||
        (rc = dup_val(&m->building.name, res, 0, 2)) != 0 ||
        (rc = dup_val(&m->building.address, res, 0, 3)) != 0 ||
        (rc = dup_val(&m->building.postal_code, res, 0, 4)) != 0 ||
        (rc = dup_val(&m->building.city, res, 0, 5)) != 0 ||
        (rc = dup_val(&m->building.syndic_name, res, 0, 6)) != 0)
        goto done;
    m->building.total_tantiemes = strtoll(kopro_db_value(res, 0, 7), NULL, 10);
done:
    PQclear(res);
    return rc;
}

/* Append the rows (code, label, debit, credit) of `res` as accounts. */
static int add_accounts(struct kopro_accounts *m, const PGresult *res, const char *what)
{
    int n = PQntuples(res);
    struct kopro_pcn_account *grown;
    if (n == 0)
        return 0;
    grown = realloc(m->accounts, (m->n_accounts + (size_t)n) * sizeof(*m->accounts));
    if (grown == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory reading accounts");
    m->accounts = grown;
    for (int i = 0; i < n; i++) {
        struct kopro_pcn_account *a = &m->accounts[m->n_accounts];
        char msg[128];
        int rc;
        memset(a, 0, sizeof(*a));
        m->n_accounts++;
        if ((rc = dup_val(&a->code, res, i, 0)) != 0 || (rc = dup_val(&a->label, res, i, 1)) != 0)
            return rc;
        snprintf(msg, sizeof(msg), "%s, account %s: amount", what, a->code);
        if ((rc = kopro_decimal_parse(&a->debit_cents, kopro_db_value(res, i, 2), 2, msg)) != 0 ||
            (rc = kopro_decimal_parse(&a->credit_cents, kopro_db_value(res, i, 3), 2, msg)) != 0)
            return rc;
        kopro_model__pcn_account_total(m, a);
    }
    return 0;
}

static int load_movements(struct kopro_accounts *m, PGconn *db, const char *const *params)
{
    static const char sql_any[] =
        "SELECT EXISTS (SELECT 1 FROM journal_entry_lines l "
        "  JOIN journal_entries e ON e.id = l.journal_entry_id "
        " WHERE e.building_id = $1 AND e.entry_date >= " PERIOD_START
        "   AND e.entry_date < " PERIOD_END ")";
    /* the class of an account is the first digit of its code (PCN) */
    static const char sql_journal[] =
        "SELECT l.account_code, a.label, sum(l.debit)::text, sum(l.credit)::text "
        "  FROM journal_entry_lines l JOIN journal_entries e ON e.id = l.journal_entry_id "
        "  LEFT JOIN accounts a ON a.code = l.account_code "
        "       AND a.organization_id = l.organization_id "
        " WHERE e.building_id = $1 AND e.entry_date >= " PERIOD_START
        "   AND e.entry_date < " PERIOD_END
        "   AND left(l.account_code, 1) IN ('6', '7') "
        " GROUP BY l.account_code, a.label ORDER BY l.account_code COLLATE \"C\"";
    static const char sql_uncoded[] =
        "SELECT id FROM expenses WHERE building_id = $1 AND account_code IS NULL "
        "   AND expense_date >= " PERIOD_START " AND expense_date < " PERIOD_END
        "   AND payment_status <> 'cancelled' AND approval_status <> 'rejected' "
        " ORDER BY expense_date, id LIMIT 1";
    static const char sql_expenses[] =
        "SELECT e.account_code, a.label, sum(e.amount)::text, '0' "
        "  FROM expenses e LEFT JOIN accounts a ON a.code = e.account_code "
        "       AND a.organization_id = e.organization_id "
        " WHERE e.building_id = $1 AND e.expense_date >= " PERIOD_START
        "   AND e.expense_date < " PERIOD_END
        "   AND e.payment_status <> 'cancelled' AND e.approval_status <> 'rejected' "
        "   AND left(e.account_code, 1) = '6' "
        " GROUP BY e.account_code, a.label ORDER BY e.account_code COLLATE \"C\"";
    static const char sql_income[] =
        "SELECT oc.account_code, a.label, '0', sum(oc.amount)::text "
        "  FROM owner_contributions oc LEFT JOIN call_for_funds c ON c.id = oc.call_for_funds_id "
        "  LEFT JOIN accounts a ON a.code = oc.account_code "
        "       AND a.organization_id = oc.organization_id "
        " WHERE (c.building_id = $1 OR (c.id IS NULL AND oc.unit_id IN "
        "        (SELECT id FROM units WHERE building_id = $1))) "
        "   AND oc.contribution_date >= " PERIOD_START " AND oc.contribution_date < " PERIOD_END
        "   AND left(oc.account_code, 1) = '7' "
        " GROUP BY oc.account_code, a.label ORDER BY oc.account_code COLLATE \"C\"";
    PGresult *res = NULL;
    int rc;

    if ((rc = kopro_db_exec(db, &res, "reading journal_entry_lines", sql_any, 3, params)) != 0)
        goto done;
    m->source = kopro_db_value(res, 0, 0)[0] == 't' ? KOPRO_ACCOUNTS_JOURNAL : KOPRO_ACCOUNTS_EXPENSES;
    PQclear(res);
    res = NULL;
    if (m->source == KOPRO_ACCOUNTS_JOURNAL) {
        if ((rc = kopro_db_exec(db, &res, "reading journal_entry_lines", sql_journal, 3, params)) != 0 ||
            (rc = add_accounts(m, res, "journal_entry_lines")) != 0)
            goto done;
        goto done;
    }
    if ((rc = kopro_db_exec(db, &res, "reading expenses", sql_uncoded, 3, params)) != 0)
        goto done;
    if (PQntuples(res) > 0) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "expenses %s has no account_code and the building has no journal "
                             "entries in the period; assign it a PCN account (class 6)",
                             kopro_db_value(res, 0, 0));
        goto done;
    }
    PQclear(res);
    res = NULL;
    if ((rc = kopro_db_exec(db, &res, "reading expenses", sql_expenses, 3, params)) != 0 ||
        (rc = add_accounts(m, res, "expenses")) != 0)
        goto done;
    PQclear(res);
    res = NULL;
    if ((rc = kopro_db_exec(db, &res, "reading owner_contributions", sql_income, 3, params)) != 0 ||
        (rc = add_accounts(m, res, "owner_contributions")) != 0)
        goto done;
done:
    PQclear(res);
    return rc;
}

static int load_shares(struct kopro_accounts *m, PGconn *db, const char *const *params)
{
    /* active at the last instant of the period */
    static const char sql_owners[] =
        "WITH holders AS ("
        "  SELECT uo.owner_id AS id FROM unit_owners uo JOIN units u ON u.id = uo.unit_id "
        "   WHERE u.building_id = $1 AND uo.start_date < " PERIOD_END
        "     AND (uo.end_date IS NULL OR uo.end_date >= " PERIOD_END ")), "
        "called AS ("
        "  SELECT oc.owner_id AS id FROM owner_contributions oc "
        "    LEFT JOIN call_for_funds c ON c.id = oc.call_for_funds_id "
        "   WHERE (c.building_id = $1 OR (c.id IS NULL AND oc.unit_id IN "
        "          (SELECT id FROM units WHERE building_id = $1))) "
        "     AND oc.contribution_date >= " PERIOD_START " AND oc.contribution_date < " PERIOD_END ") "
        "SELECT o.id, o.first_name, o.last_name, o.id IN (SELECT id FROM holders) AS holds "
        "  FROM owners o WHERE o.id IN (SELECT id FROM holders UNION SELECT id FROM called) "
        " ORDER BY holds DESC, o.last_name, o.first_name, o.id";
    static const char sql_own[] =
        "SELECT uo.id, uo.unit_id, uo.owner_id, uo.ownership_percentage::text "
        "  FROM unit_owners uo JOIN units u ON u.id = uo.unit_id "
        " WHERE u.building_id = $1 AND uo.start_date < " PERIOD_END
        "   AND (uo.end_date IS NULL OR uo.end_date >= " PERIOD_END ") "
        "   AND $2::date IS NOT NULL " /* every parameter must appear */
        " ORDER BY u.unit_number, uo.start_date, uo.id";
    PGresult *res = NULL;
    void *arr = NULL;
    int n, rc;

    if ((rc = kopro_model__db_units(&m->units, &m->n_units, db, params[0], "accounts")) != 0)
        goto done;

    rc = kopro_model__db_rows(&res, &n, &arr, sizeof(*m->owners), db, "owners", sql_owners, 3,
                              params);
    m->owners = arr;
    if (rc != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        struct kopro_acc_owner *o = &m->owners[i];
        m->n_owners = (size_t)i + 1;
        if ((rc = dup_val(&o->id, res, i, 0)) != 0 ||
            (rc = kopro_model__display_name(&o->display_name, &o->is_company,
                                            kopro_db_value(res, i, 1),
                                            kopro_db_value(res, i, 2))) != 0)
            goto done;
    }
    PQclear(res);
    res = NULL;

    if ((rc = kopro_db_exec(db, &res, "reading unit_owners", sql_own, 3, params)) != 0 ||
        (rc = kopro_model__db_ownerships(&m->ownerships, &m->n_ownerships, res, m->units,
                                         m->n_units, &m->owners[0].id, m->n_owners,
                                         sizeof(*m->owners), "accounts")) != 0)
        goto done;
done:
    PQclear(res);
    return rc;
}

static int load_contributions(struct kopro_accounts *m, PGconn *db, const char *const *params)
{
    /* reserve fund: the call (or the contribution) is of type "extraordinary"
     * (art. 3.86 §3); every other type feeds the working capital */
    static const char sql[] =
        "SELECT oc.id, oc.owner_id, "
        "       coalesce(c.contribution_type::text, oc.contribution_type) = 'extraordinary', "
        "       oc.amount::text, oc.payment_status, "
        "       to_char(oc.contribution_date AT TIME ZONE 'Europe/Brussels', 'YYYY-MM-DD'), "
        "       coalesce(oc.description, c.title), oc.account_code "
        "  FROM owner_contributions oc LEFT JOIN call_for_funds c ON c.id = oc.call_for_funds_id "
        " WHERE (c.building_id = $1 OR (c.id IS NULL AND oc.unit_id IN "
        "        (SELECT id FROM units WHERE building_id = $1))) "
        "   AND oc.contribution_date >= " PERIOD_START " AND oc.contribution_date < " PERIOD_END
        " ORDER BY oc.contribution_date, oc.id";
    PGresult *res = NULL;
    void *arr = NULL;
    int n, rc;

    rc = kopro_model__db_rows(&res, &n, &arr, sizeof(*m->contributions), db, "owner_contributions",
                              sql, 3, params);
    m->contributions = arr;
    if (rc != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        struct kopro_contribution *c = &m->contributions[i];
        const char *status = kopro_db_value(res, i, 4);
        char what[96];
        m->n_contributions = (size_t)i + 1;
        if ((rc = dup_val(&c->id, res, i, 0)) != 0 || (rc = dup_val(&c->date, res, i, 5)) != 0 ||
            (rc = dup_val(&c->description, res, i, 6)) != 0 ||
            (rc = dup_val(&c->account_code, res, i, 7)) != 0)
            goto done;
        c->owner = kopro_model__find_id(&m->owners[0].id, m->n_owners, sizeof(*m->owners),
                                        kopro_db_value(res, i, 1));
        if (c->owner == KOPRO_NONE) {
            rc = kopro_error_set(KOPRO_ERROR, "owner_contributions %s: owner not loaded", c->id);
            goto done;
        }
        c->is_reserve = kopro_db_value(res, i, 2)[0] == 't';
        snprintf(what, sizeof(what), "owner_contributions %s: amount", c->id);
        if ((rc = kopro_decimal_parse(&c->called_cents, kopro_db_value(res, i, 3), 2, what)) != 0)
            goto done;
        c->paid_cents = status != NULL && strcmp(status, "paid") == 0 ? c->called_cents : 0;
    }
done:
    PQclear(res);
    return rc;
}

int kopro_accounts_load_db(struct kopro_accounts **out, PGconn *db, const char *building_id,
                           const char *from_date, const char *to_date)
{
    struct kopro_accounts *m = NULL;
    const char *params[3] = {building_id, from_date, to_date};
    int rc;

    *out = NULL;
    if (!kopro_valid_uuid(building_id)) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "building id \"%.64s\" is not a uuid; give it as "
                             "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
                             building_id ? building_id : "");
        goto done;
    }
    if (!kopro_valid_date(from_date) || !kopro_valid_date(to_date) ||
        strcmp(from_date, to_date) > 0) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "period \"%.16s\" to \"%.16s\": give two dates YYYY-MM-DD with "
                             "from <= to",
                             from_date ? from_date : "", to_date ? to_date : "");
        goto done;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL || (m->period_from = strdup(from_date)) == NULL ||
        (m->period_to = strdup(to_date)) == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading accounts");
        goto done;
    }
    if ((rc = kopro_db_exec(db, NULL, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                            0, NULL)) != 0)
        goto done;
    if ((rc = load_building(m, db, params)) != 0 || (rc = load_movements(m, db, params)) != 0 ||
        (rc = load_shares(m, db, params)) != 0 || (rc = load_contributions(m, db, params)) != 0) {
        kopro_db_rollback(db);
        goto done;
    }
    kopro_db_rollback(db); /* read only */
    *out = m;
    m = NULL;
    rc = 0;
done:
    kopro_accounts_free(m);
    return rc;
}
