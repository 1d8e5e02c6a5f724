#include "kopro/retention.h"

#include "kopro/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void kopro_retention_default(struct kopro_retention_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->keep_daily = 7;
    p->keep_weekly = 4;
    p->keep_monthly = 12;
    p->tz = "Europe/Brussels";
}

static int check_tz(const char *tz)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    struct stat st;

    if (*tz == '\0' || *tz == '/' || *tz == ':' || strstr(tz, "..") != NULL || strlen(tz) > 200)
        goto bad;
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        goto bad;
    return 0;
bad:
    return kopro_error_set(KOPRO_EINVAL,
                           "time zone '%s' is not in the tz database (/usr/share/zoneinfo); use an "
                           "IANA name such as Europe/Brussels",
                           tz);
}

struct order {
    time_t t;
    size_t i;
};

static int cmp_newest_first(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->t != y->t)
        return x->t > y->t ? -1 : 1;
    return x->i > y->i ? -1 : x->i < y->i ? 1 : 0;
}

int kopro_retention_plan(struct kopro_retention_decision *out, const time_t *times_utc, size_t n,
                         const struct kopro_retention_policy *p)
{
    const char *tz = p->tz != NULL ? p->tz : "Europe/Brussels";
    struct order *ord = NULL;
    char *saved_tz = NULL;
    int had_tz;
    int left[5];
    char last[5][24];
    int rc = 0;

    if (p->keep_last < 0 || p->keep_daily < 0 || p->keep_weekly < 0 || p->keep_monthly < 0 ||
        p->keep_yearly < 0)
        return kopro_error_set(KOPRO_EINVAL, "keep counts must be 0 or more");
    rc = check_tz(tz);
    if (rc != 0)
        return rc;
    if (n == 0)
        return 0;
    ord = malloc(n * sizeof(*ord));
    if (ord == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for %zu backups", n);
    had_tz = getenv("TZ") != NULL;
    if (had_tz)
        saved_tz = strdup(getenv("TZ"));
    if (had_tz && saved_tz == NULL) {
        free(ord);
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    setenv("TZ", tz, 1);
    tzset();

    for (size_t k = 0; k < n; k++) {
        struct tm tm;
        memset(&out[k], 0, sizeof(out[k]));
        ord[k].t = times_utc[k];
        ord[k].i = k;
        if (localtime_r(&times_utc[k], &tm) == NULL) {
            rc = kopro_error_set(KOPRO_EINVAL, "backup time %lld is out of range",
                                 (long long)times_utc[k]);
            goto done;
        }
        strftime(out[k].day, sizeof(out[k].day), "%Y-%m-%d", &tm);
        strftime(out[k].week, sizeof(out[k].week), "%G-W%V", &tm);
        strftime(out[k].month, sizeof(out[k].month), "%Y-%m", &tm);
        strftime(out[k].year, sizeof(out[k].year), "%Y", &tm);
    }
    qsort(ord, n, sizeof(*ord), cmp_newest_first);
    left[0] = p->keep_last;
    left[1] = p->keep_daily;
    left[2] = p->keep_weekly;
    left[3] = p->keep_monthly;
    left[4] = p->keep_yearly;
    memset(last, 0, sizeof(last));
    for (size_t k = 0; k < n; k++) {
        struct kopro_retention_decision *d = &out[ord[k].i];
        char lastkey[24];
        const char *key[5];
        snprintf(lastkey, sizeof(lastkey), "#%zu", k); /* every backup is its own "last" period */
        key[0] = lastkey;
        key[1] = d->day;
        key[2] = d->week;
        key[3] = d->month;
        key[4] = d->year;
        for (int r = 0; r < 5; r++) {
            if (left[r] <= 0 || strcmp(last[r], key[r]) == 0)
                continue;
            snprintf(last[r], sizeof(last[r]), "%s", key[r]);
            left[r]--;
            d->reasons |= 1u << r;
            d->keep = 1;
        }
    }
done:
    if (had_tz)
        setenv("TZ", saved_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved_tz);
    free(ord);
    return rc;
}

char *kopro_retention_reasons(char *buf, size_t cap, const struct kopro_retention_decision *d)
{
    size_t used = 0;
    buf[0] = '\0';
#define ADD(bit, fmt, val)                                                                     \
    do {                                                                                       \
        if ((d->reasons & (bit)) && used < cap) {                                              \
            int w = snprintf(buf + used, cap - used, "%s" fmt, used ? ", " : "", val);         \
            if (w > 0)                                                                         \
                used += (size_t)w;                                                             \
        }                                                                                      \
    } while (0)
    ADD(KOPRO_KEEP_LAST, "last%s", "");
    ADD(KOPRO_KEEP_DAILY, "daily %s", d->day);
    ADD(KOPRO_KEEP_WEEKLY, "weekly %s", d->week);
    ADD(KOPRO_KEEP_MONTHLY, "monthly %s", d->month);
    ADD(KOPRO_KEEP_YEARLY, "yearly %s", d->year);
#undef ADD
    return buf;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int kopro_retention_parse_rfc3339(time_t *out, const char *text)
{
    int Y, M, D, h, m, s, oh = 0, om = 0, sign = 0;
    const char *p = text;
    struct tm tm;
    time_t t;

    *out = 0;
    if (strlen(text) < 20 || digits(p, 4, &Y) || p[4] != '-' || digits(p + 5, 2, &M) ||
        p[7] != '-' || digits(p + 8, 2, &D) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
        digits(p + 11, 2, &h) || p[13] != ':' || digits(p + 14, 2, &m) || p[16] != ':' ||
        digits(p + 17, 2, &s))
        goto bad;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 || s > 60)
        goto bad;
    p += 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            goto bad;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            goto bad;
        p += 6;
    } else {
        goto bad;
    }
    if (*p != '\0')
        goto bad;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    t = timegm(&tm);
    *out = t - (time_t)sign * (oh * 3600 + om * 60);
    return 0;
bad:
    return kopro_error_set(KOPRO_EINVAL,
                           "'%.60s' is not an RFC 3339 date-time; write e.g. "
                           "2026-12-01T23:16:55Z or 2026-12-01T23:16:55+01:00",
                           text);
}
