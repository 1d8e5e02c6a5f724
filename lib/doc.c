/* Common machinery of the document renderers; see kopro/doc.h. */
#include "doc_internal.h"

#include "kopro/config.h"
#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/hash.h"
#include "kopro/valid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kopro_doc__check(struct doc_ctx *c, int rc)
{
    if (rc != 0 && c->rc == 0)
        c->rc = rc;
}

const char *kopro_doc__fmt(struct doc_ctx *c, const char *key, const char *const *kv)
{
    struct kopro_buf b;
    const char *tmpl = kopro_i18n_s(c->t, key);
    int slot = c->ring_next;
    int rc;
    if (c->rc != 0)
        return "";
    c->ring_next = (c->ring_next + 1) % DOC_RING;
    kopro_buf_init(&b, 1024 * 1024);
    rc = kopro_i18n_subst(&b, tmpl, kv);
    if (rc == 0 && b.data == NULL)
        rc = kopro_buf_add(&b, "", 0);
    if (rc != 0) {
        kopro_buf_free(&b);
        kopro_doc__check(c, kopro_error_wrap(rc, "template key '%s'", key));
        return "";
    }
    if (c->ring[slot] != NULL) {
        explicit_bzero(c->ring[slot], strlen(c->ring[slot]));
        free(c->ring[slot]);
    }
    c->ring[slot] = kopro_buf_detach(&b);
    if (c->ring[slot] == NULL) {
        kopro_doc__check(c, kopro_error_set(KOPRO_ERROR, "out of memory formatting '%s'", key));
        return "";
    }
    return c->ring[slot];
}

void kopro_doc__text(struct doc_ctx *c, enum kopro_pdf_style style, const char *text)
{
    if (c->rc != 0)
        return;
    kopro_doc__check(c, kopro_pdf_text(c->pdf, style, KOPRO_PDF_LEFT, text));
}

void kopro_doc__para(struct doc_ctx *c, enum kopro_pdf_style style, const char *key,
                     const char *const *kv)
{
    const char *s = kopro_doc__fmt(c, key, kv);
    kopro_doc__text(c, style, s);
}

void kopro_doc__shares(char *out, size_t out_bytes, const char *lang, int64_t shares_e4)
{
    char whole[48];
    int64_t w = shares_e4 / 10000, f = shares_e4 % 10000;
    char frac[8];
    int n;
    if (f < 0)
        f = -f;
    kopro_i18n_int(whole, sizeof(whole), lang, w);
    if (f == 0) {
        snprintf(out, out_bytes, "%s%s", shares_e4 < 0 && w == 0 ? "-" : "", whole);
        return;
    }
    snprintf(frac, sizeof(frac), "%04d", (int)f);
    for (n = 4; n > 0 && frac[n - 1] == '0'; n--)
        frac[n - 1] = '\0';
    snprintf(out, out_bytes, "%s%s%s%s", shares_e4 < 0 && w == 0 ? "-" : "", whole,
             strcmp(lang, "en") == 0 ? "." : ",", frac);
}

/*
 * jansson hands the canonical JSON to this callback piece by piece (often a
 * few bytes); they are gathered in a buffer and hashed in 16 KiB blocks
 * instead of building the whole text (~110 KB for 40 lots) to hash it after.
 */
struct fp_sink {
    struct kopro_sha256 *h;
    size_t n;
    int rc;
    char buf[16384];
};

static int fp_flush(struct fp_sink *s)
{
    if (s->rc == 0 && s->n > 0)
        s->rc = kopro_sha256_update(s->h, s->buf, s->n);
    s->n = 0;
    return s->rc;
}

static int fp_write(const char *data, size_t len, void *vs)
{
    struct fp_sink *s = vs;
    while (len > 0 && s->rc == 0) {
        size_t k = sizeof(s->buf) - s->n;
        if (k > len)
            k = len;
        memcpy(s->buf + s->n, data, k);
        s->n += k;
        data += k;
        len -= k;
        if (s->n == sizeof(s->buf))
            fp_flush(s);
    }
    return s->rc == 0 ? 0 : -1;
}

