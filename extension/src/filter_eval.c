/*
 * filter_eval.c — evaluates a parsed filter on one jsonb document.
 *
 * The document is walked directly (getKeyJsonValueFromContainer and the
 * jsonb iterators); no SQL is run or generated per row.  Three-valued logic
 * as in SQL: a comparison on a missing field, a JSON null or a value of the
 * wrong JSON type is UNKNOWN; NOT UNKNOWN is UNKNOWN.
 *
 * Where PostgreSQL has the operation, its own function is called so that the
 * semantics are those of the SQL that filter_sql.c renders: textlike (C
 * collation), texticlike / textregexeq / texticregexeq and lower() (database
 * default collation), JsonbDeepContains (@>, <@), compareJsonbContainers (=).
 */
#include "compat.h"

#include "catalog/pg_collation_d.h"
#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "filter.h"

typedef enum FwTruth
{
	FW_FALSE,
	FW_TRUE,
	FW_UNKNOWN
} FwTruth;

#define TRUTH(b) ((b) ? FW_TRUE : FW_FALSE)

/* ---------------------------------------------------------------------
 * Typed casts: strict text forms, so that nothing here can raise an error.
 * ---------------------------------------------------------------------
 */

bool
fw_ascii_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int
fw_ascii_number(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* [+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?, at most 1000 bytes and
 * an exponent of at most 1000 either way: numeric_in cannot fail on it. */
static bool
numeric_text_ok(const char *s, int len)
{
	int			i = 0;
	int			intd = 0,
				fracd = 0;

	if (len == 0 || len > 1000)
		return false;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, intd++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, fracd++;
	}
	if (intd + fracd == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		int			expd = 0;
		int			e = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			if (e <= 1000)
				e = e * 10 + (s[i] - '0');
			i++, expd++;
		}
		if (expd == 0 || e > 1000)
			return false;
	}
	return i == len;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 8-4-4-4-12 hex digits with hyphens, or 32 hex digits. */
static bool
parse_uuid(const char *s, int len, pg_uuid_t *out)
{
	int			b = 0;
	bool		hyphens = (len == 36);

	if (len != 36 && len != 32)
		return false;
	for (int i = 0; i < len;)
	{
		int			hi,
					lo;

		if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23))
		{
			if (s[i] != '-')
				return false;
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = (i + 1 < len) ? hexval(s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || b >= UUID_LEN)
			return false;
		out->data[b++] = (unsigned char) (hi * 16 + lo);
		i += 2;
	}
	return b == UUID_LEN;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* YYYY-MM-DD, years 0001-9999, a real day. */
static bool
parse_ymd(const char *s, int len, struct pg_tm *tm)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (len < 10 || !fw_ascii_digits(s, 4) || s[4] != '-' || !fw_ascii_digits(s + 5, 2) ||
		s[7] != '-' || !fw_ascii_digits(s + 8, 2))
		return false;
	tm->tm_year = fw_ascii_number(s, 4);
	tm->tm_mon = fw_ascii_number(s + 5, 2);
	tm->tm_mday = fw_ascii_number(s + 8, 2);
	if (tm->tm_year < 1 || tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1)
		return false;
	return tm->tm_mday <= mdays[tm->tm_mon - 1] + (tm->tm_mon == 2 && leap(tm->tm_year));
}

/*
 * YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,6}]]][Z|(+|-)HH[[:]MM]]: hours 00-23,
 * minutes and seconds 00-59, offsets up to 14:59.  *tz is the offset in
 * seconds east of UTC; *has_tz tells whether one was written.
 */
