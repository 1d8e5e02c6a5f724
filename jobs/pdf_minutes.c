/*
 * Job kind "pdf.minutes": render the minutes of one general assembly and keep
 * them in the document store.
 *
 * payload: {"meeting_id": uuid, "lang": "fr"|"nl"|"de"|"en" (default "fr"),
 *           "final": bool (default false), "generated_at": ISO 8601 (optional)}
 * result:  {"path", "content_type": "application/pdf", "size_bytes", "sha256",
 *           "pages", "lang", "input_sha256"}
 * The file goes to KOPRO_DOCUMENT_STORE (file:// URL or path, default
 * ./var/documents) at {org}/{building}/pv/{meeting}-{lang}.pdf, written
 * atomically, so a retried job simply replaces it.
 */
#include "jobs.h"

#include "kopro/assembly.h"
#include "kopro/config.h"
#include "kopro/doc.h"
#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/i18n.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static int validate(const json_t *payload)
{
    const json_t *m = json_object_get(payload, "meeting_id");
    const json_t *l = json_object_get(payload, "lang");
    const json_t *f = json_object_get(payload, "final");
    const json_t *g = json_object_get(payload, "generated_at");
    time_t t;
    if (!json_is_string(m) || !is_uuid(json_string_value(m)))
        return kopro_error_set(KOPRO_EINVAL,
                               "pdf.minutes: payload.meeting_id must be a meeting uuid string");
    if (l != NULL && (!json_is_string(l) || !kopro_i18n_lang_valid(json_string_value(l))))
        return kopro_error_set(KOPRO_EINVAL, "pdf.minutes: payload.lang must be fr, nl, de or en");
    if (f != NULL && !json_is_boolean(f))
        return kopro_error_set(KOPRO_EINVAL, "pdf.minutes: payload.final must be true or false");
    if (g != NULL && (!json_is_string(g) || kopro_i18n_parse_time(&t, json_string_value(g)) != 0))
        return kopro_error_set(KOPRO_EINVAL,
                               "pdf.minutes: payload.generated_at must be an ISO 8601 timestamp");
    return 0;
}

static int run(struct kopro_job_ctx *ctx)
{
    struct kopro_assembly *a = NULL;
    struct kopro_doc_output doc;
    struct kopro_doc_options o;
    const char *lang;
    const json_t *g;
    char rel[512];
    char *path = NULL;
    time_t gen = 0;
    int rc;

    memset(&doc, 0, sizeof(doc));
    rc = validate(ctx->payload);
    if (rc != 0)
        return rc;
    lang = json_string_value(json_object_get(ctx->payload, "lang"));
    if (lang == NULL)
        lang = "fr";
    g = json_object_get(ctx->payload, "generated_at");
    if (g != NULL)
        kopro_i18n_parse_time(&gen, json_string_value(g));
    rc = kopro_assembly_load_db(&a, ctx->db,
                                json_string_value(json_object_get(ctx->payload, "meeting_id")));
    if (rc != 0)
        goto done;
    memset(&o, 0, sizeof(o));
    o.lang = lang;
    o.final = json_is_true(json_object_get(ctx->payload, "final"));
    o.template_dir = kopro_config_get(ctx->cfg, "KOPRO_TEMPLATE_DIR", NULL);
    o.font_dir = kopro_config_get(ctx->cfg, "KOPRO_FONT_DIR", NULL);
    o.generated_at_utc = gen;
    rc = kopro_doc_minutes(&doc, a, &o);
    if (rc != 0)
        goto done;
    snprintf(rel, sizeof(rel), "%s/%s/pv/%s-%s.pdf",
             a->building.organization_id ? a->building.organization_id : "none",
             a->building.id ? a->building.id : "none", a->meeting.id, lang);
    rc = kopro_docstore_put(&path, kopro_config_get(ctx->cfg, "KOPRO_DOCUMENT_STORE", NULL), rel,
                            doc.pdf, doc.pdf_bytes);
    if (rc != 0)
        goto done;
    ctx->result = json_pack("{s:s, s:s, s:I, s:s, s:i, s:s, s:s}", "path", path, "content_type",
                            "application/pdf", "size_bytes", (json_int_t)doc.pdf_bytes, "sha256",
                            doc.sha256, "pages", doc.pages, "lang", lang, "input_sha256",
                            doc.input_sha256);
    if (ctx->result == NULL)
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building the job result");
done:
    free(path);
    kopro_doc_output_free(&doc);
    kopro_assembly_free(a);
    return rc;
}

const struct kopro_job_kind kopro_job_pdf_minutes = {
    .name = "pdf.minutes",
    .summary = "render the minutes of a general assembly (procès-verbal) into the document store",
    .max_attempts = 3,
    .timeout_s = 300,
    .validate = validate,
    .run = run,
};
