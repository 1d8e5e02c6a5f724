/* Unit tests for the queue's pure parts (no database): retry backoff, kind
 * lists, child status descriptions, state names, embedded migrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kopro/embed.h"
#include "kopro/error.h"
#include "kopro/migrate.h"
#include "kopro/queue.h"
#include "kopro/worker.h"

static void test_queue__backoff_formula(void **state)
{
    (void)state;
    /* attempt^4 + 15 s, jitter factor 0.9 .. 1.1 */
    assert_float_equal(kopro_queue_backoff_s(1, 0.5), 16.0, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(1, 0.0), 14.4, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(1, 1.0), 17.6, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(2, 0.5), 31.0, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(5, 0.5), 640.0, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(10, 0.5), 10015.0, 1e-9);
}

static void test_queue__backoff_bounds_and_growth(void **state)
{
    (void)state;
    srandom(7);
    for (int attempt = 1; attempt <= 25; attempt++) {
        double base = (double)attempt * attempt * attempt * attempt + 15.0;
        for (int i = 0; i < 200; i++) {
            double b = kopro_queue_backoff_s(attempt, (double)random() / (double)RAND_MAX);
            assert_true(b >= base * 0.9 - 1e-9);
            assert_true(b <= base * 1.1 + 1e-9);
        }
        /* Up to attempt 20 the growth outruns the jitter: a later attempt never waits less. */
        if (attempt > 1 && attempt <= 20)
            assert_true(kopro_queue_backoff_s(attempt, 0.0) >=
                        kopro_queue_backoff_s(attempt - 1, 1.0));
    }
}

static void test_queue__backoff_clamps(void **state)
{
    (void)state;
    assert_float_equal(kopro_queue_backoff_s(0, 0.5), 16.0, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(-3, 0.5), 16.0, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(1000, 0.5), kopro_queue_backoff_s(100, 0.5), 1e-9);
    assert_float_equal(kopro_queue_backoff_s(1, -5.0), 14.4, 1e-9);
    assert_float_equal(kopro_queue_backoff_s(1, 7.0), 17.6, 1e-9);
}

static void test_queue__kinds_parse(void **state)
{
    char **k = NULL;
    (void)state;
    assert_int_equal(kopro_worker_kinds_parse(&k, "pdf.minutes,backup.run,test_x"), 0);
    assert_string_equal(k[0], "pdf.minutes");
    assert_string_equal(k[1], "backup.run");
    assert_string_equal(k[2], "test_x");
    assert_null(k[3]);
    kopro_worker_kinds_free(k);
    assert_int_equal(kopro_worker_kinds_parse(&k, "pdf.minutes"), 0);
    assert_null(k[1]);
    kopro_worker_kinds_free(k);
}

static void test_queue__kinds_parse_rejects(void **state)
{
    static const char *const bad[] = {"", "a,,b", "pdf.minutes,", "PDF.minutes", "a b",
                                      "a;drop", "x,y'z", NULL};
    char **k = NULL;
    char long_kind[80];
    (void)state;
    for (size_t i = 0; bad[i] != NULL; i++) {
        assert_int_equal(kopro_worker_kinds_parse(&k, bad[i]), KOPRO_EINVAL);
        assert_null(k);
        assert_non_null(strstr(kopro_error_last(), "--queues"));
    }
    memset(long_kind, 'a', sizeof(long_kind) - 1);
    long_kind[sizeof(long_kind) - 1] = '\0';
    assert_int_equal(kopro_worker_kinds_parse(&k, long_kind), KOPRO_EINVAL);
    kopro_worker_kinds_free(NULL);
}

static void test_queue__describe_status(void **state)
{
    char buf[200];
    (void)state;
    kopro_worker_describe_status(buf, sizeof(buf), SIGSEGV); /* signalled, as waitpid encodes */
    assert_non_null(strstr(buf, "signal 11"));
    assert_non_null(strstr(buf, "SIGSEGV"));
    kopro_worker_describe_status(buf, sizeof(buf), SIGKILL);
    assert_non_null(strstr(buf, "SIGKILL"));
    kopro_worker_describe_status(buf, sizeof(buf), 3 << 8); /* exit(3) */
    assert_string_equal(buf, "exited with status 3");
    kopro_worker_describe_status(buf, 8, SIGXCPU); /* truncated, still terminated */
    assert_int_equal(strlen(buf), 7);
}

static void test_queue__state_names(void **state)
{
    static const char *const good[] = {"queued", "running", "succeeded", "failed", "dead",
                                       "cancelled"};
    (void)state;
    for (size_t i = 0; i < 6; i++)
        assert_true(kopro_queue_state_valid(good[i]));
    assert_false(kopro_queue_state_valid("done"));
    assert_false(kopro_queue_state_valid("Queued"));
    assert_false(kopro_queue_state_valid(""));
    assert_false(kopro_queue_state_valid(NULL));
}

static void test_queue__worker_opts_defaults(void **state)
{
    struct kopro_worker_opts o;
    (void)state;
    kopro_worker_opts_init(&o);
    assert_int_equal(o.concurrency, 2);
    assert_int_equal(o.lease_s, 30);
    assert_true(o.grace_s < 30); /* below systemd's default TimeoutStopSec (90 s) and ours */
    assert_true(o.jobs_per_child >= 1);
    assert_null(o.find_kind);
    /* kopro_worker_run refuses options it cannot honour, naming them */
    o.concurrency = 0;
    assert_int_equal(kopro_worker_run(&o), KOPRO_EINVAL);
    assert_non_null(strstr(kopro_error_last(), "--concurrency"));
}

static void test_queue__migrations_embedded_in_order(void **state)
{
    int prev = 0;
    (void)state;
    assert_non_null(kopro_migrations[0].name);
    assert_string_equal(kopro_migrations[0].name, "0001_jobs.sql");
    assert_non_null(strstr(kopro_migrations[0].data, "CREATE FUNCTION kopro.enqueue("));
    assert_null(strstr(kopro_migrations[0].data, "public."));
    for (size_t i = 0; kopro_migrations[i].name != NULL; i++) {
        int v = atoi(kopro_migrations[i].name);
        assert_true(v > prev);
        prev = v;
        assert_int_equal(strlen(kopro_migrations[i].data), kopro_migrations[i].len);
    }
    assert_int_equal(kopro_migrate_latest_version(), prev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue__backoff_formula),
        cmocka_unit_test(test_queue__backoff_bounds_and_growth),
        cmocka_unit_test(test_queue__backoff_clamps),
        cmocka_unit_test(test_queue__kinds_parse),
        cmocka_unit_test(test_queue__kinds_parse_rejects),
        cmocka_unit_test(test_queue__describe_status),
        cmocka_unit_test(test_queue__state_names),
        cmocka_unit_test(test_queue__worker_opts_defaults),
        cmocka_unit_test(test_queue__migrations_embedded_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
