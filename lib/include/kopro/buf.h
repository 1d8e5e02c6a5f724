/*
 * kopro/buf.h — a growable byte buffer with a hard cap (after curl's
 * curlx_dyn). The content is always NUL-terminated so it can be used as a
 * C string. A failed append frees the buffer and returns KOPRO_ETOOBIG.
 */
#ifndef KOPRO_BUF_H
#define KOPRO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kopro_buf {
    char *data;       /* NULL until the first append; owned by the buffer */
    size_t len;       /* bytes used, excluding the terminating NUL */
    size_t alloc;     /* bytes allocated */
    size_t cap_bytes; /* the most `len` may ever reach */
};

/* Prepare an empty buffer that may hold at most cap_bytes bytes. No allocation. */
void kopro_buf_init(struct kopro_buf *b, size_t cap_bytes);

/*
 * Append `len` bytes. Returns 0, or KOPRO_ETOOBIG if the cap would be exceeded
 * (the buffer is then freed and reset), or KOPRO_ERROR on allocation failure.
 */
int kopro_buf_add(struct kopro_buf *b, const void *data, size_t len);

/* Append a NUL-terminated string. Errors as kopro_buf_add(). */
int kopro_buf_adds(struct kopro_buf *b, const char *s);

/* Append printf-formatted text. Errors as kopro_buf_add(). */
int kopro_buf_addf(struct kopro_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget the content, keep the allocation and the cap. */
void kopro_buf_reset(struct kopro_buf *b);

/*
 * Take ownership of the content: returns the NUL-terminated data (free() it;
 * never NULL: an empty buffer gives "") and resets the buffer. Returns NULL
 * only on allocation failure.
 */
char *kopro_buf_detach(struct kopro_buf *b);

/* Release the memory. Safe on a zeroed or already freed buffer. */
void kopro_buf_free(struct kopro_buf *b);

/* Like kopro_buf_free(), but wipes the content first (secrets, personal data). */
void kopro_buf_free_secure(struct kopro_buf *b);

#endif
