/*
 * kopro-pdf — render the legal documents of a co-ownership as PDF.
 * Thin: parse arguments, call libkopro (kopro/doc.h), map errors to exit codes.
 * One table entry per command (after tmux's cmd-*.c).
 */
#include "kopro/accounts.h"
#include "kopro/assembly.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/doc.h"
#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/i18n.h"

#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DATA_CAP_BYTES (64u * 1024u * 1024u)

static const char usage_text[] =
    "usage: kopro-pdf minutes   --meeting UUID [options]\n"
    "       kopro-pdf votes     --meeting UUID [options]\n"
    "       kopro-pdf pcn       --building UUID --from YYYY-MM-DD --to YYYY-MM-DD [options]\n"
    "       kopro-pdf statement --building UUID --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "                           (--owner UUID [-o PATH] | --all-owners --out-dir DIR [--jobs N])\n"
    "       kopro-pdf render    minutes|votes|pcn|statement --data FILE.json [options]\n"
    "       kopro-pdf --help\n"
    "\n"
    "options:\n"
    "  --lang fr|nl|de|en     language of the document (default fr)\n"
    "  --final                no PROJET / ONTWERP / ENTWURF / DRAFT watermark\n"
    "  -o PATH | -o -         write the PDF atomically to PATH, or to standard output\n"
    "  --sign FPR             also write PATH.asc, a detached OpenPGP signature made\n"
    "                         with the secret key FPR (KOPRO_GNUPGHOME or GNUPGHOME)\n"
    "  --store URL            keep a copy in the document store (file:///DIR, a path or\n"
    "                         s3://BUCKET/PREFIX with the KOPRO_S3_* settings of\n"
    "                         kopro-backup; \"\" = KOPRO_DOCUMENT_STORE) at\n"
    "                         {org}/{building}/pv|acc/... (documents.file_path: the\n"
    "                         absolute path, or the object's s3:// URL),\n"
    "                         and, from the database, insert a documents row, set\n"
    "                         meetings.minutes_document_id (minutes) and audit_logs\n"
    "  --db CONNINFO          database (default KOPRO_DATABASE_URL)\n"
    "  --generated-at ISO8601 generation time printed and written as /CreationDate\n"
    "                         (default: the meeting date, or the end of the period)\n"
    "  --president NAME, --secretary NAME   officers of the assembly\n"
    "  --jobs N               statements rendered in parallel (default 2)\n"
    "\n"
    "Exit codes: 0 ok, 2 usage, 3 not found (meeting, building, owner, file,\n"
    "            template, font, key), 4 invalid data, 1 other.\n";

struct args {
    const char *cmd;  /* minutes | votes | pcn | statement */
    int render;       /* from --data, no database */
    const char *meeting, *building, *from, *to, *owner, *out_dir;
    const char *lang, *out, *db, *store, *data, *generated_at, *president, *secretary, *sign;
    int final, all_owners, jobs, store_set;
};

struct ctx {
    struct args *a;
    struct kopro_config *cfg;
    PGconn *db;
    struct kopro_doc_options o;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...);

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kopro-pdf: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

static int known_doc(const char *s)
{
    return s != NULL && (strcmp(s, "minutes") == 0 || strcmp(s, "votes") == 0 ||
                         strcmp(s, "pcn") == 0 || strcmp(s, "statement") == 0);
}

