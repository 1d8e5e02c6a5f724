/* Unit tests for lib/jwt.c: RFC 7515/7519/4648 vectors and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kopro/error.h"
#include "kopro/hash.h"
#include "kopro/jwt.h"

#define SECRET "kopro-unit-test-secret-0123456789abcdef"
#define NOW 1790000000 /* 2026-09-21 */
#define USER "6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4c"
#define ORG "0b7e9f1a-2c3d-4e5f-8a9b-1c2d3e4f5a6b"

/* RFC 7515 Appendix A.1: the HS256 example (also RFC 7519 §3.1). */
static const char rfc7515_key_b64[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char rfc7515_token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9le"
                                    "GFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                                    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static struct kopro_jwt_key *test_key(void)
{
    struct kopro_jwt_key *k = NULL;
    assert_int_equal(kopro_jwt_key_new(&k, SECRET, strlen(SECRET)), 0);
    return k;
}

/* Build a token from raw header and payload JSON texts, signed with `secret`. */
static char *raw_token(const char *header, const char *payload, const char *secret)
{
    char *h = NULL;
    char *p = NULL;
    char *s = NULL;
    char *tok;
    uint8_t mac[KOPRO_SHA256_BYTES];
    size_t n;

    assert_int_equal(kopro_base64url_encode(&h, header, strlen(header)), 0);
    assert_int_equal(kopro_base64url_encode(&p, payload, strlen(payload)), 0);
    n = strlen(h) + strlen(p) + 1;
    tok = malloc(n + 64);
    assert_non_null(tok);
    snprintf(tok, n + 1, "%s.%s", h, p);
    assert_int_equal(kopro_hmac_sha256(secret, strlen(secret), tok, n, mac), 0);
    assert_int_equal(kopro_base64url_encode(&s, mac, sizeof(mac)), 0);
    snprintf(tok + n, 64, ".%s", s);
    free(h);
    free(p);
    free(s);
    return tok;
}

static char *koprogo_token(const char *role, const char *org, long long exp)
{
    char payload[512];
    if (org != NULL)
        snprintf(payload, sizeof(payload),
                 "{\"sub\":\"%s\",\"email\":\"syndic@example.be\",\"role\":\"%s\","
                 "\"organization_id\":\"%s\",\"role_id\":null,\"exp\":%lld,\"iat\":%lld}",
                 USER, role, org, exp, exp - 86400);
    else
        snprintf(payload, sizeof(payload),
                 "{\"sub\":\"%s\",\"email\":\"admin@example.be\",\"role\":\"%s\","
                 "\"organization_id\":null,\"exp\":%lld,\"iat\":%lld}",
                 USER, role, exp, exp - 86400);
    return raw_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, SECRET);
}

