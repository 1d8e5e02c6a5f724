/*
 * kopro-backup — encrypted, compressed, verified PostgreSQL backups.
 * Thin: parse arguments, call libkopro (kopro/backup.h), map errors to exit
 * codes. One table entry per subcommand (after tmux's cmd-*.c).
 */
#include "kopro/backup.h"
#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/retention.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECIPIENTS 16

struct args {
    const char *repo, *db, *gnupghome, *config, *to, *tz, *metrics, *tombstones;
    const char *recipients[MAX_RECIPIENTS];
    size_t n_recipients;
    const char *positional;
    int json, prune, dry_run, clean, latest, all, restore_check;
    int keep_last, keep_daily, keep_weekly, keep_monthly, keep_yearly;
    int zstd_level;
    long older_than_s;
};

struct command {
    const char *name;
    const char *usage;
    const char *options; /* accepted long options, space separated */
    int (*exec)(struct args *a, struct kopro_backup_opts *o);
};

static const char USAGE[] =
    "usage: kopro-backup COMMAND [OPTIONS]\n"
    "\n"
    "  run [--repo URL] [--db URL] [--recipient FPR]... [--gnupghome DIR] [--prune]\n"
    "      [--zstd-level N] [--metrics FILE] [--json]\n"
    "                                       take a backup (pg_dump | zstd | gpg -> repository)\n"
    "  list [--repo URL] [--json]           backups, oldest first (only those with a manifest)\n"
    "  verify [ID|--latest|--all] [--restore-check] [--db URL] [--json]\n"
    "                                       re-read, check SHA-256s, decrypt, pg_restore --list\n"
    "  restore ID --to DBURL [--clean] [--db LIVE_URL | --tombstones FILE] [--json]\n"
    "                                       restore into an empty (or --clean) database, then\n"
    "                                       re-apply the GDPR erasures newer than the backup:\n"
    "                                       tombstones read from the live database (--db,\n"
    "                                       KOPRO_DATABASE_URL) before restoring, or from FILE\n"
    "                                       ('kopro-gdpr tombstones dump'); needs KOPRO_GDPR_KEY\n"
    "  prune [--keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-last N --keep-yearly N]\n"
    "        [--tz ZONE] [--dry-run] [--json]   apply retention (restic semantics)\n"
    "  plan-retention [--keep-... N] [--tz ZONE]  RFC 3339 times on stdin -> keep/forget\n"
    "  gc [--older-than SECONDS] [--json]   remove abandoned uploads and orphan objects\n"
    "\n"
    "Every command takes --repo URL (file:///path or s3://bucket/prefix; default\n"
    "KOPRO_BACKUP_REPO) and --config FILE (default $KOPRO_CONFIG or /etc/kopro/kopro.conf).\n"
    "Environment: KOPRO_BACKUP_REPO, KOPRO_DATABASE_URL, KOPRO_BACKUP_RECIPIENTS,\n"
    "KOPRO_GNUPGHOME, KOPRO_S3_ENDPOINT, KOPRO_S3_REGION, KOPRO_S3_ACCESS_KEY,\n"
    "KOPRO_S3_SECRET_KEY, KOPRO_PG_BINDIR, KOPRO_BACKUP_METRICS.\n"
    "\n"
    "Exit codes: 0 ok, 2 usage, 3 not found, 4 invalid data or verification failed,\n"
    "1 other error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "kopro-backup: %s\nTry 'kopro-backup --help'.\n", msg);
    return KOPRO_EUSAGE;
}

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory printing JSON");
    puts(s);
    free(s);
    return 0;
}

