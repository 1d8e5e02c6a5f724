/*
 * lib/model_util.c — helpers shared by the assembly and accounts models
 * (lib/model_internal.h): wiping frees, JSON field readers whose messages
 * name the field, and the database row readers both loaders need.
 */
#include "model_internal.h"

#include "kopro/db.h"
#include "kopro/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kopro_model__free_str(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void kopro_model__free_building(struct kopro_building *b)
{
    if (b == NULL)
        return;
    kopro_model__free_str(b->id);
    kopro_model__free_str(b->organization_id);
    kopro_model__free_str(b->name);
    kopro_model__free_str(b->address);
    kopro_model__free_str(b->postal_code);
    kopro_model__free_str(b->city);
    kopro_model__free_str(b->syndic_name);
}

void kopro_model__free_units(struct kopro_unit *units, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kopro_model__free_str(units[i].id);
        kopro_model__free_str(units[i].number);
        kopro_model__free_str(units[i].type);
    }
    free(units);
}

void kopro_model__free_ownerships(struct kopro_ownership *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kopro_model__free_str(w[i].id);
    free(w);
}

int kopro_model__dup(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = strdup(src);
    return *dst == NULL ? kopro_error_set(KOPRO_ERROR, "out of memory copying a string") : 0;
}

size_t kopro_model__find_id(char *const *first, size_t n, size_t stride, const char *id)
{
    if (id == NULL)
        return KOPRO_NONE;
    for (size_t i = 0; i < n; i++) {
        const char *x = *(char *const *)((const char *)first + i * stride);
        if (x != NULL && strcmp(x, id) == 0)
            return i;
    }
    return KOPRO_NONE;
}

void kopro_model__pcn_account_total(struct kopro_accounts *m, struct kopro_pcn_account *a)
{
    a->pcn_class = a->code[0] - '0';
    a->amount_cents =
        a->pcn_class == 6 ? a->debit_cents - a->credit_cents : a->credit_cents - a->debit_cents;
    if (a->pcn_class == 6)
        m->total_charges_cents += a->amount_cents;
    else
        m->total_income_cents += a->amount_cents;
}

/* ------------------------------------------------------------ JSON load */

int kopro_model__jstr(char **dst, const json_t *obj, const char *key, int required,
                      const char *path)
{
    const json_t *v = json_object_get(obj, key);
    *dst = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return kopro_error_set(KOPRO_EINVAL, "%s.%s: missing; it is required (a string)", path,
                                   key);
        return 0;
    }
    if (!json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "%s.%s: must be a string", path, key);
    return kopro_model__dup(dst, json_string_value(v));
}

int kopro_model__jbool(int *dst, const json_t *obj, const char *key, const char *path)
{
    const json_t *v = json_object_get(obj, key);
    *dst = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return kopro_error_set(KOPRO_EINVAL, "%s.%s: must be true or false", path, key);
    *dst = json_is_true(v);
    return 0;
}

int kopro_model__jdec(int64_t *dst, const json_t *obj, const char *key, int scale_digits,
                      int required, const char *path)
{
    const json_t *v = json_object_get(obj, key);
    char what[160];
    char example[32];
    int64_t ex = 2505; /* 250.5 at the field's scale */
    *dst = 0;
    snprintf(what, sizeof(what), "%s.%s", path, key);
    for (int i = 1; i < scale_digits && i < 15; i++)
        ex *= 10;
    kopro_decimal_format(example, sizeof(example), scale_digits > 0 ? ex : 250, scale_digits);
    if (v == NULL || json_is_null(v)) {
        if (required)
            return kopro_error_set(KOPRO_EINVAL, "%s: missing; give a decimal string like \"%s\"",
                                   what, example);
        return 0;
    }
    if (json_is_integer(v)) {
        char text[32];
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
        return kopro_decimal_parse(dst, text, scale_digits, what);
    }
    if (json_is_string(v))
        return kopro_decimal_parse(dst, json_string_value(v), scale_digits, what);
    return kopro_error_set(KOPRO_EINVAL,
                           "%s: give an integer or a decimal string (\"%s\"), not a JSON "
                           "real, so that the value stays exact",
                           what, example);
}

