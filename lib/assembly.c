/*
 * lib/assembly.c — the assembly model: exact decimals, JSON load/dump, free.
 * The database loader is lib/assembly_db.c.
 */
#include "kopro/assembly.h"

#include "kopro/error.h"
#include "model_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ decimals */

int kopro_decimal_parse(int64_t *out, const char *text, int scale_digits, const char *what)
{
    const char *p = text;
    int neg = 0;
    int frac_digits = 0;
    int any_digit = 0;
    __int128 v = 0;
    const __int128 limit = (__int128)INT64_MAX;

    *out = 0;
    if (text == NULL)
        return kopro_error_set(KOPRO_EINVAL, "%s: missing number; give a decimal like 250.0000",
                               what);
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        any_digit = 1;
        if (v > limit)
            goto overflow;
    }
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++) {
            any_digit = 1;
            if (frac_digits < scale_digits) {
                v = v * 10 + (*p - '0');
                frac_digits++;
                if (v > limit)
                    goto overflow;
            } else if (*p != '0') {
                return kopro_error_set(KOPRO_EINVAL,
                                       "%s: \"%s\" has more than %d significant decimals, so it "
                                       "is not exact at this scale; correct the stored value",
                                       what, text, scale_digits);
            }
        }
    }
    if (*p != '\0' || !any_digit)
        return kopro_error_set(KOPRO_EINVAL,
                               "%s: \"%s\" is not a plain decimal number (digits, one optional "
                               "point, no exponent)",
                               what, text);
    for (; frac_digits < scale_digits; frac_digits++) {
        v *= 10;
        if (v > limit)
            goto overflow;
    }
    *out = (int64_t)(neg ? -v : v);
    return 0;
overflow:
    return kopro_error_set(KOPRO_EINVAL, "%s: \"%s\" is too large", what, text);
}

void kopro_decimal_format(char *buf, size_t buf_bytes, int64_t value, int scale_digits)
{
    if (scale_digits > 18)
        scale_digits = 18;
    uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    uint64_t div = 1;
    for (int i = 0; i < scale_digits; i++)
        div *= 10;
    if (scale_digits <= 0)
        snprintf(buf, buf_bytes, "%s%llu", value < 0 ? "-" : "", (unsigned long long)mag);
    else
        snprintf(buf, buf_bytes, "%s%llu.%0*llu", value < 0 ? "-" : "",
                 (unsigned long long)(mag / div), scale_digits, (unsigned long long)(mag % div));
}

/* ------------------------------------------------------------ free */

void kopro_assembly_free(struct kopro_assembly *a)
{
    if (a == NULL)
        return;
    kopro_model__free_building(&a->building);
    kopro_model__free_str(a->meeting.id);
    kopro_model__free_str(a->meeting.title);
    kopro_model__free_str(a->meeting.location);
    kopro_model__free_str(a->meeting.status);
    for (size_t i = 0; i < a->meeting.n_agenda; i++)
        kopro_model__free_str(a->meeting.agenda[i]);
    free(a->meeting.agenda);
    kopro_model__free_str(a->meeting.president_name);
    kopro_model__free_str(a->meeting.secretary_name);
    for (size_t i = 0; i < a->n_owners; i++) {
        kopro_model__free_str(a->owners[i].id);
        kopro_model__free_str(a->owners[i].display_name);
        kopro_model__free_str(a->owners[i].first_name);
        kopro_model__free_str(a->owners[i].last_name);
    }
    free(a->owners);
    kopro_model__free_units(a->units, a->n_units);
    kopro_model__free_ownerships(a->ownerships, a->n_ownerships);
    for (size_t i = 0; i < a->n_proxies; i++) {
        kopro_model__free_str(a->proxies[i].holder_id);
        kopro_model__free_str(a->proxies[i].holder_name);
        kopro_model__free_str(a->proxies[i].source);
    }
    free(a->proxies);
    for (size_t i = 0; i < a->n_resolutions; i++) {
        struct kopro_resolution *r = &a->resolutions[i];
        kopro_model__free_str(r->id);
        kopro_model__free_str(r->title);
        kopro_model__free_str(r->description);
        kopro_model__free_str(r->resolution_type);
        kopro_model__free_str(r->majority_required);
        kopro_model__free_str(r->stored_status);
    }
    free(a->resolutions);
    for (size_t i = 0; i < a->n_votes; i++)
        kopro_model__free_str(a->votes[i].id);
    free(a->votes);
    explicit_bzero(a, sizeof(*a));
    free(a);
}

