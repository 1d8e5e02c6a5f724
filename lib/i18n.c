/* Document wording (templates/) and per-language formatting; see kopro/i18n.h. */
#include "kopro/i18n.h"

#include "kopro/error.h"
#include "kopro/fs.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

struct kopro_i18n {
    json_t *root;        /* the file's object */
    char lang[4];        /* "fr" */
    char file[PATH_CAP]; /* for messages: "<dir>/<doc>/<lang>.json" */
    char missing[128];   /* first key kopro_i18n_s() did not find, or "" */
};

static const char *const langs[] = {"fr", "nl", "de", "en"};

int kopro_i18n_lang_valid(const char *lang)
{
    if (lang == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
        if (strcmp(lang, langs[i]) == 0)
            return 1;
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static pthread_once_t exe_once = PTHREAD_ONCE_INIT;
static char exe_tpl_dir[PATH_CAP];

static void find_exe_dir(void)
{
    char exe[PATH_CAP - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;
    if (n <= 0)
        return;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    /* BUILD/bin/kopro-pdf or BUILD/tests/test_x -> <repo>/templates */
    if (snprintf(exe_tpl_dir, sizeof(exe_tpl_dir), "%s/../../templates", exe) >=
            (int)sizeof(exe_tpl_dir) ||
        !is_dir(exe_tpl_dir))
        exe_tpl_dir[0] = '\0';
}

const char *kopro_i18n_template_dir(const char *cfg_dir)
{
    const char *env;
    if (cfg_dir != NULL && cfg_dir[0] != '\0')
        return cfg_dir;
    env = getenv("KOPRO_TEMPLATE_DIR");
    if (env != NULL && env[0] != '\0')
        return env;
    pthread_once(&exe_once, find_exe_dir);
    if (exe_tpl_dir[0] != '\0')
        return exe_tpl_dir;
    if (is_dir("/usr/share/kopro/templates"))
        return "/usr/share/kopro/templates";
    return NULL;
}

int kopro_i18n_load(struct kopro_i18n **out, const char *template_dir, const char *doc,
                    const char *lang)
{
    struct kopro_i18n *t = NULL;
    char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    const char *key;
    json_t *val;
    int rc;

    *out = NULL;
    if (!kopro_i18n_lang_valid(lang))
        return kopro_error_set(KOPRO_EINVAL, "language '%s' is not supported; use fr, nl, de or en",
                               lang != NULL ? lang : "(null)");
    if (template_dir == NULL)
        template_dir = kopro_i18n_template_dir(NULL);
    if (template_dir == NULL)
        return kopro_error_set(KOPRO_ENOTFOUND, "no template directory found; set "
                                                "KOPRO_TEMPLATE_DIR to the kopro templates/ directory");
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory loading templates");
        goto done;
    }
    snprintf(t->lang, sizeof(t->lang), "%s", lang);
    if (snprintf(t->file, sizeof(t->file), "%s/%s/%s.json", template_dir, doc, lang) >=
        (int)sizeof(t->file)) {
        rc = kopro_error_set(KOPRO_EINVAL, "template path for '%s' is too long", doc);
        goto done;
    }
    rc = kopro_fs_read_file(&text, &len, t->file, KOPRO_I18N_FILE_CAP_BYTES);
    if (rc != 0) {
        rc = kopro_error_wrap(rc, "template %s", t->file);
        goto done;
    }
    t->root = json_loadb(text, len, 0, &jerr);
    if (t->root == NULL || !json_is_object(t->root)) {
        rc = kopro_error_set(KOPRO_EINVAL, "template %s: line %d: %s; fix the JSON (an object of strings)",
                             t->file, jerr.line, t->root == NULL ? jerr.text : "not an object");
        goto done;
    }
    json_object_foreach(t->root, key, val) {
        if (!json_is_string(val)) {
            rc = kopro_error_set(KOPRO_EINVAL, "template %s: key '%s' is not a string", t->file, key);
            goto done;
        }
    }
    *out = t;
    t = NULL;
    rc = 0;
done:
    free(text);
    kopro_i18n_free(t);
    return rc;
}

void kopro_i18n_free(struct kopro_i18n *t)
{
    if (t == NULL)
        return;
    json_decref(t->root);
    free(t);
}

const char *kopro_i18n_lang(const struct kopro_i18n *t)
{
    return t->lang;
}

int kopro_i18n_get(const char **out, const struct kopro_i18n *t, const char *key)
{
    const char *s = json_string_value(json_object_get(t->root, key));
    *out = NULL;
    if (s == NULL)
        return kopro_error_set(KOPRO_EINVAL, "%s: missing key '%s'; add it to the template", t->file,
                               key);
    *out = s;
    return 0;
}

const char *kopro_i18n_s(struct kopro_i18n *t, const char *key)
{
    const char *s = json_string_value(json_object_get(t->root, key));
    if (s != NULL)
        return s;
    if (t->missing[0] == '\0')
        snprintf(t->missing, sizeof(t->missing), "%s", key);
    return "";
}

int kopro_i18n_status(const struct kopro_i18n *t)
{
    if (t->missing[0] == '\0')
        return 0;
    return kopro_error_set(KOPRO_EINVAL, "%s: missing key '%s'; add it to the template", t->file,
                           t->missing);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int kopro_i18n_keys(char **out, const struct kopro_i18n *t)
{
    size_t n = json_object_size(t->root), i = 0;
    const char **keys = NULL;
    const char *key;
    json_t *val;
    struct kopro_buf b;
    int rc = 0;

    *out = NULL;
    kopro_buf_init(&b, 1024 * 1024);
    keys = calloc(n + 1, sizeof(*keys));
    if (keys == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory listing template keys");
    json_object_foreach(t->root, key, val) {
        (void)val;
        keys[i++] = key;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n && rc == 0; i++)
        rc = kopro_buf_addf(&b, "%s%s", i ? "," : "", keys[i]);
    if (rc == 0) {
        *out = kopro_buf_detach(&b);
        if (*out == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "out of memory listing template keys");
    }
    kopro_buf_free(&b);
    free(keys);
    return rc;
}

int kopro_i18n_subst(struct kopro_buf *out, const char *tmpl, const char *const *kv)
{
    const char *p = tmpl;
    int rc;
    while (*p != '\0') {
        const char *open = strchr(p, '{');
        const char *close;
        size_t i;
        int found = 0;
        if (open == NULL)
            return kopro_buf_adds(out, p);
        rc = kopro_buf_add(out, p, (size_t)(open - p));
        if (rc != 0)
            return rc;
        if (open[1] == '{') {
            rc = kopro_buf_add(out, "{", 1);
            if (rc != 0)
                return rc;
            p = open + 2;
            continue;
        }
        close = strchr(open, '}');
        if (close == NULL)
            return kopro_error_set(KOPRO_EINVAL, "template text '%.40s' has an unclosed '{'", tmpl);
        for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
            if (strlen(kv[i]) == (size_t)(close - open - 1) &&
                strncmp(kv[i], open + 1, (size_t)(close - open - 1)) == 0) {
                rc = kopro_buf_adds(out, kv[i + 1] != NULL ? kv[i + 1] : "");
                if (rc != 0)
                    return rc;
                found = 1;
                break;
            }
        }
        if (!found)
            return kopro_error_set(KOPRO_EINVAL,
                                   "template text '%.40s' uses unknown placeholder '%.*s'", tmpl,
                                   (int)(close - open + 1), open);
        p = close + 1;
    }
    return 0;
}

/* ------------------------------------------------------------ numbers */

static const char *thousands_sep(const char *lang)
{
    return strcmp(lang, "en") == 0 ? "," : ".";
}

static const char *decimal_sep(const char *lang)
{
    return strcmp(lang, "en") == 0 ? "." : ",";
}

/* digits of |v| with separators into out */
static void group_digits(char *out, size_t out_bytes, uint64_t v, const char *sep)
{
    char digits[32];
    char tmp[64];
    size_t n, j = 0, seplen = strlen(sep);
    int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
    n = (size_t)len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            memcpy(tmp + j, sep, seplen);
            j += seplen;
        }
        tmp[j++] = digits[i];
    }
    tmp[j] = '\0';
    snprintf(out, out_bytes, "%s", tmp);
}

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
}