int kopro_model__jarray(const json_t **dst, size_t *n, const json_t *obj, const char *key,
                        const char *path)
{
    const json_t *v = json_object_get(obj, key);
    *dst = NULL;
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return kopro_error_set(KOPRO_EINVAL, "%s%s%s: must be an array", path ? path : "",
                               path ? "." : "", key);
    if (json_array_size(v) > KOPRO_MODEL_JSON_ARRAY_CAP)
        return kopro_error_set(KOPRO_ETOOBIG, "%s%s%s: more than %d items", path ? path : "",
                               path ? "." : "", key, KOPRO_MODEL_JSON_ARRAY_CAP);
    *dst = v;
    *n = json_array_size(v);
    return 0;
}

int kopro_model__jbuilding(struct kopro_building *bld, const json_t *doc)
{
    const json_t *b = json_object_get(doc, "building");
    const json_t *tt;
    int rc;
    if (!json_is_object(b))
        return kopro_error_set(KOPRO_EINVAL, "building: missing; it must be an object");
    if ((rc = kopro_model__jstr(&bld->id, b, "id", 0, "building")) != 0 ||
        (rc = kopro_model__jstr(&bld->organization_id, b, "organization_id", 0, "building")) != 0 ||
        (rc = kopro_model__jstr(&bld->name, b, "name", 1, "building")) != 0 ||
        (rc = kopro_model__jstr(&bld->address, b, "address", 0, "building")) != 0 ||
        (rc = kopro_model__jstr(&bld->postal_code, b, "postal_code", 0, "building")) != 0 ||
        (rc = kopro_model__jstr(&bld->city, b, "city", 0, "building")) != 0 ||
        (rc = kopro_model__jstr(&bld->syndic_name, b, "syndic_name", 0, "building")) != 0)
        return rc;
    tt = json_object_get(b, "total_tantiemes");
    if (!json_is_integer(tt) || json_integer_value(tt) <= 0 || json_integer_value(tt) > INT32_MAX)
        return kopro_error_set(KOPRO_EINVAL,
                               "building.total_tantiemes: must be a positive integer (e.g. 10000)");
    bld->total_tantiemes = json_integer_value(tt);
    return 0;
}

