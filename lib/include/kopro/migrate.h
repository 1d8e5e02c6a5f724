/*
 * kopro/migrate.h — kopro's own schema (`kopro`), versioned by the SQL files in
 * lib/migrations/ (embedded into libkopro as kopro_migrations[], see embed.h).
 *
 * A file is named NNNN_name.sql; NNNN is its version. Applied versions are
 * recorded in kopro.schema_migrations(version, name, checksum, applied_at),
 * where checksum is the SHA-256 of the file. KoproGo's `public` tables are
 * never altered.
 */
#ifndef KOPRO_MIGRATE_H
#define KOPRO_MIGRATE_H

#include <libpq-fe.h>

/*
 * Apply every pending migration, in name order, each in its own transaction,
 * while holding a session-level pg_advisory_lock so that two migrators never
 * race (the second waits, then finds nothing to do). Idempotent: a second run
 * applies nothing.
 *
 * applied_out: if non-NULL, receives the number of files applied by this call.
 * db:          an open connection with no transaction in progress; a role
 *              allowed to CREATE in the database.
 * Returns 0; KOPRO_EVERIFY if an applied file's checksum differs from the
 * embedded one (a migration was edited after release: add a new file
 * instead) or the database holds a version this binary does not know (a newer
 * kopro migrated it); KOPRO_EINVAL for a malformed embedded file name;
 * KOPRO_EUNAVAIL if the connection is lost; KOPRO_ERROR if a statement fails
 * (the message names the file and the server's reason; that file's
 * transaction is rolled back, the earlier ones stay applied).
 * Thread-safety: uses only `db`; do not share `db` between threads.
 * Source: https://www.postgresql.org/docs/15/functions-admin.html (advisory locks)
 */
int kopro_migrate_apply(int *applied_out, PGconn *db);

/*
 * Check that the database's schema is exactly what this binary knows: every
 * embedded migration applied with the same checksum and nothing newer. Used
 * for the worker's readiness (systemd READY=1) and the API's /ready.
 *
 * version_out: if non-NULL, receives the highest applied version (0 if none).
 * Returns 0; KOPRO_ENOTFOUND if the kopro schema is missing or a migration is
 * pending ("run kopro-worker migrate"); KOPRO_EVERIFY on a checksum mismatch
 * or an unknown newer version; KOPRO_EUNAVAIL / KOPRO_ERROR from the database.
 * Thread-safety: as kopro_migrate_apply().
 */
int kopro_migrate_check(int *version_out, PGconn *db);

/* The highest version among the embedded migrations (0 if there are none). */
int kopro_migrate_latest_version(void);

#endif
