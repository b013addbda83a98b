/*
 * Streaming against the throw-away cluster: rows in chunks, parameters,
 * NULL rows, the schema check before any row, SQL error fields, notices,
 * max_row_bytes, early close, COPY refusal, one connection reused for 1000
 * queries; and the edges: an error at row N, zero rows, chunk sizes 1 and
 * INT32_MAX, max_row_bytes exactly met, close in every state, a stream
 * outliving its connection, a cancel from another thread while
 * fw_stream_next waits, and the connection reused after every error class.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw_test.h"

static fw_conn *
conn_trust(void)
{
    return fwt_connect(fwt_sock("fw_trust", NULL));
}

Test(stream, rows_in_order_across_chunks)
{
    fw_conn *c;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    int expect = 1;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    st = fw_stream_sql(c, "SELECT to_jsonb(g) AS data FROM generate_series(1, 1000) g", 0, NULL, 7,
                       &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        char buf[32];

        cr_assert_lt(len, sizeof buf);
        memcpy(buf, json, len);
        buf[len] = '\0';
        cr_assert_eq(atoi(buf), expect, "row %d is %s", expect, buf);
        expect++;
    }
    cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(c));
    cr_assert_eq(expect, 1001);
    cr_assert_eq(fw_stream_rows(s), 1000);
    cr_assert_gt(fw_stream_bytes(s), 1000);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE, "DONE is sticky");
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert(fw_conn_ok(c));
    fw_conn_free(c);
}

Test(stream, parameters_json_and_null)
{
    fw_conn *c;
    const char *params[2] = {"{\"a\": [1, 2]}", NULL};
    char *v;
    fw_stream *s = NULL;
    const char *json = "x";
    size_t len = 99;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    v = fwt_one_row(c, "SELECT $1::jsonb AS data", 1, params);
    cr_assert_str_eq(v, "{\"a\": [1, 2]}");
    free(v);
    v = fwt_one_row(c, "SELECT $1::json AS data", 1, params);
    cr_assert_str_eq(v, "{\"a\": [1, 2]}");
    free(v);
    /* SQL NULL: *json == NULL, *len == 0 */
    cr_assert_eq(fw_stream_sql(c, "SELECT $1::jsonb AS data", 1, params + 1, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_null(json);
    cr_assert_eq(len, 0);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    fw_stream_close(s);
    /* A large parameter (1 MB) travels whole. */
    {
        char *big = malloc(1000001);
        const char *bp[1] = {big};

        cr_assert_not_null(big);
        memset(big, 'x', 1000000);
        big[1000000] = '\0';
        v = fwt_one_row(c, "SELECT to_jsonb(length($1)) AS data", 1, bp);
        cr_assert_str_eq(v, "1000000");
        free(v);
        free(big);
    }
    /* An injection attempt stays a value. */
    params[0] = "'); DROP TABLE x; --";
    v = fwt_one_row(c, "SELECT to_jsonb($1::text) AS data", 1, params);
    cr_assert_str_eq(v, "\"'); DROP TABLE x; --\"");
    free(v);
    fw_conn_free(c);
}

Test(stream, empty_result)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    cr_assert_eq(fwt_count_rows(c, "SELECT '{}'::jsonb AS data WHERE false", 0), 0);
    fw_conn_free(c);
}

