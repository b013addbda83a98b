/*
 * support_compare.c — one comparison of a filter, on a field that a v_ view
 * renders from the SQL expression e, mapped onto e: SQL that has the
 * filter's three-valued result on every row (docs/pushdown.md lists the
 * rules), or NULL when no such SQL is known and the comparison stays in
 * matches().
 *
 * What a comparison means on the rendered JSON depends on how e's type
 * renders (SpKind): integers are always JSON numbers, numeric NaN and
 * ±Infinity are strings, text compares in code point order, dates and
 * timestamps are ISO strings, uuids lower-case strings.  Where the JSON
 * comparison is UNKNOWN on part of e's values a guard says so (where the
 * node is positive a plain conjunct, else CASE WHEN).
 */
#include "compat.h"

#include "catalog/pg_collation_d.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/pg_locale.h"
#include "utils/uuid.h"

#include "support_compare.h"
#include "support_nodes.h"

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

/* ---- integers */

static bool
sp_numeric_to_int8(Numeric n, int64 *out)
{
	static const char *const bounds[2] = {"-9223372036854775808", "9223372036854775807"};
	Datum		d = NumericGetDatum(n);

	if (numeric_is_nan(n) || numeric_is_inf(n))
		return false;
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, d,
										  NumericGetDatum(fw_sp_numeric_from_cstring(bounds[0])))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, d,
										  NumericGetDatum(fw_sp_numeric_from_cstring(bounds[1])))) > 0)
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
				return fw_sp_op(ltype, INT8OID, op, e, (Node *) makeConst(INT8OID, -1, InvalidOid, 8,
																		  Int64GetDatum(i), false, FLOAT8PASSBYVAL),
								InvalidOid);
			/* x < 10.5 and x <= 10.5 are x <= 10; x > 10.5 and x >= 10.5 are x >= 11 */
			if (op == FW_OP_LT || op == FW_OP_LTE)
				return fw_sp_op(ltype, INT8OID, FW_OP_LTE, e,
								(Node *) makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum(i), false,
												   FLOAT8PASSBYVAL), InvalidOid);
			if ((op == FW_OP_GT || op == FW_OP_GTE) && i < PG_INT64_MAX)
				return fw_sp_op(ltype, INT8OID, FW_OP_GTE, e,
								(Node *) makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum(i + 1), false,
												   FLOAT8PASSBYVAL), InvalidOid);
		}
	}
	castfn = ltype == INT2OID ? F_NUMERIC_INT2 : ltype == INT4OID ? F_NUMERIC_INT4 : F_NUMERIC_INT8;
	return fw_sp_op(NUMERICOID, NUMERICOID, op,
					(Node *) makeFuncExpr(castfn, NUMERICOID, list_make1(copyObject(e)), InvalidOid,
										  InvalidOid, COERCE_EXPLICIT_CAST),
					fw_sp_numeric_const(c), InvalidOid);
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
		return fw_sp_and(list_make2(cmp, guard));
	return fw_sp_case_when(guard, cmp);
}

/* lo < e < hi (strict) or lo <= e <= hi, with e's own operators */
static Node *
sp_range(Oid type, Node *e, Node *lo, Node *hi, bool strict)
{
	Node	   *a = fw_sp_op(type, type, strict ? FW_OP_GT : FW_OP_GTE, e, lo, InvalidOid);
	Node	   *b = fw_sp_op(type, type, strict ? FW_OP_LT : FW_OP_LTE, e, hi, InvalidOid);

	if (a == NULL || b == NULL)
		return NULL;
	return fw_sp_and(list_make2(a, b));
}

/*
 * A numeric column renders NaN and ±Infinity as JSON strings, so against a
 * number (or a "type": "numeric" operand, whose strict form has no NaN or
 * Infinity either) they are UNKNOWN while SQL would compare them.
 */
