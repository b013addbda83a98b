/*
 * fw_parallel — fraiseql-wire's query API with parallel streams:
 * fw_query_set_relation(--sql) + fw_query_set_parallel(FW_BENCH_PARTS) +
 * fw_stream_open/fw_stream_next.  --sql names the relation (schema.name),
 * not a statement; FW_BENCH_PARTS (default 1) is the number of parts, 1 being
 * the serial stream of the same query.  Built when the library provides
 * fw_query_set_parallel.
 */
#include <stdlib.h>

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
    const char *env = getenv("FW_BENCH_PARTS");
    int parts = env ? atoi(env) : 1;

    bench_init(&st, "fraiseql_wire_parallel", argc, argv);
    fw_conn *conn = NULL;
    fw_status s = fw_conn_connect(st.opts.conninfo, &conn);
    if (s != FW_OK || !fw_conn_ok(conn))
        fail(&st, conn, "connect", s);
    bench_connected(&st);
    for (int pass = 0; pass < st.opts.repeat; pass++) {
        fw_query *q = NULL;
        fw_stream *stream = NULL;
        const char *json;
        size_t len;

        if (fw_query_new("x", &q) != FW_OK || fw_query_set_relation(q, st.opts.sql) != FW_OK ||
            fw_query_set_parallel(q, parts) != FW_OK ||
            (st.opts.chunk && fw_query_set_chunk_size(q, st.opts.chunk) != FW_OK))
            bench_fail(&st, "query", fw_query_error_message(q) ? fw_query_error_message(q) : "out of memory");
        bench_query_start(&st);
        s = fw_stream_open(conn, q, &stream);
        if (s != FW_OK)
            fail(&st, conn, "open", s);
        if (fw_stream_parts(stream) != parts)
            bench_fail(&st, "open", "fewer parts than asked");
        while ((s = fw_stream_next(stream, &json, &len)) == FW_OK)
            bench_row(&st, json, len);
        if (s != FW_DONE)
            fail(&st, conn, "stream", s);
        s = fw_stream_close(stream);
        if (s != FW_OK && s != FW_DONE)
            fail(&st, conn, "close", s);
        bench_query_end(&st);
        fw_query_free(q);
    }
    fw_conn_free(conn);
    return bench_report(&st);
}
