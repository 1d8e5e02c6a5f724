/* Unit tests for lib/pdf.c (layout engine) and lib/doc*.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/pdf.h"

#include "../../lib/pdf_internal.h"

static struct kopro_pdf *new_doc(int final)
{
    struct kopro_pdf *d = NULL;
    struct kopro_pdf_options o;
    memset(&o, 0, sizeof(o));
    o.final = final;
    o.watermark = "PROJET / ONTWERP / ENTWURF / DRAFT";
    o.footer = "Généré le 12 mars 2026\nSHA-256 0123";
    o.page_label = "page {page} / {pages}";
    o.created_utc = 1773273600;
    if (kopro_pdf_new(&d, &o) != 0)
        fail_msg("kopro_pdf_new: %s", kopro_error_last());
    return d;
}

static int build_long_table(struct kopro_pdf *d, int rows)
{
    const float w[] = {50, 20, 30};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT, KOPRO_PDF_RIGHT, KOPRO_PDF_LEFT};
    const char *hdr[] = {"Copropriétaire", "Quote-part", "Présence"};
    int rc = kopro_pdf_text(d, KOPRO_PDF_H1, KOPRO_PDF_LEFT, "Łukasz Şahin Ødegaard Παπαδόπουλος Иванов");
    if (rc == 0)
        rc = kopro_pdf_table_begin(d, 3, w, al, hdr);
    for (int i = 0; i < rows && rc == 0; i++) {
        char name[64], share[16];
        const char *cells[3] = {name, share, "présent"};
        snprintf(name, sizeof(name), "Owner %d Ødegaard", i);
        snprintf(share, sizeof(share), "%d", 20 + i);
        rc = kopro_pdf_table_row(d, cells, 0);
    }
    if (rc == 0)
        rc = kopro_pdf_table_end(d);
    return rc;
}

static size_t count(const unsigned char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), c = 0;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            c++;
    return c;
}

static void test_pdf__multipage_table_is_deterministic(void **state)
{
    unsigned char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int pa = 0, pb = 0;
    struct kopro_pdf *d;
    (void)state;
    d = new_doc(0);
    assert_int_equal(build_long_table(d, 200), 0);
    assert_int_equal(kopro_pdf_render(&a, &na, &pa, d), 0);
    kopro_pdf_free(d);
    d = new_doc(0);
    assert_int_equal(build_long_table(d, 200), 0);
    assert_int_equal(kopro_pdf_render(&b, &nb, &pb, d), 0);
    kopro_pdf_free(d);
    assert_true(pa >= 4); /* 200 rows of ~17 pt do not fit on 3 pages */
    assert_int_equal(pa, pb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    assert_memory_equal(a, "%PDF-", 5);
    /* the broken libharu ToUnicode CMap is replaced */
    assert_int_equal(count(a, na, "begincidrange"), 0);
    assert_int_equal(count(a, na, "/CreationDate (D:20260312000000Z"), 1);
    free(a);
    free(b);
}

struct render_job {
    unsigned char *pdf;
    size_t len;
    int rc;
};

static void *render_table_doc(void *arg)
{
    struct render_job *j = arg;
    struct kopro_pdf *d = NULL;
    struct kopro_pdf_options o;
    memset(&o, 0, sizeof(o));
    o.watermark = "PROJET";
    o.footer = "Généré le 12 mars 2026";
    o.created_utc = 1773273600;
    j->rc = kopro_pdf_new(&d, &o);
    if (j->rc == 0)
        j->rc = build_long_table(d, 60);
    if (j->rc == 0)
        j->rc = kopro_pdf_render(&j->pdf, &j->len, NULL, d);
    kopro_pdf_free(d);
    return NULL;
}

/* The process-wide font cache is shared by threads and must not change a
 * byte: documents made at once by two threads equal one made alone. */
static void test_pdf__threads_and_font_cache_same_bytes(void **state)
{
    struct render_job alone, t[2];
    pthread_t th[2];
    (void)state;
    memset(&alone, 0, sizeof(alone));
    memset(t, 0, sizeof(t));
    render_table_doc(&alone);
    assert_int_equal(alone.rc, 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_table_doc, &t[i]), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(t[i].rc, 0);
        assert_int_equal(t[i].len, alone.len);
        assert_memory_equal(t[i].pdf, alone.pdf, alone.len);
        free(t[i].pdf);
    }
    free(alone.pdf);
}