int kopro_assembly_set_officers(struct kopro_assembly *a, const char *president_name,
                                const char *secretary_name)
{
    char *p = NULL;
    char *s = NULL;
    if (kopro_model__dup(&p, president_name) != 0 || kopro_model__dup(&s, secretary_name) != 0) {
        kopro_model__free_str(p);
        return KOPRO_ERROR;
    }
    kopro_model__free_str(a->meeting.president_name);
    kopro_model__free_str(a->meeting.secretary_name);
    a->meeting.president_name = p;
    a->meeting.secretary_name = s;
    return 0;
}

/* ------------------------------------------------------------ id index */

struct id_entry {
    const char *id;
    size_t idx;
};

struct id_index {
    struct id_entry *e;
    size_t n;
};

static int id_cmp(const void *x, const void *y)
{
    return strcmp(((const struct id_entry *)x)->id, ((const struct id_entry *)y)->id);
}

/* Build a sorted index over `n` ids found at stride `stride` from `first`. */
static int id_index_build(struct id_index *ix, const void *first, size_t n, size_t stride,
                          const char *what)
{
    ix->n = n;
    ix->e = calloc(n ? n : 1, sizeof(*ix->e));
    if (ix->e == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory indexing %s", what);
    for (size_t i = 0; i < n; i++) {
        ix->e[i].id = *(char *const *)((const char *)first + i * stride);
        ix->e[i].idx = i;
    }
    qsort(ix->e, n, sizeof(*ix->e), id_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ix->e[i - 1].id, ix->e[i].id) == 0)
            return kopro_error_set(KOPRO_EINVAL, "%s: id %s appears twice; ids must be unique",
                                   what, ix->e[i].id);
    return 0;
}

static size_t id_index_find(const struct id_index *ix, const char *id)
{
    struct id_entry key = {id, 0};
    const struct id_entry *hit;
    if (id == NULL || ix->n == 0)
        return KOPRO_NONE;
    hit = bsearch(&key, ix->e, ix->n, sizeof(*ix->e), id_cmp);
    return hit ? hit->idx : KOPRO_NONE;
}

/* ------------------------------------------------------------ JSON load */

/* "YYYY-MM-DDTHH:MM:SSZ" (or "+00:00", or a space instead of T; seconds optional). */
static int parse_utc(int64_t *out, const char *s, const char *what)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    const char *rest;
    memset(&tm, 0, sizeof(tm));
    if (s == NULL || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        goto bad;
    rest = s + n;
    if (*rest == 'T' || *rest == ' ') {
        int m = 0;
        if (sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
            goto bad;
        rest += 1 + m;
        if (*rest == ':') {
            if (sscanf(rest + 1, "%2d%n", &sec, &m) != 1)
                goto bad;
            rest += 1 + m;
        }
        if (*rest == '.')
            for (rest++; *rest >= '0' && *rest <= '9'; rest++)
                ;
        if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0 && strcmp(rest, "+00") != 0)
            goto bad;
    } else if (*rest != '\0') {
        goto bad;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        goto bad;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return 0;
bad:
    return kopro_error_set(KOPRO_EINVAL,
                           "%s: \"%s\" is not a UTC time; write it like 2026-03-14T18:00:00Z",
                           what, s ? s : "(missing)");
}

static int enum_of(int *dst, const char *text, const char *const *names, size_t n,
                   const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(text, names[i]) == 0) {
            *dst = (int)i;
            return 0;
        }
    return kopro_error_set(KOPRO_EINVAL, "%s: unknown value \"%s\"", what, text);
}

static const char *const attendance_names[] = {"absent", "present", "represented"};
static const char *const choice_names[] = {"Pour", "Contre", "Abstention"};
static const char *const meeting_type_names[] = {"ordinary", "extraordinary"};
static const char *const source_names[] = {"convocation_recipients", "votes"};

