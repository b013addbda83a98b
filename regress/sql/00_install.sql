-- The extension installs into its own schema, and the C module's version
-- agrees with the installed SQL script's.
CREATE EXTENSION fraiseql_wire;
SELECT extname, extnamespace::regnamespace AS schema, extrelocatable
  FROM pg_extension WHERE extname = 'fraiseql_wire';
SELECT fraiseql_wire.version() = extversion AS module_matches_script
  FROM pg_extension WHERE extname = 'fraiseql_wire';
-- The schema is fixed: installing into another one is refused.
DROP EXTENSION fraiseql_wire;
CREATE SCHEMA elsewhere;
CREATE EXTENSION fraiseql_wire SCHEMA elsewhere;
DROP SCHEMA elsewhere;
CREATE EXTENSION fraiseql_wire;