int kopro_model__jarray_alloc(const json_t **arr, size_t *n, void **items, size_t elem_bytes,
                              const json_t *obj, const char *key, const char *path)
{
    int rc;
    *items = NULL;
    if ((rc = kopro_model__jarray(arr, n, obj, key, path)) != 0)
        return rc;
    *items = calloc(*n ? *n : 1, elem_bytes);
    if (*items == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory reading %s", key);
    return 0;
}

int kopro_model__jitem(const json_t **o, char *path, size_t path_bytes, const json_t *arr,
                       const char *key, size_t i)
{
    *o = json_array_get(arr, i);
    snprintf(path, path_bytes, "%s[%zu]", key, i);
    if (!json_is_object(*o))
        return kopro_error_set(KOPRO_EINVAL, "%s: must be an object", path);
    return 0;
}

/* ------------------------------------------------------------ JSON dump */

json_t *kopro_model__jstr_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

json_t *kopro_model__jdec_new(int64_t value, int scale_digits)
{
    char buf[32];
    kopro_decimal_format(buf, sizeof(buf), value, scale_digits);
    return json_string(buf);
}

/* ------------------------------------------------------------ database rows */

int kopro_model__db_str(char **dst, const PGresult *res, int row, int col, const char *what)
{
    const char *v = kopro_db_value(res, row, col);
    *dst = NULL;
    if (v == NULL)
        return 0;
    *dst = strdup(v);
    return *dst == NULL ? kopro_error_set(KOPRO_ERROR, "out of memory reading %s", what) : 0;
}

int kopro_model__db_rows(PGresult **res_out, int *n_out, void **arr_out, size_t elem_bytes,
                         PGconn *db, const char *table, const char *sql, int nparams,
                         const char *const *params)
{
    char what[96];
    int rc;

    *n_out = 0;
    *arr_out = NULL;
    snprintf(what, sizeof(what), "reading %s", table);
    if ((rc = kopro_db_exec(db, res_out, what, sql, nparams, params)) != 0)
        return rc;
    *n_out = PQntuples(*res_out);
    *arr_out = calloc(*n_out ? (size_t)*n_out : 1, elem_bytes);
    if (*arr_out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory %s", what);
    return 0;
}

int kopro_model__db_units(struct kopro_unit **units_out, size_t *n_out, PGconn *db,
                          const char *building_id, const char *what)
{
    /* quota is float8: cast through numeric (15 significant digits) so that
     * the text does not depend on the session's extra_float_digits */
    static const char sql[] =
        "SELECT id, unit_number, unit_type::text, quota::numeric::text FROM units"
        " WHERE building_id = $1 ORDER BY unit_number, id";
    const char *params[1] = {building_id};
    PGresult *res = NULL;
    void *arr = NULL;
    int n, rc;

    rc = kopro_model__db_rows(&res, &n, &arr, sizeof(**units_out), db, "units", sql, 1, params);
    *units_out = arr;
    if (rc != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        struct kopro_unit *u = &(*units_out)[i];
        char quota_what[96];
        *n_out = (size_t)i + 1;
        if ((rc = kopro_model__db_str(&u->id, res, i, 0, what)) != 0 ||
            (rc = kopro_model__db_str(&u->number, res, i, 1, what)) != 0 ||
            (rc = kopro_model__db_str(&u->type, res, i, 2, what)) != 0)
            goto done;
        snprintf(quota_what, sizeof(quota_what), "units %s: quota", u->id);
        if ((rc = kopro_decimal_parse(&u->quota_e4, kopro_db_value(res, i, 3), 4, quota_what)) != 0)
            goto done;
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

int kopro_model__db_ownerships(struct kopro_ownership **out, size_t *n_out, const PGresult *res,
                               const struct kopro_unit *units, size_t n_units,
                               char *const *owner_ids, size_t n_owners, size_t owner_stride,
                               const char *what)
{
    int n = PQntuples(res);
    int rc;

    *out = calloc(n ? (size_t)n : 1, sizeof(**out));
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory reading unit_owners");
    for (int i = 0; i < n; i++) {
        struct kopro_ownership *w = &(*out)[i];
        char pct_what[96];
        *n_out = (size_t)i + 1;
        if ((rc = kopro_model__db_str(&w->id, res, i, 0, what)) != 0)
            return rc;
        w->unit =
            kopro_model__find_id(&units[0].id, n_units, sizeof(*units), kopro_db_value(res, i, 1));
        w->owner =
            kopro_model__find_id(owner_ids, n_owners, owner_stride, kopro_db_value(res, i, 2));
        if (w->unit == KOPRO_NONE || w->owner == KOPRO_NONE)
            return kopro_error_set(KOPRO_ERROR, "unit_owners %s: unit or owner not loaded", w->id);
        snprintf(pct_what, sizeof(pct_what), "unit_owners %s: ownership_percentage", w->id);
        if ((rc = kopro_decimal_parse(&w->fraction_e5, kopro_db_value(res, i, 3), 5, pct_what)) !=
            0)
            return rc;
    }
    return 0;
}

int kopro_model__display_name(char **out, int *is_company, const char *first, const char *last)
{
    size_t len = (first ? strlen(first) : 0) + (last ? strlen(last) : 0) + 2;
    *is_company = first == NULL || first[0] == '\0';
    *out = malloc(len);
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory reading owners");
    snprintf(*out, len, "%s%s%s", *is_company ? "" : first,
             !*is_company && last && last[0] ? " " : "", last ? last : "");
    return 0;
}
