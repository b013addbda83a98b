-- Sort keys (docs/pushdown.md, "ORDER BY"): the typed value at a field path
-- of a document, NULL when the field is missing, JSON null or of another
-- JSON type (a stray value never aborts a sorted stream).  The path is the
-- object keys from the root, as data->k1->k2.  A json document is read as
-- data::jsonb (the last of duplicate keys wins).  On the inlined document of
-- a v_ view the planner replaces a key it can trace to a column of the same
-- order by that column, so that the column's B-tree index serves ORDER BY
-- (fraiseql_wire.enable_rewrite turns this off).

CREATE FUNCTION fraiseql_wire.sort_key_support(internal) RETURNS internal
  LANGUAGE c STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_support';

-- The JSON number at path, as numeric.
CREATE FUNCTION fraiseql_wire.sort_key_numeric(data jsonb, VARIADIC path text[]) RETURNS numeric
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT SUPPORT fraiseql_wire.sort_key_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_numeric';
CREATE FUNCTION fraiseql_wire.sort_key_numeric(data json, VARIADIC path text[]) RETURNS numeric
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT SUPPORT fraiseql_wire.sort_key_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_numeric_json';

-- The value at path as text, as ->> gives it (a string unquoted, any other
-- value as JSON text).  Order it COLLATE "C" for code point order.
CREATE FUNCTION fraiseql_wire.sort_key_text(data jsonb, VARIADIC path text[]) RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT SUPPORT fraiseql_wire.sort_key_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_text';
CREATE FUNCTION fraiseql_wire.sort_key_text(data json, VARIADIC path text[]) RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT SUPPORT fraiseql_wire.sort_key_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_text_json';

-- The JSON boolean at path.
CREATE FUNCTION fraiseql_wire.sort_key_boolean(data jsonb, VARIADIC path text[]) RETURNS boolean
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT SUPPORT fraiseql_wire.sort_key_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_boolean';
CREATE FUNCTION fraiseql_wire.sort_key_boolean(data json, VARIADIC path text[]) RETURNS boolean
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT SUPPORT fraiseql_wire.sort_key_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_boolean_json';

-- value::numeric.  The planner's rewrite of sort_key_numeric() on a view
-- whose field is an integer column; as the whole key of ORDER BY it is
-- replaced by the column itself, ordered by its own B-tree operators.
CREATE FUNCTION fraiseql_wire.sort_key_of(value smallint) RETURNS numeric
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_of';
CREATE FUNCTION fraiseql_wire.sort_key_of(value integer) RETURNS numeric
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_of';
CREATE FUNCTION fraiseql_wire.sort_key_of(value bigint) RETURNS numeric
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_sort_key_of';
