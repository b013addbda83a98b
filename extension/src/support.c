/*
 * support.c — the planner support function of fraiseql_wire.matches().
 *
 * matches(data, filter) is evaluated in C on the whole document, which no
 * index can serve.  This support function gives the planner three things
 * (docs/pushdown.md is the user-facing list of rules):
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
 * that is then made two-valued (sp_two_valued).  Inside the translation a
 * node is "positive" when its value reaches the result through AND and OR
 * only: there UNKNOWN and FALSE need not be told apart, which lets guards
 * be plain indexable conjuncts.  Anything not provably equivalent stays
 * residual.
 */
#include "compat.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_language.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/pg_locale.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/uuid.h"

#include "fraiseql_wire.h"
#include "filter.h"
#include "strmap.h"
#include "support.h"

bool		fw_enable_rewrite = true;

void
fw_support_init(void)
{
	DefineCustomBoolVariable("fraiseql_wire.enable_rewrite",
							 "Lets the planner rewrite fraiseql_wire.matches() into index-friendly SQL.",
							 "When off, matches() is planned as an opaque function call: no rewrite "
							 "onto view columns and no derived GIN index condition.",
							 &fw_enable_rewrite,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/* ------------------------------------------------------------------ lookups */

/* A function of the extension's schema, found next to a known one. */
static Oid
sp_sibling_func(Oid sibling, const char *name, int nargs, const Oid *argtypes)
{
	char	   *nspname = get_namespace_name(get_func_namespace(sibling));

	if (nspname == NULL)
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(nspname), makeString(pstrdup(name))),
						  nargs, argtypes, true);
}

static Oid
sp_matches_jsonb(Oid sibling)
{
	Oid			args[2] = {JSONBOID, JSONBOID};

	return sp_sibling_func(sibling, "matches", 2, args);
}

/* ------------------------------------------------------- small node helpers */

static Node *
sp_null_bool(void)
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

static List *
sp_unique(List *args)
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
	out = sp_unique(flat);
	if (out == NIL)
		return makeBoolConst(is_and, false);
	if (list_length(out) == 1)
		return linitial(out);
	return (Node *) (is_and ? make_andclause(out) : make_orclause(out));
}

static Node *
sp_and(List *args)
{
	return sp_bool(args, true);
}

static Node *
sp_or(List *args)
{
	return sp_bool(args, false);
}

static Node *
sp_not(Node *a)
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

static Node *
sp_nulltest(Node *e, bool is_null)
{
	NullTest   *nt = makeNode(NullTest);

	nt->arg = (Expr *) copyObject(e);
	nt->nulltesttype = is_null ? IS_NULL : IS_NOT_NULL;
	nt->argisrow = false;
	nt->location = -1;
	return (Node *) nt;
}

/* CASE WHEN cond THEN result END: result where cond is TRUE, else NULL. */
static Node *
sp_case_when(Node *cond, Node *result)
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
	ce->defresult = (Expr *) sp_null_bool();
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
static Node *
sp_op(Oid ltype, Oid rtype, FwOp op, Node *l, Node *r, Oid collid)
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
static Node *
sp_saop(Oid ltype, Oid etype, bool in, Node *l, Datum *values, int n, Oid collid)
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

static Node *
sp_text_const(const char *s, int len)
{
	return (Node *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
							  PointerGetDatum(cstring_to_text_with_len(s, len)), false, false);
}

static Node *
sp_numeric_const(Numeric n)
{
	return (Node *) makeConst(NUMERICOID, -1, InvalidOid, -1, NumericGetDatum(n), false, false);
}

static Numeric
sp_numeric_from_cstring(const char *s)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* ------------------------------------------------------------- the view doc */

/* One key of a jsonb_build_object() call and the expression of its value. */
typedef struct SpField
{
	char	   *key;
	Node	   *expr;
} SpField;

static SpField *
sp_field_find(List *fields, const char *key)
{
	ListCell   *lc;

	foreach(lc, fields)
	{
		SpField    *f = lfirst(lc);

		if (strcmp(f->key, key) == 0)
			return f;
	}
	return NULL;
}

static bool
sp_const_key(Node *n, char **key)
{
	Const	   *c;

	if (!IsA(n, Const))
		return false;
	c = (Const *) n;
	if (c->constisnull)
		return false;
	switch (c->consttype)
	{
		case TEXTOID:
		case VARCHAROID:
			*key = TextDatumGetCString(c->constvalue);
			return true;
		case UNKNOWNOID:
			*key = pstrdup(DatumGetCString(c->constvalue));
			return true;
		default:
			return false;
	}
}

/*
 * Which of the extension's document functions (document.c) funcid is, told
 * by its C symbol (the extension's schema is not fixed in C).  Planning only.
 */
typedef enum SpDocFunc
{
	SP_DOCFN_NONE,
	SP_DOCFN_DOCUMENT,			/* json_document(key, value, ...) */
	SP_DOCFN_CONCAT				/* json_document_concat(object, ...) */
} SpDocFunc;

