/*
 * document.c — the JSON document renderer of v_ views:
 * fraiseql_wire.json_document(VARIADIC "any") and
 * fraiseql_wire.json_document_concat(VARIADIC "any").
 *
 * json_document(key, value, ...) returns the same JSON value as
 * json_build_object(key, value, ...) (docs/extension.md), written compactly
 * ({"k":1,"s":"x"}) straight from the row:
 *   - the keys of a call site are constants in a view, so they are escaped
 *     once, at the first call, and kept with the separator in fn_extra;
 *   - each argument's type is categorised once (to_json's rules: domains
 *     look through to their base type, arrays, composites, json/jsonb, a
 *     non-built-in type's cast to json, and every other type through its
 *     output function as a JSON string);
 *   - int2/4/8, bool, text/varchar/name, uuid and json are written without
 *     an output function call; numeric and float through their output
 *     function (so extra_float_digits applies), a string when the text is
 *     not a JSON number (NaN, Infinity); date/timestamp/timestamptz through
 *     JsonEncodeDateTime, as to_json does; jsonb through JsonbToCString into
 *     the result buffer; arrays element by element with the element type
 *     cached; composites and casts through row_to_json / the cast function.
 * No catalog lookup happens per row except inside row_to_json (composites)
 * and for an array whose element type differs from the previous row's.
 *
 * A function call takes at most 100 arguments (50 keys);
 * json_document_concat() joins several json_document() objects into one, so
 * that a document has no key limit.  The planner support (support_viewdoc.c) traces
 * keys through both, as through json_build_object() and ||.
 */
#include "compat.h"

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "parser/parse_coerce.h"
#include "parser/scansup.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

/* How one argument's values are written (to_json's categories, refined). */
typedef enum DocKind
{
	DK_UNKNOWN,					/* an unknown-type literal: a C string */
	DK_INT2,
	DK_INT4,
	DK_INT8,
	DK_FLOAT,					/* float4/8: output function; a string unless a JSON number */
	DK_NUMERIC,					/* the same through numeric_out */
	DK_BOOL,
	DK_TEXT,					/* text, varchar: the bytes of the varlena */
	DK_NAME,
	DK_UUID,
	DK_DATE,					/* JsonEncodeDateTime */
	DK_TIMESTAMP,
	DK_TIMESTAMPTZ,
	DK_JSON,					/* embedded verbatim */
	DK_JSONB,					/* JsonbToCString */
	DK_ARRAY,					/* element by element */
	DK_COMPOSITE,				/* row_to_json */
	DK_CAST,					/* a non-built-in type's cast to json */
	DK_OTHER					/* output function, as a JSON string */
} DocKind;

typedef struct DocType
{
	DocKind		kind;
	Oid			base;			/* the type, domains looked through */
	FmgrInfo	proc;			/* output or cast function (FLOAT, CAST, OTHER) */
	MemoryContext mcxt;			/* where elem lives */
	/* DK_ARRAY: the element type of the last array seen */
	Oid			elemtype;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	struct DocType *elem;
} DocType;

/* One call site of json_document(), cached in fn_extra. */
typedef struct DocCall
{
	int			nargs;
	DocType    *types;			/* per argument, keys included */
	char	  **prefix;			/* per pair: [,]"key": escaped, or NULL */
	int		   *prefix_len;
	int			last_len;		/* the previous document's size */
} DocCall;

static void doc_value(StringInfo out, DocType *t, Datum v);

/* ----------------------------------------------------------- primitives */

static const char doc_hex[] = "0123456789abcdef";

/* doc_append() without the call when the bytes fit. */
static inline void
doc_append(StringInfo out, const char *data, int len)
{
	if (unlikely(out->len + len >= out->maxlen))
		enlargeStringInfo(out, len);
	memcpy(out->data + out->len, data, len);
	out->len += len;
}

/* str as a JSON string, escaped exactly as escape_json() does. */
static void
doc_escape(StringInfo out, const char *str, int len)
{
	const unsigned char *p = (const unsigned char *) str;
	const unsigned char *end = p + len;
	const unsigned char *run = p;

	enlargeStringInfo(out, len + 2);
	out->data[out->len++] = '"';
	while (p < end)
	{
		unsigned char c = *p;
		char		esc[6];
		int			elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
		{
			p++;
			continue;
		}
		if (p > run)
			doc_append(out, (const char *) run, p - run);
		esc[0] = '\\';
		switch (c)
		{
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			case '"':
			case '\\':
				esc[1] = (char) c;
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = doc_hex[c >> 4];
				esc[5] = doc_hex[c & 15];
				elen = 6;
				break;
		}
		doc_append(out, esc, elen);
		p++;
		run = p;
	}
	if (p > run)
		doc_append(out, (const char *) run, p - run);
	appendStringInfoCharMacro(out, '"');
}

