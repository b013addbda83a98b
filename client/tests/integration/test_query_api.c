/*
 * The query builder end to end (fw_query_* + fw_stream_open) against the
 * cluster: names and values never spliced, a table called "user", client
 * predicates, LIMIT/OFFSET, typed ORDER BY, NULL rows, schema errors, the
 * extension missing, unknown entities, statistics, rows as json-c objects,
 * and the pull-based pause (no fw_stream_next, no server work).
 *
 * Each test creates its own database (fwq_<test>_<pid>) so that tests run
 * in parallel processes without sharing tables.
 */
#include <criterion/criterion.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fw_test.h"

typedef struct qt_db {
    char name[64];
    fw_conn *c;
} qt_db;

/* A fresh database (the name is ours: tag + pid), with the extension unless
 * told otherwise, and a connection to it as postgres. */
static void
qt_db_create(qt_db *d, const char *tag, int with_extension)
{
    char sql[160];
    fw_conn *admin;

    FWT_REQUIRE_SERVER();
    snprintf(d->name, sizeof d->name, "fwq_%s_%d", tag, (int)getpid());
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->name);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
    d->c = fwt_connect(fwt_postgres_db(d->name));
    if (with_extension)
        fwt_exec(d->c, "CREATE EXTENSION fraiseql_wire");
}

static void
qt_db_drop(qt_db *d)
{
    char sql[160];
    fw_conn *admin;

    fw_conn_free(d->c);
    d->c = NULL;
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->name);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
}

/* Runs q and returns its rows joined by '\n' ("NULL" for a SQL NULL);
 * malloc'd.  *nrows gets the count.  Fails the test on any error. */
static char *
qt_rows(fw_conn *c, fw_query *q, long *nrows)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len, used = 0, cap = 256;
    char *out = malloc(cap);
    long n = 0;
    fw_status st;

    cr_assert_not_null(out);
    out[0] = '\0';
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, FW_OK, "%s: %s: %s (SQLSTATE %s)", fw_query_sql(q), fw_strerror(st),
                 fw_conn_error_message(c), fw_conn_error_sqlstate(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        const char *text = json ? json : "NULL";
        size_t tlen = json ? len : 4;

        if (used + tlen + 2 > cap) {
            cap = (used + tlen + 2) * 2;
            out = realloc(out, cap);
            cr_assert_not_null(out);
        }
        if (n > 0)
            out[used++] = '\n';
        memcpy(out + used, text, tlen);
        used += tlen;
        out[used] = '\0';
        n++;
    }
    cr_assert_eq(st, FW_DONE, "%s: %s: %s", fw_query_sql(q), fw_strerror(st),
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    if (nrows)
        *nrows = n;
    return out;
}

/* The values of one top-level key of every row, comma-separated (numbers
 * and strings as json-c prints them), read with fw_stream_next_object. */
static char *
qt_field(fw_conn *c, fw_query *q, const char *key)
{
    fw_stream *s = NULL;
    struct json_object *o;
    char *out = calloc(1, 8192);
    fw_status st;

    cr_assert_not_null(out);
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, FW_OK, "%s: %s: %s", fw_query_sql(q), fw_strerror(st),
                 fw_conn_error_message(c));
    while ((st = fw_stream_next_object(s, &o)) == FW_OK) {
        struct json_object *v = NULL;
        const char *text = "missing";

        if (o == NULL)
            text = "NULL";
        else if (json_object_object_get_ex(o, key, &v))
            text = v == NULL ? "null"
                   : json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                               : json_object_to_json_string(v);
        if (out[0])
            strcat(out, ",");
        cr_assert_lt(strlen(out) + strlen(text), 8000);
        strcat(out, text);
        json_object_put(o);
    }
    cr_assert_eq(st, FW_DONE, "%s: %s: %s", fw_query_sql(q), fw_strerror(st),
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_close(s), FW_OK);
    return out;
}

static fw_query *
qt_query(const char *entity)
{
    fw_query *q = NULL;
    fw_status st = fw_query_new(entity, &q);

    cr_assert_eq(st, FW_OK, "fw_query_new(%s): %s", entity, fw_query_error(q));
    return q;
}

/* Opens q and expects an SQL error before any row, with this SQLSTATE
 * (at open or at the first fw_stream_next: either way no row is seen);
 * then checks that the connection still runs a query. */
static void
qt_expect_sql_error(fw_conn *c, fw_query *q, const char *sqlstate, const char *msg_part)
{
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st = fw_stream_open(c, q, &s);

    if (st == FW_OK) {
        st = fw_stream_next(s, &json, &len);
        cr_assert_neq(st, FW_OK, "a row came before the expected error %s", sqlstate);
    }
    cr_assert_eq(st, FW_ERR_SQL, "%s: got %s: %s", fw_query_sql(q), fw_strerror(st),
                 fw_conn_error_message(c));
    cr_assert_str_eq(fw_conn_error_sqlstate(c), sqlstate, "message: %s",
                     fw_conn_error_message(c));
    if (msg_part)
        cr_assert(strstr(fw_conn_error_message(c), msg_part) != NULL, "message \"%s\" lacks \"%s\"",
                  fw_conn_error_message(c), msg_part);
    fw_stream_close(s);
    cr_assert(fw_conn_ok(c), "the connection survives an SQL error");
    free(fwt_one_row(c, "SELECT '1'::jsonb AS data", 0, NULL));
}

/* ------------------------------------------------------------ splicing */

