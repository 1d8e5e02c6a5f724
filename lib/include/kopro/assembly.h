/*
 * kopro/assembly.h — a plain C model of one general assembly (assemblée
 * générale / algemene vergadering) of a Belgian co-ownership, filled either
 * from KoproGo's database or from a JSON document (README.md, "Document data
 * (JSON model)").
 *
 * The model only carries data; it does not judge it. kopro/legal.h computes
 * attendance, quorum, caps and majorities from it and reports inconsistent
 * data. The PDF code renders from both.
 *
 * Exact numbers. KoproGo stores unit quotas as float8 and voting powers as
 * numeric(10,4); the model holds them as int64 counts of 1/10000 of a
 * tantième ("_e4" fields, KOPRO_SHARE_SCALE per tantième), parsed from the
 * decimal text. A quota that is not a multiple of 1/10000 is refused
 * (KOPRO_EINVAL) rather than rounded. Ownership fractions (numeric(6,5)) are
 * int64 counts of 1/100000 ("_e5" fields, KOPRO_FRACTION_SCALE = whole lot).
 *
 * Cross references are indexes into the model's arrays (size_t), never
 * pointers, so a model can be copied, dumped and reloaded. KOPRO_NONE marks
 * "no index".
 *
 * Every string is UTF-8, owned by the model and freed (after explicit_bzero,
 * since names are personal data) by kopro_assembly_free(). Optional strings
 * may be NULL.
 *
 * Thread-safety: a model is plain data; concurrent readers are fine, writers
 * need their own locking. The functions keep no global state.
 */
#ifndef KOPRO_ASSEMBLY_H
#define KOPRO_ASSEMBLY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define KOPRO_SHARE_SCALE 10000     /* share units ("_e4") per tantième */
#define KOPRO_FRACTION_SCALE 100000 /* fraction units ("_e5") per whole lot */
#define KOPRO_NONE ((size_t)-1)     /* "no index" */

enum kopro_meeting_type {
    KOPRO_MEETING_ORDINARY = 0,
    KOPRO_MEETING_EXTRAORDINARY = 1,
};

/* An owner's attendance at the opening of the assembly. */
enum kopro_attendance {
    KOPRO_ATTEND_ABSENT = 0,
    KOPRO_ATTEND_PRESENT = 1,     /* in person */
    KOPRO_ATTEND_REPRESENTED = 2, /* by a proxy holder (procuration / volmacht) */
};

/* Where the attendance came from (the minutes say which). */
enum kopro_attendance_source {
    /* convocation_recipients.attendance_status (+ proxy_owner_id) */
    KOPRO_ATTENDANCE_RECORDED = 0,
    /* no attendance recorded: an owner who voted (or whose proxy holder voted) on
     * any resolution is present (represented), everyone else absent */
    KOPRO_ATTENDANCE_FROM_VOTES = 1,
};

enum kopro_vote_choice {
    KOPRO_VOTE_POUR = 0,
    KOPRO_VOTE_CONTRE = 1,
    KOPRO_VOTE_ABSTENTION = 2,
};

struct kopro_building {
    char *id;              /* uuid */
    char *organization_id; /* uuid */
    char *name;
    char *address;
    char *postal_code;
    char *city;
    char *syndic_name;       /* buildings.syndic_name, may be NULL */
    int64_t total_tantiemes; /* buildings.total_tantiemes (> 0), whole tantièmes */
};

struct kopro_meeting {
    char *id; /* uuid */
    enum kopro_meeting_type type;
    char *title;
    char *location;           /* may be NULL */
    char *status;             /* "scheduled", "completed" or "cancelled" */
    int64_t scheduled_at_utc; /* meetings.scheduled_date, seconds since the Unix epoch, UTC */
    int is_second_convocation; /* art. 3.87 §5: no quorum required */
    char **agenda;             /* meetings.agenda (array of strings), n_agenda items */
    size_t n_agenda;
    /* Officers of the assembly. KoproGo has no columns for them: they come from
     * kopro.meeting_officers (lib/migrations/0050_meeting_officers.sql) when a
     * row exists, from the JSON model, or from kopro_assembly_set_officers().
     * NULL means "leave a blank line to fill in by hand". */
    char *president_name;
    char *secretary_name;
};

