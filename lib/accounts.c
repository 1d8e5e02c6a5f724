/*
 * lib/accounts.c — PCN accounting engine: the model, JSON load/dump, the
 * owners' statements (décompte de charges) and largest-remainder
 * apportionment. The database loader is lib/accounts_db.c.
 */
#include "kopro/accounts.h"

#include "kopro/error.h"
#include "kopro/valid.h"
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

/* ------------------------------------------------------------ apportionment */

struct rem_ix {
    i128 rem;
    size_t idx;
};

static int rem_cmp(const void *x, const void *y)
{
    const struct rem_ix *a = x;
    const struct rem_ix *b = y;
    if (a->rem != b->rem)
        return a->rem > b->rem ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int kopro_pcn_apportion(int64_t *parts_out, int64_t total_cents, const int64_t *weights, size_t n)
{
    struct rem_ix *rem = NULL;
    i128 wsum = 0;
    i128 mag = total_cents < 0 ? -(i128)total_cents : (i128)total_cents;
    i128 given = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if (weights[i] < 0)
            return kopro_error_set(KOPRO_EINVAL, "apportionment: weight %zu is negative", i);
        wsum += weights[i];
    }
    if (wsum == 0)
        return kopro_error_set(KOPRO_EINVAL,
                               "apportionment: all %zu weights are zero; nobody holds a share", n);
    rem = calloc(n, sizeof(*rem));
    if (rem == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory apportioning %zu parts", n);
    for (size_t i = 0; i < n; i++) {
        i128 prod = mag * weights[i];
        parts_out[i] = (int64_t)(prod / wsum);
        rem[i].rem = prod % wsum;
        rem[i].idx = i;
        given += parts_out[i];
    }
    qsort(rem, n, sizeof(*rem), rem_cmp);
    /* mag - given < n: at most one more cent each for the largest remainders */
    for (size_t k = 0; given < mag; k++, given++)
        parts_out[rem[k].idx]++;
    if (total_cents < 0)
        for (size_t i = 0; i < n; i++)
            parts_out[i] = -parts_out[i];
    rc = 0;
    free(rem);
    return rc;
}

/* ------------------------------------------------------------ free */

void kopro_accounts_free(struct kopro_accounts *m)
{
    if (m == NULL)
        return;
    kopro_model__free_building(&m->building);
    kopro_model__free_str(m->period_from);
    kopro_model__free_str(m->period_to);
    for (size_t i = 0; i < m->n_accounts; i++) {
        kopro_model__free_str(m->accounts[i].code);
        kopro_model__free_str(m->accounts[i].label);
    }
    free(m->accounts);
    for (size_t i = 0; i < m->n_owners; i++) {
        kopro_model__free_str(m->owners[i].id);
        kopro_model__free_str(m->owners[i].display_name);
    }
    free(m->owners);
    kopro_model__free_units(m->units, m->n_units);
    kopro_model__free_ownerships(m->ownerships, m->n_ownerships);
    for (size_t i = 0; i < m->n_contributions; i++) {
        kopro_model__free_str(m->contributions[i].id);
        kopro_model__free_str(m->contributions[i].date);
        kopro_model__free_str(m->contributions[i].description);
        kopro_model__free_str(m->contributions[i].account_code);
    }
    free(m->contributions);
    explicit_bzero(m, sizeof(*m));
    free(m);
}

void kopro_statements_free(struct kopro_statements *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_items; i++)
        free(s->items[i].lines);
    free(s->items);
    free(s);
}

/* ------------------------------------------------------------ statements */

static const char *nz(const char *s)
{
    return s != NULL ? s : "(no id)";
}

/* glibc qsort_r(3) comparator: owner indexes by owners.id, then index */
static int owner_id_cmp(const void *x, const void *y, void *arg)
{
    const struct kopro_accounts *m = arg;
    size_t a = *(const size_t *)x;
    size_t b = *(const size_t *)y;
    int c = strcmp(nz(m->owners[a].id), nz(m->owners[b].id));
    return c != 0 ? c : (a < b ? -1 : a > b);
}