static void fmt_size(char *buf, size_t cap, json_int_t n)
{
    if (n >= 10LL * 1024 * 1024)
        snprintf(buf, cap, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else if (n >= 10 * 1024)
        snprintf(buf, cap, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, cap, "%lld B", (long long)n);
}

static int cmd_run(struct args *a, struct kopro_backup_opts *o)
{
    json_t *m = NULL;
    int rc = kopro_backup_run(&m, o);
    char sz[32], psz[32];
    if (rc != 0)
        return rc;
    if (a->json) {
        print_json(m);
    } else {
        json_t *c = json_object_get(m, "ciphertext"), *p = json_object_get(m, "plaintext");
        fmt_size(sz, sizeof(sz), json_integer_value(json_object_get(c, "size_bytes")));
        fmt_size(psz, sizeof(psz), json_integer_value(json_object_get(p, "size_bytes")));
        printf("backup %s: database %s, %s encrypted (%s dump), %zu tables, sha256 %s\n",
               json_string_value(json_object_get(m, "id")),
               json_string_value(json_object_get(m, "database")), sz, psz,
               json_object_size(json_object_get(m, "tables")),
               json_string_value(json_object_get(c, "sha256")));
    }
    json_decref(m);
    if (a->prune) {
        struct kopro_retention_policy pol;
        json_t *plan = NULL;
        kopro_retention_default(&pol);
        pol.keep_last = a->keep_last >= 0 ? a->keep_last : 0;
        if (a->keep_daily >= 0)
            pol.keep_daily = a->keep_daily;
        if (a->keep_weekly >= 0)
            pol.keep_weekly = a->keep_weekly;
        if (a->keep_monthly >= 0)
            pol.keep_monthly = a->keep_monthly;
        pol.keep_yearly = a->keep_yearly >= 0 ? a->keep_yearly : 0;
        if (a->tz != NULL)
            pol.tz = a->tz;
        rc = kopro_backup_prune(&plan, o, &pol, 0);
        if (rc == 0 && !a->json) {
            size_t forgotten = 0;
            for (size_t i = 0; i < json_array_size(plan); i++)
                if (strcmp(json_string_value(json_object_get(json_array_get(plan, i), "action")),
                           "forget") == 0)
                    forgotten++;
            printf("prune: %zu kept, %zu forgotten\n", json_array_size(plan) - forgotten,
                   forgotten);
        }
        json_decref(plan);
    }
    return rc;
}

static int cmd_list(struct args *a, struct kopro_backup_opts *o)
{
    json_t *arr = NULL;
    int rc = kopro_backup_list(&arr, o);
    if (rc != 0)
        return rc;
    if (a->json) {
        print_json(arr);
    } else {
        printf("%-22s %-20s %-20s %12s %7s\n", "ID", "STARTED (UTC)", "DATABASE", "SIZE",
               "TABLES");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *m = json_array_get(arr, i);
            char sz[32];
            fmt_size(sz, sizeof(sz),
                     json_integer_value(json_object_get(json_object_get(m, "ciphertext"),
                                                        "size_bytes")));
            printf("%-22s %-20s %-20s %12s %7zu\n", json_string_value(json_object_get(m, "id")),
                   json_string_value(json_object_get(m, "started")),
                   json_string_value(json_object_get(m, "database")), sz,
                   json_object_size(json_object_get(m, "tables")));
        }
    }
    json_decref(arr);
    return 0;
}

static int cmd_verify(struct args *a, struct kopro_backup_opts *o)
{
    json_t *rep = NULL;
    enum kopro_backup_select which = KOPRO_BACKUP_ONE;
    int rc;
    char msg[1024];

    if ((a->positional != NULL) + a->latest + a->all != 1)
        return usage_error("verify needs exactly one of ID, --latest or --all");
    if (a->latest)
        which = KOPRO_BACKUP_LATEST;
    if (a->all)
        which = KOPRO_BACKUP_ALL;
    rc = kopro_backup_verify(&rep, o, which, a->positional, a->restore_check);
    snprintf(msg, sizeof(msg), "%s", kopro_error_last());
    if (rep != NULL) {
        if (a->json) {
            print_json(rep);
        } else {
            for (size_t i = 0; i < json_array_size(rep); i++) {
                json_t *it = json_array_get(rep, i);
                const char *err = json_string_value(json_object_get(it, "error"));
                printf("%s %s%s%s\n", json_is_true(json_object_get(it, "ok")) ? "ok  " : "FAIL",
                       json_string_value(json_object_get(it, "id")), err ? ": " : "",
                       err ? err : "");
            }
        }
    }
    json_decref(rep);
    if (rc != 0)
        kopro_error_set(rc, "%s", msg);
    return rc;
}

