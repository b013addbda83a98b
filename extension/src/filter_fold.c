/*
 * filter_fold.c — folds the comparisons of one field inside an "or" into one
 * "in" (and inside an "and" into one "nin").
 *
 * A generated filter often spells a list of values as an "or" of thousands
 * of {"field": {"eq": v}}.  As written, every arm is its own comparison for
 * the evaluator (one field lookup per arm and row), for the planner rewrite
 * (one index condition per arm) and for the planner itself.  Folded, it is
 * one "in": one lookup per row, and one `col = ANY('{…}')` in the rewrite,
 * which one index scan serves.
 *
 * Exactness: in is defined as the OR of its equalities and nin as the AND of
 * its inequalities, with SQL's rules for UNKNOWN (filter_eval.c, filter_sql.c
 * and support_compare.c all implement them so), and OR and AND are
 * associative and commutative in three-valued logic; so the folded tree has
 * the same value as the original on every document.  Only comparisons with
 * the same path and the same "type" are merged.
 */
#include "compat.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "filter.h"
#include "strmap.h"

typedef struct FwFoldGroup
{
	int			first;			/* index of the first member in the args */
	int			count;
	int			nelems;
	List	   *members;
} FwFoldGroup;

/* Whether n may join a fold of an OR (eq, in) or of an AND (neq, nin). */
static bool
fold_member(const FwNode *n, bool is_or)
{
	if (n->kind != FW_NODE_CMP)
		return false;
	if (is_or)
		return n->op == FW_OP_EQ || n->op == FW_OP_IN;
	return n->op == FW_OP_NEQ || n->op == FW_OP_NIN;
}

/* The grouping key: the cast, then each path key NUL-terminated. */
static void
fold_key(StringInfo buf, const FwNode *n)
{
	resetStringInfo(buf);
	appendStringInfoChar(buf, (char) ('A' + (int) n->cast));
	for (int i = 0; i < n->npath; i++)
		appendBinaryStringInfo(buf, n->path[i], strlen(n->path[i]) + 1);
}

/* One in (is_or) or nin node holding the elements of every member. */
static FwNode *
fold_merge(FwFoldGroup *g, bool is_or)
{
	FwNode	   *first = linitial(g->members);
	FwNode	   *m = palloc0(sizeof(FwNode));
	JsonbParseState *ps = NULL;
	JsonbValue *arr;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	ListCell   *lc;
	int			k = 0;

	m->kind = FW_NODE_CMP;
	m->npath = first->npath;
	m->path = first->path;
	m->op = is_or ? FW_OP_IN : FW_OP_NIN;
	m->cast = first->cast;
	m->json_path = first->json_path;
	if (m->cast != FW_CAST_NONE)
		m->cast_values = palloc(sizeof(Datum) * Max(1, g->nelems));

	pushJsonbValue(&ps, WJB_BEGIN_ARRAY, NULL);
	foreach(lc, g->members)
	{
		FwNode	   *n = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (n->op == FW_OP_EQ || n->op == FW_OP_NEQ)
		{
			pushJsonbValue(&ps, WJB_ELEM, &n->operand);
			if (m->cast != FW_CAST_NONE)
				m->cast_values[k] = n->cast_values[0];
			k++;
			continue;
		}
		for (int i = 0; i < n->nelems; i++)
		{
			pushJsonbValue(&ps, WJB_ELEM, &n->elems[i]);
			if (m->cast != FW_CAST_NONE)
				m->cast_values[k] = n->cast_values[i];
			k++;
		}
	}
	arr = pushJsonbValue(&ps, WJB_END_ARRAY, NULL);
	Assert(k == g->nelems);

	m->operand_jsonb = JsonbValueToJsonb(arr);
	m->operand.type = jbvBinary;
	m->operand.val.binary.data = &m->operand_jsonb->root;
	m->operand.val.binary.len = VARSIZE(m->operand_jsonb) - VARHDRSZ;

	/* elems point into the new operand, in the same order as cast_values */
	m->elems = palloc(sizeof(JsonbValue) * Max(1, g->nelems));
	it = JsonbIteratorInit(&m->operand_jsonb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_ELEM)
			m->elems[m->nelems++] = v;
	}
	if (m->nelems != g->nelems)
		elog(ERROR, "fraiseql_wire: folded list lost elements");
	return m;
}

