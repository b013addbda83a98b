/*
 * fw_stream — fraiseql-wire: fw_stream_open_sql + fw_stream_next, chunk_size rows
 * per Execute (--chunk, 0 = the library's default).  Written against the
 * public header only; built when the library provides the stream functions.
 */
#include <fraiseql_wire.h>

#include "common.h"

static void
fail(bench_state *st, fw_conn *conn, const char *what, fw_status s)
{
    const char *msg = fw_conn_error_message(conn);
    bench_fail(st, what, msg ? msg : fw_status_name(s));
}

int
main(int argc, char **argv)
{
    bench_state st;
    bench_init(&st, "fraiseql_wire", argc, argv);
    fw_conn *conn = NULL;
    fw_status s = fw_conn_connect(st.opts.conninfo, &conn);
    if (s != FW_OK || !fw_conn_ok(conn))
        fail(&st, conn, "connect", s);
    bench_connected(&st);
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        bench_query_start(&st);
        fw_stream *stream = NULL;
        s = fw_stream_open_sql(conn, st.opts.sql, 0, NULL, st.opts.chunk, &stream);
        if (s != FW_OK)
            fail(&st, conn, "query", s);
        const char *json;
        size_t len;
        while ((s = fw_stream_next(stream, &json, &len)) == FW_OK)
            bench_row(&st, json, len);
        if (s != FW_DONE)
            fail(&st, conn, "stream", s);
        s = fw_stream_close(stream);
        if (s != FW_OK && s != FW_DONE)
            fail(&st, conn, "close", s);
        bench_query_end(&st);
    }
    fw_conn_free(conn);
    return bench_report(&st);
}
