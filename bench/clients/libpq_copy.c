/*
 * libpq_copy — COPY (SELECT data …) TO STDOUT: the server streams text lines
 * and the client takes them one at a time (PQgetCopyData).  The leanest
 * libpq path; text COPY escapes backslashes, which the benchmark documents
 * do not contain, so the bytes are the same documents.
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
    bench_init(&st, "libpq_copy", argc, argv);
    PGconn *conn = PQconnectdb(st.opts.conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        bench_fail(&st, "connect", PQerrorMessage(conn));
    bench_connected(&st);
    size_t n = strlen(st.opts.sql) + 32;
    char *copy = malloc(n);
    if (!copy)
        bench_fail(&st, "memory", "malloc");
    snprintf(copy, n, "COPY (%s) TO STDOUT", st.opts.sql);
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        bench_query_start(&st);
        PGresult *res = PQexec(conn, copy);
        if (PQresultStatus(res) != PGRES_COPY_OUT)
            bench_fail(&st, "copy", PQresultErrorMessage(res));
        PQclear(res);
        char *line;
        int len;
        while ((len = PQgetCopyData(conn, &line, 0)) > 0) {
            /* one line per row, ending in \n; \N is SQL NULL */
            size_t l = (size_t)len;
            if (l > 0 && line[l - 1] == '\n')
                l--;
            if (l == 2 && line[0] == '\\' && line[1] == 'N')
                bench_row(&st, NULL, 0);
            else
                bench_row(&st, line, l);
            PQfreemem(line);
        }
        if (len == -2)
            bench_fail(&st, "copy data", PQerrorMessage(conn));
        while ((res = PQgetResult(conn)) != NULL) {
            if (PQresultStatus(res) != PGRES_COMMAND_OK)
                bench_fail(&st, "copy end", PQresultErrorMessage(res));
            PQclear(res);
        }
        bench_query_end(&st);
    }
    free(copy);
    PQfinish(conn);
    return bench_report(&st);
}
