/* A4 layout engine over libharu; see kopro/pdf.h. */
#include "kopro/pdf.h"

#include "pdf_internal.h"

#include "kopro/buf.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/i18n.h"

#include <cairo-ft.h>
#include <cairo.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <hpdf.h>
#include <hpdf_encoder.h>
#include <hpdf_list.h>
#include <hpdf_font.h>
#include <hpdf_fontdef.h>
#include <hpdf_objects.h>
#include <hpdf_streams.h>
#include <hpdf_utils.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#define MAX_COLS 16
#define CELL_PAD_PT 3.0f
#define TABLE_SIZE_PT 9.0f
#define TABLE_LEAD_PT 11.5f
#define FOOTER_SIZE_PT 7.0f
#define FOOTER_LEAD_PT 9.0f
#define FOOTER_H_PT 24.0f
#define SIG_H_PT 21.0f /* one signature line: a 10 pt name and the rule beside it */

enum blk_type {
    B_TEXT,
    B_SPACE,
    B_BREAK,
    B_TABLE_BEGIN,
    B_ROW,
    B_TABLE_END,
    B_KEEP_BEGIN,
    B_KEEP_END,
    B_SIG,
    B_PNG,
};

struct table {
    int ncols;
    int has_hdr; /* 0: the table has no header row */
    float w_pt[MAX_COLS];
    enum kopro_pdf_align align[MAX_COLS];
    char *hdr[MAX_COLS];
};

struct blk {
    enum blk_type type;
    enum kopro_pdf_style style;
    enum kopro_pdf_align align;
    char *text;            /* B_TEXT, B_SIG */
    float h_pt;            /* B_SPACE; B_PNG height */
    float w_pt;            /* B_PNG width */
    struct table *table;   /* B_TABLE_BEGIN (owned), B_ROW (borrowed) */
    char **cells;          /* B_ROW */
    int ncells;            /* B_ROW */
    int bold;              /* B_ROW */
    unsigned char *png;    /* B_PNG */
    size_t png_len;
    float h_cache;         /* blk_height(), once measured (h_cached) */
    int h_cached;
};

struct font {
    HPDF_Font f;
    HPDF_FontDef def;
    int16_t *widths;       /* per BMP code point, 1/1000 em; -1 = not yet measured (font_src's) */
    int8_t *has_glyph;     /* per BMP code point: 1 yes, 0 no, -1 not yet looked up (font_src's) */
    const unsigned char *ttf; /* the font file, for subsetting (font_src's) */
    size_t ttf_len;
    uint8_t used[8192];    /* bitmap of BMP code points drawn */
};

/* One font file parsed into a libharu document, kept with it (see hpdf_ctx). */
struct font_src {
    char *path;
    struct stat st;
    const unsigned char *ttf; /* the file's bytes: process cache, or ttf_own */
    size_t ttf_len;
    unsigned char *ttf_own;
    size_t ttf_pos;           /* read position of libharu's stream over ttf */
    const char *name;         /* libharu's base font name */
    int16_t *widths;          /* measured advance widths, filled as needed */
    int8_t *has_glyph;
};

/*
 * A libharu document with the two fonts parsed, kept per thread and reused
 * for the thread's next document through HPDF_NewDoc()/HPDF_FreeDoc() (which
 * keep font definitions and encoders): parsing the TrueType tables and
 * setting up libharu's encoders cost ~15% of a document's CPU. The context
 * is rebuilt when the font files change, and a document whose rendering did
 * not complete discards it.
 */
struct hpdf_ctx {
    HPDF_Doc pdf;
    struct font_src src[2];
    struct libdeflate_compressor *zc; /* made at the first compression */
    atomic_int state;                 /* CTX_FREE, CTX_BUSY, CTX_ORPHAN */
    int broken;                       /* a document did not complete: rebuild */
};

struct kopro_pdf {
    HPDF_Doc pdf;         /* ctx->pdf */
    struct hpdf_ctx *ctx;
    int ctx_cached;       /* ctx is the thread's (reused), not this document's own */
    int rendered_ok;
    HPDF_STATUS herr;
    HPDF_STATUS hdetail;
    struct font fonts[2]; /* 0 regular, 1 bold */
    struct blk *b;
    size_t n, alloc;
    struct table *open_table;
    int in_keep;
    int rendered;
    /* options, copied */
    int final;
    char *watermark, *footer, *page_label, *title, *subject;
    time_t created_utc;
    /* layout state */
    HPDF_Page *pages;
    size_t npages, pages_alloc;
    HPDF_Page page;
    float y;
    cairo_path_t *wm_path; /* the draft watermark's outline, or NULL */
    HPDF_Dict wm_stream;   /* its content stream, shared by the pages */
};

static const float body_x0 = KOPRO_PDF_MARGIN_PT;
static const float body_x1 = KOPRO_PDF_PAGE_W_PT - KOPRO_PDF_MARGIN_PT;
static const float body_top = KOPRO_PDF_PAGE_H_PT - KOPRO_PDF_MARGIN_PT;
static const float body_bottom = KOPRO_PDF_MARGIN_PT + FOOTER_H_PT;

static void on_hpdf_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
    struct kopro_pdf *d = user;
    if (d->herr == 0) {
        d->herr = error_no;
        d->hdetail = detail_no;
    }
}

static int hpdf_fail(struct kopro_pdf *d, const char *what)
{
    return kopro_error_set(KOPRO_ERROR, "libharu failed while %s (error 0x%04X, detail %u)", what,
                           (unsigned)d->herr, (unsigned)d->hdetail);
}

/* ------------------------------------------------------------ UTF-8 */

/* Decode one code point; invalid sequences give 0xFFFD and advance one byte. */
static uint32_t utf8_next(const char **pp)
{
    const unsigned char *p = (const unsigned char *)*pp;
    uint32_t cp;
    int n, i;
    if (p[0] < 0x80) {
        *pp += 1;
        return p[0];
    }
    if ((p[0] & 0xE0) == 0xC0)
        cp = p[0] & 0x1F, n = 1;
    else if ((p[0] & 0xF0) == 0xE0)
        cp = p[0] & 0x0F, n = 2;
    else if ((p[0] & 0xF8) == 0xF0)
        cp = p[0] & 0x07, n = 3;
    else {
        *pp += 1;
        return 0xFFFD;
    }
    for (i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *pp += 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* overlong forms and surrogates are invalid */
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        *pp += 1;
        return 0xFFFD;
    }
    *pp += n + 1;
    return cp;
}

