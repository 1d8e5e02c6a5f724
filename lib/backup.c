#include "kopro/backup.h"

#include "backup_internal.h"
#include "repo_internal.h"
#include "kopro/compress.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/gpg.h"
#include "kopro/migrate.h"
#include "kopro/hash.h"
#include "kopro/repo.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef KOPRO_VERSION
#define KOPRO_VERSION "0.0.0"
#endif

#define MANIFEST_CAP (16u * 1024 * 1024)
#define MAX_RECIP 16
#define DEFAULT_GC_S (6L * 3600)

/* Exact row counts of every user table, in the current transaction's snapshot.
 * One static statement: the identifiers are quoted by format('%I') server-side. */
static const char COUNTS_SQL[] =
    "SELECT n.nspname || '.' || c.relname,"
    " (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',"
    "   n.nspname, c.relname), false, true, '')))[1]::text::bigint"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'"
    "   AND n.nspname NOT LIKE 'pg\\_%'"
    "   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
    "                   AND d.objid = c.oid AND d.deptype = 'e')"
    " ORDER BY 1";

/* ------------------------------------------------------------ resolution */

struct resolved {
    const char *repo_url;
    const char *db_url;
    const char *gnupghome;
    const char *recip[MAX_RECIP];
    size_t n_recip;
    char *recip_buf; /* owned copy of KOPRO_BACKUP_RECIPIENTS */
    long gc_s;
};

static const char *cfg_get(const struct kopro_backup_opts *o, const char *key)
{
    return kopro_config_get(o->cfg, key, NULL);
}

static int resolve(struct resolved *r, const struct kopro_backup_opts *o, int need_recipients)
{
    memset(r, 0, sizeof(*r));
    r->repo_url = o->repo_url ? o->repo_url : cfg_get(o, "KOPRO_BACKUP_REPO");
    r->db_url = o->db_url ? o->db_url : cfg_get(o, "KOPRO_DATABASE_URL");
    if (r->db_url == NULL)
        r->db_url = "";
    r->gnupghome = o->gnupghome ? o->gnupghome : cfg_get(o, "KOPRO_GNUPGHOME");
    if (r->gnupghome == NULL)
        r->gnupghome = getenv("GNUPGHOME");
    r->gc_s = o->gc_older_than_s > 0 ? o->gc_older_than_s : o->gc_older_than_s < 0 ? 0 : DEFAULT_GC_S;
    if (r->repo_url == NULL || *r->repo_url == '\0')
        return kopro_error_set(KOPRO_EINVAL, "no repository given; pass --repo URL or set "
                                             "KOPRO_BACKUP_REPO (file:///path or s3://bucket/prefix)");
    if (!need_recipients)
        return 0;
    if (o->recipients != NULL && o->n_recipients > 0) {
        if (o->n_recipients > MAX_RECIP)
            return kopro_error_set(KOPRO_EINVAL, "at most %d recipients", MAX_RECIP);
        for (size_t i = 0; i < o->n_recipients; i++)
            r->recip[r->n_recip++] = o->recipients[i];
    } else {
        const char *env = cfg_get(o, "KOPRO_BACKUP_RECIPIENTS");
        char *save = NULL;
        if (env == NULL)
            return kopro_error_set(KOPRO_EINVAL, "no backup recipient given; pass --recipient "
                                                 "FINGERPRINT or set KOPRO_BACKUP_RECIPIENTS");
        r->recip_buf = strdup(env);
        if (r->recip_buf == NULL)
            return kopro_error_set(KOPRO_ERROR, "out of memory");
        for (char *t = strtok_r(r->recip_buf, ", \t", &save); t != NULL;
             t = strtok_r(NULL, ", \t", &save)) {
            if (r->n_recip == MAX_RECIP)
                return kopro_error_set(KOPRO_EINVAL,
                                       "KOPRO_BACKUP_RECIPIENTS lists more than %d keys", MAX_RECIP);
            r->recip[r->n_recip++] = t;
        }
    }
    if (r->n_recip == 0)
        return kopro_error_set(KOPRO_EINVAL, "no backup recipient given; pass --recipient "
                                             "FINGERPRINT or set KOPRO_BACKUP_RECIPIENTS");
    return 0;
}

static void resolved_free(struct resolved *r)
{
    free(r->recip_buf);
    r->recip_buf = NULL;
}

/* ------------------------------------------------------------ small helpers */

