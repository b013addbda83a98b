/*
 * support.h — the planner support function of fraiseql_wire.matches().
 *
 * support.c rewrites matches(data, filter) into index-friendly SQL
 * (docs/pushdown.md lists every rule), derives lossy GIN index conditions
 * and estimates selectivity.
 */
#ifndef FRAISEQL_WIRE_SUPPORT_H
#define FRAISEQL_WIRE_SUPPORT_H

#include "compat.h"

#include "nodes/nodes.h"
#include "utils/jsonb.h"

#include "filter.h"

/* fraiseql_wire.enable_rewrite: planner rewrites of matches() (default on). */
extern bool fw_enable_rewrite;

/* Registers fraiseql_wire.enable_rewrite; called from _PG_init. */
extern void fw_support_init(void);

/*
 * The part of a filter that a GIN (jsonb_ops or jsonb_path_ops) index can
 * serve: the scalar equalities ANDed at the top of the filter, as one
 * containment document, so that filter TRUE implies data @> result.
 * Returns '{}' when there is none (*nkeys = 0).  Allocates in
 * CurrentMemoryContext.
 */
extern Jsonb *fw_filter_containment(const FwNode *node, int *nkeys);

/*
 * A field path of a v_ view's document, traced back to the SQL expression
 * that renders it: doc is the inlined jsonb_build_object()/json_build_object()
 * (or || of such) call.  FW_FIELD_VALUE sets *expr (not copied) to the
 * expression whose rendering is the field's value; FW_FIELD_MISSING means the
 * document never has that field; FW_FIELD_UNKNOWN that it cannot be told (or
 * the document may not be taken apart: volatile, sub-plans, set-returning).
 */
typedef enum FwFieldTrace
{
	FW_FIELD_UNKNOWN,
	FW_FIELD_MISSING,
	FW_FIELD_VALUE
} FwFieldTrace;

extern FwFieldTrace fw_trace_view_field(Node *doc, char **path, int npath, Node **expr);

#endif							/* FRAISEQL_WIRE_SUPPORT_H */
