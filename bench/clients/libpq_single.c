/*
 * libpq_single — libpq's single-row mode (PQsetSingleRowMode): one PGresult
 * per row, memory bounded by one row.  The usual way to stream with libpq
 * before PostgreSQL 17's chunked mode.
 */
#include <libpq-fe.h>

#include "common.h"

int
main(int argc, char **argv)
{
    bench_state st;
    bench_init(&st, "libpq_single", argc, argv);
    PGconn *conn = PQconnectdb(st.opts.conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        bench_fail(&st, "connect", PQerrorMessage(conn));
    bench_connected(&st);
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        bench_query_start(&st);
        if (!PQsendQuery(conn, st.opts.sql))
            bench_fail(&st, "send", PQerrorMessage(conn));
        if (!PQsetSingleRowMode(conn))
            bench_fail(&st, "single-row mode", PQerrorMessage(conn));
        PGresult *res;
        while ((res = PQgetResult(conn)) != NULL) {
            switch (PQresultStatus(res)) {
            case PGRES_SINGLE_TUPLE:
                bench_row(&st, PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
                          (size_t)PQgetlength(res, 0, 0));
                break;
            case PGRES_TUPLES_OK:
                break;
            default:
                bench_fail(&st, "query", PQresultErrorMessage(res));
            }
            PQclear(res);
        }
        bench_query_end(&st);
    }
    PQfinish(conn);
    return bench_report(&st);
}
