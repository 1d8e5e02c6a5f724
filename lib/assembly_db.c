/*
 * lib/assembly_db.c — kopro_assembly_load_db(): one general assembly read
 * from KoproGo's database (../shared/docs/koprogo-schema.md) with
 * parameterised SQL only.
 */
#include "kopro/assembly.h"

#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/valid.h"
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dup_val(char **dst, const PGresult *res, int row, int col)
{
    return kopro_model__db_str(dst, res, row, col, "the assembly");
}

static int is_true(const PGresult *res, int row, int col)
{
    const char *v = kopro_db_value(res, row, col);
    return v != NULL && v[0] == 't';
}

#define OWNER_IX(a, key)                                                                           \
    kopro_model__find_id(&(a)->owners[0].id, (a)->n_owners, sizeof(struct kopro_owner), key)
#define UNIT_IX(a, key)                                                                            \
    kopro_model__find_id(&(a)->units[0].id, (a)->n_units, sizeof(struct kopro_unit), key)
#define RES_IX(a, key)                                                                             \
    kopro_model__find_id(&(a)->resolutions[0].id, (a)->n_resolutions,                              \
                         sizeof(struct kopro_resolution), key)

static int load_meeting(struct kopro_assembly *a, PGconn *db, const char *meeting_id)
{
    static const char sql[] =
        "SELECT m.id, m.meeting_type::text, m.title, m.location, m.status::text, "
        "       extract(epoch FROM m.scheduled_date)::bigint, m.is_second_convocation, "
        "       m.agenda::text, b.id, b.organization_id, b.name, b.address, b.postal_code, "
        "       b.city, b.syndic_name, b.total_tantiemes "
        "  FROM meetings m JOIN buildings b ON b.id = m.building_id WHERE m.id = $1";
    const char *params[1] = {meeting_id};
    PGresult *res = NULL;
    json_t *agenda = NULL;
    const char *type;
    int rc;

    if ((rc = kopro_db_exec(db, &res, "reading meetings", sql, 1, params)) != 0)
        goto done;
    if (PQntuples(res) == 0) {
        rc = kopro_error_set(KOPRO_ENOTFOUND,
                             "meeting %s not found in meetings; check the id (kopro-queue list, "
                             "or SELECT id FROM meetings)",
                             meeting_id);
        goto done;
    }
    type = kopro_db_value(res, 0, 1);
    a->meeting.type = type != NULL && strcmp(type, "extraordinary") == 0
                          ? KOPRO_MEETING_EXTRAORDINARY
                          : KOPRO_MEETING_ORDINARY;
    if ((rc = dup_val(&a->meeting.id, res, 0, 0)) != 0 ||
        (rc = dup_val(&a->meeting.title, res, 0, 2)) != 0 ||
        (rc = dup_val(&a->meeting.location, res, 0, 3)) != 0 ||
        (rc = dup_val(&a->meeting.status, res, 0, 4)) != 0 ||
        (rc = dup_val(&a->building.id, res, 0, 8)) != 0 ||
        (rc = dup_val(&a->building.organization_id, res, 0, 9)) != 0 ||
        (rc = dup_val(&a->building.name, res, 0, 10)) != 0 ||
        (rc = dup_val(&a->building.address, res, 0, 11)) != 0 ||
        (rc = dup_val(&a->building.postal_code, res, 0, 12)) != 0 ||
        (rc = dup_val(&a->building.city, res, 0, 13)) != 0 ||
        (rc = dup_val(&a->building.syndic_name, res, 0, 14)) != 0)
        goto done;
    a->meeting.scheduled_at_utc = strtoll(kopro_db_value(res, 0, 5), NULL, 10);
    a->meeting.is_second_convocation = is_true(res, 0, 6);
    a->building.total_tantiemes = strtoll(kopro_db_value(res, 0, 15), NULL, 10);

    /* agenda: a JSON array of strings (an object item gives its "title") */
    if (kopro_db_value(res, 0, 7) != NULL) {
        json_error_t jerr;
        size_t n;
        agenda = json_loads(kopro_db_value(res, 0, 7), JSON_DECODE_ANY, &jerr);
        if (!json_is_array(agenda)) {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "meetings %s: agenda is not a JSON array of strings; correct "
                                 "meetings.agenda",
                                 meeting_id);
            goto done;
        }
        n = json_array_size(agenda);
        a->meeting.agenda = calloc(n ? n : 1, sizeof(char *));
        if (a->meeting.agenda == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory reading the agenda");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *it = json_array_get(agenda, i);
            const char *text = json_string_value(it);
            char *dumped = NULL;
            if (text == NULL && json_is_object(it))
                text = json_string_value(json_object_get(it, "title"));
            if (text == NULL) {
                dumped = json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);
                text = dumped != NULL ? dumped : "";
            }
            a->meeting.agenda[i] = strdup(text);
            free(dumped);
            if (a->meeting.agenda[i] == NULL) {
                rc = kopro_error_set(KOPRO_ERROR, "out of memory reading the agenda");
                goto done;
            }
            a->meeting.n_agenda = i + 1;
        }
    }
    rc = 0;
