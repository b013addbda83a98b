/*
 * libpq_exec — libpq's default: PQexec buffers the whole result in the
 * client before the first row can be read.
 */
#include <libpq-fe.h>

#include "common.h"

int
main(int argc, char **argv)
{
    bench_state st;
    bench_init(&st, "libpq_exec", argc, argv);
    PGconn *conn = PQconnectdb(st.opts.conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        bench_fail(&st, "connect", PQerrorMessage(conn));
    bench_connected(&st);
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        bench_query_start(&st);
        PGresult *res = PQexec(conn, st.opts.sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            bench_fail(&st, "query", PQresultErrorMessage(res));
        int n = PQntuples(res);
        for (int i = 0; i < n; i++)
            bench_row(&st, PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0),
                      (size_t)PQgetlength(res, i, 0));
        PQclear(res);
        bench_query_end(&st);
    }
    PQfinish(conn);
    return bench_report(&st);
}