static int utf8_put(struct kopro_buf *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80)
        s[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        s[0] = (char)(0xC0 | (cp >> 6)), s[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else
        s[0] = (char)(0xE0 | (cp >> 12)), s[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        s[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    return kopro_buf_add(b, s, n);
}

static int font_has(struct font *f, uint32_t cp)
{
    if (cp > 0xFFFF)
        return 0;
    if (f->has_glyph[cp] < 0)
        f->has_glyph[cp] = HPDF_TTFontDef_GetGlyphid(f->def, (HPDF_UINT16)cp) != 0;
    return f->has_glyph[cp];
}

/* sanitize; if `f` is given, characters it has no glyph for become U+FFFD / '?' */
static char *sanitize(const char *utf8, int keep_newlines, struct font *f)
{
    struct kopro_buf b;
    const char *p = utf8 != NULL ? utf8 : "";
    int rc = 0;
    kopro_buf_init(&b, 16u * 1024u * 1024u);
    while (*p != '\0' && rc == 0) {
        uint32_t cp = utf8_next(&p);
        if (cp == '\n' && keep_newlines)
            ;
        else if (cp == '\t' || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
                 cp == 0x2028 || cp == 0x2029)
            cp = ' ';
        else if (cp > 0xFFFF)
            cp = 0xFFFD;
        if (f != NULL && cp != '\n' && cp != ' ' && !font_has(f, cp))
            cp = font_has(f, 0xFFFD) ? 0xFFFD : '?';
        rc = utf8_put(&b, cp);
    }
    if (rc == 0 && b.data == NULL)
        rc = kopro_buf_add(&b, "", 0);
    if (rc != 0) {
        kopro_buf_free(&b);
        return NULL;
    }
    return kopro_buf_detach(&b);
}

char *kopro_pdf_sanitize(const char *utf8, int keep_newlines)
{
    return sanitize(utf8, keep_newlines, NULL);
}

/* ------------------------------------------------------------ fonts */

static float cp_width(struct font *f, uint32_t cp, float size)
{
    int16_t w;
    if (cp > 0xFFFF)
        cp = 0xFFFD;
    w = f->widths[cp];
    if (w < 0) {
        HPDF_INT v = HPDF_Font_GetUnicodeWidth(f->f, (HPDF_UNICODE)cp);
        w = (int16_t)(v < 0 ? 0 : v > 30000 ? 30000 : v);
        f->widths[cp] = w;
    }
    return (float)w * size / 1000.0f;
}

static float text_width(struct font *f, const char *s, size_t len, float size)
{
    const char *p = s, *end = s + len;
    float w = 0;
    while (p < end)
        w += cp_width(f, utf8_next(&p), size);
    return w;
}

static pthread_once_t exe_once = PTHREAD_ONCE_INIT;
static char exe_font_dir[4096];

static void find_exe_font_dir(void)
{
    char exe[3072];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;
    struct stat st;
    if (n <= 0)
        return;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    /* BUILD/bin/x -> BUILD/fonts; BUILD-asan/bin/x -> BUILD-asan/fonts (absent) -> BUILD/fonts */
    snprintf(exe_font_dir, sizeof(exe_font_dir), "%s/../fonts", exe);
    if (stat(exe_font_dir, &st) == 0 && S_ISDIR(st.st_mode))
        return;
    if (n > 9 && strlen(exe) > 9) {
        char *dash = strstr(exe, "-asan/");
        if (dash != NULL) {
            *dash = '\0';
            snprintf(exe_font_dir, sizeof(exe_font_dir), "%s/fonts", exe);
            if (stat(exe_font_dir, &st) == 0 && S_ISDIR(st.st_mode))
                return;
        }
    }
    exe_font_dir[0] = '\0';
}

static const char *font_dir(const char *opt)
{
    const char *env = getenv("KOPRO_FONT_DIR");
    struct stat st;
    if (opt != NULL && opt[0] != '\0')
        return opt;
    if (env != NULL && env[0] != '\0' && stat(env, &st) == 0 && S_ISDIR(st.st_mode))
        return env;
    pthread_once(&exe_once, find_exe_font_dir);
    if (exe_font_dir[0] != '\0')
        return exe_font_dir;
    return "/usr/share/fonts/truetype/dejavu";
}

/*
 * Font files are read once per process and kept (they are immutable inputs,
 * ~700 KB each): a worker or `--all-owners` renders many documents, and
 * reading and parsing through libharu's FILE* reader (a memset and an fread
 * per table field) cost a fifth of a document's CPU. An entry is reused only
 * while path, size, mtime and inode match, so a replaced font file is read
 * again. Entries are never freed (they may be in use by another thread's
 * document); when the table is full, a document gets its own copy.
 */
#define FONT_CACHE_MAX 8

struct font_file {
    char *path;
    struct stat st;
    unsigned char *data;
    size_t len;
};

static pthread_mutex_t font_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct font_file font_cache[FONT_CACHE_MAX];
static size_t font_cache_n;

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The bytes of font file `path` (stat'ed as *st): *own is set when the caller
 * must free them, NULL when they belong to the process cache. */
static int font_file_get(const unsigned char **out, size_t *out_len, unsigned char **own,
                         const char *path, const struct stat *st)
{
    char *data = NULL;
    size_t len = 0;
    int rc = 0;
    *out = NULL;
    *out_len = 0;
    *own = NULL;
    pthread_mutex_lock(&font_cache_mu);
    for (size_t i = 0; i < font_cache_n; i++) {
        if (strcmp(font_cache[i].path, path) == 0 && same_file(&font_cache[i].st, st)) {
            *out = font_cache[i].data;
            *out_len = font_cache[i].len;
            goto done;
        }
    }
    if (kopro_fs_read_file(&data, &len, path, 64u * 1024u * 1024u) != 0) {
        rc = kopro_error_wrap(KOPRO_ERROR, "font %s", path);
        goto done;
    }
    if (font_cache_n < FONT_CACHE_MAX) {
        char *p = strdup(path);
        if (p != NULL) {
            font_cache[font_cache_n].path = p;
            font_cache[font_cache_n].st = *st;
            font_cache[font_cache_n].data = (unsigned char *)data;
            font_cache[font_cache_n].len = len;
            font_cache_n++;
            *out = (const unsigned char *)data;
            *out_len = len;
            data = NULL;
            goto done;
        }
    }
    *own = (unsigned char *)data;
    *out = (const unsigned char *)data;
    *out_len = len;
    data = NULL;
done:
    pthread_mutex_unlock(&font_cache_mu);
    free(data);
    return rc;
}

/* libharu stream callbacks reading a font_src's in-memory file */
static HPDF_STATUS ttf_read(HPDF_Stream st, HPDF_BYTE *ptr, HPDF_UINT *siz)
{
    struct font_src *f = st->attr;
    size_t left = f->ttf_pos < f->ttf_len ? f->ttf_len - f->ttf_pos : 0;
    size_t n = *siz < left ? *siz : left;
    memcpy(ptr, f->ttf + f->ttf_pos, n);
    f->ttf_pos += n;
    if (n < *siz) {
        memset(ptr + n, 0, *siz - n);
        *siz = (HPDF_UINT)n;
        return HPDF_STREAM_EOF;
    }
    return HPDF_OK;
}

static HPDF_STATUS ttf_seek(HPDF_Stream st, HPDF_INT pos, HPDF_WhenceMode mode)
{
    struct font_src *f = st->attr;
    long long base = mode == HPDF_SEEK_CUR ? (long long)f->ttf_pos
                     : mode == HPDF_SEEK_END ? (long long)f->ttf_len
                                             : 0;
    long long to = base + pos;
    if (to < 0 || to > (long long)f->ttf_len)
        return HPDF_SetError(st->error, HPDF_FILE_IO_ERROR, 0);
    f->ttf_pos = (size_t)to;
    return HPDF_OK;
}

static HPDF_INT32 ttf_tell(HPDF_Stream st)
{
    return (HPDF_INT32)((struct font_src *)st->attr)->ttf_pos;
}

static HPDF_UINT32 ttf_size(HPDF_Stream st)
{
    return (HPDF_UINT32)((struct font_src *)st->attr)->ttf_len;
}

/*
 * What HPDF_LoadTTFontFromFile(pdf, path, HPDF_TRUE) does, over the cached
 * bytes: parse (HPDF_TTFontDef_Load), register with the document, and give
 * the next subset tag (HPDFAA, HPDFAB, ...) as libharu 2.3.0 does.
 */
static const char *load_ttf_def(struct kopro_pdf *d, struct font_src *f)
{
    HPDF_Doc pdf = d->pdf;
    HPDF_Stream st = HPDF_CallbackReader_New(pdf->mmgr, ttf_read, ttf_seek, ttf_tell, ttf_size, f);
    HPDF_FontDef def;
    if (st == NULL)
        return NULL;
    f->ttf_pos = 0;
    def = HPDF_TTFontDef_Load(pdf->mmgr, st, HPDF_TRUE); /* owns st from here */
    if (def == NULL)
        return NULL;
    if (HPDF_Doc_FindFontDef(pdf, def->base_font) != NULL) {
        HPDF_FontDef_Free(def);
        on_hpdf_error(HPDF_FONT_EXISTS, 0, d);
        return NULL;
    }
    if (HPDF_List_Add(pdf->fontdef_list, def) != HPDF_OK) {
        HPDF_FontDef_Free(def);
        return NULL;
    }
    if (pdf->ttfont_tag[0] == 0) {
        memcpy(pdf->ttfont_tag, "HPDFAA", 6);
    } else {
        for (int i = 5; i >= 0; i--) {
            pdf->ttfont_tag[i] += 1;
            if (pdf->ttfont_tag[i] > 'Z')
                pdf->ttfont_tag[i] = 'A';
            else
                break;
        }
    }
    HPDF_TTFontDef_SetTagName(def, (char *)pdf->ttfont_tag);
    return def->base_font;
}

static const char *const font_files[2] = {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"};

static int font_path(char *path, size_t path_bytes, const char *dir, int i)
{
    if (snprintf(path, path_bytes, "%s/%s", dir, font_files[i]) >= (int)path_bytes)
        return kopro_error_set(KOPRO_EINVAL, "font directory '%.100s' is too long", dir);
    return 0;
}

static int stat_font(struct stat *st, const char *path)
{
    if (stat(path, st) != 0)
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "font %s is missing; run `make fonts` (package fonts-dejavu-core) or "
                               "set KOPRO_FONT_DIR",
                               path);
    return 0;
}

/* Parse font file `path` into d's (new) libharu document. */
static int src_open(struct kopro_pdf *d, struct font_src *f, const char *path)
{
    int rc = stat_font(&f->st, path);
    if (rc != 0)
        return rc;
    f->path = strdup(path);
    f->widths = malloc(65536 * sizeof(int16_t));
    f->has_glyph = malloc(65536);
    if (f->path == NULL || f->widths == NULL || f->has_glyph == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory loading font %s", path);
    memset(f->widths, 0xFF, 65536 * sizeof(int16_t));
    memset(f->has_glyph, 0xFF, 65536);
    rc = font_file_get(&f->ttf, &f->ttf_len, &f->ttf_own, path, &f->st);
    if (rc != 0)
        return rc;
    f->name = load_ttf_def(d, f);
    if (f->name == NULL || d->herr != 0) {
        if (d->herr == 0)
            d->herr = HPDF_TTF_INVALID_FOMAT;
        return kopro_error_set(KOPRO_EINVAL,
                               "font %s could not be read as TrueType (libharu error 0x%04X); "
                               "reinstall fonts-dejavu-core or fix KOPRO_FONT_DIR",
                               path, (unsigned)d->herr);
    }
    return 0;
}

static void ctx_free(struct hpdf_ctx *c)
{
    if (c == NULL)
        return;
    if (c->pdf != NULL)
        HPDF_Free(c->pdf);
    if (c->zc != NULL)
        libdeflate_free_compressor(c->zc);
    for (int i = 0; i < 2; i++) {
        free(c->src[i].path);
        free(c->src[i].widths);
        free(c->src[i].has_glyph);
        free(c->src[i].ttf_own);
    }
    free(c);
}

/* A new context for d: a libharu document with both fonts of `dir` parsed. */
static int ctx_open(struct hpdf_ctx **out, struct kopro_pdf *d, const char *dir)
{
    struct hpdf_ctx *c = calloc(1, sizeof(*c));
    char path[4096];
    int rc = 0;
    *out = NULL;
    if (c == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory creating a PDF");
    c->pdf = HPDF_New(on_hpdf_error, d);
    if (c->pdf == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "libharu could not create a document (out of memory)");
        goto done;
    }
    d->pdf = c->pdf;
    HPDF_SetCompressionMode(c->pdf, HPDF_COMP_ALL);
    HPDF_UseUTFEncodings(c->pdf);
    if (d->herr != 0) {
        rc = hpdf_fail(d, "enabling UTF-8");
        goto done;
    }
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = font_path(path, sizeof(path), dir, i);
        if (rc == 0)
            rc = src_open(d, &c->src[i], path);
    }
done:
    if (rc != 0) {
        d->pdf = NULL;
        ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Whether c was made from the font files now at `dir`. */
static int ctx_matches(const struct hpdf_ctx *c, const char *dir)
{
    char path[4096];
    struct stat st;
    for (int i = 0; i < 2; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, font_files[i]) >= (int)sizeof(path) ||
            strcmp(path, c->src[i].path) != 0 || stat(path, &st) != 0 ||
            !same_file(&st, &c->src[i].st))
            return 0;
    }
    return 1;
}

/*
 * A thread's context is FREE between documents, BUSY while one of its
 * documents is open, ORPHAN when the thread exited with a document open (the
 * document's kopro_pdf_free() then frees it). A document may be freed by
 * another thread than the one that made it: only the owner thread takes a
 * FREE context, and the other transitions are atomic.
 */
enum { CTX_FREE, CTX_BUSY, CTX_ORPHAN };

static pthread_once_t ctx_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static int ctx_key_ok;

static void ctx_destroy(void *vc)
{
    struct hpdf_ctx *c = vc;
    int busy = CTX_BUSY;
    if (atomic_load(&c->state) == CTX_FREE ||
        !atomic_compare_exchange_strong(&c->state, &busy, CTX_ORPHAN))
        ctx_free(c); /* free, or freed by its document just now */
}

static void ctx_key_init(void)
{
    ctx_key_ok = pthread_key_create(&ctx_key, ctx_destroy) == 0;
}

/*
 * d's libharu document: the thread's context when it is free and made from
 * the same font files (a new document in it), else a new context, which
 * becomes the thread's unless the thread's is in use (a document made while
 * another is open in the same thread gets its own).
 */
static int ctx_get(struct kopro_pdf *d, const char *dir)
{
    struct hpdf_ctx *c;
    int rc;
    pthread_once(&ctx_key_once, ctx_key_init);
    c = ctx_key_ok ? pthread_getspecific(ctx_key) : NULL;
    if (c != NULL && atomic_load(&c->state) == CTX_FREE) {
        if (!c->broken && ctx_matches(c, dir)) {
            c->pdf->error.user_data = d;
            d->pdf = c->pdf;
            if (HPDF_NewDoc(c->pdf) == HPDF_OK && d->herr == 0) {
                HPDF_SetCompressionMode(c->pdf, HPDF_COMP_ALL);
                atomic_store(&c->state, CTX_BUSY);
                d->ctx = c;
                d->ctx_cached = 1;
                return 0;
            }
            d->pdf = NULL;
            d->herr = 0;
        }
        /* other fonts, or a document that did not complete: start afresh */
        pthread_setspecific(ctx_key, NULL);
        ctx_free(c);
        c = NULL;
    }
    rc = ctx_open(&d->ctx, d, dir);
    if (rc != 0)
        return rc;
    atomic_store(&d->ctx->state, CTX_BUSY);
    if (c == NULL && ctx_key_ok && pthread_setspecific(ctx_key, d->ctx) == 0)
        d->ctx_cached = 1;
    return 0;
}

/* Give the context back after d: kept for its thread's next document. */
static void ctx_put(struct kopro_pdf *d)
{
    struct hpdf_ctx *c = d->ctx;
    int busy = CTX_BUSY;
    if (c == NULL)
        return;
    d->ctx = NULL;
    d->pdf = NULL;
    if (!d->ctx_cached) {
        ctx_free(c);
        return;
    }
    if (d->rendered_ok)
        HPDF_FreeDoc(c->pdf);
    else
        c->broken = 1; /* its state is not trusted: the owner thread drops it */
    c->pdf->error.user_data = NULL;
    if (!atomic_compare_exchange_strong(&c->state, &busy, CTX_FREE))
        ctx_free(c); /* CTX_ORPHAN: its thread has exited */
}

static int make_font(struct kopro_pdf *d, struct font *f, struct font_src *src)
{
    {
        /*
         * libharu 2.3.0's CIDFontType2 constructor builds /W and the
         * CIDToGIDMap eagerly; for an encoder whose to_unicode_fn is not
         * HPDF_CMapEncoder_ToUnicode (the UTF-8 encoder) it looks up all
         * 65,536 code points with a linear cmap search: 120 M instructions,
         * half the CPU time of a document. fix_font() rewrites both from the
         * characters actually drawn, so while the font is created the
         * encoder takes the table-driven path over emptied tables (space
         * only); everything is restored right after. The output is
         * byte-identical (checked by the unit tests and the integration
         * tests' text extraction).
         */
        HPDF_Encoder enc = HPDF_GetEncoder(d->pdf, "UTF-8");
        HPDF_CMapEncoderAttr ea = enc != NULL ? (HPDF_CMapEncoderAttr)enc->attr : NULL;
        HPDF_UINT16 (*saved)[256] = ea != NULL ? malloc(sizeof(ea->cid_map)) : NULL;
        HPDF_UNICODE (*saved_u)[256] = ea != NULL ? malloc(sizeof(ea->unicode_map)) : NULL;
        HPDF_Encoder_ToUnicode_Func saved_fn = enc != NULL ? enc->to_unicode_fn : NULL;
        int swapped = saved != NULL && saved_u != NULL;
        if (swapped) {
            memcpy(saved, ea->cid_map, sizeof(ea->cid_map));
            memcpy(saved_u, ea->unicode_map, sizeof(ea->unicode_map));
            memset(ea->cid_map, 0, sizeof(ea->cid_map));
            memset(ea->unicode_map, 0, sizeof(ea->unicode_map));
            ea->cid_map[0][0x20] = 0x20;
            ea->unicode_map[0][0x20] = 0x20;
            enc->to_unicode_fn = HPDF_CMapEncoder_ToUnicode;
        }
        f->f = HPDF_GetFont(d->pdf, src->name, "UTF-8");
        if (swapped) {
            enc->to_unicode_fn = saved_fn;
            memcpy(ea->cid_map, saved, sizeof(ea->cid_map));
            memcpy(ea->unicode_map, saved_u, sizeof(ea->unicode_map));
        }
        free(saved);
        free(saved_u);
    }
    if (f->f == NULL || d->herr != 0)
        return hpdf_fail(d, "creating a UTF-8 font");
    f->def = ((HPDF_FontAttr)f->f->attr)->fontdef;
    f->widths = src->widths;
    f->has_glyph = src->has_glyph;
    f->ttf = src->ttf;
    f->ttf_len = src->ttf_len;
    return 0;
}

static char *dup_opt(const char *s, int *fail)
{
    char *r;
    if (s == NULL)
        return NULL;
    r = strdup(s);
    if (r == NULL)
        *fail = 1;
    return r;
}

int kopro_pdf_new(struct kopro_pdf **out, const struct kopro_pdf_options *opts)
{
    struct kopro_pdf *d = NULL;
    int rc, fail = 0;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory creating a PDF");
    rc = ctx_get(d, font_dir(opts->font_dir));
    if (rc != 0)
        goto done;
    HPDF_SetCurrentEncoder(d->pdf, "UTF-8");
    if (d->herr != 0) {
        rc = hpdf_fail(d, "enabling UTF-8");
        goto done;
    }
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = make_font(d, &d->fonts[i], &d->ctx->src[i]);
    if (rc != 0)
        goto done;
    d->final = opts->final;
    d->created_utc = opts->created_utc;
    d->watermark = dup_opt(opts->watermark, &fail);
    d->footer = dup_opt(opts->footer, &fail);
    d->page_label = dup_opt(opts->page_label != NULL ? opts->page_label : "{page} / {pages}", &fail);
    d->title = dup_opt(opts->title, &fail);
    d->subject = dup_opt(opts->subject, &fail);
    if (fail) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory copying PDF options");
        goto done;
    }
    *out = d;
    d = NULL;
    rc = 0;
done:
    kopro_pdf_free(d);
    return rc;
}

static void free_str(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void free_table(struct table *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->ncols; i++)
        free_str(t->hdr[i]);
    free(t);
}

void kopro_pdf_free(struct kopro_pdf *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        struct blk *b = &d->b[i];
        free_str(b->text);
        if (b->type == B_TABLE_BEGIN)
            free_table(b->table);
        if (b->cells != NULL) {
            for (int c = 0; c < b->ncells; c++)
                free_str(b->cells[c]);
            free(b->cells);
        }
        free(b->png);
    }
    free(d->b);
    free(d->pages);
    free(d->watermark);
    free_str(d->footer);
    free(d->page_label);
    free_str(d->title);
    free(d->subject);
    if (d->wm_path != NULL)
        cairo_path_destroy(d->wm_path);
    ctx_put(d);
    free(d);
}

/* ------------------------------------------------------------ blocks */

static struct blk *add_blk(struct kopro_pdf *d, enum blk_type type)
{
    struct blk *b;
    if (d->rendered) {
        kopro_error_set(KOPRO_EINVAL, "the PDF was already rendered; start a new document");
        return NULL;
    }
    if (d->n >= KOPRO_PDF_MAX_BLOCKS) {
        kopro_error_set(KOPRO_ETOOBIG, "document exceeds %d blocks; split it",
                        KOPRO_PDF_MAX_BLOCKS);
        return NULL;
    }
    if (d->n == d->alloc) {
        size_t na = d->alloc ? d->alloc * 2 : 64;
        struct blk *nb = realloc(d->b, na * sizeof(*nb));
        if (nb == NULL) {
            kopro_error_set(KOPRO_ERROR, "out of memory adding a PDF block");
            return NULL;
        }
        d->b = nb;
        d->alloc = na;
    }
    b = &d->b[d->n++];
    memset(b, 0, sizeof(*b));
    b->type = type;
    return b;
}

static int blk_code(void)
{
    int c = kopro_error_last_code();
    return c != 0 ? c : KOPRO_ERROR;
}

int kopro_pdf_text(struct kopro_pdf *d, enum kopro_pdf_style style, enum kopro_pdf_align align,
                   const char *utf8)
{
    struct blk *b = add_blk(d, B_TEXT);
    if (b == NULL)
        return blk_code();
    b->style = style;
    b->align = align;
    b->text = sanitize(utf8, 1, &d->fonts[0]);
    if (b->text == NULL) {
        d->n--;
        return kopro_error_set(KOPRO_ERROR, "out of memory adding text");
    }
    return 0;
}

int kopro_pdf_space(struct kopro_pdf *d, float height_pt)
{
    struct blk *b = add_blk(d, B_SPACE);
    if (b == NULL)
        return blk_code();
    b->h_pt = height_pt < 0 ? 0 : height_pt;
    return 0;
}

int kopro_pdf_page_break(struct kopro_pdf *d)
{
    return add_blk(d, B_BREAK) != NULL ? 0 : blk_code();
}

int kopro_pdf_table_begin(struct kopro_pdf *d, int ncols, const float *width_pct,
                          const enum kopro_pdf_align *align, const char *const *headers)
{
    struct table *t;
    struct blk *b;
    if (ncols < 1 || ncols > MAX_COLS)
        return kopro_error_set(KOPRO_EINVAL, "a table needs 1 to %d columns, not %d", MAX_COLS, ncols);
    if (d->open_table != NULL)
        return kopro_error_set(KOPRO_EINVAL, "a table is already open; end it first");
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory adding a table");
    t->ncols = ncols;
    t->has_hdr = headers != NULL;
    for (int i = 0; i < ncols; i++) {
        t->w_pt[i] = (body_x1 - body_x0) * width_pct[i] / 100.0f;
        t->align[i] = align[i];
        t->hdr[i] = sanitize(headers != NULL ? headers[i] : "", 0, &d->fonts[1]);
        if (t->hdr[i] == NULL) {
            t->ncols = i;
            free_table(t);
            return kopro_error_set(KOPRO_ERROR, "out of memory adding a table");
        }
    }
    b = add_blk(d, B_TABLE_BEGIN);
    if (b == NULL) {
        free_table(t);
        return blk_code();
    }
    b->table = t;
    d->open_table = t;
    return 0;
}

int kopro_pdf_table_row(struct kopro_pdf *d, const char *const *cells, int bold)
{
    struct blk *b;
    char **c;
    if (d->open_table == NULL)
        return kopro_error_set(KOPRO_EINVAL, "a table row outside a table; call kopro_pdf_table_begin()");
    c = calloc((size_t)d->open_table->ncols, sizeof(*c));
    if (c == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory adding a table row");
    for (int i = 0; i < d->open_table->ncols; i++) {
        c[i] = sanitize(cells[i], 1, &d->fonts[bold ? 1 : 0]);
        if (c[i] == NULL) {
            for (int j = 0; j < i; j++)
                free_str(c[j]);
            free(c);
            return kopro_error_set(KOPRO_ERROR, "out of memory adding a table row");
        }
    }
    b = add_blk(d, B_ROW);
    if (b == NULL) {
        for (int j = 0; j < d->open_table->ncols; j++)
            free_str(c[j]);
        free(c);
        return blk_code();
    }
    b->table = d->open_table;
    b->cells = c;
    b->ncells = d->open_table->ncols;
    b->bold = bold;
    return 0;
}

int kopro_pdf_table_end(struct kopro_pdf *d)
{
    if (d->open_table == NULL)
        return kopro_error_set(KOPRO_EINVAL, "no table is open");
    if (add_blk(d, B_TABLE_END) == NULL)
        return blk_code();
    d->open_table = NULL;
    return 0;
}

int kopro_pdf_keep_begin(struct kopro_pdf *d)
{
    if (d->in_keep)
        return kopro_error_set(KOPRO_EINVAL, "keep-together groups do not nest");
    if (add_blk(d, B_KEEP_BEGIN) == NULL)
        return blk_code();
    d->in_keep = 1;
    return 0;
}

int kopro_pdf_keep_end(struct kopro_pdf *d)
{
    if (!d->in_keep)
        return kopro_error_set(KOPRO_EINVAL, "no keep-together group is open");
    if (add_blk(d, B_KEEP_END) == NULL)
        return blk_code();
    d->in_keep = 0;
    return 0;
}

int kopro_pdf_signature(struct kopro_pdf *d, const char *label)
{
    struct blk *b = add_blk(d, B_SIG);
    if (b == NULL)
        return blk_code();
    b->text = sanitize(label, 0, &d->fonts[0]);
    if (b->text == NULL) {
        d->n--;
        return kopro_error_set(KOPRO_ERROR, "out of memory adding a signature line");
    }
    return 0;
}

int kopro_pdf_png(struct kopro_pdf *d, const void *png, size_t png_bytes, float width_pt,
                  float height_pt)
{
    struct blk *b = add_blk(d, B_PNG);
    if (b == NULL)
        return blk_code();
    b->png = malloc(png_bytes ? png_bytes : 1);
    if (b->png == NULL) {
        d->n--;
        return kopro_error_set(KOPRO_ERROR, "out of memory adding an image");
    }
    memcpy(b->png, png, png_bytes);
    b->png_len = png_bytes;
    b->w_pt = fminf(width_pt, body_x1 - body_x0);
    b->h_pt = fminf(height_pt, body_top - body_bottom - 10);
    return 0;
}

/* ------------------------------------------------------------ layout */

struct style_metrics {
    int font;
    float size, lead, before, after;
};

static struct style_metrics metrics(enum kopro_pdf_style s)
{
    switch (s) {
    case KOPRO_PDF_BOLD:
        return (struct style_metrics){1, 10, 13, 0, 3};
    case KOPRO_PDF_SMALL:
        return (struct style_metrics){0, 8, 10.5f, 0, 2};
    case KOPRO_PDF_H1:
        return (struct style_metrics){1, 16, 21, 0, 8};
    case KOPRO_PDF_H2:
        return (struct style_metrics){1, 13, 17, 8, 4};
    case KOPRO_PDF_H3:
        return (struct style_metrics){1, 11, 14.5f, 5, 3};
    case KOPRO_PDF_BODY:
    default:
        return (struct style_metrics){0, 10, 13, 0, 3};
    }
}

typedef void (*line_fn)(void *ctx, const char *s, size_t len);

/* Break `text` into lines no wider than max_w; returns the line count. */
static int wrap(struct font *f, float size, const char *text, float max_w, line_fn emit, void *ctx)
{
    const char *p = text, *line = text, *brk = NULL, *brk_after = NULL;
    float line_w = 0, w_after = 0;
    int lines = 0;
    while (*p != '\0') {
        const char *q = p;
        uint32_t cp = utf8_next(&q);
        float w;
        if (cp == '\n') {
            if (emit)
                emit(ctx, line, (size_t)(p - line));
            lines++;
            p = q;
            line = p, line_w = 0, brk = NULL;
            continue;
        }
        w = cp_width(f, cp, size);
        if (line_w + w > max_w && p > line) {
            if (brk != NULL) {
                const char *e = brk;
                while (e > line && e[-1] == ' ')
                    e--;
                if (emit)
                    emit(ctx, line, (size_t)(e - line));
                lines++;
                line = brk_after, line_w = w_after, brk = NULL;
            } else {
                if (emit)
                    emit(ctx, line, (size_t)(p - line));
                lines++;
                line = p, line_w = 0;
            }
            continue;
        }
        if (cp == ' ') {
            brk = p, brk_after = q, w_after = 0;
        } else {
            w_after += w;
        }
        line_w += w;
        p = q;
    }
    if (p > line || lines == 0) {
        if (emit)
            emit(ctx, line, (size_t)(p - line));
        lines++;
    }
    return lines;
}

struct draw_ctx {
    struct kopro_pdf *d;
    struct font *f;
    float size, lead, x0, w;
    enum kopro_pdf_align align;
    float y; /* top of the next line */
    int max_lines, drawn;
};

/*
 * One line of text as "BT /Fn size Tf x y Td (codes) Tj ET", written
 * straight into the page's content stream, without libharu re-encoding and
 * re-measuring every string through TextOut (a third of the CPU of a document
 * went there). The codes are the 2-byte big-endian CIDs of the Identity-H
 * font, which in libharu's UTF-8 mode are the code points, as a literal string
 * (half the bytes of libharu's hex string, so less to deflate);
 * HPDF_Page_GetLocalFontName() registers the font in the page's /Resources as
 * SetFontAndSize would, and the page's graphics mode is
 * left as EndText leaves it.
 */
static void draw_string(struct kopro_pdf *d, struct font *f, float size, float x, float y,
                        const char *s, size_t len)
{
    HPDF_PageAttr pa = (HPDF_PageAttr)d->page->attr;
    const char *name = HPDF_Page_GetLocalFontName(d->page, f->f);
    char stack[2048];
    size_t need = len * 4 + 3 * HPDF_LIMIT_MAX_NAME_LEN + 3 * HPDF_REAL_LEN + 64;
    char *buf = need <= sizeof(stack) ? stack : malloc(need);
    char *o, *end;
    const char *p = s, *e = s + len;
    if (buf == NULL) {
        on_hpdf_error(HPDF_FAILD_TO_ALLOC_MEM, 0, d);
        return;
    }
    if (name == NULL) {
        on_hpdf_error(HPDF_PAGE_INVALID_FONT, 0, d);
        goto done;
    }
    end = buf + need;
    o = buf;
    memcpy(o, "BT\012/", 4);
    o += 4;
    for (const char *n = name; *n != '\0' && o < end - 1; n++)
        *o++ = *n;
    *o++ = ' ';
    o = HPDF_FToA(o, size, end);
    memcpy(o, " Tf\012", 4);
    o += 4;
    o = HPDF_FToA(o, x, end);
    *o++ = ' ';
    o = HPDF_FToA(o, y, end);
    memcpy(o, " Td\012(", 5);
    o += 5;
    while (p < e) {
        uint32_t cp = utf8_next(&p);
        unsigned char by[2];
        if (cp > 0xFFFF)
            cp = 0xFFFD;
        f->used[cp >> 3] |= (uint8_t)(1u << (cp & 7));
        by[0] = (unsigned char)(cp >> 8);
        by[1] = (unsigned char)cp;
        for (int k = 0; k < 2; k++) {
            /* ISO 32000-1 7.3.4.2: escape the delimiters and the end-of-line
             * bytes, which a reader would otherwise turn into \n */
            if (by[k] == '(' || by[k] == ')' || by[k] == '\\') {
                *o++ = '\\';
                *o++ = (char)by[k];
            } else if (by[k] == '\n') {
                *o++ = '\\';
                *o++ = 'n';
            } else if (by[k] == '\r') {
                *o++ = '\\';
                *o++ = 'r';
            } else {
                *o++ = (char)by[k];
            }
        }
    }
    memcpy(o, ") Tj\012ET\012", 8);
    o += 8;
    if (HPDF_Stream_Write(pa->stream, (const HPDF_BYTE *)buf, (HPDF_UINT)(o - buf)) != HPDF_OK)
        on_hpdf_error(HPDF_FAILD_TO_ALLOC_MEM, 0, d);
done:
    if (buf != stack)
        free(buf);
}

static void draw_line_cb(void *vctx, const char *s, size_t len)
{
    struct draw_ctx *c = vctx;
    float lw, x;
    if (c->max_lines > 0 && c->drawn >= c->max_lines)
        return;
    c->drawn++;
    lw = text_width(c->f, s, len, c->size);
    x = c->x0;
    if (c->align == KOPRO_PDF_RIGHT)
        x = c->x0 + c->w - lw;
    else if (c->align == KOPRO_PDF_CENTER)
        x = c->x0 + (c->w - lw) / 2;
    if (x < c->x0)
        x = c->x0;
    if (len > 0)
        draw_string(c->d, c->f, c->size, x, c->y - c->size * 0.95f - (c->lead - c->size * 1.2f) / 2,
                    s, len);
    c->y -= c->lead;
}

static int grow_pages(struct kopro_pdf *d)
{
    if (d->npages == d->pages_alloc) {
        size_t na = d->pages_alloc ? d->pages_alloc * 2 : 16;
        HPDF_Page *np = realloc(d->pages, na * sizeof(*np));
        if (np == NULL)
            return kopro_error_set(KOPRO_ERROR, "out of memory adding a page");
        d->pages = np;
        d->pages_alloc = na;
    }
    return 0;
}

/*
 * The watermark's font is the bold font file the document embeds, opened by
 * FreeType and handed to cairo (cairo-ft), not "DejaVu Sans Bold" looked up
 * through fontconfig: initialising fontconfig (reading its XML configuration
 * and cache) cost ~7 ms of CPU in every kopro-pdf process that made a draft,
 * and the outline now comes from the same file whatever the system's font
 * configuration. Faces are made once per process and font file, shared by
 * threads (cairo locks a FreeType face while it uses it) and kept to the end
 * of the process, since cairo's font caches may still refer to them. NULL
 * (no face) falls back to cairo's toy font API.
 */
#define WM_FACES_MAX 4

struct wm_face {
    char *path;
    struct stat st;
    cairo_font_face_t *ff;
};

static pthread_mutex_t wm_mu = PTHREAD_MUTEX_INITIALIZER;
static FT_Library wm_ft;
static struct wm_face wm_faces[WM_FACES_MAX];
static size_t wm_nfaces;

static cairo_font_face_t *wm_font_face(const struct font_src *src)
{
    cairo_font_face_t *ff = NULL;
    FT_Face face = NULL;
    pthread_mutex_lock(&wm_mu);
    for (size_t i = 0; i < wm_nfaces; i++) {
        if (strcmp(wm_faces[i].path, src->path) == 0 && same_file(&wm_faces[i].st, &src->st)) {
            ff = wm_faces[i].ff;
            goto done;
        }
    }
    if (wm_nfaces == WM_FACES_MAX || (wm_ft == NULL && FT_Init_FreeType(&wm_ft) != 0))
        goto done;
    if (FT_New_Face(wm_ft, src->path, 0, &face) != 0)
        goto done;
    ff = cairo_ft_font_face_create_for_ft_face(face, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP);
    wm_faces[wm_nfaces].path = strdup(src->path);
    if (cairo_font_face_status(ff) != CAIRO_STATUS_SUCCESS || wm_faces[wm_nfaces].path == NULL) {
        free(wm_faces[wm_nfaces].path);
        wm_faces[wm_nfaces].path = NULL;
        cairo_font_face_destroy(ff);
        FT_Done_Face(face);
        ff = NULL;
        goto done;
    }
    wm_faces[wm_nfaces].st = src->st;
    wm_faces[wm_nfaces].ff = ff;
    wm_nfaces++;
done:
    pthread_mutex_unlock(&wm_mu);
    return ff;
}

/*
 * The draft watermark is the outline of its text, computed once by cairo
 * (cairo_text_path with the embedded bold font, see wm_font_face()) and drawn
 * as a filled vector path under the text of every page. Being a path and not
 * text, it stays out of the text layer: pdftotext, screen readers and
 * copy-paste give back the document's words only, and it costs a few KB.
 */
static int make_watermark(struct kopro_pdf *d)
{
    double w = (body_x1 - body_x0), h = (body_top - body_bottom);
    double diag = sqrt(w * w + h * h), theta = atan2(h, w);
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    cairo_text_extents_t ext;
    cairo_path_t *path = NULL;
    double size;
    int rc = 0;

    surf = cairo_recording_surface_create(CAIRO_CONTENT_ALPHA, NULL); /* unbounded: no clipping */
    cr = cairo_create(surf);
    {
        cairo_font_face_t *ff = wm_font_face(&d->ctx->src[1]);
        if (ff != NULL)
            cairo_set_font_face(cr, ff);
        else
            cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                                   CAIRO_FONT_WEIGHT_BOLD);
    }
    cairo_set_font_size(cr, 100);
    cairo_text_extents(cr, d->watermark, &ext);
    size = ext.x_advance > 0 ? 100 * 0.8 * diag / ext.x_advance : 60;
    if (size > 60)
        size = 60;
    /* cairo's y axis points down: rotate by -theta to rise to the right */
    cairo_translate(cr, w / 2, h / 2);
    cairo_rotate(cr, -theta);
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, d->watermark, &ext);
    cairo_move_to(cr, -ext.x_advance / 2, -(ext.y_bearing + ext.height / 2));
    cairo_text_path(cr, d->watermark);
    cairo_identity_matrix(cr); /* copy the path in device space, i.e. rotated */
    path = cairo_copy_path(cr);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS || path == NULL ||
        path->status != CAIRO_STATUS_SUCCESS) {
        rc = kopro_error_set(KOPRO_ERROR, "cairo could not draw the watermark: %s",
                             cairo_status_to_string(cairo_status(cr)));
        goto done;
    }
    d->wm_path = path;
    path = NULL;
done:
    if (path != NULL)
        cairo_path_destroy(path);
    if (cr != NULL)
        cairo_destroy(cr);
    if (surf != NULL)
        cairo_surface_destroy(surf);
    return rc;
}

