/*
 * fraiseql_wire.c — module entry point: PG_MODULE_MAGIC, _PG_init, version.
 *
 * Subsystems register their GUCs from _PG_init through fw_*_init() hooks
 * declared in their own headers.
 */
#include "compat.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "fraiseql_wire.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
	fw_support_init();
	fw_order_init();
	fw_guc_init();
}

PG_FUNCTION_INFO_V1(fraiseql_wire_version);

Datum
fraiseql_wire_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(FRAISEQL_WIRE_VERSION));
}