static void expect_refused(const char *token, const char *needle)
{
    struct kopro_jwt_key *k = test_key();
    struct kopro_jwt_claims *c = NULL;
    int rc = kopro_jwt_verify(&c, k, token, NOW);
    if (rc != KOPRO_EAUTH)
        fail_msg("token accepted or wrong code %d: %s", rc, kopro_error_last());
    assert_null(c);
    if (strstr(kopro_error_last(), needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", kopro_error_last(), needle);
    kopro_jwt_key_free(k);
}

static void test_jwt__rfc4648_base64url_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    (void)state;
    for (size_t i = 0; i < 7; i++) {
        char *enc = NULL;
        unsigned char *dec = NULL;
        size_t n = 0;
        assert_int_equal(kopro_base64url_encode(&enc, plain[i], strlen(plain[i])), 0);
        assert_string_equal(enc, coded[i]);
        assert_int_equal(kopro_base64url_decode(&dec, &n, coded[i], strlen(coded[i]), 64), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(dec, plain[i], n);
        free(enc);
        free(dec);
    }
}

static void test_jwt__base64url_rejects_bad_text(void **state)
{
    static const char *const bad[] = {"Zg==", "Zm9v+A", "Zm9v/A", "Z", "Zm9vY", "Zh", "Zm$v"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *dec = NULL;
        size_t n = 0;
        assert_int_equal(kopro_base64url_decode(&dec, &n, bad[i], strlen(bad[i]), 64),
                         KOPRO_EINVAL);
        assert_null(dec);
    }
    {
        unsigned char *dec = NULL;
        size_t n = 0;
        assert_int_equal(kopro_base64url_decode(&dec, &n, "Zm9vYmFy", 8, 4), KOPRO_EINVAL);
    }
}

static void test_jwt__rfc7515_a1_vector(void **state)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    struct kopro_jwt_key *k = NULL;
    json_t *payload = NULL;
    char *tampered;
    (void)state;
    assert_int_equal(
        kopro_base64url_decode(&raw, &raw_len, rfc7515_key_b64, strlen(rfc7515_key_b64), 256), 0);
    assert_int_equal(raw_len, 64);
    assert_int_equal(kopro_jwt_key_new(&k, raw, raw_len), 0);
    assert_int_equal(kopro_jwt_verify_signature(&payload, k, rfc7515_token), 0);
    assert_string_equal(json_string_value(json_object_get(payload, "iss")), "joe");
    assert_int_equal(json_integer_value(json_object_get(payload, "exp")), 1300819380);
    assert_true(json_is_true(json_object_get(payload, "http://example.com/is_root")));
    json_decref(payload);
    payload = NULL;

    /* one changed signature character: refused */
    tampered = strdup(rfc7515_token);
    tampered[strlen(tampered) - 2] = tampered[strlen(tampered) - 2] == 'j' ? 'k' : 'j';
    assert_int_equal(kopro_jwt_verify_signature(&payload, k, tampered), KOPRO_EAUTH);
    assert_null(payload);
    free(tampered);
    /* the full verify refuses it: it is long expired and has no KoproGo claims */
    {
        struct kopro_jwt_claims *c = NULL;
        assert_int_equal(kopro_jwt_verify(&c, k, rfc7515_token, NOW), KOPRO_EAUTH);
        assert_non_null(strstr(kopro_error_last(), "expired"));
        assert_int_equal(kopro_jwt_verify(&c, k, rfc7515_token, 1300819379), KOPRO_EAUTH);
        assert_non_null(strstr(kopro_error_last(), "\"sub\""));
    }
    free(raw);
    kopro_jwt_key_free(k);
}

static void test_jwt__koprogo_claims_round_trip(void **state)
{
    struct kopro_jwt_key *k = test_key();
    struct kopro_jwt_claims *c = NULL;
    json_t *claims;
    char *tok = NULL;
    (void)state;
    claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "sub",
                       "6F1C2C52-8A1E-4C1B-9D55-0A4F1D2E3B4C", "email", "a@example.be", "role",
                       "accountant", "organization_id", ORG, "role_id",
                       "11111111-2222-3333-4444-555555555555", "exp", (json_int_t)NOW + 3600, "iat",
                       (json_int_t)NOW);
    assert_int_equal(kopro_jwt_sign(&tok, k, claims), 0);
    assert_int_equal(kopro_jwt_verify(&c, k, tok, NOW), 0);
    assert_string_equal(c->sub, USER); /* lowercased */
    assert_string_equal(c->email, "a@example.be");
    assert_int_equal(c->role, KOPRO_ROLE_ACCOUNTANT);
    assert_string_equal(c->role_name, "accountant");
    assert_string_equal(c->organization_id, ORG);
    assert_string_equal(c->role_id, "11111111-2222-3333-4444-555555555555");
    assert_int_equal(c->exp_s, NOW + 3600);
    assert_int_equal(c->iat_s, NOW);
    kopro_jwt_claims_free(c);
    free(tok);
    json_decref(claims);
    kopro_jwt_key_free(k);
}

static void test_jwt__superadmin_without_org(void **state)
{
    struct kopro_jwt_key *k = test_key();
    struct kopro_jwt_claims *c = NULL;
    char *tok = koprogo_token("superadmin", NULL, NOW + 60);
    (void)state;
    assert_int_equal(kopro_jwt_verify(&c, k, tok, NOW), 0);
    assert_int_equal(c->role, KOPRO_ROLE_SUPERADMIN);
    assert_null(c->organization_id);
    assert_null(c->role_id);
    kopro_jwt_claims_free(c);
    free(tok);
    kopro_jwt_key_free(k);
}

static void test_jwt__missing_org_refused_for_other_roles(void **state)
{
    static const char *const roles[] = {"syndic", "accountant", "board_member", "contractor",
                                        "owner"};
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        char *tok = koprogo_token(roles[i], NULL, NOW + 60);
        expect_refused(tok, "organization_id");
        free(tok);
    }
}

static void test_jwt__expired_refused(void **state)
{
    struct kopro_jwt_key *k = test_key();
    struct kopro_jwt_claims *c = NULL;
    char *tok = koprogo_token("syndic", ORG, NOW);
    (void)state;
    /* exp == now is expired (RFC 7519 §4.1.4: now must be before exp) */
    expect_refused(tok, "expired");
    /* one second earlier it is valid: the clock is the caller's */
    assert_int_equal(kopro_jwt_verify(&c, k, tok, NOW - 1), 0);
    kopro_jwt_claims_free(c);
    free(tok);
    kopro_jwt_key_free(k);
}

static void test_jwt__wrong_signature_refused(void **state)
{
    char *tok;
    (void)state;
    tok = raw_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                    "{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
                    "\",\"exp\":1790003600}",
                    "another-secret-of-sufficient-length-000");
    expect_refused(tok, "signature does not verify");
    free(tok);
}

