/* The minutes of a general assembly (procès-verbal); see kopro/doc.h. */
#include "doc_internal.h"

#include "kopro/error.h"
#include "kopro/legal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_CAP_BYTES (4u * 1024u * 1024u)

static const char *owner_name(const struct kopro_assembly *a, size_t i)
{
    if (i == KOPRO_NONE || i >= a->n_owners || a->owners[i].display_name == NULL)
        return "?";
    return a->owners[i].display_name;
}

/* "A, B, C" of owners; the string goes into the context ring. */
const char *kopro_doc__join_owners(struct doc_ctx *c, const struct kopro_assembly *a,
                               const size_t *idx, size_t n, const char *sep)
{
    struct kopro_buf b;
    int rc = 0;
    const char *res;
    kopro_buf_init(&b, NAMES_CAP_BYTES);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = kopro_buf_addf(&b, "%s%s", i ? sep : "", owner_name(a, idx[i]));
    if (rc == 0 && b.data == NULL)
        rc = kopro_buf_add(&b, "", 0);
    if (rc != 0) {
        kopro_buf_free(&b);
        kopro_doc__check(c, rc);
        return "";
    }
    /* keep it in the context's ring, like kopro_doc__fmt() results */
    if (c->ring[c->ring_next] != NULL) {
        explicit_bzero(c->ring[c->ring_next], strlen(c->ring[c->ring_next]));
        free(c->ring[c->ring_next]);
    }
    c->ring[c->ring_next] = kopro_buf_detach(&b);
    res = c->ring[c->ring_next] != NULL ? c->ring[c->ring_next] : "";
    c->ring_next = (c->ring_next + 1) % DOC_RING;
    return res;
}

void kopro_doc__meeting_header(struct doc_ctx *c, const struct kopro_assembly *a, const char *title)
{
    const struct kopro_meeting *m = &a->meeting;
    const struct kopro_building *bd = &a->building;
    char when[96];
    struct kopro_buf addr;
    int rc;
    const float w[] = {30, 70};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_LEFT};

    kopro_doc__text(c, KOPRO_PDF_H1, title);
    rc = kopro_i18n_datetime(when, sizeof(when), c->lang, (time_t)m->scheduled_at_utc);
    if (rc != 0) {
        kopro_doc__check(c, kopro_error_wrap(rc, "meetings.scheduled_date of %s", m->id));
        return;
    }
    kopro_buf_init(&addr, 64 * 1024);
    rc = kopro_buf_addf(&addr, "%s\n%s\n%s %s", bd->name ? bd->name : "",
                        bd->address ? bd->address : "", bd->postal_code ? bd->postal_code : "",
                        bd->city ? bd->city : "");
    kopro_doc__check(c, rc);
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_table_begin(c->pdf, 2, w, al, NULL));
    if (c->rc == 0) {
        const char *rows[][2] = {
            {kopro_i18n_s(c->t, "building"), addr.data},
            {kopro_i18n_s(c->t, "meeting_title"), m->title ? m->title : ""},
            {kopro_i18n_s(c->t, "date"), when},
            {kopro_i18n_s(c->t, "place"),
             m->location && m->location[0] ? m->location : kopro_i18n_s(c->t, "place_unknown")},
            {kopro_i18n_s(c->t, "type"),
             kopro_i18n_s(c->t, m->type == KOPRO_MEETING_EXTRAORDINARY ? "type_extraordinary"
                                                                       : "type_ordinary")},
            {kopro_i18n_s(c->t, "second_convocation"),
             kopro_i18n_s(c->t, m->is_second_convocation ? "yes" : "no")},
            {kopro_i18n_s(c->t, "president"),
             m->president_name ? m->president_name : kopro_i18n_s(c->t, "unknown_officer")},
            {kopro_i18n_s(c->t, "secretary"),
             m->secretary_name ? m->secretary_name : kopro_i18n_s(c->t, "unknown_officer")},
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && c->rc == 0; i++)
            kopro_doc__check(c, kopro_pdf_table_row(c->pdf, rows[i], 0));
        kopro_doc__check(c, kopro_pdf_table_end(c->pdf));
    }
    kopro_buf_free_secure(&addr);
}

