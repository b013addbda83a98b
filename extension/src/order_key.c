/*
 * order_key.c — sort keys of a JSON document, and ORDER BY on index columns.
 *
 * fraiseql_wire.sort_key_numeric/_text/_boolean(data, VARIADIC path) are the
 * typed values the client orders by (docs/pushdown.md, "ORDER BY"): the
 * number, the value as text (as ->> gives it) or the boolean at a field
 * path, NULL when the field is missing, JSON null or of another JSON type.
 *
 * Evaluated on the document they cannot use an index, so the planner gets
 * help in two steps:
 *
 * Simplify (support function): when `data` is the inlined document of a v_
 *   view and the path is a constant, the field is traced back to the SQL
 *   expression that renders it (support_viewdoc.c, fw_trace_view_field).
 *   When the key provably equals that expression — an integer column for a
 *   numeric key, text/varchar for a text key, boolean for a boolean key, with
 *   NULL exactly where the key is NULL — the call becomes the expression.  A text
 *   key keeps its collation (COLLATE "C" from the client: code point order),
 *   so only an index with that collation serves it.  A numeric key must keep
 *   its type numeric here, so an integer column becomes
 *   fraiseql_wire.sort_key_of(column), which is column::numeric.
 *
 * get_relation_info_hook: the sort key of a plain top-level ORDER BY that is
 *   exactly sort_key_of(integer expression) is replaced by the expression itself,
 *   ordered with the integer type's own B-tree operators (same order, same
 *   NULL placement), before the planner computes the query's pathkeys — so
 *   the column's B-tree index provides the order and a LIMIT stops early.
 *   The hook runs for every base relation the planner opens, after
 *   expression preprocessing: the Simplify step that creates sort_key_of()
 *   has loaded this library by then, even in a fresh session.
 *
 * Never mapped (they stay a Sort over the document's value): numeric,
 * float and other columns for a numeric key (numeric renders NaN and
 * Infinity as JSON strings, floats are not numerics), nested jsonb values,
 * anything the view computes with a volatile function.
 */
#include "compat.h"

#include "access/stratnum.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/plancat.h"
#include "optimizer/tlist.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include "guc.h"
#include "order_key.h"
#include "support_viewdoc.h"

PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_numeric);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_numeric_json);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_text);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_text_json);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_boolean);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_boolean_json);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_of);
PG_FUNCTION_INFO_V1(fraiseql_wire_sort_key_support);

/* ------------------------------------------------------------ evaluation */

/*
 * The value at path (object keys from the root, as data->k1->k2), or false
 * when a key is missing, NULL, or a step is not an object.  An empty path is
 * the document itself.
 */
static bool
ok_find(Jsonb *jb, ArrayType *path, JsonbValue *out)
{
	Datum	   *keys;
	bool	   *nulls;
	int			nkeys;
	JsonbContainer *c = &jb->root;

	deconstruct_array(path, TEXTOID, -1, false, TYPALIGN_INT, &keys, &nulls, &nkeys);
	if (nkeys == 0)
	{
		if (JB_ROOT_IS_SCALAR(jb))
			return JsonbExtractScalar(c, out);
		out->type = jbvBinary;
		out->val.binary.data = c;
		out->val.binary.len = VARSIZE(jb) - VARHDRSZ;
		return true;
	}
	for (int i = 0; i < nkeys; i++)
	{
		text	   *key;
		JsonbValue *v;

		if (nulls[i] || !JsonContainerIsObject(c))
			return false;
		key = DatumGetTextPP(keys[i]);
		v = getKeyJsonValueFromContainer(c, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), NULL);
		if (v == NULL)
			return false;
		if (i == nkeys - 1)
		{
			*out = *v;
			return true;
		}
		if (v->type != jbvBinary)
			return false;
		c = v->val.binary.data;
	}
	return false;
}

/* A json document is read as data::jsonb (the last of duplicate keys wins). */
static Jsonb *
ok_json_as_jsonb(text *json)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(json))));
}

static Datum
ok_numeric(FunctionCallInfo fcinfo, Jsonb *jb)
{
	JsonbValue	v;

	if (!ok_find(jb, PG_GETARG_ARRAYTYPE_P(1), &v) || v.type != jbvNumeric)
		PG_RETURN_NULL();
	/* v points into the document: the result must outlive it */
	PG_RETURN_NUMERIC(DatumGetNumericCopy(NumericGetDatum(v.val.numeric)));
}