static void draw_watermark(struct kopro_pdf *d)
{
    const cairo_path_t *p = d->wm_path;
    /* cairo coordinates: origin at the body's top-left corner, y down */
#define WX(x) ((float)(body_x0 + (x)))
#define WY(y) ((float)(body_top - (y)))
    HPDF_Page_GSave(d->page);
    HPDF_Page_SetGrayFill(d->page, 0.87f);
    for (int i = 0; i < p->num_data; i += p->data[i].header.length) {
        const cairo_path_data_t *e = &p->data[i];
        switch (e->header.type) {
        case CAIRO_PATH_MOVE_TO:
            HPDF_Page_MoveTo(d->page, WX(e[1].point.x), WY(e[1].point.y));
            break;
        case CAIRO_PATH_LINE_TO:
            HPDF_Page_LineTo(d->page, WX(e[1].point.x), WY(e[1].point.y));
            break;
        case CAIRO_PATH_CURVE_TO:
            HPDF_Page_CurveTo(d->page, WX(e[1].point.x), WY(e[1].point.y), WX(e[2].point.x),
                              WY(e[2].point.y), WX(e[3].point.x), WY(e[3].point.y));
            break;
        case CAIRO_PATH_CLOSE_PATH:
            HPDF_Page_ClosePath(d->page);
            break;
        }
    }
    HPDF_Page_Fill(d->page);
    HPDF_Page_GRestore(d->page);
#undef WX
#undef WY
}