static int parse(struct args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"meeting", required_argument, NULL, 'm'},   {"building", required_argument, NULL, 'b'},
        {"from", required_argument, NULL, 'F'},      {"to", required_argument, NULL, 'T'},
        {"owner", required_argument, NULL, 'O'},     {"all-owners", no_argument, NULL, 'A'},
        {"out-dir", required_argument, NULL, 'D'},   {"lang", required_argument, NULL, 'l'},
        {"final", no_argument, NULL, 'f'},           {"output", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, 'd'},        {"store", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'j'},      {"generated-at", required_argument, NULL, 'g'},
        {"president", required_argument, NULL, 'P'}, {"secretary", required_argument, NULL, 'S'},
        {"sign", required_argument, NULL, 'G'},      {"jobs", required_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    int c;
    memset(a, 0, sizeof(*a));
    a->lang = "fr";
    a->jobs = 2;
    if (argc < 2)
        return usage_error("%s", "missing command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return -1;
    }
    a->cmd = argv[1];
    optind = 2;
    if (strcmp(a->cmd, "render") == 0) {
        if (argc < 3 || !known_doc(argv[2]))
            return usage_error("%s", "render needs a document kind: minutes, votes, pcn or statement");
        a->cmd = argv[2];
        a->render = 1;
        optind = 3;
    } else if (!known_doc(a->cmd)) {
        return usage_error("unknown command '%s'", a->cmd);
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->meeting = optarg; break;
        case 'b': a->building = optarg; break;
        case 'F': a->from = optarg; break;
        case 'T': a->to = optarg; break;
        case 'O': a->owner = optarg; break;
        case 'A': a->all_owners = 1; break;
        case 'D': a->out_dir = optarg; break;
        case 'l': a->lang = optarg; break;
        case 'f': a->final = 1; break;
        case 'o': a->out = optarg; break;
        case 'd': a->db = optarg; break;
        case 's': a->store = optarg; a->store_set = 1; break;
        case 'j': a->data = optarg; break;
        case 'g': a->generated_at = optarg; break;
        case 'P': a->president = optarg; break;
        case 'S': a->secretary = optarg; break;
        case 'G': a->sign = optarg; break;
        case 'J':
            a->jobs = atoi(optarg);
            if (a->jobs < 1 || a->jobs > 64)
                return usage_error("--jobs must be 1 to 64, not '%s'", optarg);
            break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!kopro_i18n_lang_valid(a->lang))
        return usage_error("--lang must be fr, nl, de or en, not '%s'", a->lang);
    if (a->render) {
        if (a->data == NULL)
            return usage_error("%s", "render needs --data FILE.json");
    } else if (strcmp(a->cmd, "minutes") == 0 || strcmp(a->cmd, "votes") == 0) {
        if (a->meeting == NULL)
            return usage_error("%s needs --meeting UUID", a->cmd);
    } else if (a->building == NULL || a->from == NULL || a->to == NULL) {
        return usage_error("%s needs --building UUID --from YYYY-MM-DD --to YYYY-MM-DD", a->cmd);
    }
    if (strcmp(a->cmd, "statement") == 0) {
        if ((a->owner == NULL) == (a->all_owners == 0))
            return usage_error("%s", "statement needs --owner UUID or --all-owners");
        if (a->all_owners && a->out_dir == NULL)
            return usage_error("%s", "--all-owners needs --out-dir DIR");
        if (a->owner != NULL && a->out == NULL && !a->store_set)
            return usage_error("%s", "give -o PATH (or -o -) or --store URL");
    } else if (a->out == NULL && !a->store_set) {
        return usage_error("%s", "give -o PATH (or -o - for standard output) or --store URL");
    }
    if (a->sign != NULL && a->out != NULL && strcmp(a->out, "-") == 0)
        return usage_error("%s", "--sign needs a file: -o PATH, not -o -");
    return 0;
}

static int read_json(json_t **out, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    int rc = kopro_fs_read_file(&text, &len, path, DATA_CAP_BYTES);
    *out = NULL;
    if (rc != 0)
        return kopro_error_wrap(rc, "--data %s", path);
    *out = json_loadb(text, len, 0, &jerr);
    explicit_bzero(text, len);
    free(text);
    if (*out == NULL)
        return kopro_error_set(KOPRO_EINVAL, "--data %s: line %d: %s", path, jerr.line, jerr.text);
    return 0;
}

