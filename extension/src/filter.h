/*
 * filter.h — the filter language: parsed form, parser, evaluator, SQL renderer.
 *
 * One semantics everywhere (docs/filters.md): the tree built by
 * fw_filter_parse() is what fraiseql_wire.matches() evaluates (filter_eval.c),
 * what fraiseql_wire.where_sql() renders (filter_sql.c) and what the planner
 * support function rewrites (support.c and support_*.c).
 *
 * A filter is parsed once and is immutable afterwards; every node lives in
 * the memory context that was current during fw_filter_parse().
 */
#ifndef FRAISEQL_WIRE_FILTER_H
#define FRAISEQL_WIRE_FILTER_H

#include "compat.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef enum FwNodeKind
{
	FW_NODE_AND,				/* all of args; an empty AND is TRUE */
	FW_NODE_OR,					/* any of args; an empty OR is FALSE */
	FW_NODE_NOT,				/* linitial(args) negated (UNKNOWN stays UNKNOWN) */
	FW_NODE_CMP					/* one operator applied to one field */
} FwNodeKind;

typedef enum FwOp
{
	/* comparison */
	FW_OP_EQ, FW_OP_NEQ, FW_OP_GT, FW_OP_GTE, FW_OP_LT, FW_OP_LTE,
	/* lists */
	FW_OP_IN, FW_OP_NIN,
	/* null / presence (never UNKNOWN) */
	FW_OP_ISNULL, FW_OP_EXISTS,
	/* strings (contains is also JSONB containment on arrays/objects) */
	FW_OP_CONTAINS, FW_OP_STARTSWITH, FW_OP_ENDSWITH,
	FW_OP_ICONTAINS, FW_OP_ISTARTSWITH, FW_OP_IENDSWITH,
	FW_OP_LIKE, FW_OP_ILIKE, FW_OP_MATCHES, FW_OP_IMATCHES,
	/* jsonb */
	FW_OP_CONTAINED_BY, FW_OP_OVERLAPS,
	FW_OP_HAS_KEY, FW_OP_HAS_ANY_KEYS, FW_OP_HAS_ALL_KEYS,
	FW_OP_LEN_EQ, FW_OP_LEN_NEQ, FW_OP_LEN_GT, FW_OP_LEN_GTE, FW_OP_LEN_LT, FW_OP_LEN_LTE,
	FW_OP__COUNT
} FwOp;

/* "type" of an operator object: both sides cast before comparing. */
typedef enum FwCastType
{
	FW_CAST_NONE = 0,
	FW_CAST_NUMERIC, FW_CAST_TEXT, FW_CAST_BOOLEAN, FW_CAST_UUID,
	FW_CAST_DATE, FW_CAST_TIMESTAMP, FW_CAST_TIMESTAMPTZ
} FwCastType;

typedef struct FwNode
{
	FwNodeKind	kind;
	List	   *args;			/* AND/OR: FwNode *s; NOT: one FwNode * */

	/* FW_NODE_CMP only: */
	int			npath;			/* field path from the document root, >= 1 */
	char	  **path;			/* npath NUL-terminated keys */
	FwOp		op;
	FwCastType	cast;
	/*
	 * The operand as it was written: a scalar, array or object (never JSON
	 * null).  in/nin/has_any_keys/has_all_keys: an array.  isnull/exists: a
	 * boolean.  len_*: a non-negative integer.  Stored as a JsonbValue that
	 * owns its data (jbvBinary for arrays/objects, pointing at operand_jsonb).
	 */
	JsonbValue	operand;
	Jsonb	   *operand_jsonb;	/* the operand as a standalone jsonb datum */

	const char *json_path;		/* "$.author.name.eq", for messages */

	/*
	 * Derived from the operand by fw_filter_parse() so that evaluation does
	 * no per-row work on the filter (fw_filter_to_jsonb ignores them):
	 *   elems/nelems   in, nin, overlaps, has_any_keys, has_all_keys: the
	 *                  operand array's elements (jbvBinary for nested
	 *                  arrays/objects, pointing into operand_jsonb)
	 *   cast_values    cast != NONE: the operand cast to the SQL type, one
	 *                  Datum (eq … lte) or nelems Datums (in, nin)
	 *   folded         icontains, istartswith, iendswith: the operand
	 *                  lower()ed with the database's default collation
	 *   len_value      len_*: the operand
	 * A node built by hand (planner support) must fill them the same way;
	 * fw_filter_parse(fw_filter_to_jsonb(node)) is the easy way.
	 */
	int			nelems;
	JsonbValue *elems;
	Datum	   *cast_values;
	char	   *folded;
	int			folded_len;
	int32		len_value;
} FwNode;

