/*
 * filter_parse.c — parses and validates a filter document into an FwNode tree.
 *
 * Every rule of the language (docs/filters.md) is checked here, before any
 * row is read, so that the evaluator and the SQL renderer can trust the tree.
 * A bad filter is ERRCODE_INVALID_PARAMETER_VALUE naming the JSON path of the
 * offending part ("$.author.name.eqq").
 *
 * How an object is read: an object that holds at least one operator key is
 * an operator object for the field it belongs to (it may add "type"); any
 * other object is a filter whose keys are "and", "or", "not" or field names
 * (relative to the enclosing field, if any).  So a field cannot be named
 * after an operator or a logic key; a field may be named "type".
 */
#include "compat.h"

#include <limits.h>

#include "catalog/pg_collation_d.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/formatting.h"
#include "utils/numeric.h"

#include "filter.h"
#include "guc.h"

static const char *const op_names[FW_OP__COUNT] = {
	[FW_OP_EQ] = "eq",[FW_OP_NEQ] = "neq",[FW_OP_GT] = "gt",[FW_OP_GTE] = "gte",
	[FW_OP_LT] = "lt",[FW_OP_LTE] = "lte",
	[FW_OP_IN] = "in",[FW_OP_NIN] = "nin",
	[FW_OP_ISNULL] = "isnull",[FW_OP_EXISTS] = "exists",
	[FW_OP_CONTAINS] = "contains",[FW_OP_STARTSWITH] = "startswith",
	[FW_OP_ENDSWITH] = "endswith",[FW_OP_ICONTAINS] = "icontains",
	[FW_OP_ISTARTSWITH] = "istartswith",[FW_OP_IENDSWITH] = "iendswith",
	[FW_OP_LIKE] = "like",[FW_OP_ILIKE] = "ilike",
	[FW_OP_MATCHES] = "matches",[FW_OP_IMATCHES] = "imatches",
	[FW_OP_CONTAINED_BY] = "contained_by",[FW_OP_OVERLAPS] = "overlaps",
	[FW_OP_HAS_KEY] = "has_key",[FW_OP_HAS_ANY_KEYS] = "has_any_keys",
	[FW_OP_HAS_ALL_KEYS] = "has_all_keys",
	[FW_OP_LEN_EQ] = "len_eq",[FW_OP_LEN_NEQ] = "len_neq",[FW_OP_LEN_GT] = "len_gt",
	[FW_OP_LEN_GTE] = "len_gte",[FW_OP_LEN_LT] = "len_lt",[FW_OP_LEN_LTE] = "len_lte",
};

static const char *const cast_names[] = {
	[FW_CAST_NONE] = NULL,
	[FW_CAST_NUMERIC] = "numeric",[FW_CAST_TEXT] = "text",
	[FW_CAST_BOOLEAN] = "boolean",[FW_CAST_UUID] = "uuid",[FW_CAST_DATE] = "date",
	[FW_CAST_TIMESTAMP] = "timestamp",[FW_CAST_TIMESTAMPTZ] = "timestamptz",
};
#define FW_CAST__COUNT ((int) (sizeof(cast_names) / sizeof(cast_names[0])))

#define OPERATOR_HINT \
	"Operators are eq, neq, gt, gte, lt, lte, in, nin, isnull, exists, " \
	"contains, startswith, endswith, icontains, istartswith, iendswith, " \
	"like, ilike, matches, imatches, contained_by, overlaps, has_key, " \
	"has_any_keys, has_all_keys, len_eq, len_neq, len_gt, len_gte, len_lt, " \
	"len_lte (with an optional \"type\"); logic keys are and, or, not."

#define TYPE_HINT \
	"Valid types are numeric, text, boolean, uuid, date, timestamp, timestamptz."

/* A bad filter: 22023 naming the path; detail is a printf format. */
#define FW_BAD(jpath, hint, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE), \
			 errmsg("invalid filter at %s", short_path(jpath)), \
			 errdetail(__VA_ARGS__), \
			 ((hint) != NULL) ? errhint("%s", (const char *) (hint)) : 0))

/* A path for a message: very deep paths keep "$" and their last ~200 bytes. */
static const char *
short_path(const char *jpath)
{
	size_t		len = strlen(jpath);
	const char *tail;

	if (len <= 240)
		return jpath;
	tail = jpath + len - 200;
	while (*tail != '\0' && *tail != '.' && *tail != '[')
		tail++;
	return psprintf("$(...)%s", tail);
}