static SpDocFunc
sp_doc_func(Oid funcid)
{
	HeapTuple	tup;
	SpDocFunc	r = SP_DOCFN_NONE;

	if (funcid < FirstNormalObjectId)
		return SP_DOCFN_NONE;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return SP_DOCFN_NONE;
	if (((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
		Datum		bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);

		if (!isnull && strstr(TextDatumGetCString(bin), "fraiseql_wire") != NULL)
		{
			char	   *sym = TextDatumGetCString(src);

			if (strcmp(sym, "fraiseql_wire_json_document") == 0)
				r = SP_DOCFN_DOCUMENT;
			else if (strcmp(sym, "fraiseql_wire_json_document_concat") == 0)
				r = SP_DOCFN_CONCAT;
		}
	}
	ReleaseSysCache(tup);
	return r;
}

/*
 * The keys and value expressions of an object built by jsonb_build_object(),
 * json_build_object(), fraiseql_wire.json_document() (the same JSON value as
 * json_build_object()), || or json_document_concat() of such objects, or a
 * json one cast to jsonb, in jsonb's sense: a later key replaces an earlier
 * one.  False when the keys cannot all be known.
 */
static bool
sp_doc_fields(Node *expr, List **fields)
{
	check_stack_depth();

	if (IsA(expr, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) expr;
		bool		is_json = f->funcid == F_JSON_BUILD_OBJECT_ANY;
		List	   *own = NIL;

		if (f->funcid != F_JSONB_BUILD_OBJECT_ANY && !is_json)
		{
			SpDocFunc	df = sp_doc_func(f->funcid);

			if (df == SP_DOCFN_CONCAT && !f->funcvariadic)
			{
				ListCell   *lc;

				foreach(lc, f->args)
					if (!sp_doc_fields(lfirst(lc), fields))
						return false;
				return true;
			}
			if (df != SP_DOCFN_DOCUMENT)
				return false;
			is_json = true;
		}
		if (f->funcvariadic || list_length(f->args) % 2 != 0)
			return false;
		for (int i = 0; i < list_length(f->args); i += 2)
		{
			char	   *key;
			SpField    *old;
			SpField    *nf;

			if (!sp_const_key(list_nth(f->args, i), &key))
				return false;
			old = sp_field_find(own, key);
			if (old != NULL)
			{
				/* json keeps both copies in its text: too subtle to trace */
				if (is_json)
					return false;
				own = list_delete_ptr(own, old);
			}
			nf = palloc(sizeof(SpField));
			nf->key = key;
			nf->expr = list_nth(f->args, i + 1);
			own = lappend(own, nf);
		}
		for (int i = 0; i < list_length(own); i++)
		{
			SpField    *nf = list_nth(own, i);
			SpField    *old = sp_field_find(*fields, nf->key);

			if (old != NULL)
				*fields = list_delete_ptr(*fields, old);
			*fields = lappend(*fields, nf);
		}
		return true;
	}
	if (IsA(expr, CoerceViaIO))
	{
		CoerceViaIO *cv = (CoerceViaIO *) expr;

		/* json_document(...)::jsonb: jsonb's reading of the json object */
		if (cv->resulttype != JSONBOID || exprType((Node *) cv->arg) != JSONOID)
			return false;
		return sp_doc_fields((Node *) cv->arg, fields);
	}
	if (IsA(expr, OpExpr))
	{
		OpExpr	   *o = (OpExpr *) expr;

		if (get_opcode(o->opno) != F_JSONB_CONCAT || list_length(o->args) != 2)
			return false;
		return sp_doc_fields(linitial(o->args), fields) &&
			sp_doc_fields(lsecond(o->args), fields);
	}
	return false;
}

typedef enum SpResolved
{
	SP_MISSING,					/* the path names no field: a constant result */
	SP_VALUE,					/* the field is the value of an expression */
	SP_OPAQUE					/* the path goes into a value we cannot see */
} SpResolved;

static SpResolved
sp_resolve(List *fields, const FwNode *n, Node **expr)
{
	List	   *level = fields;

	for (int i = 0; i < n->npath; i++)
	{
		SpField    *f = sp_field_find(level, n->path[i]);
		List	   *sub = NIL;

		if (f == NULL)
			return SP_MISSING;
		if (i == n->npath - 1)
		{
			*expr = f->expr;
			return SP_VALUE;
		}
		if (!sp_doc_fields(f->expr, &sub))
			return SP_OPAQUE;
		level = sub;
	}
	return SP_OPAQUE;
}

/* ----------------------------------------------------------- the rewriting */

/* How a column type renders in jsonb_build_object(), for our purposes. */
typedef enum SpKind
{
	SP_OTHER,
	SP_INT,						/* int2/4/8: always a JSON number */
	SP_NUMERIC,					/* a number, or "NaN"/"Infinity"/"-Infinity" */
	SP_TEXT,					/* text, varchar: a string */
	SP_BOOL,					/* true/false */
	SP_DATE,					/* ISO strings (JsonEncodeDateTime) */
	SP_TIMESTAMP,
	SP_TIMESTAMPTZ,				/* rendered in the session time zone */
	SP_UUID						/* lower-case canonical string */
} SpKind;

static SpKind
sp_kind(Oid type)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return SP_INT;
		case NUMERICOID:
			return SP_NUMERIC;
		case TEXTOID:
		case VARCHAROID:
			return SP_TEXT;
		case BOOLOID:
			return SP_BOOL;
		case DATEOID:
			return SP_DATE;
		case TIMESTAMPOID:
			return SP_TIMESTAMP;
		case TIMESTAMPTZOID:
			return SP_TIMESTAMPTZ;
		case UUIDOID:
			return SP_UUID;
		default:
			return SP_OTHER;
	}
}

typedef struct SpXlate
{
	PlannerInfo *root;			/* may be NULL */
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

	return unknown ? sp_null_bool() : makeBoolConst(r, false);
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
		f = sp_field_find(x->fields, key);

		if (f == NULL)
			continue;
		args = lappend(args, sp_text_const(key, strlen(key)));
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
		ce->defresult = (Expr *) sp_null_bool();
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

/* ---- integers */

static bool
sp_numeric_to_int8(Numeric n, int64 *out)
{
	static const char *const bounds[2] = {"-9223372036854775808", "9223372036854775807"};
	Datum		d = NumericGetDatum(n);

	if (numeric_is_nan(n) || numeric_is_inf(n))
		return false;
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, d,
										  NumericGetDatum(sp_numeric_from_cstring(bounds[0])))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, d,
										  NumericGetDatum(sp_numeric_from_cstring(bounds[1])))) > 0)
		return false;
	*out = DatumGetInt64(DirectFunctionCall1(numeric_int8, d));
	return true;
}

/*
 * An integer column against a number: the column's own integer operators
 * when the number is integral (cross-type int2/int4/int8 operators live in
 * one opfamily, so the column's index serves), a range bound rounded the
 * right way when it is not; otherwise the exact numeric comparison.
 */
static Node *
sp_map_int(Node *e, FwOp op, Numeric c)
{
	Oid			ltype = exprType(e);
	Oid			castfn;

	if (!numeric_is_nan(c) && !numeric_is_inf(c))
	{
		Numeric		fl = DatumGetNumeric(DirectFunctionCall1(numeric_floor, NumericGetDatum(c)));
		bool		integral = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(fl),
																 NumericGetDatum(c))) == 0;
		int64		i;

		if (sp_numeric_to_int8(fl, &i))
		{
			if (integral)
				return sp_op(ltype, INT8OID, op, e, (Node *) makeConst(INT8OID, -1, InvalidOid, 8,
																	   Int64GetDatum(i), false, FLOAT8PASSBYVAL),
							 InvalidOid);
			/* x < 10.5 and x <= 10.5 are x <= 10; x > 10.5 and x >= 10.5 are x >= 11 */
			if (op == FW_OP_LT || op == FW_OP_LTE)
				return sp_op(ltype, INT8OID, FW_OP_LTE, e,
							 (Node *) makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum(i), false,
												FLOAT8PASSBYVAL), InvalidOid);
			if ((op == FW_OP_GT || op == FW_OP_GTE) && i < PG_INT64_MAX)
				return sp_op(ltype, INT8OID, FW_OP_GTE, e,
							 (Node *) makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum(i + 1), false,
												FLOAT8PASSBYVAL), InvalidOid);
		}
	}
	castfn = ltype == INT2OID ? F_NUMERIC_INT2 : ltype == INT4OID ? F_NUMERIC_INT4 : F_NUMERIC_INT8;
	return sp_op(NUMERICOID, NUMERICOID, op,
				 (Node *) makeFuncExpr(castfn, NUMERICOID, list_make1(copyObject(e)), InvalidOid,
									   InvalidOid, COERCE_EXPLICIT_CAST),
				 sp_numeric_const(c), InvalidOid);
}

