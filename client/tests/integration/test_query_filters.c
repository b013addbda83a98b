/*
 * Filters end to end: for each filter document, the rows the client gets
 * through fw_query_set_filter (a jsonb parameter to fraiseql_wire.matches) are
 * the rows of SELECT data FROM v_x WHERE <fraiseql_wire.where_sql(filter)>
 * (the SQL text the server renders, run as psql would), and are the rows
 * the filter language says (the expected ids, written by hand from
 * docs/filters.md).  Done on a hand-made view over stored documents (the
 * tv_-style @> rewrite) and on a create_view() view (the column rewrite).
 */
#include <criterion/criterion.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_test.h"

typedef struct filter_case {
    const char *filter;
    const char *ids;   /* expected "id" values, ascending, comma-separated */
} filter_case;

static fw_conn *
qf_db_create(char *name, size_t size, const char *tag)
{
    char sql[160], ci[512];
    fw_conn *admin, *c;

    FWT_REQUIRE_SERVER();
    snprintf(name, size, "fwq_%s_%d", tag, (int)getpid());
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
    snprintf(ci, sizeof ci, "host=%s port=%s user=postgres dbname=%s", fwt_socket_dir(), fwt_port(),
             name);
    c = fwt_connect(ci);
    fwt_exec(c, "CREATE EXTENSION fraiseql_wire");
    return c;
}

static void
qf_db_drop(fw_conn *c, const char *name)
{
    char sql[160];
    fw_conn *admin;

    fw_conn_free(c);
    admin = fwt_connect(fwt_sock("postgres", NULL));
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", name);
    fwt_exec(admin, sql);
    fw_conn_free(admin);
}

/* Appends every row of an open stream to *out ('\n'-separated) and the
 * value of "id" of each to ids (comma-separated). */
static void
qf_drain(fw_conn *c, fw_stream *s, char **out, char *ids, size_t ids_size, const char *what)
{
    size_t used = 0, cap = 1024;
    const char *json;
    size_t len;
    fw_status st;

    *out = malloc(cap);
    cr_assert_not_null(*out);
    (*out)[0] = '\0';
    ids[0] = '\0';
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        cr_assert_not_null(json, "%s: a NULL row", what);
        if (used + len + 2 > cap) {
            cap = (used + len + 2) * 2;
            *out = realloc(*out, cap);
            cr_assert_not_null(*out);
        }
        memcpy(*out + used, json, len);
        used += len;
        (*out)[used++] = '\n';
        (*out)[used] = '\0';

        struct json_object *o = json_tokener_parse(*out + used - len - 1);
        struct json_object *id;
        cr_assert(o && json_object_object_get_ex(o, "id", &id), "%s: %.*s", what, (int)len, json);
        size_t il = strlen(ids);
        snprintf(ids + il, ids_size - il, "%s%d", il ? "," : "", json_object_get_int(id));
        json_object_put(o);
    }
    cr_assert_eq(st, FW_DONE, "%s: %s: %s", what, fw_status_name(st), fw_conn_error_message(c));
}

/* The where_sql() text of a filter, malloc'd. */
static char *
qf_where_sql(fw_conn *c, const char *filter)
{
    fw_stream *s = NULL;
    const char *text;
    size_t len;
    const char *params[1] = {filter};
    fw_status st = fw_stream_open_sql_text(c, "SELECT fraiseql_wire.where_sql($1::jsonb)", 1, params, 0,
                                           &s);
    char *out;

    cr_assert_eq(st, FW_OK, "%s: %s", filter, fw_conn_error_message(c));
    st = fw_stream_next(s, &text, &len);
    cr_assert_eq(st, FW_OK, "where_sql(%s): %s: %s", filter, fw_status_name(st),
                 fw_conn_error_message(c));
    cr_assert_not_null(text);
    out = strndup(text, len);
    cr_assert_not_null(out);
    cr_assert_eq(fw_stream_next(s, &text, &len), FW_DONE);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    return out;
}

