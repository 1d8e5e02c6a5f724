/*
 * kopro/api.h — the minimal core HTTP API of kopro (kopro-api), on
 * libmicrohttpd. It lets KoproGo (or an operator) enqueue jobs, follow them
 * and download what they produced, with KoproGo's own bearer tokens
 * (kopro/jwt.h). The endpoints, roles and tenancy rules are documented in
 * README.md ("## kopro-api") and in openapi.yaml at the repository root.
 *
 * In short:
 *   GET  /api/v1/health, /api/v1/ready, /metrics        (no token)
 *   POST /api/v1/jobs {kind, payload}                    → 202 {id, state}
 *   GET  /api/v1/jobs/{id}, /api/v1/jobs/{id}/result
 *   POST /api/v1/meetings/{id}/minutes | vote-results    (pdf.minutes, pdf.votes)
 *   POST /api/v1/buildings/{id}/pcn | statements         (pdf.pcn, pdf.statements)
 *   GET  /api/v1/gdpr/export, DELETE /api/v1/gdpr/erase  (gdpr.export, gdpr.erase)
 * A job or result of another organization answers 404, never 403. Jobs are
 * added only through kopro.enqueue() (lib/migrations/0001_jobs.sql) or, for
 * batches without a unique key, kopro.enqueue_many() (0103), and only
 * for kinds the linked job registry knows (jobs/jobs.h), so no job is queued
 * that no worker can run.
 *
 * Sources: RFC 9110 (HTTP semantics: 202, 404, 405 + Allow, 409, 410, 413,
 * 429 + Retry-After), RFC 6750 (bearer tokens, WWW-Authenticate), the
 * Prometheus text exposition format 0.0.4, libmicrohttpd 0.9.75's manual.
 */
#ifndef KOPRO_API_H
#define KOPRO_API_H

#include <stddef.h>
#include <sys/socket.h>

struct kopro_config;
struct kopro_jwt_key;

#define KOPRO_API_DEFAULT_LISTEN "127.0.0.1:8081"
#define KOPRO_API_DEFAULT_BODY_CAP_BYTES (64 * 1024)
#define KOPRO_API_DEFAULT_THREADS 8
#define KOPRO_API_DEFAULT_GDPR_PER_HOUR 10

/*
 * Where the server sends one line per request (method, route pattern,
 * status, duration) and libmicrohttpd's own errors. The line never holds a
 * token, an e-mail address or a request body. Called from server threads,
 * possibly concurrently: the callee must be thread-safe (one fputs() to
 * stderr is). `line` has no trailing newline.
 */
typedef void (*kopro_api_log_fn)(void *userdata, const char *line);

struct kopro_api_options {
    const char *listen;       /* "HOST:PORT" / "[V6]:PORT"; NULL → KOPRO_API_LISTEN
                                 or KOPRO_API_DEFAULT_LISTEN; port 0 picks a free one */
    const char *database_url; /* libpq URL; NULL → KOPRO_DATABASE_URL */
    unsigned threads;         /* handler threads, each with at most one pooled DB
                                 connection (max 256); 0 → default */
    size_t body_cap_bytes;    /* largest request body; 0 → default (64 KiB) */
    unsigned gdpr_per_hour;   /* GDPR requests per user per hour; 0 → default (10) */
    kopro_api_log_fn log;     /* NULL: no log */
    void *log_userdata;
};

struct kopro_api; /* opaque: a running server */

/*
 * Parse a listen address "HOST:PORT" (HOST a numeric IPv4 address, a name
 * resolved with getaddrinfo(3), or "[IPv6]") into *addr_out / *addr_len_out.
 * Returns 0 or KOPRO_EINVAL naming the address and the expected form.
 * Thread-safe.
 */
int kopro_api_parse_listen(struct sockaddr_storage *addr_out, socklen_t *addr_len_out,
                           const char *listen);

/*
 * Start the server: a libmicrohttpd daemon with one epoll polling thread per
 * core (at most 4) for all HTTP connections (at most 512; more wait in the
 * listen backlog). A request that needs the database is suspended
 * (MHD_suspend_connection) and run on one of `threads` handler threads, each
 * of which borrows one of `threads` pooled PostgreSQL connections while it
 * needs one (connections are opened lazily and reopened after a failure, so
 * the server starts while the database is down and /api/v1/ready tells).
 * Plain enqueues (no unique key) go to one enqueue thread with its own
 * connection, without holding a pooled one: those arriving together are
 * inserted by one kopro.enqueue_many() statement (one INSERT), so concurrent
 * requests share one commit and one NOTIFY (group commit); each request is
 * answered 202 only after that commit, and no thread waits for it.
 * The key is borrowed and must outlive the server. The configuration `cfg`
 * (may be NULL) must outlive it too; it is read for KOPRO_API_LISTEN,
 * KOPRO_DATABASE_URL, KOPRO_ENABLE_TEST_JOBS (test.* kinds are enqueued only
 * when it is 1, as kopro-worker runs them only then) and KOPRO_DOCUMENT_STORE
 * (a path or file:// URL, default ./var/documents as in kopro/docstore.h;
 * results are streamed only from files below it).
 * Returns 0 and *out (stop it with kopro_api_stop()); KOPRO_EINVAL for a bad
 * listen address, option or KOPRO_DOCUMENT_STORE scheme; KOPRO_EUNAVAIL if
 * the socket cannot be bound (address in use, permission); KOPRO_ERROR
 * otherwise.
 * Thread-safety: call from one thread; the server runs on its own threads.
 */
int kopro_api_start(struct kopro_api **out, const struct kopro_config *cfg,
                    const struct kopro_jwt_key *key, const struct kopro_api_options *opts);

/* The TCP port the server listens on (useful with port 0), or 0 on error. */
unsigned kopro_api_port(const struct kopro_api *api);

/*
 * Graceful stop: stop accepting connections, answer the requests already
 * taken (new requests on open connections get 503), join the threads, close
 * the database connections and release everything. Waits as long as a
 * request in flight waits for the database. NULL allowed.
 */
void kopro_api_stop(struct kopro_api *api);

#endif
