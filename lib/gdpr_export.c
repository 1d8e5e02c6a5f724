/*
 * lib/gdpr_export.c — the art. 15/20 export: one ZIP per person, columns
 * chosen by the register (lib/gdpr_register.c), rows selected per category,
 * deterministic bytes for a given database state and as-of time.
 */
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kopro/buf.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/gdpr.h"
#include "kopro/hash.h"
#include "kopro/valid.h"

#define FILE_CAP_BYTES ((size_t)256 * 1024 * 1024)
#define ZIP_CAP_BYTES ((size_t)1024 * 1024 * 1024)
#define FORMAT "kopro-gdpr-export/1"

/* The person: the user and the owners linked to it. $1 is the user's uuid. */
#define MINE "(SELECT mo.id FROM public.owners mo WHERE mo.user_id = $1::uuid)"
#define MY_UNITS "(SELECT muo.unit_id FROM public.unit_owners muo WHERE muo.owner_id IN " MINE ")"
#define MY_BUILDINGS "(SELECT mu.building_id FROM public.units mu WHERE mu.id IN " MY_UNITS ")"
/* Assemblies of the person's buildings they were convened to or voted in. */
#define MY_MEETINGS                                                                              \
    "(SELECT mm.id FROM public.meetings mm WHERE mm.building_id IN " MY_BUILDINGS               \
    " AND (EXISTS (SELECT 1 FROM public.convocations mc JOIN public.convocation_recipients mcr"  \
    " ON mcr.convocation_id = mc.id WHERE mc.meeting_id = mm.id AND mcr.owner_id IN " MINE ")"  \
    " OR EXISTS (SELECT 1 FROM public.votes mv JOIN public.resolutions mr ON mr.id ="          \
    " mv.resolution_id WHERE mr.meeting_id = mm.id AND mv.owner_id IN " MINE ")))"
#define NAME_OF(alias) "btrim(" alias ".first_name || ' ' || " alias ".last_name)"

struct extra {
    const char *key;
    const char *expr;
};

/* One array in one file. Columns: the register's exported columns of `table` (alias t), plus extras. */
struct section {
    const char *file;     /* "votes.json" */
    const char *name;     /* key in the file's object */
    const char *table;    /* register table, or NULL for extras only */
    const char *from;     /* SQL after FROM: joins, WHERE with $1 (and $2 = as-of epoch), ORDER BY */
    int uses_as_of;
    const char *csv;      /* CSV file written from this section, or NULL */
    struct extra extras[8];
};

