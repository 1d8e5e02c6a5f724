#include "kopro/worker.h"

#include "kopro/buf.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/migrate.h"
#include "kopro/queue.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOTS 256
#define FLUSH_MS 20 /* longest a reported success waits for its batched UPDATE */
#define FLUSH_MAX 512 /* most successes recorded by one UPDATE */
#define PREFETCH_MIN 8        /* jobs claimed ahead of free slots, when jobs are short */
#define PREFETCH_MAX 512      /* most jobs held claimed but not yet started */
#define PREFETCH_WORK_MS 100  /* claim ahead about this much work per worker */
#define PREFETCH_BELOW_MS 50  /* "short": the running average of recent durations */
#define MAX_KIND_STATS 64
#define MSG_MAX_BYTES (KOPRO_QUEUE_PAYLOAD_MAX_BYTES + 4096)

/* What a child reports after each job. */
enum outcome {
    OUT_SUCCEEDED = 1,
    OUT_RETRY = 2,  /* failed, retry scheduled */
    OUT_DEAD = 3,   /* failed for good */
    OUT_STALE = 4,  /* lease lost: nothing recorded */
    OUT_UNSAVED = 5, /* the child could not record the outcome: the supervisor fails it */
    OUT_DEFERRED = 6 /* succeeded without a transaction open: the supervisor records it,
                        batched with others (one UPDATE for many jobs) */
};

struct report {
    int32_t outcome;
    int32_t rc; /* the handler's return code */
    int64_t duration_ms;
    uint32_t result_len; /* OUT_DEFERRED: bytes of result JSON that follow the struct */
    char error[512];     /* OUT_UNSAVED only: why */
};

/* A success reported by a child, waiting for the supervisor's batched UPDATE. */
struct done_job {
    struct kopro_queue_job job; /* owned */
    json_t *result;             /* owned, or NULL */
    int64_t duration_ms;
};

struct slot {
    pid_t pid;       /* child, or 0 */
    int to_child;    /* write end: job messages */
    int from_child;  /* read end: reports */
    int jobs_done;   /* by the current child */
    int busy;        /* a job is running */
    int timed_out;   /* killed for overrunning its timeout */
    struct kopro_queue_job job; /* owned while busy */
    int64_t started_ms;
    int64_t deadline_ms;
};

struct kind_stats {
    char kind[65];
    unsigned long ok, retry, dead, stale, crashed;
    double seconds_sum;
    unsigned long seconds_count;
};

struct worker {
    const struct kopro_worker_opts *o;
    char worker_id[KOPRO_QUEUE_WORKER_ID_BYTES];
    PGconn *db;
    int sigfd;
    pid_t supervisor;
    struct slot slots[MAX_SLOTS];
    struct kopro_queue_job *pending; /* claimed, not yet dispatched (FIFO) */
    size_t npending;
    size_t pending_cap;
    struct kopro_queue_job *pending_buf; /* allocation; pending points into it */
    struct done_job *done; /* successes to record (flush_done) */
    size_t ndone;
    int64_t first_done_ms; /* when the oldest of them arrived */
    size_t done_cap;
    struct kind_stats stats[MAX_KIND_STATS];
    size_t nstats;
    double avg_ms; /* moving average of job durations (prefetch decision) */
    int maybe_more;
    int stop_requested;
    int stopping;
    int64_t stop_deadline_ms;
    uint64_t watchdog_usec;
};

/* ------------------------------------------------------------------ utilities */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, prefixed with the UTC time. */
static void log_line(const char *fmt, ...)
{
    char ts[32];
    char line[1024];
    struct timespec now;
    struct tm tm;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03ldZ kopro-worker %s\n", ts, now.tv_nsec / 1000000, line);
}

static void log_job(const struct kopro_queue_job *j, const char *event, int64_t duration_ms,
                    const char *extra)
{
    if (duration_ms >= 0)
        log_line("job=%s kind=%s attempt=%d event=%s duration_ms=%lld%s%s", j->id, j->kind,
                 j->attempt, event, (long long)duration_ms, extra ? " " : "", extra ? extra : "");
    else
        log_line("job=%s kind=%s attempt=%d event=%s%s%s", j->id, j->kind, j->attempt, event,
                 extra ? " " : "", extra ? extra : "");
}

/* Copy a string, truncating to cap bytes (NUL included). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void kopro_worker_describe_status(char *buf, size_t cap, int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        snprintf(buf, cap, "killed by signal %d (SIG%s, %s)", sig, abbrev ? abbrev : "?",
                 strsignal(sig));
    } else if (WIFEXITED(status)) {
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    } else {
        snprintf(buf, cap, "ended with wait status 0x%x", (unsigned)status);
    }
}

void kopro_worker_opts_init(struct kopro_worker_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->concurrency = 2;
    o->lease_s = 30;
    o->poll_ms = 5000;
    o->grace_s = 25;
    o->jobs_per_child = 1000;
    o->prune_after_s = 7L * 24 * 3600;
    o->memory_limit_bytes = 2L * 1024 * 1024 * 1024;
    o->max_open_files = 256;
}

static int kind_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.'))
            return 0;
    return 1;
}

void kopro_worker_kinds_free(char **kinds)
{
    if (kinds == NULL)
        return;
    for (size_t i = 0; kinds[i] != NULL; i++)
        free(kinds[i]);
    free(kinds);
}

int kopro_worker_kinds_parse(char ***out, const char *list)
{
    char **kinds = NULL;
    size_t n = 0;
    size_t cap = 1;
    const char *p = list;
    int rc = 0;

    *out = NULL;
    for (const char *q = list; *q != '\0'; q++)
        if (*q == ',')
            cap++;
    kinds = calloc(cap + 1, sizeof(*kinds));
    if (kinds == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        char *k = strndup(p, len);
        if (k == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
        kinds[n++] = k;
        if (!kind_ok(k)) {
            rc = kopro_error_set(KOPRO_EINVAL, "--queues: '%s' is not a job kind (expected "
                                 "names like pdf.minutes, comma-separated, no spaces)", k);
            goto done;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = kinds;
    kinds = NULL;
done:
    kopro_worker_kinds_free(kinds);
    return rc;
}

static struct kind_stats *stats_for(struct worker *w, const char *kind)
{
    for (size_t i = 0; i < w->nstats; i++)
        if (strcmp(w->stats[i].kind, kind) == 0)
            return &w->stats[i];
    if (w->nstats == MAX_KIND_STATS)
        return NULL;
    memset(&w->stats[w->nstats], 0, sizeof(w->stats[0]));
    copy_str(w->stats[w->nstats].kind, sizeof(w->stats[0].kind), kind);
    return &w->stats[w->nstats++];
}

static void job_clear(struct kopro_queue_job *j)
{
    free(j->id);
    free(j->kind);
    free(j->organization_id);
    free(j->created_by);
    json_decref(j->payload);
    memset(j, 0, sizeof(*j));
}

static int is_test_kind(const char *kind)
{
    return strncmp(kind, "test.", 5) == 0;
}

/* ------------------------------------------------------------------ child side */

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void child_limits(const struct kopro_worker_opts *o)
{
    struct rlimit rl;

    rl.rlim_cur = 0;
    rl.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &rl); /* a core file could hold secrets or personal data */
    if (o->max_open_files > 0) {
        rl.rlim_cur = (rlim_t)o->max_open_files;
        rl.rlim_max = (rlim_t)o->max_open_files;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    /* ASan and TSan reserve terabytes of shadow address space: no RLIMIT_AS under them. */
    if (o->memory_limit_bytes > 0) {
        rl.rlim_cur = (rlim_t)o->memory_limit_bytes;
        rl.rlim_max = (rlim_t)o->memory_limit_bytes;
        setrlimit(RLIMIT_AS, &rl);
    }
#endif
}