typedef struct FwParseState
{
	int			nodes;			/* nodes and list elements so far */
	int			max_nodes;
	int			max_depth;
} FwParseState;

const char *
fw_op_name(FwOp op)
{
	if ((int) op < 0 || op >= FW_OP__COUNT)
		return "?";
	return op_names[op];
}

const char *
fw_cast_name(FwCastType cast)
{
	if ((int) cast <= 0 || (int) cast >= FW_CAST__COUNT)
		return "none";
	return cast_names[cast];
}

FwOp
fw_op_lookup(const char *key, int len)
{
	for (int i = 0; i < FW_OP__COUNT; i++)
	{
		if ((int) strlen(op_names[i]) == len && memcmp(op_names[i], key, len) == 0)
			return (FwOp) i;
	}
	return FW_OP__COUNT;
}

bool
fw_op_allows_cast(FwOp op)
{
	return op <= FW_OP_NIN;
}

static bool
key_is(const JsonbValue *k, const char *name)
{
	int			len = strlen(name);

	return k->val.string.len == len && memcmp(k->val.string.val, name, len) == 0;
}

/*
 * "$" + ".key" (identifier-like keys) or ."quoted key" (others), capped.
 * Every node keeps its path for messages, so the string is allocated at its
 * exact size (a StringInfo would take 1 kB a node).
 */
static char *
jp_key(const char *parent, const char *key, int len)
{
	size_t		plen = strlen(parent);
	bool		plain = len > 0;
	int			shown = len;
	char	   *out;
	char	   *p;

	for (int i = 0; i < len && plain; i++)
	{
		unsigned char c = key[i];

		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			(i > 0 && c >= '0' && c <= '9');
	}
	if (shown > 64)
		shown = pg_mbcliplen(key, len, 64);

	/* parent . " key(escaped: at most twice as long) " ... NUL */
	out = palloc(plen + 1 + 2 + 2 * (size_t) shown + 3 + 1);
	memcpy(out, parent, plen);
	p = out + plen;
	*p++ = '.';
	if (plain)
	{
		memcpy(p, key, shown);
		p += shown;
	}
	else
	{
		*p++ = '"';
		for (int i = 0; i < shown; i++)
		{
			if (key[i] == '"' || key[i] == '\\')
				*p++ = '\\';
			*p++ = key[i];
		}
		*p++ = '"';
	}
	if (shown < len)
	{
		memcpy(p, "...", 3);
		p += 3;
	}
	*p = '\0';
	return out;
}

static char *
jp_index(const char *parent, int i)
{
	size_t		n = strlen(parent) + 14;	/* "[", 11 digits and sign, "]", NUL */
	char	   *out = palloc(n);

	snprintf(out, n, "%s[%d]", parent, i);
	return out;
}

/* The path of element i of a list operand (i < 0: the operand itself), only
 * built for a message: a list of 100,000 values needs no 100,000 paths. */
static const char *
elem_path(const char *jpath, int i)
{
	return i < 0 ? jpath : jp_index(jpath, i);
}

const char *
fw_json_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "object" : "array";
		default:
			return "value";
	}
}

/* "a string", "an array", "null": for "…, not %s." */
static const char *
json_type_phrase(const JsonbValue *v)
{
	const char *tn = fw_json_type_name(v);

	if (strcmp(tn, "null") == 0)
		return "null";
	return psprintf("%s %s", (tn[0] == 'a' || tn[0] == 'o') ? "an" : "a", tn);
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
		!JsonContainerIsScalar(v->val.binary.data);
}

/*
 * Over a limit: 54000 (program_limit_exceeded, as PostgreSQL's own size
 * limits on jsonb), not 22023: the filter is valid, only too large for the
 * server's setting.
 */
static void
too_many_nodes(FwParseState *st, const char *jpath)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("filter exceeds fraiseql_wire.max_filter_nodes at %s", short_path(jpath)),
			 errdetail("The filter has more than %d operators, logic nodes and list elements.",
					   st->max_nodes),
			 errhint("Simplify the filter (a list of values is one \"in\"), or ask a superuser to "
					 "raise fraiseql_wire.max_filter_nodes.")));
}