static const struct section sections[] = {
    {"profile.json", "user", "users", "public.users t WHERE t.id = $1::uuid ORDER BY t.id", 0, NULL, {{0}}},
    {"profile.json", "owners", "owners", "public.owners t WHERE t.user_id = $1::uuid ORDER BY t.id", 0, NULL, {{0}}},
    {"profile.json", "user_roles", "user_roles",
     "public.user_roles t WHERE t.user_id = $1::uuid ORDER BY t.role, t.id", 0, NULL, {{0}}},

    {"units.json", "unit_owners", "unit_owners",
     "public.unit_owners t JOIN public.units u ON u.id = t.unit_id JOIN public.buildings b ON b.id = u.building_id"
     " WHERE t.owner_id IN " MINE " ORDER BY t.start_date, u.unit_number, t.id",
     0, "units.csv", {{"building_name", "b.name"}, {"unit_number", "u.unit_number"}, {"quota", "u.quota"},
                      {"total_tantiemes", "b.total_tantiemes"}}},
    {"units.json", "units", "units", "public.units t WHERE t.id IN " MY_UNITS " ORDER BY t.unit_number, t.id",
     0, NULL, {{0}}},
    {"units.json", "buildings", "buildings",
     "public.buildings t WHERE t.id IN " MY_BUILDINGS " ORDER BY t.name, t.id", 0, NULL, {{0}}},
    /* Other owners of the person's lots during the person's ownership: names only. */
    {"units.json", "co_owners", NULL,
     "public.unit_owners t JOIN public.owners o ON o.id = t.owner_id JOIN public.units u ON u.id = t.unit_id"
     " WHERE t.owner_id NOT IN " MINE " AND EXISTS (SELECT 1 FROM public.unit_owners me"
     " WHERE me.unit_id = t.unit_id AND me.owner_id IN " MINE
     " AND me.start_date < coalesce(t.end_date, 'infinity') AND t.start_date < coalesce(me.end_date, 'infinity'))"
     " ORDER BY u.unit_number, t.start_date, t.id",
     0, NULL, {{"name", NAME_OF("o")}, {"unit_number", "u.unit_number"},
               {"ownership_percentage", "t.ownership_percentage"}, {"start_date", "t.start_date"},
               {"end_date", "t.end_date"}}},

    {"assemblies.json", "meetings", "meetings",
     "public.meetings t WHERE t.id IN " MY_MEETINGS " ORDER BY t.scheduled_date, t.id", 0, NULL, {{0}}},
    {"assemblies.json", "resolutions", "resolutions",
     "public.resolutions t JOIN public.meetings m ON m.id = t.meeting_id WHERE t.meeting_id IN " MY_MEETINGS
     " ORDER BY m.scheduled_date, t.created_at, t.title, t.id",
     0, NULL, {{0}}},
    {"assemblies.json", "attendance", "convocation_recipients",
     "public.convocation_recipients t JOIN public.convocations c ON c.id = t.convocation_id"
     " LEFT JOIN public.owners p ON p.id = t.proxy_owner_id"
     " WHERE t.owner_id IN " MINE " AND c.meeting_id IN " MY_MEETINGS " ORDER BY c.meeting_date, t.id",
     0, NULL, {{"meeting_id", "c.meeting_id"}, {"proxy_holder_name", NAME_OF("p")}}},
    {"assemblies.json", "proxy_mandates", "meeting_proxy_mandates",
     "public.meeting_proxy_mandates t JOIN public.owners g ON g.id = t.grantor_owner_id"
     " JOIN public.users h ON h.id = t.proxy_holder_id"
     " WHERE t.grantor_owner_id IN " MINE " OR t.proxy_holder_id = $1::uuid ORDER BY t.meeting_id, t.id",
     0, NULL, {{"grantor_name", NAME_OF("g")}, {"proxy_holder_name", NAME_OF("h")}}},

    {"votes.json", "votes", "votes",
     "public.votes t JOIN public.resolutions r ON r.id = t.resolution_id JOIN public.units u ON u.id = t.unit_id"
     " LEFT JOIN public.owners p ON p.id = t.proxy_owner_id"
     " WHERE t.owner_id IN " MINE " ORDER BY t.voted_at, r.title, t.id",
     0, "votes.csv", {{"meeting_id", "r.meeting_id"}, {"resolution_title", "r.title"},
                      {"majority_required", "r.majority_required"}, {"unit_number", "u.unit_number"},
                      {"proxy_holder_name", NAME_OF("p")}}},
    {"votes.json", "votes_cast_as_proxy", "votes",
     "public.votes t JOIN public.resolutions r ON r.id = t.resolution_id JOIN public.owners g ON g.id = t.owner_id"
     " WHERE t.proxy_owner_id IN " MINE " ORDER BY t.voted_at, r.title, t.id",
     0, NULL, {{"meeting_id", "r.meeting_id"}, {"resolution_title", "r.title"}, {"grantor_name", NAME_OF("g")}}},

    {"charges.json", "charge_distributions", "charge_distributions",
     "public.charge_distributions t JOIN public.expenses e ON e.id = t.expense_id WHERE t.owner_id IN " MINE
     " ORDER BY e.expense_date, t.id",
     0, NULL, {{"expense_description", "e.description"}, {"expense_date", "e.expense_date"},
               {"expense_category", "e.category"}, {"expense_amount", "e.amount"},
               {"account_code", "e.account_code"}}},

    {"contributions.json", "owner_contributions", "owner_contributions",
     "public.owner_contributions t LEFT JOIN public.call_for_funds cf ON cf.id = t.call_for_funds_id"
     " WHERE t.owner_id IN " MINE " ORDER BY t.contribution_date, t.id",
     0, "contributions.csv", {{"call_title", "cf.title"}, {"call_total_amount", "cf.total_amount"}}},
    {"contributions.json", "payments", "payments",
     "public.payments t WHERE t.owner_id IN " MINE " ORDER BY t.created_at, t.id", 0, NULL, {{0}}},
    {"contributions.json", "payment_reminders", "payment_reminders",
     "public.payment_reminders t WHERE t.owner_id IN " MINE " ORDER BY t.created_at, t.id", 0, NULL, {{0}}},

    {"consents.json", "consent_records", "consent_records",
     "public.consent_records t WHERE t.user_id = $1::uuid ORDER BY t.accepted_at, t.id", 0, NULL, {{0}}},

    {"audit.json", "audit_logs", "audit_logs",
     "public.audit_logs t WHERE (t.user_id = $1::uuid OR t.resource_id = $1::uuid OR t.resource_id IN " MINE ")"
     " AND t.timestamp <= to_timestamp($2::double precision) ORDER BY t.timestamp, t.id",
     1, NULL, {{0}}},

    {"documents.json", "documents", "documents",
     "public.documents t WHERE t.building_id IN " MY_BUILDINGS " AND (t.related_meeting_id IN " MY_MEETINGS
     " OR t.document_type IN ('meeting_minutes', 'financial_statement', 'regulation'))"
     " ORDER BY t.created_at, t.id",
     0, NULL, {{0}}},
};
#define NSECTIONS (int)(sizeof sections / sizeof sections[0])