static int load_meeting(struct kopro_assembly *a, const json_t *doc)
{
    const json_t *m = json_object_get(doc, "meeting");
    const json_t *agenda;
    char *text = NULL;
    size_t n;
    int v = 0;
    int rc;
    if (!json_is_object(m))
        return kopro_error_set(KOPRO_EINVAL, "meeting: missing; it must be an object");
    if ((rc = kopro_model__jstr(&a->meeting.id, m, "id", 0, "meeting")) != 0 ||
        (rc = kopro_model__jstr(&a->meeting.title, m, "title", 0, "meeting")) != 0 ||
        (rc = kopro_model__jstr(&a->meeting.location, m, "location", 0, "meeting")) != 0 ||
        (rc = kopro_model__jstr(&a->meeting.status, m, "status", 0, "meeting")) != 0 ||
        (rc = kopro_model__jstr(&a->meeting.president_name, m, "president", 0, "meeting")) != 0 ||
        (rc = kopro_model__jstr(&a->meeting.secretary_name, m, "secretary", 0, "meeting")) != 0 ||
        (rc = kopro_model__jbool(&a->meeting.is_second_convocation, m, "is_second_convocation",
                                 "meeting")) != 0)
        return rc;
    if ((rc = kopro_model__jstr(&text, m, "type", 0, "meeting")) != 0)
        return rc;
    if (text != NULL) {
        rc = enum_of(&v, text, meeting_type_names, 2, "meeting.type (ordinary|extraordinary)");
        free(text);
        if (rc != 0)
            return rc;
        a->meeting.type = (enum kopro_meeting_type)v;
    }
    if ((rc = kopro_model__jstr(&text, m, "scheduled_at", 1, "meeting")) != 0)
        return rc;
    rc = parse_utc(&a->meeting.scheduled_at_utc, text, "meeting.scheduled_at");
    free(text);
    if (rc != 0)
        return rc;
    if ((rc = kopro_model__jarray(&agenda, &n, m, "agenda", "meeting")) != 0)
        return rc;
    if (n > 0) {
        a->meeting.agenda = calloc(n, sizeof(char *));
        if (a->meeting.agenda == NULL)
            return kopro_error_set(KOPRO_ERROR, "out of memory reading meeting.agenda");
        for (size_t i = 0; i < n; i++) {
            const json_t *it = json_array_get(agenda, i);
            if (!json_is_string(it))
                return kopro_error_set(KOPRO_EINVAL, "meeting.agenda[%zu]: must be a string", i);
            if ((rc = kopro_model__dup(&a->meeting.agenda[i], json_string_value(it))) != 0)
                return rc;
            a->meeting.n_agenda = i + 1;
        }
    }
    return 0;
}

static int load_owners(struct kopro_assembly *a, const json_t *doc)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*a->owners), doc, "owners", "$");
    if (rc != 0)
        return rc;
    a->owners = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_owner *w = &a->owners[i];
        char path[48];
        char *att = NULL;
        int v = 0;
        a->n_owners = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "owners", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&w->id, o, "id", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&w->first_name, o, "first_name", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&w->last_name, o, "last_name", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&w->display_name, o, "name", 0, path)) != 0 ||
            (rc = kopro_model__jbool(&w->is_company, o, "is_company", path)) != 0 ||
            (rc = kopro_model__jbool(&w->is_syndic, o, "is_syndic", path)) != 0)
            return rc;
        if (w->display_name == NULL) {
            size_t len = (w->first_name ? strlen(w->first_name) : 0) +
                         (w->last_name ? strlen(w->last_name) : 0) + 2;
            if (w->first_name == NULL && w->last_name == NULL)
                return kopro_error_set(KOPRO_EINVAL,
                                       "%s: give \"name\" or \"first_name\"/\"last_name\"", path);
            w->display_name = malloc(len);
            if (w->display_name == NULL)
                return kopro_error_set(KOPRO_ERROR, "out of memory reading %s", path);
            snprintf(w->display_name, len, "%s%s%s", w->first_name ? w->first_name : "",
                     w->first_name && w->last_name ? " " : "", w->last_name ? w->last_name : "");
        }
        if ((rc = kopro_model__jstr(&att, o, "attendance", 0, path)) != 0)
            return rc;
        if (att != NULL) {
            char what[128];
            snprintf(what, sizeof(what), "%s.attendance (present|represented|absent)", path);
            rc = enum_of(&v, att, attendance_names, 3, what);
            free(att);
            if (rc != 0)
                return rc;
            w->attendance = (enum kopro_attendance)v;
        }
    }
    return 0;
}