static int cmd_restore(struct args *a, struct kopro_backup_opts *o)
{
    int rc;
    if (a->positional == NULL || a->to == NULL)
        return usage_error("restore needs a backup ID and --to DBURL");
    char *tombs = NULL;
    json_t *rep = NULL;
    if (a->tombstones != NULL) {
        rc = kopro_fs_read_file(&tombs, NULL, a->tombstones, 64u * 1024 * 1024);
        if (rc != 0)
            return kopro_error_wrap(rc, "--tombstones needs the JSON file written by 'kopro-gdpr tombstones "
                                        "dump' (at most 64 MiB)");
    }
    rc = kopro_backup_restore(&rep, o, a->positional, a->to, a->clean, tombs);
    free(tombs);
    if (rc == 0 && a->json)
        rc = print_json(rep);
    else if (rc == 0)
        printf("restored backup %s into %s\n"
               "GDPR tombstones: %lld read from %s, %lld newer than the backup applied, "
               "%lld person(s) erased again\n",
               a->positional, json_string_value(json_object_get(rep, "database")),
               (long long)json_integer_value(json_object_get(rep, "tombstones_read")),
               json_string_value(json_object_get(rep, "tombstones_source")),
               (long long)json_integer_value(json_object_get(rep, "tombstones_applied")),
               (long long)json_integer_value(json_object_get(rep, "persons_erased")));
    json_decref(rep);
    return rc;
}

static void policy_from_args(struct kopro_retention_policy *pol, const struct args *a)
{
    kopro_retention_default(pol);
    if (a->keep_last >= 0)
        pol->keep_last = a->keep_last;
    if (a->keep_daily >= 0)
        pol->keep_daily = a->keep_daily;
    if (a->keep_weekly >= 0)
        pol->keep_weekly = a->keep_weekly;
    if (a->keep_monthly >= 0)
        pol->keep_monthly = a->keep_monthly;
    if (a->keep_yearly >= 0)
        pol->keep_yearly = a->keep_yearly;
    if (a->tz != NULL)
        pol->tz = a->tz;
}

static int cmd_prune(struct args *a, struct kopro_backup_opts *o)
{
    struct kopro_retention_policy pol;
    json_t *plan = NULL;
    int rc;
    policy_from_args(&pol, a);
    rc = kopro_backup_prune(&plan, o, &pol, a->dry_run);
    if (rc != 0)
        return rc;
    if (a->json) {
        print_json(plan);
    } else {
        for (size_t i = 0; i < json_array_size(plan); i++) {
            json_t *it = json_array_get(plan, i), *rs = json_object_get(it, "reasons");
            printf("%-6s %s %s", json_string_value(json_object_get(it, "action")),
                   json_string_value(json_object_get(it, "id")),
                   json_string_value(json_object_get(it, "started")));
            for (size_t k = 0; k < json_array_size(rs); k++)
                printf("%s%s", k ? ", " : " ", json_string_value(json_array_get(rs, k)));
            putchar('\n');
        }
    }
    json_decref(plan);
    return 0;
}

#define PLAN_MAX_LINES 10000000