static void *make_open_doc(void *arg)
{
    struct kopro_pdf **out = arg;
    *out = new_doc(0);
    if (build_long_table(*out, 10) != 0) {
        kopro_pdf_free(*out);
        *out = NULL;
    }
    return NULL; /* the thread exits with its document open */
}

/* A document may outlive the thread that made it, be rendered and freed by
 * another, and documents may nest in one thread: same bytes every time
 * (ASan and valgrind check the per-thread libharu context's lifetime). */
static void test_pdf__documents_across_threads_and_nested(void **state)
{
    struct kopro_pdf *d = NULL, *outer, *inner;
    unsigned char *a = NULL, *b = NULL, *c = NULL;
    size_t na = 0, nb = 0, nc = 0;
    pthread_t th;
    (void)state;
    assert_int_equal(pthread_create(&th, NULL, make_open_doc, &d), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(d);
    assert_int_equal(kopro_pdf_render(&a, &na, NULL, d), 0);
    kopro_pdf_free(d);
    outer = new_doc(0);
    inner = new_doc(0);
    assert_int_equal(build_long_table(outer, 10), 0);
    assert_int_equal(build_long_table(inner, 10), 0);
    assert_int_equal(kopro_pdf_render(&b, &nb, NULL, inner), 0);
    kopro_pdf_free(inner);
    assert_int_equal(kopro_pdf_render(&c, &nc, NULL, outer), 0);
    kopro_pdf_free(outer);
    assert_int_equal(na, nb);
    assert_int_equal(na, nc);
    assert_memory_equal(a, b, na);
    assert_memory_equal(a, c, na);
    free(a);
    free(b);
    free(c);
}

static void test_pdf__final_has_no_watermark_path(void **state)
{
    unsigned char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    struct kopro_pdf *d;
    (void)state;
    d = new_doc(0);
    assert_int_equal(kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, "x"), 0);
    assert_int_equal(kopro_pdf_render(&a, &na, NULL, d), 0);
    kopro_pdf_free(d);
    d = new_doc(1);
    assert_int_equal(kopro_pdf_text(d, KOPRO_PDF_BODY, KOPRO_PDF_LEFT, "x"), 0);
    assert_int_equal(kopro_pdf_render(&b, &nb, NULL, d), 0);
    kopro_pdf_free(d);
    assert_true(na > nb); /* the draft carries the watermark outline */
    free(a);
    free(b);
}

static void test_pdf__misuse_is_reported(void **state)
{
    struct kopro_pdf *d = new_doc(1);
    const char *cells[1] = {"x"};
    const float w[] = {100};
    const enum kopro_pdf_align al[] = {KOPRO_PDF_LEFT};
    unsigned char *out = NULL;
    size_t n = 0;
    (void)state;
    assert_int_equal(kopro_pdf_table_row(d, cells, 0), KOPRO_EINVAL);
    assert_int_equal(kopro_pdf_table_begin(d, 0, w, al, NULL), KOPRO_EINVAL);
    assert_int_equal(kopro_pdf_keep_end(d), KOPRO_EINVAL);
    assert_int_equal(kopro_pdf_keep_begin(d), 0);
    assert_int_equal(kopro_pdf_keep_begin(d), KOPRO_EINVAL);
    assert_int_equal(kopro_pdf_render(&out, &n, NULL, d), KOPRO_EINVAL); /* group still open */
    assert_null(out);
    kopro_pdf_free(d);
}

static void test_pdf__sanitize(void **state)
{
    char *s;
    (void)state;
    s = kopro_pdf_sanitize("a\tb\x01" "c\n😀 \xff" "Łukasz", 0);
    assert_string_equal(s, "a b c \xEF\xBF\xBD \xEF\xBF\xBD" "Łukasz");
    free(s);
    s = kopro_pdf_sanitize("line1\nline2\xC0\x80", 1); /* overlong NUL is invalid */
    assert_string_equal(s, "line1\nline2\xEF\xBF\xBD\xEF\xBF\xBD");
    free(s);
}

