/*
 * kopro-gdpr — answer GDPR access and portability requests (art. 15, 20) and
 * show the personal-data register. Thin: parses arguments, calls libkopro
 * (kopro/gdpr.h), maps errors to exit codes.
 */
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/gdpr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: kopro-gdpr export --user UUID -o FILE.zip [--quiet]\n"
    "       kopro-gdpr register [--json]\n"
    "       kopro-gdpr --help\n"
    "\n"
    "  export    write everything kopro's register marks as exported about the KoproGo\n"
    "            user UUID (users.id) and the owners linked to it into FILE.zip\n"
    "            (manifest.json with SHA-256 and row counts, README.txt in FR/NL/DE/EN,\n"
    "            processing.json per art. 15(1), one JSON file per category, CSV for\n"
    "            units, votes and contributions). FILE.zip is written atomically with\n"
    "            mode 0600, and an audit_logs row (GdprDataExported) records it.\n"
    "            Prints the file list (name, rows, bytes, SHA-256).\n"
    "            The generation time is now, or SOURCE_DATE_EPOCH when set: the same\n"
    "            database and the same SOURCE_DATE_EPOCH give a byte-identical archive.\n"
    "  register  print the personal-data register: table, column, category, legal\n"
    "            basis, retention class, erasure action, exported (tab-separated)\n"
    "\n"
    "Configuration: KOPRO_DATABASE_URL (environment or the KOPRO_CONFIG file),\n"
    "KOPRO_GDPR_ACCOUNTING_YEARS (accounting retention, default 7).\n"
    "Exit codes: 0 ok, 2 usage, 3 user not found, 4 invalid input, 1 other\n"
    "(database unreachable, file not writable).\n";

static int usage_error(const char *msg)
{
    fprintf(stderr, "kopro-gdpr: %s\n%s", msg, "Try 'kopro-gdpr --help'.\n");
    return 2;
}

static int cmd_register(int json)
{
    size_t n = 0;
    const struct kopro_gdpr_column *r = kopro_gdpr_register(&n);
    if (json)
        fputs("[\n", stdout);
    for (size_t i = 0; i < n; i++) {
        if (json)
            printf("  {\"table\": \"%s\", \"column\": \"%s\", \"category\": \"%s\", \"basis\": \"%s\", "
                   "\"retention\": \"%s\", \"erasure\": \"%s\", \"exported\": %s}%s\n",
                   r[i].table, r[i].column, kopro_gdpr_category_name(r[i].category),
                   kopro_gdpr_basis_name(r[i].basis), kopro_gdpr_retention_name(r[i].retention),
                   kopro_gdpr_action_name(r[i].action), r[i].exported ? "true" : "false",
                   i + 1 < n ? "," : "");
        else
            printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r[i].table, r[i].column,
                   kopro_gdpr_category_name(r[i].category), kopro_gdpr_basis_name(r[i].basis),
                   kopro_gdpr_retention_name(r[i].retention), kopro_gdpr_action_name(r[i].action),
                   r[i].exported ? "exported" : "-");
    }
    if (json)
        fputs("]\n", stdout);
    return 0;
}

static int cmd_export(const char *user, const char *out, int quiet)
{
    struct kopro_config *cfg = NULL;
    PGconn *db = NULL;
    unsigned char *zip = NULL;
    size_t zip_bytes = 0;
    struct kopro_gdpr_export_summary sum;
    long long as_of = (long long)time(NULL);
    int rc;

    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde != NULL && *sde != '\0') {
        char *end = NULL;
        as_of = strtoll(sde, &end, 10);
        if (*end != '\0' || as_of < 0) {
            rc = kopro_error_set(KOPRO_EINVAL, "SOURCE_DATE_EPOCH='%s' is not a number of seconds", sde);
            goto done;
        }
    }
    rc = kopro_config_load(&cfg, NULL);
    if (rc != 0)
        goto done;
    rc = kopro_db_connect(&db, kopro_config_get(cfg, "KOPRO_DATABASE_URL", ""), "kopro-gdpr");
    if (rc != 0)
        goto done;
    rc = kopro_gdpr_export(&sum, &zip, &zip_bytes, db, user, as_of);
    if (rc != 0)
        goto done;
    rc = kopro_fs_write_file_atomic(out, zip, zip_bytes, 0600);
    if (rc != 0)
        goto done;
    rc = kopro_gdpr_export_audit(db, user, &sum, NULL);
    if (rc != 0)
        goto done;
    if (!quiet) {
        for (int i = 0; i < sum.nfiles; i++)
            printf("%-28s %7ld rows %9zu bytes  %s\n", sum.files[i].name, sum.files[i].rows,
                   sum.files[i].size_bytes, sum.files[i].sha256);
        printf("%s: %zu bytes, sha256 %s\n", out, sum.archive_bytes, sum.archive_sha256);
    }
done:
    kopro_gdpr_export_free(zip, zip_bytes);
    if (db != NULL)
        PQfinish(db);
    kopro_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "kopro-gdpr: %s\n", kopro_error_last());
        return kopro_error_exit_code(rc);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"user", required_argument, NULL, 'u'},
        {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *user = NULL, *out = NULL;
    int json = 0, quiet = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+u:o:jqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': user = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("unknown option or missing value");
        }
    }
    /* Options may also follow the command. */
    if (optind >= argc)
        return usage_error("missing command (export or register)");
    const char *cmd = argv[optind++];
    while ((c = getopt_long(argc, argv, "u:o:jqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': user = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("unknown option or missing value");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument");
    if (strcmp(cmd, "register") == 0)
        return cmd_register(json);
    if (strcmp(cmd, "export") == 0) {
        if (user == NULL || out == NULL)
            return usage_error("export needs --user UUID and -o FILE.zip");
        return cmd_export(user, out, quiet);
    }
    return usage_error("unknown command; use export or register");
}
