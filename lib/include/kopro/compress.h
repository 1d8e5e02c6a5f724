/*
 * kopro/compress.h — streaming Zstandard (RFC 8878) compression and
 * decompression through libzstd, with multi-threaded compression.
 *
 * The stream format is a standard zstd frame, so `zstd -d` reads it.
 * Memory is bounded by libzstd's window and job sizes (a few MiB per worker at
 * the default level), independently of the stream length.
 * Source: https://facebook.github.io/zstd/zstd_manual.html (ZSTD_compressStream2,
 * ZSTD_c_nbWorkers, ZSTD_decompressStream).
 */
#ifndef KOPRO_COMPRESS_H
#define KOPRO_COMPRESS_H

#include <stddef.h>

struct kopro_compress; /* opaque stream */

enum kopro_compress_dir {
    KOPRO_COMPRESS_ENCODE = 1,
    KOPRO_COMPRESS_DECODE = 2,
};

/*
 * Start a stream. level: zstd level 1..19 (encode only). workers:
 * compression threads besides the caller (0 = single threaded; encode only;
 * with workers, jobs are 2 MiB). Returns 0, KOPRO_EINVAL for a level or worker count
 * out of range (message names it), or KOPRO_ERROR (allocation, or libzstd
 * built without threads when workers > 0). *out is owned by the caller:
 * kopro_compress_free(). Thread-safety: one stream per thread.
 */
int kopro_compress_new(struct kopro_compress **out, enum kopro_compress_dir dir, int level,
                       int workers);

/*
 * Advance the stream. Consumes up to in_len bytes of `in` (*in_used_bytes
 * receives how many) and writes up to out_cap_bytes into `out`
 * (*out_len_bytes receives how many). For encoding, `end` = 1 says no more
 * input will come; call again with end = 1 until *finished is 1.
 * For decoding, *finished becomes 1 when a frame is complete and all its
 * output has been delivered. Returns 0, KOPRO_EVERIFY for corrupt compressed
 * data (decode), or KOPRO_ERROR; the message carries libzstd's reason.
 */
int kopro_compress_step(struct kopro_compress *c, const void *in, size_t in_len,
                        size_t *in_used_bytes, void *out, size_t out_cap_bytes,
                        size_t *out_len_bytes, int end, int *finished);

/* libzstd's recommended input and output chunk sizes for this direction. */
size_t kopro_compress_in_chunk_bytes(const struct kopro_compress *c);
size_t kopro_compress_out_chunk_bytes(const struct kopro_compress *c);

/* Release; NULL allowed. */
void kopro_compress_free(struct kopro_compress *c);

#endif