static void
qf_check(fw_conn *c, const char *entity, const filter_case *fc)
{
    fw_query *q = NULL;
    fw_stream *s = NULL;
    char *via_client, *via_sql, *where, *sql;
    char ids_client[1024], ids_sql[1024];
    fw_status st;
    size_t n;

    /* 1. The client: the filter as a parameter. */
    cr_assert_eq(fw_query_new(entity, &q), FW_OK);
    cr_assert_eq(fw_query_set_filter(q, fc->filter), FW_OK, "%s: %s", fc->filter, fw_query_error_message(q));
    cr_assert_eq(fw_query_add_order_by(q, "id", FW_ORDER_NUMERIC, 0), FW_OK);
    cr_assert_eq(fw_query_set_chunk_size(q, 3), FW_OK);   /* several chunks */
    st = fw_stream_open(c, q, &s);
    cr_assert_eq(st, FW_OK, "%s: %s", fc->filter, fw_conn_error_message(c));
    qf_drain(c, s, &via_client, ids_client, sizeof ids_client, fc->filter);
    cr_assert_eq(fw_stream_close(s), FW_OK);
    fw_query_free(q);

    /* 2. The SQL text where_sql renders, as psql would run it. */
    where = qf_where_sql(c, fc->filter);
    n = strlen(where) + strlen(entity) + 128;
    sql = malloc(n);
    cr_assert_not_null(sql);
    snprintf(sql, n, "SELECT data FROM v_%s WHERE %s ORDER BY (data->>'id')::numeric", entity,
             where);
    st = fw_stream_open_sql(c, sql, 0, NULL, 3, &s);
    cr_assert_eq(st, FW_OK, "%s: %s", sql, fw_conn_error_message(c));
    qf_drain(c, s, &via_sql, ids_sql, sizeof ids_sql, sql);
    cr_assert_eq(fw_stream_close(s), FW_OK);

    cr_assert_str_eq(via_client, via_sql, "filter %s\n  where_sql: %s", fc->filter, where);
    cr_assert_str_eq(ids_client, fc->ids, "filter %s on v_%s\n  where_sql: %s", fc->filter, entity,
                     where);
    free(via_client);
    free(via_sql);
    free(where);
    free(sql);
}

/* Documents with every JSON type, missing keys, nulls, non-ASCII text and
 * the characters SQL cares about. */
static const char *const item_rows =
    "INSERT INTO item VALUES"
    " (1, '{\"id\": 1, \"name\": \"ann\", \"score\": 10, \"tags\": [\"a\", \"b\"], \"active\": true,"
    "       \"born\": \"2000-01-01\", \"meta\": {\"k\": 1, \"color\": \"red\"}}'),"
    " (2, '{\"id\": 2, \"name\": \"Émile\", \"score\": 9.5, \"tags\": [], \"active\": false,"
    "       \"born\": \"1999-12-31\", \"meta\": null}'),"
    " (3, '{\"id\": 3, \"name\": \"o''brien; --\", \"score\": -1, \"tags\": [\"c\"], \"active\": true,"
    "       \"meta\": {\"k\": 2}}'),"
    " (4, '{\"id\": 4, \"name\": \"back\\\\slash $$ /* x */\", \"score\": \"10\", \"tags\": \"a\","
    "       \"born\": \"not a date\"}'),"
    " (5, '{\"id\": 5, \"name\": null, \"score\": null}'),"
    " (6, '{\"id\": 6}'),"
    " (7, '{\"id\": 7, \"name\": \"Zed\", \"score\": 100, \"tags\": [\"a\", \"c\", \"d\"], \"active\": null,"
    "       \"born\": \"2024-02-29\", \"meta\": {\"color\": \"blue\", \"k\": 3}}'),"
    " (8, '{\"id\": 8, \"name\": \"zed\", \"score\": 1e2, \"tags\": [[\"a\"]],"
    "       \"meta\": {\"nested\": {\"deep\": \"x\"}}}'),"
    " (9, '{\"id\": 9, \"name\": \"日本語\", \"score\": 0, \"tags\": [\"b\"], \"active\": false}'),"
    " (10, '{\"id\": 10, \"o''k; --\": 1, \"$$\": \"/*\"}');";

