/*
 * filter_json.c — serialises a parsed filter (or a sub-tree) back to a filter
 * document, for residual filters in planner rewrites.
 *
 * The output parses (fw_filter_parse) to the same tree, json_path aside:
 *   AND  -> {"and": [...]}      (an empty AND is {"and": []}: TRUE)
 *   OR   -> {"or": [...]}       (an empty OR is {"or": []}: FALSE)
 *   NOT  -> {"not": {...}}
 *   CMP  -> {"k1": {"k2": {"op": operand[, "type": "date"]}}}
 * Path keys are never operator or logic names (the parser cannot produce
 * them), so nesting the path as objects is unambiguous.
 */
#include "compat.h"

#include "miscadmin.h"

#include "filter.h"

static void
push_key(JsonbParseState **ps, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(ps, WJB_KEY, &k);
}

static JsonbValue *push_node(JsonbParseState **ps, const FwNode *node);

static JsonbValue *
push_list(JsonbParseState **ps, const char *key, List *args)
{
	ListCell   *lc;

	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	push_key(ps, key);
	pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
	foreach(lc, args)
	{
		CHECK_FOR_INTERRUPTS();
		push_node(ps, lfirst(lc));
	}
	pushJsonbValue(ps, WJB_END_ARRAY, NULL);
	return pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

/* Pushes one complete filter object; returns it when it is the outermost. */
static JsonbValue *
push_node(JsonbParseState **ps, const FwNode *node)
{
	check_stack_depth();
	switch (node->kind)
	{
		case FW_NODE_AND:
			return push_list(ps, "and", node->args);
		case FW_NODE_OR:
			return push_list(ps, "or", node->args);
		case FW_NODE_NOT:
			pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
			push_key(ps, "not");
			push_node(ps, linitial(node->args));
			return pushJsonbValue(ps, WJB_END_OBJECT, NULL);
		case FW_NODE_CMP:
			{
				JsonbValue	operand = node->operand;
				JsonbValue *res;

				if (node->npath < 1)
					elog(ERROR, "fraiseql_wire: comparison without a field");
				for (int i = 0; i < node->npath; i++)
				{
					pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
					push_key(ps, node->path[i]);
				}
				pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
				push_key(ps, fw_op_name(node->op));
				if (operand.type == jbvBinary)
				{
					/* pushJsonbValue unpacks a container value */
					operand.val.binary.data = &node->operand_jsonb->root;
					operand.val.binary.len = VARSIZE(node->operand_jsonb) - VARHDRSZ;
				}
				pushJsonbValue(ps, WJB_VALUE, &operand);
				if (node->cast != FW_CAST_NONE)
				{
					JsonbValue	t;

					push_key(ps, "type");
					t.type = jbvString;
					t.val.string.val = (char *) fw_cast_name(node->cast);
					t.val.string.len = strlen(t.val.string.val);
					pushJsonbValue(ps, WJB_VALUE, &t);
				}
				res = pushJsonbValue(ps, WJB_END_OBJECT, NULL);
				for (int i = 0; i < node->npath; i++)
					res = pushJsonbValue(ps, WJB_END_OBJECT, NULL);
				return res;
			}
	}
	elog(ERROR, "fraiseql_wire: bad filter node kind %d", (int) node->kind);
	return NULL;
}

Jsonb *
fw_filter_to_jsonb(const FwNode *node)
{
	JsonbParseState *ps = NULL;

	return JsonbValueToJsonb(push_node(&ps, node));
}
