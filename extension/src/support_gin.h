/*
 * support_gin.h — what a GIN index on the data column can serve of
 * matches() (support_gin.c).
 */
#ifndef FRAISEQL_WIRE_SUPPORT_GIN_H
#define FRAISEQL_WIRE_SUPPORT_GIN_H

#include "compat.h"

#include "nodes/primnodes.h"
#include "nodes/supportnodes.h"
#include "utils/jsonb.h"

#include "filter.h"

/*
 * The part of a filter that a GIN (jsonb_ops or jsonb_path_ops) index can
 * serve: the scalar equalities ANDed at the top of the filter, as one
 * containment document, so that filter TRUE implies data @> result.
 * Returns '{}' when there is none (*nkeys = 0).  Allocates in
 * CurrentMemoryContext.
 */
extern Jsonb *fw_filter_containment(const FwNode *node, int *nkeys);

/*
 * Simplify on a tv_ table (data a jsonb or json Var):
 * data @> '{eqs}' AND matches(data, rest), or matches(data::jsonb, filter)
 * for a json column without equalities; NULL when nothing is gained.
 */
extern Node *fw_sp_rewrite_table(FuncExpr *fcall, Node *data, const FwNode *tree);

/* IndexCondition: a lossy data @> containment for a GIN index, or NULL. */
extern Node *fw_sp_index_condition(SupportRequestIndexCondition *req);

#endif							/* FRAISEQL_WIRE_SUPPORT_GIN_H */
