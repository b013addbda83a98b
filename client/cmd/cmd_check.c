/*
 * cmd_check.c — `fraiseql-wire check`: does the entity's relation have the
 * shape a stream needs (one json/jsonb column named data)?
 */
#include <stdio.h>
#include <string.h>

#include "query_opts.h"

void
fwc_usage_check(FILE *out)
{
    fprintf(out,
            "fraiseql-wire check — check that a relation can be streamed\n\n"
            "usage: fraiseql-wire check [OPTIONS] ENTITY\n"
            "       fraiseql-wire check [OPTIONS] --relation=NAME\n\n"
            "Checks that v_ENTITY (--table: tv_ENTITY) has one column \"data\" of type\n"
            "json or jsonb, by asking the server to describe it (no row is read).\n\n"
            "options:\n"
            "  --table                  check tv_ENTITY instead of v_ENTITY\n"
            "  --relation=NAME          check this relation instead\n"
            "  --help                   this help\n\n"
            FWC_CONN_USAGE
            "\nExit status: 0 ok, 1 error (usage, SQL, schema), 2 connection failed or lost.\n");
}

int
fwc_cmd_check(int argc, char **argv, fwc_conn_opts *conn_opts)
{
    static const struct option longopts[] = {
        FWC_CONN_LONGOPTS,
        {"table", no_argument, NULL, FWC_OPT_TABLE},
        {"relation", required_argument, NULL, FWC_OPT_RELATION},
        {"help", no_argument, NULL, FWC_OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    fwc_query_opts o;
    fw_query *q = NULL;
    fw_conn *conn = NULL;
    fw_stream *s = NULL;
    int rc;

    rc = fwc_query_parse("check", argc, argv, longopts, fwc_usage_check, &o, conn_opts);
    if (rc != FWC_EXIT_OK)
        return rc < 0 ? FWC_EXIT_OK : rc;
    rc = fwc_query_build(&o, &q);
    if (rc != FWC_EXIT_OK)
        goto done;
    /* LIMIT 0: the server describes the result without producing a row; the
     * client's RowDescription check is the check. */
    fw_query_limit(q, 0);
    rc = fwc_connect(conn_opts, &conn, NULL);
    if (rc != FWC_EXIT_OK)
        goto done;
    fw_status st = fw_stream_open(conn, q, &s);
    if (st != FW_OK) {
        rc = fwc_report_query_error(conn, st, &o);
        goto done;
    }
    const char *json;
    size_t len;
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK)
        ;
    if (st != FW_DONE) {
        rc = fwc_report_query_error(conn, st, &o);
        goto done;
    }
    const char *prefix = o.relation ? "" : o.table ? "tv_" : "v_";
    const char *name = o.relation ? o.relation : o.entity;
    const char *dot = o.relation ? NULL : strchr(name, '.');   /* schema.entity */
    printf("ok: %.*s%s%s has one column \"data\" of type %s\n",
           dot ? (int)(dot - name + 1) : 0, name, prefix, dot ? dot + 1 : name,
           fw_stream_data_type(s));
    rc = FWC_EXIT_OK;
done:
    fw_stream_close(s);
    fw_conn_free(conn);
    fw_query_free(q);
    return rc;
}
