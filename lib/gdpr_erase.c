/*
 * lib/gdpr_erase.c — GDPR art. 17 erasure, driven by the register
 * (lib/gdpr_register.c): holds first, then one transaction that deletes,
 * pseudonymises and restricts, and leaves a tombstone of keyed hashes.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/buf.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/hash.h"
#include "kopro/valid.h"

#define MAX_NAMES 6
#define KEY_MIN_BYTES 32

/*
 * Every statement starts with this CTE so that all parameters are typed and
 * usable anywhere: $1 user id, $2 pseudonym, $3 pseudonym surname, $4 the
 * person's names (text[]), $5 tombstone id, $6 accounting years.
 */
#define P_CTE                                                                                   \
    "WITH p AS (SELECT $1::uuid AS uid, $2::text AS pseudo, $3::text AS pseudo_last,"          \
    " $4::text[] AS names, $5::uuid AS tomb, $6::int AS years) "
#define MINE "(SELECT mo.id FROM public.owners mo WHERE mo.user_id = p.uid)"

/* The person's rows in each table (t is the table, p the parameters). Users and owners last. */
static const struct {
    const char *table;
    const char *where;
} subjects[] = {
    {"audit_logs", "(t.user_id = p.uid OR t.resource_id = p.uid OR t.resource_id IN " MINE ")"},
    {"consent_records", "t.user_id = p.uid"},
    {"user_roles", "t.user_id = p.uid"},
    {"convocation_recipients", "t.owner_id IN " MINE},
    {"meeting_proxy_mandates", "(t.grantor_owner_id IN " MINE " OR t.proxy_holder_id = p.uid)"},
    {"votes", "t.owner_id IN " MINE},
    {"charge_distributions", "t.owner_id IN " MINE},
    {"payment_reminders", "t.owner_id IN " MINE},
    {"payments", "t.owner_id IN " MINE},
    {"journal_entry_lines",
     "t.journal_entry_id IN (SELECT je.id FROM public.journal_entries je WHERE je.contribution_id IN"
     " (SELECT oc.id FROM public.owner_contributions oc WHERE oc.owner_id IN " MINE "))"},
    {"journal_entries",
     "t.contribution_id IN (SELECT oc.id FROM public.owner_contributions oc WHERE oc.owner_id IN " MINE ")"},
    {"owner_contributions", "t.owner_id IN " MINE},
    {"unit_owners", "t.owner_id IN " MINE},
    {"units", "t.owner_id IN " MINE},
    {"owners", "t.user_id = p.uid"},
    {"users", "t.id = p.uid"},
};
#define NSUBJECTS (int)(sizeof subjects / sizeof subjects[0])

struct ctx {
    PGconn *db;
    const char *params[6];
    struct kopro_gdpr_erase_report *rep;
    int nnames;
};

static int exec6(struct ctx *c, PGresult **out, const char *what, const char *sql)
{
    return kopro_db_exec(c->db, out, what, sql, 6, c->params);
}

static long tuples(PGresult *res)
{
    return strtol(PQcmdTuples(res), NULL, 10);
}

/* The new value of an erased column, or NULL when it is kept. */
static int new_value(struct kopro_buf *b, const struct kopro_gdpr_column *col, int nullable,
                     const char *type, int nnames)
{
    if (col->action == KOPRO_GDPR_ACT_DELETE) {
        if (nullable)
            return kopro_buf_adds(b, "NULL");
        if (strstr(col->column, "email") != NULL)
            return kopro_buf_adds(b, "'erased-' || t.id || '@deleted.invalid'");
        if (strcmp(type, "text") == 0 || strcmp(type, "character varying") == 0)
            return kopro_buf_adds(b, strcmp(col->column, "password_hash") == 0 ? "'!'" : "''");
        return kopro_error_set(KOPRO_EINVAL,
                               "GDPR erase: %s.%s is NOT NULL of type %s and marked delete; give it "
                               "an erasure value in lib/gdpr_erase.c",
                               col->table, col->column, type);
    }
    /* anonymize */
    if (strcmp(col->column, "first_name") == 0)
        return kopro_buf_adds(b, "'Anonymized'");
    if (strcmp(col->column, "last_name") == 0)
        return kopro_buf_adds(b, "p.pseudo_last");
    int rc = 0;
    for (int i = 0; rc == 0 && i < nnames; i++)
        rc = kopro_buf_adds(b, "replace(");
    rc = rc ? rc : kopro_buf_addf(b, "t.\"%s\"", col->column);
    for (int i = 0; rc == 0 && i < nnames; i++)
        rc = kopro_buf_addf(b, ", p.names[%d], p.pseudo)", i + 1);
    return rc;
}

