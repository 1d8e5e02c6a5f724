/*
 * kopro-worker — applies kopro's schema migrations and runs queued jobs.
 * Thin: parses arguments, calls libkopro, maps errors to exit codes.
 */
#include "jobs.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/migrate.h"
#include "kopro/queue.h"
#include "kopro/worker.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: kopro-worker migrate\n"
    "       kopro-worker [run] [--once] [--concurrency N] [--queues KIND,...] [options]\n"
    "       kopro-worker --help | --version\n"
    "\n"
    "  migrate   create or upgrade kopro's schema (kopro.*) in KOPRO_DATABASE_URL;\n"
    "            idempotent, safe to run concurrently, never alters KoproGo's tables\n"
    "  run       claim jobs from kopro.jobs and run them, each in a child process\n"
    "            (the default command); waits with LISTEN kopro_jobs + polling\n"
    "\n"
    "run options:\n"
    "  --once                 run the jobs runnable now, then exit 0\n"
    "  --concurrency N        jobs at a time (child processes), default 2\n"
    "  --queues K1,K2         only these kinds (default: all)\n"
    "  --lease SECONDS        job lease, renewed every third of it; default 30\n"
    "  --poll-ms MS           poll fallback when no notification arrives; default 5000\n"
    "  --grace SECONDS        on SIGTERM, time running jobs get to finish; default 25\n"
    "  --jobs-per-child N     replace a child process after N jobs; default 1000\n"
    "                         (1 = a fresh process for every job)\n"
    "  --memory-limit-mb MB   address-space limit of a child (RLIMIT_AS); default 2048,\n"
    "                         0 = none\n"
    "  --max-open-files N     RLIMIT_NOFILE of a child; default 256\n"
    "  --prune-after SECONDS  delete succeeded/dead/cancelled jobs older than this;\n"
    "                         default 604800 (7 days), 0 = never\n"
    "  --metrics-file PATH    write Prometheus metrics there every 10 s\n"
    "  --worker-id NAME       lease owner name (default host:pid)\n"
    "  --no-batch             claim one job per free slot and record each success at\n"
    "                         once (one commit per job; default: batches of up to 512\n"
    "                         while jobs are short)\n"
    "\n"
    "Each job runs in a child with the kind's timeout and the limits above; a crash\n"
    "fails only that attempt. SIGTERM: stop claiming, let running jobs finish within\n"
    "--grace, release the rest (re-queued at once), exit 0. Under systemd\n"
    "(Type=notify): READY=1 once the database answers and the schema matches,\n"
    "WATCHDOG=1 while the loop runs, STOPPING=1 on the way out.\n"
    "\n"
    "Configuration: KOPRO_DATABASE_URL (environment or the KOPRO_CONFIG file,\n"
    "default /etc/kopro/kopro.conf). KOPRO_ENABLE_TEST_JOBS=1 allows the test.*\n"
    "kinds (tests only; otherwise such jobs die with an error).\n"
    "Exit codes: 0 ok, 2 usage, 3 not found (schema missing: run migrate),\n"
    "4 invalid data or verification failed (e.g. an applied migration was edited),\n"
    "1 other (database unreachable, ...).\n";

static int test_jobs_enabled(const struct kopro_config *cfg)
{
    return strcmp(kopro_config_get(cfg, "KOPRO_ENABLE_TEST_JOBS", "0"), "1") == 0;
}