static void
expect_schema_error(fw_conn *c, const char *sql, const char *needle)
{
    fw_stream *s = (fw_stream *)0x1;
    fw_status st = fw_stream_sql(c, sql, 0, NULL, 0, &s);
    char *v;

    cr_assert_eq(st, FW_ERR_SCHEMA, "%s: %s: %s", sql, fw_strerror(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert_eq(fw_conn_error_class(c), FW_ERR_SCHEMA);
    cr_assert(strstr(fw_conn_error_message(c), needle) != NULL, "%s", fw_conn_error_message(c));
    cr_assert(fw_conn_ok(c), "the connection stays usable");
    v = fwt_one_row(c, "SELECT '1'::jsonb AS data", 0, NULL);
    cr_assert_str_eq(v, "1");
    free(v);
}

Test(stream, schema_errors_before_any_row)
{
    fw_conn *c;
    char *v;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    expect_schema_error(c, "SELECT '{}'::jsonb AS data, 1 AS id", "2 columns");
    expect_schema_error(c, "SELECT 'x'::text AS data", "has type text, expected json or jsonb");
    expect_schema_error(c, "SELECT '{}'::jsonb AS doc", "named \"doc\"");
    expect_schema_error(c, "SET work_mem = '8MB'", "no rows");
    /* The wrong shape never runs: this would fail the test below if it did. */
    fw_exec_simple(c, "CREATE TEMP TABLE schema_side_effect (x int)");
    expect_schema_error(c, "INSERT INTO schema_side_effect VALUES (1) RETURNING x",
                        "named \"x\"");
    v = fwt_one_row(c, "SELECT to_jsonb(count(*)) AS data FROM schema_side_effect", 0, NULL);
    cr_assert_str_eq(v, "0");
    free(v);
    fw_conn_free(c);
}

Test(stream, sql_error_fields)
{
    fw_conn *c;
    fw_stream *s = NULL;
    fw_status st;
    const char *json;
    size_t len;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    st = fw_stream_sql(c, "SELECT data FROM no_such_table", 0, NULL, 0, &s);
    cr_assert_eq(st, FW_ERR_SQL);
    cr_assert_null(s);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "42P01");
    cr_assert(strstr(fw_conn_error_message(c), "no_such_table") != NULL);
    cr_assert_eq(fw_conn_error_position(c), 18);
    cr_assert_eq(fw_conn_error_retriable(c), 0);
    cr_assert(fw_conn_ok(c));

    cr_assert_eq(fw_exec_simple(c,
                                "CREATE FUNCTION pg_temp.fw_fail(i int) RETURNS jsonb LANGUAGE plpgsql AS $$ "
                                "BEGIN IF i = 5 THEN RAISE EXCEPTION 'boom at %', i USING "
                                "ERRCODE = '22023', DETAIL = 'The detail.', HINT = 'The hint.'; "
                                "END IF; RETURN to_jsonb(i); END $$"),
                 FW_OK, "%s", fw_conn_error_message(c));
    /* The error arrives mid-stream, after some rows. */
    st = fw_stream_sql(c, "SELECT pg_temp.fw_fail(g) AS data FROM generate_series(1, 10) g", 0,
                       NULL, 2, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    for (int i = 1; i <= 4; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "22023");
    cr_assert_str_eq(fw_conn_error_message(c), "boom at 5");
    cr_assert_str_eq(fw_conn_error_detail(c), "The detail.");
    cr_assert_str_eq(fw_conn_error_hint(c), "The hint.");
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_SQL, "the error is sticky");
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(1) AS data", 0), 1);

    /* fw_exec_simple reports errors the same way */
    cr_assert_eq(fw_exec_simple(c, "SELECT 1/0"), FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "22012");
    cr_assert(fw_conn_ok(c));
    cr_assert_eq(fw_exec_simple(c, "SELECT 1; SELECT 2"), FW_OK);
    cr_assert_eq(fw_conn_error_class(c), FW_OK);
    fw_conn_free(c);
}

Test(stream, retriable_sql_errors)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    cr_assert_eq(fw_exec_simple(c, "DO $$BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END$$"),
                 FW_ERR_SQL);
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    cr_assert_eq(fw_exec_simple(c, "DO $$BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '53200'; END$$"),
                 FW_ERR_SQL);
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    cr_assert_eq(fw_exec_simple(c, "DO $$BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '23505'; END$$"),
                 FW_ERR_SQL);
    cr_assert_eq(fw_conn_error_retriable(c), 0);
    fw_conn_free(c);
}

typedef struct notices {
    int count;
    char last[128];
    char severity[16];
    char sqlstate[8];
} notices;

static void
on_notice(void *arg, const char *severity, const char *sqlstate, const char *message)
{
    notices *n = arg;

    n->count++;
    snprintf(n->last, sizeof n->last, "%s", message ? message : "");
    snprintf(n->severity, sizeof n->severity, "%s", severity ? severity : "");
    snprintf(n->sqlstate, sizeof n->sqlstate, "%s", sqlstate ? sqlstate : "");
}

