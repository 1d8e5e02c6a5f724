/*
 * s3:// repositories (kopro/repo.h over kopro/s3.h).
 *
 * Large objects always go through a multipart upload: parts of 5 MiB, the
 * size doubling every 1,000 parts (5 MiB x 1,000 + 10 MiB x 1,000 + ... covers
 * 5 TiB within S3's 10,000-part limit); the object appears only when
 * CompleteMultipartUpload succeeds. Downloads are ranged GETs of 8 MiB, each
 * retried on its own. Memory: one part buffer and one range buffer.
 */
#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/s3.h"
#include "repo_internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MIN_PART (5u * 1024 * 1024)
#define MAX_PARTS 10000
#define RANGE_BYTES (8u * 1024 * 1024)

/*
 * Parts are uploaded by a helper thread while the caller fills the next part
 * buffer (double buffering), so compression and encryption do not wait for
 * the network. At most one part is in flight; the client (curl handle) is
 * used by one thread at a time: the helper while a part is in flight, the
 * caller only after joining it.
 */
struct s3_upload {
    struct kopro_repo *repo;
    char *key; /* full key, with the prefix */
    char *upload_id;
    unsigned char *buf; /* being filled */
    size_t len, cap;
    int parts; /* parts handed to the uploader so far */
    char *etags[MAX_PARTS];
    /* the part in flight */
    pthread_t thr;
    int busy;
    unsigned char *fly;
    size_t fly_len, fly_cap;
    int fly_no;
    int fly_rc;
    char fly_msg[1024];
};

struct s3_download {
    struct kopro_repo *repo;
    char *key;
    int64_t offset; /* of the next range */
    int64_t total;  /* -1 until known */
    unsigned char *buf;
    size_t len, pos;
    int eof;
};

void kopro_repo_fault_point(const char *name)
{
    const char *at = getenv("KOPRO_FAULT_KILL_AT");
    if (at != NULL && strcmp(at, name) == 0)
        raise(SIGKILL);
}

static size_t part_size(int part_no) /* 1-based */
{
    int tier = (part_no - 1) / 1000;
    return (size_t)MIN_PART << (tier < 10 ? tier : 10);
}

static char *full_key(const struct kopro_repo *r, const char *key)
{
    size_t n = strlen(r->prefix) + strlen(key) + 1;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s%s", r->prefix, key);
    return k;
}