Test(query_api, odd_names_round_trip)
{
    qt_db d;
    fw_query *q;
    char *rows;
    long n;

    qt_db_create(&d, "oddnames2", 1);
    fwt_exec(d.c, "CREATE VIEW \"v_a$$b\" AS SELECT '{\"who\": \"dollar\"}'::jsonb AS data;"
                 "CREATE SCHEMA \"S; --x\";"
                 "CREATE VIEW \"S; --x\".\"odd \"\"name\"\" /* é */\" AS "
                 "  SELECT '{\"who\": \"odd\"}'::jsonb AS data;"
                 "CREATE SCHEMA \"Mixed\";"
                 "CREATE VIEW \"Mixed\".\"v_Case\" AS SELECT '{\"who\": \"mixed\"}'::jsonb AS data;"
                 "CREATE VIEW v_case AS SELECT '{\"who\": \"lower\"}'::jsonb AS data;");
    q = qt_query("a$$b");
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"who\": \"dollar\"}");
    cr_assert(strstr(fw_query_sql(q), "\"v_a$$b\"") != NULL, "%s", fw_query_sql(q));
    free(rows);
    fw_query_free(q);

    q = qt_query("x");
    cr_assert_eq(fw_query_set_relation(q, "\"S; --x\".\"odd \"\"name\"\" /* é */\""), FW_OK, "%s",
                 fw_query_error(q));
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"who\": \"odd\"}");
    free(rows);
    fw_query_free(q);

    /* Case is kept: Mixed.Case and case are different entities. */
    q = qt_query("Mixed.Case");
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"who\": \"mixed\"}");
    free(rows);
    fw_query_free(q);
    q = qt_query("case");
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"who\": \"lower\"}");
    free(rows);
    fw_query_free(q);
    qt_db_drop(&d);
}

/* The longest entity: 60 bytes, so that tv_<entity> is PostgreSQL's 63. */
Test(query_api, longest_entity_name)
{
    qt_db d;
    fw_query *q;
    char entity[61], sql[512], *rows;
    long n;

    memset(entity, 'e', 60);
    entity[60] = '\0';
    qt_db_create(&d, "longname", 1);
    snprintf(sql, sizeof sql,
             "CREATE TABLE tv_%s (data jsonb); INSERT INTO tv_%s VALUES ('{\"t\": 1}');"
             "CREATE VIEW v_%s AS SELECT '{\"v\": 1}'::jsonb AS data;",
             entity, entity, entity);
    fwt_exec(d.c, sql);
    q = qt_query(entity);
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"v\": 1}");
    free(rows);
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"t\": 1}");
    free(rows);
    fw_query_free(q);
    qt_db_drop(&d);
}

/* Documents whose keys and values carry every SQL-significant character. */
#define HOSTILE_KEY "we'ird; -- /* $$ \\\\ é \\\" */"
#define HOSTILE_KEY_SQL "we''ird; -- /* $$ \\\\ é \\\" */"
#define HOSTILE_KEY_PLAIN "we'ird; -- /* $$ \\ é \" */"

