-- The filter language (docs/filters.md): one semantics in matches(), in
-- where_sql() and in the planner's rewrite of matches().

-- True when the document matches the filter.  STRICT: a NULL document or a
-- NULL filter gives NULL (never a match).  A bad filter raises 22023 before
-- any row is read.
CREATE FUNCTION fraiseql_wire.matches(data jsonb, filter jsonb) RETURNS boolean
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_matches';

-- The same for a json document: evaluated on data::jsonb (the last of
-- duplicate keys wins, as in jsonb).
CREATE FUNCTION fraiseql_wire.matches(data json, filter jsonb) RETURNS boolean
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_matches_json';

-- The filter as a WHERE expression over the jsonb SQL expression `target`
-- (trusted: it must parse as one SQL expression; for a json column pass
-- 'data::jsonb').  The SQL is TRUE for exactly the rows matches() is TRUE for.
CREATE FUNCTION fraiseql_wire.where_sql(filter jsonb, target text DEFAULT 'data') RETURNS text
  LANGUAGE c STABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_where_sql';

-- The filter after parsing and validation, written back in the canonical
-- form (and/or/not spelled out, one operator an object).
CREATE FUNCTION fraiseql_wire.normalize_filter(filter jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_normalize_filter';

-- The casts of "type": a JSON string, number or boolean to the SQL type, NULL
-- when it does not cast (never an error).  Used by the SQL of where_sql().
CREATE FUNCTION fraiseql_wire.as_numeric(value jsonb) RETURNS numeric
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_numeric';
CREATE FUNCTION fraiseql_wire.as_text(value jsonb) RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_text';
CREATE FUNCTION fraiseql_wire.as_boolean(value jsonb) RETURNS boolean
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_boolean';
CREATE FUNCTION fraiseql_wire.as_uuid(value jsonb) RETURNS uuid
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_uuid';
CREATE FUNCTION fraiseql_wire.as_date(value jsonb) RETURNS date
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_date';
CREATE FUNCTION fraiseql_wire.as_timestamp(value jsonb) RETURNS timestamp
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_timestamp';
CREATE FUNCTION fraiseql_wire.as_timestamptz(value jsonb) RETURNS timestamptz
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_as_timestamptz';
