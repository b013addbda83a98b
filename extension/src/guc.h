/*
 * guc.h — the fraiseql_wire.* settings (guc.c): the variables behind them
 * and their registration.
 */
#ifndef FRAISEQL_WIRE_GUC_H
#define FRAISEQL_WIRE_GUC_H

#include "compat.h"

/* fraiseql_wire.max_filter_depth: nesting of filter objects (filter_parse.c) */
extern int	fw_max_filter_depth;

/* fraiseql_wire.max_filter_nodes: operators, logic nodes and list elements */
extern int	fw_max_filter_nodes;

/* fraiseql_wire.enable_rewrite: planner rewrites of matches() and of the
 * sort keys (support*.c, order_key.c; default on) */
extern bool fw_enable_rewrite;

/* fraiseql_wire.tid_range_bulk_read: TID Range Scans of big tables through
 * the bulk-read ring (scan_ring.c; default on) */
extern bool fw_tid_range_bulk_read;

/* Registers every fraiseql_wire.* setting and reserves the prefix; called
 * once from _PG_init. */
extern void fw_guc_init(void);

#endif /* FRAISEQL_WIRE_GUC_H */