/* ---- guards */

/*
 * cmp where guard holds and UNKNOWN where it does not.  Where the node is
 * positive, UNKNOWN may read as FALSE, so the guard is a plain conjunct that
 * an index can use; elsewhere CASE WHEN guard THEN cmp END.
 */
static Node *
sp_guarded(Node *cmp, Node *guard, bool positive)
{
	if (cmp == NULL || guard == NULL)
		return NULL;
	if (positive)
		return sp_and(list_make2(cmp, guard));
	return sp_case_when(guard, cmp);
}

/* lo < e < hi (strict) or lo <= e <= hi, with e's own operators */
static Node *
sp_range(Oid type, Node *e, Node *lo, Node *hi, bool strict)
{
	Node	   *a = sp_op(type, type, strict ? FW_OP_GT : FW_OP_GTE, e, lo, InvalidOid);
	Node	   *b = sp_op(type, type, strict ? FW_OP_LT : FW_OP_LTE, e, hi, InvalidOid);

	if (a == NULL || b == NULL)
		return NULL;
	return sp_and(list_make2(a, b));
}

/*
 * A numeric column renders NaN and ±Infinity as JSON strings, so against a
 * number (or a "type": "numeric" operand, whose strict form has no NaN or
 * Infinity either) they are UNKNOWN while SQL would compare them.
 */
static Node *
sp_numeric_finite(Node *e)
{
	return sp_range(NUMERICOID, e, sp_numeric_const(sp_numeric_from_cstring("-Infinity")),
					sp_numeric_const(sp_numeric_from_cstring("Infinity")), true);
}

/*
 * "type": "date"/"timestamp" casts the document's string with a strict ISO
 * form of years 0001-9999: the rendering of a value outside that range
 * (infinity, BC, year 10000 on) does not cast, so the comparison is UNKNOWN
 * there.  Inside it the rendering casts back to the column's value.
 */
static Node *
sp_datetime_range(Oid type, Node *e)
{
	if (type == DATEOID)
		return sp_range(DATEOID, e,
						(Node *) makeConst(DATEOID, -1, InvalidOid, 4,
										   DirectFunctionCall1(date_in, CStringGetDatum("0001-01-01")),
										   false, true),
						(Node *) makeConst(DATEOID, -1, InvalidOid, 4,
										   DirectFunctionCall1(date_in, CStringGetDatum("9999-12-31")),
										   false, true),
						false);
	return sp_range(TIMESTAMPOID, e,
					(Node *) makeConst(TIMESTAMPOID, -1, InvalidOid, 8,
									   DirectFunctionCall3(timestamp_in, CStringGetDatum("0001-01-01 00:00:00"),
														   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)),
									   false, FLOAT8PASSBYVAL),
					(Node *) makeConst(TIMESTAMPOID, -1, InvalidOid, 8,
									   DirectFunctionCall3(timestamp_in,
														   CStringGetDatum("9999-12-31 23:59:59.999999"),
														   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)),
									   false, FLOAT8PASSBYVAL),
					false);
}

/* ---- text */

static Node *
sp_as_text(Node *e)
{
	if (exprType(e) == TEXTOID)
		return e;
	return (Node *) makeRelabelType((Expr *) copyObject(e), TEXTOID, -1, exprCollation(e),
									COERCE_IMPLICIT_CAST);
}

/*
 * Equality (and LIKE) of a deterministic collation is byte equality, so the
 * column's own collation keeps its index usable; ordering must be code point
 * order, which is the column's collation only when that is C-like.
 */
static Oid
sp_text_collation(Node *e, bool ordering)
{
	Oid			coll = exprCollation(e);

	if (!OidIsValid(coll))
		return C_COLLATION_OID;
	if (ordering)
		return lc_collate_is_c(coll) ? coll : C_COLLATION_OID;
	return get_collation_isdeterministic(coll) ? coll : C_COLLATION_OID;
}

/* e LIKE pattern, where pattern is already a LIKE pattern */
static Node *
sp_like(Node *e, const char *pattern, int len)
{
	OpExpr	   *o = (OpExpr *) make_opclause(OID_TEXT_LIKE_OP, BOOLOID, false,
											 (Expr *) copyObject(sp_as_text(e)),
											 (Expr *) sp_text_const(pattern, len),
											 InvalidOid, sp_text_collation(e, false));

	set_opfuncid(o);
	return (Node *) o;
}

static char *
sp_like_escape(const char *s, int len, bool lead, bool trail, int *outlen)
{
	StringInfoData b;

	initStringInfo(&b);
	if (lead)
		appendStringInfoChar(&b, '%');
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			appendStringInfoChar(&b, '\\');
		appendStringInfoChar(&b, s[i]);
	}
	if (trail)
		appendStringInfoChar(&b, '%');
	*outlen = b.len;
	return b.data;
}

/* ---- dates, timestamps, uuids */

/*
 * A strictly ISO "YYYY-MM-DD" (date) or "YYYY-MM-DDTHH:MM:SS[.ffffff]"
 * (timestamp) whose fields are in range, so that the input function cannot
 * fail and the value does not depend on DateStyle.
 */
static bool
sp_iso_datetime(const char *s, int len, bool with_time)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				m,
				d;

	if (len < 10 || !fw_ascii_digits(s, 4) || s[4] != '-' || !fw_ascii_digits(s + 5, 2) ||
		s[7] != '-' || !fw_ascii_digits(s + 8, 2))
		return false;
	y = fw_ascii_number(s, 4);
	m = fw_ascii_number(s + 5, 2);
	d = fw_ascii_number(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	if (!with_time)
		return len == 10;
	if (len < 19 || s[10] != 'T' || !fw_ascii_digits(s + 11, 2) || s[13] != ':' ||
		!fw_ascii_digits(s + 14, 2) || s[16] != ':' || !fw_ascii_digits(s + 17, 2))
		return false;
	if (fw_ascii_number(s + 11, 2) > 23 || fw_ascii_number(s + 14, 2) > 59 || fw_ascii_number(s + 17, 2) > 59)
		return false;
	if (len == 19)
		return true;
	return s[19] == '.' && len >= 21 && len <= 26 && fw_ascii_digits(s + 20, len - 20);
}

