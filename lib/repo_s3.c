/* s3:// repositories. */
#include "kopro/error.h"
#include "repo_internal.h"

int kopro_repo_s3_open(struct kopro_repo *r, const char *url, const struct kopro_config *cfg)
{
    (void)r;
    (void)cfg;
    return kopro_error_set(KOPRO_EINVAL,
                           "repository %s: s3:// is not supported by this build; use file:///path",
                           url);
}
void kopro_repo_s3_close(struct kopro_repo *r) { (void)r; }
int kopro_repo_s3_upload_begin(void **out, struct kopro_repo *r, const char *key) { (void)out; (void)r; (void)key; return KOPRO_ERROR; }
int kopro_repo_s3_upload_write(void *u, const void *data, size_t len_bytes) { (void)u; (void)data; (void)len_bytes; return KOPRO_ERROR; }
int kopro_repo_s3_upload_commit(void *u, unsigned *parts_out) { (void)u; (void)parts_out; return KOPRO_ERROR; }
void kopro_repo_s3_upload_abort(void *u) { (void)u; }
int kopro_repo_s3_put(struct kopro_repo *r, const char *key, const void *data, size_t len) { (void)r; (void)key; (void)data; (void)len; return KOPRO_ERROR; }
int kopro_repo_s3_get(char **out, size_t *len_out, struct kopro_repo *r, const char *key, size_t cap_bytes) { (void)out; (void)len_out; (void)r; (void)key; (void)cap_bytes; return KOPRO_ERROR; }
int kopro_repo_s3_download_open(void **out, struct kopro_repo *r, const char *key) { (void)out; (void)r; (void)key; return KOPRO_ERROR; }
ssize_t kopro_repo_s3_download_read(void *d, void *buf, size_t len_bytes) { (void)d; (void)buf; (void)len_bytes; return -1; }
void kopro_repo_s3_download_close(void *d) { (void)d; }
int kopro_repo_s3_list(struct kopro_repo_entry **out, size_t *n_out, struct kopro_repo *r, const char *prefix) { (void)out; (void)n_out; (void)r; (void)prefix; return KOPRO_ERROR; }
int kopro_repo_s3_delete(struct kopro_repo *r, const char *key) { (void)r; (void)key; return KOPRO_ERROR; }
int kopro_repo_s3_gc_uploads(struct kopro_repo *r, long older_than_s, size_t *removed_out) { (void)r; (void)older_than_s; (void)removed_out; return KOPRO_ERROR; }
