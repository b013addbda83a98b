/*
 * support_nodes.c — the expression nodes the planner support of
 * fraiseql_wire.matches() builds: AND/OR/NOT with constant folding, NULL
 * tests, CASE WHEN, comparisons with a type's own B-tree operators, = ANY /
 * <> ALL of an array constant, constants, data::jsonb, and the lookup of
 * the extension's own functions next to a known one.
 *
 * Every node is built in CurrentMemoryContext; nothing here reads a filter
 * or a document.
 */
#include "compat.h"

#include "access/stratnum.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "strmap.h"
#include "support_nodes.h"

/* ------------------------------------------------------------------ lookups */

/* A function of the extension's schema, found next to a known one. */
Oid
fw_sp_sibling_func(Oid sibling, const char *name, int nargs, const Oid *argtypes)
{
	char	   *nspname = get_namespace_name(get_func_namespace(sibling));

	if (nspname == NULL)
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(nspname), makeString(pstrdup(name))),
						  nargs, argtypes, true);
}

Oid
fw_sp_matches_jsonb(Oid sibling)
{
	Oid			args[2] = {JSONBOID, JSONBOID};

	return fw_sp_sibling_func(sibling, "matches", 2, args);
}

/* ------------------------------------------------------------ node builders */

Node *
fw_sp_null_bool(void)
{
	return makeBoolConst(false, true);
}

static bool
sp_is_bool_const(Node *n, bool value)
{
	return IsA(n, Const) && !((Const *) n)->constisnull &&
		DatumGetBool(((Const *) n)->constvalue) == value;
}

/*
 * The members of args that are not equal() to an earlier one, in order.  A
 * short list is compared pairwise; a long one (an "or" of thousands of
 * arms) through a hash of each node's serialisation, so that it stays
 * linear: equal serialisations are equal nodes (checked), and equal nodes
 * that serialise differently (locations) are merely kept twice.
 */
#define SP_DEDUP_PAIRWISE 16

List *
fw_sp_unique(List *args)
{
	List	   *out = NIL;
	ListCell   *lc;
	FwStrMap   *seen;

	if (list_length(args) <= SP_DEDUP_PAIRWISE)
	{
		foreach(lc, args)
			out = list_append_unique(out, lfirst(lc));
		return out;
	}
	seen = fw_strmap_create(list_length(args));
	foreach(lc, args)
	{
		Node	   *a = lfirst(lc);
		char	   *text = nodeToString(a);
		int			len = strlen(text);
		Node	   *first;

		CHECK_FOR_INTERRUPTS();
		first = fw_strmap_lookup(seen, text, len);
		if (first == NULL)
		{
			/* kept at its size: nodeToString's buffer is 1 kB or more */
			char	   *key = pnstrdup(text, len);
			bool		found;

			*fw_strmap_insert(seen, key, len, &found) = a;
		}
		pfree(text);
		if (first != NULL && equal(first, a))
			continue;
		out = lappend(out, a);
	}
	return out;
}

/*
 * AND (is_and) or OR with constant folding and flattening: the absorbing
 * constant (FALSE for AND, TRUE for OR) wins, the neutral one drops out, a
 * NULL constant stays (three-valued logic), nested clauses of the same kind
 * are flattened and duplicates removed.
 */
static Node *
sp_bool(List *args, bool is_and)
{
	List	   *flat = NIL;
	List	   *out;
	ListCell   *lc;

	foreach(lc, args)
	{
		Node	   *a = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (sp_is_bool_const(a, !is_and))
			return makeBoolConst(!is_and, false);
		if (sp_is_bool_const(a, is_and))
			continue;
		if (is_and ? is_andclause(a) : is_orclause(a))
			flat = list_concat(flat, ((BoolExpr *) a)->args);
		else
			flat = lappend(flat, a);
	}
	out = fw_sp_unique(flat);
	if (out == NIL)
		return makeBoolConst(is_and, false);
	if (list_length(out) == 1)
		return linitial(out);
	return (Node *) (is_and ? make_andclause(out) : make_orclause(out));
}

Node *
fw_sp_and(List *args)
{
	return sp_bool(args, true);
}

Node *
fw_sp_or(List *args)
{
	return sp_bool(args, false);
}

Node *
fw_sp_not(Node *a)
{
	if (IsA(a, Const))
	{
		Const	   *c = (Const *) a;

		if (c->constisnull)
			return a;
		return makeBoolConst(!DatumGetBool(c->constvalue), false);
	}
	/* NOT (x < c) is x >= c, De Morgan through AND/OR: all three-valued */
	return negate_clause(a);
}