/* The category each data file belongs to (processing.json, README). */
static const struct {
    const char *file;
    enum kopro_gdpr_category category;
    const char *fr, *nl, *de, *en;
} file_docs[] = {
    {"profile.json", KOPRO_GDPR_CAT_IDENTITY, "votre compte et vos fiches de propriétaire",
     "uw account en eigenaarsfiches", "Ihr Konto und Ihre Eigentümerdaten", "your account and owner records"},
    {"units.json", KOPRO_GDPR_CAT_OWNERSHIP, "vos lots et quotes-parts dans le temps (+ units.csv)",
     "uw kavels en aandelen in de tijd (+ units.csv)", "Ihre Lose und Anteile im Zeitverlauf (+ units.csv)",
     "your lots and shares over time (+ units.csv)"},
    {"assemblies.json", KOPRO_GDPR_CAT_VOTING, "les assemblées générales de vos immeubles où vous étiez convoqué",
     "de algemene vergaderingen van uw gebouwen waarvoor u werd opgeroepen",
     "die Eigentümerversammlungen Ihrer Gebäude, zu denen Sie geladen waren",
     "the general assemblies of your buildings you were convened to"},
    {"votes.json", KOPRO_GDPR_CAT_VOTING, "vos votes (+ votes.csv)", "uw stemmen (+ votes.csv)",
     "Ihre Stimmen (+ votes.csv)", "your votes (+ votes.csv)"},
    {"charges.json", KOPRO_GDPR_CAT_FINANCIAL, "votre part des charges", "uw aandeel in de lasten",
     "Ihr Anteil an den Kosten", "your share of the charges"},
    {"contributions.json", KOPRO_GDPR_CAT_FINANCIAL,
     "appels de fonds, paiements et rappels (+ contributions.csv)",
     "opvragingen van fondsen, betalingen en herinneringen (+ contributions.csv)",
     "Zahlungsaufforderungen, Zahlungen und Mahnungen (+ contributions.csv)",
     "calls for funds, payments and reminders (+ contributions.csv)"},
    {"consents.json", KOPRO_GDPR_CAT_TECHNICAL, "vos consentements", "uw toestemmingen",
     "Ihre Einwilligungen", "your consents"},
    {"audit.json", KOPRO_GDPR_CAT_TECHNICAL, "le journal d'audit vous concernant", "het auditlogboek over u",
     "das Prüfprotokoll über Sie", "audit entries about you"},
    {"documents.json", KOPRO_GDPR_CAT_OWNERSHIP, "les documents qui vous ont été adressés (PDF dans documents/)",
     "de documenten die u werden bezorgd (pdf in documents/)",
     "die Ihnen zugestellten Dokumente (PDF in documents/)",
     "the documents issued to you (PDFs under documents/)"},
};
#define NFILEDOCS (int)(sizeof file_docs / sizeof file_docs[0])

