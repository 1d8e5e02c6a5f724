/*
 * lib/legal.c — the legal engine of a general assembly (Code civil, Livre 3,
 * art. 3.87 and 3.88). Exact integer arithmetic only; see kopro/legal.h for
 * the readings of the law applied here.
 */
#include "kopro/legal.h"

#include "kopro/error.h"

#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

static const char *const majority_names[4] = {"Absolute", "TwoThirds", "FourFifths", "Unanimity"};

/* Art. 3.87 §8 states the absolute majority; art. 3.88 the qualified ones.
 * The paragraph numbers inside art. 3.88 are our reading (README.md notes it). */
static const char *const majority_articles[4] = {"art. 3.87 §8", "art. 3.88 §1, 1°",
                                                 "art. 3.88 §1, 2°", "art. 3.88 §2"};

int kopro_legal_majority_parse(enum kopro_majority *out, const char *text)
{
    *out = KOPRO_MAJORITY_ABSOLUTE;
    for (int i = 0; i < 4; i++)
        if (text != NULL && strcmp(text, majority_names[i]) == 0) {
            *out = (enum kopro_majority)i;
            return 0;
        }
    return kopro_error_set(KOPRO_EINVAL,
                           "majority_required \"%s\" is not one of Absolute, TwoThirds, "
                           "FourFifths, Unanimity (art. 3.88); correct the resolution",
                           text ? text : "(null)");
}

const char *kopro_legal_majority_name(enum kopro_majority m)
{
    return (unsigned)m < 4 ? majority_names[m] : "?";
}

void kopro_legal_majority_threshold(enum kopro_majority m, int *num, int *den, int *strict)
{
    *strict = 0;
    switch (m) {
    case KOPRO_MAJORITY_TWO_THIRDS:
        *num = 2;
        *den = 3;
        break;
    case KOPRO_MAJORITY_FOUR_FIFTHS:
        *num = 4;
        *den = 5;
        break;
    case KOPRO_MAJORITY_UNANIMITY:
        *num = 1;
        *den = 1;
        break;
    case KOPRO_MAJORITY_ABSOLUTE:
    default:
        *num = 1;
        *den = 2;
        *strict = 1;
        break;
    }
}

void kopro_legal_result_free(struct kopro_legal_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_parties; i++) {
        free(r->parties[i].owners);
        free(r->parties[i].units);
    }
    free(r->parties);
    free(r->party_of_owner);
    free(r->proxy_issues);
    for (size_t i = 0; i < r->n_resolutions; i++) {
        free(r->resolutions[i].contre_owners);
        free(r->resolutions[i].abstention_owners);
        free(r->resolutions[i].caps);
    }
    free(r->resolutions);
    free(r->signatories);
    free(r);
}

/* ------------------------------------------------------------ helpers */

static const char *nz(const char *s)
{
    return s != NULL ? s : "(no id)";
}

static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(size_t *parent, size_t x, size_t y)
{
    x = uf_find(parent, x);
    y = uf_find(parent, y);
    if (x == y)
        return;
    if (x < y)
        parent[y] = x;
    else
        parent[x] = y;
}

static int bp_of(int64_t num, int64_t den)
{
    if (den <= 0)
        return -1;
    return (int)(((i128)num * 10000) / den);
}

static void *xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* Work space for one computation. */
struct work {
    const struct kopro_assembly *a;
    struct kopro_legal_result *r;
    size_t *unit_owner_start; /* CSR: ownerships of unit u are owns[start[u] .. start[u+1]) */
    size_t *unit_owners;
    size_t *party_of_unit;
    enum kopro_attendance *owner_att;
    int64_t *party_cast[3]; /* per caster party, votes of one resolution */
    size_t *party_rep;      /* per caster party, the owner named for its votes */
    size_t *touched;        /* caster parties touched in this resolution */
    int *party_voted[3];    /* per voting party, voted this choice in this resolution */
    size_t *vote_of_unit;   /* per unit, the vote seen in this resolution */
    size_t *votes_by_res_start;
    size_t *votes_by_res;
    unsigned char *mark;    /* per owner */
};

