#include "kopro/s3.h"

#include "kopro/buf.h"
#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/hash.h"
#include "kopro/retention.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define RESP_CAP (32u * 1024 * 1024)
#define URL_CAP 4096
#define LIST_CAP 1000000
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct kopro_s3 {
    CURL *curl;
    char *scheme_host; /* "https://host:port" */
    char *host;        /* "host:port" */
    char *scheme;      /* "https" */
    char *bucket;
    char *region;
    char *userpwd; /* "access:secret", wiped on free */
    char sigv4[128];
    int path_style;
    int max_attempts;
    long retry_base_ms;
    long timeout_ms;
    unsigned long retries;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void kopro_s3_free(struct kopro_s3 *s)
{
    if (s == NULL)
        return;
    if (s->curl != NULL)
        curl_easy_cleanup(s->curl);
    if (s->userpwd != NULL) {
        explicit_bzero(s->userpwd, strlen(s->userpwd));
        free(s->userpwd);
    }
    free(s->scheme_host);
    free(s->host);
    free(s->scheme);
    free(s->bucket);
    free(s->region);
    free(s);
}

static int valid_bucket(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-' ||
              b[i] == '.'))
            return 0;
    return 1;
}

static int truthy(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
                         strcasecmp(v, "yes") == 0);
}

