/*
 * guc.c — the fraiseql_wire.* settings.
 *
 * Every setting of the extension is defined here so that DBAs find them in
 * one place (docs/extension.md lists them).  Subsystems read the variables
 * declared in guc.h.
 */
#include "compat.h"

#include <limits.h>

#include "utils/guc.h"

#include "guc.h"

int			fw_max_filter_depth = 32;
int			fw_max_filter_nodes = 100000;
bool		fw_enable_rewrite = true;
bool		fw_tid_range_bulk_read = true;

void
fw_guc_init(void)
{
	DefineCustomIntVariable("fraiseql_wire.max_filter_depth",
							"Deepest nesting of objects a filter may have.",
							"Filters nested deeper are rejected with SQLSTATE 54000 before any row is read.",
							&fw_max_filter_depth, 32, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	/*
	 * SUSET: the limit is what bounds the memory and the time one filter
	 * can take from the server (parsing, planning, rendering), and filters
	 * come from clients, so only a superuser (or ALTER ROLE/DATABASE by
	 * one) may raise it.  The maximum keeps node counters far from INT_MAX.
	 */
	DefineCustomIntVariable("fraiseql_wire.max_filter_nodes",
							"Most operators, logic nodes and list elements a filter may have.",
							"Larger filters are rejected with SQLSTATE 54000 while they are parsed, "
							"before any row is read or any plan is made.",
							&fw_max_filter_nodes, 100000, 1, 100000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("fraiseql_wire.enable_rewrite",
							 "Lets the planner rewrite fraiseql_wire.matches() into index-friendly SQL.",
							 "When off, matches() is planned as an opaque function call: no rewrite "
							 "onto view columns and no derived GIN index condition.",
							 &fw_enable_rewrite,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("fraiseql_wire.tid_range_bulk_read",
							 "Lets TID Range Scans of big tables read through the bulk-read ring, as Seq Scans do.",
							 "When off, a TID Range Scan (a parallel stream's part of a table) takes a "
							 "shared buffer for every block it reads, as PostgreSQL's own executor does.",
							 &fw_tid_range_bulk_read,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("fraiseql_wire");
}
