/*
 * kopro/backup.h — encrypted, compressed, verified PostgreSQL backups.
 *
 * Pipeline of kopro_backup_run():
 *   BEGIN ISOLATION LEVEL REPEATABLE READ; pg_export_snapshot(); exact per-table
 *   row counts in that snapshot -> pg_dump -Fc -Z0 --snapshot=ID (child process,
 *   connection settings in its environment, never argv) -> SHA-256 of the
 *   plaintext -> zstd (multi-threaded, in process) -> OpenPGP encryption to the
 *   recipients' fingerprints (GPGME, no gpg compression) -> SHA-256 of the
 *   ciphertext -> repository upload (kopro/repo.h), then the manifest, last.
 * Nothing is buffered beyond fixed-size chunks: memory does not depend on the
 * database size, and no plaintext or ciphertext touches local disk except the
 * file:// repository's own object.
 *
 * Repository layout (same keys on file:// and s3://):
 *   data/ID.dump.zst.gpg   the backup (OpenPGP message of a zstd frame of a
 *                          pg_dump custom-format archive)
 *   manifests/ID.json      the manifest; a backup without one does not exist
 *   verified/ID.json       written by a successful kopro_backup_verify()
 *
 * Sources: https://www.postgresql.org/docs/15/functions-admin.html
 * (pg_export_snapshot), https://www.postgresql.org/docs/15/app-pgdump.html
 * (--snapshot), https://www.postgresql.org/docs/15/app-pgrestore.html.
 *
 * Thread-safety: functions may run concurrently on different repositories;
 * retention (prune) changes TZ while it runs (see kopro/retention.h). Callers
 * that write to pipes should ignore SIGPIPE; the library blocks it in the
 * calling thread while it feeds pg_restore.
 */
#ifndef KOPRO_BACKUP_H
#define KOPRO_BACKUP_H

#include <jansson.h>
#include <stddef.h>

#include "kopro/retention.h"

struct kopro_config;

struct kopro_backup_opts {
    const char *repo_url;           /* NULL: KOPRO_BACKUP_REPO */
    const char *db_url;             /* NULL: KOPRO_DATABASE_URL (empty: libpq PG* vars) */
    const char *const *recipients;  /* 40-hex fingerprints; NULL: KOPRO_BACKUP_RECIPIENTS */
    size_t n_recipients;
    const char *gnupghome;          /* NULL: KOPRO_GNUPGHOME, then $GNUPGHOME */
    const struct kopro_config *cfg; /* may be NULL (environment only) */
    int zstd_level;                 /* 0: default 1 (smallest and fastest on pg_dump output) */
    int zstd_workers;               /* 0: default 2; -1: single-threaded */
    long gc_older_than_s;           /* run/gc: abandoned uploads older than this; 0: 6 h */
    const char *metrics_path;       /* run: Prometheus textfile; NULL: KOPRO_BACKUP_METRICS */
};

/*
 * Take one backup. *manifest_out receives the manifest written (a JSON object,
 * see README.md "Manifest"); caller json_decref()s it. Before any data flows,
 * the recipients are checked (kopro/gpg.h) and the database is reached.
 * Returns 0; KOPRO_EINVAL (bad recipient, bad URL), KOPRO_ENOTFOUND (unknown
 * recipient, missing GnuPG home or pg_dump), KOPRO_EUNAVAIL (database or S3
 * unreachable), KOPRO_ERROR (pg_dump failed, repository unwritable, ...).
 * On any failure no manifest is written and the partial object is removed.
 * After success, abandoned uploads are garbage-collected (failures of that
 * step are ignored: the backup stands). If a metrics path is configured, the
 * Prometheus textfile is rewritten after every run, success or failure (see
 * kopro_backup_metrics_write()); a failure to write it does not change the
 * result.
 */
int kopro_backup_run(json_t **manifest_out, const struct kopro_backup_opts *o);

/*
 * Write the Prometheus textfile for node_exporter's textfile collector at
 * `path` (atomically: temporary name, rename; mode 0644):
 *   kopro_backup_last_success_timestamp_seconds{repo}  last successful run (kept
 *                                                      from the previous file on failure)
 *   kopro_backup_last_size_bytes{repo}                 ciphertext size of that backup
 *   kopro_backup_last_duration_seconds{repo}           duration of the last run
 *   kopro_backup_last_result{repo}                     1 success, 0 failure
 *   kopro_backup_last_run_timestamp_seconds{repo}      end of the last run
 * `manifest` is the new backup's manifest (NULL on failure). Returns 0 or
 * KOPRO_ERROR naming the path.
 * Source: https://prometheus.io/docs/instrumenting/exposition_formats/ and
 * https://github.com/prometheus/node_exporter#textfile-collector.
 */
int kopro_backup_metrics_write(const char *path, const char *repo_url, const json_t *manifest,
                               double duration_s);