static int check_shares(const struct kopro_accounts *m)
{
    i128 sum = 0;
    int64_t *frac = NULL;
    int rc = 0;

    if (m->building.total_tantiemes <= 0)
        return kopro_error_set(KOPRO_EINVAL, "buildings %s: total_tantiemes must be > 0",
                               nz(m->building.id));
    for (size_t u = 0; u < m->n_units; u++) {
        if (m->units[u].quota_e4 <= 0)
            return kopro_error_set(KOPRO_EINVAL, "units %s (lot %s): quota must be > 0",
                                   nz(m->units[u].id), nz(m->units[u].number));
        sum += m->units[u].quota_e4;
    }
    if (sum != (i128)m->building.total_tantiemes * KOPRO_SHARE_SCALE) {
        char got[32];
        kopro_decimal_format(got, sizeof(got), (int64_t)sum, 4);
        return kopro_error_set(KOPRO_EINVAL,
                               "units of buildings %s: quotas sum to %s tantièmes but "
                               "buildings.total_tantiemes is %lld; charges are shared by quotas "
                               "(AR 12 July 2012); correct units.quota",
                               nz(m->building.id), got, (long long)m->building.total_tantiemes);
    }
    frac = calloc(m->n_units ? m->n_units : 1, sizeof(int64_t));
    if (frac == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory checking shares");
    for (size_t i = 0; i < m->n_ownerships; i++) {
        if (m->ownerships[i].unit >= m->n_units || m->ownerships[i].owner >= m->n_owners) {
            rc = kopro_error_set(KOPRO_EINVAL, "unit_owners %s: unit or owner out of range",
                                 nz(m->ownerships[i].id));
            goto done;
        }
        if (m->ownerships[i].fraction_e5 <= 0 ||
            m->ownerships[i].fraction_e5 > KOPRO_FRACTION_SCALE) {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "unit_owners %s: ownership_percentage is outside (0, 1]; "
                                 "correct it",
                                 nz(m->ownerships[i].id));
            goto done;
        }
        frac[m->ownerships[i].unit] += m->ownerships[i].fraction_e5;
    }
    for (size_t u = 0; u < m->n_units; u++)
        if (frac[u] != KOPRO_FRACTION_SCALE) {
            char got[32];
            kopro_decimal_format(got, sizeof(got), frac[u], 5);
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "unit_owners of units %s (lot %s): active ownership fractions "
                                 "sum to %s at the end of the period; they must sum to 1",
                                 nz(m->units[u].id), nz(m->units[u].number), got);
            goto done;
        }
    for (size_t i = 0; i < m->n_contributions; i++)
        if (m->contributions[i].owner >= m->n_owners) {
            rc = kopro_error_set(KOPRO_EINVAL, "owner_contributions %s: owner out of range",
                                 nz(m->contributions[i].id));
            goto done;
        }
done:
    free(frac);
    return rc;
}

