/*
 * kopro/retention.h — which backups a keep-policy keeps, with restic's
 * semantics (https://restic.readthedocs.io/en/stable/060_forget.html):
 *
 *  - walk the backups newest to oldest;
 *  - each rule (last, daily, weekly, monthly, yearly) keeps a backup when the
 *    backup's period differs from the period of the last backup that rule
 *    kept, until the rule's count is used up; i.e. the newest backup of each
 *    of the N most recent periods that have backups;
 *  - rules are counted independently and ORed: a backup is kept if any rule
 *    keeps it;
 *  - periods are calendar days, ISO 8601 weeks (%G-W%V), calendar months and
 *    years in the policy's time zone (IANA name from the system tz database;
 *    DST is handled by localtime_r).
 *  - "last" keeps the N newest backups regardless of time.
 */
#ifndef KOPRO_RETENTION_H
#define KOPRO_RETENTION_H

#include <stddef.h>
#include <time.h>

struct kopro_retention_policy {
    int keep_last;    /* 0 = rule off */
    int keep_daily;   /* default 7 */
    int keep_weekly;  /* default 4 */
    int keep_monthly; /* default 12 */
    int keep_yearly;  /* 0 = rule off */
    const char *tz;   /* IANA zone; NULL = "Europe/Brussels" */
};

/* The default policy: 7 daily, 4 weekly, 12 monthly, Europe/Brussels. */
void kopro_retention_default(struct kopro_retention_policy *p);

enum {
    KOPRO_KEEP_LAST = 1 << 0,
    KOPRO_KEEP_DAILY = 1 << 1,
    KOPRO_KEEP_WEEKLY = 1 << 2,
    KOPRO_KEEP_MONTHLY = 1 << 3,
    KOPRO_KEEP_YEARLY = 1 << 4,
};

struct kopro_retention_decision {
    int keep;            /* 1 keep, 0 forget */
    unsigned reasons;    /* KOPRO_KEEP_* bits of the rules that keep it */
    char day[11];        /* local period keys, for the reasons: YYYY-MM-DD */
    char week[9];        /* ISO week YYYY-Www */
    char month[8];       /* YYYY-MM */
    char year[5];        /* YYYY */
};

/*
 * Decide for n backups taken at times_utc[i] (seconds since the epoch, any
 * order). out[i] (array of n, caller-allocated) receives the decision for
 * times_utc[i]. Ties (equal times) are broken by index: a higher index counts
 * as newer.
 * Returns 0, or KOPRO_EINVAL for a negative count or an unknown time zone
 * (the message names it and says where zone names come from).
 * Thread-safety: sets the process's TZ while it runs and restores it; do not
 * run concurrently with other users of TZ/localtime.
 */
int kopro_retention_plan(struct kopro_retention_decision *out, const time_t *times_utc, size_t n,
                         const struct kopro_retention_policy *p);

/*
 * Format the reasons of a decision as "daily 2026-12-01, weekly 2026-W49"
 * into buf (cap bytes). Returns buf.
 */
char *kopro_retention_reasons(char *buf, size_t cap, const struct kopro_retention_decision *d);

/*
 * Parse an RFC 3339 date-time ("2026-12-01T23:16:55Z",
 * "2026-12-01t23:16:55.5+01:00") into seconds since the epoch (fraction
 * dropped). Returns 0 or KOPRO_EINVAL naming the text.
 * Source: RFC 3339 section 5.6.
 */
int kopro_retention_parse_rfc3339(time_t *out, const char *text);

#endif