static void attendance(struct doc_ctx *c, const struct kopro_assembly *a,
                       const struct kopro_legal_result *r)
{
    const float w[] = {38, 12, 16, 34};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_LEFT, KOPRO_PDF_RIGHT,
                                       KOPRO_PDF_LEFT};
    const char *hdr[4];
    char shares[48];

    kopro_doc__text(c, KOPRO_PDF_H2, kopro_i18n_s(c->t, "h_attendance"));
    kopro_doc__text(c, KOPRO_PDF_SMALL,
                    kopro_i18n_s(c->t, r->attendance_source == KOPRO_ATTENDANCE_FROM_VOTES
                                           ? "attendance_from_votes"
                                           : "attendance_recorded"));
    hdr[0] = kopro_i18n_s(c->t, "col_owner");
    hdr[1] = kopro_i18n_s(c->t, "col_lots");
    hdr[2] = kopro_i18n_s(c->t, "col_shares");
    hdr[3] = kopro_i18n_s(c->t, "col_status");
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_table_begin(c->pdf, 4, w, al, hdr));
    for (size_t i = 0; i < r->n_parties && c->rc == 0; i++) {
        const struct kopro_legal_party *p = &r->parties[i];
        struct kopro_buf lots;
        const char *cells[4];
        const char *status;
        int rc = 0;
        if (p->n_units == 0)
            continue; /* proxy holders who hold no unit are not owners of the building */
        kopro_buf_init(&lots, 64 * 1024);
        for (size_t u = 0; u < p->n_units && rc == 0; u++)
            rc = kopro_buf_addf(&lots, "%s%s", u ? ", " : "",
                                a->units[p->units[u]].number ? a->units[p->units[u]].number : "?");
        if (rc == 0 && lots.data == NULL)
            rc = kopro_buf_add(&lots, "", 0);
        kopro_doc__check(c, rc);
        if (p->attendance == KOPRO_ATTEND_PRESENT) {
            status = kopro_i18n_s(c->t, "status_present");
        } else if (p->attendance == KOPRO_ATTEND_REPRESENTED) {
            const char *holder = p->proxy != KOPRO_NONE && p->proxy < a->n_proxies &&
                                         a->proxies[p->proxy].holder_name != NULL
                                     ? a->proxies[p->proxy].holder_name
                                     : "?";
            const char *kv[] = {"holder", holder, NULL};
            status = kopro_doc__fmt(c, "status_represented", kv);
        } else {
            status = kopro_i18n_s(c->t, "status_absent");
        }
        kopro_doc__shares(shares, sizeof(shares), c->lang, p->shares_e4);
        cells[0] = kopro_doc__join_owners(c, a, p->owners, p->n_owners, " & ");
        cells[1] = lots.data;
        cells[2] = shares;
        cells[3] = status;
        if (c->rc == 0)
            kopro_doc__check(c, kopro_pdf_table_row(c->pdf, cells, 0));
        kopro_buf_free(&lots);
    }
    if (c->rc == 0) {
        char total[48];
        const char *cells[4];
        char owners[40];
        snprintf(owners, sizeof(owners), "%zu / %zu", r->quorum.owners_present, r->quorum.owners_total);
        kopro_doc__shares(total, sizeof(total), c->lang, r->quorum.shares_present_e4);
        cells[0] = kopro_i18n_s(c->t, "total_present");
        cells[1] = owners;
        cells[2] = total;
        cells[3] = "";
        kopro_doc__check(c, kopro_pdf_table_row(c->pdf, cells, 1));
        kopro_doc__check(c, kopro_pdf_table_end(c->pdf));
    }
}