/* Set the soft RLIMIT_CPU so that this job may use timeout_s more CPU seconds. */
static void child_cpu_limit(int timeout_s)
{
    struct rusage ru;
    struct rlimit rl;
    rlim_t used;

    if (getrusage(RUSAGE_SELF, &ru) != 0 || getrlimit(RLIMIT_CPU, &rl) != 0)
        return;
    used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec);
    rl.rlim_cur = used + (rlim_t)timeout_s + 1;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
        rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_CPU, &rl);
}

static int child_ensure_db(PGconn **db, const struct kopro_worker_opts *o)
{
    if (*db != NULL && PQstatus(*db) == CONNECTION_OK)
        return 0;
    if (*db != NULL) {
        PQreset(*db);
        if (PQstatus(*db) == CONNECTION_OK)
            return 0;
        PQfinish(*db);
        *db = NULL;
    }
    return kopro_db_connect(db, o->conninfo, "kopro-worker-job");
}

/* Run one job in the child and record its outcome; fills *rep. */
static void child_run_job(struct worker *w, PGconn **db, struct kopro_queue_job *j,
                          struct report *rep, char **result_text)
{
    const struct kopro_worker_opts *o = w->o;
    const struct kopro_job_kind *kind = o->find_kind(j->kind);
    struct kopro_queue_fence f = {j->id, j->attempt, w->worker_id};
    struct kopro_job_ctx ctx;
    int64_t t0 = now_ms();
    int rc;
    int outcome = 0;

    memset(rep, 0, sizeof(*rep));
    memset(&ctx, 0, sizeof(ctx));
    *result_text = NULL;
    rc = child_ensure_db(db, o);
    if (rc != 0) {
        rep->outcome = OUT_UNSAVED;
        rep->rc = rc;
        copy_str(rep->error, sizeof(rep->error), kopro_error_last());
        return;
    }
    child_cpu_limit(kind->timeout_s > 0 ? kind->timeout_s : 3600);
    ctx.db = *db;
    ctx.cfg = o->cfg;
    ctx.job_id = j->id;
    ctx.kind = j->kind;
    ctx.organization_id = j->organization_id;
    ctx.attempt = j->attempt;
    ctx.payload = j->payload;
    ctx.result = NULL;
    kopro_error_clear();
    rc = kind->run(&ctx);
    rep->rc = rc;
    if (rc == 0) {
        PGTransactionStatusType ts = PQtransactionStatus(*db);
        if (ts == PQTRANS_INERROR) {
            kopro_db_rollback(*db);
            rc = kopro_error_set(KOPRO_ERROR, "handler returned success with a failed "
                                 "transaction open; rolled back");
            rep->rc = rc;
        } else if (ts == PQTRANS_IDLE) {
            /* No handler transaction: the supervisor records the success in a batch. */
            rep->outcome = OUT_DEFERRED;
            *result_text = ctx.result != NULL ? json_dumps(ctx.result, JSON_COMPACT) : NULL;
            if (ctx.result != NULL && *result_text == NULL) {
                rep->outcome = OUT_UNSAVED;
                copy_str(rep->error, sizeof(rep->error), "out of memory serialising the result");
            }
            if (*result_text != NULL && strlen(*result_text) > KOPRO_QUEUE_PAYLOAD_MAX_BYTES) {
                free(*result_text);
                *result_text = NULL;
                rep->outcome = OUT_UNSAVED;
                copy_str(rep->error, sizeof(rep->error), "the job's result exceeds 1 MiB of JSON");
            }
        } else {
            int r = kopro_queue_complete(*db, &f, ctx.result);
            if (ts == PQTRANS_INTRANS) {
                if (r == 0)
                    r = kopro_db_commit(*db);
                else
                    kopro_db_rollback(*db);
            }
            if (r == 0)
                rep->outcome = OUT_SUCCEEDED;
            else if (r == KOPRO_ESTALE)
                rep->outcome = OUT_STALE;
            else {
                rep->outcome = OUT_UNSAVED;
                snprintf(rep->error, sizeof(rep->error), "could not record success: %s",
                         kopro_error_last());
            }
        }
    }
    if (rc != 0) {
        char err[KOPRO_QUEUE_ERROR_MAX_BYTES];
        int permanent = rc == KOPRO_EINVAL || rc == KOPRO_ENOTFOUND;
        int r;

        if (PQtransactionStatus(*db) != PQTRANS_IDLE)
            kopro_db_rollback(*db);
        snprintf(err, sizeof(err), "%s: %s", kopro_error_name(rc),
                 kopro_error_last()[0] ? kopro_error_last() : "handler gave no message");
        r = kopro_queue_fail(&outcome, *db, &f, err, permanent);
        if (r == 0)
            rep->outcome = outcome == KOPRO_QUEUE_DEAD ? OUT_DEAD : OUT_RETRY;
        else if (r == KOPRO_ESTALE)
            rep->outcome = OUT_STALE;
        else {
            rep->outcome = OUT_UNSAVED;
            copy_str(rep->error, sizeof(rep->error), err);
        }
    }
    json_decref(ctx.result);
    rep->duration_ms = now_ms() - t0;
}