static int new_page(struct kopro_pdf *d)
{
    int rc = grow_pages(d);
    if (rc != 0)
        return rc;
    d->page = HPDF_AddPage(d->pdf);
    if (d->page == NULL || d->herr != 0)
        return hpdf_fail(d, "adding a page");
    HPDF_Page_SetWidth(d->page, KOPRO_PDF_PAGE_W_PT);
    HPDF_Page_SetHeight(d->page, KOPRO_PDF_PAGE_H_PT);
    d->pages[d->npages++] = d->page;
    if (d->wm_path != NULL) {
        /* the watermark is one content stream shared by every page */
        if (d->wm_stream == NULL) {
            HPDF_Page_New_Content_Stream(d->page, &d->wm_stream);
            draw_watermark(d);
            HPDF_Page_New_Content_Stream(d->page, NULL);
        } else {
            HPDF_Page_Insert_Shared_Content_Stream(d->page, d->wm_stream);
        }
    }
    d->y = body_top;
    return d->herr != 0 ? hpdf_fail(d, "starting a page") : 0;
}

static float text_height(struct kopro_pdf *d, const struct blk *b)
{
    struct style_metrics m = metrics(b->style);
    int lines = wrap(&d->fonts[m.font], m.size, b->text, body_x1 - body_x0, NULL, NULL);
    return m.before + (float)lines * m.lead + m.after;
}