Test(stream, notices_reach_the_callback)
{
    fw_conn *c;
    notices n = {0};

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    fw_conn_set_notice_callback(c, on_notice, &n);
    cr_assert_eq(fw_exec_simple(c, "DO $$BEGIN RAISE NOTICE 'hello %', 42; END$$"), FW_OK);
    cr_assert_eq(n.count, 1);
    cr_assert_str_eq(n.last, "hello 42");
    cr_assert_str_eq(n.severity, "NOTICE");
    cr_assert_str_eq(n.sqlstate, "00000");
    /* … and in the middle of a stream */
    cr_assert_eq(fw_exec_simple(c, "CREATE FUNCTION pg_temp.fw_note(i int) RETURNS jsonb "
                                   "LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'row %', i; "
                                   "RETURN to_jsonb(i); END $$"),
                 FW_OK);
    cr_assert_eq(fwt_count_rows(c, "SELECT pg_temp.fw_note(g) AS data FROM generate_series(1, 5) g",
                                2),
                 5);
    cr_assert_eq(n.count, 6);
    cr_assert_str_eq(n.last, "row 5");
    cr_assert_str_eq(n.severity, "WARNING");
    fw_conn_free(c);
}

static void
expect_row_too_big(fw_conn *c, const char *sql)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    long before = 0;

    cr_assert_eq(fw_stream_sql(c, sql, 0, NULL, 4, &s), FW_OK, "%s", fw_conn_error_message(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        before++;
    cr_assert_eq(before, 2, "the two small rows come first");
    cr_assert_eq(st, FW_ERR_MEMORY, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "max_row_bytes") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert(fw_conn_ok(c), "the connection was drained and stays usable");
    cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(g) AS data FROM generate_series(1, 3) g", 0), 3);
}

Test(stream, max_row_bytes)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    fw_conn_set_max_row_bytes(c, 1000);
    /* over max_row_bytes but buffered (under the 1 MiB floor for messages) */
    expect_row_too_big(c, "SELECT jsonb_build_object('s', repeat('x', CASE WHEN g = 3 THEN 5000 "
                          "ELSE 10 END)) AS data FROM generate_series(1, 100) g");
    /* far over: skipped without being buffered */
    expect_row_too_big(c, "SELECT jsonb_build_object('s', repeat('x', CASE WHEN g = 3 THEN 4000000 "
                          "ELSE 10 END)) AS data FROM generate_series(1, 100) g");
    /* a row just under the limit passes */
    fw_conn_set_max_row_bytes(c, 5000);
    cr_assert_eq(fwt_count_rows(c, "SELECT jsonb_build_object('s', repeat('x', 4000)) AS data", 0), 1);
    fw_conn_free(c);
}

Test(stream, close_early_keeps_the_connection)
{
    fw_conn *c;
    fw_stream *s = NULL;
    const char *json;
    size_t len;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    /* suspended portal (the chunk is read), then running (mid-chunk) */
    for (int chunk = 5; chunk <= 1000; chunk *= 200) {
        cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(g) AS data FROM generate_series(1, 100000) g",
                                   0, NULL, (size_t)chunk, &s),
                     FW_OK);
        for (int i = 0; i < 5; i++)
            cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
        cr_assert_eq(fw_stream_close(s), FW_OK, "%s", fw_conn_error_message(c));
        cr_assert(fw_conn_ok(c));
        cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(g) AS data FROM generate_series(1, 10) g", 0),
                     10);
    }
    fw_conn_free(c);
}

Test(stream, one_stream_at_a_time)
{
    fw_conn *c;
    fw_stream *s = NULL, *s2 = NULL;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(1) AS data", 0, NULL, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(2) AS data", 0, NULL, 0, &s2), FW_ERR_USAGE);
    cr_assert_null(s2);
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_OK);
    fw_conn_free(c);
}

