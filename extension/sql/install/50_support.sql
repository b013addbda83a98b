-- Planner support for fraiseql_wire.matches() (docs/pushdown.md): rewrites
-- a constant filter into index-friendly SQL on the columns of a v_ view or
-- into data @> '{…}' on a tv_ table, derives a lossy GIN index condition
-- for a parameter, and estimates selectivity.  fraiseql_wire.enable_rewrite
-- turns the rewrite and the index condition off.

CREATE FUNCTION fraiseql_wire.matches_support(internal) RETURNS internal
  LANGUAGE c STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_matches_support';

-- The scalar equalities ANDed at the top of a filter as one containment
-- document ('{}' when there is none): whenever matches(data, filter) is
-- true, data @> filter_containment(filter) is true too, so a GIN index on
-- data can serve a filter that is only known at execution time.
CREATE FUNCTION fraiseql_wire.filter_containment(filter jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_filter_containment';

ALTER FUNCTION fraiseql_wire.matches(jsonb, jsonb) SUPPORT fraiseql_wire.matches_support;
ALTER FUNCTION fraiseql_wire.matches(json, jsonb) SUPPORT fraiseql_wire.matches_support;