/* Decode a job message: {"id","kind","attempt","organization_id","created_by","payload"}. */
static int child_decode(struct kopro_queue_job *j, const char *text)
{
    json_error_t jerr;
    json_t *m = json_loads(text, 0, &jerr);
    json_t *v;
    int rc = 0;

    memset(j, 0, sizeof(*j));
    if (m == NULL)
        return -1;
    j->id = strdup(json_string_value(json_object_get(m, "id")));
    j->kind = strdup(json_string_value(json_object_get(m, "kind")));
    j->attempt = (int)json_integer_value(json_object_get(m, "attempt"));
    v = json_object_get(m, "organization_id");
    j->organization_id = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    v = json_object_get(m, "created_by");
    j->created_by = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    j->payload = json_incref(json_object_get(m, "payload"));
    if (j->id == NULL || j->kind == NULL || j->payload == NULL)
        rc = -1;
    json_decref(m);
    return rc;
}

static void child_main(struct worker *w, int in_fd, int out_fd) __attribute__((noreturn));

static void child_main(struct worker *w, int in_fd, int out_fd)
{
    PGconn *db = NULL;
    char *msg = NULL;
    int done = 0;
    sigset_t all;

    /* Die with the supervisor; if it is already gone, stop now. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != w->supervisor)
        _exit(0);
    /* SIGTERM is the supervisor's to handle: it decides when a job is cut short. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Keep stdin/out/err and our two pipes; the supervisor's socket and the
     * other slots' pipes are not ours. */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != in_fd && fd != out_fd)
            close(fd);
    child_limits(w->o);
    /* Connect now, while no job waits; a failure is retried at each job. */
    (void)child_ensure_db(&db, w->o);
    msg = malloc(MSG_MAX_BYTES + 1);
    if (msg == NULL)
        _exit(70);
    while (done < w->o->jobs_per_child) {
        uint32_t len;
        struct kopro_queue_job job;
        struct report rep;
        char *result_text = NULL;

        if (read_full(in_fd, &len, sizeof(len)) != 0)
            break; /* the supervisor closed the pipe: exit */
        if (len > MSG_MAX_BYTES || read_full(in_fd, msg, len) != 0)
            _exit(71);
        msg[len] = '\0';
        if (child_decode(&job, msg) != 0)
            _exit(72);
        child_run_job(w, &db, &job, &rep, &result_text);
        job_clear(&job);
        rep.result_len = result_text != NULL ? (uint32_t)strlen(result_text) : 0;
        if (kopro_fs_write_all(out_fd, &rep, sizeof(rep)) != 0 ||
            (rep.result_len > 0 && kopro_fs_write_all(out_fd, result_text, rep.result_len) != 0))
            _exit(73);
        free(result_text);
        done++;
    }
    /* _exit: no atexit handlers or libpq teardown inherited from the supervisor. */
    _exit(0);
}

/* ------------------------------------------------------------------ supervisor */

static void slot_close(struct slot *s)
{
    if (s->to_child >= 0)
        close(s->to_child);
    if (s->from_child >= 0)
        close(s->from_child);
    s->to_child = -1;
    s->from_child = -1;
}

static int slot_spawn(struct worker *w, struct slot *s)
{
    int down[2] = {-1, -1};
    int up[2] = {-1, -1};
    pid_t pid;

    if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) {
        int e = errno;
        if (down[0] >= 0) {
            close(down[0]);
            close(down[1]);
        }
        return kopro_error_set(KOPRO_ERROR, "pipe: %s", strerror(e));
    }
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(down[0]);
        close(down[1]);
        close(up[0]);
        close(up[1]);
        return kopro_error_set(KOPRO_ERROR, "fork: %s (lower --concurrency?)", strerror(e));
    }
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        child_main(w, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    s->pid = pid;
    s->to_child = down[1];
    s->from_child = up[0];
    s->jobs_done = 0;
    return 0;
}

/* Supervisor-side failure of a job (child crash, timeout, unknown kind). */
static void supervisor_fail(struct worker *w, const struct kopro_queue_job *j, const char *error,
                            int permanent, int64_t duration_ms)
{
    struct kopro_queue_fence f = {j->id, j->attempt, w->worker_id};
    struct kind_stats *st = stats_for(w, j->kind);
    int outcome = 0;
    int rc = kopro_queue_fail(&outcome, w->db, &f, error, permanent);

    if (rc == KOPRO_ESTALE) {
        log_job(j, "stale", duration_ms, "note=lease-lost");
        if (st != NULL)
            st->stale++;
    } else if (rc != 0) {
        /* The lease will expire and the job be rescued: never lost. */
        log_job(j, "unrecorded", duration_ms, "note=database-error");
        log_line("database error recording a failure: %s", kopro_error_last());
    } else {
        log_job(j, outcome == KOPRO_QUEUE_DEAD ? "dead" : "failed", duration_ms,
                permanent ? "error=permanent" : "error=crash");
        if (st != NULL) {
            if (outcome == KOPRO_QUEUE_DEAD)
                st->dead++;
            else
                st->retry++;
        }
    }
}

static void slot_finish(struct worker *w, struct slot *s, const struct report *rep,
                        json_t *result)
{
    struct kind_stats *st = stats_for(w, s->job.kind);
    char extra[64];
    const char *event = "?";

    snprintf(extra, sizeof(extra), "rc=%s", kopro_error_name(rep->rc));
    switch (rep->outcome) {
    case OUT_SUCCEEDED:
        event = "succeeded";
        if (st != NULL)
            st->ok++;
        break;
    case OUT_RETRY:
        event = "failed";
        if (st != NULL)
            st->retry++;
        break;
    case OUT_DEAD:
        event = "dead";
        if (st != NULL)
            st->dead++;
        break;
    case OUT_STALE:
        event = "stale";
        if (st != NULL)
            st->stale++;
        break;
    default:
        break;
    }
    if (st != NULL) {
        st->seconds_sum += (double)rep->duration_ms / 1000.0;
        st->seconds_count++;
    }
    w->avg_ms = 0.9 * w->avg_ms + 0.1 * (double)rep->duration_ms;
    if (rep->outcome == OUT_DEFERRED) {
        if (w->ndone == w->done_cap) {
            size_t cap = w->done_cap ? w->done_cap * 2 : 64;
            struct done_job *d = realloc(w->done, cap * sizeof(*d));
            if (d == NULL) {
                /* Not recorded: the lease expires and the job runs again. */
                log_job(&s->job, "unrecorded", rep->duration_ms, "note=out-of-memory");
                json_decref(result);
                goto out;
            }
            w->done = d;
            w->done_cap = cap;
        }
        w->done[w->ndone].job = s->job;
        w->done[w->ndone].result = result;
        w->done[w->ndone].duration_ms = rep->duration_ms;
        if (w->ndone++ == 0)
            w->first_done_ms = now_ms();
        memset(&s->job, 0, sizeof(s->job));
        goto out;
    }
    json_decref(result);
    if (rep->outcome == OUT_UNSAVED)
        supervisor_fail(w, &s->job, rep->error, 0, rep->duration_ms);
    else
        log_job(&s->job, event, rep->duration_ms, rep->outcome == OUT_SUCCEEDED ? NULL : extra);
out:
    job_clear(&s->job);
    s->busy = 0;
    s->jobs_done++;
}

