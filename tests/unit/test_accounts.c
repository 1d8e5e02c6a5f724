/*
 * Unit tests for lib/accounts.c: largest-remainder apportionment (exact
 * cases and a randomized property test against a naive implementation),
 * owners' statements (décompte de charges, AR 12 July 2012), the JSON model
 * and inconsistent shares. No database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kopro/accounts.h"
#include "kopro/error.h"

#include "splitmix64.h"

/* ------------------------------------------------------------ apportionment */

static void test_accounts__apportion_ties_to_lower_index(void **state)
{
    int64_t parts[3];
    const int64_t w[3] = {1, 1, 1};
    (void)state;
    assert_int_equal(kopro_pcn_apportion(parts, 100, w, 3), 0);
    assert_int_equal(parts[0], 34);
    assert_int_equal(parts[1], 33);
    assert_int_equal(parts[2], 33);
    assert_int_equal(kopro_pcn_apportion(parts, 101, w, 3), 0);
    assert_int_equal(parts[0], 34);
    assert_int_equal(parts[1], 34);
    assert_int_equal(parts[2], 33);
}

static void test_accounts__apportion_largest_remainder_wins(void **state)
{
    int64_t parts[3];
    const int64_t w[3] = {1, 3, 6}; /* 10 cents: 1, 3, 6 exactly; 7 cents: 0.7, 2.1, 4.2 */
    (void)state;
    assert_int_equal(kopro_pcn_apportion(parts, 10, w, 3), 0);
    assert_int_equal(parts[0], 1);
    assert_int_equal(parts[1], 3);
    assert_int_equal(parts[2], 6);
    assert_int_equal(kopro_pcn_apportion(parts, 7, w, 3), 0);
    assert_int_equal(parts[0], 1); /* remainder .7 beats .2 and .1 */
    assert_int_equal(parts[1], 2);
    assert_int_equal(parts[2], 4);
    /* a credit note: the same split, negative */
    assert_int_equal(kopro_pcn_apportion(parts, -7, w, 3), 0);
    assert_int_equal(parts[0], -1);
    assert_int_equal(parts[1], -2);
    assert_int_equal(parts[2], -4);
}

static void test_accounts__apportion_rejects_bad_weights(void **state)
{
    int64_t parts[2];
    const int64_t zero[2] = {0, 0};
    const int64_t neg[2] = {5, -1};
    (void)state;
    assert_int_equal(kopro_pcn_apportion(parts, 100, zero, 2), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "weights are zero"));
    assert_int_equal(kopro_pcn_apportion(parts, 100, neg, 2), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "negative"));
}

/* Naive Hamilton method: floor of each exact quota, then repeatedly give one
 * cent to the first index with the largest remainder not yet served. */
static void naive_apportion(int64_t *parts, int64_t total, const int64_t *w, size_t n)
{
    __int128 W = 0;
    __int128 mag = total < 0 ? -(__int128)total : total;
    __int128 given = 0;
    int served[64];
    for (size_t i = 0; i < n; i++)
        W += w[i];
    for (size_t i = 0; i < n; i++) {
        parts[i] = (int64_t)((mag * w[i]) / W);
        given += parts[i];
        served[i] = 0;
    }
    while (given < mag) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            __int128 r = (mag * w[i]) % W;
            if (served[i])
                continue;
            if (best == n || r > (mag * w[best]) % W)
                best = i;
        }
        served[best] = 1;
        parts[best]++;
        given++;
    }
    if (total < 0)
        for (size_t i = 0; i < n; i++)
            parts[i] = -parts[i];
}