static bool
parse_timestamp(const char *s, int len, struct pg_tm *tm, fsec_t *fsec,
				int *tz, bool *has_tz)
{
	int			i = 10;

	memset(tm, 0, sizeof(*tm));
	*fsec = 0;
	*tz = 0;
	*has_tz = false;
	if (!parse_ymd(s, len, tm))
		return false;
	if (i < len && (s[i] == 'T' || s[i] == ' '))
	{
		i++;
		if (i + 5 > len || !fw_ascii_digits(s + i, 2) || s[i + 2] != ':' || !fw_ascii_digits(s + i + 3, 2))
			return false;
		tm->tm_hour = fw_ascii_number(s + i, 2);
		tm->tm_min = fw_ascii_number(s + i + 3, 2);
		i += 5;
		if (i < len && s[i] == ':')
		{
			if (i + 3 > len || !fw_ascii_digits(s + i + 1, 2))
				return false;
			tm->tm_sec = fw_ascii_number(s + i + 1, 2);
			i += 3;
			if (i < len && s[i] == '.')
			{
				int			nd = 0;
				int			f = 0;

				i++;
				while (i < len && s[i] >= '0' && s[i] <= '9' && nd < 7)
					f = f * 10 + (s[i++] - '0'), nd++;
				if (nd == 0 || nd > 6)
					return false;
				while (nd++ < 6)
					f *= 10;
				*fsec = f;
			}
		}
		if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 59)
			return false;
	}
	if (i < len)
	{
		int			sign,
					hh,
					mm = 0;

		if (s[i] == 'Z' && i + 1 == len)
		{
			*has_tz = true;
			return true;
		}
		if (s[i] != '+' && s[i] != '-')
			return false;
		sign = (s[i] == '-') ? -1 : 1;
		i++;
		if (i + 2 > len || !fw_ascii_digits(s + i, 2))
			return false;
		hh = fw_ascii_number(s + i, 2);
		i += 2;
		if (i < len && s[i] == ':')
			i++;
		if (i < len)
		{
			if (i + 2 != len || !fw_ascii_digits(s + i, 2))
				return false;
			mm = fw_ascii_number(s + i, 2);
			i += 2;
		}
		if (i != len || hh > 14 || mm > 59)
			return false;
		*tz = sign * (hh * 3600 + mm * 60);
		*has_tz = true;
	}
	return true;
}

bool
fw_cast_value(FwCastType cast, const JsonbValue *v, Datum *out)
{
	const char *s = NULL;
	int			len = 0;

	if (v->type == jbvString)
	{
		s = v->val.string.val;
		len = v->val.string.len;
	}
	else if (v->type != jbvNumeric && v->type != jbvBool)
		return false;

	switch (cast)
	{
		case FW_CAST_NONE:
			return false;

		case FW_CAST_NUMERIC:
			if (v->type == jbvNumeric)
			{
				*out = NumericGetDatum(v->val.numeric);
				return true;
			}
			if (s == NULL || !numeric_text_ok(s, len))
				return false;
			*out = DirectFunctionCall3(numeric_in, CStringGetDatum(pnstrdup(s, len)),
									   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
			return true;

		case FW_CAST_TEXT:
			if (v->type == jbvNumeric)
				*out = CStringGetTextDatum(DatumGetCString(
															DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric))));
			else if (v->type == jbvBool)
				*out = CStringGetTextDatum(v->val.boolean ? "true" : "false");
			else
				*out = PointerGetDatum(cstring_to_text_with_len(s, len));
			return true;

		case FW_CAST_BOOLEAN:
			{
				bool		b;

				if (v->type == jbvBool)
					b = v->val.boolean;
				else if (s == NULL || !parse_bool_with_len(s, len, &b))
					return false;
				*out = BoolGetDatum(b);
				return true;
			}

		case FW_CAST_UUID:
			{
				pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

				if (s == NULL || !parse_uuid(s, len, u))
					return false;
				*out = UUIDPGetDatum(u);
				return true;
			}

		case FW_CAST_DATE:
			{
				struct pg_tm tm;

				if (s == NULL || len != 10 || !parse_ymd(s, len, &tm))
					return false;
				*out = DateADTGetDatum(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) -
									   POSTGRES_EPOCH_JDATE);
				return true;
			}

		case FW_CAST_TIMESTAMP:
		case FW_CAST_TIMESTAMPTZ:
			{
				struct pg_tm tm;
				fsec_t		fsec;
				int			tz;
				bool		has_tz;
				Timestamp	ts;
				int			pgtz;

				if (s == NULL || !parse_timestamp(s, len, &tm, &fsec, &tz, &has_tz))
					return false;
				/* timestamp ignores a written offset, as PostgreSQL does;
				 * timestamptz without one is UTC (never the session's zone) */
				pgtz = -tz;		/* PostgreSQL counts seconds west of UTC */
				if (tm2timestamp(&tm, fsec, cast == FW_CAST_TIMESTAMPTZ ? &pgtz : NULL, &ts) != 0 ||
					!IS_VALID_TIMESTAMP(ts))
					return false;
				*out = TimestampGetDatum(ts);
				return true;
			}
	}
	return false;
}