Test(query_api, hostile_values_and_fields_travel_as_parameters)
{
    qt_db d;
    fw_query *q;
    char *rows;
    long n;

    qt_db_create(&d, "hostile", 1);
    fwt_exec(d.c, "CREATE TABLE item (id int PRIMARY KEY, doc jsonb NOT NULL);"
                 "CREATE VIEW v_item AS SELECT id, doc AS data FROM item;"
                 "INSERT INTO item VALUES"
                 " (1, '{\"id\": 1, \"name\": \"o''brien; --\", \"" HOSTILE_KEY_SQL "\": 3}'),"
                 " (2, '{\"id\": 2, \"name\": \"x''); DROP TABLE item; --\", \"" HOSTILE_KEY_SQL "\": 1}'),"
                 " (3, '{\"id\": 3, \"name\": \"/* c */ $$q$$ \\\\ \\\"\", \"" HOSTILE_KEY_SQL "\": 2}'),"
                 " (4, '{\"id\": 4, \"name\": \"Ωmega ✓\"}');");

    static const struct {
        const char *filter;
        const char *ids;
    } cases[] = {
        {"{\"name\": {\"eq\": \"o'brien; --\"}}", "1"},
        {"{\"name\": {\"eq\": \"x'); DROP TABLE item; --\"}}", "2"},
        {"{\"name\": {\"eq\": \"/* c */ $$q$$ \\\\ \\\"\"}}", "3"},
        {"{\"name\": {\"eq\": \"Ωmega ✓\"}}", "4"},
        {"{\"name\": {\"eq\": \"' OR 1=1 --\"}}", ""},
        {"{\"name\": {\"in\": [\"o'brien; --\", \"Ωmega ✓\", \"'; SELECT 1; --\"]}}", "1,4"},
        {"{\"" HOSTILE_KEY "\": {\"gte\": 2}}", "1,3"},
        {"{\"name\": {\"like\": \"%\\\\\\\\%\"}}", "3"},   /* a literal backslash */
        {"{\"name\": {\"contains\": \"$$\"}}", "3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        q = qt_query("item");
        cr_assert_eq(fw_query_where(q, cases[i].filter), FW_OK, "%s: %s", cases[i].filter,
                     fw_query_error(q));
        cr_assert_eq(fw_query_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
        cr_assert(strstr(fw_query_sql(q), "brien") == NULL && strstr(fw_query_sql(q), "--") == NULL,
                  "the filter text is in the SQL: %s", fw_query_sql(q));
        char *ids = qt_field(d.c, q, "id");
        cr_assert_str_eq(ids, cases[i].ids, "filter %s", cases[i].filter);
        free(ids);
        fw_query_free(q);
    }

    /* ORDER BY a hostile field path: a parameter, not SQL. */
    q = qt_query("item");
    cr_assert_eq(fw_query_order_by(q, HOSTILE_KEY_PLAIN, FW_ORDER_NUMERIC, FW_ORDER_NULLS_LAST),
                 FW_OK, "%s", fw_query_error(q));
    cr_assert(strstr(fw_query_sql(q), "we'ird") == NULL, "%s", fw_query_sql(q));
    char *ids = qt_field(d.c, q, "id");
    cr_assert_str_eq(ids, "2,3,1,4");
    free(ids);
    fw_query_free(q);

    /* The table is still there and whole. */
    q = qt_query("item");
    rows = qt_rows(d.c, q, &n);
    cr_assert_eq(n, 4);
    free(rows);
    fw_query_free(q);
    qt_db_drop(&d);
}

Test(query_api, bad_filters_are_refused)
{
    qt_db d;
    fw_query *q;

    /* Client side: not JSON, not an object, trailing text: FW_ERR_CONFIG. */
    static const char *const not_objects[] = {"", "not json", "[1]", "\"s\"", "{\"a\": 1} x",
                                              "{\"a\": }", "null", "{\"a\": 1}}"};
    q = qt_query("item");
    for (size_t i = 0; i < sizeof not_objects / sizeof *not_objects; i++) {
        cr_assert_eq(fw_query_where(q, not_objects[i]), FW_ERR_CONFIG, "filter \"%s\" accepted",
                     not_objects[i]);
        cr_assert(strstr(fw_query_error(q), "invalid filter") != NULL, "%s", fw_query_error(q));
    }
    fw_query_free(q);

    /* Server side: a well-formed object that is not a filter: 22023 with
     * the path, before any row; the connection goes on. */
    qt_db_create(&d, "badfilter", 1);
    fwt_exec(d.c, "CREATE VIEW v_item AS SELECT jsonb_build_object('n', g) AS data "
                 "FROM generate_series(1, 10) g");
    static const struct {
        const char *filter, *path;
    } bad[] = {
        {"{\"n\": {\"eqq\": 1}}", "$.n.eqq"},
        {"{\"n\": {\"eq\": null}}", "$.n"},
        {"{\"n\": {\"in\": 1}}", "$.n"},
        {"{\"n\": {\"eq\": 1, \"x\": {\"eq\": 2}}}", "$.n"},
        {"{\"n\": {\"eq\": \"'; DROP TABLE x; --\", \"gt\": {\"a\": 1}}}", "$.n"},
    };
    /* json-c 0.16 lets single-quoted strings through the client's check
     * even in strict mode; the server's json parser refuses them (22P02). */
    q = qt_query("item");
    if (fw_query_where(q, "{'n': {'eq': 1}}") == FW_OK)
        qt_expect_sql_error(d.c, q, "22P02", "json");
    fw_query_free(q);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        q = qt_query("item");
        cr_assert_eq(fw_query_where(q, bad[i].filter), FW_OK);
        qt_expect_sql_error(d.c, q, "22023", bad[i].path);
        fw_query_free(q);
    }
    qt_db_drop(&d);
}

/* ------------------------------------------------------ a table "user" */

Test(query_api, table_named_user)
{
    qt_db d;
    fw_query *q;
    char *ids;

    qt_db_create(&d, "user", 1);
    fwt_exec(d.c, "CREATE TABLE \"user\" (id int PRIMARY KEY, name text, team text);"
                 "INSERT INTO \"user\" VALUES (1, 'ann', 'core'), (2, 'bob', 'ops'),"
                 " (3, 'cé', 'core');"
                 "SELECT fraiseql_wire.create_view('user', 'user');"
                 "SELECT fraiseql_wire.create_table_view('user');");
    q = qt_query("user");
    cr_assert_eq(fw_query_where(q, "{\"team\": {\"eq\": \"core\"}}"), FW_OK);
    cr_assert_eq(fw_query_order_by(q, "name", FW_ORDER_TEXT, FW_ORDER_DESC), FW_OK);
    cr_assert(strstr(fw_query_sql(q), "FROM \"v_user\"") != NULL, "%s", fw_query_sql(q));
    ids = qt_field(d.c, q, "name");
    cr_assert_str_eq(ids, "cé,ann");
    free(ids);
    /* The same from tv_user, the materialised table. */
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    cr_assert(strstr(fw_query_sql(q), "FROM \"tv_user\"") != NULL, "%s", fw_query_sql(q));
    ids = qt_field(d.c, q, "name");
    cr_assert_str_eq(ids, "cé,ann");
    free(ids);
    fw_query_free(q);
    /* And schema-qualified. */
    q = qt_query("public.user");
    ids = qt_field(d.c, q, "id");
    cr_assert_eq(strlen(ids), 5, "%s", ids);
    free(ids);
    fw_query_free(q);
    qt_db_drop(&d);
}

/* ------------------------------------------------ predicates, limit, offset */

/* memmem is a GNU extension; the tests build as plain C11 + POSIX. */
static int
has(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

typedef struct pred_state {
    const char *needle;
    int calls;
    int nulls;
} pred_state;

static int
pred_contains(void *arg, const char *json, size_t len)
{
    pred_state *p = arg;

    p->calls++;
    if (json == NULL) {
        p->nulls++;
        return 0;
    }
    return has(json, len, p->needle);
}

Test(query_api, client_predicates_are_anded_and_counted)
{
    qt_db d;
    fw_query *q;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    long seen = 0;
    pred_state even = {.needle = "\"even\": true"}, three = {.needle = "\"three\": false"};

    qt_db_create(&d, "pred", 1);
    /* 1..100 plus one NULL document; "even" and "three" are flags. */
    fwt_exec(d.c, "CREATE VIEW v_n AS SELECT jsonb_build_object('n', g, 'even', g % 2 = 0, "
                 "'three', g % 3 = 0) AS data FROM generate_series(1, 100) g "
                 "UNION ALL SELECT NULL::jsonb");
    q = qt_query("n");
    cr_assert_eq(fw_query_add_predicate(q, pred_contains, &even), FW_OK);
    cr_assert_eq(fw_query_add_predicate(q, pred_contains, &three), FW_OK);
    cr_assert_eq(fw_query_add_predicate(NULL, pred_contains, &three), FW_ERR_USAGE);
    cr_assert_eq(fw_query_add_predicate(q, NULL, NULL), FW_ERR_USAGE);
    cr_assert_eq(fw_query_chunk_size(q, 7), FW_OK);
    st = fw_stream_open(d.c, q, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(d.c));
    fw_query_free(q);   /* the stream does not need the query any more */
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        cr_assert_not_null(json);
        cr_assert(has(json, len, "\"even\": true") && has(json, len, "\"three\": false"),
                  "%.*s", (int)len, json);
        seen++;
    }
    cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(d.c));
    /* even and not a multiple of 3 in 1..100: 50 even - 16 multiples of 6 */
    cr_assert_eq(seen, 34);
    cr_assert_eq(fw_stream_rows(s), 34);
    cr_assert_eq(fw_stream_rows_dropped(s), 101 - 34);
    cr_assert_eq(even.calls, 101, "the first predicate sees every row");
    cr_assert_eq(even.nulls, 1, "a SQL NULL reaches predicates as json == NULL");
    cr_assert_eq(three.calls, 50, "the second sees only what the first kept");
    cr_assert_eq(three.nulls, 0);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    qt_db_drop(&d);
}

