/*
 * support_viewdoc.c — a v_ view's document taken apart: the keys of the
 * inlined jsonb_build_object() / json_build_object() /
 * fraiseql_wire.json_document() call (or || / json_document_concat() of
 * such) and the SQL expression that renders each field, so that a field
 * path of a filter (support_view.c) or of a sort key (order_key.c) can be
 * traced back to a base-table column.  Planning only.
 */
#include "compat.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "support_viewdoc.h"

SpField *
fw_sp_field_find(List *fields, const char *key)
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
bool
fw_sp_doc_fields(Node *expr, List **fields)
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
					if (!fw_sp_doc_fields(lfirst(lc), fields))
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
			old = fw_sp_field_find(own, key);
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
			SpField    *old = fw_sp_field_find(*fields, nf->key);

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
		return fw_sp_doc_fields((Node *) cv->arg, fields);
	}
	if (IsA(expr, OpExpr))
	{
		OpExpr	   *o = (OpExpr *) expr;

		if (get_opcode(o->opno) != F_JSONB_CONCAT || list_length(o->args) != 2)
			return false;
		return fw_sp_doc_fields(linitial(o->args), fields) &&
			fw_sp_doc_fields(lsecond(o->args), fields);
	}
	return false;
}

SpResolved
fw_sp_resolve(List *fields, const FwNode *n, Node **expr)
{
	List	   *level = fields;

	for (int i = 0; i < n->npath; i++)
	{
		SpField    *f = fw_sp_field_find(level, n->path[i]);
		List	   *sub = NIL;

		if (f == NULL)
			return SP_MISSING;
		if (i == n->npath - 1)
		{
			*expr = f->expr;
			return SP_VALUE;
		}
		if (!fw_sp_doc_fields(f->expr, &sub))
			return SP_OPAQUE;
		level = sub;
	}
	return SP_OPAQUE;
}

/* Whether a view's document expression may be taken apart and duplicated. */
bool
fw_sp_doc_is_safe(Node *data)
{
	return !contain_volatile_functions(data) && !contain_subplans(data) &&
		!expression_returns_set(data);
}
/* ------------------------------------------------------ for order_key.c */

FwFieldTrace
fw_trace_view_field(Node *doc, char **path, int npath, Node **expr)
{
	List	   *fields = NIL;
	FwNode		n;

	if (npath < 1 || !fw_sp_doc_fields(doc, &fields) || !fw_sp_doc_is_safe(doc))
		return FW_FIELD_UNKNOWN;
	memset(&n, 0, sizeof(n));
	n.kind = FW_NODE_CMP;
	n.npath = npath;
	n.path = path;
	switch (fw_sp_resolve(fields, &n, expr))
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