/* An AWS-style credentials file ([default] aws_access_key_id = ...). */
static int read_credentials(char **ak, char **sk, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int in_default = 1;
    *ak = *sk = NULL;
    if (f == NULL)
        return kopro_error_set(KOPRO_ENOTFOUND, "S3 credentials file %s cannot be opened", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *k = line, *v, *e;
        while (*k == ' ' || *k == '\t')
            k++;
        if (*k == '[') {
            in_default = strncmp(k, "[default]", 9) == 0;
            continue;
        }
        v = strchr(k, '=');
        if (!in_default || v == NULL)
            continue;
        *v++ = '\0';
        for (e = v + strlen(v); e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '); e--)
            e[-1] = '\0';
        while (*v == ' ')
            v++;
        for (e = k + strlen(k); e > k && e[-1] == ' '; e--)
            e[-1] = '\0';
        if (strcmp(k, "aws_access_key_id") == 0 && *ak == NULL)
            *ak = strdup(v);
        else if (strcmp(k, "aws_secret_access_key") == 0 && *sk == NULL)
            *sk = strdup(v);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return 0;
}

int kopro_s3_new(struct kopro_s3 **out, const struct kopro_s3_settings *st, const char *bucket)
{
    struct kopro_s3 *s = NULL;
    const char *sep;
    size_t n;
    int rc = 0;

    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (!curl_ok)
        return kopro_error_set(KOPRO_ERROR, "libcurl failed to initialise");
    if (st->endpoint == NULL || *st->endpoint == '\0')
        return kopro_error_set(KOPRO_EINVAL, "no S3 endpoint; set KOPRO_S3_ENDPOINT, e.g. "
                                             "https://s3.gra.io.cloud.ovh.net");
    sep = strstr(st->endpoint, "://");
    if (sep == NULL || sep[3] == '\0' ||
        (strncmp(st->endpoint, "https://", 8) != 0 && strncmp(st->endpoint, "http://", 7) != 0))
        return kopro_error_set(KOPRO_EINVAL,
                               "S3 endpoint '%s' is not an http(s)://host[:port] URL; set "
                               "KOPRO_S3_ENDPOINT",
                               st->endpoint);
    if (st->region == NULL || *st->region == '\0')
        return kopro_error_set(KOPRO_EINVAL, "no S3 region; set KOPRO_S3_REGION (e.g. gra)");
    for (const char *p = st->region; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-'))
            return kopro_error_set(KOPRO_EINVAL, "S3 region '%s' is malformed", st->region);
    if (st->access_key == NULL || *st->access_key == '\0' || st->secret_key == NULL ||
        *st->secret_key == '\0')
        return kopro_error_set(KOPRO_EINVAL, "no S3 credentials; set KOPRO_S3_ACCESS_KEY and "
                                             "KOPRO_S3_SECRET_KEY (environment or config file)");
    if (strchr(st->access_key, ':') != NULL)
        return kopro_error_set(KOPRO_EINVAL, "the S3 access key must not contain ':'");
    if (bucket == NULL || !valid_bucket(bucket))
        return kopro_error_set(KOPRO_EINVAL,
                               "S3 bucket name '%s' is not valid (3-63 of a-z 0-9 . -)",
                               bucket ? bucket : "");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    s->scheme = strndup(st->endpoint, (size_t)(sep - st->endpoint));
    s->host = xstrdup(sep + 3);
    s->bucket = xstrdup(bucket);
    s->region = xstrdup(st->region);
    n = strlen(st->access_key) + strlen(st->secret_key) + 2;
    s->userpwd = calloc(1, n);
    s->curl = curl_easy_init();
    if (s->scheme == NULL || s->host == NULL || s->bucket == NULL || s->region == NULL ||
        s->userpwd == NULL || s->curl == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    n = strlen(s->host);
    while (n > 0 && s->host[n - 1] == '/')
        s->host[--n] = '\0';
    if (n == 0 || strchr(s->host, '/') != NULL) {
        rc = kopro_error_set(KOPRO_EINVAL,
                             "S3 endpoint '%s' must be scheme://host[:port] without a path",
                             st->endpoint);
        goto done;
    }
    snprintf(s->userpwd, strlen(st->access_key) + strlen(st->secret_key) + 2, "%s:%s",
             st->access_key, st->secret_key);
    snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
    s->path_style = st->path_style;
    s->max_attempts = st->max_attempts > 0 ? st->max_attempts : 6;
    s->retry_base_ms = st->retry_base_ms > 0 ? st->retry_base_ms : 200;
    s->timeout_ms = st->timeout_ms > 0 ? st->timeout_ms : 60000;
    *out = s;
    s = NULL;
done:
    kopro_s3_free(s);
    return rc;
}

int kopro_s3_new_config(struct kopro_s3 **out, const struct kopro_config *cfg, const char *bucket)
{
    struct kopro_s3_settings st;
    char *fak = NULL, *fsk = NULL;
    const char *cred;
    int rc = 0;

    *out = NULL;
    memset(&st, 0, sizeof(st));
    st.endpoint = kopro_config_get(cfg, "KOPRO_S3_ENDPOINT", NULL);
    st.region = kopro_config_get(cfg, "KOPRO_S3_REGION", NULL);
    st.access_key = kopro_config_get(cfg, "KOPRO_S3_ACCESS_KEY", NULL);
    st.secret_key = kopro_config_get(cfg, "KOPRO_S3_SECRET_KEY", NULL);
    cred = kopro_config_get(cfg, "KOPRO_S3_CREDENTIALS_FILE", NULL);
    if ((st.access_key == NULL || st.secret_key == NULL) && cred != NULL) {
        rc = read_credentials(&fak, &fsk, cred);
        if (rc != 0)
            goto done;
        if (st.access_key == NULL)
            st.access_key = fak;
        if (st.secret_key == NULL)
            st.secret_key = fsk;
    }
    st.path_style = truthy(kopro_config_get(cfg, "KOPRO_S3_PATH_STYLE", NULL));
    if (kopro_config_get(cfg, "KOPRO_S3_MAX_ATTEMPTS", NULL) != NULL)
        st.max_attempts = atoi(kopro_config_get(cfg, "KOPRO_S3_MAX_ATTEMPTS", NULL));
    if (kopro_config_get(cfg, "KOPRO_S3_RETRY_BASE_MS", NULL) != NULL)
        st.retry_base_ms = atol(kopro_config_get(cfg, "KOPRO_S3_RETRY_BASE_MS", NULL));
    rc = kopro_s3_new(out, &st, bucket);
done:
    if (fak != NULL) {
        explicit_bzero(fak, strlen(fak));
        free(fak);
    }
    if (fsk != NULL) {
        explicit_bzero(fsk, strlen(fsk));
        free(fsk);
    }
    return rc;
}

unsigned long kopro_s3_retries(const struct kopro_s3 *s)
{
    return s->retries;
}

/* RFC 3986 unreserved characters stay; everything else is %XX (upper case).
 * keep_slash keeps '/' (object key paths). */
static int uri_encode(struct kopro_buf *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && rc == 0; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
            (keep_slash && *p == '/')) {
            rc = kopro_buf_add(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = kopro_buf_add(b, e, 3);
        }
    }
    return rc;
}

struct qparam {
    const char *k;
    const char *v; /* NULL: "k=" */
};

static int cmp_qparam(const void *a, const void *b)
{
    return strcmp(((const struct qparam *)a)->k, ((const struct qparam *)b)->k);
}

/* scheme://host/[bucket/]key?sorted-encoded-query */
static int build_url(struct kopro_buf *url, struct kopro_s3 *s, const char *key,
                     struct qparam *q, size_t nq)
{
    int rc;
    if (s->path_style)
        rc = kopro_buf_addf(url, "%s://%s/%s", s->scheme, s->host, s->bucket);
    else
        rc = kopro_buf_addf(url, "%s://%s.%s", s->scheme, s->bucket, s->host);
    if (rc == 0 && key != NULL && *key != '\0') {
        rc = kopro_buf_adds(url, "/");
        if (rc == 0)
            rc = uri_encode(url, key, 1);
    } else if (rc == 0 && !s->path_style) {
        rc = kopro_buf_adds(url, "/");
    }
    if (nq > 0)
        qsort(q, nq, sizeof(*q), cmp_qparam);
    for (size_t i = 0; rc == 0 && i < nq; i++) {
        rc = kopro_buf_adds(url, i == 0 ? "?" : "&");
        if (rc == 0)
            rc = uri_encode(url, q[i].k, 0);
        if (rc == 0)
            rc = kopro_buf_adds(url, "=");
        if (rc == 0 && q[i].v != NULL)
            rc = uri_encode(url, q[i].v, 0);
    }
    return rc;
}

struct upload_src {
    const unsigned char *data;
    size_t len, pos;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload_src *u = arg;
    size_t n = size * nitems;
    if (n > u->len - u->pos)
        n = u->len - u->pos;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

static int seek_cb(void *arg, curl_off_t offset, int origin)
{
    struct upload_src *u = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > u->len)
        return CURL_SEEKFUNC_FAIL;
    u->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct kopro_buf *b = arg;
    size_t n = size * nmemb;
    if (kopro_buf_add(b, ptr, n) != 0)
        return 0; /* over the cap: abort the transfer */
    return n;
}

struct resp_headers {
    char etag[256];
    int64_t total; /* from Content-Range, or Content-Length, or -1 */
};

static size_t header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct resp_headers *h = arg;
    size_t n = size * nitems;
    char line[512];
    size_t m = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    memcpy(line, buf, m);
    line[m] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "ETag:", 5) == 0) {
        const char *v = line + 5;
        while (*v == ' ')
            v++;
        size_t vl = strnlen(v, sizeof(h->etag) - 1);
        memcpy(h->etag, v, vl);
        h->etag[vl] = '\0';
    } else if (strncasecmp(line, "Content-Range:", 14) == 0) {
        const char *slash = strrchr(line, '/');
        if (slash != NULL && slash[1] != '*')
            h->total = strtoll(slash + 1, NULL, 10);
    }
    return n;
}