Test(query_api, limit_and_offset)
{
    qt_db d;
    fw_query *q;
    char *ids;

    qt_db_create(&d, "limit", 1);
    fwt_exec(d.c, "CREATE VIEW v_n AS SELECT jsonb_build_object('n', g) AS data "
                 "FROM generate_series(1, 20) g");
    q = qt_query("n");
    cr_assert_eq(fw_query_order_by(q, "n", FW_ORDER_NUMERIC, 0), FW_OK);
    cr_assert_eq(fw_query_limit(q, 5), FW_OK);
    cr_assert_eq(fw_query_offset(q, 3), FW_OK);
    /* $1 is the ORDER BY path key. */
    cr_assert(strstr(fw_query_sql(q), "LIMIT $2::bigint OFFSET $3::bigint") != NULL, "%s",
              fw_query_sql(q));
    cr_assert_str_eq(fw_query_param(q, 1), "5");
    cr_assert_str_eq(fw_query_param(q, 2), "3");
    ids = qt_field(d.c, q, "n");
    cr_assert_str_eq(ids, "4,5,6,7,8");
    free(ids);
    cr_assert_eq(fw_query_limit(q, 0), FW_OK);
    ids = qt_field(d.c, q, "n");
    cr_assert_str_eq(ids, "");
    free(ids);
    cr_assert_eq(fw_query_limit(q, -1), FW_OK);
    cr_assert_eq(fw_query_offset(q, 18), FW_OK);
    ids = qt_field(d.c, q, "n");
    cr_assert_str_eq(ids, "19,20");
    free(ids);
    cr_assert_eq(fw_query_offset(q, 1000), FW_OK);
    ids = qt_field(d.c, q, "n");
    cr_assert_str_eq(ids, "");
    free(ids);
    cr_assert_eq(fw_query_offset(q, -1), FW_OK);
    cr_assert_eq(fw_query_limit(q, 2), FW_OK);
    ids = qt_field(d.c, q, "n");
    cr_assert_str_eq(ids, "1,2");
    free(ids);
    cr_assert_eq(fw_query_limit(q, -2), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error(q), "LIMIT") != NULL, "%s", fw_query_error(q));
    cr_assert_eq(fw_query_offset(q, -5), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error(q), "OFFSET") != NULL, "%s", fw_query_error(q));
    /* The failed calls changed nothing. */
    ids = qt_field(d.c, q, "n");
    cr_assert_str_eq(ids, "1,2");
    free(ids);
    fw_query_free(q);
    qt_db_drop(&d);
}

/* ------------------------------------------------------------ ORDER BY */

Test(query_api, typed_order_by)
{
    qt_db d;
    fw_query *q;
    char *v;

    qt_db_create(&d, "order", 1);
    fwt_exec(d.c, "CREATE TABLE t (id int PRIMARY KEY, doc jsonb);"
                 "CREATE VIEW v_t AS SELECT id, doc AS data FROM t;"
                 "INSERT INTO t VALUES"
                 " (1, '{\"id\": 1, \"name\": \"b\", \"v\": 10, \"d\": \"2024-01-10\"}'),"
                 " (2, '{\"id\": 2, \"name\": \"B\", \"v\": 9, \"d\": \"2023-12-31\"}'),"
                 " (3, '{\"id\": 3, \"name\": \"é\", \"v\": 100, \"d\": \"2024-01-09\"}'),"
                 " (4, '{\"id\": 4, \"name\": \"a\", \"v\": -1.5}'),"
                 " (5, '{\"id\": 5, \"name\": \"É\", \"v\": \"50\"}'),"
                 " (6, '{\"id\": 6, \"name\": \"Z\"}'),"
                 " (7, '{\"id\": 7, \"name\": \"ä\", \"v\": 2.25, \"d\": \"2024-01-01\"}'),"
                 " (8, '{\"id\": 8, \"name\": \"日\", \"v\": 1e1}');");

    /* Text: code-point order (B < Z < a < b < É < ä < é < 日), not the
     * database collation's. */
    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "name", FW_ORDER_TEXT, 0), FW_OK);
    cr_assert(strstr(fw_query_sql(q), "COLLATE \"C\"") != NULL, "%s", fw_query_sql(q));
    v = qt_field(d.c, q, "name");
    cr_assert_str_eq(v, "B,Z,a,b,É,ä,é,日");
    free(v);
    fw_query_free(q);

    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "name", FW_ORDER_TEXT, FW_ORDER_DESC), FW_OK);
    v = qt_field(d.c, q, "name");
    cr_assert_str_eq(v, "日,é,ä,É,b,a,Z,B");
    free(v);
    fw_query_free(q);

    /* Numeric: 9 < 10 < 100 (numbers only; the string "50" and missing
     * values count as NULL: last ascending by default, first with the flag),
     * ties broken by a second key. */
    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "v", FW_ORDER_NUMERIC, 0), FW_OK);
    cr_assert_eq(fw_query_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    v = qt_field(d.c, q, "id");
    cr_assert_str_eq(v, "4,7,2,1,8,3,5,6");
    free(v);
    fw_query_free(q);

    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "v", FW_ORDER_NUMERIC, FW_ORDER_NULLS_FIRST), FW_OK);
    cr_assert_eq(fw_query_order_by(q, "id", FW_ORDER_NUMERIC, FW_ORDER_DESC), FW_OK);
    v = qt_field(d.c, q, "id");
    cr_assert_str_eq(v, "6,5,4,7,2,8,1,3");
    free(v);
    fw_query_free(q);

    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "v", FW_ORDER_NUMERIC, FW_ORDER_DESC | FW_ORDER_NULLS_LAST),
                 FW_OK);
    cr_assert_eq(fw_query_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    v = qt_field(d.c, q, "id");
    cr_assert_str_eq(v, "3,1,8,2,7,4,5,6");
    free(v);
    fw_query_free(q);

    /* DESC alone puts NULLs first (PostgreSQL's default). */
    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "v", FW_ORDER_NUMERIC, FW_ORDER_DESC), FW_OK);
    cr_assert_eq(fw_query_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    v = qt_field(d.c, q, "id");
    cr_assert_str_eq(v, "5,6,3,1,8,2,7,4");
    free(v);
    fw_query_free(q);

    /* Date. */
    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "d", FW_ORDER_DATE, FW_ORDER_NULLS_LAST), FW_OK);
    cr_assert_eq(fw_query_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    v = qt_field(d.c, q, "id");
    cr_assert_str_eq(v, "2,7,3,1,4,5,6,8");
    free(v);
    fw_query_free(q);

    /* Bad ORDER BY arguments are the builder's errors. */
    q = qt_query("t");
    cr_assert_eq(fw_query_order_by(q, "", FW_ORDER_TEXT, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_order_by(q, "a..b", FW_ORDER_TEXT, 0), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error(q), "empty key") != NULL, "%s", fw_query_error(q));
    cr_assert_eq(fw_query_order_by(q, "a", FW_ORDER_TEXT, FW_ORDER_NULLS_FIRST | FW_ORDER_NULLS_LAST),
                 FW_ERR_CONFIG);
    cr_assert_eq(fw_query_order_by(q, "a", (fw_order_type)99, 0), FW_ERR_CONFIG);
    cr_assert_eq(fw_query_order_by(q, "a", FW_ORDER_TEXT, 0x80), FW_ERR_CONFIG);
    fw_query_free(q);
    qt_db_drop(&d);
}