static int check_structure(const struct kopro_assembly *a)
{
    i128 sum = 0;
    if (a->building.total_tantiemes <= 0)
        return kopro_error_set(KOPRO_EINVAL,
                               "buildings %s: total_tantiemes is %lld; it must be > 0 "
                               "(art. 3.87 §5 counts shares out of it)",
                               nz(a->building.id), (long long)a->building.total_tantiemes);
    for (size_t i = 0; i < a->n_units; i++) {
        if (a->units[i].quota_e4 <= 0)
            return kopro_error_set(KOPRO_EINVAL,
                                   "units %s (lot %s): quota must be > 0; correct the unit",
                                   nz(a->units[i].id), nz(a->units[i].number));
        sum += a->units[i].quota_e4;
    }
    if (sum != (i128)a->building.total_tantiemes * KOPRO_SHARE_SCALE) {
        char got[32];
        kopro_decimal_format(got, sizeof(got), (int64_t)sum, 4);
        return kopro_error_set(KOPRO_EINVAL,
                               "units of buildings %s: quotas sum to %s tantièmes but "
                               "buildings.total_tantiemes is %lld; shares must sum to the total "
                               "(art. 3.87 §5); correct units.quota or total_tantiemes",
                               nz(a->building.id), got, (long long)a->building.total_tantiemes);
    }
    for (size_t i = 0; i < a->n_ownerships; i++) {
        if (a->ownerships[i].unit >= a->n_units || a->ownerships[i].owner >= a->n_owners)
            return kopro_error_set(KOPRO_EINVAL, "unit_owners %s: unit or owner index out of range",
                                   nz(a->ownerships[i].id));
        if (a->ownerships[i].fraction_e5 <= 0 || a->ownerships[i].fraction_e5 > KOPRO_FRACTION_SCALE) {
            char got[32];
            kopro_decimal_format(got, sizeof(got), a->ownerships[i].fraction_e5, 5);
            return kopro_error_set(KOPRO_EINVAL,
                                   "unit_owners %s: ownership_percentage %s is outside (0, 1]; "
                                   "correct it",
                                   nz(a->ownerships[i].id), got);
        }
    }
    for (size_t i = 0; i < a->n_proxies; i++)
        if (a->proxies[i].grantor >= a->n_owners ||
            (a->proxies[i].holder_owner != KOPRO_NONE && a->proxies[i].holder_owner >= a->n_owners))
            return kopro_error_set(KOPRO_EINVAL, "proxy %zu (holder %s): owner index out of range",
                                   i, nz(a->proxies[i].holder_id));
    for (size_t i = 0; i < a->n_votes; i++) {
        const struct kopro_vote *v = &a->votes[i];
        if (v->resolution >= a->n_resolutions || v->unit >= a->n_units ||
            v->owner >= a->n_owners ||
            (v->proxy_owner != KOPRO_NONE && v->proxy_owner >= a->n_owners) ||
            (unsigned)v->choice > KOPRO_VOTE_ABSTENTION)
            return kopro_error_set(KOPRO_EINVAL, "votes %s: a reference or the choice is out of range",
                                   nz(v->id));
    }
    return 0;
}

static int build_units(struct work *w)
{
    const struct kopro_assembly *a = w->a;
    size_t *fill = NULL;
    int rc = 0;

    w->unit_owner_start = xcalloc(a->n_units + 1, sizeof(size_t));
    w->unit_owners = xcalloc(a->n_ownerships, sizeof(size_t));
    fill = xcalloc(a->n_units, sizeof(size_t));
    if (w->unit_owner_start == NULL || w->unit_owners == NULL || fill == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly");
        goto done;
    }
    for (size_t i = 0; i < a->n_ownerships; i++)
        w->unit_owner_start[a->ownerships[i].unit + 1]++;
    for (size_t u = 0; u < a->n_units; u++)
        w->unit_owner_start[u + 1] += w->unit_owner_start[u];
    for (size_t i = 0; i < a->n_ownerships; i++) {
        size_t u = a->ownerships[i].unit;
        w->unit_owners[w->unit_owner_start[u] + fill[u]++] = i;
    }
    /* Active fractions of a unit sum to 1 (koprogo-schema.md, unit_owners). */
    for (size_t u = 0; u < a->n_units; u++) {
        int64_t sum = 0;
        for (size_t k = w->unit_owner_start[u]; k < w->unit_owner_start[u + 1]; k++)
            sum += a->ownerships[w->unit_owners[k]].fraction_e5;
        if (sum != KOPRO_FRACTION_SCALE) {
            char got[32];
            kopro_decimal_format(got, sizeof(got), sum, 5);
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "unit_owners of units %s (lot %s): active ownership fractions "
                                 "sum to %s at the meeting date; they must sum to 1; correct "
                                 "ownership_percentage, start_date or end_date",
                                 nz(a->units[u].id), nz(a->units[u].number), got);
            goto done;
        }
    }
done:
    free(fill);
    return rc;
}

static int owner_holds_unit(const struct work *w, size_t owner, size_t unit)
{
    for (size_t k = w->unit_owner_start[unit]; k < w->unit_owner_start[unit + 1]; k++)
        if (w->a->ownerships[w->unit_owners[k]].owner == owner)
            return 1;
    return 0;
}

