/*
 * Job kind "gdpr.expire" (daily): delete the export archives of gdpr.export
 * jobs whose download window (result.expires_at, 7 days) has passed, and mark
 * the result {"deleted": true, "deleted_at"} so GET /api/v1/jobs/{id}/result
 * answers 410, and destroy their keys (kopro.gdpr_export_keys), also those of
 * failed or cancelled exports once past expires_at. Only files named like the
 * export's own (…/gdpr/<hex>.kgx) are removed; a file already gone counts as
 * deleted.
 *
 * payload: {} ; result: {"deleted": N}
 */
#include "jobs.h"

#include "kopro/db.h"
#include "kopro/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ".../gdpr/<32 hex>.kgx" (sealed), as jobs/gdpr_export.c names its
 * archives, or ".zip" (plain archives of earlier versions). */
static int is_export_path(const char *p)
{
    const char *g = p != NULL ? strstr(p, "/gdpr/") : NULL;
    if (p == NULL || p[0] != '/' || g == NULL || strstr(p, "..") != NULL)
        return 0;
    g += strlen("/gdpr/");
    for (int i = 0; i < 32; i++)
        if (!((g[i] >= '0' && g[i] <= '9') || (g[i] >= 'a' && g[i] <= 'f')))
            return 0;
    return strcmp(g + 32, ".kgx") == 0 || strcmp(g + 32, ".zip") == 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    PGresult *res = NULL;
    long n = 0;
    int rc = kopro_db_begin(ctx->db);
    if (rc != 0)
        return rc;
    rc = kopro_db_exec(ctx->db, &res, "gdpr.expire: due archives",
                       "SELECT id::text, result->>'path' FROM kopro.jobs"
                       " WHERE kind = 'gdpr.export' AND state = 'succeeded'"
                       " AND result->>'expires_at' IS NOT NULL AND (result->>'expires_at')::timestamptz <= now()"
                       " AND NOT coalesce((result->>'deleted')::boolean, false)"
                       " ORDER BY id FOR UPDATE SKIP LOCKED",
                       0, NULL);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        const char *path = kopro_db_value(res, r, 1);
        if (!is_export_path(path))
            continue; /* not ours to delete; left for an operator */
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = kopro_error_set(KOPRO_ERROR, "gdpr.expire: cannot delete %s: %s", path, strerror(errno));
            break;
        }
        const char *params[1] = {kopro_db_value(res, r, 0)};
        rc = kopro_db_exec(ctx->db, NULL, "gdpr.expire: mark deleted",
                           "UPDATE kopro.jobs SET result = result || jsonb_build_object('deleted', true,"
                           " 'deleted_at', now()) WHERE id = $1::uuid",
                           1, params);
        if (rc == 0)
            rc = kopro_db_exec(ctx->db, NULL, "gdpr.expire: destroy the key",
                               "DELETE FROM kopro.gdpr_export_keys WHERE job_id = $1::uuid", 1, params);
        n++;
    }
    if (rc == 0)
        rc = kopro_db_exec(ctx->db, NULL, "gdpr.expire: destroy expired keys",
                           "DELETE FROM kopro.gdpr_export_keys WHERE expires_at <= now()", 0, NULL);
    PQclear(res);
    if (rc != 0) {
        kopro_db_rollback(ctx->db);
        return rc;
    }
    rc = kopro_db_commit(ctx->db);
    if (rc == 0) {
        ctx->result = json_pack("{s:I}", "deleted", (json_int_t)n);
        if (ctx->result == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "gdpr.expire: out of memory");
    }
    return rc;
}

const struct kopro_job_kind kopro_job_gdpr_expire = {
    .name = "gdpr.expire",
    .summary = "delete GDPR export archives after their 7-day download window",
    .max_attempts = 3,
    .timeout_s = 300,
    .validate = NULL,
    .run = run,
};
