#include "kopro/buf.h"

#include "kopro/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kopro_buf_init(struct kopro_buf *b, size_t cap_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap_bytes = cap_bytes;
}

void kopro_buf_free(struct kopro_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void kopro_buf_free_secure(struct kopro_buf *b)
{
    if (b == NULL)
        return;
    if (b->data != NULL)
        explicit_bzero(b->data, b->alloc);
    kopro_buf_free(b);
}

void kopro_buf_reset(struct kopro_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int kopro_buf_add(struct kopro_buf *b, const void *data, size_t len)
{
    size_t need;

    if (len > b->cap_bytes || b->len > b->cap_bytes - len) {
        kopro_buf_free(b);
        return kopro_error_set(KOPRO_ETOOBIG, "buffer would exceed its cap of %zu bytes",
                               b->cap_bytes);
    }
    need = b->len + len + 1;
    if (need > b->alloc) {
        size_t n = b->alloc ? b->alloc : 64;
        char *p;
        while (n < need)
            n *= 2;
        if (n > b->cap_bytes + 1)
            n = b->cap_bytes + 1;
        p = realloc(b->data, n);
        if (p == NULL) {
            kopro_buf_free(b);
            return kopro_error_set(KOPRO_ERROR, "out of memory growing a buffer to %zu bytes", n);
        }
        b->data = p;
        b->alloc = n;
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int kopro_buf_adds(struct kopro_buf *b, const char *s)
{
    return kopro_buf_add(b, s, strlen(s));
}

int kopro_buf_addf(struct kopro_buf *b, const char *fmt, ...)
{
    char small[512];
    char *big = NULL;
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return kopro_error_set(KOPRO_EINVAL, "bad format string");
    if ((size_t)n < sizeof(small))
        return kopro_buf_add(b, small, (size_t)n);
    big = malloc((size_t)n + 1);
    if (big == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory formatting %d bytes", n);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = kopro_buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

char *kopro_buf_detach(struct kopro_buf *b)
{
    char *p = b->data;
    if (p == NULL)
        p = strdup("");
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return p;
}
