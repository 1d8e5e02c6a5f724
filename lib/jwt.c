/* JWT HS256 verification as KoproGo issues tokens. See kopro/jwt.h. */
#include "kopro/jwt.h"

#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/fs.h"
#include "kopro/hash.h"
#include "kopro/valid.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kopro_jwt_key {
    unsigned char *secret;
    size_t len;
};

/* ------------------------------------------------------------ base64url */

int kopro_base64url_encode(char **out, const void *data, size_t len)
{
    char *text = NULL;
    size_t cap;
    int n;

    *out = NULL;
    if (len > (size_t)1 << 28)
        return kopro_error_set(KOPRO_EINVAL, "base64url: input of %zu bytes is too long", len);
    cap = 4 * ((len + 2) / 3) + 1;
    text = malloc(cap);
    if (text == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory encoding base64url");
    n = EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    if (n < 0) {
        free(text);
        return kopro_error_set(KOPRO_ERROR, "base64 encoding failed (libcrypto)");
    }
    while (n > 0 && text[n - 1] == '=')
        n--;
    text[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (text[i] == '+')
            text[i] = '-';
        else if (text[i] == '/')
            text[i] = '_';
    }
    *out = text;
    return 0;
}

int kopro_base64url_decode(unsigned char **out, size_t *out_len, const char *text, size_t len,
                           size_t cap_bytes)
{
    char *std = NULL;
    unsigned char *bin = NULL;
    char *again = NULL;
    size_t padded;
    size_t pad;
    int n;
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    if (len > cap_bytes)
        return kopro_error_set(KOPRO_EINVAL, "base64url text of %zu bytes exceeds the cap of %zu",
                               len, cap_bytes);
    if (len % 4 == 1)
        return kopro_error_set(KOPRO_EINVAL, "base64url text has an impossible length (%zu)", len);
    pad = (4 - len % 4) % 4;
    padded = len + pad;
    std = malloc(padded + 1);
    bin = malloc(padded / 4 * 3 + 1);
    if (std == NULL || bin == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory decoding base64url");
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!(isascii((unsigned char)c) && isalnum((unsigned char)c))) {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "base64url text has a character outside the alphabet "
                                 "at offset %zu",
                                 i);
            goto done;
        }
        std[i] = c;
    }
    memset(std + len, '=', pad);
    std[padded] = '\0';
    n = padded == 0 ? 0 : EVP_DecodeBlock(bin, (const unsigned char *)std, (int)padded);
    if (n < 0 || (size_t)n < pad) {
        rc = kopro_error_set(KOPRO_EINVAL, "base64url text does not decode");
        goto done;
    }
    /* EVP_DecodeBlock counts the zero bytes the padding stands for */
    n -= (int)pad;
    bin[n] = '\0';
    /* canonical form only: re-encoding must give the input back (no stray bits) */
    rc = kopro_base64url_encode(&again, bin, (size_t)n);
    if (rc != 0)
        goto done;
    if (strlen(again) != len || memcmp(again, text, len) != 0) {
        rc = kopro_error_set(KOPRO_EINVAL, "base64url text is not in canonical form");
        goto done;
    }
    *out = bin;
    *out_len = (size_t)n;
    bin = NULL;
done:
    free(again);
    free(std);
    free(bin);
    return rc;
}

/* ------------------------------------------------------------ keys */

int kopro_jwt_key_new(struct kopro_jwt_key **out, const void *secret, size_t secret_len)
{
    struct kopro_jwt_key *k = NULL;

    *out = NULL;
    if (secret_len < KOPRO_JWT_MIN_SECRET_BYTES)
        return kopro_error_set(KOPRO_EINVAL,
                               "the JWT secret has %zu bytes; HS256 needs at least %d "
                               "(RFC 7518 §3.2): use KoproGo's JWT_SECRET",
                               secret_len, KOPRO_JWT_MIN_SECRET_BYTES);
    if (secret_len > KOPRO_JWT_MAX_SECRET_BYTES)
        return kopro_error_set(KOPRO_EINVAL, "the JWT secret has %zu bytes; the limit is %d",
                               secret_len, KOPRO_JWT_MAX_SECRET_BYTES);
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for the JWT key");
    k->secret = malloc(secret_len);
    if (k->secret == NULL) {
        free(k);
        return kopro_error_set(KOPRO_ERROR, "out of memory for the JWT key");
    }
    memcpy(k->secret, secret, secret_len);
    k->len = secret_len;
    *out = k;
    return 0;
}

