/* kopro-api: the minimal core HTTP API on libmicrohttpd. See kopro/api.h. */
#include "kopro/api.h"

#include "jobs.h"
#include "kopro/buf.h"
#include "kopro/config.h"
#include "kopro/db.h"
#include "kopro/error.h"
#include "kopro/gdpr.h"
#include "kopro/jwt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POOL_WAIT_S 10
#define RATE_SLOTS 4096
#define RATE_WINDOW_S 3600
#define RATE_MAX_PER_HOUR 64
#define NSTATUS 600

/* ------------------------------------------------------------ types */

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    PGconn **idle;
    size_t nidle;
    size_t total;
    size_t max;
    const char *url;
};

struct rate_slot {
    char user[37];                /* uuid text; "" when free */
    time_t at[RATE_MAX_PER_HOUR]; /* request times, ring */
    unsigned next;
};

/*
 * Group commit for plain enqueues: handler threads hand their job to one
 * batcher thread and go on with other requests; the batcher inserts
 * everything pending in one statement (one transaction, one commit, one
 * NOTIFY per kind), writes each reply and resumes its connection. A 202 is
 * only sent after the commit. Under low load a batch is one job and nothing
 * waits for a timer.
 */
#define BATCH_MAX 256
#define CONNECTIONS_MAX 512 /* open HTTP connections */

/*
 * A FIFO of intrusive nodes between threads: jobs for the group-commit
 * batcher, requests for the handler threads.
 */
struct fifo_node {
    struct fifo_node *next;
};

struct fifo {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct fifo_node *head;
    struct fifo_node **tail; /* NULL until fifo_init() */
    int stop;
};

#define CONTAINER_OF(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

struct req;

struct enq_item {
    const char *kind; /* the registered kind's name (static) */
    json_t *payload;  /* the item's own copy, touched by the batcher only */
    char org[37];     /* uuid text or "" */
    char created_by[37];
    char id[40];    /* out: the job id */
    int rc;         /* out: 0 or a KOPRO_E* code */
    char msg[256];  /* out: the error message */
    struct req *rq; /* the request it answers */
    struct fifo_node node;
};

struct batcher {
    struct fifo q;
    int started;
    pthread_t thread;
    PGconn *db; /* the batcher's own connection */
    const char *url;
    atomic_ulong batches; /* statements run, for /metrics */
    atomic_ulong jobs;    /* jobs enqueued through them */
};

/* Requests handed from MHD's polling thread to the handler threads. */
struct handlers {
    struct fifo q;
    pthread_t *threads;
    unsigned started;
};

static const double bucket_le_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS (sizeof(bucket_le_s) / sizeof(bucket_le_s[0]))

struct kopro_api {
    struct MHD_Daemon *daemon;
    const struct kopro_config *cfg;
    const struct kopro_jwt_key *key;
    struct pool pool;
    struct batcher batch;
    struct handlers handlers;
    atomic_int inflight; /* suspended requests; kopro_api_stop() waits for none */
    atomic_int draining; /* stopping: new requests get 503 instead of a handler */
    char *db_url;
    char *store; /* KOPRO_DOCUMENT_STORE as a path (file:// removed) */
    size_t body_cap;
    unsigned gdpr_per_hour;
    kopro_api_log_fn log;
    void *log_ud;
    pthread_mutex_t rate_mu;
    struct rate_slot *rate;
    atomic_ulong by_status[NSTATUS];
    atomic_ulong bucket[NBUCKETS + 1];
    atomic_ulong dur_sum_us;
    atomic_ulong dur_count;
};

/* What a handler decided; turned into an MHD response by finish(). */
struct reply {
    int status;
    char *body; /* owned */
    size_t len;
    const char *content_type;
    const char *allow;    /* for 405 */
    const char *www_auth; /* for 401 */
    const char *location; /* for 202; owned copy in loc_buf */
    char loc_buf[96];
    int retry_after_s; /* for 429 */
    /* streaming a file instead of body */
    int fd;
    off_t fd_size;
    char disposition[160];
    char sha256[65];
    char ctype_buf[128];
    int wipe_body; /* body holds personal data: wiped after sending */
};

/*
 * Where a request is. A request that needs the database or the group commit
 * leaves MHD's polling thread: its connection is suspended and a handler
 * thread runs it. Whoever finishes last (the handler thread, or the batcher
 * for a plain enqueue) resumes the connection, and MHD calls on_request()
 * again, which sends the reply. No thread ever waits for a commit.
 */
enum rq_phase { RQ_NEW, RQ_BUSY, RQ_READY, RQ_SENT };

/* The API's endpoints; routes[] below gives their method and pattern. */
enum route {
    R_NONE,
    R_HEALTH,
    R_READY,
    R_METRICS,
    R_JOBS,
    R_JOB,
    R_RESULT,
    R_MINUTES,
    R_VOTES,
    R_PCN,
    R_STATEMENTS,
    R_GDPR_EXPORT,
    R_GDPR_ERASE,
};

/* Per-request state, from the first callback to MHD's completion notice. */
struct req {
    struct kopro_buf body;
    int too_big;
    int status;
    const char *route; /* pattern for the log, static string */
    char method[8];    /* for the log */
    struct timespec t0;
    enum route rt; /* matched at the first callback */
    struct kopro_api *api;
    struct MHD_Connection *conn;
    const char *url; /* MHD's, valid until completion */
    enum rq_phase phase;
    atomic_int holds;   /* RQ_BUSY: the handler thread, plus the batcher while it has the job */
    struct reply reply; /* the handler thread's answer, sent by on_request() */
    struct enq_item item;
    struct fifo_node node; /* in the handler threads' queue */
    int on_poller;         /* dispatch() runs on the polling thread: no database */
    int wants_db;          /* ... and it needed one: run it again on a handler thread */
};

/* ------------------------------------------------------------ small helpers */

static void api_log(struct kopro_api *api, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void api_log(struct kopro_api *api, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (api->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    api->log(api->log_ud, line);
}

static void reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->content_type = "application/json";
}

static void reply_json(struct reply *r, int status, json_t *j)
{
    r->status = status;
    r->body = json_dumps(j, JSON_COMPACT);
    r->len = r->body != NULL ? strlen(r->body) : 0;
    json_decref(j);
}

static const char *error_code_for(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 409:
        return "conflict";
    case 410:
        return "gone";
    case 413:
        return "payload_too_large";
    case 429:
        return "rate_limited";
    case 501:
        return "not_implemented";
    case 503:
        return "unavailable";
    default:
        return "internal";
    }
}

static void reply_error(struct reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct reply *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(r->body);
    r->body = NULL;
    reply_json(r, status, json_pack("{s:s, s:s}", "error", error_code_for(status), "message", msg));
}

/* Map a libkopro code from a database step to an HTTP reply. */
static void reply_db_error(struct reply *r, int code, const char *what)
{
    if (code == KOPRO_EUNAVAIL)
        reply_error(r, 503, "%s: the database is unavailable; retry later", what);
    else if (code == KOPRO_EINVAL)
        reply_error(r, 400, "%s: %s", what, kopro_error_last());
    else
        reply_error(r, 500, "%s failed; see the server log", what);
}

/* ------------------------------------------------------------ connection pool */

