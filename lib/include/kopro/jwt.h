/*
 * kopro/jwt.h — verify the JSON Web Tokens KoproGo issues (HS256 only).
 *
 * KoproGo signs its access tokens with HMAC-SHA-256 (JWS "HS256", RFC 7518
 * §3.2) over a shared secret and puts these claims in them:
 *   sub (user id, uuid), email, role (superadmin|syndic|accountant|
 *   board_member|contractor|owner), organization_id (uuid; null for a
 *   platform superadmin), role_id (uuid or null), exp, iat (NumericDate,
 *   seconds since the epoch).
 * kopro accepts exactly that and nothing else: the header's "alg" must be
 * "HS256" ("none", RS256, HS512 ... are refused, which defeats algorithm
 * confusion), the signature is compared in constant time (CRYPTO_memcmp),
 * duplicate JSON members are refused, and an expired token is refused.
 *
 * Sources: RFC 7515 (JWS, compact serialization §7.1), RFC 7519 (JWT, claims
 * §4.1, validation §7.2), RFC 7518 §3.2 (HS256, key length), RFC 4648 §5
 * (base64url), RFC 8725 (JWT best current practice: §3.1 algorithm
 * verification, §3.2 use appropriate algorithms).
 *
 * Thread-safety: a key is read-only after creation and may be shared by
 * threads; every other function works on its own arguments only. Errors set
 * the calling thread's kopro_error_last().
 */
#ifndef KOPRO_JWT_H
#define KOPRO_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct kopro_config;

/* The longest compact token accepted, in bytes (a KoproGo token is ~400). */
#define KOPRO_JWT_MAX_TOKEN_BYTES 8192
/* RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output. */
#define KOPRO_JWT_MIN_SECRET_BYTES 32
/* Cap on the secret read from a file or the environment. */
#define KOPRO_JWT_MAX_SECRET_BYTES 4096

/* KoproGo's user roles (users.role CHECK constraint). */
enum kopro_role {
    KOPRO_ROLE_SUPERADMIN = 1,
    KOPRO_ROLE_SYNDIC,
    KOPRO_ROLE_ACCOUNTANT,
    KOPRO_ROLE_BOARD_MEMBER,
    KOPRO_ROLE_CONTRACTOR,
    KOPRO_ROLE_OWNER,
};

/* The verified claims of one token. All strings are owned by the struct. */
struct kopro_jwt_claims {
    char *sub;             /* user id, canonical lowercase uuid text */
    char *email;           /* personal data: wiped on free; may be NULL */
    enum kopro_role role;  /* parsed from the "role" claim */
    char *role_name;       /* the "role" claim as sent, e.g. "syndic" */
    char *organization_id; /* lowercase uuid text; NULL only for superadmin */
    char *role_id;         /* lowercase uuid text or NULL */
    int64_t exp_s;         /* expiry, seconds since the epoch (UTC) */
    int64_t iat_s;         /* issued at, seconds since the epoch; 0 if absent */
};

struct kopro_jwt_key; /* opaque: the HMAC secret, wiped on free */

/*
 * Make a key from `secret_len` bytes of `secret` (copied).
 * Returns 0; KOPRO_EINVAL if the secret is shorter than
 * KOPRO_JWT_MIN_SECRET_BYTES (RFC 7518 §3.2) or longer than
 * KOPRO_JWT_MAX_SECRET_BYTES; KOPRO_ERROR on allocation failure.
 * *out is owned by the caller: kopro_jwt_key_free().
 */
int kopro_jwt_key_new(struct kopro_jwt_key **out, const void *secret, size_t secret_len);

/*
 * Load the secret the way kopro-api documents it: the systemd credential
 * file $CREDENTIALS_DIRECTORY/jwt_secret if that variable is set and the file
 * exists (systemd LoadCredential=; one trailing newline is dropped), else the
 * configuration key KOPRO_JWT_SECRET from `cfg` (environment, then file; `cfg`
 * may be NULL for the environment only).
 * Returns 0; KOPRO_ENOTFOUND if neither is set; KOPRO_EINVAL if the secret is
 * too short (see kopro_jwt_key_new()); KOPRO_ETOOBIG if the credential file is
 * larger than KOPRO_JWT_MAX_SECRET_BYTES; KOPRO_ERROR if the file cannot be
 * read. The secret never appears in a message. Intermediate copies are wiped.
 * Source: systemd.exec(5), "Credentials".
 */