void kopro_i18n_int(char *out, size_t out_bytes, const char *lang, int64_t value)
{
    char g[64];
    group_digits(g, sizeof(g), magnitude(value), thousands_sep(lang));
    snprintf(out, out_bytes, "%s%s", value < 0 ? "-" : "", g);
}

void kopro_i18n_money(char *out, size_t out_bytes, const char *lang, int64_t amount_cents)
{
    uint64_t m = magnitude(amount_cents);
    char g[64];
    group_digits(g, sizeof(g), m / 100u, thousands_sep(lang));
    if (strcmp(lang, "en") == 0)
        snprintf(out, out_bytes, "%s€%s.%02u", amount_cents < 0 ? "-" : "", g, (unsigned)(m % 100u));
    else
        snprintf(out, out_bytes, "%s%s,%02u €", amount_cents < 0 ? "-" : "", g, (unsigned)(m % 100u));
}

void kopro_i18n_percent(char *out, size_t out_bytes, const char *lang, int64_t num, int64_t den)
{
    unsigned __int128 hundredths;
    uint64_t whole, frac;
    char g[64];
    if (den <= 0 || num < 0) {
        snprintf(out, out_bytes, "—");
        return;
    }
    /* round(num * 10000 / den) half up, in 128-bit integers */
    hundredths = ((unsigned __int128)(uint64_t)num * 10000u * 2u + (uint64_t)den) /
                 ((unsigned __int128)(uint64_t)den * 2u);
    whole = (uint64_t)(hundredths / 100u);
    frac = (uint64_t)(hundredths % 100u);
    group_digits(g, sizeof(g), whole, thousands_sep(lang));
    if (strcmp(lang, "en") == 0)
        snprintf(out, out_bytes, "%s.%02u%%", g, (unsigned)frac);
    else
        snprintf(out, out_bytes, "%s%s%02u %%", g, decimal_sep(lang), (unsigned)frac);
}