int kopro_accounts_statements(struct kopro_statements **out, const struct kopro_accounts *m)
{
    struct kopro_statements *s = NULL;
    int64_t *weights = NULL;   /* by sorted position */
    int64_t *parts = NULL;
    size_t *order = NULL;      /* sorted position -> owner index */
    size_t n_charges = 0;
    int64_t den;
    int rc;

    *out = NULL;
    if ((rc = check_shares(m)) != 0)
        goto done;
    den = m->building.total_tantiemes * KOPRO_SHARE_SCALE * KOPRO_FRACTION_SCALE;
    s = calloc(1, sizeof(*s));
    weights = calloc(m->n_owners ? m->n_owners : 1, sizeof(int64_t));
    parts = calloc(m->n_owners ? m->n_owners : 1, sizeof(int64_t));
    order = calloc(m->n_owners ? m->n_owners : 1, sizeof(size_t));
    if (s == NULL || weights == NULL || parts == NULL || order == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory computing statements");
        goto done;
    }
    s->items = calloc(m->n_owners ? m->n_owners : 1, sizeof(*s->items));
    if (s->items == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory computing statements");
        goto done;
    }
    s->n_items = m->n_owners;
    for (size_t a = 0; a < m->n_accounts; a++)
        n_charges += m->accounts[a].pcn_class == 6;
    for (size_t i = 0; i < m->n_owners; i++) {
        struct kopro_statement *st = &s->items[i];
        st->owner = i;
        st->share_den = den;
        st->lines = calloc(n_charges ? n_charges : 1, sizeof(*st->lines));
        if (st->lines == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory computing statements");
            goto done;
        }
    }
    for (size_t k = 0; k < m->n_ownerships; k++) {
        const struct kopro_ownership *w = &m->ownerships[k];
        s->items[w->owner].share_num += m->units[w->unit].quota_e4 * w->fraction_e5;
    }
    for (size_t i = 0; i < m->n_owners; i++) {
        order[i] = i;
        s->items[i].share_bp = (int)(((i128)s->items[i].share_num * 10000) / den);
    }
    qsort_r(order, m->n_owners, sizeof(size_t), owner_id_cmp, (void *)m);
    for (size_t p = 0; p < m->n_owners; p++)
        weights[p] = s->items[order[p]].share_num;

    for (size_t a = 0; a < m->n_accounts; a++) {
        const struct kopro_pcn_account *acc = &m->accounts[a];
        if (acc->pcn_class != 6)
            continue;
        if (m->n_owners == 0)
            break;
        if ((rc = kopro_pcn_apportion(parts, acc->amount_cents, weights, m->n_owners)) != 0) {
            rc = kopro_error_wrap(rc, "account %s", nz(acc->code));
            goto done;
        }
        for (size_t p = 0; p < m->n_owners; p++) {
            struct kopro_statement *st = &s->items[order[p]];
            struct kopro_statement_line *l = &st->lines[st->n_lines++];
            l->account = a;
            l->total_cents = acc->amount_cents;
            l->owner_cents = parts[p];
            st->charges_cents += parts[p];
        }
    }
    for (size_t c = 0; c < m->n_contributions; c++) {
        const struct kopro_contribution *ct = &m->contributions[c];
        struct kopro_statement *st = &s->items[ct->owner];
        if (ct->is_reserve) {
            st->reserve_called_cents += ct->called_cents;
            st->reserve_paid_cents += ct->paid_cents;
        } else {
            st->provisions_called_cents += ct->called_cents;
            st->provisions_paid_cents += ct->paid_cents;
        }
    }
    for (size_t i = 0; i < m->n_owners; i++) {
        struct kopro_statement *st = &s->items[i];
        st->balance_cents = st->charges_cents - st->provisions_called_cents;
        st->outstanding_cents = (st->provisions_called_cents - st->provisions_paid_cents) +
                                (st->reserve_called_cents - st->reserve_paid_cents);
    }
    *out = s;
    s = NULL;
    rc = 0;
done:
    free(weights);
    free(parts);
    free(order);
    kopro_statements_free(s);
    return rc;
}

/* ------------------------------------------------------------ JSON */

static int ref(size_t *dst, const json_t *o, const char *key, const char *path, char *const *first,
               size_t n, size_t stride, const char *target)
{
    const char *id = json_string_value(json_object_get(o, key));
    if (id == NULL)
        return kopro_error_set(KOPRO_EINVAL, "%s.%s: missing; give the id of one of %s", path, key,
                               target);
    *dst = kopro_model__find_id(first, n, stride, id);
    if (*dst == KOPRO_NONE)
        return kopro_error_set(KOPRO_EINVAL, "%s.%s: no %s with id %s", path, key, target, id);
    return 0;
}

static int load_json_building(struct kopro_accounts *m, const json_t *doc)
{
    const json_t *period = json_object_get(doc, "period");
    int rc;
    if ((rc = kopro_model__jbuilding(&m->building, doc)) != 0)
        return rc;
    if (!json_is_object(period))
        return kopro_error_set(KOPRO_EINVAL,
                               "period: missing; give {\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}");
    if ((rc = kopro_model__jstr(&m->period_from, period, "from", 1, "period")) != 0 ||
        (rc = kopro_model__jstr(&m->period_to, period, "to", 1, "period")) != 0)
        return rc;
    if (!kopro_valid_date(m->period_from) || !kopro_valid_date(m->period_to) ||
        strcmp(m->period_from, m->period_to) > 0)
        return kopro_error_set(KOPRO_EINVAL,
                               "period: \"%s\" to \"%s\" is not a period; give two YYYY-MM-DD "
                               "dates, from <= to",
                               m->period_from, m->period_to);
    return 0;
}