Test(stream, copy_is_refused)
{
    fw_conn *c;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    cr_assert_eq(fw_exec_simple(c, "COPY (SELECT g FROM generate_series(1, 1000) g) TO STDOUT"),
                 FW_ERR_PROTOCOL);
    cr_assert_str_eq(fw_conn_error_message(c), "COPY is not supported");
    cr_assert(fw_conn_ok(c));
    cr_assert_eq(fw_exec_simple(c, "CREATE TEMP TABLE copy_in (x int)"), FW_OK);
    cr_assert_eq(fw_exec_simple(c, "COPY copy_in FROM STDIN"), FW_ERR_PROTOCOL);
    cr_assert_str_eq(fw_conn_error_message(c), "COPY is not supported");
    cr_assert(fw_conn_ok(c));
    cr_assert_eq(fwt_count_rows(c, "SELECT to_jsonb(x) AS data FROM copy_in", 0), 0);
    /* a stream of COPY is a statement without rows */
    expect_schema_error(c, "COPY copy_in TO STDOUT", "no rows");
    fw_conn_free(c);
}

Test(stream, thousand_queries_on_one_connection, .timeout = 120)
{
    fw_conn *c;
    int pid;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_tcp("fw_scram", "password=fw_scram_pw sslmode=require"));
    pid = fw_conn_backend_pid(c);
    for (int i = 0; i < 1000; i++) {
        char num[16];
        const char *p[1] = {num};
        char *v;

        snprintf(num, sizeof num, "%d", i);
        v = fwt_one_row(c, "SELECT to_jsonb($1::int) AS data", 1, p);
        cr_assert_str_eq(v, num);
        free(v);
    }
    cr_assert_eq(fw_conn_backend_pid(c), pid);
    fw_conn_free(c);
}

Test(stream, timeout_breaks_the_connection, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;

    FWT_REQUIRE_SERVER();
    c = conn_trust();
    fw_conn_set_timeout(c, 300);
    cr_assert_eq(fw_stream_sql(c, "SELECT '{}'::jsonb AS data FROM pg_sleep(5)", 0, NULL, 0, &s),
                 FW_OK);
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_TIMEOUT, "%s", fw_strerror(st));
    cr_assert_eq(fw_conn_error_retriable(c), 1);
    cr_assert_eq(fw_conn_ok(c), 0);
    cr_assert_neq(fw_stream_close(s), FW_OK);
    fw_conn_free(c);
}

Test(stream, notifications_and_parameter_changes_in_between)
{
    fw_conn *a, *b;
    char *v;

    FWT_REQUIRE_SERVER();
    a = conn_trust();
    b = conn_trust();
    cr_assert_eq(fw_exec_simple(a, "LISTEN fw_channel"), FW_OK);
    cr_assert_eq(fw_exec_simple(b, "NOTIFY fw_channel, 'one'"), FW_OK);
    cr_assert_eq(fw_exec_simple(b, "NOTIFY fw_channel, 'two'"), FW_OK);
    /* a's next query reads past the two NotificationResponse messages */
    cr_assert_eq(fwt_count_rows(a, "SELECT to_jsonb(g) AS data FROM generate_series(1, 50) g", 3), 50);
    /* ParameterStatus after a change made inside a stream */
    v = fwt_one_row(a, "SELECT to_jsonb(set_config('application_name', 'changed_here', false)) "
                       "AS data", 0, NULL);
    cr_assert_str_eq(v, "\"changed_here\"");
    free(v);
    cr_assert_str_eq(fw_conn_parameter(a, "application_name"), "changed_here");
    cr_assert_eq(fw_exec_simple(a, "SET application_name = 'by_exec'"), FW_OK);
    cr_assert_str_eq(fw_conn_parameter(a, "application_name"), "by_exec");
    fw_conn_free(b);
    fw_conn_free(a);
}

/* ------------------------------------------------------------- edges */

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

Test(stream, division_by_zero_at_row_n_then_reusable, .timeout = 60)
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
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(1 / (700 - i)) AS data "
                                  "FROM generate_series(1, 1000) i", 0, NULL, 256, &s), FW_OK);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        rows++;
    cr_assert_eq(st, FW_ERR_SQL, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "22012");
    cr_assert_geq(rows, 512);
    cr_assert_lt(rows, 700);
    /* The failed stream keeps answering the same. */
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_SQL);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}