int kopro_jwt_key_load(struct kopro_jwt_key **out, const struct kopro_config *cfg);

/* Wipe (explicit_bzero) and release a key; NULL allowed. */
void kopro_jwt_key_free(struct kopro_jwt_key *key);

/*
 * Verify a compact-serialized token (three base64url parts, no padding) and
 * return its claims.
 *
 * token:  NUL-terminated, at most KOPRO_JWT_MAX_TOKEN_BYTES.
 * now_s:  the current time in seconds since the epoch (injectable for tests;
 *         kopro-api passes time(NULL)).
 * Checks, in order: shape; header is a JSON object with "alg":"HS256" (and
 * "typ", if present, "JWT"; a "crit" member is refused, RFC 7515 §4.1.11);
 * the HMAC-SHA-256 signature (constant time); the payload is a JSON object
 * without duplicate members; "exp" is a number and now_s < exp (RFC 7519
 * §4.1.4, no leeway); "nbf", if present, <= now_s; "sub" is a uuid; "role" is
 * one of the six roles; "organization_id" is a uuid, and may be absent or
 * null only when role is superadmin; "role_id", if present and not null, is a
 * uuid; "email", if present, is a string.
 * Returns 0 and *out (owned by the caller: kopro_jwt_claims_free()), or
 * KOPRO_EAUTH with a message saying which check failed (never echoing the
 * token or the secret), or KOPRO_ERROR on allocation failure.
 */
int kopro_jwt_verify(struct kopro_jwt_claims **out, const struct kopro_jwt_key *key,
                     const char *token, int64_t now_s);

/*
 * The lower half of kopro_jwt_verify(): check the shape, the header (alg
 * HS256) and the signature, and return the decoded payload object without
 * looking at any claim. Used for RFC test vectors and by callers with other
 * claim sets. Returns 0 and *payload_out (caller json_decref()s), or
 * KOPRO_EAUTH / KOPRO_ERROR as kopro_jwt_verify().
 */
int kopro_jwt_verify_signature(json_t **payload_out, const struct kopro_jwt_key *key,
                               const char *token);

/*
 * Sign `claims` (a JSON object, serialized compactly with sorted keys) with
 * header {"alg":"HS256","typ":"JWT"} into a compact token, as KoproGo does.
 * For tests and operator tooling (minting a token for a health probe).
 * Returns 0 and *out (caller free()s), KOPRO_EINVAL if claims is not an
 * object, KOPRO_ERROR on allocation or libcrypto failure.
 */
int kopro_jwt_sign(char **out, const struct kopro_jwt_key *key, const json_t *claims);

/* Wipe the personal fields and release; NULL allowed. */
void kopro_jwt_claims_free(struct kopro_jwt_claims *claims);

/* The role for a claim value ("syndic" ...), or 0 if unknown. Case-sensitive. */
enum kopro_role kopro_jwt_role_parse(const char *name);

/*
 * base64url (RFC 4648 §5) without padding, through OpenSSL's
 * EVP_EncodeBlock / EVP_DecodeBlock with the alphabet translated.
 * kopro_base64url_encode: *out is NUL-terminated text, caller free()s.
 * kopro_base64url_decode: *out holds *out_len bytes (plus a NUL for
 * convenience), caller free()s; refuses '=', characters outside the
 * alphabet, an impossible length (len % 4 == 1), non-zero trailing bits and
 * inputs over `cap_bytes` with KOPRO_EINVAL. Both return KOPRO_ERROR on
 * allocation failure.
 */
int kopro_base64url_encode(char **out, const void *data, size_t len);
int kopro_base64url_decode(unsigned char **out, size_t *out_len, const char *text, size_t len,
                           size_t cap_bytes);

/* 1 if `s` is a uuid in 8-4-4-4-12 hex form (either case), else 0. */
int kopro_jwt_is_uuid(const char *s);

#endif
