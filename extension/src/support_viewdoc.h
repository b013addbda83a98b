/*
 * support_viewdoc.h — a v_ view's document taken apart, field by field
 * (support_viewdoc.c).  Planning only.
 */
#ifndef FRAISEQL_WIRE_SUPPORT_VIEWDOC_H
#define FRAISEQL_WIRE_SUPPORT_VIEWDOC_H

#include "compat.h"

#include "nodes/pg_list.h"
#include "nodes/primnodes.h"

#include "filter.h"

/* One key of a jsonb_build_object() call and the expression of its value. */
typedef struct SpField
{
	char	   *key;
	Node	   *expr;
} SpField;

/* The field named key in a list of SpField, or NULL. */
extern SpField *fw_sp_field_find(List *fields, const char *key);

/*
 * Appends to *fields the keys and value expressions of an object built by
 * jsonb_build_object(), json_build_object(), fraiseql_wire.json_document(),
 * || or json_document_concat() of such objects, or a json one cast to
 * jsonb, in jsonb's sense: a later key replaces an earlier one.  False
 * when the keys cannot all be known.
 */
extern bool fw_sp_doc_fields(Node *expr, List **fields);

/* Whether a view's document expression may be taken apart and duplicated
 * (no volatile functions, sub-plans or set-returning functions). */
extern bool fw_sp_doc_is_safe(Node *data);

typedef enum SpResolved
{
	SP_MISSING,					/* the path names no field: a constant result */
	SP_VALUE,					/* the field is the value of an expression */
	SP_OPAQUE					/* the path goes into a value we cannot see */
} SpResolved;

/* The field path of the comparison n in fields; SP_VALUE sets *expr. */
extern SpResolved fw_sp_resolve(List *fields, const FwNode *n, Node **expr);

/*
 * A field path of a v_ view's document, traced back to the SQL expression
 * that renders it: doc is the inlined jsonb_build_object()/json_build_object()
 * (or || of such) call.  FW_FIELD_VALUE sets *expr (not copied) to the
 * expression whose rendering is the field's value; FW_FIELD_MISSING means the
 * document never has that field; FW_FIELD_UNKNOWN that it cannot be told (or
 * the document may not be taken apart: volatile, sub-plans, set-returning).
 * Used by order_key.c.
 */
typedef enum FwFieldTrace
{
	FW_FIELD_UNKNOWN,
	FW_FIELD_MISSING,
	FW_FIELD_VALUE
} FwFieldTrace;

extern FwFieldTrace fw_trace_view_field(Node *doc, char **path, int npath, Node **expr);

#endif							/* FRAISEQL_WIRE_SUPPORT_VIEWDOC_H */