/* The value as text, as ->> renders it; NULL for JSON null. */
static Datum
ok_text(FunctionCallInfo fcinfo, Jsonb *jb)
{
	JsonbValue	v;

	if (!ok_find(jb, PG_GETARG_ARRAYTYPE_P(1), &v))
		PG_RETURN_NULL();
	switch (v.type)
	{
		case jbvString:
			PG_RETURN_TEXT_P(cstring_to_text_with_len(v.val.string.val, v.val.string.len));
		case jbvNumeric:
			PG_RETURN_TEXT_P(cstring_to_text(DatumGetCString(DirectFunctionCall1(numeric_out,
																				 NumericGetDatum(v.val.numeric)))));
		case jbvBool:
			PG_RETURN_TEXT_P(cstring_to_text(v.val.boolean ? "true" : "false"));
		case jbvBinary:
			PG_RETURN_TEXT_P(cstring_to_text(JsonbToCString(NULL, v.val.binary.data,
															v.val.binary.len)));
		default:
			PG_RETURN_NULL();
	}
}

static Datum
ok_boolean(FunctionCallInfo fcinfo, Jsonb *jb)
{
	JsonbValue	v;

	if (!ok_find(jb, PG_GETARG_ARRAYTYPE_P(1), &v) || v.type != jbvBool)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(v.val.boolean);
}

Datum
fraiseql_wire_sort_key_numeric(PG_FUNCTION_ARGS)
{
	return ok_numeric(fcinfo, PG_GETARG_JSONB_P(0));
}

Datum
fraiseql_wire_sort_key_numeric_json(PG_FUNCTION_ARGS)
{
	return ok_numeric(fcinfo, ok_json_as_jsonb(PG_GETARG_TEXT_PP(0)));
}

Datum
fraiseql_wire_sort_key_text(PG_FUNCTION_ARGS)
{
	return ok_text(fcinfo, PG_GETARG_JSONB_P(0));
}

Datum
fraiseql_wire_sort_key_text_json(PG_FUNCTION_ARGS)
{
	return ok_text(fcinfo, ok_json_as_jsonb(PG_GETARG_TEXT_PP(0)));
}

Datum
fraiseql_wire_sort_key_boolean(PG_FUNCTION_ARGS)
{
	return ok_boolean(fcinfo, PG_GETARG_JSONB_P(0));
}

Datum
fraiseql_wire_sort_key_boolean_json(PG_FUNCTION_ARGS)
{
	return ok_boolean(fcinfo, ok_json_as_jsonb(PG_GETARG_TEXT_PP(0)));
}

/* sort_key_of(int2|int4|int8): the integer as numeric. */
Datum
fraiseql_wire_sort_key_of(PG_FUNCTION_ARGS)
{
	int64		v;

	switch (get_fn_expr_argtype(fcinfo->flinfo, 0))
	{
		case INT2OID:
			v = PG_GETARG_INT16(0);
			break;
		case INT4OID:
			v = PG_GETARG_INT32(0);
			break;
		case INT8OID:
			v = PG_GETARG_INT64(0);
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("fraiseql_wire.sort_key_of() takes smallint, integer or bigint"),
					 errdetail("The argument type could not be determined or is not an integer type.")));
			v = 0;				/* keep the compiler quiet */
	}
	PG_RETURN_NUMERIC(int64_to_numeric(v));
}

/* --------------------------------------------------------------- Simplify */