static int cmd_plan(struct args *a, struct kopro_backup_opts *o)
{
    struct kopro_retention_policy pol;
    struct kopro_retention_decision *dec = NULL;
    time_t *times = NULL;
    char **texts = NULL;
    size_t n = 0, alloc = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    (void)o;
    policy_from_args(&pol, a);
    for (len = getline(&line, &cap, stdin); len >= 0; len = getline(&line, &cap, stdin)) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (n == PLAN_MAX_LINES) {
            rc = kopro_error_set(KOPRO_ETOOBIG, "more than %d timestamps on stdin", PLAN_MAX_LINES);
            goto done;
        }
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 256;
            time_t *nt = realloc(times, na * sizeof(*times));
            char **nx;
            if (nt == NULL) {
                rc = kopro_error_set(KOPRO_ERROR, "out of memory");
                goto done;
            }
            times = nt;
            nx = realloc(texts, na * sizeof(*texts));
            if (nx == NULL) {
                rc = kopro_error_set(KOPRO_ERROR, "out of memory");
                goto done;
            }
            texts = nx;
            alloc = na;
        }
        rc = kopro_retention_parse_rfc3339(&times[n], line);
        if (rc != 0) {
            kopro_error_wrap(rc, "stdin line %zu", lineno);
            goto done;
        }
        texts[n] = strdup(line);
        if (texts[n] == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
        n++;
    }
    dec = calloc(n ? n : 1, sizeof(*dec));
    if (dec == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    rc = kopro_retention_plan(dec, times, n, &pol);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char reasons[256];
        if (dec[i].keep)
            printf("keep %s %s\n", texts[i], kopro_retention_reasons(reasons, sizeof(reasons),
                                                                     &dec[i]));
        else
            printf("forget %s\n", texts[i]);
    }
done:
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(times);
    free(dec);
    free(line);
    return rc;
}

static int cmd_gc(struct args *a, struct kopro_backup_opts *o)
{
    json_t *rep = NULL;
    int rc = kopro_backup_gc(&rep, o);
    if (rc != 0)
        return rc;
    if (a->json) {
        print_json(rep);
    } else {
        json_t *rm = json_object_get(rep, "removed");
        printf("gc: %lld abandoned uploads aborted, %lld orphan objects removed\n",
               (long long)json_integer_value(json_object_get(rep, "aborted_uploads")),
               (long long)json_integer_value(json_object_get(rep, "orphans_removed")));
        for (size_t i = 0; i < json_array_size(rm); i++)
            printf("removed %s\n", json_string_value(json_array_get(rm, i)));
    }
    json_decref(rep);
    return 0;
}

#define COMMON "repo config gnupghome help "
static const struct command commands[] = {
    {"run", "run", COMMON "db recipient prune json zstd-level metrics tz keep-last keep-daily keep-weekly "
                   "keep-monthly keep-yearly older-than",
     cmd_run},
    {"list", "list", COMMON "json", cmd_list},
    {"verify", "verify", COMMON "db latest all restore-check json", cmd_verify},
    {"restore", "restore", COMMON "to clean db tombstones json", cmd_restore},
    {"prune", "prune", COMMON "dry-run json tz keep-last keep-daily keep-weekly keep-monthly "
                       "keep-yearly",
     cmd_prune},
    {"plan-retention", "plan-retention",
     COMMON "tz keep-last keep-daily keep-weekly keep-monthly keep-yearly", cmd_plan},
    {"gc", "gc", COMMON "older-than json", cmd_gc},
};

static int accepts(const struct command *c, const char *opt)
{
    size_t n = strlen(opt);
    const char *p = c->options;
    for (p = strstr(p, opt); p != NULL; p = strstr(p + n, opt))
        if ((p == c->options || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static int parse_count(int *out, const char *opt, const char *v)
{
    char *end = NULL;
    long n;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 1000000)
        return usage_error("%s needs a whole number from 0 to 1000000", opt);
    *out = (int)n;
    return 0;
}

static int parse_args(struct args *a, const struct command *c, int argc, char **argv)
{
    int rc;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        char name[64];
        const char *eq;
        if (strncmp(arg, "--", 2) != 0) {
            if (a->positional != NULL)
                return usage_error("unexpected argument '%s'", arg);
            a->positional = arg;
            continue;
        }
        eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)),
                 arg + 2);
        if (!accepts(c, name))
            return usage_error("unknown option '%s' for this command", arg);