static FwNode *
fold_logic(FwNode *node)
{
	bool		is_or = node->kind == FW_NODE_OR;
	bool		changed = false;
	List	   *args = NIL;
	ListCell   *lc;
	FwStrMap   *map = NULL;
	FwFoldGroup *groups = NULL;
	int			ngroups = 0;
	int		   *group_of;
	StringInfoData key;
	List	   *out = NIL;
	int			i;

	/* fold the children; flatten an or in an or (an and in an and) */
	foreach(lc, node->args)
	{
		FwNode	   *a = lfirst(lc);
		FwNode	   *f = fw_filter_fold(a);

		if (f != a)
			changed = true;
		if (f->kind == node->kind)
		{
			args = list_concat(args, f->args);
			changed = true;
		}
		else
			args = lappend(args, f);
	}

	/* group the foldable comparisons by field and type */
	group_of = palloc(sizeof(int) * Max(1, list_length(args)));
	initStringInfo(&key);
	i = 0;
	foreach(lc, args)
	{
		FwNode	   *a = lfirst(lc);
		intptr_t	gi;
		bool		found;
		FwFoldGroup *g;

		CHECK_FOR_INTERRUPTS();
		group_of[i] = -1;
		if (fold_member(a, is_or))
		{
			if (map == NULL)
			{
				map = fw_strmap_create(list_length(args));
				groups = palloc(sizeof(FwFoldGroup) * list_length(args));
			}
			fold_key(&key, a);
			gi = (intptr_t) fw_strmap_lookup(map, key.data, key.len);
			if (gi == 0)
			{
				/* a new field: the map keeps a copy of the key */
				char	   *copy = palloc(key.len);

				memcpy(copy, key.data, key.len);
				*fw_strmap_insert(map, copy, key.len, &found) = (void *) (intptr_t) (ngroups + 1);
				memset(&groups[ngroups], 0, sizeof(FwFoldGroup));
				groups[ngroups].first = i;
				gi = ++ngroups;
			}
			g = &groups[gi - 1];
			g->count++;
			g->nelems += (a->op == FW_OP_EQ || a->op == FW_OP_NEQ) ? 1 : a->nelems;
			g->members = lappend(g->members, a);
			group_of[i] = (int) (gi - 1);
		}
		i++;
	}

	i = 0;
	foreach(lc, args)
	{
		int			gi = group_of[i];

		if (gi >= 0 && groups[gi].count > 1)
		{
			changed = true;
			if (groups[gi].first == i)
				out = lappend(out, fold_merge(&groups[gi], is_or));
		}
		else
			out = lappend(out, lfirst(lc));
		i++;
	}

	if (!changed)
		return node;
	if (list_length(out) == 1)
		return linitial(out);
	{
		FwNode	   *n = palloc0(sizeof(FwNode));

		n->kind = node->kind;
		n->args = out;
		n->json_path = node->json_path;
		return n;
	}
}

FwNode *
fw_filter_fold(FwNode *node)
{
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	switch (node->kind)
	{
		case FW_NODE_AND:
		case FW_NODE_OR:
			return fold_logic(node);
		case FW_NODE_NOT:
			{
				FwNode	   *c = fw_filter_fold(linitial(node->args));
				FwNode	   *n;

				if (c == linitial(node->args))
					return node;
				n = palloc0(sizeof(FwNode));
				n->kind = FW_NODE_NOT;
				n->args = list_make1(c);
				n->json_path = node->json_path;
				return n;
			}
		case FW_NODE_CMP:
			return node;
	}
	elog(ERROR, "fraiseql_wire: bad filter node kind %d", (int) node->kind);
	return node;
}
