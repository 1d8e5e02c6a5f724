/*
 * kopro/legal.h — the legal engine of a general assembly: attendance, quorum,
 * proxies, vote caps and majorities under the Belgian Code civil, Livre 3
 * (art. 3.87 and 3.88, which replaced art. 577-6 and 577-7 of the old code).
 * No PDF code here: the renderer formats what this computes.
 *
 * Arithmetic is exact: shares are int64 counts of 1/10000 tantième (the
 * "_e4" unit of kopro/assembly.h), comparisons are cross-multiplications in
 * __int128, percentages for display are rationals (num/den) or basis points
 * obtained by integer division (rounded down). No floating point anywhere.
 *
 * Readings of the law (documented in README.md "Legal engine"):
 * - "Owners are counted per person, a couple owning one lot counts as one
 *   owner" (art. 3.87 §5): owners who hold a unit together are one voting
 *   party; parties are the connected groups of owners linked by co-owned units.
 *   A party is present if any member is present, represented if any member is
 *   represented (and none present). Its shares are the whole quotas of its
 *   units (a lot votes as a whole: art. 3.87 §1 suspends a split lot's vote
 *   until its co-owners designate one mandataire).
 * - The vote cap of art. 3.87 §7 is applied per resolution to each person
 *   casting votes (the voting party itself, or the proxy holder who cast them):
 *   their counted votes are min(cast, present - cast) where `present` is the
 *   shares of all present or represented parties; the excess is removed from
 *   their pour/contre/abstention in proportion (largest remainder, ties to
 *   pour, then contre, then abstention).
 * - Unanimity (art. 3.88) compares the uncapped pour shares with all shares of
 *   the building, absent owners included, and needs no contre and no abstention.
 *
 * Thread-safety: reentrant; a result only borrows strings from its assembly.
 */
#ifndef KOPRO_LEGAL_H
#define KOPRO_LEGAL_H

#include "kopro/assembly.h"

#include <stddef.h>
#include <stdint.h>

enum kopro_majority {
    KOPRO_MAJORITY_ABSOLUTE = 0,    /* pour > 1/2 of votes cast */
    KOPRO_MAJORITY_TWO_THIRDS = 1,  /* pour >= 2/3 of votes cast */
    KOPRO_MAJORITY_FOUR_FIFTHS = 2, /* pour >= 4/5 of votes cast */
    KOPRO_MAJORITY_UNANIMITY = 3,   /* pour = all shares of the building */
};

/* A voting party: the owners who hold units together (see the reading above). */
struct kopro_legal_party {
    size_t *owners;   /* indexes into a->owners, in model order; n_owners >= 1 */
    size_t n_owners;
    size_t *units;    /* indexes into a->units, in model order; may be empty */
    size_t n_units;
    int64_t shares_e4; /* sum of the quotas of its units */
    enum kopro_attendance attendance;
    size_t proxy; /* index into a->proxies when represented, else KOPRO_NONE */
};

/* Art. 3.87 §5. Owners are counted in parties holding at least one unit. */
struct kopro_legal_quorum {
    size_t owners_total;   /* parties holding units */
    size_t owners_present; /* of them present or represented */
    int64_t shares_total_e4;   /* total_tantiemes * KOPRO_SHARE_SCALE */
    int64_t shares_present_e4; /* shares of the present or represented parties */
    /* route 1: owners_present > owners_total/2 AND shares_present >= shares_total/2 */
    int owners_majority;  /* 2*owners_present > owners_total */
    int shares_half;      /* 2*shares_present >= shares_total */
    int route_owners_and_half_shares;
    /* route 2: shares_present > 3/4 of shares_total */
    int route_three_quarters_shares;
    int second_convocation; /* meetings.is_second_convocation: no quorum needed */
    int valid;              /* route 1 OR route 2 OR second convocation */
    int owners_present_bp;  /* 10000*owners_present/owners_total, rounded down */
    int shares_present_bp;  /* 10000*shares_present/shares_total, rounded down */
};

enum kopro_legal_proxy_issue_kind {
    /* more than 3 proxies and own + proxied votes > 10% of all votes */
    KOPRO_PROXY_ISSUE_OVER_LIMIT = 0,
    /* the syndic holds a proxy */
    KOPRO_PROXY_ISSUE_SYNDIC = 1,
};

/* A breach of art. 3.87 §7 on proxies. Reported; the counts are not altered. */
struct kopro_legal_proxy_issue {
    enum kopro_legal_proxy_issue_kind kind;
    const char *holder_id;   /* borrowed from the assembly */
    const char *holder_name; /* borrowed from the assembly */
    size_t n_proxies;        /* proxies the holder holds */
    int64_t votes_e4;        /* holder's own shares (if a co-owner present) + proxied shares */
    int64_t limit_e4;        /* 10% of all shares of the building */
};

struct kopro_legal_tally {
    size_t owners;     /* voting parties with at least one vote of this choice */
    int64_t shares_e4; /* their voting power */
};

/* A vote-cap adjustment (art. 3.87 §7): the excess is not counted. */
struct kopro_legal_cap {
    const char *holder_id;   /* borrowed: the person who cast the votes */
    const char *holder_name; /* borrowed */
    int64_t cast_e4;   /* votes they cast, own and as proxy */
    int64_t others_e4; /* votes of all other present or represented owners */
    int64_t excess_e4; /* cast - others, removed from the count */
    int64_t removed_e4[3]; /* of which per choice (enum kopro_vote_choice) */
};