static void fmt_utc(char *buf, size_t cap, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_id(char *buf, size_t cap, struct timespec *ts)
{
    struct tm tm;
    char base[32];
    clock_gettime(CLOCK_REALTIME, ts);
    gmtime_r(&ts->tv_sec, &tm);
    strftime(base, sizeof(base), "%Y%m%dT%H%M%S", &tm);
    snprintf(buf, cap, "%s.%03ldZ", base, ts->tv_nsec / 1000000);
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return id[0] != '.';
}

static void key_of(char *buf, size_t cap, const char *dir, const char *id, const char *ext)
{
    snprintf(buf, cap, "%s/%s%s", dir, id, ext);
}

/* Exact per-table row counts as a JSON object {"schema.table": n}. */
static int table_counts(json_t **out, PGconn *db)
{
    PGresult *res = NULL;
    json_t *obj = NULL;
    int rc;

    *out = NULL;
    rc = kopro_db_exec(db, &res, "counting rows per table", COUNTS_SQL, 0, NULL);
    if (rc != 0)
        return rc;
    obj = json_object();
    if (obj == NULL) {
        PQclear(res);
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *v = kopro_db_value(res, i, 1);
        json_object_set_new(obj, PQgetvalue(res, i, 0),
                            json_integer(v ? (json_int_t)strtoll(v, NULL, 10) : 0));
    }
    PQclear(res);
    *out = obj;
    return 0;
}

/* Run `prog --version` and return its first line. */
static int program_version(char *buf, size_t cap, const char *prog)
{
    char path[512];
    char *argv[3];
    struct kbk_child c;
    int rc;

    buf[0] = '\0';
    kbk_pg_program(path, sizeof(path), prog);
    argv[0] = (char *)prog;
    argv[1] = (char *)"--version";
    argv[2] = NULL;
    extern char **environ;
    rc = kbk_spawn(&c, path, argv, environ, KBK_NULL, KBK_MEMFD);
    if (rc != 0)
        return rc;
    rc = kbk_wait(&c, KOPRO_ERROR);
    if (rc == 0) {
        char *nl;
        kbk_read_memfd(c.out_fd, buf, cap);
        nl = strchr(buf, '\n');
        if (nl != NULL)
            *nl = '\0';
    }
    close(c.out_fd);
    return rc;
}

/* ------------------------------------------------------------ backup pipeline */

/* Plaintext side: pg_dump's stdout -> SHA-256 -> zstd; GPGME pulls from here. */
struct enc_src {
    int fd;
    struct kopro_compress *z;
    struct kopro_sha256 *h;
    uint64_t plain_bytes;
    unsigned char *in;
    size_t in_cap, in_pos, in_len;
    unsigned char *out;
    size_t out_cap, out_pos, out_len;
    int eof, finished;
};

static ssize_t enc_read(void *arg, void *buf, size_t len)
{
    struct enc_src *s = arg;
    for (;;) {
        size_t used = 0, produced = 0;
        int fin = 0;
        if (s->out_pos < s->out_len) {
            size_t n = s->out_len - s->out_pos;
            if (n > len)
                n = len;
            memcpy(buf, s->out + s->out_pos, n);
            s->out_pos += n;
            return (ssize_t)n;
        }
        if (s->finished)
            return 0;
        if (s->in_pos == s->in_len && !s->eof) {
            ssize_t n;
            do {
                n = read(s->fd, s->in, s->in_cap);
            } while (n < 0 && errno == EINTR);
            if (n < 0) {
                kopro_error_set(KOPRO_ERROR, "reading pg_dump's output failed: %s",
                                strerror(errno));
                return -1;
            }
            if (n == 0) {
                s->eof = 1;
            } else if (kopro_sha256_update(s->h, s->in, (size_t)n) != 0) {
                return -1;
            }
            s->in_pos = 0;
            s->in_len = (size_t)n;
            s->plain_bytes += (uint64_t)n;
        }
        if (kopro_compress_step(s->z, s->in + s->in_pos, s->in_len - s->in_pos, &used, s->out,
                                s->out_cap, &produced, s->eof, &fin) != 0)
            return -1;
        s->in_pos += used;
        s->out_pos = 0;
        s->out_len = produced;
        if (fin)
            s->finished = 1;
    }
}

/* Ciphertext side: GPGME pushes here -> SHA-256 -> repository upload. */
struct enc_dst {
    struct kopro_repo_upload *u;
    struct kopro_sha256 *h;
    uint64_t bytes;
};

static int enc_write(void *arg, const void *buf, size_t len)
{
    struct enc_dst *d = arg;
    int rc = kopro_sha256_update(d->h, buf, len);
    if (rc == 0)
        rc = kopro_repo_upload_write(d->u, buf, len);
    d->bytes += len;
    return rc;
}

static int run_once(json_t **manifest_out, const struct kopro_backup_opts *o)
{
    struct resolved r;
    struct kopro_gpg *gpg = NULL;
    struct kopro_repo *repo = NULL;
    struct kopro_repo_upload *up = NULL;
    struct kopro_compress *z = NULL;
    struct kopro_sha256 *hp = NULL, *hc = NULL;
    struct kbk_env env = {0};
    struct kbk_child dump = {.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
    struct enc_src src;
    struct enc_dst dst = {0};
    PGconn *db = NULL;
    PGresult *res = NULL;
    json_t *tables = NULL, *m = NULL, *recips = NULL;
    char id[48], key[128], mkey[128], started[32], finished[32];
    char snapshot[64], dbname[256], server_version[64], dump_version[128];
    char plain_hex[KOPRO_SHA256_HEX_BYTES], cipher_hex[KOPRO_SHA256_HEX_BYTES];
    char dump_path[512], snaparg[96];
    char *argv[8];
    char *mtext = NULL;
    struct timespec ts;
    unsigned parts = 0;
    int level = o->zstd_level > 0 ? o->zstd_level : 1;
    int workers = o->zstd_workers == 0 ? 2 : o->zstd_workers < 0 ? 0 : o->zstd_workers;
    int64_t t0 = now_ms();
    int in_tx = 0;
    int rc;

    *manifest_out = NULL;
    memset(&src, 0, sizeof(src));
    src.fd = -1;
    rc = resolve(&r, o, 1);
    if (rc != 0)
        goto done;

    /* 1. keys first: refuse unknown/expired/revoked before anything runs */
    rc = kopro_gpg_open(&gpg, r.gnupghome);
    if (rc == 0)
        rc = kopro_gpg_set_recipients(gpg, r.recip, r.n_recip);
    if (rc != 0)
        goto done;
    rc = kopro_repo_open(&repo, r.repo_url, o->cfg);
    if (rc != 0)
        goto done;

    /* 2. consistent snapshot and exact counts in it */
    rc = kopro_db_connect(&db, r.db_url, "kopro-backup");
    if (rc != 0)
        goto done;
    rc = kopro_db_exec(db, NULL, "starting the snapshot transaction",
                       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (rc != 0)
        goto done;
    in_tx = 1;
    rc = kopro_db_exec(db, &res, "exporting the snapshot",
                       "SELECT pg_export_snapshot(), current_database(),"
                       " current_setting('server_version')",
                       0, NULL);
    if (rc != 0)
        goto done;
    snprintf(snapshot, sizeof(snapshot), "%s", PQgetvalue(res, 0, 0));
    snprintf(dbname, sizeof(dbname), "%s", PQgetvalue(res, 0, 1));
    snprintf(server_version, sizeof(server_version), "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    res = NULL;
    make_id(id, sizeof(id), &ts);
    fmt_utc(started, sizeof(started), ts.tv_sec);
    rc = table_counts(&tables, db);
    if (rc != 0)
        goto done;
    rc = program_version(dump_version, sizeof(dump_version), "pg_dump");
    if (rc != 0)
        goto done;

    /* 3. pg_dump as a child; connection settings only in its environment */
    rc = kbk_env_build(&env, r.db_url, dbname);
    if (rc != 0)
        goto done;
    kbk_pg_program(dump_path, sizeof(dump_path), "pg_dump");
    snprintf(snaparg, sizeof(snaparg), "--snapshot=%s", snapshot);
    argv[0] = (char *)"pg_dump";
    argv[1] = (char *)"--format=custom";
    argv[2] = (char *)"--compress=0";
    argv[3] = (char *)"--no-password";
    argv[4] = snaparg;
    argv[5] = NULL;
    rc = kbk_spawn(&dump, dump_path, argv, env.vars, KBK_NULL, KBK_PIPE);
    if (rc != 0)
        goto done;

    /* 4. stream: plaintext hash -> zstd -> gpg -> ciphertext hash -> repository */
    key_of(key, sizeof(key), "data", id, ".dump.zst.gpg");
    rc = kopro_repo_upload_begin(&up, repo, key);
    if (rc != 0)
        goto done;
    rc = kopro_compress_new(&z, KOPRO_COMPRESS_ENCODE, level, workers);
    if (rc == 0)
        rc = kopro_sha256_new(&hp);
    if (rc == 0)
        rc = kopro_sha256_new(&hc);
    if (rc != 0)
        goto done;
    src.fd = dump.out_fd;
    src.z = z;
    src.h = hp;
    src.in_cap = kopro_compress_in_chunk_bytes(z);
    src.out_cap = kopro_compress_out_chunk_bytes(z);
    src.in = malloc(src.in_cap);
    src.out = malloc(src.out_cap);
    if (src.in == NULL || src.out == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory for stream buffers");
        goto done;
    }
    dst.u = up;
    dst.h = hc;
    rc = kopro_gpg_encrypt(gpg, enc_read, &src, enc_write, &dst);
    if (rc != 0)
        goto done;
    close(dump.out_fd);
    dump.out_fd = -1;
    rc = kbk_wait(&dump, KOPRO_ERROR);
    if (rc != 0) {
        kopro_error_wrap(rc, "database %s", dbname);
        goto done;
    }
    rc = kopro_sha256_final_hex(hp, plain_hex);
    if (rc == 0)
        rc = kopro_sha256_final_hex(hc, cipher_hex);
    if (rc != 0)
        goto done;
    rc = kopro_repo_upload_commit(up, &parts);
    up = NULL;
    if (rc != 0)
        goto done;
    kopro_db_rollback(db); /* read-only: nothing to commit */
    in_tx = 0;

    /* 5. the manifest, last: only now does the backup exist */
    fmt_utc(finished, sizeof(finished), time(NULL));
    recips = json_array();
    for (size_t i = 0; recips != NULL && i < kopro_gpg_recipient_count(gpg); i++)
        json_array_append_new(recips, json_string(kopro_gpg_recipient_fpr(gpg, i)));
    m = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
                  " s:{s:s, s:i, s:i},"
                  " s:{s:s, s:O},"
                  " s:{s:s, s:I, s:s, s:i},"
                  " s:{s:s, s:I, s:s},"
                  " s:O, s:s}",
                  "format", 1, "id", id, "started", started, "finished", finished,
                  "database", dbname, "server_version", server_version, "pg_dump_version",
                  dump_version, "snapshot", snapshot, "duration_ms", (json_int_t)(now_ms() - t0),
                  "compression", "algorithm", "zstd", "level", level, "workers", workers,
                  "encryption", "format", "openpgp", "recipients", recips,
                  "ciphertext", "key", key, "size_bytes", (json_int_t)dst.bytes, "sha256",
                  cipher_hex, "parts", (int)parts,
                  "plaintext", "format", "pg_dump custom archive (-Fc -Z0)", "size_bytes",
                  (json_int_t)src.plain_bytes, "sha256", plain_hex,
                  "tables", tables, "kopro_version", KOPRO_VERSION);
    if (m == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building the manifest");
        goto done;
    }
    mtext = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (mtext == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory writing the manifest");
        goto done;
    }
    key_of(mkey, sizeof(mkey), "manifests", id, ".json");
    kopro_repo_fault_point("before-manifest");
    rc = kopro_repo_put(repo, mkey, mtext, strlen(mtext));
    if (rc != 0) {
        kopro_repo_delete(repo, key); /* best effort; gc removes it otherwise */
        goto done;
    }
    {
        json_t *gc = NULL;
        struct kopro_backup_opts go = *o;
        go.repo_url = r.repo_url;
        if (kopro_backup_gc(&gc, &go) != 0)
            kopro_error_clear(); /* the backup stands; gc runs again next time */
        json_decref(gc);
    }
    *manifest_out = m;
    m = NULL;
done:
    if (up != NULL)
        kopro_repo_upload_abort(up);
    if (dump.pid > 0) {
        int keep = kopro_error_last_code();
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", kopro_error_last());
        if (dump.out_fd >= 0)
            close(dump.out_fd);
        dump.out_fd = -1;
        kill(dump.pid, SIGTERM);
        kbk_wait(&dump, KOPRO_ERROR);
        kopro_error_set(keep, "%s", msg);
    }
    if (dump.out_fd >= 0)
        close(dump.out_fd);
    if (in_tx)
        kopro_db_rollback(db);
    PQclear(res);
    if (db != NULL)
        PQfinish(db);
    free(src.in);
    free(src.out);
    kopro_compress_free(z);
    kopro_sha256_free(hp);
    kopro_sha256_free(hc);
    kbk_env_free(&env);
    kopro_gpg_free(gpg);
    kopro_repo_free(repo);
    json_decref(tables);
    json_decref(recips);
    json_decref(m);
    free(mtext);
    resolved_free(&r);
    return rc;
}

int kopro_backup_run(json_t **manifest_out, const struct kopro_backup_opts *o)
{
    const char *metrics = o->metrics_path ? o->metrics_path : cfg_get(o, "KOPRO_BACKUP_METRICS");
    const char *repo = o->repo_url ? o->repo_url : cfg_get(o, "KOPRO_BACKUP_REPO");
    int64_t t0 = now_ms();
    int rc = run_once(manifest_out, o);
    if (metrics != NULL && *metrics != '\0') {
        int code = kopro_error_last_code();
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", kopro_error_last());
        /* the backup's result stands whether or not the metrics can be written */
        kopro_backup_metrics_write(metrics, repo, rc == 0 ? *manifest_out : NULL,
                                   (double)(now_ms() - t0) / 1000.0);
        if (rc != 0)
            kopro_error_set(code, "%s", msg);
        else
            kopro_error_clear();
    }
    return rc;
}

/* ------------------------------------------------------------ list */

static int load_manifest(json_t **out, struct kopro_repo *repo, const char *key)
{
    char *text = NULL;
    json_error_t jerr;
    json_t *m;
    int rc;

    *out = NULL;
    rc = kopro_repo_get(&text, NULL, repo, key, MANIFEST_CAP);
    if (rc != 0)
        return rc;
    m = json_loads(text, 0, &jerr);
    free(text);
    if (m == NULL || !json_is_object(m) || !json_is_string(json_object_get(m, "id")) ||
        !json_is_object(json_object_get(m, "ciphertext"))) {
        json_decref(m);
        return kopro_error_set(KOPRO_EINVAL,
                               "manifest %s in the repository is malformed (%s); inspect it or "
                               "move it away",
                               key, jerr.text[0] ? jerr.text : "missing id or ciphertext");
    }
    *out = m;
    return 0;
}

/* All manifests, oldest first (ids sort by time). */
static int list_manifests(json_t **out, struct kopro_repo *repo)
{
    struct kopro_repo_entry *e = NULL;
    size_t n = 0;
    json_t *arr = NULL;
    int rc;

    *out = NULL;
    rc = kopro_repo_list(&e, &n, repo, "manifests/");
    if (rc != 0)
        return rc;
    arr = json_array();
    if (arr == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = NULL;
        size_t kl = strlen(e[i].key);
        if (kl < 5 || strcmp(e[i].key + kl - 5, ".json") != 0)
            continue;
        rc = load_manifest(&m, repo, e[i].key);
        if (rc == KOPRO_ENOTFOUND) { /* pruned meanwhile */
            rc = 0;
            continue;
        }
        if (rc != 0)
            goto done;
        json_array_append_new(arr, m);
    }
    *out = arr;
    arr = NULL;
done:
    json_decref(arr);
    kopro_repo_entries_free(e, n);
    return rc;
}

int kopro_backup_list(json_t **out, const struct kopro_backup_opts *o)
{
    struct resolved r;
    struct kopro_repo *repo = NULL;
    int rc;

    *out = NULL;
    rc = resolve(&r, o, 0);
    if (rc == 0)
        rc = kopro_repo_open(&repo, r.repo_url, o->cfg);
    if (rc == 0)
        rc = list_manifests(out, repo);
    kopro_repo_free(repo);
    resolved_free(&r);
    return rc;
}

/* ------------------------------------------------------------ read back: verify, restore */

struct dec_src {
    struct kopro_repo_download *d;
    struct kopro_sha256 *h;
    uint64_t bytes;
    int eof;
};

static ssize_t dec_read(void *arg, void *buf, size_t len)
{
    struct dec_src *s = arg;
    ssize_t n = kopro_repo_download_read(s->d, buf, len);
    if (n < 0)
        return -1;
    if (n == 0)
        s->eof = 1;
    if (n > 0 && kopro_sha256_update(s->h, buf, (size_t)n) != 0)
        return -1;
    s->bytes += (uint64_t)n;
    return n;
}

/* Read what the decryptor left unread, so the ciphertext hash covers every byte. */
static int dec_drain(struct dec_src *s)
{
    unsigned char buf[65536];
    while (!s->eof) {
        if (dec_read(s, buf, sizeof(buf)) < 0)
            return -1;
    }
    return 0;
}

struct dec_dst {
    struct kopro_compress *z;
    struct kopro_sha256 *h;
    uint64_t bytes;
    unsigned char *out;
    size_t out_cap;
    int finished;
    int fds[2];
    int dead[2]; /* the reader of fds[i] stopped reading */
    size_t nfds;
};

/* write(2) everything to a pipe; EPIPE is an error, not a signal (SIGPIPE is
 * blocked in this thread while feeding children, see block_sigpipe()). */
static int pipe_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void block_sigpipe(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void unblock_sigpipe(const sigset_t *old)
{
    sigset_t set;
    struct timespec zero = {0, 0};
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
        ; /* consume the SIGPIPEs our writes raised */
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int dec_emit(struct dec_dst *d, const unsigned char *p, size_t n)
{
    int rc = kopro_sha256_update(d->h, p, n);
    if (rc != 0)
        return rc;
    d->bytes += n;
    for (size_t i = 0; i < d->nfds; i++) {
        if (d->dead[i])
            continue;
        if (pipe_write_all(d->fds[i], p, n) != 0)
            d->dead[i] = 1; /* pg_restore stopped reading; its exit status says why */
    }
    return 0;
}

static int dec_write(void *arg, const void *buf, size_t len)
{
    struct dec_dst *d = arg;
    const unsigned char *in = buf;
    size_t pos = 0;
    int rc;
    do {
        size_t used = 0, produced = 0;
        int fin = 0;
        if (d->finished && pos < len)
            return kopro_error_set(KOPRO_EVERIFY, "unexpected data after the end of the zstd "
                                                  "frame (corrupt backup)");
        rc = kopro_compress_step(d->z, in + pos, len - pos, &used, d->out, d->out_cap, &produced,
                                 0, &fin);
        if (rc != 0)
            return rc;
        pos += used;
        if (produced > 0) {
            rc = dec_emit(d, d->out, produced);
            if (rc != 0)
                return rc;
        }
        if (fin)
            d->finished = 1;
        if (used == 0 && produced == 0)
            break;
    } while (pos < len || !d->finished);
    return 0;
}

static const char *mstr(const json_t *m, const char *obj, const char *field)
{
    const json_t *o = obj ? json_object_get(m, obj) : m;
    const char *s = json_string_value(json_object_get(o, field));
    return s ? s : "";
}

static json_int_t mint(const json_t *m, const char *obj, const char *field)
{
    return json_integer_value(json_object_get(json_object_get(m, obj), field));
}

/*
 * Stream the backup of manifest `m` back: download -> ciphertext SHA-256 ->
 * decrypt -> zstd -d -> plaintext SHA-256 -> fds. Every byte of the object is
 * read and hashed whatever happens, so any flipped byte is caught.
 */
static int read_back(struct kopro_gpg *gpg, struct kopro_repo *repo, const json_t *m,
                     const int *fds, size_t nfds)
{
    struct kopro_repo_download *dl = NULL;
    struct kopro_compress *z = NULL;
    struct kopro_sha256 *hc = NULL, *hp = NULL;
    struct dec_src src = {0};
    struct dec_dst dst;
    char cipher_hex[KOPRO_SHA256_HEX_BYTES], plain_hex[KOPRO_SHA256_HEX_BYTES];
    char drc_msg[1024];
    const char *key = mstr(m, "ciphertext", "key");
    const char *id = mstr(m, NULL, "id");
    sigset_t oldmask;
    int drc, rc;

    memset(&dst, 0, sizeof(dst));
    rc = kopro_repo_download_open(&dl, repo, key);
    if (rc == KOPRO_ENOTFOUND) {
        rc = kopro_error_set(KOPRO_EVERIFY, "backup %s: its object %s is missing", id, key);
        goto done;
    }
    if (rc != 0)
        goto done;
    rc = kopro_compress_new(&z, KOPRO_COMPRESS_DECODE, 0, 0);
    if (rc == 0)
        rc = kopro_sha256_new(&hc);
    if (rc == 0)
        rc = kopro_sha256_new(&hp);
    if (rc != 0)
        goto done;
    dst.out_cap = kopro_compress_out_chunk_bytes(z);
    dst.out = malloc(dst.out_cap);
    if (dst.out == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    dst.z = z;
    dst.h = hp;
    dst.nfds = nfds;
    for (size_t i = 0; i < nfds; i++)
        dst.fds[i] = fds[i];
    src.d = dl;
    src.h = hc;

    block_sigpipe(&oldmask);
    drc = kopro_gpg_decrypt(gpg, dec_read, &src, dec_write, &dst);
    snprintf(drc_msg, sizeof(drc_msg), "%s", kopro_error_last());
    rc = dec_drain(&src);
    unblock_sigpipe(&oldmask);
    if (rc != 0)
        goto done;
    rc = kopro_sha256_final_hex(hc, cipher_hex);
    if (rc != 0)
        goto done;
    if ((json_int_t)src.bytes != mint(m, "ciphertext", "size_bytes") ||
        strcmp(cipher_hex, mstr(m, "ciphertext", "sha256")) != 0) {
        rc = kopro_error_set(KOPRO_EVERIFY,
                             "backup %s: object %s is damaged: %" PRIu64
                             " bytes with SHA-256 %s, the manifest says %" JSON_INTEGER_FORMAT
                             " bytes with %s",
                             id, key, src.bytes, cipher_hex, mint(m, "ciphertext", "size_bytes"),
                             mstr(m, "ciphertext", "sha256"));
        goto done;
    }
    if (drc == KOPRO_EAUTH) {
        rc = kopro_error_set(drc, "backup %s: %s", id, drc_msg);
        goto done;
    }
    if (drc != 0) {
        rc = kopro_error_set(drc == KOPRO_EUNAVAIL || drc == KOPRO_ERROR ? drc : KOPRO_EVERIFY,
                             "backup %s: %s", id, drc_msg);
        goto done;
    }
    if (!dst.finished) {
        rc = kopro_error_set(KOPRO_EVERIFY, "backup %s: the compressed stream is truncated", id);
        goto done;
    }
    rc = kopro_sha256_final_hex(hp, plain_hex);
    if (rc != 0)
        goto done;
    if ((json_int_t)dst.bytes != mint(m, "plaintext", "size_bytes") ||
        strcmp(plain_hex, mstr(m, "plaintext", "sha256")) != 0) {
        rc = kopro_error_set(KOPRO_EVERIFY,
                             "backup %s: the decrypted dump has %" PRIu64
                             " bytes with SHA-256 %s, the manifest says %" JSON_INTEGER_FORMAT
                             " bytes with %s",
                             id, dst.bytes, plain_hex, mint(m, "plaintext", "size_bytes"),
                             mstr(m, "plaintext", "sha256"));
        goto done;
    }
done:
    free(dst.out);
    kopro_compress_free(z);
    kopro_sha256_free(hc);
    kopro_sha256_free(hp);
    kopro_repo_download_close(dl);
    return rc;
}

/* Hash the object only (no decryption): authenticates it before a restore. */
static int check_ciphertext(struct kopro_repo *repo, const json_t *m)
{
    struct kopro_repo_download *dl = NULL;
    struct dec_src src = {0};
    char hex[KOPRO_SHA256_HEX_BYTES];
    const char *key = mstr(m, "ciphertext", "key");
    int rc;

    rc = kopro_repo_download_open(&dl, repo, key);
    if (rc == KOPRO_ENOTFOUND)
        return kopro_error_set(KOPRO_EVERIFY, "backup %s: its object %s is missing",
                               mstr(m, NULL, "id"), key);
    if (rc != 0)
        return rc;
    rc = kopro_sha256_new(&src.h);
    if (rc != 0)
        goto done;
    src.d = dl;
    rc = dec_drain(&src);
    if (rc == 0)
        rc = kopro_sha256_final_hex(src.h, hex);
    if (rc != 0)
        goto done;
    if ((json_int_t)src.bytes != mint(m, "ciphertext", "size_bytes") ||
        strcmp(hex, mstr(m, "ciphertext", "sha256")) != 0)
        rc = kopro_error_set(KOPRO_EVERIFY,
                             "backup %s: object %s is damaged (SHA-256 %s, the manifest says %s); "
                             "nothing was restored",
                             mstr(m, NULL, "id"), key, hex, mstr(m, "ciphertext", "sha256"));
done:
    kopro_sha256_free(src.h);
    kopro_repo_download_close(dl);
    return rc;
}

/* Connect to database `dbname` with the other settings of `url`. */
static int connect_named(PGconn **out, const char *url, const char *dbname)
{
    const char *keys[] = {"dbname", "dbname", "application_name", "options", NULL};
    const char *vals[] = {url, dbname, "kopro-backup", "-c TimeZone=UTC -c client_encoding=UTF8",
                          NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    *out = NULL;
    if (db == NULL || PQstatus(db) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", db ? PQerrorMessage(db) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(db);
        return kopro_error_set(KOPRO_EUNAVAIL, "cannot connect to database %s: %s", dbname, msg);
    }
    *out = db;
    return 0;
}

static int spawn_restore(struct kbk_child *c, const char *url, const char *dbname,
                         const char *const *extra)
{
    struct kbk_env env;
    char path[512], dbarg[300];
    char *argv[16];
    int n = 0;
    int rc = kbk_env_build(&env, url, dbname);
    if (rc != 0)
        return rc;
    kbk_pg_program(path, sizeof(path), "pg_restore");
    argv[n++] = (char *)"pg_restore";
    argv[n++] = (char *)"--no-password";
    if (dbname != NULL) {
        snprintf(dbarg, sizeof(dbarg), "--dbname=%s", dbname);
        argv[n++] = dbarg;
    }
    for (size_t i = 0; extra[i] != NULL && n < 15; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    rc = kbk_spawn(c, path, argv, env.vars, KBK_PIPE, KBK_NULL);
    kbk_env_free(&env);
    return rc;
}

static void stop_child(struct kbk_child *c)
{
    if (c->pid > 0) {
        int code = kopro_error_last_code();
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", kopro_error_last());
        kill(c->pid, SIGKILL);
        kbk_wait(c, KOPRO_ERROR);
        kopro_error_set(code, "%s", msg);
    }
}

static int compare_counts(const json_t *want, const json_t *got, const char *id)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v) {
        json_t *g = json_object_get(got, k);
        if (g == NULL)
            return kopro_error_set(KOPRO_EVERIFY, "backup %s: table %s is missing after restore",
                                   id, k);
        if (json_integer_value(g) != json_integer_value(v))
            return kopro_error_set(KOPRO_EVERIFY,
                                   "backup %s: table %s has %" JSON_INTEGER_FORMAT
                                   " rows after restore, the manifest says %" JSON_INTEGER_FORMAT,
                                   id, k, json_integer_value(g), json_integer_value(v));
    }
    if (json_object_size(got) != json_object_size(want))
        return kopro_error_set(KOPRO_EVERIFY,
                               "backup %s: the restore has %zu tables, the manifest lists %zu", id,
                               json_object_size(got), json_object_size(want));
    return 0;
}

static int verify_one(json_t **item_out, struct kopro_gpg *gpg, struct kopro_repo *repo,
                      const json_t *m, const char *db_url, int restore_check)
{
    static const char *const list_args[] = {"--list", NULL};
    static const char *const scratch_args[] = {"--no-owner", "--no-privileges", "--exit-on-error",
                                               "--single-transaction", NULL};
    struct kbk_child lst = {.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
    struct kbk_child rst = {.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
    const char *id = mstr(m, NULL, "id");
    PGconn *admin = NULL, *sdb = NULL;
    json_t *counts = NULL;
    char scratch[64] = "";
    int fds[2];
    size_t nfds = 0;
    int rc, lrc, rrc = 0;
    unsigned char rnd[6];
    char hex[13];

    *item_out = NULL;
    if (restore_check) {
        char sql[128];
        rc = kopro_db_connect(&admin, db_url, "kopro-backup");
        if (rc != 0)
            goto done;
        if (getentropy(rnd, sizeof(rnd)) != 0) {
            rc = kopro_error_set(KOPRO_ERROR, "no entropy for a scratch database name");
            goto done;
        }
        kopro_hex_encode(rnd, sizeof(rnd), hex);
        snprintf(scratch, sizeof(scratch), "kopro_verify_%s", hex);
        /* the name is made of hex digits only: no quoting issue */
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0", scratch);
        rc = kopro_db_exec(admin, NULL, "creating the scratch database", sql, 0, NULL);
        if (rc != 0) {
            scratch[0] = '\0';
            goto done;
        }
    }
    rc = spawn_restore(&lst, NULL, NULL, list_args);
    if (rc != 0)
        goto done;
    fds[nfds++] = lst.in_fd;
    if (restore_check) {
        rc = spawn_restore(&rst, db_url, scratch, scratch_args);
        if (rc != 0)
            goto done;
        fds[nfds++] = rst.in_fd;
    }
    rc = read_back(gpg, repo, m, fds, nfds);
    if (rc != 0) {
        stop_child(&lst);
        stop_child(&rst);
        goto done;
    }
    lrc = kbk_wait(&lst, KOPRO_EVERIFY);
    if (lrc != 0) {
        rc = kopro_error_wrap(lrc, "backup %s: pg_restore --list rejected the dump", id);
        stop_child(&rst);
        goto done;
    }
    if (restore_check) {
        rrc = kbk_wait(&rst, KOPRO_EVERIFY);
        if (rrc != 0) {
            rc = kopro_error_wrap(rrc, "backup %s: restoring into scratch database %s failed", id,
                                  scratch);
            goto done;
        }
        rc = connect_named(&sdb, db_url, scratch);
        if (rc == 0)
            rc = table_counts(&counts, sdb);
        if (rc == 0)
            rc = compare_counts(json_object_get(m, "tables"), counts, id);
        if (rc != 0)
            goto done;
    }
done:
    if (lst.pid > 0)
        stop_child(&lst);
    if (rst.pid > 0)
        stop_child(&rst);
    if (sdb != NULL)
        PQfinish(sdb);
    if (admin != NULL && scratch[0] != '\0') {
        char sql[128];
        int code = kopro_error_last_code();
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", kopro_error_last());
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", scratch);
        kopro_db_exec(admin, NULL, "dropping the scratch database", sql, 0, NULL);
        kopro_error_set(code, "%s", msg);
    }
    if (admin != NULL)
        PQfinish(admin);
    json_decref(counts);
    *item_out = json_pack("{s:s, s:b, s:b}", "id", id, "ok", rc == 0, "restore_check",
                          restore_check);
    if (rc != 0 && *item_out != NULL)
        json_object_set_new(*item_out, "error", json_string(kopro_error_last()));
    return rc;
}

static int find_manifest(json_t **out, struct kopro_repo *repo, const char *id)
{
    char key[160];
    int rc;
    *out = NULL;
    if (!valid_id(id))
        return kopro_error_set(KOPRO_EINVAL, "'%s' is not a backup id; kopro-backup list shows "
                                             "them",
                               id);
    key_of(key, sizeof(key), "manifests", id, ".json");
    rc = load_manifest(out, repo, key);
    if (rc == KOPRO_ENOTFOUND)
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "no backup %s in repository %s; kopro-backup list shows the ids",
                               id, kopro_repo_url(repo));
    return rc;
}

int kopro_backup_verify(json_t **report_out, const struct kopro_backup_opts *o,
                        enum kopro_backup_select which, const char *id, int restore_check)
{
    struct resolved r;
    struct kopro_repo *repo = NULL;
    struct kopro_gpg *gpg = NULL;
    json_t *all = NULL, *sel = NULL, *report = NULL;
    int rc, failed = 0, first_fail = 0;
    char first_msg[1024] = "";

    *report_out = NULL;
    rc = resolve(&r, o, 0);
    if (rc == 0)
        rc = kopro_repo_open(&repo, r.repo_url, o->cfg);
    if (rc != 0)
        goto done;
    sel = json_array();
    report = json_array();
    if (sel == NULL || report == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    if (which == KOPRO_BACKUP_ONE) {
        json_t *m = NULL;
        rc = find_manifest(&m, repo, id ? id : "");
        if (rc != 0)
            goto done;
        json_array_append_new(sel, m);
    } else {
        rc = list_manifests(&all, repo);
        if (rc != 0)
            goto done;
        if (json_array_size(all) == 0) {
            rc = kopro_error_set(KOPRO_ENOTFOUND, "repository %s holds no backup",
                                 kopro_repo_url(repo));
            goto done;
        }
        if (which == KOPRO_BACKUP_LATEST)
            json_array_append(sel, json_array_get(all, json_array_size(all) - 1));
        else
            json_array_extend(sel, all);
    }
    rc = kopro_gpg_open(&gpg, r.gnupghome);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < json_array_size(sel); i++) {
        const json_t *m = json_array_get(sel, i);
        json_t *item = NULL;
        int vrc = verify_one(&item, gpg, repo, m, r.db_url, restore_check);
        if (item != NULL)
            json_array_append_new(report, item);
        if (vrc == 0) {
            char key[160], *rec;
            char now[32];
            json_t *vj;
            fmt_utc(now, sizeof(now), time(NULL));
            vj = json_pack("{s:s, s:s, s:b}", "id", mstr(m, NULL, "id"), "verified_at", now,
                           "restore_check", restore_check);
            rec = vj ? json_dumps(vj, JSON_SORT_KEYS) : NULL;
            json_decref(vj);
            key_of(key, sizeof(key), "verified", mstr(m, NULL, "id"), ".json");
            if (rec == NULL || kopro_repo_put(repo, key, rec, strlen(rec)) != 0)
                vrc = kopro_error_set(KOPRO_ERROR, "backup %s verified, but recording it failed: %s",
                                      mstr(m, NULL, "id"), kopro_error_last());
            free(rec);
        }
        if (vrc != 0) {
            failed++;
            if (first_fail == 0) {
                first_fail = vrc;
                snprintf(first_msg, sizeof(first_msg), "%s", kopro_error_last());
            }
            /* cannot decrypt at all: the other backups will not do better */
            if (vrc == KOPRO_EAUTH)
                break;
        }
    }
    if (failed > 0)
        rc = kopro_error_set(first_fail == KOPRO_EAUTH || first_fail == KOPRO_EUNAVAIL
                                 ? first_fail
                                 : KOPRO_EVERIFY,
                             "%d of %zu backups failed verification; first: %s", failed,
                             json_array_size(sel), first_msg);
    *report_out = report;
    report = NULL;
done:
    json_decref(all);
    json_decref(sel);
    json_decref(report);
    kopro_gpg_free(gpg);
    kopro_repo_free(repo);
    resolved_free(&r);
    return rc;
}

/* GDPR tombstones to re-apply after a restore (GDPR art. 17, 19): from the
 * given JSON (a file of 'kopro-gdpr tombstones dump'), else from the live
 * database `src_url`, read BEFORE pg_restore touches anything, so a restore
 * over the live database itself (--clean) still has them. A live database
 * without kopro.gdpr_tombstones has had no erasure: an empty list. */
static int read_tombstones(char **json_out, size_t *n_out, char *src, size_t src_cap,
                           const char *src_url, const char *given_json)
{
    PGconn *db = NULL;
    PGresult *res = NULL;
    json_error_t jerr;
    json_t *arr = NULL;
    int rc = 0;
    *json_out = NULL;
    *n_out = 0;
    if (given_json != NULL) {
        snprintf(src, src_cap, "file");
        *json_out = strdup(given_json);
    } else {
        rc = kopro_db_connect(&db, src_url, "kopro-backup");
        if (rc != 0) {
            kopro_error_wrap(rc, "reading the GDPR tombstones from the live database before restoring "
                                 "(pass --db LIVE_URL, or --tombstones FILE from 'kopro-gdpr tombstones dump')");
            goto done;
        }
        rc = kopro_db_exec(db, &res, "looking for kopro.gdpr_tombstones",
                           "SELECT current_database(), to_regclass('kopro.gdpr_tombstones') IS NOT NULL", 0, NULL);
        if (rc != 0)
            goto done;
        snprintf(src, src_cap, "database %s", PQgetvalue(res, 0, 0));
        if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
            rc = kopro_gdpr_tombstones_dump(json_out, db, NULL);
        else
            *json_out = strdup("[]");
        if (rc != 0)
            goto done;
    }
    if (*json_out == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading GDPR tombstones");
        goto done;
    }
    arr = json_loads(*json_out, 0, &jerr);
    if (!json_is_array(arr)) {
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR tombstones (%s) are not a JSON array (line %d: %s); pass the "
                                           "output of 'kopro-gdpr tombstones dump'", src, jerr.line, jerr.text);
        goto done;
    }
    *n_out = json_array_size(arr);
done:
    if (rc != 0) {
        free(*json_out);
        *json_out = NULL;
    }
    json_decref(arr);
    PQclear(res);
    if (db != NULL)
        PQfinish(db);
    return rc;
}

/* After pg_restore: insert the tombstones the backup lacks and erase those
 * persons again, in one transaction (kopro_gdpr_tombstones_apply()). */
static int apply_tombstones(int *inserted_out, int *erased_out, const char *target_url,
                            const struct kopro_backup_opts *o, const char *json)
{
    PGconn *db = NULL;
    PGresult *res = NULL;
    int rc = kopro_db_connect(&db, target_url, "kopro-backup");
    if (rc == 0)
        rc = kopro_db_exec(db, &res, "looking for kopro.gdpr_tombstones in the restored database",
                           "SELECT to_regclass('kopro.gdpr_tombstones') IS NOT NULL", 0, NULL);
    if (rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        int applied = 0; /* a backup older than migration 0100: bring its kopro schema up to date */
        rc = kopro_migrate_apply(&applied, db);
    }
    if (rc == 0)
        rc = kopro_gdpr_tombstones_apply(erased_out, inserted_out, db, o->cfg, json);
    PQclear(res);
    if (db != NULL)
        PQfinish(db);
    return rc;
}

int kopro_backup_restore(json_t **report_out, const struct kopro_backup_opts *o, const char *id,
                         const char *target_url, int clean, const char *tombstones_json)
{
    static const char *const plain[] = {"--single-transaction", "--exit-on-error", NULL};
    static const char *const cleaning[] = {"--single-transaction", "--exit-on-error", "--clean",
                                           "--if-exists", NULL};
    struct resolved r;
    struct kopro_repo *repo = NULL;
    struct kopro_gpg *gpg = NULL;
    struct kbk_child rst = {.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1};
    json_t *m = NULL;
    PGconn *db = NULL;
    PGresult *res = NULL;
    char dbname[256], tomb_src[300];
    char *tombs = NULL;
    size_t ntombs = 0;
    int inserted = 0, erased = 0;
    int rc;

    if (report_out != NULL)
        *report_out = NULL;
    rc = resolve(&r, o, 0);
    if (rc == 0)
        rc = kopro_repo_open(&repo, r.repo_url, o->cfg);
    if (rc == 0)
        rc = find_manifest(&m, repo, id);
    if (rc != 0)
        goto done;
    if (target_url == NULL || *target_url == '\0') {
        rc = kopro_error_set(KOPRO_EINVAL, "no target database; pass --to DBURL");
        goto done;
    }
    rc = kopro_db_connect(&db, target_url, "kopro-backup");
    if (rc != 0)
        goto done;
    rc = kopro_db_exec(db, &res, "inspecting the target database",
                       "SELECT current_database(), count(c.oid) FROM pg_class c"
                       " JOIN pg_namespace n ON n.oid = c.relnamespace"
                       " WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
                       0, NULL);
    if (rc != 0)
        goto done;
    snprintf(dbname, sizeof(dbname), "%s", PQgetvalue(res, 0, 0));
    if (!clean && strcmp(PQgetvalue(res, 0, 1), "0") != 0) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "target database %s is not empty (%s relations); restore into an "
                             "empty database or pass --clean to replace its objects",
                             dbname, PQgetvalue(res, 0, 1));
        goto done;
    }
    PQfinish(db);
    db = NULL;
    /* the erasures since the backup, read before anything is dropped */
    rc = read_tombstones(&tombs, &ntombs, tomb_src, sizeof tomb_src, r.db_url, tombstones_json);
    if (rc != 0)
        goto done;
    if (ntombs > 0) {
        const char *key = cfg_get(o, "KOPRO_GDPR_KEY");
        if (key == NULL || strlen(key) < 32) {
            rc = kopro_error_set(KOPRO_EINVAL, "%zu GDPR tombstone(s) from %s must be re-applied after the "
                                               "restore; set KOPRO_GDPR_KEY to the key the erasures used",
                                 ntombs, tomb_src);
            goto done;
        }
    }
    /* authenticate every byte before pg_restore sees any */
    rc = check_ciphertext(repo, m);
    if (rc != 0)
        goto done;
    rc = kopro_gpg_open(&gpg, r.gnupghome);
    if (rc != 0)
        goto done;
    rc = spawn_restore(&rst, target_url, dbname, clean ? cleaning : plain);
    if (rc != 0)
        goto done;
    rc = read_back(gpg, repo, m, &rst.in_fd, 1);
    if (rc != 0) {
        stop_child(&rst); /* killed before end of input: its transaction rolls back */
        goto done;
    }
    rc = kbk_wait(&rst, KOPRO_ERROR);
    if (rc != 0) {
        kopro_error_wrap(rc, "restoring backup %s into %s", id, dbname);
        goto done;
    }
    if (ntombs > 0) {
        rc = apply_tombstones(&inserted, &erased, target_url, o, tombs);
        if (rc != 0) {
            kopro_error_wrap(rc, "backup %s WAS restored into %s but the GDPR tombstones from %s were NOT "
                                 "re-applied, so erased persons are back: do not use it; fix the cause and "
                                 "run the restore again with --clean --tombstones FILE (kopro-gdpr tombstones dump "
                                 "of the live database)",
                             id, dbname, tomb_src);
            goto done;
        }
    }
    if (report_out != NULL) {
        *report_out = json_pack("{s:s, s:s, s:O?, s:s, s:I, s:i, s:i}", "id", id, "database", dbname, "started",
                                json_object_get(m, "started"), "tombstones_source", tomb_src, "tombstones_read",
                                (json_int_t)ntombs, "tombstones_applied", inserted, "persons_erased", erased);
        if (*report_out == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "out of memory building the restore report");
    }
done:
    if (tombs != NULL) {
        explicit_bzero(tombs, strlen(tombs));
        free(tombs);
    }
    if (rst.pid > 0)
        stop_child(&rst);
    PQclear(res);
    if (db != NULL)
        PQfinish(db);
    json_decref(m);
    kopro_gpg_free(gpg);
    kopro_repo_free(repo);
    resolved_free(&r);
    return rc;
}

/* ------------------------------------------------------------ retention, gc */

static int verified_ids(json_t **out, struct kopro_repo *repo)
{
    struct kopro_repo_entry *e = NULL;
    size_t n = 0;
    int rc;
    *out = json_object();
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    rc = kopro_repo_list(&e, &n, repo, "verified/");
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *base = e[i].key + strlen("verified/");
        size_t bl = strlen(base);
        if (bl > 5 && strcmp(base + bl - 5, ".json") == 0) {
            char id[80];
            snprintf(id, sizeof(id), "%.*s", (int)(bl - 5), base);
            json_object_set_new(*out, id, json_true());
        }
    }
    kopro_repo_entries_free(e, n);
    return 0;
}

static int forget_backup(struct kopro_repo *repo, const char *id, const char *data_key)
{
    char key[160];
    int rc;
    /* the manifest first: from then on the backup does not exist */
    key_of(key, sizeof(key), "manifests", id, ".json");
    rc = kopro_repo_delete(repo, key);
    if (rc == 0 && data_key[0] != '\0')
        rc = kopro_repo_delete(repo, data_key);
    if (rc == 0) {
        key_of(key, sizeof(key), "verified", id, ".json");
        rc = kopro_repo_delete(repo, key);
    }
    return rc;
}

int kopro_backup_prune(json_t **plan_out, const struct kopro_backup_opts *o,
                       const struct kopro_retention_policy *policy, int dry_run)
{
    struct resolved r;
    struct kopro_repo *repo = NULL;
    struct kopro_retention_decision *dec = NULL;
    json_t *all = NULL, *verified = NULL, *plan = NULL;
    time_t *times = NULL;
    size_t n = 0;
    long newest_verified = -1;
    int rc;

    *plan_out = NULL;
    rc = resolve(&r, o, 0);
    if (rc == 0)
        rc = kopro_repo_open(&repo, r.repo_url, o->cfg);
    if (rc == 0)
        rc = list_manifests(&all, repo);
    if (rc == 0)
        rc = verified_ids(&verified, repo);
    if (rc != 0)
        goto done;
    n = json_array_size(all);
    times = calloc(n ? n : 1, sizeof(*times));
    dec = calloc(n ? n : 1, sizeof(*dec));
    plan = json_array();
    if (times == NULL || dec == NULL || plan == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(all, i);
        rc = kopro_retention_parse_rfc3339(&times[i], mstr(m, NULL, "started"));
        if (rc != 0) {
            kopro_error_wrap(rc, "manifest %s: field started", mstr(m, NULL, "id"));
            goto done;
        }
        if (json_object_get(verified, mstr(m, NULL, "id")) != NULL &&
            (newest_verified < 0 || times[i] >= times[newest_verified]))
            newest_verified = (long)i;
    }
    rc = kopro_retention_plan(dec, times, n, policy);
    if (rc != 0)
        goto done;
    /* newest first, as the rules walk; the list is oldest first */
    for (size_t k = n; k-- > 0;) {
        const json_t *m = json_array_get(all, k);
        json_t *reasons = json_array();
        json_t *item;
        char buf[256];
        int keep = dec[k].keep;
        if (dec[k].reasons & KOPRO_KEEP_LAST)
            json_array_append_new(reasons, json_string("last"));
        if (dec[k].reasons & KOPRO_KEEP_DAILY)
            json_array_append_new(reasons, json_sprintf("daily %s", dec[k].day));
        if (dec[k].reasons & KOPRO_KEEP_WEEKLY)
            json_array_append_new(reasons, json_sprintf("weekly %s", dec[k].week));
        if (dec[k].reasons & KOPRO_KEEP_MONTHLY)
            json_array_append_new(reasons, json_sprintf("monthly %s", dec[k].month));
        if (dec[k].reasons & KOPRO_KEEP_YEARLY)
            json_array_append_new(reasons, json_sprintf("yearly %s", dec[k].year));
        if ((long)k == newest_verified) {
            json_array_append_new(reasons, json_string("newest verified"));
            keep = 1;
        }
        (void)buf;
        item = json_pack("{s:s, s:s, s:s, s:o}", "id", mstr(m, NULL, "id"), "started",
                         mstr(m, NULL, "started"), "action", keep ? "keep" : "forget", "reasons",
                         reasons);
        if (item == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
        json_array_append_new(plan, item);
        if (!keep && !dry_run) {
            rc = forget_backup(repo, mstr(m, NULL, "id"), mstr(m, "ciphertext", "key"));
            if (rc != 0)
                goto done;
        }
    }
    *plan_out = plan;
    plan = NULL;
done:
    json_decref(all);
    json_decref(verified);
    json_decref(plan);
    free(times);
    free(dec);
    kopro_repo_free(repo);
    resolved_free(&r);
    return rc;
}

int kopro_backup_gc(json_t **report_out, const struct kopro_backup_opts *o)
{
    struct resolved r;
    struct kopro_repo *repo = NULL;
    struct kopro_repo_entry *data = NULL, *mans = NULL, *ver = NULL;
    size_t nd = 0, nm = 0, nv = 0, aborted = 0, orphans = 0;
    json_t *removed = NULL, *have = NULL;
    time_t now = time(NULL);
    int rc;

    *report_out = NULL;
    rc = resolve(&r, o, 0);
    if (rc == 0)
        rc = kopro_repo_open(&repo, r.repo_url, o->cfg);
    if (rc != 0)
        goto done;
    rc = kopro_repo_gc_uploads(repo, r.gc_s, &aborted);
    if (rc == KOPRO_ENOTFOUND)
        rc = 0;
    if (rc != 0)
        goto done;
    rc = kopro_repo_list(&mans, &nm, repo, "manifests/");
    if (rc == 0)
        rc = kopro_repo_list(&data, &nd, repo, "data/");
    if (rc == 0)
        rc = kopro_repo_list(&ver, &nv, repo, "verified/");
    if (rc != 0)
        goto done;
    removed = json_array();
    have = json_object();
    if (removed == NULL || have == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nm; i++) {
        const char *base = mans[i].key + strlen("manifests/");
        size_t bl = strlen(base);
        if (bl > 5 && strcmp(base + bl - 5, ".json") == 0) {
            char id[80];
            snprintf(id, sizeof(id), "%.*s", (int)(bl - 5), base);
            json_object_set_new(have, id, json_true());
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        struct kopro_repo_entry *e = pass == 0 ? data : ver;
        size_t n = pass == 0 ? nd : nv;
        const char *dir = pass == 0 ? "data/" : "verified/";
        const char *ext = pass == 0 ? ".dump.zst.gpg" : ".json";
        for (size_t i = 0; i < n; i++) {
            const char *base = e[i].key + strlen(dir);
            size_t bl = strlen(base), el = strlen(ext);
            char id[80];
            if (bl <= el || strcmp(base + bl - el, ext) != 0 || bl - el >= sizeof(id))
                continue;
            snprintf(id, sizeof(id), "%.*s", (int)(bl - el), base);
            if (json_object_get(have, id) != NULL || (long)(now - e[i].mtime) < r.gc_s)
                continue;
            rc = kopro_repo_delete(repo, e[i].key);
            if (rc != 0)
                goto done;
            json_array_append_new(removed, json_string(e[i].key));
            orphans++;
        }
    }
    *report_out = json_pack("{s:I, s:I, s:O}", "aborted_uploads", (json_int_t)aborted,
                            "orphans_removed", (json_int_t)orphans, "removed", removed);
done:
    kopro_repo_entries_free(data, nd);
    kopro_repo_entries_free(mans, nm);
    kopro_repo_entries_free(ver, nv);
    json_decref(removed);
    json_decref(have);
    kopro_repo_free(repo);
    resolved_free(&r);
    return rc;
}
