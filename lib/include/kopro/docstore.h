/*
 * kopro/docstore.h — where produced documents are kept: a directory given as
 * a file:// URL or a plain path (KOPRO_DOCUMENT_STORE; default
 * ./var/documents), or an S3 prefix s3://BUCKET[/PREFIX] (kopro_docstore_put_cfg
 * only), with KoproGo's layout `{org}/{building}/pv/{name}` below it.
 * Files are written atomically (kopro/fs.h) and objects with one PutObject
 * (kopro/s3.h): a reader never sees half a PDF.
 */
#ifndef KOPRO_DOCSTORE_H
#define KOPRO_DOCSTORE_H

#include <libpq-fe.h>
#include <stddef.h>

#define KOPRO_DOCSTORE_DEFAULT "./var/documents"

/*
 * Store `data` under `store` at the relative path `relpath` (e.g.
 * "ORG/BUILDING/pv/MEETING-fr.pdf"), creating directories (0750), file mode
 * 0640. `store` NULL or "" means KOPRO_DOCSTORE_DEFAULT; "file:///abs/dir"
 * and "/abs/dir" or "rel/dir" are accepted. *out_path receives the absolute
 * path of the stored file (caller frees).
 * Returns 0; KOPRO_EINVAL for another URL scheme (s3:// included: use
 * kopro_docstore_put_cfg(), whose callers know how to report a URL) or a relpath holding ".."
 * or starting with '/'; KOPRO_ERROR for a file-system failure (message names
 * the path).
 * Thread-safety: reentrant.
 */
int kopro_docstore_put(char **out_path, const char *store, const char *relpath, const void *data,
                       size_t data_bytes);

struct kopro_config;

/*
 * Like kopro_docstore_put(), and also for an S3 store: `store`
 * "s3://BUCKET" or "s3://BUCKET/PREFIX" puts `data` at the object key
 * "PREFIX/relpath" with one PutObject, whose body's real SHA-256 is signed
 * (x-amz-content-sha256, SigV4); S3 makes the object visible whole or not at
 * all. The S3 settings (KOPRO_S3_ENDPOINT, _REGION, _ACCESS_KEY, _SECRET_KEY
 * or _CREDENTIALS_FILE, _PATH_STYLE, _MAX_ATTEMPTS, _RETRY_BASE_MS) are read
 * from `cfg` as kopro_s3_new_config() does (cfg NULL: environment only), the
 * same as kopro-backup's s3:// repositories.
 * *out_location (caller frees) receives the absolute path of the stored file
 * for a directory store, or the object's URL "s3://BUCKET/PREFIX/relpath" for
 * an S3 store (what documents.file_path then holds).
 * Returns 0; KOPRO_EINVAL (unknown scheme, no bucket, bad relpath, a
 * document over 5 GiB, or a malformed S3 setting); KOPRO_EAUTH (S3 refused
 * the credentials: wrong key or secret); KOPRO_ENOTFOUND (no such bucket or
 * credentials file); KOPRO_EUNAVAIL (S3 unreachable after the retries);
 * KOPRO_ERROR. Messages name the store and the key. Nothing is stored on
 * error.
 * Thread-safety: reentrant (one S3 client per call).
 * Source: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html.
 */
int kopro_docstore_put_cfg(char **out_location, const struct kopro_config *cfg, const char *store,
                           const char *relpath, const void *data, size_t data_bytes);

/*
 * Remove a document stored by kopro_docstore_put_cfg(), given the
 * *out_location it returned (an absolute path or an s3:// URL; S3 settings
 * from `cfg` as there): undoes a put whose registration failed, so nothing
 * half-done stays in the store. A missing file or object is not an error.
 * Returns 0, KOPRO_EINVAL (not a location from this module), the errors of
 * kopro_s3_delete(), or KOPRO_ERROR (unlink failed; message names the path).
 * Thread-safety: reentrant.
 */
int kopro_docstore_remove(const struct kopro_config *cfg, const char *location);

/* 1 if `store` (or a location from kopro_docstore_put_cfg) is an s3:// URL. */
int kopro_docstore_is_s3(const char *store);

/* What a stored document is, for kopro_docstore_register(). */
struct kopro_docstore_entry {
    const char *organization_id; /* uuid; may be NULL */
    const char *building_id;     /* uuid, required (documents.building_id NOT NULL) */
    const char *meeting_id;      /* uuid or NULL: documents.related_meeting_id */
    const char *document_type;   /* KoproGo enum: "meeting_minutes", "financial_statement", ... */
    const char *title;           /* documents.title (<= 255 bytes, cut at a UTF-8 boundary) */
    const char *path;            /* absolute path of the stored file, or its s3:// URL */
    size_t size_bytes;           /* > 0 */
    const char *kind;            /* kopro's name for audit metadata: "minutes", "votes", ... */
    const char *lang;            /* "fr", ... */
    const char *sha256;          /* hex of the file */
    const char *input_sha256;    /* hex of the input fingerprint */
    int set_minutes;             /* 1: also set meetings.minutes_document_id */
};

/*
 * Register a stored document in KoproGo's database, in one transaction:
 * insert a `documents` row (mime_type application/pdf), set
 * meetings.minutes_document_id when e->set_minutes, and write an
 * `audit_logs` row (event_type ReportGenerated, resource_type "document",
 * metadata {kind, lang, sha256, input_sha256, path, meeting_id}). Never
 * alters a table definition. *out_document_id (caller frees) receives the
 * new documents.id; may be NULL.
 * Returns 0, KOPRO_EINVAL for a missing building_id or size 0, or the errors
 * of kopro_db_exec() (the transaction is then rolled back).
 * Thread-safety: one connection per thread.
 * Source: ../shared/docs/koprogo-schema.md (documents, meetings, audit_logs).
 */
int kopro_docstore_register(char **out_document_id, PGconn *db,
                            const struct kopro_docstore_entry *e);

#endif
