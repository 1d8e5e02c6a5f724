/* The document store (file:// directories); see kopro/docstore.h. */
#include "kopro/docstore.h"

#include "kopro/error.h"
#include "kopro/fs.h"

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
                               "document store '%s' is not supported; use file:///DIR or a path",
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
