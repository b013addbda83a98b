/*
 * filter_sql.c — renders a parsed filter as SQL over a jsonb expression.
 *
 * The SQL is TRUE for exactly the documents fw_filter_eval() is TRUE for,
 * and keeps the three-valued logic: every comparison is a CASE on
 * jsonb_typeof() without ELSE, so that a missing field, a JSON null or a
 * value of the wrong type is NULL (UNKNOWN), as in the evaluator.  Strings
 * order under COLLATE "C" (code point order in UTF-8); lower(), ILIKE and
 * regular expressions use the database's default collation, as the
 * evaluator does.  Every key and value is a quoted literal.
 *
 * Where only TRUE versus not-TRUE matters (the root, and AND/OR below it but
 * not below NOT), an equality also emits `target @> '{"k": v}'` so that a
 * GIN index on the document can serve; the exact CASE is ANDed with it.
 */
#include "compat.h"

#include "catalog/pg_collation_d.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "filter.h"

typedef struct FwSql
{
	StringInfo	buf;
	const char *target;			/* "(expr)" */
	MemoryContext scratch;		/* one comparison's temporary strings */
} FwSql;

static void
append_literal(StringInfo buf, const char *s, int len)
{
	char	   *tmp = pnstrdup(s, len);

	appendStringInfoString(buf, quote_literal_cstr(tmp));
	pfree(tmp);
}

static char *
jsonb_text(const FwNode *node)
{
	return JsonbToCString(NULL, &node->operand_jsonb->root, VARSIZE(node->operand_jsonb));
}

static void
append_jsonb_literal(StringInfo buf, const char *json)
{
	appendStringInfoString(buf, quote_literal_cstr(json));
	appendStringInfoString(buf, "::jsonb");
}

/* The JSON text of one JsonbValue (scalar or binary). */
static char *
value_json(const JsonbValue *v)
{
	Jsonb	   *j = JsonbValueToJsonb((JsonbValue *) v);

	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

/* E: the jsonb at the path (NULL when missing); T: its text (->>). */
static void
append_path(FwSql *sql, const FwNode *node, bool as_text)
{
	appendStringInfoString(sql->buf, sql->target);
	for (int i = 0; i < node->npath; i++)
	{
		appendStringInfoString(sql->buf, (as_text && i == node->npath - 1) ? "->>" : "->");
		append_literal(sql->buf, node->path[i], strlen(node->path[i]));
	}
}

#define E(sql, node) append_path((sql), (node), false)
#define T(sql, node) append_path((sql), (node), true)

static void
case_when_type(FwSql *sql, const FwNode *node, const char *types)
{
	appendStringInfoString(sql->buf, "CASE WHEN jsonb_typeof(");
	E(sql, node);
	appendStringInfo(sql->buf, ") %s THEN ", types);
}

static const char *
sql_cmp(FwOp op)
{
	switch (op)
	{
		case FW_OP_EQ:
		case FW_OP_LEN_EQ:
			return "=";
		case FW_OP_NEQ:
		case FW_OP_LEN_NEQ:
			return "<>";
		case FW_OP_GT:
		case FW_OP_LEN_GT:
			return ">";
		case FW_OP_GTE:
		case FW_OP_LEN_GTE:
			return ">=";
		case FW_OP_LT:
		case FW_OP_LEN_LT:
			return "<";
		case FW_OP_LTE:
		case FW_OP_LEN_LTE:
			return "<=";
		default:
			return "?";
	}
}


static void
append_numeric(StringInfo buf, Numeric n)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));

	appendStringInfo(buf, "'%s'::numeric", s);
}

/*
 * "<value expr> <op> <literal>" for one plain (uncast) comparison of a value
 * already known to have the operand's JSON type.
 */
