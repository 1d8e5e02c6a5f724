/*
 * kopro/accounts.h — the PCN accounting engine of a co-ownership: the
 * building's accounts for a period (class 6 charges, class 7 income) and
 * each owner's periodic charge statement (décompte de charges).
 *
 * Sources: Arrêté royal of 12 July 2012 (amended 18 April 2013) on the
 * minimal chart of accounts (PCMN/PCN) of co-owners' associations; Code civil
 * art. 3.86 §3 (working capital and reserve fund); ../shared/docs/legal-be.md.
 *
 * Money is int64 cents everywhere ("_cents"). Shares are exact: an owner's
 * weight is the sum over their lots of quota (1/10000 tantième) × ownership
 * fraction (1/100000), out of total_tantiemes × 10^9. Account codes and
 * labels are read from KoproGo's `accounts` table; the class of an account is
 * the first digit of its code (6 charges, 7 income), never a fixed list.
 *
 * Model strings are owned by the model and wiped (explicit_bzero) on free.
 * Thread-safety: reentrant; a model or result may be read from several threads.
 */
#ifndef KOPRO_ACCOUNTS_H
#define KOPRO_ACCOUNTS_H

#include "kopro/assembly.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Where the account movements came from (the documents say which). */
enum kopro_accounts_source {
    KOPRO_ACCOUNTS_JOURNAL = 0,  /* journal_entry_lines of journal_entries of the building */
    KOPRO_ACCOUNTS_EXPENSES = 1, /* no journal lines in the period: expenses.account_code */
};

/* One PCN account with movements in the period (classes 6 and 7 only). */
struct kopro_pcn_account {
    char *code;  /* accounts.code, e.g. "604001" or "6100" */
    char *label; /* accounts.label; NULL if the code is not in the chart */
    int pcn_class;        /* first digit of the code: 6 or 7 */
    int64_t debit_cents;  /* sum of debits in the period */
    int64_t credit_cents; /* sum of credits in the period */
    /* class 6: debit - credit (the charge); class 7: credit - debit (the income) */
    int64_t amount_cents;
};

/* A call for funds addressed to an owner (owner_contributions). */
struct kopro_contribution {
    char *id;          /* owner_contributions.id, may be NULL in JSON models */
    size_t owner;      /* index into owners */
    int is_reserve;    /* 1: reserve fund (call_for_funds / contribution type
                        * "extraordinary"); 0: working-capital provision */
    int64_t called_cents; /* owner_contributions.amount */
    int64_t paid_cents;   /* the amount when payment_status is "paid", else 0 */
    char *date;           /* contribution_date as YYYY-MM-DD (Europe/Brussels) */
    char *description;    /* may be NULL */
    char *account_code;   /* may be NULL */
};

/* An owner in a statement model. */
struct kopro_acc_owner {
    char *id;           /* owners.id */
    char *display_name; /* "First Last" or the company name */
    int is_company;
};

struct kopro_accounts {
    struct kopro_building building; /* as in kopro/assembly.h */
    char *period_from;              /* YYYY-MM-DD, inclusive, Europe/Brussels */
    char *period_to;                /* YYYY-MM-DD, inclusive */
    enum kopro_accounts_source source;

    struct kopro_pcn_account *accounts; /* class 6 then 7, by code */
    size_t n_accounts;
    int64_t total_charges_cents; /* sum of class 6 amounts */
    int64_t total_income_cents;  /* sum of class 7 amounts */

    /* for the statements: owners holding lots at the end of the period, then
     * owners who were only called for funds in it */
    struct kopro_acc_owner *owners;
    size_t n_owners;
    struct kopro_unit *units; /* every unit of the building */
    size_t n_units;
    struct kopro_ownership *ownerships; /* active at the end of the period */
    size_t n_ownerships;
    struct kopro_contribution *contributions; /* dated within the period */
    size_t n_contributions;
};

/* One class-6 account in an owner's statement. */
struct kopro_statement_line {
    size_t account;        /* index into model->accounts */
    int64_t total_cents;   /* the building's amount */
    int64_t owner_cents;   /* the owner's part (largest remainder, see below) */
};

/* The décompte de charges of one owner. */
struct kopro_statement {
    size_t owner; /* index into model->owners */
    /* the owner's share of the building as the exact rational num/den:
     * sum(quota_e4 × fraction_e5) / (total_tantiemes × 10^9) */
    int64_t share_num;
    int64_t share_den;
    int share_bp; /* 10000 × num / den, rounded down, for display */
    struct kopro_statement_line *lines; /* one per class-6 account, model order */
    size_t n_lines;
    int64_t charges_cents;            /* sum of the owner's parts */
    int64_t provisions_called_cents;  /* working capital called in the period */
    int64_t provisions_paid_cents;
    int64_t reserve_called_cents;     /* reserve fund called: contributions, not charges */
    int64_t reserve_paid_cents;
    /* charges - provisions called: > 0 the owner owes it, < 0 a credit */
    int64_t balance_cents;
    /* calls not yet paid (provisions and reserve) */
    int64_t outstanding_cents;
};