/* Write the PDF to -o, its signature beside it, and keep it in the store. */
static int emit(struct ctx *x, const struct kopro_doc_output *doc, const char *out_path,
                const char *store_rel, struct kopro_docstore_entry *entry)
{
    struct args *a = x->a;
    char *stored = NULL, *doc_id = NULL, *asc = NULL;
    size_t asc_len = 0;
    int rc = 0;

    if (out_path != NULL)
        rc = kopro_doc_write(doc, out_path);
    if (rc == 0 && a->store_set) {
        const char *store = a->store[0] ? a->store : kopro_config_get(x->cfg, "KOPRO_DOCUMENT_STORE", NULL);
        rc = kopro_docstore_put_cfg(&stored, x->cfg, store, store_rel, doc->pdf, doc->pdf_bytes);
        if (rc == 0 && x->db != NULL && entry != NULL) {
            entry->path = stored;
            entry->size_bytes = doc->pdf_bytes;
            entry->sha256 = doc->sha256;
            entry->input_sha256 = doc->input_sha256;
            entry->lang = a->lang;
            rc = kopro_docstore_register(&doc_id, x->db, entry);
            if (rc != 0) {
                /* no row, so no stored copy either; report the registration error */
                char msg[512];
                snprintf(msg, sizeof(msg), "%s", kopro_error_last());
                kopro_docstore_remove(x->cfg, stored);
                kopro_error_set(rc, "%s", msg);
                free(stored);
                stored = NULL;
            }
        }
    }
    if (rc == 0 && a->sign != NULL) {
        const char *signed_path = out_path != NULL && strcmp(out_path, "-") != 0 ? out_path : stored;
        char *asc_path = NULL;
        rc = kopro_doc_sign(&asc, &asc_len, doc->pdf, doc->pdf_bytes, a->sign,
                            kopro_config_get(x->cfg, "KOPRO_GNUPGHOME", NULL));
        if (rc == 0 && signed_path != NULL && kopro_docstore_is_s3(signed_path)) {
            /* the signature goes beside the object, in the same store */
            const char *store = a->store[0] ? a->store : kopro_config_get(x->cfg, "KOPRO_DOCUMENT_STORE", NULL);
            char *asc_rel = NULL, *asc_loc = NULL;
            if (asprintf(&asc_rel, "%s.asc", store_rel) < 0)
                rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            else
                rc = kopro_docstore_put_cfg(&asc_loc, x->cfg, store, asc_rel, asc, asc_len);
            free(asc_rel);
            free(asc_loc);
        } else if (rc == 0 && signed_path != NULL) {
            if (asprintf(&asc_path, "%s.asc", signed_path) < 0)
                rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            else
                rc = kopro_fs_write_file_atomic(asc_path, asc, asc_len, 0644);
            free(asc_path);
        }
    }
    if (rc == 0)
        fprintf(stderr, "kopro-pdf: %s%s%s%s%d pages, %zu bytes, sha256 %s\n",
                out_path && strcmp(out_path, "-") ? out_path : "", stored ? " " : "",
                stored ? stored : "", stored || (out_path && strcmp(out_path, "-")) ? ": " : "",
                doc->pages, doc->pdf_bytes, doc->sha256);
    if (rc == 0 && doc_id != NULL)
        fprintf(stderr, "kopro-pdf: registered as documents.id %s\n", doc_id);
    free(asc);
    free(stored);
    free(doc_id);
    return rc;
}

static int run_assembly(struct ctx *x)
{
    struct args *a = x->a;
    struct kopro_assembly *m = NULL;
    struct kopro_doc_output doc;
    json_t *data = NULL;
    int minutes = strcmp(a->cmd, "minutes") == 0;
    char rel[512];
    int rc;

    memset(&doc, 0, sizeof(doc));
    if (a->render) {
        rc = read_json(&data, a->data);
        if (rc == 0)
            rc = kopro_assembly_load_json(&m, data);
        if (rc != 0)
            rc = kopro_error_wrap(rc, "--data %s", a->data);
    } else {
        rc = kopro_assembly_load_db(&m, x->db, a->meeting);
    }
    if (rc == 0 && (a->president != NULL || a->secretary != NULL))
        rc = kopro_assembly_set_officers(m, a->president ? a->president : m->meeting.president_name,
                                         a->secretary ? a->secretary : m->meeting.secretary_name);
    if (rc == 0)
        rc = minutes ? kopro_doc_minutes(&doc, m, &x->o) : kopro_doc_votes(&doc, m, &x->o);
    if (rc == 0) {
        struct kopro_docstore_entry e;
        memset(&e, 0, sizeof(e));
        snprintf(rel, sizeof(rel), "%s/%s/pv/%s%s-%s.pdf",
                 m->building.organization_id ? m->building.organization_id : "none",
                 m->building.id ? m->building.id : "none", m->meeting.id ? m->meeting.id : "none",
                 minutes ? "" : "-votes", a->lang);
        e.organization_id = m->building.organization_id;
        e.building_id = m->building.id;
        e.meeting_id = m->meeting.id;
        e.document_type = "meeting_minutes";
        e.title = m->meeting.title;
        e.kind = a->cmd;
        e.set_minutes = minutes;
        rc = emit(x, &doc, a->out, rel, &e);
    }
    kopro_doc_output_free(&doc);
    kopro_assembly_free(m);
    json_decref(data);
    return rc;
}

