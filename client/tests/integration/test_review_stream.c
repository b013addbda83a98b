/*
 * Streams at their edges against the real server: an error at row N, zero
 * rows, NULL rows, chunk sizes 1 and INT32_MAX, max_row_bytes exactly met,
 * close in every state, a stream outliving its connection, a cancel from
 * another thread while fw_stream_next waits, and the connection reused
 * after every error class.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw_test.h"

/* The connection answers a query after whatever happened before. */
static void
assert_reusable(fw_conn *c)
{
    char *v;

    cr_assert_eq(fw_conn_ok(c), 1, "connection not reusable: %s", fw_conn_error_message(c));
    v = fwt_one_row(c, "SELECT '42'::jsonb AS data", 0, NULL);
    cr_assert_str_eq(v, "42");
    free(v);
}

Test(review_stream, division_by_zero_at_row_n_then_reusable, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    fw_status st;
    int rows = 0;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    /* Row 700 divides by zero: after two chunks of 256 went out. */
    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_jsonb(1 / (700 - i)) AS data "
                                  "FROM generate_series(1, 1000) i", 0, NULL, 256, &s), FW_OK);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        rows++;
    cr_assert_eq(st, FW_ERR_SQL, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "22012");
    cr_assert_geq(rows, 512);
    cr_assert_lt(rows, 700);
    /* The failed stream keeps answering the same. */
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_SQL);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}

Test(review_stream, zero_rows_null_rows_and_chunk_extremes, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    static const size_t chunks[] = {1, 2, (size_t)INT32_MAX, (size_t)INT32_MAX + 1, SIZE_MAX};

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    cr_assert_eq(fw_stream_open_sql(c, "SELECT '1'::jsonb AS data WHERE false", 0, NULL, 1, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_rows(s), 0);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    cr_assert_eq(fw_stream_open_sql(c, "SELECT NULL::jsonb AS data UNION ALL SELECT '[]'", 0, NULL, 1,
                               &s), FW_OK);
    json = "x";
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_null(json);
    cr_assert_eq(len, 0);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(len, 2);
    cr_assert_eq(memcmp(json, "[]", 2), 0);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
        cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(i) AS data FROM generate_series(1, 5) i",
                                    chunks[i]), 5, "chunk %zu", chunks[i]);
    assert_reusable(c);
    fw_conn_free(c);
}

Test(review_stream, max_row_bytes_exactly_met_and_one_over, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    fw_status st;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    /* '"xxx…"' as json: 1000 x plus the two quotes = 1002 bytes. */
    fw_conn_set_max_row_bytes(c, 1002);
    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_json(repeat('x', 1000)) AS data", 0, NULL, 0, &s),
                 FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(len, 1002);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_json(repeat('x', 1001)) AS data", 0, NULL, 0, &s),
                 FW_OK);
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_LIMIT, "%s", fw_status_name(st));
    cr_assert(strstr(fw_conn_error_message(c), "1003") != NULL, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}

