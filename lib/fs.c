#include "kopro/fs.h"

#include "kopro/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kopro_fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return kopro_error_set(KOPRO_ERROR, "write failed: %s", strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    char *d;
    char *res;
    if (copy == NULL)
        return NULL;
    d = dirname(copy);
    res = strdup(d);
    free(copy);
    return res;
}

static int fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd;
    int rc = 0;
    if (dir == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot fsync directory: %s", dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int kopro_fs_atomic_open(struct kopro_atomic_file *f, const char *path, mode_t mode)
{
    char *dir = NULL;
    char *copy = NULL;
    const char *base;
    size_t n;
    int rc = 0;

    f->fd = -1;
    f->tmp_path = NULL;
    f->final_path = NULL;
    f->mode = mode;

    dir = dir_of(path);
    copy = strdup(path);
    if (dir == NULL || copy == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    base = basename(copy);
    n = strlen(dir) + strlen(base) + 32;
    f->tmp_path = malloc(n);
    f->final_path = strdup(path);
    if (f->tmp_path == NULL || f->final_path == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    snprintf(f->tmp_path, n, "%s/.%s.tmp-XXXXXX", dir, base);
    f->fd = mkostemp(f->tmp_path, O_CLOEXEC); /* mkostemp creates 0600 */
    if (f->fd < 0) {
        int e = errno;
        rc = kopro_error_set(e == ENOENT ? KOPRO_ENOTFOUND : KOPRO_ERROR,
                             "%s: cannot create a file in directory %s: %s; check that it "
                             "exists and is writable",
                             path, dir, strerror(e));
        goto done;
    }
done:
    if (rc != 0) {
        free(f->tmp_path);
        free(f->final_path);
        f->tmp_path = NULL;
        f->final_path = NULL;
    }
    free(dir);
    free(copy);
    return rc;
}

int kopro_fs_atomic_write(struct kopro_atomic_file *f, const void *data, size_t len)
{
    int rc = kopro_fs_write_all(f->fd, data, len);
    if (rc != 0)
        return kopro_error_wrap(rc, "%s", f->final_path);
    return 0;
}

void kopro_fs_atomic_abort(struct kopro_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp_path != NULL)
        unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->final_path);
    f->tmp_path = NULL;
    f->final_path = NULL;
}

int kopro_fs_atomic_commit(struct kopro_atomic_file *f)
{
    int rc = 0;

    if (fsync(f->fd) != 0 || fchmod(f->fd, f->mode) != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot sync: %s", f->final_path, strerror(errno));
        goto fail;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        rc = kopro_error_set(KOPRO_ERROR, "%s: close failed: %s", f->final_path, strerror(errno));
        goto fail;
    }
    f->fd = -1;
    if (rename(f->tmp_path, f->final_path) != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot rename into place: %s", f->final_path,
                             strerror(errno));
        goto fail;
    }
    rc = fsync_dir(f->final_path);
    free(f->tmp_path);
    free(f->final_path);
    f->tmp_path = NULL;
    f->final_path = NULL;
    return rc;
fail:
    kopro_fs_atomic_abort(f);
    return rc;
}

int kopro_fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    struct kopro_atomic_file f;
    int rc = kopro_fs_atomic_open(&f, path, mode);
    if (rc != 0)
        return rc;
    rc = kopro_fs_atomic_write(&f, data, len);
    if (rc != 0) {
        kopro_fs_atomic_abort(&f);
        return rc;
    }
    return kopro_fs_atomic_commit(&f);
}

int kopro_fs_mkdirs(const char *path, mode_t mode)
{
    char *p = strdup(path);
    int rc = 0;
    if (p == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            rc = kopro_error_set(KOPRO_ERROR, "%s: cannot create directory: %s", p,
                                 strerror(errno));
            goto done;
        }
        *s = '/';
    }
    if (mkdir(p, mode) != 0 && errno != EEXIST)
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot create directory: %s", p, strerror(errno));
done:
    free(p);
    return rc;
}

int kopro_fs_read_file(char **out, size_t *len_out, const char *path, size_t cap_bytes)
{
    FILE *f = NULL;
    char *data = NULL;
    struct stat st;
    size_t n;
    int rc = 0;

    *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL)
        return kopro_error_set(errno == ENOENT ? KOPRO_ENOTFOUND : KOPRO_ERROR,
                               "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if ((size_t)st.st_size > cap_bytes) {
        rc = kopro_error_set(KOPRO_ETOOBIG, "%s: %lld bytes is over the limit of %zu bytes",
                             path, (long long)st.st_size, cap_bytes);
        goto done;
    }
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading %s", path);
        goto done;
    }
    n = fread(data, 1, (size_t)st.st_size, f);
    if (n != (size_t)st.st_size) {
        rc = kopro_error_set(KOPRO_ERROR, "%s: short read", path);
        goto done;
    }
    data[n] = '\0';
    if (len_out != NULL)
        *len_out = n;
    *out = data;
    data = NULL;
done:
    free(data);
    fclose(f);
    return rc;
}