/* Text of the first <tag>...</tag> in [p, end) into out (entities decoded). */
static const char *xml_tag(char *out, size_t cap, const char *p, const char *end, const char *tag)
{
    char open[64], close[64];
    const char *a, *b;
    size_t o = 0;
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    out[0] = '\0';
    a = strstr(p, open);
    if (a == NULL || a >= end)
        return NULL;
    a += strlen(open);
    b = strstr(a, close);
    if (b == NULL || b > end)
        return NULL;
    while (a < b && o + 1 < cap) {
        static const struct {
            const char *ent;
            char c;
        } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        int matched = 0;
        if (*a == '&') {
            for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
                size_t el = strlen(ents[i].ent);
                if ((size_t)(b - a) >= el && strncmp(a, ents[i].ent, el) == 0) {
                    out[o++] = ents[i].c;
                    a += el;
                    matched = 1;
                    break;
                }
            }
        }
        if (!matched)
            out[o++] = *a++;
    }
    out[o] = '\0';
    return b + strlen(close);
}

static void backoff(struct kopro_s3 *s, int attempt)
{
    unsigned int r = 0;
    long cap = s->retry_base_ms << (attempt < 6 ? attempt : 6);
    long ms;
    struct timespec ts;
    if (cap > 8000)
        cap = 8000;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (unsigned int)time(NULL);
    ms = (long)(r % (unsigned long)(cap + 1)); /* full jitter */
    if (ms < s->retry_base_ms / 2)
        ms = s->retry_base_ms / 2;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static int retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/*
 * One S3 request with retries. body may be NULL. resp (may be NULL) receives
 * the response body of a 2xx answer. *status_out (may be NULL): final HTTP
 * status.
 */
static int s3_request(struct kopro_s3 *s, const char *method, const char *key, struct qparam *q,
                      size_t nq, const void *body, size_t body_len, const char *content_type,
                      const char *range, struct kopro_buf *resp, struct resp_headers *rh,
                      long *status_out)
{
    struct kopro_buf url, err;
    struct curl_slist *hdrs = NULL;
    char sha_hdr[128], hex[KOPRO_SHA256_HEX_BYTES], ct_hdr[128], range_hdr[128];
    char curl_err[CURL_ERROR_SIZE];
    struct resp_headers local_rh;
    long status = 0;
    int rc = 0;

    kopro_buf_init(&url, URL_CAP);
    kopro_buf_init(&err, 64 * 1024);
    if (rh == NULL)
        rh = &local_rh;
    if (status_out != NULL)
        *status_out = 0;
    if (build_url(&url, s, key, q, nq) != 0) {
        rc = kopro_error_set(KOPRO_EINVAL, "S3 key '%.100s' makes a URL that is too long", key);
        goto done;
    }
    if (body != NULL && body_len > 0) {
        rc = kopro_sha256_hex(body, body_len, hex);
        if (rc != 0)
            goto done;
    } else {
        snprintf(hex, sizeof(hex), "%s", EMPTY_SHA256);
    }
    snprintf(sha_hdr, sizeof(sha_hdr), "x-amz-content-sha256: %s", hex);
    hdrs = curl_slist_append(hdrs, sha_hdr);
    if (content_type != NULL) {
        snprintf(ct_hdr, sizeof(ct_hdr), "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ct_hdr);
    }
    if (range != NULL) {
        snprintf(range_hdr, sizeof(range_hdr), "Range: %s", range);
        hdrs = curl_slist_append(hdrs, range_hdr);
    }
    if (hdrs == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }

    for (int attempt = 0;; attempt++) {
        struct upload_src src = {body, body_len, 0};
        CURLcode cc;
        int retry = 0;
        char code[128] = "", msg[256] = "";

        if (resp != NULL)
            kopro_buf_reset(resp);
        kopro_buf_reset(&err);
        memset(rh, 0, sizeof(*rh));
        rh->total = -1;
        curl_err[0] = '\0';
        curl_easy_reset(s->curl);
        curl_easy_setopt(s->curl, CURLOPT_URL, url.data);
        curl_easy_setopt(s->curl, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(s->curl, CURLOPT_USERPWD, s->userpwd);
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, curl_err);
        curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, (s->timeout_ms + 999) / 1000);
        curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, rh);
        curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        if (strcmp(method, "PUT") == 0) {
            curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, read_cb);
            curl_easy_setopt(s->curl, CURLOPT_READDATA, &src);
            curl_easy_setopt(s->curl, CURLOPT_SEEKFUNCTION, seek_cb);
            curl_easy_setopt(s->curl, CURLOPT_SEEKDATA, &src);
            curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
        } else if (strcmp(method, "POST") == 0) {
            curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
            curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body != NULL ? (const char *)body : "");
            curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        } else if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
        } else if (strcmp(method, "GET") != 0) {
            curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
        }
        /* the body of a 2xx goes to resp; of an error, to err (set below) */
        curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, resp != NULL ? resp : &err);
        cc = curl_easy_perform(s->curl);
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK) {
            if (retryable_curl(cc) && attempt + 1 < s->max_attempts) {
                retry = 1;
            } else {
                rc = kopro_error_set(KOPRO_EUNAVAIL,
                                     "S3 %s %s/%s failed after %d attempts: %s; check "
                                     "KOPRO_S3_ENDPOINT and the network",
                                     method, s->bucket, key ? key : "", attempt + 1,
                                     curl_err[0] ? curl_err : curl_easy_strerror(cc));
                goto done;
            }
        } else if (status >= 200 && status < 300) {
            break;
        } else {
            /* an error answer: its XML body went to resp or err */
            const struct kopro_buf *eb = resp != NULL ? resp : &err;
            if (eb->data != NULL) {
                xml_tag(code, sizeof(code), eb->data, eb->data + eb->len, "Code");
                xml_tag(msg, sizeof(msg), eb->data, eb->data + eb->len, "Message");
            }
            if ((status >= 500 || status == 429 || status == 408) &&
                attempt + 1 < s->max_attempts) {
                retry = 1;
            } else if (status == 404) {
                rc = kopro_error_set(KOPRO_ENOTFOUND, "S3 %s %s/%s: %s%s%s", method, s->bucket,
                                     key ? key : "", code[0] ? code : "not found",
                                     strcmp(code, "NoSuchBucket") == 0
                                         ? "; create the bucket or fix the repository URL"
                                         : "",
                                     "");
                goto done;
            } else if (status == 403) {
                rc = kopro_error_set(KOPRO_EAUTH,
                                     "S3 refused %s %s/%s (%s: %s); check KOPRO_S3_ACCESS_KEY, "
                                     "KOPRO_S3_SECRET_KEY and KOPRO_S3_REGION",
                                     method, s->bucket, key ? key : "",
                                     code[0] ? code : "403 Forbidden", msg);
                goto done;
            } else if (status >= 400 && status < 500) {
                rc = kopro_error_set(KOPRO_EINVAL, "S3 %s %s/%s: HTTP %ld %s: %s", method,
                                     s->bucket, key ? key : "", status, code, msg);
                goto done;
            } else {
                rc = kopro_error_set(KOPRO_EUNAVAIL,
                                     "S3 %s %s/%s still failing after %d attempts: HTTP %ld %s",
                                     method, s->bucket, key ? key : "", attempt + 1, status,
                                     code);
                goto done;
            }
        }
        if (retry) {
            s->retries++;
            backoff(s, attempt);
        }
    }
    if (status_out != NULL)
        *status_out = status;