static void test_accounts__apportion_randomized_property(void **state)
{
    int64_t w[64], parts[64], naive[64];
    (void)state;
    rng_state = 3862012; /* AR 12 July 2012 */
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + rnd() % 64;
        int64_t total = (int64_t)(rnd() % 100000000) - (rnd() % 4 == 0 ? 50000000 : 0);
        __int128 W = 0;
        __int128 sum = 0;
        for (size_t i = 0; i < n; i++) {
            /* tantième-like weights: quota_e4 × fraction_e5, some equal, some zero */
            w[i] = rnd() % 5 == 0 ? 0 : (int64_t)(1 + rnd() % 4) * 2500000 * (int64_t)(rnd() % 100001);
            W += w[i];
        }
        if (W == 0)
            w[0] = W = 1;
        assert_int_equal(kopro_pcn_apportion(parts, total, w, n), 0);
        naive_apportion(naive, total, w, n);
        for (size_t i = 0; i < n; i++) {
            __int128 exact_times_w = (__int128)total * w[i]; /* exact share × W */
            __int128 diff = (__int128)parts[i] * W - exact_times_w;
            if (diff < 0)
                diff = -diff;
            if (diff >= W)
                fail_msg("iteration %d: part %zu is a cent or more away from its exact share", iter, i);
            if (parts[i] != naive[i])
                fail_msg("iteration %d part %zu: %lld, naive %lld", iter, i, (long long)parts[i],
                         (long long)naive[i]);
            if (w[i] == 0 && parts[i] != 0)
                fail_msg("iteration %d: a zero weight got %lld", iter, (long long)parts[i]);
            sum += parts[i];
        }
        if (sum != total)
            fail_msg("iteration %d: parts sum to %lld, total %lld", iter, (long long)sum,
                     (long long)total);
    }
}

/* ------------------------------------------------------------ statements */

/* Three lots of 1000 tantièmes: A1 333.3333 (Anne), A2 333.3333 (a couple
 * 50/50), A3 333.3334 (Immo SA). Charges 1000.00 + 0.01; provisions; a
 * reserve call. */
static const char *const model_json =
    "{\"model\":\"accounts\",\"version\":1,"
    "\"building\":{\"id\":\"b1\",\"name\":\"Résidence Les Tilleuls\",\"total_tantiemes\":1000},"
    "\"period\":{\"from\":\"2025-01-01\",\"to\":\"2025-12-31\"},"
    "\"source\":\"journal_entry_lines\","
    "\"accounts\":[{\"code\":\"604001\",\"label\":\"Électricité\",\"debit\":\"1000.00\","
    "\"credit\":\"0\"},{\"code\":\"611001\",\"label\":\"Entretien\",\"debit\":\"0.03\","
    "\"credit\":\"0.02\"},{\"code\":\"700001\",\"label\":\"Appels de fonds\",\"credit\":\"900\"}],"
    "\"owners\":[{\"id\":\"o3\",\"name\":\"Immo SA\",\"is_company\":true},"
    "{\"id\":\"o1\",\"name\":\"Anne Peeters\"},{\"id\":\"o2a\",\"name\":\"Jean Dupont\"},"
    "{\"id\":\"o2b\",\"name\":\"Marie Dupont\"}],"
    "\"units\":[{\"id\":\"u1\",\"number\":\"A1\",\"quota\":\"333.3333\"},"
    "{\"id\":\"u2\",\"number\":\"A2\",\"quota\":\"333.3333\"},"
    "{\"id\":\"u3\",\"number\":\"A3\",\"quota\":\"333.3334\"}],"
    "\"ownerships\":[{\"unit\":\"u1\",\"owner\":\"o1\"},"
    "{\"unit\":\"u2\",\"owner\":\"o2a\",\"fraction\":\"0.50000\"},"
    "{\"unit\":\"u2\",\"owner\":\"o2b\",\"fraction\":\"0.5\"},"
    "{\"unit\":\"u3\",\"owner\":\"o3\",\"fraction\":1}],"
    "\"contributions\":["
    "{\"owner\":\"o1\",\"fund\":\"working_capital\",\"called\":\"300.00\",\"paid\":\"300.00\"},"
    "{\"owner\":\"o1\",\"fund\":\"reserve\",\"called\":\"50.00\",\"paid\":\"0\"},"
    "{\"owner\":\"o3\",\"called\":\"400.00\",\"paid\":\"100.00\"}]}";