static const filter_case item_cases[] = {
    {"{\"name\": {\"eq\": \"ann\"}}", "1"},
    {"{\"name\": {\"eq\": \"o'brien; --\"}}", "3"},
    {"{\"name\": {\"eq\": \"back\\\\slash $$ /* x */\"}}", "4"},
    {"{\"name\": {\"eq\": \"Émile\"}}", "2"},
    {"{\"name\": {\"eq\": \"x'); DROP TABLE item; --\"}}", ""},
    {"{\"name\": {\"neq\": \"ann\"}}", "2,3,4,7,8,9"},
    {"{\"score\": {\"gt\": 9.5}}", "1,7,8"},
    {"{\"score\": {\"gte\": 9.5}}", "1,2,7,8"},
    {"{\"score\": {\"lt\": 0}}", "3"},
    {"{\"score\": {\"lte\": 0}}", "3,9"},
    {"{\"score\": {\"eq\": 100}}", "7,8"},
    {"{\"score\": {\"eq\": \"10\"}}", "4"},
    {"{\"name\": {\"gt\": \"Zed\"}}", "1,2,3,4,8,9"},
    {"{\"name\": {\"lt\": \"a\"}}", "7"},
    {"{\"name\": {\"in\": [\"ann\", \"zed\", \"nobody\"]}}", "1,8"},
    {"{\"name\": {\"nin\": [\"ann\", \"zed\"]}}", "2,3,4,7,9"},
    {"{\"name\": {\"in\": []}}", ""},
    {"{\"name\": {\"nin\": []}}", "1,2,3,4,5,6,7,8,9,10"},
    {"{\"name\": {\"isnull\": true}}", "5,6,10"},
    {"{\"name\": {\"isnull\": false}}", "1,2,3,4,7,8,9"},
    {"{\"name\": {\"exists\": true}}", "1,2,3,4,5,7,8,9"},
    {"{\"active\": {\"eq\": true}}", "1,3"},
    {"{\"active\": {\"neq\": true}}", "2,9"},
    {"{\"tags\": {\"contains\": \"a\"}}", "1,4,7"},
    {"{\"tags\": {\"contains\": [\"a\", \"c\"]}}", "7"},
    {"{\"tags\": {\"overlaps\": [\"b\", \"d\"]}}", "1,7,9"},
    {"{\"tags\": {\"len_eq\": 0}}", "2"},
    {"{\"tags\": {\"len_gt\": 1}}", "1,7"},
    {"{\"meta\": {\"has_key\": \"color\"}}", "1,7"},
    {"{\"meta\": {\"k\": {\"gte\": 2}}}", "3,7"},
    {"{\"meta\": {\"nested\": {\"deep\": {\"eq\": \"x\"}}}}", "8"},
    {"{\"meta\": {\"contains\": {\"color\": \"red\"}}}", "1"},
    {"{\"born\": {\"gt\": \"2000-01-01\", \"type\": \"date\"}}", "7"},
    {"{\"born\": {\"lte\": \"2000-01-01\", \"type\": \"date\"}}", "1,2"},
    {"{\"score\": {\"gt\": \"9\", \"type\": \"numeric\"}}", "1,2,4,7,8"},
    {"{\"or\": [{\"name\": {\"eq\": \"ann\"}}, {\"score\": {\"lt\": 0}}]}", "1,3"},
    {"{\"and\": [{\"active\": {\"eq\": false}}, {\"score\": {\"eq\": 0}}]}", "9"},
    {"{\"not\": {\"name\": {\"eq\": \"ann\"}}}", "2,3,4,7,8,9"},
    {"{\"name\": {\"startswith\": \"Z\"}}", "7"},
    {"{\"name\": {\"istartswith\": \"z\"}}", "7,8"},
    {"{\"name\": {\"contains\": \"本\"}}", "9"},
    {"{\"name\": {\"like\": \"o'%\"}}", "3"},
    {"{\"name\": {\"like\": \"%\\\\\\\\%\"}}", "4"},
    {"{\"name\": {\"matches\": \"^[a-z]+$\"}}", "1,8"},
    {"{\"o'k; --\": {\"eq\": 1}}", "10"},
    {"{\"$$\": {\"eq\": \"/*\"}}", "10"},
    {"{\"id\": {\"in\": [1, 3, 5]}, \"score\": {\"isnull\": false}}", "1,3"},
    {"{}", "1,2,3,4,5,6,7,8,9,10"},
};

