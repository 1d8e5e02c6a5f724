/*
 * Job kind "pdf.votes": render the vote results of one general assembly, keep
 * them in the document store and register them.
 *
 * payload: {"meeting_id": uuid, "lang": "fr"|"nl"|"de"|"en" (default "fr"),
 *           "final": bool (default false), "generated_at": ISO 8601 (optional)}
 * result:  {"path", "content_type": "application/pdf", "size_bytes", "sha256",
 *           "pages", "lang", "input_sha256", "document_id"}
 * The file goes to KOPRO_DOCUMENT_STORE (file:// URL, path or s3:// prefix, default
 * ./var/documents) at {org}/{building}/pv/{meeting}-votes-{lang}.pdf, written
 * atomically; a documents row is inserted
 * and an audit_logs ReportGenerated row written (kopro_doc_store()).
 */
#include "jobs.h"

#include "kopro/assembly.h"
#include "kopro/config.h"
#include "kopro/doc.h"
#include "kopro/docstore.h"
#include "kopro/error.h"

#include <stdio.h>
#include <string.h>

static int validate(const json_t *payload)
{
    struct kopro_doc_options o;
    const char *id;
    int rc = kopro_doc_payload_uuid(&id, payload, "meeting_id", 1, "pdf.votes");
    return rc != 0 ? rc : kopro_doc_payload_options(&o, payload, "pdf.votes");
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_assembly *a = NULL;
    struct kopro_doc_output doc;
    struct kopro_doc_options o;
    struct kopro_docstore_entry e;
    const char *meeting;
    char rel[512];
    int rc;

    memset(&doc, 0, sizeof(doc));
    rc = kopro_doc_payload_uuid(&meeting, ctx->payload, "meeting_id", 1, "pdf.votes");
    if (rc == 0)
        rc = kopro_doc_payload_options(&o, ctx->payload, "pdf.votes");
    if (rc == 0)
        rc = kopro_assembly_load_db(&a, ctx->db, meeting);
    if (rc != 0)
        goto done;
    o.template_dir = kopro_config_get(ctx->cfg, "KOPRO_TEMPLATE_DIR", NULL);
    o.font_dir = kopro_config_get(ctx->cfg, "KOPRO_FONT_DIR", NULL);
    rc = kopro_doc_votes(&doc, a, &o);
    if (rc != 0)
        goto done;
    snprintf(rel, sizeof(rel), "%s/%s/pv/%s-votes-%s.pdf",
             a->building.organization_id ? a->building.organization_id : "none",
             a->building.id ? a->building.id : "none", a->meeting.id, o.lang);
    memset(&e, 0, sizeof(e));
    e.organization_id = a->building.organization_id;
    e.building_id = a->building.id;
    e.meeting_id = a->meeting.id;
    e.document_type = "meeting_minutes";
    e.title = a->meeting.title;
    e.kind = "votes";
    e.lang = o.lang;
    e.set_minutes = 0;
    rc = kopro_doc_store_cfg(&ctx->result, ctx->cfg, ctx->db, kopro_config_get(ctx->cfg, "KOPRO_DOCUMENT_STORE", NULL),
                         rel, &doc, &e);
done:
    kopro_doc_output_free(&doc);
    kopro_assembly_free(a);
    return rc;
}

const struct kopro_job_kind kopro_job_pdf_votes = {
    .name = "pdf.votes",
    .summary = "render the vote results of a general assembly into the document store",
    .max_attempts = 3,
    .timeout_s = 300,
    .validate = validate,
    .run = run,
};
