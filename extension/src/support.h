/*
 * support.h — the planner support function of fraiseql_wire.matches()
 * (support.c): the dispatch of its requests and the parsed filter they
 * share.  support.c lists the files that do the work.
 */
#ifndef FRAISEQL_WIRE_SUPPORT_H
#define FRAISEQL_WIRE_SUPPORT_H

#include "compat.h"

#include "nodes/primnodes.h"

#include "filter.h"

/*
 * The answer to one SupportRequest node of matches(): the replacement
 * expression (Simplify), a list of lossy index conditions (IndexCondition),
 * the request with its selectivity set (Selectivity), or NULL.
 */
extern Node *fw_sp_matches_support(Node *req);

/*
 * The tree of a constant, non-NULL filter, folded (fw_filter_fold) or as
 * written.  Parsed once for all the requests of one planning: the tree
 * lives in CurrentMemoryContext and is forgotten when that context is
 * reset or deleted.
 */
extern FwNode *fw_sp_parse(Const *fc, bool fold);

#endif							/* FRAISEQL_WIRE_SUPPORT_H */