static int erase_table(struct ctx *c, const char *table, const char *where)
{
    size_t nreg = 0;
    const struct kopro_gdpr_column *reg = kopro_gdpr_register(&nreg);
    struct kopro_gdpr_erase_table *rt = &c->rep->tables[c->rep->ntables];
    PGresult *res = NULL;
    struct kopro_buf set, old, neu, sql;
    int rc = 0, nset = 0, restricted = 0, whole_row = 0;
    enum kopro_gdpr_retention keep = KOPRO_GDPR_RET_NONE;
    kopro_buf_init(&set, 64 * 1024);
    kopro_buf_init(&old, 64 * 1024);
    kopro_buf_init(&neu, 64 * 1024);
    kopro_buf_init(&sql, 128 * 1024);
    if (c->rep->ntables >= (int)(sizeof c->rep->tables / sizeof c->rep->tables[0]))
        return kopro_error_set(KOPRO_ETOOBIG, "GDPR erase: too many tables");
    memset(rt, 0, sizeof *rt);
    snprintf(rt->table, sizeof rt->table, "%s", table);
    c->rep->ntables++;

    const struct kopro_gdpr_column *idcol = kopro_gdpr_register_find(table, "id");
    whole_row = idcol != NULL && idcol->action == KOPRO_GDPR_ACT_DELETE;
    if (whole_row) {
        /* The whole row is personal data (e.g. user_roles): delete it. */
        snprintf(rt->columns, sizeof rt->columns, "row=delete");
        rc = kopro_buf_addf(&sql, P_CTE "DELETE FROM public.%s t USING p WHERE %s", table, where);
        rc = rc ? rc : exec6(c, &res, table, sql.data);
        if (rc == 0)
            rt->deleted = tuples(res);
        goto done;
    }
    const char *tp[1] = {table};
    rc = kopro_db_exec(c->db, &res, "GDPR erase: columns",
                       "SELECT column_name, is_nullable = 'YES', data_type FROM information_schema.columns"
                       " WHERE table_schema = 'public' AND table_name = $1",
                       1, tp);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < nreg; i++) {
        const struct kopro_gdpr_column *col = &reg[i];
        if (strcmp(col->table, table) != 0 || col->action == KOPRO_GDPR_ACT_KEEP)
            continue;
        if (col->action != KOPRO_GDPR_ACT_KEEP_RESTRICTED) {
            size_t used = strlen(rt->columns);
            snprintf(rt->columns + used, sizeof rt->columns - used, "%s%s=%s", used ? " " : "", col->column,
                     kopro_gdpr_action_name(col->action));
        }
        if (col->action == KOPRO_GDPR_ACT_KEEP_RESTRICTED) {
            restricted = 1;
            if (col->retention == KOPRO_GDPR_RET_ASSOCIATION || keep == KOPRO_GDPR_RET_ASSOCIATION)
                keep = KOPRO_GDPR_RET_ASSOCIATION;
            else if (col->retention == KOPRO_GDPR_RET_ACCOUNTING || keep == KOPRO_GDPR_RET_ACCOUNTING)
                keep = KOPRO_GDPR_RET_ACCOUNTING;
            else
                keep = KOPRO_GDPR_RET_AUDIT;
            continue;
        }
        int nullable = -1;
        const char *type = "";
        for (int r = 0; r < PQntuples(res); r++)
            if (strcmp(PQgetvalue(res, r, 0), col->column) == 0) {
                nullable = strcmp(PQgetvalue(res, r, 1), "t") == 0;
                type = PQgetvalue(res, r, 2);
            }
        if (nullable < 0) {
            rc = kopro_error_set(KOPRO_EINVAL, "GDPR erase: the register names %s.%s but the database has "
                                               "no such column; update lib/gdpr_register.c",
                                 table, col->column);
            goto done;
        }
        rc = kopro_buf_addf(&set, "%s\"%s\" = ", nset ? ", " : "", col->column);
        rc = rc ? rc : new_value(&set, col, nullable, type, c->nnames);
        rc = rc ? rc : kopro_buf_addf(&old, "%st.\"%s\"", nset ? ", " : "", col->column);
        rc = rc ? rc : kopro_buf_adds(&neu, nset ? ", " : "");
        rc = rc ? rc : new_value(&neu, col, nullable, type, c->nnames);
        if (rc != 0)
            goto done;
        nset++;
    }
    PQclear(res);
    res = NULL;

    if (restricted) {
        const char *until = keep == KOPRO_GDPR_RET_ASSOCIATION ? "NULL::timestamptz"
                            : keep == KOPRO_GDPR_RET_ACCOUNTING ? "now() + make_interval(years => p.years)"
                                                                : "now() + interval '7 years'";
        rc = kopro_buf_addf(&sql,
                            P_CTE "INSERT INTO kopro.gdpr_restricted (tombstone_id, table_name, row_id, retain_until)"
                                  " SELECT p.tomb, '%s', t.id, %s FROM public.%s t, p WHERE %s"
                                  " ON CONFLICT DO NOTHING",
                            table, until, table, where);
        rc = rc ? rc : exec6(c, &res, table, sql.data);
        if (rc != 0)
            goto done;
        rt->restricted = tuples(res);
        PQclear(res);
        res = NULL;
        kopro_buf_reset(&sql);
    }
    if (strcmp(table, "users") == 0)
        rc = kopro_buf_addf(&set, "%sis_anonymized = true, anonymized_at = now(), processing_restricted = true,"
                                  " processing_restricted_at = now()", nset ? ", " : "");
    else if (strcmp(table, "owners") == 0)
        rc = kopro_buf_addf(&set, "%sis_anonymized = true, anonymized_at = now()", nset ? ", " : "");
    if (rc != 0)
        goto done;
    if (set.len > 0) {
        /* Only rows that really change count (and are written). */
        int flags = strcmp(table, "users") == 0 || strcmp(table, "owners") == 0;
        rc = kopro_buf_addf(&sql, P_CTE "UPDATE public.%s t SET %s FROM p WHERE %s", table, set.data, where);
        if (rc == 0 && nset > 0)
            rc = kopro_buf_addf(&sql, " AND (ROW(%s%s) IS DISTINCT FROM ROW(%s%s))", old.data,
                                flags ? ", t.is_anonymized" : "", neu.data, flags ? ", true" : "");
        else if (rc == 0 && flags)
            rc = kopro_buf_adds(&sql, " AND NOT t.is_anonymized");
        rc = rc ? rc : exec6(c, &res, table, sql.data);
        if (rc == 0)
            rt->updated = tuples(res);
    }