static struct kopro_accounts *load_model(json_t **doc_out)
{
    json_error_t jerr;
    json_t *doc = json_loads(model_json, 0, &jerr);
    struct kopro_accounts *m = NULL;
    if (doc == NULL)
        fail_msg("model JSON: %s", jerr.text);
    if (kopro_accounts_load_json(&m, doc) != 0)
        fail_msg("load_json: %s", kopro_error_last());
    if (doc_out != NULL)
        *doc_out = doc;
    else
        json_decref(doc);
    return m;
}

static const struct kopro_statement *by_id(const struct kopro_accounts *m,
                                           const struct kopro_statements *s, const char *id)
{
    for (size_t i = 0; i < s->n_items; i++)
        if (strcmp(m->owners[s->items[i].owner].id, id) == 0)
            return &s->items[i];
    fail_msg("no statement for %s", id);
    return NULL;
}

static void test_accounts__pcn_classes_and_totals(void **state)
{
    struct kopro_accounts *m = load_model(NULL);
    (void)state;
    assert_int_equal(m->n_accounts, 3);
    assert_int_equal(m->accounts[0].pcn_class, 6);
    assert_int_equal(m->accounts[0].amount_cents, 100000);
    assert_int_equal(m->accounts[1].amount_cents, 1); /* debit 0.03 - credit 0.02 */
    assert_int_equal(m->accounts[2].pcn_class, 7);
    assert_int_equal(m->accounts[2].amount_cents, 90000);
    assert_int_equal(m->total_charges_cents, 100001);
    assert_int_equal(m->total_income_cents, 90000);
    kopro_accounts_free(m);
}

static void test_accounts__statement_parts_sum_to_the_cent(void **state)
{
    struct kopro_accounts *m = load_model(NULL);
    struct kopro_statements *s = NULL;
    const struct kopro_statement *anne, *jean, *marie, *immo;
    (void)state;
    if (kopro_accounts_statements(&s, m) != 0)
        fail_msg("statements: %s", kopro_error_last());
    assert_int_equal(s->n_items, 4);
    for (size_t a = 0; a < 2; a++) {
        int64_t sum = 0;
        for (size_t i = 0; i < s->n_items; i++) {
            assert_int_equal(s->items[i].n_lines, 2);
            assert_int_equal(s->items[i].lines[a].total_cents, m->accounts[a].amount_cents);
            sum += s->items[i].lines[a].owner_cents;
        }
        assert_int_equal(sum, m->accounts[a].amount_cents);
    }
    anne = by_id(m, s, "o1");
    jean = by_id(m, s, "o2a");
    marie = by_id(m, s, "o2b");
    immo = by_id(m, s, "o3");
    /* 100000 cents × 333.3333/1000 = 33333.33 → 33333; the couple 16666.665 each;
     * Immo 33333.34. Floors 33333 + 16666 + 16666 + 33333 = 99998: the two cents
     * left go to the largest remainders (.665, .665 beat .34, .33) */
    assert_int_equal(anne->lines[0].owner_cents, 33333);
    assert_int_equal(jean->lines[0].owner_cents, 16667);
    assert_int_equal(marie->lines[0].owner_cents, 16667);
    assert_int_equal(immo->lines[0].owner_cents, 33333);
    /* one cent over four shares: to the largest remainder, Immo (0.3333334) */
    assert_int_equal(immo->lines[1].owner_cents, 1);
    assert_int_equal(anne->lines[1].owner_cents, 0);
    assert_int_equal(anne->share_num, 333333300000); /* 333.3333 × 1.00000 in 1e-9 tantième */
    assert_int_equal(anne->share_den, 1000000000000);
    assert_int_equal(anne->share_bp, 3333);
    /* provisions, reserve separately, balance and outstanding */
    assert_int_equal(anne->provisions_called_cents, 30000);
    assert_int_equal(anne->reserve_called_cents, 5000);
    assert_int_equal(anne->reserve_paid_cents, 0);
    assert_int_equal(anne->charges_cents, 33333);
    assert_int_equal(anne->balance_cents, 3333);
    assert_int_equal(anne->outstanding_cents, 5000);
    assert_int_equal(immo->provisions_called_cents, 40000);
    assert_int_equal(immo->balance_cents, 33334 - 40000); /* a credit */
    assert_int_equal(immo->outstanding_cents, 30000);
    kopro_statements_free(s);
    kopro_accounts_free(m);
}