/* Record the compiled kinds' defaults in kopro.job_kinds (used by kopro.enqueue). */
static int register_kinds(PGconn *db, int with_tests)
{
    for (size_t i = 0; kopro_job_kinds[i] != NULL; i++) {
        const struct kopro_job_kind *k = kopro_job_kinds[i];
        int rc;
        if (strncmp(k->name, "test.", 5) == 0 && !with_tests)
            continue;
        rc = kopro_queue_register_kind(db, k->name, k->summary, k->max_attempts, k->timeout_s);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    struct kopro_config *cfg = NULL;
    PGconn *db = NULL;
    int applied = 0;
    int version = 0;
    int rc;

    if (argc > 1) {
        rc = kopro_error_set(KOPRO_EUSAGE, "migrate takes no arguments (got '%s')", argv[1]);
        goto done;
    }
    rc = kopro_config_load(&cfg, NULL);
    if (rc != 0)
        goto done;
    rc = kopro_db_connect(&db, kopro_config_get(cfg, "KOPRO_DATABASE_URL", ""), "kopro-worker");
    if (rc != 0)
        goto done;
    rc = kopro_migrate_apply(&applied, db);
    if (rc != 0)
        goto done;
    rc = kopro_migrate_check(&version, db);
    if (rc != 0)
        goto done;
    rc = register_kinds(db, test_jobs_enabled(cfg));
    if (rc != 0)
        goto done;
    printf("kopro schema at version %d (%d migration%s applied now)\n", version, applied,
           applied == 1 ? "" : "s");
done:
    if (db != NULL)
        PQfinish(db);
    kopro_config_free(cfg);
    return rc;
}

/* A non-negative integer option value in [min, max]. */
static int int_arg(long *out, const char *opt, const char *s, long min, long max)
{
    char *end = NULL;
    long v;

    v = strtol(s, &end, 10);
    if (s[0] == '\0' || end == NULL || *end != '\0' || v < min || v > max)
        return kopro_error_set(KOPRO_EUSAGE, "--%s '%s': expected a whole number %ld..%ld", opt,
                               s, min, max);
    *out = v;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"once", no_argument, NULL, 'o'},
        {"concurrency", required_argument, NULL, 'c'},
        {"queues", required_argument, NULL, 'q'},
        {"lease", required_argument, NULL, 'l'},
        {"poll-ms", required_argument, NULL, 'p'},
        {"grace", required_argument, NULL, 'g'},
        {"jobs-per-child", required_argument, NULL, 'j'},
        {"memory-limit-mb", required_argument, NULL, 'm'},
        {"max-open-files", required_argument, NULL, 'f'},
        {"prune-after", required_argument, NULL, 'P'},
        {"metrics-file", required_argument, NULL, 'M'},
        {"worker-id", required_argument, NULL, 'w'},
        {"no-batch", no_argument, NULL, 'B'},
        {NULL, 0, NULL, 0},
    };
    struct kopro_worker_opts o;
    struct kopro_config *cfg = NULL;
    char **kinds = NULL;
    long v = 0;
    int rc = 0;
    int c;

    kopro_worker_opts_init(&o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.once = 1;
            break;
        case 'B':
            o.no_batch = 1;
            break;
        case 'c':
            rc = int_arg(&v, "concurrency", optarg, 1, 256);
            o.concurrency = (int)v;
            break;
        case 'q':
            kopro_worker_kinds_free(kinds);
            kinds = NULL;
            rc = kopro_worker_kinds_parse(&kinds, optarg);
            if (rc != 0)
                rc = KOPRO_EUSAGE;
            break;
        case 'l':
            rc = int_arg(&v, "lease", optarg, 1, 86400);
            o.lease_s = (int)v;
            break;
        case 'p':
            rc = int_arg(&v, "poll-ms", optarg, 10, 3600000);
            o.poll_ms = (int)v;
            break;
        case 'g':
            rc = int_arg(&v, "grace", optarg, 0, 86400);
            o.grace_s = (int)v;
            break;
        case 'j':
            rc = int_arg(&v, "jobs-per-child", optarg, 1, INT_MAX);
            o.jobs_per_child = (int)v;
            break;
        case 'm':
            rc = int_arg(&v, "memory-limit-mb", optarg, 0, 1024L * 1024);
            o.memory_limit_bytes = v * 1024L * 1024L;
            break;
        case 'f':
            rc = int_arg(&v, "max-open-files", optarg, 16, 1 << 20);
            o.max_open_files = v;
            break;
        case 'P':
            rc = int_arg(&v, "prune-after", optarg, 0, LONG_MAX);
            o.prune_after_s = v;
            break;
        case 'M':
            o.metrics_path = optarg;
            break;
        case 'w':
            o.worker_id = optarg;
            break;
        default:
            rc = kopro_error_set(KOPRO_EUSAGE, "unknown or incomplete option '%s'; see "
                                 "kopro-worker --help", argv[optind - 1]);
            break;
        }
        if (rc != 0)
            goto done;
    }
    if (optind < argc) {
        rc = kopro_error_set(KOPRO_EUSAGE, "unexpected argument '%s'; see kopro-worker --help",
                             argv[optind]);
        goto done;
    }
    rc = kopro_config_load(&cfg, NULL);
    if (rc != 0)
        goto done;
    o.conninfo = kopro_config_get(cfg, "KOPRO_DATABASE_URL", "");
    o.cfg = cfg;
    o.kinds = (const char *const *)kinds;
    o.enable_test_jobs = test_jobs_enabled(cfg);
    o.find_kind = kopro_jobs_find;
    {
        PGconn *db = NULL;
        rc = kopro_db_connect(&db, o.conninfo, "kopro-worker");
        if (rc == 0)
            rc = register_kinds(db, o.enable_test_jobs);
        if (db != NULL)
            PQfinish(db);
        /* A missing kopro schema is reported by kopro_worker_run's schema check. */
        if (rc != 0 && rc != KOPRO_EUNAVAIL)
            rc = 0;
        if (rc != 0)
            goto done;
    }
    rc = kopro_worker_run(&o);
done:
    kopro_worker_kinds_free(kinds);
    kopro_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("kopro-worker %s\n", KOPRO_VERSION);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
        rc = cmd_migrate(argc - 1, argv + 1);
    else if (argc >= 2 && strcmp(argv[1], "run") == 0)
        rc = cmd_run(argc - 1, argv + 1);
    else if (argc < 2 || argv[1][0] == '-')
        rc = cmd_run(argc, argv);
    else
        rc = kopro_error_set(KOPRO_EUSAGE, "unknown command '%s'; see kopro-worker --help",
                             argv[1]);
    if (rc != 0)
        fprintf(stderr, "kopro-worker: %s\n", kopro_error_last());
    return kopro_error_exit_code(rc);
}
