/*
 * kopro/db.h — thin helpers over libpq. All SQL is parameterised
 * (PQexecParams, PQexecPrepared); no helper here builds SQL from values.
 */
#ifndef KOPRO_DB_H
#define KOPRO_DB_H

#include <libpq-fe.h>

/*
 * Connect to `conninfo` (a libpq URI or key=value string; NULL means
 * $KOPRO_DATABASE_URL, and an empty value lets libpq use its PG* variables).
 * Sets application_name=`app` (may be NULL), TimeZone=UTC and
 * client_encoding=UTF8, and connect_timeout=10 (seconds) unless `conninfo`
 * sets its own. The connection string is never copied into an error
 * message, since it may hold a password.
 * Returns 0, or KOPRO_EUNAVAIL with libpq's reason. *out is owned by the
 * caller: PQfinish().
 * Source: https://www.postgresql.org/docs/15/libpq-connect.html
 */
int kopro_db_connect(PGconn **out, const char *conninfo, const char *app);

/*
 * Run one parameterised statement. `params` are text values (NULL entries are
 * SQL NULL), `nparams` of them. If `out` is non-NULL it receives the result
 * (caller PQclear()s); otherwise the result is cleared.
 * Returns 0; KOPRO_EUNAVAIL if the connection is lost; KOPRO_EBUSY on a
 * serialization failure or lock-not-available (SQLSTATE 40001, 40P01, 55P03);
 * KOPRO_EINVAL on a data or constraint error (SQLSTATE classes 22, 23);
 * KOPRO_ERROR otherwise. The message carries `what`, the SQLSTATE and the
 * server's primary message.
 */
int kopro_db_exec(PGconn *db, PGresult **out, const char *what, const char *sql, int nparams,
                  const char *const *params);

/*
 * Like kopro_db_exec(), as the prepared statement `name` (a constant naming
 * this `sql`, unique among the connection's statements): prepared on first
 * use on this session (PQprepare), then only executed (PQexecPrepared), so a
 * statement run thousands of times is parsed and planned once per
 * connection instead of at every call. A reset connection loses its prepared
 * statements; the SQLSTATE 26000 of the next call prepares it again. Inside
 * a transaction block it runs unprepared (kopro_db_exec()), since that
 * SQLSTATE 26000 would abort the transaction.
 * Returns as kopro_db_exec(); a failed PQprepare (a SQL error in `sql`)
 * returns its error the same way. `out` as kopro_db_exec().
 * Source: https://www.postgresql.org/docs/15/libpq-exec.html (PQprepare,
 * PQexecPrepared), https://www.postgresql.org/docs/15/sql-prepare.html
 */
int kopro_db_exec_prepared(PGconn *db, PGresult **out, const char *what, const char *name,
                           const char *sql, int nparams, const char *const *params);

/* BEGIN / COMMIT / ROLLBACK. Errors as kopro_db_exec(). ROLLBACK never fails loudly. */
int kopro_db_begin(PGconn *db);
int kopro_db_commit(PGconn *db);
void kopro_db_rollback(PGconn *db);

/*
 * Value of row/column as a string, or NULL if SQL NULL. The pointer belongs
 * to `res`.
 */
const char *kopro_db_value(const PGresult *res, int row, int col);

#endif