static void test_pdf__missing_font_dir(void **state)
{
    struct kopro_pdf *d = NULL;
    struct kopro_pdf_options o;
    (void)state;
    memset(&o, 0, sizeof(o));
    o.font_dir = "/nonexistent-kopro-fonts";
    assert_int_equal(kopro_pdf_new(&d, &o), KOPRO_ENOTFOUND);
    assert_null(d);
    assert_non_null(strstr(kopro_error_last(), "/nonexistent-kopro-fonts/DejaVuSans.ttf"));
}


static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static const unsigned char *table(const unsigned char *font, const char *tag, uint32_t *len)
{
    unsigned n = (unsigned)((font[4] << 8) | font[5]);
    for (unsigned i = 0; i < n; i++) {
        const unsigned char *r = font + 12 + i * 16;
        if (memcmp(r, tag, 4) == 0) {
            *len = be32(r + 12);
            return font + be32(r + 8);
        }
    }
    return NULL;
}

/* The TrueType subset keeps the glyphs asked for (renumbered), is
 * self-consistent (numGlyphs, loca, hmtx) and has a valid checksum
 * adjustment (OpenType "head": the whole font sums to 0xB1B0AFBA). */
static void test_pdf__ttf_subset(void **state)
{
    const char *path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    char *ttf = NULL;
    size_t len = 0, out_len = 0;
    unsigned char *out = NULL;
    uint8_t *keep;
    uint16_t *map;
    uint32_t n, tl, sum = 0;
    const unsigned char *maxp, *loca, *hmtx;
    (void)state;
    if (kopro_fs_read_file(&ttf, &len, path, 16u * 1024u * 1024u) != 0)
        fail_msg("%s", kopro_error_last());
    maxp = table((const unsigned char *)ttf, "maxp", &tl);
    assert_non_null(maxp);
    n = (uint32_t)((maxp[4] << 8) | maxp[5]);
    keep = calloc(n, 1);
    map = calloc(n, sizeof(*map));
    assert_non_null(keep);
    assert_non_null(map);
    keep[36] = 1; /* a simple glyph */
    keep[100] = 1;
    assert_int_equal(kopro_pdf__ttf_subset(&out, &out_len, map, (const unsigned char *)ttf, len, keep, n), 0);
    assert_true(out_len > 100 && out_len < len / 10);
    assert_int_equal(be32(out), 0x00010000);
    assert_int_equal(map[0], 0);
    assert_int_equal(map[36], 1);
    assert_int_equal(map[100], 2);
    assert_int_equal(map[37], 0);
    maxp = table(out, "maxp", &tl);
    assert_non_null(maxp);
    assert_int_equal((maxp[4] << 8) | maxp[5], 3);
    loca = table(out, "loca", &tl);
    assert_non_null(loca);
    assert_int_equal(tl, 4 * 4);
    hmtx = table(out, "hmtx", &tl);
    assert_non_null(hmtx);
    assert_int_equal(tl, 3 * 4);
    for (size_t i = 0; i + 4 <= out_len; i += 4)
        sum += be32(out + i);
    assert_int_equal(sum, 0xB1B0AFBAu);
    /* a truncated font is refused, not read out of bounds */
    free(out);
    out = NULL;
    assert_int_equal(kopro_pdf__ttf_subset(&out, &out_len, map, (const unsigned char *)ttf, 40, keep, n),
                     KOPRO_EINVAL);
    assert_null(out);
    free(keep);
    free(map);
    free(ttf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdf__multipage_table_is_deterministic),
        cmocka_unit_test(test_pdf__threads_and_font_cache_same_bytes),
        cmocka_unit_test(test_pdf__documents_across_threads_and_nested),
        cmocka_unit_test(test_pdf__final_has_no_watermark_path),
        cmocka_unit_test(test_pdf__misuse_is_reported),
        cmocka_unit_test(test_pdf__sanitize),
        cmocka_unit_test(test_pdf__missing_font_dir),
        cmocka_unit_test(test_pdf__ttf_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
