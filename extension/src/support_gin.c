/*
 * support_gin.c — what a GIN index on the data column (jsonb_ops or
 * jsonb_path_ops) can serve of matches(data, filter): the scalar equalities
 * ANDed at the top of the filter, as one containment document.
 *
 * IndexCondition: a lossy `data @> containment` condition — a constant for a
 *   constant filter, fraiseql_wire.filter_containment($1) for a parameter
 *   (generic plans).
 * Simplify on a tv_ table (data a jsonb or json column): data @> '{eqs}' AND
 *   matches(data, rest), with a json column read as data::jsonb so that an
 *   expression GIN index serves.
 */
#include "compat.h"

#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"

#include "filter.h"
#include "guc.h"
#include "strmap.h"
#include "support.h"
#include "support_compare.h"
#include "support_gin.h"
#include "support_nodes.h"

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
			JsonbValue *elems = fw_sp_operand_elems(n, &cnt);

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
Node *
fw_sp_rewrite_table(FuncExpr *fcall, Node *data, const FwNode *tree)
{
	Oid			mj = fw_sp_matches_jsonb(fcall->funcid);
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
		doc = fw_sp_as_jsonb(data);
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
	return fw_sp_and(conj);
}

Node *
fw_sp_index_condition(SupportRequestIndexCondition *req)
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
		cont = fw_filter_containment(fw_sp_parse(fc, false), &nkeys);
		if (nkeys == 0)
			return NULL;
		rhs = (Node *) makeConst(JSONBOID, -1, InvalidOid, -1, JsonbPGetDatum(cont), false, false);
	}
	else
	{
		Oid			argtypes[1] = {JSONBOID};
		Oid			fn = fw_sp_sibling_func(req->funcid, "filter_containment", 1, argtypes);

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