static void
count_node(FwParseState *st, const char *jpath)
{
	if (++st->nodes > st->max_nodes)
		too_many_nodes(st, jpath);
}

/*
 * Every element of an and/or array and of a list operand adds at least one
 * node: a container with more elements than the nodes left is refused
 * before its elements are read or anything is allocated for them, so that
 * a huge filter costs no more than its size check.
 */
static void
reserve_nodes(FwParseState *st, int n, const char *jpath)
{
	if (n > st->max_nodes - st->nodes)
		too_many_nodes(st, jpath);
}

static FwNode *
new_node(FwNodeKind kind)
{
	FwNode	   *n = palloc0(sizeof(FwNode));

	n->kind = kind;
	return n;
}

/* The key/value pairs of an object, values of nested containers as jbvBinary. */
typedef struct FwPair
{
	JsonbValue	key;
	JsonbValue	value;
} FwPair;

static FwPair *
object_pairs(JsonbContainer *obj, int *npairs)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;
	FwPair	   *pairs = palloc(sizeof(FwPair) * Max(1, JsonContainerSize(obj)));
	int			n = 0;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_KEY)
			pairs[n].key = v;
		else if (tok == WJB_VALUE)
			pairs[n++].value = v;
	}
	*npairs = n;
	return pairs;
}

/* The elements of an array, nested containers as jbvBinary. */
static JsonbValue *
array_elems(JsonbContainer *arr, int *nelems)
{
	JsonbIterator *it = JsonbIteratorInit(arr);
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *elems = palloc(sizeof(JsonbValue) * Max(1, JsonContainerSize(arr)));
	int			n = 0;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_ELEM)
			elems[n++] = v;
	}
	*nelems = n;
	return elems;
}

/* The operand as its own jsonb datum, and node->operand pointing into it. */
static void
own_operand(FwNode *node, const JsonbValue *v)
{
	Jsonb	   *j = JsonbValueToJsonb((JsonbValue *) v);

	/* JsonbValueToJsonb leaves at least 1 kB; a filter keeps one per node */
	node->operand_jsonb = palloc(VARSIZE(j));
	memcpy(node->operand_jsonb, j, VARSIZE(j));
	pfree(j);
	if (v->type == jbvBinary)
	{
		node->operand.type = jbvBinary;
		node->operand.val.binary.data = &node->operand_jsonb->root;
		node->operand.val.binary.len = VARSIZE(node->operand_jsonb) - VARHDRSZ;
	}
	else if (!JsonbExtractScalar(&node->operand_jsonb->root, &node->operand))
		elog(ERROR, "fraiseql_wire: scalar operand did not round-trip");
}

static char *
json_text(const JsonbValue *v)
{
	Jsonb	   *j = JsonbValueToJsonb((JsonbValue *) v);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	if (strlen(s) > 80)
		s = psprintf("%.*s...", pg_mbcliplen(s, strlen(s), 77), s);
	return s;
}

static void
check_cast_operand(FwNode *node, const JsonbValue *v, Datum *out, const char *jpath, int elem)
{
	if (v->type != jbvString && v->type != jbvNumeric && v->type != jbvBool)
		FW_BAD(elem_path(jpath, elem), NULL,
			   "With \"type\": \"%s\" the operand of \"%s\" must be a string, number or boolean, not %s.",
			   fw_cast_name(node->cast), fw_op_name(node->op),
			   json_type_phrase(v));
	if (!fw_cast_value(node->cast, v, out))
		FW_BAD(elem_path(jpath, elem), "See docs/filters.md for the accepted forms of each type.",
			   "The operand %s is not a valid %s.", json_text(v), fw_cast_name(node->cast));
	/* a numeric may point into the filter document: the tree owns its data */
	if (node->cast == FW_CAST_NUMERIC)
		*out = datumCopy(*out, false, -1);
}