static int load_json_accounts(struct kopro_accounts *m, const json_t *doc)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc =
        kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*m->accounts), doc, "accounts", NULL);
    if (rc != 0)
        return rc;
    m->accounts = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_pcn_account *a = &m->accounts[i];
        char path[48];
        m->n_accounts = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "accounts", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&a->code, o, "code", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&a->label, o, "label", 0, path)) != 0 ||
            (rc = kopro_model__jdec(&a->debit_cents, o, "debit", 2, 0, path)) != 0 ||
            (rc = kopro_model__jdec(&a->credit_cents, o, "credit", 2, 0, path)) != 0)
            return rc;
        if (a->code[0] != '6' && a->code[0] != '7')
            return kopro_error_set(KOPRO_EINVAL,
                                   "%s.code: \"%s\" is not a class 6 (charges) or class 7 "
                                   "(income) PCN account",
                                   path, a->code);
        kopro_model__pcn_account_total(m, a);
    }
    return 0;
}

static int load_json_people(struct kopro_accounts *m, const json_t *doc)
{
    const json_t *arr;
    void *items = NULL;
    size_t n;
    int rc;

    if ((rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*m->owners), doc, "owners",
                                        NULL)) != 0)
        return rc;
    m->owners = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        char path[48];
        m->n_owners = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "owners", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&m->owners[i].id, o, "id", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&m->owners[i].display_name, o, "name", 1, path)) != 0)
            return rc;
        m->owners[i].is_company = json_is_true(json_object_get(o, "is_company"));
    }
    if ((rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*m->units), doc, "units", NULL)) !=
        0)
        return rc;
    m->units = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        char path[48];
        m->n_units = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "units", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&m->units[i].id, o, "id", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&m->units[i].number, o, "number", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&m->units[i].type, o, "type", 0, path)) != 0 ||
            (rc = kopro_model__jdec(&m->units[i].quota_e4, o, "quota", 4, 1, path)) != 0)
            return rc;
    }
    if ((rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*m->ownerships), doc, "ownerships",
                                        NULL)) != 0)
        return rc;
    m->ownerships = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_ownership *w = &m->ownerships[i];
        char path[48];
        m->n_ownerships = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "ownerships", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&w->id, o, "id", 0, path)) != 0 ||
            (rc = ref(&w->unit, o, "unit", path, &m->units[0].id, m->n_units, sizeof(*m->units),
                      "units")) != 0 ||
            (rc = ref(&w->owner, o, "owner", path, &m->owners[0].id, m->n_owners,
                      sizeof(*m->owners), "owners")) != 0)
            return rc;
        if (json_object_get(o, "fraction") == NULL)
            w->fraction_e5 = KOPRO_FRACTION_SCALE;
        else if ((rc = kopro_model__jdec(&w->fraction_e5, o, "fraction", 5, 1, path)) != 0)
            return rc;
    }
    if ((rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*m->contributions), doc,
                                        "contributions", NULL)) != 0)
        return rc;
    m->contributions = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_contribution *c = &m->contributions[i];
        const char *kind;
        char path[48];
        m->n_contributions = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "contributions", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&c->id, o, "id", 0, path)) != 0 ||
            (rc = ref(&c->owner, o, "owner", path, &m->owners[0].id, m->n_owners,
                      sizeof(*m->owners), "owners")) != 0 ||
            (rc = kopro_model__jdec(&c->called_cents, o, "called", 2, 1, path)) != 0 ||
            (rc = kopro_model__jdec(&c->paid_cents, o, "paid", 2, 0, path)) != 0 ||
            (rc = kopro_model__jstr(&c->date, o, "date", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&c->description, o, "description", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&c->account_code, o, "account_code", 0, path)) != 0)
            return rc;
        kind = json_string_value(json_object_get(o, "fund"));
        if (kind == NULL || strcmp(kind, "working_capital") == 0)
            c->is_reserve = 0;
        else if (strcmp(kind, "reserve") == 0)
            c->is_reserve = 1;
        else
            return kopro_error_set(KOPRO_EINVAL,
                                   "%s.fund: \"%s\" is neither working_capital nor reserve", path,
                                   kind);
    }
    return 0;
}

int kopro_accounts_load_json(struct kopro_accounts **out, const json_t *doc)
{
    struct kopro_accounts *m = NULL;
    const char *src;
    int rc;

    *out = NULL;
    if (!json_is_object(doc)) {
        rc = kopro_error_set(KOPRO_EINVAL, "accounts model: the document must be a JSON object");
        goto done;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading the accounts model");
        goto done;
    }
    src = json_string_value(json_object_get(doc, "source"));
    if (src == NULL || strcmp(src, "journal_entry_lines") == 0) {
        m->source = KOPRO_ACCOUNTS_JOURNAL;
    } else if (strcmp(src, "expenses") == 0) {
        m->source = KOPRO_ACCOUNTS_EXPENSES;
    } else {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "source: \"%s\" is neither journal_entry_lines nor expenses", src);
        goto done;
    }
    if ((rc = load_json_building(m, doc)) != 0 || (rc = load_json_accounts(m, doc)) != 0 ||
        (rc = load_json_people(m, doc)) != 0)
        goto done;
    *out = m;
    m = NULL;
    rc = 0;
