#include "kopro/repo.h"

#include "kopro/error.h"
#include "kopro/fs.h"
#include "repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIST_CAP 1000000

struct kopro_repo_upload {
    struct kopro_repo *repo;
    struct kopro_atomic_file f; /* file:// */
    void *s3u;                  /* s3:// */
};

struct kopro_repo_download {
    int fd;    /* file:// */
    void *s3d; /* s3:// */
};

/* A key must be a relative path without "." or ".." components. */
static int check_key(const char *key)
{
    const char *p = key;
    if (key == NULL || *key == '\0' || *key == '/' || strlen(key) > 512)
        goto bad;
    while (*p != '\0') {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            goto bad;
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
bad:
    return kopro_error_set(KOPRO_EINVAL, "repository key '%s' is not a plain relative path",
                           key ? key : "");
}

int kopro_repo_open(struct kopro_repo **out, const char *url, const struct kopro_config *cfg)
{
    struct kopro_repo *r = NULL;
    int rc = 0;

    *out = NULL;
    if (url == NULL || *url == '\0')
        return kopro_error_set(KOPRO_EINVAL, "no repository given; pass --repo URL or set "
                                             "KOPRO_BACKUP_REPO (file:///path or s3://bucket/prefix)");
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    r->url = strdup(url);
    if (r->url == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    if (strncmp(url, "file://", 7) == 0) {
        size_t n;
        r->kind = KREPO_FILE;
        if (url[7] != '/') {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "repository %s: a file:// URL needs an absolute path, e.g. "
                                 "file:///var/backups/kopro",
                                 url);
            goto done;
        }
        r->root = strdup(url + 7);
        if (r->root == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
        n = strlen(r->root);
        while (n > 1 && r->root[n - 1] == '/')
            r->root[--n] = '\0';
    } else if (strncmp(url, "s3://", 5) == 0) {
        r->kind = KREPO_S3;
        rc = kopro_repo_s3_open(r, url, cfg);
        if (rc != 0)
            goto done;
    } else {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "repository '%s' is not a file:///path or s3://bucket/prefix URL",
                             url);
        goto done;
    }
    *out = r;
    r = NULL;
done:
    kopro_repo_free(r);
    return rc;
}

const char *kopro_repo_url(const struct kopro_repo *r)
{
    return r->url;
}

static char *file_path(const struct kopro_repo *r, const char *key)
{
    size_t n = strlen(r->root) + strlen(key) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", r->root, key);
    return p;
}

static int ensure_parent(const char *path)
{
    char *copy = strdup(path);
    char *slash;
    int rc;
    if (copy == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    slash = strrchr(copy, '/');
    if (slash != NULL && slash != copy)
        *slash = '\0';
    rc = kopro_fs_mkdirs(copy, 0700);
    if (rc != 0)
        kopro_error_wrap(rc, "repository is not writable");
    free(copy);
    return rc;
}

int kopro_repo_upload_begin(struct kopro_repo_upload **out, struct kopro_repo *r,
                            const char *key)
{
    struct kopro_repo_upload *u = NULL;
    char *path = NULL;
    int rc;

    *out = NULL;
    rc = check_key(key);
    if (rc != 0)
        return rc;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    u->repo = r;
    u->f.fd = -1;
    if (r->kind == KREPO_S3) {
        rc = kopro_repo_s3_upload_begin(&u->s3u, r, key);
        goto done;
    }
    path = file_path(r, key);
    if (path == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    rc = ensure_parent(path);
    if (rc != 0)
        goto done;
    rc = kopro_fs_atomic_open(&u->f, path, 0600);
    if (rc != 0) {
        u->f.fd = -1;
        kopro_error_wrap(rc, "repository is not writable");
    }
done:
    free(path);
    if (rc != 0) {
        free(u);
        return rc;
    }
    *out = u;
    return 0;
}

int kopro_repo_upload_write(struct kopro_repo_upload *u, const void *data, size_t len_bytes)
{
    if (u->repo->kind == KREPO_S3)
        return kopro_repo_s3_upload_write(u->s3u, data, len_bytes);
    return kopro_fs_atomic_write(&u->f, data, len_bytes);
}

int kopro_repo_upload_commit(struct kopro_repo_upload *u, unsigned *parts_out)
{
    int rc;
    if (parts_out != NULL)
        *parts_out = 1;
    if (u->repo->kind == KREPO_S3)
        rc = kopro_repo_s3_upload_commit(u->s3u, parts_out);
    else
        rc = kopro_fs_atomic_commit(&u->f);
    free(u);
    return rc;
}

void kopro_repo_upload_abort(struct kopro_repo_upload *u)
{
    if (u == NULL)
        return;
    if (u->repo->kind == KREPO_S3)
        kopro_repo_s3_upload_abort(u->s3u);
    else if (u->f.fd >= 0 || u->f.tmp_path != NULL)
        kopro_fs_atomic_abort(&u->f);
    free(u);
}

int kopro_repo_put(struct kopro_repo *r, const char *key, const void *data, size_t len_bytes)
{
    char *path = NULL;
    int rc = check_key(key);
    if (rc != 0)
        return rc;
    if (r->kind == KREPO_S3)
        return kopro_repo_s3_put(r, key, data, len_bytes);
    path = file_path(r, key);
    if (path == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = ensure_parent(path);
    if (rc == 0)
        rc = kopro_fs_write_file_atomic(path, data, len_bytes, 0600);
    free(path);
    return rc;
}

int kopro_repo_get(char **out, size_t *len_out, struct kopro_repo *r, const char *key,
                   size_t cap_bytes)
{
    char *path = NULL;
    int rc;

    *out = NULL;
    rc = check_key(key);
    if (rc != 0)
        return rc;
    if (r->kind == KREPO_S3)
        return kopro_repo_s3_get(out, len_out, r, key, cap_bytes);
    path = file_path(r, key);
    if (path == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_fs_read_file(out, len_out, path, cap_bytes);
    free(path);
    return rc;
}

int kopro_repo_download_open(struct kopro_repo_download **out, struct kopro_repo *r,
                             const char *key)
{
    struct kopro_repo_download *d = NULL;
    char *path = NULL;
    int rc;

    *out = NULL;
    rc = check_key(key);
    if (rc != 0)
        return rc;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    d->fd = -1;
    if (r->kind == KREPO_S3) {
        rc = kopro_repo_s3_download_open(&d->s3d, r, key);
        goto done;
    }
    path = file_path(r, key);
    if (path == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    d->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0)
        rc = kopro_error_set(errno == ENOENT ? KOPRO_ENOTFOUND : KOPRO_ERROR,
                             "%s: cannot open: %s", path, strerror(errno));
done:
    free(path);
    if (rc != 0) {
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

ssize_t kopro_repo_download_read(struct kopro_repo_download *d, void *buf, size_t len_bytes)
{
    ssize_t n;
    if (d->s3d != NULL)
        return kopro_repo_s3_download_read(d->s3d, buf, len_bytes);
    do {
        n = read(d->fd, buf, len_bytes);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        kopro_error_set(KOPRO_ERROR, "reading the backup object failed: %s", strerror(errno));
        return -1;
    }
    return n;
}

void kopro_repo_download_close(struct kopro_repo_download *d)
{
    if (d == NULL)
        return;
    if (d->s3d != NULL)
        kopro_repo_s3_download_close(d->s3d);
    if (d->fd >= 0)
        close(d->fd);
    free(d);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct kopro_repo_entry *)a)->key,
                  ((const struct kopro_repo_entry *)b)->key);
}

/* List one directory level: prefix is "dir/" (possibly with a name prefix after the slash). */
static int file_list(struct kopro_repo_entry **out, size_t *n_out, struct kopro_repo *r,
                     const char *prefix, int include_tmp)
{
    struct kopro_repo_entry *v = NULL;
    size_t n = 0, alloc = 0;
    char *dirpath = NULL;
    const char *slash = strrchr(prefix, '/');
    size_t dirlen = slash ? (size_t)(slash - prefix) : 0;
    const char *namepfx = slash ? slash + 1 : prefix;
    struct stat st;
    DIR *dir = NULL;
    struct dirent *de;
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    if (stat(r->root, &st) != 0 || !S_ISDIR(st.st_mode))
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "repository %s does not exist; check --repo or "
                               "KOPRO_BACKUP_REPO (a backup run creates it)",
                               r->url);
    dirpath = malloc(strlen(r->root) + dirlen + 2);
    if (dirpath == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    sprintf(dirpath, "%s/%.*s", r->root, (int)dirlen, prefix);
    dir = opendir(dirpath);
    if (dir == NULL) {
        if (errno != ENOENT)
            rc = kopro_error_set(KOPRO_ERROR, "%s: cannot list: %s", dirpath, strerror(errno));
        goto done;
    }
    for (de = readdir(dir); de != NULL; de = readdir(dir)) {
        char *full;
        size_t klen;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (!include_tmp && de->d_name[0] == '.')
            continue;
        if (strncmp(de->d_name, namepfx, strlen(namepfx)) != 0)
            continue;
        if (n == LIST_CAP) {
            rc = kopro_error_set(KOPRO_ETOOBIG, "%s: more than %d entries", dirpath, LIST_CAP);
            goto done;
        }
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 64;
            struct kopro_repo_entry *nv = realloc(v, na * sizeof(*v));
            if (nv == NULL) {
                rc = kopro_error_set(KOPRO_ERROR, "out of memory");
                goto done;
            }
            v = nv;
            alloc = na;
        }
        klen = dirlen + strlen(de->d_name) + 2;
        v[n].key = malloc(klen);
        if (v[n].key == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
        if (dirlen > 0)
            snprintf(v[n].key, klen, "%.*s/%s", (int)dirlen, prefix, de->d_name);
        else
            snprintf(v[n].key, klen, "%s", de->d_name);
        full = file_path(r, v[n].key);
        if (full == NULL || stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            free(v[n].key);
            continue;
        }
        free(full);
        v[n].size_bytes = (int64_t)st.st_size;
        v[n].mtime = st.st_mtime;
        n++;
    }
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_entry);
    *out = v;
    *n_out = n;
    v = NULL;
    n = 0;
done:
    if (dir != NULL)
        closedir(dir);
    free(dirpath);
    kopro_repo_entries_free(v, n);
    return rc;
}

int kopro_repo_list(struct kopro_repo_entry **out, size_t *n_out, struct kopro_repo *r,
                    const char *prefix)
{
    if (r->kind == KREPO_S3)
        return kopro_repo_s3_list(out, n_out, r, prefix);
    return file_list(out, n_out, r, prefix, 0);
}

void kopro_repo_entries_free(struct kopro_repo_entry *e, size_t n)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(e[i].key);
    free(e);
}

int kopro_repo_delete(struct kopro_repo *r, const char *key)
{
    char *path;
    int rc = check_key(key);
    if (rc != 0)
        return rc;
    if (r->kind == KREPO_S3)
        return kopro_repo_s3_delete(r, key);
    path = file_path(r, key);
    if (path == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    if (unlink(path) != 0 && errno != ENOENT)
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot delete: %s", path, strerror(errno));
    free(path);
    return rc;
}

int kopro_repo_gc_uploads(struct kopro_repo *r, long older_than_s, size_t *removed_out)
{
    static const char *const dirs[] = {"data/", "manifests/", "verified/"};
    size_t removed = 0;
    time_t now = time(NULL);
    int rc = 0;

    if (removed_out != NULL)
        *removed_out = 0;
    if (r->kind == KREPO_S3)
        return kopro_repo_s3_gc_uploads(r, older_than_s, removed_out);
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        struct kopro_repo_entry *e = NULL;
        size_t n = 0;
        rc = file_list(&e, &n, r, dirs[d], 1);
        if (rc == KOPRO_ENOTFOUND) {
            rc = 0;
            break;
        }
        if (rc != 0)
            break;
        for (size_t i = 0; i < n; i++) {
            const char *base = strrchr(e[i].key, '/');
            base = base ? base + 1 : e[i].key;
            if (base[0] != '.' || strstr(base, ".tmp-") == NULL)
                continue;
            if ((long)(now - e[i].mtime) < older_than_s)
                continue;
            rc = kopro_repo_delete(r, e[i].key);
            if (rc != 0)
                break;
            removed++;
        }
        kopro_repo_entries_free(e, n);
        if (rc != 0)
            break;
    }
    if (removed_out != NULL)
        *removed_out = removed;
    return rc;
}

void kopro_repo_free(struct kopro_repo *r)
{
    if (r == NULL)
        return;
    if (r->kind == KREPO_S3)
        kopro_repo_s3_close(r);
    free(r->url);
    free(r->root);
    free(r);
}
