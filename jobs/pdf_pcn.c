/*
 * Job kind "pdf.pcn": render a building's PCN accounts for a period, keep
 * them in the document store and register them.
 *
 * payload: {"building_id": uuid, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD",
 *           "lang", "final", "generated_at" as for pdf.minutes}
 * result:  as pdf.minutes; the file is {org}/{building}/acc/pcn-{from}-{to}-{lang}.pdf
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
                        struct kopro_doc_options *o, const json_t *payload)
{
    int rc = kopro_doc_payload_uuid(building, payload, "building_id", 1, "pdf.pcn");
    if (rc == 0)
        rc = kopro_doc_payload_date(from, payload, "from", "pdf.pcn");
    if (rc == 0)
        rc = kopro_doc_payload_date(to, payload, "to", "pdf.pcn");
    if (rc == 0 && strcmp(*from, *to) > 0)
        rc = kopro_error_set(KOPRO_EINVAL, "pdf.pcn: payload.from %s is after payload.to %s", *from,
                             *to);
    if (rc == 0)
        rc = kopro_doc_payload_options(o, payload, "pdf.pcn");
    return rc;
}

static int validate(const json_t *payload)
{
    const char *b, *f, *t;
    struct kopro_doc_options o;
    return read_payload(&b, &f, &t, &o, payload);
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_accounts *m = NULL;
    struct kopro_doc_output doc;
    struct kopro_doc_options o;
    struct kopro_docstore_entry e;
    const char *building, *from, *to;
    char rel[512];
    int rc;

    memset(&doc, 0, sizeof(doc));
    rc = read_payload(&building, &from, &to, &o, ctx->payload);
    if (rc == 0)
        rc = kopro_accounts_load_db(&m, ctx->db, building, from, to);
    if (rc != 0)
        goto done;
    o.template_dir = kopro_config_get(ctx->cfg, "KOPRO_TEMPLATE_DIR", NULL);
    o.font_dir = kopro_config_get(ctx->cfg, "KOPRO_FONT_DIR", NULL);
    rc = kopro_doc_pcn(&doc, m, &o);
    if (rc != 0)
        goto done;
    snprintf(rel, sizeof(rel), "%s/%s/acc/pcn-%s-%s-%s.pdf",
             m->building.organization_id ? m->building.organization_id : "none", building, from, to,
             o.lang);
    memset(&e, 0, sizeof(e));
    e.organization_id = m->building.organization_id;
    e.building_id = building;
    e.document_type = "financial_statement";
    e.title = "PCN";
    e.kind = "pcn";
    e.lang = o.lang;
    rc = kopro_doc_store_cfg(&ctx->result, ctx->cfg, ctx->db, kopro_config_get(ctx->cfg, "KOPRO_DOCUMENT_STORE", NULL),
                         rel, &doc, &e);
done:
    kopro_doc_output_free(&doc);
    kopro_accounts_free(m);
    return rc;
}

const struct kopro_job_kind kopro_job_pdf_pcn = {
    .name = "pdf.pcn",
    .summary = "render a building's PCN accounts (classes 6 and 7) for a period",
    .max_attempts = 3,
    .timeout_s = 300,
    .validate = validate,
    .run = run,
};
