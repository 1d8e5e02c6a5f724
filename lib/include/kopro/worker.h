/*
 * kopro/worker.h — the kopro-worker daemon: claims jobs from kopro.jobs
 * (kopro/queue.h) and runs each in an isolated child process.
 *
 * Process model: the calling process is the supervisor. It owns one database
 * connection (LISTEN kopro_jobs, claims, heartbeats, lease rescue, pruning,
 * metrics) and `concurrency` slots; each slot is a forked child with its own
 * connection, its own rlimits (RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_CORE = 0, and a
 * per-job RLIMIT_CPU of the kind's timeout) that runs one job at a time and is
 * replaced after `jobs_per_child` jobs (1 = a fresh process for every job). A
 * child that crashes, is killed by an rlimit or overruns the kind's wall-clock
 * timeout fails only its attempt, with the signal named; the supervisor lives
 * on. Children get SIGKILL if the supervisor dies (PR_SET_PDEATHSIG), so a
 * `kill -9` of the daemon never leaves a job running unseen: its leases expire
 * and any worker rescues them.
 *
 * Completion: a handler may leave a transaction open on ctx->db when it
 * returns 0; the child then writes the completion in that same transaction
 * (its writes and the job's `succeeded` commit together, or not at all when
 * the lease is stale): exactly-once effects. A handler that returns 0 with no
 * transaction open hands its success (and result) to the supervisor, which
 * records many in one fenced UPDATE (at most 20 ms later, or at once with
 * `no_batch`); should the
 * supervisor die in between, the job runs again after its lease expires
 * (at-least-once). Failures are always recorded by the child at once.
 *
 * Claiming: the supervisor claims for its free slots and, while recent jobs
 * are short (moving average under 50 ms), about 100 ms of work ahead
 * (max(concurrency, 8) to 512 jobs, renewed by the heartbeat like running
 * ones), so that claims and completions go in batches of up to 512; long jobs
 * are never claimed ahead. `no_batch` turns both batchings off.
 *
 * Signals (supervisor): SIGTERM/SIGINT stop claiming at once, let running jobs
 * finish within `grace_s`, then SIGKILL the rest and release their jobs (queued,
 * runnable now). systemd: READY=1 once the database answers and the schema
 * matches, WATCHDOG=1 from the main loop, STOPPING=1 on the way out
 * (sd_notify(3); a no-op outside systemd).
 *
 * Logs: one line per job event on stderr: time, job id, kind, attempt, event,
 * duration, error code. Never payloads, results or error texts (they may name
 * people); the error text is stored in kopro.jobs.last_error.
 */
#ifndef KOPRO_WORKER_H
#define KOPRO_WORKER_H

#include "jobs.h"

struct kopro_config;

struct kopro_worker_opts {
    const char *conninfo;          /* libpq URI, or NULL for KOPRO_DATABASE_URL */
    const struct kopro_config *cfg; /* handed to handlers as ctx->cfg */
    const char *worker_id;         /* lease owner name; NULL: "<hostname>:<pid>" */
    int concurrency;               /* child slots, 1..256 */
    const char *const *kinds;      /* NULL-terminated kinds to run (--queues), or NULL: all */
    int once;                      /* run what is runnable now, then return */
    int lease_s;                   /* lease length, renewed every lease_s/3; >= 1 */
    int poll_ms;                   /* poll fallback when no NOTIFY arrives; >= 10 */
    int grace_s;                   /* SIGTERM grace period; >= 0 */
    int jobs_per_child;            /* recycle a child after this many jobs; >= 1 */
    long prune_after_s;            /* delete finished jobs older than this; 0: never */
    const char *metrics_path;      /* Prometheus textfile, rewritten every 10 s, or NULL */
    long memory_limit_bytes;       /* RLIMIT_AS of a child; 0: unlimited */
    long max_open_files;           /* RLIMIT_NOFILE of a child; 0: inherited */
    int enable_test_jobs;          /* run kinds named test.* (else they die with an error) */
    int no_batch;                  /* 1: claim only for free slots and record each success
                                      with its own UPDATE (one commit per job) */
    /* Looks up a kind by name (kopro_jobs_find from jobs/jobs.h). */
    const struct kopro_job_kind *(*find_kind)(const char *name);
};

/* Fill *o with the defaults: concurrency 2, lease 30 s, poll 5000 ms, grace 25 s,
 * 100 jobs per child, prune after 7 days, 2 GiB address space, 256 files. */
void kopro_worker_opts_init(struct kopro_worker_opts *o);

/*
 * Run the worker until SIGTERM/SIGINT (or, with `once`, until no job is
 * runnable and none is running). Installs its own handling of SIGTERM, SIGINT,
 * SIGCHLD and SIGPIPE for the calling process: call it from the main thread of
 * a process that is only a worker.
 *
 * Returns 0 after a clean stop; KOPRO_EINVAL for bad options (the message
 * names the option); KOPRO_EUNAVAIL if the database cannot be reached at
 * start; KOPRO_ENOTFOUND / KOPRO_EVERIFY if the schema does not match
 * (kopro_migrate_check); KOPRO_ERROR for a system failure (fork, pipe).
 * Job failures are never returned: they are recorded on the job.
 * Thread-safety: one call per process.
 */
int kopro_worker_run(const struct kopro_worker_opts *o);

/*
 * Parse a comma-separated list of job kinds ("pdf.minutes,backup.run") into a
 * NULL-terminated array. *out (array and strings) is freed with
 * kopro_worker_kinds_free(). Returns 0 or KOPRO_EINVAL naming the bad entry
 * (empty, longer than 64 bytes, or not [a-z0-9_.]).
 */
int kopro_worker_kinds_parse(char ***out, const char *list);

/* Free an array from kopro_worker_kinds_parse(); NULL allowed. */
void kopro_worker_kinds_free(char **kinds);

/*
 * Describe how a child ended, for the job's error: "killed by signal 11
 * (SIGSEGV, Segmentation fault)" or "exited with status 3". `status` is a
 * waitpid(2) status. Writes at most cap bytes (NUL included) into buf.
 */
void kopro_worker_describe_status(char *buf, size_t cap, int status);

#endif