static void quorum(struct doc_ctx *c, const struct kopro_assembly *a,
                   const struct kopro_legal_result *r)
{
    const struct kopro_legal_quorum *q = &r->quorum;
    char present[48], total[48], pct[48];
    (void)a;
    kopro_doc__text(c, KOPRO_PDF_H2, kopro_i18n_s(c->t, "h_quorum"));
    snprintf(present, sizeof(present), "%zu", q->owners_present);
    snprintf(total, sizeof(total), "%zu", q->owners_total);
    kopro_i18n_percent(pct, sizeof(pct), c->lang, (int64_t)q->owners_present, (int64_t)q->owners_total);
    {
        const char *kv[] = {"present", present, "total", total, "percent", pct, NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "quorum_owners", kv);
    }
    kopro_doc__shares(present, sizeof(present), c->lang, q->shares_present_e4);
    kopro_doc__shares(total, sizeof(total), c->lang, q->shares_total_e4);
    kopro_i18n_percent(pct, sizeof(pct), c->lang, q->shares_present_e4, q->shares_total_e4);
    {
        const char *kv[] = {"present", present, "total", total, "percent", pct, NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "quorum_shares", kv);
    }
    {
        const char *kv[] = {"result", kopro_i18n_s(c->t, q->route_owners_and_half_shares ? "met" : "not_met"),
                            NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "quorum_route1", kv);
    }
    {
        const char *kv[] = {"result", kopro_i18n_s(c->t, q->route_three_quarters_shares ? "met" : "not_met"),
                            NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "quorum_route2", kv);
    }
    if (q->route_owners_and_half_shares || q->route_three_quarters_shares)
        kopro_doc__text(c, KOPRO_PDF_BOLD, kopro_i18n_s(c->t, "quorum_valid"));
    else if (q->second_convocation)
        kopro_doc__text(c, KOPRO_PDF_BOLD, kopro_i18n_s(c->t, "quorum_second"));
    else
        kopro_doc__text(c, KOPRO_PDF_BOLD, kopro_i18n_s(c->t, "quorum_invalid"));
    for (size_t i = 0; i < r->n_proxy_issues; i++) {
        const struct kopro_legal_proxy_issue *pi = &r->proxy_issues[i];
        char count[24], votes[48], limit[48];
        const char *holder = pi->holder_name ? pi->holder_name : "?";
        snprintf(count, sizeof(count), "%zu", pi->n_proxies);
        kopro_doc__shares(votes, sizeof(votes), c->lang, pi->votes_e4);
        kopro_doc__shares(limit, sizeof(limit), c->lang, pi->limit_e4);
        {
            const char *kv[] = {"holder", holder, "count", count, "votes", votes, "limit", limit, NULL};
            kopro_doc__para(c, KOPRO_PDF_BODY,
                            pi->kind == KOPRO_PROXY_ISSUE_SYNDIC ? "proxy_syndic" : "proxy_over_limit",
                            kv);
        }
    }
}

static void agenda(struct doc_ctx *c, const struct kopro_assembly *a)
{
    kopro_doc__text(c, KOPRO_PDF_H2, kopro_i18n_s(c->t, "h_agenda"));
    if (a->meeting.n_agenda == 0) {
        kopro_doc__text(c, KOPRO_PDF_BODY, kopro_i18n_s(c->t, "agenda_empty"));
        return;
    }
    for (size_t i = 0; i < a->meeting.n_agenda && c->rc == 0; i++) {
        char *line = NULL;
        if (asprintf(&line, "%zu. %s", i + 1, a->meeting.agenda[i] ? a->meeting.agenda[i] : "") < 0) {
            kopro_doc__check(c, kopro_error_set(KOPRO_ERROR, "out of memory formatting the agenda"));
            return;
        }
        kopro_doc__text(c, KOPRO_PDF_BODY, line);
        free(line);
    }
}