done:
    curl_slist_free_all(hdrs);
    kopro_buf_free(&url);
    kopro_buf_free(&err);
    return rc;
}

int kopro_s3_put(struct kopro_s3 *s, const char *key, const void *data, size_t len_bytes)
{
    return s3_request(s, "PUT", key, NULL, 0, data, len_bytes, NULL, NULL, NULL, NULL, NULL);
}

int kopro_s3_get_range(unsigned char **out, size_t *got_bytes, int64_t *total_bytes_out,
                       struct kopro_s3 *s, const char *key, int64_t offset, size_t len_bytes)
{
    struct kopro_buf b;
    struct resp_headers rh;
    char range[96];
    long status = 0;
    int rc;

    *out = NULL;
    *got_bytes = 0;
    if (total_bytes_out != NULL)
        *total_bytes_out = -1;
    if (len_bytes == 0 || len_bytes > RESP_CAP)
        return kopro_error_set(KOPRO_EINVAL, "S3 range of %zu bytes is out of bounds", len_bytes);
    kopro_buf_init(&b, len_bytes + 1);
    snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)offset,
             (long long)(offset + (int64_t)len_bytes - 1));
    rc = s3_request(s, "GET", key, NULL, 0, NULL, 0, NULL, range, &b, &rh, &status);
    if (rc == KOPRO_EINVAL && strstr(kopro_error_last(), "InvalidRange") != NULL) {
        /* offset at or past the end */
        kopro_buf_free(&b);
        kopro_error_clear();
        return 0;
    }
    if (rc != 0) {
        kopro_buf_free(&b);
        return rc;
    }
    if (status == 200 && (offset != 0 || b.len > len_bytes)) {
        kopro_buf_free(&b);
        return kopro_error_set(KOPRO_ERROR, "S3 server ignored the Range header of GET %s", key);
    }
    if (total_bytes_out != NULL)
        *total_bytes_out = status == 206 ? rh.total : (int64_t)b.len;
    *got_bytes = b.len;
    *out = (unsigned char *)kopro_buf_detach(&b);
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    return 0;
}

