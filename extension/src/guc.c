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

#include "fraiseql_wire.h"
#include "guc.h"

int			fw_max_filter_depth = 32;
int			fw_max_filter_nodes = 10000;

void
fw_guc_init(void)
{
	DefineCustomIntVariable("fraiseql_wire.max_filter_depth",
							"Deepest nesting of objects a filter may have.",
							"Filters nested deeper are rejected with SQLSTATE 22023 before any row is read.",
							&fw_max_filter_depth, 32, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("fraiseql_wire.max_filter_nodes",
							"Most operators, logic nodes and list elements a filter may have.",
							"Larger filters are rejected with SQLSTATE 22023 before any row is read.",
							&fw_max_filter_nodes, 10000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("fraiseql_wire");
}
