/* Shared helpers of the document renderers (lib/doc*.c); not public. */
#ifndef KOPRO_DOC_INTERNAL_H
#define KOPRO_DOC_INTERNAL_H

#include "kopro/buf.h"
#include "kopro/doc.h"
#include "kopro/i18n.h"
#include "kopro/pdf.h"

#include <jansson.h>
#include <stdint.h>

#define DOC_RING 16

struct doc_ctx {
    struct kopro_i18n *t;
    struct kopro_pdf *pdf;
    const char *lang;
    int rc;               /* first error, sticky */
    char *ring[DOC_RING]; /* formatted strings, reused round-robin */
    int ring_next;
};

/*
 * Load the templates of `doc_name`, fingerprint `input` (+ lang, final),
 * start the PDF with footer and watermark. `default_time_utc` is used when
 * opts->generated_at_utc is 0. Fills out->input_sha256.
 */
int kopro_doc__begin(struct doc_ctx *c, struct kopro_doc_output *out, const char *doc_name,
                     const struct kopro_doc_options *opts, const json_t *input,
                     int64_t default_time_utc);

/* Render, hash and release the context. Returns c->rc or the render error. */
int kopro_doc__finish(struct doc_ctx *c, struct kopro_doc_output *out);

/* Release everything held by the context (after an error). */
void kopro_doc__cleanup(struct doc_ctx *c);

/* The template string `key` with {placeholders} from kv (NULL-terminated pairs). */
const char *kopro_doc__fmt(struct doc_ctx *c, const char *key, const char *const *kv);

/* Add a paragraph: the template `key` formatted with kv. */
void kopro_doc__para(struct doc_ctx *c, enum kopro_pdf_style style, const char *key,
                     const char *const *kv);

/* Add literal text. */
void kopro_doc__text(struct doc_ctx *c, enum kopro_pdf_style style, const char *text);

/* Record an error code (first one wins). */
void kopro_doc__check(struct doc_ctx *c, int rc);

/* Shares in 1/10000 tantième as text: "250", "1.234,5" (fr), "1,234.5" (en). */
void kopro_doc__shares(char *out, size_t out_bytes, const char *lang, int64_t shares_e4);

struct kopro_assembly;
struct kopro_legal_resolution;

/* "A, B, C": display names of owners by index; kept in the context ring. */
const char *kopro_doc__join_owners(struct doc_ctx *c, const struct kopro_assembly *a,
                                   const size_t *idx, size_t n, const char *sep);

/* Title and the table of building, date, place, type, officers. */
void kopro_doc__meeting_header(struct doc_ctx *c, const struct kopro_assembly *a, const char *title);

/* Open a block kept on one page (kopro_pdf_keep_begin) with the signatures
 * heading, the template text `intro_key` and the president's and secretary's
 * signature lines ("unknown_officer" for a missing name). The caller may add
 * lines and closes the block with kopro_pdf_keep_end(). */
void kopro_doc__officer_signatures(struct doc_ctx *c, const struct kopro_assembly *a,
                                   const char *intro_key);

/* One resolution: majority, tally table, caps, outcome, names; with_chart adds
 * the pour/contre/abstention chart of kopro_doc__vote_chart(). */
void kopro_doc__resolution(struct doc_ctx *c, const struct kopro_assembly *a,
                           const struct kopro_legal_resolution *lr, size_t n, int with_chart);

/* A bar chart of the counted pour / contre / abstention shares, drawn with
 * cairo into a PNG and placed in the flow, with its caption as text. */
void kopro_doc__vote_chart(struct doc_ctx *c, const struct kopro_legal_resolution *lr);

#endif