/* --------------------------------------------------- NULL rows, schema */

Test(query_api, null_data_row)
{
    qt_db d;
    fw_query *q;
    fw_stream *s = NULL;
    const char *json = "x";
    size_t len = 9;
    struct json_object *o = (struct json_object *)&len;

    qt_db_create(&d, "nullrow", 1);
    fwt_exec(d.c, "CREATE VIEW v_x AS SELECT * FROM (VALUES (1, NULL::jsonb), (2, 'null'::jsonb),"
                 " (3, '{\"a\": 1}'::jsonb)) v(id, data) ORDER BY id");
    q = qt_query("x");
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_null(json, "SQL NULL gives json == NULL");
    cr_assert_eq(len, 0);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(json, "null", 4), 0, "JSON null is the text null");
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    /* As objects: SQL NULL and JSON null are both NULL with FW_OK. */
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_null(o);
    o = (struct json_object *)&len;
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_null(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_not_null(o);
    cr_assert_eq(json_object_get_int(json_object_object_get(o, "a")), 1);
    json_object_put(o);
    o = (struct json_object *)&len;
    cr_assert_eq(fw_stream_next_object(s, &o), FW_DONE);
    cr_assert_null(o, "FW_DONE sets *out to NULL");
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_query_free(q);
    qt_db_drop(&d);
}

static void
expect_schema_error(fw_conn *c, const char *relation, const char *msg_part)
{
    fw_query *q = qt_query("x");
    fw_stream *s = NULL;
    fw_status st;

    const char *json;
    size_t len;

    cr_assert_eq(fw_query_set_relation(q, relation), FW_OK);
    /* The check may come at open or at the first fetch: never a row. */
    st = fw_stream_open(c, q, &s);
    if (st == FW_OK)
        st = fw_stream_next(s, &json, &len);
    cr_assert_eq(st, FW_ERR_SCHEMA, "%s: %s: %s", relation, fw_strerror(st),
                 fw_conn_error_message(c));
    cr_assert_eq(fw_stream_rows(s), 0);
    if (s)
        cr_assert_eq(fw_stream_next(s, &json, &len), FW_ERR_SCHEMA, "the error is sticky");
    fw_stream_close(s);
    cr_assert_eq(fw_conn_error_class(c), FW_ERR_SCHEMA);
    cr_assert(strstr(fw_conn_error_message(c), msg_part) != NULL, "%s: \"%s\" lacks \"%s\"",
              relation, fw_conn_error_message(c), msg_part);
    cr_assert(fw_conn_ok(c), "the connection is reusable after a schema error");
    fw_query_free(q);
}

Test(query_api, wrong_shape_is_a_schema_error_before_any_row)
{
    qt_db d;
    fw_query *q;
    char *rows;
    long n;

    qt_db_create(&d, "shape", 1);
    /* The builder reads only the data column: other columns do not
     * matter, a data column of another type is a schema error. */
    fwt_exec(d.c, "CREATE VIEW text_data AS SELECT 'x'::text AS data FROM generate_series(1, 1000);"
                 "CREATE VIEW int_data AS SELECT g AS data FROM generate_series(1, 1000) g;"
                 "CREATE VIEW jsonb_array AS SELECT ARRAY['{}'::jsonb] AS data;"
                 "CREATE VIEW wrong_name AS SELECT '{}'::jsonb AS doc FROM generate_series(1, 1000);"
                 "CREATE VIEW two_cols AS SELECT g AS id, to_jsonb(g) AS data "
                 "  FROM generate_series(1, 3) g;"
                 "CREATE VIEW v_ok AS SELECT jsonb_build_object('n', g) AS data "
                 "  FROM generate_series(1, 300) g;");
    expect_schema_error(d.c, "text_data", "expected json");
    expect_schema_error(d.c, "int_data", "data");
    expect_schema_error(d.c, "jsonb_array", "data");
    /* No data column at all: the server says so (42703). */
    q = qt_query("x");
    cr_assert_eq(fw_query_set_relation(q, "wrong_name"), FW_OK);
    qt_expect_sql_error(d.c, q, "42703", "data");
    /* Extra columns are fine. */
    cr_assert_eq(fw_query_set_relation(q, "two_cols"), FW_OK);
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "1\n2\n3");
    free(rows);
    fw_query_free(q);
    /* Same connection, right shape: every row. */
    q = qt_query("ok");
    cr_assert_eq(fw_query_chunk_size(q, 50), FW_OK);
    rows = qt_rows(d.c, q, &n);
    cr_assert_eq(n, 300);
    free(rows);
    fw_query_free(q);
    qt_db_drop(&d);
}