/* The operator's name as written in filters ("eq", "icontains", …). */
extern const char *fw_op_name(FwOp op);
extern const char *fw_cast_name(FwCastType cast);

/* The operator named by key[0..len), or FW_OP__COUNT if there is none. */
extern FwOp fw_op_lookup(const char *key, int len);

/* Whether "type" may accompany the operator (eq … lte, in, nin). */
extern bool fw_op_allows_cast(FwOp op);

/*
 * Casts one JSON value (a string, number or boolean; anything else does not
 * cast) to the SQL type of `cast`.  Never raises an error: a value that does
 * not cast returns false.  The accepted text forms are strict (see
 * docs/filters.md) so that the type's input function cannot fail.  The Datum
 * is palloc'd in CurrentMemoryContext where it is by reference.
 */
extern bool fw_cast_value(FwCastType cast, const JsonbValue *v, Datum *out);

/* <0, 0, >0 for two Datums produced by fw_cast_value with the same cast. */
extern int	fw_cast_compare(FwCastType cast, Datum a, Datum b);

/* Whole-value JSON equality (jsonb's =): types must match, numbers compare
 * numerically, strings byte-wise, arrays in order, objects by key. */
extern bool fw_json_values_equal(const JsonbValue *a, const JsonbValue *b);

/*
 * Parses and validates a filter document.  A bad filter (unknown operator,
 * wrong operand type, a mix of operator and field keys, …) raises
 * ERRCODE_INVALID_PARAMETER_VALUE (22023) naming the JSON path of the
 * offending part; a filter deeper or larger than
 * fraiseql_wire.max_filter_depth / max_filter_nodes raises
 * ERRCODE_PROGRAM_LIMIT_EXCEEDED (54000), checked before the oversized part
 * is read.  Allocates in CurrentMemoryContext.
 */
extern FwNode *fw_filter_parse(Jsonb *filter);

/*
 * The same filter with the comparisons of an "or" that test one field
 * (same path, same "type") with eq or in folded into one "in", and those
 * of an "and" that test one field with neq or nin into one "nin"; nested
 * "or"s in an "or" (and "and"s in an "and") are flattened first.  The
 * three-valued result is the same on every document (in is the OR of its
 * equalities, nin the AND of its inequalities).  Linear in the size of the
 * tree; unchanged sub-trees are shared with the input.  Allocates in
 * CurrentMemoryContext.
 */
extern FwNode *fw_filter_fold(FwNode *node);

/*
 * Three-valued evaluation of a parsed filter on one document:
 * returns true only when the filter is TRUE; *is_unknown (may be NULL) tells
 * FALSE from UNKNOWN.  Never runs SQL.  doc may be NULL: every field is then
 * missing (this is how the SQL renderer learns whether a filter can be TRUE
 * on an SQL NULL document).  Allocates in CurrentMemoryContext.
 */
extern bool fw_filter_eval(const FwNode *node, Jsonb *doc, bool *is_unknown);

/*
 * Renders the filter as SQL text over a jsonb expression `target` (already a
 * valid SQL expression, e.g. "data" or "t.data"); the rendered SQL returns
 * exactly the rows fw_filter_eval returns TRUE for.  palloc'd.
 */
extern char *fw_filter_to_sql(const FwNode *node, const char *target);

/* Serialises a (sub)tree back to a filter document that parses to the same
 * tree: used for residual filters in planner rewrites. */
extern Jsonb *fw_filter_to_jsonb(const FwNode *node);

/* filter_parse.c: the jsonb_typeof() name of a value ("string", "number",
 * "boolean", "object", "array", "null"). */
extern const char *fw_json_type_name(const JsonbValue *v);

/* filter_eval.c: n ASCII digits at s, and their value (for the strict
 * date/number forms shared by the evaluator and the planner support). */
extern bool fw_ascii_digits(const char *s, int n);
extern int	fw_ascii_number(const char *s, int n);

#endif							/* FRAISEQL_WIRE_FILTER_H */