Test(stream, zero_rows_null_rows_and_chunk_extremes, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    static const size_t chunks[] = {1, 2, (size_t)INT32_MAX, (size_t)INT32_MAX + 1, SIZE_MAX};

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    cr_assert_eq(fw_stream_sql(c, "SELECT '1'::jsonb AS data WHERE false", 0, NULL, 1, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_rows(s), 0);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    cr_assert_eq(fw_stream_sql(c, "SELECT NULL::jsonb AS data UNION ALL SELECT '[]'", 0, NULL, 1,
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

Test(stream, max_row_bytes_exactly_met_and_one_over, .timeout = 60)
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
    cr_assert_eq(fw_stream_sql(c, "SELECT to_json(repeat('x', 1000)) AS data", 0, NULL, 0, &s),
                 FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(len, 1002);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    cr_assert_eq(fw_stream_sql(c, "SELECT to_json(repeat('x', 1001)) AS data", 0, NULL, 0, &s),
                 FW_OK);
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_MEMORY, "%s", fw_strerror(st));
    cr_assert(strstr(fw_conn_error_message(c), "1003") != NULL, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}

/* close before any next, mid-chunk, on a suspended portal, after DONE, after an error. */
Test(stream, close_in_every_state, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s;
    const char *json;
    size_t len;
    const char *sql = "SELECT to_jsonb(i) AS data FROM generate_series(1, 100) i";

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));

    cr_assert_eq(fw_stream_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    cr_assert_eq(fw_stream_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    /* all 10 rows of the first chunk read, PortalSuspended not yet */
    cr_assert_eq(fw_stream_sql(c, sql, 0, NULL, 10, &s), FW_OK);
    for (int i = 0; i < 11; i++)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    cr_assert_eq(fw_stream_sql(c, sql, 0, NULL, 1000, &s), FW_OK);
    while (fw_stream_next(s, &json, &len) == FW_OK)
        ;
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(1 / (i - 1)) AS data FROM generate_series(1, 2) i",
                               0, NULL, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_SQL);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);

    /* cancelled, then closed */
    cr_assert_eq(fw_stream_sql(c, sql, 0, NULL, 10, &s), FW_OK);
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
Test(stream, stream_outlives_its_connection, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s, *s2;
    const char *json;
    size_t len;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));
    cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(i) AS data FROM generate_series(1, 1000) i", 0,
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
    cr_assert_eq(fw_stream_sql(c, "SELECT '1'::jsonb AS data", 0, NULL, 0, &s2), FW_OK);
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
Test(stream, cancel_from_another_thread_while_next_waits, .timeout = 60)
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
        cr_assert_eq(fw_stream_sql(c, "SELECT to_jsonb(pg_sleep(30)) AS data", 0, NULL, 0, &s),
                     FW_OK);
        k.s = s;
        k.delay_ms = 100 + 200 * round;
        k.st = FW_ERR_IO;
        cr_assert_eq(pthread_create(&th, NULL, cancel_later, &k), 0);
        t0 = now_s();
        st = fw_stream_next(s, &json, &len);
        pthread_join(th, NULL);
        cr_assert_eq(st, FW_ERR_CANCELLED, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
        cr_assert_eq(k.st, FW_OK);
        cr_assert_lt(now_s() - t0, 10.0, "cancel took too long");
        cr_assert_eq(fw_stream_close(s), FW_OK);
        assert_reusable(c);
    }
    fw_conn_free(c);
}

/* After each error class a stream can end with, the connection is reused. */
Test(stream, reuse_after_every_error_class, .timeout = 60)
{
    fw_conn *c;
    fw_stream *s, *s2;
    const char *json;
    size_t len;

    FWT_REQUIRE_SERVER();
    c = fwt_connect(fwt_sock("postgres", NULL));

    /* FW_ERR_SQL before any row (parse error) */
    cr_assert_eq(fw_stream_sql(c, "SELEKT 1", 0, NULL, 0, &s), FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "42601");
    assert_reusable(c);
    /* FW_ERR_SCHEMA */
    cr_assert_eq(fw_stream_sql(c, "SELECT 1 AS data", 0, NULL, 0, &s), FW_ERR_SCHEMA);
    assert_reusable(c);
    cr_assert_eq(fw_stream_sql(c, "SET search_path = public", 0, NULL, 0, &s), FW_ERR_SCHEMA);
    assert_reusable(c);
    /* FW_ERR_USAGE: a second stream while one is open */
    cr_assert_eq(fw_stream_sql(c, "SELECT '1'::jsonb AS data", 0, NULL, 0, &s), FW_OK);
    cr_assert_eq(fw_stream_sql(c, "SELECT '1'::jsonb AS data", 0, NULL, 0, &s2), FW_ERR_USAGE);
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_USAGE);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    /* FW_ERR_SQL from fw_exec_simple, inside and after a failed transaction */
    cr_assert_eq(fw_exec_simple(c, "BEGIN; SELECT 1/0"), FW_ERR_SQL);
    cr_assert_eq(fw_exec_simple(c, "SELECT 1"), FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(c), "25P02");
    cr_assert_eq(fw_exec_simple(c, "ROLLBACK"), FW_OK);
    assert_reusable(c);
    /* FW_ERR_PROTOCOL: COPY */
    cr_assert_neq(fw_exec_simple(c, "COPY (SELECT 1) TO STDOUT"), FW_OK);
    assert_reusable(c);
    cr_assert_neq(fw_exec_simple(c, "CREATE TEMP TABLE t (a int); COPY t FROM STDIN"), FW_OK);
    assert_reusable(c);
    cr_assert_eq(fw_stream_sql(c, "COPY (SELECT 1) TO STDOUT", 0, NULL, 0, &s), FW_ERR_SCHEMA);
    assert_reusable(c);
    /* FW_ERR_TIMEOUT breaks the connection by design: checked in test_stream.c */
    (void)json;
    (void)len;
    fw_conn_free(c);
}