Test(query_api, extension_missing_says_so)
{
    qt_db d;
    fw_query *q;
    char *rows;
    long n;

    qt_db_create(&d, "noext", 0);
    fwt_exec(d.c, "CREATE VIEW v_x AS SELECT jsonb_build_object('n', g) AS data "
                 "FROM generate_series(1, 3) g");
    /* Without a filter the extension is not needed. */
    q = qt_query("x");
    rows = qt_rows(d.c, q, &n);
    cr_assert_eq(n, 3);
    free(rows);
    /* With one, the error says what to do. */
    cr_assert_eq(fw_query_where(q, "{\"n\": {\"eq\": 1}}"), FW_OK);
    fw_stream *s = NULL;
    fw_status st = fw_stream_open(d.c, q, &s);
    cr_assert_eq(st, FW_ERR_SQL, "%s", fw_strerror(st));
    cr_assert_null(s);
    cr_assert_str_eq(fw_conn_error_sqlstate(d.c), "3F000", "%s", fw_conn_error_message(d.c));
    cr_assert(strstr(fw_conn_error_message(d.c), "fraiseql_wire") != NULL, "%s",
              fw_conn_error_message(d.c));
    cr_assert_not_null(fw_conn_error_hint(d.c));
    cr_assert(strstr(fw_conn_error_hint(d.c), "CREATE EXTENSION fraiseql_wire") != NULL, "%s",
              fw_conn_error_hint(d.c));
    cr_assert(fw_conn_ok(d.c));
    /* After CREATE EXTENSION the same query works on the same connection. */
    fwt_exec(d.c, "CREATE EXTENSION fraiseql_wire");
    rows = qt_rows(d.c, q, &n);
    cr_assert_str_eq(rows, "{\"n\": 1}");
    free(rows);
    fw_query_free(q);
    qt_db_drop(&d);
}

Test(query_api, unknown_entity_is_42P01)
{
    qt_db d;
    fw_query *q;

    qt_db_create(&d, "unknown", 1);
    q = qt_query("nosuch");
    qt_expect_sql_error(d.c, q, "42P01", "v_nosuch");
    cr_assert_eq(fw_query_use_table(q), FW_OK);
    qt_expect_sql_error(d.c, q, "42P01", "tv_nosuch");
    fw_query_free(q);
    q = qt_query("nosuchschema.x");
    qt_expect_sql_error(d.c, q, "42P01", "nosuchschema.v_x");
    fw_query_free(q);
    qt_db_drop(&d);
}

/* ----------------------------------------------------------- statistics */

Test(query_api, statistics)
{
    qt_db d;
    fw_query *q;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    uint64_t bytes = 0;
    fw_status st;
    pred_state odd = {.needle = "1}"};

    qt_db_create(&d, "stats", 1);
    fwt_exec(d.c, "CREATE VIEW v_n AS SELECT jsonb_build_object('n', g) AS data "
                 "FROM generate_series(1, 1000) g");
    q = qt_query("n");
    cr_assert_eq(fw_query_chunk_size(q, 100), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK);
    cr_assert_eq(fw_stream_first_row_usec(s), -1, "no row yet");
    cr_assert_geq(fw_stream_duration_usec(s), 0);
    cr_assert_eq(fw_stream_rows(s), 0);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        bytes += len;
    cr_assert_eq(st, FW_DONE);
    cr_assert_geq(fw_stream_first_row_usec(s), 0);
    cr_assert_leq(fw_stream_first_row_usec(s), fw_stream_duration_usec(s));
    int64_t dur = fw_stream_duration_usec(s);
    cr_assert_gt(dur, 0);
    usleep(20000);
    cr_assert_eq(fw_stream_duration_usec(s), dur, "the duration stops at the end");
    cr_assert_eq(fw_stream_rows(s), 1000);
    cr_assert_eq(fw_stream_bytes(s), bytes, "bytes = the sum of row lengths");
    cr_assert_eq(fw_stream_rows_dropped(s), 0);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    /* Dropped rows still count in bytes, not in rows. */
    cr_assert_eq(fw_query_add_predicate(q, pred_contains, &odd), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK);
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        ;
    cr_assert_eq(st, FW_DONE);
    cr_assert_eq(fw_stream_rows(s), 100, "n ending in 1");
    cr_assert_eq(fw_stream_rows_dropped(s), 900);
    cr_assert_eq(fw_stream_bytes(s), bytes);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    /* Every row dropped: no first row, yet a duration and every byte. */
    fw_query_free(q);
    q = qt_query("n");
    pred_state none = {.needle = "no such text"};
    cr_assert_eq(fw_query_add_predicate(q, pred_contains, &none), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_OK);
    cr_assert_eq(fw_stream_next(s, &json, &len), FW_DONE);
    cr_assert_eq(fw_stream_first_row_usec(s), -1, "no row was handed out");
    cr_assert_gt(fw_stream_duration_usec(s), 0);
    cr_assert_eq(fw_stream_rows(s), 0);
    cr_assert_eq(fw_stream_rows_dropped(s), 1000);
    cr_assert_eq(fw_stream_bytes(s), bytes);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    /* Chunk sizes: 0 is the default, more than INT32_MAX is refused. */
    cr_assert_eq(fw_query_chunk_size(q, 0), FW_OK);
    cr_assert_eq(fw_query_chunk_size(q, (size_t)INT32_MAX + 1), FW_ERR_CONFIG);
    cr_assert(strstr(fw_query_error(q), "chunk size") != NULL, "%s", fw_query_error(q));

    /* NULL-safe accessors. */
    cr_assert_eq(fw_stream_rows_dropped(NULL), 0);
    cr_assert_eq(fw_stream_first_row_usec(NULL), -1);
    cr_assert_eq(fw_stream_duration_usec(NULL), -1);
    fw_query_free(q);
    qt_db_drop(&d);
}

