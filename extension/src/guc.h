/*
 * guc.h — variables behind the fraiseql_wire.* settings (defined in guc.c).
 */
#ifndef FRAISEQL_WIRE_GUC_H
#define FRAISEQL_WIRE_GUC_H

/* fraiseql_wire.max_filter_depth: nesting of filter objects (filter_parse.c) */
extern int	fw_max_filter_depth;

/* fraiseql_wire.max_filter_nodes: operators, logic nodes and list elements */
extern int	fw_max_filter_nodes;

#endif /* FRAISEQL_WIRE_GUC_H */