/* Read a pending report from a child, if any. Returns 1 if one was handled. */
static int slot_read_report(struct worker *w, struct slot *s, int blocking)
{
    struct report rep;
    struct pollfd p = {s->from_child, POLLIN, 0};
    json_t *result = NULL;

    if (s->from_child < 0 || !s->busy)
        return 0;
    if (!blocking && (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))))
        return 0;
    if (read_full(s->from_child, &rep, sizeof(rep)) != 0)
        return 0;
    if (rep.result_len > 0) {
        char *text = NULL;
        json_error_t jerr;
        if (rep.result_len > KOPRO_QUEUE_PAYLOAD_MAX_BYTES ||
            (text = malloc((size_t)rep.result_len + 1)) == NULL ||
            read_full(s->from_child, text, rep.result_len) != 0) {
            free(text);
            return 0; /* treated as a dead child: the job fails and is retried */
        }
        text[rep.result_len] = '\0';
        result = json_loads(text, 0, &jerr);
        free(text);
    }
    slot_finish(w, s, &rep, result);
    return 1;
}

/* A child ended (status from waitpid). */
static void slot_reaped(struct worker *w, struct slot *s, int status)
{
    slot_read_report(w, s, 0);
    if (s->busy) {
        char why[200];
        char err[300];
        int64_t dur = now_ms() - s->started_ms;
        struct kind_stats *st = stats_for(w, s->job.kind);

        kopro_worker_describe_status(why, sizeof(why), status);
        if (s->timed_out)
            snprintf(err, sizeof(err), "timed out after %lld s (the kind's timeout); %s",
                     (long long)((s->deadline_ms - s->started_ms) / 1000), why);
        else
            snprintf(err, sizeof(err), "job process %s", why);
        if (st != NULL)
            st->crashed++;
        supervisor_fail(w, &s->job, err, 0, dur);
        job_clear(&s->job);
        s->busy = 0;
    }
    slot_close(s);
    s->pid = 0;
    s->timed_out = 0;
}

static void reap_children(struct worker *w)
{
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (int i = 0; i < w->o->concurrency; i++)
            if (w->slots[i].pid == pid)
                slot_reaped(w, &w->slots[i], status);
    }
}

static int send_job(struct slot *s, const struct kopro_queue_job *j)
{
    json_t *m = json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:O}", "id", j->id, "kind", j->kind,
                          "attempt", j->attempt, "organization_id", j->organization_id,
                          "created_by", j->created_by, "payload", j->payload);
    char *text = m != NULL ? json_dumps(m, JSON_COMPACT) : NULL;
    uint32_t len;
    int rc = -1;

    if (text != NULL && strlen(text) <= MSG_MAX_BYTES) {
        len = (uint32_t)strlen(text);
        if (kopro_fs_write_all(s->to_child, &len, sizeof(len)) == 0 &&
            kopro_fs_write_all(s->to_child, text, len) == 0)
            rc = 0;
    }
    free(text);
    json_decref(m);
    return rc;
}

/* Start job *j (taken over: *j is zeroed) in a free slot. */
static void dispatch(struct worker *w, struct slot *s, struct kopro_queue_job *j)
{
    const struct kopro_job_kind *kind = w->o->find_kind(j->kind);
    char err[300];

    if (kind == NULL) {
        snprintf(err, sizeof(err), "unknown job kind '%s': this kopro-worker (%s) has no "
                 "handler for it; check the kind's spelling or upgrade kopro", j->kind,
                 KOPRO_VERSION);
        supervisor_fail(w, j, err, 1, -1);
        job_clear(j);
        return;
    }
    if (is_test_kind(j->kind) && !w->o->enable_test_jobs) {
        snprintf(err, sizeof(err), "job kind '%s' is a test-only kind; this worker refuses it "
                 "(set KOPRO_ENABLE_TEST_JOBS=1 only in test environments)", j->kind);
        supervisor_fail(w, j, err, 1, -1);
        job_clear(j);
        return;
    }
    if (s->pid > 0 && s->jobs_done >= w->o->jobs_per_child) {
        /* That child has run its share and is exiting: wait for it, start a new one. */
        int status = 0;
        if (waitpid(s->pid, &status, 0) == s->pid)
            slot_reaped(w, s, status);
        slot_close(s);
        s->pid = 0;
    }
    for (int tries = 0; tries < 2; tries++) {
        if (s->pid == 0 && slot_spawn(w, s) != 0) {
            log_line("cannot start a job process: %s", kopro_error_last());
            break;
        }
        s->job = *j;
        memset(j, 0, sizeof(*j));
        s->busy = 1;
        s->timed_out = 0;
        s->started_ms = now_ms();
        s->deadline_ms = s->started_ms + 1000LL * (kind->timeout_s > 0 ? kind->timeout_s : 3600);
        log_job(&s->job, "start", -1, NULL);
        if (send_job(s, &s->job) == 0)
            return;
        /* The child died between jobs (recycled or killed): start a fresh one. */
        *j = s->job;
        memset(&s->job, 0, sizeof(s->job));
        s->busy = 0;
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        slot_close(s);
        s->pid = 0;
    }
    /* Leave it to lease expiry: the job is rescued, never lost. */
    log_job(j, "undispatched", -1, "note=rescued-after-lease");
    job_clear(j);
}

/*
 * Replace, while idle, each child that has run its --jobs-per-child share (it
 * exits after its last report): the fork and the new child's connection
 * happen now, not in front of the next job's start.
 */
