/*
 * libpq_cursor — the portable way to bound memory with libpq: a cursor in a
 * transaction, FETCH chunk rows at a time (--chunk, default 256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common.h"

static void
exec_ok(bench_state *st, PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        bench_fail(st, sql, PQresultErrorMessage(res));
    PQclear(res);
}

int
main(int argc, char **argv)
{
    bench_state st;
    bench_init(&st, "libpq_cursor", argc, argv);
    if (st.opts.chunk == 0)
        st.opts.chunk = 256;
    PGconn *conn = PQconnectdb(st.opts.conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        bench_fail(&st, "connect", PQerrorMessage(conn));
    bench_connected(&st);
    size_t n = strlen(st.opts.sql) + 64;
    char *declare = malloc(n);
    if (!declare)
        bench_fail(&st, "memory", "malloc");
    snprintf(declare, n, "DECLARE bench_c NO SCROLL CURSOR FOR %s", st.opts.sql);
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH %zu FROM bench_c", st.opts.chunk);
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        bench_query_start(&st);
        exec_ok(&st, conn, "BEGIN");
        exec_ok(&st, conn, declare);
        for (;;) {
            PGresult *res = PQexec(conn, fetch);
            if (PQresultStatus(res) != PGRES_TUPLES_OK)
                bench_fail(&st, "fetch", PQresultErrorMessage(res));
            int rows = PQntuples(res);
            for (int i = 0; i < rows; i++)
                bench_row(&st, PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0),
                          (size_t)PQgetlength(res, i, 0));
            PQclear(res);
            if ((size_t)rows < st.opts.chunk)
                break;
        }
        exec_ok(&st, conn, "COMMIT");
        bench_query_end(&st);
    }
    free(declare);
    PQfinish(conn);
    return bench_report(&st);
}