int kopro_s3_delete(struct kopro_s3 *s, const char *key)
{
    int rc = s3_request(s, "DELETE", key, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL);
    if (rc == KOPRO_ENOTFOUND && strstr(kopro_error_last(), "NoSuchBucket") == NULL) {
        kopro_error_clear();
        return 0;
    }
    return rc;
}

int kopro_s3_multipart_start(char **upload_id_out, struct kopro_s3 *s, const char *key)
{
    struct qparam q[] = {{"uploads", NULL}};
    struct kopro_buf b;
    char id[1024];
    int rc;

    *upload_id_out = NULL;
    kopro_buf_init(&b, 64 * 1024);
    rc = s3_request(s, "POST", key, q, 1, NULL, 0, NULL, NULL, &b, NULL, NULL);
    if (rc == 0) {
        if (b.data == NULL || xml_tag(id, sizeof(id), b.data, b.data + b.len, "UploadId") == NULL ||
            id[0] == '\0')
            rc = kopro_error_set(KOPRO_ERROR, "S3 CreateMultipartUpload %s: no UploadId in the "
                                              "answer",
                                 key);
        else
            *upload_id_out = strdup(id);
        if (rc == 0 && *upload_id_out == NULL)
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    kopro_buf_free(&b);
    return rc;
}

int kopro_s3_multipart_part(char **etag_out, struct kopro_s3 *s, const char *key,
                            const char *upload_id, int part_no, const void *data,
                            size_t len_bytes)
{
    char num[16];
    struct qparam q[] = {{"partNumber", num}, {"uploadId", upload_id}};
    struct resp_headers rh;
    int rc;

    *etag_out = NULL;
    if (part_no < 1 || part_no > 10000)
        return kopro_error_set(KOPRO_EINVAL, "S3 part number %d is out of 1..10000", part_no);
    snprintf(num, sizeof(num), "%d", part_no);
    rc = s3_request(s, "PUT", key, q, 2, data, len_bytes, NULL, NULL, NULL, &rh, NULL);
    if (rc != 0)
        return rc;
    if (rh.etag[0] == '\0')
        return kopro_error_set(KOPRO_ERROR, "S3 UploadPart %s #%d: no ETag in the answer", key,
                               part_no);
    *etag_out = strdup(rh.etag);
    if (*etag_out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    return 0;
}

int kopro_s3_multipart_complete(struct kopro_s3 *s, const char *key, const char *upload_id,
                                char *const *etags, int n_parts)
{
    struct qparam q[] = {{"uploadId", upload_id}};
    struct kopro_buf body, resp;
    char code[128];
    int rc = 0;

    kopro_buf_init(&body, (size_t)n_parts * 400 + 256);
    kopro_buf_init(&resp, 64 * 1024);
    rc = kopro_buf_adds(&body, "<CompleteMultipartUpload>");
    for (int i = 0; rc == 0 && i < n_parts; i++)
        rc = kopro_buf_addf(&body, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
                            i + 1, etags[i]);
    if (rc == 0)
        rc = kopro_buf_adds(&body, "</CompleteMultipartUpload>");
    if (rc != 0)
        goto done;
    rc = s3_request(s, "POST", key, q, 1, body.data, body.len, "application/xml", NULL, &resp,
                    NULL, NULL);
    /* S3 may answer 200 with an <Error> body */
    if (rc == 0 && resp.data != NULL && strstr(resp.data, "<Error>") != NULL) {
        xml_tag(code, sizeof(code), resp.data, resp.data + resp.len, "Code");
        rc = kopro_error_set(KOPRO_EUNAVAIL, "S3 CompleteMultipartUpload %s failed: %s", key,
                             code);
    }
done:
    kopro_buf_free(&body);
    kopro_buf_free(&resp);
    return rc;
}

int kopro_s3_multipart_abort(struct kopro_s3 *s, const char *key, const char *upload_id)
{
    struct qparam q[] = {{"uploadId", upload_id}};
    int rc = s3_request(s, "DELETE", key, q, 1, NULL, 0, NULL, NULL, NULL, NULL, NULL);
    if (rc == KOPRO_ENOTFOUND && strstr(kopro_error_last(), "NoSuchBucket") == NULL) {
        kopro_error_clear();
        return 0;
    }
    return rc;
}

void kopro_s3_objects_free(struct kopro_s3_object *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].upload_id);
    }
    free(v);
}

