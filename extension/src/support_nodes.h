/*
 * support_nodes.h — expression nodes built by the planner support of
 * matches() (support_nodes.c).  Every node is built in CurrentMemoryContext.
 */
#ifndef FRAISEQL_WIRE_SUPPORT_NODES_H
#define FRAISEQL_WIRE_SUPPORT_NODES_H

#include "compat.h"

#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/numeric.h"

#include "filter.h"

/* A function of the extension's schema, found next to sibling (a function
 * of the extension); InvalidOid if there is none. */
extern Oid	fw_sp_sibling_func(Oid sibling, const char *name, int nargs, const Oid *argtypes);

/* fraiseql_wire.matches(jsonb, jsonb), next to sibling. */
extern Oid	fw_sp_matches_jsonb(Oid sibling);

/* A NULL boolean constant (UNKNOWN). */
extern Node *fw_sp_null_bool(void);

/* The members of args that are not equal() to an earlier one, in order. */
extern List *fw_sp_unique(List *args);

/*
 * AND / OR with constant folding and flattening: the absorbing constant
 * wins, the neutral one drops out, a NULL constant stays (three-valued
 * logic), nested clauses of the same kind are flattened and duplicates
 * removed.
 */
extern Node *fw_sp_and(List *args);
extern Node *fw_sp_or(List *args);

/* NOT a, folded for a constant, else pushed down (negate_clause). */
extern Node *fw_sp_not(Node *a);

/* e IS NULL (is_null) or e IS NOT NULL; e is copied. */
extern Node *fw_sp_nulltest(Node *e, bool is_null);

/* CASE WHEN cond THEN result END: result where cond is TRUE, else NULL. */
extern Node *fw_sp_case_when(Node *cond, Node *result);

/*
 * l OP r (op: eq … lte) with the operator of ltype's default B-tree
 * opfamily for (ltype, rtype); l is copied.  NULL if there is none.
 */
extern Node *fw_sp_op(Oid ltype, Oid rtype, FwOp op, Node *l, Node *r, Oid collid);

/* l = ANY(values) (in) or l <> ALL(values) (nin), values of type etype;
 * NULL if there is no such operator. */
extern Node *fw_sp_saop(Oid ltype, Oid etype, bool in, Node *l, Datum *values, int n,
						Oid collid);

/* Constants: text (default collation), numeric, numeric from its text. */
extern Node *fw_sp_text_const(const char *s, int len);
extern Node *fw_sp_numeric_const(Numeric n);
extern Numeric fw_sp_numeric_from_cstring(const char *s);

/* data::jsonb (an I/O conversion, as the cast in an index expression). */
extern Node *fw_sp_as_jsonb(Node *data);

#endif							/* FRAISEQL_WIRE_SUPPORT_NODES_H */
