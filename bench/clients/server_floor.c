/*
 * server_floor — what the server alone needs to produce the documents as
 * text, with no client in the way:
 *   EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*), sum(octet_length(data::text)) FROM (SQL) q
 * with max_parallel_workers_per_gather = 0 (one backend, like a stream).
 * query_s is the server's "Execution Time"; rows and bytes come from the same
 * aggregate run once beforehand (which also warms the cache).
 * (count(*) over data::text alone would let the planner skip the cast; the
 * sum of lengths forces it.  octet_length, not length: length() counts
 * characters, which costs a scan of every document that no client pays, and
 * octet_length gives the bytes the clients count.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common.h"

int
main(int argc, char **argv)
{
    bench_state st;
    bench_init(&st, "server_floor", argc, argv);
    PGconn *conn = PQconnectdb(st.opts.conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        bench_fail(&st, "connect", PQerrorMessage(conn));
    bench_connected(&st);
    PGresult *res = PQexec(conn, "SET max_parallel_workers_per_gather = 0");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        bench_fail(&st, "set", PQresultErrorMessage(res));
    PQclear(res);

    size_t n = strlen(st.opts.sql) + 128;
    char *agg = malloc(n), *explain = malloc(n + 64);
    if (!agg || !explain)
        bench_fail(&st, "memory", "malloc");
    snprintf(agg, n, "SELECT count(*), coalesce(sum(octet_length(data::text)), 0) FROM (%s) AS q",
             st.opts.sql);
    snprintf(explain, n + 64, "EXPLAIN (ANALYZE, TIMING OFF) %s", agg);
    res = PQexec(conn, agg);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        bench_fail(&st, "aggregate", PQresultErrorMessage(res));
    uint64_t rows = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    uint64_t bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);

    for (int pass = 0; pass < st.opts.repeat; pass++) {
        bench_query_start(&st);
        res = PQexec(conn, explain);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            bench_fail(&st, "explain", PQresultErrorMessage(res));
        double exec_ms = -1;
        for (int i = 0; i < PQntuples(res); i++) {
            const char *line = PQgetvalue(res, i, 0);
            const char *p = strstr(line, "Execution Time: ");
            if (p)
                exec_ms = strtod(p + strlen("Execution Time: "), NULL);
        }
        PQclear(res);
        if (exec_ms < 0)
            bench_fail(&st, "explain", "no Execution Time in the plan");
        bench_query_end(&st);
        bench_pass *p = &st.pass[st.npasses - 1];
        p->rows = rows;
        p->kept = rows;
        p->bytes = bytes;
        p->query_s = exec_ms / 1000.0;
        p->ttfr_s = 0;
    }
    free(agg);
    free(explain);
    PQfinish(conn);
    return bench_report(&st);
}
