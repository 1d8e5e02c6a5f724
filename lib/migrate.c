#include "kopro/migrate.h"

#include "kopro/db.h"
#include "kopro/embed.h"
#include "kopro/error.h"
#include "kopro/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key of the session advisory lock held while migrating ("kopro" in ASCII). */
#define MIGRATE_LOCK_KEY "1802465138"

/* SET LOCAL: the expected "already exists, skipping" notices are not printed. */
static const char *const bootstrap_sql =
    "BEGIN;"
    "SET LOCAL client_min_messages = warning;"
    "CREATE SCHEMA IF NOT EXISTS kopro;"
    "CREATE TABLE IF NOT EXISTS kopro.schema_migrations ("
    " version int PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now());"
    "COMMIT";

/* The version number of "NNNN_name.sql", or -1 if the name is malformed. */
static int version_of(const char *name)
{
    int v = 0;
    size_t i = 0;

    for (; name[i] >= '0' && name[i] <= '9'; i++) {
        if (i >= 6)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    if (i == 0 || name[i] != '_')
        return -1;
    return v;
}

int kopro_migrate_latest_version(void)
{
    int latest = 0;
    for (size_t i = 0; kopro_migrations[i].name != NULL; i++) {
        int v = version_of(kopro_migrations[i].name);
        if (v > latest)
            latest = v;
    }
    return latest;
}

static const struct kopro_embedded *find_version(int version)
{
    for (size_t i = 0; kopro_migrations[i].name != NULL; i++)
        if (version_of(kopro_migrations[i].name) == version)
            return &kopro_migrations[i];
    return NULL;
}

static int check_names(void)
{
    for (size_t i = 0; kopro_migrations[i].name != NULL; i++) {
        int v = version_of(kopro_migrations[i].name);
        if (v <= 0)
            return kopro_error_set(KOPRO_EINVAL,
                                   "migration file %s: name must be NNNN_name.sql with NNNN > 0",
                                   kopro_migrations[i].name);
        for (size_t j = 0; j < i; j++)
            if (version_of(kopro_migrations[j].name) == v)
                return kopro_error_set(KOPRO_EINVAL,
                                       "migration files %s and %s share version %d; renumber one",
                                       kopro_migrations[j].name, kopro_migrations[i].name, v);
    }
    return 0;
}

static int is_applied(const PGresult *res, int version)
{
    for (int r = 0; r < PQntuples(res); r++)
        if (atoi(PQgetvalue(res, r, 0)) == version)
            return 1;
    return 0;
}

/*
 * Compare the applied rows in `res` (version, name, checksum) with the
 * embedded files. *pending_out gets the number of embedded files not applied,
 * *max_out the highest applied version.
 */
static int compare_applied(int *pending_out, int *max_out, const PGresult *res)
{
    int pending = 0;
    int max = 0;

    for (int r = 0; r < PQntuples(res); r++) {
        int v = atoi(PQgetvalue(res, r, 0));
        const struct kopro_embedded *m = find_version(v);
        char hex[KOPRO_SHA256_HEX_BYTES];

        if (v > max)
            max = v;
        if (m == NULL)
            return kopro_error_set(KOPRO_EVERIFY,
                                   "database has kopro migration %d (%s) that this binary does not "
                                   "know; run a kopro at least as new as the one that migrated it",
                                   v, PQgetvalue(res, r, 1));
        if (kopro_sha256_hex(m->data, m->len, hex) != 0)
            return KOPRO_ERROR;
        if (strcmp(hex, PQgetvalue(res, r, 2)) != 0)
            return kopro_error_set(KOPRO_EVERIFY,
                                   "migration %s was changed after it was applied (checksum "
                                   "%.12s in kopro.schema_migrations, %.12s embedded); never "
                                   "edit an applied migration, add a new file instead",
                                   m->name, PQgetvalue(res, r, 2), hex);
    }
    for (size_t i = 0; kopro_migrations[i].name != NULL; i++)
        if (!is_applied(res, version_of(kopro_migrations[i].name)))
            pending++;
    *pending_out = pending;
    *max_out = max;
    return 0;
}

static int load_applied(PGresult **out, PGconn *db)
{
    return kopro_db_exec(db, out, "reading kopro.schema_migrations",
                         "SELECT version, name, checksum FROM kopro.schema_migrations "
                         "ORDER BY version",
                         0, NULL);
}

static int apply_one(PGconn *db, const struct kopro_embedded *m)
{
    char hex[KOPRO_SHA256_HEX_BYTES];
    char version[16];
    const char *params[3];
    PGresult *res = NULL;
    int rc;

    if (kopro_sha256_hex(m->data, m->len, hex) != 0)
        return KOPRO_ERROR;
    snprintf(version, sizeof(version), "%d", version_of(m->name));
    rc = kopro_db_begin(db);
    if (rc != 0)
        goto done;
    rc = kopro_db_exec(db, NULL, "quieting notices", "SET LOCAL client_min_messages = warning",
                       0, NULL);
    if (rc != 0)
        goto done;
    /* A multi-statement script: PQexec (no parameters) runs it in the open transaction. */
    res = PQexec(db, m->data);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        rc = kopro_error_set(PQstatus(db) == CONNECTION_BAD ? KOPRO_EUNAVAIL : KOPRO_ERROR,
                             "migration %s failed: %s (SQLSTATE %s); nothing of it was applied",
                             m->name, primary ? primary : "connection lost",
                             state ? state : "none");
        goto done;
    }
    params[0] = version;
    params[1] = m->name;
    params[2] = hex;
    rc = kopro_db_exec(db, NULL, "recording a migration",
                       "INSERT INTO kopro.schema_migrations (version, name, checksum) "
                       "VALUES ($1::int, $2, $3)",
                       3, params);
    if (rc != 0)
        goto done;
    rc = kopro_db_commit(db);
done:
    PQclear(res);
    if (rc != 0)
        kopro_db_rollback(db);
    return rc;
}