/* Art. 3.87 §5: parties (owners counted per person, co-owners of a lot as one). */
static int build_parties(struct work *w)
{
    const struct kopro_assembly *a = w->a;
    struct kopro_legal_result *r = w->r;
    size_t *parent = xcalloc(a->n_owners, sizeof(size_t));
    size_t *root_party = xcalloc(a->n_owners, sizeof(size_t));
    unsigned char *holds = xcalloc(a->n_owners, 1);
    int rc = 0;

    r->party_of_owner = xcalloc(a->n_owners, sizeof(size_t));
    r->parties = xcalloc(a->n_owners, sizeof(*r->parties));
    w->party_of_unit = xcalloc(a->n_units, sizeof(size_t));
    if (parent == NULL || root_party == NULL || holds == NULL || r->party_of_owner == NULL ||
        r->parties == NULL || w->party_of_unit == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly parties");
        goto done;
    }
    for (size_t i = 0; i < a->n_owners; i++) {
        parent[i] = i;
        root_party[i] = KOPRO_NONE;
    }
    for (size_t u = 0; u < a->n_units; u++) {
        size_t s = w->unit_owner_start[u];
        for (size_t k = s + 1; k < w->unit_owner_start[u + 1]; k++)
            uf_union(parent, a->ownerships[w->unit_owners[s]].owner,
                     a->ownerships[w->unit_owners[k]].owner);
    }
    /* a group holds if any member holds a unit */
    for (size_t i = 0; i < a->n_ownerships; i++)
        holds[uf_find(parent, a->ownerships[i].owner)] = 1;
    /* holders first, then owners holding nothing (proxy holders), in model order */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < a->n_owners; i++) {
            size_t root = uf_find(parent, i);
            if ((pass == 0) != (holds[root] != 0))
                continue;
            if (root_party[root] == KOPRO_NONE) {
                root_party[root] = r->n_parties;
                r->parties[r->n_parties].proxy = KOPRO_NONE;
                r->n_parties++;
            }
            r->party_of_owner[i] = root_party[root];
        }
    for (size_t i = 0; i < a->n_owners; i++) {
        struct kopro_legal_party *p = &r->parties[r->party_of_owner[i]];
        size_t *grown = realloc(p->owners, (p->n_owners + 1) * sizeof(size_t));
        if (grown == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly parties");
            goto done;
        }
        p->owners = grown;
        p->owners[p->n_owners++] = i;
    }
    for (size_t u = 0; u < a->n_units; u++) {
        size_t owner = a->ownerships[w->unit_owners[w->unit_owner_start[u]]].owner;
        size_t pi = r->party_of_owner[owner];
        struct kopro_legal_party *p = &r->parties[pi];
        size_t *grown = realloc(p->units, (p->n_units + 1) * sizeof(size_t));
        if (grown == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly parties");
            goto done;
        }
        p->units = grown;
        p->units[p->n_units++] = u;
        p->shares_e4 += a->units[u].quota_e4;
        w->party_of_unit[u] = pi;
    }
done:
    free(parent);
    free(root_party);
    free(holds);
    return rc;
}