/* A number's text: as is when it is a JSON number, else a string (NaN). */
static void
doc_number_text(StringInfo out, char *s)
{
	int			len = strlen(s);

	if (IsValidJsonNumber(s, len))
		doc_append(out, s, len);
	else
		doc_escape(out, s, len);
	pfree(s);
}

static void
doc_uuid(StringInfo out, const pg_uuid_t *u)
{
	char	   *p;

	enlargeStringInfo(out, 38);
	p = out->data + out->len;
	*p++ = '"';
	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = doc_hex[u->data[i] >> 4];
		*p++ = doc_hex[u->data[i] & 15];
	}
	*p++ = '"';
	out->len = p - out->data;
	out->data[out->len] = '\0';
}

static void
doc_varlena_verbatim(StringInfo out, Datum v)
{
	text	   *t = DatumGetTextPP(v);

	doc_append(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if ((Pointer) t != DatumGetPointer(v))
		pfree(t);
}

/* ------------------------------------------------------ categorisation */

/* json_categorize_type()'s rules (to_json), with fast paths for built-ins. */
static void
doc_type_init(DocType *t, Oid typid, MemoryContext mcxt)
{
	Oid			base = getBaseType(typid);
	Oid			outfn;
	bool		isvarlena;

	memset(t, 0, sizeof(*t));
	t->base = base;
	t->mcxt = mcxt;
	switch (base)
	{
		case UNKNOWNOID:
			t->kind = DK_UNKNOWN;
			return;
		case BOOLOID:
			t->kind = DK_BOOL;
			return;
		case INT2OID:
			t->kind = DK_INT2;
			return;
		case INT4OID:
			t->kind = DK_INT4;
			return;
		case INT8OID:
			t->kind = DK_INT8;
			return;
		case NUMERICOID:
			t->kind = DK_NUMERIC;
			return;
		case FLOAT4OID:
		case FLOAT8OID:
			t->kind = DK_FLOAT;
			getTypeOutputInfo(base, &outfn, &isvarlena);
			fmgr_info_cxt(outfn, &t->proc, mcxt);
			return;
		case TEXTOID:
		case VARCHAROID:
			t->kind = DK_TEXT;
			return;
		case NAMEOID:
			t->kind = DK_NAME;
			return;
		case UUIDOID:
			t->kind = DK_UUID;
			return;
		case DATEOID:
			t->kind = DK_DATE;
			return;
		case TIMESTAMPOID:
			t->kind = DK_TIMESTAMP;
			return;
		case TIMESTAMPTZOID:
			t->kind = DK_TIMESTAMPTZ;
			return;
		case JSONOID:
			t->kind = DK_JSON;
			return;
		case JSONBOID:
			t->kind = DK_JSONB;
			return;
		default:
			break;
	}
	if (OidIsValid(get_element_type(base)) || base == ANYARRAYOID ||
		base == ANYCOMPATIBLEARRAYOID || base == RECORDARRAYOID)
	{
		t->kind = DK_ARRAY;
		return;
	}
	if (type_is_rowtype(base))
	{
		t->kind = DK_COMPOSITE;
		return;
	}
	if (base >= FirstNormalObjectId)
	{
		Oid			castfn;

		if (find_coercion_pathway(JSONOID, base, COERCION_EXPLICIT, &castfn) == COERCION_PATH_FUNC &&
			OidIsValid(castfn))
		{
			t->kind = DK_CAST;
			fmgr_info_cxt(castfn, &t->proc, mcxt);
			return;
		}
	}
	t->kind = DK_OTHER;
	getTypeOutputInfo(base, &outfn, &isvarlena);
	fmgr_info_cxt(outfn, &t->proc, mcxt);
}

/* ------------------------------------------------------------- values */

static void
doc_array_dim(StringInfo out, DocType *et, int dim, int ndims, const int *dims,
			  const Datum *vals, const bool *nulls, int *k)
{
	appendStringInfoCharMacro(out, '[');
	for (int i = 0; i < dims[dim]; i++)
	{
		if (i > 0)
			appendStringInfoCharMacro(out, ',');
		if (dim + 1 == ndims)
		{
			if ((*k & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();	/* arrays can be long */
			if (nulls[*k])
				doc_append(out, "null", 4);
			else
				doc_value(out, et, vals[*k]);
			(*k)++;
		}
		else
			doc_array_dim(out, et, dim + 1, ndims, dims, vals, nulls, k);
	}
	appendStringInfoCharMacro(out, ']');
}

/* As array_to_json(): nested brackets per dimension, "[]" when empty. */
static void
doc_array(StringInfo out, DocType *t, Datum v)
{
	ArrayType  *arr = DatumGetArrayTypeP(v);
	int			ndim = ARR_NDIM(arr);
	int		   *dims = ARR_DIMS(arr);
	int			nitems = ArrayGetNItems(ndim, dims);
	Oid			et = ARR_ELEMTYPE(arr);
	Datum	   *vals;
	bool	   *nulls;
	int			k = 0;

	if (nitems <= 0)
	{
		doc_append(out, "[]", 2);
		return;
	}
	if (t->elem == NULL || t->elemtype != et)
	{
		if (t->elem == NULL)
			t->elem = MemoryContextAlloc(t->mcxt, sizeof(DocType));
		doc_type_init(t->elem, et, t->mcxt);
		get_typlenbyvalalign(et, &t->elmlen, &t->elmbyval, &t->elmalign);
		t->elemtype = et;
	}
	deconstruct_array(arr, et, t->elmlen, t->elmbyval, t->elmalign, &vals, &nulls, &nitems);
	doc_array_dim(out, t->elem, 0, ndim, dims, vals, nulls, &k);
	pfree(vals);
	pfree(nulls);
	if ((Pointer) arr != DatumGetPointer(v))
		pfree(arr);
}

static void
doc_value(StringInfo out, DocType *t, Datum v)
{
	switch (t->kind)
	{
		case DK_INT2:
			enlargeStringInfo(out, 8);
			out->len += pg_itoa(DatumGetInt16(v), out->data + out->len);
			break;
		case DK_INT4:
			enlargeStringInfo(out, 12);
			out->len += pg_ltoa(DatumGetInt32(v), out->data + out->len);
			break;
		case DK_INT8:
			enlargeStringInfo(out, 21);
			out->len += pg_lltoa(DatumGetInt64(v), out->data + out->len);
			break;
		case DK_FLOAT:
			doc_number_text(out, OutputFunctionCall(&t->proc, v));
			break;
		case DK_NUMERIC:
			doc_number_text(out, DatumGetCString(DirectFunctionCall1(numeric_out, v)));
			break;
		case DK_BOOL:
			if (DatumGetBool(v))
				doc_append(out, "true", 4);
			else
				doc_append(out, "false", 5);
			break;
		case DK_TEXT:
			{
				text	   *s = DatumGetTextPP(v);

				doc_escape(out, VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s));
				if ((Pointer) s != DatumGetPointer(v))
					pfree(s);
			}
			break;
		case DK_NAME:
			doc_escape(out, NameStr(*DatumGetName(v)), strlen(NameStr(*DatumGetName(v))));
			break;
		case DK_UNKNOWN:
			doc_escape(out, DatumGetCString(v), strlen(DatumGetCString(v)));
			break;
		case DK_UUID:
			doc_uuid(out, DatumGetUUIDP(v));
			break;
		case DK_DATE:
		case DK_TIMESTAMP:
		case DK_TIMESTAMPTZ:
			{
				char		buf[MAXDATELEN + 1];

				JsonEncodeDateTime(buf, v, t->base, NULL);
				appendStringInfoCharMacro(out, '"');
				appendStringInfoString(out, buf);
				appendStringInfoCharMacro(out, '"');
			}
			break;
		case DK_JSON:
			doc_varlena_verbatim(out, v);
			break;
		case DK_JSONB:
			{
				Jsonb	   *jb = DatumGetJsonbP(v);

				JsonbToCString(out, &jb->root, VARSIZE(jb));
				if ((Pointer) jb != DatumGetPointer(v))
					pfree(jb);
			}
			break;
		case DK_ARRAY:
			doc_array(out, t, v);
			break;
		case DK_COMPOSITE:
			{
				Datum		j = DirectFunctionCall1(row_to_json, v);

				doc_varlena_verbatim(out, j);
				pfree(DatumGetPointer(j));
			}
			break;
		case DK_CAST:
			{
				Datum		j = FunctionCall1(&t->proc, v);

				doc_varlena_verbatim(out, j);
			}
			break;
		case DK_OTHER:
			{
				char	   *s = OutputFunctionCall(&t->proc, v);

				doc_escape(out, s, strlen(s));
				pfree(s);
			}
			break;
	}
}

/* A key: always a JSON string; json_build_object()'s rules for non-text keys. */
static void
doc_key(StringInfo out, DocType *t, Datum v)
{
	char	   *s;
	char		buf[MAXINT8LEN + 1];

	switch (t->kind)
	{
		case DK_ARRAY:
		case DK_COMPOSITE:
		case DK_JSON:
		case DK_JSONB:
		case DK_CAST:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key value must be scalar, not array, composite, or json")));
			break;
		case DK_INT2:
			pg_itoa(DatumGetInt16(v), buf);
			doc_escape(out, buf, strlen(buf));
			break;
		case DK_INT4:
			pg_ltoa(DatumGetInt32(v), buf);
			doc_escape(out, buf, strlen(buf));
			break;
		case DK_INT8:
			pg_lltoa(DatumGetInt64(v), buf);
			doc_escape(out, buf, strlen(buf));
			break;
		case DK_FLOAT:
			s = OutputFunctionCall(&t->proc, v);
			doc_escape(out, s, strlen(s));
			pfree(s);
			break;
		case DK_NUMERIC:
			s = DatumGetCString(DirectFunctionCall1(numeric_out, v));
			doc_escape(out, s, strlen(s));
			pfree(s);
			break;
		case DK_BOOL:
			if (DatumGetBool(v))
				doc_escape(out, "true", 4);
			else
				doc_escape(out, "false", 5);
			break;
		default:
			doc_value(out, t, v);
			break;
	}
}

/* ------------------------------------------------------------ the object */

static void
doc_check_nargs(int nargs, const char *fname)
{
	if (nargs % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument list must have even number of elements"),
				 errhint("The arguments of %s must consist of alternating keys and values.", fname)));
}

static void
doc_null_key(int argno)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("argument %d cannot be null", argno),
			 errhint("Object keys should be text.")));
}