static Node *
sp_numeric_finite(Node *e)
{
	return sp_range(NUMERICOID, e, fw_sp_numeric_const(fw_sp_numeric_from_cstring("-Infinity")),
					fw_sp_numeric_const(fw_sp_numeric_from_cstring("Infinity")), true);
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
											 (Expr *) fw_sp_text_const(pattern, len),
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

	return fw_sp_op(TEXTOID, TEXTOID, op, sp_as_text(e), c, sp_text_collation(e, ordering));
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
			return fw_sp_null_bool();

		case SP_NUMERIC:
			if (v->type == jbvNumeric)
				return sp_guarded(fw_sp_op(NUMERICOID, NUMERICOID, op, e,
										   fw_sp_numeric_const(v->val.numeric), InvalidOid),
								  sp_numeric_finite(e), positive);
			/* NaN/Infinity render as strings: a string operand may match them */
			if (v->type == jbvString)
				return NULL;
			return fw_sp_null_bool();

		case SP_TEXT:
			if (v->type == jbvString)
				return sp_map_text(e, op, fw_sp_text_const(v->val.string.val, v->val.string.len));
			return fw_sp_null_bool();

		case SP_BOOL:
			if (v->type == jbvBool && (op == FW_OP_EQ || op == FW_OP_NEQ))
				return fw_sp_op(BOOLOID, BOOLOID, op, e, makeBoolConst(v->val.boolean, false),
								InvalidOid);
			if (v->type == jbvBool)
				return NULL;
			return fw_sp_null_bool();

		case SP_DATE:
		case SP_TIMESTAMP:
			if (v->type == jbvString)
			{
				Oid			type = kind == SP_DATE ? DATEOID : TIMESTAMPOID;
				Datum		d;

				if ((op == FW_OP_EQ || op == FW_OP_NEQ) && sp_datetime_canonical(type, v, &d))
					return fw_sp_op(type, type, op, e,
									(Node *) makeConst(type, -1, InvalidOid, kind == SP_DATE ? 4 : 8, d,
													   false, kind == SP_DATE ? true : FLOAT8PASSBYVAL),
									InvalidOid);
				return NULL;
			}
			return fw_sp_null_bool();

		case SP_TIMESTAMPTZ:
			/* the rendering depends on the session's TimeZone: residual */
			if (v->type == jbvString)
				return NULL;
			return fw_sp_null_bool();

		case SP_UUID:
			if (v->type == jbvString)
			{
				Datum		d;

				/* canonical strings order like the uuids they spell */
				if (sp_uuid_canonical(v, &d))
					return fw_sp_op(UUIDOID, UUIDOID, op, e,
									(Node *) makeConst(UUIDOID, -1, InvalidOid, UUID_LEN, d, false, false),
									InvalidOid);
				return NULL;
			}
			return fw_sp_null_bool();

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
sp_map_typed(Oid as_timestamptz, Node *e, SpKind kind, FwCastType cast, FwOp op, Datum c,
			 bool positive)
{
	switch (cast)
	{
		case FW_CAST_NUMERIC:
			if (kind == SP_INT)
				return sp_map_int(e, op, DatumGetNumeric(c));
			if (kind == SP_NUMERIC)
				return sp_guarded(fw_sp_op(NUMERICOID, NUMERICOID, op, e,
										   fw_sp_numeric_const(DatumGetNumeric(c)), InvalidOid),
								  sp_numeric_finite(e), positive);
			break;
		case FW_CAST_TEXT:
			if (kind == SP_TEXT)
				return sp_map_text(e, op, (Node *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
															 c, false, false));
			break;
		case FW_CAST_BOOLEAN:
			if (kind == SP_BOOL)
				return fw_sp_op(BOOLOID, BOOLOID, op, e, makeBoolConst(DatumGetBool(c), false),
								InvalidOid);
			break;
		case FW_CAST_UUID:
			if (kind == SP_UUID)
				return fw_sp_op(UUIDOID, UUIDOID, op, e,
								(Node *) makeConst(UUIDOID, -1, InvalidOid, UUID_LEN, c, false, false),
								InvalidOid);
			break;
		case FW_CAST_DATE:
			if (kind == SP_DATE)
				return sp_guarded(fw_sp_op(DATEOID, DATEOID, op, e,
										   (Node *) makeConst(DATEOID, -1, InvalidOid, 4, c, false, true),
										   InvalidOid),
								  sp_datetime_range(DATEOID, e), positive);
			break;
		case FW_CAST_TIMESTAMP:
			if (kind == SP_TIMESTAMP)
				return sp_guarded(fw_sp_op(TIMESTAMPOID, TIMESTAMPOID, op, e,
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
			if (kind == SP_TIMESTAMPTZ && OidIsValid(as_timestamptz))
			{
				NullTest   *nt = makeNode(NullTest);

				nt->arg = (Expr *) makeFuncExpr(as_timestamptz, TIMESTAMPTZOID,
												list_make1(makeFuncExpr(F_TO_JSONB, JSONBOID,
																		list_make1(copyObject(e)),
																		InvalidOid, InvalidOid,
																		COERCE_EXPLICIT_CALL)),
												InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
				nt->nulltesttype = IS_NOT_NULL;
				nt->argisrow = false;
				nt->location = -1;
				return sp_guarded(fw_sp_op(TIMESTAMPTZOID, TIMESTAMPTZOID, op, e,
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
JsonbValue *
fw_sp_operand_elems(const FwNode *n, int *count)
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
				sa = fw_sp_saop(exprType(e), INT8OID, in, e, values, nvalues, InvalidOid);
				break;
			case SP_NUMERIC:
				sa = sp_guarded(fw_sp_saop(NUMERICOID, NUMERICOID, in, e, values, nvalues, InvalidOid),
								sp_numeric_finite(e), positive);
				break;
			case SP_TEXT:
				sa = fw_sp_saop(TEXTOID, TEXTOID, in, sp_as_text(e), values, nvalues,
								sp_text_collation(e, false));
				break;
			case SP_BOOL:
				sa = fw_sp_saop(BOOLOID, BOOLOID, in, e, values, nvalues, InvalidOid);
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
	return in ? fw_sp_or(arms) : fw_sp_and(arms);
}

/*
 * The comparison n on the field whose value the view renders from e: SQL
 * with the filter's three-valued result, or NULL when it must stay in
 * matches().  as_timestamptz is fraiseql_wire.as_timestamptz(jsonb), or
 * InvalidOid.
 */
Node *
fw_sp_map_field(Node *e, const FwNode *n, Oid as_timestamptz, bool positive)
{
	SpKind		kind;
	Node	   *r = NULL;

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
				a = sp_map_typed(as_timestamptz, e, kind, n->cast,
								 n->op == FW_OP_IN ? FW_OP_EQ : FW_OP_NEQ,
								 n->cast_values[i], positive);
				if (a == NULL)
					return NULL;
				arms = lappend(arms, a);
			}
			if (r == NULL)
				r = n->op == FW_OP_IN ? fw_sp_or(arms) : fw_sp_and(arms);
		}
		else if (n->op <= FW_OP_LTE)
			r = sp_map_typed(as_timestamptz, e, kind, n->cast, n->op, n->cast_values[0], positive);
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
				JsonbValue *elems = fw_sp_operand_elems(n, &count);

				if (elems != NULL)
					r = sp_map_list(e, kind, n->op == FW_OP_IN, elems, count, positive);
			}
			break;

		case FW_OP_ISNULL:
			/* none of these kinds renders a non-NULL value as JSON null */
			r = fw_sp_nulltest(e, n->operand.val.boolean);
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
	return r;
}
