/*
 * support_null.c — null-ness and the two-valued result.
 *
 * matches() is TRUE when the filter is TRUE and FALSE otherwise (UNKNOWN
 * included), while the SQL a filter is translated into has the filter's
 * three-valued result.  r IS TRUE would be exact but hides r from the
 * index machinery, so it is pushed down through AND and OR, and a
 * comparison of e with a constant becomes "comparison AND e IS NOT NULL";
 * whatever provably cannot be NULL (a NOT NULL column no outer join nulls,
 * a NULL test, a residual call over a built document) is left as it is.
 */
#include "compat.h"

#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_operator_d.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "support_nodes.h"
#include "support_null.h"

/* What the null-ness rules need to know of the rewrite. */
typedef struct SpNullCtx
{
	PlannerInfo *root;			/* may be NULL */
	Oid			matches_jsonb;	/* fraiseql_wire.matches(jsonb, jsonb) */
} SpNullCtx;

/*
 * -1: varno is not in this join tree; 0: it is, on the nullable side of an
 * outer join; 1: it is, and no outer join nulls it.
 */
static int
sp_jointree_find(Node *jt, int varno, bool nullable)
{
	ListCell   *lc;

	if (jt == NULL)
		return -1;
	if (IsA(jt, RangeTblRef))
		return ((RangeTblRef *) jt)->rtindex == varno ? (nullable ? 0 : 1) : -1;
	if (IsA(jt, FromExpr))
	{
		foreach(lc, ((FromExpr *) jt)->fromlist)
		{
			int			r = sp_jointree_find(lfirst(lc), varno, nullable);

			if (r >= 0)
				return r;
		}
		return -1;
	}
	if (IsA(jt, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jt;
		int			r;

		r = sp_jointree_find(j->larg, varno,
							 nullable || j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL);
		if (r >= 0)
			return r;
		return sp_jointree_find(j->rarg, varno,
								nullable || j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL ||
								j->jointype == JOIN_ANTI);
	}
	return 0;
}

/* A column declared NOT NULL that no outer join or grouping set can null. */
static bool
sp_var_not_null(PlannerInfo *root, Var *v)
{
	Query	   *parse;
	RangeTblEntry *rte;
	HeapTuple	tp;
	bool		notnull;

	if (root == NULL || root->parse == NULL || v->varlevelsup != 0 || v->varattno <= 0)
		return false;
	parse = root->parse;
	if (parse->groupingSets != NIL || v->varno < 1 || v->varno > list_length(parse->rtable))
		return false;
	rte = rt_fetch(v->varno, parse->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	tp = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(v->varattno));
	if (!HeapTupleIsValid(tp))
		return false;
	notnull = ((Form_pg_attribute) GETSTRUCT(tp))->attnotnull;
	ReleaseSysCache(tp);
	return notnull && sp_jointree_find((Node *) parse->jointree, v->varno, false) == 1;
}

/* A comparison operator (B-tree member or LIKE): strict, never NULL on non-NULL input. */
static bool
sp_is_comparison_op(Oid opno)
{
	return opno == OID_TEXT_LIKE_OP || get_op_btree_interpretation(opno) != NIL;
}

/* Whether node (built here, or a view column) can never be NULL. */
static bool
sp_never_null(SpNullCtx *x, Node *node)
{
	ListCell   *lc;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Const:
			return !((Const *) node)->constisnull;
		case T_Var:
			return sp_var_not_null(x->root, (Var *) node);
		case T_RelabelType:
			return sp_never_null(x, (Node *) ((RelabelType *) node)->arg);
		case T_NullTest:
		case T_BooleanTest:
			return true;
		case T_BoolExpr:
			foreach(lc, ((BoolExpr *) node)->args)
			{
				CHECK_FOR_INTERRUPTS();
				if (!sp_never_null(x, lfirst(lc)))
					return false;
			}
			return true;
		case T_OpExpr:
			if (!sp_is_comparison_op(((OpExpr *) node)->opno))
				return false;
			foreach(lc, ((OpExpr *) node)->args)
				if (!sp_never_null(x, lfirst(lc)))
					return false;
			return true;
		case T_ScalarArrayOpExpr:
			{
				ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) node;
				Const	   *arr = lsecond(sa->args);

				return sp_is_comparison_op(sa->opno) && IsA(arr, Const) && !arr->constisnull &&
					!array_contains_nulls(DatumGetArrayTypeP(arr->constvalue)) &&
					sp_never_null(x, linitial(sa->args));
			}
		case T_FuncExpr:
			{
				FuncExpr   *f = (FuncExpr *) node;

				/* a residual call: its document is never NULL */
				if (f->funcid == x->matches_jsonb)
					return IsA(linitial(f->args), FuncExpr) &&
						((FuncExpr *) linitial(f->args))->funcid == F_JSONB_BUILD_OBJECT_ANY &&
						sp_never_null(x, lsecond(f->args));
				if (f->funcid == F_NUMERIC_INT2 || f->funcid == F_NUMERIC_INT4 ||
					f->funcid == F_NUMERIC_INT8)
					return sp_never_null(x, linitial(f->args));
				return false;
			}
		default:
			return false;
	}
}