static void
append_plain_compare(FwSql *sql, const FwNode *node, FwOp op, const JsonbValue *operand)
{
	switch (operand->type)
	{
		case jbvString:
			T(sql, node);
			if (op != FW_OP_EQ && op != FW_OP_NEQ)
				appendStringInfoString(sql->buf, " COLLATE \"C\"");
			appendStringInfo(sql->buf, " %s ", sql_cmp(op));
			append_literal(sql->buf, operand->val.string.val, operand->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoChar(sql->buf, '(');
			E(sql, node);
			appendStringInfo(sql->buf, ")::numeric %s ", sql_cmp(op));
			append_numeric(sql->buf, operand->val.numeric);
			break;
		default:
			E(sql, node);
			appendStringInfo(sql->buf, " %s ", sql_cmp(op));
			append_jsonb_literal(sql->buf, value_json(operand));
			break;
	}
}

static void
append_cast_call(FwSql *sql, FwCastType cast, const FwNode *node, const JsonbValue *literal)
{
	appendStringInfo(sql->buf, "fraiseql_wire.as_%s(", fw_cast_name(cast));
	if (literal == NULL)
		E(sql, node);
	else
		append_jsonb_literal(sql->buf, value_json(literal));
	appendStringInfoChar(sql->buf, ')');
}

/* `target @> '{"k1":{"k2":operand}}'`: implied by eq being TRUE. */
static void
append_containment_hint(FwSql *sql, const FwNode *node)
{
	StringInfoData doc;

	initStringInfo(&doc);
	for (int i = 0; i < node->npath; i++)
	{
		appendStringInfoChar(&doc, '{');
		escape_json(&doc, node->path[i]);
		appendStringInfoChar(&doc, ':');
	}
	appendStringInfoString(&doc, jsonb_text(node));
	for (int i = 0; i < node->npath; i++)
		appendStringInfoChar(&doc, '}');
	appendStringInfoString(sql->buf, sql->target);
	appendStringInfoString(sql->buf, " @> ");
	append_jsonb_literal(sql->buf, doc.data);
	appendStringInfoString(sql->buf, " AND ");
}

/* in / nin without a cast: one CASE per JSON type of the list's elements. */
static void
render_list(FwSql *sql, const FwNode *node)
{
	static const char *const classes[] = {"string", "number", "boolean", "array", "object"};
	bool		is_in = (node->op == FW_OP_IN);
	int			ngroups = 0;

	if (node->nelems == 0)
	{
		appendStringInfoString(sql->buf, is_in ? "false" : "true");
		return;
	}
	appendStringInfoChar(sql->buf, '(');
	for (int c = 0; c < (int) lengthof(classes); c++)
	{
		bool		first = true;

		for (int i = 0; i < node->nelems; i++)
		{
			const JsonbValue *e = &node->elems[i];

			CHECK_FOR_INTERRUPTS();
			if (strcmp(fw_json_type_name(e), classes[c]) != 0)
				continue;
			if (first)
			{
				if (ngroups++ > 0)
					appendStringInfoString(sql->buf, is_in ? " OR " : " AND ");
				case_when_type(sql, node, psprintf("= '%s'", classes[c]));
				if (e->type == jbvString)
					T(sql, node);
				else if (e->type == jbvNumeric)
				{
					appendStringInfoChar(sql->buf, '(');
					E(sql, node);
					appendStringInfoString(sql->buf, ")::numeric");
				}
				else
					E(sql, node);
				appendStringInfoString(sql->buf, is_in ? " IN (" : " NOT IN (");
				first = false;
			}
			else
				appendStringInfoString(sql->buf, ", ");
			if (e->type == jbvString)
				append_literal(sql->buf, e->val.string.val, e->val.string.len);
			else if (e->type == jbvNumeric)
				append_numeric(sql->buf, e->val.numeric);
			else
				append_jsonb_literal(sql->buf, value_json(e));
		}
		if (!first)
			appendStringInfoString(sql->buf, ") END");
	}
	appendStringInfoChar(sql->buf, ')');
}

static void
render_cmp(FwSql *sql, const FwNode *node, bool truth_only)
{
	StringInfo	buf = sql->buf;
	const JsonbValue *opnd = &node->operand;
	FwOp		op = node->op;

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
				appendStringInfoChar(buf, '(');
				append_cast_call(sql, node->cast, node, NULL);
				if (node->cast == FW_CAST_TEXT)
					appendStringInfoString(buf, " COLLATE \"C\"");
				appendStringInfo(buf, " %s ", sql_cmp(op));
				append_cast_call(sql, node->cast, node, opnd);
				appendStringInfoChar(buf, ')');
				return;
			}
			appendStringInfoChar(buf, '(');
			if (op == FW_OP_EQ && truth_only)
				append_containment_hint(sql, node);
			case_when_type(sql, node, psprintf("= '%s'", fw_json_type_name(opnd)));
			append_plain_compare(sql, node, op, opnd);
			appendStringInfoString(buf, " END)");
			return;

		case FW_OP_IN:
		case FW_OP_NIN:
			if (node->cast == FW_CAST_NONE)
			{
				render_list(sql, node);
				return;
			}
			if (node->nelems == 0)
			{
				appendStringInfoString(buf, op == FW_OP_IN ? "false" : "true");
				return;
			}
			appendStringInfoChar(buf, '(');
			append_cast_call(sql, node->cast, node, NULL);
			appendStringInfoString(buf, op == FW_OP_IN ? " IN (" : " NOT IN (");
			for (int i = 0; i < node->nelems; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (i > 0)
					appendStringInfoString(buf, ", ");
				append_cast_call(sql, node->cast, node, &node->elems[i]);
			}
			appendStringInfoString(buf, "))");
			return;

		case FW_OP_ISNULL:
			appendStringInfoChar(buf, '(');
			E(sql, node);
			if (opnd->val.boolean)
			{
				appendStringInfoString(buf, " IS NULL OR jsonb_typeof(");
				E(sql, node);
				appendStringInfoString(buf, ") = 'null')");
			}
			else
			{
				appendStringInfoString(buf, " IS NOT NULL AND jsonb_typeof(");
				E(sql, node);
				appendStringInfoString(buf, ") <> 'null')");
			}
			return;

		case FW_OP_EXISTS:
			appendStringInfoChar(buf, '(');
			E(sql, node);
			appendStringInfoString(buf, opnd->val.boolean ? " IS NOT NULL)" : " IS NULL)");
			return;

		case FW_OP_CONTAINS:
			if (opnd->type == jbvString)
			{
				appendStringInfoString(buf, "(CASE jsonb_typeof(");
				E(sql, node);
				appendStringInfoString(buf, ") WHEN 'string' THEN strpos(");
				T(sql, node);
				appendStringInfoString(buf, " COLLATE \"C\", ");
				append_literal(buf, opnd->val.string.val, opnd->val.string.len);
				appendStringInfoString(buf, ") > 0 WHEN 'array' THEN ");
				E(sql, node);
				appendStringInfoString(buf, " @> ");
				append_jsonb_literal(buf, jsonb_text(node));
				appendStringInfoString(buf, " WHEN 'object' THEN false END)");
				return;
			}
			appendStringInfoChar(buf, '(');
			case_when_type(sql, node, "IN ('array', 'object')");
			E(sql, node);
			appendStringInfoString(buf, " @> ");
			append_jsonb_literal(buf, jsonb_text(node));
			appendStringInfoString(buf, " END)");
			return;

		case FW_OP_CONTAINED_BY:
			appendStringInfoChar(buf, '(');
			case_when_type(sql, node, "IN ('array', 'object')");
			E(sql, node);
			appendStringInfoString(buf, " <@ ");
			append_jsonb_literal(buf, jsonb_text(node));
			appendStringInfoString(buf, " END)");
			return;

		case FW_OP_OVERLAPS:
			appendStringInfoChar(buf, '(');
			case_when_type(sql, node, "= 'array'");
			if (node->nelems == 0)
				appendStringInfoString(buf, "false");
			else
			{
				appendStringInfoString(buf, "EXISTS (SELECT FROM jsonb_array_elements(");
				E(sql, node);
				appendStringInfoString(buf, ") AS fw_elem(v) WHERE fw_elem.v IN (");
				for (int i = 0; i < node->nelems; i++)
				{
					CHECK_FOR_INTERRUPTS();
					if (i > 0)
						appendStringInfoString(buf, ", ");
					append_jsonb_literal(buf, value_json(&node->elems[i]));
				}
				appendStringInfoString(buf, "))");
			}
			appendStringInfoString(buf, " END)");
			return;

		case FW_OP_HAS_KEY:
		case FW_OP_HAS_ANY_KEYS:
		case FW_OP_HAS_ALL_KEYS:
			appendStringInfoChar(buf, '(');
			case_when_type(sql, node, "= 'object'");
			E(sql, node);
			if (op == FW_OP_HAS_KEY)
			{
				appendStringInfoString(buf, " ? ");
				append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			}
			else
			{
				appendStringInfoString(buf, op == FW_OP_HAS_ANY_KEYS ? " ?| ARRAY[" : " ?& ARRAY[");
				for (int i = 0; i < node->nelems; i++)
				{
					CHECK_FOR_INTERRUPTS();
					if (i > 0)
						appendStringInfoString(buf, ", ");
					append_literal(buf, node->elems[i].val.string.val, node->elems[i].val.string.len);
				}
				appendStringInfoString(buf, "]::text[]");
			}
			appendStringInfoString(buf, " END)");
			return;

		case FW_OP_LEN_EQ:
		case FW_OP_LEN_NEQ:
		case FW_OP_LEN_GT:
		case FW_OP_LEN_GTE:
		case FW_OP_LEN_LT:
		case FW_OP_LEN_LTE:
			appendStringInfoChar(buf, '(');
			case_when_type(sql, node, "= 'array'");
			appendStringInfoString(buf, "jsonb_array_length(");
			E(sql, node);
			appendStringInfo(buf, ") %s %d END)", sql_cmp(op), node->len_value);
			return;

		default:
			break;
	}

	/* string operators: UNKNOWN on anything but a string */
	appendStringInfoChar(buf, '(');
	case_when_type(sql, node, "= 'string'");
	switch (op)
	{
		case FW_OP_STARTSWITH:
			appendStringInfoString(buf, "starts_with(");
			T(sql, node);
			appendStringInfoString(buf, " COLLATE \"C\", ");
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			appendStringInfoChar(buf, ')');
			break;
		case FW_OP_ENDSWITH:
			appendStringInfoString(buf, "right(");
			T(sql, node);
			appendStringInfo(buf, ", %d) = ",
							 pg_mbstrlen_with_len(opnd->val.string.val, opnd->val.string.len));
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			break;
		case FW_OP_ICONTAINS:
			appendStringInfoString(buf, "strpos(lower(");
			T(sql, node);
			appendStringInfoString(buf, "), lower(");
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			appendStringInfoString(buf, ")) > 0");
			break;
		case FW_OP_ISTARTSWITH:
			appendStringInfoString(buf, "starts_with(lower(");
			T(sql, node);
			appendStringInfoString(buf, "), lower(");
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			appendStringInfoString(buf, "))");
			break;
		case FW_OP_IENDSWITH:
			appendStringInfoString(buf, "right(lower(");
			T(sql, node);
			appendStringInfoString(buf, "), length(lower(");
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			appendStringInfoString(buf, "))) = lower(");
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			appendStringInfoChar(buf, ')');
			break;
		case FW_OP_LIKE:
		case FW_OP_ILIKE:
		case FW_OP_MATCHES:
		case FW_OP_IMATCHES:
			T(sql, node);
			appendStringInfoString(buf,
								   op == FW_OP_LIKE ? " COLLATE \"C\" LIKE " :
								   op == FW_OP_ILIKE ? " ILIKE " :
								   op == FW_OP_MATCHES ? " ~ " : " ~* ");
			append_literal(buf, opnd->val.string.val, opnd->val.string.len);
			break;
		default:
			elog(ERROR, "fraiseql_wire: operator %s has no SQL", fw_op_name(op));
	}
	appendStringInfoString(buf, " END)");
}

