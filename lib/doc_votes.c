/* Vote results with signatures; see kopro/doc.h. */
#include "doc_internal.h"

#include "kopro/error.h"
#include "kopro/legal.h"

#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W_PT 360.0f
#define CHART_H_PT 54.0f
#define CHART_SCALE 2 /* pixels per point */

struct png_sink {
    struct kopro_buf *b;
    int rc;
};

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int length)
{
    struct png_sink *s = closure;
    if (s->rc == 0)
        s->rc = kopro_buf_add(s->b, data, length);
    return s->rc == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/*
 * Three horizontal bars (pour green, contre red, abstention grey), each as
 * long as its share of all shares that voted, on a light track; the values
 * are printed as text under the chart so they stay searchable. Integer
 * pixel widths from exact shares: the chart is deterministic.
 */
void kopro_doc__vote_chart(struct doc_ctx *c, const struct kopro_legal_resolution *lr)
{
    static const double colour[3][3] = {{0.18, 0.55, 0.27}, {0.78, 0.20, 0.18}, {0.55, 0.55, 0.55}};
    const int w = (int)(CHART_W_PT * CHART_SCALE), h = (int)(CHART_H_PT * CHART_SCALE);
    const int bar_h = h / 3 - 8;
    int64_t total = lr->counted[0].shares_e4 + lr->counted[1].shares_e4 + lr->counted[2].shares_e4;
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    struct kopro_buf png;
    struct png_sink sink = {&png, 0};
    char pour[48], contre[48], abst[48];

    if (c->rc != 0)
        return;
    kopro_buf_init(&png, 4u * 1024u * 1024u);
    surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    for (int v = 0; v < 3; v++) {
        int y = v * (h / 3) + 4;
        int len = total > 0 ? (int)((__int128)lr->counted[v].shares_e4 * w / total) : 0;
        cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
        cairo_rectangle(cr, 0, y, w, bar_h);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, colour[v][0], colour[v][1], colour[v][2]);
        cairo_rectangle(cr, 0, y, len, bar_h);
        cairo_fill(cr);
    }
    cairo_surface_flush(surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS ||
        cairo_surface_write_to_png_stream(surf, png_write, &sink) != CAIRO_STATUS_SUCCESS) {
        kopro_doc__check(c, sink.rc != 0 ? sink.rc
                                         : kopro_error_set(KOPRO_ERROR, "cairo could not draw the vote chart"));
        goto done;
    }
    kopro_doc__check(c, kopro_pdf_png(c->pdf, png.data, png.len, CHART_W_PT, CHART_H_PT));
    kopro_doc__shares(pour, sizeof(pour), c->lang, lr->counted[0].shares_e4);
    kopro_doc__shares(contre, sizeof(contre), c->lang, lr->counted[1].shares_e4);
    kopro_doc__shares(abst, sizeof(abst), c->lang, lr->counted[2].shares_e4);
    {
        const char *kv[] = {"pour", pour, "contre", contre, "abstention", abst, NULL};
        kopro_doc__para(c, KOPRO_PDF_SMALL, "chart_caption", kv);
    }
    if (lr->n_caps > 0) {
        kopro_doc__shares(pour, sizeof(pour), c->lang, lr->raw[0].shares_e4);
        kopro_doc__shares(contre, sizeof(contre), c->lang, lr->raw[1].shares_e4);
        kopro_doc__shares(abst, sizeof(abst), c->lang, lr->raw[2].shares_e4);
        {
            const char *kv[] = {"pour", pour, "contre", contre, "abstention", abst, NULL};
            kopro_doc__para(c, KOPRO_PDF_SMALL, "raw_line", kv);
        }
    }
done:
    if (cr != NULL)
        cairo_destroy(cr);
    if (surf != NULL)
        cairo_surface_destroy(surf);
    kopro_buf_free(&png);
}

int kopro_doc_votes(struct kopro_doc_output *out, const struct kopro_assembly *a,
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
    rc = kopro_doc__begin(&c, out, "votes", opts, input, a->meeting.scheduled_at_utc);
    if (rc != 0)
        goto done;
    kopro_doc__meeting_header(&c, a, kopro_i18n_s(c.t, "title"));
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_proxies"));
    if (r->n_proxy_issues == 0)
        kopro_doc__text(&c, KOPRO_PDF_BODY, kopro_i18n_s(c.t, "proxies_none"));
    for (size_t i = 0; i < r->n_proxy_issues; i++) {
        const struct kopro_legal_proxy_issue *pi = &r->proxy_issues[i];
        char count[24], votes[48], limit[48];
        snprintf(count, sizeof(count), "%zu", pi->n_proxies);
        kopro_doc__shares(votes, sizeof(votes), c.lang, pi->votes_e4);
        kopro_doc__shares(limit, sizeof(limit), c.lang, pi->limit_e4);
        {
            const char *kv[] = {"holder", pi->holder_name ? pi->holder_name : "?", "count", count,
                                "votes", votes, "limit", limit, NULL};
            kopro_doc__para(&c, KOPRO_PDF_BODY,
                            pi->kind == KOPRO_PROXY_ISSUE_SYNDIC ? "proxy_syndic" : "proxy_over_limit",
                            kv);
        }
    }
    kopro_doc__text(&c, KOPRO_PDF_H2, kopro_i18n_s(c.t, "h_results"));
    if (r->n_resolutions == 0)
        kopro_doc__text(&c, KOPRO_PDF_BODY, kopro_i18n_s(c.t, "resolutions_empty"));
    for (size_t i = 0; i < r->n_resolutions && c.rc == 0; i++)
        kopro_doc__resolution(&c, a, &r->resolutions[i], i + 1, 1);
    kopro_doc__officer_signatures(&c, a, "certify");
    if (c.rc == 0)
        kopro_doc__check(&c, kopro_pdf_keep_end(c.pdf));
    rc = kopro_doc__finish(&c, out);
done:
    kopro_doc__cleanup(&c);
    json_decref(input);
    kopro_legal_result_free(r);
    return rc;
}
