/*
 * kopro/fs.h — files that are never seen half-written.
 *
 * Every output goes to a temporary name in the target's directory (mode 0600
 * unless told otherwise), is fsync()ed, renamed over the final name, and the
 * directory is fsync()ed (POSIX rename(2) is atomic within a file system).
 */
#ifndef KOPRO_FS_H
#define KOPRO_FS_H

#include <stddef.h>
#include <sys/types.h>

struct kopro_atomic_file {
    int fd;           /* open for writing, -1 when closed */
    char *tmp_path;   /* owned; "<dir>/.<name>.tmp-XXXXXX" */
    char *final_path; /* owned */
    mode_t mode;      /* applied before the rename */
};

/*
 * Create a temporary file beside `path` (0600) and fill *f. The final file
 * gets `mode` at commit. Returns 0, KOPRO_ENOTFOUND if the directory does not
 * exist, or KOPRO_ERROR (permission, disk) with a message naming the path.
 * On success the caller must end with kopro_fs_atomic_commit() or _abort().
 */
int kopro_fs_atomic_open(struct kopro_atomic_file *f, const char *path, mode_t mode);

/* Write all of data to f->fd (retrying short writes). Returns 0 or KOPRO_ERROR. */
int kopro_fs_atomic_write(struct kopro_atomic_file *f, const void *data, size_t len);

/*
 * fsync, chmod to the final mode, rename over the final path, fsync the
 * directory, free the paths. Returns 0 or KOPRO_ERROR (the temporary is then
 * removed). Either way *f is released.
 */
int kopro_fs_atomic_commit(struct kopro_atomic_file *f);

/* Close and remove the temporary and release *f. Safe to call twice. */
void kopro_fs_atomic_abort(struct kopro_atomic_file *f);

/* Write a whole buffer atomically to `path` with `mode`. Errors as above. */
int kopro_fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* write(2) all bytes, retrying on EINTR and short writes. Returns 0 or KOPRO_ERROR. */
int kopro_fs_write_all(int fd, const void *data, size_t len);

/* mkdir -p with `mode` for created directories. Returns 0 or KOPRO_ERROR. */
int kopro_fs_mkdirs(const char *path, mode_t mode);

/*
 * Read a whole file into *out (NUL-terminated, caller frees) and its length
 * into *len_out (may be NULL). Refuses files larger than cap_bytes with
 * KOPRO_ETOOBIG. Returns 0, KOPRO_ENOTFOUND, KOPRO_ETOOBIG or KOPRO_ERROR.
 */
int kopro_fs_read_file(char **out, size_t *len_out, const char *path, size_t cap_bytes);

#endif