static void
check_regex(const JsonbValue *v, int flags, const char *jpath)
{
	pg_wchar   *w = palloc((v->val.string.len + 1) * sizeof(pg_wchar));
	int			wlen = pg_mb2wchar_with_len(v->val.string.val, w, v->val.string.len);
	regex_t		re;
	int			rc = pg_regcomp(&re, w, wlen, flags, DEFAULT_COLLATION_OID);

	if (rc != REG_OKAY)
	{
		char		msg[128];

		/*
		 * The regex library answers a query cancel or statement_timeout
		 * during a long compile with REG_CANCEL: report that as what it is,
		 * not as an invalid filter.
		 */
		CHECK_FOR_INTERRUPTS();
		pg_regerror(rc, &re, msg, sizeof(msg));
		FW_BAD(jpath, NULL, "The operand is not a valid regular expression: %s.", msg);
	}
	pg_regfree(&re);
	pfree(w);
}

static void
check_like(const JsonbValue *v, const char *jpath)
{
	const char *s = v->val.string.val;
	int			len = v->val.string.len;
	bool		escaped = false;

	for (int i = 0; i < len; i++)
		escaped = !escaped && s[i] == '\\';
	if (escaped)
		FW_BAD(jpath, "Write \\\\\\\\ in JSON for a literal backslash.",
			   "A LIKE pattern must not end with the escape character (backslash).");
}

/* Fills one FW_NODE_CMP node from its operand, or raises. */
static void
parse_operand(FwParseState *st, FwNode *node, const JsonbValue *v, const char *jpath)
{
	FwOp		op = node->op;
	const char *opname = fw_op_name(op);

	if (v->type == jbvNull)
	{
		if (op == FW_OP_EQ || op == FW_OP_NEQ)
			FW_BAD(jpath, op == FW_OP_EQ ? "Use {\"isnull\": true}." : "Use {\"isnull\": false}.",
				   "A null operand is not allowed: null is tested with isnull.");
		FW_BAD(jpath, NULL, "The operand of \"%s\" must not be null.", opname);
	}

	switch (op)
	{
		case FW_OP_EQ:
		case FW_OP_NEQ:
		case FW_OP_GT:
		case FW_OP_GTE:
		case FW_OP_LT:
		case FW_OP_LTE:
			if (node->cast != FW_CAST_NONE)
			{
				node->cast_values = palloc(sizeof(Datum));
				check_cast_operand(node, v, &node->cast_values[0], jpath, -1);
			}
			else if (op != FW_OP_EQ && op != FW_OP_NEQ &&
					 v->type != jbvString && v->type != jbvNumeric)
				FW_BAD(jpath, "Booleans, arrays and objects support eq and neq only.",
					   "The operand of \"%s\" must be a string or a number, not %s.",
					   opname, json_type_phrase(v));
			break;

		case FW_OP_IN:
		case FW_OP_NIN:
		case FW_OP_OVERLAPS:
			if (!is_array(v))
				FW_BAD(jpath, NULL, "The operand of \"%s\" must be an array of non-null values, not %s.",
					   opname, json_type_phrase(v));
			reserve_nodes(st, JsonContainerSize(v->val.binary.data), jpath);
			node->elems = array_elems(v->val.binary.data, &node->nelems);
			if (node->cast != FW_CAST_NONE)
				node->cast_values = palloc(sizeof(Datum) * Max(1, node->nelems));
			for (int i = 0; i < node->nelems; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (++st->nodes > st->max_nodes)
					too_many_nodes(st, jp_index(jpath, i));
				if (node->elems[i].type == jbvNull)
					FW_BAD(jp_index(jpath, i), "Combine with {\"isnull\": true} using \"or\" to also match null.",
						   "The elements of \"%s\" must not be null.", opname);
				if (node->cast != FW_CAST_NONE)
					check_cast_operand(node, &node->elems[i], &node->cast_values[i], jpath, i);
			}
			break;

		case FW_OP_ISNULL:
		case FW_OP_EXISTS:
			if (v->type != jbvBool)
				FW_BAD(jpath, NULL, "The operand of \"%s\" must be true or false, not %s.",
					   opname, json_type_phrase(v));
			break;

		case FW_OP_CONTAINS:
			break;

		case FW_OP_STARTSWITH:
		case FW_OP_ENDSWITH:
		case FW_OP_ICONTAINS:
		case FW_OP_ISTARTSWITH:
		case FW_OP_IENDSWITH:
		case FW_OP_LIKE:
		case FW_OP_ILIKE:
		case FW_OP_MATCHES:
		case FW_OP_IMATCHES:
		case FW_OP_HAS_KEY:
			if (v->type != jbvString)
				FW_BAD(jpath, NULL, "The operand of \"%s\" must be a string, not %s.",
					   opname, json_type_phrase(v));
			if (op == FW_OP_LIKE || op == FW_OP_ILIKE)
				check_like(v, jpath);
			else if (op == FW_OP_MATCHES)
				check_regex(v, REG_ADVANCED, jpath);
			else if (op == FW_OP_IMATCHES)
				check_regex(v, REG_ADVANCED | REG_ICASE, jpath);
			else if (op == FW_OP_ICONTAINS || op == FW_OP_ISTARTSWITH || op == FW_OP_IENDSWITH)
			{
				node->folded = str_tolower(v->val.string.val, v->val.string.len,
										   DEFAULT_COLLATION_OID);
				node->folded_len = strlen(node->folded);
			}
			break;

		case FW_OP_CONTAINED_BY:
			if (v->type != jbvBinary)
				FW_BAD(jpath, NULL, "The operand of \"contained_by\" must be an array or an object, not %s.", json_type_phrase(v));
			break;

		case FW_OP_HAS_ANY_KEYS:
		case FW_OP_HAS_ALL_KEYS:
			if (!is_array(v))
				FW_BAD(jpath, NULL, "The operand of \"%s\" must be an array of strings, not %s.",
					   opname, json_type_phrase(v));
			reserve_nodes(st, JsonContainerSize(v->val.binary.data), jpath);
			node->elems = array_elems(v->val.binary.data, &node->nelems);
			for (int i = 0; i < node->nelems; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (++st->nodes > st->max_nodes)
					too_many_nodes(st, jp_index(jpath, i));
				if (node->elems[i].type != jbvString)
					FW_BAD(jp_index(jpath, i), NULL, "The elements of \"%s\" must be strings, not %s.",
						   opname, json_type_phrase(&node->elems[i]));
			}
			break;

		case FW_OP_LEN_EQ:
		case FW_OP_LEN_NEQ:
		case FW_OP_LEN_GT:
		case FW_OP_LEN_GTE:
		case FW_OP_LEN_LT:
		case FW_OP_LEN_LTE:
			{
				bool		ok = false;

				if (v->type == jbvNumeric)
				{
					Numeric		n = v->val.numeric;
					Datum		fl = DirectFunctionCall1(numeric_floor, NumericGetDatum(n));

					if (!numeric_is_nan(n) && !numeric_is_inf(n) &&
						DatumGetInt32(DirectFunctionCall2(numeric_cmp, fl, NumericGetDatum(n))) == 0 &&
						DatumGetBool(DirectFunctionCall2(numeric_ge, NumericGetDatum(n),
														 DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) &&
						DatumGetBool(DirectFunctionCall2(numeric_le, NumericGetDatum(n),
														 DirectFunctionCall1(int4_numeric, Int32GetDatum(INT_MAX)))))
					{
						node->len_value = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(n)));
						ok = true;
					}
				}
				if (!ok)
					FW_BAD(jpath, NULL,
						   "The operand of \"%s\" must be a non-negative integer (at most %d), not %s.",
						   opname, INT_MAX, json_text(v));
			}
			break;

		case FW_OP__COUNT:
			elog(ERROR, "fraiseql_wire: bad operator");
	}
}