static void test_accounts__tie_break_follows_owner_id_not_model_order(void **state)
{
    json_t *doc = NULL;
    struct kopro_accounts *m = load_model(&doc);
    struct kopro_accounts *m2 = NULL;
    struct kopro_statements *s = NULL, *s2 = NULL;
    json_t *owners;
    (void)state;
    /* reverse the owners: the same owner gets the same cent */
    owners = json_object_get(doc, "owners");
    for (size_t i = 0, n = json_array_size(owners); i < n / 2; i++) {
        json_t *a = json_incref(json_array_get(owners, i));
        json_t *b = json_incref(json_array_get(owners, n - 1 - i));
        json_array_set_new(owners, i, b);
        json_array_set_new(owners, n - 1 - i, a);
    }
    assert_int_equal(kopro_accounts_load_json(&m2, doc), 0);
    assert_string_equal(m2->owners[0].id, "o2b");
    assert_int_equal(kopro_accounts_statements(&s, m), 0);
    assert_int_equal(kopro_accounts_statements(&s2, m2), 0);
    for (size_t i = 0; i < s->n_items; i++) {
        const char *id = m->owners[s->items[i].owner].id;
        const struct kopro_statement *other = by_id(m2, s2, id);
        for (size_t a = 0; a < s->items[i].n_lines; a++)
            assert_int_equal(s->items[i].lines[a].owner_cents, other->lines[a].owner_cents);
    }
    kopro_statements_free(s);
    kopro_statements_free(s2);
    kopro_accounts_free(m);
    kopro_accounts_free(m2);
    json_decref(doc);
}

static void test_accounts__inconsistent_shares_name_the_row(void **state)
{
    struct kopro_accounts *m = load_model(NULL);
    struct kopro_statements *s = (struct kopro_statements *)0x1;
    (void)state;
    m->ownerships[2].fraction_e5 = 40000; /* the couple holds 0.9 of A2 */
    assert_int_equal(kopro_accounts_statements(&s, m), KOPRO_EINVAL);
    assert_null(s);
    assert_non_null(strstr(kopro_error_last(), "units u2 (lot A2)"));
    assert_non_null(strstr(kopro_error_last(), "0.90000"));
    m->ownerships[2].fraction_e5 = 50000;
    m->units[0].quota_e4 += 1;
    assert_int_equal(kopro_accounts_statements(&s, m), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "1000.0001 tantièmes"));
    kopro_accounts_free(m);
}

static void test_accounts__json_roundtrip_and_errors(void **state)
{
    json_t *doc = NULL;
    struct kopro_accounts *m = load_model(&doc);
    struct kopro_accounts *m2 = NULL;
    json_t *d1 = NULL, *d2 = NULL;
    char *s1, *s2;
    (void)state;
    assert_int_equal(kopro_accounts_to_json(&d1, m), 0);
    if (kopro_accounts_load_json(&m2, d1) != 0)
        fail_msg("reload: %s", kopro_error_last());
    assert_int_equal(kopro_accounts_to_json(&d2, m2), 0);
    s1 = json_dumps(d1, JSON_SORT_KEYS);
    s2 = json_dumps(d2, JSON_SORT_KEYS);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    json_decref(d1);
    json_decref(d2);
    kopro_accounts_free(m2);
    m2 = NULL;

    json_object_set_new(json_array_get(json_object_get(doc, "accounts"), 0), "debit",
                        json_real(1000.10));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "accounts[0].debit"));
    json_object_set_new(json_array_get(json_object_get(doc, "accounts"), 0), "debit",
                        json_string("1000.001"));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "more than 2 significant decimals"));
    json_object_set_new(json_array_get(json_object_get(doc, "accounts"), 0), "debit",
                        json_string("1000.00"));
    json_object_set_new(json_array_get(json_object_get(doc, "accounts"), 0), "code",
                        json_string("440000"));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "not a class 6"));
    json_object_set_new(json_array_get(json_object_get(doc, "accounts"), 0), "code",
                        json_string("604001"));
    json_object_set_new(json_array_get(json_object_get(doc, "contributions"), 0), "owner",
                        json_string("nobody"));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(), "contributions[0].owner: no owners with id nobody");
    json_object_set_new(json_object_get(doc, "period"), "to", json_string("2024-12-31"));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "from <= to"));
    assert_null(m2);
    kopro_accounts_free(m);
    json_decref(doc);
}

