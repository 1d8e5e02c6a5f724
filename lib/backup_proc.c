#include "backup_internal.h"

#include "kopro/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ENV_CAP 4096

static int env_add(struct kbk_env *e, const char *name, const char *val)
{
    size_t len = strlen(name) + strlen(val) + 2;
    char *s = malloc(len);
    size_t nl = strlen(name);
    if (s == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    snprintf(s, len, "%s=%s", name, val);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->vars[i], name, nl) == 0 && e->vars[i][nl] == '=') {
            explicit_bzero(e->vars[i], strlen(e->vars[i]));
            free(e->vars[i]);
            e->vars[i] = s;
            return 0;
        }
    }
    if (e->n + 1 >= ENV_CAP) {
        free(s);
        return kopro_error_set(KOPRO_ETOOBIG, "environment has more than %d variables", ENV_CAP);
    }
    e->vars[e->n++] = s;
    e->vars[e->n] = NULL;
    return 0;
}

int kbk_env_build(struct kbk_env *e, const char *conninfo, const char *dbname_override)
{
    PQconninfoOption *opts = NULL;
    char *err = NULL;
    int rc = 0;

    memset(e, 0, sizeof(*e));
    e->vars = calloc(ENV_CAP, sizeof(char *));
    if (e->vars == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    for (char **p = environ; p != NULL && *p != NULL; p++) {
        if (e->n + 1 >= ENV_CAP)
            break;
        e->vars[e->n] = strdup(*p);
        if (e->vars[e->n] == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
        e->n++;
    }
    if (conninfo != NULL && *conninfo != '\0') {
        if (strchr(conninfo, '=') == NULL && strstr(conninfo, "://") == NULL) {
            rc = env_add(e, "PGDATABASE", conninfo);
            if (rc == 0) {
                e->dbname = strdup(conninfo);
                if (e->dbname == NULL)
                    rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            }
            if (rc != 0)
                goto done;
        } else {
            opts = PQconninfoParse(conninfo, &err);
            if (opts == NULL) {
                rc = kopro_error_set(KOPRO_EINVAL,
                                     "the database URL is not a valid libpq connection string "
                                     "(%s); see KOPRO_DATABASE_URL in README.md",
                                     err ? strtok(err, "\n") : "out of memory");
                goto done;
            }
            for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
                if (o->val == NULL || o->envvar == NULL)
                    continue;
                rc = env_add(e, o->envvar, o->val);
                if (rc != 0)
                    goto done;
                if (strcmp(o->keyword, "dbname") == 0 && e->dbname == NULL) {
                    e->dbname = strdup(o->val);
                    if (e->dbname == NULL) {
                        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
                        goto done;
                    }
                }
            }
        }
    }
    if (dbname_override != NULL) {
        rc = env_add(e, "PGDATABASE", dbname_override);
        if (rc != 0)
            goto done;
    }
    /* never let a child prompt */
    rc = env_add(e, "PGCONNECT_TIMEOUT", getenv("PGCONNECT_TIMEOUT") ? getenv("PGCONNECT_TIMEOUT") : "30");
done:
    if (err != NULL)
        PQfreemem(err);
    if (opts != NULL) {
        for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
            if (o->val != NULL)
                explicit_bzero(o->val, strlen(o->val));
        PQconninfoFree(opts);
    }
    if (rc != 0)
        kbk_env_free(e);
    return rc;
}

void kbk_env_free(struct kbk_env *e)
{
    if (e->vars != NULL) {
        for (size_t i = 0; i < e->n; i++) {
            explicit_bzero(e->vars[i], strlen(e->vars[i]));
            free(e->vars[i]);
        }
        free(e->vars);
    }
    free(e->dbname);
    memset(e, 0, sizeof(*e));
}

void kbk_pg_program(char *buf, size_t cap, const char *prog)
{
    const char *dir = getenv("KOPRO_PG_BINDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/usr/lib/postgresql/15/bin";
    snprintf(buf, cap, "%s/%s", dir, prog);
}

int kbk_spawn(struct kbk_child *c, const char *path, char *const argv[], char *const envp[],
              enum kbk_io in, enum kbk_io out)
{
    int inp[2] = {-1, -1}, outp[2] = {-1, -1};
    int errfd = -1, outmem = -1, devnull = -1;
    pid_t pid;
    int rc = 0;
    const char *base = strrchr(path, '/');

    c->pid = -1;
    c->in_fd = c->out_fd = c->err_fd = -1;
    snprintf(c->name, sizeof(c->name), "%s", base ? base + 1 : path);
    if (access(path, X_OK) != 0)
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "%s is not an executable program; install postgresql-client-15 "
                               "or set KOPRO_PG_BINDIR",
                               path);
    errfd = memfd_create("kopro-child-stderr", MFD_CLOEXEC);
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (out == KBK_MEMFD)
        outmem = memfd_create("kopro-child-stdout", MFD_CLOEXEC);
    if (errfd < 0 || devnull < 0 || (in == KBK_PIPE && pipe2(inp, O_CLOEXEC) != 0) ||
        (out == KBK_PIPE && pipe2(outp, O_CLOEXEC) != 0) || (out == KBK_MEMFD && outmem < 0)) {
        rc = kopro_error_set(KOPRO_ERROR, "cannot set up pipes for %s: %s", c->name,
                             strerror(errno));
        goto done;
    }
    pid = fork();
    if (pid < 0) {
        rc = kopro_error_set(KOPRO_ERROR, "cannot start %s: %s", c->name, strerror(errno));
        goto done;
    }
    if (pid == 0) {
        int ofd = out == KBK_PIPE ? outp[1] : out == KBK_MEMFD ? outmem : devnull;
        int ifd = in == KBK_PIPE ? inp[0] : devnull;
        signal(SIGPIPE, SIG_DFL);
        if (dup2(ifd, 0) < 0 || dup2(ofd, 1) < 0 || dup2(errfd, 2) < 0)
            _exit(127);
        execve(path, argv, envp);
        dprintf(2, "cannot execute %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    if (in == KBK_PIPE) {
        c->in_fd = inp[1];
        inp[1] = -1;
    }
    if (out == KBK_PIPE) {
        c->out_fd = outp[0];
        outp[0] = -1;
    } else if (out == KBK_MEMFD) {
        c->out_fd = outmem;
        outmem = -1;
    }
    c->err_fd = errfd;
    errfd = -1;
done:
    for (int i = 0; i < 2; i++) {
        if (inp[i] >= 0)
            close(inp[i]);
        if (outp[i] >= 0)
            close(outp[i]);
    }
    if (errfd >= 0)
        close(errfd);
    if (outmem >= 0)
        close(outmem);
    if (devnull >= 0)
        close(devnull);
    return rc;
}

void kbk_read_memfd(int fd, char *buf, size_t cap)
{
    ssize_t n;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t start = 0;
    buf[0] = '\0';
    if (size < 0)
        return;
    /* the tail holds the reason */
    if (size > (off_t)(cap - 1))
        start = size - (off_t)(cap - 1);
    n = pread(fd, buf, cap - 1, start);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
}

static void one_line(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (char *p = s; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

int kbk_wait(struct kbk_child *c, int code)
{
    int status = 0;
    int rc = 0;
    char msg[600];
    pid_t w;

    if (c->in_fd >= 0)
        close(c->in_fd);
    c->in_fd = -1;
    if (c->pid > 0) {
        do {
            w = waitpid(c->pid, &status, 0);
        } while (w < 0 && errno == EINTR);
        if (w < 0) {
            rc = kopro_error_set(KOPRO_ERROR, "waiting for %s failed: %s", c->name,
                                 strerror(errno));
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            msg[0] = '\0';
            if (c->err_fd >= 0)
                kbk_read_memfd(c->err_fd, msg, sizeof(msg));
            one_line(msg);
            if (WIFSIGNALED(status))
                rc = kopro_error_set(code, "%s was killed by signal %d: %s", c->name,
                                     WTERMSIG(status), msg);
            else
                rc = kopro_error_set(code, "%s failed (exit %d): %s", c->name,
                                     WEXITSTATUS(status), msg);
        }
        c->pid = -1;
    }
    if (c->err_fd >= 0)
        close(c->err_fd);
    c->err_fd = -1;
    return rc;
}
