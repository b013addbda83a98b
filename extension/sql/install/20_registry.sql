-- The entity registry: one row per v_ view or tv_ table made by
-- fraiseql_wire.create_view() / create_table_view().
--
-- It is an extension configuration table (pg_extension_config_dump), so
-- pg_dump writes its rows and pg_restore puts them back after the relations
-- they name exist.  Relations are stored as regclass: pg_dump prints them as
-- schema-qualified names (it dumps with an empty search_path), COPY reads them
-- back as the new database's OIDs, a rename is followed, and pg_upgrade
-- accepts regclass columns (unlike regproc and friends).

-- The helpers are for every role (each works on what the caller may touch).
GRANT USAGE ON SCHEMA fraiseql_wire TO PUBLIC;

CREATE TABLE fraiseql_wire.registry (
  entity     text        NOT NULL,
  kind       text        NOT NULL,
  relation   regclass    NOT NULL,
  source     regclass    NOT NULL,
  format     text        NOT NULL,
  columns    text[]      NOT NULL,
  camel_case boolean     NOT NULL,
  gin_index  boolean,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  -- An entity is scoped by the schema of its relation: v_<entity> and
  -- tv_<entity> are unique in a schema (the guard below holds every row to
  -- its relation's name), so (entity, schema, kind) is unique too.
  CONSTRAINT registry_pkey PRIMARY KEY (relation),
  CONSTRAINT registry_kind_check CHECK (kind IN ('view', 'table')),
  CONSTRAINT registry_format_check CHECK (format IN ('json', 'jsonb')),
  CONSTRAINT registry_entity_check CHECK (entity ~ '^[a-z_][a-z0-9_]*$'
                                          AND pg_catalog.octet_length(entity) <= 55),
  CONSTRAINT registry_columns_check CHECK (pg_catalog.cardinality(columns) > 0),
  CONSTRAINT registry_gin_check CHECK ((kind = 'table') = (gin_index IS NOT NULL))
);

COMMENT ON TABLE fraiseql_wire.registry IS
  'fraiseql_wire entities (per schema): v_ views and tv_ tables with their source and document definition';
COMMENT ON COLUMN fraiseql_wire.registry.columns IS
  'source columns in document order (keys are these names, camelCased when camel_case)';

SELECT pg_catalog.pg_extension_config_dump('fraiseql_wire.registry', '');

-- Everybody may read the registry and write rows for relations they own;
-- the guard below enforces ownership, since a plain GRANT cannot.  Writes go
-- through create_view()/create_table_view()/drop_view(), which run as the
-- caller.
GRANT SELECT, INSERT, DELETE ON fraiseql_wire.registry TO PUBLIC;

-- A row-level trigger runs as the user whose statement fired it, so
-- current_user is the caller here.  Superusers (pg_has_role is always true
-- for them) and pg_restore pass.
CREATE FUNCTION fraiseql_wire._registry_guard() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $guard$
DECLARE
  r       fraiseql_wire.registry;
  owner   oid;
  relname text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD;
  ELSE
    r := NEW;
  END IF;
  SELECT c.relowner, c.relname INTO owner, relname FROM pg_catalog.pg_class c WHERE c.oid = r.relation;
  IF NOT FOUND THEN
    IF TG_OP = 'DELETE' THEN
      -- The relation is gone already: removing the stale row harms nobody.
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'relation with OID % does not exist', r.relation::oid
      USING ERRCODE = 'undefined_table';
  END IF;
  IF NOT pg_catalog.pg_has_role(current_user, owner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of relation % to register or unregister it', r.relation
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = pg_catalog.format('Entity "%s" (%s) belongs to role %s.',
                                       r.entity, r.kind, owner::regrole),
            HINT = 'Run the call as the owner of the relation.';
  END IF;
  -- A tv_ registration also speaks for its source (create_table_view needs
  -- its owner, and ALTER TABLE of the source is checked against it): a role
  -- may not register a tv_ for somebody else's source.
  IF TG_OP <> 'DELETE' AND r.kind = 'table' THEN
    SELECT c.relowner INTO owner FROM pg_catalog.pg_class c WHERE c.oid = r.source;
    IF FOUND AND NOT pg_catalog.pg_has_role(current_user, owner, 'USAGE') THEN
      RAISE EXCEPTION 'must be owner of relation % to register a tv_ table of it', r.source
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = pg_catalog.format('Entity "%s" (%s) names source %s, which belongs to role %s.',
                                         r.entity, r.kind, r.source, owner::regrole),
              HINT = 'Run the call as the owner of the source.';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  -- The entity is its relation's name less the prefix, so that an entity is
  -- unique in a schema and nobody registers a relation under another name.
  IF relname <> (CASE r.kind WHEN 'view' THEN 'v_' ELSE 'tv_' END || r.entity) THEN
    RAISE EXCEPTION 'relation % cannot be registered as the % of entity "%"', r.relation,
      CASE r.kind WHEN 'view' THEN 'v_ view' ELSE 'tv_ table' END, r.entity
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('The %s of entity "%s" is named %s.',
                                       CASE r.kind WHEN 'view' THEN 'v_ view' ELSE 'tv_ table' END, r.entity,
                                       CASE r.kind WHEN 'view' THEN 'v_' ELSE 'tv_' END || r.entity);
  END IF;
  RETURN NEW;
END
$guard$;

REVOKE ALL ON FUNCTION fraiseql_wire._registry_guard() FROM PUBLIC;

CREATE TRIGGER registry_guard
  BEFORE INSERT OR UPDATE OR DELETE ON fraiseql_wire.registry
  FOR EACH ROW EXECUTE FUNCTION fraiseql_wire._registry_guard();

-- A registered tv_ table and its trigger function depend on the extension
-- (extension/src/secctx.c records it; pg_depend type 'n'): DROP EXTENSION
-- refuses to leave them and the source's triggers behind, and DROP
-- EXTENSION ... CASCADE drops them (the triggers go with the function).  It
-- runs for every new row, so pg_restore, which writes the registry after
-- the relations and functions it names, records the dependencies again.
CREATE FUNCTION fraiseql_wire._depend_on_extension(tv regclass) RETURNS void
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_depend_on_extension';

CREATE FUNCTION fraiseql_wire._registry_depend() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF NEW.kind = 'table' THEN
    PERFORM fraiseql_wire._depend_on_extension(NEW.relation);
  END IF;
  RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION fraiseql_wire._registry_depend() FROM PUBLIC;

CREATE TRIGGER registry_depend
  AFTER INSERT ON fraiseql_wire.registry
  FOR EACH ROW EXECUTE FUNCTION fraiseql_wire._registry_depend();