done:
    PQclear(res);
    kopro_buf_free(&set);
    kopro_buf_free(&old);
    kopro_buf_free(&neu);
    kopro_buf_free(&sql);
    return rc;
}

static void hmac_hex(char out[KOPRO_SHA256_HEX_BYTES], const char *key, const char *prefix, const char *id)
{
    uint8_t mac[KOPRO_SHA256_BYTES];
    char msg[128];
    snprintf(msg, sizeof msg, "%s%s", prefix, id);
    kopro_hmac_sha256(key, strlen(key), msg, strlen(msg), mac);
    kopro_hex_encode(mac, sizeof mac, out);
    explicit_bzero(mac, sizeof mac);
}

/* Legal holds (art. 17(3)(b), (e)). Fills the report; returns 0 with report->held set or not. */
static int check_holds(struct ctx *c)
{
    struct kopro_gdpr_erase_report *rep = c->rep;
    PGresult *res = NULL;
    int rc = exec6(c, &res, "GDPR erase: unpaid contributions",
                   P_CTE "SELECT count(*), coalesce(sum(oc.amount), 0)::text FROM public.owner_contributions oc, p"
                         " WHERE oc.owner_id IN " MINE " AND oc.payment_status <> 'paid' AND oc.amount > 0");
    if (rc != 0)
        goto done;
    if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
        rep->held = 1;
        rep->unpaid_count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(rep->unpaid_amount, sizeof rep->unpaid_amount, "%s", PQgetvalue(res, 0, 1));
        snprintf(rep->holds + strlen(rep->holds), sizeof rep->holds - strlen(rep->holds), "%sunpaid_balance",
                 rep->holds[0] ? "," : "");
        snprintf(rep->hold_detail + strlen(rep->hold_detail), sizeof rep->hold_detail - strlen(rep->hold_detail),
                 "unpaid_balance: %s contribution(s) unpaid, EUR %s due; the hold ends when they are paid\n",
                 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    res = NULL;
    rc = exec6(c, &res, "GDPR erase: open calls for funds",
               P_CTE "SELECT count(*), coalesce(to_char(max(cf.due_date) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '')"
                     " FROM public.call_for_funds cf, p WHERE cf.status IN ('draft', 'sent')"
                     " AND cf.due_date >= now() AND cf.building_id IN (SELECT u.building_id FROM public.units u"
                     " JOIN public.unit_owners uo ON uo.unit_id = u.id WHERE uo.end_date IS NULL"
                     " AND uo.owner_id IN " MINE ")");
    if (rc != 0)
        goto done;
    if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
        rep->held = 1;
        rep->pending_calls = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(rep->pending_until, sizeof rep->pending_until, "%s", PQgetvalue(res, 0, 1));
        snprintf(rep->holds + strlen(rep->holds), sizeof rep->holds - strlen(rep->holds),
                 "%spending_call_for_funds", rep->holds[0] ? "," : "");
        snprintf(rep->hold_detail + strlen(rep->hold_detail), sizeof rep->hold_detail - strlen(rep->hold_detail),
                 "pending_call_for_funds: %s open call(s); the hold ends after %s\n", PQgetvalue(res, 0, 0),
                 PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    res = NULL;
    rc = exec6(c, &res, "GDPR erase: litigation holds",
               P_CTE "SELECT h.reason, coalesce(to_char(h.held_until AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'further notice')"
                     " FROM kopro.gdpr_legal_holds h, p WHERE h.user_id = p.uid"
                     " AND (h.held_until IS NULL OR h.held_until > now()) ORDER BY h.created_at, h.id");
    if (rc != 0)
        goto done;
    if (PQntuples(res) > 0) {
        rep->held = 1;
        rep->litigation = 1;
        /* the latest end wins; an open-ended hold ("further notice") wins over any date */
        for (int r = 0; r < PQntuples(res); r++) {
            const char *u = PQgetvalue(res, r, 1);
            if (strcmp(u, "further notice") == 0 || r == 0 || (rep->litigation_until[0] != '\0' && strcmp(u, rep->litigation_until) > 0))
                snprintf(rep->litigation_until, sizeof rep->litigation_until, "%s",
                         strcmp(u, "further notice") == 0 ? "" : u);
            if (strcmp(u, "further notice") == 0)
                break;
        }
        snprintf(rep->holds + strlen(rep->holds), sizeof rep->holds - strlen(rep->holds), "%slitigation",
                 rep->holds[0] ? "," : "");
        for (int r = 0; r < PQntuples(res); r++)
            snprintf(rep->hold_detail + strlen(rep->hold_detail),
                     sizeof rep->hold_detail - strlen(rep->hold_detail), "litigation: %s; held until %s\n",
                     PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
    }
done:
    PQclear(res);
    return rc;
}

/* reuse_tombstone: re-application after a restore (no holds, no new tombstone).
 * outer_tx: the caller holds the transaction (no BEGIN/COMMIT here; on error
 * the caller rolls back). */
static int erase_impl(struct kopro_gdpr_erase_report *report, PGconn *db, const struct kopro_config *cfg,
                      const char *user_id, int dry_run, const char *reuse_tombstone, int outer_tx)
{
    struct ctx c;
    PGresult *res = NULL;
    struct kopro_buf names, hashes;
    char pseudo_hex[KOPRO_SHA256_HEX_BYTES], subject[KOPRO_SHA256_HEX_BYTES], years_s[8];
    char pseudo[64], pseudo_last[48];
    int years = 7, rc = 0, in_tx = 0;
    kopro_buf_init(&names, 16 * 1024);
    kopro_buf_init(&hashes, 64 * 1024);
    memset(report, 0, sizeof *report);
    memset(&c, 0, sizeof c);
    c.db = db;
    c.rep = report;

    const char *key = kopro_config_get(cfg, "KOPRO_GDPR_KEY", NULL);
    if (!kopro_valid_uuid(user_id)) {
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR erase: user '%s' is not a uuid; pass users.id",
                             user_id ? user_id : "(null)");
        goto done;
    }
    if (key == NULL || strlen(key) < KEY_MIN_BYTES) {
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR erase: KOPRO_GDPR_KEY must be set to a secret of at least %d "
                                           "characters (it keys the pseudonyms and tombstones; keep it stable)",
                             KEY_MIN_BYTES);
        goto done;
    }
    rc = kopro_gdpr_accounting_years(&years, cfg);
    if (rc != 0)
        goto done;
    snprintf(years_s, sizeof years_s, "%d", years);
    hmac_hex(pseudo_hex, key, "pseudonym:", user_id);
    hmac_hex(subject, key, "user:", user_id);
    snprintf(pseudo_last, sizeof pseudo_last, "owner %.10s", pseudo_hex);
    snprintf(pseudo, sizeof pseudo, "Anonymized %s", pseudo_last);
    snprintf(report->pseudonym, sizeof report->pseudonym, "%s", pseudo);

    if (!outer_tx) {
        rc = kopro_db_begin(db);
        if (rc != 0)
            goto done;
        in_tx = 1;
    }
    const char *p1[1] = {user_id};
    rc = kopro_db_exec(db, &res, "GDPR erase: user", "SELECT 1 FROM public.users WHERE id = $1::uuid FOR UPDATE", 1,
                       p1);
    if (rc != 0)
        goto done;
    if (PQntuples(res) != 1) {
        rc = kopro_error_set(KOPRO_ENOTFOUND, "GDPR erase: no user %s in public.users; check the id", user_id);
        goto done;
    }
    PQclear(res);
    res = NULL;

    /* The person's names (for free text) and owner ids (for the tombstone). */
    rc = kopro_db_exec(db, &res, "GDPR erase: names",
                       "SELECT DISTINCT n FROM (SELECT btrim(first_name || ' ' || last_name) n FROM public.users"
                       " WHERE id = $1::uuid UNION ALL SELECT btrim(first_name || ' ' || last_name) FROM public.owners"
                       " WHERE user_id = $1::uuid) x WHERE length(n) > 3 ORDER BY n",
                       1, p1);
    if (rc != 0)
        goto done;
    rc = kopro_buf_adds(&names, "{");
    for (int r = 0; rc == 0 && r < PQntuples(res) && c.nnames < MAX_NAMES; r++, c.nnames++) {
        rc = kopro_buf_adds(&names, r ? ",\"" : "\"");
        for (const char *s = PQgetvalue(res, r, 0); rc == 0 && *s != '\0'; s++)
            rc = (*s == '"' || *s == '\\') ? kopro_buf_addf(&names, "\\%c", *s) : kopro_buf_add(&names, s, 1);
        rc = rc ? rc : kopro_buf_adds(&names, "\"");
    }
    rc = rc ? rc : kopro_buf_adds(&names, "}");
    PQclear(res);
    res = NULL;
    rc = rc ? rc : kopro_db_exec(db, &res, "GDPR erase: owners",
                                 "SELECT id::text FROM public.owners WHERE user_id = $1::uuid ORDER BY id", 1, p1);
    if (rc != 0)
        goto done;
    rc = kopro_buf_adds(&hashes, "{");
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        char h[KOPRO_SHA256_HEX_BYTES];
        hmac_hex(h, key, "owner:", PQgetvalue(res, r, 0));
        rc = kopro_buf_addf(&hashes, "%s%s", r ? "," : "", h);
    }
    rc = rc ? rc : kopro_buf_adds(&hashes, "}");
    PQclear(res);
    res = NULL;
    if (rc != 0)
        goto done;

    c.params[0] = user_id;
    c.params[1] = pseudo;
    c.params[2] = pseudo_last;
    c.params[3] = names.data;
    c.params[4] = NULL; /* no tombstone yet */
    c.params[5] = years_s;
    rc = exec6(&c, &res, "GDPR erase: language and name",
               P_CTE "SELECT coalesce((SELECT lower(cv.language) FROM public.convocations cv"
                     " WHERE cv.building_id IN (SELECT u.building_id FROM public.units u JOIN public.unit_owners uo"
                     " ON uo.unit_id = u.id WHERE uo.owner_id IN " MINE ")"
                     " ORDER BY cv.meeting_date DESC, cv.id LIMIT 1), 'fr'),"
                     " (SELECT btrim(us.first_name || ' ' || us.last_name) FROM public.users us WHERE us.id = p.uid)"
                     " FROM p");
    if (rc != 0)
        goto done;
    snprintf(report->lang, sizeof report->lang, "%s", PQgetvalue(res, 0, 0));
    snprintf(report->person_name, sizeof report->person_name, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    res = NULL;
    rc = reuse_tombstone == NULL ? check_holds(&c) : 0;
    if (rc != 0)
        goto done;
    if (report->held) {
        rc = kopro_error_set(KOPRO_ERETAINED, "GDPR erase refused: legal hold (%s); nothing was changed",
                             report->holds);
        goto done;
    }

    if (reuse_tombstone != NULL) {
        snprintf(report->tombstone_id, sizeof report->tombstone_id, "%s", reuse_tombstone);
    } else {
        const char *tp[3] = {subject, hashes.data, pseudo};
        rc = kopro_db_exec(db, &res, "GDPR erase: tombstone",
                           "INSERT INTO kopro.gdpr_tombstones (subject_hash, owner_hashes, pseudonym)"
                           " VALUES ($1, $2::text[], $3) RETURNING id::text",
                           3, tp);
        if (rc != 0)
            goto done;
        snprintf(report->tombstone_id, sizeof report->tombstone_id, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        res = NULL;
    }
    c.params[4] = report->tombstone_id;

    for (int i = 0; rc == 0 && i < NSUBJECTS; i++)
        rc = erase_table(&c, subjects[i].table, subjects[i].where);
    if (rc != 0 || reuse_tombstone != NULL)
        goto finish;

    json_t *counts = json_object();
    for (int i = 0; counts != NULL && i < report->ntables; i++) {
        struct kopro_gdpr_erase_table *t = &report->tables[i];
        json_object_set_new(counts, t->table, json_pack("{s:I, s:I, s:I}", "deleted", (json_int_t)t->deleted,
                                                        "updated", (json_int_t)t->updated, "restricted",
                                                        (json_int_t)t->restricted));
    }
    char *ctext = counts ? json_dumps(counts, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(counts);
    if (ctext == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "GDPR erase: out of memory");
        goto done;
    }
    const char *up[2] = {report->tombstone_id, ctext};
    rc = kopro_db_exec(db, NULL, "GDPR erase: tombstone counts",
                       "UPDATE kopro.gdpr_tombstones SET counts = $2::jsonb WHERE id = $1::uuid", 2, up);
    free(ctext);
finish:
    if (rc != 0)
        goto done;
    if (dry_run) {
        kopro_db_rollback(db);
        in_tx = 0;
        report->tombstone_id[0] = '\0';
    } else if (!outer_tx) {
        rc = kopro_db_commit(db);
        in_tx = 0;
    }
done:
    if (in_tx)
        kopro_db_rollback(db);
    PQclear(res);
    kopro_buf_free_secure(&names);
    kopro_buf_free(&hashes);
    explicit_bzero(pseudo_hex, sizeof pseudo_hex);
    return rc;
}

int kopro_gdpr_erase(struct kopro_gdpr_erase_report *report, PGconn *db,
                     const struct kopro_config *cfg, const char *user_id, int dry_run)
{
    return erase_impl(report, db, cfg, user_id, dry_run, NULL, 0);
}

int kopro_gdpr_tombstones_dump(char **json_out, PGconn *db, const char *since)
{
    PGresult *res = NULL;
    const char *params[1] = {since};
    *json_out = NULL;
    int rc = kopro_db_exec(db, &res, "GDPR tombstones: dump",
                           "SELECT coalesce(json_agg(json_build_object('id', t.id, 'erased_at', t.erased_at,"
                           " 'subject_hash', t.subject_hash, 'owner_hashes', t.owner_hashes, 'pseudonym', t.pseudonym,"
                           " 'counts', t.counts) ORDER BY t.erased_at, t.id), '[]')::text"
                           " FROM kopro.gdpr_tombstones t WHERE $1::timestamptz IS NULL OR t.erased_at > $1::timestamptz",
                           1, params);
    if (rc == 0) {
        *json_out = strdup(PQgetvalue(res, 0, 0));
        if (*json_out == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "GDPR tombstones: out of memory");
    }
    PQclear(res);
    return rc;
}

int kopro_gdpr_tombstones_apply(int *erased_out, int *inserted_out, PGconn *db, const struct kopro_config *cfg,
                                const char *tombstones_json)
{
    json_error_t jerr;
    json_t *arr = json_loads(tombstones_json, 0, &jerr);
    PGresult *res = NULL;
    struct kopro_gdpr_erase_report *rep = NULL;
    int rc = 0, in_tx = 0;
    *erased_out = 0;
    if (inserted_out != NULL)
        *inserted_out = 0;
    const char *key = kopro_config_get(cfg, "KOPRO_GDPR_KEY", NULL);
    if (!json_is_array(arr)) {
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR tombstones: not a JSON array (line %d: %s); pass the output of "
                                           "'kopro-gdpr tombstones dump'", jerr.line, jerr.text);
        goto done;
    }
    if (key == NULL || strlen(key) < KEY_MIN_BYTES) {
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR tombstones: KOPRO_GDPR_KEY must be the key the erasures used");
        goto done;
    }
    rc = kopro_db_begin(db);
    if (rc != 0)
        goto done;
    in_tx = 1;
    const char *p1[1] = {tombstones_json};
    rc = kopro_db_exec(db, &res, "GDPR tombstones: insert",
                       "INSERT INTO kopro.gdpr_tombstones (id, erased_at, subject_hash, owner_hashes, pseudonym, counts)"
                       " SELECT id, erased_at, subject_hash, owner_hashes, pseudonym, coalesce(counts, '{}')"
                       " FROM json_populate_recordset(NULL::kopro.gdpr_tombstones, $1::json)"
                       " ON CONFLICT (id) DO NOTHING",
                       1, p1);
    if (rc != 0)
        goto done;
    if (inserted_out != NULL)
        *inserted_out = (int)tuples(res);
    PQclear(res);
    res = NULL;
    rc = kopro_db_exec(db, &res, "GDPR tombstones: users",
                       "SELECT id::text FROM public.users WHERE NOT is_anonymized ORDER BY id", 0, NULL);
    if (rc != 0)
        goto done;
    rep = calloc(1, sizeof *rep);
    if (rep == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "GDPR tombstones: out of memory");
        goto done;
    }
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        char h[KOPRO_SHA256_HEX_BYTES];
        const char *uid = PQgetvalue(res, r, 0);
        hmac_hex(h, key, "user:", uid);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *t = json_array_get(arr, i);
            const char *sh = json_string_value(json_object_get(t, "subject_hash"));
            const char *tid = json_string_value(json_object_get(t, "id"));
            if (sh == NULL || tid == NULL || strcmp(sh, h) != 0)
                continue;
            rc = erase_impl(rep, db, cfg, uid, 0, tid, 1);
            if (rc == 0)
                (*erased_out)++;
            break;
        }
    }
    if (rc == 0) {
        rc = kopro_db_commit(db);
        in_tx = 0;
    }
