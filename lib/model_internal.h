/*
 * lib/model_internal.h — helpers shared by the assembly and accounts models
 * (lib/assembly*.c, lib/accounts*.c); not public. Strings are wiped
 * (explicit_bzero) before they are freed: the models hold personal data.
 * Every function is reentrant; errors are set with kopro_error_set().
 */
#ifndef KOPRO_MODEL_INTERNAL_H
#define KOPRO_MODEL_INTERNAL_H

#include "kopro/accounts.h"
#include "kopro/assembly.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define KOPRO_MODEL_JSON_ARRAY_CAP 1000000 /* items per array of a JSON model */

/* Wipe and free a model string; NULL is accepted. */
void kopro_model__free_str(char *s);

/* Wipe and free the building's strings (not the struct itself); NULL is accepted. */
void kopro_model__free_building(struct kopro_building *b);

/* Wipe and free n units' strings and the array. */
void kopro_model__free_units(struct kopro_unit *units, size_t n);

/* Wipe and free n ownerships' ids and the array. */
void kopro_model__free_ownerships(struct kopro_ownership *w, size_t n);

/* *dst = a copy of src, or NULL when src is NULL. KOPRO_ERROR when out of memory. */
int kopro_model__dup(char **dst, const char *src);

/*
 * The index of the element whose id (a char * at `first` + i * stride) is
 * `id`, by linear search; KOPRO_NONE when id is NULL or not there.
 */
size_t kopro_model__find_id(char *const *first, size_t n, size_t stride, const char *id);

/* Set a's pcn_class from the first digit of its code (6 or 7, checked by the
 * caller), its amount (class 6: debit - credit; class 7: credit - debit) and
 * add it to m's charge or income total (AR 12 July 2012, PCN). */
void kopro_model__pcn_account_total(struct kopro_accounts *m, struct kopro_pcn_account *a);

/* ---- JSON load: `path` names the object in messages ("units[3]"). */

/* obj.key as a copied string (NULL when absent or null). KOPRO_EINVAL when
 * required and missing or when not a string. */
int kopro_model__jstr(char **dst, const json_t *obj, const char *key, int required,
                      const char *path);

/* obj.key as 0/1 (0 when absent or null). KOPRO_EINVAL when not a boolean. */
int kopro_model__jbool(int *dst, const json_t *obj, const char *key, const char *path);

/* obj.key as an exact decimal at scale_digits (kopro_decimal_parse), given as
 * an integer or a decimal string; a JSON real is refused (KOPRO_EINVAL): it
 * is a binary double and may not be exact. 0 when absent and not required. */
int kopro_model__jdec(int64_t *dst, const json_t *obj, const char *key, int scale_digits,
                      int required, const char *path);

/* obj.key as an array (NULL, 0 when absent or null). KOPRO_EINVAL when not an
 * array, KOPRO_ETOOBIG above KOPRO_MODEL_JSON_ARRAY_CAP items. `path` may be
 * NULL: the message then names only the key. */
int kopro_model__jarray(const json_t **dst, size_t *n, const json_t *obj, const char *key,
                        const char *path);

/* doc.building: its strings (name required) and total_tantiemes (a positive
 * integer). KOPRO_EINVAL naming the field when missing or malformed. */
int kopro_model__jbuilding(struct kopro_building *b, const json_t *doc);

/* kopro_model__jarray(), then *items = a zeroed array of max(1, *n) elements
 * of elem_bytes (the caller owns it). KOPRO_ERROR "out of memory reading
 * <key>" when out of memory; *items is NULL on any error. */
int kopro_model__jarray_alloc(const json_t **arr, size_t *n, void **items, size_t elem_bytes,
                              const json_t *obj, const char *key, const char *path);

/* *o = arr[i], and path = "<key>[<i>]" for the messages about it (truncated
 * to path_bytes). KOPRO_EINVAL "<path>: must be an object" when it is not. */
int kopro_model__jitem(const json_t **o, char *path, size_t path_bytes, const json_t *arr,
                       const char *key, size_t i);

/* ---- JSON dump: new references, NULL when out of memory. */

/* json_string(s), or json_null() when s is NULL. */
json_t *kopro_model__jstr_or_null(const char *s);

/* The exact decimal string of value at scale_digits ("250.5000"). */
json_t *kopro_model__jdec_new(int64_t value, int scale_digits);

/* ---- database rows (kopro/db.h). */

/*
 * Run `sql` ("reading <table>") and allocate *arr_out for its rows: an array of
 * max(1, rows) zeroed elements of elem_bytes. *res_out (PQclear by the caller,
 * also on error) and *n_out receive the result and its row count. Errors:
 * kopro_db_exec's; KOPRO_ERROR "out of memory reading <table>".
 */
int kopro_model__db_rows(PGresult **res_out, int *n_out, void **arr_out, size_t elem_bytes,
                         PGconn *db, const char *table, const char *sql, int nparams,
                         const char *const *params);

/* *dst = a copy of the value at (row, col), or NULL for SQL NULL. KOPRO_ERROR
 * "out of memory reading <what>" when out of memory. */
int kopro_model__db_str(char **dst, const PGresult *res, int row, int col, const char *what);

/*
 * Every unit of building_id, by unit_number then id: id, unit_number,
 * unit_type and quota (float8 read through numeric, so that the text does not
 * depend on extra_float_digits) as _e4. *units_out is allocated (at least one
 * element) and *n_out counts the units filled in, also on error, so that the
 * model's free releases them. Errors: kopro_db_exec's, KOPRO_EINVAL for a
 * quota that is not exact at 1/10000, KOPRO_ERROR when out of memory.
 */
int kopro_model__db_units(struct kopro_unit **units_out, size_t *n_out, PGconn *db,
                          const char *building_id, const char *what);

/*
 * The rows (unit_owners.id, unit_id, owner_id, ownership_percentage::text) of
 * res as ownerships of the units and of the owners whose ids stand at
 * owner_ids + i * owner_stride. *n_out counts the rows filled in, also on
 * error. Errors: KOPRO_ERROR when a unit or owner was not loaded or out of
 * memory, KOPRO_EINVAL for a percentage not exact at 1/100000.
 */
int kopro_model__db_ownerships(struct kopro_ownership **out, size_t *n_out, const PGresult *res,
                               const struct kopro_unit *units, size_t n_units,
                               char *const *owner_ids, size_t n_owners, size_t owner_stride,
                               const char *what);

/*
 * "First Last", or only `last` for a legal person (KoproGo has no company
 * flag: an empty or NULL first name marks one), into a new string. Sets
 * *is_company. KOPRO_ERROR when out of memory.
 */
int kopro_model__display_name(char **out, int *is_company, const char *first, const char *last);

#endif