static int push_obj(struct kopro_s3_object **v, size_t *n, size_t *alloc, const char *key,
                    const char *upload_id, int64_t size, const char *when)
{
    struct kopro_s3_object *o;
    if (*n == LIST_CAP)
        return kopro_error_set(KOPRO_ETOOBIG, "S3 listing has more than %d entries", LIST_CAP);
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 64;
        struct kopro_s3_object *nv = realloc(*v, na * sizeof(**v));
        if (nv == NULL)
            return kopro_error_set(KOPRO_ERROR, "out of memory");
        *v = nv;
        *alloc = na;
    }
    o = &(*v)[*n];
    memset(o, 0, sizeof(*o));
    o->key = strdup(key);
    o->upload_id = upload_id ? strdup(upload_id) : NULL;
    if (o->key == NULL || (upload_id != NULL && o->upload_id == NULL)) {
        free(o->key);
        free(o->upload_id);
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    o->size_bytes = size;
    if (kopro_retention_parse_rfc3339(&o->time, when) != 0) {
        kopro_error_clear();
        o->time = 0;
    }
    (*n)++;
    return 0;
}

static int cmp_obj(const void *a, const void *b)
{
    return strcmp(((const struct kopro_s3_object *)a)->key,
                  ((const struct kopro_s3_object *)b)->key);
}

