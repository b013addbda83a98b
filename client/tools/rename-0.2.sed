# rename-0.2.sed — the fraiseql_wire 0.1.0 function names to their 0.2 names
# (docs/abi.md, "Renamed in 0.2").  The old names still link and work in
# 0.2 (deprecated); to move a program's sources to the new ones:
#
#     sed -i -E -f rename-0.2.sed your/*.c your/*.h
#
# Lines that declare a deprecated name (FW_DEPRECATED) are left alone.
/FW_DEPRECATED\(/b
s/\bfw_strerror\b/fw_status_name/g
s/\bfw_connect\b/fw_conn_connect/g
s/\bfw_connect_info\b/fw_conn_connect_info/g
s/\bfw_connect_start\b/fw_conn_connect_start/g
s/\bfw_connect_start_info\b/fw_conn_connect_start_info/g
s/\bfw_connect_poll\b/fw_conn_connect_poll/g
s/\bfw_exec_simple\b/fw_conn_exec/g
s/\bfw_conn_get_cancel\b/fw_cancel_new/g
s/\bfw_stream_sql\b/fw_stream_open_sql/g
s/\bfw_stream_sql_text\b/fw_stream_open_sql_text/g
s/\bfw_conninfo_error\b/fw_conninfo_error_message/g
s/\bfw_query_error\b/fw_query_error_message/g
s/\bfw_query_where\b/fw_query_set_filter/g
s/\bfw_query_order_by\b/fw_query_add_order_by/g
s/\bfw_query_limit\b/fw_query_set_limit/g
s/\bfw_query_offset\b/fw_query_set_offset/g
s/\bfw_query_chunk_size\b/fw_query_set_chunk_size/g
s/\bfw_query_parallel\b/fw_query_set_parallel/g
s/\bfw_query_where_sql_trusted\b/fw_query_set_where_sql_trusted/g
s/\bfw_query_order_by_sql_trusted\b/fw_query_set_order_by_sql_trusted/g