static int cell_lines(struct kopro_pdf *d, const struct table *t, int col, const char *text, int bold)
{
    return wrap(&d->fonts[bold ? 1 : 0], TABLE_SIZE_PT, text, t->w_pt[col] - 2 * CELL_PAD_PT, NULL,
                NULL);
}

static float max_row_h(void)
{
    return (body_top - body_bottom) * 0.45f;
}

static float row_height(struct kopro_pdf *d, const struct table *t, char *const *cells, int bold)
{
    int lines = 1;
    float h;
    for (int i = 0; i < t->ncols; i++) {
        int l = cell_lines(d, t, i, cells[i], bold);
        if (l > lines)
            lines = l;
    }
    h = (float)lines * TABLE_LEAD_PT + 2 * CELL_PAD_PT;
    return h > max_row_h() ? max_row_h() : h;
}

static float sig_label_w(void)
{
    return (body_x1 - body_x0) * 0.55f;
}

static float sig_height(struct kopro_pdf *d, const struct blk *b)
{
    int lines = wrap(&d->fonts[0], 10, b->text, sig_label_w(), NULL, NULL);
    float h = (float)lines * 13 + 8;
    return h < SIG_H_PT ? SIG_H_PT : h;
}

static float blk_height_of(struct kopro_pdf *d, const struct blk *b)
{
    switch (b->type) {
    case B_TEXT:
        return text_height(d, b);
    case B_SPACE:
        return b->h_pt;
    case B_ROW:
        return row_height(d, b->table, b->cells, b->bold);
    case B_TABLE_BEGIN:
        return b->table->has_hdr ? row_height(d, b->table, b->table->hdr, 1) : 0;
    case B_TABLE_END:
        return 6;
    case B_SIG:
        return sig_height(d, b);
    case B_PNG:
        return b->h_pt + 6;
    default:
        return 0;
    }
}