/* ------------------------------------------------------------ time zone */

/* RFC 8536: the version 2+ (64-bit) block of a TZif file. */
struct tzinfo {
    int loaded;                 /* 1 ok, 0 not yet, <0 error code */
    char err[256];
    size_t ntrans;
    int64_t *trans;             /* transition instants, UTC seconds */
    unsigned char *trans_idx;   /* local time type index per transition */
    size_t ntypes;
    int32_t utoff[32];
    unsigned char isdst[32];
};

static struct tzinfo brussels;
static pthread_once_t tz_once = PTHREAD_ONCE_INIT;

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)(((uint64_t)be32(p) << 32) | be32(p + 4));
}

static void tz_load(void)
{
    static const char path[] = "/usr/share/zoneinfo/Europe/Brussels";
    char *data = NULL;
    size_t len = 0;
    const unsigned char *p, *end;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
    int rc = kopro_fs_read_file(&data, &len, path, 1024 * 1024);

    if (rc != 0) {
        brussels.loaded = KOPRO_ENOTFOUND;
        snprintf(brussels.err, sizeof(brussels.err),
                 "%s is missing; install the Debian package tzdata", path);
        return;
    }
    p = (const unsigned char *)data;
    end = p + len;
#define TZ_BAD(what)                                                                               \
    do {                                                                                           \
        brussels.loaded = KOPRO_EINVAL;                                                            \
        snprintf(brussels.err, sizeof(brussels.err), "%s: %s; reinstall tzdata", path, what);      \
        goto done;                                                                                 \
    } while (0)
    if (len < 44 || memcmp(p, "TZif", 4) != 0 || p[4] < '2')
        TZ_BAD("not a TZif version 2+ file");
    /* skip the version 1 (32-bit) block */
    isutcnt = be32(p + 20), isstdcnt = be32(p + 24), leapcnt = be32(p + 28);
    timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
    p += 44 + (size_t)timecnt * 5 + (size_t)typecnt * 6 + charcnt + (size_t)leapcnt * 8 + isstdcnt +
         isutcnt;
    if (p + 44 > end || memcmp(p, "TZif", 4) != 0)
        TZ_BAD("missing the 64-bit block");
    isutcnt = be32(p + 20), isstdcnt = be32(p + 24), leapcnt = be32(p + 28);
    timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
    p += 44;
    if (typecnt == 0 || typecnt > 32 || timecnt > 100000 ||
        p + (size_t)timecnt * 9 + (size_t)typecnt * 6 > end)
        TZ_BAD("truncated or oversized table");
    brussels.trans = calloc(timecnt + 1u, sizeof(int64_t));
    brussels.trans_idx = calloc(timecnt + 1u, 1);
    if (brussels.trans == NULL || brussels.trans_idx == NULL)
        TZ_BAD("out of memory");
    for (uint32_t i = 0; i < timecnt; i++)
        brussels.trans[i] = be64(p + (size_t)i * 8);
    p += (size_t)timecnt * 8;
    for (uint32_t i = 0; i < timecnt; i++) {
        if (p[i] >= typecnt)
            TZ_BAD("transition type out of range");
        brussels.trans_idx[i] = p[i];
    }
    p += timecnt;
    for (uint32_t i = 0; i < typecnt; i++) {
        brussels.utoff[i] = (int32_t)be32(p + (size_t)i * 6);
        brussels.isdst[i] = p[(size_t)i * 6 + 4];
    }
    brussels.ntrans = timecnt;
    brussels.ntypes = typecnt;
    brussels.loaded = 1;
    (void)charcnt, (void)leapcnt, (void)isstdcnt, (void)isutcnt;
#undef TZ_BAD
done:
    free(data);
}

