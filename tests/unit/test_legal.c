/*
 * Unit tests for lib/assembly.c and lib/legal.c: one test per rule of the
 * Code civil (art. 3.87, 3.88) with exact boundaries, inconsistent data, the
 * JSON model, and 100,000 random assemblies compared with a deliberately
 * naive second implementation written below (no database).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/assembly.h"
#include "kopro/error.h"
#include "kopro/legal.h"

#include "splitmix64.h"

/* ------------------------------------------------------------ builder */

#define T(x) ((int64_t)(x) * KOPRO_SHARE_SCALE) /* whole tantièmes to _e4 */

/* Lean mode (the randomized test): no ids or names, fewer allocations. */
static int tb_lean;

static char *xstrdup(const char *s)
{
    char *d;
    if (tb_lean)
        return NULL;
    d = strdup(s);
    assert_non_null(d);
    return d;
}

/* room for n items; capacity doubles (powers of two) */
static void *grow(void *p, size_t n, size_t size)
{
    void *q = p;
    if (n == 1 || ((n - 1) & (n - 2)) == 0) {
        q = realloc(p, (n == 1 ? 1 : 2 * (n - 1)) * size);
        assert_non_null(q);
    }
    memset((char *)q + (n - 1) * size, 0, size);
    return q;
}

static struct kopro_assembly *tb_new(int64_t total_tantiemes)
{
    struct kopro_assembly *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    a->building.id = xstrdup("b-1");
    a->building.name = xstrdup("Résidence Test");
    a->building.total_tantiemes = total_tantiemes;
    a->meeting.id = xstrdup("m-1");
    a->meeting.title = xstrdup("AG ordinaire");
    a->meeting.scheduled_at_utc = 1773511200;
    return a;
}

static size_t tb_owner(struct kopro_assembly *a, const char *name, enum kopro_attendance at)
{
    char id[32];
    struct kopro_owner *o;
    a->owners = grow(a->owners, ++a->n_owners, sizeof(*a->owners));
    o = &a->owners[a->n_owners - 1];
    snprintf(id, sizeof(id), "o-%zu", a->n_owners);
    o->id = xstrdup(id);
    o->display_name = xstrdup(name);
    o->attendance = at;
    return a->n_owners - 1;
}

static size_t tb_unit(struct kopro_assembly *a, int64_t quota_e4)
{
    char id[32];
    struct kopro_unit *u;
    a->units = grow(a->units, ++a->n_units, sizeof(*a->units));
    u = &a->units[a->n_units - 1];
    snprintf(id, sizeof(id), "u-%zu", a->n_units);
    u->id = xstrdup(id);
    snprintf(id, sizeof(id), "%zu", a->n_units);
    u->number = xstrdup(id);
    u->quota_e4 = quota_e4;
    return a->n_units - 1;
}

static void tb_own(struct kopro_assembly *a, size_t unit, size_t owner, int64_t fraction_e5)
{
    struct kopro_ownership *w;
    char id[32];
    a->ownerships = grow(a->ownerships, ++a->n_ownerships, sizeof(*a->ownerships));
    w = &a->ownerships[a->n_ownerships - 1];
    snprintf(id, sizeof(id), "uo-%zu", a->n_ownerships);
    w->id = xstrdup(id);
    w->unit = unit;
    w->owner = owner;
    w->fraction_e5 = fraction_e5;
}

/* one owner holding one whole unit */
static size_t tb_lot(struct kopro_assembly *a, const char *name, enum kopro_attendance at,
                     int64_t quota_e4)
{
    size_t o = tb_owner(a, name, at);
    tb_own(a, tb_unit(a, quota_e4), o, KOPRO_FRACTION_SCALE);
    return o;
}

static void tb_proxy(struct kopro_assembly *a, size_t grantor, size_t holder_owner,
                     const char *holder_name, int syndic)
{
    struct kopro_proxy *p;
    a->proxies = grow(a->proxies, ++a->n_proxies, sizeof(*a->proxies));
    p = &a->proxies[a->n_proxies - 1];
    p->grantor = grantor;
    p->holder_owner = holder_owner;
    p->holder_name = xstrdup(holder_owner != KOPRO_NONE ? a->owners[holder_owner].display_name
                                                        : holder_name);
    p->holder_id = xstrdup(holder_owner != KOPRO_NONE ? a->owners[holder_owner].id : holder_name);
    p->holder_is_syndic = syndic;
    p->source = xstrdup("convocation_recipients");
}

static size_t tb_res(struct kopro_assembly *a, const char *majority, const char *status)
{
    char id[32];
    struct kopro_resolution *r;
    a->resolutions = grow(a->resolutions, ++a->n_resolutions, sizeof(*a->resolutions));
    r = &a->resolutions[a->n_resolutions - 1];
    snprintf(id, sizeof(id), "r-%zu", a->n_resolutions);
    r->id = xstrdup(id);
    r->title = xstrdup(id);
    r->majority_required = strdup(majority);
    assert_non_null(r->majority_required);
    r->stored_status = status ? strdup(status) : NULL;
    return a->n_resolutions - 1;
}

/* the vote of `unit` (by its first holder, or `owner` if given) */
static size_t tb_vote_by(struct kopro_assembly *a, size_t res, size_t unit, size_t owner,
                         enum kopro_vote_choice ch, size_t proxy_owner)
{
    struct kopro_vote *v;
    char id[32];
    if (owner == KOPRO_NONE)
        for (size_t i = 0; i < a->n_ownerships; i++)
            if (a->ownerships[i].unit == unit) {
                owner = a->ownerships[i].owner;
                break;
            }
    a->votes = grow(a->votes, ++a->n_votes, sizeof(*a->votes));
    v = &a->votes[a->n_votes - 1];
    snprintf(id, sizeof(id), "v-%zu", a->n_votes);
    v->id = xstrdup(id);
    v->resolution = res;
    v->unit = unit;
    v->owner = owner;
    v->choice = ch;
    v->voting_power_e4 = a->units[unit].quota_e4;
    v->proxy_owner = proxy_owner;
    a->resolutions[res].stored_count[ch]++;
    a->resolutions[res].stored_power_e4[ch] += v->voting_power_e4;
    return a->n_votes - 1;
}

static void tb_vote(struct kopro_assembly *a, size_t res, size_t unit, enum kopro_vote_choice ch)
{
    tb_vote_by(a, res, unit, KOPRO_NONE, ch, KOPRO_NONE);
}

static struct kopro_legal_result *compute_ok(const struct kopro_assembly *a)
{
    struct kopro_legal_result *r = NULL;
    int rc = kopro_legal_compute(&r, a);
    if (rc != 0)
        fail_msg("kopro_legal_compute: %s", kopro_error_last());
    return r;
}