void kopro_doc__resolution(struct doc_ctx *c, const struct kopro_assembly *a,
                           const struct kopro_legal_resolution *lr, size_t n, int with_chart)
{
    const struct kopro_resolution *res = &a->resolutions[lr->resolution];
    static const char *const vkeys[3] = {"vote_pour", "vote_contre", "vote_abstention"};
    const float w[] = {34, 22, 22, 22};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_RIGHT, KOPRO_PDF_RIGHT,
                                       KOPRO_PDF_RIGHT};
    const char *hdr[4];
    char num[24], buf[48], cast[48], pct[48];
    char mkey[64];

    snprintf(num, sizeof(num), "%zu", n);
    {
        const char *kv[] = {"n", num, "title", res->title ? res->title : "", NULL};
        kopro_doc__para(c, KOPRO_PDF_H3, "resolution", kv);
    }
    if (res->description != NULL && res->description[0] != '\0')
        kopro_doc__text(c, KOPRO_PDF_BODY, res->description);
    snprintf(mkey, sizeof(mkey), "majority_%s", kopro_legal_majority_name(lr->majority));
    {
        const char *kv[] = {"majority", kopro_i18n_s(c->t, mkey), "article",
                            lr->majority_article ? lr->majority_article : "art. 3.88", NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "majority_line", kv);
    }
    hdr[0] = kopro_i18n_s(c->t, "col_vote");
    hdr[1] = kopro_i18n_s(c->t, "col_owners");
    hdr[2] = kopro_i18n_s(c->t, "col_shares");
    hdr[3] = kopro_i18n_s(c->t, "col_pct");
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_table_begin(c->pdf, 4, w, al, hdr));
    for (int v = 0; v < 3 && c->rc == 0; v++) {
        const char *cells[4];
        char owners[24];
        snprintf(owners, sizeof(owners), "%zu", lr->counted[v].owners);
        kopro_doc__shares(buf, sizeof(buf), c->lang, lr->counted[v].shares_e4);
        if (v == KOPRO_VOTE_ABSTENTION)
            snprintf(pct, sizeof(pct), "—");
        else
            kopro_i18n_percent(pct, sizeof(pct), c->lang, lr->counted[v].shares_e4, lr->cast_e4);
        cells[0] = kopro_i18n_s(c->t, vkeys[v]);
        cells[1] = owners;
        cells[2] = buf;
        cells[3] = pct;
        kopro_doc__check(c, kopro_pdf_table_row(c->pdf, cells, 0));
    }
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_table_end(c->pdf));
    kopro_doc__shares(cast, sizeof(cast), c->lang, lr->cast_e4);
    {
        const char *kv[] = {"cast", cast, NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "cast_line", kv);
    }
    if (with_chart)
        kopro_doc__vote_chart(c, lr);
    for (size_t k = 0; k < lr->n_caps; k++) {
        const struct kopro_legal_cap *cap = &lr->caps[k];
        char ccast[48], others[48], excess[48];
        kopro_doc__shares(ccast, sizeof(ccast), c->lang, cap->cast_e4);
        kopro_doc__shares(others, sizeof(others), c->lang, cap->others_e4);
        kopro_doc__shares(excess, sizeof(excess), c->lang, cap->excess_e4);
        {
            const char *kv[] = {"holder", cap->holder_name ? cap->holder_name : "?", "cast", ccast,
                                "others", others, "excess", excess, NULL};
            kopro_doc__para(c, KOPRO_PDF_BODY, "cap_line", kv);
        }
    }
    kopro_i18n_percent(pct, sizeof(pct), c->lang, lr->pour_num_e4, lr->pour_den_e4);
    {
        const char *kv[] = {"percent", pct, NULL};
        if (lr->adopted)
            kopro_doc__para(c, KOPRO_PDF_BOLD, "adopted", kv);
        else if (lr->cast_e4 == 0)
            kopro_doc__para(c, KOPRO_PDF_BOLD, "rejected_no_votes", kv);
        else
            kopro_doc__para(c, KOPRO_PDF_BOLD, "rejected", kv);
    }
    if (lr->n_contre_owners > 0) {
        const char *kv[] = {"names", kopro_doc__join_owners(c, a, lr->contre_owners, lr->n_contre_owners, ", "),
                            NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "names_contre", kv);
    } else {
        kopro_doc__text(c, KOPRO_PDF_BODY, kopro_i18n_s(c->t, "names_none_contre"));
    }
    if (lr->n_abstention_owners > 0) {
        const char *kv[] = {"names",
                            kopro_doc__join_owners(c, a, lr->abstention_owners, lr->n_abstention_owners, ", "),
                            NULL};
        kopro_doc__para(c, KOPRO_PDF_BODY, "names_abstention", kv);
    } else {
        kopro_doc__text(c, KOPRO_PDF_BODY, kopro_i18n_s(c->t, "names_none_abstention"));
    }
    if (lr->status_disagrees) {
        const char *kv[] = {"stored", res->stored_status ? res->stored_status : "", NULL};
        kopro_doc__para(c, KOPRO_PDF_SMALL, "status_discrepancy", kv);
    }
    if (lr->tallies_disagree)
        kopro_doc__text(c, KOPRO_PDF_SMALL, kopro_i18n_s(c->t, "tally_discrepancy"));
    kopro_doc__check(c, kopro_pdf_space(c->pdf, 6));
}