/* An operator object for the field at path: one CMP per operator, ANDed. */
static FwNode *
parse_operator_object(FwParseState *st, FwPair *pairs, int npairs,
					  char **path, int npath, const char *jpath)
{
	FwCastType	cast = FW_CAST_NONE;
	const char *cast_jpath = NULL;
	List	   *nodes = NIL;

	if (npath == 0)
	{
		for (int i = 0; i < npairs; i++)
			if (fw_op_lookup(pairs[i].key.val.string.val, pairs[i].key.val.string.len) != FW_OP__COUNT)
				FW_BAD(jp_key(jpath, pairs[i].key.val.string.val, pairs[i].key.val.string.len),
					   "Name the field first, as in {\"status\": {\"eq\": \"active\"}}.",
					   "An operator must apply to a field.");
	}

	/* "type" first, so that every operator knows it. */
	for (int i = 0; i < npairs; i++)
	{
		JsonbValue *k = &pairs[i].key;
		JsonbValue *v = &pairs[i].value;

		if (!key_is(k, "type"))
			continue;
		cast_jpath = jp_key(jpath, "type", 4);
		if (v->type == jbvString)
		{
			for (int c = 1; c < FW_CAST__COUNT; c++)
				if ((int) strlen(cast_names[c]) == v->val.string.len &&
					memcmp(cast_names[c], v->val.string.val, v->val.string.len) == 0)
					cast = (FwCastType) c;
		}
		if (cast == FW_CAST_NONE)
			FW_BAD(cast_jpath, TYPE_HINT, "\"type\" must name a type, not %s.", json_text(v));
	}

	for (int i = 0; i < npairs; i++)
	{
		JsonbValue *k = &pairs[i].key;
		FwOp		op;
		char	   *ojp;
		FwNode	   *node;

		CHECK_FOR_INTERRUPTS();
		if (key_is(k, "type"))
			continue;
		ojp = jp_key(jpath, k->val.string.val, k->val.string.len);
		op = fw_op_lookup(k->val.string.val, k->val.string.len);
		if (op == FW_OP__COUNT)
			FW_BAD(ojp, OPERATOR_HINT,
				   "\"%.*s\" is not an operator, and an object cannot mix operator keys with field or logic keys.",
				   pg_mbcliplen(k->val.string.val, k->val.string.len, 64), k->val.string.val);
		if (cast != FW_CAST_NONE && !fw_op_allows_cast(op))
			FW_BAD(cast_jpath, NULL,
				   "\"type\" applies to eq, neq, gt, gte, lt, lte, in and nin only, not to \"%s\".",
				   fw_op_name(op));

		count_node(st, ojp);
		node = new_node(FW_NODE_CMP);
		node->npath = npath;
		node->path = palloc(sizeof(char *) * npath);
		for (int p = 0; p < npath; p++)
			node->path[p] = pstrdup(path[p]);
		node->op = op;
		node->cast = cast;
		node->json_path = ojp;
		parse_operand(st, node, &pairs[i].value, ojp);
		own_operand(node, &pairs[i].value);
		/* elems must point into the owned operand, not into the filter */
		if (node->elems != NULL)
		{
			pfree(node->elems);
			node->elems = array_elems(node->operand.val.binary.data, &node->nelems);
		}
		nodes = lappend(nodes, node);
	}

	if (list_length(nodes) == 0)
		FW_BAD(cast_jpath, OPERATOR_HINT, "\"type\" needs an operator beside it.");
	if (list_length(nodes) == 1)
	{
		FwNode	   *n = linitial(nodes);

		list_free(nodes);
		return n;
	}
	{
		FwNode	   *and = new_node(FW_NODE_AND);

		and->args = nodes;
		and->json_path = jpath;
		return and;
	}
}

