/*
 * kopro-pdf — render the legal documents of a co-ownership as PDF.
 * Thin: parse arguments, call libkopro (kopro/doc.h), map errors to exit codes.
 */
#include "kopro/assembly.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/doc.h"
#include "kopro/docstore.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/i18n.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DATA_CAP_BYTES (64u * 1024u * 1024u)

static const char usage_text[] =
    "usage: kopro-pdf minutes --meeting UUID [--lang fr|nl|de|en] [--final] [-o PATH|-]\n"
    "                         [--store URL] [--db CONNINFO] [--generated-at ISO8601]\n"
    "                         [--president NAME] [--secretary NAME]\n"
    "       kopro-pdf render minutes --data FILE.json [--lang ..] [--final] [-o PATH|-]\n"
    "       kopro-pdf --help\n"
    "\n"
    "Writes the minutes (proces-verbal / notulen / Protokoll) of a general assembly\n"
    "from KoproGo's database (KOPRO_DATABASE_URL or --db) or from a JSON model.\n"
    "The file is written atomically; -o - writes to standard output. --store URL\n"
    "(file:///DIR or a path; default KOPRO_DOCUMENT_STORE) keeps a copy at\n"
    "{org}/{building}/pv/{meeting}-{lang}.pdf. Without --final the pages carry the\n"
    "watermark PROJET / ONTWERP / ENTWURF / DRAFT. The generation time printed in\n"
    "the footer is --generated-at, else the meeting date (documents are reproducible).\n"
    "\n"
    "Exit codes: 0 ok, 2 usage, 3 not found (meeting, file, template, font),\n"
    "            4 invalid data (inconsistent assembly, bad uuid, bad JSON), 1 other.\n";

struct args {
    const char *cmd;
    const char *what; /* render: document kind */
    const char *meeting, *lang, *out, *db, *store, *data, *generated_at, *president, *secretary;
    int final;
};

static int usage_error(const char *msg)
{
    fprintf(stderr, "kopro-pdf: %s\n%s", msg, usage_text);
    return 2;
}

static int parse(struct args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"meeting", required_argument, NULL, 'm'},  {"lang", required_argument, NULL, 'l'},
        {"final", no_argument, NULL, 'f'},          {"output", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, 'd'},       {"store", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'j'},     {"generated-at", required_argument, NULL, 'g'},
        {"president", required_argument, NULL, 'P'}, {"secretary", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;
    memset(a, 0, sizeof(*a));
    a->lang = "fr";
    if (argc < 2)
        return usage_error("missing command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return -1;
    }
    a->cmd = argv[1];
    optind = 2;
    if (strcmp(a->cmd, "render") == 0) {
        if (argc < 3 || argv[2][0] == '-')
            return usage_error("render needs a document kind: minutes");
        a->what = argv[2];
        optind = 3;
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->meeting = optarg; break;
        case 'l': a->lang = optarg; break;
        case 'f': a->final = 1; break;
        case 'o': a->out = optarg; break;
        case 'd': a->db = optarg; break;
        case 's': a->store = optarg; break;
        case 'j': a->data = optarg; break;
        case 'g': a->generated_at = optarg; break;
        case 'P': a->president = optarg; break;
        case 'S': a->secretary = optarg; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown or incomplete option '%s'", argv[optind - 1]);
            return usage_error(msg);
        }
        }
    }
    if (optind < argc) {
        char msg[160];
        snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[optind]);
        return usage_error(msg);
    }
    if (!kopro_i18n_lang_valid(a->lang))
        return usage_error("--lang must be fr, nl, de or en");
    if (strcmp(a->cmd, "minutes") == 0) {
        if (a->meeting == NULL)
            return usage_error("minutes needs --meeting UUID");
    } else if (strcmp(a->cmd, "render") == 0) {
        if (strcmp(a->what, "minutes") != 0)
            return usage_error("render supports: minutes");
        if (a->data == NULL)
            return usage_error("render needs --data FILE.json");
    } else {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown command '%s'", a->cmd);
        return usage_error(msg);
    }
    if (a->out == NULL && a->store == NULL)
        return usage_error("give -o PATH (or -o - for standard output) or --store URL");
    return 0;
}

