/*
 * guc.c — the fraiseql_wire.* settings.
 *
 * Every setting of the extension is defined here so that DBAs find them in
 * one place (docs/extension.md lists them).  Subsystems read the variables
 * declared in guc.h.
 */
#include "compat.h"

#include "utils/guc.h"

#include "fraiseql_wire.h"
#include "guc.h"

void
fw_guc_init(void)
{
	MarkGUCPrefixReserved("fraiseql_wire");
}
