/*
 * deprecated.c — the 0.1.0 names of the functions renamed in 0.2, kept as
 * exported wrappers (version node FRAISEQL_WIRE_0.1 of
 * libfraiseql_wire.map) so that programs built against 0.1.0 still load and
 * behave as before.  Each only calls its new name.  They go with the next
 * SONAME change (docs/abi.md).  Nothing inside the library calls them.
 */
#include "fraiseql_wire.h"

FW_API const char *
fw_strerror(fw_status status)
{
    return fw_status_name(status);
}

FW_API const char *
fw_conninfo_error(const fw_conninfo *ci)
{
    return fw_conninfo_error_message(ci);
}

FW_API fw_status
fw_connect(const char *conninfo, fw_conn **out)
{
    return fw_conn_connect(conninfo, out);
}

FW_API fw_status
fw_connect_info(const fw_conninfo *ci, fw_conn **out)
{
    return fw_conn_connect_info(ci, out);
}

FW_API fw_status
fw_exec_simple(fw_conn *conn, const char *sql)
{
    return fw_conn_exec(conn, sql);
}

FW_API const char *
fw_query_error(const fw_query *q)
{
    return fw_query_error_message(q);
}

FW_API fw_status
fw_query_where(fw_query *q, const char *filter_json)
{
    return fw_query_set_filter(q, filter_json);
}

FW_API fw_status
fw_query_order_by(fw_query *q, const char *field_path, fw_order_type type, unsigned flags)
{
    return fw_query_add_order_by(q, field_path, type, flags);
}

FW_API fw_status
fw_query_limit(fw_query *q, int64_t limit)
{
    return fw_query_set_limit(q, limit);
}

FW_API fw_status
fw_query_offset(fw_query *q, int64_t offset)
{
    return fw_query_set_offset(q, offset);
}

FW_API fw_status
fw_query_chunk_size(fw_query *q, size_t rows)
{
    return fw_query_set_chunk_size(q, rows);
}

FW_API fw_status
fw_query_where_sql_trusted(fw_query *q, const char *sql)
{
    return fw_query_set_where_sql_trusted(q, sql);
}

FW_API fw_status
fw_query_order_by_sql_trusted(fw_query *q, const char *sql)
{
    return fw_query_set_order_by_sql_trusted(q, sql);
}

FW_API fw_status
fw_stream_sql(fw_conn *conn, const char *sql, int nparams, const char *const *params,
              size_t chunk_size, fw_stream **out)
{
    return fw_stream_open_sql(conn, sql, nparams, params, chunk_size, out);
}

FW_API fw_status
fw_stream_sql_text(fw_conn *conn, const char *sql, int nparams, const char *const *params,
                   size_t chunk_size, fw_stream **out)
{
    return fw_stream_open_sql_text(conn, sql, nparams, params, chunk_size, out);
}