#define FLAG(n, field)                                                                         \
    if (strcmp(name, n) == 0) {                                                                \
        if (eq != NULL)                                                                        \
            return usage_error("option --%s takes no value", n);                               \
        a->field = 1;                                                                          \
        continue;                                                                              \
    }
        FLAG("json", json)
        FLAG("prune", prune)
        FLAG("dry-run", dry_run)
        FLAG("clean", clean)
        FLAG("latest", latest)
        FLAG("all", all)
        FLAG("restore-check", restore_check)
#undef FLAG
        if (eq != NULL) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", arg);
            val = argv[++i];
        }
        if (strcmp(name, "repo") == 0)
            a->repo = val;
        else if (strcmp(name, "db") == 0)
            a->db = val;
        else if (strcmp(name, "gnupghome") == 0)
            a->gnupghome = val;
        else if (strcmp(name, "config") == 0)
            a->config = val;
        else if (strcmp(name, "to") == 0)
            a->to = val;
        else if (strcmp(name, "tz") == 0)
            a->tz = val;
        else if (strcmp(name, "metrics") == 0)
            a->metrics = val;
        else if (strcmp(name, "tombstones") == 0)
            a->tombstones = val;
        else if (strcmp(name, "recipient") == 0) {
            if (a->n_recipients == MAX_RECIPIENTS)
                return usage_error("at most %d recipients", MAX_RECIPIENTS);
            a->recipients[a->n_recipients++] = val;
        } else if (strcmp(name, "keep-last") == 0) {
            rc = parse_count(&a->keep_last, arg, val);
            if (rc != 0)
                return rc;
        } else if (strcmp(name, "keep-daily") == 0) {
            rc = parse_count(&a->keep_daily, arg, val);
            if (rc != 0)
                return rc;
        } else if (strcmp(name, "keep-weekly") == 0) {
            rc = parse_count(&a->keep_weekly, arg, val);
            if (rc != 0)
                return rc;
        } else if (strcmp(name, "keep-monthly") == 0) {
            rc = parse_count(&a->keep_monthly, arg, val);
            if (rc != 0)
                return rc;
        } else if (strcmp(name, "keep-yearly") == 0) {
            rc = parse_count(&a->keep_yearly, arg, val);
            if (rc != 0)
                return rc;
        } else if (strcmp(name, "zstd-level") == 0) {
            rc = parse_count(&a->zstd_level, arg, val);
            if (rc != 0)
                return rc;
        } else if (strcmp(name, "older-than") == 0) {
            int s;
            rc = parse_count(&s, arg, val);
            if (rc != 0)
                return rc;
            a->older_than_s = s == 0 ? -1 : s;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    struct kopro_backup_opts o;
    struct kopro_config *cfg = NULL;
    const struct command *c = NULL;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, argv[1]) == 0)
            c = &commands[i];
    if (c == NULL) {
        usage_error("unknown command '%s'", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        }
    memset(&a, 0, sizeof(a));
    a.keep_last = a.keep_daily = a.keep_weekly = a.keep_monthly = a.keep_yearly = -1;
    rc = parse_args(&a, c, argc, argv);
    if (rc != 0)
        return 2;
    if (a.positional != NULL && strcmp(c->name, "verify") != 0 && strcmp(c->name, "restore") != 0) {
        usage_error("unexpected argument '%s'", a.positional);
        return 2;
    }
    rc = kopro_config_load(&cfg, a.config);
    if (rc == 0) {
        memset(&o, 0, sizeof(o));
        o.repo_url = a.repo;
        o.db_url = a.db;
        o.recipients = a.n_recipients ? a.recipients : NULL;
        o.n_recipients = a.n_recipients;
        o.gnupghome = a.gnupghome;
        o.cfg = cfg;
        o.zstd_level = a.zstd_level;
        o.gc_older_than_s = a.older_than_s;
        o.metrics_path = a.metrics;
        rc = c->exec(&a, &o);
    }
    if (rc != 0 && rc != KOPRO_EUSAGE)
        fprintf(stderr, "kopro-backup %s: %s\n", c->name, kopro_error_last());
    kopro_config_free(cfg);
    return kopro_error_exit_code(rc);
}
