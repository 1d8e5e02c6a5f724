/*
 * kopro-worker — applies kopro's schema migrations and runs queued jobs.
 * Thin: parses arguments, calls libkopro, maps errors to exit codes.
 */
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/migrate.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: kopro-worker migrate\n"
    "       kopro-worker --help | --version\n"
    "\n"
    "  migrate   create or upgrade kopro's schema (kopro.*) in KOPRO_DATABASE_URL;\n"
    "            idempotent, safe to run concurrently, never alters KoproGo's tables\n"
    "\n"
    "Configuration: KOPRO_DATABASE_URL (environment or the KOPRO_CONFIG file,\n"
    "default /etc/kopro/kopro.conf).\n"
    "Exit codes: 0 ok, 2 usage, 3 not found, 4 invalid data or verification failed\n"
    "(e.g. an applied migration was edited), 1 other (database unreachable, ...).\n";

static int cmd_migrate(int argc, char **argv)
{
    struct kopro_config *cfg = NULL;
    PGconn *db = NULL;
    int applied = 0;
    int version = 0;
    int rc;

    (void)argv;
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
    printf("kopro schema at version %d (%d migration%s applied now)\n", version, applied,
           applied == 1 ? "" : "s");
done:
    if (db != NULL)
        PQfinish(db);
    kopro_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("kopro-worker %s\n", KOPRO_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "migrate") == 0) {
        rc = cmd_migrate(argc - 1, argv + 1);
    } else {
        rc = kopro_error_set(KOPRO_EUSAGE, "unknown command '%s'; see kopro-worker --help",
                             argv[1]);
    }
    if (rc != 0)
        fprintf(stderr, "kopro-worker: %s\n", kopro_error_last());
    return kopro_error_exit_code(rc);
}
