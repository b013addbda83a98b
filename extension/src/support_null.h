/*
 * support_null.h — null-ness and the two-valued result of a translated
 * filter (support_null.c).
 */
#ifndef FRAISEQL_WIRE_SUPPORT_NULL_H
#define FRAISEQL_WIRE_SUPPORT_NULL_H

#include "compat.h"

#include "nodes/pathnodes.h"
#include "nodes/primnodes.h"

/*
 * r IS TRUE, in a form an index can still use: TRUE where r is TRUE, FALSE
 * where it is FALSE or NULL.  root (may be NULL) tells which columns are
 * NOT NULL on every row; matches_jsonb is fraiseql_wire.matches(jsonb,
 * jsonb), whose residual calls over a built document are never NULL.
 */
extern Node *fw_sp_two_valued(PlannerInfo *root, Oid matches_jsonb, Node *r);

#endif							/* FRAISEQL_WIRE_SUPPORT_NULL_H */