/* ----------------------------------------------------- rows as objects */

Test(query_api, next_object)
{
    qt_db d;
    fw_stream *s = NULL;
    struct json_object *o, *v;
    fw_status st;

    qt_db_create(&d, "object", 1);
    st = fw_stream_sql(d.c,
                       "SELECT * FROM (VALUES"
                       " (1, '{\"s\": \"crème ✓\", \"i\": -42, \"f\": 2.5, \"b\": true,"
                       "   \"a\": [1, [2, {\"x\": null}]], \"big\": 9223372036854775807}'::jsonb),"
                       " (2, '[1, 2, 3]'::jsonb), (3, '\"just a string\"'::jsonb),"
                       " (4, '12.50'::jsonb)) v(id, data) ORDER BY id",
                       0, NULL, 2, &s);
    /* The row has two columns: a schema error, nothing to read. */
    if (st == FW_OK) {
        o = NULL;
        st = fw_stream_next_object(s, &o);
        cr_assert_null(o);
        fw_stream_close(s);
    }
    cr_assert_eq(st, FW_ERR_SCHEMA);
    st = fw_stream_sql(d.c,
                       "SELECT data FROM (VALUES"
                       " (1, '{\"s\": \"crème ✓\", \"i\": -42, \"f\": 2.5, \"b\": true,"
                       "   \"a\": [1, [2, {\"x\": null}]], \"big\": 9223372036854775807}'::jsonb),"
                       " (2, '[1, 2, 3]'::jsonb), (3, '\"just a string\"'::jsonb),"
                       " (4, '12.50'::jsonb)) v(id, data) ORDER BY id",
                       0, NULL, 2, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert(json_object_is_type(o, json_type_object));
    cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "s")), "crème ✓");
    cr_assert_eq(json_object_get_int(json_object_object_get(o, "i")), -42);
    cr_assert_float_eq(json_object_get_double(json_object_object_get(o, "f")), 2.5, 1e-12);
    cr_assert(json_object_get_boolean(json_object_object_get(o, "b")));
    cr_assert_eq(json_object_get_int64(json_object_object_get(o, "big")), INT64_MAX);
    v = json_object_array_get_idx(json_object_object_get(o, "a"), 1);
    cr_assert_eq(json_object_array_length(v), 2);
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(v, 1), "x", &v));
    cr_assert_null(v, "JSON null inside is NULL");
    /* The object is the caller's: it outlives the next row. */
    struct json_object *keep = json_object_get(o);
    json_object_put(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_eq(json_object_array_length(o), 3);
    json_object_put(o);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(keep, "s")), "crème ✓");
    json_object_put(keep);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_str_eq(json_object_get_string(o), "just a string");
    json_object_put(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_str_eq(json_object_to_json_string(o), "12.50", "a number keeps its text");
    json_object_put(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_DONE);
    cr_assert_null(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_DONE, "DONE is sticky");
    cr_assert_eq(fw_stream_close(s), FW_OK);

    /* A json (not jsonb) column keeps its whitespace and duplicate keys. */
    st = fw_stream_sql(d.c, "SELECT '  {\"k\" : 1 ,\n \"k\": 2}\t'::json AS data", 0, NULL, 0, &s);
    cr_assert_eq(st, FW_OK);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(json_object_get_int(json_object_object_get(o, "k")), 2);
    json_object_put(o);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    /* Misuse. */
    cr_assert_eq(fw_stream_next_object(NULL, &o), FW_ERR_USAGE);
    cr_assert_null(o);
    qt_db_drop(&d);
}

Test(query_api, next_object_bad_rows_are_per_row_errors)
{
    qt_db d;
    fw_stream *s = NULL;
    struct json_object *o;
    fw_status st;

    qt_db_create(&d, "objbad", 1);
    /* A text stream hands any text to the parser: the bad rows fail, the
     * good ones around them still come, in order. */
    st = fw_stream_sql_text(d.c,
                            "SELECT x FROM (VALUES (1, '{\"a\": 1}'), (2, 'not json'),"
                            " (3, '{\"a\": 1} trailing'), (4, '{\"a\": 1,}'), (5, '[1]'),"
                            " (6, repeat('[', 600) || repeat(']', 600)), (7, '{\"a\": 7}'),"
                            " (8, '{\"a\": '), (9, '{\"a\": 1}}')) v(i, x) ORDER BY i",
                            0, NULL, 3, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    json_object_put(o);
    static const fw_status expect[] = {FW_ERR_PROTOCOL, FW_ERR_PROTOCOL, FW_ERR_PROTOCOL};
    for (int i = 0; i < 3; i++) {
        o = (struct json_object *)&st;
        cr_assert_eq(fw_stream_next_object(s, &o), expect[i], "row %d", i + 2);
        cr_assert_null(o);
        cr_assert_eq(fw_conn_error_class(d.c), FW_ERR_PROTOCOL);
        cr_assert(strstr(fw_conn_error_message(d.c), "not valid JSON") != NULL, "%s",
                  fw_conn_error_message(d.c));
    }
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK, "the stream goes on after a bad row");
    cr_assert_eq(json_object_array_length(o), 1);
    json_object_put(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_ERR_MEMORY, "600 levels deep");
    cr_assert(strstr(fw_conn_error_message(d.c), "deeper than 512") != NULL, "%s",
              fw_conn_error_message(d.c));
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    cr_assert_eq(json_object_get_int(json_object_object_get(o, "a")), 7);
    json_object_put(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_ERR_PROTOCOL, "truncated");
    cr_assert_eq(fw_stream_next_object(s, &o), FW_ERR_PROTOCOL, "an extra brace");
    cr_assert_eq(fw_stream_next_object(s, &o), FW_DONE);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert(fw_conn_ok(d.c));

    /* Stopping at a bad row: close cancels the rest, the connection goes on. */
    st = fw_stream_sql_text(d.c, "SELECT CASE WHEN g = 2 THEN 'bad' ELSE '1' END "
                                 "FROM generate_series(1, 100000) g", 0, NULL, 10, &s);
    cr_assert_eq(st, FW_OK);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_OK);
    json_object_put(o);
    cr_assert_eq(fw_stream_next_object(s, &o), FW_ERR_PROTOCOL);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert_eq(fwt_count_rows(d.c, "SELECT '{}'::jsonb AS data FROM generate_series(1, 5)", 0), 5);
    qt_db_drop(&d);
}