/* A block's height, measured once: layout asks for it up to three times
 * (keep-with-next, keep groups, the block itself) and wrapping is the cost. */
static float blk_height(struct kopro_pdf *d, struct blk *b)
{
    if (!b->h_cached) {
        b->h_cache = blk_height_of(d, b);
        b->h_cached = 1;
    }
    return b->h_cache;
}

/* Draw a table row of height h (blk_height() of its block). */
static void draw_row(struct kopro_pdf *d, const struct table *t, char *const *cells, int bold,
                     int header, float h)
{
    float x = body_x0;
    int max_lines = (int)((h - 2 * CELL_PAD_PT) / TABLE_LEAD_PT);
    if (header) {
        HPDF_Page_GSave(d->page);
        HPDF_Page_SetRGBFill(d->page, 0.90f, 0.90f, 0.90f);
        HPDF_Page_Rectangle(d->page, body_x0, d->y - h, body_x1 - body_x0, h);
        HPDF_Page_Fill(d->page);
        HPDF_Page_GRestore(d->page);
    }
    for (int i = 0; i < t->ncols; i++) {
        struct draw_ctx c = {d, &d->fonts[bold ? 1 : 0], TABLE_SIZE_PT, TABLE_LEAD_PT,
                             x + CELL_PAD_PT, t->w_pt[i] - 2 * CELL_PAD_PT, t->align[i],
                             d->y - CELL_PAD_PT, max_lines, 0};
        wrap(c.f, TABLE_SIZE_PT, cells[i], c.w, draw_line_cb, &c);
        x += t->w_pt[i];
    }
    HPDF_Page_GSave(d->page);
    HPDF_Page_SetLineWidth(d->page, header ? 0.8f : 0.3f);
    HPDF_Page_SetRGBStroke(d->page, 0.5f, 0.5f, 0.5f);
    HPDF_Page_MoveTo(d->page, body_x0, d->y - h);
    HPDF_Page_LineTo(d->page, body_x1, d->y - h);
    HPDF_Page_Stroke(d->page);
    HPDF_Page_GRestore(d->page);
    d->y -= h;
}

static int ensure(struct kopro_pdf *d, float h)
{
    if (d->y - h < body_bottom && d->y < body_top)
        return new_page(d);
    return 0;
}

struct lines_ctx {
    const char **s;
    size_t *len;
    int n, cap;
};

static void collect_cb(void *vctx, const char *s, size_t len)
{
    struct lines_ctx *c = vctx;
    if (c->n < c->cap) {
        c->s[c->n] = s;
        c->len[c->n] = len;
    }
    c->n++;
}

/* A paragraph: lines flow across pages one at a time. */
static int draw_text_flow(struct kopro_pdf *d, const struct blk *b)
{
    struct style_metrics m = metrics(b->style);
    struct font *f = &d->fonts[m.font];
    float w = body_x1 - body_x0;
    int lines = wrap(f, m.size, b->text, w, NULL, NULL);
    struct lines_ctx lc = {NULL, NULL, 0, lines};
    int rc = 0;
    lc.s = calloc((size_t)lines, sizeof(*lc.s));
    lc.len = calloc((size_t)lines, sizeof(*lc.len));
    if (lc.s == NULL || lc.len == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory laying out text");
        goto done;
    }
    wrap(f, m.size, b->text, w, collect_cb, &lc);
    if (d->y < body_top)
        d->y -= m.before;
    for (int i = 0; i < lines && rc == 0; i++) {
        struct draw_ctx c = {d, f, m.size, m.lead, body_x0, w, b->align, 0, 0, 0};
        rc = ensure(d, m.lead);
        if (rc != 0)
            break;
        c.y = d->y;
        draw_line_cb(&c, lc.s[i], lc.len[i]);
        d->y -= m.lead;
    }
    d->y -= m.after;
done:
    free(lc.s);
    free(lc.len);
    return rc;
}

static int draw_sig(struct kopro_pdf *d, const struct blk *b)
{
    float h = sig_height(d, b);
    struct draw_ctx c = {d, &d->fonts[0], 10, 13, body_x0, sig_label_w(), KOPRO_PDF_LEFT,
                         0, 0, 0};
    int rc = ensure(d, h);
    if (rc != 0)
        return rc;
    c.y = d->y - 4;
    wrap(c.f, 10, b->text, c.w, draw_line_cb, &c);
    /* the rule sits on the baseline of the label's last line */
    HPDF_Page_GSave(d->page);
    HPDF_Page_SetLineWidth(d->page, 0.5f);
    HPDF_Page_SetDash(d->page, NULL, 0, 0);
    HPDF_Page_MoveTo(d->page, body_x0 + sig_label_w() + 15, c.y + 13 - 10.5f);
    HPDF_Page_LineTo(d->page, body_x1, c.y + 13 - 10.5f);
    HPDF_Page_Stroke(d->page);
    HPDF_Page_GRestore(d->page);
    d->y -= h;
    return 0;
}

static int draw_png(struct kopro_pdf *d, const struct blk *b)
{
    HPDF_Image img;
    int rc = ensure(d, b->h_pt + 6);
    if (rc != 0)
        return rc;
    img = HPDF_LoadPngImageFromMem(d->pdf, b->png, (HPDF_UINT)b->png_len);
    if (img == NULL || d->herr != 0) {
        d->herr = 0;
        return kopro_error_set(KOPRO_EINVAL, "an image of %zu bytes is not a PNG libharu can read",
                               b->png_len);
    }
    HPDF_Page_DrawImage(d->page, img, body_x0 + (body_x1 - body_x0 - b->w_pt) / 2, d->y - 3 - b->h_pt,
                        b->w_pt, b->h_pt);
    d->y -= b->h_pt + 6;
    return 0;
}

static int layout(struct kopro_pdf *d)
{
    const struct table *tbl = NULL;
    struct blk *tblk = NULL; /* the open table's B_TABLE_BEGIN */
    int rc = 0;
    if (!d->final && d->watermark != NULL && d->watermark[0] != '\0')
        rc = make_watermark(d);
    if (rc == 0)
        rc = new_page(d);
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        struct blk *b = &d->b[i];
        switch (b->type) {
        case B_TEXT: {
            struct style_metrics m = metrics(b->style);
            if ((b->style == KOPRO_PDF_H2 || b->style == KOPRO_PDF_H3) && d->y < body_top) {
                /* keep a heading with what follows it (or at least three lines) */
                float need = text_height(d, b);
                float next = i + 1 < d->n ? blk_height(d, &d->b[i + 1]) : 0;
                if (i + 1 < d->n && d->b[i + 1].type == B_TABLE_BEGIN && i + 2 < d->n &&
                    d->b[i + 2].type == B_ROW)
                    next += blk_height(d, &d->b[i + 2]);
                if (next > 3 * 13 + 10 || next <= 0)
                    next = 3 * 13;
                if (d->y - need - next < body_bottom)
                    rc = new_page(d);
            }
            (void)m;
            if (rc == 0)
                rc = draw_text_flow(d, b);
            break;
        }
        case B_SPACE:
            if (d->y < body_top)
                d->y = d->y - b->h_pt < body_bottom ? body_bottom : d->y - b->h_pt;
            break;
        case B_BREAK:
            if (d->y < body_top)
                rc = new_page(d);
            break;
        case B_TABLE_BEGIN: {
            float hh = blk_height(d, b);
            float first = i + 1 < d->n && d->b[i + 1].type == B_ROW ? blk_height(d, &d->b[i + 1]) : 0;
            tbl = b->table;
            tblk = b;
            rc = ensure(d, hh + first);
            if (rc == 0 && tbl->has_hdr)
                draw_row(d, tbl, tbl->hdr, 1, 1, hh);
            break;
        }
        case B_ROW: {
            float h = blk_height(d, b);
            if (d->y - h < body_bottom) {
                rc = new_page(d);
                if (rc == 0 && tbl != NULL && tbl->has_hdr)
                    draw_row(d, tbl, tbl->hdr, 1, 1, blk_height(d, tblk));
            }
            if (rc == 0)
                draw_row(d, b->table, b->cells, b->bold, 0, h);
            break;
        }
        case B_TABLE_END:
            tbl = NULL;
            tblk = NULL;
            d->y -= 6;
            if (d->y < body_bottom)
                d->y = body_bottom;
            break;
        case B_KEEP_BEGIN: {
            float h = 0;
            for (size_t j = i + 1; j < d->n && d->b[j].type != B_KEEP_END; j++)
                h += blk_height(d, &d->b[j]);
            if (d->y < body_top && (d->y - h < body_bottom))
                rc = new_page(d);
            break;
        }
        case B_KEEP_END:
            break;
        case B_SIG:
            rc = draw_sig(d, b);
            break;
        case B_PNG:
            rc = draw_png(d, b);
            break;
        }
        if (rc == 0 && d->herr != 0)
            rc = hpdf_fail(d, "drawing");
    }
    return rc;
}

