/*
 * Job kind "accounts.statements": a building's PCN accounts for a period and
 * every owner's charge statement (décompte de charges), as numbers, in the
 * job result (AR 12 July 2012; Code civil art. 3.86 §3). The PDF documents
 * are pdf.pcn / pdf.statements; this kind serves KoproGo's screens and API.
 *
 * payload: {"building_id": uuid, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD",
 *           "owner_id": uuid (optional: that owner's statement only)}
 * result:  kopro_accounts_result_to_json() (kopro/accounts.h): totals and
 *          accounts in integer cents, and the statements.
 */
#include "jobs.h"

#include "kopro/accounts.h"
#include "kopro/error.h"
#include "kopro/valid.h"

#include <string.h>

static int validate(const json_t *payload)
{
    const char *b = json_string_value(json_object_get(payload, "building_id"));
    const char *from = json_string_value(json_object_get(payload, "from"));
    const char *to = json_string_value(json_object_get(payload, "to"));
    const json_t *owner = json_object_get(payload, "owner_id");
    if (!kopro_valid_uuid(b))
        return kopro_error_set(KOPRO_EINVAL,
                               "accounts.statements: payload.building_id must be a building uuid");
    if (!kopro_valid_date(from) || !kopro_valid_date(to) || strcmp(from, to) > 0)
        return kopro_error_set(KOPRO_EINVAL,
                               "accounts.statements: payload.from and payload.to must be dates "
                               "YYYY-MM-DD with from <= to");
    if (owner != NULL && !kopro_valid_uuid(json_string_value(owner)))
        return kopro_error_set(KOPRO_EINVAL,
                               "accounts.statements: payload.owner_id must be an owner uuid");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_accounts *m = NULL;
    struct kopro_statements *s = NULL;
    int rc;

    if ((rc = validate(ctx->payload)) != 0)
        return rc;
    rc = kopro_accounts_load_db(&m, ctx->db,
                                json_string_value(json_object_get(ctx->payload, "building_id")),
                                json_string_value(json_object_get(ctx->payload, "from")),
                                json_string_value(json_object_get(ctx->payload, "to")));
    if (rc != 0)
        goto done;
    if ((rc = kopro_accounts_statements(&s, m)) != 0)
        goto done;
    rc = kopro_accounts_result_to_json(
        &ctx->result, m, s, json_string_value(json_object_get(ctx->payload, "owner_id")));
done:
    kopro_statements_free(s);
    kopro_accounts_free(m);
    return rc;
}

const struct kopro_job_kind kopro_job_accounts_statements = {
    .name = "accounts.statements",
    .summary = "PCN accounts of a building for a period and each owner's charge statement, in cents",
    .max_attempts = 3,
    .timeout_s = 120,
    .validate = validate,
    .run = run,
};
