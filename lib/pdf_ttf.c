/*
 * TrueType subsetting for the PDF layout engine (lib/pdf.c).
 *
 * libharu 2.3.0 embeds a TrueType font with every table it needs at full
 * size (loca, hmtx, hinting tables) and ~150 KB per DejaVu face. kopro
 * writes the font program itself instead: only the glyphs drawn, the
 * components of composite glyphs and glyph 0 are kept, renumbered densely in
 * their original order (new_gid[] tells the caller, who writes the
 * CIDToGIDMap), with composite references, loca, hmtx, hhea.numberOfHMetrics
 * and maxp.numGlyphs rewritten to match.
 * Tables kept: cvt, fpgm, glyf, head, hhea, hmtx, loca, maxp, prep — the
 * set ISO 32000-1 §9.9 lists for a TrueType font program in PDF.
 *
 * Source: OpenType specification 1.9 (Microsoft), "The table directory",
 * "glyf", "loca", "head", "hhea", "hmtx".
 */
#include "pdf_internal.h"

#include "kopro/buf.h"
#include "kopro/error.h"

#include <stdlib.h>
#include <string.h>

struct tbl {
    char tag[5];
    const unsigned char *data;
    uint32_t len;
};

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Bytes of one composite-glyph component record with these flags: flags and
 * glyph index, the two arguments (words if ARG_1_AND_2_ARE_WORDS), then a
 * scale (WE_HAVE_A_SCALE), an x and y scale (WE_HAVE_AN_X_AND_Y_SCALE) or a
 * 2x2 matrix (WE_HAVE_A_TWO_BY_TWO). OpenType "glyf", composite glyphs. */
static size_t component_bytes(uint16_t flags)
{
    size_t n = 4 + ((flags & 0x0001) ? 4 : 2);
    if (flags & 0x0008)
        n += 2;
    else if (flags & 0x0040)
        n += 4;
    else if (flags & 0x0080)
        n += 8;
    return n;
}

static uint32_t checksum(const unsigned char *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 4 <= len; i += 4)
        sum += rd32(p + i);
    if (i < len) {
        unsigned char last[4] = {0, 0, 0, 0};
        memcpy(last, p + i, len - i);
        sum += rd32(last);
    }
    return sum;
}

static const struct tbl *find(const struct tbl *t, int n, const char *tag)
{
    for (int i = 0; i < n; i++)
        if (memcmp(t[i].tag, tag, 4) == 0)
            return &t[i];
    return NULL;
}

/* offset and length of glyph g from loca */
static int glyph_range(uint32_t *off, uint32_t *len, const struct tbl *loca, int long_loca,
                       uint32_t glyf_len, uint32_t g)
{
    uint32_t a, b;
    if (long_loca) {
        if ((size_t)(g + 2) * 4 > loca->len)
            return -1;
        a = rd32(loca->data + g * 4);
        b = rd32(loca->data + g * 4 + 4);
    } else {
        if ((size_t)(g + 2) * 2 > loca->len)
            return -1;
        a = 2u * rd16(loca->data + g * 2);
        b = 2u * rd16(loca->data + g * 2 + 2);
    }
    if (b < a || b > glyf_len)
        return -1;
    *off = a;
    *len = b - a;
    return 0;
}

/* mark the components of composite glyphs (transitively) */
static int close_composites(uint8_t *keep, uint32_t num_glyphs, const struct tbl *loca,
                            int long_loca, const struct tbl *glyf)
{
    int changed = 1, rounds = 0;
    while (changed && rounds++ < 16) {
        changed = 0;
        for (uint32_t g = 0; g < num_glyphs; g++) {
            uint32_t off, len;
            const unsigned char *p, *end;
            if (!keep[g])
                continue;
            if (glyph_range(&off, &len, loca, long_loca, glyf->len, g) != 0)
                return -1;
            if (len < 10 || (int16_t)rd16(glyf->data + off) >= 0)
                continue; /* empty or simple glyph */
            p = glyf->data + off + 10;
            end = glyf->data + off + len;
            for (;;) {
                uint16_t flags, comp;
                if (p + 4 > end)
                    return -1;
                flags = rd16(p);
                comp = rd16(p + 2);
                if (comp >= num_glyphs)
                    return -1;
                if (!keep[comp]) {
                    keep[comp] = 1;
                    changed = 1;
                }
                p += component_bytes(flags);
                if (!(flags & 0x0020))
                    break;
            }
        }
    }
    return 0;
}