/* Attendance per owner, then per party. */
static int build_attendance(struct work *w)
{
    const struct kopro_assembly *a = w->a;
    struct kopro_legal_result *r = w->r;

    w->owner_att = xcalloc(a->n_owners, sizeof(*w->owner_att));
    if (w->owner_att == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory computing attendance");
    if (a->attendance_source == KOPRO_ATTENDANCE_FROM_VOTES) {
        for (size_t i = 0; i < a->n_votes; i++) {
            const struct kopro_vote *v = &a->votes[i];
            if (v->proxy_owner == KOPRO_NONE)
                w->owner_att[v->owner] = KOPRO_ATTEND_PRESENT;
            else if (w->owner_att[v->owner] == KOPRO_ATTEND_ABSENT)
                w->owner_att[v->owner] = KOPRO_ATTEND_REPRESENTED;
        }
        /* a proxy holder who is a co-owner and voted as such is present too */
        for (size_t i = 0; i < a->n_votes; i++)
            if (a->votes[i].proxy_owner != KOPRO_NONE &&
                w->owner_att[a->votes[i].proxy_owner] == KOPRO_ATTEND_ABSENT &&
                r->parties[r->party_of_owner[a->votes[i].proxy_owner]].n_units == 0)
                w->owner_att[a->votes[i].proxy_owner] = KOPRO_ATTEND_PRESENT;
    } else {
        for (size_t i = 0; i < a->n_owners; i++)
            w->owner_att[i] = a->owners[i].attendance;
    }
    for (size_t pi = 0; pi < r->n_parties; pi++) {
        struct kopro_legal_party *p = &r->parties[pi];
        p->attendance = KOPRO_ATTEND_ABSENT;
        for (size_t k = 0; k < p->n_owners; k++) {
            enum kopro_attendance at = w->owner_att[p->owners[k]];
            if (at == KOPRO_ATTEND_PRESENT)
                p->attendance = KOPRO_ATTEND_PRESENT;
            else if (at == KOPRO_ATTEND_REPRESENTED && p->attendance == KOPRO_ATTEND_ABSENT)
                p->attendance = KOPRO_ATTEND_REPRESENTED;
        }
        if (p->attendance == KOPRO_ATTEND_REPRESENTED)
            for (size_t k = 0; k < a->n_proxies; k++)
                if (r->party_of_owner[a->proxies[k].grantor] == pi) {
                    p->proxy = k;
                    break;
                }
    }
    return 0;
}

/* Art. 3.87 §5: both routes and the second-convocation exemption. */
static void compute_quorum(struct work *w)
{
    const struct kopro_assembly *a = w->a;
    struct kopro_legal_result *r = w->r;
    struct kopro_legal_quorum *q = &r->quorum;

    memset(q, 0, sizeof(*q));
    q->shares_total_e4 = a->building.total_tantiemes * KOPRO_SHARE_SCALE;
    for (size_t pi = 0; pi < r->n_parties; pi++) {
        const struct kopro_legal_party *p = &r->parties[pi];
        if (p->n_units == 0)
            continue;
        q->owners_total++;
        if (p->attendance != KOPRO_ATTEND_ABSENT) {
            q->owners_present++;
            q->shares_present_e4 += p->shares_e4;
        }
    }
    q->owners_majority = 2 * q->owners_present > q->owners_total;
    q->shares_half = (i128)2 * q->shares_present_e4 >= (i128)q->shares_total_e4;
    q->route_owners_and_half_shares = q->owners_majority && q->shares_half;
    q->route_three_quarters_shares = (i128)4 * q->shares_present_e4 > (i128)3 * q->shares_total_e4;
    q->second_convocation = a->meeting.is_second_convocation != 0;
    q->valid = q->route_owners_and_half_shares || q->route_three_quarters_shares ||
               q->second_convocation;
    q->owners_present_bp = bp_of((int64_t)q->owners_present, (int64_t)q->owners_total);
    q->shares_present_bp = bp_of(q->shares_present_e4, q->shares_total_e4);
}

/* Art. 3.87 §7: at most 3 proxies unless own + proxied votes <= 10% of all votes;
 * the syndic may not hold a proxy. Proxies of absent grantors count too: the
 * mandate was accepted. */
static int compute_proxy_issues(struct work *w)
{
    const struct kopro_assembly *a = w->a;
    struct kopro_legal_result *r = w->r;
    const int64_t total = r->quorum.shares_total_e4;

    r->proxy_issues = xcalloc(2 * a->n_proxies, sizeof(*r->proxy_issues));
    if (r->proxy_issues == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory checking proxies");
    for (size_t i = 0; i < a->n_proxies; i++) {
        const struct kopro_proxy *p = &a->proxies[i];
        size_t n = 0;
        int64_t votes = 0;
        int first = 1;
        int syndic = 0;
        memset(w->mark, 0, a->n_owners);
        for (size_t k = 0; k < a->n_proxies && first; k++) {
            if (strcmp(nz(a->proxies[k].holder_id), nz(p->holder_id)) != 0)
                continue;
            if (k < i)
                first = 0; /* reported with the holder's first proxy */
        }
        if (!first)
            continue;
        for (size_t k = 0; k < a->n_proxies; k++) {
            const struct kopro_proxy *q = &a->proxies[k];
            size_t pi;
            if (strcmp(nz(q->holder_id), nz(p->holder_id)) != 0)
                continue;
            n++;
            syndic |= q->holder_is_syndic;
            pi = r->party_of_owner[q->grantor];
            if (!w->mark[r->parties[pi].owners[0]]) {
                w->mark[r->parties[pi].owners[0]] = 1;
                votes += r->parties[pi].shares_e4;
            }
        }
        if (p->holder_owner != KOPRO_NONE) {
            size_t hp = r->party_of_owner[p->holder_owner];
            syndic |= a->owners[p->holder_owner].is_syndic;
            if (!w->mark[r->parties[hp].owners[0]] && r->parties[hp].attendance != KOPRO_ATTEND_ABSENT)
                votes += r->parties[hp].shares_e4;
        }
        if (n > 3 && (i128)votes * 10 > (i128)total) {
            struct kopro_legal_proxy_issue *x = &r->proxy_issues[r->n_proxy_issues++];
            x->kind = KOPRO_PROXY_ISSUE_OVER_LIMIT;
            x->holder_id = p->holder_id;
            x->holder_name = p->holder_name;
            x->n_proxies = n;
            x->votes_e4 = votes;
            x->limit_e4 = total / 10;
        }
        if (syndic) {
            struct kopro_legal_proxy_issue *x = &r->proxy_issues[r->n_proxy_issues++];
            x->kind = KOPRO_PROXY_ISSUE_SYNDIC;
            x->holder_id = p->holder_id;
            x->holder_name = p->holder_name;
            x->n_proxies = n;
            x->votes_e4 = votes;
            x->limit_e4 = total / 10;
        }
    }
    return 0;
}

static int collect_owners(struct work *w, size_t **out, size_t *n_out)
{
    size_t n = 0;
    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < w->a->n_owners; i++)
        n += w->mark[i] != 0;
    if (n == 0)
        return 0;
    *out = calloc(n, sizeof(size_t));
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory listing voters");
    for (size_t i = 0; i < w->a->n_owners; i++)
        if (w->mark[i])
            (*out)[(*n_out)++] = i;
    return 0;
}

/*
 * Split `keep` over the three choices in proportion to cast[c]
 * (largest remainder; ties to the lower choice index). Sum of cast > 0.
 */
static void apportion3(int64_t kept[3], const int64_t cast[3], int64_t keep)
{
    int64_t total = cast[0] + cast[1] + cast[2];
    int64_t rem[3];
    int64_t given = 0;
    for (int c = 0; c < 3; c++) {
        i128 prod = (i128)cast[c] * keep;
        kept[c] = (int64_t)(prod / total);
        rem[c] = (int64_t)(prod % total);
        given += kept[c];
    }
    while (given < keep) {
        int best = -1;
        for (int c = 0; c < 3; c++)
            if (kept[c] < cast[c] && (best < 0 || rem[c] > rem[best]))
                best = c;
        kept[best]++;
        rem[best] = -1;
        given++;
    }
}

static int compute_resolution(struct work *w, size_t ri)
{
    const struct kopro_assembly *a = w->a;
    struct kopro_legal_result *r = w->r;
    const struct kopro_resolution *res = &a->resolutions[ri];
    struct kopro_legal_resolution *out = &r->resolutions[ri];
    const int64_t present = r->quorum.shares_present_e4;
    int64_t rows[3] = {0, 0, 0};
    size_t n_touched = 0;
    int num, den, strict;
    int rc;

    out->resolution = ri;
    if ((rc = kopro_legal_majority_parse(&out->majority, res->majority_required)) != 0)
        return kopro_error_wrap(KOPRO_EINVAL, "resolutions %s", nz(res->id));
    out->majority_article = majority_articles[out->majority];

    for (size_t k = w->votes_by_res_start[ri]; k < w->votes_by_res_start[ri + 1]; k++) {
        size_t vi = w->votes_by_res[k];
        const struct kopro_vote *v = &a->votes[vi];
        const struct kopro_unit *u = &a->units[v->unit];
        size_t voter, caster;
        if (w->vote_of_unit[v->unit] != KOPRO_NONE)
            return kopro_error_set(KOPRO_EINVAL,
                                   "votes %s and %s: two votes on lot %s (units %s) for "
                                   "resolutions %s; a lot votes once (votes UNIQUE(resolution_id, "
                                   "unit_id))",
                                   nz(a->votes[w->vote_of_unit[v->unit]].id), nz(v->id),
                                   nz(u->number), nz(u->id), nz(res->id));
        w->vote_of_unit[v->unit] = vi;
        if (!owner_holds_unit(w, v->owner, v->unit))
            return kopro_error_set(KOPRO_EINVAL,
                                   "votes %s: owner %s (owners %s) does not hold lot %s (units %s) "
                                   "at the meeting date; only a lot's owners vote for it "
                                   "(art. 3.87 §1, unit_owners)",
                                   nz(v->id), nz(a->owners[v->owner].display_name),
                                   nz(a->owners[v->owner].id), nz(u->number), nz(u->id));
        if (v->voting_power_e4 != u->quota_e4) {
            char got[32], want[32];
            kopro_decimal_format(got, sizeof(got), v->voting_power_e4, 4);
            kopro_decimal_format(want, sizeof(want), u->quota_e4, 4);
            return kopro_error_set(KOPRO_EINVAL,
                                   "votes %s: voting_power %s differs from the quota %s of lot %s "
                                   "(units %s); votes weigh by shares (art. 3.88)",
                                   nz(v->id), got, want, nz(u->number), nz(u->id));
        }
        voter = w->party_of_unit[v->unit];
        if (r->parties[voter].attendance == KOPRO_ATTEND_ABSENT)
            return kopro_error_set(KOPRO_EINVAL,
                                   "votes %s: owner %s (owners %s) is recorded absent "
                                   "(convocation_recipients) but voted on resolutions %s; only "
                                   "owners present or represented vote (art. 3.87 §1)",
                                   nz(v->id), nz(a->owners[v->owner].display_name),
                                   nz(a->owners[v->owner].id), nz(res->id));
        caster = v->proxy_owner != KOPRO_NONE ? r->party_of_owner[v->proxy_owner] : voter;
        if (w->party_cast[0][caster] == 0 && w->party_cast[1][caster] == 0 &&
            w->party_cast[2][caster] == 0) {
            w->touched[n_touched++] = caster;
            w->party_rep[caster] = v->proxy_owner != KOPRO_NONE ? v->proxy_owner : v->owner;
        }
        w->party_cast[v->choice][caster] += v->voting_power_e4;
        rows[v->choice]++;
        out->raw[v->choice].shares_e4 += v->voting_power_e4;
        if (!w->party_voted[v->choice][voter]) {
            w->party_voted[v->choice][voter] = 1;
            out->raw[v->choice].owners++;
        }
    }
    memcpy(out->counted, out->raw, sizeof(out->raw));

    /* Art. 3.87 §7: nobody votes for more than all other present or represented
     * owners together; the excess is not counted. */
    out->caps = xcalloc(n_touched, sizeof(*out->caps));
    if (out->caps == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory computing vote caps");
    for (size_t t = 0; t < n_touched; t++) {
        size_t c = w->touched[t];
        int64_t cast[3] = {w->party_cast[0][c], w->party_cast[1][c], w->party_cast[2][c]};
        int64_t mine = cast[0] + cast[1] + cast[2];
        int64_t others = present - mine;
        if (others < 0)
            others = 0;
        if (mine > others) {
            struct kopro_legal_cap *cap = &out->caps[out->n_caps++];
            int64_t kept[3];
            apportion3(kept, cast, others);
            cap->holder_id = a->owners[w->party_rep[c]].id;
            cap->holder_name = a->owners[w->party_rep[c]].display_name;
            cap->cast_e4 = mine;
            cap->others_e4 = others;
            cap->excess_e4 = mine - others;
            for (int ch = 0; ch < 3; ch++) {
                cap->removed_e4[ch] = cast[ch] - kept[ch];
                out->counted[ch].shares_e4 -= cap->removed_e4[ch];
            }
        }
    }

    out->cast_e4 = out->counted[KOPRO_VOTE_POUR].shares_e4 + out->counted[KOPRO_VOTE_CONTRE].shares_e4;
    out->pour_num_e4 = out->counted[KOPRO_VOTE_POUR].shares_e4;
    out->pour_den_e4 = out->cast_e4;
    out->pour_bp = bp_of(out->pour_num_e4, out->cast_e4);
    out->contre_bp = bp_of(out->counted[KOPRO_VOTE_CONTRE].shares_e4, out->cast_e4);
    kopro_legal_majority_threshold(out->majority, &num, &den, &strict);
    if (out->majority == KOPRO_MAJORITY_UNANIMITY) {
        /* all shares of the building, absent owners included; uncapped */
        out->adopted = out->raw[KOPRO_VOTE_POUR].shares_e4 == r->quorum.shares_total_e4 &&
                       out->raw[KOPRO_VOTE_CONTRE].shares_e4 == 0 &&
                       out->raw[KOPRO_VOTE_ABSTENTION].shares_e4 == 0;
        out->unanimity_failed_on_absence =
            !out->adopted && out->raw[KOPRO_VOTE_POUR].shares_e4 > 0 &&
            out->raw[KOPRO_VOTE_POUR].shares_e4 == r->quorum.shares_present_e4;
    } else if (out->cast_e4 == 0) {
        out->adopted = 0; /* no votes cast: rejected */
    } else if (strict) {
        out->adopted = (i128)out->pour_num_e4 * den > (i128)out->cast_e4 * num;
    } else {
        out->adopted = (i128)out->pour_num_e4 * den >= (i128)out->cast_e4 * num;
    }

    /* art. 3.87 §10: the names of the owners voting contre and abstaining */
    for (int ch = KOPRO_VOTE_CONTRE; ch <= KOPRO_VOTE_ABSTENTION; ch++) {
        memset(w->mark, 0, a->n_owners);
        for (size_t k = w->votes_by_res_start[ri]; k < w->votes_by_res_start[ri + 1]; k++) {
            const struct kopro_vote *v = &a->votes[w->votes_by_res[k]];
            if ((int)v->choice != ch)
                continue;
            for (size_t j = w->unit_owner_start[v->unit]; j < w->unit_owner_start[v->unit + 1]; j++)
                w->mark[a->ownerships[w->unit_owners[j]].owner] = 1;
        }
        rc = ch == KOPRO_VOTE_CONTRE
                 ? collect_owners(w, &out->contre_owners, &out->n_contre_owners)
                 : collect_owners(w, &out->abstention_owners, &out->n_abstention_owners);
        if (rc != 0)
            return rc;
    }

    if (res->stored_status != NULL) {
        out->stored_pending = strcmp(res->stored_status, "Pending") == 0;
        out->status_disagrees = (strcmp(res->stored_status, "Adopted") == 0 && !out->adopted) ||
                                (strcmp(res->stored_status, "Rejected") == 0 && out->adopted);
    }
    for (int ch = 0; ch < 3; ch++)
        if (res->stored_count[ch] != rows[ch] || res->stored_power_e4[ch] != out->raw[ch].shares_e4)
            out->tallies_disagree = 1;
    if (out->status_disagrees || out->tallies_disagree)
        r->n_discrepancies++;

    /* reset the per-resolution work space */
    for (size_t t = 0; t < n_touched; t++)
        for (int ch = 0; ch < 3; ch++)
            w->party_cast[ch][w->touched[t]] = 0;
    for (size_t k = w->votes_by_res_start[ri]; k < w->votes_by_res_start[ri + 1]; k++) {
        const struct kopro_vote *v = &a->votes[w->votes_by_res[k]];
        w->vote_of_unit[v->unit] = KOPRO_NONE;
        for (int ch = 0; ch < 3; ch++)
            w->party_voted[ch][w->party_of_unit[v->unit]] = 0;
    }
    return 0;
}

static int build_signatories(struct work *w)
{
    const struct kopro_assembly *a = w->a;
    struct kopro_legal_result *r = w->r;
    size_t cap = a->n_owners + a->n_proxies + 1;

    r->signatories = xcalloc(cap, sizeof(*r->signatories));
    if (r->signatories == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory listing signatories");
    memset(w->mark, 0, a->n_owners);
    for (size_t i = 0; i < a->n_owners; i++)
        if (w->owner_att[i] == KOPRO_ATTEND_PRESENT) {
            struct kopro_legal_signatory *s = &r->signatories[r->n_signatories++];
            s->name = a->owners[i].display_name;
            s->owner = i;
            w->mark[i] = 1;
        }
    /* proxy holders of represented owners, once each */
    for (size_t k = 0; k < a->n_proxies; k++) {
        const struct kopro_proxy *p = &a->proxies[k];
        int seen = 0;
        if (w->owner_att[p->grantor] != KOPRO_ATTEND_REPRESENTED)
            continue;
        if (p->holder_owner != KOPRO_NONE && w->mark[p->holder_owner]) {
            for (size_t j = 0; j < r->n_signatories; j++)
                if (r->signatories[j].owner == p->holder_owner)
                    r->signatories[j].is_proxy_holder = 1;
            continue;
        }
        for (size_t j = 0; j < r->n_signatories && !seen; j++)
            seen = r->signatories[j].owner == KOPRO_NONE &&
                   strcmp(nz(r->signatories[j].name), nz(p->holder_name)) == 0;
        if (seen)
            continue;
        r->signatories[r->n_signatories].name = p->holder_name;
        r->signatories[r->n_signatories].owner = p->holder_owner;
        r->signatories[r->n_signatories].is_proxy_holder = 1;
        if (p->holder_owner != KOPRO_NONE)
            w->mark[p->holder_owner] = 1;
        r->n_signatories++;
    }
    /* holders seen only in the votes (attendance derived from votes) */
    for (size_t i = 0; i < a->n_votes && r->n_signatories < cap; i++) {
        size_t h = a->votes[i].proxy_owner;
        if (h == KOPRO_NONE || w->mark[h])
            continue;
        w->mark[h] = 1;
        r->signatories[r->n_signatories].name = a->owners[h].display_name;
        r->signatories[r->n_signatories].owner = h;
        r->signatories[r->n_signatories].is_proxy_holder = 1;
        r->n_signatories++;
    }
    return 0;
}

int kopro_legal_compute(struct kopro_legal_result **out, const struct kopro_assembly *a)
{
    struct work w;
    struct kopro_legal_result *r = NULL;
    size_t max_parties;
    int oom = 0;
    int rc;

    memset(&w, 0, sizeof(w));
    *out = NULL;
    if ((rc = check_structure(a)) != 0)
        goto done;
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly");
        goto done;
    }
    w.a = a;
    w.r = r;
    r->attendance_source = a->attendance_source;
    if ((rc = build_units(&w)) != 0 || (rc = build_parties(&w)) != 0 ||
        (rc = build_attendance(&w)) != 0)
        goto done;
    compute_quorum(&w);
    max_parties = r->n_parties;
    w.mark = xcalloc(a->n_owners, 1);
    w.party_rep = xcalloc(max_parties, sizeof(size_t));
    w.touched = xcalloc(max_parties, sizeof(size_t));
    w.vote_of_unit = xcalloc(a->n_units, sizeof(size_t));
    w.votes_by_res_start = xcalloc(a->n_resolutions + 1, sizeof(size_t));
    w.votes_by_res = xcalloc(a->n_votes, sizeof(size_t));
    r->resolutions = xcalloc(a->n_resolutions, sizeof(*r->resolutions));
    for (int ch = 0; ch < 3; ch++) {
        w.party_cast[ch] = xcalloc(max_parties, sizeof(int64_t));
        w.party_voted[ch] = xcalloc(max_parties, sizeof(int));
        if (w.party_cast[ch] == NULL || w.party_voted[ch] == NULL)
            oom = 1;
    }
    if (oom || w.mark == NULL || w.party_rep == NULL || w.touched == NULL || w.vote_of_unit == NULL ||
        w.votes_by_res_start == NULL || w.votes_by_res == NULL || r->resolutions == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly");
        goto done;
    }
    r->n_resolutions = a->n_resolutions;
    for (size_t u = 0; u < a->n_units; u++)
        w.vote_of_unit[u] = KOPRO_NONE;
    /* group votes by resolution, keeping model order (CSR) */
    for (size_t i = 0; i < a->n_votes; i++)
        w.votes_by_res_start[a->votes[i].resolution + 1]++;
    for (size_t i = 0; i < a->n_resolutions; i++)
        w.votes_by_res_start[i + 1] += w.votes_by_res_start[i];
    {
        size_t *fill = xcalloc(a->n_resolutions, sizeof(size_t));
        if (fill == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory computing the assembly");
            goto done;
        }
        for (size_t i = 0; i < a->n_votes; i++) {
            size_t ri = a->votes[i].resolution;
            w.votes_by_res[w.votes_by_res_start[ri] + fill[ri]++] = i;
        }
        free(fill);
    }
    if ((rc = compute_proxy_issues(&w)) != 0)
        goto done;
    for (size_t ri = 0; ri < a->n_resolutions; ri++)
        if ((rc = compute_resolution(&w, ri)) != 0)
            goto done;
    if ((rc = build_signatories(&w)) != 0)
        goto done;
    *out = r;
    r = NULL;
    rc = 0;
done:
    free(w.unit_owner_start);
    free(w.unit_owners);
    free(w.party_of_unit);
    free(w.owner_att);
    for (int ch = 0; ch < 3; ch++) {
        free(w.party_cast[ch]);
        free(w.party_voted[ch]);
    }
    free(w.party_rep);
    free(w.touched);
    free(w.vote_of_unit);
    free(w.votes_by_res_start);
    free(w.votes_by_res);
    free(w.mark);
    kopro_legal_result_free(r);
    return rc;
}

/* ------------------------------------------------------------ JSON */

static json_t *jdec4(int64_t v)
{
    char buf[32];
    kopro_decimal_format(buf, sizeof(buf), v, 4);
    return json_string(buf);
}

static const char *const choice_keys[3] = {"pour", "contre", "abstention"};
static const char *const att_names[3] = {"absent", "present", "represented"};

static json_t *names_of(const struct kopro_assembly *a, const size_t *idx, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        if (json_array_append_new(arr, json_string(a->owners[idx[i]].display_name)) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

int kopro_legal_result_to_json(json_t **out, const struct kopro_legal_result *r,
                               const struct kopro_assembly *a)
{
    const struct kopro_legal_quorum *q = &r->quorum;
    json_t *doc = NULL;
    json_t *parties = json_array();
    json_t *issues = json_array();
    json_t *res = json_array();
    json_t *signs = json_array();
    int bad = parties == NULL || issues == NULL || res == NULL || signs == NULL;

    *out = NULL;
    for (size_t i = 0; !bad && i < r->n_parties; i++) {
        const struct kopro_legal_party *p = &r->parties[i];
        bad |= json_array_append_new(
            parties, json_pack("{s:o, s:o, s:s, s:o}", "owners", names_of(a, p->owners, p->n_owners),
                               "shares", jdec4(p->shares_e4), "attendance", att_names[p->attendance],
                               "proxy_holder",
                               p->proxy != KOPRO_NONE ? json_string(a->proxies[p->proxy].holder_name)
                                                      : json_null()));
    }
    for (size_t i = 0; !bad && i < r->n_proxy_issues; i++) {
        const struct kopro_legal_proxy_issue *x = &r->proxy_issues[i];
        bad |= json_array_append_new(
            issues, json_pack("{s:s, s:s, s:I, s:o, s:o}", "kind",
                              x->kind == KOPRO_PROXY_ISSUE_SYNDIC ? "syndic_holds_proxy"
                                                                  : "over_proxy_limit",
                              "holder", x->holder_name ? x->holder_name : "", "proxies",
                              (json_int_t)x->n_proxies, "votes", jdec4(x->votes_e4), "limit",
                              jdec4(x->limit_e4)));
    }
    for (size_t i = 0; !bad && i < r->n_resolutions; i++) {
        const struct kopro_legal_resolution *lr = &r->resolutions[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o, s:i, s:o, s:o, s:b, s:b, s:b, s:b}", "id",
                              a->resolutions[lr->resolution].id ? a->resolutions[lr->resolution].id : "",
                              "majority", kopro_legal_majority_name(lr->majority), "article",
                              lr->majority_article, "adopted", lr->adopted, "cast",
                              jdec4(lr->cast_e4), "pour_bp", lr->pour_bp, "contre_names",
                              names_of(a, lr->contre_owners, lr->n_contre_owners),
                              "abstention_names",
                              names_of(a, lr->abstention_owners, lr->n_abstention_owners),
                              "status_disagrees", lr->status_disagrees, "tallies_disagree",
                              lr->tallies_disagree, "stored_pending", lr->stored_pending,
                              "unanimity_failed_on_absence", lr->unanimity_failed_on_absence);
        json_t *caps = json_array();
        bad |= o == NULL || caps == NULL;
        for (int ch = 0; !bad && ch < 3; ch++)
            bad |= json_object_set_new(o, choice_keys[ch],
                                       json_pack("{s:I, s:o, s:o}", "owners",
                                                 (json_int_t)lr->counted[ch].owners, "shares",
                                                 jdec4(lr->counted[ch].shares_e4), "raw_shares",
                                                 jdec4(lr->raw[ch].shares_e4)));
        for (size_t k = 0; !bad && k < lr->n_caps; k++)
            bad |= json_array_append_new(
                caps, json_pack("{s:s, s:o, s:o, s:o}", "holder",
                                lr->caps[k].holder_name ? lr->caps[k].holder_name : "", "cast",
                                jdec4(lr->caps[k].cast_e4), "others", jdec4(lr->caps[k].others_e4),
                                "excess", jdec4(lr->caps[k].excess_e4)));
        if (o != NULL && caps != NULL) {
            bad |= json_object_set_new(o, "caps", caps);
            caps = NULL;
        }
        json_decref(caps);
        bad |= json_array_append_new(res, o);
    }
    for (size_t i = 0; !bad && i < r->n_signatories; i++)
        bad |= json_array_append_new(signs, json_string(r->signatories[i].name ? r->signatories[i].name : ""));
    if (bad)
        goto fail;
    doc = json_pack("{s:s, s:{s:I, s:I, s:o, s:o, s:b, s:b, s:b, s:b, s:i, s:i}, s:o, s:o, s:o, "
                    "s:o, s:I}",
                    "attendance_source",
                    r->attendance_source == KOPRO_ATTENDANCE_FROM_VOTES ? "votes"
                                                                        : "convocation_recipients",
                    "quorum", "owners_total", (json_int_t)q->owners_total, "owners_present",
                    (json_int_t)q->owners_present, "shares_total", jdec4(q->shares_total_e4),
                    "shares_present", jdec4(q->shares_present_e4), "route_owners_and_half_shares",
                    q->route_owners_and_half_shares, "route_three_quarters_shares",
                    q->route_three_quarters_shares, "second_convocation", q->second_convocation,
                    "valid", q->valid, "owners_present_bp", q->owners_present_bp,
                    "shares_present_bp", q->shares_present_bp, "parties", parties, "proxy_issues",
                    issues, "resolutions", res, "signatories", signs, "discrepancies",
                    (json_int_t)r->n_discrepancies);
    if (doc == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory writing the legal result as JSON");
    *out = doc;
    return 0;
fail:
    json_decref(parties);
    json_decref(issues);
    json_decref(res);
    json_decref(signs);
    return kopro_error_set(KOPRO_ERROR, "out of memory writing the legal result as JSON");
}
