/*
 * kopro/s3.h — a small S3 client over libcurl, signing with AWS Signature
 * Version 4 (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3").
 *
 * Works with OVH Object Storage (https://s3.<region>.io.cloud.ovh.net) and any
 * S3 API. Virtual-host addressing (https://BUCKET.host/KEY) by default, path
 * style (https://host/BUCKET/KEY) as an option. Every request carries the real
 * SHA-256 of its body in x-amz-content-sha256 (signed). Query keys are sorted
 * and percent-encoded and the key path is percent-encoded before signing, as
 * curl 7.88 signs the URL as given ("?uploads=" not "?uploads").
 * Failed requests (HTTP 5xx and 429, timeouts, resets, refused connections)
 * are retried with exponential backoff and full jitter, a bounded number of
 * times. Secrets are given in memory only (never argv) and wiped on free.
 *
 * Sources: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
 * https://curl.se/libcurl/c/CURLOPT_AWS_SIGV4.html.
 * Thread-safety: one client per thread. curl_global_init() must have been
 * called (kopro_s3_new() does it once, thread-safely).
 */
#ifndef KOPRO_S3_H
#define KOPRO_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct kopro_s3; /* opaque client bound to one bucket */

struct kopro_s3_settings {
    const char *endpoint;   /* "https://s3.gra.io.cloud.ovh.net" (scheme://host[:port]) */
    const char *region;     /* "gra" */
    const char *access_key; /* copied, wiped on free */
    const char *secret_key; /* copied, wiped on free */
    int path_style;         /* 1: https://host/BUCKET/KEY */
    int max_attempts;       /* per request, including the first; 0: 6 */
    long retry_base_ms;     /* first backoff; doubles each retry, capped at 8 s; 0: 200 */
    long timeout_ms;        /* a transfer stalled (< 1 byte/s) this long fails; 0: 60000 */
};

/*
 * A client for `bucket`. Returns 0, KOPRO_EINVAL (missing or malformed
 * setting; the message names it) or KOPRO_ERROR. *out is owned by the caller:
 * kopro_s3_free().
 */
int kopro_s3_new(struct kopro_s3 **out, const struct kopro_s3_settings *s, const char *bucket);

/* Release and wipe the credentials; NULL allowed. */
void kopro_s3_free(struct kopro_s3 *s);

struct kopro_config;

/*
 * A client for `bucket` with the settings every kopro S3 user shares, read
 * from `cfg` (environment first, then the config file; cfg NULL: environment
 * only): KOPRO_S3_ENDPOINT, KOPRO_S3_REGION, KOPRO_S3_ACCESS_KEY,
 * KOPRO_S3_SECRET_KEY (or, for those two, an AWS-style credentials file
 * KOPRO_S3_CREDENTIALS_FILE with a [default] section), KOPRO_S3_PATH_STYLE
 * (1/true/yes), KOPRO_S3_MAX_ATTEMPTS, KOPRO_S3_RETRY_BASE_MS.
 * Returns 0, KOPRO_ENOTFOUND (credentials file unreadable), or the errors of
 * kopro_s3_new(). *out: caller frees with kopro_s3_free(). Secrets read from
 * the credentials file are wiped before return.
 * Used by kopro/repo.h (s3:// backup repositories) and kopro/docstore.h.
 */
int kopro_s3_new_config(struct kopro_s3 **out, const struct kopro_config *cfg, const char *bucket);

/*
 * Errors of every request below: KOPRO_ENOTFOUND (NoSuchBucket, NoSuchKey,
 * NoSuchUpload; the message says which), KOPRO_EAUTH (403: bad key or
 * signature), KOPRO_EINVAL (other 4xx), KOPRO_EUNAVAIL (still failing after
 * the retries, or unreachable), KOPRO_ERROR. Messages carry S3's error code.
 */

/* PutObject: store len_bytes at `key` (atomic: visible whole or not at all). */
int kopro_s3_put(struct kopro_s3 *s, const char *key, const void *data, size_t len_bytes);

/*
 * GetObject of a byte range [offset, offset+len_bytes) into *out (malloc'ed,
 * caller frees), *got_bytes bytes; *total_bytes_out (may be NULL) receives the
 * object size. A range past the end gives *got_bytes = 0.
 */
int kopro_s3_get_range(unsigned char **out, size_t *got_bytes, int64_t *total_bytes_out,
                       struct kopro_s3 *s, const char *key, int64_t offset, size_t len_bytes);

/* DeleteObject (a missing key is not an error, as in S3). */
int kopro_s3_delete(struct kopro_s3 *s, const char *key);

/* CreateMultipartUpload: *upload_id_out (caller frees). */
int kopro_s3_multipart_start(char **upload_id_out, struct kopro_s3 *s, const char *key);

/*
 * UploadPart number part_no (1..10000); *etag_out (caller frees) is needed to
 * complete. Every part but the last must be at least 5 MiB.
 */
int kopro_s3_multipart_part(char **etag_out, struct kopro_s3 *s, const char *key,
                            const char *upload_id, int part_no, const void *data,
                            size_t len_bytes);

/* CompleteMultipartUpload with the n_parts ETags of parts 1..n_parts. */
int kopro_s3_multipart_complete(struct kopro_s3 *s, const char *key, const char *upload_id,
                                char *const *etags, int n_parts);

/* AbortMultipartUpload (an unknown upload is not an error). */
int kopro_s3_multipart_abort(struct kopro_s3 *s, const char *key, const char *upload_id);

struct kopro_s3_object {
    char *key;          /* owned */
    char *upload_id;    /* owned; only for kopro_s3_list_uploads() */
    int64_t size_bytes; /* ListObjectsV2 Size */
    time_t time;        /* LastModified, or Initiated for uploads */
};

/* ListObjectsV2 of every key starting with `prefix` (all pages), sorted by key. */
int kopro_s3_list(struct kopro_s3_object **out, size_t *n_out, struct kopro_s3 *s,
                  const char *prefix);

/* ListMultipartUploads of keys starting with `prefix` (all pages). */
int kopro_s3_list_uploads(struct kopro_s3_object **out, size_t *n_out, struct kopro_s3 *s,
                          const char *prefix);

/* Release a listing; NULL allowed. */
void kopro_s3_objects_free(struct kopro_s3_object *v, size_t n);

/* Requests retried so far by this client (for logs and tests). */
unsigned long kopro_s3_retries(const struct kopro_s3 *s);

#endif
