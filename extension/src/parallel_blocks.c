/*
 * parallel_blocks.c — fraiseql_wire.in_blocks(doc, lower_bound, upper_bound):
 * a part of a parallel stream as a block range of the table its documents
 * come from.
 *
 * parallel_parts() splits a tv_ table, or the source table of a v_ view, into
 * block ranges; the client reads part i with
 *
 *     SELECT data FROM <relation> WHERE fraiseql_wire.in_blocks(data, $lo, $hi)
 *
 * A v_ view has no ctid column to compare, but once the planner has pulled
 * the view up, its document is an expression over the columns of the
 * source table.  The planner support function (Simplify) finds that table
 * from the document's column references and replaces the call with
 *
 *     <table>.ctid >= lo AND <table>.ctid < hi       (a NULL bound: no limit)
 *
 * which the planner reads with a TID Range Scan of those blocks only
 * (scan_ring.c gives it the bulk-read ring).  The meaning of the call: the
 * row of that table the document was built from lies in the range.  Every
 * output row of a query whose document is built from one table's columns
 * comes from exactly one row of that table (a pulled-up view has no
 * grouping, DISTINCT or set-returning target list; joins keep one row of
 * each side per output row), so the ranges of parallel_parts() — disjoint,
 * and together everything — split the query's rows exactly.
 *
 * The call is rewritten only when every column reference of the document
 * (outside sub-selects) is a column of one table or materialized view of
 * the query's own range table, with no aggregate, window function or
 * placeholder in between.  Anything else is left alone and the function,
 * if executed, raises an error (0A000): it has no meaning it could compute
 * from the document's value.
 */
#include "compat.h"

#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "storage/itemptr.h"
#include "utils/lsyscache.h"

/* What the document's column references name. */
typedef struct PbRefs
{
	Index		varno;			/* the one range-table entry, 0 = none yet */
	bool		ok;				/* false: more than one, or not a plain column */
} PbRefs;

static bool
pb_refs_walker(Node *node, PbRefs *refs)
{
	if (node == NULL || !refs->ok)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if (v->varlevelsup != 0)
			return false;		/* a column of an outer query: a constant here */
		if (refs->varno == 0)
			refs->varno = v->varno;
		else if (refs->varno != v->varno)
			refs->ok = false;
		return false;
	}
	if (IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, PlaceHolderVar) ||
		IsA(node, GroupingFunc) || IsA(node, SubPlan) || IsA(node, AlternativeSubPlan))
	{
		refs->ok = false;
		return false;
	}
	if (IsA(node, SubLink))
		/* The sub-select is another query level; its test expression is ours. */
		return pb_refs_walker(((SubLink *) node)->testexpr, refs);
	return expression_tree_walker(node, pb_refs_walker, (void *) refs);
}

static Const *
pb_tid_const(BlockNumber block, OffsetNumber offset)
{
	ItemPointer tid = palloc(sizeof(ItemPointerData));

	ItemPointerSet(tid, block, offset);
	return makeConst(TIDOID, -1, InvalidOid, sizeof(ItemPointerData), PointerGetDatum(tid),
					 false, false);
}

/*
 * ctid <op> bound, or NULL when the bound is a NULL constant (no limit).  A
 * bound not known at planning (a parameter of a generic plan) becomes
 * COALESCE(bound, unbounded), which the TID Range Scan evaluates at start.
 */
static Expr *
pb_bound(Var *ctid, Oid opno, Node *bound, Const *unbounded)
{
	OpExpr	   *op;

	if (IsA(bound, Const))
	{
		if (((Const *) bound)->constisnull)
			return NULL;
	}
	else
	{
		CoalesceExpr *c = makeNode(CoalesceExpr);

		c->coalescetype = TIDOID;
		c->coalescecollid = InvalidOid;
		c->args = list_make2(bound, unbounded);
		c->location = -1;
		bound = (Node *) c;
	}
	op = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) copyObject(ctid),
								  (Expr *) bound, InvalidOid, InvalidOid);
	set_opfuncid(op);
	return (Expr *) op;
}

static Node *
pb_simplify(SupportRequestSimplify *req)
{
	FuncExpr   *f = req->fcall;
	PbRefs		refs = {0, true};
	RangeTblEntry *rte;
	Var		   *ctid;
	List	   *quals = NIL;
	Expr	   *q;

	if (req->root == NULL || list_length(f->args) != 3)
		return NULL;
	pb_refs_walker(linitial(f->args), &refs);
	if (!refs.ok || refs.varno == 0 || refs.varno > (Index) list_length(req->root->parse->rtable))
		return NULL;
	rte = rt_fetch(refs.varno, req->root->parse->rtable);
	if (rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW))
		return NULL;

	ctid = makeVar(refs.varno, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0);
	if ((q = pb_bound(ctid, TIDGreaterEqOperator, lsecond(f->args), pb_tid_const(0, 0))) != NULL)
		quals = lappend(quals, q);
	/* No tuple has block InvalidBlockNumber: below it is everything. */
	if ((q = pb_bound(ctid, TIDLessOperator, lthird(f->args),
					  pb_tid_const(InvalidBlockNumber, 0))) != NULL)
		quals = lappend(quals, q);
	if (quals == NIL)
		return (Node *) makeBoolConst(true, false);
	if (list_length(quals) == 1)
		return (Node *) linitial(quals);
	return (Node *) make_andclause(quals);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_in_blocks_support);

Datum
fraiseql_wire_in_blocks_support(PG_FUNCTION_ARGS)
{
	Node	   *req = (Node *) PG_GETARG_POINTER(0);

	if (IsA(req, SupportRequestSimplify))
		PG_RETURN_POINTER(pb_simplify((SupportRequestSimplify *) req));
	PG_RETURN_POINTER(NULL);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_in_blocks);

Datum
fraiseql_wire_in_blocks(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("fraiseql_wire.in_blocks() must be planned on the columns of one table"),
			 errdetail("The planner replaces the call by a condition on the ctid of the one table "
					   "or materialized view whose columns its first argument is built from; "
					   "this call's first argument is not built from one such table."),
			 errhint("Pass the data column of a tv_ table or of a v_ view over one source table, "
					 "in the WHERE clause of the query that reads it.")));
	PG_RETURN_NULL();
}
