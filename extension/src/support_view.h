/*
 * support_view.h — Simplify of matches() on a v_ view's inlined document
 * (support_view.c).
 */
#ifndef FRAISEQL_WIRE_SUPPORT_VIEW_H
#define FRAISEQL_WIRE_SUPPORT_VIEW_H

#include "compat.h"

#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"

#include "filter.h"

/*
 * fcall (matches(data, filter)) rewritten for the document data, whose
 * top-level fields (fw_sp_doc_fields) are fields, with the filter parsed as
 * tree: SQL on the view's expressions with the same value as the call on
 * every row, or NULL when nothing is gained.  root may be NULL.
 */
extern Node *fw_sp_rewrite_view(PlannerInfo *root, FuncExpr *fcall, Node *data, List *fields,
								const FwNode *tree);

#endif							/* FRAISEQL_WIRE_SUPPORT_VIEW_H */
