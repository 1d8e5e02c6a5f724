/*
 * kopro-queue — add and inspect jobs in kopro.jobs. Thin: parses arguments,
 * calls libkopro (kopro/queue.h), maps errors to exit codes.
 */
#include "jobs.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/queue.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: kopro-queue enqueue KIND [--payload JSON] [--org UUID] [--run-at RFC3339]\n"
    "                   [--unique-key KEY] [--max-attempts N] [--priority N]\n"
    "                   [--created-by UUID] [--json]\n"
    "       kopro-queue list [--state STATE] [--kind KIND] [--limit N] [--json]\n"
    "       kopro-queue show ID [--json]\n"
    "       kopro-queue retry ID\n"
    "       kopro-queue cancel ID\n"
    "       kopro-queue stats [--json]\n"
    "       kopro-queue kinds\n"
    "       kopro-queue --help | --version\n"
    "\n"
    "  enqueue  check KIND exists and its payload is valid, then add the job through\n"
    "           kopro.enqueue(); prints the job id. With --unique-key, while a job with\n"
    "           that key is queued, running or awaiting retry, its id is returned and\n"
    "           nothing is added. --payload defaults to {}.\n"
    "  list     newest jobs first (default limit 50); STATE is queued, running,\n"
    "           succeeded, failed (retry scheduled), dead or cancelled\n"
    "  show     one job with its payload, result and the error of every attempt\n"
    "  retry    make a failed, dead or cancelled job runnable now\n"
    "  cancel   cancel a queued or failed job\n"
    "  stats    jobs by kind and state, age of the oldest runnable job\n"
    "  kinds    the job kinds this build knows, with defaults\n"
    "\n"
    "Configuration: KOPRO_DATABASE_URL (environment or the KOPRO_CONFIG file).\n"
    "Exit codes: 0 ok, 2 usage, 3 job or kind not found, 4 invalid payload or\n"
    "state (e.g. cancelling a finished job), 1 other (database unreachable, job\n"
    "running, ...).\n";

struct args {
    const char *payload;
    const char *org;
    const char *run_at;
    const char *unique_key;
    const char *created_by;
    const char *state;
    const char *kind;
    long max_attempts;
    long priority;
    long limit;
    int json;
    int npos;
    const char *pos[4];
};

static int int_arg(long *out, const char *opt, const char *s, long min, long max)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || end == NULL || *end != '\0' || v < min || v > max)
        return kopro_error_set(KOPRO_EUSAGE, "--%s '%s': expected a whole number %ld..%ld", opt,
                               s, min, max);
    *out = v;
    return 0;
}

static int parse(struct args *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"payload", required_argument, NULL, 'p'},
        {"org", required_argument, NULL, 'o'},
        {"run-at", required_argument, NULL, 'r'},
        {"unique-key", required_argument, NULL, 'u'},
        {"max-attempts", required_argument, NULL, 'm'},
        {"priority", required_argument, NULL, 'P'},
        {"created-by", required_argument, NULL, 'b'},
        {"state", required_argument, NULL, 's'},
        {"kind", required_argument, NULL, 'k'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int rc = 0;

    memset(a, 0, sizeof(*a));
    a->limit = 50;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': a->payload = optarg; break;
        case 'o': a->org = optarg; break;
        case 'r': a->run_at = optarg; break;
        case 'u': a->unique_key = optarg; break;
        case 'b': a->created_by = optarg; break;
        case 's': a->state = optarg; break;
        case 'k': a->kind = optarg; break;
        case 'j': a->json = 1; break;
        case 'm': rc = int_arg(&a->max_attempts, "max-attempts", optarg, 1, 1000); break;
        case 'P': rc = int_arg(&a->priority, "priority", optarg, -32768, 32767); break;
        case 'l': rc = int_arg(&a->limit, "limit", optarg, 1, 10000); break;
        default:
            rc = kopro_error_set(KOPRO_EUSAGE, "unknown or incomplete option '%s'; see "
                                 "kopro-queue --help", argv[optind - 1]);
        }
        if (rc != 0)
            return rc;
    }
    for (; optind < argc; optind++) {
        if (a->npos == 4)
            return kopro_error_set(KOPRO_EUSAGE, "too many arguments; see kopro-queue --help");
        a->pos[a->npos++] = argv[optind];
    }
    return 0;
}