static int load_units(struct kopro_assembly *a, const json_t *doc)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*a->units), doc, "units", "$");
    if (rc != 0)
        return rc;
    a->units = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_unit *u = &a->units[i];
        char path[48];
        a->n_units = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "units", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&u->id, o, "id", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&u->number, o, "number", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&u->type, o, "type", 0, path)) != 0 ||
            (rc = kopro_model__jdec(&u->quota_e4, o, "quota", 4, 1, path)) != 0)
            return rc;
        if (u->number == NULL && (rc = kopro_model__dup(&u->number, u->id)) != 0)
            return rc;
    }
    return 0;
}

static int ref(size_t *dst, const struct id_index *ix, const json_t *o, const char *key,
               int required, const char *path, const char *target)
{
    const json_t *v = json_object_get(o, key);
    *dst = KOPRO_NONE;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return kopro_error_set(KOPRO_EINVAL, "%s.%s: missing; give the id of one of %s",
                                   path, key, target);
        return 0;
    }
    if (!json_is_string(v))
        return kopro_error_set(KOPRO_EINVAL, "%s.%s: must be an id string", path, key);
    *dst = id_index_find(ix, json_string_value(v));
    if (*dst == KOPRO_NONE)
        return kopro_error_set(KOPRO_EINVAL, "%s.%s: no %s with id %s", path, key, target,
                               json_string_value(v));
    return 0;
}

struct load_ix {
    struct id_index owners, units, resolutions;
};

static int load_ownerships(struct kopro_assembly *a, const json_t *doc, const struct load_ix *ix)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc =
        kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*a->ownerships), doc, "ownerships", "$");
    if (rc != 0)
        return rc;
    a->ownerships = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_ownership *w = &a->ownerships[i];
        char path[48];
        a->n_ownerships = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "ownerships", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&w->id, o, "id", 0, path)) != 0 ||
            (rc = ref(&w->unit, &ix->units, o, "unit", 1, path, "units")) != 0 ||
            (rc = ref(&w->owner, &ix->owners, o, "owner", 1, path, "owners")) != 0)
            return rc;
        if (json_object_get(o, "fraction") == NULL)
            w->fraction_e5 = KOPRO_FRACTION_SCALE;
        else if ((rc = kopro_model__jdec(&w->fraction_e5, o, "fraction", 5, 1, path)) != 0)
            return rc;
    }
    return 0;
}

static int load_proxies(struct kopro_assembly *a, const json_t *doc, const struct load_ix *ix)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*a->proxies), doc, "proxies", "$");
    if (rc != 0)
        return rc;
    a->proxies = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_proxy *p = &a->proxies[i];
        char path[48];
        a->n_proxies = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "proxies", i)) != 0)
            return rc;
        if ((rc = ref(&p->grantor, &ix->owners, o, "grantor", 1, path, "owners")) != 0 ||
            (rc = ref(&p->holder_owner, &ix->owners, o, "holder_owner", 0, path, "owners")) != 0 ||
            (rc = kopro_model__jstr(&p->holder_id, o, "holder_id", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&p->holder_name, o, "holder_name", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&p->source, o, "source", 0, path)) != 0 ||
            (rc = kopro_model__jbool(&p->holder_is_syndic, o, "holder_is_syndic", path)) != 0)
            return rc;
        if (p->holder_owner != KOPRO_NONE) {
            const struct kopro_owner *h = &a->owners[p->holder_owner];
            if (p->holder_id == NULL && (rc = kopro_model__dup(&p->holder_id, h->id)) != 0)
                return rc;
            if (p->holder_name == NULL &&
                (rc = kopro_model__dup(&p->holder_name, h->display_name)) != 0)
                return rc;
            p->holder_is_syndic = p->holder_is_syndic || h->is_syndic;
        }
        if (p->holder_id == NULL || p->holder_name == NULL)
            return kopro_error_set(KOPRO_EINVAL,
                                   "%s: give \"holder_owner\" or both \"holder_id\" and "
                                   "\"holder_name\"",
                                   path);
        if (p->source == NULL && (rc = kopro_model__dup(&p->source, "convocation_recipients")) != 0)
            return rc;
    }
    return 0;
}

static const char *const stored_count_keys[3] = {"vote_count_pour", "vote_count_contre",
                                                 "vote_count_abstention"};
static const char *const stored_power_keys[3] = {
    "total_voting_power_pour", "total_voting_power_contre", "total_voting_power_abstention"};

