/*
 * kopro/pdf.h — a small layout engine over libharu for A4 documents.
 *
 * The caller describes the document as a flow of blocks (text, tables,
 * images, signature lines, keep-together groups); kopro_pdf_render() lays
 * them out on A4 pages inside the margins, breaks lines at measured widths
 * (long words are broken too), repeats table headers on every page, never
 * splits a keep-together group that fits on one page, draws the diagonal
 * draft watermark unless final, and fills in the footer "page X / Y" after
 * layout (libharu pages stay writable until the document is saved).
 *
 * Text is UTF-8 (libharu's UTF-8 encoder, HPDF_UseUTFEncodings), set in
 * TrueType fonts that are embedded as subsets, so Latin, Greek and Cyrillic
 * names render (Łukasz, Şahin, Ødegaard, Παπαδόπουλος, Иванов). Control
 * characters become spaces; invalid UTF-8, characters outside the Basic
 * Multilingual Plane (emoji) and characters the font lacks become U+FFFD.
 *
 * libharu 2.3.0 writes, in UTF-8 mode, a /ToUnicode CMap made of a
 * `begincidrange` section, which is not valid in a ToUnicode CMap (PDF 32000
 * §9.10.3; poppler warns "Invalid 'begincidrange' operator"). kopro replaces
 * that stream before saving with a bfchar/bfrange map of exactly the
 * characters used, so text extraction gives the text back exactly.
 *
 * Output is deterministic: no clock is read; /CreationDate and /ModDate come
 * from options.created_utc, and the bytes depend only on the blocks and the
 * options (and the libharu, libdeflate and font versions).
 *
 * Thread-safety: documents are independent; threads may make documents at
 * the same time, one thread several. Font files are read once per process
 * (re-read when their size, mtime or inode change) and each thread keeps one
 * libharu document with the fonts parsed for its next document (freed when
 * the thread exits); neither changes the output.
 * Sources: ISO 32000-1 (PDF 1.7), libharu 2.3.0 API reference.
 */
#ifndef KOPRO_PDF_H
#define KOPRO_PDF_H

#include <stddef.h>
#include <time.h>

/* Cap of the finished PDF. */
#define KOPRO_PDF_CAP_BYTES (64u * 1024u * 1024u)
/* Cap on the number of blocks (rows count as blocks). */
#define KOPRO_PDF_MAX_BLOCKS 200000
/* Page geometry in PDF points (1/72 inch): A4 and its margins. */
#define KOPRO_PDF_PAGE_W_PT 595.276f
#define KOPRO_PDF_PAGE_H_PT 841.89f
#define KOPRO_PDF_MARGIN_PT 50.0f

enum kopro_pdf_style {
    KOPRO_PDF_BODY = 0, /* 10 pt regular */
    KOPRO_PDF_BOLD,     /* 10 pt bold */
    KOPRO_PDF_SMALL,    /* 8 pt regular */
    KOPRO_PDF_H1,       /* 16 pt bold, title */
    KOPRO_PDF_H2,       /* 13 pt bold, section; kept with what follows */
    KOPRO_PDF_H3,       /* 11 pt bold, sub-section; kept with what follows */
};

enum kopro_pdf_align { KOPRO_PDF_LEFT = 0, KOPRO_PDF_RIGHT, KOPRO_PDF_CENTER };

struct kopro_pdf_options {
    const char *font_dir;   /* NULL: $KOPRO_FONT_DIR, <exe>/../fonts, /usr/share/fonts/truetype/dejavu */
    int final;              /* 0 draws the draft watermark on every page */
    const char *watermark;  /* e.g. "PROJET / ONTWERP / ENTWURF / DRAFT"; NULL = none */
    const char *footer;     /* small text at the foot of each page; may hold '\n'; NULL = none */
    const char *page_label; /* "page {page} / {pages}" (kopro_i18n_subst placeholders) */
    const char *title;      /* /Title of the document info; NULL = none */
    const char *subject;    /* /Subject; NULL = none */
    time_t created_utc;     /* /CreationDate and /ModDate (taken from the input, never the clock) */
};

struct kopro_pdf; /* opaque */

