/*
 * support_view.c — matches(data, filter) where data is the inlined document
 * of a v_ view: the filter translated into SQL on the view's own
 * expressions, so that the base table's B-tree indexes serve.
 *
 * The filter is first translated with its own three-valued result (filter
 * UNKNOWN = SQL NULL): every comparison whose field can be traced to an
 * expression (support_viewdoc.c) is mapped onto it (support_compare.c); the
 * children of an AND or OR that cannot are gathered into one residual
 * matches() call over a document built from the fields they read only.
 * Inside the translation a node is "positive" when its value reaches the
 * result through AND and OR only: there UNKNOWN and FALSE need not be told
 * apart, which lets guards be plain indexable conjuncts.  The result is then
 * made two-valued (support_null.c), as matches() is.
 */
#include "compat.h"

#include "catalog/pg_collation_d.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"

#include "filter.h"
#include "strmap.h"
#include "support_compare.h"
#include "support_nodes.h"
#include "support_null.h"
#include "support_view.h"
#include "support_viewdoc.h"

/* One translation of a filter over one view document. */
typedef struct SpXlate
{
	List	   *fields;			/* the view document's top-level fields */
	Oid			matches_jsonb;	/* fraiseql_wire.matches(jsonb, jsonb) */
	Oid			as_timestamptz; /* fraiseql_wire.as_timestamptz(jsonb) */
	Oid			build_collid;	/* inputcollid of the view's build call */
	bool		mapped_any;		/* some part became SQL (or a constant) */
	List	   *residual_keys;	/* top-level keys read by residual calls */
} SpXlate;

