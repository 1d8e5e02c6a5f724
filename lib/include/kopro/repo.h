/*
 * kopro/repo.h — a backup repository: a flat key space of objects behind a URL.
 *
 *   file:///abs/path     a local directory (the embedded default)
 *   s3://bucket/prefix   an S3 bucket (kopro/s3.h), e.g. OVH Object Storage
 *
 * Keys are relative paths such as "data/ID.dump.zst.gpg" or
 * "manifests/ID.json". Large objects are written with a streaming upload that
 * is invisible until committed (file: temporary name, fsync, rename; S3:
 * multipart upload completed at commit). Small objects (manifests) are written
 * atomically in one piece.
 */
#ifndef KOPRO_REPO_H
#define KOPRO_REPO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct kopro_config;
struct kopro_repo;          /* opaque */
struct kopro_repo_upload;   /* opaque streaming writer */
struct kopro_repo_download; /* opaque streaming reader */

struct kopro_repo_entry {
    char *key;          /* owned, relative to the repository root */
    int64_t size_bytes; /* object size */
    time_t mtime;       /* last modification, UTC seconds */
};

/*
 * Open the repository at `url` (file:///abs/path or s3://bucket/prefix).
 * `cfg` supplies S3 settings (KOPRO_S3_*); it may be NULL (environment only)
 * and must outlive the repository. Nothing is created yet.
 * Returns 0, or KOPRO_EINVAL for an unsupported or malformed URL (the message
 * names it). *out is owned by the caller: kopro_repo_free().
 * Thread-safety: one repository handle per thread.
 */
int kopro_repo_open(struct kopro_repo **out, const char *url, const struct kopro_config *cfg);

/* The URL the repository was opened with; belongs to `r`. */
const char *kopro_repo_url(const struct kopro_repo *r);

/*
 * Start a streaming upload of `key`. Nothing is visible under `key` until
 * kopro_repo_upload_commit(). Returns 0, KOPRO_ERROR (e.g. repository
 * unwritable; the message names the path), KOPRO_EUNAVAIL/KOPRO_EAUTH (S3).
 * *out is owned by the caller, who must end with _commit() or _abort().
 */
int kopro_repo_upload_begin(struct kopro_repo_upload **out, struct kopro_repo *r,
                            const char *key);

/* Append len_bytes. Returns 0 or an error as above (the upload stays open; abort it). */
int kopro_repo_upload_write(struct kopro_repo_upload *u, const void *data, size_t len_bytes);

/*
 * Make the object visible under its key (fsync + rename, or complete the
 * multipart upload) and release `u`. *parts_out (may be NULL) receives the
 * number of parts (1 for file://). Returns 0 or an error; on error the partial
 * object is removed/aborted where possible and `u` is released.
 */
int kopro_repo_upload_commit(struct kopro_repo_upload *u, unsigned *parts_out);

/* Discard a partial upload and release `u`; NULL allowed. */
void kopro_repo_upload_abort(struct kopro_repo_upload *u);

/*
 * Write a small object atomically (whole or not at all). Returns 0 or an
 * error as kopro_repo_upload_begin().
 */
int kopro_repo_put(struct kopro_repo *r, const char *key, const void *data, size_t len_bytes);

/*
 * Read a whole small object into *out (NUL-terminated; caller frees) and its
 * length into *len_out (may be NULL), refusing more than cap_bytes.
 * Returns 0, KOPRO_ENOTFOUND, KOPRO_ETOOBIG or another error.
 */
int kopro_repo_get(char **out, size_t *len_out, struct kopro_repo *r, const char *key,
                   size_t cap_bytes);

/*
 * Open `key` for streaming reads. Returns 0, KOPRO_ENOTFOUND or another error.
 * *out is owned by the caller: kopro_repo_download_close().
 */
int kopro_repo_download_open(struct kopro_repo_download **out, struct kopro_repo *r,
                             const char *key);

/* Read up to len_bytes. Returns the count, 0 at the end, or -1 with the error set. */
ssize_t kopro_repo_download_read(struct kopro_repo_download *d, void *buf, size_t len_bytes);

/* Release; NULL allowed. */
void kopro_repo_download_close(struct kopro_repo_download *d);

/*
 * List the committed objects whose key starts with `prefix` (e.g.
 * "manifests/"), sorted by key. *out (array of *n_out entries) is owned by the
 * caller: kopro_repo_entries_free(). A repository root that does not exist is
 * KOPRO_ENOTFOUND; an empty prefix directory is an empty list.
 */
int kopro_repo_list(struct kopro_repo_entry **out, size_t *n_out, struct kopro_repo *r,
                    const char *prefix);

/* Release a listing; NULL allowed. */
void kopro_repo_entries_free(struct kopro_repo_entry *e, size_t n);

/* Delete `key`. A missing object is not an error. Returns 0 or an error. */
int kopro_repo_delete(struct kopro_repo *r, const char *key);

/*
 * Discard abandoned uploads started more than older_than_s seconds ago
 * (file: temporary files; S3: incomplete multipart uploads, aborted with
 * AbortMultipartUpload). *removed_out (may be NULL) receives the count.
 * Returns 0 or an error.
 */
int kopro_repo_gc_uploads(struct kopro_repo *r, long older_than_s, size_t *removed_out);

/* Release; NULL allowed. */
void kopro_repo_free(struct kopro_repo *r);

#endif