done:
    kopro_accounts_free(m);
    return rc;
}

int kopro_accounts_to_json(json_t **out, const struct kopro_accounts *m)
{
    json_t *doc = NULL;
    json_t *accounts = json_array();
    json_t *owners = json_array();
    json_t *units = json_array();
    json_t *ownerships = json_array();
    json_t *contribs = json_array();
    int bad = accounts == NULL || owners == NULL || units == NULL || ownerships == NULL ||
              contribs == NULL;

    *out = NULL;
    for (size_t i = 0; !bad && i < m->n_accounts; i++) {
        const struct kopro_pcn_account *a = &m->accounts[i];
        bad |= json_array_append_new(
                   accounts, json_pack("{s:s, s:o, s:i, s:o, s:o}", "code", a->code, "label",
                                       kopro_model__jstr_or_null(a->label), "class", a->pcn_class,
                                       "debit", kopro_model__jdec_new(a->debit_cents, 2), "credit",
                                       kopro_model__jdec_new(a->credit_cents, 2))) != 0;
    }
    for (size_t i = 0; !bad && i < m->n_owners; i++)
        bad |= json_array_append_new(owners, json_pack("{s:s, s:s, s:b}", "id", m->owners[i].id,
                                                       "name", m->owners[i].display_name,
                                                       "is_company", m->owners[i].is_company)) != 0;
    for (size_t i = 0; !bad && i < m->n_units; i++)
        bad |= json_array_append_new(
                   units, json_pack("{s:s, s:o, s:o, s:o}", "id", m->units[i].id, "number",
                                    kopro_model__jstr_or_null(m->units[i].number), "type",
                                    kopro_model__jstr_or_null(m->units[i].type), "quota",
                                    kopro_model__jdec_new(m->units[i].quota_e4, 4))) != 0;
    for (size_t i = 0; !bad && i < m->n_ownerships; i++) {
        const struct kopro_ownership *w = &m->ownerships[i];
        bad |= json_array_append_new(
                   ownerships,
                   json_pack("{s:o, s:s, s:s, s:o}", "id", kopro_model__jstr_or_null(w->id), "unit",
                             m->units[w->unit].id, "owner", m->owners[w->owner].id, "fraction",
                             kopro_model__jdec_new(w->fraction_e5, 5))) != 0;
    }
    for (size_t i = 0; !bad && i < m->n_contributions; i++) {
        const struct kopro_contribution *c = &m->contributions[i];
        bad |= json_array_append_new(
                   contribs,
                   json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
                             kopro_model__jstr_or_null(c->id), "owner", m->owners[c->owner].id,
                             "fund", c->is_reserve ? "reserve" : "working_capital", "called",
                             kopro_model__jdec_new(c->called_cents, 2), "paid",
                             kopro_model__jdec_new(c->paid_cents, 2), "date",
                             kopro_model__jstr_or_null(c->date), "description",
                             kopro_model__jstr_or_null(c->description), "account_code",
                             kopro_model__jstr_or_null(c->account_code))) != 0;
    }
    if (bad)
        goto fail;
    doc = json_pack("{s:s, s:i, s:{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:I}, s:{s:s, s:s}, s:s, "
                    "s:o, s:o, s:o, s:o, s:o}",
                    "model", "accounts", "version", 1, "building", "id",
                    kopro_model__jstr_or_null(m->building.id), "organization_id",
                    kopro_model__jstr_or_null(m->building.organization_id), "name",
                    m->building.name ? m->building.name : "", "address",
                    kopro_model__jstr_or_null(m->building.address), "postal_code",
                    kopro_model__jstr_or_null(m->building.postal_code), "city",
                    kopro_model__jstr_or_null(m->building.city), "syndic_name",
                    kopro_model__jstr_or_null(m->building.syndic_name), "total_tantiemes",
                    (json_int_t)m->building.total_tantiemes, "period", "from",
                    m->period_from ? m->period_from : "", "to", m->period_to ? m->period_to : "",
                    "source",
                    m->source == KOPRO_ACCOUNTS_EXPENSES ? "expenses" : "journal_entry_lines",
                    "accounts", accounts, "owners", owners, "units", units, "ownerships",
                    ownerships, "contributions", contribs);
    if (doc == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory writing the accounts model as JSON");
    *out = doc;
    return 0;
fail:
    json_decref(accounts);
    json_decref(owners);
    json_decref(units);
    json_decref(ownerships);
    json_decref(contribs);
    return kopro_error_set(KOPRO_ERROR, "out of memory writing the accounts model as JSON");
}