static bool
sp_str_member(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/* The filter's value when every field it names is missing. */
static Node *
sp_eval_missing(const FwNode *n)
{
	bool		unknown = false;
	bool		r = fw_filter_eval(n, NULL, &unknown);

	return unknown ? fw_sp_null_bool() : makeBoolConst(r, false);
}

/* The distinct top-level keys the filter reads, in order (seen: a set). */
static void
sp_collect_keys(const FwNode *n, List **keys, FwStrMap *seen)
{
	ListCell   *lc;
	bool		found;

	CHECK_FOR_INTERRUPTS();
	if (n->kind != FW_NODE_CMP)
	{
		foreach(lc, n->args)
			sp_collect_keys(lfirst(lc), keys, seen);
		return;
	}
	(void) fw_strmap_insert(seen, n->path[0], strlen(n->path[0]), &found);
	if (!found)
		*keys = lappend(*keys, n->path[0]);
}

static Node *
sp_matches_call(SpXlate *x, Node *doc, const FwNode *sub)
{
	return (Node *) makeFuncExpr(x->matches_jsonb, BOOLOID,
								 list_make2(copyObject(doc),
											makeConst(JSONBOID, -1, InvalidOid, -1,
													  JsonbPGetDatum(fw_filter_to_jsonb(sub)),
													  false, false)),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * matches() on a part of the filter, over a document holding only the
 * fields that part reads (a field absent from the view is absent from both).
 * matches() is FALSE on UNKNOWN, which is enough where the node is positive;
 * elsewhere the three-valued result is
 *   CASE WHEN matches(doc, sub) THEN true WHEN matches(doc, {"not": sub}) THEN false END
 */
static Node *
sp_residual(SpXlate *x, const FwNode *sub, bool positive)
{
	List	   *keys = NIL;
	List	   *args = NIL;
	ListCell   *lc;
	FuncExpr   *doc;

	sp_collect_keys(sub, &keys, fw_strmap_create(16));
	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		SpField    *f;

		CHECK_FOR_INTERRUPTS();
		f = fw_sp_field_find(x->fields, key);

		if (f == NULL)
			continue;
		args = lappend(args, fw_sp_text_const(key, strlen(key)));
		args = lappend(args, copyObject(f->expr));
		if (!sp_str_member(x->residual_keys, key))
			x->residual_keys = lappend(x->residual_keys, (void *) key);
	}
	if (args == NIL)
	{
		x->mapped_any = true;
		return sp_eval_missing(sub);
	}
	doc = makeFuncExpr(F_JSONB_BUILD_OBJECT_ANY, JSONBOID, args, InvalidOid,
					   x->build_collid, COERCE_EXPLICIT_CALL);
	if (positive)
		return sp_matches_call(x, (Node *) doc, sub);
	else
	{
		FwNode	   *not = palloc0(sizeof(FwNode));
		CaseExpr   *ce = makeNode(CaseExpr);
		CaseWhen   *w1 = makeNode(CaseWhen);
		CaseWhen   *w2 = makeNode(CaseWhen);

		not->kind = FW_NODE_NOT;
		not->args = list_make1((void *) sub);
		not->json_path = "$";
		w1->expr = (Expr *) sp_matches_call(x, (Node *) doc, sub);
		w1->result = (Expr *) makeBoolConst(true, false);
		w1->location = -1;
		w2->expr = (Expr *) sp_matches_call(x, (Node *) doc, not);
		w2->result = (Expr *) makeBoolConst(false, false);
		w2->location = -1;
		ce->casetype = BOOLOID;
		ce->casecollid = InvalidOid;
		ce->args = list_make2(w1, w2);
		ce->defresult = (Expr *) fw_sp_null_bool();
		ce->location = -1;
		return (Node *) ce;
	}
}

static Node *
sp_residual_list(SpXlate *x, FwNodeKind kind, List *nodes, bool positive)
{
	FwNode	   *n;

	if (list_length(nodes) == 1)
		return sp_residual(x, linitial(nodes), positive);
	n = palloc0(sizeof(FwNode));
	n->kind = kind;
	n->args = nodes;
	n->json_path = "$";
	return sp_residual(x, n, positive);
}

static Node *
sp_map_cmp(SpXlate *x, const FwNode *n, bool positive)
{
	Node	   *e = NULL;
	Node	   *r;

	switch (fw_sp_resolve(x->fields, n, &e))
	{
		case SP_MISSING:
			x->mapped_any = true;
			return sp_eval_missing(n);
		case SP_OPAQUE:
			return NULL;
		case SP_VALUE:
			break;
	}

	/* every key of a built object is present, null or not */
	if (n->op == FW_OP_EXISTS)
	{
		x->mapped_any = true;
		return makeBoolConst(n->operand.val.boolean, false);
	}

	r = fw_sp_map_field(e, n, x->as_timestamptz, positive);
	if (r != NULL)
		x->mapped_any = true;
	return r;
}

/*
 * SQL with the three-valued result of the filter node, or NULL when the
 * node must stay in matches().  AND and OR always succeed: their unmapped
 * children are gathered into one residual matches() call.
 */
static Node *
sp_map_node(SpXlate *x, const FwNode *n, bool positive)
{
	ListCell   *lc;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();

	switch (n->kind)
	{
		case FW_NODE_AND:
		case FW_NODE_OR:
			{
				List	   *mapped = NIL;
				List	   *rest = NIL;

				foreach(lc, n->args)
				{
					Node	   *r = sp_map_node(x, lfirst(lc), positive);

					if (r != NULL)
						mapped = lappend(mapped, r);
					else
						rest = lappend(rest, lfirst(lc));
				}
				if (rest != NIL)
					mapped = lappend(mapped, sp_residual_list(x, n->kind, rest, positive));
				return n->kind == FW_NODE_AND ? fw_sp_and(mapped) : fw_sp_or(mapped);
			}
		case FW_NODE_NOT:
			{
				Node	   *r = sp_map_node(x, linitial(n->args), false);

				return r != NULL ? fw_sp_not(r) : NULL;
			}
		case FW_NODE_CMP:
			{
				Node	   *r = sp_map_cmp(x, n, positive);

				/* UNKNOWN reads as FALSE here, and FALSE folds away */
				if (positive && r != NULL && IsA(r, Const) && ((Const *) r)->constisnull)
					r = makeBoolConst(false, false);
				return r;
			}
	}
	return NULL;
}

Node *
fw_sp_rewrite_view(PlannerInfo *root, FuncExpr *fcall, Node *data, List *fields,
				   const FwNode *tree)
{
	Oid			jsonb_arg[1] = {JSONBOID};
	SpXlate		x;
	Node	   *r;
	ListCell   *lc;
	bool		all_residual = true;

	memset(&x, 0, sizeof(x));
	x.fields = fields;
	x.as_timestamptz = fw_sp_sibling_func(fcall->funcid, "as_timestamptz", 1, jsonb_arg);
	x.matches_jsonb = fw_sp_matches_jsonb(fcall->funcid);
	x.build_collid = IsA(data, FuncExpr) ? ((FuncExpr *) data)->inputcollid : DEFAULT_COLLATION_OID;
	if (!OidIsValid(x.matches_jsonb))
		return NULL;

	r = sp_map_node(&x, tree, true);
	if (r == NULL)
		r = sp_residual(&x, tree, true);

	/* nothing gained: the same call over the same document */
	foreach(lc, fields)
	{
		SpField    *f = lfirst(lc);

		if (!sp_str_member(x.residual_keys, f->key))
			all_residual = false;
	}
	if (!x.mapped_any && all_residual)
		return NULL;
	return fw_sp_two_valued(root, x.matches_jsonb, r);
}