void kopro_jwt_key_free(struct kopro_jwt_key *key)
{
    if (key == NULL)
        return;
    if (key->secret != NULL) {
        explicit_bzero(key->secret, key->len);
        free(key->secret);
    }
    explicit_bzero(key, sizeof(*key));
    free(key);
}

int kopro_jwt_key_load(struct kopro_jwt_key **out, const struct kopro_config *cfg)
{
    const char *credir = getenv("CREDENTIALS_DIRECTORY");
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    const char *value;
    int rc;

    *out = NULL;
    if (credir != NULL && *credir != '\0') {
        int n = snprintf(path, sizeof(path), "%s/jwt_secret", credir);
        if (n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0) {
            rc = kopro_fs_read_file(&text, &len, path, KOPRO_JWT_MAX_SECRET_BYTES);
            if (rc != 0)
                return kopro_error_wrap(rc, "JWT secret credential");
            if (len > 0 && text[len - 1] == '\n')
                len--;
            if (len > 0 && text[len - 1] == '\r')
                len--;
            rc = kopro_jwt_key_new(out, text, len);
            explicit_bzero(text, len);
            free(text);
            if (rc != 0)
                return kopro_error_wrap(rc, "%s", path);
            return 0;
        }
    }
    value = kopro_config_get(cfg, "KOPRO_JWT_SECRET", NULL);
    if (value == NULL)
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "no JWT secret: set KOPRO_JWT_SECRET (KoproGo's JWT_SECRET) or "
                               "give a systemd credential named jwt_secret");
    rc = kopro_jwt_key_new(out, value, strlen(value));
    if (rc != 0)
        return kopro_error_wrap(rc, "KOPRO_JWT_SECRET");
    return 0;
}

/* ------------------------------------------------------------ helpers */

int kopro_jwt_is_uuid(const char *s)
{
    return kopro_valid_uuid(s);
}

enum kopro_role kopro_jwt_role_parse(const char *name)
{
    static const struct {
        const char *name;
        enum kopro_role role;
    } roles[] = {
        {"superadmin", KOPRO_ROLE_SUPERADMIN}, {"syndic", KOPRO_ROLE_SYNDIC},
        {"accountant", KOPRO_ROLE_ACCOUNTANT}, {"board_member", KOPRO_ROLE_BOARD_MEMBER},
        {"contractor", KOPRO_ROLE_CONTRACTOR}, {"owner", KOPRO_ROLE_OWNER},
    };
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].role;
    return 0;
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    if (d != NULL)
        for (char *p = d; *p != '\0'; p++)
            *p = (char)tolower((unsigned char)*p);
    return d;
}

/* Decode one base64url part and parse it as a JSON object (no duplicate keys). */
static int decode_json_part(json_t **out, const char *part, size_t len, const char *what)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    json_error_t jerr;
    json_t *j = NULL;
    int rc;

    *out = NULL;
    rc = kopro_base64url_decode(&raw, &raw_len, part, len, KOPRO_JWT_MAX_TOKEN_BYTES);
    if (rc != 0)
        return kopro_error_wrap(KOPRO_EAUTH, "token %s", what);
    j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
    explicit_bzero(raw, raw_len);
    free(raw);
    if (j == NULL)
        return kopro_error_set(KOPRO_EAUTH, "token %s is not valid JSON: %s", what, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return kopro_error_set(KOPRO_EAUTH, "token %s is not a JSON object", what);
    }
    *out = j;
    return 0;
}

static int check_header(const json_t *h)
{
    const json_t *alg = json_object_get(h, "alg");
    const json_t *typ = json_object_get(h, "typ");

    if (!json_is_string(alg))
        return kopro_error_set(KOPRO_EAUTH, "token header has no \"alg\"; only HS256 is accepted");
    if (strcmp(json_string_value(alg), "HS256") != 0)
        return kopro_error_set(KOPRO_EAUTH,
                               "token algorithm \"%.20s\" is refused; only HS256 is accepted",
                               json_string_value(alg));
    if (typ != NULL && !(json_is_string(typ) && strcasecmp(json_string_value(typ), "JWT") == 0))
        return kopro_error_set(KOPRO_EAUTH, "token header \"typ\" must be \"JWT\"");
    if (json_object_get(h, "crit") != NULL)
        return kopro_error_set(KOPRO_EAUTH,
                               "token header has \"crit\" extensions, which are not supported");
    return 0;
}