static int load_accounts(struct ctx *x, struct kopro_accounts **m)
{
    struct args *a = x->a;
    json_t *data = NULL;
    int rc;
    if (!a->render)
        return kopro_accounts_load_db(m, x->db, a->building, a->from, a->to);
    rc = read_json(&data, a->data);
    if (rc == 0)
        rc = kopro_accounts_load_json(m, data);
    if (rc != 0)
        rc = kopro_error_wrap(rc, "--data %s", a->data);
    json_decref(data);
    return rc;
}

static int run_pcn(struct ctx *x)
{
    struct kopro_accounts *m = NULL;
    struct kopro_doc_output doc;
    char rel[512];
    int rc;
    memset(&doc, 0, sizeof(doc));
    rc = load_accounts(x, &m);
    if (rc == 0)
        rc = kopro_doc_pcn(&doc, m, &x->o);
    if (rc == 0) {
        struct kopro_docstore_entry e;
        memset(&e, 0, sizeof(e));
        snprintf(rel, sizeof(rel), "%s/%s/acc/pcn-%s-%s-%s.pdf",
                 m->building.organization_id ? m->building.organization_id : "none",
                 m->building.id ? m->building.id : "none", m->period_from, m->period_to,
                 x->a->lang);
        e.organization_id = m->building.organization_id;
        e.building_id = m->building.id;
        e.document_type = "financial_statement";
        e.title = "PCN";
        e.kind = "pcn";
        rc = emit(x, &doc, x->a->out, rel, &e);
    }
    kopro_doc_output_free(&doc);
    kopro_accounts_free(m);
    return rc;
}

struct stmt_run {
    struct ctx *x;
    const struct kopro_accounts *m;
    const struct kopro_statements *s;
    atomic_size_t next;
    atomic_int failed;
    pthread_mutex_t lock; /* first error message */
    char err[1024];
    int err_rc;
};

static int one_statement(struct ctx *x, const struct kopro_accounts *m,
                         const struct kopro_statements *s, size_t i, const char *out_path)
{
    struct kopro_doc_output doc;
    const struct kopro_acc_owner *ow = &m->owners[s->items[i].owner];
    char rel[512];
    int rc;
    memset(&doc, 0, sizeof(doc));
    rc = kopro_doc_statement(&doc, m, s, i, &x->o);
    if (rc == 0) {
        struct kopro_docstore_entry e;
        memset(&e, 0, sizeof(e));
        snprintf(rel, sizeof(rel), "%s/%s/acc/statement-%s-%s-%s-%s.pdf",
                 m->building.organization_id ? m->building.organization_id : "none",
                 m->building.id ? m->building.id : "none", ow->id, m->period_from, m->period_to,
                 x->a->lang);
        e.organization_id = m->building.organization_id;
        e.building_id = m->building.id;
        e.document_type = "financial_statement";
        e.title = ow->display_name;
        e.kind = "statement";
        rc = emit(x, &doc, out_path, rel, x->db != NULL && x->a->jobs == 1 ? &e : NULL);
    }
    kopro_doc_output_free(&doc);
    return rc;
}

static void *stmt_worker(void *arg)
{
    struct stmt_run *r = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&r->next, 1);
        char *path = NULL;
        int rc;
        if (i >= r->s->n_items || atomic_load(&r->failed))
            break;
        if (asprintf(&path, "%s/%s.pdf", r->x->a->out_dir, r->m->owners[r->s->items[i].owner].id) < 0) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        } else {
            rc = one_statement(r->x, r->m, r->s, i, path);
            free(path);
        }
        if (rc != 0) {
            pthread_mutex_lock(&r->lock);
            if (!atomic_load(&r->failed)) {
                snprintf(r->err, sizeof(r->err), "%s", kopro_error_last());
                r->err_rc = rc;
            }
            atomic_store(&r->failed, 1);
            pthread_mutex_unlock(&r->lock);
            break;
        }
    }
    return NULL;
}

