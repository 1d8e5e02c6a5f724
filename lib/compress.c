#include "kopro/compress.h"

#include "kopro/error.h"

#include <stdlib.h>
#include <zstd.h>

struct kopro_compress {
    enum kopro_compress_dir dir;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
};

int kopro_compress_new(struct kopro_compress **out, enum kopro_compress_dir dir, int level,
                       int workers)
{
    struct kopro_compress *c = NULL;
    int rc = 0;

    *out = NULL;
    if (dir == KOPRO_COMPRESS_ENCODE && (level < 1 || level > 19))
        return kopro_error_set(KOPRO_EINVAL, "zstd level %d is out of range; use 1 to 19", level);
    if (workers < 0 || workers > 64)
        return kopro_error_set(KOPRO_EINVAL, "zstd worker count %d is out of range; use 0 to 64",
                               workers);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for a zstd stream");
    c->dir = dir;
    if (dir == KOPRO_COMPRESS_ENCODE) {
        c->cctx = ZSTD_createCCtx();
        if (c->cctx == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory for a zstd compressor");
            goto done;
        }
        if (ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 1))) {
            rc = kopro_error_set(KOPRO_ERROR, "zstd refused level %d", level);
            goto done;
        }
        if (workers > 0 &&
            ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_nbWorkers, workers))) {
            rc = kopro_error_set(KOPRO_ERROR,
                                 "this libzstd has no multi-threading; use 0 workers");
            goto done;
        }
        /* 2 MiB jobs instead of the default 4 x window: a third of the memory,
         * the same ratio on pg_dump output (measured, see README) */
        if (workers > 0 &&
            ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_jobSize, 2 * 1024 * 1024))) {
            rc = kopro_error_set(KOPRO_ERROR, "zstd refused a 2 MiB job size");
            goto done;
        }
    } else {
        c->dctx = ZSTD_createDCtx();
        if (c->dctx == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory for a zstd decompressor");
            goto done;
        }
    }
    *out = c;
    c = NULL;
done:
    kopro_compress_free(c);
    return rc;
}

int kopro_compress_step(struct kopro_compress *c, const void *in, size_t in_len,
                        size_t *in_used_bytes, void *out, size_t out_cap_bytes,
                        size_t *out_len_bytes, int end, int *finished)
{
    ZSTD_inBuffer ib = {in, in_len, 0};
    ZSTD_outBuffer ob = {out, out_cap_bytes, 0};
    size_t r;

    *in_used_bytes = 0;
    *out_len_bytes = 0;
    *finished = 0;
    if (c->dir == KOPRO_COMPRESS_ENCODE) {
        r = ZSTD_compressStream2(c->cctx, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(r))
            return kopro_error_set(KOPRO_ERROR, "zstd compression failed: %s",
                                   ZSTD_getErrorName(r));
        if (end && r == 0 && ib.pos == ib.size)
            *finished = 1;
    } else {
        r = ZSTD_decompressStream(c->dctx, &ob, &ib);
        if (ZSTD_isError(r))
            return kopro_error_set(KOPRO_EVERIFY, "zstd data is corrupt: %s",
                                   ZSTD_getErrorName(r));
        /* r == 0: a frame is complete and fully flushed */
        if (r == 0)
            *finished = 1;
    }
    *in_used_bytes = ib.pos;
    *out_len_bytes = ob.pos;
    return 0;
}

size_t kopro_compress_in_chunk_bytes(const struct kopro_compress *c)
{
    return c->dir == KOPRO_COMPRESS_ENCODE ? ZSTD_CStreamInSize() : ZSTD_DStreamInSize();
}

size_t kopro_compress_out_chunk_bytes(const struct kopro_compress *c)
{
    return c->dir == KOPRO_COMPRESS_ENCODE ? ZSTD_CStreamOutSize() : ZSTD_DStreamOutSize();
}

void kopro_compress_free(struct kopro_compress *c)
{
    if (c == NULL)
        return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    free(c);
}
