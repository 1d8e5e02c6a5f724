#include "kopro/backup.h"

#include "kopro/buf.h"
#include "kopro/error.h"
#include "kopro/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prometheus label value: escape backslash, double quote and newline. */
static int add_label(struct kopro_buf *b, const char *v)
{
    int rc = 0;
    for (const char *p = v; *p != '\0' && rc == 0; p++) {
        if (*p == '\\')
            rc = kopro_buf_adds(b, "\\\\");
        else if (*p == '"')
            rc = kopro_buf_adds(b, "\\\"");
        else if (*p == '\n')
            rc = kopro_buf_adds(b, "\\n");
        else
            rc = kopro_buf_add(b, p, 1);
    }
    return rc;
}

/* The value of metric `name` in the previous file, or -1. */
static double previous(const char *text, const char *name)
{
    const char *p = text;
    size_t n = strlen(name);
    while (p != NULL && *p != '\0') {
        if (strncmp(p, name, n) == 0 && (p[n] == '{' || p[n] == ' ')) {
            const char *sp = strchr(p, '}');
            sp = sp ? sp + 1 : p + n;
            return strtod(sp, NULL);
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

int kopro_backup_metrics_write(const char *path, const char *repo_url, const json_t *manifest,
                               double duration_s)
{
    struct kopro_buf b, lbl;
    char *old = NULL;
    double last_ok = -1, size = -1;
    int ok = manifest != NULL;
    int rc = 0;

    kopro_buf_init(&b, 64 * 1024);
    kopro_buf_init(&lbl, 8 * 1024);
    if (kopro_fs_read_file(&old, NULL, path, 1024 * 1024) == 0) {
        last_ok = previous(old, "kopro_backup_last_success_timestamp_seconds");
        size = previous(old, "kopro_backup_last_size_bytes");
    }
    kopro_error_clear();
    if (ok) {
        last_ok = (double)time(NULL);
        size = (double)json_integer_value(
            json_object_get(json_object_get(manifest, "ciphertext"), "size_bytes"));
    }
    rc = kopro_buf_adds(&lbl, "{repo=\"");
    if (rc == 0)
        rc = add_label(&lbl, repo_url ? repo_url : "");
    if (rc == 0)
        rc = kopro_buf_adds(&lbl, "\"}");
#define METRIC(name, help, fmt, val)                                                           \
    if (rc == 0)                                                                               \
        rc = kopro_buf_addf(&b, "# HELP " name " " help "\n# TYPE " name " gauge\n" name      \
                                "%s " fmt "\n",                                                \
                            lbl.data, val);
    if (last_ok >= 0) {
        METRIC("kopro_backup_last_success_timestamp_seconds",
               "Unix time of the last successful kopro-backup run.", "%.0f", last_ok)
        METRIC("kopro_backup_last_size_bytes",
               "Encrypted size of the last successful backup, in bytes.", "%.0f", size)
    }
    METRIC("kopro_backup_last_duration_seconds", "Duration of the last run, in seconds.", "%.3f",
           duration_s)
    METRIC("kopro_backup_last_result", "1 if the last run succeeded, 0 if it failed.", "%d", ok)
    METRIC("kopro_backup_last_run_timestamp_seconds", "Unix time the last run ended.", "%lld",
           (long long)time(NULL))
#undef METRIC
    if (rc != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "metrics for %s: out of memory", path);
        goto done;
    }
    rc = kopro_fs_write_file_atomic(path, b.data, b.len, 0644);
    if (rc != 0)
        kopro_error_wrap(rc, "cannot write the metrics file (KOPRO_BACKUP_METRICS)");
done:
    free(old);
    kopro_buf_free(&b);
    kopro_buf_free(&lbl);
    return rc;
}