int
fw_cast_compare(FwCastType cast, Datum a, Datum b)
{
	switch (cast)
	{
		case FW_CAST_NUMERIC:
			return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
		case FW_CAST_TEXT:
			{
				text	   *ta = DatumGetTextPP(a);
				text	   *tb = DatumGetTextPP(b);
				int			la = VARSIZE_ANY_EXHDR(ta);
				int			lb = VARSIZE_ANY_EXHDR(tb);
				int			c = memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), Min(la, lb));

				return c != 0 ? c : (la > lb) - (la < lb);
			}
		case FW_CAST_BOOLEAN:
			return (int) DatumGetBool(a) - (int) DatumGetBool(b);
		case FW_CAST_UUID:
			return memcmp(DatumGetUUIDP(a)->data, DatumGetUUIDP(b)->data, UUID_LEN);
		case FW_CAST_DATE:
			return (DatumGetDateADT(a) > DatumGetDateADT(b)) - (DatumGetDateADT(a) < DatumGetDateADT(b));
		case FW_CAST_TIMESTAMP:
		case FW_CAST_TIMESTAMPTZ:
			return (DatumGetTimestamp(a) > DatumGetTimestamp(b)) -
				(DatumGetTimestamp(a) < DatumGetTimestamp(b));
		case FW_CAST_NONE:
			break;
	}
	elog(ERROR, "fraiseql_wire: no cast to compare");
	return 0;
}

/* ---------------------------------------------------------------------
 * JSON values
 * ---------------------------------------------------------------------
 */

typedef enum FwJsonClass
{
	FW_J_NULL, FW_J_STRING, FW_J_NUMBER, FW_J_BOOL, FW_J_ARRAY, FW_J_OBJECT, FW_J_OTHER
} FwJsonClass;

static FwJsonClass
json_class(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return FW_J_NULL;
		case jbvString:
			return FW_J_STRING;
		case jbvNumeric:
			return FW_J_NUMBER;
		case jbvBool:
			return FW_J_BOOL;
		case jbvBinary:
			if (JsonContainerIsObject(v->val.binary.data))
				return FW_J_OBJECT;
			if (JsonContainerIsScalar(v->val.binary.data))
				return FW_J_OTHER;
			return FW_J_ARRAY;
		default:
			return FW_J_OTHER;
	}
}

static int
string_cmp(const JsonbValue *a, const JsonbValue *b)
{
	int			la = a->val.string.len;
	int			lb = b->val.string.len;
	int			c = memcmp(a->val.string.val, b->val.string.val, Min(la, lb));

	return c != 0 ? c : (la > lb) - (la < lb);
}

static int
numeric_cmp3(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a), NumericGetDatum(b)));
}

bool
fw_json_values_equal(const JsonbValue *a, const JsonbValue *b)
{
	FwJsonClass ca = json_class(a);

	if (ca != json_class(b))
		return false;
	switch (ca)
	{
		case FW_J_NULL:
			return true;
		case FW_J_STRING:
			return string_cmp(a, b) == 0;
		case FW_J_NUMBER:
			return numeric_cmp3(a->val.numeric, b->val.numeric) == 0;
		case FW_J_BOOL:
			return a->val.boolean == b->val.boolean;
		case FW_J_ARRAY:
		case FW_J_OBJECT:
			return compareJsonbContainers(a->val.binary.data, b->val.binary.data) == 0;
		default:
			return false;
	}
}

/* jsonb_contains(val, tmpl) on containers (val an array or object). */
static bool
container_contains(JsonbContainer *val, JsonbContainer *tmpl)
{
	JsonbIterator *it1,
			   *it2;

	if (JsonContainerIsObject(val) != JsonContainerIsObject(tmpl))
		return false;
	it1 = JsonbIteratorInit(val);
	it2 = JsonbIteratorInit(tmpl);
	return JsonbDeepContains(&it1, &it2);
}