Node *
fw_sp_nulltest(Node *e, bool is_null)
{
	NullTest   *nt = makeNode(NullTest);

	nt->arg = (Expr *) copyObject(e);
	nt->nulltesttype = is_null ? IS_NULL : IS_NOT_NULL;
	nt->argisrow = false;
	nt->location = -1;
	return (Node *) nt;
}

/* CASE WHEN cond THEN result END: result where cond is TRUE, else NULL. */
Node *
fw_sp_case_when(Node *cond, Node *result)
{
	CaseExpr   *ce = makeNode(CaseExpr);
	CaseWhen   *cw = makeNode(CaseWhen);

	cw->expr = (Expr *) cond;
	cw->result = (Expr *) result;
	cw->location = -1;
	ce->casetype = BOOLOID;
	ce->casecollid = InvalidOid;
	ce->arg = NULL;
	ce->args = list_make1(cw);
	ce->defresult = (Expr *) fw_sp_null_bool();
	ce->location = -1;
	return (Node *) ce;
}

static int
sp_strategy(FwOp op)
{
	switch (op)
	{
		case FW_OP_LT:
			return BTLessStrategyNumber;
		case FW_OP_LTE:
			return BTLessEqualStrategyNumber;
		case FW_OP_GT:
			return BTGreaterStrategyNumber;
		case FW_OP_GTE:
			return BTGreaterEqualStrategyNumber;
		default:
			return BTEqualStrategyNumber;	/* eq; neq is its negator */
	}
}

/* The B-tree operator of ltype's default opfamily for op (eq … lte). */
static Oid
sp_btree_op(Oid ltype, Oid rtype, FwOp op)
{
	TypeCacheEntry *tc = lookup_type_cache(ltype, TYPECACHE_BTREE_OPFAMILY);
	Oid			opno;

	if (!OidIsValid(tc->btree_opf))
		return InvalidOid;
	opno = get_opfamily_member(tc->btree_opf, ltype, rtype, sp_strategy(op));
	if (OidIsValid(opno) && op == FW_OP_NEQ)
		opno = get_negator(opno);
	return opno;
}

/* l OP r with ltype's own B-tree operator; NULL if there is none. */
Node *
fw_sp_op(Oid ltype, Oid rtype, FwOp op, Node *l, Node *r, Oid collid)
{
	Oid			opno = sp_btree_op(ltype, rtype, op);
	OpExpr	   *e;

	if (!OidIsValid(opno))
		return NULL;
	e = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) copyObject(l), (Expr *) r,
								 InvalidOid, collid);
	set_opfuncid(e);
	return (Node *) e;
}

/* l = ANY(values) (in) or l <> ALL(values) (nin). */
Node *
fw_sp_saop(Oid ltype, Oid etype, bool in, Node *l, Datum *values, int n, Oid collid)
{
	Oid			opno = sp_btree_op(ltype, etype, in ? FW_OP_EQ : FW_OP_NEQ);
	Oid			arrtype = get_array_type(etype);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	ArrayType  *arr;
	ScalarArrayOpExpr *s;

	if (!OidIsValid(opno) || !OidIsValid(arrtype))
		return NULL;
	get_typlenbyvalalign(etype, &typlen, &typbyval, &typalign);
	arr = construct_array(values, n, etype, typlen, typbyval, typalign);

	s = makeNode(ScalarArrayOpExpr);
	s->opno = opno;
	s->useOr = in;
	s->inputcollid = collid;
	s->args = list_make2(copyObject(l),
						 makeConst(arrtype, -1, OidIsValid(collid) ? DEFAULT_COLLATION_OID : InvalidOid,
								   -1, PointerGetDatum(arr), false, false));
	s->location = -1;
	set_sa_opfuncid(s);
	return (Node *) s;
}

Node *
fw_sp_text_const(const char *s, int len)
{
	return (Node *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
							  PointerGetDatum(cstring_to_text_with_len(s, len)), false, false);
}

Node *
fw_sp_numeric_const(Numeric n)
{
	return (Node *) makeConst(NUMERICOID, -1, InvalidOid, -1, NumericGetDatum(n), false, false);
}

Numeric
fw_sp_numeric_from_cstring(const char *s)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* data::jsonb (an I/O conversion, as the cast in an index expression) */
Node *
fw_sp_as_jsonb(Node *data)
{
	CoerceViaIO *cast = makeNode(CoerceViaIO);

	cast->arg = (Expr *) copyObject(data);
	cast->resulttype = JSONBOID;
	cast->resultcollid = InvalidOid;
	cast->coerceformat = COERCE_EXPLICIT_CAST;
	cast->location = -1;
	return (Node *) cast;
}