static void expect_einval(const struct kopro_assembly *a, const char *needle1, const char *needle2)
{
    struct kopro_legal_result *r = (struct kopro_legal_result *)0x1;
    assert_int_equal(kopro_legal_compute(&r, a), KOPRO_EINVAL);
    assert_null(r);
    if (strstr(kopro_error_last(), needle1) == NULL || strstr(kopro_error_last(), needle2) == NULL)
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", kopro_error_last(), needle1, needle2);
}

/* ------------------------------------------------------------ art. 3.87 §5 quorum */

static void test_legal__art_3_87_5_quorum_owners_and_half_shares(void **state)
{
    struct kopro_assembly *a = tb_new(10000);
    struct kopro_legal_result *r;
    (void)state;
    /* 3 of 4 owners present holding exactly 3/4 of the shares: route 1 holds,
     * route 2 (more than 3/4) does not */
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(2500));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(2500));
    tb_lot(a, "Chloé", KOPRO_ATTEND_PRESENT, T(2500));
    tb_lot(a, "Dirk", KOPRO_ATTEND_ABSENT, T(2500));
    r = compute_ok(a);
    assert_int_equal(r->quorum.owners_total, 4);
    assert_int_equal(r->quorum.owners_present, 3);
    assert_int_equal(r->quorum.shares_present_e4, T(7500));
    assert_true(r->quorum.route_owners_and_half_shares);
    assert_false(r->quorum.route_three_quarters_shares);
    assert_true(r->quorum.valid);
    assert_int_equal(r->quorum.shares_present_bp, 7500);
    assert_int_equal(r->quorum.owners_present_bp, 7500);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_5_quorum_exactly_half_owners_fails(void **state)
{
    struct kopro_assembly *a = tb_new(10000);
    struct kopro_legal_result *r;
    (void)state;
    /* exactly half the owners (not more) with exactly half the shares */
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(2500));
    tb_lot(a, "Bert", KOPRO_ATTEND_REPRESENTED, T(2500));
    tb_lot(a, "Chloé", KOPRO_ATTEND_ABSENT, T(2500));
    tb_lot(a, "Dirk", KOPRO_ATTEND_ABSENT, T(2500));
    tb_proxy(a, 1, 0, NULL, 0);
    r = compute_ok(a);
    assert_int_equal(r->quorum.owners_present, 2);
    assert_false(r->quorum.owners_majority);
    assert_true(r->quorum.shares_half); /* exactly 1/2 is "at least half" */
    assert_false(r->quorum.route_owners_and_half_shares);
    assert_false(r->quorum.valid);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_5_quorum_majority_of_owners_below_half_shares(void **state)
{
    struct kopro_assembly *a = tb_new(10000);
    struct kopro_legal_result *r;
    (void)state;
    /* 3 of 5 owners present but 1 share short of half */
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(1666));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(1667));
    tb_lot(a, "Chloé", KOPRO_ATTEND_PRESENT, T(1666));
    tb_lot(a, "Dirk", KOPRO_ATTEND_ABSENT, T(2500));
    tb_lot(a, "Emma", KOPRO_ATTEND_ABSENT, T(2501));
    r = compute_ok(a);
    assert_true(r->quorum.owners_majority);
    assert_int_equal(r->quorum.shares_present_e4, T(4999));
    assert_false(r->quorum.shares_half);
    assert_false(r->quorum.valid);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_5_quorum_three_quarters_route(void **state)
{
    struct kopro_assembly *a = tb_new(10000);
    struct kopro_legal_result *r;
    (void)state;
    /* one owner of 5 holds 3/4 + 1/10000 tantième: route 2 alone */
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(7500) + 1);
    tb_lot(a, "Bert", KOPRO_ATTEND_ABSENT, T(625));
    tb_lot(a, "Chloé", KOPRO_ATTEND_ABSENT, T(625));
    tb_lot(a, "Dirk", KOPRO_ATTEND_ABSENT, T(625));
    tb_lot(a, "Emma", KOPRO_ATTEND_ABSENT, T(625) - 1);
    r = compute_ok(a);
    assert_false(r->quorum.route_owners_and_half_shares);
    assert_true(r->quorum.route_three_quarters_shares);
    assert_true(r->quorum.valid);
    kopro_legal_result_free(r);
    /* exactly 3/4 is not "more than 3/4" */
    a->units[0].quota_e4 = T(7500);
    a->units[4].quota_e4 = T(625);
    r = compute_ok(a);
    assert_false(r->quorum.route_three_quarters_shares);
    assert_false(r->quorum.valid);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_5_second_convocation_exempt(void **state)
{
    struct kopro_assembly *a = tb_new(1000);
    struct kopro_legal_result *r;
    (void)state;
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(100));
    tb_lot(a, "Bert", KOPRO_ATTEND_ABSENT, T(900));
    a->meeting.is_second_convocation = 1;
    r = compute_ok(a);
    assert_false(r->quorum.route_owners_and_half_shares);
    assert_false(r->quorum.route_three_quarters_shares);
    assert_true(r->quorum.second_convocation);
    assert_true(r->quorum.valid);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_5_couple_counts_as_one_owner(void **state)
{
    struct kopro_assembly *a = tb_new(1000);
    struct kopro_legal_result *r;
    size_t jean, marie, u;
    (void)state;
    jean = tb_owner(a, "Jean Dupont", KOPRO_ATTEND_PRESENT);
    marie = tb_owner(a, "Marie Dupont-Lefèvre", KOPRO_ATTEND_ABSENT);
    u = tb_unit(a, T(400));
    tb_own(a, u, jean, 50000);
    tb_own(a, u, marie, 50000);
    tb_lot(a, "Zoë", KOPRO_ATTEND_ABSENT, T(300));
    tb_lot(a, "Walter", KOPRO_ATTEND_ABSENT, T(300));
    r = compute_ok(a);
    assert_int_equal(r->quorum.owners_total, 3);
    assert_int_equal(r->quorum.owners_present, 1);
    assert_int_equal(r->quorum.shares_present_e4, T(400));
    assert_int_equal(r->parties[0].n_owners, 2);
    assert_int_equal(r->parties[0].attendance, KOPRO_ATTEND_PRESENT);
    assert_int_equal(r->party_of_owner[jean], r->party_of_owner[marie]);
    /* only Jean is there to sign */
    assert_int_equal(r->n_signatories, 1);
    assert_string_equal(r->signatories[0].name, "Jean Dupont");
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

/* ------------------------------------------------------------ art. 3.88 majorities */

/* two lots voting pour and contre with the given quotas under `majority` */
static int adopted_with(const char *majority, int64_t pour_e4, int64_t contre_e4,
                        int64_t abst_e4)
{
    struct kopro_assembly *a = tb_new(0);
    struct kopro_legal_result *r;
    size_t res;
    int adopted;
    int64_t total = 0;
    res = tb_res(a, majority, NULL);
    if (pour_e4 > 0) {
        tb_lot(a, "Pour", KOPRO_ATTEND_PRESENT, pour_e4);
        tb_vote(a, res, a->n_units - 1, KOPRO_VOTE_POUR);
        total += pour_e4;
    }
    if (contre_e4 > 0) {
        tb_lot(a, "Contre", KOPRO_ATTEND_PRESENT, contre_e4);
        tb_vote(a, res, a->n_units - 1, KOPRO_VOTE_CONTRE);
        total += contre_e4;
    }
    if (abst_e4 > 0) {
        tb_lot(a, "Abst", KOPRO_ATTEND_PRESENT, abst_e4);
        tb_vote(a, res, a->n_units - 1, KOPRO_VOTE_ABSTENTION);
        total += abst_e4;
    }
    /* a large lot present but not voting keeps the vote cap out of the way */
    tb_lot(a, "Silent", KOPRO_ATTEND_PRESENT, T(1000000));
    total += T(1000000);
    assert_int_equal(total % KOPRO_SHARE_SCALE, 0);
    a->building.total_tantiemes = total / KOPRO_SHARE_SCALE;
    r = compute_ok(a);
    adopted = r->resolutions[0].adopted;
    assert_int_equal(r->resolutions[0].n_caps, 0);
    assert_int_equal(r->resolutions[0].cast_e4, pour_e4 + contre_e4);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
    return adopted;
}

static void test_legal__art_3_88_absolute_exact_half_rejected(void **state)
{
    (void)state;
    assert_false(adopted_with("Absolute", T(500), T(500), 0));
    assert_true(adopted_with("Absolute", T(500) + 1, T(500) - 1, 0));
}

static void test_legal__art_3_88_two_thirds_exact_boundary(void **state)
{
    (void)state;
    assert_true(adopted_with("TwoThirds", T(2000), T(1000), 0));
    assert_false(adopted_with("TwoThirds", T(2000) - 1, T(1000) + 1, 0));
    assert_true(adopted_with("TwoThirds", T(2000) + 1, T(1000) - 1, 0));
}

static void test_legal__art_3_88_four_fifths_exact_boundary(void **state)
{
    (void)state;
    assert_true(adopted_with("FourFifths", T(4000), T(1000), 0));
    assert_false(adopted_with("FourFifths", T(4000) - 1, T(1000) + 1, 0));
}

static void test_legal__art_3_88_abstentions_not_votes_cast(void **state)
{
    (void)state;
    /* 300 pour, 200 contre, 5000 abstaining: 3/5 of votes cast */
    assert_true(adopted_with("Absolute", T(300), T(200), T(5000)));
    assert_false(adopted_with("TwoThirds", T(300), T(200), T(5000)));
}

static void test_legal__art_3_88_no_votes_cast_rejected(void **state)
{
    struct kopro_assembly *a = tb_new(100);
    struct kopro_legal_result *r;
    size_t res;
    (void)state;
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(60));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(40));
    res = tb_res(a, "Absolute", "Rejected");
    tb_vote(a, res, 0, KOPRO_VOTE_ABSTENTION);
    tb_res(a, "Absolute", "Rejected"); /* nobody voted at all */
    r = compute_ok(a);
    assert_int_equal(r->resolutions[0].cast_e4, 0);
    assert_false(r->resolutions[0].adopted);
    assert_int_equal(r->resolutions[0].pour_bp, -1);
    assert_false(r->resolutions[1].adopted);
    assert_int_equal(r->n_discrepancies, 0);
    kopro_legal_result_free(r);
    assert_false(adopted_with("Absolute", 0, 0, T(700)));
    kopro_assembly_free(a);
}

