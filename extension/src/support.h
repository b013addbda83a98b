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

#endif							/* FRAISEQL_WIRE_SUPPORT_H */