/* close before any next, mid-chunk, on a suspended portal, after DONE, after an error. */
Test(review_stream, close_in_every_state, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    const char *sql = "SELECT to_jsonb(i) AS data FROM generate_series(1, 100) i";

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));

    cr_assert_eq(fw_stream_open_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    cr_assert_eq(fw_stream_open_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    /* all 10 rows of the first chunk read, PortalSuspended not yet */
    cr_assert_eq(fw_stream_open_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    for (int i = 0; i < 11; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    cr_assert_eq(fw_stream_open_sql(c, sql, 0, NULL, 1000, &s), FW_OK);
    while (fw_stream_next(s, &json, &len) == FW_OK)
        ;
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_jsonb(1 / (i - 1)) AS data FROM generate_series(1, 2) i",
                               0, NULL, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_SQL);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    /* cancelled, then closed */
    cr_assert_eq(fw_stream_open_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_cancel(s), FW_OK);
    cr_assert_eq(fw_stream_cancel(s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_CANCELLED);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}

/* The documented detach: after fw_conn_free an open stream's calls fail
 * cleanly (run under ASan: no use after free). */
Test(review_stream, stream_outlives_its_connection, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s, *s2;
    const char *json;
    size_t len;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    cr_assert_eq(fw_stream_open_sql(c, "SELECT to_jsonb(i) AS data FROM generate_series(1, 1000) i", 0,
                               NULL, 10, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    fw_conn_free(c);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_USAGE);
    cr_assert_null(json);
    cr_assert_eq(fw_stream_cancel(s), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_rows(s), 1);
    cr_assert_str_eq(fw_stream_data_type(s), "jsonb");
    cr_assert_neq(fw_stream_close(s), FW_OK);

    /* a finished stream, then the connection freed */
    c = fwt_connect(fwt_sock("postgres", NULL));
    cr_assert_eq(fw_stream_open_sql(c, "SELECT '1'::jsonb AS data", 0, NULL, 0, &s2), FW_OK);
    cr_assert_eq(fw_stream_next(s2, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_next(s2, &json, &len), FW_DONE);
    fw_conn_free(c);
    cr_assert_eq(fw_stream_next(s2, &json, &len), FW_DONE);
    cr_assert_neq(fw_stream_close(s2), FW_OK);
}

typedef struct canceller {
    fw_stream *s;
    int delay_ms;
    fw_status st;
} canceller;

static void *
cancel_later(void *arg)
{
    canceller *k = arg;
    struct timespec ts = {k->delay_ms / 1000, (long)(k->delay_ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
    k->st = fw_stream_cancel(k->s);
    return NULL;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fw_stream_next waits in poll() for a query that sleeps; another thread
 * cancels: next returns FW_ERR_CANCELLED promptly, the connection lives. */
Test(review_stream, cancel_from_another_thread_while_next_waits, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    pthread_t th;
    canceller k;
    fw_status st;
    double t0;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_trust", "sslmode=require"));
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(fw_stream_open_sql(c, "SELECT to_jsonb(pg_sleep(30)) AS data", 0, NULL, 0, &s),
                     FW_OK);
        k.s = s;
        k.delay_ms = 100 + 200 * round;
        k.st = FW_ERR_IO;
        cr_assert_eq(pthread_create(&th, NULL, cancel_later, &k), 0);
        t0 = now_s();
        st = fw_stream_next(s, &json, &len);
        pthread_join(th, NULL);
        cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
        cr_assert_eq(k.st, FW_OK);
        cr_assert_lt(now_s() - t0, 10.0, "cancel took too long");
        cr_assert_eq(fw_stream_close(s), FW_OK);
        assert_reusable(c);
    }
    fw_conn_free(c);
}

/* After each error class a stream can end with, the connection is reused. */
Test(review_stream, reuse_after_every_error_class, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s, *s2;
    const char *json;
    size_t len;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));

    /* FW_ERR_SQL before any row (parse error) */
    cr_assert_eq(fw_stream_open_sql(c, "SELEKT 1", 0, NULL, 0, &s), FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "42601");
    assert_reusable(c);
    /* FW_ERR_SCHEMA */
    cr_assert_eq(fw_stream_open_sql(c, "SELECT 1 AS data", 0, NULL, 0, &s), FW_ERR_SCHEMA);
    assert_reusable(c);
    cr_assert_eq(fw_stream_open_sql(c, "SET search_path = public", 0, NULL, 0, &s), FW_ERR_SCHEMA);
    assert_reusable(c);
    /* FW_ERR_USAGE: a second stream while one is open */
    cr_assert_eq(fw_stream_open_sql(c, "SELECT '1'::jsonb AS data", 0, NULL, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_open_sql(c, "SELECT '1'::jsonb AS data", 0, NULL, 0, &s2), FW_ERR_USAGE);
    cr_assert_eq(fw_conn_exec(c, "SELECT 1"), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    /* FW_ERR_SQL from fw_conn_exec, inside and after a failed transaction */
    cr_assert_eq(fw_conn_exec(c, "BEGIN; SELECT 1/0"), FW_ERR_SQL);
    cr_assert_eq(fw_conn_exec(c, "SELECT 1"), FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "25P02");
    cr_assert_eq(fw_conn_exec(c, "ROLLBACK"), FW_OK);
    assert_reusable(c);
    /* FW_ERR_PROTOCOL: COPY */
    cr_assert_neq(fw_conn_exec(c, "COPY (SELECT 1) TO STDOUT"), FW_OK);
    assert_reusable(c);
    cr_assert_neq(fw_conn_exec(c, "CREATE TEMP TABLE t (a int); COPY t FROM STDIN"), FW_OK);
    assert_reusable(c);
    cr_assert_eq(fw_stream_open_sql(c, "COPY (SELECT 1) TO STDOUT", 0, NULL, 0, &s), FW_ERR_SCHEMA);
    assert_reusable(c);
    /* FW_ERR_TIMEOUT breaks the connection by design: checked in test_stream.c */
    (void)json;
    (void)len;
    fw_conn_free(c);
}

/* A parameter over the server's 1 GiB message limit is refused by the
 * client before anything is sent: the server would end the session. */
Test(review_stream, parameter_over_the_message_limit_keeps_the_connection, .timeout = 120)
{
    size_t n = (size_t)1 << 30;
    char *big = malloc(n + 1);
    const char *params[1] = {big};
    fw_conn *c;
    fw_stream *s = NULL;
    fw_status st;

    FWT_REQUIRE_SERVER();
    cr_assert_not_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    c = fwt_connect(fwt_sock("postgres", NULL));
    st = fw_stream_open_sql(c, "SELECT to_jsonb(length($1)) AS data", 1, params, 0, &s);
    free(big);
    cr_assert_eq(st, FW_ERR_LIMIT, "%s: %s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert(strstr(fw_conn_error_message(c), "1 GiB") != NULL, "%s", fw_conn_error_message(c));
    assert_reusable(c);
    fw_conn_free(c);
}

/* An error message over 1 MiB (the cap for messages other than DataRow) is
 * skipped unbuffered: the stream ends with FW_ERR_LIMIT, the connection
 * stays usable.  A notice of that size is dropped without ending the
 * stream (the callback hears of it). */
static void
count_drops(void *arg, const char *severity, const char *sqlstate, const char *message)
{
    (void)sqlstate;
    if (strcmp(severity, "WARNING") == 0 && message && strstr(message, "was dropped"))
        ++*(int *)arg;
}

Test(review_stream, huge_error_message_from_the_server, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    fw_status st;
    int drops = 0;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    fw_conn_set_notice_callback(c, count_drops, &drops);
    cr_assert_eq(fw_conn_exec(c, "CREATE FUNCTION pg_temp.boom(n int) RETURNS jsonb "
                                   "LANGUAGE plpgsql AS $$BEGIN "
                                   "RAISE NOTICE '%', repeat('n', n); "
                                   "RAISE EXCEPTION '%', repeat('x', n); END$$"),
                 FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_open_sql(c, "SELECT pg_temp.boom(2000000) AS data", 0, NULL, 0, &s), FW_OK,
                 "%s", fw_conn_error_message(c));
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_LIMIT, "%s: %.200s", fw_status_name(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "type 'E'") != NULL, "%.200s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert_eq(drops, 1, "the 2 MB notice was dropped and said so");
    assert_reusable(c);
    /* under the cap, the same error arrives whole */
    cr_assert_eq(fw_stream_open_sql(c, "SELECT pg_temp.boom(500000) AS data", 0, NULL, 0, &s), FW_OK);
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_SQL, "%s", fw_status_name(st));
    cr_assert_eq(strlen(fw_conn_error_message(c)), 500000);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}
