/*
 * kopro/doc.h — the legal documents kopro renders (kopro/pdf.h) from the
 * models of the legal engine (kopro/assembly.h, kopro/legal.h).
 *
 * Every document is deterministic: the same model and options give the same
 * bytes whatever TZ, LC_ALL or the clock. The "generation time" printed in
 * the footer and written as /CreationDate comes from the options
 * (generated_at_utc) or, when 0, from the input (the meeting's scheduled
 * date). The footer also carries the SHA-256 fingerprint of the input: the
 * canonical JSON of the model (kopro_assembly_to_json(), keys sorted,
 * compact) followed by the options that change the content (language,
 * final).
 *
 * Thread-safety: reentrant; documents made in parallel threads are
 * independent.
 */
#ifndef KOPRO_DOC_H
#define KOPRO_DOC_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "kopro/accounts.h"
#include "kopro/assembly.h"
#include "kopro/hash.h"

struct kopro_doc_options {
    const char *lang;         /* "fr" (default when NULL), "nl", "de", "en" */
    int final;                /* 0: draft watermark "PROJET / ONTWERP / ENTWURF / DRAFT" */
    const char *template_dir; /* NULL: kopro_i18n_template_dir(NULL) */
    const char *font_dir;     /* NULL: see kopro/pdf.h */
    int64_t generated_at_utc; /* seconds since the epoch; 0: from the input */
};

struct kopro_doc_output {
    unsigned char *pdf; /* owned; free with kopro_doc_output_free() */
    size_t pdf_bytes;
    int pages;
    char sha256[KOPRO_SHA256_HEX_BYTES];       /* of the PDF bytes */
    char input_sha256[KOPRO_SHA256_HEX_BYTES]; /* the input fingerprint (footer) */
};

/*
 * Render the minutes (procès-verbal / notulen / Protokoll) of the assembly
 * `a`: header (building, date and place in Europe/Brussels, type, second
 * convocation, president and secretary), attendance table with shares and
 * proxies and the source of the attendance, the quorum computation by both
 * routes of art. 3.87 §5 and the validity statement, proxy breaches of
 * art. 3.87 §7, the agenda, each resolution with its majority (art. 3.88),
 * pour / contre / abstention in owners and shares, the result, the names
 * voting against and abstaining (art. 3.87 §10), vote-cap adjustments and
 * disagreements with KoproGo's stored status, and one signature line per
 * person present, in a block never split across pages.
 *
 * out:  filled on success; release with kopro_doc_output_free().
 * a:    the model (borrowed). The legal result is computed here
 *       (kopro_legal_compute), never by the renderer itself.
 * opts: options (borrowed); NULL means French draft.
 * Returns 0; KOPRO_EINVAL for inconsistent data (the legal engine's message,
 * naming the row and the rule), an unknown language or a missing template
 * key (naming file and key); KOPRO_ENOTFOUND for a missing template file or
 * font; KOPRO_ETOOBIG / KOPRO_ERROR from the layout engine.
 * Source: Code civil art. 3.87 §5, §7, §10, art. 3.88; ../shared/docs/legal-be.md.
 */
int kopro_doc_minutes(struct kopro_doc_output *out, const struct kopro_assembly *a,
                      const struct kopro_doc_options *opts);

/*
 * Render the vote results of the assembly `a`: per resolution the majority
 * required and its article (art. 3.88), pour / contre / abstention in owners
 * and in shares with the percentage of votes cast, a bar chart drawn with
 * cairo, the result, the names behind contre and abstention, and vote-cap
 * adjustments (art. 3.87 §7) with the tallies before the cap; proxy-limit
 * breaches; the signature blocks of the president and the secretary.
 * Arguments, ownership and errors as kopro_doc_minutes().
 * Source: Code civil art. 3.87 §7, §10, art. 3.88; ../shared/docs/legal-be.md.
 */
int kopro_doc_votes(struct kopro_doc_output *out, const struct kopro_assembly *a,
                    const struct kopro_doc_options *opts);

/*
 * Render the building's accounts for the period of `m` (kopro/accounts.h):
 * class 6 charges and class 7 income by PCN account (codes and labels from
 * KoproGo's `accounts` table), with totals and the result, and the source
 * of the movements (journal or expenses). The generation time defaults to
 * the end of the period. Arguments, ownership and errors as
 * kopro_doc_minutes().
 * Source: Arrêté royal of 12 July 2012 (PCN of co-owners' associations).
 */
int kopro_doc_pcn(struct kopro_doc_output *out, const struct kopro_accounts *m,
                  const struct kopro_doc_options *opts);

/*
 * Render the charge statement (décompte de charges) `item` of `s` (computed
 * by kopro_accounts_statements() from `m`): the owner's share, each class-6
 * account with the building's total and the owner's part (largest
 * remainder, exact to the cent), working-capital provisions called and
 * paid, reserve-fund calls shown apart, the balance due or credit and the
 * calls not yet paid. Returns the errors of kopro_doc_minutes(), and
 * KOPRO_EINVAL for an `item` out of range.
 * Source: AR 12 July 2012; Code civil art. 3.86 §3; ../shared/docs/legal-be.md.
 */
int kopro_doc_statement(struct kopro_doc_output *out, const struct kopro_accounts *m,
                        const struct kopro_statements *s, size_t item,
                        const struct kopro_doc_options *opts);