/* ------------------------------------------------------------ archive members */

struct member {
    char name[96];
    struct kopro_buf data;
    long rows;
};

struct members {
    struct member m[48];
    int n;
};

static struct member *member_get(struct members *ms, const char *name)
{
    for (int i = 0; i < ms->n; i++)
        if (strcmp(ms->m[i].name, name) == 0)
            return &ms->m[i];
    if (ms->n >= (int)(sizeof ms->m / sizeof ms->m[0])) {
        kopro_error_set(KOPRO_ETOOBIG, "GDPR export: more than %zu archive members",
                        sizeof ms->m / sizeof ms->m[0]);
        return NULL;
    }
    struct member *m = &ms->m[ms->n++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    kopro_buf_init(&m->data, FILE_CAP_BYTES);
    return m;
}

static void members_free(struct members *ms)
{
    for (int i = 0; i < ms->n; i++)
        kopro_buf_free_secure(&ms->m[i].data);
    ms->n = 0;
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* ------------------------------------------------------------ SQL from the register */

struct col {
    const char *key;
    const char *expr; /* an extra's SQL expression; NULL for a register column */
    char own[96];     /* t."column" for a register column */
};

#define EXPR(c) ((c).expr != NULL ? (c).expr : (c).own)

static int cmp_col(const void *a, const void *b)
{
    return strcmp(((const struct col *)a)->key, ((const struct col *)b)->key);
}

/* Columns of a section: the register's exported columns of its table, then extras; sorted by key. */
static int section_columns(struct col *cols, int max, const struct section *s)
{
    int n = 0;
    size_t nreg = 0;
    const struct kopro_gdpr_column *reg = kopro_gdpr_register(&nreg);
    if (s->table != NULL) {
        for (size_t i = 0; i < nreg; i++) {
            if (strcmp(reg[i].table, s->table) != 0 || !reg[i].exported)
                continue;
            if (n >= max)
                return kopro_error_set(KOPRO_ETOOBIG, "GDPR export: table %s has too many columns", s->table);
            cols[n].key = reg[i].column;
            snprintf(cols[n].own, sizeof cols[n].own, "t.\"%s\"", reg[i].column);
            cols[n].expr = NULL;
            n++;
        }
    }
    for (int i = 0; i < 8 && s->extras[i].key != NULL; i++) {
        if (n >= max)
            return kopro_error_set(KOPRO_ETOOBIG, "GDPR export: section %s has too many columns", s->name);
        cols[n].key = s->extras[i].key;
        cols[n].expr = s->extras[i].expr;
        cols[n].own[0] = '\0';
        n++;
    }
    qsort(cols, (size_t)n, sizeof cols[0], cmp_col);
    return n;
}

static int csv_field(struct kopro_buf *b, const char *v)
{
    if (v == NULL)
        return 0;
    if (strpbrk(v, ",\"\r\n") == NULL)
        return kopro_buf_adds(b, v);
    int rc = kopro_buf_adds(b, "\"");
    for (const char *p = v; rc == 0 && *p != '\0'; p++)
        rc = *p == '"' ? kopro_buf_adds(b, "\"\"") : kopro_buf_add(b, p, 1);
    return rc != 0 ? rc : kopro_buf_adds(b, "\"");
}

/*
 * Run one section and append `"name": [rows]` to its JSON member (and the
 * rows to its CSV member). Column names come from the register, never from
 * input; the person's id and the as-of time are parameters.
 */
static int run_section(struct members *ms, PGconn *db, const struct section *s, const char *user_id,
                       const char *as_of, int first_in_file)
{
    struct col cols[64];
    struct kopro_buf sql;
    PGresult *res = NULL;
    int rc = 0;
    kopro_buf_init(&sql, 64 * 1024);

    int n = section_columns(cols, 64, s);
    if (n < 0)
        return n;
    rc = kopro_buf_adds(&sql, "SELECT json_build_object(");
    for (int i = 0; rc == 0 && i < n; i++)
        rc = kopro_buf_addf(&sql, "%s'%s', %s", i ? ", " : "", cols[i].key, EXPR(cols[i]));
    rc = rc ? rc : kopro_buf_adds(&sql, ")::text");
    for (int i = 0; rc == 0 && s->csv != NULL && i < n; i++)
        rc = kopro_buf_addf(&sql, ", (%s)::text", EXPR(cols[i]));
    rc = rc ? rc : kopro_buf_addf(&sql, " FROM %s", s->from);
    if (rc != 0)
        goto done;

    const char *params[2] = {user_id, as_of};
    rc = kopro_db_exec(db, &res, s->name, sql.data, s->uses_as_of ? 2 : 1, params);
    if (rc != 0)
        goto done;

    struct member *j = member_get(ms, s->file);
    if (j == NULL) {
        rc = kopro_error_last_code();
        goto done;
    }
    int rows = PQntuples(res);
    rc = kopro_buf_addf(&j->data, "%s  \"%s\": [", first_in_file ? "{\n" : ",\n", s->name);
    for (int r = 0; rc == 0 && r < rows; r++)
        rc = kopro_buf_addf(&j->data, "%s\n    %s", r ? "," : "", PQgetvalue(res, r, 0));
    rc = rc ? rc : kopro_buf_adds(&j->data, rows ? "\n  ]" : "]");
    j->rows += rows;

    if (rc == 0 && s->csv != NULL) {
        struct member *c = member_get(ms, s->csv);
        if (c == NULL) {
            rc = kopro_error_last_code();
            goto done;
        }
        for (int i = 0; rc == 0 && i < n; i++)
            rc = kopro_buf_addf(&c->data, "%s%s", i ? "," : "", cols[i].key);
        rc = rc ? rc : kopro_buf_adds(&c->data, "\r\n"); /* RFC 4180 */
        for (int r = 0; rc == 0 && r < rows; r++) {
            for (int i = 0; rc == 0 && i < n; i++) {
                rc = i ? kopro_buf_adds(&c->data, ",") : 0;
                rc = rc ? rc : csv_field(&c->data, kopro_db_value(res, r, 1 + i));
            }
            rc = rc ? rc : kopro_buf_adds(&c->data, "\r\n");
        }
        c->rows += rows;
    }
done:
    PQclear(res);
    kopro_buf_free(&sql);
    return rc;
}

/* ------------------------------------------------------------ fixed texts */

static const char *readme_intro =
    "kopro: export of your personal data / export van uw persoonsgegevens /\n"
    "Export Ihrer personenbezogenen Daten / export of your personal data\n"
    "(GDPR/RGPD/AVG/DSGVO art. 15 and 20)\n"
    "\n"
    "manifest.json lists every file with its SHA-256 and its number of rows.\n"
    "processing.json states, per category, the purposes, the legal basis, the\n"
    "recipients and the retention period (art. 15(1)).\n"
    "JSON files hold one object per category; CSV files (RFC 4180, UTF-8) open\n"
    "in a spreadsheet. Amounts are in euro, times in UTC (ISO 8601).\n"
    "Complaints: Autorité de protection des données / Gegevensbeschermingsautoriteit,\n"
    "rue de la Presse 35 / Drukpersstraat 35, 1000 Bruxelles/Brussel.\n";

static int build_readme(struct members *ms)
{
    struct member *m = member_get(ms, "README.txt");
    if (m == NULL)
        return kopro_error_last_code();
    int rc = kopro_buf_adds(&m->data, readme_intro);
    static const char *heads[4] = {"\nFR - Contenu\n", "\nNL - Inhoud\n", "\nDE - Inhalt\n", "\nEN - Contents\n"};
    for (int l = 0; rc == 0 && l < 4; l++) {
        rc = kopro_buf_adds(&m->data, heads[l]);
        for (int i = 0; rc == 0 && i < NFILEDOCS; i++) {
            const char *t = l == 0 ? file_docs[i].fr : l == 1 ? file_docs[i].nl : l == 2 ? file_docs[i].de : file_docs[i].en;
            rc = kopro_buf_addf(&m->data, "  %-20s %s\n", file_docs[i].file, t);
        }
    }
    return rc;
}

static int build_processing(struct members *ms)
{
    json_t *root = json_object(), *cats = json_object(), *files = json_object();
    char *text = NULL;
    int rc = 0;
    if (root == NULL || cats == NULL || files == NULL) {
        json_decref(cats);
        json_decref(files);
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building processing.json");
        goto done;
    }
    json_object_set_new(root, "categories", cats);
    json_object_set_new(root, "files", files);
    for (int c = 1; c < KOPRO_GDPR_CAT_COUNT; c++) {
        const struct kopro_gdpr_category_info *i = kopro_gdpr_category_describe(c);
        json_object_set_new(cats, i->name,
                            json_pack("{s:s, s:s, s:s, s:s}", "purposes", i->purposes, "legal_basis",
                                      i->basis, "recipients", i->recipients, "retention", i->retention));
    }
    for (int f = 0; f < NFILEDOCS; f++)
        json_object_set_new(files, file_docs[f].file, json_string(kopro_gdpr_category_name(file_docs[f].category)));
    json_object_set_new(root, "controller",
                        json_string("The association of co-owners (ACP/VME) of each building, represented by its syndic."));
    json_object_set_new(root, "source",
                        json_string("Collected from you, from the deeds of sale (notaries) and from the syndic's records "
                                    "(art. 15(1)(g))."));
    json_object_set_new(root, "automated_decisions", json_string("none (art. 15(1)(h))"));
    json_object_set_new(root, "rights",
                        json_string("rectification (art. 16), erasure (art. 17, subject to legal retention), "
                                    "restriction (art. 18), objection (art. 21), complaint to the Belgian data "
                                    "protection authority APD/GBA (art. 77)."));
    text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
    if (text == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building processing.json");
        goto done;
    }
    struct member *m = member_get(ms, "processing.json");
    if (m == NULL) {
        rc = kopro_error_last_code();
        goto done;
    }
    rc = kopro_buf_adds(&m->data, text);
    rc = rc ? rc : kopro_buf_adds(&m->data, "\n");
done:
    free(text);
    json_decref(root);
    return rc;
}

/* PDFs of documents.json that exist on disk, as documents/<id>-<basename>. */
static int add_documents(struct members *ms, PGconn *db, const char *user_id)
{
    PGresult *res = NULL;
    const char *params[1] = {user_id};
    int rc = kopro_db_exec(db, &res, "documents files",
                           "SELECT t.id::text, t.file_path FROM public.documents t WHERE t.building_id IN " MY_BUILDINGS
                           " AND (t.related_meeting_id IN " MY_MEETINGS
                           " OR t.document_type IN ('meeting_minutes', 'financial_statement', 'regulation'))"
                           " ORDER BY t.id",
                           1, params);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        const char *path = PQgetvalue(res, r, 1);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue; /* listed in documents.json; the file is not on this host */
        const char *base = strrchr(path, '/');
        char name[96];
        snprintf(name, sizeof name, "documents/%.36s-%.40s", PQgetvalue(res, r, 0), base ? base + 1 : path);
        char *data = NULL;
        size_t len = 0;
        rc = kopro_fs_read_file(&data, &len, path, FILE_CAP_BYTES);
        if (rc != 0)
            break;
        struct member *m = member_get(ms, name);
        rc = m == NULL ? kopro_error_last_code() : kopro_buf_add(&m->data, data, len);
        free(data);
    }
    PQclear(res);
    return rc;
}

/* ------------------------------------------------------------ the ZIP */

struct zipbuf {
    struct kopro_buf b;
};

static la_ssize_t zip_write(struct archive *a, void *ud, const void *buf, size_t n)
{
    struct zipbuf *z = ud;
    (void)a;
    if (kopro_buf_add(&z->b, buf, n) != 0)
        return -1;
    return (la_ssize_t)n;
}

static int write_zip(struct zipbuf *z, struct members *ms, long long mtime)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e = NULL;
    int rc = 0;
    if (a == NULL)
        return kopro_error_set(KOPRO_ERROR, "libarchive: out of memory");
    if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open2(a, z, NULL, zip_write, NULL, NULL) != ARCHIVE_OK) {
        rc = kopro_error_set(KOPRO_ERROR, "libarchive: cannot start the ZIP: %s", archive_error_string(a));
        goto done;
    }
    for (int i = 0; i < ms->n; i++) {
        struct member *m = &ms->m[i];
        e = archive_entry_new();
        if (e == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "libarchive: out of memory");
            goto done;
        }
        archive_entry_set_pathname(e, m->name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)m->data.len);
        archive_entry_set_mtime(e, (time_t)mtime, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            (m->data.len > 0 && archive_write_data(a, m->data.data, m->data.len) != (la_ssize_t)m->data.len)) {
            rc = kopro_error_set(KOPRO_ERROR, "libarchive: cannot write %s: %s", m->name, archive_error_string(a));
            goto done;
        }
        archive_entry_free(e);
        e = NULL;
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        rc = kopro_error_set(KOPRO_ERROR, "libarchive: cannot finish the ZIP: %s", archive_error_string(a));
done:
    archive_entry_free(e);
    archive_write_free(a);
    return rc;
}

