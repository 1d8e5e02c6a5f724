/*
 * Job kind "pdf.statements": render the owners' charge statements
 * (décomptes de charges) of a building for a period into the document store.
 *
 * payload: {"building_id": uuid, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD",
 *           "owner_id": uuid (optional: one owner; default every owner),
 *           "lang", "final", "generated_at" as for pdf.minutes}
 * result:  one owner: as pdf.minutes; every owner: {"count", "content_type",
 *          "files": [{"owner_id", "path", "size_bytes", "sha256", "document_id"}]}
 * Files: {org}/{building}/acc/statement-{owner}-{from}-{to}-{lang}.pdf, each
 * registered (documents, audit_logs). A retry rewrites them atomically.
 */
#include "jobs.h"

#include "kopro/accounts.h"
#include "kopro/config.h"
#include "kopro/doc.h"
#include "kopro/docstore.h"
#include "kopro/error.h"

#include <stdio.h>
#include <string.h>

static int read_payload(const char **building, const char **from, const char **to,
                        const char **owner, struct kopro_doc_options *o, const json_t *payload)
{
    int rc = kopro_doc_payload_uuid(building, payload, "building_id", 1, "pdf.statements");
    if (rc == 0)
        rc = kopro_doc_payload_date(from, payload, "from", "pdf.statements");
    if (rc == 0)
        rc = kopro_doc_payload_date(to, payload, "to", "pdf.statements");
    if (rc == 0 && strcmp(*from, *to) > 0)
        rc = kopro_error_set(KOPRO_EINVAL, "pdf.statements: payload.from %s is after payload.to %s",
                             *from, *to);
    if (rc == 0)
        rc = kopro_doc_payload_uuid(owner, payload, "owner_id", 0, "pdf.statements");
    if (rc == 0)
        rc = kopro_doc_payload_options(o, payload, "pdf.statements");
    return rc;
}

static int validate(const json_t *payload)
{
    const char *b, *f, *t, *w;
    struct kopro_doc_options o;
    return read_payload(&b, &f, &t, &w, &o, payload);
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_accounts *m = NULL;
    struct kopro_statements *s = NULL;
    struct kopro_doc_options o;
    const char *building, *from, *to, *owner;
    json_t *files = NULL;
    size_t count = 0;
    int rc;

    rc = read_payload(&building, &from, &to, &owner, &o, ctx->payload);
    if (rc == 0)
        rc = kopro_accounts_load_db(&m, ctx->db, building, from, to);
    if (rc == 0)
        rc = kopro_accounts_statements(&s, m);
    if (rc != 0)
        goto done;
    o.template_dir = kopro_config_get(ctx->cfg, "KOPRO_TEMPLATE_DIR", NULL);
    o.font_dir = kopro_config_get(ctx->cfg, "KOPRO_FONT_DIR", NULL);
    files = json_array();
    if (files == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s->n_items && rc == 0; i++) {
        const struct kopro_acc_owner *ow = &m->owners[s->items[i].owner];
        struct kopro_doc_output doc;
        struct kopro_docstore_entry e;
        json_t *one = NULL;
        char rel[512];
        if (owner != NULL && strcmp(ow->id, owner) != 0)
            continue;
        memset(&doc, 0, sizeof(doc));
        rc = kopro_doc_statement(&doc, m, s, i, &o);
        if (rc == 0) {
            snprintf(rel, sizeof(rel), "%s/%s/acc/statement-%s-%s-%s-%s.pdf",
                     m->building.organization_id ? m->building.organization_id : "none", building,
                     ow->id, from, to, o.lang);
            memset(&e, 0, sizeof(e));
            e.organization_id = m->building.organization_id;
            e.building_id = building;
            e.document_type = "financial_statement";
            e.title = ow->display_name;
            e.kind = "statement";
            e.lang = o.lang;
            rc = kopro_doc_store_cfg(&one, ctx->cfg, ctx->db,
                                 kopro_config_get(ctx->cfg, "KOPRO_DOCUMENT_STORE", NULL), rel, &doc, &e);
        }
        kopro_doc_output_free(&doc);
        if (rc == 0) {
            json_object_set_new(one, "owner_id", json_string(ow->id));
            if (owner != NULL) {
                ctx->result = one;
                one = NULL;
            } else if (json_array_append_new(files, one) != 0) {
                rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            }
            one = NULL;
            count++;
        }
        json_decref(one);
    }
    if (rc == 0 && owner != NULL && count == 0)
        rc = kopro_error_set(KOPRO_ENOTFOUND, "pdf.statements: owner %s has no statement for "
                                              "building %s",
                             owner, building);
    if (rc == 0 && owner == NULL) {
        ctx->result = json_pack("{s:I, s:s, s:O}", "count", (json_int_t)count, "content_type",
                                "application/pdf", "files", files);
        if (ctx->result == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "out of memory building the job result");
    }
done:
    json_decref(files);
    kopro_statements_free(s);
    kopro_accounts_free(m);
    return rc;
}

const struct kopro_job_kind kopro_job_pdf_statements = {
    .name = "pdf.statements",
    .summary = "render the owners' charge statements (décomptes de charges) of a building",
    .max_attempts = 3,
    .timeout_s = 1800,
    .validate = validate,
    .run = run,
};