static int draw_footers(struct kopro_pdf *d)
{
    struct font *f = &d->fonts[0];
    char pages[32], page[32];
    int rc = 0;
    snprintf(pages, sizeof(pages), "%zu", d->npages);
    for (size_t i = 0; i < d->npages && rc == 0; i++) {
        struct kopro_buf label;
        const char *kv[] = {"page", page, "pages", pages, NULL};
        float lw;
        kopro_buf_init(&label, 1024);
        snprintf(page, sizeof(page), "%zu", i + 1);
        rc = kopro_i18n_subst(&label, d->page_label, kv);
        if (rc == 0 && label.data == NULL)
            rc = kopro_buf_add(&label, "", 0);
        if (rc != 0) {
            kopro_buf_free(&label);
            return kopro_error_wrap(rc, "page label");
        }
        d->page = d->pages[i];
        lw = text_width(f, label.data, label.len, FOOTER_SIZE_PT);
        HPDF_Page_GSave(d->page);
        HPDF_Page_SetLineWidth(d->page, 0.3f);
        HPDF_Page_MoveTo(d->page, body_x0, body_bottom - 3);
        HPDF_Page_LineTo(d->page, body_x1, body_bottom - 3);
        HPDF_Page_Stroke(d->page);
        HPDF_Page_GRestore(d->page);
        draw_string(d, f, FOOTER_SIZE_PT, body_x1 - lw, body_bottom - 3 - FOOTER_LEAD_PT, label.data,
                    label.len);
        if (d->footer != NULL) {
            struct draw_ctx c = {d, f, FOOTER_SIZE_PT, FOOTER_LEAD_PT, body_x0,
                                 body_x1 - body_x0 - lw - 12, KOPRO_PDF_LEFT,
                                 body_bottom - 4, 2, 0};
            wrap(f, FOOTER_SIZE_PT, d->footer, c.w, draw_line_cb, &c);
        }
        kopro_buf_free(&label);
        if (d->herr != 0)
            rc = hpdf_fail(d, "drawing the footer");
    }
    return rc;
}

/*
 * Replace libharu's ToUnicode stream (a `begincidrange` CMap, invalid in a
 * ToUnicode map) by one `bfchar` entry per character drawn. In UTF-8 mode
 * libharu's character codes are the Unicode code points themselves, so each
 * entry maps a code to itself. ISO 32000-1 §9.10.3; Adobe TN 5411.
 */