static Const *
doc_const_arg(FmgrInfo *flinfo, int argno)
{
	Node	   *expr = flinfo->fn_expr;
	List	   *args;
	Node	   *arg;

	if (expr == NULL || !IsA(expr, FuncExpr))
		return NULL;
	args = ((FuncExpr *) expr)->args;
	if (argno >= list_length(args))
		return NULL;
	arg = list_nth(args, argno);
	return IsA(arg, Const) ? (Const *) arg : NULL;
}

/* The call site's types and constant keys, at its first call. */
static DocCall *
doc_call_init(FunctionCallInfo fcinfo)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	MemoryContext old;
	DocCall    *dc;
	StringInfoData key;

	doc_check_nargs(PG_NARGS(), "fraiseql_wire.json_document()");
	dc = MemoryContextAllocZero(mcxt, sizeof(DocCall));
	dc->nargs = PG_NARGS();
	dc->types = MemoryContextAllocZero(mcxt, sizeof(DocType) * Max(dc->nargs, 1));
	dc->prefix = MemoryContextAllocZero(mcxt, sizeof(char *) * Max(dc->nargs / 2, 1));
	dc->prefix_len = MemoryContextAllocZero(mcxt, sizeof(int) * Max(dc->nargs / 2, 1));
	for (int i = 0; i < dc->nargs; i++)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, i);

		if (!OidIsValid(typid) ||
			(typid == UNKNOWNOID && !get_fn_expr_arg_stable(fcinfo->flinfo, i)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("could not determine data type for argument %d", i + 1)));
		doc_type_init(&dc->types[i], typid, mcxt);
	}

	/* constant keys are written once: [,]"key": */
	old = MemoryContextSwitchTo(mcxt);
	for (int i = 0; i < dc->nargs; i += 2)
	{
		Const	   *c = doc_const_arg(fcinfo->flinfo, i);

		if (c == NULL)
			continue;
		if (c->constisnull)
			doc_null_key(i + 1);
		initStringInfo(&key);
		if (i > 0)
			appendStringInfoChar(&key, ',');
		doc_key(&key, &dc->types[i], c->constvalue);
		appendStringInfoChar(&key, ':');
		dc->prefix[i / 2] = key.data;
		dc->prefix_len[i / 2] = key.len;
	}
	MemoryContextSwitchTo(old);
	return dc;
}

