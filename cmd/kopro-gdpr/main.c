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
    "       kopro-gdpr erase --user UUID [--dry-run] [--letter FILE.pdf]\n"
    "       kopro-gdpr tombstones dump [--since ISO8601]\n"
    "       kopro-gdpr tombstones apply FILE.json\n"
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
    "  erase     erase the user UUID and its owners as the register says (GDPR art. 17),\n"
    "            in one transaction: legal holds first (unpaid contributions, an open\n"
    "            call for funds, a row in kopro.gdpr_legal_holds): if one applies,\n"
    "            nothing changes, the reasons, the end of the hold and the right to\n"
    "            complain to the APD/GBA are printed (and, with --letter, written as\n"
    "            a PDF reply letter in the building's language), exit 5. Otherwise contact data\n"
    "            is deleted, names become a stable pseudonym, records kept for their\n"
    "            retention are listed as restricted, and a tombstone of keyed hashes\n"
    "            is left in kopro.gdpr_tombstones. Prints per table what changed.\n"
    "            --dry-run runs the same statements and rolls them back.\n"
    "            Needs KOPRO_GDPR_KEY (secret, >= 32 characters, keep it stable).\n"
    "  tombstones dump   print the erasures (keyed hashes only) as JSON, all or\n"
    "            those after --since; take it from the live database before a restore\n"
    "  tombstones apply  insert those tombstones into the (restored) database and\n"
    "            erase again every person they name who is not anonymized; prints\n"
    "            how many were erased. Needs the same KOPRO_GDPR_KEY.\n"
    "  register  print the personal-data register: table, column, category, legal\n"
    "            basis, retention class, erasure action, exported (tab-separated)\n"
    "\n"
    "Configuration: KOPRO_DATABASE_URL (environment or the KOPRO_CONFIG file),\n"
    "KOPRO_GDPR_ACCOUNTING_YEARS (accounting retention, default 7).\n"
    "Exit codes: 0 ok, 2 usage, 3 user not found, 4 invalid input, 5 erasure\n"
    "refused by a legal hold, 1 other (database unreachable, file not writable).\n";

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

static int write_letter(const struct kopro_gdpr_erase_report *rep, const struct kopro_config *cfg,
                        const char *path)
{
    unsigned char *pdf = NULL;
    size_t n = 0;
    long long now = (long long)time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde != NULL && *sde != '\0')
        now = strtoll(sde, NULL, 10);
    int rc = kopro_gdpr_hold_letter(&pdf, &n, rep, kopro_config_get(cfg, "KOPRO_FONT_DIR", NULL), now);
    rc = rc ? rc : kopro_fs_write_file_atomic(path, pdf, n, 0600);
    if (rc == 0)
        printf("Reply letter (%s): %s\n", rep->lang, path);
    free(pdf);
    return rc;
}

static int cmd_erase(const char *user, int dry_run, const char *letter)
{
    struct kopro_config *cfg = NULL;
    PGconn *db = NULL;
    struct kopro_gdpr_erase_report *rep = calloc(1, sizeof *rep);
    int rc = rep == NULL ? kopro_error_set(KOPRO_ERROR, "out of memory") : 0;

    rc = rc ? rc : kopro_config_load(&cfg, NULL);
    rc = rc ? rc : kopro_db_connect(&db, kopro_config_get(cfg, "KOPRO_DATABASE_URL", ""), "kopro-gdpr");
    rc = rc ? rc : kopro_gdpr_erase(rep, db, cfg, user, dry_run);
    if (rc == KOPRO_ERETAINED && rep->held) {
        printf("Erasure of user %s refused (GDPR art. 17(3)(b) and (e)): %s\n%s", user, rep->holds,
               rep->hold_detail);
        printf("Nothing was changed. The person may lodge a complaint with the Belgian data "
               "protection authority (APD/GBA, rue de la Presse 35, 1000 Bruxelles) (art. 77).\n");
        if (letter != NULL) {
            int lrc = write_letter(rep, cfg, letter);
            if (lrc != 0)
                rc = lrc;
        }
    } else if (rc == 0) {
        printf("%s user %s, pseudonym \"%s\"%s%s\n", dry_run ? "Dry run: would erase" : "Erased", user,
               rep->pseudonym, rep->tombstone_id[0] ? ", tombstone " : "", rep->tombstone_id);
        printf("%-24s %8s %8s %10s  %s\n", "table", "deleted", "updated", "restricted", "columns");
        for (int i = 0; i < rep->ntables; i++)
            printf("%-24s %8ld %8ld %10ld  %s\n", rep->tables[i].table, rep->tables[i].deleted,
                   rep->tables[i].updated, rep->tables[i].restricted, rep->tables[i].columns);
    }
    if (db != NULL)
        PQfinish(db);
    kopro_config_free(cfg);
    free(rep);
    if (rc == KOPRO_ERETAINED)
        return 5;
    if (rc != 0) {
        fprintf(stderr, "kopro-gdpr: %s\n", kopro_error_last());
        return kopro_error_exit_code(rc);
    }
    return 0;
}