static void test_jwt__alg_none_refused(void **state)
{
    char *h = NULL;
    char *p = NULL;
    char tok[1024];
    const char *payload = "{\"sub\":\"" USER "\",\"role\":\"superadmin\",\"exp\":1790003600}";
    (void)state;
    assert_int_equal(kopro_base64url_encode(&h, "{\"alg\":\"none\"}", 14), 0);
    assert_int_equal(kopro_base64url_encode(&p, payload, strlen(payload)), 0);
    snprintf(tok, sizeof(tok), "%s.%s.", h, p);
    expect_refused(tok, "no signature");
    /* "none" with a signature (signed with our secret, even) is still refused by alg */
    {
        char *signed_none = raw_token("{\"alg\":\"none\"}", payload, SECRET);
        expect_refused(signed_none, "\"none\" is refused");
        free(signed_none);
    }
    free(h);
    free(p);
}

static void test_jwt__other_algorithms_refused(void **state)
{
    static const char *const headers[] = {
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", "{\"alg\":\"ES256\"}"};
    const char *payload = "{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
                          "\",\"exp\":1790003600}";
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        /* signed with HMAC over our secret: an algorithm-confusion attempt */
        char *tok = raw_token(headers[i], payload, SECRET);
        expect_refused(tok, "only HS256 is accepted");
        free(tok);
    }
    {
        char *tok = raw_token("{\"typ\":\"JWT\"}", payload, SECRET);
        expect_refused(tok, "no \"alg\"");
        free(tok);
        tok = raw_token("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", payload, SECRET);
        expect_refused(tok, "crit");
        free(tok);
        tok = raw_token("{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}", payload, SECRET);
        expect_refused(tok, "typ");
        free(tok);
    }
}

static void test_jwt__malformed_refused(void **state)
{
    const char *payload = "{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
                          "\",\"exp\":1790003600}";
    char *good = raw_token("{\"alg\":\"HS256\"}", payload, SECRET);
    char buf[2048];
    char *big;
    (void)state;
    expect_refused("", "no token");
    expect_refused("abc", "compact JWS");
    expect_refused("a.b", "compact JWS");
    snprintf(buf, sizeof(buf), "%s.x", good);
    expect_refused(buf, "compact JWS");
    expect_refused(".e30.abc", "empty header");
    expect_refused("e30..abc", "empty header");
    expect_refused("e3$.e30.abc", "header");
    expect_refused("bm90IGpzb24.e30.abc", "not valid JSON"); /* "not json" */
    expect_refused("WzFd.e30.abc", "not a JSON object");     /* [1] */
    /* signature of the wrong length */
    snprintf(buf, sizeof(buf), "%.*sAAAA", (int)(strrchr(good, '.') + 1 - good), good);
    expect_refused(buf, "signature has 3 bytes");
    /* duplicate claim: the second "role" would win in a lax parser */
    {
        char *dup = raw_token("{\"alg\":\"HS256\"}",
                              "{\"sub\":\"" USER "\",\"role\":\"owner\",\"role\":\"superadmin\","
                              "\"organization_id\":\"" ORG "\",\"exp\":1790003600}",
                              SECRET);
        expect_refused(dup, "not valid JSON");
        free(dup);
    }
    /* too long */
    big = malloc(KOPRO_JWT_MAX_TOKEN_BYTES + 10);
    memset(big, 'a', KOPRO_JWT_MAX_TOKEN_BYTES + 9);
    big[KOPRO_JWT_MAX_TOKEN_BYTES + 9] = '\0';
    expect_refused(big, "longer than");
    free(big);
    free(good);
}

static void test_jwt__bad_claims_refused(void **state)
{
    static const struct {
        const char *payload;
        const char *needle;
    } cases[] = {
        {"{\"role\":\"syndic\",\"organization_id\":\"" ORG "\",\"exp\":1790003600}", "\"sub\""},
        {"{\"sub\":\"42\",\"role\":\"syndic\",\"organization_id\":\"" ORG "\",\"exp\":1790003600}",
         "\"sub\" must be a uuid"},
        {"{\"sub\":\"" USER "\",\"role\":\"root\",\"organization_id\":\"" ORG
         "\",\"exp\":1790003600}",
         "not a KoproGo role"},
        {"{\"sub\":\"" USER "\",\"organization_id\":\"" ORG "\",\"exp\":1790003600}", "\"role\""},
        {"{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG "\"}", "\"exp\""},
        {"{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
         "\",\"exp\":\"soon\"}",
         "must be a number"},
        {"{\"sub\":\"" USER
         "\",\"role\":\"syndic\",\"organization_id\":\"acme\",\"exp\":1790003600}",
         "\"organization_id\" must be a uuid"},
        {"{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
         "\",\"role_id\":7,\"exp\":1790003600}",
         "\"role_id\" must be a uuid"},
        {"{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
         "\",\"nbf\":1790000100,\"exp\":1790003600}",
         "not valid yet"},
        {"{\"sub\":\"" USER "\",\"role\":\"syndic\",\"organization_id\":\"" ORG
         "\",\"email\":42,\"exp\":1790003600}",
         "\"email\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *tok = raw_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", cases[i].payload, SECRET);
        expect_refused(tok, cases[i].needle);
        free(tok);
    }
}

