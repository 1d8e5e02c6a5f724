/* The document store (file:// directories and s3:// prefixes); see kopro/docstore.h. */
#include "kopro/docstore.h"

#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/s3.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kopro_docstore_put(char **out_path, const char *store, const char *relpath, const void *data,
                       size_t data_bytes)
{
    char *full = NULL, *dir = NULL, *slash;
    char cwd[PATH_MAX];
    const char *base;
    int rc;

    *out_path = NULL;
    if (store == NULL || store[0] == '\0')
        store = KOPRO_DOCSTORE_DEFAULT;
    if (strncmp(store, "file://", 7) == 0)
        base = store + 7;
    else if (strstr(store, "://") != NULL)
        return kopro_error_set(KOPRO_EINVAL,
                               "document store '%s' is not supported here; use file:///DIR or a path",
                               store);
    else
        base = store;
    if (base[0] == '\0')
        return kopro_error_set(KOPRO_EINVAL, "document store '%s' names no directory", store);
    if (relpath[0] == '/' || strstr(relpath, "..") != NULL)
        return kopro_error_set(KOPRO_EINVAL, "document path '%s' must be relative without '..'",
                               relpath);
    if (base[0] != '/') {
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            return kopro_error_set(KOPRO_ERROR, "cannot resolve the current directory");
        rc = asprintf(&full, "%s/%s/%s", cwd, base, relpath);
    } else {
        rc = asprintf(&full, "%s/%s", base, relpath);
    }
    if (rc < 0) {
        full = NULL;
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building the document path");
        goto done;
    }
    dir = strdup(full);
    if (dir == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building the document path");
        goto done;
    }
    slash = strrchr(dir, '/');
    *slash = '\0';
    rc = kopro_fs_mkdirs(dir, 0750);
    if (rc != 0) {
        rc = kopro_error_wrap(rc, "document store directory %s", dir);
        goto done;
    }
    rc = kopro_fs_write_file_atomic(full, data, data_bytes, 0640);
    if (rc != 0) {
        rc = kopro_error_wrap(rc, "document %s", full);
        goto done;
    }
    *out_path = full;
    full = NULL;
done:
    free(full);
    free(dir);
    return rc;
}

int kopro_docstore_is_s3(const char *store)
{
    return store != NULL && strncmp(store, "s3://", 5) == 0;
}

/* S3's limit for one PutObject. */
#define PUT_MAX_BYTES ((size_t)5 * 1024 * 1024 * 1024)