int kopro_migrate_apply(int *applied_out, PGconn *db)
{
    PGresult *res = NULL;
    int locked = 0;
    int applied = 0;
    int pending = 0;
    int max = 0;
    int rc;

    if (applied_out != NULL)
        *applied_out = 0;
    rc = check_names();
    if (rc != 0)
        goto done;
    rc = kopro_db_exec(db, NULL, "taking the migration lock",
                       "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL);
    if (rc != 0)
        goto done;
    locked = 1;
    /* Under the lock, so two first-time migrators do not race on CREATE. */
    res = PQexec(db, bootstrap_sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        rc = kopro_error_set(PQstatus(db) == CONNECTION_BAD ? KOPRO_EUNAVAIL : KOPRO_ERROR,
                             "creating kopro.schema_migrations: %s; the role needs CREATE on "
                             "the database",
                             primary ? primary : "connection lost");
        kopro_db_rollback(db);
        goto done;
    }
    PQclear(res);
    res = NULL;
    rc = load_applied(&res, db);
    if (rc != 0)
        goto done;
    rc = compare_applied(&pending, &max, res);
    if (rc != 0)
        goto done;
    for (size_t i = 0; kopro_migrations[i].name != NULL; i++) {
        if (is_applied(res, version_of(kopro_migrations[i].name)))
            continue;
        rc = apply_one(db, &kopro_migrations[i]);
        if (rc != 0)
            goto done;
        applied++;
    }
    if (applied_out != NULL)
        *applied_out = applied;
done:
    PQclear(res);
    if (locked) {
        PGresult *u = PQexec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
        PQclear(u);
    }
    return rc;
}

int kopro_migrate_check(int *version_out, PGconn *db)
{
    PGresult *res = NULL;
    int pending = 0;
    int max = 0;
    int rc;

    if (version_out != NULL)
        *version_out = 0;
    rc = kopro_db_exec(db, &res, "looking for kopro.schema_migrations",
                       "SELECT to_regclass('kopro.schema_migrations') IS NOT NULL", 0, NULL);
    if (rc != 0)
        goto done;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        rc = kopro_error_set(KOPRO_ENOTFOUND,
                             "the database has no kopro schema; run kopro-worker migrate");
        goto done;
    }
    PQclear(res);
    res = NULL;
    rc = load_applied(&res, db);
    if (rc != 0)
        goto done;
    rc = compare_applied(&pending, &max, res);
    if (rc != 0)
        goto done;
    if (version_out != NULL)
        *version_out = max;
    if (pending > 0)
        rc = kopro_error_set(KOPRO_ENOTFOUND,
                             "%d kopro migration(s) pending (database at version %d, this binary "
                             "knows %d); run kopro-worker migrate",
                             pending, max, kopro_migrate_latest_version());
done:
    PQclear(res);
    return rc;
}