static int cmd_tombstones(const char *sub, const char *file, const char *since)
{
    struct kopro_config *cfg = NULL;
    PGconn *db = NULL;
    char *json = NULL;
    int rc = kopro_config_load(&cfg, NULL);
    rc = rc ? rc : kopro_db_connect(&db, kopro_config_get(cfg, "KOPRO_DATABASE_URL", ""), "kopro-gdpr");
    if (rc == 0 && strcmp(sub, "dump") == 0) {
        rc = kopro_gdpr_tombstones_dump(&json, db, since);
        if (rc == 0)
            printf("%s\n", json);
    } else if (rc == 0) {
        int n = 0, fresh = 0;
        rc = kopro_fs_read_file(&json, NULL, file, 64u * 1024 * 1024);
        rc = rc ? rc : kopro_gdpr_tombstones_apply(&n, &fresh, db, cfg, json);
        if (rc == 0)
            printf("tombstones applied: %d person(s) erased again (%d tombstone(s) new to this database)\n", n,
                   fresh);
    }
    free(json);
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
        {"dry-run", no_argument, NULL, 'n'},
        {"since", required_argument, NULL, 's'},
        {"letter", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *user = NULL, *out = NULL, *since = NULL, *letter = NULL, *pos[2] = {NULL, NULL};
    int npos = 0;
    int json = 0, quiet = 0, dry_run = 0, c;
    const char *cmd = NULL;
    opterr = 0;
    /* Options may come before or after the command and its arguments; "+"
     * stops getopt at each word that is not an option, which is taken here. */
    for (;;) {
        if (optind < argc && argv[optind][0] != '-') {
            if (cmd == NULL)
                cmd = argv[optind++];
            else if (npos >= 2)
                return usage_error("unexpected argument");
            else
                pos[npos++] = argv[optind++];
            continue;
        }
        c = getopt_long(argc, argv, "+u:o:jqns:l:h", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'u': user = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'q': quiet = 1; break;
        case 'n': dry_run = 1; break;
        case 's': since = optarg; break;
        case 'l': letter = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("unknown option or missing value");
        }
    }
    if (cmd == NULL && optind < argc)
        cmd = argv[optind++]; /* "-" or the word after "--" */
    if (cmd == NULL)
        return usage_error("missing command (export, erase or register)");
    if (optind < argc)
        return usage_error("unexpected argument");
    if (strcmp(cmd, "tombstones") == 0) {
        if (npos >= 1 && strcmp(pos[0], "dump") == 0 && npos == 1)
            return cmd_tombstones("dump", NULL, since);
        if (npos == 2 && strcmp(pos[0], "apply") == 0)
            return cmd_tombstones("apply", pos[1], NULL);
        return usage_error("use 'tombstones dump [--since ISO8601]' or 'tombstones apply FILE.json'");
    }
    if (npos > 0)
        return usage_error("unexpected argument");
    if (strcmp(cmd, "register") == 0)
        return cmd_register(json);
    if (strcmp(cmd, "export") == 0) {
        if (user == NULL || out == NULL)
            return usage_error("export needs --user UUID and -o FILE.zip");
        return cmd_export(user, out, quiet);
    }
    if (strcmp(cmd, "erase") == 0) {
        if (user == NULL)
            return usage_error("erase needs --user UUID");
        return cmd_erase(user, dry_run, letter);
    }
    return usage_error("unknown command; use export, erase or register");
}
