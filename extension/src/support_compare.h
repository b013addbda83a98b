/*
 * support_compare.h — one comparison of a filter mapped onto the SQL
 * expression a v_ view renders its field from (support_compare.c).
 */
#ifndef FRAISEQL_WIRE_SUPPORT_COMPARE_H
#define FRAISEQL_WIRE_SUPPORT_COMPARE_H

#include "compat.h"

#include "nodes/primnodes.h"
#include "utils/jsonb.h"

#include "filter.h"

/*
 * The comparison n (not exists) on the field whose value the view renders
 * from e: SQL with the filter's three-valued result on every row, or NULL
 * when it must stay in matches().  positive: UNKNOWN may read as FALSE (the
 * node reaches the result through AND and OR only).  as_timestamptz is
 * fraiseql_wire.as_timestamptz(jsonb), or InvalidOid.
 */
extern Node *fw_sp_map_field(Node *e, const FwNode *n, Oid as_timestamptz, bool positive);

/* The elements of an array operand (in, nin), nested containers as
 * jbvBinary; NULL (*count = 0) when the operand is not an array. */
extern JsonbValue *fw_sp_operand_elems(const FwNode *n, int *count);

#endif							/* FRAISEQL_WIRE_SUPPORT_COMPARE_H */