static int want_pos(const struct args *a, int n, const char *cmd, const char *what)
{
    if (a->npos != n)
        return kopro_error_set(KOPRO_EUSAGE, "%s needs %s; see kopro-queue --help", cmd, what);
    return 0;
}

static void print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s != NULL)
        puts(s);
    free(s);
}

static const char *str_or(const json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : def;
}

static int cmd_enqueue(PGconn *db, const struct args *a, const struct kopro_config *cfg)
{
    const struct kopro_job_kind *kind;
    struct kopro_enqueue_opts opts;
    json_error_t jerr;
    json_t *payload = NULL;
    char *id = NULL;
    int rc;

    rc = want_pos(a, 1, "enqueue", "one KIND (e.g. pdf.minutes)");
    if (rc != 0)
        return rc;
    kind = kopro_jobs_find(a->pos[0]);
    if (kind == NULL)
        return kopro_error_set(KOPRO_ENOTFOUND, "unknown job kind '%s'; `kopro-queue kinds` "
                               "lists the known ones", a->pos[0]);
    if (strncmp(kind->name, "test.", 5) == 0 &&
        strcmp(kopro_config_get(cfg, "KOPRO_ENABLE_TEST_JOBS", "0"), "1") != 0)
        return kopro_error_set(KOPRO_EINVAL, "job kind '%s' is test-only; set "
                               "KOPRO_ENABLE_TEST_JOBS=1 in a test environment", kind->name);
    payload = json_loads(a->payload != NULL ? a->payload : "{}", 0, &jerr);
    if (payload == NULL) {
        rc = kopro_error_set(KOPRO_EINVAL, "--payload is not valid JSON (%s at column %d)",
                             jerr.text, jerr.column);
        goto done;
    }
    if (!json_is_object(payload)) {
        rc = kopro_error_set(KOPRO_EINVAL, "--payload must be a JSON object, e.g. "
                             "'{\"meeting_id\":\"...\"}'");
        goto done;
    }
    if (kind->validate != NULL) {
        rc = kind->validate(payload);
        if (rc != 0) {
            rc = kopro_error_wrap(rc, "--payload for %s", kind->name);
            goto done;
        }
    }
    memset(&opts, 0, sizeof(opts));
    opts.organization_id = a->org;
    opts.run_at = a->run_at;
    opts.max_attempts = a->max_attempts > 0 ? (int)a->max_attempts : kind->max_attempts;
    opts.priority = (int)a->priority;
    opts.unique_key = a->unique_key;
    opts.created_by = a->created_by;
    rc = kopro_queue_enqueue(&id, db, kind->name, payload, &opts);
    if (rc != 0)
        goto done;
    if (a->json)
        printf("{\"id\": \"%s\"}\n", id);
    else
        printf("%s\n", id);
done:
    free(id);
    json_decref(payload);
    return rc;
}

static int cmd_list(PGconn *db, const struct args *a)
{
    json_t *list = NULL;
    size_t i;
    json_t *j;
    int rc = want_pos(a, 0, "list", "no positional argument");

    if (rc != 0)
        return rc;
    rc = kopro_queue_list(&list, db, a->state, a->kind, (int)a->limit);
    if (rc != 0)
        return rc;
    if (a->json) {
        print_json(list);
    } else {
        printf("%-36s  %-16s  %-9s  %7s  %-20s  %s\n", "ID", "KIND", "STATE", "ATTEMPT",
               "RUN_AT (UTC)", "LAST_ERROR");
        json_array_foreach(list, i, j) {
            char att[32];
            char run_at[20];
            snprintf(att, sizeof(att), "%lld/%lld",
                     (long long)json_integer_value(json_object_get(j, "attempts")),
                     (long long)json_integer_value(json_object_get(j, "max_attempts")));
            snprintf(run_at, sizeof(run_at), "%.19s", str_or(j, "run_at", ""));
            printf("%-36s  %-16s  %-9s  %7s  %-20s  %.60s\n", str_or(j, "id", ""),
                   str_or(j, "kind", ""), str_or(j, "state", ""), att, run_at,
                   str_or(j, "last_error", ""));
        }
    }
    json_decref(list);
    return 0;
}