/* The value at the node's path; false if it is missing. */
static bool
lookup(const FwNode *node, JsonbContainer *root, JsonbValue *out)
{
	JsonbContainer *c = root;

	for (int i = 0; i < node->npath; i++)
	{
		JsonbValue *r;

		if (c == NULL || !JsonContainerIsObject(c))
			return false;
		r = getKeyJsonValueFromContainer(c, node->path[i], strlen(node->path[i]), out);
		if (r == NULL)
			return false;
		if (i == node->npath - 1)
			return true;
		c = (r->type == jbvBinary) ? r->val.binary.data : NULL;
	}
	return false;
}

static FwTruth
from_cmp(FwOp op, int c)
{
	switch (op)
	{
		case FW_OP_EQ:
		case FW_OP_IN:
			return TRUTH(c == 0);
		case FW_OP_NEQ:
		case FW_OP_NIN:
			return TRUTH(c != 0);
		case FW_OP_GT:
			return TRUTH(c > 0);
		case FW_OP_GTE:
			return TRUTH(c >= 0);
		case FW_OP_LT:
			return TRUTH(c < 0);
		case FW_OP_LTE:
			return TRUTH(c <= 0);
		default:
			return FW_UNKNOWN;
	}
}

/*
 * eq … lte of the value v against one operand (op is eq/neq for in/nin).
 * v has been checked present and non-null; vcast is v cast (cast_ok false:
 * it does not cast).
 */
static FwTruth
compare_one(const FwNode *node, FwOp op, const JsonbValue *v, const JsonbValue *operand,
			bool cast_ok, Datum vcast, Datum opcast)
{
	FwJsonClass cv,
				co;

	if (node->cast != FW_CAST_NONE)
	{
		if (!cast_ok)
			return FW_UNKNOWN;
		return from_cmp(op, fw_cast_compare(node->cast, vcast, opcast));
	}
	cv = json_class(v);
	co = json_class(operand);
	if (cv != co)
		return FW_UNKNOWN;
	switch (cv)
	{
		case FW_J_STRING:
			return from_cmp(op, string_cmp(v, operand));
		case FW_J_NUMBER:
			return from_cmp(op, numeric_cmp3(v->val.numeric, operand->val.numeric));
		case FW_J_BOOL:
		case FW_J_ARRAY:
		case FW_J_OBJECT:
			if (op == FW_OP_EQ || op == FW_OP_IN)
				return TRUTH(fw_json_values_equal(v, operand));
			if (op == FW_OP_NEQ || op == FW_OP_NIN)
				return TRUTH(!fw_json_values_equal(v, operand));
			return FW_UNKNOWN;
		default:
			return FW_UNKNOWN;
	}
}

static bool
has_substring(const char *s, int slen, const char *sub, int sublen)
{
	if (sublen == 0)
		return true;
	for (int i = 0; i + sublen <= slen; i++)
	{
		/* quadratic at worst (a long document string, a long operand) */
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (s[i] == sub[0] && memcmp(s + i, sub, sublen) == 0)
			return true;
	}
	return false;
}