static int pool_init(struct pool *p, size_t max, const char *url)
{
    memset(p, 0, sizeof(*p));
    p->idle = calloc(max, sizeof(*p->idle));
    if (p->idle == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for the connection pool");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->max = max;
    p->url = url;
    return 0;
}

static int pool_get(struct pool *p, PGconn **out)
{
    struct timespec until;
    PGconn *c = NULL;
    int rc;

    *out = NULL;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += POOL_WAIT_S;
    pthread_mutex_lock(&p->mu);
    while (p->nidle == 0 && p->total >= p->max) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            return kopro_error_set(KOPRO_EUNAVAIL, "no database connection free within %d s",
                                   POOL_WAIT_S);
        }
    }
    if (p->nidle > 0) {
        *out = p->idle[--p->nidle];
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    p->total++;
    pthread_mutex_unlock(&p->mu);
    rc = kopro_db_connect(&c, p->url, "kopro-api");
    if (rc != 0) {
        pthread_mutex_lock(&p->mu);
        p->total--;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    *out = c;
    return 0;
}

static void pool_put(struct pool *p, PGconn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
        PQfinish(c);
        p->total--;
    } else {
        p->idle[p->nidle++] = c;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void pool_destroy(struct pool *p)
{
    if (p->idle == NULL)
        return;
    for (size_t i = 0; i < p->nidle; i++)
        PQfinish(p->idle[i]);
    free(p->idle);
    p->idle = NULL;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

/*
 * A pooled connection taken on first use. Plain enqueues never need one (they
 * go through the group commit), and a handler that waits for the group commit
 * gives its connection back first: otherwise the pool's size, not the load,
 * would cap how many jobs share one commit.
 */
struct lazy_db {
    struct pool *pool;
    PGconn *c;
    int on_poller; /* running on MHD's polling thread, which must not block */
    int wanted;    /* on_poller and a connection was asked for: nothing done yet */
};

/*
 * The connection, taken from the pool if not yet held; NULL after replying
 * 503. On the polling thread, NULL without a reply: the handler must then
 * return having changed nothing, to be run again on a handler thread.
 */
static PGconn *ldb_get(struct lazy_db *d, struct reply *r)
{
    if (d->on_poller) {
        d->wanted = 1; /* the caller replies nothing; a handler thread runs it again */
        return NULL;
    }
    if (d->c == NULL && pool_get(d->pool, &d->c) != 0) {
        d->c = NULL;
        reply_error(r, 503, "the database is unavailable; retry later");
    }
    return d->c;
}

static void ldb_release(struct lazy_db *d)
{
    pool_put(d->pool, d->c);
    d->c = NULL;
}

/* ------------------------------------------------------------ rate limit */

/* 1 if `user` may make one more GDPR request now (and records it), else 0. */
static int rate_allow(struct kopro_api *api, const char *user, time_t now, int *retry_after_s)
{
    size_t h = 5381;
    size_t free_slot = RATE_SLOTS;
    struct rate_slot *s = NULL;
    unsigned used = 0;
    time_t oldest = now;
    int ok = 0;

    for (const char *p = user; *p != '\0'; p++)
        h = h * 33 + (unsigned char)*p;
    pthread_mutex_lock(&api->rate_mu);
    for (size_t i = 0; i < RATE_SLOTS; i++) {
        struct rate_slot *c = &api->rate[(h + i) % RATE_SLOTS];
        if (c->user[0] == '\0') {
            if (free_slot == RATE_SLOTS)
                free_slot = (h + i) % RATE_SLOTS;
            break;
        }
        if (strcmp(c->user, user) == 0) {
            s = c;
            break;
        }
        /* a slot whose every request is older than the window can be reused */
        if (free_slot == RATE_SLOTS) {
            time_t newest = 0;
            for (unsigned k = 0; k < RATE_MAX_PER_HOUR; k++)
                if (c->at[k] > newest)
                    newest = c->at[k];
            if (newest <= now - RATE_WINDOW_S)
                free_slot = (h + i) % RATE_SLOTS;
        }
    }
    if (s == NULL) {
        if (free_slot == RATE_SLOTS) {
            *retry_after_s = 60;
            goto done;
        }
        s = &api->rate[free_slot];
        memset(s, 0, sizeof(*s));
        snprintf(s->user, sizeof(s->user), "%s", user);
    }
    for (unsigned k = 0; k < RATE_MAX_PER_HOUR; k++) {
        if (s->at[k] > now - RATE_WINDOW_S) {
            used++;
            if (s->at[k] < oldest)
                oldest = s->at[k];
        }
    }
    if (used >= api->gdpr_per_hour) {
        *retry_after_s = (int)(oldest + RATE_WINDOW_S - now);
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        goto done;
    }
    s->at[s->next] = now;
    s->next = (s->next + 1) % RATE_MAX_PER_HOUR;
    ok = 1;
done:
    pthread_mutex_unlock(&api->rate_mu);
    return ok;
}

/* ------------------------------------------------------------ JSON bodies */

/* Parse the request body as a JSON object. Empty body → *out = NULL, 0. */
static int parse_body(json_t **out, const struct req *rq, int required, struct reply *r)
{
    json_error_t err;
    json_t *j;

    *out = NULL;
    if (rq->body.len == 0) {
        if (required) {
            reply_error(r, 400, "the request needs a JSON object body");
            return -1;
        }
        return 0;
    }
    j = json_loadb(rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        reply_error(r, 400, "the request body is not valid JSON: %s (line %d, column %d)", err.text,
                    err.line, err.column);
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        reply_error(r, 400, "the request body must be a JSON object");
        return -1;
    }
    *out = j;
    return 0;
}

/* ------------------------------------------------------------ auth */

static int bearer(struct kopro_api *api, struct MHD_Connection *conn, struct kopro_jwt_claims **out,
                  struct reply *r)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    int rc;

    *out = NULL;
    if (h == NULL) {
        r->www_auth = "Bearer realm=\"kopro\"";
        reply_error(r, 401,
                    "missing Authorization header; send \"Authorization: Bearer <KoproGo "
                    "access token>\"");
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        r->www_auth = "Bearer realm=\"kopro\", error=\"invalid_request\"";
        reply_error(r, 401, "the Authorization header must use the Bearer scheme");
        return -1;
    }
    h += 7;
    while (*h == ' ')
        h++;
    rc = kopro_jwt_verify(out, api->key, h, (int64_t)time(NULL));
    if (rc != 0) {
        r->www_auth = "Bearer realm=\"kopro\", error=\"invalid_token\"";
        if (rc == KOPRO_EAUTH)
            reply_error(r, 401, "invalid token: %s", kopro_error_last());
        else
            reply_error(r, 500, "cannot check the token");
        return -1;
    }
    return 0;
}

static int is_doc_role(const struct kopro_jwt_claims *c)
{
    return c->role == KOPRO_ROLE_SUPERADMIN || c->role == KOPRO_ROLE_SYNDIC ||
           c->role == KOPRO_ROLE_ACCOUNTANT;
}

/*
 * The registered kind `name`, or NULL. test.* kinds (jobs/test_*.c) count
 * only with KOPRO_ENABLE_TEST_JOBS=1, as for kopro-worker and kopro-queue:
 * a production worker would never run them.
 */
static const struct kopro_job_kind *find_kind(const struct kopro_api *api, const char *name)
{
    if (strncmp(name, "test.", 5) == 0 &&
        strcmp(kopro_config_get(api->cfg, "KOPRO_ENABLE_TEST_JOBS", "0"), "1") != 0)
        return NULL;
    return kopro_jobs_find(name);
}

/* ------------------------------------------------------------ tenancy */

/* The tables a payload may reference, and the key naming them. */
static const struct {
    const char *field;
    const char *noun;
    const char *sql; /* $1 id, $2 org or NULL (superadmin) → organization_id::text */
} refs[] = {
    {"meeting_id", "meeting",
     "SELECT organization_id::text FROM public.meetings WHERE id = $1::uuid "
     "AND ($2::uuid IS NULL OR organization_id = $2::uuid)"},
    {"building_id", "building",
     "SELECT organization_id::text FROM public.buildings WHERE id = $1::uuid "
     "AND ($2::uuid IS NULL OR organization_id = $2::uuid)"},
    {"owner_id", "owner",
     "SELECT organization_id::text FROM public.owners WHERE id = $1::uuid "
     "AND ($2::uuid IS NULL OR organization_id = $2::uuid)"},
    {"unit_id", "unit",
     "SELECT organization_id::text FROM public.units WHERE id = $1::uuid "
     "AND ($2::uuid IS NULL OR organization_id = $2::uuid)"},
    {"user_id", "user",
     "SELECT organization_id::text FROM public.users WHERE id = $1::uuid "
     "AND ($2::uuid IS NULL OR organization_id = $2::uuid)"},
};

/*
 * Check that every reference in `payload` exists in the caller's organization
 * (any organization for a superadmin) and pick the job's organization into
 * org_out (37 bytes; "" = none). Returns 0, or -1 with the reply set.
 */
static int check_refs(struct lazy_db *ld, const struct kopro_jwt_claims *c, json_t *payload,
                      char org_out[37], struct reply *r)
{
    const char *token_org = c->role == KOPRO_ROLE_SUPERADMIN ? NULL : c->organization_id;
    int found_org = 0;

    snprintf(org_out, 37, "%s", c->organization_id != NULL ? c->organization_id : "");
    if (c->role != KOPRO_ROLE_SUPERADMIN) {
        /* an id kopro-api cannot check could name another organization's row */
        const char *key;
        const json_t *val;
        json_object_foreach(payload, key, val)
        {
            size_t kl = strlen(key);
            int known = 0;
            (void)val;
            if (kl < 3 || strcmp(key + kl - 3, "_id") != 0)
                continue;
            for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
                known |= strcmp(key, refs[i].field) == 0;
            if (!known) {
                reply_error(r, 400,
                            "payload field \"%.64s\" is not a reference kopro-api can check "
                            "against your organization; use meeting_id, building_id, owner_id, "
                            "unit_id or user_id",
                            key);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        const json_t *v = json_object_get(payload, refs[i].field);
        const char *params[2];
        PGresult *res = NULL;
        const char *row_org;
        int rc;

        if (v == NULL)
            continue;
        if (!json_is_string(v) || !kopro_jwt_is_uuid(json_string_value(v))) {
            reply_error(r, 400, "payload field \"%s\" must be a uuid string", refs[i].field);
            return -1;
        }
        params[0] = json_string_value(v);
        params[1] = token_org;
        if (ldb_get(ld, r) == NULL)
            return -1;
        rc = kopro_db_exec(ld->c, &res, refs[i].noun, refs[i].sql, 2, params);
        if (rc != 0) {
            reply_db_error(r, rc, "looking up the payload's references");
            return -1;
        }
        if (PQntuples(res) == 0) {
            PQclear(res);
            reply_error(r, 404, "%s %s not found", refs[i].noun, json_string_value(v));
            return -1;
        }
        row_org = kopro_db_value(res, 0, 0);
        if (c->role == KOPRO_ROLE_SUPERADMIN && row_org != NULL) {
            /* a superadmin acts for the organization that owns the rows */
            if (found_org && strcmp(org_out, row_org) != 0) {
                PQclear(res);
                reply_error(r, 400, "the payload references rows of two organizations");
                return -1;
            }
            snprintf(org_out, 37, "%s", row_org);
            found_org = 1;
        }
        PQclear(res);
    }
    return 0;
}

/* ------------------------------------------------------------ thread queues */

static void fifo_init(struct fifo *f)
{
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->head = NULL;
    f->tail = &f->head;
    f->stop = 0;
}

static void fifo_push(struct fifo *f, struct fifo_node *n)
{
    pthread_mutex_lock(&f->mu);
    n->next = NULL;
    *f->tail = n;
    f->tail = &n->next;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Wait for nodes and take up to `max` of them, oldest first, into out.
 * Returns how many; 0 once fifo_stop() was called and the queue is empty. */
static size_t fifo_pop(struct fifo *f, struct fifo_node **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&f->mu);
    while (f->head == NULL && !f->stop)
        pthread_cond_wait(&f->cv, &f->mu);
    while (f->head != NULL && n < max) {
        out[n++] = f->head;
        f->head = f->head->next;
    }
    if (f->head == NULL)
        f->tail = &f->head;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Wake every waiter: what is queued is still taken, then fifo_pop() returns 0. */
static void fifo_stop(struct fifo *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fifo_destroy(struct fifo *f)
{
    if (f->tail == NULL)
        return;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    f->tail = NULL;
}

/* ------------------------------------------------------------ suspended requests */

/*
 * Give up one hold on a suspended request; the last one resumes its
 * connection, and MHD then calls on_request() to send rq->reply (or
 * on_completed() if the client has gone). After this the caller must not
 * touch rq: MHD may free it at any time.
 */
static void rq_release(struct req *rq)
{
    if (atomic_fetch_sub(&rq->holds, 1) != 1)
        return;
    rq->phase = RQ_READY; /* published by MHD's own lock in the resume */
    MHD_resume_connection(rq->conn);
}

/* The batcher's answer for one job: 202 with its id, or the error. */
static void enq_done(struct enq_item *it)
{
    struct req *rq = it->rq;
    struct reply *r = &rq->reply;

    json_decref(it->payload);
    it->payload = NULL;
    if (it->rc != 0) {
        kopro_error_set(it->rc, "%s", it->msg);
        reply_db_error(r, it->rc, "enqueueing the job");
    } else {
        snprintf(r->loc_buf, sizeof(r->loc_buf), "/api/v1/jobs/%s", it->id);
        r->location = r->loc_buf;
        reply_json(r, 202,
                   json_pack("{s:s, s:s, s:s}", "id", it->id, "kind", it->kind, "state", "queued"));
    }
    rq_release(rq);
}

/* ------------------------------------------------------------ group commit */

/* kopro.enqueue_many() (migration 0103): one set-based INSERT for the batch. */
#define BATCH_SQL "SELECT n, id::text FROM kopro.enqueue_many($1::jsonb)"

static void batch_fail(struct enq_item *const *items, size_t n, int rc)
{
    for (size_t i = 0; i < n; i++) {
        items[i]->rc = rc;
        snprintf(items[i]->msg, sizeof(items[i]->msg), "%s", kopro_error_last());
    }
}

/* Insert items[0..n) in one statement; on a data error, retry one by one. */
static void batch_exec(struct batcher *b, struct enq_item *const *items, size_t n)
{
    json_t *arr = json_array();
    PGresult *res = NULL;
    char *text = NULL;
    const char *params[1];
    int rc = 0;

    for (size_t i = 0; arr != NULL && i < n; i++)
        if (json_array_append_new(
                arr, json_pack("{s:s, s:O, s:s?, s:s?}", "kind", items[i]->kind, "payload",
                               items[i]->payload, "organization_id",
                               items[i]->org[0] != '\0' ? items[i]->org : NULL, "created_by",
                               items[i]->created_by[0] != '\0' ? items[i]->created_by : NULL)) !=
            0) {
            json_decref(arr);
            arr = NULL;
        }
    text = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (text == NULL) {
        batch_fail(items, n, kopro_error_set(KOPRO_ERROR, "out of memory batching jobs"));
        return;
    }
    params[0] = text;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (b->db != NULL && PQstatus(b->db) != CONNECTION_OK) {
            PQfinish(b->db);
            b->db = NULL;
        }
        if (b->db == NULL) {
            rc = kopro_db_connect(&b->db, b->url, "kopro-api");
            if (rc != 0)
                break;
        }
        rc = kopro_db_exec_prepared(b->db, &res, "kopro.enqueue_many", "kopro_api_enqueue_many",
                                    BATCH_SQL, 1, params);
        if (rc != KOPRO_EUNAVAIL)
            break; /* a lost connection is retried once on a new one */
    }
    explicit_bzero(text, strlen(text)); /* payloads may name people */
    free(text);
    if (rc == 0) {
        for (int row = 0; row < PQntuples(res); row++) {
            long k = strtol(kopro_db_value(res, row, 0), NULL, 10);
            const char *id = kopro_db_value(res, row, 1);
            if (k >= 1 && (size_t)k <= n && id != NULL)
                snprintf(items[k - 1]->id, sizeof(items[k - 1]->id), "%s", id);
        }
        PQclear(res);
        for (size_t i = 0; i < n; i++)
            if (items[i]->id[0] == '\0')
                batch_fail(&items[i], 1,
                           kopro_error_set(KOPRO_ERROR, "kopro.enqueue returned no id"));
        return;
    }
    if (n > 1 && rc != KOPRO_EUNAVAIL) {
        /* one bad job must not fail the others: isolate it */
        for (size_t i = 0; i < n; i++)
            batch_exec(b, &items[i], 1);
        return;
    }
    batch_fail(items, n, rc);
}

static void *batch_main(void *arg)
{
    struct batcher *b = arg;
    struct enq_item *items[BATCH_MAX];

    for (;;) {
        struct fifo_node *nodes[BATCH_MAX];
        size_t n = fifo_pop(&b->q, nodes, BATCH_MAX);
        if (n == 0)
            break; /* stopped, and nothing is left */
        for (size_t i = 0; i < n; i++)
            items[i] = CONTAINER_OF(nodes[i], struct enq_item, node);

        batch_exec(b, items, n);
        atomic_fetch_add(&b->batches, 1);
        atomic_fetch_add(&b->jobs, n);
        for (size_t i = 0; i < n; i++)
            enq_done(items[i]);
    }
    if (b->db != NULL)
        PQfinish(b->db);
    b->db = NULL;
    return NULL;
}

static int batch_start(struct batcher *b, const char *url)
{
    memset(b, 0, sizeof(*b));
    fifo_init(&b->q);
    b->url = url;
    if (pthread_create(&b->thread, NULL, batch_main, b) != 0)
        return kopro_error_set(KOPRO_ERROR, "cannot start the enqueue thread");
    b->started = 1;
    return 0;
}

/* Stop after the pending items are done. Call when no handler can submit. */
static void batch_stop(struct batcher *b)
{
    if (!b->started)
        return;
    fifo_stop(&b->q);
    pthread_join(b->thread, NULL);
    fifo_destroy(&b->q);
    b->started = 0;
}

/* Hand one job to the batcher; enq_done() answers it after the commit. */
static void batch_submit(struct batcher *b, struct enq_item *it)
{
    fifo_push(&b->q, &it->node);
}

/* ------------------------------------------------------------ handler threads */

static void dispatch(struct kopro_api *api, struct MHD_Connection *conn, const char *url,
                     const char *method, struct req *rq, struct reply *r);

static void *handler_main(void *arg)
{
    struct kopro_api *api = arg;
    struct handlers *h = &api->handlers;

    for (;;) {
        struct fifo_node *node;
        struct req *rq;
        if (fifo_pop(&h->q, &node, 1) == 0)
            break; /* stopped, and nothing is left */
        rq = CONTAINER_OF(node, struct req, node);
        dispatch(api, rq->conn, rq->url, rq->method, rq, &rq->reply);
        rq_release(rq);
    }
    return NULL;
}

static int handlers_start(struct kopro_api *api, unsigned n)
{
    struct handlers *h = &api->handlers;
    fifo_init(&h->q);
    h->threads = calloc(n, sizeof(*h->threads));
    if (h->threads == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for the handler threads");
    for (; h->started < n; h->started++)
        if (pthread_create(&h->threads[h->started], NULL, handler_main, api) != 0)
            return kopro_error_set(KOPRO_ERROR, "cannot start handler thread %u of %u",
                                   h->started + 1, n);
    return 0;
}

/* Join the handler threads once the queue is empty. Call when nothing can be pushed. */
static void handlers_stop(struct handlers *h)
{
    if (h->threads != NULL) {
        fifo_stop(&h->q);
        for (unsigned i = 0; i < h->started; i++)
            pthread_join(h->threads[i], NULL);
        free(h->threads);
        h->threads = NULL;
    }
    fifo_destroy(&h->q);
}

static void handlers_push(struct handlers *h, struct req *rq)
{
    fifo_push(&h->q, &rq->node);
}

/* ------------------------------------------------------------ enqueue */

/*
 * Validate with the kind, enqueue (kopro.enqueue_many() through the group
 * commit, or kopro.enqueue() with a unique key) and reply 202.
 * `kind` must be registered. Takes nothing over from the caller. Without a
 * unique key the job goes to the batcher, which answers `rq` (suspended; not
 * NULL then) after the commit: `r` must then be `&rq->reply` and the caller
 * must leave it alone.
 */
static void enqueue(struct kopro_api *api, struct lazy_db *ld, struct req *rq,
                    const struct kopro_job_kind *kind, json_t *payload, const char *org,
                    const char *created_by, const char *unique_key, struct reply *r)
{
    PGconn *db;
    char *text = NULL;
    PGresult *res = NULL;
    const char *params[5];
    const char *id;
    int rc;

    if (kind->validate != NULL) {
        kopro_error_clear();
        rc = kind->validate(payload);
        if (rc != 0) {
            reply_error(r, 400, "invalid payload for %s: %s", kind->name, kopro_error_last());
            return;
        }
    }
    if (unique_key == NULL) {
        /* A new row, queued: through the group commit (one round trip, a
         * shared commit). The batcher answers; r is left to it. */
        struct enq_item *it = &rq->item;
        memset(it, 0, sizeof(*it));
        it->kind = kind->name;
        /* A copy of its own: the batcher must not share reference counts with
         * this thread, which drops the request's body meanwhile (jansson's
         * json_decref() reads the count unlocked). */
        it->payload = json_deep_copy(payload);
        if (it->payload == NULL) {
            reply_error(r, 500, "out of memory copying the payload");
            return;
        }
        snprintf(it->org, sizeof(it->org), "%s", org != NULL ? org : "");
        snprintf(it->created_by, sizeof(it->created_by), "%s",
                 created_by != NULL ? created_by : "");
        it->rq = rq;
        ldb_release(ld); /* not needed while waiting for the shared commit */
        atomic_fetch_add(&rq->holds, 1);
        batch_submit(&api->batch, it);
        return;
    }
    db = ldb_get(ld, r);
    if (db == NULL)
        return;
    text = json_dumps(payload, JSON_COMPACT);
    if (text == NULL) {
        reply_error(r, 500, "cannot serialize the payload");
        return;
    }
    params[0] = kind->name;
    params[1] = text;
    params[2] = org != NULL && org[0] != '\0' ? org : NULL;
    params[3] = unique_key;
    params[4] = created_by;
    rc = kopro_db_exec(db, &res, "kopro.enqueue",
                       "SELECT kopro.enqueue($1, $2::jsonb, $3::uuid, now(), NULL, 0, $4, "
                       "$5::uuid)::text",
                       5, params);
    explicit_bzero(text, strlen(text)); /* payloads may name people */
    free(text);
    if (rc != 0) {
        reply_db_error(r, rc, "enqueueing the job");
        return;
    }
    id = kopro_db_value(res, 0, 0);
    snprintf(r->loc_buf, sizeof(r->loc_buf), "/api/v1/jobs/%s", id != NULL ? id : "");
    r->location = r->loc_buf;
    {
        /* the key may have matched an active job: report its actual state */
        PGresult *st = NULL;
        const char *p1[1] = {id};
        rc = kopro_db_exec(db, &st, "job state", "SELECT state FROM kopro.jobs WHERE id = $1::uuid",
                           1, p1);
        if (rc != 0) {
            PQclear(res);
            reply_db_error(r, rc, "reading the new job");
            return;
        }
        reply_json(r, 202,
                   json_pack("{s:s, s:s, s:s}", "id", id, "kind", kind->name, "state",
                             PQntuples(st) > 0 ? kopro_db_value(st, 0, 0) : "queued"));
        PQclear(st);
    }
    PQclear(res);
}

/* ------------------------------------------------------------ handlers */

static void h_health(struct reply *r)
{
    reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", KOPRO_VERSION));
}

static void h_ready(PGconn *db, struct reply *r)
{
    PGresult *res = NULL;
    int rc = kopro_db_exec(db, &res, "readiness",
                           "SELECT to_regclass('kopro.jobs') IS NOT NULL "
                           "AND to_regprocedure('kopro.enqueue(text,jsonb,uuid,timestamptz,int,"
                           "int,text,uuid)') IS NOT NULL",
                           0, NULL);
    if (rc != 0) {
        reply_db_error(r, rc == KOPRO_EUNAVAIL ? rc : KOPRO_EUNAVAIL, "readiness check");
        return;
    }
    if (strcmp(kopro_db_value(res, 0, 0), "t") != 0)
        reply_error(r, 503, "the kopro schema is missing; run kopro-worker migrate");
    else
        reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
    PQclear(res);
}

#define DB_UP_HELP                                                                                 \
    "# HELP kopro_api_database_up 1 if the last metrics query reached the database.\n"             \
    "# TYPE kopro_api_database_up gauge\n"

static void h_metrics(struct kopro_api *api, PGconn *db, struct reply *r)
{
    struct kopro_buf b;
    PGresult *res = NULL;
    unsigned long cum = 0;
    int rc;

    kopro_buf_init(&b, 1024 * 1024);
    rc = kopro_buf_adds(&b, "# HELP kopro_api_requests_total HTTP requests answered, by status.\n"
                            "# TYPE kopro_api_requests_total counter\n");
    for (int s = 100; rc == 0 && s < NSTATUS; s++) {
        unsigned long n = atomic_load(&api->by_status[s]);
        if (n > 0)
            rc = kopro_buf_addf(&b, "kopro_api_requests_total{code=\"%d\"} %lu\n", s, n);
    }
    if (rc == 0)
        rc = kopro_buf_adds(&b, "# HELP kopro_api_request_duration_seconds Time from request "
                                "to response queued.\n"
                                "# TYPE kopro_api_request_duration_seconds histogram\n");
    for (size_t i = 0; rc == 0 && i < NBUCKETS; i++) {
        cum += atomic_load(&api->bucket[i]);
        rc = kopro_buf_addf(&b, "kopro_api_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
                            bucket_le_s[i], cum);
    }
    if (rc == 0) {
        cum += atomic_load(&api->bucket[NBUCKETS]);
        rc = kopro_buf_addf(&b,
                            "kopro_api_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
                            "kopro_api_request_duration_seconds_sum %.6f\n"
                            "kopro_api_request_duration_seconds_count %lu\n",
                            cum, (double)atomic_load(&api->dur_sum_us) / 1e6,
                            atomic_load(&api->dur_count));
    }
    if (rc == 0)
        rc = kopro_buf_addf(&b,
                            "# HELP kopro_api_enqueue_batches_total Group-commit statements run "
                            "for plain enqueues.\n"
                            "# TYPE kopro_api_enqueue_batches_total counter\n"
                            "kopro_api_enqueue_batches_total %lu\n"
                            "# HELP kopro_api_enqueue_batched_jobs_total Jobs enqueued through "
                            "them.\n"
                            "# TYPE kopro_api_enqueue_batched_jobs_total counter\n"
                            "kopro_api_enqueue_batched_jobs_total %lu\n"
                            "# HELP kopro_api_requests_in_flight Requests taken off the polling "
                            "threads and not yet answered (waiting for a handler thread, the "
                            "database or a group commit).\n"
                            "# TYPE kopro_api_requests_in_flight gauge\n"
                            "kopro_api_requests_in_flight %d\n",
                            atomic_load(&api->batch.batches), atomic_load(&api->batch.jobs),
                            atomic_load(&api->inflight) - 1 /* not this /metrics request */);
    if (rc == 0 && db != NULL &&
        kopro_db_exec(db, &res, "job metrics",
                      "SELECT kind, state, count(*), sum(jsonb_array_length(errors)), "
                      "coalesce(extract(epoch FROM now() - min(run_at) FILTER "
                      "(WHERE state IN ('queued', 'failed') AND run_at <= now())), 0)::bigint "
                      "FROM kopro.jobs GROUP BY 1, 2 ORDER BY 1, 2",
                      0, NULL) == 0) {
        /* kinds match ^[a-z][a-z0-9_.]*$ (CHECK constraint): safe as label values */
        rc = kopro_buf_adds(&b, "# HELP kopro_jobs Jobs in kopro.jobs, by kind and state.\n"
                                "# TYPE kopro_jobs gauge\n");
        for (int i = 0; rc == 0 && i < PQntuples(res); i++)
            rc = kopro_buf_addf(&b, "kopro_jobs{kind=\"%s\",state=\"%s\"} %s\n",
                                kopro_db_value(res, i, 0), kopro_db_value(res, i, 1),
                                kopro_db_value(res, i, 2));
        if (rc == 0)
            rc = kopro_buf_adds(&b, "# HELP kopro_job_attempt_errors Failed attempts recorded "
                                    "(kopro.jobs.errors) of the jobs still in the table.\n"
                                    "# TYPE kopro_job_attempt_errors gauge\n");
        for (int i = 0; rc == 0 && i < PQntuples(res); i++)
            rc = kopro_buf_addf(&b, "kopro_job_attempt_errors{kind=\"%s\",state=\"%s\"} %s\n",
                                kopro_db_value(res, i, 0), kopro_db_value(res, i, 1),
                                kopro_db_value(res, i, 3));
        if (rc == 0)
            rc = kopro_buf_adds(&b, "# HELP kopro_jobs_runnable_age_seconds How long the oldest "
                                    "runnable job has waited past its run_at (queue lag).\n"
                                    "# TYPE kopro_jobs_runnable_age_seconds gauge\n");
        for (int i = 0; rc == 0 && i < PQntuples(res); i++)
            if (strcmp(kopro_db_value(res, i, 1), "queued") == 0 ||
                strcmp(kopro_db_value(res, i, 1), "failed") == 0)
                rc = kopro_buf_addf(&b,
                                    "kopro_jobs_runnable_age_seconds{kind=\"%s\",state=\"%s\"} "
                                    "%s\n",
                                    kopro_db_value(res, i, 0), kopro_db_value(res, i, 1),
                                    kopro_db_value(res, i, 4));
        PQclear(res);
        if (rc == 0)
            rc = kopro_buf_adds(&b, DB_UP_HELP "kopro_api_database_up 1\n");
    } else if (rc == 0) {
        if (db != NULL)
            api_log(api, "metrics: %s", kopro_error_last());
        rc = kopro_buf_adds(&b, DB_UP_HELP "kopro_api_database_up 0\n");
    }
    if (rc != 0) {
        kopro_buf_free(&b);
        reply_error(r, 500, "cannot build the metrics");
        return;
    }
    r->status = 200;
    r->len = b.len;
    r->body = kopro_buf_detach(&b);
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/*
 * Role rules for POST /api/v1/jobs. Step 1 (reserved prefixes, checked even
 * for kinds this build lacks): backup.* is for superadmins only, gdpr.* goes
 * through the GDPR endpoints. Step 2 (registered kinds): pdf.* (documents)
 * and accounts.* (figures for KoproGo's screens) for syndic, accountant and
 * superadmin; anything else superadmin only.
 * Returns 1 if allowed, else 0 with a 403 reply.
 */
static int kind_allowed(const struct kopro_jwt_claims *c, const char *kind, int step,
                        struct reply *r)
{
    if (c->role == KOPRO_ROLE_SUPERADMIN)
        return 1;
    if (strncmp(kind, "backup.", 7) == 0) {
        reply_error(r, 403, "only a superadmin may enqueue %.64s jobs", kind);
        return 0;
    }
    if (strncmp(kind, "gdpr.", 5) == 0) {
        reply_error(r, 403,
                    "request GDPR jobs for yourself with GET /api/v1/gdpr/export or "
                    "DELETE /api/v1/gdpr/erase");
        return 0;
    }
    if (step == 1)
        return 1;
    if (strncmp(kind, "pdf.", 4) == 0 || strncmp(kind, "accounts.", 9) == 0) {
        if (is_doc_role(c))
            return 1;
        reply_error(r, 403, "role %s may not request documents; a syndic or accountant may",
                    c->role_name);
        return 0;
    }
    reply_error(r, 403, "only a superadmin may enqueue %.64s jobs", kind);
    return 0;
}

static void h_post_job(struct kopro_api *api, struct lazy_db *db, const struct kopro_jwt_claims *c,
                       struct req *rq, struct reply *r)
{
    json_t *body = NULL;
    json_t *payload = NULL;
    const json_t *jk;
    const json_t *ju;
    const char *key;
    json_t *val;
    const struct kopro_job_kind *kind;
    char org[37];
    char unique[300];
    const char *uk = NULL;

    if (parse_body(&body, rq, 1, r) != 0)
        return;
    json_object_foreach(body, key, val)
    {
        if (strcmp(key, "kind") != 0 && strcmp(key, "payload") != 0 &&
            strcmp(key, "unique_key") != 0) {
            reply_error(r, 400,
                        "unknown member \"%.64s\"; a job has kind, payload and "
                        "optionally unique_key",
                        key);
            goto done;
        }
    }
    jk = json_object_get(body, "kind");
    if (!json_is_string(jk)) {
        reply_error(r, 400, "\"kind\" must be a string naming a job kind, e.g. \"pdf.minutes\"");
        goto done;
    }
    payload = json_object_get(body, "payload");
    if (payload == NULL) {
        payload = json_object();
    } else if (!json_is_object(payload)) {
        reply_error(r, 400, "\"payload\" must be a JSON object");
        goto done;
    } else {
        json_incref(payload);
    }
    ju = json_object_get(body, "unique_key");
    if (ju != NULL) {
        if (!json_is_string(ju) || json_string_length(ju) < 1 || json_string_length(ju) > 200) {
            reply_error(r, 400, "\"unique_key\" must be a string of 1 to 200 characters");
            goto done;
        }
    }
    /* the role rules go by prefix, so they hold whether or not the kind is built in */
    if (!kind_allowed(c, json_string_value(jk), 1, r))
        goto done;
    kind = find_kind(api, json_string_value(jk));
    if (kind == NULL) {
        reply_error(r, 400, "unknown job kind \"%.64s\"; this server's workers cannot run it",
                    json_string_value(jk));
        goto done;
    }
    if (!kind_allowed(c, kind->name, 2, r))
        goto done;
    if (check_refs(db, c, payload, org, r) != 0)
        goto done;
    if (ju != NULL) {
        /* scope caller keys by organization so tenants cannot collide or probe */
        snprintf(unique, sizeof(unique), "api:%s:%s", org[0] != '\0' ? org : "system",
                 json_string_value(ju));
        uk = unique;
    }
    enqueue(api, db, rq, kind, payload, org, c->sub, uk, r);
done:
    json_decref(payload);
    json_decref(body);
}

/* Job columns for GET; ISO 8601 UTC times. */
#define JOB_COLUMNS                                                                                \
    "id::text, kind, state, payload::text, organization_id::text, attempts, max_attempts, "        \
    "to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "                    \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "                \
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "                \
    "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "               \
    "last_error, result::text, "                                                                   \
    "CASE WHEN result->>'expires_at' ~ '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}' "                  \
    "     THEN (result->>'expires_at')::timestamptz <= now() ELSE false END"

/*
 * Tenancy and ownership, in SQL: a gdpr.* job only for the person who asked
 * for it; otherwise a superadmin sees every job, a syndic or accountant the
 * jobs of their organization, anyone else only their own jobs in their
 * organization. Anything else is "not found".
 */
#define JOB_VISIBLE                                                                                \
    "CASE WHEN kind LIKE 'gdpr.%' THEN created_by = $5::uuid "                                     \
    "     WHEN $2::bool THEN true "                                                                \
    "     ELSE organization_id = $3::uuid AND ($4::bool OR created_by = $5::uuid) END"

static int load_job(PGconn *db, const struct kopro_jwt_claims *c, const char *id, PGresult **out,
                    struct reply *r)
{
    const char *params[5];
    int rc;

    *out = NULL;
    if (!kopro_jwt_is_uuid(id)) {
        reply_error(r, 404, "job %.40s not found (job ids are uuids)", id);
        return -1;
    }
    params[0] = id;
    params[1] = c->role == KOPRO_ROLE_SUPERADMIN ? "true" : "false";
    params[2] = c->organization_id;
    params[3] =
        (c->role == KOPRO_ROLE_SYNDIC || c->role == KOPRO_ROLE_ACCOUNTANT) ? "true" : "false";
    params[4] = c->sub;
    rc = kopro_db_exec(db, out, "job",
                       "SELECT " JOB_COLUMNS
                       " FROM kopro.jobs WHERE id = $1::uuid AND (" JOB_VISIBLE ")",
                       5, params);
    if (rc != 0) {
        reply_db_error(r, rc, "reading the job");
        return -1;
    }
    if (PQntuples(*out) == 0) {
        PQclear(*out);
        *out = NULL;
        reply_error(r, 404, "job %s not found", id);
        return -1;
    }
    return 0;
}

static json_t *json_or_null(const char *text)
{
    json_t *j;
    if (text == NULL)
        return json_null();
    j = json_loads(text, 0, NULL);
    return j != NULL ? j : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static void h_get_job(PGconn *db, const struct kopro_jwt_claims *c, const char *id, struct reply *r)
{
    PGresult *res = NULL;
    json_t *result;
    json_t *j;

    if (load_job(db, c, id, &res, r) != 0)
        return;
    result = json_or_null(kopro_db_value(res, 0, 12));
    if (json_is_object(result) && json_object_get(result, "path") != NULL) {
        /* the server's file system layout is not the client's business */
        json_object_del(result, "path");
        json_object_set_new(result, "download",
                            json_sprintf("/api/v1/jobs/%s/result", kopro_db_value(res, 0, 0)));
    }
    j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                  kopro_db_value(res, 0, 0), "kind", kopro_db_value(res, 0, 1), "state",
                  kopro_db_value(res, 0, 2), "payload", json_or_null(kopro_db_value(res, 0, 3)),
                  "organization_id", str_or_null(kopro_db_value(res, 0, 4)), "attempts",
                  atoi(kopro_db_value(res, 0, 5)), "max_attempts", atoi(kopro_db_value(res, 0, 6)),
                  "run_at", str_or_null(kopro_db_value(res, 0, 7)), "created_at",
                  str_or_null(kopro_db_value(res, 0, 8)), "updated_at",
                  str_or_null(kopro_db_value(res, 0, 9)), "finished_at",
                  str_or_null(kopro_db_value(res, 0, 10)), "last_error",
                  str_or_null(kopro_db_value(res, 0, 11)), "result", result);
    PQclear(res);
    if (j == NULL) {
        reply_error(r, 500, "cannot build the job's JSON");
        return;
    }
    reply_json(r, 200, j);
}

/* A media type we are willing to echo: type/subtype[; param=value], no CR/LF. */
static int sane_content_type(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || strchr(s, '/') == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch >= 0x20 && ch < 0x7f) || ch == '"' || ch == '\\')
            return 0;
    }
    return 1;
}

/* A buffer wiped (explicit_bzero) and freed by MHD once sent: decrypted
 * GDPR archives are personal data. */
struct wiped {
    char *p;
    size_t n;
};

static void wipe_free(void *cls)
{
    struct wiped *w = cls;
    explicit_bzero(w->p, w->n);
    free(w->p);
    free(w);
}

/* The result of a gdpr.export job is sealed (kopro_gdpr_seal()) with a key
 * kept in kopro.gdpr_export_keys. Decrypt the whole archive into memory
 * (capped at KOPRO_GDPR_SEAL_MAX_BYTES) and authenticate every chunk BEFORE
 * the first byte is sent: a damaged archive gives 500, never a truncated ZIP.
 * A destroyed or expired key gives 410. Takes ownership of fd. */
static void reply_sealed(struct kopro_api *api, PGconn *db, const char *id, int fd, off_t size,
                         struct reply *r)
{
    unsigned char key[KOPRO_GDPR_SEAL_KEY_BYTES];
    unsigned char *sealed = NULL, *plain = NULL;
    size_t plain_bytes = 0, got = 0;
    int rc = kopro_gdpr_export_key_get(key, db, id);
    if (rc == KOPRO_ENOTFOUND) {
        reply_error(r, 410, "the export of job %s has expired: its key was destroyed", id);
        goto done;
    }
    if (rc != 0 || size < 0 ||
        (unsigned long long)size > kopro_gdpr_sealed_bytes(KOPRO_GDPR_SEAL_MAX_BYTES)) {
        api_log(api, "job %s: %s", id, rc != 0 ? kopro_error_last() : "sealed archive too large");
        reply_error(r, 500, "cannot read the archive of job %s", id);
        goto done;
    }
    sealed = malloc(size > 0 ? (size_t)size : 1);
    while (sealed != NULL && got < (size_t)size) {
        ssize_t k = read(fd, sealed + got, (size_t)size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (sealed == NULL || got != (size_t)size) {
        reply_error(r, 500, "cannot read the archive of job %s", id);
        goto done;
    }
    rc = kopro_gdpr_unseal(&plain, &plain_bytes, sealed, got, key);
    if (rc != 0) {
        api_log(api, "job %s: %s", id, kopro_error_last());
        reply_error(r, 500, "the archive of job %s fails authentication; request a new export", id);
        goto done;
    }
    r->status = 200;
    r->body = (char *)plain;
    r->len = plain_bytes;
    r->wipe_body = 1;
    plain = NULL;
done:
    explicit_bzero(key, sizeof key);
    free(sealed);
    close(fd);
}

static void h_get_result(struct kopro_api *api, PGconn *db, const struct kopro_jwt_claims *c,
                         const char *id, struct reply *r)
{
    PGresult *res = NULL;
    json_t *result = NULL;
    const char *state;
    const char *path;
    const json_t *v;
    char *real = NULL;
    char *store_real = NULL;
    struct stat st;
    int fd = -1;

    if (load_job(db, c, id, &res, r) != 0)
        return;
    state = kopro_db_value(res, 0, 2);
    if (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0 ||
        strcmp(state, "failed") == 0) {
        reply_error(r, 409, "job %s is %s, not finished; poll GET /api/v1/jobs/%s", id, state, id);
        goto done;
    }
    if (strcmp(state, "succeeded") != 0) {
        reply_error(r, 409, "job %s ended %s and has no result", id, state);
        goto done;
    }
    result = json_or_null(kopro_db_value(res, 0, 12));
    path = json_string_value(json_object_get(result, "path"));
    if (path == NULL) {
        const json_t *files = json_object_get(result, "files");
        if (json_is_array(files))
            reply_error(r, 404,
                        "job %s produced %zu files, not one; request a single document "
                        "(e.g. statements with owner_id) to download it here",
                        id, json_array_size(files));
        else
            reply_error(r, 404, "job %s produced no file", id);
        goto done;
    }
    if (strcmp(kopro_db_value(res, 0, 13), "t") == 0 ||
        json_is_true(json_object_get(result, "deleted"))) {
        reply_error(r, 410, "the result of job %s has expired and was deleted", id);
        goto done;
    }
    if (path[0] != '/') {
        reply_error(r, 500, "job %s has a relative result path; the job kind is at fault", id);
        goto done;
    }
    real = realpath(path, NULL);
    if (real == NULL) {
        if (errno == ENOENT)
            reply_error(r, 410, "the result file of job %s no longer exists", id);
        else
            reply_error(r, 500, "cannot resolve the result file of job %s", id);
        goto done;
    }
    store_real = realpath(api->store, NULL);
    {
        size_t n = store_real != NULL ? strlen(store_real) : 0;
        if (store_real == NULL || strncmp(real, store_real, n) != 0 || real[n] != '/') {
            api_log(api,
                    "refusing the result of job %s: its file is outside the document "
                    "store (KOPRO_DOCUMENT_STORE)",
                    id);
            reply_error(r, 404, "job %s has no downloadable result", id);
            goto done;
        }
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        fd = -1;
        reply_error(r, errno == ENOENT ? 410 : 500, "cannot open the result file of job %s", id);
        goto done;
    }
    v = json_object_get(result, "content_type");
    if (json_is_string(v) && sane_content_type(json_string_value(v))) {
        snprintf(r->ctype_buf, sizeof(r->ctype_buf), "%s", json_string_value(v));
        r->content_type = r->ctype_buf;
    } else {
        r->content_type = "application/octet-stream";
    }
    {
        const char *base = strrchr(real, '/') + 1;
        char safe[100];
        size_t k = 0;
        for (const char *p = base; *p != '\0' && k + 1 < sizeof(safe); p++)
            safe[k++] =
                (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_') ? *p : '_';
        safe[k] = '\0';
        snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"%s\"", safe);
    }
    v = json_object_get(result, "sha256");
    if (json_is_string(v) && json_string_length(v) == 64)
        snprintf(r->sha256, sizeof(r->sha256), "%s", json_string_value(v));
    v = json_object_get(json_object_get(result, "encryption"), "format");
    if (json_is_string(v) && strcmp(json_string_value(v), "KOPROGX1") == 0) {
        char *dot = strrchr(r->disposition, '.');
        if (dot != NULL && strcmp(dot, ".kgx\"") == 0)
            snprintf(dot, sizeof(r->disposition) - (size_t)(dot - r->disposition), ".zip\"");
        reply_sealed(api, db, id, fd, st.st_size, r);
        if (r->status != 200) {
            r->disposition[0] = r->sha256[0] = '\0';
            r->content_type = "application/json";
        }
        goto done;
    }
    r->status = 200;
    r->fd = fd;
    r->fd_size = st.st_size;
done:
    free(real);
    free(store_real);
    json_decref(result);
    PQclear(res);
}

/* POST /api/v1/{meetings|buildings}/{id}/{doc}: enqueue one pdf.* job. */
static void h_document(struct kopro_api *api, struct lazy_db *db, const struct kopro_jwt_claims *c,
                       struct req *rq, const char *kind_name, const char *field, const char *id,
                       struct reply *r)
{
    const struct kopro_job_kind *kind = find_kind(api, kind_name);
    json_t *payload = NULL;
    const json_t *given;
    char org[37];

    if (!is_doc_role(c)) {
        reply_error(r, 403, "role %s may not request documents; a syndic or accountant may",
                    c->role_name);
        return;
    }
    if (!kopro_jwt_is_uuid(id)) {
        reply_error(r, 404, "%.40s is not a known id (ids are uuids)", id);
        return;
    }
    if (parse_body(&payload, rq, 0, r) != 0)
        return;
    if (payload == NULL)
        payload = json_object();
    given = json_object_get(payload, field);
    if (given != NULL &&
        !(json_is_string(given) && strcasecmp(json_string_value(given), id) == 0)) {
        reply_error(r, 400, "body field \"%s\" contradicts the id in the path", field);
        goto done;
    }
    json_object_set_new(payload, field, json_string(id));
    if (check_refs(db, c, payload, org, r) != 0)
        goto done;
    if (kind == NULL) {
        reply_error(r, 501, "job kind %s is not available on this server (no worker can run it)",
                    kind_name);
        goto done;
    }
    enqueue(api, db, rq, kind, payload, org, c->sub, NULL, r);
done:
    json_decref(payload);
}

/* GET /api/v1/gdpr/export, DELETE /api/v1/gdpr/erase: for the caller only. */
static void h_gdpr(struct kopro_api *api, struct lazy_db *db, const struct kopro_jwt_claims *c,
                   const char *kind_name, struct reply *r)
{
    const struct kopro_job_kind *kind = find_kind(api, kind_name);
    json_t *payload = NULL;
    char unique[64];
    int retry = 0;

    if (kind == NULL) {
        reply_error(r, 501, "job kind %s is not available on this server (no worker can run it)",
                    kind_name);
        return;
    }
    if (!rate_allow(api, c->sub, time(NULL), &retry)) {
        r->retry_after_s = retry;
        reply_error(r, 429, "at most %u GDPR requests per hour; retry in %d s", api->gdpr_per_hour,
                    retry);
        return;
    }
    payload = json_pack("{s:s}", "user_id", c->sub);
    /* one active request per person and kind: a second one returns the running job */
    snprintf(unique, sizeof(unique), "%s:%s", kind_name, c->sub);
    enqueue(api, db, NULL, kind, payload, c->organization_id, c->sub, unique, r);
    json_decref(payload);
}

/* ------------------------------------------------------------ routing */

static const struct {
    enum route route;
    const char *method;
    const char *pattern;
    int needs_db; /* 1: a pooled connection first; 2: the handler takes one when it needs it */
    int needs_auth;
} routes[] = {
    {R_NONE, "", "", 0, 0},
    {R_HEALTH, "GET", "/api/v1/health", 0, 0},
    {R_READY, "GET", "/api/v1/ready", 1, 0},
    {R_METRICS, "GET", "/metrics", 0, 0},
    {R_JOBS, "POST", "/api/v1/jobs", 2, 1},
    {R_JOB, "GET", "/api/v1/jobs/{id}", 1, 1},
    {R_RESULT, "GET", "/api/v1/jobs/{id}/result", 1, 1},
    {R_MINUTES, "POST", "/api/v1/meetings/{id}/minutes", 2, 1},
    {R_VOTES, "POST", "/api/v1/meetings/{id}/vote-results", 2, 1},
    {R_PCN, "POST", "/api/v1/buildings/{id}/pcn", 2, 1},
    {R_STATEMENTS, "POST", "/api/v1/buildings/{id}/statements", 2, 1},
    {R_GDPR_EXPORT, "GET", "/api/v1/gdpr/export", 2, 1},
    {R_GDPR_ERASE, "DELETE", "/api/v1/gdpr/erase", 2, 1},
};

/* Match `url` against the patterns; the {id} segment goes to id (64 bytes). */
static enum route match(const char *url, char id[64])
{
    id[0] = '\0';
    for (size_t i = 1; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *p = routes[i].pattern;
        const char *u = url;
        const char *brace = strstr(p, "{id}");
        if (brace == NULL) {
            if (strcmp(p, u) == 0)
                return routes[i].route;
            continue;
        }
        if (strncmp(u, p, (size_t)(brace - p)) != 0)
            continue;
        u += brace - p;
        {
            const char *slash = strchr(u, '/');
            size_t n = slash != NULL ? (size_t)(slash - u) : strlen(u);
            if (n == 0 || n >= 64)
                continue;
            if (strcmp(slash != NULL ? slash : "", brace + 4) != 0)
                continue;
            memcpy(id, u, n);
            id[n] = '\0';
            return routes[i].route;
        }
    }
    return R_NONE;
}

static void dispatch(struct kopro_api *api, struct MHD_Connection *conn, const char *url,
                     const char *method, struct req *rq, struct reply *r)
{
    char id[64];
    enum route rt = match(url, id);
    struct kopro_jwt_claims *claims = NULL;
    struct lazy_db ld = {&api->pool, NULL, rq->on_poller, 0};
    PGconn *db = NULL;

    rq->route = routes[rt].pattern[0] != '\0' ? routes[rt].pattern : "(unknown)";
    if (rt == R_NONE) {
        reply_error(r, 404, "no such endpoint; see openapi.yaml");
        return;
    }
    if (strcmp(method, routes[rt].method) != 0) {
        r->allow = routes[rt].method;
        reply_error(r, 405, "%s %s is not allowed; use %s", method, routes[rt].pattern,
                    routes[rt].method);
        return;
    }
    if (rq->too_big) {
        reply_error(r, 413, "the request body exceeds %zu bytes", api->body_cap);
        return;
    }
    if (routes[rt].needs_auth && bearer(api, conn, &claims, r) != 0)
        return;
    if (rt == R_METRICS) {
        if (pool_get(&api->pool, &ld.c) != 0)
            ld.c = NULL; /* metrics without the queue's figures */
        db = ld.c;
    } else if (routes[rt].needs_db == 1) {
        db = ldb_get(&ld, r);
        if (db == NULL)
            goto done;
    } /* needs_db == 2: the handler takes one if it needs it */
    switch (rt) {
    case R_HEALTH:
        h_health(r);
        break;
    case R_READY:
        h_ready(db, r);
        break;
    case R_METRICS:
        h_metrics(api, db, r);
        break;
    case R_JOBS:
        h_post_job(api, &ld, claims, rq, r);
        break;
    case R_JOB:
        h_get_job(db, claims, id, r);
        break;
    case R_RESULT:
        h_get_result(api, db, claims, id, r);
        break;
    case R_MINUTES:
        h_document(api, &ld, claims, rq, "pdf.minutes", "meeting_id", id, r);
        break;
    case R_VOTES:
        h_document(api, &ld, claims, rq, "pdf.votes", "meeting_id", id, r);
        break;
    case R_PCN:
        h_document(api, &ld, claims, rq, "pdf.pcn", "building_id", id, r);
        break;
    case R_STATEMENTS:
        h_document(api, &ld, claims, rq, "pdf.statements", "building_id", id, r);
        break;
    case R_GDPR_EXPORT:
        h_gdpr(api, &ld, claims, "gdpr.export", r);
        break;
    case R_GDPR_ERASE:
        h_gdpr(api, &ld, claims, "gdpr.erase", r);
        break;
    case R_NONE:
        break;
    }
done:
    ldb_release(&ld);
    kopro_jwt_claims_free(claims);
    rq->wants_db = ld.wanted;
}

/* ------------------------------------------------------------ MHD glue */

static enum MHD_Result finish(struct kopro_api *api, struct MHD_Connection *conn, struct req *rq,
                              struct reply *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    struct timespec t1;
    unsigned long us;
    size_t b = 0;

    if (r->status == 0)
        reply_error(r, 500, "no reply");
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd((uint64_t)r->fd_size, r->fd);
        if (resp == NULL)
            close(r->fd);
        r->fd = -1;
    } else if (r->body != NULL && r->wipe_body) {
        struct wiped *w = malloc(sizeof *w);
        resp = w == NULL ? NULL
                         : MHD_create_response_from_buffer_with_free_callback_cls(r->len, r->body,
                                                                                  wipe_free, w);
        if (resp != NULL) {
            w->p = r->body;
            w->n = r->len;
            r->body = NULL;
        } else {
            free(w);
            explicit_bzero(r->body, r->len);
        }
    } else if (r->body != NULL) {
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp != NULL)
            r->body = NULL;
    } else {
        static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        r->status = 500;
        resp =
            MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    }
    free(r->body);
    r->body = NULL;
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->allow != NULL)
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->www_auth != NULL)
        MHD_add_response_header(resp, "WWW-Authenticate", r->www_auth);
    if (r->location != NULL)
        MHD_add_response_header(resp, "Location", r->location);
    if (r->disposition[0] != '\0')
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (r->sha256[0] != '\0')
        MHD_add_response_header(resp, "X-Content-SHA256", r->sha256);
    if (r->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);

    rq->status = r->status;
    if (r->status >= 100 && r->status < NSTATUS)
        atomic_fetch_add(&api->by_status[r->status], 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = (unsigned long)((t1.tv_sec - rq->t0.tv_sec) * 1000000L +
                         (t1.tv_nsec - rq->t0.tv_nsec) / 1000);
    while (b < NBUCKETS && (double)us / 1e6 > bucket_le_s[b])
        b++;
    atomic_fetch_add(&api->bucket[b], 1);
    atomic_fetch_add(&api->dur_sum_us, us);
    atomic_fetch_add(&api->dur_count, 1);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct kopro_api *api = cls;
    struct req *rq = *con_cls;
    struct reply r;

    (void)version;
    if (rq == NULL) {
        const char *cl;
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        kopro_buf_init(&rq->body, api->body_cap);
        clock_gettime(CLOCK_MONOTONIC, &rq->t0);
        {
            char id[64];
            rq->rt = match(url, id);
            rq->route = rq->rt != R_NONE ? routes[rq->rt].pattern : "(unknown)";
        }
        snprintf(rq->method, sizeof(rq->method), "%s", method);
        *con_cls = rq;
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL) {
            char *end = NULL;
            unsigned long long n;
            errno = 0;
            n = strtoull(cl, &end, 10);
            if (errno != 0 || end == cl || n > api->body_cap) {
                /* refuse before reading a byte of it */
                reply_init(&r);
                reply_error(&r, 413, "the request body exceeds %zu bytes", api->body_cap);
                return finish(api, conn, rq, &r);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!rq->too_big && kopro_buf_add(&rq->body, upload_data, *upload_data_size) != 0)
            rq->too_big = 1; /* the buffer freed itself; keep draining */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->phase == RQ_READY) {
        /* resumed: a handler thread or the batcher has answered */
        enum MHD_Result ret;
        rq->phase = RQ_SENT;
        ret = finish(api, conn, rq, &rq->reply);
        atomic_fetch_sub(&api->inflight, 1); /* the reply is queued */
        return ret;
    }
    if (rq->status != 0 || rq->phase != RQ_NEW)
        return MHD_YES; /* already answered (413 before the body) */
    {
        enum route rt = rq->rt; /* matched at the first call */
        if (rt != R_NONE &&
            (routes[rt].needs_db != 0 || routes[rt].needs_auth || rt == R_METRICS)) {
            atomic_fetch_add(&api->inflight, 1);
            if (!atomic_load(&api->draining)) {
                rq->api = api;
                rq->conn = conn;
                rq->url = url;
                rq->phase = RQ_BUSY;
                reply_init(&rq->reply);
                atomic_store(&rq->holds, 1);
                MHD_suspend_connection(conn);
                if (rt == R_JOBS) {
                    /* A plain enqueue needs no database of its own: it goes
                     * from here to the batcher without waking a handler
                     * thread, unless it turns out to (references, a key). */
                    rq->on_poller = 1;
                    dispatch(api, conn, url, method, rq, &rq->reply);
                    rq->on_poller = 0;
                    if (!rq->wants_db) {
                        rq_release(rq); /* resumed now if answered, else by the batcher */
                        return MHD_YES;
                    }
                    reply_init(&rq->reply); /* nothing was answered: start again */
                }
                /* off the polling thread: a handler thread runs it */
                handlers_push(&api->handlers, rq);
                return MHD_YES;
            }
            atomic_fetch_sub(&api->inflight, 1);
            reply_init(&r);
            reply_error(&r, 503, "kopro-api is shutting down; retry on another instance");
            return finish(api, conn, rq, &r);
        }
    }
    /* no database, nothing to wait for: answered here */
    reply_init(&r);
    dispatch(api, conn, url, method, rq, &r);
    return finish(api, conn, rq, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct kopro_api *api = cls;
    struct req *rq = *con_cls;
    (void)conn;
    (void)toe;
    if (rq == NULL)
        return;
    if (api->log != NULL) {
        struct timespec t1;
        long us;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        us = (t1.tv_sec - rq->t0.tv_sec) * 1000000L + (t1.tv_nsec - rq->t0.tv_nsec) / 1000;
        api_log(api, "request method=%s route=%s status=%d duration_ms=%.3f", rq->method, rq->route,
                rq->status, (double)us / 1000.0);
    }
    if (rq->phase == RQ_READY) {
        /* resumed, but the connection ended before the reply was queued */
        if (rq->reply.body != NULL && rq->reply.wipe_body)
            explicit_bzero(rq->reply.body, rq->reply.len);
        free(rq->reply.body);
        if (rq->reply.fd >= 0)
            close(rq->reply.fd);
        atomic_fetch_sub(&api->inflight, 1);
    }
    /* bodies may carry personal data (payloads): wipe them */
    kopro_buf_free_secure(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    struct kopro_api *api = cls;
    char line[400];
    size_t n;
    if (api->log == NULL)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    api_log(api, "microhttpd: %s", line);
}

/* ------------------------------------------------------------ lifecycle */

int kopro_api_parse_listen(struct sockaddr_storage *addr_out, socklen_t *addr_len_out,
                           const char *listen)
{
    char host[256];
    const char *colon;
    const char *port;
    struct addrinfo hints;
    struct addrinfo *ai = NULL;
    size_t hl;
    char *end = NULL;
    long pn;
    int gai;

    memset(addr_out, 0, sizeof(*addr_out));
    *addr_len_out = 0;
    if (listen == NULL || *listen == '\0')
        return kopro_error_set(KOPRO_EINVAL, "empty listen address; give HOST:PORT, e.g. %s",
                               KOPRO_API_DEFAULT_LISTEN);
    if (listen[0] == '[') {
        const char *close_b = strchr(listen, ']');
        if (close_b == NULL || close_b[1] != ':')
            return kopro_error_set(KOPRO_EINVAL, "listen address \"%.100s\": expected [IPv6]:PORT",
                                   listen);
        hl = (size_t)(close_b - listen - 1);
        if (hl >= sizeof(host))
            return kopro_error_set(KOPRO_EINVAL, "listen address \"%.100s\" is too long", listen);
        memcpy(host, listen + 1, hl);
        host[hl] = '\0';
        port = close_b + 2;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || colon == listen)
            return kopro_error_set(KOPRO_EINVAL,
                                   "listen address \"%.100s\": expected HOST:PORT, e.g. %s", listen,
                                   KOPRO_API_DEFAULT_LISTEN);
        hl = (size_t)(colon - listen);
        if (hl >= sizeof(host))
            return kopro_error_set(KOPRO_EINVAL, "listen address \"%.100s\" is too long", listen);
        memcpy(host, listen, hl);
        host[hl] = '\0';
        port = colon + 1;
    }
    errno = 0;
    pn = strtol(port, &end, 10);
    if (errno != 0 || end == port || *end != '\0' || pn < 0 || pn > 65535)
        return kopro_error_set(KOPRO_EINVAL, "listen address \"%.100s\": port must be 0..65535",
                               listen);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0 || ai == NULL)
        return kopro_error_set(KOPRO_EINVAL, "listen address \"%.100s\": %s", listen,
                               gai != 0 ? gai_strerror(gai) : "no address");
    memcpy(addr_out, ai->ai_addr, ai->ai_addrlen);
    *addr_len_out = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int kopro_api_start(struct kopro_api **out, const struct kopro_config *cfg,
                    const struct kopro_jwt_key *key, const struct kopro_api_options *opts)
{
    struct kopro_api *api = NULL;
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    const char *listen;
    const char *url;
    const char *store;
    unsigned threads;
    unsigned pollers;
    unsigned flags;
    int rc;

    *out = NULL;
    listen = opts->listen != NULL
                 ? opts->listen
                 : kopro_config_get(cfg, "KOPRO_API_LISTEN", KOPRO_API_DEFAULT_LISTEN);
    rc = kopro_api_parse_listen(&addr, &addr_len, listen);
    if (rc != 0)
        return rc;
    threads = opts->threads != 0 ? opts->threads : KOPRO_API_DEFAULT_THREADS;
    if (threads > 256)
        return kopro_error_set(KOPRO_EINVAL, "--threads %u is more than 256", threads);
    /* seed jansson's hash function before any thread builds an object */
    json_object_seed(0);
    api = calloc(1, sizeof(*api));
    if (api == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    api->cfg = cfg;
    api->key = key;
    api->body_cap =
        opts->body_cap_bytes != 0 ? opts->body_cap_bytes : KOPRO_API_DEFAULT_BODY_CAP_BYTES;
    api->gdpr_per_hour =
        opts->gdpr_per_hour != 0 ? opts->gdpr_per_hour : KOPRO_API_DEFAULT_GDPR_PER_HOUR;
    if (api->gdpr_per_hour > RATE_MAX_PER_HOUR)
        api->gdpr_per_hour = RATE_MAX_PER_HOUR;
    api->log = opts->log;
    api->log_ud = opts->log_userdata;
    pthread_mutex_init(&api->rate_mu, NULL);
    api->rate = calloc(RATE_SLOTS, sizeof(*api->rate));
    url = opts->database_url != NULL ? opts->database_url
                                     : kopro_config_get(cfg, "KOPRO_DATABASE_URL", "");
    api->db_url = strdup(url);
    if (api->rate == NULL || api->db_url == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    /* the same default and URL form as kopro/docstore.h (KOPRO_DOCSTORE_DEFAULT) */
    store = kopro_config_get(cfg, "KOPRO_DOCUMENT_STORE", "./var/documents");
    if (strncmp(store, "file://", 7) == 0)
        store += 7;
    else if (strstr(store, "://") != NULL) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "KOPRO_DOCUMENT_STORE \"%.200s\": only file:// URLs and paths "
                             "are served by kopro-api",
                             store);
        goto done;
    }
    api->store = strdup(store);
    if (api->store == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    rc = pool_init(&api->pool, threads, api->db_url);
    if (rc == 0)
        rc = batch_start(&api->batch, api->db_url);
    if (rc == 0)
        rc = handlers_start(api, threads);
    if (rc != 0)
        goto done;
    /* A few polling threads (epoll) for every connection; requests that need
     * the database are suspended and run on the `threads` handler threads, each
     * of which never holds more than one pooled connection, so it never waits
     * for the pool. A thread per connection cost ~3 context switches and a
     * contended lock per request: 44 % of the server's samples at 100
     * connections. */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME;
    {
        /* one polling thread per core, at most 4: they parse, verify tokens
         * and hand plain enqueues to the batcher themselves */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        pollers = cores < 1 ? 1 : cores > 4 ? 4 : (unsigned)cores;
    }
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    api->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error,
        api, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)CONNECTIONS_MAX, MHD_OPTION_THREAD_POOL_SIZE, pollers, MHD_OPTION_END);
    if (api->daemon == NULL) {
        rc = kopro_error_set(KOPRO_EUNAVAIL,
                             "cannot listen on %.100s (address in use or not permitted)", listen);
        goto done;
    }
done:
    if (rc != 0) {
        kopro_api_stop(api);
        return rc;
    }
    *out = api;
    return 0;
}

unsigned kopro_api_port(const struct kopro_api *api)
{
    const union MHD_DaemonInfo *info;
    if (api == NULL || api->daemon == NULL)
        return 0;
    info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info != NULL ? info->port : 0;
}

void kopro_api_stop(struct kopro_api *api)
{
    if (api == NULL)
        return;
    if (api->daemon != NULL) {
        MHD_socket s = MHD_quiesce_daemon(api->daemon);
        unsigned waited_ms = 0;
        /* Requests already taken are answered: MHD must not close a suspended
         * connection (it would free the request a handler thread is using).
         * New requests on open connections get 503 from now on. */
        atomic_store(&api->draining, 1);
        while (atomic_load(&api->inflight) > 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            if (++waited_ms % 5000 == 0)
                api_log(api, "stopping: waiting for %d requests still being answered",
                        atomic_load(&api->inflight));
        }
        MHD_stop_daemon(api->daemon);
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
    handlers_stop(&api->handlers); /* the daemon is gone: nothing can be pushed */
    batch_stop(&api->batch);       /* no handler runs any more: nothing can be submitted */
    pool_destroy(&api->pool);
    pthread_mutex_destroy(&api->rate_mu);
    free(api->rate);
    free(api->store);
    free(api->db_url);
    free(api);
}
