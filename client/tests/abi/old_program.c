/*
 * A program written against the 0.1.0 header (client/tests/abi/0.1.0/, a
 * copy of the released one), with the 0.1.0 names, built and run against
 * the current shared library by client/tests/shell/52_abi_symbols.sh: the
 * names renamed since must still resolve and behave as in 0.1.0.
 *
 *   old_program                 no server: conninfo, query builder, status names
 *   old_program CONNINFO        also connects and streams with the old names
 *
 * Prints one line per check ("ok NAME" / "FAIL NAME: why"); exit 0 when all
 * pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraiseql_wire.h"

static int failures;

static void
check(int cond, const char *name, const char *why)
{
    if (cond) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: %s\n", name, why ? why : "(no message)");
        failures++;
    }
}

static void
offline(void)
{
    fw_conninfo *ci = NULL;
    fw_query *q = NULL;
    const char *sql;

    check(fw_version_num() >= 100, "fw_version_num", fw_version_string());
    check(strcmp(fw_strerror(FW_ERR_CONFIG), "config") == 0, "fw_strerror", NULL);

    check(fw_conninfo_parse("sslmode=bogus", FW_CONNINFO_NO_ENV, &ci) == FW_ERR_CONFIG && ci &&
              fw_conninfo_error(ci) && strstr(fw_conninfo_error(ci), "sslmode"),
          "fw_conninfo_error", ci ? fw_conninfo_error(ci) : NULL);
    fw_conninfo_free(ci);

    check(fw_query_new("1bad", &q) == FW_ERR_CONFIG && q && fw_query_error(q),
          "fw_query_error", q ? fw_query_error(q) : NULL);
    fw_query_free(q);

    q = NULL;
    check(fw_query_new("item", &q) == FW_OK, "fw_query_new", NULL);
    check(fw_query_where(q, "{\"a\": {\"eq\": 1}}") == FW_OK, "fw_query_where", fw_query_error(q));
    check(fw_query_order_by(q, "a", FW_ORDER_TEXT, FW_ORDER_DESC) == FW_OK, "fw_query_order_by",
          fw_query_error(q));
    check(fw_query_limit(q, 5) == FW_OK, "fw_query_limit", fw_query_error(q));
    check(fw_query_offset(q, 2) == FW_OK, "fw_query_offset", fw_query_error(q));
    check(fw_query_chunk_size(q, 10) == FW_OK, "fw_query_chunk_size", fw_query_error(q));
    check(fw_query_limit(q, -7) == FW_ERR_CONFIG, "fw_query_limit refuses -7", NULL);
    sql = fw_query_sql(q);
    check(sql && strstr(sql, "fraiseql_wire.matches") && strstr(sql, " LIMIT ") &&
              strstr(sql, " OFFSET "),
          "fw_query_sql", sql);
    check(fw_query_where_sql_trusted(q, "true") == FW_OK, "fw_query_where_sql_trusted", NULL);
    check(fw_query_order_by_sql_trusted(q, "1") == FW_OK, "fw_query_order_by_sql_trusted", NULL);
    sql = fw_query_sql(q);
    check(sql && strstr(sql, "(true)") != NULL, "trusted WHERE rendered", sql);
    fw_query_free(q);
}

static void
online(const char *conninfo)
{
    fw_conninfo *ci = NULL;
    fw_conn *c = NULL;
    fw_stream *s = NULL;
    fw_query *q = NULL;
    const char *json;
    size_t len;
    long rows = 0;
    fw_status st;

    check(fw_connect(conninfo, &c) == FW_OK, "fw_connect", fw_conn_error_message(c));
    check(fw_exec_simple(c, "CREATE TEMP TABLE t (data jsonb); "
                            "INSERT INTO t SELECT jsonb_build_object('i', g) "
                            "FROM generate_series(1, 5) g") == FW_OK,
          "fw_exec_simple", fw_conn_error_message(c));
    check(fw_stream_sql(c, "SELECT data FROM t WHERE (data->>'i')::int > $1", 1,
                        (const char *const[]){"2"}, 0, &s) == FW_OK,
          "fw_stream_sql", fw_conn_error_message(c));
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        rows++;
    check(st == FW_DONE && rows == 3, "fw_stream_sql streams 3 rows", fw_conn_error_message(c));
    check(fw_stream_close(s) == FW_OK, "fw_stream_close", NULL);

    check(fw_stream_sql_text(c, "SELECT 'x'::text", 0, NULL, 0, &s) == FW_OK &&
              fw_stream_next(s, &json, &len) == FW_OK && len == 1 && json[0] == 'x',
          "fw_stream_sql_text", fw_conn_error_message(c));
    fw_stream_close(s);

    check(fw_query_new("t", &q) == FW_OK && fw_query_set_relation(q, "t") == FW_OK &&
              fw_query_limit(q, 2) == FW_OK && fw_stream_open(c, q, &s) == FW_OK,
          "fw_stream_open of a query", fw_conn_error_message(c));
    rows = 0;
    while (fw_stream_next(s, &json, &len) == FW_OK)
        rows++;
    check(rows == 2, "the query's LIMIT", NULL);
    fw_stream_close(s);
    fw_query_free(q);
    fw_conn_free(c);

    c = NULL;
    check(fw_conninfo_parse(conninfo, 0, &ci) == FW_OK && fw_connect_info(ci, &c) == FW_OK &&
              fw_conn_ok(c),
          "fw_connect_info", fw_conn_error_message(c));
    fw_conn_free(c);
    fw_conninfo_free(ci);
}

int
main(int argc, char **argv)
{
    offline();
    if (argc > 1)
        online(argv[1]);
    return failures ? 1 : 0;
}
