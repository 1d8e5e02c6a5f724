/*
 * lib/repo_internal.h — shared between lib/repo.c (dispatch, file://) and
 * lib/repo_s3.c (s3://). Not installed; not part of the public API.
 */
#ifndef KOPRO_REPO_INTERNAL_H
#define KOPRO_REPO_INTERNAL_H

#include "kopro/repo.h"

enum { KREPO_FILE = 1, KREPO_S3 = 2 };

struct kopro_s3;

struct kopro_repo {
    int kind;
    char *url;
    char *root;          /* file:// directory */
    struct kopro_s3 *s3; /* s3:// client */
    char *prefix;        /* s3:// key prefix, "" or ending in '/' */
};

int kopro_repo_s3_open(struct kopro_repo *r, const char *url, const struct kopro_config *cfg);
void kopro_repo_s3_close(struct kopro_repo *r);
int kopro_repo_s3_upload_begin(void **out, struct kopro_repo *r, const char *key);
int kopro_repo_s3_upload_write(void *u, const void *data, size_t len_bytes);
int kopro_repo_s3_upload_commit(void *u, unsigned *parts_out);
void kopro_repo_s3_upload_abort(void *u);
int kopro_repo_s3_put(struct kopro_repo *r, const char *key, const void *data, size_t len);
int kopro_repo_s3_get(char **out, size_t *len_out, struct kopro_repo *r, const char *key,
                      size_t cap_bytes);
int kopro_repo_s3_download_open(void **out, struct kopro_repo *r, const char *key);
ssize_t kopro_repo_s3_download_read(void *d, void *buf, size_t len_bytes);
void kopro_repo_s3_download_close(void *d);
int kopro_repo_s3_list(struct kopro_repo_entry **out, size_t *n_out, struct kopro_repo *r,
                       const char *prefix);
int kopro_repo_s3_delete(struct kopro_repo *r, const char *key);
int kopro_repo_s3_gc_uploads(struct kopro_repo *r, long older_than_s, size_t *removed_out);

/*
 * Fault injection for crash tests: if $KOPRO_FAULT_KILL_AT equals `name`, the
 * process kills itself with SIGKILL right there, as `kill -9` would. Points:
 * before-initiate, mid-upload (after the first part), before-complete
 * (S3), before-manifest (lib/backup.c).
 */
void kopro_repo_fault_point(const char *name);

#endif