static void
render(FwSql *sql, const FwNode *node, bool truth_only)
{
	ListCell   *lc;

	check_stack_depth();
	switch (node->kind)
	{
		case FW_NODE_AND:
		case FW_NODE_OR:
			if (node->args == NIL)
			{
				appendStringInfoString(sql->buf, node->kind == FW_NODE_AND ? "true" : "false");
				return;
			}
			if (list_length(node->args) == 1)
			{
				render(sql, linitial(node->args), truth_only);
				return;
			}
			appendStringInfoChar(sql->buf, '(');
			foreach(lc, node->args)
			{
				CHECK_FOR_INTERRUPTS();
				if (lc != list_head(node->args))
					appendStringInfoString(sql->buf, node->kind == FW_NODE_AND ? " AND " : " OR ");
				render(sql, lfirst(lc), truth_only);
			}
			appendStringInfoChar(sql->buf, ')');
			return;
		case FW_NODE_NOT:
			appendStringInfoString(sql->buf, "(NOT ");
			render(sql, linitial(node->args), false);
			appendStringInfoChar(sql->buf, ')');
			return;
		case FW_NODE_CMP:
			{
				/*
				 * The literals of one comparison are garbage once appended:
				 * freed per comparison, so that memory follows the size of
				 * the SQL, not of the SQL times the filter.  buf grows in
				 * its own context (repalloc keeps a chunk's context).
				 */
				MemoryContext old = MemoryContextSwitchTo(sql->scratch);

				render_cmp(sql, node, truth_only);
				MemoryContextSwitchTo(old);
				MemoryContextReset(sql->scratch);
			}
			return;
	}
	elog(ERROR, "fraiseql_wire: bad filter node kind %d", (int) node->kind);
}