/*
 * Untyped eq/neq of a date or timestamp column with a string: the document
 * holds the value's ISO rendering, so the string is equal to it exactly when
 * the string is the rendering of one value v and the column equals v.
 * Returns false when that cannot be shown (the caller keeps it residual).
 */
static bool
sp_datetime_canonical(Oid type, const JsonbValue *v, Datum *out)
{
	char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
	Datum		d;
	char	   *rendered;

	if (!sp_iso_datetime(s, v->val.string.len, type == TIMESTAMPOID))
		return false;
	if (type == DATEOID)
		d = DirectFunctionCall1(date_in, CStringGetDatum(s));
	else
		d = DirectFunctionCall3(timestamp_in, CStringGetDatum(s),
								ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	rendered = JsonEncodeDateTime(NULL, d, type, NULL);
	if (strcmp(rendered, s) != 0)
		return false;
	*out = d;
	return true;
}

/* A lower-case canonical uuid string, as uuid_out writes it. */
static bool
sp_uuid_canonical(const JsonbValue *v, Datum *out)
{
	const char *s = v->val.string.val;

	if (v->val.string.len != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	*out = DirectFunctionCall1(uuid_in, CStringGetDatum(pnstrdup(s, 36)));
	return true;
}

/* ---- one comparison */

/* a text expression against a text constant: code point order */
static Node *
sp_map_text(Node *e, FwOp op, Node *c)
{
	bool		ordering = !(op == FW_OP_EQ || op == FW_OP_NEQ);

	return sp_op(TEXTOID, TEXTOID, op, sp_as_text(e), c, sp_text_collation(e, ordering));
}

/*
 * e (rendered as `kind`) compared with one operand value (eq … lte, no
 * "type"): SQL that has the filter's three-valued result on every row, or
 * NULL when none is known.
 */
static Node *
sp_map_compare(Node *e, SpKind kind, FwOp op, const JsonbValue *v, bool positive)
{
	switch (kind)
	{
		case SP_INT:
			if (v->type == jbvNumeric)
				return sp_map_int(e, op, v->val.numeric);
			/* a number field against any other JSON type: UNKNOWN */
			return sp_null_bool();

		case SP_NUMERIC:
			if (v->type == jbvNumeric)
				return sp_guarded(sp_op(NUMERICOID, NUMERICOID, op, e,
										sp_numeric_const(v->val.numeric), InvalidOid),
								  sp_numeric_finite(e), positive);
			/* NaN/Infinity render as strings: a string operand may match them */
			if (v->type == jbvString)
				return NULL;
			return sp_null_bool();

		case SP_TEXT:
			if (v->type == jbvString)
				return sp_map_text(e, op, sp_text_const(v->val.string.val, v->val.string.len));
			return sp_null_bool();

		case SP_BOOL:
			if (v->type == jbvBool && (op == FW_OP_EQ || op == FW_OP_NEQ))
				return sp_op(BOOLOID, BOOLOID, op, e, makeBoolConst(v->val.boolean, false),
							 InvalidOid);
			if (v->type == jbvBool)
				return NULL;
			return sp_null_bool();

		case SP_DATE:
		case SP_TIMESTAMP:
			if (v->type == jbvString)
			{
				Oid			type = kind == SP_DATE ? DATEOID : TIMESTAMPOID;
				Datum		d;

				if ((op == FW_OP_EQ || op == FW_OP_NEQ) && sp_datetime_canonical(type, v, &d))
					return sp_op(type, type, op, e,
								 (Node *) makeConst(type, -1, InvalidOid, kind == SP_DATE ? 4 : 8, d,
													false, kind == SP_DATE ? true : FLOAT8PASSBYVAL),
								 InvalidOid);
				return NULL;
			}
			return sp_null_bool();

		case SP_TIMESTAMPTZ:
			/* the rendering depends on the session's TimeZone: residual */
			if (v->type == jbvString)
				return NULL;
			return sp_null_bool();

		case SP_UUID:
			if (v->type == jbvString)
			{
				Datum		d;

				/* canonical strings order like the uuids they spell */
				if (sp_uuid_canonical(v, &d))
					return sp_op(UUIDOID, UUIDOID, op, e,
								 (Node *) makeConst(UUIDOID, -1, InvalidOid, UUID_LEN, d, false, false),
								 InvalidOid);
				return NULL;
			}
			return sp_null_bool();

		case SP_OTHER:
			break;
	}
	return NULL;
}

/*
 * A comparison with "type": both sides cast with the filter's strict casts
 * (fw_cast_value), UNKNOWN where the document's value does not cast.  Only
 * pairs where the column's rendering casts back to the column's own value
 * are mapped; c is the operand already cast.
 */
static Node *
sp_map_typed(SpXlate *x, Node *e, SpKind kind, FwCastType cast, FwOp op, Datum c,
			 bool positive)
{
	switch (cast)
	{
		case FW_CAST_NUMERIC:
			if (kind == SP_INT)
				return sp_map_int(e, op, DatumGetNumeric(c));
			if (kind == SP_NUMERIC)
				return sp_guarded(sp_op(NUMERICOID, NUMERICOID, op, e,
										sp_numeric_const(DatumGetNumeric(c)), InvalidOid),
								  sp_numeric_finite(e), positive);
			break;
		case FW_CAST_TEXT:
			if (kind == SP_TEXT)
				return sp_map_text(e, op, (Node *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
															 c, false, false));
			break;
		case FW_CAST_BOOLEAN:
			if (kind == SP_BOOL)
				return sp_op(BOOLOID, BOOLOID, op, e, makeBoolConst(DatumGetBool(c), false),
							 InvalidOid);
			break;
		case FW_CAST_UUID:
			if (kind == SP_UUID)
				return sp_op(UUIDOID, UUIDOID, op, e,
							 (Node *) makeConst(UUIDOID, -1, InvalidOid, UUID_LEN, c, false, false),
							 InvalidOid);
			break;
		case FW_CAST_DATE:
			if (kind == SP_DATE)
				return sp_guarded(sp_op(DATEOID, DATEOID, op, e,
										(Node *) makeConst(DATEOID, -1, InvalidOid, 4, c, false, true),
										InvalidOid),
								  sp_datetime_range(DATEOID, e), positive);
			break;
		case FW_CAST_TIMESTAMP:
			if (kind == SP_TIMESTAMP)
				return sp_guarded(sp_op(TIMESTAMPOID, TIMESTAMPOID, op, e,
										(Node *) makeConst(TIMESTAMPOID, -1, InvalidOid, 8, c, false,
														   FLOAT8PASSBYVAL),
										InvalidOid),
								  sp_datetime_range(TIMESTAMPOID, e), positive);
			break;
		case FW_CAST_TIMESTAMPTZ:
			/*
			 * The rendering carries the session's UTC offset; it casts back
			 * to the same instant unless its year or offset is outside the
			 * strict form, which only the rendering itself can tell:
			 * as_timestamptz(to_jsonb(e)) IS NOT NULL, checked per row on
			 * the rows the indexable comparison leaves.
			 */
			if (kind == SP_TIMESTAMPTZ && OidIsValid(x->as_timestamptz))
			{
				NullTest   *nt = makeNode(NullTest);

				nt->arg = (Expr *) makeFuncExpr(x->as_timestamptz, TIMESTAMPTZOID,
												list_make1(makeFuncExpr(F_TO_JSONB, JSONBOID,
																		list_make1(copyObject(e)),
																		InvalidOid, InvalidOid,
																		COERCE_EXPLICIT_CALL)),
												InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
				nt->nulltesttype = IS_NOT_NULL;
				nt->argisrow = false;
				nt->location = -1;
				return sp_guarded(sp_op(TIMESTAMPTZOID, TIMESTAMPTZOID, op, e,
										(Node *) makeConst(TIMESTAMPTZOID, -1, InvalidOid, 8, c, false,
														   FLOAT8PASSBYVAL),
										InvalidOid),
								  (Node *) nt, positive);
			}
			break;
		case FW_CAST_NONE:
			break;
	}
	return NULL;
}

/* The elements of an array operand (in, nin), nested containers as jbvBinary. */
static JsonbValue *
sp_operand_elems(const FwNode *n, int *count)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *elems;
	int			k = 0;

	*count = 0;
	if (n->operand.type != jbvBinary)
		return NULL;
	elems = palloc(sizeof(JsonbValue) * Max(1, JsonContainerSize(n->operand.val.binary.data)));
	it = JsonbIteratorInit(n->operand.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_ELEM)
			elems[k++] = v;
	}
	*count = k;
	return elems;
}

/*
 * in / nin: one ScalarArrayOpExpr when every element is of the column's JSON
 * type (x = ANY('{…}') is the OR of the equalities, with SQL's NULL rules),
 * else the OR (AND) of the single comparisons.
 */
static Node *
sp_map_list(Node *e, SpKind kind, bool in, const JsonbValue *elems, int n, bool positive)
{
	Datum	   *values = palloc(sizeof(Datum) * Max(1, n));
	int			nvalues = 0;
	List	   *arms = NIL;

	if (n == 0)
		return makeBoolConst(!in, false);	/* in [] is FALSE, nin [] TRUE */

	for (int i = 0; i < n; i++)
	{
		const JsonbValue *v = &elems[i];
		bool		same = false;
		int64		iv;

		CHECK_FOR_INTERRUPTS();

		switch (kind)
		{
			case SP_INT:
				same = v->type == jbvNumeric && sp_numeric_to_int8(v->val.numeric, &iv) &&
					DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(v->val.numeric),
													  DirectFunctionCall1(numeric_floor,
																		  NumericGetDatum(v->val.numeric)))) == 0;
				if (same)
					values[nvalues++] = Int64GetDatum(iv);
				break;
			case SP_NUMERIC:
				same = v->type == jbvNumeric;
				if (same)
					values[nvalues++] = NumericGetDatum(v->val.numeric);
				break;
			case SP_TEXT:
				same = v->type == jbvString;
				if (same)
					values[nvalues++] = PointerGetDatum(cstring_to_text_with_len(v->val.string.val,
																				 v->val.string.len));
				break;
			case SP_BOOL:
				same = v->type == jbvBool;
				if (same)
					values[nvalues++] = BoolGetDatum(v->val.boolean);
				break;
			default:
				break;
		}
		if (!same)
		{
			/* the single comparison: often a constant UNKNOWN */
			Node	   *a = sp_map_compare(e, kind, in ? FW_OP_EQ : FW_OP_NEQ, v, positive);

			if (a == NULL)
				return NULL;
			arms = lappend(arms, a);
		}
	}

	/*
	 * The elements of the column's own JSON type as one ScalarArrayOpExpr:
	 * x = ANY('{…}') is the OR of the equalities with SQL's NULL rules,
	 * x <> ALL('{…}') the AND of the inequalities.
	 */
	if (nvalues > 0)
	{
		Node	   *sa = NULL;

		switch (kind)
		{
			case SP_INT:
				sa = sp_saop(exprType(e), INT8OID, in, e, values, nvalues, InvalidOid);
				break;
			case SP_NUMERIC:
				sa = sp_guarded(sp_saop(NUMERICOID, NUMERICOID, in, e, values, nvalues, InvalidOid),
								sp_numeric_finite(e), positive);
				break;
			case SP_TEXT:
				sa = sp_saop(TEXTOID, TEXTOID, in, sp_as_text(e), values, nvalues,
							 sp_text_collation(e, false));
				break;
			case SP_BOOL:
				sa = sp_saop(BOOLOID, BOOLOID, in, e, values, nvalues, InvalidOid);
				break;
			default:
				break;
		}
		if (sa == NULL)
			return NULL;
		arms = lcons(sa, arms);
	}
	if (positive && in)
	{
		/* UNKNOWN arms read as FALSE and drop out of the OR */
		List	   *kept = NIL;
		ListCell   *lc;

		foreach(lc, arms)
		{
			CHECK_FOR_INTERRUPTS();
			if (!(IsA(lfirst(lc), Const) && ((Const *) lfirst(lc))->constisnull))
				kept = lappend(kept, lfirst(lc));
		}
		arms = kept;
	}
	return in ? sp_or(arms) : sp_and(arms);
}