static bool
ok_is_int(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* The keys of a constant text[] path without NULLs; false otherwise. */
static bool
ok_const_path(Node *path, char ***keys, int *nkeys)
{
	Const	   *c;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (!IsA(path, Const))
		return false;
	c = (Const *) path;
	if (c->constisnull || c->consttype != TEXTARRAYOID)
		return false;
	deconstruct_array(DatumGetArrayTypeP(c->constvalue), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	*keys = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			return false;
		(*keys)[i] = TextDatumGetCString(elems[i]);
	}
	*nkeys = n;
	return true;
}

static Node *
ok_simplify(SupportRequestSimplify *req)
{
	FuncExpr   *f = req->fcall;
	Node	   *data;
	Node	   *e = NULL;
	char	  **keys;
	int			nkeys;
	Oid			etype;

	if (!fw_enable_rewrite || list_length(f->args) != 2)
		return NULL;
	data = linitial(f->args);
	if (!ok_const_path(lsecond(f->args), &keys, &nkeys))
		return NULL;

	switch (fw_trace_view_field(data, keys, nkeys, &e))
	{
		case FW_FIELD_UNKNOWN:
			return NULL;
		case FW_FIELD_MISSING:
			/* the view never has the field: every key is NULL */
			return (Node *) makeNullConst(f->funcresulttype, -1, f->funccollid);
		case FW_FIELD_VALUE:
			break;
	}

	etype = exprType(e);
	switch (f->funcresulttype)
	{
		case NUMERICOID:
			/* an integer renders as a JSON number, NULL as JSON null */
			if (ok_is_int(etype))
			{
				Oid			argtypes[1] = {etype};
				char	   *nsp = get_namespace_name(get_func_namespace(f->funcid));
				Oid			of;

				if (nsp == NULL)
					return NULL;
				of = LookupFuncName(list_make2(makeString(nsp), makeString(pstrdup("sort_key_of"))),
									1, argtypes, true);
				if (!OidIsValid(of))
					return NULL;
				return (Node *) makeFuncExpr(of, NUMERICOID, list_make1(copyObject(e)),
											 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
			}
			break;
		case TEXTOID:
			/* a text value renders as a JSON string that ->> gives back */
			if (etype == TEXTOID && exprCollation(e) == f->funccollid)
				return copyObject(e);
			if (etype == TEXTOID || etype == VARCHAROID)
				return (Node *) makeRelabelType((Expr *) copyObject(e), TEXTOID, -1, f->funccollid,
												COERCE_IMPLICIT_CAST);
			break;
		case BOOLOID:
			if (etype == BOOLOID)
				return copyObject(e);
			break;
		default:
			break;
	}
	return NULL;
}

Datum
fraiseql_wire_sort_key_support(PG_FUNCTION_ARGS)
{
	Node	   *req = (Node *) PG_GETARG_POINTER(0);

	if (IsA(req, SupportRequestSimplify))
		PG_RETURN_POINTER(ok_simplify((SupportRequestSimplify *) req));
	PG_RETURN_POINTER(NULL);
}

/* ------------------------------------------------- ORDER BY on the column */

static get_relation_info_hook_type ok_prev_relation_info_hook = NULL;

/* fraiseql_wire.sort_key_of(), recognised by its C entry point. */
static bool
ok_is_sort_key_of(Oid funcid)
{
	FmgrInfo	fi;

	fmgr_info(funcid, &fi);
	return fi.fn_addr == fraiseql_wire_sort_key_of;
}

/*
 * ORDER BY sort_key_of(e) [DESC] [NULLS …] becomes ORDER BY e with e's own
 * B-tree operators: sort_key_of(e) is e::numeric, an order-preserving,
 * NULL-preserving map.  Only keys that nothing else reads (resjunk, no
 * DISTINCT, GROUP BY, window or set operation can refer to them).
 */
static void
ok_order_by_columns(PlannerInfo *root)
{
	Query	   *q = root->parse;
	List	   *tlist;
	ListCell   *lc;
	Oid			numeric_opf = InvalidOid;

	if (q == NULL || q->commandType != CMD_SELECT || q->sortClause == NIL)
		return;
	if (q->setOperations != NULL || q->groupClause != NIL || q->groupingSets != NIL ||
		q->distinctClause != NIL || q->windowClause != NIL || q->hasAggs || q->hasTargetSRFs)
		return;
	tlist = root->processed_tlist != NIL ? root->processed_tlist : q->targetList;

	foreach(lc, q->sortClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, tlist);
		FuncExpr   *f;
		Node	   *arg;
		Oid			argtype;
		Oid			opf;
		Oid			opcintype;
		int16		strategy;
		TypeCacheEntry *tc;
		Oid			sortop;
		Oid			eqop;

		if (!tle->resjunk || !IsA(tle->expr, FuncExpr))
			continue;
		f = (FuncExpr *) tle->expr;
		if (f->funcresulttype != NUMERICOID || list_length(f->args) != 1)
			continue;
		arg = linitial(f->args);
		argtype = exprType(arg);
		if (!ok_is_int(argtype) || !ok_is_sort_key_of(f->funcid))
			continue;
		if (!OidIsValid(numeric_opf))
			numeric_opf = lookup_type_cache(NUMERICOID, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
		if (!get_ordering_op_properties(sgc->sortop, &opf, &opcintype, &strategy) ||
			opf != numeric_opf || opcintype != NUMERICOID)
			continue;
		tc = lookup_type_cache(argtype, TYPECACHE_BTREE_OPFAMILY);
		if (!OidIsValid(tc->btree_opf))
			continue;
		sortop = get_opfamily_member(tc->btree_opf, argtype, argtype, strategy);
		eqop = get_opfamily_member(tc->btree_opf, argtype, argtype, BTEqualStrategyNumber);
		if (!OidIsValid(sortop) || !OidIsValid(eqop))
			continue;
		sgc->sortop = sortop;
		sgc->eqop = eqop;
		sgc->hashable = op_hashjoinable(eqop, argtype);
		tle->expr = (Expr *) arg;
	}
}

static void
ok_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent, RelOptInfo *rel)
{
	if (ok_prev_relation_info_hook)
		ok_prev_relation_info_hook(root, relationObjectId, inhparent, rel);

	/*
	 * Base relations are opened before the query's pathkeys are computed
	 * (query_planner: add_base_rels_to_query, then the qp callback); child
	 * relations of inheritance trees only afterwards, too late to change
	 * the sort keys.  Only the top-level query: the output columns of a
	 * subquery, resjunk ones included, are read by the query above it with
	 * the types of the subquery's parse tree (a physical target list), so
	 * their types must not change.
	 */
	if (fw_enable_rewrite && rel->reloptkind == RELOPT_BASEREL && root != NULL &&
		root->parent_root == NULL)
		ok_order_by_columns(root);
}

void
fw_order_init(void)
{
	ok_prev_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = ok_relation_info;
}
