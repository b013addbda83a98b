/*
 * Streaming: rows in chunks, parameters, NULL rows, the schema check before
 * any row, SQL error fields, notices, max_row_bytes, early close, COPY
 * refusal, and one connection reused for 1000 queries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