static void renew_children(struct worker *w)
{
    for (int i = 0; i < w->o->concurrency; i++) {
        struct slot *s = &w->slots[i];
        int status = 0;

        if (s->busy || s->pid <= 0 || s->jobs_done < w->o->jobs_per_child)
            continue;
        if (waitpid(s->pid, &status, 0) == s->pid)
            slot_reaped(w, s, status);
        else {
            slot_close(s);
            s->pid = 0;
        }
        if (slot_spawn(w, s) != 0)
            log_line("cannot start a job process: %s", kopro_error_last());
    }
}

static int busy_count(const struct worker *w)
{
    int n = 0;
    for (int i = 0; i < w->o->concurrency; i++)
        n += w->slots[i].busy;
    return n;
}

static void pending_push(struct worker *w, struct kopro_queue_job *jobs, size_t n)
{
    if (n == 0)
        return;
    if (w->pending_buf != NULL && w->pending != w->pending_buf &&
        (size_t)(w->pending - w->pending_buf) + w->npending + n > w->pending_cap) {
        /* Move what is left to the front (taking from the front only advances
         * the pointer: no copy of the whole list for each job started). */
        memmove(w->pending_buf, w->pending, w->npending * sizeof(*w->pending));
        w->pending = w->pending_buf;
    }
    if (w->npending + n > w->pending_cap) {
        size_t cap = (w->npending + n) * 2;
        struct kopro_queue_job *p = realloc(w->pending_buf, cap * sizeof(*p));
        if (p == NULL) {
            /* Out of memory: the leases expire and the jobs are rescued. */
            for (size_t i = 0; i < n; i++)
                job_clear(&jobs[i]);
            return;
        }
        w->pending_buf = p;
        w->pending = p;
        w->pending_cap = cap;
    }
    memcpy(w->pending + w->npending, jobs, n * sizeof(*jobs));
    w->npending += n;
}

/* How many claimed jobs to hold ahead of the free slots: none when jobs are long
 * (so that another worker can take them) or batching is off; else about
 * PREFETCH_WORK_MS of work per worker, PREFETCH_MIN..PREFETCH_MAX jobs. */
static int prefetch_target(const struct worker *w)
{
    int c = w->o->concurrency;
    double per_job_ms = w->avg_ms > 0.2 ? w->avg_ms : 0.2;
    double t;

    if (w->o->no_batch || w->avg_ms >= PREFETCH_BELOW_MS)
        return 0;
    t = (double)c * PREFETCH_WORK_MS / per_job_ms;
    if (t < PREFETCH_MIN)
        t = PREFETCH_MIN;
    if (t < c)
        t = c;
    return t > PREFETCH_MAX ? PREFETCH_MAX : (int)t;
}

/* How many jobs to claim now (0: none, the slots and the prefetch are full). */
static int claim_wanted(const struct worker *w)
{
    int free_slots = w->o->concurrency - busy_count(w) - (int)w->npending;
    /* Claim ahead (prefetch) only while jobs are short, so that long jobs are
     * never held back in one worker while another one idles. */
    int target = prefetch_target(w);

    if (free_slots < 0)
        free_slots = 0;
    /* Refill in batches: wait until the prefetch is half used. */
    if (free_slots == 0 && (int)w->npending > target / 2)
        return 0;
    return free_slots + (target > (int)w->npending ? target - (int)w->npending : 0);
}

static void claim_more(struct worker *w)
{
    struct kopro_queue_job *jobs = NULL;
    size_t n = 0;
    int want = claim_wanted(w);
    int rc;

    if (want <= 0)
        return;
    rc = kopro_queue_claim(&jobs, &n, w->db, w->worker_id, w->o->kinds, (size_t)want,
                           w->o->lease_s);
    if (rc != 0) {
        log_line("claim failed: %s", kopro_error_last());
        w->maybe_more = 0; /* retried at the next poll */
        return;
    }
    w->maybe_more = n == (size_t)want;
    pending_push(w, jobs, n);
    free(jobs); /* the elements were moved */
}

static void dispatch_pending(struct worker *w)
{
    for (int i = 0; i < w->o->concurrency && w->npending > 0; i++) {
        struct slot *s = &w->slots[i];
        struct kopro_queue_job j;
        if (s->busy)
            continue;
        j = w->pending[0];
        w->pending++;
        if (--w->npending == 0)
            w->pending = w->pending_buf;
        dispatch(w, s, &j);
    }
}