/*
 * A detached, ASCII-armoured OpenPGP signature of `data` by the secret key
 * `fingerprint` (40 hex digits) from the keyring `gnupghome` (NULL: GnuPG's
 * default, $GNUPGHOME), made with GPGME; `gpg --verify FILE.asc FILE`
 * accepts it. *out_asc (caller frees) receives the armoured text and
 * *out_bytes its length.
 * Returns 0; KOPRO_ENOTFOUND if no secret key has that fingerprint;
 * KOPRO_EINVAL for a malformed fingerprint; KOPRO_ERROR for a GPGME failure
 * (message carries gpgme_strerror). The key must not need a passphrase
 * (batch use, no pinentry).
 * Thread-safety: one GPGME context per call.
 * Source: RFC 4880 §11.4 (detached signatures); GPGME manual, "Signing".
 */
int kopro_doc_sign(char **out_asc, size_t *out_bytes, const void *data, size_t data_bytes,
                   const char *fingerprint, const char *gnupghome);

struct kopro_docstore_entry;

/*
 * Keep a rendered document in the document store `store` (kopro/docstore.h)
 * at `relpath`, register it in KoproGo's database when `db` is non-NULL
 * (documents row, meetings.minutes_document_id when e->set_minutes,
 * audit_logs ReportGenerated; e's path, size and hashes are filled here),
 * and build the job result {"path", "content_type": "application/pdf",
 * "size_bytes", "sha256", "pages", "lang", "input_sha256", "document_id"}.
 * *out_result: new reference (json_decref), NULL on error.
 * Returns 0 or the errors of kopro_docstore_put() / kopro_docstore_register().
 */
int kopro_doc_store(json_t **out_result, PGconn *db, const char *store, const char *relpath,
                    const struct kopro_doc_output *doc, struct kopro_docstore_entry *e);

struct kopro_config;

/*
 * kopro_doc_store() for any store kopro_docstore_put_cfg() accepts, S3
 * settings read from `cfg` (NULL: environment). For a directory store the
 * result is as above; for an s3:// store it carries "url" (the object's
 * s3://BUCKET/KEY, also documents.file_path) instead of "path", so kopro-api,
 * which streams result.path from below a file:// store only, does not try to
 * open it. The database rows are written only after the upload succeeded,
 * and if registering fails the stored copy is removed again
 * (kopro_docstore_remove()) and the registration error returned.
 * Returns 0 or the errors of kopro_docstore_put_cfg() / kopro_docstore_register().
 */
int kopro_doc_store_cfg(json_t **out_result, const struct kopro_config *cfg, PGconn *db,
                        const char *store, const char *relpath,
                        const struct kopro_doc_output *doc, struct kopro_docstore_entry *e);

/* Which document of one general assembly kopro_doc_job_meeting() renders. */
enum kopro_doc_meeting_kind {
    KOPRO_DOC_MINUTES, /* procès-verbal: {meeting}-{lang}.pdf, sets meetings.minutes_document_id */
    KOPRO_DOC_VOTES,   /* vote results: {meeting}-votes-{lang}.pdf */
};

/*
 * The body of the job kinds "pdf.minutes" and "pdf.votes": read
 * payload.meeting_id and the options (kopro_doc_payload_options()), load the
 * assembly from `db` (kopro_assembly_load_db()), render `which`, and keep it
 * with kopro_doc_store_cfg() in KOPRO_DOCUMENT_STORE at
 * {org}/{building}/pv/{meeting}[-votes]-{lang}.pdf. Templates and fonts come
 * from KOPRO_TEMPLATE_DIR / KOPRO_FONT_DIR in `cfg` (NULL: environment).
 * `job_kind` ("pdf.minutes") names the payload in error messages.
 * *out_result (caller owns, json_decref) is set as kopro_doc_store_cfg() does.
 * Returns 0, KOPRO_EINVAL (bad payload, inconsistent assembly),
 * KOPRO_ENOTFOUND (unknown meeting), or the errors of the renderer and the store.
 * Thread-safety: as the functions it calls; one `db` per thread.
 */
int kopro_doc_job_meeting(json_t **out_result, PGconn *db, const struct kopro_config *cfg,
                          const json_t *payload, const char *job_kind,
                          enum kopro_doc_meeting_kind which);

/*
 * Job payload helpers (jobs/pdf_*.c). kopro_doc_payload_options() checks and
 * reads "lang" (fr|nl|de|en, default fr), "final" (bool, default false) and
 * "generated_at" (ISO 8601, optional) into *o (strings borrowed from the
 * payload). kopro_doc_payload_uuid() / _date() read a required member that
 * must be a uuid / a YYYY-MM-DD date; `required` 0 allows it to be absent
 * (*out NULL). All return 0 or KOPRO_EINVAL naming "<kind>: payload.<key>".
 */
int kopro_doc_payload_options(struct kopro_doc_options *o, const json_t *payload, const char *kind);
int kopro_doc_payload_uuid(const char **out, const json_t *payload, const char *key, int required,
                           const char *kind);
int kopro_doc_payload_date(const char **out, const json_t *payload, const char *key,
                           const char *kind);

/* Release the PDF held by `o` (wiped: it carries personal data); NULL allowed. */
void kopro_doc_output_free(struct kopro_doc_output *o);

/*
 * Write the PDF to `path` atomically (kopro/fs.h, mode 0640), or to standard
 * output when path is "-". Returns 0, KOPRO_ENOTFOUND if the directory does
 * not exist, KOPRO_ERROR otherwise (message names the path).
 */
int kopro_doc_write(const struct kopro_doc_output *o, const char *path);

#endif