/* The document as a json datum (a text varlena built in place). */
static Datum
doc_render(DocCall *dc, const NullableDatum *args)
{
	StringInfoData out;
	int			cap = dc->last_len + (dc->last_len >> 2) + 64;

	out.data = palloc(cap);
	out.maxlen = cap;
	out.len = VARHDRSZ;
	out.cursor = 0;
	out.data[out.len++] = '{';
	for (int i = 0; i < dc->nargs; i += 2)
	{
		const char *prefix = dc->prefix[i / 2];

		if (prefix != NULL)
			doc_append(&out, prefix, dc->prefix_len[i / 2]);
		else
		{
			if (args[i].isnull)
				doc_null_key(i + 1);
			if (i > 0)
				appendStringInfoCharMacro(&out, ',');
			doc_key(&out, &dc->types[i], args[i].value);
			appendStringInfoCharMacro(&out, ':');
		}
		if (args[i + 1].isnull)
			doc_append(&out, "null", 4);
		else
			doc_value(&out, &dc->types[i + 1], args[i + 1].value);
	}
	appendStringInfoCharMacro(&out, '}');
	dc->last_len = out.len;
	SET_VARSIZE(out.data, out.len);
	return PointerGetDatum(out.data);
}

/* json_document(VARIADIC array): no call-site cache, like json_build_object. */
static Datum
doc_render_variadic(FunctionCallInfo fcinfo, bool *isnull)
{
	Datum	   *vals;
	Oid		   *types;
	bool	   *nulls;
	int			n = extract_variadic_args(fcinfo, 0, true, &vals, &types, &nulls);
	DocCall		dc;
	NullableDatum *args;

	*isnull = false;
	if (n < 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	doc_check_nargs(n, "fraiseql_wire.json_document()");
	memset(&dc, 0, sizeof(dc));
	dc.nargs = n;
	dc.types = palloc0(sizeof(DocType) * Max(n, 1));
	dc.prefix = palloc0(sizeof(char *) * Max(n / 2, 1));
	dc.prefix_len = palloc0(sizeof(int) * Max(n / 2, 1));
	args = palloc(sizeof(NullableDatum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		doc_type_init(&dc.types[i], types[i], CurrentMemoryContext);
		args[i].value = vals[i];
		args[i].isnull = nulls[i];
	}
	return doc_render(&dc, args);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_json_document);

Datum
fraiseql_wire_json_document(PG_FUNCTION_ARGS)
{
	DocCall    *dc;

	if (get_fn_expr_variadic(fcinfo->flinfo))
	{
		bool		isnull;
		Datum		d = doc_render_variadic(fcinfo, &isnull);

		if (isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(d);
	}
	dc = fcinfo->flinfo->fn_extra;
	if (dc == NULL)
	{
		dc = doc_call_init(fcinfo);
		fcinfo->flinfo->fn_extra = dc;
	}
	PG_RETURN_DATUM(doc_render(dc, fcinfo->args));
}

/* ------------------------------------------------------------- concat */

/*
 * json_document_concat(a, b, ...): the members of JSON objects a, b, ... in
 * one object, in order (a key present in several parts appears several
 * times, and the last one wins in ::jsonb, as with jsonb's ||).  STRICT.
 */
PG_FUNCTION_INFO_V1(fraiseql_wire_json_document_concat);

Datum
fraiseql_wire_json_document_concat(PG_FUNCTION_ARGS)
{
	Datum	   *vals;
	Oid		   *types;
	bool	   *nulls;
	int			n = extract_variadic_args(fcinfo, 0, false, &vals, &types, &nulls);
	StringInfoData out;
	bool		any = false;
	int			total = 0;

	if (n < 0)
		PG_RETURN_NULL();
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			PG_RETURN_NULL();
		if (getBaseType(types[i]) != JSONOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("argument %d of fraiseql_wire.json_document_concat() has type %s, not json",
							i + 1, format_type_be(types[i]))));
		vals[i] = PointerGetDatum(PG_DETOAST_DATUM_PACKED(vals[i]));
		total += VARSIZE_ANY_EXHDR(DatumGetPointer(vals[i]));
	}

	out.data = palloc(total + VARHDRSZ + 2);
	out.maxlen = total + VARHDRSZ + 2;
	out.len = VARHDRSZ;
	out.cursor = 0;
	appendStringInfoCharMacro(&out, '{');
	for (int i = 0; i < n; i++)
	{
		const char *s = VARDATA_ANY(DatumGetPointer(vals[i]));
		const char *e = s + VARSIZE_ANY_EXHDR(DatumGetPointer(vals[i]));

		while (s < e && scanner_isspace(*s))
			s++;
		while (e > s && scanner_isspace(e[-1]))
			e--;
		if (e - s < 2 || *s != '{' || e[-1] != '}')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument %d of fraiseql_wire.json_document_concat() is not a JSON object", i + 1)));
		s++;
		e--;
		while (s < e && scanner_isspace(*s))
			s++;
		if (s == e)
			continue;			/* {} */
		if (any)
			appendStringInfoCharMacro(&out, ',');
		appendBinaryStringInfo(&out, s, e - s);
		any = true;
	}
	appendStringInfoCharMacro(&out, '}');
	SET_VARSIZE(out.data, out.len);
	PG_RETURN_DATUM(PointerGetDatum(out.data));
}