done:
    if (in_tx) {
        kopro_db_rollback(db);
        *erased_out = 0;
        if (inserted_out != NULL)
            *inserted_out = 0;
    }
    free(rep);
    PQclear(res);
    json_decref(arr);
    return rc;
}

/* Purge order: children before parents, so foreign keys never block a delete. */
static const char *const purge_order[] = {
    "payment_reminders", "payments", "charge_distributions", "journal_entry_lines", "journal_entries",
    "owner_contributions", "votes", "meeting_proxy_mandates", "convocation_recipients", "unit_owners",
    "consent_records", "audit_logs",
};

int kopro_gdpr_purge(long *purged_out, PGconn *db)
{
    PGresult *res = NULL;
    char sql[512];
    int rc = kopro_db_begin(db);
    *purged_out = 0;
    if (rc != 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < sizeof purge_order / sizeof purge_order[0]; i++) {
        /* purge_order is a constant list of table names: no identifier comes from data */
        snprintf(sql, sizeof sql,
                 "WITH gone AS (DELETE FROM kopro.gdpr_restricted r WHERE r.table_name = '%s'"
                 " AND r.retain_until < now() RETURNING r.row_id)"
                 " DELETE FROM public.%s t WHERE t.id IN (SELECT row_id FROM gone)",
                 purge_order[i], purge_order[i]);
        rc = kopro_db_exec(db, &res, "GDPR purge", sql, 0, NULL);
        if (rc == 0)
            *purged_out += tuples(res);
        PQclear(res);
        res = NULL;
    }
    if (rc != 0) {
        kopro_db_rollback(db);
        return rc;
    }
    return kopro_db_commit(db);
}