struct kopro_legal_resolution {
    size_t resolution; /* index into a->resolutions */
    enum kopro_majority majority;
    const char *majority_article; /* static text, e.g. "art. 3.88 §1, 1°" */
    struct kopro_legal_tally raw[3];     /* before caps, by enum kopro_vote_choice */
    struct kopro_legal_tally counted[3]; /* after caps: the result */
    int64_t cast_e4; /* counted pour + contre: votes cast, abstentions excluded */
    /* pour/cast as a rational for display, and in basis points rounded down;
     * pour_bp is -1 when nothing was cast */
    int64_t pour_num_e4, pour_den_e4;
    int pour_bp;
    int contre_bp;
    int adopted; /* 1 adopted, 0 rejected (no votes cast → rejected) */
    size_t *contre_owners;     /* indexes into a->owners, model order */
    size_t n_contre_owners;
    size_t *abstention_owners; /* indexes into a->owners, model order */
    size_t n_abstention_owners;
    struct kopro_legal_cap *caps;
    size_t n_caps;
    /* disagreement with KoproGo's stored data: reported, never hidden */
    int status_disagrees;  /* stored Adopted/Rejected differs from `adopted` */
    int stored_pending;    /* stored status is Pending */
    int tallies_disagree;  /* stored counts or powers differ from `raw` */
    /* Unanimity failed only because owners were absent: every present or
     * represented lot voted pour. Art. 3.88 lets a new assembly held at least
     * 30 days later decide by unanimity of those present; the documents may
     * say so. 0 for the other majorities. */
    int unanimity_failed_on_absence;
};

/* A person present who signs the minutes (art. 3.87 §10 practice). */
struct kopro_legal_signatory {
    const char *name;   /* borrowed */
    size_t owner;       /* index into a->owners, or KOPRO_NONE for a non-owner proxy holder */
    int is_proxy_holder;
};

struct kopro_legal_result {
    enum kopro_attendance_source attendance_source;
    struct kopro_legal_party *parties; /* holders of units first, model order of first member */
    size_t n_parties;
    size_t *party_of_owner; /* n_owners entries: index into parties */
    struct kopro_legal_quorum quorum;
    struct kopro_legal_proxy_issue *proxy_issues;
    size_t n_proxy_issues;
    struct kopro_legal_resolution *resolutions; /* one per a->resolutions, same order */
    size_t n_resolutions;
    struct kopro_legal_signatory *signatories; /* present owners, then proxy holders */
    size_t n_signatories;
    size_t n_discrepancies; /* resolutions with status_disagrees or tallies_disagree */
};

/*
 * Compute the legal result of an assembly: parties, attendance, quorum by
 * both routes of art. 3.87 §5 (and the second-convocation exemption), proxy
 * limits and the syndic rule of art. 3.87 §7, the vote cap of art. 3.87 §7,
 * and for each resolution the tallies, the majority of art. 3.88 and the
 * outcome, with the names voting contre and abstention (art. 3.87 §10).
 *
 * out: receives the result; caller frees with kopro_legal_result_free(). The
 *      result borrows strings from `a`: free it before the assembly.
 * a:   the model (borrowed, not modified).
 * Returns 0, or KOPRO_EINVAL with no result when the data is inconsistent; the
 * message names the row (table and id) and the rule:
 *   - buildings.total_tantiemes <= 0, a unit quota <= 0, or the units' quotas
 *     not summing to total_tantiemes;
 *   - an ownership fraction outside (0, 1], or a unit whose active
 *     unit_owners fractions do not sum to 1;
 *   - resolutions.majority_required not Absolute|TwoThirds|FourFifths|Unanimity;
 *   - a vote on a unit its owner does not hold at the meeting date;
 *   - a vote whose voting_power differs from the unit's quota;
 *   - two votes on one unit for one resolution;
 *   - a vote by (or for) an owner recorded absent;
 *   - an index out of range in the model.
 * KOPRO_ERROR on allocation failure. On error *out is NULL.
 * Thread-safety: reentrant.
 * Source: Code civil art. 3.87 §1, §5, §7, §10; art. 3.88; ../shared/docs/legal-be.md.
 */
int kopro_legal_compute(struct kopro_legal_result **out, const struct kopro_assembly *a);

/* Release a result; NULL allowed. */
void kopro_legal_result_free(struct kopro_legal_result *r);

/*
 * Parse resolutions.majority_required ("Absolute", "TwoThirds", "FourFifths",
 * "Unanimity"; exact, case-sensitive as KoproGo writes them).
 * Returns 0, or KOPRO_EINVAL naming the value (never a silent Absolute).
 * Source: art. 3.88.
 */
int kopro_legal_majority_parse(enum kopro_majority *out, const char *text);

/* "Absolute", "TwoThirds", "FourFifths" or "Unanimity". Static string. */
const char *kopro_legal_majority_name(enum kopro_majority m);

/*
 * The threshold of a majority as the rational num/den that pour must exceed
 * (strict, for Absolute: 1/2) or reach (2/3, 4/5; Unanimity: 1/1 of all shares
 * of the building). *strict is 1 for Absolute, else 0.
 */
void kopro_legal_majority_threshold(enum kopro_majority m, int *num, int *den, int *strict);

/*
 * Serialise a result as JSON (for `kopro-pdf` debugging, job results and
 * tests): quorum numbers, proxy issues, and per resolution the tallies,
 * outcome, names and caps. Names are copied from `a`.
 * out: new reference. Returns 0 or KOPRO_ERROR (allocation).
 */
int kopro_legal_result_to_json(json_t **out, const struct kopro_legal_result *r,
                               const struct kopro_assembly *a);

#endif
