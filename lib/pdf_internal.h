/* Internals of the PDF layout engine (lib/pdf*.c); not public. */
#ifndef KOPRO_PDF_INTERNAL_H
#define KOPRO_PDF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Subset the TrueType font `ttf` (ttf_len bytes) to the glyphs with
 * keep[gid] != 0 (num_glyphs entries; glyph 0 and composite components are
 * added), renumbered densely: new_gid[old] (num_glyphs entries, written)
 * gives the new id of each kept glyph, 0 for dropped ones. *out (caller
 * frees) receives the font program, *out_len its size. Returns 0,
 * KOPRO_EINVAL for a font it cannot parse, KOPRO_ERROR on allocation failure.
 */
int kopro_pdf__ttf_subset(unsigned char **out, size_t *out_len, uint16_t *new_gid,
                          const unsigned char *ttf, size_t ttf_len, const uint8_t *keep,
                          uint32_t num_glyphs);

#endif