static int load_resolutions(struct kopro_assembly *a, const json_t *doc)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*a->resolutions), doc,
                                       "resolutions", "$");
    if (rc != 0)
        return rc;
    a->resolutions = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_resolution *r = &a->resolutions[i];
        char path[48];
        a->n_resolutions = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "resolutions", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&r->id, o, "id", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&r->title, o, "title", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&r->description, o, "description", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&r->resolution_type, o, "type", 0, path)) != 0 ||
            (rc = kopro_model__jstr(&r->majority_required, o, "majority_required", 1, path)) != 0 ||
            (rc = kopro_model__jstr(&r->stored_status, o, "status", 0, path)) != 0)
            return rc;
        for (int c = 0; c < 3; c++) {
            if ((rc = kopro_model__jdec(&r->stored_count[c], o, stored_count_keys[c], 0, 0,
                                        path)) != 0 ||
                (rc = kopro_model__jdec(&r->stored_power_e4[c], o, stored_power_keys[c], 4, 0,
                                        path)) != 0)
                return rc;
        }
    }
    return 0;
}

static int load_votes(struct kopro_assembly *a, const json_t *doc, const struct load_ix *ix)
{
    const json_t *arr;
    size_t n;
    void *items = NULL;
    int rc = kopro_model__jarray_alloc(&arr, &n, &items, sizeof(*a->votes), doc, "votes", "$");
    if (rc != 0)
        return rc;
    a->votes = items;
    for (size_t i = 0; i < n; i++) {
        const json_t *o;
        struct kopro_vote *v = &a->votes[i];
        char path[48];
        char *choice = NULL;
        int c = 0;
        a->n_votes = i + 1;
        if ((rc = kopro_model__jitem(&o, path, sizeof(path), arr, "votes", i)) != 0)
            return rc;
        if ((rc = kopro_model__jstr(&v->id, o, "id", 0, path)) != 0 ||
            (rc = ref(&v->resolution, &ix->resolutions, o, "resolution", 1, path, "resolutions")) !=
                0 ||
            (rc = ref(&v->unit, &ix->units, o, "unit", 1, path, "units")) != 0 ||
            (rc = ref(&v->owner, &ix->owners, o, "owner", 1, path, "owners")) != 0 ||
            (rc = ref(&v->proxy_owner, &ix->owners, o, "proxy_owner", 0, path, "owners")) != 0 ||
            (rc = kopro_model__jdec(&v->voting_power_e4, o, "voting_power", 4, 1, path)) != 0 ||
            (rc = kopro_model__jstr(&choice, o, "choice", 1, path)) != 0)
            return rc;
        {
            char what[128];
            snprintf(what, sizeof(what), "%s.choice (Pour|Contre|Abstention)", path);
            rc = enum_of(&c, choice, choice_names, 3, what);
        }
        free(choice);
        if (rc != 0)
            return rc;
        v->choice = (enum kopro_vote_choice)c;
    }
    return 0;
}

int kopro_assembly_load_json(struct kopro_assembly **out, const json_t *doc)
{
    struct kopro_assembly *a = NULL;
    struct load_ix ix;
    char *src = NULL;
    int v = 0;
    int rc;

    memset(&ix, 0, sizeof(ix));
    *out = NULL;
    if (!json_is_object(doc)) {
        rc = kopro_error_set(KOPRO_EINVAL, "assembly model: the document must be a JSON object");
        goto done;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading the assembly model");
        goto done;
    }
    if ((rc = kopro_model__jbuilding(&a->building, doc)) != 0 || (rc = load_meeting(a, doc)) != 0)
        goto done;
    if ((rc = kopro_model__jstr(&src, doc, "attendance_source", 0, "$")) != 0)
        goto done;
    if (src != NULL) {
        rc = enum_of(&v, src, source_names, 2, "attendance_source (convocation_recipients|votes)");
        if (rc != 0)
            goto done;
        a->attendance_source = (enum kopro_attendance_source)v;
    }
    if ((rc = load_owners(a, doc)) != 0 || (rc = load_units(a, doc)) != 0 ||
        (rc = load_resolutions(a, doc)) != 0)
        goto done;
    if ((rc = id_index_build(&ix.owners, &a->owners[0].id, a->n_owners, sizeof(*a->owners),
                             "owners")) != 0 ||
        (rc = id_index_build(&ix.units, &a->units[0].id, a->n_units, sizeof(*a->units),
                             "units")) != 0 ||
        (rc = id_index_build(&ix.resolutions, &a->resolutions[0].id, a->n_resolutions,
                             sizeof(*a->resolutions), "resolutions")) != 0)
        goto done;
    if ((rc = load_ownerships(a, doc, &ix)) != 0 || (rc = load_proxies(a, doc, &ix)) != 0 ||
        (rc = load_votes(a, doc, &ix)) != 0)
        goto done;
    *out = a;
    a = NULL;
    rc = 0;
done:
    free(src);
    free(ix.owners.e);
    free(ix.units.e);
    free(ix.resolutions.e);
    kopro_assembly_free(a);
    return rc;
}