/* The shared JSON readers (lib/model_util.c) name the field in every refusal. */
static void test_accounts__json_shape_errors_name_the_field(void **state)
{
    json_t *doc = NULL;
    struct kopro_accounts *m = load_model(&doc);
    struct kopro_accounts *m2 = NULL;
    json_t *saved;
    (void)state;
    kopro_accounts_free(m);

    saved = json_incref(json_object_get(doc, "owners"));
    json_object_set_new(doc, "owners", json_string("not a list"));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(), "owners: must be an array");
    json_object_set_new(doc, "owners", json_pack("[i]", 7));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(), "owners[0]: must be an object");
    json_object_set_new(doc, "owners", saved);

    json_object_set_new(json_array_get(json_object_get(doc, "units"), 0), "quota", json_real(2.5));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(),
                        "units[0].quota: give an integer or a decimal string (\"250.5000\"), not "
                        "a JSON real, so that the value stays exact");
    json_object_del(json_array_get(json_object_get(doc, "units"), 0), "quota");
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(),
                        "units[0].quota: missing; give a decimal string like \"250.5000\"");
    json_object_set_new(json_array_get(json_object_get(doc, "units"), 0), "quota",
                        json_string("2500"));
    json_object_set_new(json_array_get(json_object_get(doc, "units"), 0), "id", json_integer(3));
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(), "units[0].id: must be a string");
    json_object_del(json_object_get(doc, "building"), "name");
    assert_int_equal(kopro_accounts_load_json(&m2, doc), KOPRO_EINVAL);
    assert_string_equal(kopro_error_last(), "building.name: missing; it is required (a string)");
    assert_null(m2);
    json_decref(doc);
}

static void test_accounts__result_json_in_cents_and_one_owner(void **state)
{
    struct kopro_accounts *m = load_model(NULL);
    struct kopro_statements *s = NULL;
    json_t *all = NULL, *one = NULL, *none = (json_t *)0x1;
    const json_t *st;
    (void)state;
    assert_int_equal(kopro_accounts_statements(&s, m), 0);
    assert_int_equal(kopro_accounts_result_to_json(&all, m, s, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(all, "total_charges_cents")), 100001);
    assert_int_equal(json_array_size(json_object_get(all, "statements")), 4);
    assert_int_equal(kopro_accounts_result_to_json(&one, m, s, "o3"), 0);
    assert_int_equal(json_array_size(json_object_get(one, "statements")), 1);
    st = json_array_get(json_object_get(one, "statements"), 0);
    assert_string_equal(json_string_value(json_object_get(st, "name")), "Immo SA");
    assert_int_equal(json_integer_value(json_object_get(st, "balance_cents")), 33334 - 40000);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(st, "lines"), 1), "owner_cents")),
                     1);
    assert_int_equal(kopro_accounts_result_to_json(&none, m, s, "o9"), KOPRO_ENOTFOUND);
    assert_null(none);
    assert_non_null(strstr(kopro_error_last(), "owner o9"));
    json_decref(all);
    json_decref(one);
    kopro_statements_free(s);
    kopro_accounts_free(m);
}