/* Whether `query` parses as "SELECT <one unnamed expression>". */
static bool
single_expression(const char *query)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *stmts = NIL;
	SelectStmt *s;

	PG_TRY();
	{
		stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* rethrown at once as our own error: nothing continues after it */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target expression for where_sql"),
				 errdetail("The target must be one SQL expression of type jsonb: %s.", edata->message),
				 errhint("Pass a column or expression such as 'data', 't.data' or 'data::jsonb'.")));
	}
	PG_END_TRY();

	if (list_length(stmts) != 1 || !IsA(((RawStmt *) linitial(stmts))->stmt, SelectStmt))
		return false;
	s = (SelectStmt *) ((RawStmt *) linitial(stmts))->stmt;
	return s->op == SETOP_NONE && list_length(s->targetList) == 1 &&
		s->fromClause == NIL && s->whereClause == NULL && s->groupClause == NIL &&
		s->havingClause == NULL && s->windowClause == NIL && s->sortClause == NIL &&
		s->limitCount == NULL && s->limitOffset == NULL && s->lockingClause == NIL &&
		s->withClause == NULL && s->intoClause == NULL && s->distinctClause == NIL &&
		s->valuesLists == NIL &&
		((ResTarget *) linitial(s->targetList))->name == NULL;
}

/*
 * The target must be one SQL expression: both "SELECT target" and
 * "SELECT (target)" must parse as a plain one-column SELECT, so that the
 * text cannot close the parenthesis it is put in, add clauses or
 * statements, or comment out the rest.
 */