static Node *
sp_map_cmp(SpXlate *x, const FwNode *n, bool positive)
{
	Node	   *e = NULL;
	SpKind		kind;
	Node	   *r = NULL;

	switch (sp_resolve(x->fields, n, &e))
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

	kind = sp_kind(exprType(e));
	if (kind == SP_OTHER)
		return NULL;

	if (n->cast != FW_CAST_NONE)
	{
		if (n->op == FW_OP_IN || n->op == FW_OP_NIN)
		{
			List	   *arms = NIL;

			if (n->nelems == 0)
				r = makeBoolConst(n->op == FW_OP_NIN, false);
			for (int i = 0; i < n->nelems; i++)
			{
				Node	   *a;

				CHECK_FOR_INTERRUPTS();
				a = sp_map_typed(x, e, kind, n->cast,
								 n->op == FW_OP_IN ? FW_OP_EQ : FW_OP_NEQ,
								 n->cast_values[i], positive);
				if (a == NULL)
					return NULL;
				arms = lappend(arms, a);
			}
			if (r == NULL)
				r = n->op == FW_OP_IN ? sp_or(arms) : sp_and(arms);
		}
		else if (n->op <= FW_OP_LTE)
			r = sp_map_typed(x, e, kind, n->cast, n->op, n->cast_values[0], positive);
		if (r != NULL)
			x->mapped_any = true;
		return r;
	}

	switch (n->op)
	{
		case FW_OP_EQ:
		case FW_OP_NEQ:
		case FW_OP_GT:
		case FW_OP_GTE:
		case FW_OP_LT:
		case FW_OP_LTE:
			r = sp_map_compare(e, kind, n->op, &n->operand, positive);
			break;

		case FW_OP_IN:
		case FW_OP_NIN:
			{
				int			count;
				JsonbValue *elems = sp_operand_elems(n, &count);

				if (elems != NULL)
					r = sp_map_list(e, kind, n->op == FW_OP_IN, elems, count, positive);
			}
			break;

		case FW_OP_ISNULL:
			/* none of these kinds renders a non-NULL value as JSON null */
			r = sp_nulltest(e, n->operand.val.boolean);
			break;

		case FW_OP_CONTAINS:
		case FW_OP_STARTSWITH:
		case FW_OP_ENDSWITH:
		case FW_OP_LIKE:
			if (kind == SP_TEXT && n->operand.type == jbvString)
			{
				const char *s = n->operand.val.string.val;
				int			len = n->operand.val.string.len;
				char	   *pat;
				int			plen;

				if (n->op == FW_OP_LIKE)
					r = sp_like(e, s, len);
				else
				{
					pat = sp_like_escape(s, len, n->op != FW_OP_STARTSWITH,
										 n->op != FW_OP_ENDSWITH, &plen);
					r = sp_like(e, pat, plen);
				}
			}
			break;

		default:
			break;
	}
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
				return n->kind == FW_NODE_AND ? sp_and(mapped) : sp_or(mapped);
			}
		case FW_NODE_NOT:
			{
				Node	   *r = sp_map_node(x, linitial(n->args), false);

				return r != NULL ? sp_not(r) : NULL;
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

/* ------------------------------------------------------- two-valued result */

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
sp_never_null(SpXlate *x, Node *node)
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
sp_two_valued(SpXlate *x, Node *r)
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
				args = lappend(args, sp_two_valued(x, c));
		}
		foreach(lc, sp_unique(notnull))
			args = lappend(args, sp_nulltest(lfirst(lc), false));
		return is_and ? sp_and(args) : sp_or(args);
	}
	e = sp_compared_expr(r);
	if (e != NULL)
		return sp_and(list_make2(r, sp_nulltest(e, false)));
	{
		BooleanTest *bt = makeNode(BooleanTest);

		bt->arg = (Expr *) r;
		bt->booltesttype = IS_TRUE;
		bt->location = -1;
		return (Node *) bt;
	}
}