int kopro_jwt_verify_signature(json_t **payload_out, const struct kopro_jwt_key *key,
                               const char *token)
{
    const char *dot1;
    const char *dot2;
    size_t tlen;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint8_t mac[KOPRO_SHA256_BYTES];
    json_t *header = NULL;
    json_t *payload = NULL;
    int rc;

    *payload_out = NULL;
    if (token == NULL || *token == '\0')
        return kopro_error_set(KOPRO_EAUTH, "no token given");
    tlen = strnlen(token, KOPRO_JWT_MAX_TOKEN_BYTES + 1);
    if (tlen > KOPRO_JWT_MAX_TOKEN_BYTES)
        return kopro_error_set(KOPRO_EAUTH, "token is longer than %d bytes",
                               KOPRO_JWT_MAX_TOKEN_BYTES);
    dot1 = strchr(token, '.');
    dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
        return kopro_error_set(KOPRO_EAUTH,
                               "token is not a compact JWS (header.payload.signature)");
    if (dot1 == token || dot2 == dot1 + 1)
        return kopro_error_set(KOPRO_EAUTH, "token has an empty header or payload");
    if (dot2[1] == '\0')
        return kopro_error_set(KOPRO_EAUTH, "token has no signature (unsecured JWTs are refused)");

    rc = decode_json_part(&header, token, (size_t)(dot1 - token), "header");
    if (rc != 0)
        goto done;
    rc = check_header(header);
    if (rc != 0)
        goto done;
    rc = kopro_base64url_decode(&sig, &sig_len, dot2 + 1, strlen(dot2 + 1), 256);
    if (rc != 0) {
        rc = kopro_error_wrap(KOPRO_EAUTH, "token signature");
        goto done;
    }
    if (sig_len != KOPRO_SHA256_BYTES) {
        rc = kopro_error_set(KOPRO_EAUTH, "token signature has %zu bytes; HS256 gives %d", sig_len,
                             KOPRO_SHA256_BYTES);
        goto done;
    }
    rc = kopro_hmac_sha256(key->secret, key->len, token, (size_t)(dot2 - token), mac);
    if (rc != 0)
        goto done;
    if (CRYPTO_memcmp(mac, sig, KOPRO_SHA256_BYTES) != 0) {
        rc = kopro_error_set(KOPRO_EAUTH, "token signature does not verify");
        goto done;
    }
    rc = decode_json_part(&payload, dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload");
    if (rc != 0)
        goto done;
    *payload_out = payload;
    payload = NULL;
done:
    explicit_bzero(mac, sizeof(mac));
    free(sig);
    json_decref(header);
    json_decref(payload);
    return rc;
}

/* A NumericDate claim (RFC 7519 §2): a JSON number of seconds. */
static int numeric_date(int64_t *out, const json_t *v, const char *name)
{
    double d;
    if (!json_is_number(v))
        return kopro_error_set(KOPRO_EAUTH, "token claim \"%s\" must be a number of seconds", name);
    d = json_number_value(v);
    if (!isfinite(d) || d < 0 || d > 253402300799.0) /* 9999-12-31T23:59:59Z */
        return kopro_error_set(KOPRO_EAUTH, "token claim \"%s\" is out of range", name);
    *out = (int64_t)floor(d);
    return 0;
}

static int uuid_claim(char **out, const json_t *payload, const char *name, int required)
{
    const json_t *v = json_object_get(payload, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return kopro_error_set(KOPRO_EAUTH, "token has no \"%s\" claim", name);
        return 0;
    }
    if (!json_is_string(v) || !kopro_jwt_is_uuid(json_string_value(v)))
        return kopro_error_set(KOPRO_EAUTH, "token claim \"%s\" must be a uuid", name);
    *out = lower_dup(json_string_value(v));
    if (*out == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    return 0;
}

int kopro_jwt_verify(struct kopro_jwt_claims **out, const struct kopro_jwt_key *key,
                     const char *token, int64_t now_s)
{
    json_t *payload = NULL;
    struct kopro_jwt_claims *c = NULL;
    const json_t *v;
    int64_t nbf = 0;
    int rc;

    *out = NULL;
    rc = kopro_jwt_verify_signature(&payload, key, token);
    if (rc != 0)
        goto done;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    v = json_object_get(payload, "exp");
    if (v == NULL) {
        rc = kopro_error_set(KOPRO_EAUTH, "token has no \"exp\" claim");
        goto done;
    }
    rc = numeric_date(&c->exp_s, v, "exp");
    if (rc != 0)
        goto done;
    if (now_s >= c->exp_s) {
        rc = kopro_error_set(KOPRO_EAUTH, "token expired %lld s ago; log in again",
                             (long long)(now_s - c->exp_s));
        goto done;
    }
    v = json_object_get(payload, "nbf");
    if (v != NULL) {
        rc = numeric_date(&nbf, v, "nbf");
        if (rc != 0)
            goto done;
        if (nbf > now_s) {
            rc = kopro_error_set(KOPRO_EAUTH, "token is not valid yet (nbf)");
            goto done;
        }
    }
    v = json_object_get(payload, "iat");
    if (v != NULL) {
        rc = numeric_date(&c->iat_s, v, "iat");
        if (rc != 0)
            goto done;
    }
    rc = uuid_claim(&c->sub, payload, "sub", 1);
    if (rc != 0)
        goto done;
    v = json_object_get(payload, "role");
    if (!json_is_string(v)) {
        rc = kopro_error_set(KOPRO_EAUTH, "token has no \"role\" string claim");
        goto done;
    }
    c->role = kopro_jwt_role_parse(json_string_value(v));
    if (c->role == 0) {
        rc = kopro_error_set(KOPRO_EAUTH, "token role \"%.40s\" is not a KoproGo role",
                             json_string_value(v));
        goto done;
    }
    c->role_name = strdup(json_string_value(v));
    if (c->role_name == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    rc = uuid_claim(&c->organization_id, payload, "organization_id",
                    c->role != KOPRO_ROLE_SUPERADMIN);
    if (rc != 0)
        goto done;
    rc = uuid_claim(&c->role_id, payload, "role_id", 0);
    if (rc != 0)
        goto done;
    v = json_object_get(payload, "email");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)) {
            rc = kopro_error_set(KOPRO_EAUTH, "token claim \"email\" must be a string");
            goto done;
        }
        c->email = strdup(json_string_value(v));
        if (c->email == NULL) {
            rc = kopro_error_set(KOPRO_ERROR, "out of memory");
            goto done;
        }
    }
    *out = c;
    c = NULL;
done:
    kopro_jwt_claims_free(c);
    json_decref(payload);
    return rc;
}

