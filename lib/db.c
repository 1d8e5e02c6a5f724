#include "kopro/db.h"

#include "kopro/error.h"

#include <stdlib.h>
#include <string.h>

static void strip_newline(char *s)
{
    for (char *p = s; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    for (size_t n = strlen(s); n > 0 && s[n - 1] == ' '; n--)
        s[n - 1] = '\0';
}

int kopro_db_connect(PGconn **out, const char *conninfo, const char *app)
{
    const char *keys[5];
    const char *vals[5];
    PGconn *db;
    char msg[512];
    int i = 0;

    *out = NULL;
    if (conninfo == NULL)
        conninfo = getenv("KOPRO_DATABASE_URL");
    if (conninfo == NULL)
        conninfo = "";
    /* Before dbname, so that a connect_timeout in the URL overrides it: an
     * unreachable host would otherwise hold a worker or an API request for
     * the kernel's TCP timeout (about two minutes). */
    keys[i] = "connect_timeout";
    vals[i++] = "10";
    keys[i] = "dbname";
    vals[i++] = conninfo;
    keys[i] = "application_name";
    vals[i++] = app != NULL ? app : "kopro";
    keys[i] = "options";
    vals[i++] = "-c TimeZone=UTC -c client_encoding=UTF8";
    keys[i] = NULL;
    vals[i] = NULL;
    db = PQconnectdbParams(keys, vals, 1);
    if (db == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory connecting to PostgreSQL");
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db));
        strip_newline(msg);
        PQfinish(db);
        return kopro_error_set(KOPRO_EUNAVAIL,
                               "cannot connect to PostgreSQL (KOPRO_DATABASE_URL): %s", msg);
    }
    *out = db;
    return 0;
}

static int code_for_state(const char *state)
{
    if (state == NULL)
        return KOPRO_ERROR;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0)
        return KOPRO_EBUSY;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        return KOPRO_EINVAL;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return KOPRO_EUNAVAIL;
    return KOPRO_ERROR;
}

/* Check `res` (taken over): 0 and *out, or the error of kopro_db_exec(). */
static int check_result(PGconn *db, PGresult *res, PGresult **out, const char *what)
{
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[512], state_copy[8];
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        int code = PQstatus(db) == CONNECTION_BAD ? KOPRO_EUNAVAIL : code_for_state(state);
        snprintf(msg, sizeof(msg), "%s", primary ? primary : PQerrorMessage(db));
        strip_newline(msg);
        /* state points into res: copy it before PQclear() */
        snprintf(state_copy, sizeof(state_copy), "%s", state ? state : "");
        PQclear(res);
        if (state != NULL)
            return kopro_error_set(code, "%s: %s (SQLSTATE %s)", what, msg, state_copy);
        return kopro_error_set(code, "%s: %s", what, msg);
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return 0;
}

int kopro_db_exec(PGconn *db, PGresult **out, const char *what, const char *sql, int nparams,
                  const char *const *params)
{
    if (out != NULL)
        *out = NULL;
    return check_result(db, PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0), out,
                        what);
}

int kopro_db_exec_prepared(PGconn *db, PGresult **out, const char *what, const char *name,
                           const char *sql, int nparams, const char *const *params)
{
    PGresult *res;
    const char *state;

    if (out != NULL)
        *out = NULL;
    if (PQtransactionStatus(db) != PQTRANS_IDLE)
        return kopro_db_exec(db, out, what, sql, nparams, params);
    res = PQexecPrepared(db, name, nparams, params, NULL, NULL, 0);
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state != NULL && strcmp(state, "26000") == 0) {
        /* Not prepared on this session yet (new or reset connection). */
        PQclear(res);
        res = PQprepare(db, name, sql, nparams, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return check_result(db, res, NULL, what);
        PQclear(res);
        res = PQexecPrepared(db, name, nparams, params, NULL, NULL, 0);
    }
    return check_result(db, res, out, what);
}

int kopro_db_begin(PGconn *db)
{
    return kopro_db_exec(db, NULL, "BEGIN", "BEGIN", 0, NULL);
}

int kopro_db_commit(PGconn *db)
{
    return kopro_db_exec(db, NULL, "COMMIT", "COMMIT", 0, NULL);
}

void kopro_db_rollback(PGconn *db)
{
    PGresult *res = PQexec(db, "ROLLBACK");
    PQclear(res);
}

const char *kopro_db_value(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}