/* Record the buffered successes: one fenced UPDATE for all of them. */
static void flush_done(struct worker *w)
{
    json_t *items = NULL;
    char *text = NULL;
    PGresult *res = NULL;
    const char *params[2];

    if (w->ndone == 0)
        return;
    items = json_array();
    for (size_t i = 0; items != NULL && i < w->ndone; i++) {
        json_t *it = json_pack("{s:s, s:i, s:O?}", "id", w->done[i].job.id, "attempt",
                               w->done[i].job.attempt, "result", w->done[i].result);
        if (it == NULL || json_array_append_new(items, it) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    text = items != NULL ? json_dumps(items, JSON_COMPACT) : NULL;
    params[0] = w->worker_id;
    params[1] = text;
    if (text == NULL ||
        kopro_db_exec_prepared(w->db, &res, "recording finished jobs", "kopro_worker_flush",
                      "UPDATE kopro.jobs j SET state = 'succeeded', result = t.result,"
                      " locked_until = NULL, finished_at = now(), updated_at = now()"
                      " FROM jsonb_to_recordset($2::jsonb) AS t(id uuid, attempt int, result jsonb)"
                      " WHERE j.id = t.id AND j.attempts = t.attempt AND j.locked_by = $1"
                      "   AND j.state = 'running' RETURNING j.id::text",
                      2, params) != 0) {
        /* Their leases expire and they run again: at least once, never lost. */
        log_line("could not record %zu finished job(s): %s", w->ndone,
                 text == NULL ? "out of memory" : kopro_error_last());
        if (PQstatus(w->db) == CONNECTION_OK)
            goto done; /* keep them; the next flush retries */
        goto drop;
    }
    for (size_t i = 0; i < w->ndone; i++) {
        const struct kopro_queue_job *j = &w->done[i].job;
        struct kind_stats *st = stats_for(w, j->kind);
        /* Every row updated (the usual case): all were found, no search. */
        int found = (size_t)PQntuples(res) == w->ndone;
        for (int r = 0; r < PQntuples(res) && !found; r++)
            found = strcmp(PQgetvalue(res, r, 0), j->id) == 0;
        log_job(j, found ? "succeeded" : "stale", w->done[i].duration_ms, NULL);
        if (st != NULL) {
            if (found)
                st->ok++;
            else
                st->stale++;
        }
    }
drop:
    for (size_t i = 0; i < w->ndone; i++) {
        job_clear(&w->done[i].job);
        json_decref(w->done[i].result);
    }
    w->ndone = 0;
done:
    PQclear(res);
    free(text);
    json_decref(items);
}

static void heartbeat(struct worker *w)
{
    const char *ids[MAX_SLOTS * 3];
    int atts[MAX_SLOTS * 3];
    size_t n = 0;
    size_t renewed = 0;

    for (int i = 0; i < w->o->concurrency; i++)
        if (w->slots[i].busy) {
            ids[n] = w->slots[i].job.id;
            atts[n++] = w->slots[i].job.attempt;
        }
    for (size_t i = 0; i < w->npending && n < MAX_SLOTS * 3; i++) {
        ids[n] = w->pending[i].id;
        atts[n++] = w->pending[i].attempt;
    }
    if (n == 0)
        return;
    if (kopro_queue_heartbeat(&renewed, w->db, w->worker_id, ids, atts, n, w->o->lease_s) != 0)
        log_line("heartbeat failed: %s", kopro_error_last());
    else if (renewed < n)
        log_line("heartbeat renewed %zu of %zu leases (the others just finished, or were "
                 "rescued or cancelled)", renewed, n);
}

static void release_all(struct worker *w, const char *reason)
{
    for (int i = 0; i < w->o->concurrency; i++) {
        struct slot *s = &w->slots[i];
        if (!s->busy)
            continue;
        struct kopro_queue_fence f = {s->job.id, s->job.attempt, w->worker_id};
        if (kopro_queue_release(w->db, &f, reason) == 0)
            log_job(&s->job, "released", now_ms() - s->started_ms, NULL);
        job_clear(&s->job);
        s->busy = 0;
    }
    for (size_t i = 0; i < w->npending; i++) {
        struct kopro_queue_fence f = {w->pending[i].id, w->pending[i].attempt, w->worker_id};
        if (kopro_queue_release(w->db, &f, reason) == 0)
            log_job(&w->pending[i], "released", -1, NULL);
        job_clear(&w->pending[i]);
    }
    w->npending = 0;
    w->pending = w->pending_buf;
}

static void write_metrics(struct worker *w)
{
    struct kopro_buf b;
    PGresult *res = NULL;

    kopro_buf_init(&b, 1024 * 1024);
    if (kopro_db_exec(w->db, &res, "metrics",
                      "SELECT kind, state, count(*) FROM kopro.jobs GROUP BY kind, state "
                      "ORDER BY kind, state",
                      0, NULL) != 0) {
        log_line("metrics query failed: %s", kopro_error_last());
        goto done;
    }
    kopro_buf_adds(&b, "# HELP kopro_jobs Jobs in kopro.jobs by kind and state.\n"
                       "# TYPE kopro_jobs gauge\n");
    for (int r = 0; r < PQntuples(res); r++)
        kopro_buf_addf(&b, "kopro_jobs{kind=\"%s\",state=\"%s\"} %s\n", PQgetvalue(res, r, 0),
                       PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
    kopro_buf_adds(&b, "# HELP kopro_worker_attempts_total Attempts finished by this worker "
                       "process, by kind and outcome.\n"
                       "# TYPE kopro_worker_attempts_total counter\n");
    for (size_t i = 0; i < w->nstats; i++) {
        const struct kind_stats *s = &w->stats[i];
        kopro_buf_addf(&b,
                       "kopro_worker_attempts_total{kind=\"%s\",outcome=\"succeeded\"} %lu\n"
                       "kopro_worker_attempts_total{kind=\"%s\",outcome=\"failed\"} %lu\n"
                       "kopro_worker_attempts_total{kind=\"%s\",outcome=\"dead\"} %lu\n"
                       "kopro_worker_attempts_total{kind=\"%s\",outcome=\"stale\"} %lu\n"
                       "kopro_worker_attempts_total{kind=\"%s\",outcome=\"crashed\"} %lu\n",
                       s->kind, s->ok, s->kind, s->retry, s->kind, s->dead, s->kind, s->stale,
                       s->kind, s->crashed);
    }
    kopro_buf_adds(&b, "# HELP kopro_worker_job_duration_seconds Run time of attempts that "
                       "reported back, by kind.\n"
                       "# TYPE kopro_worker_job_duration_seconds summary\n");
    for (size_t i = 0; i < w->nstats; i++)
        kopro_buf_addf(&b,
                       "kopro_worker_job_duration_seconds_sum{kind=\"%s\"} %.3f\n"
                       "kopro_worker_job_duration_seconds_count{kind=\"%s\"} %lu\n",
                       w->stats[i].kind, w->stats[i].seconds_sum, w->stats[i].kind,
                       w->stats[i].seconds_count);
    if (b.data != NULL &&
        kopro_fs_write_file_atomic(w->o->metrics_path, b.data, b.len, 0644) != 0)
        log_line("cannot write metrics: %s", kopro_error_last());
done:
    PQclear(res);
    kopro_buf_free(&b);
}

/*
 * The supervisor's session: LISTEN, and plans that stay on the indexes. Right
 * after a bulk INSERT the table has no fresh statistics (autoanalyze runs up
 * to a minute later), and the planner then picks a bitmap scan and a sort of
 * every runnable job for each claim, or a hash join for each batched
 * completion: 20x slower on 100,000 jobs. The claim (in jobs_claim_idx order),
 * completion, heartbeat and rescue statements are all index lookups, so the
 * other plan shapes are disabled for this connection only (PostgreSQL docs,
 * "Planner Method Configuration"; the metrics query still runs, on an index).
 */
static int session_setup(PGconn *db)
{
    static const char *const sql[] = {
        "LISTEN kopro_jobs",          "SET enable_seqscan = off",  "SET enable_bitmapscan = off",
        "SET enable_sort = off",      "SET enable_hashjoin = off", "SET enable_mergejoin = off"};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(sql) / sizeof(sql[0]); i++)
        rc = kopro_db_exec(db, NULL, "setting up the queue session", sql[i], 0, NULL);
    return rc;
}

static int ensure_db(struct worker *w)
{
    if (PQstatus(w->db) == CONNECTION_OK)
        return 0;
    PQreset(w->db);
    if (PQstatus(w->db) != CONNECTION_OK)
        return KOPRO_EUNAVAIL;
    log_line("database connection re-established");
    w->maybe_more = 1;
    return session_setup(w->db);
}

static void drain_notifications(struct worker *w)
{
    PGnotify *n;

    if (PQconsumeInput(w->db) == 0)
        return;
    while ((n = PQnotifies(w->db)) != NULL) {
        int wanted = w->o->kinds == NULL || strcmp(n->extra, "*") == 0 || n->extra[0] == '\0';
        for (size_t i = 0; !wanted && w->o->kinds[i] != NULL; i++)
            wanted = strcmp(w->o->kinds[i], n->extra) == 0;
        if (wanted)
            w->maybe_more = 1;
        PQfreemem(n);
    }
}

static int check_opts(const struct kopro_worker_opts *o)
{
    if (o->concurrency < 1 || o->concurrency > MAX_SLOTS)
        return kopro_error_set(KOPRO_EINVAL, "--concurrency %d: must be 1..%d", o->concurrency,
                               MAX_SLOTS);
    if (o->lease_s < 1)
        return kopro_error_set(KOPRO_EINVAL, "--lease %d: must be 1 second or more", o->lease_s);
    if (o->poll_ms < 10)
        return kopro_error_set(KOPRO_EINVAL, "--poll-ms %d: must be 10 or more", o->poll_ms);
    if (o->grace_s < 0)
        return kopro_error_set(KOPRO_EINVAL, "--grace %d: must be 0 or more", o->grace_s);
    if (o->jobs_per_child < 1)
        return kopro_error_set(KOPRO_EINVAL, "--jobs-per-child %d: must be 1 or more",
                               o->jobs_per_child);
    if (o->prune_after_s < 0)
        return kopro_error_set(KOPRO_EINVAL, "--prune-after %ld: must be 0 (never) or more",
                               o->prune_after_s);
    if (o->find_kind == NULL)
        return kopro_error_set(KOPRO_EINVAL, "worker options: find_kind is NULL");
    return 0;
}

int kopro_worker_run(const struct kopro_worker_opts *o)
{
    struct worker *w = NULL;
    sigset_t mask;
    sigset_t old_mask;
    int mask_set = 0;
    int version = 0;
    int64_t next_hb = 0, next_rescue = 0, next_prune = 0, next_metrics = 0, next_poll = 0;
    int64_t next_watchdog = 0;
    int rc;

    rc = check_opts(o);
    if (rc != 0)
        return rc;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    w->o = o;
    w->sigfd = -1;
    w->supervisor = getpid();
    for (int i = 0; i < MAX_SLOTS; i++) {
        w->slots[i].to_child = -1;
        w->slots[i].from_child = -1;
    }
    if (o->worker_id != NULL) {
        copy_str(w->worker_id, sizeof(w->worker_id), o->worker_id);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        snprintf(w->worker_id, sizeof(w->worker_id), "%s:%ld", host, (long)getpid());
    }
    srandom((unsigned)(getpid() ^ (unsigned)now_ms()));

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, &old_mask) != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "sigprocmask: %s", strerror(errno));
        goto done;
    }
    mask_set = 1;
    signal(SIGPIPE, SIG_IGN);
    w->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (w->sigfd < 0) {
        rc = kopro_error_set(KOPRO_ERROR, "signalfd: %s", strerror(errno));
        goto done;
    }

    rc = kopro_db_connect(&w->db, o->conninfo, "kopro-worker");
    if (rc != 0)
        goto done;
    rc = kopro_migrate_check(&version, w->db);
    if (rc != 0)
        goto done;
    rc = session_setup(w->db);
    if (rc != 0)
        goto done;
    {
        int sd_rc = sd_watchdog_enabled(0, &w->watchdog_usec);
        if (sd_rc <= 0)
            w->watchdog_usec = 0;
    }
    sd_notifyf(0, "READY=1\nSTATUS=running %d slot(s), schema version %d", o->concurrency,
               version);
    log_line("worker=%s started: concurrency=%d lease_s=%d schema=%d%s", w->worker_id,
             o->concurrency, o->lease_s, version, o->once ? " once" : "");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    if (o->memory_limit_bytes > 0)
        log_line("note: sanitizer build, the address-space limit (RLIMIT_AS) is not applied");