/*
 * The repository's manifests, oldest first, as a JSON array of objects (each
 * with "id"). A malformed manifest is an error (KOPRO_EINVAL naming its key),
 * since a listing must not hide damage.
 * Returns 0, KOPRO_ENOTFOUND (no such repository), KOPRO_EINVAL, or another
 * repository error. Caller json_decref()s *out.
 */
int kopro_backup_list(json_t **out, const struct kopro_backup_opts *o);

/* Which backups kopro_backup_verify() checks. */
enum kopro_backup_select {
    KOPRO_BACKUP_ONE = 0,    /* the given id */
    KOPRO_BACKUP_LATEST = 1, /* the newest manifest */
    KOPRO_BACKUP_ALL = 2,    /* every manifest */
};

/*
 * Verify backups: re-read each object, check the ciphertext size and SHA-256,
 * decrypt, decompress, check the plaintext size and SHA-256, and feed the
 * dump to `pg_restore --list`. With restore_check, also restore it into a
 * scratch database (created on the server of o->db_url and dropped after) and
 * compare every table's row count with the manifest. A success is recorded
 * as verified/ID.json. *report_out receives a JSON array with one object per
 * backup ({"id", "ok", "error"?, ...}); caller json_decref()s it.
 * Returns 0 if all passed; KOPRO_EVERIFY if any failed (all are still
 * checked); KOPRO_ENOTFOUND for an unknown id or an empty repository; other
 * codes for failures that prevent checking (e.g. no secret key: KOPRO_EAUTH).
 */
int kopro_backup_verify(json_t **report_out, const struct kopro_backup_opts *o,
                        enum kopro_backup_select which, const char *id, int restore_check);

/*
 * Restore backup `id` into the database `target_url` with pg_restore
 * (--single-transaction --exit-on-error). The target must hold no relation
 * outside the system schemas unless `clean` (then --clean --if-exists).
 * The ciphertext and plaintext SHA-256 are checked while streaming; a mismatch
 * fails the restore (the single transaction is then rolled back by closing
 * pg_restore's input early).
 *
 * A restore never brings an erased person back (GDPR art. 17, 19): before
 * pg_restore starts, the GDPR tombstones (kopro/gdpr.h) are read from
 * `tombstones_json` (the output of 'kopro-gdpr tombstones dump') or, when it
 * is NULL, from the live database o->db_url (KOPRO_DATABASE_URL); a live
 * database without kopro.gdpr_tombstones gives none. Reading first means a
 * restore over the live database itself (clean) still has them. After
 * pg_restore, those the backup does not contain (i.e. erasures newer than its
 * snapshot) are inserted and their persons erased again in one transaction
 * (kopro_gdpr_tombstones_apply(); KOPRO_GDPR_KEY from o->cfg/environment is
 * required when there are tombstones, checked before restoring).
 * *report_out (may be NULL; caller json_decref()s) receives {"id",
 * "database", "started" (the backup's), "tombstones_source",
 * "tombstones_read", "tombstones_applied" (new to the restored database),
 * "persons_erased"}.
 * Returns 0; KOPRO_ENOTFOUND (unknown id); KOPRO_EINVAL (target not empty,
 * bad tombstones JSON, KOPRO_GDPR_KEY missing); KOPRO_EVERIFY (corrupt
 * backup); KOPRO_EUNAVAIL (target or live database unreachable);
 * KOPRO_ERROR. If the re-application fails after pg_restore succeeded, the
 * error says so: the restored database must not be used.
 */
int kopro_backup_restore(json_t **report_out, const struct kopro_backup_opts *o, const char *id,
                         const char *target_url, int clean, const char *tombstones_json);

/*
 * Apply a retention policy (kopro/retention.h) to the repository: the backup
 * times are the manifests' "started". The newest backup that passed verify
 * is always kept. Forgotten backups lose their manifest first, then their
 * object. With dry_run nothing is deleted. *plan_out receives a JSON array,
 * newest first, of {"id", "started", "action": "keep"|"forget", "reasons": []}
 * (exactly what the real run does). Returns 0, KOPRO_EINVAL (bad policy or
 * time zone), KOPRO_ENOTFOUND (no repository), or a repository error.
 */
int kopro_backup_prune(json_t **plan_out, const struct kopro_backup_opts *o,
                       const struct kopro_retention_policy *policy, int dry_run);

/*
 * Remove what no manifest refers to: abandoned uploads (temporary files,
 * incomplete multipart uploads) and data objects without a manifest, older
 * than o->gc_older_than_s. *report_out: {"aborted_uploads": N,
 * "orphans_removed": N, "removed": [...]}. Returns 0 or a repository error.
 */
int kopro_backup_gc(json_t **report_out, const struct kopro_backup_opts *o);

#endif
