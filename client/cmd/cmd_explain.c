/*
 * cmd_explain.c — `fraiseql-wire explain`: the SQL a stream would run, its
 * parameters, and the server's plan for it (EXPLAIN with the same
 * parameters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_opts.h"

void
fwc_usage_explain(FILE *out)
{
    fprintf(out,
            "fraiseql-wire explain — print the SQL, its parameters and the server's plan\n\n"
            "usage: fraiseql-wire explain [OPTIONS] ENTITY\n"
            "       fraiseql-wire explain [OPTIONS] --relation=NAME\n\n"
            "The SQL and parameters are printed before connecting; then the plan of\n"
            "EXPLAIN with the same parameters.  No row is read.\n\n"
            FWC_QUERY_USAGE
            "  --help                   this help\n\n"
            FWC_CONN_USAGE
            "\nExit status: 0 ok, 1 error (usage, SQL), 2 connection failed or lost.\n");
}

int
fwc_cmd_explain(int argc, char **argv, fwc_conn_opts *conn_opts)
{
    static const struct option longopts[] = {
        FWC_CONN_LONGOPTS,
        FWC_QUERY_LONGOPTS,
        {"help", no_argument, NULL, FWC_OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    fwc_query_opts o;
    fw_query *q = NULL;
    fw_conn *conn = NULL;
    fw_stream *s = NULL;
    int rc;

    rc = fwc_query_parse("explain", argc, argv, longopts, fwc_usage_explain, &o, conn_opts);
    if (rc != FWC_EXIT_OK)
        return rc < 0 ? FWC_EXIT_OK : rc;
    rc = fwc_query_build(&o, &q);
    if (rc != FWC_EXIT_OK)
        goto done;
    const char *sql = fw_query_sql(q);
    if (!sql) {
        rc = FWC_EXIT_ERROR;
        goto done;
    }
    printf("%s\n", sql);
    for (int i = 0; i < fw_query_nparams(q); i++)
        printf("  $%d = %s\n", i + 1, fw_query_param(q, i));
    rc = fwc_connect(conn_opts, &conn, NULL);
    if (rc != FWC_EXIT_OK)
        goto done;

    /* EXPLAIN with the same parameters: the server plans what it would run. */
    size_t n = strlen(sql) + sizeof "EXPLAIN ";
    char *explain = malloc(n);
    if (!explain) {
        rc = FWC_EXIT_ERROR;
        goto done;
    }
    snprintf(explain, n, "EXPLAIN %s", sql);
    int np = fw_query_nparams(q);
    const char **params = calloc(np > 0 ? (size_t)np : 1, sizeof *params);
    if (!params) {
        free(explain);
        rc = FWC_EXIT_ERROR;
        goto done;
    }
    for (int i = 0; i < np; i++)
        params[i] = fw_query_param(q, i);
    fw_status st = fw_stream_sql_text(conn, explain, np, params, 0, &s);
    free(params);
    free(explain);
    if (st != FW_OK) {
        rc = fwc_report_query_error(conn, st, &o);
        goto done;
    }
    printf("\n");
    const char *line;
    size_t len;
    while ((st = fw_stream_next(s, &line, &len)) == FW_OK)
        printf("%.*s\n", (int)len, line ? line : "");
    rc = st == FW_DONE ? FWC_EXIT_OK : fwc_report_query_error(conn, st, &o);
done:
    fw_stream_close(s);
    fw_conn_free(conn);
    fw_query_free(q);
    return rc;
}