#endif

    w->maybe_more = 1;
    next_rescue = now_ms();
    for (;;) {
        int64_t t = now_ms();
        int64_t wake;
        struct pollfd pfd[MAX_SLOTS + 2];
        int slot_of[MAX_SLOTS + 2];
        int npfd = 0;
        int n;

        if (w->stop_requested && !w->stopping) {
            w->stopping = 1;
            w->stop_deadline_ms = t + 1000LL * o->grace_s;
            sd_notify(0, "STOPPING=1");
            log_line("stopping: no new jobs; %d running get %d s to finish", busy_count(w),
                     o->grace_s);
            for (size_t i = 0; i < w->npending; i++) {
                struct kopro_queue_fence f = {w->pending[i].id, w->pending[i].attempt,
                                              w->worker_id};
                if (kopro_queue_release(w->db, &f, "released: worker shutting down") == 0)
                    log_job(&w->pending[i], "released", -1, NULL);
                job_clear(&w->pending[i]);
            }
            w->npending = 0;
            w->pending = w->pending_buf;
        }
        if (w->stopping) {
            flush_done(w);
            if (busy_count(w) == 0)
                break;
            if (t >= w->stop_deadline_ms) {
                for (int i = 0; i < o->concurrency; i++)
                    if (w->slots[i].busy && w->slots[i].pid > 0)
                        kill(w->slots[i].pid, SIGKILL);
                for (int i = 0; i < o->concurrency; i++)
                    if (w->slots[i].busy && w->slots[i].pid > 0) {
                        waitpid(w->slots[i].pid, NULL, 0);
                        /* It may have finished just before the kill. */
                        slot_read_report(w, &w->slots[i], 0);
                        slot_close(&w->slots[i]);
                        w->slots[i].pid = 0;
                    }
                flush_done(w);
                release_all(w, "released: worker stopped before the job finished (grace "
                               "period over)");
                break;
            }
        }
        if (ensure_db(w) != 0) {
            if (t >= next_poll)
                log_line("database unreachable; retrying");
            next_poll = t + o->poll_ms;
        }
        if (t >= next_rescue) {
            size_t rescued = 0;
            if (kopro_queue_rescue(&rescued, w->db) == 0 && rescued > 0) {
                log_line("rescued %zu job(s) whose lease expired", rescued);
                w->maybe_more = 1;
            }
            next_rescue = t + (o->lease_s * 1000LL) / 2;
        }
        if (o->prune_after_s > 0 && t >= next_prune) {
            /* Batches of 10,000 keep each DELETE short; --once finishes the job. */
            size_t deleted = 0;
            size_t total = 0;
            do {
                if (kopro_queue_prune(&deleted, w->db, o->prune_after_s) != 0) {
                    log_line("pruning failed: %s", kopro_error_last());
                    deleted = 0;
                }
                total += deleted;
            } while (o->once && deleted == 10000);
            if (total > 0)
                log_line("pruned %zu finished job(s) older than %ld s", total, o->prune_after_s);
            next_prune = t + (deleted == 10000 ? 1000 : 60000);
        }
        /* Batch the successes: flush at once with --no-batch, else once
         * FLUSH_MAX are in, the oldest has waited FLUSH_MS, or nothing else is
         * running or waiting. */
        if (w->ndone > 0 && (o->no_batch || w->ndone >= FLUSH_MAX ||
                             (busy_count(w) == 0 && w->npending == 0) ||
                             t - w->first_done_ms >= FLUSH_MS))
            flush_done(w);
        if (!w->stopping && w->maybe_more)
            claim_more(w);
        if (!w->stopping) {
            renew_children(w);
            dispatch_pending(w);
        }
        if (o->once && !w->stopping && busy_count(w) == 0 && w->npending == 0 && !w->maybe_more)
            break;
        t = now_ms();
        if (t >= next_hb) {
            heartbeat(w);
            next_hb = t + (o->lease_s * 1000LL) / 3;
        }
        if (o->metrics_path != NULL && t >= next_metrics) {
            write_metrics(w);
            next_metrics = t + 10000;
        }
        if (w->watchdog_usec > 0 && t >= next_watchdog) {
            sd_notify(0, "WATCHDOG=1");
            next_watchdog = t + (int64_t)(w->watchdog_usec / 2000);
        }
        for (int i = 0; i < o->concurrency; i++) {
            struct slot *s = &w->slots[i];
            if (s->busy && !s->timed_out && t >= s->deadline_ms && s->pid > 0) {
                s->timed_out = 1;
                kill(s->pid, SIGKILL);
            }
        }

        /* Sleep until something happens or the next timer. */
        drain_notifications(w);
        if (next_poll <= t)
            next_poll = t + o->poll_ms;
        wake = next_poll;
        if (next_hb < wake)
            wake = next_hb;
        if (next_rescue < wake)
            wake = next_rescue;
        if (w->watchdog_usec > 0 && next_watchdog < wake)
            wake = next_watchdog;
        if (w->stopping && w->stop_deadline_ms < wake)
            wake = w->stop_deadline_ms;
        if (w->ndone > 0 && w->first_done_ms + FLUSH_MS < wake)
            wake = w->first_done_ms + FLUSH_MS;
        /* A notification that libpq read during a claim or a completion is
         * already off the socket: poll() would not wake for it, and the job
         * would wait for the next poll (--poll-ms). Claim again at once. */
        if (w->maybe_more && !w->stopping && claim_wanted(w) > 0)
            wake = t;
        for (int i = 0; i < o->concurrency; i++)
            if (w->slots[i].busy && !w->slots[i].timed_out && w->slots[i].deadline_ms < wake)
                wake = w->slots[i].deadline_ms;
        pfd[npfd].fd = w->sigfd;
        pfd[npfd].events = POLLIN;
        slot_of[npfd++] = -1;
        if (PQsocket(w->db) >= 0) {
            pfd[npfd].fd = PQsocket(w->db);
            pfd[npfd].events = POLLIN;
            slot_of[npfd++] = -2;
        }
        for (int i = 0; i < o->concurrency; i++)
            if (w->slots[i].busy && w->slots[i].from_child >= 0) {
                pfd[npfd].fd = w->slots[i].from_child;
                pfd[npfd].events = POLLIN;
                slot_of[npfd++] = i;
            }
        n = poll(pfd, (nfds_t)npfd, wake > t ? (int)(wake - t) : 0);
        if (n < 0 && errno != EINTR) {
            rc = kopro_error_set(KOPRO_ERROR, "poll: %s", strerror(errno));
            goto done;
        }
        if (now_ms() >= next_poll)
            w->maybe_more = 1;
        for (int k = 0; n > 0 && k < npfd; k++) {
            if (pfd[k].revents == 0)
                continue;
            if (slot_of[k] == -1) {
                struct signalfd_siginfo si;
                while (read(w->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        w->stop_requested = 1;
                }
                reap_children(w);
            } else if (slot_of[k] == -2) {
                drain_notifications(w);
            } else {
                struct slot *s = &w->slots[slot_of[k]];
                /* The slot may have been reaped above in this same round. */
                if (!s->busy || s->pid <= 0 || s->from_child != pfd[k].fd)
                    continue;
                if (!slot_read_report(w, s, 1)) {
                    /* EOF: the child is gone; reap it now, which fails its job. */
                    int status = 0;
                    if (waitpid(s->pid, &status, 0) == s->pid)
                        slot_reaped(w, s, status);
                }
            }
        }
    }
    rc = 0;
    flush_done(w);
    if (o->metrics_path != NULL)
        write_metrics(w); /* the final counts */
done:
    if (w != NULL) {
        for (int i = 0; i < MAX_SLOTS; i++) {
            struct slot *s = &w->slots[i];
            if (s->pid > 0) {
                slot_close(s); /* an idle child exits on EOF */
                waitpid(s->pid, NULL, 0);
            }
            job_clear(&s->job);
        }
        for (size_t i = 0; i < w->npending; i++)
            job_clear(&w->pending[i]);
        free(w->pending_buf);
        for (size_t i = 0; i < w->ndone; i++) {
            job_clear(&w->done[i].job);
            json_decref(w->done[i].result);
        }
        free(w->done);
        if (w->db != NULL)
            PQfinish(w->db);
        if (w->sigfd >= 0)
            close(w->sigfd);
        if (rc == 0)
            log_line("worker=%s stopped", w->worker_id);
        free(w);
    }
    if (mask_set)
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return rc;
}