/* One signature line: the template `key` with {name}. */
static void signature(struct doc_ctx *c, const char *key, const char *name)
{
    const char *kv[] = {"name", name, NULL};
    const char *s = kopro_doc__fmt(c, key, kv);
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_signature(c->pdf, s));
}

void kopro_doc__officer_signatures(struct doc_ctx *c, const struct kopro_assembly *a,
                                   const char *intro_key)
{
    const char *blank = kopro_i18n_s(c->t, "unknown_officer");
    /* the heading and the intro stay with the lines they announce */
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_keep_begin(c->pdf));
    kopro_doc__text(c, KOPRO_PDF_H2, kopro_i18n_s(c->t, "h_signatures"));
    kopro_doc__text(c, KOPRO_PDF_SMALL, kopro_i18n_s(c->t, intro_key));
    signature(c, "sig_president", a->meeting.president_name ? a->meeting.president_name : blank);
    signature(c, "sig_secretary", a->meeting.secretary_name ? a->meeting.secretary_name : blank);
}

static void signatures(struct doc_ctx *c, const struct kopro_assembly *a,
                       const struct kopro_legal_result *r)
{
    kopro_doc__officer_signatures(c, a, "signatures_intro");
    for (size_t i = 0; i < r->n_signatories && c->rc == 0; i++) {
        const struct kopro_legal_signatory *sg = &r->signatories[i];
        signature(c, sg->is_proxy_holder ? "sig_proxy" : "sig_owner", sg->name ? sg->name : "?");
    }
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_keep_end(c->pdf));
}

int kopro_doc_minutes(struct kopro_doc_output *out, const struct kopro_assembly *a,
                      const struct kopro_doc_options *opts)
{
    struct kopro_legal_result *r = NULL;
    json_t *input = NULL;
    struct doc_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    rc = kopro_legal_compute(&r, a);
    if (rc != 0)
        goto done;
    rc = kopro_assembly_to_json(&input, a);
    if (rc != 0)
        goto done;
    rc = kopro_doc__begin(&c, out, "minutes", opts, input, a->meeting.scheduled_at_utc);
    if (rc != 0)
        goto done;
    kopro_doc__check(&c, kopro_pdf_text(c.pdf, KOPRO_PDF_SMALL, KOPRO_PDF_RIGHT,
                                        a->building.name ? a->building.name : ""));
    kopro_doc__meeting_header(&c, a,
                              kopro_i18n_s(c.t, a->meeting.type == KOPRO_MEETING_EXTRAORDINARY
                                                    ? "title_extraordinary"
                                                    : "title_ordinary"));
    attendance(&c, a, r);
    quorum(&c, a, r);
    agenda(&c, a);
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_resolutions"));
    if (r->n_resolutions == 0)
        kopro_doc__text(&c, KOPRO_PDF_BODY, kopro_i18n_s(c.t, "resolutions_empty"));
    for (size_t i = 0; i < r->n_resolutions && c.rc == 0; i++)
        kopro_doc__resolution(&c, a, &r->resolutions[i], i + 1, 0);
    signatures(&c, a, r);
    rc = kopro_doc__finish(&c, out);
done:
    kopro_doc__cleanup(&c);
    json_decref(input);
    kopro_legal_result_free(r);
    return rc;
}