/*
 * Start a document: loads and embeds the fonts (DejaVuSans.ttf,
 * DejaVuSans-Bold.ttf from the font directory). The option strings are
 * copied. Returns 0; KOPRO_ENOTFOUND if a font file is missing (message
 * names the path and says to run `make fonts` or set KOPRO_FONT_DIR);
 * KOPRO_EINVAL if a font file is not TrueType libharu can read, or the font
 * directory's path is too long; KOPRO_ERROR on a libharu failure or out of
 * memory. *out is owned by the caller: kopro_pdf_free().
 */
int kopro_pdf_new(struct kopro_pdf **out, const struct kopro_pdf_options *opts);

/* Release; NULL allowed. Personal data held in the blocks is wiped. */
void kopro_pdf_free(struct kopro_pdf *d);

/*
 * Append a paragraph (wrapped to the body width; '\n' starts a new line).
 * Returns 0, KOPRO_ETOOBIG past KOPRO_PDF_MAX_BLOCKS, KOPRO_ERROR (memory).
 * The same errors apply to every function that adds a block.
 */
int kopro_pdf_text(struct kopro_pdf *d, enum kopro_pdf_style style, enum kopro_pdf_align align,
                   const char *utf8);

/* Vertical space of `height_pt` points (dropped at the top of a page). */
int kopro_pdf_space(struct kopro_pdf *d, float height_pt);

/* Force a new page. */
int kopro_pdf_page_break(struct kopro_pdf *d);

/*
 * Start a table of `ncols` (1..16) columns. `width_pct` gives each column's
 * share of the body width in percent (should sum to 100), `align` each
 * column's alignment, `headers` the header cells (repeated at the top of
 * every page the table spans; NULL: no header row). Arrays have `ncols`
 * entries and are copied.
 * Returns 0, KOPRO_EINVAL for a bad column count or a table already open,
 * or the block errors.
 */
int kopro_pdf_table_begin(struct kopro_pdf *d, int ncols, const float *width_pct,
                          const enum kopro_pdf_align *align, const char *const *headers);

/*
 * Add one row of `ncols` cells (copied; NULL is an empty cell). `bold`
 * non-zero sets the row in bold (totals). Cells wrap inside their column.
 * A row is never split across pages. Returns 0, KOPRO_EINVAL outside a
 * table, or the block errors.
 */
int kopro_pdf_table_row(struct kopro_pdf *d, const char *const *cells, int bold);

/* Close the table. Returns 0 or KOPRO_EINVAL if no table is open. */
int kopro_pdf_table_end(struct kopro_pdf *d);

/*
 * Begin / end a group of blocks kept on one page: if the group does not fit
 * in the rest of the page but fits on an empty one, it starts a new page.
 * A group taller than a page starts on a new page and flows. Groups do not
 * nest (KOPRO_EINVAL).
 */
int kopro_pdf_keep_begin(struct kopro_pdf *d);
int kopro_pdf_keep_end(struct kopro_pdf *d);

/*
 * A signature line: `label` (e.g. "Łukasz Nowak, propriétaire") on the left,
 * a rule to sign on at the right. Use inside a keep group.
 */
int kopro_pdf_signature(struct kopro_pdf *d, const char *label);

/*
 * A PNG image (copied) drawn `width_pt` × `height_pt`, centred. Errors of
 * the block functions; a PNG libharu cannot read fails at render time with
 * KOPRO_EINVAL.
 */
int kopro_pdf_png(struct kopro_pdf *d, const void *png, size_t png_bytes, float width_pt,
                  float height_pt);

/*
 * Lay out and save the document into memory. *out_pdf (caller frees with
 * free()) receives the bytes, *out_bytes their count, *out_pages the page
 * count (may be NULL). May be called once per document.
 * Returns 0, KOPRO_ETOOBIG past KOPRO_PDF_CAP_BYTES, KOPRO_EINVAL for an
 * unreadable image or a bad page label, KOPRO_ERROR on a libharu failure
 * (message carries libharu's error number).
 */
int kopro_pdf_render(unsigned char **out_pdf, size_t *out_bytes, int *out_pages,
                     struct kopro_pdf *d);

/*
 * Sanitize UTF-8 text as the renderer does (controls → space except '\n'
 * when keep_newlines, invalid sequences and non-BMP characters → U+FFFD).
 * Returns a new string (caller frees) or NULL on allocation failure.
 * Thread-safe. Exposed for tests and for callers that store the text.
 */
char *kopro_pdf_sanitize(const char *utf8, int keep_newlines);

#endif