static int fingerprint(char hex[KOPRO_SHA256_HEX_BYTES], const json_t *input, const char *lang,
                       int final)
{
    struct fp_sink *s = calloc(1, sizeof(*s));
    int rc;
    if (s == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory fingerprinting the document input");
    rc = kopro_sha256_new(&s->h);
    if (rc == 0 && json_dump_callback(input, fp_write, s,
                                      JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        rc = s->rc != 0 ? s->rc
                        : kopro_error_set(KOPRO_ERROR, "out of memory serialising the document input");
    if (rc == 0)
        rc = fp_flush(s);
    if (rc == 0)
        rc = kopro_sha256_update(s->h, "\nlang=", 6);
    if (rc == 0)
        rc = kopro_sha256_update(s->h, lang, strlen(lang));
    if (rc == 0)
        rc = kopro_sha256_update(s->h, final ? "\nfinal=1" : "\nfinal=0", 8);
    if (rc == 0)
        rc = kopro_sha256_final_hex(s->h, hex);
    kopro_sha256_free(s->h);
    explicit_bzero(s, sizeof(*s)); /* the input holds personal data */
    free(s);
    return rc;
}

int kopro_doc__begin(struct doc_ctx *c, struct kopro_doc_output *out, const char *doc_name,
                     const struct kopro_doc_options *opts, const json_t *input,
                     int64_t default_time_utc)
{
    static const struct kopro_doc_options defaults = {NULL, 0, NULL, NULL, 0};
    struct kopro_pdf_options po;
    char generated[96];
    int64_t when;
    int rc;

    memset(c, 0, sizeof(*c));
    memset(out, 0, sizeof(*out));
    if (opts == NULL)
        opts = &defaults;
    c->lang = opts->lang != NULL ? opts->lang : "fr";
    rc = kopro_i18n_load(&c->t, opts->template_dir, doc_name, c->lang);
    if (rc != 0)
        return rc;
    c->lang = kopro_i18n_lang(c->t);
    rc = fingerprint(out->input_sha256, input, c->lang, opts->final);
    if (rc != 0)
        return rc;
    when = opts->generated_at_utc != 0 ? opts->generated_at_utc : default_time_utc;
    rc = kopro_i18n_datetime(generated, sizeof(generated), c->lang, (time_t)when);
    if (rc != 0)
        return kopro_error_wrap(rc, "generation time");
    memset(&po, 0, sizeof(po));
    po.font_dir = opts->font_dir;
    po.final = opts->final;
    po.watermark = kopro_i18n_s(c->t, "watermark");
    po.page_label = kopro_i18n_s(c->t, "page_label");
    po.subject = kopro_i18n_s(c->t, "doc_subject");
    {
        const char *kv[] = {"generated", generated, "sha256", out->input_sha256, NULL};
        po.footer = kopro_doc__fmt(c, "footer", kv);
    }
    po.created_utc = (time_t)when;
    rc = kopro_i18n_status(c->t);
    if (rc == 0)
        rc = c->rc;
    if (rc == 0)
        rc = kopro_pdf_new(&c->pdf, &po);
    return rc;
}

void kopro_doc__cleanup(struct doc_ctx *c)
{
    for (int i = 0; i < DOC_RING; i++) {
        if (c->ring[i] != NULL) {
            explicit_bzero(c->ring[i], strlen(c->ring[i]));
            free(c->ring[i]);
            c->ring[i] = NULL;
        }
    }
    kopro_pdf_free(c->pdf);
    c->pdf = NULL;
    kopro_i18n_free(c->t);
    c->t = NULL;
}

int kopro_doc__finish(struct doc_ctx *c, struct kopro_doc_output *out)
{
    int rc = c->rc;
    if (rc == 0)
        rc = kopro_i18n_status(c->t);
    if (rc == 0)
        rc = kopro_pdf_render(&out->pdf, &out->pdf_bytes, &out->pages, c->pdf);
    if (rc == 0)
        rc = kopro_sha256_hex(out->pdf, out->pdf_bytes, out->sha256);
    if (rc != 0)
        kopro_doc_output_free(out);
    kopro_doc__cleanup(c);
    return rc;
}

void kopro_doc_output_free(struct kopro_doc_output *o)
{
    if (o == NULL)
        return;
    if (o->pdf != NULL) {
        explicit_bzero(o->pdf, o->pdf_bytes);
        free(o->pdf);
    }
    o->pdf = NULL;
    o->pdf_bytes = 0;
    o->pages = 0;
}

int kopro_doc_write(const struct kopro_doc_output *o, const char *path)
{
    int rc;
    if (strcmp(path, "-") == 0) {
        rc = kopro_fs_write_all(STDOUT_FILENO, o->pdf, o->pdf_bytes);
        return rc != 0 ? kopro_error_wrap(rc, "standard output") : 0;
    }
    rc = kopro_fs_write_file_atomic(path, o->pdf, o->pdf_bytes, 0640);
    return rc != 0 ? kopro_error_wrap(rc, "output %s", path) : 0;
}

int kopro_doc_store(json_t **out_result, PGconn *db, const char *store, const char *relpath,
                    const struct kopro_doc_output *doc, struct kopro_docstore_entry *e)
{
    return kopro_doc_store_cfg(out_result, NULL, db, store, relpath, doc, e);
}

int kopro_doc_store_cfg(json_t **out_result, const struct kopro_config *cfg, PGconn *db,
                        const char *store, const char *relpath,
                        const struct kopro_doc_output *doc, struct kopro_docstore_entry *e)
{
    char *path = NULL, *doc_id = NULL;
    int rc;

    *out_result = NULL;
    rc = kopro_docstore_put_cfg(&path, cfg, store, relpath, doc->pdf, doc->pdf_bytes);
    if (rc == 0 && db != NULL) {
        e->path = path;
        e->size_bytes = doc->pdf_bytes;
        e->sha256 = doc->sha256;
        e->input_sha256 = doc->input_sha256;
        rc = kopro_docstore_register(&doc_id, db, e);
        if (rc != 0) {
            /* no row, so no document either; the registration error is what to report */
            char msg[512];
            snprintf(msg, sizeof(msg), "%s", kopro_error_last());
            kopro_docstore_remove(cfg, path);
            kopro_error_set(rc, "%s", msg);
        }
    }
    if (rc == 0) {
        *out_result = json_pack("{s:s, s:s, s:I, s:s, s:i, s:s?, s:s, s:s?}",
                                kopro_docstore_is_s3(path) ? "url" : "path", path,
                                "content_type", "application/pdf", "size_bytes",
                                (json_int_t)doc->pdf_bytes, "sha256", doc->sha256, "pages",
                                doc->pages, "lang", e->lang, "input_sha256", doc->input_sha256,
                                "document_id", doc_id);
        if (*out_result == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "out of memory building a job result");
    }
    free(path);
    free(doc_id);
    return rc;
}

int kopro_doc_payload_options(struct kopro_doc_options *o, const json_t *payload, const char *kind)
{
    const json_t *l = json_object_get(payload, "lang");
    const json_t *f = json_object_get(payload, "final");
    const json_t *g = json_object_get(payload, "generated_at");
    time_t t = 0;
    memset(o, 0, sizeof(*o));
    o->lang = "fr";
    if (l != NULL && (!json_is_string(l) || !kopro_i18n_lang_valid(json_string_value(l))))
        return kopro_error_set(KOPRO_EINVAL, "%s: payload.lang must be fr, nl, de or en", kind);
    if (l != NULL)
        o->lang = json_string_value(l);
    if (f != NULL && !json_is_boolean(f))
        return kopro_error_set(KOPRO_EINVAL, "%s: payload.final must be true or false", kind);
    o->final = json_is_true(f);
    if (g != NULL && (!json_is_string(g) || kopro_i18n_parse_time(&t, json_string_value(g)) != 0))
        return kopro_error_set(KOPRO_EINVAL, "%s: payload.generated_at must be an ISO 8601 timestamp",
                               kind);
    o->generated_at_utc = t;
    return 0;
}

int kopro_doc_payload_uuid(const char **out, const json_t *payload, const char *key, int required,
                           const char *kind)
{
    const json_t *v = json_object_get(payload, key);
    *out = NULL;
    if (v == NULL && !required)
        return 0;
    if (!json_is_string(v) || !kopro_valid_uuid(json_string_value(v)))
        return kopro_error_set(KOPRO_EINVAL, "%s: payload.%s must be a uuid string", kind, key);
    *out = json_string_value(v);
    return 0;
}

int kopro_doc_payload_date(const char **out, const json_t *payload, const char *key,
                           const char *kind)
{
    const json_t *v = json_object_get(payload, key);
    const char *s = json_string_value(v);
    time_t t;
    *out = NULL;
    if (s == NULL || strlen(s) != 10 || kopro_i18n_parse_time(&t, s) != 0)
        return kopro_error_set(KOPRO_EINVAL, "%s: payload.%s must be a date YYYY-MM-DD", kind, key);
    *out = s;
    return 0;
}

int kopro_doc_job_meeting(json_t **out_result, PGconn *db, const struct kopro_config *cfg,
                          const json_t *payload, const char *job_kind,
                          enum kopro_doc_meeting_kind which)
{
    struct kopro_assembly *a = NULL;
    struct kopro_doc_output doc;
    struct kopro_doc_options o;
    struct kopro_docstore_entry e;
    const char *meeting = NULL;
    int votes = which == KOPRO_DOC_VOTES;
    char rel[512];
    int rc;

    memset(&doc, 0, sizeof(doc));
    rc = kopro_doc_payload_uuid(&meeting, payload, "meeting_id", 1, job_kind);
    if (rc == 0)
        rc = kopro_doc_payload_options(&o, payload, job_kind);
    if (rc == 0)
        rc = kopro_assembly_load_db(&a, db, meeting);
    if (rc != 0)
        goto done;
    o.template_dir = kopro_config_get(cfg, "KOPRO_TEMPLATE_DIR", NULL);
    o.font_dir = kopro_config_get(cfg, "KOPRO_FONT_DIR", NULL);
    rc = votes ? kopro_doc_votes(&doc, a, &o) : kopro_doc_minutes(&doc, a, &o);
    if (rc != 0)
        goto done;
    snprintf(rel, sizeof(rel), "%s/%s/pv/%s%s-%s.pdf",
             a->building.organization_id ? a->building.organization_id : "none",
             a->building.id ? a->building.id : "none", a->meeting.id, votes ? "-votes" : "",
             o.lang);
    memset(&e, 0, sizeof(e));
    e.organization_id = a->building.organization_id;
    e.building_id = a->building.id;
    e.meeting_id = a->meeting.id;
    e.document_type = "meeting_minutes";
    e.title = a->meeting.title;
    e.kind = votes ? "votes" : "minutes";
    e.lang = o.lang;
    e.set_minutes = !votes;
    rc = kopro_doc_store_cfg(out_result, cfg, db,
                             kopro_config_get(cfg, "KOPRO_DOCUMENT_STORE", NULL), rel, &doc, &e);
done:
    kopro_doc_output_free(&doc);
    kopro_assembly_free(a);
    return rc;
}