static void test_jwt__short_secret_refused(void **state)
{
    struct kopro_jwt_key *k = NULL;
    (void)state;
    assert_int_equal(kopro_jwt_key_new(&k, "short", 5), KOPRO_EINVAL);
    assert_null(k);
    assert_non_null(strstr(kopro_error_last(), "RFC 7518"));
    kopro_jwt_key_free(NULL);
    kopro_jwt_claims_free(NULL);
}

static void test_jwt__key_load_sources(void **state)
{
    char dir[] = "/tmp/kopro-jwt-XXXXXX";
    char path[256];
    struct kopro_jwt_key *k = NULL;
    struct kopro_jwt_claims *c = NULL;
    char *tok;
    FILE *f;
    (void)state;

    unsetenv("CREDENTIALS_DIRECTORY");
    unsetenv("KOPRO_JWT_SECRET");
    assert_int_equal(kopro_jwt_key_load(&k, NULL), KOPRO_ENOTFOUND);
    assert_non_null(strstr(kopro_error_last(), "KOPRO_JWT_SECRET"));

    setenv("KOPRO_JWT_SECRET", SECRET, 1);
    assert_int_equal(kopro_jwt_key_load(&k, NULL), 0);
    tok = koprogo_token("owner", ORG, NOW + 10);
    assert_int_equal(kopro_jwt_verify(&c, k, tok, NOW), 0);
    kopro_jwt_claims_free(c);
    c = NULL;
    kopro_jwt_key_free(k);
    k = NULL;

    /* a systemd credential wins over the environment; its newline is dropped */
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/jwt_secret", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(SECRET "\n", f);
    fclose(f);
    setenv("KOPRO_JWT_SECRET", "a-different-secret-which-would-not-verify", 1);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    assert_int_equal(kopro_jwt_key_load(&k, NULL), 0);
    assert_int_equal(kopro_jwt_verify(&c, k, tok, NOW), 0);
    kopro_jwt_claims_free(c);
    kopro_jwt_key_free(k);
    k = NULL;

    /* a credential that is too short is an error, not a fallback */
    f = fopen(path, "w");
    fputs("tiny\n", f);
    fclose(f);
    assert_int_equal(kopro_jwt_key_load(&k, NULL), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "jwt_secret"));

    unlink(path);
    rmdir(dir);
    unsetenv("CREDENTIALS_DIRECTORY");
    unsetenv("KOPRO_JWT_SECRET");
    free(tok);
}

static void test_jwt__uuid_and_roles(void **state)
{
    (void)state;
    assert_true(kopro_jwt_is_uuid(USER));
    assert_true(kopro_jwt_is_uuid("6F1C2C52-8A1E-4C1B-9D55-0A4F1D2E3B4C"));
    assert_false(kopro_jwt_is_uuid("6f1c2c528a1e4c1b9d550a4f1d2e3b4c"));
    assert_false(kopro_jwt_is_uuid("6f1c2c52-8a1e-4c1b-9d55-0a4f1d2e3b4g"));
    assert_false(kopro_jwt_is_uuid(NULL));
    assert_int_equal(kopro_jwt_role_parse("board_member"), KOPRO_ROLE_BOARD_MEMBER);
    assert_int_equal(kopro_jwt_role_parse("Syndic"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt__rfc4648_base64url_vectors),
        cmocka_unit_test(test_jwt__base64url_rejects_bad_text),
        cmocka_unit_test(test_jwt__rfc7515_a1_vector),
        cmocka_unit_test(test_jwt__koprogo_claims_round_trip),
        cmocka_unit_test(test_jwt__superadmin_without_org),
        cmocka_unit_test(test_jwt__missing_org_refused_for_other_roles),
        cmocka_unit_test(test_jwt__expired_refused),
        cmocka_unit_test(test_jwt__wrong_signature_refused),
        cmocka_unit_test(test_jwt__alg_none_refused),
        cmocka_unit_test(test_jwt__other_algorithms_refused),
        cmocka_unit_test(test_jwt__malformed_refused),
        cmocka_unit_test(test_jwt__bad_claims_refused),
        cmocka_unit_test(test_jwt__short_secret_refused),
        cmocka_unit_test(test_jwt__key_load_sources),
        cmocka_unit_test(test_jwt__uuid_and_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