static FwTruth
eval_cmp(const FwNode *node, JsonbContainer *root)
{
	JsonbValue	v;
	bool		present = lookup(node, root, &v);
	FwOp		op = node->op;
	const JsonbValue *opnd = &node->operand;
	FwJsonClass cv;

	switch (op)
	{
		case FW_OP_ISNULL:
			return TRUTH((!present || v.type == jbvNull) == opnd->val.boolean);
		case FW_OP_EXISTS:
			return TRUTH(present == opnd->val.boolean);
		case FW_OP_IN:
		case FW_OP_NIN:
			{
				/* OR of eq / AND of neq, with SQL's rules for UNKNOWN */
				bool		is_in = (op == FW_OP_IN);
				FwTruth		acc = is_in ? FW_FALSE : FW_TRUE;
				bool		usable = present && v.type != jbvNull;
				Datum		vcast = (Datum) 0;
				bool		cast_ok = false;

				if (usable && node->cast != FW_CAST_NONE)
					cast_ok = fw_cast_value(node->cast, &v, &vcast);
				if (!usable)
					return node->nelems == 0 ? acc : FW_UNKNOWN;
				for (int i = 0; i < node->nelems; i++)
				{
					FwTruth		t;

					CHECK_FOR_INTERRUPTS();
					t = compare_one(node, op, &v, &node->elems[i], cast_ok, vcast,
									node->cast != FW_CAST_NONE ? node->cast_values[i] : (Datum) 0);
					if (t == (is_in ? FW_TRUE : FW_FALSE))
						return t;
					if (t == FW_UNKNOWN)
						acc = FW_UNKNOWN;
				}
				return acc;
			}
		default:
			break;
	}

	if (!present || v.type == jbvNull)
		return FW_UNKNOWN;
	cv = json_class(&v);

	switch (op)
	{
		case FW_OP_EQ:
		case FW_OP_NEQ:
		case FW_OP_GT:
		case FW_OP_GTE:
		case FW_OP_LT:
		case FW_OP_LTE:
			{
				Datum		vcast = (Datum) 0;
				bool		cast_ok = false;

				if (node->cast != FW_CAST_NONE)
					cast_ok = fw_cast_value(node->cast, &v, &vcast);
				return compare_one(node, op, &v, opnd, cast_ok, vcast,
								   node->cast != FW_CAST_NONE ? node->cast_values[0] : (Datum) 0);
			}

		case FW_OP_CONTAINS:
			if (cv == FW_J_ARRAY || cv == FW_J_OBJECT)
				return TRUTH(container_contains(v.val.binary.data, &node->operand_jsonb->root));
			if (cv == FW_J_STRING && opnd->type == jbvString)
				return TRUTH(has_substring(v.val.string.val, v.val.string.len,
										   opnd->val.string.val, opnd->val.string.len));
			return FW_UNKNOWN;

		case FW_OP_CONTAINED_BY:
			if (cv == FW_J_ARRAY || cv == FW_J_OBJECT)
				return TRUTH(container_contains(&node->operand_jsonb->root, v.val.binary.data));
			return FW_UNKNOWN;

		case FW_OP_OVERLAPS:
			{
				JsonbIterator *it;
				JsonbValue	e;
				JsonbIteratorToken tok;

				if (cv != FW_J_ARRAY)
					return FW_UNKNOWN;
				it = JsonbIteratorInit(v.val.binary.data);
				while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
				{
					if (tok != WJB_ELEM)
						continue;
					/* elements x operand elements: can be long for one row */
					CHECK_FOR_INTERRUPTS();
					for (int i = 0; i < node->nelems; i++)
						if (fw_json_values_equal(&e, &node->elems[i]))
							return FW_TRUE;
				}
				return FW_FALSE;
			}

		case FW_OP_HAS_KEY:
		case FW_OP_HAS_ANY_KEYS:
		case FW_OP_HAS_ALL_KEYS:
			{
				JsonbValue	tmp;

				if (cv != FW_J_OBJECT)
					return FW_UNKNOWN;
				if (op == FW_OP_HAS_KEY)
					return TRUTH(getKeyJsonValueFromContainer(v.val.binary.data, opnd->val.string.val,
															  opnd->val.string.len, &tmp) != NULL);
				for (int i = 0; i < node->nelems; i++)
				{
					bool		has;

					CHECK_FOR_INTERRUPTS();
					has = getKeyJsonValueFromContainer(v.val.binary.data,
													   node->elems[i].val.string.val,
													   node->elems[i].val.string.len,
													   &tmp) != NULL;

					if (op == FW_OP_HAS_ANY_KEYS && has)
						return FW_TRUE;
					if (op == FW_OP_HAS_ALL_KEYS && !has)
						return FW_FALSE;
				}
				return TRUTH(op == FW_OP_HAS_ALL_KEYS);
			}

		case FW_OP_LEN_EQ:
		case FW_OP_LEN_NEQ:
		case FW_OP_LEN_GT:
		case FW_OP_LEN_GTE:
		case FW_OP_LEN_LT:
		case FW_OP_LEN_LTE:
			{
				int64		n;
				int64		want = node->len_value;
				int			c;

				if (cv != FW_J_ARRAY)
					return FW_UNKNOWN;
				n = JsonContainerSize(v.val.binary.data);
				c = (n > want) - (n < want);
				return from_cmp(op == FW_OP_LEN_EQ ? FW_OP_EQ : op == FW_OP_LEN_NEQ ? FW_OP_NEQ :
								op == FW_OP_LEN_GT ? FW_OP_GT : op == FW_OP_LEN_GTE ? FW_OP_GTE :
								op == FW_OP_LEN_LT ? FW_OP_LT : FW_OP_LTE, c);
			}

		default:
			break;
	}

	/* the string operators */
	if (cv != FW_J_STRING)
		return FW_UNKNOWN;
	{
		const char *s = v.val.string.val;
		int			len = v.val.string.len;
		const char *p = opnd->val.string.val;
		int			plen = opnd->val.string.len;

		switch (op)
		{
			case FW_OP_STARTSWITH:
				return TRUTH(len >= plen && memcmp(s, p, plen) == 0);
			case FW_OP_ENDSWITH:
				return TRUTH(len >= plen && memcmp(s + len - plen, p, plen) == 0);
			case FW_OP_ICONTAINS:
			case FW_OP_ISTARTSWITH:
			case FW_OP_IENDSWITH:
				{
					char	   *ls = str_tolower(s, len, DEFAULT_COLLATION_OID);
					int			llen = strlen(ls);
					const char *f = node->folded;
					int			flen = node->folded_len;

					if (op == FW_OP_ICONTAINS)
						return TRUTH(has_substring(ls, llen, f, flen));
					if (op == FW_OP_ISTARTSWITH)
						return TRUTH(llen >= flen && memcmp(ls, f, flen) == 0);
					return TRUTH(llen >= flen && memcmp(ls + llen - flen, f, flen) == 0);
				}
			case FW_OP_LIKE:
			case FW_OP_ILIKE:
			case FW_OP_MATCHES:
			case FW_OP_IMATCHES:
				{
					Datum		vt = PointerGetDatum(cstring_to_text_with_len(s, len));
					Datum		pt = PointerGetDatum(cstring_to_text_with_len(p, plen));
					Datum		r;

					if (op == FW_OP_LIKE)
						r = DirectFunctionCall2Coll(textlike, C_COLLATION_OID, vt, pt);
					else if (op == FW_OP_ILIKE)
						r = DirectFunctionCall2Coll(texticlike, DEFAULT_COLLATION_OID, vt, pt);
					else if (op == FW_OP_MATCHES)
						r = DirectFunctionCall2Coll(textregexeq, DEFAULT_COLLATION_OID, vt, pt);
					else
						r = DirectFunctionCall2Coll(texticregexeq, DEFAULT_COLLATION_OID, vt, pt);
					return TRUTH(DatumGetBool(r));
				}
			default:
				return FW_UNKNOWN;
		}
	}
}