/* Random buildings: every class-6 account's parts sum to its amount. */
static void test_accounts__randomized_statements_sum_exactly(void **state)
{
    (void)state;
    rng_state = 20250101;
    for (int iter = 0; iter < 500; iter++) {
        struct kopro_accounts *m = calloc(1, sizeof(*m));
        struct kopro_statements *s = NULL;
        size_t n_units = 1 + rnd() % 40, n_owners = 1 + rnd() % 30, n_acc = 1 + rnd() % 8;
        int64_t total = 1000 * (1 + (int64_t)(rnd() % 10));
        int64_t left = total * KOPRO_SHARE_SCALE;
        size_t k = 0;
        char id[32];
        assert_non_null(m);
        m->building.total_tantiemes = total;
        m->owners = calloc(n_owners, sizeof(*m->owners));
        m->units = calloc(n_units, sizeof(*m->units));
        m->ownerships = calloc(2 * n_units, sizeof(*m->ownerships));
        m->accounts = calloc(n_acc, sizeof(*m->accounts));
        assert_true(m->owners && m->units && m->ownerships && m->accounts);
        for (size_t i = 0; i < n_owners; i++) {
            snprintf(id, sizeof(id), "%08llx", (unsigned long long)(rnd() & 0xffffffff));
            m->owners[i].id = strdup(id);
            m->n_owners++;
        }
        for (size_t u = 0; u < n_units; u++) {
            int64_t q = u + 1 == n_units ? left : 1 + (int64_t)(rnd() % (uint64_t)(left - (int64_t)(n_units - u - 1)));
            left -= q;
            m->units[u].quota_e4 = q;
            m->n_units++;
            if (n_owners > 1 && rnd() % 3 == 0) {
                int64_t f = 1 + (int64_t)(rnd() % (KOPRO_FRACTION_SCALE - 1));
                m->ownerships[k++] = (struct kopro_ownership){NULL, u, rnd() % n_owners, f};
                m->ownerships[k++] =
                    (struct kopro_ownership){NULL, u, rnd() % n_owners, KOPRO_FRACTION_SCALE - f};
            } else {
                m->ownerships[k++] = (struct kopro_ownership){NULL, u, rnd() % n_owners, KOPRO_FRACTION_SCALE};
            }
            m->n_ownerships = k;
        }
        for (size_t a = 0; a < n_acc; a++) {
            m->accounts[a].pcn_class = 6;
            m->accounts[a].amount_cents = (int64_t)(rnd() % 10000000) - 1000;
            m->n_accounts++;
        }
        if (kopro_accounts_statements(&s, m) != 0)
            fail_msg("iteration %d: %s", iter, kopro_error_last());
        for (size_t a = 0; a < n_acc; a++) {
            int64_t sum = 0;
            for (size_t i = 0; i < s->n_items; i++)
                sum += s->items[i].lines[a].owner_cents;
            if (sum != m->accounts[a].amount_cents)
                fail_msg("iteration %d account %zu: parts %lld, total %lld", iter, a,
                         (long long)sum, (long long)m->accounts[a].amount_cents);
        }
        kopro_statements_free(s);
        kopro_accounts_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts__apportion_ties_to_lower_index),
        cmocka_unit_test(test_accounts__apportion_largest_remainder_wins),
        cmocka_unit_test(test_accounts__apportion_rejects_bad_weights),
        cmocka_unit_test(test_accounts__apportion_randomized_property),
        cmocka_unit_test(test_accounts__pcn_classes_and_totals),
        cmocka_unit_test(test_accounts__statement_parts_sum_to_the_cent),
        cmocka_unit_test(test_accounts__tie_break_follows_owner_id_not_model_order),
        cmocka_unit_test(test_accounts__inconsistent_shares_name_the_row),
        cmocka_unit_test(test_accounts__json_roundtrip_and_errors),
        cmocka_unit_test(test_accounts__json_shape_errors_name_the_field),
        cmocka_unit_test(test_accounts__result_json_in_cents_and_one_owner),
        cmocka_unit_test(test_accounts__randomized_statements_sum_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
