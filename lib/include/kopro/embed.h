/*
 * kopro/embed.h — files compiled into libkopro by mk/embed.sh (SQL
 * migrations). Templates are NOT embedded: they stay editable in templates/.
 */
#ifndef KOPRO_EMBED_H
#define KOPRO_EMBED_H

#include <stddef.h>

struct kopro_embedded {
    const char *name; /* file name, e.g. "0001_jobs.sql"; NULL ends a table */
    const char *data; /* content, NUL-terminated */
    size_t len;       /* bytes, without the NUL */
};

/* lib/migrations/NNNN_*.sql in name order, NULL-terminated. */
extern const struct kopro_embedded kopro_migrations[];

#endif
