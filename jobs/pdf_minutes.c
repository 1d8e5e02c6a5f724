/*
 * Job kind "pdf.minutes": render the minutes of one general assembly, keep
 * them in the document store and register them.
 *
 * payload: {"meeting_id": uuid, "lang": "fr"|"nl"|"de"|"en" (default "fr"),
 *           "final": bool (default false), "generated_at": ISO 8601 (optional)}
 * result:  {"path", "content_type": "application/pdf", "size_bytes", "sha256",
 *           "pages", "lang", "input_sha256", "document_id"}
 * The file goes to KOPRO_DOCUMENT_STORE (file:// URL, path or s3:// prefix, default
 * ./var/documents) at {org}/{building}/pv/{meeting}-{lang}.pdf, written
 * atomically; a documents row is inserted, meetings.minutes_document_id set
 * and an audit_logs ReportGenerated row written (kopro_doc_job_meeting()).
 */
#include "jobs.h"

#include "kopro/doc.h"

static int validate(const json_t *payload)
{
    struct kopro_doc_options o;
    const char *id;
    int rc = kopro_doc_payload_uuid(&id, payload, "meeting_id", 1, "pdf.minutes");
    return rc != 0 ? rc : kopro_doc_payload_options(&o, payload, "pdf.minutes");
}

static int run(struct kopro_job_ctx *ctx)
{
    return kopro_doc_job_meeting(&ctx->result, ctx->db, ctx->cfg, ctx->payload, "pdf.minutes",
                                 KOPRO_DOC_MINUTES);
}

const struct kopro_job_kind kopro_job_pdf_minutes = {
    .name = "pdf.minutes",
    .summary = "render the minutes of a general assembly (procès-verbal) into the document store",
    .max_attempts = 3,
    .timeout_s = 300,
    .validate = validate,
    .run = run,
};