int kopro_s3_list(struct kopro_s3_object **out, size_t *n_out, struct kopro_s3 *s,
                  const char *prefix)
{
    struct kopro_s3_object *v = NULL;
    size_t n = 0, alloc = 0;
    struct kopro_buf b;
    char token[1024] = "";
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    kopro_buf_init(&b, RESP_CAP);
    for (;;) {
        struct qparam q[3] = {{"list-type", "2"}, {"prefix", prefix}, {"continuation-token", token}};
        char trunc[16], key[1100], size[32], when[64];
        const char *p, *end;
        rc = s3_request(s, "GET", NULL, q, token[0] ? 3 : 2, NULL, 0, NULL, NULL, &b, NULL, NULL);
        if (rc != 0)
            goto done;
        if (b.data == NULL)
            break;
        end = b.data + b.len;
        for (p = strstr(b.data, "<Contents>"); p != NULL; p = strstr(p, "<Contents>")) {
            const char *ce = strstr(p, "</Contents>");
            if (ce == NULL)
                break;
            xml_tag(key, sizeof(key), p, ce, "Key");
            xml_tag(size, sizeof(size), p, ce, "Size");
            xml_tag(when, sizeof(when), p, ce, "LastModified");
            rc = push_obj(&v, &n, &alloc, key, NULL, strtoll(size, NULL, 10), when);
            if (rc != 0)
                goto done;
            p = ce;
        }
        xml_tag(trunc, sizeof(trunc), b.data, end, "IsTruncated");
        if (strcmp(trunc, "true") != 0)
            break;
        if (xml_tag(token, sizeof(token), b.data, end, "NextContinuationToken") == NULL ||
            token[0] == '\0') {
            rc = kopro_error_set(KOPRO_ERROR, "S3 ListObjectsV2: truncated without a "
                                              "continuation token");
            goto done;
        }
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_obj);
    *out = v;
    *n_out = n;
    v = NULL;
    n = 0;
done:
    kopro_buf_free(&b);
    kopro_s3_objects_free(v, n);
    return rc;
}