int kopro_accounts_result_to_json(json_t **out, const struct kopro_accounts *m,
                                  const struct kopro_statements *s, const char *only_owner)
{
    json_t *accounts = json_array();
    json_t *stmts = json_array();
    json_t *doc = NULL;
    int bad = accounts == NULL || stmts == NULL;
    size_t kept = 0;

    *out = NULL;
    for (size_t a = 0; !bad && a < m->n_accounts; a++) {
        const struct kopro_pcn_account *acc = &m->accounts[a];
        bad |=
            json_array_append_new(
                accounts, json_pack("{s:s, s:o, s:i, s:I}", "code", acc->code, "label",
                                    kopro_model__jstr_or_null(acc->label), "class", acc->pcn_class,
                                    "amount_cents", (json_int_t)acc->amount_cents)) != 0;
    }
    for (size_t i = 0; !bad && i < s->n_items; i++) {
        const struct kopro_statement *st = &s->items[i];
        const struct kopro_acc_owner *o = &m->owners[st->owner];
        json_t *lines = json_array();
        json_t *item;
        if (only_owner != NULL && (o->id == NULL || strcmp(o->id, only_owner) != 0)) {
            json_decref(lines);
            continue;
        }
        kept++;
        bad |= lines == NULL;
        for (size_t k = 0; !bad && k < st->n_lines; k++)
            bad |= json_array_append_new(
                        lines, json_pack("{s:s, s:I}", "code", m->accounts[st->lines[k].account].code,
                                         "owner_cents", (json_int_t)st->lines[k].owner_cents)) != 0;
        item = json_pack("{s:s, s:s, s:I, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                         "owner_id", o->id ? o->id : "", "name",
                         o->display_name ? o->display_name : "", "share_num",
                         (json_int_t)st->share_num, "share_den", (json_int_t)st->share_den,
                         "share_bp", st->share_bp, "charges_cents", (json_int_t)st->charges_cents,
                         "provisions_called_cents", (json_int_t)st->provisions_called_cents,
                         "provisions_paid_cents", (json_int_t)st->provisions_paid_cents,
                         "reserve_called_cents", (json_int_t)st->reserve_called_cents,
                         "reserve_paid_cents", (json_int_t)st->reserve_paid_cents, "balance_cents",
                         (json_int_t)st->balance_cents, "outstanding_cents",
                         (json_int_t)st->outstanding_cents, "lines", lines);
        bad |= item == NULL || json_array_append_new(stmts, item) != 0;
    }
    if (bad) {
        json_decref(accounts);
        json_decref(stmts);
        return kopro_error_set(KOPRO_ERROR, "out of memory writing statements as JSON");
    }
    if (only_owner != NULL && kept == 0) {
        json_decref(accounts);
        json_decref(stmts);
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "owner %s holds no lot of buildings %s at the end of the period "
                               "and was not called for funds in it",
                               only_owner, nz(m->building.id));
    }
    doc = json_pack("{s:o, s:{s:s, s:s}, s:s, s:I, s:I, s:o, s:o}", "building_id",
                    kopro_model__jstr_or_null(m->building.id), "period", "from",
                    m->period_from ? m->period_from : "", "to", m->period_to ? m->period_to : "",
                    "source",
                    m->source == KOPRO_ACCOUNTS_EXPENSES ? "expenses" : "journal_entry_lines",
                    "total_charges_cents", (json_int_t)m->total_charges_cents, "total_income_cents",
                    (json_int_t)m->total_income_cents, "accounts", accounts, "statements", stmts);
    if (doc == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory writing statements as JSON");
    *out = doc;
    return 0;
}