/*
 * A filter object for the field at path (npath 0: the document root).
 * Returns a single node; several keys are ANDed.
 */
static FwNode *
parse_object(FwParseState *st, JsonbContainer *obj, char **path, int npath,
			 const char *jpath, int depth)
{
	FwPair	   *pairs;
	int			npairs;
	bool		has_op = false;
	List	   *nodes = NIL;
	FwNode	   *and;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (depth > st->max_depth)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("filter exceeds fraiseql_wire.max_filter_depth at %s", short_path(jpath)),
				 errdetail("The filter is nested deeper than %d objects.", st->max_depth),
				 errhint("Simplify the filter or raise fraiseql_wire.max_filter_depth.")));

	/* each key but "type" is at least one node */
	reserve_nodes(st, (int) JsonContainerSize(obj) - 1, jpath);
	pairs = object_pairs(obj, &npairs);
	for (int i = 0; i < npairs; i++)
		if (fw_op_lookup(pairs[i].key.val.string.val, pairs[i].key.val.string.len) != FW_OP__COUNT)
			has_op = true;
	if (has_op)
	{
		FwNode	   *n = parse_operator_object(st, pairs, npairs, path, npath, jpath);

		pfree(pairs);
		return n;
	}

	for (int i = 0; i < npairs; i++)
	{
		JsonbValue *k = &pairs[i].key;
		JsonbValue *v = &pairs[i].value;
		char	   *kjp;

		CHECK_FOR_INTERRUPTS();
		kjp = jp_key(jpath, k->val.string.val, k->val.string.len);

		if (key_is(k, "and") || key_is(k, "or"))
		{
			bool		is_and = key_is(k, "and");
			FwNode	   *logic = new_node(is_and ? FW_NODE_AND : FW_NODE_OR);
			JsonbValue *elems;
			int			nelems;

			count_node(st, kjp);
			if (!is_array(v))
				FW_BAD(kjp, NULL, "The value of \"%s\" must be an array of filter objects, not %s.",
					   is_and ? "and" : "or", json_type_phrase(v));
			reserve_nodes(st, JsonContainerSize(v->val.binary.data), kjp);
			elems = array_elems(v->val.binary.data, &nelems);
			for (int e = 0; e < nelems; e++)
			{
				char	   *ejp = jp_index(kjp, e);

				CHECK_FOR_INTERRUPTS();

				if (!is_object(&elems[e]))
					FW_BAD(ejp, NULL, "The elements of \"%s\" must be filter objects, not %s.",
						   is_and ? "and" : "or", json_type_phrase(&elems[e]));
				logic->args = lappend(logic->args,
									  parse_object(st, elems[e].val.binary.data, path, npath,
												   ejp, depth + 1));
			}
			pfree(elems);
			logic->json_path = kjp;
			nodes = lappend(nodes, logic);
		}
		else if (key_is(k, "not"))
		{
			FwNode	   *not = new_node(FW_NODE_NOT);

			count_node(st, kjp);
			if (!is_object(v))
				FW_BAD(kjp, NULL, "The value of \"not\" must be a filter object, not %s.",
					   json_type_phrase(v));
			not->args = list_make1(parse_object(st, v->val.binary.data, path, npath,
												kjp, depth + 1));
			not->json_path = kjp;
			nodes = lappend(nodes, not);
		}
		else
		{
			char	  **sub;

			if (!is_object(v))
				FW_BAD(kjp, OPERATOR_HINT,
					   "\"%.*s\" is not an operator, so it names a field, and a field's value must be "
					   "an operator object like {\"eq\": ...} or an object of nested fields, not %s.",
					   pg_mbcliplen(k->val.string.val, k->val.string.len, 64), k->val.string.val,
					   json_type_phrase(v));
			if (JsonContainerSize(v->val.binary.data) == 0)
				FW_BAD(kjp, OPERATOR_HINT,
					   "The object for field \"%.*s\" is empty: it needs an operator or nested fields.",
					   pg_mbcliplen(k->val.string.val, k->val.string.len, 64), k->val.string.val);
			sub = palloc(sizeof(char *) * (npath + 1));
			for (int p = 0; p < npath; p++)
				sub[p] = path[p];
			sub[npath] = pnstrdup(k->val.string.val, k->val.string.len);
			nodes = lappend(nodes, parse_object(st, v->val.binary.data, sub, npath + 1,
												kjp, depth + 1));
			/* the nodes below copied what they keep: a filter's memory is its nodes */
			pfree(sub[npath]);
			pfree(sub);
		}
	}
	pfree(pairs);

	if (list_length(nodes) == 1)
	{
		FwNode	   *n = linitial(nodes);

		list_free(nodes);
		return n;
	}
	/*
	 * An empty object is a logic node of its own (TRUE); counting it keeps
	 * {"and": [{}, {}, ...]} within max_filter_nodes like any other node.
	 */
	if (nodes == NIL)
		count_node(st, jpath);
	and = new_node(FW_NODE_AND);
	and->args = nodes;
	and->json_path = jpath;
	return and;
}

FwNode *
fw_filter_parse(Jsonb *filter)
{
	FwParseState st;

	st.nodes = 0;
	st.max_nodes = fw_max_filter_nodes;
	st.max_depth = fw_max_filter_depth;

	if (!JB_ROOT_IS_OBJECT(filter))
	{
		JsonbValue	v;

		v.type = jbvBinary;
		v.val.binary.data = &filter->root;
		v.val.binary.len = VARSIZE(filter) - VARHDRSZ;
		if (JB_ROOT_IS_SCALAR(filter))
			JsonbExtractScalar(&filter->root, &v);
		FW_BAD("$", "An empty object {} matches every document.",
			   "A filter must be a JSON object, not %s.",
			   json_type_phrase(&v));
	}
	return parse_object(&st, &filter->root, NULL, 0, "$", 1);
}
