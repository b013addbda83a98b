/*
 * deprecated.c — the 0.1.0 names of functions renamed in 0.2, kept as
 * exported wrappers (version node FRAISEQL_WIRE_0.1 in
 * libfraiseql_wire.map) so that programs built against 0.1.0 still load and
 * behave as before.  They go only with a SONAME change (docs/abi.md).
 * Nothing inside the library calls them.
 */
#include "fraiseql_wire.h"

FW_API const char *
fw_conninfo_error(const fw_conninfo *ci)
{
    return fw_conninfo_error_message(ci);
}

FW_API const char *
fw_query_error(const fw_query *q)
{
    return fw_query_error_message(q);
}