/* Whether a view's document expression may be taken apart and duplicated. */
static bool
sp_doc_is_safe(Node *data)
{
	return !contain_volatile_functions(data) && !contain_subplans(data) &&
		!expression_returns_set(data);
}

static Node *
sp_rewrite_view(PlannerInfo *root, FuncExpr *fcall, Node *data, List *fields,
				const FwNode *tree)
{
	Oid			jsonb_arg[1] = {JSONBOID};
	SpXlate		x;
	Node	   *r;
	ListCell   *lc;
	bool		all_residual = true;

	memset(&x, 0, sizeof(x));
	x.root = root;
	x.fields = fields;
	x.as_timestamptz = sp_sibling_func(fcall->funcid, "as_timestamptz", 1, jsonb_arg);
	x.matches_jsonb = sp_matches_jsonb(fcall->funcid);
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
	return sp_two_valued(&x, r);
}

/* data::jsonb (an I/O conversion, as the cast in an index expression) */
static Node *
sp_as_jsonb(Node *data)
{
	CoerceViaIO *cast = makeNode(CoerceViaIO);

	cast->arg = (Expr *) copyObject(data);
	cast->resulttype = JSONBOID;
	cast->resultcollid = InvalidOid;
	cast->coerceformat = COERCE_EXPLICIT_CAST;
	cast->location = -1;
	return (Node *) cast;
}

/* ------------------------------------------------------------- containment */

typedef struct SpCont
{
	const char *key;
	const JsonbValue *leaf;		/* a scalar, or NULL for a nested object */
	List	   *kids;
} SpCont;

/*
 * Adds path = v to the containment tree.  index maps every path prefix
 * (keys NUL-terminated, one after the other) to its SpCont, so that a
 * filter with many equalities is added in linear time.
 */
static bool
sp_cont_add(List **level, char **path, int npath, const JsonbValue *v, FwStrMap *index)
{
	StringInfoData prefix;

	initStringInfo(&prefix);
	for (int i = 0; i < npath; i++)
	{
		SpCont	   *c;

		appendBinaryStringInfo(&prefix, path[i], strlen(path[i]) + 1);
		c = fw_strmap_lookup(index, prefix.data, prefix.len);
		if (c == NULL)
		{
			char	   *key = palloc(prefix.len);
			bool		found;

			memcpy(key, prefix.data, prefix.len);
			c = palloc0(sizeof(SpCont));
			c->key = path[i];
			if (i == npath - 1)
				c->leaf = v;
			*level = lappend(*level, c);
			*fw_strmap_insert(index, key, prefix.len, &found) = c;
			if (i == npath - 1)
				return true;
		}
		else if (c->leaf != NULL || i == npath - 1)
			return false;		/* already constrained: the first one stays */
		level = &c->kids;
	}
	return false;
}

static bool
sp_is_scalar(const JsonbValue *v)
{
	return v->type == jbvString || v->type == jbvNumeric || v->type == jbvBool;
}

static JsonbValue *
sp_cont_push(JsonbParseState **st, List *level)
{
	ListCell   *lc;
	JsonbValue *res;

	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	foreach(lc, level)
	{
		SpCont	   *c = lfirst(lc);
		JsonbValue	k;

		CHECK_FOR_INTERRUPTS();
		k.type = jbvString;
		k.val.string.val = (char *) c->key;
		k.val.string.len = strlen(c->key);
		pushJsonbValue(st, WJB_KEY, &k);
		if (c->leaf != NULL)
			pushJsonbValue(st, WJB_VALUE, (JsonbValue *) c->leaf);
		else
			sp_cont_push(st, c->kids);
	}
	res = pushJsonbValue(st, WJB_END_OBJECT, NULL);
	return res;
}

/*
 * The conjuncts of the filter's top-level AND (nested ANDs flattened):
 * scalar equalities go into the containment document *cont, the rest into
 * *rest.  Returns how many went into *cont.
 */