/* A parameter over the server's 1 GiB message limit is refused by the
 * client before anything is sent: the server would end the session. */
Test(stream, parameter_over_the_message_limit_keeps_the_connection, .timeout = 120)
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
    st = fw_stream_sql(c, "SELECT to_jsonb(length($1)) AS data", 1, params, 0, &s);
    free(big);
    cr_assert_eq(st, FW_ERR_MEMORY, "%s: %s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert_null(s);
    cr_assert(strstr(fw_conn_error_message(c), "1 GiB") != NULL, "%s", fw_conn_error_message(c));
    assert_reusable(c);
    fw_conn_free(c);
}

/* An error message over 1 MiB (the cap for messages other than DataRow) is
 * skipped unbuffered: the stream ends with FW_ERR_MEMORY, the connection
 * stays usable.  A notice of that size is dropped without ending the
 * stream (the callback hears of it). */
static void
count_drops(void *arg, const char *severity, const char *sqlstate, const char *message)
{
    (void)sqlstate;
    if (strcmp(severity, "WARNING") == 0 && message && strstr(message, "was dropped"))
        ++*(int *)arg;
}

Test(stream, huge_error_message_from_the_server, .timeout = 60)
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
    cr_assert_eq(fw_exec_simple(c, "CREATE FUNCTION pg_temp.boom(n int) RETURNS jsonb "
                                   "LANGUAGE plpgsql AS $$BEGIN "
                                   "RAISE NOTICE '%', repeat('n', n); "
                                   "RAISE EXCEPTION '%', repeat('x', n); END$$"),
                 FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_sql(c, "SELECT pg_temp.boom(2000000) AS data", 0, NULL, 0, &s), FW_OK,
                 "%s", fw_conn_error_message(c));
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_MEMORY, "%s: %.200s", fw_strerror(st), fw_conn_error_message(c));
    cr_assert(strstr(fw_conn_error_message(c), "type 'E'") != NULL, "%.200s",
              fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert_eq(drops, 1, "the 2 MB notice was dropped and said so");
    assert_reusable(c);
    /* under the cap, the same error arrives whole */
    cr_assert_eq(fw_stream_sql(c, "SELECT pg_temp.boom(500000) AS data", 0, NULL, 0, &s), FW_OK);
    st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_SQL, "%s", fw_strerror(st));
    cr_assert_eq(strlen(fw_conn_error_message(c)), 500000);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    assert_reusable(c);
    fw_conn_free(c);
}
