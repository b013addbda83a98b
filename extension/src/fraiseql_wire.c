/*
 * fraiseql_wire.c — module entry point: PG_MODULE_MAGIC, _PG_init, version.
 *
 * Every setting is registered by fw_guc_init() (guc.c); the planner hook of
 * order_key.c by fw_order_init(); the executor hook of scan_ring.c by
 * fw_scan_ring_init().
 */
#include "compat.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "fraiseql_wire.h"
#include "guc.h"
#include "order_key.h"
#include "scan_ring.h"

PG_MODULE_MAGIC;

void
_PG_init(void)
{
	fw_guc_init();
	fw_order_init();
	fw_scan_ring_init();
}

PG_FUNCTION_INFO_V1(fraiseql_wire_version);

Datum
fraiseql_wire_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(FRAISEQL_WIRE_VERSION));
}
