-- The schema "fraiseql_wire" is created by CREATE EXTENSION (control file:
-- schema = fraiseql_wire).  Nothing here may depend on search_path: every
-- object is schema-qualified and every function sets its own search_path.

COMMENT ON SCHEMA fraiseql_wire IS
  'fraiseql_wire: v_/tv_ JSON view helpers and JSON filter pushdown';

-- The C module's version, checked against the SQL script's by the regress
-- suite so that a stale shared library is noticed.
CREATE FUNCTION fraiseql_wire.version() RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_version';