Test(query_filters, client_matches_where_sql_on_stored_documents, .timeout = 120)
{
    char db[64];
    fw_conn *c = qf_db_create(db, sizeof db, "filters");

    fwt_exec(c, "CREATE TABLE item (id int PRIMARY KEY, doc jsonb NOT NULL);"
               "CREATE VIEW v_item AS SELECT id, doc AS data FROM item;");
    fwt_exec(c, item_rows);
    for (size_t i = 0; i < sizeof item_cases / sizeof *item_cases; i++)
        qf_check(c, "item", &item_cases[i]);
    /* Nothing was dropped on the way. */
    cr_assert_eq(fwt_count_rows(c, "SELECT doc AS data FROM item", 0), 10);
    qf_db_drop(c, db);
}

/* A create_view() view over columns: the planner maps fields back to the
 * columns (and their indexes); the rows must not change. */
static const filter_case person_cases[] = {
    {"{\"name\": {\"eq\": \"ann\"}}", "1"},
    {"{\"name\": {\"eq\": \"o'brien; --\"}}", "3"},
    {"{\"score\": {\"gt\": 5}}", "1,4"},
    {"{\"score\": {\"isnull\": true}}", "2"},
    {"{\"name\": {\"gte\": \"a\"}}", "1,2,3"},
    {"{\"name\": {\"in\": [\"Émile\", \"Zoë\"]}}", "2,4"},
    {"{\"born\": {\"lt\": \"2000-01-01\", \"type\": \"date\"}}", "3"},
    {"{\"active\": {\"eq\": true}, \"score\": {\"lte\": 10}}", "1"},
    {"{\"or\": [{\"score\": {\"lt\": 0}}, {\"name\": {\"startswith\": \"Z\"}}]}", "3,4"},
    {"{\"not\": {\"active\": {\"eq\": true}}}", "2"},   /* NOT UNKNOWN (null) is UNKNOWN */
    {"{\"name\": {\"nin\": [\"ann\"]}}", "2,3,4"},
    {"{\"teamId\": {\"eq\": 7}}", "1,3"},
};

Test(query_filters, client_matches_where_sql_on_a_create_view_view, .timeout = 120)
{
    char db[64];
    fw_conn *c = qf_db_create(db, sizeof db, "filters_cv");

    fwt_exec(c, "CREATE TABLE person (id int PRIMARY KEY, name text, score numeric, born date,"
               "  active boolean, team_id int);"
               "CREATE INDEX ON person (name);"
               "INSERT INTO person VALUES (1, 'ann', 10, '2001-05-05', true, 7),"
               " (2, 'Émile', NULL, '2000-01-01', false, 8),"
               " (3, 'o''brien; --', -3, '1980-02-02', NULL, 7),"
               " (4, 'Zoë', 42.5, NULL, true, NULL);"
               "SELECT fraiseql_wire.create_view('person', 'person', camel_case => true);");
    for (size_t i = 0; i < sizeof person_cases / sizeof *person_cases; i++)
        qf_check(c, "person", &person_cases[i]);
    qf_db_drop(c, db);
}