/* ------------------------------------------------------------ JSON dump */

static int put(json_t *o, const char *key, json_t *v)
{
    /* json_object_set_new steals v even on failure; a NULL v is an allocation
     * failure (or invalid UTF-8) of its constructor */
    if (v == NULL)
        return -1;
    return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

static json_t *jtime(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL)
        return NULL;
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

int kopro_assembly_to_json(json_t **out, const struct kopro_assembly *a)
{
    json_t *doc = json_object();
    json_t *b = json_object();
    json_t *m = json_object();
    json_t *agenda = json_array();
    json_t *arr = NULL;
    int bad = 0;

    *out = NULL;
    if (doc == NULL || b == NULL || m == NULL || agenda == NULL) {
        json_decref(b);
        json_decref(m);
        json_decref(agenda);
        bad = 1;
        goto done;
    }
    bad |= put(doc, "model", json_string("assembly"));
    bad |= put(doc, "version", json_integer(1));
    bad |= put(b, "id", kopro_model__jstr_or_null(a->building.id));
    bad |= put(b, "organization_id", kopro_model__jstr_or_null(a->building.organization_id));
    bad |= put(b, "name", kopro_model__jstr_or_null(a->building.name));
    bad |= put(b, "address", kopro_model__jstr_or_null(a->building.address));
    bad |= put(b, "postal_code", kopro_model__jstr_or_null(a->building.postal_code));
    bad |= put(b, "city", kopro_model__jstr_or_null(a->building.city));
    bad |= put(b, "syndic_name", kopro_model__jstr_or_null(a->building.syndic_name));
    bad |= put(b, "total_tantiemes", json_integer(a->building.total_tantiemes));
    bad |= put(doc, "building", b);

    bad |= put(m, "id", kopro_model__jstr_or_null(a->meeting.id));
    bad |= put(m, "type", json_string(meeting_type_names[a->meeting.type == KOPRO_MEETING_EXTRAORDINARY]));
    bad |= put(m, "title", kopro_model__jstr_or_null(a->meeting.title));
    bad |= put(m, "location", kopro_model__jstr_or_null(a->meeting.location));
    bad |= put(m, "status", kopro_model__jstr_or_null(a->meeting.status));
    bad |= put(m, "scheduled_at", jtime(a->meeting.scheduled_at_utc));
    bad |= put(m, "is_second_convocation", json_boolean(a->meeting.is_second_convocation));
    for (size_t i = 0; i < a->meeting.n_agenda; i++)
        bad |= json_array_append_new(agenda, json_string(a->meeting.agenda[i] ? a->meeting.agenda[i] : ""));
    bad |= put(m, "agenda", agenda);
    bad |= put(m, "president", kopro_model__jstr_or_null(a->meeting.president_name));
    bad |= put(m, "secretary", kopro_model__jstr_or_null(a->meeting.secretary_name));
    bad |= put(doc, "meeting", m);
    bad |= put(doc, "attendance_source",
               json_string(source_names[a->attendance_source == KOPRO_ATTENDANCE_FROM_VOTES]));

    bad |= put(doc, "owners", arr = json_array());
    for (size_t i = 0; arr != NULL && i < a->n_owners; i++) {
        const struct kopro_owner *w = &a->owners[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        if (o == NULL)
            break;
        bad |= put(o, "id", kopro_model__jstr_or_null(w->id));
        bad |= put(o, "name", kopro_model__jstr_or_null(w->display_name));
        bad |= put(o, "first_name", kopro_model__jstr_or_null(w->first_name));
        bad |= put(o, "last_name", kopro_model__jstr_or_null(w->last_name));
        bad |= put(o, "is_company", json_boolean(w->is_company));
        bad |= put(o, "is_syndic", json_boolean(w->is_syndic));
        bad |= put(o, "attendance", json_string(attendance_names[w->attendance]));
    }
    bad |= put(doc, "units", arr = json_array());
    for (size_t i = 0; arr != NULL && i < a->n_units; i++) {
        const struct kopro_unit *u = &a->units[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        if (o == NULL)
            break;
        bad |= put(o, "id", kopro_model__jstr_or_null(u->id));
        bad |= put(o, "number", kopro_model__jstr_or_null(u->number));
        bad |= put(o, "type", kopro_model__jstr_or_null(u->type));
        bad |= put(o, "quota", kopro_model__jdec_new(u->quota_e4, 4));
    }
    bad |= put(doc, "ownerships", arr = json_array());
    for (size_t i = 0; arr != NULL && i < a->n_ownerships; i++) {
        const struct kopro_ownership *w = &a->ownerships[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        if (o == NULL)
            break;
        bad |= put(o, "id", kopro_model__jstr_or_null(w->id));
        bad |= put(o, "unit", kopro_model__jstr_or_null(a->units[w->unit].id));
        bad |= put(o, "owner", kopro_model__jstr_or_null(a->owners[w->owner].id));
        bad |= put(o, "fraction", kopro_model__jdec_new(w->fraction_e5, 5));
    }
    bad |= put(doc, "proxies", arr = json_array());
    for (size_t i = 0; arr != NULL && i < a->n_proxies; i++) {
        const struct kopro_proxy *p = &a->proxies[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        if (o == NULL)
            break;
        bad |= put(o, "grantor", kopro_model__jstr_or_null(a->owners[p->grantor].id));
        bad |= put(o, "holder_owner",
                   p->holder_owner != KOPRO_NONE
                       ? kopro_model__jstr_or_null(a->owners[p->holder_owner].id)
                       : json_null());
        bad |= put(o, "holder_id", kopro_model__jstr_or_null(p->holder_id));
        bad |= put(o, "holder_name", kopro_model__jstr_or_null(p->holder_name));
        bad |= put(o, "holder_is_syndic", json_boolean(p->holder_is_syndic));
        bad |= put(o, "source", kopro_model__jstr_or_null(p->source));
    }
    bad |= put(doc, "resolutions", arr = json_array());
    for (size_t i = 0; arr != NULL && i < a->n_resolutions; i++) {
        const struct kopro_resolution *r = &a->resolutions[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        if (o == NULL)
            break;
        bad |= put(o, "id", kopro_model__jstr_or_null(r->id));
        bad |= put(o, "title", kopro_model__jstr_or_null(r->title));
        bad |= put(o, "description", kopro_model__jstr_or_null(r->description));
        bad |= put(o, "type", kopro_model__jstr_or_null(r->resolution_type));
        bad |= put(o, "majority_required", kopro_model__jstr_or_null(r->majority_required));
        bad |= put(o, "status", kopro_model__jstr_or_null(r->stored_status));
        for (int c = 0; c < 3; c++) {
            bad |= put(o, stored_count_keys[c], json_integer(r->stored_count[c]));
            bad |= put(o, stored_power_keys[c], kopro_model__jdec_new(r->stored_power_e4[c], 4));
        }
    }
    bad |= put(doc, "votes", arr = json_array());
    for (size_t i = 0; arr != NULL && i < a->n_votes; i++) {
        const struct kopro_vote *v = &a->votes[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        if (o == NULL)
            break;
        bad |= put(o, "id", kopro_model__jstr_or_null(v->id));
        bad |= put(o, "resolution", kopro_model__jstr_or_null(a->resolutions[v->resolution].id));
        bad |= put(o, "unit", kopro_model__jstr_or_null(a->units[v->unit].id));
        bad |= put(o, "owner", kopro_model__jstr_or_null(a->owners[v->owner].id));
        bad |= put(o, "choice", json_string(choice_names[v->choice]));
        bad |= put(o, "voting_power", kopro_model__jdec_new(v->voting_power_e4, 4));
        bad |= put(o, "proxy_owner",
                   v->proxy_owner != KOPRO_NONE
                       ? kopro_model__jstr_or_null(a->owners[v->proxy_owner].id)
                       : json_null());
    }
done:
    if (bad) {
        json_decref(doc);
        return kopro_error_set(KOPRO_ERROR, "out of memory writing the assembly model as JSON");
    }
    *out = doc;
    return 0;
}