static void free_wiped(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void kopro_jwt_claims_free(struct kopro_jwt_claims *claims)
{
    if (claims == NULL)
        return;
    free_wiped(claims->sub);
    free_wiped(claims->email);
    free_wiped(claims->role_name);
    free_wiped(claims->organization_id);
    free_wiped(claims->role_id);
    explicit_bzero(claims, sizeof(*claims));
    free(claims);
}

int kopro_jwt_sign(char **out, const struct kopro_jwt_key *key, const json_t *claims)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *h64 = NULL;
    char *p64 = NULL;
    char *s64 = NULL;
    char *body = NULL;
    char *tok = NULL;
    uint8_t mac[KOPRO_SHA256_BYTES];
    size_t n;
    int rc;

    *out = NULL;
    if (!json_is_object(claims))
        return kopro_error_set(KOPRO_EINVAL, "JWT claims must be a JSON object");
    body = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    if (body == NULL)
        return kopro_error_set(KOPRO_ERROR, "cannot serialize JWT claims");
    rc = kopro_base64url_encode(&h64, header, strlen(header));
    if (rc == 0)
        rc = kopro_base64url_encode(&p64, body, strlen(body));
    if (rc != 0)
        goto done;
    n = strlen(h64) + 1 + strlen(p64);
    tok = malloc(n + 1 + 44);
    if (tok == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory");
        goto done;
    }
    snprintf(tok, n + 1, "%s.%s", h64, p64);
    rc = kopro_hmac_sha256(key->secret, key->len, tok, n, mac);
    if (rc == 0)
        rc = kopro_base64url_encode(&s64, mac, sizeof(mac));
    if (rc != 0)
        goto done;
    snprintf(tok + n, 1 + 44, ".%s", s64);
    *out = tok;
    tok = NULL;
done:
    explicit_bzero(mac, sizeof(mac));
    free_wiped(body);
    free(h64);
    free(p64);
    free(s64);
    free(tok);
    return rc;
}