/* A comparison of one expression with a constant: NULL exactly when it is. */
static Node *
sp_compared_expr(Node *leaf)
{
	if (IsA(leaf, OpExpr) && list_length(((OpExpr *) leaf)->args) == 2 &&
		sp_is_comparison_op(((OpExpr *) leaf)->opno) &&
		IsA(lsecond(((OpExpr *) leaf)->args), Const) &&
		!((Const *) lsecond(((OpExpr *) leaf)->args))->constisnull)
		return linitial(((OpExpr *) leaf)->args);
	if (IsA(leaf, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) leaf;
		Const	   *arr = lsecond(sa->args);

		if (sp_is_comparison_op(sa->opno) && IsA(arr, Const) && !arr->constisnull &&
			!array_contains_nulls(DatumGetArrayTypeP(arr->constvalue)))
			return linitial(sa->args);
	}
	return NULL;
}

/*
 * r IS TRUE, in a form an index can still use: (a AND b) IS TRUE is
 * (a IS TRUE) AND (b IS TRUE), the same for OR, and a comparison of e with
 * a constant is TRUE exactly when it holds and e IS NOT NULL.
 */
static Node *
sp_is_true(SpNullCtx *x, Node *r)
{
	ListCell   *lc;
	Node	   *e;

	if (IsA(r, Const))
		return ((Const *) r)->constisnull ? makeBoolConst(false, false) : r;
	if (sp_never_null(x, r))
		return r;
	if (is_andclause(r) || is_orclause(r))
	{
		bool		is_and = is_andclause(r);
		List	   *args = NIL;
		List	   *notnull = NIL;

		foreach(lc, ((BoolExpr *) r)->args)
		{
			Node	   *c = lfirst(lc);

			CHECK_FOR_INTERRUPTS();
			e = is_and ? sp_compared_expr(c) : NULL;
			if (e != NULL && !sp_never_null(x, e))
			{
				args = lappend(args, c);
				notnull = lappend(notnull, e);
			}
			else
				args = lappend(args, sp_is_true(x, c));
		}
		foreach(lc, fw_sp_unique(notnull))
			args = lappend(args, fw_sp_nulltest(lfirst(lc), false));
		return is_and ? fw_sp_and(args) : fw_sp_or(args);
	}
	e = sp_compared_expr(r);
	if (e != NULL)
		return fw_sp_and(list_make2(r, fw_sp_nulltest(e, false)));
	{
		BooleanTest *bt = makeNode(BooleanTest);

		bt->arg = (Expr *) r;
		bt->booltesttype = IS_TRUE;
		bt->location = -1;
		return (Node *) bt;
	}
}

/*
 * The two-valued form of r (what the filter's three-valued result is
 * turned into for matches()); root (may be NULL) tells which columns a
 * NOT NULL constraint keeps non-NULL, matches_jsonb which calls are
 * residual matches() over a built document.
 */
Node *
fw_sp_two_valued(PlannerInfo *root, Oid matches_jsonb, Node *r)
{
	SpNullCtx	x;

	x.root = root;
	x.matches_jsonb = matches_jsonb;
	return sp_is_true(&x, r);
}