int kopro_i18n_brussels(struct tm *out, time_t t_utc)
{
    size_t lo, hi;
    int type;
    time_t local;
    pthread_once(&tz_once, tz_load);
    if (brussels.loaded != 1)
        return kopro_error_set(brussels.loaded, "%s", brussels.err);
    if (brussels.ntrans == 0 || (int64_t)t_utc >= brussels.trans[brussels.ntrans - 1] + 366 * 86400)
        return kopro_error_set(KOPRO_EINVAL,
                               "time %lld lies beyond the Europe/Brussels tz table; use a date "
                               "before %lld",
                               (long long)t_utc,
                               (long long)(brussels.ntrans ? brussels.trans[brussels.ntrans - 1] : 0));
    if ((int64_t)t_utc < brussels.trans[0]) {
        type = 0;
    } else {
        /* last transition <= t */
        lo = 0, hi = brussels.ntrans;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (brussels.trans[mid] <= (int64_t)t_utc)
                lo = mid;
            else
                hi = mid;
        }
        type = brussels.trans_idx[lo];
    }
    local = t_utc + brussels.utoff[type];
    if (gmtime_r(&local, out) == NULL)
        return kopro_error_set(KOPRO_EINVAL, "time %lld cannot be converted", (long long)t_utc);
    out->tm_isdst = brussels.isdst[type];
    out->tm_gmtoff = brussels.utoff[type];
    out->tm_zone = brussels.isdst[type] ? "CEST" : "CET";
    return 0;
}

static const char *const months[4][12] = {
    {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
     "octobre", "novembre", "décembre"},
    {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
     "oktober", "november", "december"},
    {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
     "November", "Dezember"},
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"},
};

static int lang_index(const char *lang)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(lang, langs[i]) == 0)
            return i;
    return 3;
}

int kopro_i18n_date(char *out, size_t out_bytes, const char *lang, time_t t_utc)
{
    struct tm tm;
    int li = lang_index(lang);
    int rc = kopro_i18n_brussels(&tm, t_utc);
    if (rc != 0)
        return rc;
    snprintf(out, out_bytes, "%d%s %s %d", tm.tm_mday, li == 2 ? "." : "", months[li][tm.tm_mon],
             tm.tm_year + 1900);
    return 0;
}

int kopro_i18n_datetime(char *out, size_t out_bytes, const char *lang, time_t t_utc)
{
    struct tm tm;
    char d[64];
    int rc = kopro_i18n_date(d, sizeof(d), lang, t_utc);
    if (rc != 0)
        return rc;
    kopro_i18n_brussels(&tm, t_utc);
    snprintf(out, out_bytes, "%s, %02d:%02d %s", d, tm.tm_hour, tm.tm_min, tm.tm_zone);
    return 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int kopro_i18n_parse_time(time_t *out, const char *text)
{
    const char *p = text;
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0, sign = 0;
    time_t t;

    *out = 0;
    memset(&tm, 0, sizeof(tm));
    if (text == NULL)
        return kopro_error_set(KOPRO_EINVAL, "missing timestamp; give an ISO 8601 date");
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        goto bad;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            goto bad;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &s))
                goto bad;
            if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p++ == '-' ? -1 : 1;
            if (digits(&p, 2, &oh))
                goto bad;
            if (*p == ':')
                p++;
            if (*p >= '0' && *p <= '9' && digits(&p, 2, &om))
                goto bad;
        } else {
            goto bad; /* a time without an offset is ambiguous */
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        goto bad;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    *out = t - sign * (oh * 3600 + om * 60);
    return 0;
bad:
    return kopro_error_set(KOPRO_EINVAL,
                           "timestamp '%.64s' is not ISO 8601; use e.g. 2026-03-12T14:05:00Z", text);
}