static int
sp_split_conjuncts(const FwNode *n, List **cont, List **rest, FwStrMap *index)
{
	ListCell   *lc;
	int			k = 0;

	CHECK_FOR_INTERRUPTS();
	if (n->kind == FW_NODE_AND)
	{
		foreach(lc, n->args)
			k += sp_split_conjuncts(lfirst(lc), cont, rest, index);
		return k;
	}
	if (n->kind == FW_NODE_CMP && n->cast == FW_CAST_NONE)
	{
		const JsonbValue *v = NULL;

		if (n->op == FW_OP_EQ && sp_is_scalar(&n->operand))
			v = &n->operand;
		else if (n->op == FW_OP_IN)
		{
			int			cnt;
			JsonbValue *elems = sp_operand_elems(n, &cnt);

			if (cnt == 1 && sp_is_scalar(&elems[0]))
				v = &elems[0];
		}
		if (v != NULL && sp_cont_add(cont, n->path, n->npath, v, index))
			return 1;
	}
	*rest = lappend(*rest, (void *) n);
	return 0;
}

/*
 * Every equality collected is a conjunct of the filter and holds only when
 * the field is that scalar (numbers numerically, strings byte-wise — the
 * same as jsonb's @>), so filter TRUE implies data @> result.
 */
Jsonb *
fw_filter_containment(const FwNode *node, int *nkeys)
{
	List	   *root = NIL;
	List	   *rest = NIL;
	JsonbParseState *st = NULL;

	*nkeys = sp_split_conjuncts(node, &root, &rest, fw_strmap_create(16));
	return JsonbValueToJsonb(sp_cont_push(&st, root));
}

/*
 * A tv_ table (data a jsonb or json column):
 *   data @> '{eqs}' AND matches(data, rest)
 * data @> '{eqs}' is TRUE exactly when every equality is TRUE and FALSE
 * otherwise (never NULL for a non-NULL document), and matches() is
 * two-valued, so the AND is matches(data, filter) — NULL for a NULL
 * document on both sides.  A json column is read as data::jsonb, which an
 * expression index on (data::jsonb) serves.
 */
static Node *
sp_rewrite_table(FuncExpr *fcall, Node *data, const FwNode *tree)
{
	Oid			mj = sp_matches_jsonb(fcall->funcid);
	List	   *cont = NIL;
	List	   *rest = NIL;
	Node	   *doc = data;
	Node	   *filter = lsecond(fcall->args);
	Oid			containsop;
	JsonbParseState *st = NULL;
	OpExpr	   *contains;
	List	   *conj;

	if (!OidIsValid(mj))
		return NULL;
	if (exprType(data) == JSONOID)
		doc = sp_as_jsonb(data);
	if (sp_split_conjuncts(tree, &cont, &rest, fw_strmap_create(16)) == 0)
	{
		/* nothing to contain: only the json column moves onto jsonb */
		if (doc == data)
			return NULL;
		return (Node *) makeFuncExpr(mj, BOOLOID, list_make2(doc, copyObject(filter)),
									 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	}
	containsop = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("@>")),
								  JSONBOID, JSONBOID);
	if (!OidIsValid(containsop))
		return NULL;
	contains = (OpExpr *) make_opclause(containsop, BOOLOID, false, (Expr *) copyObject(doc),
										(Expr *) makeConst(JSONBOID, -1, InvalidOid, -1,
														   JsonbPGetDatum(JsonbValueToJsonb(sp_cont_push(&st, cont))),
														   false, false),
										InvalidOid, InvalidOid);
	set_opfuncid(contains);
	conj = list_make1(contains);
	if (rest != NIL)
	{
		FwNode	   *and = palloc0(sizeof(FwNode));
		Jsonb	   *restj;

		and->kind = FW_NODE_AND;
		and->args = rest;
		and->json_path = "$";
		restj = fw_filter_to_jsonb(list_length(rest) == 1 ? linitial(rest) : and);
		conj = lappend(conj, makeFuncExpr(mj, BOOLOID,
										  list_make2(copyObject(doc),
													 makeConst(JSONBOID, -1, InvalidOid, -1,
															   JsonbPGetDatum(restj), false, false)),
										  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
	}
	return sp_and(conj);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_filter_containment);

Datum
fraiseql_wire_filter_containment(PG_FUNCTION_ARGS)
{
	Jsonb	   *filter = PG_GETARG_JSONB_P(0);
	int			nkeys;

	PG_RETURN_JSONB_P(fw_filter_containment(fw_filter_parse(filter), &nkeys));
}

/* ------------------------------------------------------------- requests */

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
static FwNode *
sp_parse(Const *fc, bool fold)
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
	Oid			mj = sp_matches_jsonb(fcall->funcid);

	if (!OidIsValid(mj))
		return NULL;
	return (Node *) makeFuncExpr(mj, BOOLOID, list_make2(sp_as_jsonb(data), copyObject(lsecond(fcall->args))),
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
	if (sp_doc_fields(data, &fields) && sp_doc_is_safe(data))
	{
		tree = sp_parse(fc, true);
		return sp_rewrite_view(req->root, fcall, data, fields, tree);
	}

	if (IsA(data, Var))
		return sp_rewrite_table(fcall, data, sp_parse(fc, true));
	return NULL;
}

static Node *
sp_index_condition(SupportRequestIndexCondition *req)
{
	List	   *args;
	Node	   *indexed;
	Node	   *filter;
	Node	   *rhs;
	Oid			opno;
	OpExpr	   *cond;

	if (!fw_enable_rewrite || req->indexarg != 0 || req->index->relam != GIN_AM_OID)
		return NULL;
	if (IsA(req->node, FuncExpr))
		args = ((FuncExpr *) req->node)->args;
	else
		return NULL;
	if (list_length(args) != 2)
		return NULL;
	indexed = linitial(args);
	filter = lsecond(args);
	if (exprType(indexed) != JSONBOID || exprType(filter) != JSONBOID)
		return NULL;
	opno = get_opfamily_member(req->opfamily, JSONBOID, JSONBOID, JsonbContainsStrategyNumber);
	if (!OidIsValid(opno))
		return NULL;

	if (IsA(filter, Const))
	{
		Const	   *fc = (Const *) filter;
		int			nkeys;
		Jsonb	   *cont;

		if (fc->constisnull)
			return NULL;
		cont = fw_filter_containment(sp_parse(fc, false), &nkeys);
		if (nkeys == 0)
			return NULL;
		rhs = (Node *) makeConst(JSONBOID, -1, InvalidOid, -1, JsonbPGetDatum(cont), false, false);
	}
	else
	{
		Oid			argtypes[1] = {JSONBOID};
		Oid			fn = sp_sibling_func(req->funcid, "filter_containment", 1, argtypes);

		if (!OidIsValid(fn) || !is_pseudo_constant_for_index(req->root, filter, req->index))
			return NULL;
		rhs = (Node *) makeFuncExpr(fn, JSONBOID, list_make1(copyObject(filter)), InvalidOid,
									InvalidOid, COERCE_EXPLICIT_CALL);
	}
	cond = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) copyObject(indexed),
									(Expr *) rhs, InvalidOid, InvalidOid);
	set_opfuncid(cond);
	req->lossy = true;
	return (Node *) list_make1(cond);
}

