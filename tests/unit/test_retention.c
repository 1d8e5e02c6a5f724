/*
 * Unit tests for lib/retention.c: restic-style keep rules.
 * The property test compares kopro_retention_plan() with a second, naive
 * implementation written here (group by period, take the newest of the N
 * newest periods), computing ISO weeks by day arithmetic instead of
 * strftime(%G/%V), over 10,000 random histories around DST changes, New Year
 * and ISO week 53, in several time zones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kopro/error.h"
#include "kopro/retention.h"

/* ---------------------------------------------------------------- naive model */

static long days_from_civil(long y, unsigned m, unsigned d)
{
    /* H. Hinnant's algorithm: days since 1970-01-01 */
    long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static int iso_weekday(long y, unsigned m, unsigned d) /* 1 = Monday .. 7 = Sunday */
{
    long days = days_from_civil(y, m, d);
    long w = ((days % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday (3 from Monday=0) */
    return (int)w + 1;
}

static int weeks_in_iso_year(long y)
{
    int jan1 = iso_weekday(y, 1, 1);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return (jan1 == 4 || (leap && jan1 == 3)) ? 53 : 52;
}

static void iso_week(long y, unsigned m, unsigned d, long *iy, int *iw)
{
    long ordinal = days_from_civil(y, m, d) - days_from_civil(y, 1, 1) + 1;
    int w = (int)((ordinal - iso_weekday(y, m, d) + 10) / 7);
    if (w < 1) {
        *iy = y - 1;
        *iw = weeks_in_iso_year(y - 1);
    } else if (w > weeks_in_iso_year(y)) {
        *iy = y + 1;
        *iw = 1;
    } else {
        *iy = y;
        *iw = w;
    }
}

struct naive_item {
    time_t t;
    size_t idx;
    long key[5]; /* last, day, week, month, year */
};

static int naive_cmp(const void *a, const void *b)
{
    const struct naive_item *x = a, *y = b;
    if (x->t != y->t)
        return x->t > y->t ? -1 : 1;
    return x->idx > y->idx ? -1 : 1;
}

/* keep[i] = bitmask of rules keeping times[i] */
static void naive_plan(unsigned *keep, const time_t *times, size_t n, const int counts[5],
                       const char *tz)
{
    struct naive_item *it = calloc(n ? n : 1, sizeof(*it));
    assert_non_null(it);
    setenv("TZ", tz, 1);
    tzset();
    for (size_t i = 0; i < n; i++) {
        struct tm tm;
        long iy;
        int iw;
        assert_non_null(localtime_r(&times[i], &tm));
        iso_week(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday, &iy, &iw);
        it[i].t = times[i];
        it[i].idx = i;
        it[i].key[1] = (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
        it[i].key[2] = iy * 100 + iw;
        it[i].key[3] = (tm.tm_year + 1900L) * 100 + tm.tm_mon + 1;
        it[i].key[4] = tm.tm_year + 1900L;
        keep[i] = 0;
    }
    unsetenv("TZ");
    tzset();
    qsort(it, n, sizeof(*it), naive_cmp);
    for (size_t k = 0; k < n; k++)
        it[k].key[0] = (long)k; /* "last": each backup is its own period */
    /* group by period: in newest-first order the first item of each distinct
     * period value is that period's newest; keep those of the newest N periods */
    for (int r = 0; r < 5; r++) {
        int periods = 0;
        for (size_t k = 0; k < n && periods < counts[r]; k++) {
            int seen = 0;
            for (size_t j = 0; j < k; j++)
                if (it[j].key[r] == it[k].key[r])
                    seen = 1;
            if (!seen) {
                keep[it[k].idx] |= 1u << r;
                periods++;
            }
        }
    }
    free(it);
}

/* ---------------------------------------------------------------- tests */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure is reproducible */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static long rnd_range(long lo, long hi)
{
    return lo + (long)(rnd() % (uint64_t)(hi - lo + 1));
}

static void test_retention__property_10000_histories(void **state)
{
    /* anchors (UTC): Brussels DST starts/ends, New Years, ISO week 53 years */
    static const time_t anchors[] = {
        1774746000, /* 2026-03-29T01:00:00Z spring forward in Europe/Brussels */
        1792890000, /* 2026-10-25T01:00:00Z fall back */
        1798761600, /* 2027-01-01T00:00:00Z New Year; 2026 has ISO week 53 */
        1609459200, /* 2021-01-01T00:00:00Z; 2020 has ISO week 53 */
        1735689600, /* 2025-01-01T00:00:00Z; 2024-12-30 is ISO 2025-W01 */
        1711846800, /* 2024-03-31T01:00:00Z spring forward */
        1830297600, /* 2028-01-01T00:00:00Z */
    };
    static const char *const zones[] = {"Europe/Brussels", "UTC", "America/New_York",
                                        "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata"};
    static const long steps[] = {60, 1800, 3600, 6 * 3600, 86400, 86400 + 3600, 7 * 86400,
                                 30 * 86400};
    time_t times[80];
    struct kopro_retention_decision dec[80];
    unsigned naive[80];
    (void)state;

    for (int h = 0; h < 10000; h++) {
        struct kopro_retention_policy p;
        int counts[5];
        size_t n = (size_t)rnd_range(0, 79);
        time_t t = anchors[rnd_range(0, sizeof(anchors) / sizeof(anchors[0]) - 1)] -
                   rnd_range(0, 40L * 86400);
        for (size_t i = 0; i < n; i++) {
            /* mostly steady cadence, sometimes gaps, sometimes same instant */
            long step = steps[rnd_range(0, sizeof(steps) / sizeof(steps[0]) - 1)];
            if (rnd_range(0, 9) == 0)
                step = rnd_range(0, 90L * 86400);
            if (rnd_range(0, 30) == 0)
                step = 0;
            t += step;
            times[i] = t;
        }
        /* shuffle: the plan must not depend on input order */
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)rnd_range(0, (long)i - 1);
            time_t x = times[i - 1];
            times[i - 1] = times[j];
            times[j] = x;
        }
        memset(&p, 0, sizeof(p));
        p.keep_last = rnd_range(0, 3) == 0 ? (int)rnd_range(1, 5) : 0;
        p.keep_daily = (int)rnd_range(0, 9);
        p.keep_weekly = (int)rnd_range(0, 6);
        p.keep_monthly = (int)rnd_range(0, 13);
        p.keep_yearly = rnd_range(0, 3) == 0 ? (int)rnd_range(1, 3) : 0;
        p.tz = zones[rnd_range(0, sizeof(zones) / sizeof(zones[0]) - 1)];
        counts[0] = p.keep_last;
        counts[1] = p.keep_daily;
        counts[2] = p.keep_weekly;
        counts[3] = p.keep_monthly;
        counts[4] = p.keep_yearly;

        assert_int_equal(kopro_retention_plan(dec, times, n, &p), 0);
        naive_plan(naive, times, n, counts, p.tz);
        for (size_t i = 0; i < n; i++) {
            if (dec[i].reasons != naive[i] || dec[i].keep != (naive[i] != 0))
                fail_msg("history %d (tz %s, n %zu), time %lld: kopro reasons 0x%x, naive 0x%x",
                         h, p.tz, n, (long long)times[i], dec[i].reasons, naive[i]);
        }
    }
}

static time_t ts(const char *s)
{
    time_t t;
    assert_int_equal(kopro_retention_parse_rfc3339(&t, s), 0);
    return t;
}

/* The README's worked example. */
static void test_retention__worked_example(void **state)
{
    static const char *const in[] = {
        "2026-12-31T23:30:00Z", /* Brussels: 2027-01-01 00:30, ISO 2026-W53 */
        "2026-12-31T12:00:00Z", "2026-12-30T02:00:00Z", "2026-12-28T02:00:00Z",
        "2026-12-20T02:00:00Z", "2026-12-13T02:00:00Z", "2026-11-30T02:00:00Z",
        "2026-10-25T00:30:00Z", /* 02:30 CEST, before the fall-back */
        "2026-10-25T01:30:00Z", /* 02:30 CET, the same wall-clock time an hour later */
    };
    static const char *const want[] = {
        "daily 2027-01-01, weekly 2026-W53, monthly 2027-01", "daily 2026-12-31, monthly 2026-12",
        "daily 2026-12-30", "", "weekly 2026-W51", "", "monthly 2026-11", "",
        "monthly 2026-10"};
    time_t t[9];
    struct kopro_retention_decision d[9];
    struct kopro_retention_policy p;
    char buf[256];
    (void)state;
    for (int i = 0; i < 9; i++)
        t[i] = ts(in[i]);
    kopro_retention_default(&p);
    p.keep_daily = 3;
    p.keep_weekly = 2;
    p.keep_monthly = 4;
    assert_int_equal(kopro_retention_plan(d, t, 9, &p), 0);
    for (int i = 0; i < 9; i++) {
        assert_string_equal(kopro_retention_reasons(buf, sizeof(buf), &d[i]), want[i]);
        assert_int_equal(d[i].keep, want[i][0] != '\0');
    }
}

static void test_retention__rfc3339(void **state)
{
    time_t t;
    (void)state;
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "1970-01-01T00:00:00Z"), 0);
    assert_int_equal(t, 0);
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "2026-12-01t23:16:55.123+01:00"), 0);
    assert_int_equal(t, ts("2026-12-01T22:16:55Z"));
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "2024-02-29T12:00:00-05:30"), 0);
    assert_int_equal(t, ts("2024-02-29T17:30:00Z"));
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "2026-02-29T12:00:00Z"), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "2026-02-29T12:00:00Z"));
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "2026-12-01 23:16:55"), KOPRO_EINVAL);
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "2026-12-01T23:16:55Zjunk"), KOPRO_EINVAL);
    assert_int_equal(kopro_retention_parse_rfc3339(&t, "yesterday"), KOPRO_EINVAL);
}