int kopro_gdpr_export(struct kopro_gdpr_export_summary *summary_out, unsigned char **zip_out,
                      size_t *zip_bytes_out, PGconn *db, const char *user_id, long long as_of_epoch)
{
    struct members *ms = NULL;
    struct zipbuf z;
    PGresult *res = NULL;
    json_t *man = NULL;
    char *mtext = NULL;
    char as_of[32], when[32];
    int rc = 0;
    kopro_buf_init(&z.b, ZIP_CAP_BYTES);
    *zip_out = NULL;
    *zip_bytes_out = 0;

    if (!kopro_valid_uuid(user_id)) {
        rc = kopro_error_set(KOPRO_EINVAL, "GDPR export: user '%s' is not a uuid; pass users.id",
                             user_id ? user_id : "(null)");
        goto done;
    }
    ms = calloc(1, sizeof *ms);
    if (ms == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    const char *p1[1] = {user_id};
    rc = kopro_db_exec(db, &res, "GDPR export: user", "SELECT 1 FROM public.users WHERE id = $1::uuid", 1, p1);
    if (rc != 0)
        goto done;
    if (PQntuples(res) != 1) {
        rc = kopro_error_set(KOPRO_ENOTFOUND, "GDPR export: no user %s in public.users; check the id", user_id);
        goto done;
    }
    /* One snapshot for every query: REPEATABLE READ, read only. */
    rc = kopro_db_exec(db, NULL, "GDPR export: begin",
                       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (rc != 0)
        goto done;
    snprintf(as_of, sizeof as_of, "%lld", as_of_epoch);
    for (int i = 0; rc == 0 && i < NSECTIONS; i++)
        rc = run_section(ms, db, &sections[i], user_id, as_of,
                         i == 0 || strcmp(sections[i - 1].file, sections[i].file) != 0);
    rc = rc ? rc : add_documents(ms, db, user_id);
    kopro_db_rollback(db);
    if (rc != 0)
        goto done;
    for (int i = 0; rc == 0 && i < ms->n; i++)
        if (strstr(ms->m[i].name, ".json") != NULL)
            rc = kopro_buf_adds(&ms->m[i].data, "\n}\n");
    rc = rc ? rc : build_readme(ms);
    rc = rc ? rc : build_processing(ms);
    if (rc != 0)
        goto done;
    qsort(ms->m, (size_t)ms->n, sizeof ms->m[0], cmp_member);

    /* manifest.json: every other member with its SHA-256, size and rows. */
    time_t t = (time_t)as_of_epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *files = json_array();
    man = json_pack("{s:s, s:s, s:s, s:o}", "format", FORMAT, "generated_at", when, "user_id", user_id,
                    "files", files);
    if (man == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory building manifest.json");
        goto done;
    }
    if (summary_out != NULL)
        memset(summary_out, 0, sizeof *summary_out);
    for (int i = 0; i < ms->n; i++) {
        char hex[KOPRO_SHA256_HEX_BYTES];
        struct member *m = &ms->m[i];
        rc = kopro_sha256_hex(m->data.data ? m->data.data : "", m->data.len, hex);
        if (rc != 0)
            goto done;
        json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:I}", "name", m->name, "sha256", hex,
                                               "size_bytes", (json_int_t)m->data.len, "rows", (json_int_t)m->rows));
        if (summary_out != NULL && summary_out->nfiles < (int)(sizeof summary_out->files / sizeof summary_out->files[0])) {
            struct kopro_gdpr_file *f = &summary_out->files[summary_out->nfiles++];
            snprintf(f->name, sizeof f->name, "%s", m->name);
            f->rows = m->rows;
            f->size_bytes = m->data.len;
            memcpy(f->sha256, hex, sizeof f->sha256);
            summary_out->total_rows += m->rows;
        }
    }
    mtext = json_dumps(man, JSON_SORT_KEYS | JSON_INDENT(2));
    struct member *mm = mtext ? member_get(ms, "manifest.json") : NULL;
    if (mm == NULL) {
        rc = mtext ? kopro_error_last_code() : kopro_error_set(KOPRO_ERROR, "out of memory building manifest.json");
        goto done;
    }
    rc = kopro_buf_adds(&mm->data, mtext);
    rc = rc ? rc : kopro_buf_adds(&mm->data, "\n");
    if (rc != 0)
        goto done;
    qsort(ms->m, (size_t)ms->n, sizeof ms->m[0], cmp_member);

    rc = write_zip(&z, ms, as_of_epoch);
    if (rc != 0)
        goto done;
    if (summary_out != NULL) {
        rc = kopro_sha256_hex(z.b.data, z.b.len, summary_out->archive_sha256);
        summary_out->archive_bytes = z.b.len;
        if (rc != 0)
            goto done;
    }
    *zip_bytes_out = z.b.len;
    *zip_out = (unsigned char *)kopro_buf_detach(&z.b);