/* ------------------------------------------------------------- pausing */

static long
seq_last_value(fw_conn *c)
{
    fw_stream *s = NULL;
    const char *text;
    size_t len;
    char buf[32];
    fw_status st = fw_stream_sql_text(c, "SELECT last_value FROM seq", 0, NULL, 0, &s);

    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(c));
    cr_assert_eq(fw_stream_next(s, &text, &len), FW_OK);
    cr_assert_lt(len, sizeof buf);
    memcpy(buf, text, len);
    buf[len] = '\0';
    cr_assert_eq(fw_stream_next(s, &text, &len), FW_DONE);
    fw_stream_close(s);
    return atol(buf);
}

Test(query_api, not_calling_next_pauses_the_server, .timeout = 120)
{
    qt_db d;
    fw_conn *other;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    fw_status st;
    long n = 0, last;
    const struct timespec pause = {0, 300 * 1000 * 1000};

    qt_db_create(&d, "pause", 1);
    fwt_exec(d.c, "CREATE SEQUENCE seq");
    other = fwt_connect(fwt_postgres_db(d.name));
    st = fw_stream_sql(d.c,
                       "SELECT jsonb_build_object('n', nextval('seq')) AS data "
                       "FROM generate_series(1, 100000)",
                       0, NULL, 100, &s);
    cr_assert_eq(st, FW_OK, "%s", fw_conn_error_message(d.c));
    /* The bound, exactly: the server runs the rest of the chunk being read
     * and one more chunk (two Executes in flight, FW_PIPELINE_DEPTH), so
     * fewer than two chunks past the rows read, never more. */
    static const struct {
        long read, produced;
    } marks[] = {
        {100, 200},   /* all of chunk 1 read: chunk 2 is the one ahead */
        {101, 300},   /* the first row of chunk 2 was asked for: chunk 3 is ahead */
        {150, 300},   /* within chunk 2: nothing more */
        {200, 300},
    };
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++) {
        for (; n < marks[k].read; n++) {
            cr_assert_eq(fw_stream_next(s, &json, &len), FW_OK);
            char want[32];
            int wl = snprintf(want, sizeof want, "{\"n\": %ld}", n + 1);
            cr_assert(len == (size_t)wl && memcmp(json, want, len) == 0, "row %ld: %.*s", n + 1,
                      (int)len, json);
        }
        nanosleep(&pause, NULL);
        last = seq_last_value(other);
        cr_assert_eq(last, marks[k].produced, "rows read %ld: the server produced %ld, want %ld",
                     n, last, marks[k].produced);
    }
    nanosleep(&pause, NULL);
    cr_assert_eq(seq_last_value(other), last, "still paused");
    /* Resume: every row, in order, to the end. */
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        n++;
    cr_assert_eq(st, FW_DONE, "%s", fw_conn_error_message(d.c));
    cr_assert_eq(n, 100000);
    cr_assert_eq(fw_stream_rows(s), 100000);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    cr_assert_eq(seq_last_value(other), 100000);
    fw_conn_free(other);
    qt_db_drop(&d);
}

/* ------------------------------------------------------- known defects */

/* A handle from a failed fw_query_new carries only its error: using it is
 * that error, never a crash. */
Test(query_api, failed_new_then_open_is_an_error_not_a_crash)
{
    fw_query *q = NULL;
    fw_conn *c;
    fw_stream *s = NULL;

    FWT_REQUIRE_SERVER();
    cr_assert_eq(fw_query_new("bad;name", &q), FW_ERR_CONFIG);
    cr_assert_null(fw_query_sql(q));
    c = fwt_connect(fwt_sock("fw_trust", NULL));
    cr_assert_eq(fw_stream_open(c, q, &s), FW_ERR_CONFIG);
    cr_assert_null(s);
    cr_assert(strstr(fw_conn_error_message(c), "invalid entity") != NULL, "%s",
              fw_conn_error_message(c));
    cr_assert(fw_conn_ok(c));
    fw_conn_free(c);
    fw_query_free(q);
}

/* After DROP EXTENSION the schema stays and the server answers 42883 with
 * its own hint about casts: ours, naming CREATE EXTENSION, replaces it. */
Test(query_api, extension_dropped_hint_says_create_extension)
{
    qt_db d;
    fw_query *q;
    fw_stream *s = NULL;

    qt_db_create(&d, "dropext", 1);
    fwt_exec(d.c, "CREATE VIEW v_x AS SELECT '{\"n\": 1}'::jsonb AS data;"
                 "DROP EXTENSION fraiseql_wire");
    q = qt_query("x");
    cr_assert_eq(fw_query_where(q, "{\"n\": {\"eq\": 1}}"), FW_OK);
    cr_assert_eq(fw_stream_open(d.c, q, &s), FW_ERR_SQL);
    cr_assert_str_eq(fw_conn_error_sqlstate(d.c), "42883");
    cr_assert(fw_conn_error_hint(d.c) &&
                  strstr(fw_conn_error_hint(d.c), "CREATE EXTENSION fraiseql_wire") != NULL,
              "hint: %s", fw_conn_error_hint(d.c));
    fw_query_free(q);
    qt_db_drop(&d);
}