int kopro_s3_list_uploads(struct kopro_s3_object **out, size_t *n_out, struct kopro_s3 *s,
                          const char *prefix)
{
    struct kopro_s3_object *v = NULL;
    size_t n = 0, alloc = 0;
    struct kopro_buf b;
    char kmark[1100] = "", umark[1024] = "";
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    kopro_buf_init(&b, RESP_CAP);
    for (;;) {
        struct qparam q[4] = {{"uploads", NULL}, {"prefix", prefix}, {"key-marker", kmark},
                              {"upload-id-marker", umark}};
        char trunc[16], key[1100], id[1024], when[64];
        const char *p, *end;
        rc = s3_request(s, "GET", NULL, q, kmark[0] ? 4 : 2, NULL, 0, NULL, NULL, &b, NULL, NULL);
        if (rc != 0)
            goto done;
        if (b.data == NULL)
            break;
        end = b.data + b.len;
        for (p = strstr(b.data, "<Upload>"); p != NULL; p = strstr(p, "<Upload>")) {
            const char *ue = strstr(p, "</Upload>");
            if (ue == NULL)
                break;
            xml_tag(key, sizeof(key), p, ue, "Key");
            xml_tag(id, sizeof(id), p, ue, "UploadId");
            xml_tag(when, sizeof(when), p, ue, "Initiated");
            rc = push_obj(&v, &n, &alloc, key, id, 0, when);
            if (rc != 0)
                goto done;
            p = ue;
        }
        xml_tag(trunc, sizeof(trunc), b.data, end, "IsTruncated");
        if (strcmp(trunc, "true") != 0)
            break;
        xml_tag(kmark, sizeof(kmark), b.data, end, "NextKeyMarker");
        xml_tag(umark, sizeof(umark), b.data, end, "NextUploadIdMarker");
        if (kmark[0] == '\0') {
            rc = kopro_error_set(KOPRO_ERROR, "S3 ListMultipartUploads: truncated without a "
                                              "marker");
            goto done;
        }
    }
    *out = v;
    *n_out = n;
    v = NULL;
    n = 0;
done:
    kopro_buf_free(&b);
    kopro_s3_objects_free(v, n);
    return rc;
}
