/* PCN accounts and owners' charge statements; see kopro/doc.h. */
#include "doc_internal.h"

#include "kopro/accounts.h"
#include "kopro/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t period_time(const char *date)
{
    time_t t = 0;
    if (date == NULL || kopro_i18n_parse_time(&t, date) != 0)
        return 0;
    return (int64_t)t + 12 * 3600; /* noon UTC: the same calendar day in Brussels */
}

static void header(struct doc_ctx *c, const struct kopro_accounts *m, const char *owner_name,
                   const char *share)
{
    const float w[] = {30, 70};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_LEFT};
    char from[64], to[64];
    struct kopro_buf addr;
    const char *period;
    int rc;

    kopro_doc__text(c, KOPRO_PDF_H1, kopro_i18n_s(c->t, "title"));
    if (kopro_i18n_date(from, sizeof(from), c->lang, (time_t)period_time(m->period_from)) != 0)
        snprintf(from, sizeof(from), "%s", m->period_from ? m->period_from : "?");
    if (kopro_i18n_date(to, sizeof(to), c->lang, (time_t)period_time(m->period_to)) != 0)
        snprintf(to, sizeof(to), "%s", m->period_to ? m->period_to : "?");
    {
        const char *kv[] = {"from", from, "to", to, NULL};
        period = kopro_doc__fmt(c, "period_value", kv);
    }
    kopro_buf_init(&addr, 64 * 1024);
    rc = kopro_buf_addf(&addr, "%s\n%s\n%s %s", m->building.name ? m->building.name : "",
                        m->building.address ? m->building.address : "",
                        m->building.postal_code ? m->building.postal_code : "",
                        m->building.city ? m->building.city : "");
    kopro_doc__check(c, rc);
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_table_begin(c->pdf, 2, w, al, NULL));
    if (c->rc == 0) {
        const char *row1[] = {kopro_i18n_s(c->t, "building"), addr.data};
        const char *row2[] = {kopro_i18n_s(c->t, "period"), period};
        kopro_doc__check(c, kopro_pdf_table_row(c->pdf, row1, 0));
        kopro_doc__check(c, kopro_pdf_table_row(c->pdf, row2, 0));
        if (owner_name != NULL) {
            const char *row3[] = {kopro_i18n_s(c->t, "owner"), owner_name};
            const char *row4[] = {kopro_i18n_s(c->t, "share"), share};
            kopro_doc__check(c, kopro_pdf_table_row(c->pdf, row3, 1));
            kopro_doc__check(c, kopro_pdf_table_row(c->pdf, row4, 0));
        }
        kopro_doc__check(c, kopro_pdf_table_end(c->pdf));
    }
    kopro_buf_free_secure(&addr);
}

static void account_table(struct doc_ctx *c, const struct kopro_accounts *m, int pcn_class,
                          const char *total_key, int64_t total_cents)
{
    const float w[] = {16, 58, 26};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_LEFT, KOPRO_PDF_RIGHT};
    const char *hdr[3];
    char amount[64];
    size_t rows = 0;

    for (size_t i = 0; i < m->n_accounts; i++)
        rows += m->accounts[i].pcn_class == pcn_class;
    if (rows == 0) {
        kopro_doc__text(c, KOPRO_PDF_BODY, kopro_i18n_s(c->t, "none"));
        return;
    }
    hdr[0] = kopro_i18n_s(c->t, "col_code");
    hdr[1] = kopro_i18n_s(c->t, "col_label");
    hdr[2] = kopro_i18n_s(c->t, "col_amount");
    if (c->rc == 0)
        kopro_doc__check(c, kopro_pdf_table_begin(c->pdf, 3, w, al, hdr));
    for (size_t i = 0; i < m->n_accounts && c->rc == 0; i++) {
        const struct kopro_pcn_account *acc = &m->accounts[i];
        const char *cells[3];
        if (acc->pcn_class != pcn_class)
            continue;
        kopro_i18n_money(amount, sizeof(amount), c->lang, acc->amount_cents);
        cells[0] = acc->code;
        cells[1] = acc->label ? acc->label : kopro_i18n_s(c->t, "no_label");
        cells[2] = amount;
        kopro_doc__check(c, kopro_pdf_table_row(c->pdf, cells, 0));
    }
    if (c->rc == 0) {
        const char *cells[3];
        kopro_i18n_money(amount, sizeof(amount), c->lang, total_cents);
        cells[0] = "";
        cells[1] = kopro_i18n_s(c->t, total_key);
        cells[2] = amount;
        kopro_doc__check(c, kopro_pdf_table_row(c->pdf, cells, 1));
        kopro_doc__check(c, kopro_pdf_table_end(c->pdf));
    }
}

int kopro_doc_pcn(struct kopro_doc_output *out, const struct kopro_accounts *m,
                  const struct kopro_doc_options *opts)
{
    json_t *input = NULL;
    struct doc_ctx c;
    char amount[64];
    int rc;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    rc = kopro_accounts_to_json(&input, m);
    if (rc != 0)
        goto done;
    rc = kopro_doc__begin(&c, out, "pcn", opts, input, period_time(m->period_to));
    if (rc != 0)
        goto done;
    header(&c, m, NULL, NULL);
    kopro_doc__text(&c, KOPRO_PDF_SMALL,
                    kopro_i18n_s(c.t, m->source == KOPRO_ACCOUNTS_EXPENSES ? "source_expenses"
                                                                           : "source_journal"));
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_charges"));
    account_table(&c, m, 6, "total_charges", m->total_charges_cents);
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_income"));
    account_table(&c, m, 7, "total_income", m->total_income_cents);
    kopro_i18n_money(amount, sizeof(amount), c.lang, m->total_income_cents - m->total_charges_cents);
    {
        const char *kv[] = {"amount", amount, NULL};
        kopro_doc__para(&c, KOPRO_PDF_BOLD, "result", kv);
    }
    kopro_doc__text(&c, KOPRO_PDF_SMALL, kopro_i18n_s(c.t, "legal_note"));
    rc = kopro_doc__finish(&c, out);
done:
    kopro_doc__cleanup(&c);
    json_decref(input);
    return rc;
}

