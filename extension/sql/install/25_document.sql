-- The JSON document renderer (extension/src/document.c, docs/extension.md):
-- what create_view(format => 'json') builds its documents with.

-- json_build_object(key, value, ...)'s JSON value, written compactly
-- straight from the row, with the keys and the per-type rendering of a call
-- site worked out once.  At most 50 keys a call (100 arguments, PostgreSQL's
-- limit): json_document_concat() joins several calls.  STABLE like
-- json_build_object: timestamptz follows TimeZone, floats extra_float_digits.
CREATE FUNCTION fraiseql_wire.json_document(VARIADIC "any") RETURNS json
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'fraiseql_wire_json_document';

COMMENT ON FUNCTION fraiseql_wire.json_document("any") IS
  'json_build_object(key, value, ...) rendered compactly in C: the document of a json v_ view';

-- The members of several JSON objects (json_document() results) in one
-- object, in order.  NULL if any part is NULL.
CREATE FUNCTION fraiseql_wire.json_document_concat(VARIADIC "any") RETURNS json
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_json_document_concat';

COMMENT ON FUNCTION fraiseql_wire.json_document_concat("any") IS
  'the members of several JSON objects in one object: wide json_document() documents';