done:
    json_decref(agenda);
    PQclear(res);
    return rc;
}

/* Owners: unit holders at the meeting date first, then every other owner the
 * assembly mentions (recipients, voters, proxy holders, mandate grantors and
 * the owners linked to mandate holders' user accounts). */
static int load_owners(struct kopro_assembly *a, PGconn *db)
{
    static const char sql[] =
        "WITH m AS (SELECT id, building_id, scheduled_date, organization_id FROM meetings "
        "            WHERE id = $1), "
        "holders AS ("
        "  SELECT uo.owner_id AS id FROM unit_owners uo JOIN units u ON u.id = uo.unit_id, m "
        "   WHERE u.building_id = m.building_id AND uo.start_date <= m.scheduled_date "
        "     AND (uo.end_date IS NULL OR uo.end_date > m.scheduled_date)), "
        "mentioned AS ("
        "  SELECT cr.owner_id AS id FROM convocation_recipients cr "
        "    JOIN convocations c ON c.id = cr.convocation_id WHERE c.meeting_id = $1 "
        "  UNION SELECT cr.proxy_owner_id FROM convocation_recipients cr "
        "    JOIN convocations c ON c.id = cr.convocation_id WHERE c.meeting_id = $1 "
        "  UNION SELECT v.owner_id FROM votes v JOIN resolutions r ON r.id = v.resolution_id "
        "   WHERE r.meeting_id = $1 "
        "  UNION SELECT v.proxy_owner_id FROM votes v JOIN resolutions r "
        "    ON r.id = v.resolution_id WHERE r.meeting_id = $1 "
        "  UNION SELECT pm.grantor_owner_id FROM meeting_proxy_mandates pm "
        "   WHERE pm.meeting_id = $1 AND pm.is_active "
        "  UNION SELECT o.id FROM meeting_proxy_mandates pm JOIN owners o "
        "    ON o.user_id = pm.proxy_holder_id, m "
        "   WHERE pm.meeting_id = $1 AND pm.is_active "
        "     AND o.organization_id IS NOT DISTINCT FROM m.organization_id) "
        "SELECT o.id, o.first_name, o.last_name, "
        "       EXISTS (SELECT 1 FROM users us WHERE us.id = o.user_id AND us.role = 'syndic') "
        "    OR EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = o.user_id "
        "                  AND ur.role = 'syndic'), "
        "       o.id IN (SELECT id FROM holders) AS holds "
        "  FROM owners o "
        " WHERE o.id IN (SELECT id FROM holders UNION SELECT id FROM mentioned) "
        " ORDER BY holds DESC, o.last_name, o.first_name, o.id";
    const char *params[1] = {a->meeting.id};
    PGresult *res = NULL;
    void *arr = NULL;
    int n, rc;

    rc = kopro_model__db_rows(&res, &n, &arr, sizeof(*a->owners), db, "owners", sql, 1, params);
    a->owners = arr;
    if (rc != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        struct kopro_owner *o = &a->owners[i];
        a->n_owners = (size_t)i + 1;
        /* KoproGo has no company flag: an empty first_name marks a legal person */
        if ((rc = dup_val(&o->id, res, i, 0)) != 0 ||
            (rc = dup_val(&o->last_name, res, i, 2)) != 0 ||
            (rc = kopro_model__display_name(&o->display_name, &o->is_company,
                                            kopro_db_value(res, i, 1),
                                            kopro_db_value(res, i, 2))) != 0)
            goto done;
        if (!o->is_company && (rc = dup_val(&o->first_name, res, i, 1)) != 0)
            goto done;
        o->is_syndic = is_true(res, i, 3);
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

static int load_ownerships(struct kopro_assembly *a, PGconn *db)
{
    static const char sql[] =
        "SELECT uo.id, uo.unit_id, uo.owner_id, uo.ownership_percentage::text "
        "  FROM unit_owners uo JOIN units u ON u.id = uo.unit_id "
        "  JOIN meetings m ON m.building_id = u.building_id "
        " WHERE m.id = $1 AND uo.start_date <= m.scheduled_date "
        "   AND (uo.end_date IS NULL OR uo.end_date > m.scheduled_date) "
        " ORDER BY u.unit_number, uo.start_date, uo.id";
    const char *params[1] = {a->meeting.id};
    PGresult *res = NULL;
    int rc;

    if ((rc = kopro_db_exec(db, &res, "reading unit_owners", sql, 1, params)) != 0 ||
        (rc = kopro_model__db_ownerships(&a->ownerships, &a->n_ownerships, res, a->units,
                                         a->n_units, &a->owners[0].id, a->n_owners,
                                         sizeof(*a->owners), "the assembly")) != 0)
        goto done;
    rc = 0;
done:
    PQclear(res);
    return rc;
}

static int add_proxy(struct kopro_assembly *a, size_t grantor, size_t holder_owner,
                     const char *holder_id, const char *holder_name, int syndic, const char *source)
{
    struct kopro_proxy *grown;
    struct kopro_proxy *p;
    for (size_t i = 0; i < a->n_proxies; i++)
        if (a->proxies[i].grantor == grantor)
            return 0; /* one proxy per grantor; the first source wins */
    grown = realloc(a->proxies, (a->n_proxies + 1) * sizeof(*a->proxies));
    if (grown == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory reading proxies");
    a->proxies = grown;
    p = &a->proxies[a->n_proxies];
    memset(p, 0, sizeof(*p));
    a->n_proxies++;
    p->grantor = grantor;
    p->holder_owner = holder_owner;
    p->holder_is_syndic = syndic || (holder_owner != KOPRO_NONE && a->owners[holder_owner].is_syndic);
    p->holder_id = strdup(holder_id);
    p->holder_name = strdup(holder_name);
    p->source = strdup(source);
    if (p->holder_id == NULL || p->holder_name == NULL || p->source == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory reading proxies");
    return 0;
}

/* Attendance from convocation_recipients, proxies from there and from
 * meeting_proxy_mandates; *recorded is 1 if any recipient was marked attended
 * or did_not_attend. settled[owner] (n_owners entries, zeroed by the caller)
 * becomes 1 for every owner whose attendance was recorded that way or who gave
 * an active mandate; the others are left to the votes. */
static int load_attendance(struct kopro_assembly *a, PGconn *db, int *recorded,
                           unsigned char *settled)
{
    static const char sql_rec[] =
        "SELECT cr.owner_id, cr.attendance_status::text, cr.proxy_owner_id "
        "  FROM convocation_recipients cr JOIN convocations c ON c.id = cr.convocation_id "
        " WHERE c.meeting_id = $1 ORDER BY cr.owner_id";
    static const char sql_mandates[] =
        "SELECT pm.grantor_owner_id, pm.proxy_holder_id, us.first_name, us.last_name, "
        "       us.role = 'syndic' OR EXISTS (SELECT 1 FROM user_roles ur "
        "          WHERE ur.user_id = us.id AND ur.role = 'syndic'), "
        "       (SELECT o.id FROM owners o WHERE o.user_id = us.id "
        "           AND o.organization_id IS NOT DISTINCT FROM m.organization_id "
        "         ORDER BY o.id LIMIT 1) "
        "  FROM meeting_proxy_mandates pm JOIN users us ON us.id = pm.proxy_holder_id "
        "  JOIN meetings m ON m.id = pm.meeting_id "
        " WHERE pm.meeting_id = $1 AND pm.is_active ORDER BY pm.created_at, pm.id";
    const char *params[1] = {a->meeting.id};
    PGresult *res = NULL;
    int n, rc;

    *recorded = 0;
    if ((rc = kopro_db_exec(db, &res, "reading convocation_recipients", sql_rec, 1, params)) != 0)
        goto done;
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        const char *st = kopro_db_value(res, i, 1);
        if (st != NULL && (strcmp(st, "attended") == 0 || strcmp(st, "did_not_attend") == 0))
            *recorded = 1;
    }
    if (*recorded)
        for (int i = 0; i < n; i++) {
            size_t o = OWNER_IX(a, kopro_db_value(res, i, 0));
            size_t h = OWNER_IX(a, kopro_db_value(res, i, 2));
            const char *st = kopro_db_value(res, i, 1);
            if (o == KOPRO_NONE)
                continue;
            settled[o] = strcmp(st, "attended") == 0 || strcmp(st, "did_not_attend") == 0;
            if (strcmp(st, "attended") == 0) {
                a->owners[o].attendance = KOPRO_ATTEND_PRESENT;
            } else if (h != KOPRO_NONE) {
                a->owners[o].attendance = KOPRO_ATTEND_REPRESENTED;
                settled[o] = 1;
                if ((rc = add_proxy(a, o, h, a->owners[h].id, a->owners[h].display_name, 0,
                                    "convocation_recipients")) != 0)
                    goto done;
            }
        }
    PQclear(res);
    res = NULL;
    if ((rc = kopro_db_exec(db, &res, "reading meeting_proxy_mandates", sql_mandates, 1, params)) != 0)
        goto done;
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        size_t o = OWNER_IX(a, kopro_db_value(res, i, 0));
        size_t h = OWNER_IX(a, kopro_db_value(res, i, 5));
        char name[512];
        if (o == KOPRO_NONE)
            continue;
        {
            const char *first = kopro_db_value(res, i, 2) ? kopro_db_value(res, i, 2) : "";
            const char *last = kopro_db_value(res, i, 3) ? kopro_db_value(res, i, 3) : "";
            snprintf(name, sizeof(name), "%s%s%s", first, first[0] && last[0] ? " " : "", last);
        }
        if (*recorded && a->owners[o].attendance == KOPRO_ATTEND_PRESENT)
            continue; /* came in person: the mandate was not used */
        if ((rc = add_proxy(a, o, h, h != KOPRO_NONE ? a->owners[h].id : kopro_db_value(res, i, 1),
                            h != KOPRO_NONE ? a->owners[h].display_name : name, is_true(res, i, 4),
                            "meeting_proxy_mandates")) != 0)
            goto done;
        if (*recorded) {
            a->owners[o].attendance = KOPRO_ATTEND_REPRESENTED;
            settled[o] = 1;
        }
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

static const char *const stored_cols =
    "vote_count_pour::text, vote_count_contre::text, vote_count_abstention::text, "
    "total_voting_power_pour::text, total_voting_power_contre::text, "
    "total_voting_power_abstention::text";

static int load_resolutions(struct kopro_assembly *a, PGconn *db)
{
    char sql[512];
    const char *params[1] = {a->meeting.id};
    PGresult *res = NULL;
    void *arr = NULL;
    int n, rc;

    snprintf(sql, sizeof(sql),
             "SELECT id, title, description, resolution_type, majority_required, status, %s "
             "  FROM resolutions WHERE meeting_id = $1 ORDER BY created_at, id",
             stored_cols);
    rc = kopro_model__db_rows(&res, &n, &arr, sizeof(*a->resolutions), db, "resolutions", sql, 1,
                              params);
    a->resolutions = arr;
    if (rc != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        struct kopro_resolution *r = &a->resolutions[i];
        a->n_resolutions = (size_t)i + 1;
        if ((rc = dup_val(&r->id, res, i, 0)) != 0 || (rc = dup_val(&r->title, res, i, 1)) != 0 ||
            (rc = dup_val(&r->description, res, i, 2)) != 0 ||
            (rc = dup_val(&r->resolution_type, res, i, 3)) != 0 ||
            (rc = dup_val(&r->majority_required, res, i, 4)) != 0 ||
            (rc = dup_val(&r->stored_status, res, i, 5)) != 0)
            goto done;
        for (int c = 0; c < 3; c++) {
            char what[96];
            snprintf(what, sizeof(what), "resolutions %s: stored tally", r->id);
            if ((rc = kopro_decimal_parse(&r->stored_count[c], kopro_db_value(res, i, 6 + c), 0,
                                          what)) != 0 ||
                (rc = kopro_decimal_parse(&r->stored_power_e4[c], kopro_db_value(res, i, 9 + c), 4,
                                          what)) != 0)
                goto done;
        }
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

static int load_votes(struct kopro_assembly *a, PGconn *db)
{
    static const char sql[] =
        "SELECT v.id, v.resolution_id, v.unit_id, v.owner_id, v.vote_choice, "
        "       v.voting_power::text, v.proxy_owner_id "
        "  FROM votes v JOIN resolutions r ON r.id = v.resolution_id "
        " WHERE r.meeting_id = $1 ORDER BY r.created_at, r.id, v.voted_at, v.id";
    const char *params[1] = {a->meeting.id};
    PGresult *res = NULL;
    void *arr = NULL;
    int n, rc;

    rc = kopro_model__db_rows(&res, &n, &arr, sizeof(*a->votes), db, "votes", sql, 1, params);
    a->votes = arr;
    if (rc != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        struct kopro_vote *v = &a->votes[i];
        const char *choice = kopro_db_value(res, i, 4);
        char what[96];
        a->n_votes = (size_t)i + 1;
        if ((rc = dup_val(&v->id, res, i, 0)) != 0)
            goto done;
        v->resolution = RES_IX(a, kopro_db_value(res, i, 1));
        v->unit = UNIT_IX(a, kopro_db_value(res, i, 2));
        v->owner = OWNER_IX(a, kopro_db_value(res, i, 3));
        v->proxy_owner = OWNER_IX(a, kopro_db_value(res, i, 6));
        if (v->unit == KOPRO_NONE) {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "votes %s: unit %s is not a unit of buildings %s; a vote must be "
                                 "on a lot of the assembly's building",
                                 v->id, kopro_db_value(res, i, 2), a->building.id);
            goto done;
        }
        if (v->resolution == KOPRO_NONE || v->owner == KOPRO_NONE) {
            rc = kopro_error_set(KOPRO_ERROR, "votes %s: resolution or owner not loaded", v->id);
            goto done;
        }
        if (strcmp(choice, "Pour") == 0)
            v->choice = KOPRO_VOTE_POUR;
        else if (strcmp(choice, "Contre") == 0)
            v->choice = KOPRO_VOTE_CONTRE;
        else if (strcmp(choice, "Abstention") == 0)
            v->choice = KOPRO_VOTE_ABSTENTION;
        else {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "votes %s: vote_choice \"%s\" is not Pour, Contre or Abstention",
                                 v->id, choice);
            goto done;
        }
        snprintf(what, sizeof(what), "votes %s: voting_power", v->id);
        if ((rc = kopro_decimal_parse(&v->voting_power_e4, kopro_db_value(res, i, 5), 4, what)) != 0)
            goto done;
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

/*
 * Attendance derived from the votes, and the proxies they show: for every
 * owner when settled is NULL (no attendance recorded at all), else only for
 * the owners whose convocation_recipients status was not recorded (pending,
 * will_attend, will_not_attend, or no recipient row): a vote shows they were
 * there. An owner recorded did_not_attend who voted stays absent, and the
 * legal engine reports that vote.
 */
static int attendance_from_votes(struct kopro_assembly *a, const unsigned char *settled)
{
    int rc;
    if (settled == NULL) {
        a->attendance_source = KOPRO_ATTENDANCE_FROM_VOTES;
        for (size_t i = 0; i < a->n_owners; i++)
            a->owners[i].attendance = KOPRO_ATTEND_ABSENT;
    }
    /* mandates already loaded stay (they document who held which proxy) */
    for (size_t i = 0; i < a->n_votes; i++) {
        const struct kopro_vote *v = &a->votes[i];
        if (v->proxy_owner == KOPRO_NONE && (settled == NULL || !settled[v->owner]))
            a->owners[v->owner].attendance = KOPRO_ATTEND_PRESENT;
    }
    for (size_t i = 0; i < a->n_votes; i++) {
        const struct kopro_vote *v = &a->votes[i];
        const struct kopro_owner *h;
        if (v->proxy_owner == KOPRO_NONE || (settled != NULL && settled[v->owner]) ||
            a->owners[v->owner].attendance == KOPRO_ATTEND_PRESENT)
            continue;
        a->owners[v->owner].attendance = KOPRO_ATTEND_REPRESENTED;
        h = &a->owners[v->proxy_owner];
        if ((rc = add_proxy(a, v->owner, v->proxy_owner, h->id, h->display_name, 0, "votes")) != 0)
            return rc;
    }
    return 0;
}

static int load_officers(struct kopro_assembly *a, PGconn *db)
{
    const char *params[1] = {a->meeting.id};
    PGresult *res = NULL;
    int rc;

    if ((rc = kopro_db_exec(db, &res, "looking for kopro.meeting_officers",
                            "SELECT to_regclass('kopro.meeting_officers') IS NOT NULL", 0,
                            NULL)) != 0)
        goto done;
    if (!is_true(res, 0, 0)) {
        rc = 0;
        goto done;
    }
    PQclear(res);
    res = NULL;
    if ((rc = kopro_db_exec(db, &res, "reading kopro.meeting_officers",
                            "SELECT president_name, secretary_name FROM kopro.meeting_officers "
                            " WHERE meeting_id = $1",
                            1, params)) != 0)
        goto done;
    if (PQntuples(res) == 1)
        rc = kopro_assembly_set_officers(a, kopro_db_value(res, 0, 0), kopro_db_value(res, 0, 1));
done:
    PQclear(res);
    return rc;
}

int kopro_assembly_load_db(struct kopro_assembly **out, PGconn *db, const char *meeting_id)
{
    struct kopro_assembly *a = NULL;
    unsigned char *settled = NULL;
    int recorded = 0;
    int rc;

    *out = NULL;
    if (!kopro_valid_uuid(meeting_id)) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "meeting id \"%.64s\" is not a uuid; give it as "
                             "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
                             meeting_id ? meeting_id : "");
        goto done;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading the assembly");
        goto done;
    }
    /* one snapshot for all the reads */
    if ((rc = kopro_db_exec(db, NULL, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                            0, NULL)) != 0)
        goto done;
    if ((rc = load_meeting(a, db, meeting_id)) != 0 ||
        (rc = kopro_model__db_units(&a->units, &a->n_units, db, a->building.id, "the assembly")) !=
            0 ||
        (rc = load_owners(a, db)) != 0 || (rc = load_ownerships(a, db)) != 0)
        goto rollback;
    settled = calloc(a->n_owners ? a->n_owners : 1, 1);
    if (settled == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading attendance");
        goto rollback;
    }
    if ((rc = load_attendance(a, db, &recorded, settled)) != 0 ||
        (rc = load_resolutions(a, db)) != 0 || (rc = load_votes(a, db)) != 0 ||
        (rc = load_officers(a, db)) != 0)
        goto rollback;
    if ((rc = attendance_from_votes(a, recorded ? settled : NULL)) != 0)
        goto rollback;
    kopro_db_rollback(db); /* read only: nothing to commit */
    *out = a;
    a = NULL;
    rc = 0;
    goto done;
rollback:
    kopro_db_rollback(db);
done:
    free(settled);
    kopro_assembly_free(a);
    return rc;
}