static int run_statement(struct ctx *x)
{
    struct args *a = x->a;
    struct kopro_accounts *m = NULL;
    struct kopro_statements *s = NULL;
    int rc;

    rc = load_accounts(x, &m);
    if (rc == 0)
        rc = kopro_accounts_statements(&s, m);
    if (rc != 0)
        goto done;
    if (a->owner != NULL) {
        size_t i;
        for (i = 0; i < s->n_items; i++)
            if (strcmp(m->owners[s->items[i].owner].id, a->owner) == 0)
                break;
        if (i == s->n_items) {
            rc = kopro_error_set(KOPRO_ENOTFOUND, "--owner %s has no statement for building %s; "
                                                  "check the owner holds a lot there",
                                 a->owner, m->building.id ? m->building.id : "?");
            goto done;
        }
        x->a->jobs = 1; /* registration happens on this thread's connection */
        rc = one_statement(x, m, s, i, a->out);
    } else {
        struct stmt_run r;
        pthread_t th[64];
        int n = a->jobs, started = 0;
        struct stat st;
        if (stat(a->out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = kopro_error_set(KOPRO_ENOTFOUND, "--out-dir %s is not a directory; create it first",
                                 a->out_dir);
            goto done;
        }
        memset(&r, 0, sizeof(r));
        r.x = x;
        r.m = m;
        r.s = s;
        atomic_init(&r.next, 0);
        atomic_init(&r.failed, 0);
        pthread_mutex_init(&r.lock, NULL);
        if (x->db != NULL && a->store_set)
            n = 1; /* one libpq connection: register from one thread */
        x->a->jobs = n;
        for (int i = 0; i < n; i++)
            if (pthread_create(&th[i], NULL, stmt_worker, &r) == 0)
                started++;
        if (started == 0)
            stmt_worker(&r);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_mutex_destroy(&r.lock);
        if (atomic_load(&r.failed))
            rc = kopro_error_set(r.err_rc, "%s", r.err);
        else
            fprintf(stderr, "kopro-pdf: %zu statements in %s\n", s->n_items, a->out_dir);
    }
done:
    kopro_statements_free(s);
    kopro_accounts_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a;
    struct ctx x;
    time_t gen = 0;
    int rc = parse(&a, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    memset(&x, 0, sizeof(x));
    x.a = &a;
    rc = kopro_config_load(&x.cfg, NULL);
    if (rc != 0)
        goto done;
    if (a.generated_at != NULL && kopro_i18n_parse_time(&gen, a.generated_at) != 0) {
        kopro_config_free(x.cfg);
        return usage_error("--generated-at '%s' is not ISO 8601 (e.g. 2026-03-12T20:00:00Z)",
                           a.generated_at);
    }
    if (!a.render) {
        rc = kopro_db_connect(&x.db, a.db != NULL ? a.db : kopro_config_get(x.cfg, "KOPRO_DATABASE_URL", NULL),
                              "kopro-pdf");
        if (rc != 0)
            goto done;
    }
    x.o.lang = a.lang;
    x.o.final = a.final;
    x.o.template_dir = kopro_config_get(x.cfg, "KOPRO_TEMPLATE_DIR", NULL);
    x.o.font_dir = kopro_config_get(x.cfg, "KOPRO_FONT_DIR", NULL);
    x.o.generated_at_utc = gen;
    if (strcmp(a.cmd, "minutes") == 0 || strcmp(a.cmd, "votes") == 0)
        rc = run_assembly(&x);
    else if (strcmp(a.cmd, "pcn") == 0)
        rc = run_pcn(&x);
    else
        rc = run_statement(&x);
done:
    if (rc != 0)
        fprintf(stderr, "kopro-pdf: %s\n", kopro_error_last());
    if (x.db != NULL)
        PQfinish(x.db);
    kopro_config_free(x.cfg);
    return kopro_error_exit_code(rc);
}