struct kopro_owner {
    char *id;           /* owners.id (uuid) */
    char *display_name; /* "First Last", or the company name */
    char *first_name;   /* may be NULL (companies) */
    char *last_name;
    /* 1 for a legal person. KoproGo has no such column: the loader takes an
     * owner with an empty first_name as a company. */
    int is_company;
    /* 1 if the owner's user account has the role "syndic" in the organization
     * (users.role or user_roles): art. 3.87 §7 forbids the syndic to hold proxies. */
    int is_syndic;
    enum kopro_attendance attendance;
};

struct kopro_unit {
    char *id;     /* units.id (uuid) */
    char *number; /* units.unit_number */
    char *type;   /* apartment|parking|cellar|commercial|other */
    int64_t quota_e4; /* units.quota in 1/10000 tantième */
};

/* One active unit_owners row at the meeting date. */
struct kopro_ownership {
    char *id;            /* unit_owners.id (uuid), may be NULL in JSON models */
    size_t unit;         /* index into units */
    size_t owner;        /* index into owners */
    int64_t fraction_e5; /* unit_owners.ownership_percentage in 1/100000 */
};

/* A proxy (procuration): grantor is represented by holder. */
struct kopro_proxy {
    size_t grantor;      /* index into owners */
    size_t holder_owner; /* index into owners if the holder is a co-owner, else KOPRO_NONE */
    char *holder_id;     /* owners.id or users.id of the holder (uuid) */
    char *holder_name;   /* display name of the holder */
    int holder_is_syndic; /* holder has the syndic role (art. 3.87 §7 forbids it) */
    /* "convocation_recipients", "meeting_proxy_mandates" or "votes" */
    char *source;
};

struct kopro_resolution {
    char *id; /* uuid */
    char *title;
    char *description;       /* may be NULL */
    char *resolution_type;   /* "Ordinary" / "Extraordinary", may be NULL */
    /* resolutions.majority_required as stored; kopro/legal.h refuses any value
     * other than Absolute|TwoThirds|FourFifths|Unanimity */
    char *majority_required;
    char *stored_status; /* resolutions.status: Pending|Adopted|Rejected */
    /* KoproGo's stored tallies, compared by kopro/legal.h, never trusted */
    int64_t stored_count[3];    /* vote_count_pour/contre/abstention, by enum kopro_vote_choice */
    int64_t stored_power_e4[3]; /* total_voting_power_pour/contre/abstention */
};

struct kopro_vote {
    char *id;          /* votes.id (uuid), may be NULL in JSON models */
    size_t resolution; /* index into resolutions */
    size_t unit;       /* index into units */
    size_t owner;      /* index into owners: the owner whose unit votes */
    enum kopro_vote_choice choice;
    int64_t voting_power_e4; /* votes.voting_power in 1/10000 tantième */
    size_t proxy_owner; /* index into owners of the proxy holder who cast it, or KOPRO_NONE */
};

struct kopro_assembly {
    struct kopro_building building;
    struct kopro_meeting meeting;
    enum kopro_attendance_source attendance_source;

    struct kopro_owner *owners; /* the unit holders, then proxy holders and voters who hold no unit */
    size_t n_owners;
    struct kopro_unit *units; /* every unit of the building, by unit_number */
    size_t n_units;
    struct kopro_ownership *ownerships;
    size_t n_ownerships;
    struct kopro_proxy *proxies;
    size_t n_proxies;
    struct kopro_resolution *resolutions; /* in KoproGo's order (created_at, id) */
    size_t n_resolutions;
    struct kopro_vote *votes;
    size_t n_votes;
};