/* A structural guess when there are no statistics to evaluate the filter on. */
static Selectivity
sp_guess(const FwNode *n)
{
	ListCell   *lc;
	Selectivity s;

	switch (n->kind)
	{
		case FW_NODE_AND:
			s = 1.0;
			foreach(lc, n->args)
			{
				CHECK_FOR_INTERRUPTS();
				s *= sp_guess(lfirst(lc));
			}
			return s;
		case FW_NODE_OR:
			s = 0.0;
			foreach(lc, n->args)
			{
				Selectivity a;

				CHECK_FOR_INTERRUPTS();
				a = sp_guess(lfirst(lc));

				s = s + a - s * a;
			}
			return s;
		case FW_NODE_NOT:
			return 1.0 - sp_guess(linitial(n->args));
		case FW_NODE_CMP:
			break;
	}
	switch (n->op)
	{
		case FW_OP_EQ:
			return DEFAULT_EQ_SEL;
		case FW_OP_NEQ:
			return 1.0 - DEFAULT_EQ_SEL;
		case FW_OP_IN:
		case FW_OP_NIN:
			{
				int			k = n->nelems;

				s = Min(0.5, DEFAULT_EQ_SEL * k);
				return n->op == FW_OP_IN ? s : 1.0 - s;
			}
		case FW_OP_GT:
		case FW_OP_GTE:
		case FW_OP_LT:
		case FW_OP_LTE:
			return DEFAULT_INEQ_SEL;
		case FW_OP_ISNULL:
		case FW_OP_EXISTS:
			return 0.5;
		default:
			return DEFAULT_MATCHING_SEL;
	}
}

/*
 * The fraction of the column's MCVs and histogram entries on which the
 * filter is TRUE (what PostgreSQL's generic_restriction_selectivity does for
 * operators), when the column is jsonb and has statistics.
 */
static bool
sp_stats_selectivity(PlannerInfo *root, Node *data, int varRelid, const FwNode *tree,
					 Selectivity *out)
{
	VariableStatData vardata;
	AttStatsSlot sslot;
	double		nullfrac;
	double		mcvsel = 0.0;
	double		mcvfreq = 0.0;
	bool		have_mcv = false;
	bool		have_hist = false;
	double		histsel = 0.0;

	examine_variable(root, data, varRelid, &vardata);
	if (!HeapTupleIsValid(vardata.statsTuple) || vardata.atttype != JSONBOID)
	{
		ReleaseVariableStats(vardata);
		return false;
	}
	nullfrac = ((Form_pg_statistic) GETSTRUCT(vardata.statsTuple))->stanullfrac;

	if (get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_MCV, InvalidOid,
						 ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS))
	{
		have_mcv = true;
		for (int i = 0; i < sslot.nvalues; i++)
		{
			CHECK_FOR_INTERRUPTS();
			mcvfreq += sslot.numbers[i];
			if (fw_filter_eval(tree, DatumGetJsonbP(sslot.values[i]), NULL))
				mcvsel += sslot.numbers[i];
		}
		free_attstatsslot(&sslot);
	}
	if (get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_HISTOGRAM, InvalidOid,
						 ATTSTATSSLOT_VALUES))
	{
		int			hit = 0;

		if (sslot.nvalues >= 10)
		{
			have_hist = true;
			for (int i = 0; i < sslot.nvalues; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (fw_filter_eval(tree, DatumGetJsonbP(sslot.values[i]), NULL))
					hit++;
			}
			/* an empty sample still leaves room for a few rows */
			histsel = Max((double) hit, 0.5) / sslot.nvalues;
		}
		free_attstatsslot(&sslot);
	}
	ReleaseVariableStats(vardata);

	if (!have_mcv && !have_hist)
		return false;
	if (!have_hist)
		histsel = sp_guess(tree);
	*out = mcvsel + histsel * Max(0.0, 1.0 - mcvfreq - nullfrac);
	return true;
}

static Node *
sp_selectivity(SupportRequestSelectivity *req)
{
	Node	   *filter;
	Selectivity s;

	if (req->is_join || list_length(req->args) != 2)
		return NULL;
	filter = lsecond(req->args);
	if (IsA(filter, Const) && exprType(filter) == JSONBOID)
	{
		Const	   *fc = (Const *) filter;
		FwNode	   *tree;

		if (fc->constisnull)
			s = 0.0;
		else
		{
			tree = sp_parse(fc, true);
			if (req->root == NULL ||
				!sp_stats_selectivity(req->root, linitial(req->args), req->varRelid, tree, &s))
				s = sp_guess(tree);
		}
	}
	else
		s = DEFAULT_MATCHING_SEL;	/* a parameter: most filters select little */
	CLAMP_PROBABILITY(s);
	req->selectivity = s;
	return (Node *) req;
}

PG_FUNCTION_INFO_V1(fraiseql_wire_matches_support);

Datum
fraiseql_wire_matches_support(PG_FUNCTION_ARGS)
{
	Node	   *req = (Node *) PG_GETARG_POINTER(0);
	Node	   *ret = NULL;

	if (IsA(req, SupportRequestSimplify))
		ret = sp_simplify((SupportRequestSimplify *) req);
	else if (IsA(req, SupportRequestIndexCondition))
		ret = sp_index_condition((SupportRequestIndexCondition *) req);
	else if (IsA(req, SupportRequestSelectivity))
		ret = sp_selectivity((SupportRequestSelectivity *) req);
	PG_RETURN_POINTER(ret);
}

/* ------------------------------------------------- tracing for order_key.c */

FwFieldTrace
fw_trace_view_field(Node *doc, char **path, int npath, Node **expr)
{
	List	   *fields = NIL;
	FwNode		n;

	if (npath < 1 || !sp_doc_fields(doc, &fields) || !sp_doc_is_safe(doc))
		return FW_FIELD_UNKNOWN;
	memset(&n, 0, sizeof(n));
	n.kind = FW_NODE_CMP;
	n.npath = npath;
	n.path = path;
	switch (sp_resolve(fields, &n, expr))
	{
		case SP_MISSING:
			return FW_FIELD_MISSING;
		case SP_VALUE:
			return FW_FIELD_VALUE;
		case SP_OPAQUE:
			break;
	}
	return FW_FIELD_UNKNOWN;
}