int kopro_pdf__ttf_subset(unsigned char **out, size_t *out_len, uint16_t *new_gid,
                          const unsigned char *ttf, size_t ttf_len, const uint8_t *keep_in,
                          uint32_t num_glyphs)
{
    static const char *const wanted[] = {"cvt ", "fpgm", "glyf", "head", "hhea",
                                         "hmtx", "loca", "maxp", "prep"};
    struct tbl src[64];
    struct tbl dst[9];
    int nsrc, ndst = 0, long_loca;
    const struct tbl *glyf, *loca, *head, *hhea, *hmtx, *maxp;
    uint8_t *keep = NULL;
    unsigned char *nglyf = NULL, *nloca = NULL, *nhmtx = NULL, *nhead = NULL, *nhhea = NULL,
                  *nmaxp = NULL, *font = NULL;
    uint32_t nglyf_len = 0, nmetrics, n_new = 0;
    size_t total, pos;
    int rc = KOPRO_EINVAL;

    *out = NULL;
    *out_len = 0;
    if (ttf_len < 12)
        goto bad;
    nsrc = rd16(ttf + 4);
    if (nsrc > 64 || 12 + (size_t)nsrc * 16 > ttf_len)
        goto bad;
    for (int i = 0; i < nsrc; i++) {
        const unsigned char *r = ttf + 12 + i * 16;
        uint32_t off = rd32(r + 8), len = rd32(r + 12);
        if ((size_t)off + len > ttf_len)
            goto bad;
        memcpy(src[i].tag, r, 4);
        src[i].tag[4] = '\0';
        src[i].data = ttf + off;
        src[i].len = len;
    }
    glyf = find(src, nsrc, "glyf");
    loca = find(src, nsrc, "loca");
    head = find(src, nsrc, "head");
    hhea = find(src, nsrc, "hhea");
    hmtx = find(src, nsrc, "hmtx");
    maxp = find(src, nsrc, "maxp");
    if (!glyf || !loca || !head || !hhea || !hmtx || !maxp || head->len < 54 || hhea->len < 36 ||
        maxp->len < 6 || rd16(maxp->data + 4) != num_glyphs)
        goto bad;
    long_loca = rd16(head->data + 50) != 0;
    nmetrics = rd16(hhea->data + 34);
    if (nmetrics == 0 || nmetrics > num_glyphs ||
        (size_t)nmetrics * 4 + (size_t)(num_glyphs - nmetrics) * 2 > hmtx->len)
        goto bad;

    keep = calloc(num_glyphs, 1);
    nhead = malloc(head->len);
    nhhea = malloc(hhea->len);
    nmaxp = malloc(maxp->len);
    if (!keep || !nhead || !nhhea || !nmaxp) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory subsetting a font");
        goto done;
    }
    memcpy(keep, keep_in, num_glyphs);
    keep[0] = 1; /* .notdef */
    if (close_composites(keep, num_glyphs, loca, long_loca, glyf) != 0)
        goto bad;
    /* glyph ids are renumbered densely in the old order: 0 stays 0 */
    for (uint32_t g = 0; g < num_glyphs; g++) {
        uint32_t off, len;
        new_gid[g] = 0;
        if (!keep[g])
            continue;
        if (glyph_range(&off, &len, loca, long_loca, glyf->len, g) != 0)
            goto bad;
        new_gid[g] = (uint16_t)n_new++;
        nglyf_len += (len + 3u) & ~3u;
    }
    nglyf = calloc(nglyf_len ? nglyf_len : 1, 1);
    nloca = calloc((size_t)n_new + 1, 4);
    nhmtx = calloc((size_t)n_new, 4);
    if (!nglyf || !nloca || !nhmtx) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory subsetting a font");
        goto done;
    }
    pos = 0;
    for (uint32_t g = 0; g < num_glyphs; g++) {
        uint32_t off, len, ng;
        if (!keep[g])
            continue;
        ng = new_gid[g];
        glyph_range(&off, &len, loca, long_loca, glyf->len, g);
        wr32(nloca + (size_t)ng * 4, (uint32_t)pos);
        memcpy(nglyf + pos, glyf->data + off, len);
        if (len >= 10 && (int16_t)rd16(nglyf + pos) < 0) {
            /* composite: point its components at their new ids */
            unsigned char *p = nglyf + pos + 10, *end = nglyf + pos + len;
            for (;;) {
                uint16_t flags;
                if (p + 4 > end)
                    goto bad;
                flags = rd16(p);
                wr16(p + 2, new_gid[rd16(p + 2)]);
                p += component_bytes(flags);
                if (!(flags & 0x0020))
                    break;
            }
        }
        pos += (len + 3u) & ~3u;
        /* hmtx: a full metric per glyph */
        if (g < nmetrics) {
            memcpy(nhmtx + (size_t)ng * 4, hmtx->data + (size_t)g * 4, 4);
        } else {
            memcpy(nhmtx + (size_t)ng * 4, hmtx->data + (size_t)(nmetrics - 1) * 4, 2);
            memcpy(nhmtx + (size_t)ng * 4 + 2, hmtx->data + (size_t)nmetrics * 4 + (size_t)(g - nmetrics) * 2, 2);
        }
    }
    wr32(nloca + (size_t)n_new * 4, (uint32_t)pos);
    memcpy(nhead, head->data, head->len);
    wr32(nhead + 8, 0);  /* checkSumAdjustment, set below */
    wr16(nhead + 50, 1); /* indexToLocFormat: long */
    memcpy(nhhea, hhea->data, hhea->len);
    wr16(nhhea + 34, n_new); /* numberOfHMetrics */
    memcpy(nmaxp, maxp->data, maxp->len);
    wr16(nmaxp + 4, n_new); /* numGlyphs */

    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        const struct tbl *t = find(src, nsrc, wanted[i]);
        struct tbl *d = &dst[ndst];
        memcpy(d->tag, wanted[i], 5);
        if (strcmp(wanted[i], "glyf") == 0)
            d->data = nglyf, d->len = nglyf_len;
        else if (strcmp(wanted[i], "loca") == 0)
            d->data = nloca, d->len = (n_new + 1u) * 4u;
        else if (strcmp(wanted[i], "hmtx") == 0)
            d->data = nhmtx, d->len = n_new * 4u;
        else if (strcmp(wanted[i], "head") == 0)
            d->data = nhead, d->len = head->len;
        else if (strcmp(wanted[i], "hhea") == 0)
            d->data = nhhea, d->len = hhea->len;
        else if (strcmp(wanted[i], "maxp") == 0)
            d->data = nmaxp, d->len = maxp->len;
        else if (t != NULL)
            d->data = t->data, d->len = t->len;
        else
            continue; /* optional hinting table absent */
        ndst++;
    }
    total = 12 + (size_t)ndst * 16;
    for (int i = 0; i < ndst; i++)
        total += (dst[i].len + 3u) & ~3u;
    font = calloc(total, 1);
    if (font == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory subsetting a font");
        goto done;
    }
    {
        int pow2 = 1, log2 = 0;
        while (pow2 * 2 <= ndst)
            pow2 *= 2, log2++;
        wr32(font, 0x00010000);
        wr16(font + 4, (uint32_t)ndst);
        wr16(font + 6, (uint32_t)pow2 * 16);
        wr16(font + 8, (uint32_t)log2);
        wr16(font + 10, (uint32_t)(ndst * 16 - pow2 * 16));
    }
    pos = 12 + (size_t)ndst * 16;
    for (int i = 0; i < ndst; i++) {
        unsigned char *r = font + 12 + i * 16;
        memcpy(r, dst[i].tag, 4);
        wr32(r + 4, checksum(dst[i].data, dst[i].len));
        wr32(r + 8, (uint32_t)pos);
        wr32(r + 12, dst[i].len);
        memcpy(font + pos, dst[i].data, dst[i].len);
        pos += (dst[i].len + 3u) & ~3u;
    }
    for (int i = 0; i < ndst; i++) {
        if (strcmp(dst[i].tag, "head") == 0) {
            unsigned char *h = font + rd32(font + 12 + i * 16 + 8);
            wr32(h + 8, 0xB1B0AFBAu - checksum(font, total));
        }
    }
    *out = font;
    *out_len = total;
    font = NULL;
    rc = 0;
    goto done;
bad:
    rc = kopro_error_set(KOPRO_EINVAL, "the TrueType font is malformed or uses an unsupported "
                                       "layout; use the DejaVu fonts of fonts-dejavu-core");
done:
    free(keep);
    free(nglyf);
    free(nloca);
    free(nhmtx);
    free(nhead);
    free(nhhea);
    free(nmaxp);
    free(font);
    return rc;
}
