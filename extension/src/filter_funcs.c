/*
 * filter_funcs.c — the SQL-callable functions of the filter language:
 * fraiseql_wire.matches (jsonb and json documents) and its planner support
 * function, where_sql, normalize_filter, filter_containment and the
 * as_<type> casts used by rendered SQL.  The work is done elsewhere
 * (filter.h, support.h); here are the fmgr entry points only.
 */
#include "compat.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "filter.h"
#include "support.h"
#include "support_gin.h"

/*
 * The parsed filter is cached in fn_extra across the rows of one query,
 * keyed by the filter datum's bytes: a filter that changes between calls
 * (a lateral or per-row filter) is parsed again.
 */
typedef struct FwMatchCache
{
	MemoryContext filter_cxt;	/* filter copy and parsed tree */
	MemoryContext row_cxt;		/* per-row work, reset after each row */
	Jsonb	   *filter;			/* NULL until a parse succeeded */
	FwNode	   *tree;
} FwMatchCache;

static FwNode *
cached_filter(FunctionCallInfo fcinfo, Jsonb *filter, FwMatchCache **cache_out)
{
	FwMatchCache *cache = fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FwMatchCache));
		cache->filter_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
												  "fraiseql_wire filter",
												  ALLOCSET_SMALL_SIZES);
		cache->row_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
											   "fraiseql_wire filter row",
											   ALLOCSET_DEFAULT_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	*cache_out = cache;
	if (cache->filter != NULL && VARSIZE(cache->filter) == VARSIZE(filter) &&
		memcmp(cache->filter, filter, VARSIZE(filter)) == 0)
		return cache->tree;

	cache->filter = NULL;
	cache->tree = NULL;
	MemoryContextReset(cache->filter_cxt);
	old = MemoryContextSwitchTo(cache->filter_cxt);
	{
		Jsonb	   *copy = palloc(VARSIZE(filter));

		memcpy(copy, filter, VARSIZE(filter));
		/* folded: an "or" of eq on one field is one lookup per row */
		cache->tree = fw_filter_fold(fw_filter_parse(copy));
		cache->filter = copy;
	}
	MemoryContextSwitchTo(old);
	return cache->tree;
}

/*
 * Evaluates the cached filter on one document; a json document (json != NULL)
 * is converted to jsonb first.  Per-row work happens in row_cxt, reset after
 * each row, so that a long scan does not accumulate memory.
 */
static Datum
matches_doc(FunctionCallInfo fcinfo, Jsonb *doc, text *json, Jsonb *filter)
{
	FwMatchCache *cache;
	FwNode	   *tree = cached_filter(fcinfo, filter, &cache);
	MemoryContext old = MemoryContextSwitchTo(cache->row_cxt);
	bool		result;

	if (json != NULL)
		doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												 CStringGetDatum(text_to_cstring(json))));
	result = fw_filter_eval(tree, doc, NULL);
	MemoryContextSwitchTo(old);
	MemoryContextReset(cache->row_cxt);
	PG_RETURN_BOOL(result);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_matches);

/* fraiseql_wire.matches(data jsonb, filter jsonb) RETURNS boolean */
Datum
fraiseql_wire_matches(PG_FUNCTION_ARGS)
{
	Jsonb	   *filter = PG_GETARG_JSONB_P(1);
	Jsonb	   *doc = PG_GETARG_JSONB_P(0);

	return matches_doc(fcinfo, doc, NULL, filter);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_matches_json);

/* fraiseql_wire.matches(data json, filter jsonb): the document as data::jsonb */
Datum
fraiseql_wire_matches_json(PG_FUNCTION_ARGS)
{
	Jsonb	   *filter = PG_GETARG_JSONB_P(1);
	text	   *json = PG_GETARG_TEXT_PP(0);

	return matches_doc(fcinfo, NULL, json, filter);
}

PG_FUNCTION_INFO_V1(fraiseql_wire_normalize_filter);

/* fraiseql_wire.normalize_filter(filter jsonb) RETURNS jsonb */
Datum
fraiseql_wire_normalize_filter(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(fw_filter_to_jsonb(fw_filter_parse(PG_GETARG_JSONB_P(0))));
}

PG_FUNCTION_INFO_V1(fraiseql_wire_matches_support);

/* fraiseql_wire.matches_support(internal) RETURNS internal: the planner
 * support function of both matches() (support.c) */
Datum
fraiseql_wire_matches_support(PG_FUNCTION_ARGS)
{
	Node	   *req = (Node *) PG_GETARG_POINTER(0);

	PG_RETURN_POINTER(fw_sp_matches_support(req));
}

PG_FUNCTION_INFO_V1(fraiseql_wire_filter_containment);

/*
 * fraiseql_wire.filter_containment(filter jsonb) RETURNS jsonb: the GIN
 * index condition of a filter that is a parameter (support_gin.c)
 */
Datum
fraiseql_wire_filter_containment(PG_FUNCTION_ARGS)
{
	Jsonb	   *filter = PG_GETARG_JSONB_P(0);
	int			nkeys;

	PG_RETURN_JSONB_P(fw_filter_containment(fw_filter_parse(filter), &nkeys));
}

PG_FUNCTION_INFO_V1(fraiseql_wire_where_sql);

/* fraiseql_wire.where_sql(filter jsonb, target text) RETURNS text */
Datum
fraiseql_wire_where_sql(PG_FUNCTION_ARGS)
{
	FwNode	   *tree = fw_filter_parse(PG_GETARG_JSONB_P(0));
	char	   *target = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_TEXT_P(cstring_to_text(fw_filter_to_sql(tree, target)));
}

/* fraiseql_wire.as_<type>(value jsonb): the filter's cast, NULL if it does not cast */
static Datum
as_type(FunctionCallInfo fcinfo, FwCastType cast)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(0);
	JsonbValue	v;
	Datum		d;

	if (!JB_ROOT_IS_SCALAR(j) || !JsonbExtractScalar(&j->root, &v) ||
		!fw_cast_value(cast, &v, &d))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

#define FW_AS_FUNCTION(name, cast) \
PG_FUNCTION_INFO_V1(fraiseql_wire_as_##name); \
Datum \
fraiseql_wire_as_##name(PG_FUNCTION_ARGS) \
{ \
	return as_type(fcinfo, cast); \
}

FW_AS_FUNCTION(numeric, FW_CAST_NUMERIC)
FW_AS_FUNCTION(text, FW_CAST_TEXT)
FW_AS_FUNCTION(boolean, FW_CAST_BOOLEAN)
FW_AS_FUNCTION(uuid, FW_CAST_UUID)
FW_AS_FUNCTION(date, FW_CAST_DATE)
FW_AS_FUNCTION(timestamp, FW_CAST_TIMESTAMP)
FW_AS_FUNCTION(timestamptz, FW_CAST_TIMESTAMPTZ)
