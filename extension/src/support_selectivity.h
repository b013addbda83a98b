/*
 * support_selectivity.h — the Selectivity request of matches()
 * (support_selectivity.c).
 */
#ifndef FRAISEQL_WIRE_SUPPORT_SELECTIVITY_H
#define FRAISEQL_WIRE_SUPPORT_SELECTIVITY_H

#include "compat.h"

#include "nodes/supportnodes.h"

/* Sets req->selectivity and returns req; NULL (no estimate) for a join
 * clause. */
extern Node *fw_sp_selectivity(SupportRequestSelectivity *req);

#endif							/* FRAISEQL_WIRE_SUPPORT_SELECTIVITY_H */