static int put_s3(char **out_location, const struct kopro_config *cfg, const char *store,
                  const char *relpath, const void *data, size_t data_bytes)
{
    struct kopro_s3 *s3 = NULL;
    const char *rest = store + 5, *slash = strchr(store + 5, '/');
    char *bucket = NULL, *key = NULL, *loc = NULL;
    const char *prefix = slash != NULL ? slash + 1 : "";
    size_t plen;
    int rc;

    while (*prefix == '/')
        prefix++;
    plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    bucket = slash != NULL ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
    if (bucket == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    if (bucket[0] == '\0') {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "document store '%s' names no bucket; use s3://BUCKET/PREFIX", store);
        goto done;
    }
    if (data_bytes > PUT_MAX_BYTES) {
        rc = kopro_error_set(KOPRO_EINVAL, "document %s is %zu bytes, over S3's 5 GiB PutObject limit",
                             relpath, data_bytes);
        goto done;
    }
    if ((plen > 0 ? asprintf(&key, "%.*s/%s", (int)plen, prefix, relpath)
                  : asprintf(&key, "%s", relpath)) < 0) {
        key = NULL;
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    if (asprintf(&loc, "s3://%s/%s", bucket, key) < 0) {
        loc = NULL;
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    rc = kopro_s3_new_config(&s3, cfg, bucket);
    if (rc == 0)
        rc = kopro_s3_put(s3, key, data, data_bytes);
    if (rc != 0) {
        rc = kopro_error_wrap(rc, "document store %s", loc);
        goto done;
    }
    *out_location = loc;
    loc = NULL;
done:
    kopro_s3_free(s3);
    free(bucket);
    free(key);
    free(loc);
    return rc;
}

int kopro_docstore_put_cfg(char **out_location, const struct kopro_config *cfg, const char *store,
                           const char *relpath, const void *data, size_t data_bytes)
{
    *out_location = NULL;
    if (!kopro_docstore_is_s3(store))
        return kopro_docstore_put(out_location, store, relpath, data, data_bytes);
    if (relpath[0] == '/' || strstr(relpath, "..") != NULL)
        return kopro_error_set(KOPRO_EINVAL, "document path '%s' must be relative without '..'",
                               relpath);
    return put_s3(out_location, cfg, store, relpath, data, data_bytes);
}

int kopro_docstore_remove(const struct kopro_config *cfg, const char *location)
{
    struct kopro_s3 *s3 = NULL;
    const char *slash;
    char *bucket = NULL;
    int rc;

    if (!kopro_docstore_is_s3(location)) {
        if (location[0] != '/')
            return kopro_error_set(KOPRO_EINVAL, "stored document '%s' is not an absolute path",
                                   location);
        if (unlink(location) != 0 && errno != ENOENT)
            return kopro_error_set(KOPRO_ERROR, "cannot remove %s: %s", location, strerror(errno));
        return 0;
    }
    slash = strchr(location + 5, '/');
    if (slash == NULL || slash == location + 5 || slash[1] == '\0')
        return kopro_error_set(KOPRO_EINVAL, "stored document '%s' names no bucket and key",
                               location);
    bucket = strndup(location + 5, (size_t)(slash - (location + 5)));
    if (bucket == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_s3_new_config(&s3, cfg, bucket);
    if (rc == 0)
        rc = kopro_s3_delete(s3, slash + 1);
    if (rc != 0)
        rc = kopro_error_wrap(rc, "removing %s", location);
    kopro_s3_free(s3);
    free(bucket);
    return rc;
}

/* the longest prefix of s of at most cap bytes that ends on a UTF-8 boundary */
static char *utf8_prefix(const char *s, size_t cap)
{
    size_t n = strlen(s);
    char *r;
    if (n > cap) {
        n = cap;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    r = malloc(n + 1);
    if (r != NULL) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

int kopro_docstore_register(char **out_document_id, PGconn *db,
                            const struct kopro_docstore_entry *e)
{
    static const char ins_doc[] =
        "INSERT INTO documents (building_id, document_type, title, description, file_path, "
        "file_size, mime_type, related_meeting_id, organization_id) "
        "VALUES ($1, $2::document_type, $3, $4, $5, $6::bigint, 'application/pdf', $7, $8) "
        "RETURNING id";
    static const char upd_meeting[] =
        "UPDATE meetings SET minutes_document_id = $1, updated_at = now() WHERE id = $2";
    static const char ins_audit[] =
        "INSERT INTO audit_logs (id, timestamp, event_type, organization_id, resource_type, "
        "resource_id, metadata, success) "
        "VALUES (gen_random_uuid(), now(), 'ReportGenerated', $1, 'document', $2, $3::jsonb, true)";
    PGresult *res = NULL;
    json_t *meta = NULL;
    char *meta_text = NULL, *title = NULL, *doc_id = NULL;
    char size[32];
    int rc;

    if (out_document_id != NULL)
        *out_document_id = NULL;
    if (e->building_id == NULL || e->size_bytes == 0)
        return kopro_error_set(KOPRO_EINVAL, "a stored document needs a building and a size");
    snprintf(size, sizeof(size), "%zu", e->size_bytes);
    title = utf8_prefix(e->title != NULL ? e->title : e->kind, 255);
    meta = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s?}", "kind", e->kind, "lang", e->lang,
                     "sha256", e->sha256, "input_sha256", e->input_sha256, "path", e->path,
                     "meeting_id", e->meeting_id);
    meta_text = meta != NULL ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (title == NULL || meta_text == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory registering a document");
        goto done;
    }
    rc = kopro_db_begin(db);
    if (rc != 0)
        goto done;
    {
        const char *p[] = {e->building_id, e->document_type, title,   "generated by kopro",
                           e->path,        size,             e->meeting_id, e->organization_id};
        rc = kopro_db_exec(db, &res, "insert documents", ins_doc, 8, p);
    }
    if (rc != 0)
        goto fail;
    doc_id = strdup(kopro_db_value(res, 0, 0));
    PQclear(res);
    res = NULL;
    if (doc_id == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory registering a document");
        goto fail;
    }
    if (e->set_minutes && e->meeting_id != NULL) {
        const char *p[] = {doc_id, e->meeting_id};
        rc = kopro_db_exec(db, NULL, "set meetings.minutes_document_id", upd_meeting, 2, p);
        if (rc != 0)
            goto fail;
    }
    {
        const char *p[] = {e->organization_id, doc_id, meta_text};
        rc = kopro_db_exec(db, NULL, "insert audit_logs", ins_audit, 3, p);
        if (rc != 0)
            goto fail;
    }
    rc = kopro_db_commit(db);
    if (rc != 0)
        goto fail;
    if (out_document_id != NULL) {
        *out_document_id = doc_id;
        doc_id = NULL;
    }
    goto done;
fail:
    kopro_db_rollback(db);
done:
    PQclear(res);
    free(doc_id);
    free(title);
    free(meta_text);
    json_decref(meta);
    return rc;
}