static int cmd_show(PGconn *db, const struct args *a)
{
    json_t *job = NULL;
    int rc = want_pos(a, 1, "show", "one job ID");

    if (rc != 0)
        return rc;
    rc = kopro_queue_show(&job, db, a->pos[0]);
    if (rc != 0)
        return rc;
    print_json(job); /* the whole row; the text form is the same JSON */
    json_decref(job);
    return 0;
}

static int cmd_stats(PGconn *db, const struct args *a)
{
    json_t *st = NULL;
    const char *kind;
    json_t *states;
    int rc = want_pos(a, 0, "stats", "no positional argument");

    if (rc != 0)
        return rc;
    rc = kopro_queue_stats(&st, db);
    if (rc != 0)
        return rc;
    if (a->json) {
        print_json(st);
    } else {
        static const char *const cols[] = {"queued", "running", "failed", "succeeded", "dead",
                                           "cancelled"};
        printf("%-20s", "KIND");
        for (size_t c = 0; c < 6; c++)
            printf(" %10s", cols[c]);
        printf("\n");
        json_object_foreach(json_object_get(st, "by_kind"), kind, states) {
            printf("%-20s", kind);
            for (size_t c = 0; c < 6; c++)
                printf(" %10lld", (long long)json_integer_value(json_object_get(states, cols[c])));
            printf("\n");
        }
        printf("oldest runnable job waiting: %.1f s; expired leases: %lld\n",
               json_number_value(json_object_get(st, "oldest_runnable_age_s")),
               (long long)json_integer_value(json_object_get(st, "expired_leases")));
    }
    json_decref(st);
    return 0;
}

static int cmd_kinds(void)
{
    printf("%-20s %12s %9s  %s\n", "KIND", "MAX_ATTEMPTS", "TIMEOUT_S", "SUMMARY");
    for (size_t i = 0; kopro_job_kinds[i] != NULL; i++) {
        const struct kopro_job_kind *k = kopro_job_kinds[i];
        printf("%-20s %12d %9d  %s\n", k->name, k->max_attempts, k->timeout_s, k->summary);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct kopro_config *cfg = NULL;
    PGconn *db = NULL;
    struct args a;
    const char *cmd;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("kopro-queue %s\n", KOPRO_VERSION);
        return 0;
    }
    cmd = argv[1];
    rc = parse(&a, argc - 1, argv + 1);
    if (rc != 0)
        goto done;
    if (strcmp(cmd, "kinds") == 0) {
        rc = cmd_kinds();
        goto done;
    }
    if (strcmp(cmd, "enqueue") != 0 && strcmp(cmd, "list") != 0 && strcmp(cmd, "show") != 0 &&
        strcmp(cmd, "retry") != 0 && strcmp(cmd, "cancel") != 0 && strcmp(cmd, "stats") != 0) {
        rc = kopro_error_set(KOPRO_EUSAGE, "unknown command '%s'; see kopro-queue --help", cmd);
        goto done;
    }
    rc = kopro_config_load(&cfg, NULL);
    if (rc != 0)
        goto done;
    rc = kopro_db_connect(&db, kopro_config_get(cfg, "KOPRO_DATABASE_URL", ""), "kopro-queue");
    if (rc != 0)
        goto done;
    if (strcmp(cmd, "enqueue") == 0)
        rc = cmd_enqueue(db, &a, cfg);
    else if (strcmp(cmd, "list") == 0)
        rc = cmd_list(db, &a);
    else if (strcmp(cmd, "show") == 0)
        rc = cmd_show(db, &a);
    else if (strcmp(cmd, "stats") == 0)
        rc = cmd_stats(db, &a);
    else if (strcmp(cmd, "retry") == 0) {
        rc = want_pos(&a, 1, "retry", "one job ID");
        if (rc == 0)
            rc = kopro_queue_retry(db, a.pos[0]);
        if (rc == 0)
            printf("%s queued\n", a.pos[0]);
    } else {
        rc = want_pos(&a, 1, "cancel", "one job ID");
        if (rc == 0)
            rc = kopro_queue_cancel(db, a.pos[0]);
        if (rc == 0)
            printf("%s cancelled\n", a.pos[0]);
    }
done:
    if (rc != 0)
        fprintf(stderr, "kopro-queue: %s\n", kopro_error_last());
    if (db != NULL)
        PQfinish(db);
    kopro_config_free(cfg);
    return kopro_error_exit_code(rc);
}