static int load_json_model(struct kopro_assembly **out, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    json_t *doc = NULL;
    json_error_t jerr;
    int rc = kopro_fs_read_file(&text, &len, path, DATA_CAP_BYTES);
    if (rc != 0)
        return kopro_error_wrap(rc, "--data %s", path);
    doc = json_loadb(text, len, 0, &jerr);
    if (doc == NULL) {
        rc = kopro_error_set(KOPRO_EINVAL, "--data %s: line %d: %s", path, jerr.line, jerr.text);
        goto done;
    }
    rc = kopro_assembly_load_json(out, doc);
    if (rc != 0)
        rc = kopro_error_wrap(rc, "--data %s", path);
done:
    json_decref(doc);
    if (text != NULL) {
        explicit_bzero(text, len);
        free(text);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct args a;
    struct kopro_config *cfg = NULL;
    struct kopro_assembly *model = NULL;
    struct kopro_doc_output doc;
    struct kopro_doc_options o;
    PGconn *db = NULL;
    char *stored = NULL;
    time_t gen = 0;
    int rc = parse(&a, argc, argv);

    memset(&doc, 0, sizeof(doc));
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    rc = kopro_config_load(&cfg, NULL);
    if (rc != 0)
        goto done;
    if (a.generated_at != NULL) {
        rc = kopro_i18n_parse_time(&gen, a.generated_at);
        if (rc != 0) {
            rc = kopro_error_wrap(KOPRO_EUSAGE, "--generated-at");
            goto done;
        }
    }
    if (a.data != NULL) {
        rc = load_json_model(&model, a.data);
    } else {
        rc = kopro_db_connect(&db, a.db != NULL ? a.db : kopro_config_get(cfg, "KOPRO_DATABASE_URL", NULL),
                              "kopro-pdf");
        if (rc == 0)
            rc = kopro_assembly_load_db(&model, db, a.meeting);
    }
    if (rc != 0)
        goto done;
    if (a.president != NULL || a.secretary != NULL) {
        rc = kopro_assembly_set_officers(model, a.president ? a.president : model->meeting.president_name,
                                         a.secretary ? a.secretary : model->meeting.secretary_name);
        if (rc != 0)
            goto done;
    }
    memset(&o, 0, sizeof(o));
    o.lang = a.lang;
    o.final = a.final;
    o.template_dir = kopro_config_get(cfg, "KOPRO_TEMPLATE_DIR", NULL);
    o.font_dir = kopro_config_get(cfg, "KOPRO_FONT_DIR", NULL);
    o.generated_at_utc = gen;
    rc = kopro_doc_minutes(&doc, model, &o);
    if (rc != 0)
        goto done;
    if (a.out != NULL) {
        rc = kopro_doc_write(&doc, a.out);
        if (rc != 0)
            goto done;
    }
    if (a.store != NULL) {
        char rel[512];
        snprintf(rel, sizeof(rel), "%s/%s/pv/%s-%s.pdf",
                 model->building.organization_id ? model->building.organization_id : "none",
                 model->building.id ? model->building.id : "none",
                 model->meeting.id ? model->meeting.id : "none", a.lang);
        rc = kopro_docstore_put(&stored, a.store[0] ? a.store
                                                    : kopro_config_get(cfg, "KOPRO_DOCUMENT_STORE", NULL),
                                rel, doc.pdf, doc.pdf_bytes);
        if (rc != 0)
            goto done;
    }
    fprintf(stderr, "kopro-pdf: %s%s%d pages, %zu bytes, sha256 %s\n", stored ? stored : "",
            stored ? ": " : "", doc.pages, doc.pdf_bytes, doc.sha256);
done:
    if (rc != 0)
        fprintf(stderr, "kopro-pdf: %s\n", kopro_error_last());
    free(stored);
    kopro_doc_output_free(&doc);
    kopro_assembly_free(model);
    if (db != NULL)
        PQfinish(db);
    kopro_config_free(cfg);
    return kopro_error_exit_code(rc);
}