struct kopro_statements {
    struct kopro_statement *items; /* one per model owner, model order */
    size_t n_items;
};

/*
 * Load the accounts of building `building_id` for the period
 * [from_date 00:00, to_date 24:00) in Europe/Brussels: class 6 and 7
 * movements by account from journal_entry_lines (falling back to
 * expenses.account_code, and owner_contributions.account_code for income,
 * when the building has no journal line in the period), every unit, the
 * unit_owners active at the end of the period, and the owner_contributions
 * of the building (by call_for_funds.building_id or the unit) dated in it.
 *
 * out:         receives the model; free with kopro_accounts_free().
 * db:          an open connection; parameterised SQL in one read-only snapshot.
 * building_id: buildings.id (uuid text).
 * from_date, to_date: "YYYY-MM-DD", from <= to.
 * Returns 0; KOPRO_EINVAL for a malformed uuid or date, from > to, an expense
 * without account_code, or an amount that is not exact cents (message names
 * the table and row); KOPRO_ENOTFOUND for an unknown building;
 * KOPRO_EUNAVAIL / KOPRO_ERROR from the database. On error *out is NULL.
 * Thread-safety: one connection per thread.
 * Source: AR 12 July 2012 (PCN); koprogo-schema.md.
 */
int kopro_accounts_load_db(struct kopro_accounts **out, PGconn *db, const char *building_id,
                           const char *from_date, const char *to_date);

/*
 * Build a model from the JSON document described in README.md ("PCN
 * accounts and owners' statements"). Amounts are decimal strings with at most 2
 * decimals, or integers (euros). Returns 0 or KOPRO_EINVAL naming the JSON
 * path. *out is freed with kopro_accounts_free().
 */
int kopro_accounts_load_json(struct kopro_accounts **out, const json_t *doc);

/* Dump a model as the JSON kopro_accounts_load_json() reads. New reference in
 * *out. Returns 0 or KOPRO_ERROR (allocation). */
int kopro_accounts_to_json(json_t **out, const struct kopro_accounts *m);

/* Wipe and release a model; NULL allowed. */
void kopro_accounts_free(struct kopro_accounts *m);

/*
 * Compute every owner's statement (décompte de charges). Each class-6
 * account's amount is split over all owners in proportion to their shares,
 * by largest remainder (kopro_pcn_apportion()), so that the owners' parts
 * of every account sum exactly to its amount, to the cent. Ties between equal
 * remainders go to the owner whose owners.id sorts first (byte order), so
 * the split does not depend on the order of the model.
 *
 * out: receives the statements; free with kopro_statements_free().
 * m:   the model (borrowed).
 * Returns 0, or KOPRO_EINVAL when the shares are inconsistent (a quota <= 0,
 * units' quotas not summing to total_tantiemes, a fraction outside (0, 1], a
 * lot whose active fractions do not sum to 1; the message names the row),
 * KOPRO_ERROR on allocation failure.
 * Thread-safety: reentrant.
 * Source: AR 12 July 2012; Code civil art. 3.86 §3 (two funds); legal-be.md.
 */
int kopro_accounts_statements(struct kopro_statements **out, const struct kopro_accounts *m);

/* Release statements; NULL allowed. */
void kopro_statements_free(struct kopro_statements *s);

/*
 * The accounts and the statements as one JSON object, amounts as integer
 * cents (for job results, the API and debugging):
 *   {"building_id", "period": {"from", "to"}, "source", "total_charges_cents",
 *    "total_income_cents", "accounts": [{"code", "label", "class",
 *    "amount_cents"}], "statements": [{"owner_id", "name", "share_num",
 *    "share_den", "share_bp", "charges_cents", "provisions_called_cents",
 *    "provisions_paid_cents", "reserve_called_cents", "reserve_paid_cents",
 *    "balance_cents", "outstanding_cents", "lines": [{"code", "owner_cents"}]}]}
 * `only_owner` (an owners.id) keeps that owner's statement only; NULL keeps all.
 * out: new reference. Returns 0, KOPRO_ENOTFOUND if only_owner has no
 * statement, or KOPRO_ERROR (allocation).
 */
int kopro_accounts_result_to_json(json_t **out, const struct kopro_accounts *m,
                                  const struct kopro_statements *s, const char *only_owner);

/*
 * Largest-remainder (Hamilton) apportionment of `total_cents` over `n`
 * weights: parts_out[i] = floor(total × w[i] / W) (towards zero for negative
 * totals), then the cents left go one each to the largest remainders; equal
 * remainders go to the lower index. The parts sum exactly to total_cents and
 * each differs from the exact share by less than one cent.
 *
 * parts_out: n entries, written. weights: n entries, each >= 0, sum > 0.
 * Returns 0, or KOPRO_EINVAL if a weight is negative or all are zero, or
 * KOPRO_ERROR on allocation failure.
 */
int kopro_pcn_apportion(int64_t *parts_out, int64_t total_cents, const int64_t *weights,
                        size_t n);

#endif
