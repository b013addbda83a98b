/*
 * support.c — the planner support function of fraiseql_wire.matches().
 *
 * matches(data, filter) is evaluated in C on the whole document, which no
 * index can serve.  The support function (its SQL entry point is in
 * filter_funcs.c) gives the planner three things (docs/pushdown.md is the
 * user-facing list of rules):
 *
 * Simplify (the filter is a constant: a literal, or a parameter of a custom
 *   plan).  When `data` is the inlined jsonb_build_object()/json_build_object()
 *   of a v_ view, every field the filter names is traced back to the SQL
 *   expression that produced it, and each comparison whose meaning on the
 *   rendered JSON provably equals an SQL comparison on that expression is
 *   rewritten into it (status = 'active', score < 10), so the base table's
 *   B-tree indexes serve.  Everything else stays as matches() on the
 *   remaining part of the filter, evaluated on a document built from the
 *   fields that part names only.  When `data` is a json column, the call is
 *   rewritten onto data::jsonb so that an expression GIN index serves.
 *
 * IndexCondition (a GIN index on the data column, jsonb_ops or
 *   jsonb_path_ops): a lossy `data @> containment` condition built from the
 *   filter's top-level scalar equalities — a constant for a constant filter,
 *   fraiseql_wire.filter_containment($1) for a parameter (generic plans).
 *
 * Selectivity: the filter evaluated on the column's MCV list and histogram
 *   when there are statistics, else a structural estimate.
 *
 * The rewrite must never change the value of the call: matches() is TRUE
 * when the filter is TRUE and FALSE otherwise (UNKNOWN included; NULL only
 * for a NULL document or filter).  The filter is first translated into SQL
 * with the filter's own three-valued result (filter UNKNOWN = SQL NULL), and
 * that is then made two-valued (fw_sp_two_valued).  Anything not provably
 * equivalent stays residual.
 *
 * This file dispatches the requests and holds what they share (the parsed
 * filter); the work is done in
 *   support_viewdoc.c      a v_ view's document taken apart, field by field
 *   support_view.c         Simplify on a v_ view: the filter as SQL on its columns
 *   support_compare.c      one comparison mapped onto one column
 *   support_null.c         null-ness and the two-valued result
 *   support_gin.c          GIN containment: IndexCondition, Simplify on a tv_ table
 *   support_selectivity.c  Selectivity
 *   support_nodes.c        the expression nodes they build
 */
#include "compat.h"

#include "catalog/pg_type_d.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "utils/jsonb.h"

#include "filter.h"
#include "guc.h"
#include "support.h"
#include "support_gin.h"
#include "support_nodes.h"
#include "support_selectivity.h"
#include "support_view.h"
#include "support_viewdoc.h"

/*
 * The parsed filter of a constant, shared by the requests of one planning:
 * Simplify, IndexCondition and Selectivity all see the same filter, and a
 * large one is worth parsing once.  The cache lives in the memory context
 * the planner runs in and is forgotten when that context is reset or
 * deleted (a reset callback), so a tree is never used after it is freed,
 * nor in a context that outlives it.
 */
typedef struct SpParseCache
{
	MemoryContext cxt;			/* NULL: empty */
	Jsonb	   *filter;			/* a copy, in cxt */
	FwNode	   *tree;
	FwNode	   *folded;			/* NULL until asked for */
} SpParseCache;

static SpParseCache sp_parse_cache;

static void
sp_parse_cache_forget(void *arg)
{
	memset(&sp_parse_cache, 0, sizeof(sp_parse_cache));
}

/* The tree of a constant filter, folded (fw_filter_fold) or as written. */
FwNode *
fw_sp_parse(Const *fc, bool fold)
{
	Jsonb	   *filter = DatumGetJsonbP(fc->constvalue);
	SpParseCache *c = &sp_parse_cache;

	if (c->cxt != CurrentMemoryContext || VARSIZE(c->filter) != VARSIZE(filter) ||
		memcmp(c->filter, filter, VARSIZE(filter)) != 0)
	{
		FwNode	   *tree = fw_filter_parse(filter);
		Jsonb	   *copy;

		if (c->cxt != CurrentMemoryContext)
		{
			MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));

			/* the old context (if any) keeps its callback: harmless */
			cb->func = sp_parse_cache_forget;
			MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
		}
		copy = palloc(VARSIZE(filter));
		memcpy(copy, filter, VARSIZE(filter));
		c->cxt = CurrentMemoryContext;
		c->filter = copy;
		c->tree = tree;
		c->folded = NULL;
	}
	if (!fold)
		return c->tree;
	if (c->folded == NULL)
		c->folded = fw_filter_fold(c->tree);
	return c->folded;
}

/* matches(data::jsonb, filter) for a json column */
static Node *
sp_json_as_jsonb(FuncExpr *fcall, Node *data)
{
	Oid			mj = fw_sp_matches_jsonb(fcall->funcid);

	if (!OidIsValid(mj))
		return NULL;
	return (Node *) makeFuncExpr(mj, BOOLOID, list_make2(fw_sp_as_jsonb(data), copyObject(lsecond(fcall->args))),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

static Node *
sp_simplify(SupportRequestSimplify *req)
{
	FuncExpr   *fcall = req->fcall;
	Node	   *data;
	Node	   *filter;
	Const	   *fc;
	Oid			dtype;
	List	   *fields = NIL;
	FwNode	   *tree;

	if (!fw_enable_rewrite || list_length(fcall->args) != 2)
		return NULL;
	data = linitial(fcall->args);
	filter = lsecond(fcall->args);
	dtype = exprType(data);
	if (exprType(filter) != JSONBOID || (dtype != JSONBOID && dtype != JSONOID))
		return NULL;
	if (!IsA(filter, Const))
	{
		/*
		 * A parameter (generic plan): a json column still moves onto
		 * data::jsonb, so that IndexCondition can use an expression GIN
		 * index on it.
		 */
		if (dtype == JSONOID && IsA(data, Var))
			return sp_json_as_jsonb(fcall, data);
		return NULL;
	}
	fc = (Const *) filter;
	if (fc->constisnull)
		return NULL;

	/* folded: an "or" of eq on one field maps to one col = ANY('{…}') */
	if (fw_sp_doc_fields(data, &fields) && fw_sp_doc_is_safe(data))
	{
		tree = fw_sp_parse(fc, true);
		return fw_sp_rewrite_view(req->root, fcall, data, fields, tree);
	}

	if (IsA(data, Var))
		return fw_sp_rewrite_table(fcall, data, fw_sp_parse(fc, true));
	return NULL;
}

/* The answer to one support request of matches(), NULL for no help. */
Node *
fw_sp_matches_support(Node *req)
{
	Node	   *ret = NULL;

	if (IsA(req, SupportRequestSimplify))
		ret = sp_simplify((SupportRequestSimplify *) req);
	else if (IsA(req, SupportRequestIndexCondition))
		ret = fw_sp_index_condition((SupportRequestIndexCondition *) req);
	else if (IsA(req, SupportRequestSelectivity))
		ret = fw_sp_selectivity((SupportRequestSelectivity *) req);
	return ret;
}