static FwTruth
eval_node(const FwNode *node, JsonbContainer *root)
{
	ListCell   *lc;
	FwTruth		acc;

	check_stack_depth();
	switch (node->kind)
	{
		case FW_NODE_AND:
			acc = FW_TRUE;
			foreach(lc, node->args)
			{
				FwTruth		t;

				CHECK_FOR_INTERRUPTS();
				t = eval_node(lfirst(lc), root);
				if (t == FW_FALSE)
					return FW_FALSE;
				if (t == FW_UNKNOWN)
					acc = FW_UNKNOWN;
			}
			return acc;
		case FW_NODE_OR:
			acc = FW_FALSE;
			foreach(lc, node->args)
			{
				FwTruth		t;

				CHECK_FOR_INTERRUPTS();
				t = eval_node(lfirst(lc), root);
				if (t == FW_TRUE)
					return FW_TRUE;
				if (t == FW_UNKNOWN)
					acc = FW_UNKNOWN;
			}
			return acc;
		case FW_NODE_NOT:
			acc = eval_node(linitial(node->args), root);
			return acc == FW_UNKNOWN ? FW_UNKNOWN : acc == FW_TRUE ? FW_FALSE : FW_TRUE;
		case FW_NODE_CMP:
			return eval_cmp(node, root);
	}
	elog(ERROR, "fraiseql_wire: bad filter node kind %d", (int) node->kind);
	return FW_UNKNOWN;
}

bool
fw_filter_eval(const FwNode *node, Jsonb *doc, bool *is_unknown)
{
	FwTruth		t = eval_node(node, doc != NULL ? &doc->root : NULL);

	if (is_unknown != NULL)
		*is_unknown = (t == FW_UNKNOWN);
	return t == FW_TRUE;
}
