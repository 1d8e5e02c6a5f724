/*
 * kopro/i18n.h — document wording from templates/ and per-language
 * formatting of numbers, money, percentages and dates.
 *
 * Wording lives in JSON files, one per document and language:
 * `<template_dir>/<doc>/<lang>.json`, a flat object of string values
 * (e.g. templates/minutes/fr.json). They are read at run time, so they can be
 * edited without recompiling. The template directory is, in order:
 * $KOPRO_TEMPLATE_DIR, `<dir of the executable>/../../templates` (the
 * source tree, for binaries in BUILD/bin), `/usr/share/kopro/templates`.
 *
 * Languages: "fr", "nl", "de", "en" (the official languages of Belgium plus
 * English; art. 3.87 §10 lets an owner ask for the language of the region).
 *
 * Times are stored in UTC and displayed in Europe/Brussels. The conversion
 * reads the system tz database file (/usr/share/zoneinfo/Europe/Brussels,
 * TZif format, RFC 8536) once, under pthread_once, and never touches the
 * process-wide TZ variable, so it is thread-safe and independent of the
 * caller's TZ and LC_ALL.
 */
#ifndef KOPRO_I18N_H
#define KOPRO_I18N_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kopro/buf.h"

/* Cap of one template file. */
#define KOPRO_I18N_FILE_CAP_BYTES (256 * 1024)

struct kopro_i18n; /* opaque: the wording of one document in one language */

/*
 * 1 if `lang` is one of "fr", "nl", "de", "en", else 0. NULL gives 0.
 * Thread-safe.
 */
int kopro_i18n_lang_valid(const char *lang);

/*
 * The template directory (see above), or NULL if none exists. `cfg_dir` is a
 * value from the configuration (KOPRO_TEMPLATE_DIR) and wins when non-NULL
 * and non-empty. The string is static or belongs to the caller's `cfg_dir`.
 * Thread-safe.
 */
const char *kopro_i18n_template_dir(const char *cfg_dir);

/*
 * Load `<template_dir>/<doc>/<lang>.json`. template_dir NULL means
 * kopro_i18n_template_dir(NULL).
 * Returns 0; KOPRO_EINVAL for an unknown language, a malformed file or a
 * non-string value (message names the file and key); KOPRO_ENOTFOUND if the
 * file or the template directory is missing; KOPRO_ETOOBIG past
 * KOPRO_I18N_FILE_CAP_BYTES. *out is owned by the caller: kopro_i18n_free().
 * Thread-safety: a loaded object may be read by several threads.
 */
int kopro_i18n_load(struct kopro_i18n **out, const char *template_dir, const char *doc,
                    const char *lang);

/* Release; NULL allowed. */
void kopro_i18n_free(struct kopro_i18n *t);

/* The language code the object was loaded for ("fr", ...). Belongs to `t`. */
const char *kopro_i18n_lang(const struct kopro_i18n *t);

/*
 * The string for `key`. Returns 0 and sets *out (belongs to `t`), or
 * KOPRO_EINVAL "templates/minutes/fr.json: missing key 'x'; add it to the
 * template" if the key is absent.
 */
int kopro_i18n_get(const char **out, const struct kopro_i18n *t, const char *key);

/*
 * Convenience for renderers that look up many keys: the string for `key`, or
 * "" when missing, in which case the first missing key is remembered in `t`
 * and reported by kopro_i18n_status(). Not thread-safe on one `t` (it writes
 * the remembered error).
 */
const char *kopro_i18n_s(struct kopro_i18n *t, const char *key);

/*
 * 0 if every kopro_i18n_s() lookup so far succeeded, else KOPRO_EINVAL with
 * the message naming the file and the first missing key.
 */
int kopro_i18n_status(const struct kopro_i18n *t);

/*
 * The sorted, comma-separated list of keys of the file (for the test that
 * compares the four languages). *out is owned by the caller: free().
 * Returns 0 or KOPRO_ERROR (allocation).
 */
int kopro_i18n_keys(char **out, const struct kopro_i18n *t);

/*
 * Substitute "{name}" placeholders in `tmpl` with the values of the
 * NULL-terminated list of name/value pairs `kv` (kv[0]=name, kv[1]=value,
 * ...), appending the result to `out`. An unknown placeholder is an error
 * (KOPRO_EINVAL naming it); "{{" gives "{". Errors of kopro_buf_add()
 * (KOPRO_ETOOBIG) propagate.
 */
int kopro_i18n_subst(struct kopro_buf *out, const char *tmpl, const char *const *kv);

/*
 * Format an integer with the language's thousands separator:
 * fr "12 345" (narrow no-break space U+202F), nl/de "12.345", en "12,345".
 * `out` needs at least 40 bytes. Thread-safe.
 */
void kopro_i18n_int(char *out, size_t out_bytes, const char *lang, int64_t value);

/*
 * Format an amount of money given in cents: fr "1 234,56 €", nl "€ 1.234,56",
 * de "1.234,56 €", en "€1,234.56" (negative amounts get a leading '-').
 * Exact: integer arithmetic only. `out` needs at least 48 bytes. Thread-safe.
 */
void kopro_i18n_money(char *out, size_t out_bytes, const char *lang, int64_t amount_cents);

/*
 * Format num/den (den > 0, both >= 0) as a percentage with two decimals,
 * rounded half up, exactly: fr/nl/de "66,67 %", en "66.67%". den == 0 gives
 * "—". `out` needs at least 48 bytes. Thread-safe.
 */
void kopro_i18n_percent(char *out, size_t out_bytes, const char *lang, int64_t num, int64_t den);

/*
 * Convert a UTC instant to Europe/Brussels wall-clock time (struct tm with
 * tm_gmtoff and tm_isdst set). Returns 0, KOPRO_ENOTFOUND if the tz
 * database file is missing, KOPRO_EINVAL if it is malformed or `t_utc` lies
 * beyond its table. Thread-safe (the file is read once).
 * Source: RFC 8536 (TZif), IANA tz database zone Europe/Brussels.
 */
int kopro_i18n_brussels(struct tm *out, time_t t_utc);

/*
 * Format a date in Europe/Brussels: fr "12 mars 2026", nl "12 maart 2026",
 * de "12. März 2026", en "12 March 2026". Returns 0 or the errors of
 * kopro_i18n_brussels(). `out` needs at least 48 bytes. Thread-safe.
 */
int kopro_i18n_date(char *out, size_t out_bytes, const char *lang, time_t t_utc);

/*
 * Date and time in Europe/Brussels, e.g. fr "12 mars 2026, 14:05",
 * en "12 March 2026, 14:05 CET". Errors as kopro_i18n_date(). `out` needs at
 * least 64 bytes. Thread-safe.
 */
int kopro_i18n_datetime(char *out, size_t out_bytes, const char *lang, time_t t_utc);

/*
 * Parse an ISO 8601 / PostgreSQL timestamp ("2026-03-12 14:05:00+00",
 * "2026-03-12T14:05:00Z", "2026-03-12T14:05:00.123+01:00", or a bare date
 * "2026-03-12" meaning midnight UTC) into a UTC time_t. Returns 0 or
 * KOPRO_EINVAL naming the text. Thread-safe. Source: RFC 3339.
 */
int kopro_i18n_parse_time(time_t *out, const char *text);

#endif