done:
    kopro_buf_free_secure(&z.b);
    free(mtext);
    json_decref(man);
    PQclear(res);
    if (ms != NULL) {
        members_free(ms);
        free(ms);
    }
    return rc;
}

void kopro_gdpr_export_free(unsigned char *zip, size_t zip_bytes)
{
    if (zip == NULL)
        return;
    explicit_bzero(zip, zip_bytes);
    free(zip);
}

int kopro_gdpr_export_audit(PGconn *db, const char *user_id,
                            const struct kopro_gdpr_export_summary *summary, const char *job_id)
{
    PGresult *res = NULL;
    char *meta = NULL;
    int rc = 0;
    json_t *m = json_pack("{s:s, s:I, s:i, s:s, s:s}", "format", FORMAT, "rows", (json_int_t)summary->total_rows,
                          "files", summary->nfiles, "sha256", summary->archive_sha256, "via",
                          job_id != NULL ? "job" : "cli");
    if (m != NULL && job_id != NULL)
        json_object_set_new(m, "job_id", json_string(job_id));
    meta = m != NULL ? json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(m);
    if (meta == NULL)
        return kopro_error_set(KOPRO_ERROR, "GDPR export audit: out of memory");
    const char *params[2] = {user_id, meta};
    rc = kopro_db_exec(db, &res, "GDPR export: audit_logs",
                       "INSERT INTO public.audit_logs (id, timestamp, event_type, user_id, organization_id,"
                       " resource_type, resource_id, metadata, success, created_at, retention_until)"
                       " SELECT gen_random_uuid(), now(), 'GdprDataExported', u.id, u.organization_id,"
                       " 'User', u.id, $2::jsonb, true, now(), now() + interval '7 years'"
                       " FROM public.users u WHERE u.id = $1::uuid",
                       2, params);
    if (rc == 0 && strcmp(PQcmdTuples(res), "1") != 0)
        rc = kopro_error_set(KOPRO_ENOTFOUND, "GDPR export audit: no user %s", user_id);
    PQclear(res);
    free(meta);
    return rc;
}