static void money_para(struct doc_ctx *c, enum kopro_pdf_style style, const char *key,
                       int64_t cents)
{
    char amount[64];
    const char *kv[] = {"amount", amount, NULL};
    kopro_i18n_money(amount, sizeof(amount), c->lang, cents);
    kopro_doc__para(c, style, key, kv);
}

int kopro_doc_statement(struct kopro_doc_output *out, const struct kopro_accounts *m,
                        const struct kopro_statements *s, size_t item,
                        const struct kopro_doc_options *opts)
{
    const struct kopro_statement *st;
    const struct kopro_acc_owner *owner;
    json_t *input = NULL;
    struct doc_ctx c;
    char pct[48], amount[64], total[64];
    int rc;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    if (item >= s->n_items || s->items[item].owner >= m->n_owners)
        return kopro_error_set(KOPRO_EINVAL, "statement %zu does not exist (%zu statements)", item,
                               s->n_items);
    st = &s->items[item];
    owner = &m->owners[st->owner];
    rc = kopro_accounts_result_to_json(&input, m, s, owner->id);
    if (rc != 0)
        goto done;
    rc = kopro_doc__begin(&c, out, "statement", opts, input, period_time(m->period_to));
    if (rc != 0)
        goto done;
    kopro_i18n_percent(pct, sizeof(pct), c.lang, st->share_num, st->share_den);
    {
        const char *kv[] = {"percent", pct, NULL};
        header(&c, m, owner->display_name ? owner->display_name : "?",
               kopro_doc__fmt(&c, "share_value", kv));
    }
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_charges"));
    if (st->n_lines == 0) {
        kopro_doc__text(&c, KOPRO_PDF_BODY, kopro_i18n_s(c.t, "none"));
    } else {
        const float w[] = {14, 44, 21, 21};
        const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_LEFT, KOPRO_PDF_RIGHT,
                                           KOPRO_PDF_RIGHT};
        const char *hdr[4];
        hdr[0] = kopro_i18n_s(c.t, "col_code");
        hdr[1] = kopro_i18n_s(c.t, "col_label");
        hdr[2] = kopro_i18n_s(c.t, "col_total");
        hdr[3] = kopro_i18n_s(c.t, "col_part");
        if (c.rc == 0)
            kopro_doc__check(&c, kopro_pdf_table_begin(c.pdf, 4, w, al, hdr));
        for (size_t i = 0; i < st->n_lines && c.rc == 0; i++) {
            const struct kopro_statement_line *ln = &st->lines[i];
            const struct kopro_pcn_account *acc = &m->accounts[ln->account];
            const char *cells[4];
            kopro_i18n_money(total, sizeof(total), c.lang, ln->total_cents);
            kopro_i18n_money(amount, sizeof(amount), c.lang, ln->owner_cents);
            cells[0] = acc->code;
            cells[1] = acc->label ? acc->label : kopro_i18n_s(c.t, "no_label");
            cells[2] = total;
            cells[3] = amount;
            kopro_doc__check(&c, kopro_pdf_table_row(c.pdf, cells, 0));
        }
        if (c.rc == 0) {
            const char *cells[4];
            kopro_i18n_money(total, sizeof(total), c.lang, m->total_charges_cents);
            kopro_i18n_money(amount, sizeof(amount), c.lang, st->charges_cents);
            cells[0] = "";
            cells[1] = kopro_i18n_s(c.t, "total_charges");
            cells[2] = total;
            cells[3] = amount;
            kopro_doc__check(&c, kopro_pdf_table_row(c.pdf, cells, 1));
            kopro_doc__check(&c, kopro_pdf_table_end(c.pdf));
        }
        kopro_doc__text(&c, KOPRO_PDF_SMALL, kopro_i18n_s(c.t, "rounding_note"));
    }
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_working"));
    money_para(&c, KOPRO_PDF_BODY, "provisions_called", st->provisions_called_cents);
    money_para(&c, KOPRO_PDF_BODY, "provisions_paid", st->provisions_paid_cents);
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_reserve"));
    kopro_doc__text(&c, KOPRO_PDF_SMALL, kopro_i18n_s(c.t, "reserve_note"));
    money_para(&c, KOPRO_PDF_BODY, "reserve_called", st->reserve_called_cents);
    money_para(&c, KOPRO_PDF_BODY, "reserve_paid", st->reserve_paid_cents);
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_balance"));
    if (st->balance_cents > 0)
        money_para(&c, KOPRO_PDF_BOLD, "balance_due", st->balance_cents);
    else if (st->balance_cents < 0)
        money_para(&c, KOPRO_PDF_BOLD, "balance_credit", -st->balance_cents);
    else
        kopro_doc__text(&c, KOPRO_PDF_BOLD, kopro_i18n_s(c.t, "balance_zero"));
    money_para(&c, KOPRO_PDF_BODY, "outstanding", st->outstanding_cents);
    rc = kopro_doc__finish(&c, out);
done:
    kopro_doc__cleanup(&c);
    json_decref(input);
    return rc;
}