/*
 * Load the assembly `meeting_id` of KoproGo's database: building, meeting,
 * every unit of the building, the unit_owners rows active at the meeting date
 * (start_date <= scheduled_date < end_date, NULL end_date = current), their
 * owners, attendance and proxies from convocation_recipients
 * (attendance_status, proxy_owner_id) and active meeting_proxy_mandates,
 * resolutions and votes. An owner whose status was never recorded (pending,
 * will_attend, will_not_attend, no recipient row) but who voted is present,
 * or represented when a proxy holder cast the vote. When no recipient at all
 * has attendance_status attended or did_not_attend, attendance is derived
 * from the votes alone (KOPRO_ATTENDANCE_FROM_VOTES). Officers come from
 * kopro.meeting_officers if that table exists and has a row.
 *
 * out:        receives the model; the caller frees it with kopro_assembly_free().
 * db:         an open connection (kopro_db_connect); no transaction required,
 *             every query is parameterised (kopro_db_exec).
 * meeting_id: meetings.id as text.
 * Returns 0; KOPRO_EINVAL if meeting_id is not a uuid or a stored number cannot
 * be made exact (the message names the table, row id and column);
 * KOPRO_ENOTFOUND for an unknown meeting; KOPRO_EUNAVAIL / KOPRO_ERROR from the
 * database. On error *out is NULL.
 * Thread-safety: one connection per thread (libpq).
 * Source: ../shared/docs/koprogo-schema.md; PostgreSQL 15 libpq.
 */
int kopro_assembly_load_db(struct kopro_assembly **out, PGconn *db, const char *meeting_id);

/*
 * Build a model from a JSON document (schema in README.md, "Document data
 * (JSON model)"; the same document kopro_assembly_to_json() writes).
 *
 * out: receives the model; caller frees with kopro_assembly_free().
 * doc: a JSON object (borrowed).
 * Returns 0, or KOPRO_EINVAL naming the JSON path of the first bad member
 * (e.g. "votes[3].unit: no unit with id ..."). On error *out is NULL.
 * Thread-safety: reentrant.
 */
int kopro_assembly_load_json(struct kopro_assembly **out, const json_t *doc);

/*
 * Dump a model as the JSON document kopro_assembly_load_json() reads.
 * Numbers with decimals are written as exact decimal strings ("250.0000").
 *
 * out: receives a new reference (json_decref() it).
 * a:   the model (borrowed).
 * Returns 0 or KOPRO_ERROR (allocation failure). On error *out is NULL.
 * Thread-safety: reentrant.
 */
int kopro_assembly_to_json(json_t **out, const struct kopro_assembly *a);

/*
 * Set (or with NULL clear) the president and secretary of the assembly, e.g.
 * from CLI options or a job payload. Copies the strings.
 * Returns 0 or KOPRO_ERROR (allocation failure; the previous names are kept).
 */
int kopro_assembly_set_officers(struct kopro_assembly *a, const char *president_name,
                                const char *secretary_name);

/* Wipe and release a model; NULL allowed. */
void kopro_assembly_free(struct kopro_assembly *a);

/*
 * Parse an exact decimal ("250", "250.5", "-0.0001", "1e2" is refused) into an
 * integer count of 10^-scale_digits units: kopro_decimal_parse(&v, "250.5", 4)
 * gives 2505000. More significant fractional digits than scale_digits are
 * allowed only if they are zeros ("0.50000" at 4 digits is fine, "0.00005" is
 * not); anything else is KOPRO_EINVAL naming `what` and the text. Overflow of
 * int64 is KOPRO_EINVAL too.
 * Thread-safety: reentrant.
 */
int kopro_decimal_parse(int64_t *out, const char *text, int scale_digits, const char *what);

/*
 * Format an exact decimal: value 2505000 at 4 digits gives "250.5000" in buf.
 * Writes at most buf_bytes bytes (NUL included; 32 always suffice).
 */
void kopro_decimal_format(char *buf, size_t buf_bytes, int64_t value, int scale_digits);

#endif