static void
check_target(const char *target)
{
	if (!single_expression(psprintf("SELECT %s", target)) ||
		!single_expression(psprintf("SELECT (%s)", target)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target expression for where_sql"),
				 errdetail("The target must be exactly one SQL expression."),
				 errhint("Pass a column or expression such as 'data', 't.data' or 'data::jsonb'.")));
}

char *
fw_filter_to_sql(const FwNode *node, const char *target)
{
	StringInfoData buf;
	FwSql		sql;
	bool		null_doc_true;

	check_target(target);
	initStringInfo(&buf);
	sql.buf = &buf;
	sql.target = psprintf("(%s)", target);
	sql.scratch = AllocSetContextCreate(CurrentMemoryContext, "fraiseql_wire where_sql",
										ALLOCSET_DEFAULT_SIZES);

	/*
	 * matches() is STRICT: a NULL document never matches.  A filter that is
	 * TRUE with every field missing (isnull, exists: false, nin: [] …) would
	 * be TRUE on a NULL document too, so it is guarded.
	 */
	null_doc_true = fw_filter_eval(node, NULL, NULL);
	if (null_doc_true)
		appendStringInfo(&buf, "(%s IS NOT NULL AND ", sql.target);
	render(&sql, node, true);
	if (null_doc_true)
		appendStringInfoChar(&buf, ')');
	MemoryContextDelete(sql.scratch);
	return buf.data;
}