static void test_legal__art_3_88_unanimity_absent_owner_rejects(void **state)
{
    struct kopro_assembly *a = tb_new(100);
    struct kopro_legal_result *r;
    size_t res;
    (void)state;
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(40));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(40));
    tb_lot(a, "Chloé", KOPRO_ATTEND_ABSENT, T(20));
    res = tb_res(a, "Unanimity", NULL);
    tb_vote(a, res, 0, KOPRO_VOTE_POUR);
    tb_vote(a, res, 1, KOPRO_VOTE_POUR);
    r = compute_ok(a);
    assert_int_equal(r->resolutions[0].pour_bp, 10000); /* all votes cast are pour */
    assert_false(r->resolutions[0].adopted);           /* but Chloé was absent */
    assert_true(r->resolutions[0].unanimity_failed_on_absence); /* a new assembly may decide */
    kopro_legal_result_free(r);
    /* all present, all pour: adopted */
    a->owners[2].attendance = KOPRO_ATTEND_PRESENT;
    tb_vote(a, res, 2, KOPRO_VOTE_POUR);
    r = compute_ok(a);
    assert_true(r->resolutions[0].adopted);
    assert_false(r->resolutions[0].unanimity_failed_on_absence);
    kopro_legal_result_free(r);
    /* one abstention breaks unanimity, and not for absence */
    a->votes[2].choice = KOPRO_VOTE_ABSTENTION;
    r = compute_ok(a);
    assert_false(r->resolutions[0].adopted);
    assert_false(r->resolutions[0].unanimity_failed_on_absence);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_10_names_contre_and_abstention(void **state)
{
    struct kopro_assembly *a = tb_new(1000);
    struct kopro_legal_result *r;
    size_t jean, marie, u, res;
    (void)state;
    jean = tb_owner(a, "Jean Dupont", KOPRO_ATTEND_PRESENT);
    marie = tb_owner(a, "Marie Dupont", KOPRO_ATTEND_ABSENT);
    u = tb_unit(a, T(300));
    tb_own(a, u, jean, 60000);
    tb_own(a, u, marie, 40000);
    tb_lot(a, "Łukasz Nowak", KOPRO_ATTEND_PRESENT, T(300));
    tb_lot(a, "Иван Иванов", KOPRO_ATTEND_PRESENT, T(400));
    res = tb_res(a, "Absolute", "Adopted");
    tb_vote(a, res, 0, KOPRO_VOTE_CONTRE);
    tb_vote(a, res, 1, KOPRO_VOTE_ABSTENTION);
    tb_vote(a, res, 2, KOPRO_VOTE_POUR);
    r = compute_ok(a);
    assert_true(r->resolutions[0].adopted);
    assert_int_equal(r->resolutions[0].n_contre_owners, 2);
    assert_string_equal(a->owners[r->resolutions[0].contre_owners[0]].display_name, "Jean Dupont");
    assert_string_equal(a->owners[r->resolutions[0].contre_owners[1]].display_name, "Marie Dupont");
    assert_int_equal(r->resolutions[0].n_abstention_owners, 1);
    assert_string_equal(a->owners[r->resolutions[0].abstention_owners[0]].display_name,
                        "Łukasz Nowak");
    assert_int_equal(r->resolutions[0].counted[KOPRO_VOTE_CONTRE].owners, 1);
    assert_int_equal(r->resolutions[0].pour_bp, 5714); /* 400/700 */
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

/* ------------------------------------------------------------ art. 3.87 §7 */

static void test_legal__art_3_87_7_vote_cap_excess_named(void **state)
{
    struct kopro_assembly *a = tb_new(10000);
    struct kopro_legal_result *r;
    size_t res;
    (void)state;
    tb_lot(a, "Immo SA", KOPRO_ATTEND_PRESENT, T(6000));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(2000));
    tb_lot(a, "Chloé", KOPRO_ATTEND_PRESENT, T(2000));
    res = tb_res(a, "Absolute", "Adopted");
    tb_vote(a, res, 0, KOPRO_VOTE_POUR);
    tb_vote(a, res, 1, KOPRO_VOTE_CONTRE);
    tb_vote(a, res, 2, KOPRO_VOTE_CONTRE);
    r = compute_ok(a);
    assert_int_equal(r->resolutions[0].n_caps, 1);
    assert_string_equal(r->resolutions[0].caps[0].holder_name, "Immo SA");
    assert_int_equal(r->resolutions[0].caps[0].cast_e4, T(6000));
    assert_int_equal(r->resolutions[0].caps[0].others_e4, T(4000));
    assert_int_equal(r->resolutions[0].caps[0].excess_e4, T(2000));
    assert_int_equal(r->resolutions[0].raw[KOPRO_VOTE_POUR].shares_e4, T(6000));
    assert_int_equal(r->resolutions[0].counted[KOPRO_VOTE_POUR].shares_e4, T(4000));
    /* 4000 pour against 4000 contre: not more than half */
    assert_false(r->resolutions[0].adopted);
    assert_true(r->resolutions[0].status_disagrees);
    assert_int_equal(r->n_discrepancies, 1);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_7_vote_cap_counts_proxies(void **state)
{
    struct kopro_assembly *a = tb_new(100);
    struct kopro_legal_result *r;
    size_t res;
    (void)state;
    /* Anne (30) holds Bert's proxy (30): she casts 60 against Chloé's 40 */
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(30));
    tb_lot(a, "Bert", KOPRO_ATTEND_REPRESENTED, T(30));
    tb_lot(a, "Chloé", KOPRO_ATTEND_PRESENT, T(40));
    tb_proxy(a, 1, 0, NULL, 0);
    res = tb_res(a, "Absolute", NULL);
    tb_vote(a, res, 0, KOPRO_VOTE_POUR);
    tb_vote_by(a, res, 1, 1, KOPRO_VOTE_CONTRE, 0);
    tb_vote(a, res, 2, KOPRO_VOTE_CONTRE);
    r = compute_ok(a);
    assert_int_equal(r->resolutions[0].n_caps, 1);
    assert_string_equal(r->resolutions[0].caps[0].holder_name, "Anne");
    assert_int_equal(r->resolutions[0].caps[0].excess_e4, T(20));
    /* 20 removed in proportion 30:30 → 10 from pour, 10 from contre */
    assert_int_equal(r->resolutions[0].caps[0].removed_e4[KOPRO_VOTE_POUR], T(10));
    assert_int_equal(r->resolutions[0].caps[0].removed_e4[KOPRO_VOTE_CONTRE], T(10));
    assert_int_equal(r->resolutions[0].counted[KOPRO_VOTE_CONTRE].shares_e4, T(60));
    /* signatories: Anne and Chloé present; Anne is also the proxy holder */
    assert_int_equal(r->n_signatories, 2);
    assert_true(r->signatories[0].is_proxy_holder);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_7_proxy_limit_three_or_ten_percent(void **state)
{
    struct kopro_assembly *a = tb_new(10000);
    struct kopro_legal_result *r;
    (void)state;
    /* an outside holder with 4 proxies of 250 each = exactly 10%: allowed */
    for (int i = 0; i < 4; i++)
        tb_lot(a, "Grantor", KOPRO_ATTEND_REPRESENTED, T(250));
    tb_lot(a, "Rest", KOPRO_ATTEND_PRESENT, T(9000));
    for (size_t i = 0; i < 4; i++)
        tb_proxy(a, i, KOPRO_NONE, "Paul Mandataire", 0);
    r = compute_ok(a);
    assert_int_equal(r->n_proxy_issues, 0);
    assert_int_equal(r->n_signatories, 2); /* Rest and Paul Mandataire */
    assert_string_equal(r->signatories[1].name, "Paul Mandataire");
    kopro_legal_result_free(r);
    /* one tantième more: over the limit, named */
    a->units[0].quota_e4 += T(1);
    a->units[4].quota_e4 -= T(1);
    r = compute_ok(a);
    assert_int_equal(r->n_proxy_issues, 1);
    assert_int_equal(r->proxy_issues[0].kind, KOPRO_PROXY_ISSUE_OVER_LIMIT);
    assert_string_equal(r->proxy_issues[0].holder_name, "Paul Mandataire");
    assert_int_equal(r->proxy_issues[0].n_proxies, 4);
    assert_int_equal(r->proxy_issues[0].votes_e4, T(1001));
    assert_int_equal(r->proxy_issues[0].limit_e4, T(1000));
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__art_3_87_7_syndic_may_not_hold_proxy(void **state)
{
    struct kopro_assembly *a = tb_new(100);
    struct kopro_legal_result *r;
    (void)state;
    tb_lot(a, "Anne", KOPRO_ATTEND_REPRESENTED, T(50));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(50));
    tb_proxy(a, 0, KOPRO_NONE, "Syndic SRL", 1);
    r = compute_ok(a);
    assert_int_equal(r->n_proxy_issues, 1);
    assert_int_equal(r->proxy_issues[0].kind, KOPRO_PROXY_ISSUE_SYNDIC);
    assert_string_equal(r->proxy_issues[0].holder_name, "Syndic SRL");
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

/* ------------------------------------------------------------ inconsistent data */

static struct kopro_assembly *small_valid(void)
{
    struct kopro_assembly *a = tb_new(100);
    size_t res;
    tb_lot(a, "Anne", KOPRO_ATTEND_PRESENT, T(60));
    tb_lot(a, "Bert", KOPRO_ATTEND_PRESENT, T(40));
    res = tb_res(a, "TwoThirds", "Rejected");
    tb_vote(a, res, 0, KOPRO_VOTE_POUR);
    tb_vote(a, res, 1, KOPRO_VOTE_CONTRE);
    return a;
}

static void test_legal__inconsistent_quotas_do_not_sum(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    a->building.total_tantiemes = 1000;
    expect_einval(a, "buildings b-1", "total_tantiemes is 1000");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_fractions_do_not_sum(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    a->ownerships[1].fraction_e5 = 90000;
    expect_einval(a, "units u-2", "sum to 0.90000");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_fraction_out_of_range(void **state)
{
    struct kopro_assembly *a = small_valid();
    size_t extra = tb_owner(a, "Extra", KOPRO_ATTEND_ABSENT);
    (void)state;
    /* -0.5 and 1.5 sum to 1 but are no ownership fractions */
    a->ownerships[0].fraction_e5 = 150000;
    tb_own(a, 0, extra, -50000);
    expect_einval(a, "unit_owners uo-1", "outside (0, 1]");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_unknown_majority(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    free(a->resolutions[0].majority_required);
    a->resolutions[0].majority_required = xstrdup("Simple");
    expect_einval(a, "resolutions r-1", "\"Simple\"");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_vote_on_unit_not_held(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    a->votes[1].owner = 0; /* Anne votes for Bert's lot */
    expect_einval(a, "votes v-2", "does not hold lot 2");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_voting_power_differs_from_quota(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    a->votes[0].voting_power_e4 = T(61);
    expect_einval(a, "votes v-1", "voting_power 61.0000 differs from the quota 60.0000");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_two_votes_on_one_unit(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    tb_vote(a, 0, 1, KOPRO_VOTE_POUR);
    expect_einval(a, "votes v-2 and v-3", "two votes on lot 2");
    kopro_assembly_free(a);
}

static void test_legal__inconsistent_vote_by_absent_owner(void **state)
{
    struct kopro_assembly *a = small_valid();
    (void)state;
    a->owners[1].attendance = KOPRO_ATTEND_ABSENT;
    expect_einval(a, "votes v-2", "recorded absent");
    kopro_assembly_free(a);
}

static void test_legal__stored_tallies_and_status_discrepancy_reported(void **state)
{
    struct kopro_assembly *a = small_valid();
    struct kopro_legal_result *r;
    (void)state;
    r = compute_ok(a); /* 60/100 < 2/3: rejected, as stored */
    assert_false(r->resolutions[0].adopted);
    assert_false(r->resolutions[0].status_disagrees);
    assert_false(r->resolutions[0].tallies_disagree);
    kopro_legal_result_free(r);
    a->resolutions[0].stored_power_e4[KOPRO_VOTE_POUR] = T(70);
    free(a->resolutions[0].stored_status);
    a->resolutions[0].stored_status = xstrdup("Adopted");
    r = compute_ok(a);
    assert_true(r->resolutions[0].status_disagrees);
    assert_true(r->resolutions[0].tallies_disagree);
    assert_int_equal(r->n_discrepancies, 1);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

static void test_legal__attendance_from_votes(void **state)
{
    struct kopro_assembly *a = tb_new(100);
    struct kopro_legal_result *r;
    size_t res;
    (void)state;
    tb_lot(a, "Anne", KOPRO_ATTEND_ABSENT, T(50));
    tb_lot(a, "Bert", KOPRO_ATTEND_ABSENT, T(30));
    tb_lot(a, "Chloé", KOPRO_ATTEND_ABSENT, T(20));
    a->attendance_source = KOPRO_ATTENDANCE_FROM_VOTES;
    res = tb_res(a, "Absolute", NULL);
    tb_vote(a, res, 0, KOPRO_VOTE_POUR);
    tb_vote_by(a, res, 1, 1, KOPRO_VOTE_POUR, 0); /* Anne votes Bert's proxy */
    r = compute_ok(a);
    assert_int_equal(r->attendance_source, KOPRO_ATTENDANCE_FROM_VOTES);
    assert_int_equal(r->parties[0].attendance, KOPRO_ATTEND_PRESENT);
    assert_int_equal(r->parties[1].attendance, KOPRO_ATTEND_REPRESENTED);
    assert_int_equal(r->parties[2].attendance, KOPRO_ATTEND_ABSENT);
    assert_int_equal(r->quorum.owners_present, 2);
    assert_true(r->quorum.valid);
    /* Anne casts 80 while the others present hold 0: the cap leaves nothing */
    assert_int_equal(r->resolutions[0].n_caps, 1);
    assert_false(r->resolutions[0].adopted);
    kopro_legal_result_free(r);
    kopro_assembly_free(a);
}

/* ------------------------------------------------------------ decimals and JSON */

static void test_legal__decimal_exact_parse(void **state)
{
    int64_t v;
    char buf[32];
    (void)state;
    assert_int_equal(kopro_decimal_parse(&v, "333.3333", 4, "q"), 0);
    assert_int_equal(v, 3333333);
    assert_int_equal(kopro_decimal_parse(&v, "250", 4, "q"), 0);
    assert_int_equal(v, 2500000);
    assert_int_equal(kopro_decimal_parse(&v, "0.50000", 5, "f"), 0);
    assert_int_equal(v, 50000);
    assert_int_equal(kopro_decimal_parse(&v, "12.300000", 4, "q"), 0);
    assert_int_equal(v, 123000);
    assert_int_equal(kopro_decimal_parse(&v, "0.00005", 4, "units.quota"), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "units.quota"));
    assert_int_equal(kopro_decimal_parse(&v, "1e3", 4, "q"), KOPRO_EINVAL);
    assert_int_equal(kopro_decimal_parse(&v, "", 4, "q"), KOPRO_EINVAL);
    assert_int_equal(kopro_decimal_parse(&v, "99999999999999999999", 4, "q"), KOPRO_EINVAL);
    kopro_decimal_format(buf, sizeof(buf), -1234567, 4);
    assert_string_equal(buf, "-123.4567");
}

static const char *const model_json =
    "{\"building\":{\"id\":\"b1\",\"name\":\"Résidence Les Tilleuls\",\"city\":\"Liège\","
    "\"total_tantiemes\":1000},"
    "\"meeting\":{\"id\":\"m1\",\"type\":\"ordinary\",\"title\":\"AGO 2026\","
    "\"scheduled_at\":\"2026-03-14T17:00:00Z\",\"agenda\":[\"Comptes\",\"Toiture\"],"
    "\"president\":\"Anne Peeters\"},"
    "\"attendance_source\":\"convocation_recipients\","
    "\"owners\":[{\"id\":\"o1\",\"first_name\":\"Anne\",\"last_name\":\"Peeters\","
    "\"attendance\":\"present\"},"
    "{\"id\":\"o2\",\"name\":\"Şahin Yılmaz\",\"attendance\":\"represented\"},"
    "{\"id\":\"o3\",\"name\":\"Ødegaard BV\",\"is_company\":true,\"attendance\":\"absent\"}],"
    "\"units\":[{\"id\":\"u1\",\"number\":\"A1\",\"quota\":\"333.3333\"},"
    "{\"id\":\"u2\",\"number\":\"A2\",\"quota\":\"333.3333\"},"
    "{\"id\":\"u3\",\"number\":\"A3\",\"quota\":\"333.3334\"}],"
    "\"ownerships\":[{\"unit\":\"u1\",\"owner\":\"o1\"},{\"unit\":\"u2\",\"owner\":\"o2\","
    "\"fraction\":\"1.00000\"},{\"unit\":\"u3\",\"owner\":\"o3\",\"fraction\":1}],"
    "\"proxies\":[{\"grantor\":\"o2\",\"holder_owner\":\"o1\"}],"
    "\"resolutions\":[{\"id\":\"r1\",\"title\":\"Approbation des comptes\","
    "\"majority_required\":\"Absolute\",\"status\":\"Adopted\",\"vote_count_pour\":1,"
    "\"vote_count_contre\":1,\"total_voting_power_pour\":\"333.3333\","
    "\"total_voting_power_contre\":\"333.3333\"}],"
    "\"votes\":[{\"resolution\":\"r1\",\"unit\":\"u1\",\"owner\":\"o1\",\"choice\":\"Pour\","
    "\"voting_power\":\"333.3333\"},{\"resolution\":\"r1\",\"unit\":\"u2\",\"owner\":\"o2\","
    "\"choice\":\"Contre\",\"voting_power\":\"333.3333\",\"proxy_owner\":\"o1\"}]}";

static void test_legal__json_model_roundtrip_and_compute(void **state)
{
    json_error_t jerr;
    json_t *doc = json_loads(model_json, 0, &jerr);
    json_t *dump = NULL;
    json_t *res_json = NULL;
    struct kopro_assembly *a = NULL;
    struct kopro_assembly *b = NULL;
    struct kopro_legal_result *r;
    char *s1, *s2;
    (void)state;
    assert_non_null(doc);
    if (kopro_assembly_load_json(&a, doc) != 0)
        fail_msg("load_json: %s", kopro_error_last());
    assert_string_equal(a->owners[0].display_name, "Anne Peeters");
    assert_true(a->owners[2].is_company);
    assert_int_equal(a->units[2].quota_e4, 3333334);
    assert_int_equal(a->meeting.scheduled_at_utc, 1773507600);
    assert_int_equal(a->meeting.n_agenda, 2);
    r = compute_ok(a);
    assert_int_equal(r->quorum.owners_present, 2);
    assert_true(r->quorum.route_owners_and_half_shares);
    /* Anne casts 666.6666 for herself and Şahin, the others present hold 0 */
    assert_int_equal(r->resolutions[0].n_caps, 1);
    assert_false(r->resolutions[0].adopted);
    assert_true(r->resolutions[0].status_disagrees);
    assert_false(r->resolutions[0].tallies_disagree);
    assert_int_equal(kopro_legal_result_to_json(&res_json, r, a), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res_json, "quorum"),
                                                        "owners_present")),
                     2);
    json_decref(res_json);
    kopro_legal_result_free(r);
    /* dump and reload: the same document */
    assert_int_equal(kopro_assembly_to_json(&dump, a), 0);
    if (kopro_assembly_load_json(&b, dump) != 0)
        fail_msg("reload: %s", kopro_error_last());
    json_decref(dump);
    assert_int_equal(kopro_assembly_to_json(&dump, b), 0);
    s1 = json_dumps(dump, JSON_SORT_KEYS);
    json_decref(dump);
    assert_int_equal(kopro_assembly_to_json(&dump, a), 0);
    s2 = json_dumps(dump, JSON_SORT_KEYS);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    json_decref(dump);
    kopro_assembly_free(a);
    kopro_assembly_free(b);
    json_decref(doc);
}

static void test_legal__json_model_errors_name_the_path(void **state)
{
    json_error_t jerr;
    json_t *doc = json_loads(model_json, 0, &jerr);
    struct kopro_assembly *a = NULL;
    json_t *votes;
    (void)state;
    assert_non_null(doc);
    votes = json_object_get(doc, "votes");
    json_object_set_new(json_array_get(votes, 1), "unit", json_string("u9"));
    assert_int_equal(kopro_assembly_load_json(&a, doc), KOPRO_EINVAL);
    assert_null(a);
    assert_string_equal(kopro_error_last(), "votes[1].unit: no units with id u9");
    json_object_set_new(json_array_get(votes, 1), "unit", json_string("u2"));
    json_object_set_new(json_array_get(json_object_get(doc, "units"), 0), "quota",
                        json_real(333.3333));
    assert_int_equal(kopro_assembly_load_json(&a, doc), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "units[0].quota"));
    json_object_set_new(json_array_get(json_object_get(doc, "units"), 0), "quota",
                        json_string("333.33333"));
    assert_int_equal(kopro_assembly_load_json(&a, doc), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "more than 4 significant decimals"));
    json_decref(doc);
}

/* ------------------------------------------------------------ randomized */

/*
 * A deliberately naive second implementation: label propagation instead of
 * union-find, fractions compared through a generic reduced-fraction
 * comparison, the vote cap as a literal loop over unit-by-unit removal.
 */
static int64_t rnd_range(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* sign of a/b - c/d for b, d > 0 */
static int frac_cmp(int64_t a, int64_t b, int64_t c, int64_t d)
{
    __int128 l = (__int128)a * d;
    __int128 r = (__int128)c * b;
    return (l > r) - (l < r);
}

struct naive {
    size_t label[16];       /* per owner: smallest owner index of its group */
    int att[16];            /* per label: 0 absent, 1 present, 2 represented */
    int64_t shares[16];     /* per label */
    int holds[16];          /* per label */
    size_t owners_total, owners_present;
    int64_t present;
    int valid;
};

static void naive_parties(const struct kopro_assembly *a, struct naive *n)
{
    int changed = 1;
    memset(n, 0, sizeof(*n));
    for (size_t i = 0; i < a->n_owners; i++)
        n->label[i] = i;
    while (changed) {
        changed = 0;
        for (size_t u = 0; u < a->n_units; u++) {
            size_t min = (size_t)-1;
            for (size_t k = 0; k < a->n_ownerships; k++)
                if (a->ownerships[k].unit == u && n->label[a->ownerships[k].owner] < min)
                    min = n->label[a->ownerships[k].owner];
            for (size_t k = 0; k < a->n_ownerships; k++)
                if (a->ownerships[k].unit == u && n->label[a->ownerships[k].owner] != min) {
                    n->label[a->ownerships[k].owner] = min;
                    changed = 1;
                }
        }
    }
    for (size_t i = 0; i < a->n_owners; i++) {
        int at = (int)a->owners[i].attendance;
        size_t l = n->label[i];
        if (a->attendance_source == KOPRO_ATTENDANCE_FROM_VOTES) {
            /* an owner who voted himself was there; one whose vote a proxy
             * holder cast was represented; nobody else counts */
            at = 0;
            for (size_t v = 0; v < a->n_votes; v++)
                if (a->votes[v].owner == i)
                    at = a->votes[v].proxy_owner == KOPRO_NONE ? 1 : (at == 1 ? 1 : 2);
        }
        if (at == 1 || (at == 2 && n->att[l] == 0))
            n->att[l] = at;
    }
    for (size_t u = 0; u < a->n_units; u++)
        for (size_t k = 0; k < a->n_ownerships; k++)
            if (a->ownerships[k].unit == u) {
                n->shares[n->label[a->ownerships[k].owner]] += a->units[u].quota_e4;
                n->holds[n->label[a->ownerships[k].owner]] = 1;
                break;
            }
    for (size_t l = 0; l < a->n_owners; l++) {
        if (n->label[l] != l || !n->holds[l])
            continue;
        n->owners_total++;
        if (n->att[l] != 0) {
            n->owners_present++;
            n->present += n->shares[l];
        }
    }
    {
        int64_t total = a->building.total_tantiemes * KOPRO_SHARE_SCALE;
        int r1 = frac_cmp((int64_t)n->owners_present, (int64_t)n->owners_total, 1, 2) > 0 &&
                 frac_cmp(n->present, total, 1, 2) >= 0;
        int r2 = frac_cmp(n->present, total, 3, 4) > 0;
        n->valid = r1 || r2 || a->meeting.is_second_convocation;
    }
}

static size_t unit_label(const struct kopro_assembly *a, const struct naive *n, size_t u)
{
    for (size_t k = 0; k < a->n_ownerships; k++)
        if (a->ownerships[k].unit == u)
            return n->label[a->ownerships[k].owner];
    return (size_t)-1;
}

/* counted pour/contre/abstention of resolution `res` after the vote cap */
static void naive_resolution(const struct kopro_assembly *a, const struct naive *n, size_t res,
                             int64_t counted[3], int *adopted)
{
    int64_t cast_by[16][3];
    int64_t raw[3] = {0, 0, 0};
    int num, den, strict;
    enum kopro_majority m;

    memset(cast_by, 0, sizeof(cast_by));
    for (size_t i = 0; i < a->n_votes; i++) {
        const struct kopro_vote *v = &a->votes[i];
        size_t caster;
        if (v->resolution != res)
            continue;
        caster = v->proxy_owner != KOPRO_NONE ? n->label[v->proxy_owner] : unit_label(a, n, v->unit);
        cast_by[caster][v->choice] += v->voting_power_e4;
        raw[v->choice] += v->voting_power_e4;
    }
    memcpy(counted, raw, sizeof(raw));
    for (size_t c = 0; c < a->n_owners; c++) {
        int64_t mine = cast_by[c][0] + cast_by[c][1] + cast_by[c][2];
        int64_t others = n->present - mine;
        int64_t kept[3];
        int64_t left;
        if (mine == 0 || mine <= others)
            continue;
        /* floor shares, then hand out what is left one unit at a time to the
         * largest remainder, the lowest choice winning ties */
        left = others;
        for (int ch = 0; ch < 3; ch++) {
            kept[ch] = (int64_t)(((__int128)cast_by[c][ch] * others) / mine);
            left -= kept[ch];
        }
        while (left > 0) {
            int best = -1;
            int64_t best_rem = -1;
            for (int ch = 0; ch < 3; ch++) {
                int64_t rem = (int64_t)(((__int128)cast_by[c][ch] * others) % mine);
                int already = kept[ch] * (__int128)mine > (__int128)cast_by[c][ch] * others;
                if (!already && rem > best_rem && cast_by[c][ch] > 0) {
                    best = ch;
                    best_rem = rem;
                }
            }
            kept[best]++;
            left--;
        }
        for (int ch = 0; ch < 3; ch++)
            counted[ch] -= cast_by[c][ch] - kept[ch];
    }
    assert_int_equal(kopro_legal_majority_parse(&m, a->resolutions[res].majority_required), 0);
    kopro_legal_majority_threshold(m, &num, &den, &strict);
    if (m == KOPRO_MAJORITY_UNANIMITY) {
        *adopted = raw[0] == a->building.total_tantiemes * KOPRO_SHARE_SCALE;
    } else if (counted[0] + counted[1] == 0) {
        *adopted = 0;
    } else {
        int cmp = frac_cmp(counted[0], counted[0] + counted[1], num, den);
        *adopted = strict ? cmp > 0 : cmp >= 0;
    }
}

static const char *const majorities[4] = {"Absolute", "TwoThirds", "FourFifths", "Unanimity"};

static struct kopro_assembly *random_assembly(void)
{
    static const int64_t totals[] = {2, 3, 4, 5, 6, 10, 12, 15, 100, 1000, 10000};
    int64_t total = totals[rnd() % (sizeof(totals) / sizeof(totals[0]))];
    size_t n_units = (size_t)rnd_range(1, total < 8 ? total : 8);
    size_t n_owners = (size_t)rnd_range(1, 8);
    int fine = rnd() % 5 == 0; /* quotas in 1/10000 tantième instead of whole ones */
    int64_t gran = fine ? 1 : KOPRO_SHARE_SCALE;
    int64_t left = total * KOPRO_SHARE_SCALE / gran;
    struct kopro_assembly *a = tb_new(total);
    struct naive n;
    size_t n_res;

    a->meeting.is_second_convocation = rnd() % 8 == 0;
    for (size_t i = 0; i < n_owners; i++)
        tb_owner(a, "Owner", (enum kopro_attendance)rnd_range(0, 2));
    for (size_t u = 0; u < n_units; u++) {
        int64_t q = u + 1 == n_units ? left : rnd_range(1, left - (int64_t)(n_units - u - 1));
        size_t o1 = (size_t)rnd_range(0, (int64_t)n_owners - 1);
        left -= q;
        tb_unit(a, q * gran);
        if (n_owners > 1 && rnd() % 4 == 0) {
            size_t o2 = (o1 + 1 + (size_t)rnd_range(0, (int64_t)n_owners - 2)) % n_owners;
            int64_t f = rnd_range(1, KOPRO_FRACTION_SCALE - 1);
            tb_own(a, u, o1, f);
            tb_own(a, u, o2, KOPRO_FRACTION_SCALE - f);
        } else {
            tb_own(a, u, o1, KOPRO_FRACTION_SCALE);
        }
    }
    /* proxies for represented owners: another owner or an outsider */
    for (size_t i = 0; i < n_owners; i++)
        if (a->owners[i].attendance == KOPRO_ATTEND_REPRESENTED) {
            size_t h = (size_t)rnd_range(0, (int64_t)n_owners);
            if (h == i || h == n_owners)
                tb_proxy(a, i, KOPRO_NONE, rnd() % 2 ? "Outsider A" : "Outsider B", rnd() % 10 == 0);
            else
                tb_proxy(a, i, h, NULL, 0);
        }
    naive_parties(a, &n);
    n_res = (size_t)rnd_range(1, 3);
    for (size_t r = 0; r < n_res; r++) {
        size_t res = tb_res(a, majorities[rnd() % 4], rnd() % 2 ? "Adopted" : "Rejected");
        for (size_t u = 0; u < n_units; u++) {
            size_t voter = KOPRO_NONE;
            size_t proxy = KOPRO_NONE;
            if (n.att[unit_label(a, &n, u)] == 0 || rnd() % 5 == 0)
                continue;
            /* a holder of the unit who is present or represented, else the first */
            for (size_t k = 0; k < a->n_ownerships; k++)
                if (a->ownerships[k].unit == u &&
                    (voter == KOPRO_NONE ||
                     a->owners[a->ownerships[k].owner].attendance != KOPRO_ATTEND_ABSENT))
                    voter = a->ownerships[k].owner;
            if (a->owners[voter].attendance == KOPRO_ATTEND_REPRESENTED)
                for (size_t k = 0; k < a->n_proxies; k++)
                    if (a->proxies[k].grantor == voter)
                        proxy = a->proxies[k].holder_owner;
            tb_vote_by(a, res, u, voter, (enum kopro_vote_choice)rnd_range(0, 2), proxy);
        }
    }
    /* a quarter of the assemblies recorded no attendance: derive it from the votes */
    if (rnd() % 4 == 0)
        a->attendance_source = KOPRO_ATTENDANCE_FROM_VOTES;
    return a;
}

static void test_legal__randomized_100000_against_naive(void **state)
{
    (void)state;
    size_t seen_caps = 0, seen_adopted = 0, seen_rejected = 0, seen_invalid = 0;
    size_t seen_unanimity = 0, seen_exact_boundary = 0, seen_couples = 0, seen_from_votes = 0;
    rng_state = 20260314;
    tb_lean = 1;
    for (int iter = 0; iter < 100000; iter++) {
        struct kopro_assembly *a = random_assembly();
        struct kopro_legal_result *r = NULL;
        struct naive n;
        int rc = kopro_legal_compute(&r, a);
        if (rc != 0)
            fail_msg("iteration %d: %s", iter, kopro_error_last());
        naive_parties(a, &n);
        if (r->quorum.owners_total != n.owners_total || r->quorum.owners_present != n.owners_present ||
            r->quorum.shares_present_e4 != n.present || r->quorum.valid != n.valid)
            fail_msg("iteration %d: quorum %zu/%zu %lld valid %d, naive %zu/%zu %lld valid %d", iter,
                     r->quorum.owners_present, r->quorum.owners_total,
                     (long long)r->quorum.shares_present_e4, r->quorum.valid, n.owners_present,
                     n.owners_total, (long long)n.present, n.valid);
        for (size_t res = 0; res < a->n_resolutions; res++) {
            int64_t counted[3];
            int adopted;
            naive_resolution(a, &n, res, counted, &adopted);
            for (int ch = 0; ch < 3; ch++)
                if (r->resolutions[res].counted[ch].shares_e4 != counted[ch])
                    fail_msg("iteration %d resolution %zu choice %d: %lld, naive %lld", iter, res,
                             ch, (long long)r->resolutions[res].counted[ch].shares_e4,
                             (long long)counted[ch]);
            seen_caps += r->resolutions[res].n_caps > 0;
            seen_adopted += adopted;
            seen_rejected += !adopted;
            seen_unanimity += adopted && r->resolutions[res].majority == KOPRO_MAJORITY_UNANIMITY;
            /* pour exactly at 1/2, 2/3 or 4/5 of the votes cast */
            seen_exact_boundary += counted[0] + counted[1] > 0 &&
                                   (frac_cmp(counted[0], counted[0] + counted[1], 1, 2) == 0 ||
                                    frac_cmp(counted[0], counted[0] + counted[1], 2, 3) == 0 ||
                                    frac_cmp(counted[0], counted[0] + counted[1], 4, 5) == 0);
            if (r->resolutions[res].adopted != adopted)
                fail_msg("iteration %d resolution %zu (%s): adopted %d, naive %d", iter, res,
                         a->resolutions[res].majority_required, r->resolutions[res].adopted,
                         adopted);
            if (r->resolutions[res].status_disagrees !=
                ((strcmp(a->resolutions[res].stored_status, "Adopted") == 0) != adopted))
                fail_msg("iteration %d resolution %zu: discrepancy flag wrong", iter, res);
        }
        seen_invalid += !r->quorum.valid;
        seen_couples += a->n_ownerships > a->n_units;
        seen_from_votes += a->attendance_source == KOPRO_ATTENDANCE_FROM_VOTES && r->quorum.owners_present > 0;
        kopro_legal_result_free(r);
        kopro_assembly_free(a);
    }
    tb_lean = 0;
    /* the generator must reach every interesting case, or the comparison proves little */
    assert_true(seen_caps > 1000);
    assert_true(seen_adopted > 1000);
    assert_true(seen_rejected > 1000);
    assert_true(seen_invalid > 1000);
    assert_true(seen_unanimity > 100);
    assert_true(seen_exact_boundary > 1000);
    assert_true(seen_couples > 1000);
    assert_true(seen_from_votes > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legal__art_3_87_5_quorum_owners_and_half_shares),
        cmocka_unit_test(test_legal__art_3_87_5_quorum_exactly_half_owners_fails),
        cmocka_unit_test(test_legal__art_3_87_5_quorum_majority_of_owners_below_half_shares),
        cmocka_unit_test(test_legal__art_3_87_5_quorum_three_quarters_route),
        cmocka_unit_test(test_legal__art_3_87_5_second_convocation_exempt),
        cmocka_unit_test(test_legal__art_3_87_5_couple_counts_as_one_owner),
        cmocka_unit_test(test_legal__art_3_88_absolute_exact_half_rejected),
        cmocka_unit_test(test_legal__art_3_88_two_thirds_exact_boundary),
        cmocka_unit_test(test_legal__art_3_88_four_fifths_exact_boundary),
        cmocka_unit_test(test_legal__art_3_88_abstentions_not_votes_cast),
        cmocka_unit_test(test_legal__art_3_88_no_votes_cast_rejected),
        cmocka_unit_test(test_legal__art_3_88_unanimity_absent_owner_rejects),
        cmocka_unit_test(test_legal__art_3_87_10_names_contre_and_abstention),
        cmocka_unit_test(test_legal__art_3_87_7_vote_cap_excess_named),
        cmocka_unit_test(test_legal__art_3_87_7_vote_cap_counts_proxies),
        cmocka_unit_test(test_legal__art_3_87_7_proxy_limit_three_or_ten_percent),
        cmocka_unit_test(test_legal__art_3_87_7_syndic_may_not_hold_proxy),
        cmocka_unit_test(test_legal__inconsistent_quotas_do_not_sum),
        cmocka_unit_test(test_legal__inconsistent_fractions_do_not_sum),
        cmocka_unit_test(test_legal__inconsistent_fraction_out_of_range),
        cmocka_unit_test(test_legal__inconsistent_unknown_majority),
        cmocka_unit_test(test_legal__inconsistent_vote_on_unit_not_held),
        cmocka_unit_test(test_legal__inconsistent_voting_power_differs_from_quota),
        cmocka_unit_test(test_legal__inconsistent_two_votes_on_one_unit),
        cmocka_unit_test(test_legal__inconsistent_vote_by_absent_owner),
        cmocka_unit_test(test_legal__stored_tallies_and_status_discrepancy_reported),
        cmocka_unit_test(test_legal__attendance_from_votes),
        cmocka_unit_test(test_legal__decimal_exact_parse),
        cmocka_unit_test(test_legal__json_model_roundtrip_and_compute),
        cmocka_unit_test(test_legal__json_model_errors_name_the_path),
        cmocka_unit_test(test_legal__randomized_100000_against_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