static void test_retention__unknown_zone(void **state)
{
    struct kopro_retention_policy p;
    struct kopro_retention_decision d[1];
    time_t t = 0;
    (void)state;
    kopro_retention_default(&p);
    p.tz = "Europe/Atlantis";
    assert_int_equal(kopro_retention_plan(d, &t, 1, &p), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "Europe/Atlantis"));
    p.tz = "../../etc/passwd";
    assert_int_equal(kopro_retention_plan(d, &t, 1, &p), KOPRO_EINVAL);
}

static void test_retention__restores_tz(void **state)
{
    struct kopro_retention_policy p;
    struct kopro_retention_decision d[1];
    time_t t = 0;
    (void)state;
    setenv("TZ", "Asia/Tokyo", 1);
    kopro_retention_default(&p);
    assert_int_equal(kopro_retention_plan(d, &t, 1, &p), 0);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    unsetenv("TZ");
    assert_int_equal(kopro_retention_plan(d, &t, 1, &p), 0);
    assert_null(getenv("TZ"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retention__property_10000_histories),
        cmocka_unit_test(test_retention__worked_example),
        cmocka_unit_test(test_retention__rfc3339),
        cmocka_unit_test(test_retention__unknown_zone),
        cmocka_unit_test(test_retention__restores_tz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