int kopro_repo_s3_open(struct kopro_repo *r, const char *url, const struct kopro_config *cfg)
{
    const char *rest = url + 5, *slash;
    char *bucket = NULL;
    size_t plen;
    int rc = 0;

    slash = strchr(rest, '/');
    bucket = slash ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
    if (bucket == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    plen = slash ? strlen(slash + 1) : 0;
    r->prefix = malloc(plen + 2);
    if (r->prefix == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    snprintf(r->prefix, plen + 2, "%s", slash ? slash + 1 : "");
    while (plen > 0 && r->prefix[plen - 1] == '/')
        r->prefix[--plen] = '\0';
    if (plen > 0)
        strcat(r->prefix, "/");
    rc = kopro_s3_new_config(&r->s3, cfg, bucket);
    if (rc != 0)
        kopro_error_wrap(rc, "repository %s", url);
done:
    free(bucket);
    return rc;
}

void kopro_repo_s3_close(struct kopro_repo *r)
{
    kopro_s3_free(r->s3);
    r->s3 = NULL;
    free(r->prefix);
    r->prefix = NULL;
}

/* Wait for the part in flight; returns its result (error message restored). */
static int join_part(struct s3_upload *u)
{
    if (!u->busy)
        return 0;
    pthread_join(u->thr, NULL);
    u->busy = 0;
    if (u->fly_rc != 0)
        return kopro_error_set(u->fly_rc, "%s", u->fly_msg);
    if (u->fly_no == 1)
        kopro_repo_fault_point("mid-upload");
    return 0;
}

static void upload_free(struct s3_upload *u)
{
    if (u == NULL)
        return;
    join_part(u);
    for (int i = 0; i < u->parts; i++)
        free(u->etags[i]);
    free(u->key);
    free(u->upload_id);
    free(u->buf);
    free(u->fly);
    free(u);
}

int kopro_repo_s3_upload_begin(void **out, struct kopro_repo *r, const char *key)
{
    struct s3_upload *u = calloc(1, sizeof(*u));
    int rc;
    *out = NULL;
    if (u == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    u->repo = r;
    u->key = full_key(r, key);
    u->cap = part_size(1);
    u->buf = malloc(u->cap);
    if (u->key == NULL || u->buf == NULL) {
        upload_free(u);
        return kopro_error_set(KOPRO_ERROR, "out of memory for the upload buffer");
    }
    kopro_repo_fault_point("before-initiate");
    rc = kopro_s3_multipart_start(&u->upload_id, r->s3, u->key);
    if (rc != 0) {
        upload_free(u);
        return rc;
    }
    *out = u;
    return 0;
}

static void *part_thread(void *arg)
{
    struct s3_upload *u = arg;
    u->fly_rc = kopro_s3_multipart_part(&u->etags[u->fly_no - 1], u->repo->s3, u->key,
                                        u->upload_id, u->fly_no, u->fly, u->fly_len);
    if (u->fly_rc != 0)
        snprintf(u->fly_msg, sizeof(u->fly_msg), "%s", kopro_error_last());
    return NULL;
}

/* Hand the filled buffer to the uploader thread (after the previous part is
 * done) and continue with the other buffer. */
static int flush_part(struct s3_upload *u)
{
    unsigned char *t;
    size_t tcap;
    int rc;
    if (u->parts == MAX_PARTS)
        return kopro_error_set(KOPRO_ETOOBIG, "S3 object %s needs more than %d parts", u->key,
                               MAX_PARTS);
    rc = join_part(u);
    if (rc != 0)
        return rc;
    t = u->fly;
    tcap = u->fly_cap;
    u->fly = u->buf;
    u->fly_cap = u->cap;
    u->fly_len = u->len;
    u->fly_no = ++u->parts;
    u->fly_rc = 0;
    u->buf = t;
    u->cap = tcap;
    u->len = 0;
    if (pthread_create(&u->thr, NULL, part_thread, u) != 0) {
        /* no thread: upload in the caller */
        part_thread(u);
        if (u->fly_rc != 0)
            return kopro_error_set(u->fly_rc, "%s", u->fly_msg);
    } else {
        u->busy = 1;
    }
    if (u->cap != part_size(u->parts + 1) || u->buf == NULL) {
        unsigned char *nb = realloc(u->buf, part_size(u->parts + 1));
        if (nb == NULL)
            return kopro_error_set(KOPRO_ERROR, "out of memory growing the part buffer");
        u->buf = nb;
        u->cap = part_size(u->parts + 1);
    }
    return 0;
}

int kopro_repo_s3_upload_write(void *arg, const void *data, size_t len_bytes)
{
    struct s3_upload *u = arg;
    const unsigned char *p = data;
    while (len_bytes > 0) {
        size_t n = u->cap - u->len;
        if (n > len_bytes)
            n = len_bytes;
        memcpy(u->buf + u->len, p, n);
        u->len += n;
        p += n;
        len_bytes -= n;
        if (u->len == u->cap) {
            int rc = flush_part(u);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int kopro_repo_s3_upload_commit(void *arg, unsigned *parts_out)
{
    struct s3_upload *u = arg;
    int rc = 0;
    if (u->len > 0 || u->parts == 0)
        rc = flush_part(u);
    if (rc == 0)
        rc = join_part(u);
    if (rc == 0) {
        kopro_repo_fault_point("before-complete");
        rc = kopro_s3_multipart_complete(u->repo->s3, u->key, u->upload_id, u->etags, u->parts);
    }
    if (rc == 0 && parts_out != NULL)
        *parts_out = (unsigned)u->parts;
    if (rc != 0) {
        int code = kopro_error_last_code();
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", kopro_error_last());
        join_part(u); /* the client is free again */
        kopro_s3_multipart_abort(u->repo->s3, u->key, u->upload_id);
        kopro_error_set(code, "%s", msg);
    }
    upload_free(u);
    return rc;
}

void kopro_repo_s3_upload_abort(void *arg)
{
    struct s3_upload *u = arg;
    if (u == NULL)
        return;
    if (u->upload_id != NULL) {
        int code = kopro_error_last_code();
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", kopro_error_last());
        join_part(u); /* the client is free again */
        /* best effort: gc aborts it later otherwise */
        kopro_s3_multipart_abort(u->repo->s3, u->key, u->upload_id);
        kopro_error_set(code, "%s", msg);
    }
    upload_free(u);
}

int kopro_repo_s3_put(struct kopro_repo *r, const char *key, const void *data, size_t len)
{
    char *k = full_key(r, key);
    int rc;
    if (k == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_s3_put(r->s3, k, data, len);
    free(k);
    return rc;
}

int kopro_repo_s3_get(char **out, size_t *len_out, struct kopro_repo *r, const char *key,
                      size_t cap_bytes)
{
    unsigned char *data = NULL;
    size_t got = 0;
    int64_t total = -1;
    char *k = full_key(r, key);
    int rc;

    *out = NULL;
    if (k == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_s3_get_range(&data, &got, &total, r->s3, k, 0, cap_bytes + 1);
    if (rc == 0 && got > cap_bytes)
        rc = kopro_error_set(KOPRO_ETOOBIG, "S3 object %s is over the limit of %zu bytes", k,
                             cap_bytes);
    if (rc == 0 && data == NULL) {
        data = (unsigned char *)strdup("");
        if (data == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    if (rc == 0) {
        *out = (char *)data;
        data = NULL;
        if (len_out != NULL)
            *len_out = got;
    }
    free(data);
    free(k);
    return rc;
}

int kopro_repo_s3_download_open(void **out, struct kopro_repo *r, const char *key)
{
    struct s3_download *d = calloc(1, sizeof(*d));
    int rc;
    *out = NULL;
    if (d == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    d->repo = r;
    d->total = -1;
    d->key = full_key(r, key);
    if (d->key == NULL) {
        free(d);
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    /* fetch the first range now, so a missing object is reported here */
    rc = kopro_s3_get_range(&d->buf, &d->len, &d->total, r->s3, d->key, 0, RANGE_BYTES);
    if (rc != 0) {
        kopro_repo_s3_download_close(d);
        return rc;
    }
    d->offset = (int64_t)d->len;
    if (d->len == 0 || (d->total >= 0 && d->offset >= d->total))
        d->eof = 1;
    *out = d;
    return 0;
}

ssize_t kopro_repo_s3_download_read(void *arg, void *buf, size_t len_bytes)
{
    struct s3_download *d = arg;
    size_t n;
    if (d->pos == d->len) {
        if (d->eof)
            return 0;
        free(d->buf);
        d->buf = NULL;
        d->len = d->pos = 0;
        if (kopro_s3_get_range(&d->buf, &d->len, NULL, d->repo->s3, d->key, d->offset,
                               RANGE_BYTES) != 0)
            return -1;
        d->offset += (int64_t)d->len;
        if (d->len == 0 || (d->total >= 0 && d->offset >= d->total))
            d->eof = 1;
        if (d->len == 0)
            return 0;
    }
    n = d->len - d->pos;
    if (n > len_bytes)
        n = len_bytes;
    memcpy(buf, d->buf + d->pos, n);
    d->pos += n;
    return (ssize_t)n;
}

void kopro_repo_s3_download_close(void *arg)
{
    struct s3_download *d = arg;
    if (d == NULL)
        return;
    free(d->buf);
    free(d->key);
    free(d);
}

int kopro_repo_s3_list(struct kopro_repo_entry **out, size_t *n_out, struct kopro_repo *r,
                       const char *prefix)
{
    struct kopro_s3_object *v = NULL;
    struct kopro_repo_entry *e = NULL;
    size_t n = 0, plen = strlen(r->prefix);
    char *k = full_key(r, prefix);
    int rc;

    *out = NULL;
    *n_out = 0;
    if (k == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_s3_list(&v, &n, r->s3, k);
    free(k);
    if (rc != 0)
        return rc;
    e = calloc(n ? n : 1, sizeof(*e));
    if (e == NULL) {
        kopro_s3_objects_free(v, n);
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        e[i].key = strdup(v[i].key + plen);
        e[i].size_bytes = v[i].size_bytes;
        e[i].mtime = v[i].time;
        if (e[i].key == NULL) {
            kopro_repo_entries_free(e, n);
            kopro_s3_objects_free(v, n);
            return kopro_error_set(KOPRO_ERROR, "out of memory");
        }
    }
    kopro_s3_objects_free(v, n);
    *out = e;
    *n_out = n;
    return 0;
}

int kopro_repo_s3_delete(struct kopro_repo *r, const char *key)
{
    char *k = full_key(r, key);
    int rc;
    if (k == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_s3_delete(r->s3, k);
    free(k);
    return rc;
}

int kopro_repo_s3_gc_uploads(struct kopro_repo *r, long older_than_s, size_t *removed_out)
{
    struct kopro_s3_object *v = NULL;
    size_t n = 0, removed = 0;
    time_t now = time(NULL);
    int rc;

    if (removed_out != NULL)
        *removed_out = 0;
    rc = kopro_s3_list_uploads(&v, &n, r->s3, r->prefix);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (v[i].time != 0 && (long)(now - v[i].time) < older_than_s)
            continue;
        rc = kopro_s3_multipart_abort(r->s3, v[i].key, v[i].upload_id);
        if (rc != 0)
            break;
        removed++;
    }
    kopro_s3_objects_free(v, n);
    if (removed_out != NULL)
        *removed_out = removed;
    return rc;
}