static int fix_tounicode(struct kopro_pdf *d, struct font *f)
{
    HPDF_Dict tu = HPDF_Dict_GetItem(f->f, "ToUnicode", HPDF_OCLASS_DICT);
    struct kopro_buf b;
    uint32_t list[256];
    size_t nlist = 0;
    int rc = 0;
    if (tu == NULL || tu->stream == NULL) {
        d->herr = 0;
        return 0; /* no ToUnicode: nothing to fix */
    }
    kopro_buf_init(&b, 8u * 1024u * 1024u);
    rc = kopro_buf_adds(&b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    for (uint32_t cp = 0; cp <= 0xFFFF && rc == 0; cp++) {
        if (f->used[cp >> 3] == 0 && (cp & 7) == 0 && cp + 7 < 0xFFFF) {
            cp += 7; /* an empty byte of the bitmap: 8 unused code points */
            continue;
        }
        if (f->used[cp >> 3] & (1u << (cp & 7)))
            list[nlist++] = cp;
        if (nlist == 100 || (cp == 0xFFFF && nlist > 0)) {
            rc = kopro_buf_addf(&b, "%zu beginbfchar\n", nlist);
            for (size_t k = 0; k < nlist && rc == 0; k++)
                rc = kopro_buf_addf(&b, "<%04X> <%04X>\n", (unsigned)list[k], (unsigned)list[k]);
            if (rc == 0)
                rc = kopro_buf_adds(&b, "endbfchar\n");
            nlist = 0;
        }
    }
    if (rc == 0)
        rc = kopro_buf_adds(&b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    if (rc == 0) {
        HPDF_MemStream_FreeData(tu->stream);
        HPDF_Dict_RemoveElement(tu, "CMapName");
        HPDF_Dict_RemoveElement(tu, "CIDSystemInfo");
        HPDF_Dict_RemoveElement(tu, "Type");
        HPDF_Dict_RemoveElement(tu, "WMode");
        d->herr = 0; /* RemoveElement reports absent keys; not a failure */
        if (HPDF_Stream_Write(tu->stream, (const HPDF_BYTE *)b.data, (HPDF_UINT)b.len) != HPDF_OK ||
            d->herr != 0)
            rc = hpdf_fail(d, "writing the ToUnicode map");
    }
    kopro_buf_free(&b);
    return rc;
}

/*
 * Replace what libharu 2.3.0 writes for a UTF-8 TrueType font by data sized
 * to the characters drawn: the /W array (libharu lists every code point of
 * the BMP the font covers, ~24 KB per face), the CIDToGIDMap (128 KB before
 * compression) and the font program (subset by kopro__ttf_subset; libharu
 * would embed ~150 KB per face). Setting fontdef->descriptor before saving
 * makes libharu's before-write hook reuse our descriptor instead of writing
 * its own FontFile2.
 */
static int fix_font(struct kopro_pdf *d, struct font *f)
{
    HPDF_FontAttr attr = (HPDF_FontAttr)f->f->attr;
    HPDF_TTFontDefAttr da = (HPDF_TTFontDefAttr)f->def->attr;
    HPDF_Doc pdf = d->pdf;
    HPDF_Dict desc = NULL, data = NULL;
    HPDF_Array w = NULL, run = NULL;
    uint8_t *keep = NULL;
    uint16_t *old_gid = NULL, *new_gid = NULL;
    unsigned char *prog = NULL, *map = NULL;
    size_t prog_len = 0;
    uint32_t max_cp = 0, prev = 0;
    int rc = 0;

    if (f->def->descriptor != NULL || !da->embedding)
        return kopro_error_set(KOPRO_ERROR, "font %s is not embeddable as expected", da->base_font);
    keep = calloc(da->num_glyphs ? da->num_glyphs : 1, 1);
    new_gid = calloc(da->num_glyphs ? da->num_glyphs : 1, sizeof(*new_gid));
    old_gid = calloc(65536, sizeof(*old_gid));
    map = calloc(65536, 2);
    if (keep == NULL || new_gid == NULL || old_gid == NULL || map == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory subsetting a font");
        goto done;
    }
    w = HPDF_Array_New(pdf->mmgr);
    if (w == NULL) {
        rc = hpdf_fail(d, "building a width array");
        goto done;
    }
    for (uint32_t cp = 0; cp <= 0xFFFF; cp++) {
        HPDF_UINT16 gid;
        if (f->used[cp >> 3] == 0) {
            cp |= 7; /* skip the other 7 code points of an empty byte */
            continue;
        }
        if (!(f->used[cp >> 3] & (1u << (cp & 7))))
            continue;
        gid = HPDF_TTFontDef_GetGlyphid(f->def, (HPDF_UINT16)cp);
        if (gid >= da->num_glyphs)
            gid = 0;
        keep[gid] = 1;
        old_gid[cp] = gid;
        max_cp = cp;
        if (run == NULL || cp != prev + 1) {
            run = HPDF_Array_New(pdf->mmgr);
            if (run == NULL || HPDF_Array_AddNumber(w, (HPDF_INT32)cp) != HPDF_OK ||
                HPDF_Array_Add(w, run) != HPDF_OK) {
                rc = hpdf_fail(d, "building a width array");
                goto done;
            }
        }
        HPDF_Array_AddNumber(run, HPDF_TTFontDef_GetGidWidth(f->def, gid));
        prev = cp;
    }
    HPDF_Dict_RemoveElement(attr->descendant_font, "W");
    d->herr = 0;
    if (HPDF_Dict_Add(attr->descendant_font, "W", w) != HPDF_OK) {
        w = NULL;
        rc = hpdf_fail(d, "replacing the width array");
        goto done;
    }
    w = NULL; /* owned by the font now */
    rc = kopro_pdf__ttf_subset(&prog, &prog_len, new_gid, (const unsigned char *)f->ttf,
                               f->ttf_len, keep, da->num_glyphs);
    if (rc != 0)
        goto done;
    for (uint32_t cp = 0; cp <= max_cp; cp++) {
        uint16_t g = old_gid[cp] ? new_gid[old_gid[cp]] : 0;
        map[cp * 2] = (unsigned char)(g >> 8);
        map[cp * 2 + 1] = (unsigned char)g;
    }
    if (attr->map_stream != NULL) {
        HPDF_MemStream_FreeData(attr->map_stream->stream);
        if (HPDF_Stream_Write(attr->map_stream->stream, map, (max_cp + 1) * 2) != HPDF_OK) {
            rc = hpdf_fail(d, "writing the CIDToGIDMap");
            goto done;
        }
    }
    desc = HPDF_Dict_New(pdf->mmgr);
    if (desc == NULL || HPDF_Xref_Add(pdf->xref, desc) != HPDF_OK) {
        rc = hpdf_fail(d, "creating a font descriptor");
        goto done;
    }
    data = HPDF_DictStream_New(pdf->mmgr, pdf->xref);
    if (data == NULL || HPDF_Stream_Write(data->stream, prog, (HPDF_UINT)prog_len) != HPDF_OK) {
        rc = hpdf_fail(d, "embedding the font program");
        goto done;
    }
    data->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
    HPDF_Dict_AddNumber(data, "Length1", (HPDF_UINT32)prog_len);
    HPDF_Dict_Add(desc, "FontFile2", data);
    HPDF_Dict_AddName(desc, "Type", "FontDescriptor");
    HPDF_Dict_AddNumber(desc, "Ascent", f->def->ascent);
    HPDF_Dict_AddNumber(desc, "Descent", f->def->descent);
    HPDF_Dict_AddNumber(desc, "CapHeight", f->def->cap_height);
    HPDF_Dict_AddNumber(desc, "Flags", f->def->flags);
    HPDF_Dict_Add(desc, "FontBBox", HPDF_Box_Array_New(pdf->mmgr, f->def->font_bbox));
    HPDF_Dict_AddName(desc, "FontName", da->base_font);
    HPDF_Dict_AddNumber(desc, "ItalicAngle", f->def->italic_angle);
    HPDF_Dict_AddNumber(desc, "StemV", f->def->stemv);
    HPDF_Dict_AddNumber(desc, "XHeight", f->def->x_height);
    if (d->herr != 0) {
        rc = hpdf_fail(d, "filling a font descriptor");
        goto done;
    }
    f->def->descriptor = desc;
done:
    free(keep);
    free(new_gid);
    free(old_gid);
    free(map);
    free(prog);
    return rc;
}

/*
 * Streams are deflated by kopro with libdeflate at PDF_DEFLATE_LEVEL, not by
 * libharu: libharu 2.3.0 always runs zlib's deflate at
 * Z_DEFAULT_COMPRESSION, whose lazy matching spent a third of a document's
 * CPU; zlib at level 1 or 2 still took a third of what remained, and
 * libdeflate level 1 compresses the same streams ~2.4 times faster and
 * slightly smaller (zlib format, RFC 1950/1951). Every stream object libharu
 * marked for FlateDecode (page contents, the watermark, font programs,
 * CIDToGIDMap, ToUnicode, images) is compressed here once, stored as it is to
 * be written, and its /Filter entry written by flate_write_filter() (libharu
 * drops /Filter from a dictionary whose filter flag is off). libdeflate's
 * output depends only on its input, level and version, so the bytes stay
 * deterministic.
 */
#ifndef PDF_DEFLATE_LEVEL
#define PDF_DEFLATE_LEVEL 1
#endif

static HPDF_STATUS flate_write_filter(HPDF_Dict dict, HPDF_Stream stream)
{
    (void)dict;
    return HPDF_Stream_WriteStr(stream, "/Filter /FlateDecode\012");
}

struct zbuf {
    struct libdeflate_compressor *c;
    unsigned char *in, *out;
    size_t in_cap, out_cap, in_used, out_used; /* used: high-water marks, wiped at the end */
};

static int zbuf_reserve(unsigned char **p, size_t *cap, size_t need, size_t *used)
{
    unsigned char *n;
    if (need <= *cap)
        return 0;
    n = malloc(need);
    if (n == NULL)
        return -1;
    if (*p != NULL) {
        explicit_bzero(*p, *used);
        free(*p);
    }
    *p = n;
    *cap = need;
    *used = 0;
    return 0;
}

static int deflate_stream(struct kopro_pdf *d, struct zbuf *z, HPDF_Dict dict)
{
    HPDF_Stream st = dict->stream;
    HPDF_UINT nbuf = HPDF_MemStream_GetBufCount(st);
    size_t in_len = HPDF_Stream_Size(st), pos = 0, bound, n;
    bound = libdeflate_zlib_compress_bound(z->c, in_len);
    if (zbuf_reserve(&z->in, &z->in_cap, in_len ? in_len : 1, &z->in_used) != 0 ||
        zbuf_reserve(&z->out, &z->out_cap, bound, &z->out_used) != 0)
        return kopro_error_set(KOPRO_ERROR, "out of memory compressing a PDF stream of %zu bytes",
                               in_len);
    for (HPDF_UINT i = 0; i < nbuf; i++) {
        HPDF_UINT len = 0;
        HPDF_BYTE *p = HPDF_MemStream_GetBufPtr(st, i, &len);
        if (p == NULL || len == 0)
            continue;
        if (len > in_len - pos)
            return kopro_error_set(KOPRO_ERROR, "a PDF stream holds more than its %zu bytes", in_len);
        memcpy(z->in + pos, p, len);
        pos += len;
    }
    if (pos > z->in_used)
        z->in_used = pos;
    n = libdeflate_zlib_compress(z->c, z->in, pos, z->out, z->out_cap);
    if (n == 0)
        return kopro_error_set(KOPRO_ERROR, "libdeflate could not compress a PDF stream of %zu bytes",
                               pos);
    if (n > z->out_used)
        z->out_used = n;
    HPDF_MemStream_FreeData(st);
    if (HPDF_Stream_Write(st, z->out, (HPDF_UINT)n) != HPDF_OK)
        return hpdf_fail(d, "storing a compressed stream");
    dict->filter = HPDF_STREAM_FILTER_NONE;
    dict->write_fn = flate_write_filter;
    return 0;
}

static int deflate_streams(struct kopro_pdf *d)
{
    HPDF_List entries = d->pdf->xref->entries;
    struct zbuf zb;
    struct zbuf *z = &zb;
    int rc = 0;
    memset(&zb, 0, sizeof(zb));
    if (d->ctx->zc == NULL)
        d->ctx->zc = libdeflate_alloc_compressor(PDF_DEFLATE_LEVEL);
    zb.c = d->ctx->zc;
    if (zb.c == NULL)
        return kopro_error_set(KOPRO_ERROR, "libdeflate could not start (out of memory)");
    /*
     * A font's ToUnicode and CIDToGIDMap streams get their filter only while
     * the document is written (libharu's font before-write hooks copy the
     * font dictionary's flag into them): clear the fonts' flags and deflate
     * those two streams here like the others.
     */
    for (int i = 0; i < 2 && rc == 0; i++) {
        HPDF_Font font = d->fonts[i].f;
        HPDF_FontAttr fa = (HPDF_FontAttr)font->attr;
        HPDF_Dict tu = HPDF_Dict_GetItem(font, "ToUnicode", HPDF_OCLASS_DICT);
        d->herr = 0; /* GetItem reports an absent key; not a failure */
        font->filter = HPDF_STREAM_FILTER_NONE;
        if (fa->descendant_font != NULL)
            fa->descendant_font->filter = HPDF_STREAM_FILTER_NONE;
        if (tu != NULL && tu->stream != NULL && tu->write_fn == NULL)
            rc = deflate_stream(d, z, tu);
        if (rc == 0 && fa->map_stream != NULL && fa->map_stream->stream != NULL &&
            fa->map_stream->write_fn == NULL)
            rc = deflate_stream(d, z, fa->map_stream);
    }
    for (HPDF_UINT i = 0; i < entries->count && rc == 0; i++) {
        HPDF_XrefEntry e = HPDF_List_ItemAt(entries, i);
        HPDF_Obj_Header *h = e != NULL ? e->obj : NULL;
        HPDF_Dict dict;
        if (h == NULL || (h->obj_class & HPDF_OCLASS_ANY) != HPDF_OCLASS_DICT)
            continue;
        dict = (HPDF_Dict)h;
        if (dict->stream == NULL || dict->filter != HPDF_STREAM_FILTER_FLATE_DECODE ||
            dict->write_fn != NULL || dict->stream->type != HPDF_STREAM_MEMORY)
            continue;
        rc = deflate_stream(d, z, dict);
    }
    /* the streams hold names of owners: wipe the scratch copies */
    if (zb.in != NULL)
        explicit_bzero(zb.in, zb.in_used);
    if (zb.out != NULL)
        explicit_bzero(zb.out, zb.out_used);
    free(zb.in);
    free(zb.out);
    return rc;
}

static void set_date(struct kopro_pdf *d, HPDF_InfoType which)
{
    struct tm tm;
    HPDF_Date date;
    time_t t = d->created_utc;
    if (gmtime_r(&t, &tm) == NULL)
        return;
    memset(&date, 0, sizeof(date));
    date.year = tm.tm_year + 1900;
    date.month = tm.tm_mon + 1;
    date.day = tm.tm_mday;
    date.hour = tm.tm_hour;
    date.minutes = tm.tm_min;
    date.seconds = tm.tm_sec;
    date.ind = 'Z';
    HPDF_SetInfoDateAttr(d->pdf, which, date);
}

int kopro_pdf_render(unsigned char **out_pdf, size_t *out_bytes, int *out_pages,
                     struct kopro_pdf *d)
{
    unsigned char *bytes = NULL;
    HPDF_UINT32 size;
    int rc;

    *out_pdf = NULL;
    *out_bytes = 0;
    if (out_pages != NULL)
        *out_pages = 0;
    if (d->rendered)
        return kopro_error_set(KOPRO_EINVAL, "the PDF was already rendered");
    d->rendered = 1;
    if (d->open_table != NULL || d->in_keep)
        return kopro_error_set(KOPRO_EINVAL, "a table or keep group is still open; close it first");
    rc = layout(d);
    if (rc == 0)
        rc = draw_footers(d);
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = fix_tounicode(d, &d->fonts[i]);
        if (rc == 0)
            rc = fix_font(d, &d->fonts[i]);
    }
    if (rc == 0)
        rc = deflate_streams(d);
    if (rc != 0)
        goto done;
    HPDF_SetInfoAttr(d->pdf, HPDF_INFO_CREATOR, "kopro " KOPRO_VERSION);
    if (d->title != NULL)
        HPDF_SetInfoAttr(d->pdf, HPDF_INFO_TITLE, d->title);
    if (d->subject != NULL)
        HPDF_SetInfoAttr(d->pdf, HPDF_INFO_SUBJECT, d->subject);
    set_date(d, HPDF_INFO_CREATION_DATE);
    set_date(d, HPDF_INFO_MOD_DATE);
    if (d->herr != 0) {
        rc = hpdf_fail(d, "setting the document information");
        goto done;
    }
    if (HPDF_SaveToStream(d->pdf) != HPDF_OK || d->herr != 0) {
        rc = hpdf_fail(d, "saving the document");
        goto done;
    }
    size = HPDF_GetStreamSize(d->pdf);
    if (size > KOPRO_PDF_CAP_BYTES) {
        rc = kopro_error_set(KOPRO_ETOOBIG, "the PDF is %u bytes, over the cap of %u", (unsigned)size,
                             KOPRO_PDF_CAP_BYTES);
        goto done;
    }
    bytes = malloc(size ? size : 1);
    if (bytes == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory reading the PDF");
        goto done;
    }
    if (HPDF_ReadFromStream(d->pdf, bytes, &size) != HPDF_OK && d->herr != HPDF_STREAM_EOF &&
        d->herr != 0) {
        rc = hpdf_fail(d, "reading the saved document");
        goto done;
    }
    *out_pdf = bytes;
    *out_bytes = size;
    bytes = NULL;
    if (out_pages != NULL)
        *out_pages = (int)d->npages;
    d->rendered_ok = 1;
    rc = 0;
done:
    free(bytes);
    return rc;
}
