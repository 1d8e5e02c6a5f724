/*
 * Job kind "gdpr.erase": answer an erasure request (GDPR art. 17) through
 * kopro_gdpr_erase(). A legal hold is an answer, not a failure: the job
 * succeeds with {"erased": false, "holds": "unpaid_balance,...", "detail"}.
 *
 * payload: {"user_id": uuid, "dry_run": bool (default false)}
 * result:  {"erased": bool, "dry_run": bool, "pseudonym", "tombstone_id",
 *           "tables": {"votes": {"deleted", "updated", "restricted"}, ...}}
 *          or {"erased": false, "holds", "detail", "path" (the reply letter, a PDF
 *          in the building's language, in the document store; "url" instead,
 *          its s3:// URL, when KOPRO_DOCUMENT_STORE is s3://...), "content_type",
 *          "lang"} when refused.
 * Needs KOPRO_GDPR_KEY (config) and migration 0100_gdpr.
 */
#include "jobs.h"

#include "kopro/config.h"
#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/hash.h"
#include "kopro/valid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int validate(const json_t *payload)
{
    const json_t *u = json_object_get(payload, "user_id");
    const json_t *d = json_object_get(payload, "dry_run");
    if (!kopro_valid_uuid(json_string_value(u)))
        return kopro_error_set(KOPRO_EINVAL, "gdpr.erase: payload.user_id must be a users.id uuid string");
    if (d != NULL && !json_is_boolean(d))
        return kopro_error_set(KOPRO_EINVAL, "gdpr.erase: payload.dry_run must be true or false");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_gdpr_erase_report *rep = NULL;
    int rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    int dry = json_is_true(json_object_get(ctx->payload, "dry_run"));
    rep = calloc(1, sizeof *rep);
    if (rep == NULL)
        return kopro_error_set(KOPRO_ERROR, "gdpr.erase: out of memory");
    rc = kopro_gdpr_erase(rep, ctx->db, ctx->cfg, json_string_value(json_object_get(ctx->payload, "user_id")),
                          dry);
    if (rc == KOPRO_ERETAINED && rep->held) {
        /* The reply letter, in the building's language, into the document store. */
        unsigned char *pdf = NULL, rnd[16];
        size_t n = 0;
        char name[64], hex[33], *path = NULL;
        rc = kopro_gdpr_hold_letter(&pdf, &n, rep, kopro_config_get(ctx->cfg, "KOPRO_FONT_DIR", NULL),
                                    (long long)time(NULL));
        if (rc == 0 && getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            rc = kopro_error_set(KOPRO_ERROR, "gdpr.erase: getrandom() failed; retry");
        if (rc == 0) {
            kopro_hex_encode(rnd, sizeof rnd, hex);
            snprintf(name, sizeof name, "gdpr/%s-refusal-%s.pdf", hex, rep->lang);
            /* nothing downstream needs a local file: a directory or an S3 store */
            rc = kopro_docstore_put_cfg(&path, ctx->cfg, kopro_config_get(ctx->cfg, "KOPRO_DOCUMENT_STORE", NULL),
                                        name, pdf, n);
        }
        if (rc == 0) {
            ctx->result = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "erased", 0, "holds", rep->holds, "detail",
                                    rep->hold_detail, kopro_docstore_is_s3(path) ? "url" : "path", path,
                                    "content_type", "application/pdf", "lang", rep->lang);
            rc = ctx->result != NULL ? 0 : kopro_error_set(KOPRO_ERROR, "gdpr.erase: out of memory");
            if (rc != 0)
                kopro_docstore_remove(ctx->cfg, path); /* no letter without its result */
        }
        free(path);
        free(pdf);
        goto done;
    }
    if (rc != 0)
        goto done;
    json_t *tables = json_object();
    for (int i = 0; tables != NULL && i < rep->ntables; i++)
        json_object_set_new(tables, rep->tables[i].table,
                            json_pack("{s:I, s:I, s:I}", "deleted", (json_int_t)rep->tables[i].deleted, "updated",
                                      (json_int_t)rep->tables[i].updated, "restricted",
                                      (json_int_t)rep->tables[i].restricted));
    ctx->result = json_pack("{s:b, s:b, s:s, s:s, s:o}", "erased", !dry, "dry_run", dry, "pseudonym",
                            rep->pseudonym, "tombstone_id", rep->tombstone_id, "tables", tables);
    if (ctx->result == NULL)
        rc = kopro_error_set(KOPRO_ERROR, "gdpr.erase: out of memory building the result");
done:
    free(rep);
    return rc;
}

const struct kopro_job_kind kopro_job_gdpr_erase = {
    .name = "gdpr.erase",
    .summary = "erase a person's data (GDPR art. 17) after checking legal holds",
    .max_attempts = 3,
    .timeout_s = 600,
    .validate = validate,
    .run = run,
};
