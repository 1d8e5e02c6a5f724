/*
 * lib/backup_internal.h — helpers shared by lib/backup*.c: PostgreSQL client
 * programs run as children (fork/exec, no shell), with connection settings in
 * their environment, never in argv. Not part of the public API.
 */
#ifndef KOPRO_BACKUP_INTERNAL_H
#define KOPRO_BACKUP_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

enum kbk_io { KBK_NULL = 0, KBK_PIPE = 1, KBK_MEMFD = 2 };

struct kbk_child {
    pid_t pid;
    int in_fd;  /* our end of the child's stdin pipe, or -1 */
    int out_fd; /* our end of the child's stdout pipe / memfd, or -1 */
    int err_fd; /* memfd holding the child's stderr, or -1 */
    char name[32];
};

/* A child environment: the process environment with the libpq settings of a
 * connection string applied (PQconninfoParse; each option's envvar). */
struct kbk_env {
    char **vars; /* NULL-terminated, owned; wiped on free (PGPASSWORD) */
    size_t n;
    char *dbname; /* owned; the database named by the conninfo, or NULL */
};

int kbk_env_build(struct kbk_env *e, const char *conninfo, const char *dbname_override);
void kbk_env_free(struct kbk_env *e);

/* The path of PostgreSQL client program `prog` ($KOPRO_PG_BINDIR or
 * /usr/lib/postgresql/15/bin) into buf. */
void kbk_pg_program(char *buf, size_t cap, const char *prog);

int kbk_spawn(struct kbk_child *c, const char *path, char *const argv[], char *const envp[],
              enum kbk_io in, enum kbk_io out);

/* Close our ends, wait; 0 if the child exited 0, else `code` with the
 * child's stderr tail in the message. */
int kbk_wait(struct kbk_child *c, int code);

/* Read up to cap-1 bytes of a memfd from the start into buf (NUL-terminated). */
void kbk_read_memfd(int fd, char *buf, size_t cap);

#endif
