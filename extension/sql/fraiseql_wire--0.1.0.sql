-- fraiseql_wire 0.1.0: generated from extension/sql/install/*.sql, do not edit
\echo Use "CREATE EXTENSION fraiseql_wire" to load this file. \quit

-- extension/sql/install/00_schema.sql
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

-- extension/sql/install/20_registry.sql
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
  CONSTRAINT registry_pkey PRIMARY KEY (entity, kind),
  CONSTRAINT registry_relation_key UNIQUE (relation),
  CONSTRAINT registry_kind_check CHECK (kind IN ('view', 'table')),
  CONSTRAINT registry_format_check CHECK (format IN ('json', 'jsonb')),
  CONSTRAINT registry_entity_check CHECK (entity ~ '^[a-z_][a-z0-9_]*$'
                                          AND pg_catalog.octet_length(entity) <= 55),
  CONSTRAINT registry_columns_check CHECK (pg_catalog.cardinality(columns) > 0),
  CONSTRAINT registry_gin_check CHECK ((kind = 'table') = (gin_index IS NOT NULL))
);

COMMENT ON TABLE fraiseql_wire.registry IS
  'fraiseql_wire entities: v_ views and tv_ tables with their source and document definition';
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
  r     fraiseql_wire.registry;
  owner oid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD;
  ELSE
    r := NEW;
  END IF;
  SELECT c.relowner INTO owner FROM pg_catalog.pg_class c WHERE c.oid = r.relation;
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
  RETURN NEW;
END
$guard$;

REVOKE ALL ON FUNCTION fraiseql_wire._registry_guard() FROM PUBLIC;

CREATE TRIGGER registry_guard
  BEFORE INSERT OR UPDATE OR DELETE ON fraiseql_wire.registry
  FOR EACH ROW EXECUTE FUNCTION fraiseql_wire._registry_guard();

-- extension/sql/install/30_views.sql
-- v_/tv_ view helpers: create_view, create_table_view, refresh_table_view,
-- drop_view, entities, check_view.  docs/extension.md is their reference.
--
-- Every identifier reaches generated SQL through format('%I') (or a
-- regclass/regtype rendered by the server), every key through format('%L');
-- every function pins search_path so that nothing depends on the caller's.
-- A failed call raises, so PostgreSQL rolls back everything it made: nothing
-- is left half-created.

-- ------------------------------------------------------------ internals

-- An entity names v_<entity> and tv_<entity> and their trigger objects
-- (tv_<entity>_sync, longest), so it must be a plain lower-case identifier
-- short enough for all of them to fit NAMEDATALEN (63 bytes): at most 55.
CREATE FUNCTION fraiseql_wire._check_entity(entity text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF entity IS NULL OR entity !~ '^[a-z_][a-z0-9_]*$' OR octet_length(entity) > 55 THEN
    RAISE EXCEPTION 'invalid entity name: %', coalesce(quote_literal(entity), 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'An entity is a lower-case ASCII identifier matching ^[a-z_][a-z0-9_]*$, at most 55 bytes long.',
            HINT = 'The relation names v_<entity> and tv_<entity> are derived from it; choose a shorter lower-case name.';
  END IF;
END
$fn$;

CREATE FUNCTION fraiseql_wire._check_format(format text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF format IS NULL OR format NOT IN ('json', 'jsonb') THEN
    RAISE EXCEPTION 'unknown document format: %', coalesce(quote_literal(format), 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The format is ''jsonb'' or ''json''.';
  END IF;
END
$fn$;

-- The document key for a column: its name, or with camel_case every
-- underscore that follows a character other than an underscore and precedes
-- a lower-case ASCII letter is removed and the letter upper-cased
-- (created_at -> createdAt, _meta_data -> _metaData, item_2 -> item_2).
CREATE FUNCTION fraiseql_wire._camel_key(name text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  out  text := '';
  c    text;
  nxt  text;
  i    integer;
  n    integer := length(name);
BEGIN
  FOR i IN 1 .. n LOOP
    c := substr(name, i, 1);
    nxt := substr(name, i + 1, 1);
    IF c = '_' AND i > 1 AND substr(name, i - 1, 1) <> '_'
       AND nxt ~ '^[a-z]$' THEN
      CONTINUE;                       -- dropped; the next letter is raised below
    END IF;
    IF i > 2 AND substr(name, i - 1, 1) = '_' AND substr(name, i - 2, 1) <> '_'
       AND c ~ '^[a-z]$' THEN
      out := out || upper(c);
    ELSE
      out := out || c;
    END IF;
  END LOOP;
  RETURN out;
END
$fn$;

-- Primary key columns of a relation, in key order, each with the
-- schema-qualified equality operator of its index opclass (so that a pk of
-- an extension type, e.g. citext, compares with its own operator, whatever
-- the search_path).  No rows when there is no primary key.
CREATE FUNCTION fraiseql_wire._pk_columns(rel regclass)
  RETURNS TABLE (col text, eq_operator text, type_sql text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT a.attname::text,
         format('OPERATOR(%I.%s)', opn.nspname, op.oprname),
         format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                 THEN format(' COLLATE %I.%I', colln.nspname, coll.collname)
                 ELSE '' END
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey, i.indclass) WITH ORDINALITY AS k(attnum, opclass, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_opclass opc ON opc.oid = k.opclass
    JOIN pg_amop amop ON amop.amopfamily = opc.opcfamily
                     AND amop.amoplefttype = opc.opcintype
                     AND amop.amoprighttype = opc.opcintype
                     AND amop.amopstrategy = 3          -- btree equal
                     AND amop.amopmethod = opc.opcmethod
    JOIN pg_operator op ON op.oid = amop.amopopr
    JOIN pg_namespace opn ON opn.oid = op.oprnamespace
    LEFT JOIN pg_collation coll ON coll.oid = a.attcollation
    LEFT JOIN pg_namespace colln ON colln.oid = coll.collnamespace
   WHERE i.indrelid = rel AND i.indisprimary
   ORDER BY k.ord
$fn$;

-- The source columns that go into the document, in document order: the
-- given ones (checked) or all of them in table order.
CREATE FUNCTION fraiseql_wire._document_columns(source regclass, columns text[])
  RETURNS text[]
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  result  text[];
  missing text;
  dup     text;
BEGIN
  IF columns IS NULL THEN
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO result
      FROM pg_attribute a
     WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;
    IF result IS NULL THEN
      RAISE EXCEPTION 'relation % has no columns', source
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN result;
  END IF;
  IF cardinality(columns) = 0 THEN
    RAISE EXCEPTION 'the column list is empty'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass NULL for all columns, or name at least one.';
  END IF;
  IF array_position(columns, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'the column list contains NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT c INTO missing
    FROM unnest(columns) AS c
   WHERE NOT EXISTS (SELECT FROM pg_attribute a
                      WHERE a.attrelid = source AND a.attnum > 0
                        AND NOT a.attisdropped AND a.attname = c)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'column "%" of relation % does not exist', missing, source
      USING ERRCODE = 'undefined_column',
            HINT = 'Column names are matched exactly (case-sensitive, unquoted).';
  END IF;
  SELECT c INTO dup FROM unnest(columns) AS c GROUP BY c HAVING count(*) > 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'column "%" is listed more than once', dup
      USING ERRCODE = 'duplicate_column';
  END IF;
  RETURN columns;
END
$fn$;

-- The SQL expression that builds the document from the given columns,
-- referenced as alias.column (or bare column when alias is NULL).  Keys are
-- text literals, so the planner can map each key back to its column.
-- jsonb_build_object takes at most 100 arguments: wider jsonb documents are
-- the || of several calls of at most 50 keys; json has no ||, so json
-- documents are limited to 50 keys.
CREATE FUNCTION fraiseql_wire._document_expression(
    columns text[], camel_case boolean, format text, alias text DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  keys   text[];
  parts  text[] := '{}';
  args   text[];
  dup    text;
  i      integer;
  n      integer := cardinality(columns);
  fn     text := CASE format WHEN 'json' THEN 'pg_catalog.json_build_object'
                             ELSE 'pg_catalog.jsonb_build_object' END;
BEGIN
  SELECT array_agg(CASE WHEN camel_case THEN fraiseql_wire._camel_key(c) ELSE c END ORDER BY o)
    INTO keys
    FROM unnest(columns) WITH ORDINALITY AS u(c, o);
  SELECT k INTO dup FROM unnest(keys) AS k GROUP BY k HAVING count(*) > 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'document key "%" would appear more than once', dup
      USING ERRCODE = 'duplicate_column',
            DETAIL = 'With camel_case, two columns map to the same key.',
            HINT = 'Pass a column list that leaves one of them out, or use camel_case => false.';
  END IF;
  IF format = 'json' AND n > 50 THEN
    RAISE EXCEPTION 'too many columns for format json: %', n
      USING ERRCODE = 'too_many_columns',
            DETAIL = 'json_build_object takes at most 100 arguments (50 keys) and json has no concatenation operator.',
            HINT = 'Use format ''jsonb'' (which joins several jsonb_build_object calls) or pass at most 50 columns.';
  END IF;
  args := '{}';
  FOR i IN 1 .. n LOOP
    args := args || format('%L::text, %s', keys[i],
                           CASE WHEN alias IS NULL THEN quote_ident(columns[i])
                                ELSE quote_ident(alias) || '.' || quote_ident(columns[i]) END);
    IF cardinality(args) = 50 OR i = n THEN
      parts := parts || (fn || '(' || array_to_string(args, ', ') || ')');
      args := '{}';
    END IF;
  END LOOP;
  IF cardinality(parts) = 1 THEN
    RETURN parts[1];
  END IF;
  RETURN '(' || array_to_string(parts, ' OPERATOR(pg_catalog.||) ') || ')';
END
$fn$;

-- schema.name of a relation (or of a name in a schema), each part quoted.
CREATE FUNCTION fraiseql_wire._qualified(nsp oid, relname text) RETURNS text
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT quote_ident(n.nspname) || '.' || quote_ident(relname)
    FROM pg_namespace n WHERE n.oid = nsp
$fn$;

-- Fails unless name is free for a relation in schema nsp.
CREATE FUNCTION fraiseql_wire._check_relation_free(nsp oid, relname text) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = nsp AND c.relname::text = _check_relation_free.relname) THEN
    RAISE EXCEPTION 'relation % already exists', fraiseql_wire._qualified(nsp, relname)
      USING ERRCODE = 'duplicate_table',
            HINT = 'Drop or rename it, or choose another entity name.';
  END IF;
END
$fn$;

-- The registration of an entity of the other kind, if any: v_ and tv_ of one
-- entity share their source and their document definition.
CREATE FUNCTION fraiseql_wire._sibling(entity text, kind text) RETURNS fraiseql_wire.registry
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT r.* FROM fraiseql_wire.registry r
   WHERE r.entity = _sibling.entity AND r.kind <> _sibling.kind
$fn$;

CREATE FUNCTION fraiseql_wire._check_source(source regclass, kinds "char"[], what text)
  RETURNS pg_catalog.pg_class
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  c pg_class;
BEGIN
  IF source IS NULL THEN
    RAISE EXCEPTION 'source must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO c FROM pg_class WHERE oid = source;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', source::oid
      USING ERRCODE = 'undefined_table';
  END IF;
  IF NOT (c.relkind = ANY (kinds)) THEN
    RAISE EXCEPTION '% is not a valid source for %', source, what
      USING ERRCODE = 'wrong_object_type',
            DETAIL = CASE WHEN what = 'a tv_ table'
                          THEN 'A tv_ table is kept in step by triggers, so its source must be a table.'
                          ELSE 'The source must be a table, view, materialized view or foreign table.' END;
  END IF;
  IF c.relpersistence = 't' THEN
    RAISE EXCEPTION '% is a temporary table', source
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'A v_ view or tv_ table must outlive the session, and registered entities are dumped with the database.';
  END IF;
  RETURN c;
END
$fn$;

-- ------------------------------------------------------------ check_view

CREATE FUNCTION fraiseql_wire.check_view(rel regclass) RETURNS regtype
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  c        pg_class;
  typ      oid;
  basetyp  oid;
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO c FROM pg_class WHERE oid = rel;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
      USING ERRCODE = 'undefined_table';
  END IF;
  IF c.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
    RAISE EXCEPTION '% cannot be streamed', rel
      USING ERRCODE = 'wrong_object_type',
            DETAIL = 'Only tables, views, materialized views and foreign tables can be queried.';
  END IF;
  SELECT a.atttypid INTO typ FROM pg_attribute a
   WHERE a.attrelid = rel AND a.attname = 'data' AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation % has no column "data"', rel
      USING ERRCODE = 'undefined_column',
            DETAIL = 'A fraiseql_wire view has a column named "data" of type json or jsonb.',
            HINT = 'Create one with fraiseql_wire.create_view(), or add a "data" column.';
  END IF;
  basetyp := typ;
  WHILE (SELECT typtype FROM pg_type WHERE oid = basetyp) = 'd' LOOP
    basetyp := (SELECT typbasetype FROM pg_type WHERE oid = basetyp);
  END LOOP;
  IF basetyp NOT IN ('json'::regtype, 'jsonb'::regtype) THEN
    RAISE EXCEPTION 'column "data" of relation % has type %, not json or jsonb', rel, typ::regtype
      USING ERRCODE = 'datatype_mismatch',
            DETAIL = 'A fraiseql_wire view has a column named "data" of type json or jsonb.';
  END IF;
  RETURN basetyp::regtype;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.check_view(regclass) IS
  'raises unless the relation has a column "data" of type json or jsonb; returns that type';

-- ------------------------------------------------------------ create_view

CREATE FUNCTION fraiseql_wire.create_view(
    entity     text,
    source     regclass,
    columns    text[]  DEFAULT NULL,
    camel_case boolean DEFAULT false,
    format     text    DEFAULT 'jsonb')
  RETURNS regclass
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  src      pg_class;
  sibling  fraiseql_wire.registry;
  cols     text[];
  pk       text[];
  nsp      text;
  viewname text := 'v_' || entity;
  expr     text;
  result   regclass;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  PERFORM fraiseql_wire._check_format(format);
  IF camel_case IS NULL THEN
    RAISE EXCEPTION 'camel_case must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  src := fraiseql_wire._check_source(source, '{r,p,v,m,f}', 'a v_ view');
  IF EXISTS (SELECT FROM fraiseql_wire.registry r WHERE r.entity = create_view.entity AND r.kind = 'view') THEN
    RAISE EXCEPTION 'entity "%" already has a v_ view', entity
      USING ERRCODE = 'duplicate_object',
            HINT = 'Drop it first with fraiseql_wire.drop_view().';
  END IF;
  cols := fraiseql_wire._document_columns(source, columns);
  sibling := fraiseql_wire._sibling(entity, 'view');
  IF sibling.entity IS NOT NULL
     AND (sibling.source <> source OR sibling.columns <> cols OR sibling.camel_case <> camel_case) THEN
    RAISE EXCEPTION 'entity "%" already has a tv_ table with another definition', entity
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('tv_%s is built from %s, columns %s, camel_case %s.',
                                       entity, sibling.source, sibling.columns, sibling.camel_case),
            HINT = 'The v_ view and tv_ table of one entity serve the same documents: use the same source, columns and camel_case.';
  END IF;
  nsp := (SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.oid = src.relnamespace);
  PERFORM fraiseql_wire._check_relation_free(src.relnamespace, viewname);

  SELECT array_agg(quote_ident(p.col)) INTO pk FROM fraiseql_wire._pk_columns(source) p;
  IF 'data' = ANY (SELECT p.col FROM fraiseql_wire._pk_columns(source) p) THEN
    RAISE EXCEPTION 'primary key column "data" of % clashes with the document column', source
      USING ERRCODE = 'duplicate_column',
            HINT = 'Rename the column, or build the view by hand.';
  END IF;
  expr := fraiseql_wire._document_expression(cols, camel_case, format);

  -- A plain view reads its source with its owner's rights, and the owner of
  -- a table is exempt from its row-level security: granting SELECT on v_
  -- would hand every row to the grantee.  Over a source with row security
  -- the view checks the reader's rights and policies (security_invoker).
  EXECUTE pg_catalog.format('CREATE VIEW %s.%I%s AS SELECT %s%s AS data FROM %s.%I',
                            nsp, viewname,
                            CASE WHEN src.relrowsecurity THEN ' WITH (security_invoker = true)' ELSE '' END,
                            CASE WHEN pk IS NULL THEN '' ELSE array_to_string(pk, ', ') || ', ' END,
                            expr, nsp, src.relname);
  result := pg_catalog.format('%s.%I', nsp, viewname)::regclass;
  EXECUTE pg_catalog.format('COMMENT ON VIEW %s.%I IS %L', nsp, viewname,
                            pg_catalog.format('fraiseql_wire v_ view of entity %s', entity));

  INSERT INTO fraiseql_wire.registry (entity, kind, relation, source, format, columns, camel_case)
  VALUES (entity, 'view', result, source, format, cols, camel_case);
  RETURN result;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.create_view(text, regclass, text[], boolean, text) IS
  'creates v_<entity>: primary key columns and a json/jsonb "data" document built from the source';

-- ------------------------------------------------------------ tv_ tables

-- (Re)writes every row of a registered tv_ table from its source.  Like the
-- trigger functions, it renders documents with fixed settings (the ones the
-- fraiseql_wire client reads v_ views with), so that a stored document does
-- not depend on the session of whoever wrote it.
CREATE FUNCTION fraiseql_wire._fill_table_view(r fraiseql_wire.registry) RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  SET TimeZone = 'UTC' SET DateStyle = 'ISO' SET IntervalStyle = 'postgres'
  SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $fn$
DECLARE
  tv   pg_class;
  src  pg_class;
  pk   text;
  n    bigint;
BEGIN
  SELECT * INTO tv FROM pg_class WHERE oid = r.relation;
  SELECT * INTO src FROM pg_class WHERE oid = r.source;
  SELECT string_agg(quote_ident(p.col), ', ') INTO pk FROM fraiseql_wire._pk_columns(r.source) p;
  EXECUTE pg_catalog.format('INSERT INTO %s (%s, data) SELECT %s, %s FROM %s',
                            fraiseql_wire._qualified(tv.relnamespace, tv.relname), pk, pk,
                            fraiseql_wire._document_expression(r.columns, r.camel_case, r.format),
                            fraiseql_wire._qualified(src.relnamespace, src.relname));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;

CREATE FUNCTION fraiseql_wire.create_table_view(
    entity     text,
    source     regclass DEFAULT NULL,
    columns    text[]   DEFAULT NULL,
    camel_case boolean  DEFAULT NULL,
    format     text     DEFAULT NULL,
    gin_index  boolean  DEFAULT true)
  RETURNS regclass
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  sibling  fraiseql_wire.registry;
  src      pg_class;
  cols     text[];
  nsp      text;
  tvname   text := 'tv_' || entity;
  fnname   text := 'tv_' || entity || '_sync';
  pkcols   text;
  pkdefs   text;
  matchold text;
  newrows  text;
  body     text;
  result   regclass;
  reg      fraiseql_wire.registry;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  IF gin_index IS NULL THEN
    RAISE EXCEPTION 'gin_index must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF EXISTS (SELECT FROM fraiseql_wire.registry r WHERE r.entity = create_table_view.entity AND r.kind = 'table') THEN
    RAISE EXCEPTION 'entity "%" already has a tv_ table', entity
      USING ERRCODE = 'duplicate_object',
            HINT = 'Drop it first with fraiseql_wire.drop_view(), or rebuild it with fraiseql_wire.refresh_table_view().';
  END IF;

  -- A v_ view of the entity gives the defaults, and must agree with what is given.
  sibling := fraiseql_wire._sibling(entity, 'table');
  IF sibling.entity IS NOT NULL THEN
    IF (source IS NOT NULL AND source <> sibling.source)
       OR (camel_case IS NOT NULL AND camel_case <> sibling.camel_case)
       OR (columns IS NOT NULL AND columns <> sibling.columns) THEN
      RAISE EXCEPTION 'entity "%" already has a v_ view with another definition', entity
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = pg_catalog.format('v_%s is built from %s, columns %s, camel_case %s.',
                                         entity, sibling.source, sibling.columns, sibling.camel_case),
              HINT = 'Leave source, columns and camel_case NULL to take the v_ view''s definition.';
    END IF;
    source := sibling.source;
    columns := sibling.columns;
    camel_case := sibling.camel_case;
    format := coalesce(format, sibling.format);
  ELSE
    IF source IS NULL THEN
      RAISE EXCEPTION 'source must not be NULL'
        USING ERRCODE = 'null_value_not_allowed',
              DETAIL = pg_catalog.format('Entity "%s" has no v_ view to take the source from.', entity);
    END IF;
    camel_case := coalesce(camel_case, false);
    format := coalesce(format, 'jsonb');
  END IF;
  PERFORM fraiseql_wire._check_format(format);
  src := fraiseql_wire._check_source(source, '{r,p}', 'a tv_ table');
  -- Statement triggers on a parent do not fire for statements on its
  -- partitions or children, so tv_ would silently miss those changes.
  IF src.relkind = 'p' OR EXISTS (SELECT FROM pg_inherits WHERE inhparent = source) THEN
    RAISE EXCEPTION '% %', source,
      CASE src.relkind WHEN 'p' THEN 'is a partitioned table' ELSE 'has inheritance children' END
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'The triggers that keep a tv_ table in step would not see statements run directly on a partition or child table.',
            HINT = 'Use a v_ view (fraiseql_wire.create_view()), which reads all of them.';
  END IF;
  cols := fraiseql_wire._document_columns(source, columns);
  nsp := (SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.oid = src.relnamespace);

  SELECT string_agg(quote_ident(p.col), ', ' ORDER BY o),
         string_agg(quote_ident(p.col) || ' ' || p.type_sql, ', ' ORDER BY o),
         string_agg(pg_catalog.format('t.%I %s o.%I', p.col, p.eq_operator, p.col), ' AND ' ORDER BY o),
         string_agg('n.' || quote_ident(p.col), ', ' ORDER BY o)
    INTO pkcols, pkdefs, matchold, newrows
    FROM fraiseql_wire._pk_columns(source) WITH ORDINALITY AS p(col, eq_operator, type_sql, o);
  IF pkcols IS NULL THEN
    RAISE EXCEPTION '% has no primary key', source
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'A tv_ table is kept in step with its source row by row, by primary key.',
            HINT = 'Add a primary key to the source, or use a v_ view (fraiseql_wire.create_view()).';
  END IF;
  IF 'data' = ANY (SELECT p.col FROM fraiseql_wire._pk_columns(source) p) THEN
    RAISE EXCEPTION 'primary key column "data" of % clashes with the document column', source
      USING ERRCODE = 'duplicate_column',
            HINT = 'Rename the column.';
  END IF;
  -- The trigger function is SECURITY DEFINER and fires on the source's
  -- statements, where it runs code the source's owner controls (the output
  -- functions and json casts of the column types).  So it must never run
  -- with more rights than that owner: tv_ and the function belong to the
  -- source's owner, and only that role (or a member of it) may make them.
  IF NOT pg_has_role(current_user, src.relowner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of % to create a tv_ table on it', source
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = pg_catalog.format('The trigger function of tv_%s would run as %s on statements of the owner %s of %s.',
                                       entity, current_user, src.relowner::regrole, source),
            HINT = 'Run the call as the owner of the source, or as a member of that role.';
  END IF;
  PERFORM fraiseql_wire._check_relation_free(src.relnamespace, tvname);
  IF EXISTS (SELECT FROM pg_proc WHERE pronamespace = src.relnamespace AND proname::text = fnname) THEN
    RAISE EXCEPTION 'function %.%() already exists', nsp, quote_ident(fnname)
      USING ERRCODE = 'duplicate_function',
            HINT = 'It would be the trigger function of tv_' || entity || '; drop or rename it.';
  END IF;

  EXECUTE pg_catalog.format('CREATE TABLE %s.%I (%s, data %s NOT NULL, PRIMARY KEY (%s))',
                            nsp, tvname, pkdefs,
                            CASE format WHEN 'json' THEN 'pg_catalog.json' ELSE 'pg_catalog.jsonb' END,
                            pkcols);
  result := pg_catalog.format('%s.%I', nsp, tvname)::regclass;
  EXECUTE pg_catalog.format('COMMENT ON TABLE %s.%I IS %L', nsp, tvname,
                            pg_catalog.format('fraiseql_wire tv_ table of entity %s, kept in step with %s by triggers',
                                              entity, source));

  -- The trigger function: statement-level, fed by transition tables, so a
  -- bulk statement costs one INSERT ... SELECT.  An UPDATE deletes the old
  -- keys and inserts the new rows, which also covers a primary key change.
  -- It runs as the tv_ table's owner (the source's owner, see above), so
  -- writers of the source need no
  -- privilege on tv_.  Rendering settings are fixed (see _fill_table_view).
  newrows := pg_catalog.format('INSERT INTO %s.%I (%s, data) SELECT %s, %s FROM fw_new AS n;',
                               nsp, tvname, pkcols, newrows,
                               fraiseql_wire._document_expression(cols, camel_case, format, 'n'));
  body := pg_catalog.format($body$
BEGIN
  IF TG_OP = 'INSERT' THEN
    %3$s
  ELSIF TG_OP = 'UPDATE' THEN
    DELETE FROM %1$s.%2$I AS t USING fw_old AS o WHERE %4$s;
    %3$s
  ELSIF TG_OP = 'DELETE' THEN
    DELETE FROM %1$s.%2$I AS t USING fw_old AS o WHERE %4$s;
  ELSIF TG_OP = 'TRUNCATE' THEN
    TRUNCATE %1$s.%2$I;
  END IF;
  RETURN NULL;
END
$body$, nsp, tvname, newrows, matchold);
  EXECUTE pg_catalog.format(
    'CREATE FUNCTION %s.%I() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER '
    'SET search_path = pg_catalog, pg_temp SET TimeZone = ''UTC'' SET DateStyle = ''ISO'' '
    'SET IntervalStyle = ''postgres'' '
    'SET extra_float_digits = 3 SET bytea_output = ''hex'' AS %L',
    nsp, fnname, body);
  EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s.%I() FROM PUBLIC', nsp, fnname);
  IF src.relowner <> (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user) THEN
    EXECUTE pg_catalog.format('ALTER TABLE %s.%I OWNER TO %s', nsp, tvname, src.relowner::regrole);
    EXECUTE pg_catalog.format('ALTER FUNCTION %s.%I() OWNER TO %s', nsp, fnname, src.relowner::regrole);
  END IF;
  EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s.%I() IS %L', nsp, fnname,
                            pg_catalog.format('fraiseql_wire: keeps tv_%s in step with %s', entity, source));

  -- Triggers first: CREATE TRIGGER locks the source against writers until
  -- commit, so no change slips between the fill and the triggers.
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER INSERT ON %s.%I REFERENCING NEW TABLE AS fw_new '
                            'FOR EACH STATEMENT EXECUTE FUNCTION %s.%I()',
                            'tv_' || entity || '_ins', nsp, src.relname, nsp, fnname);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER UPDATE ON %s.%I REFERENCING OLD TABLE AS fw_old NEW TABLE AS fw_new '
                            'FOR EACH STATEMENT EXECUTE FUNCTION %s.%I()',
                            'tv_' || entity || '_upd', nsp, src.relname, nsp, fnname);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER DELETE ON %s.%I REFERENCING OLD TABLE AS fw_old '
                            'FOR EACH STATEMENT EXECUTE FUNCTION %s.%I()',
                            'tv_' || entity || '_del', nsp, src.relname, nsp, fnname);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER TRUNCATE ON %s.%I '
                            'FOR EACH STATEMENT EXECUTE FUNCTION %s.%I()',
                            'tv_' || entity || '_trn', nsp, src.relname, nsp, fnname);

  INSERT INTO fraiseql_wire.registry (entity, kind, relation, source, format, columns, camel_case, gin_index)
  VALUES (entity, 'table', result, source, format, cols, camel_case, gin_index)
  RETURNING * INTO reg;
  PERFORM fraiseql_wire._fill_table_view(reg);

  IF gin_index THEN
    EXECUTE pg_catalog.format('CREATE INDEX %I ON %s.%I USING gin (%s pg_catalog.jsonb_path_ops)',
                              left(tvname, 58) || '_data', nsp, tvname,
                              CASE format WHEN 'json' THEN '(data::pg_catalog.jsonb)' ELSE 'data' END);
  END IF;
  EXECUTE pg_catalog.format('ANALYZE %s.%I', nsp, tvname);
  RETURN result;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.create_table_view(text, regclass, text[], boolean, text, boolean) IS
  'creates tv_<entity>: a table of primary keys and documents kept in step with the source by triggers';

CREATE FUNCTION fraiseql_wire.refresh_table_view(entity text) RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r   fraiseql_wire.registry;
  tv  pg_class;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  SELECT * INTO r FROM fraiseql_wire.registry x WHERE x.entity = refresh_table_view.entity AND x.kind = 'table';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'entity "%" has no tv_ table', entity
      USING ERRCODE = 'undefined_object',
            HINT = 'Create it with fraiseql_wire.create_table_view(); fraiseql_wire.entities() lists what exists.';
  END IF;
  SELECT * INTO tv FROM pg_class WHERE oid = r.relation;
  IF NOT FOUND OR NOT EXISTS (SELECT FROM pg_class WHERE oid = r.source) THEN
    RAISE EXCEPTION 'the tv_ table or the source of entity "%" no longer exists', entity
      USING ERRCODE = 'undefined_table',
            HINT = 'Unregister it with fraiseql_wire.drop_view() and create it again.';
  END IF;
  -- Writers of the source wait (their triggers would race the rebuild);
  -- readers of the source do not.  tv_ is rewritten like REFRESH
  -- MATERIALIZED VIEW: readers of tv_ wait until commit.
  EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE MODE',
                            (SELECT fraiseql_wire._qualified(c.relnamespace, c.relname)
                               FROM pg_class c WHERE c.oid = r.source));
  EXECUTE pg_catalog.format('TRUNCATE %s', fraiseql_wire._qualified(tv.relnamespace, tv.relname));
  RETURN fraiseql_wire._fill_table_view(r);
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.refresh_table_view(text) IS
  'rebuilds tv_<entity> from its source; returns the number of rows';

-- ------------------------------------------------------------ drop_view

-- Drops the triggers a tv_ table put on its source and its trigger function.
-- The function is found through the triggers, or by name in tv_nsp (the tv_
-- table's schema) when the triggers are gone; only a function that is a
-- trigger function of that name is dropped.
CREATE FUNCTION fraiseql_wire._drop_sync(entity text, source regclass, tv_nsp oid) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  t     record;
  fns   oid[] := '{}';
  f     oid;
BEGIN
  FOR t IN SELECT tg.tgname, tg.tgfoid, c.relnamespace, c.relname
             FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
            WHERE tg.tgrelid = source
              AND tg.tgname::text IN ('tv_' || entity || '_ins', 'tv_' || entity || '_upd',
                                      'tv_' || entity || '_del', 'tv_' || entity || '_trn')
  LOOP
    EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname,
                              fraiseql_wire._qualified(t.relnamespace, t.relname));
    fns := fns || t.tgfoid;
  END LOOP;
  IF tv_nsp IS NOT NULL THEN
    fns := fns || ARRAY(SELECT p.oid FROM pg_proc p
                         WHERE p.pronamespace = tv_nsp AND p.proname::text = 'tv_' || entity || '_sync'
                           AND p.pronargs = 0);
  END IF;
  FOR f IN SELECT DISTINCT p.oid FROM pg_proc p
            WHERE p.oid = ANY (fns) AND p.proname::text = 'tv_' || entity || '_sync'
              AND p.prorettype = 'trigger'::regtype
  LOOP
    EXECUTE pg_catalog.format('DROP FUNCTION %s', f::regprocedure);
  END LOOP;
END
$fn$;

CREATE FUNCTION fraiseql_wire.drop_view(entity text, kind text DEFAULT NULL) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r       fraiseql_wire.registry;
  rel     pg_class;
  nsp     text;
  dropped integer := 0;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  IF kind IS NOT NULL AND kind NOT IN ('view', 'table') THEN
    RAISE EXCEPTION 'unknown kind: %', quote_literal(kind)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The kind is ''view'' (v_), ''table'' (tv_) or NULL (both).';
  END IF;
  FOR r IN SELECT * FROM fraiseql_wire.registry x
            WHERE x.entity = drop_view.entity AND (drop_view.kind IS NULL OR x.kind = drop_view.kind)
            ORDER BY x.kind DESC            -- the v_ view first
  LOOP
    SELECT * INTO rel FROM pg_class WHERE oid = r.relation;
    IF FOUND THEN
      nsp := (SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.oid = rel.relnamespace);
      IF r.kind = 'view' THEN
        EXECUTE pg_catalog.format('DROP VIEW %s.%I', nsp, rel.relname);
      ELSE
        PERFORM fraiseql_wire._drop_sync(r.entity, r.source, rel.relnamespace);
        EXECUTE pg_catalog.format('DROP TABLE %s.%I', nsp, rel.relname);
      END IF;
    ELSE
      IF r.kind = 'table' THEN
        PERFORM fraiseql_wire._drop_sync(r.entity, r.source, NULL);
      END IF;
      RAISE NOTICE '% of entity "%" no longer exists; unregistering it',
        CASE r.kind WHEN 'view' THEN 'the v_ view' ELSE 'the tv_ table' END, entity;
    END IF;
    DELETE FROM fraiseql_wire.registry x WHERE x.entity = r.entity AND x.kind = r.kind;
    dropped := dropped + 1;
  END LOOP;
  IF dropped = 0 THEN
    RAISE EXCEPTION 'entity "%" has no %', entity,
      CASE kind WHEN 'view' THEN 'v_ view' WHEN 'table' THEN 'tv_ table' ELSE 'v_ view or tv_ table' END
      USING ERRCODE = 'undefined_object',
            HINT = 'fraiseql_wire.entities() lists the registered entities.';
  END IF;
  RETURN dropped;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.drop_view(text, text) IS
  'drops the v_ view and/or tv_ table (with its triggers) of an entity and unregisters them';

-- ------------------------------------------------------------ entities

CREATE FUNCTION fraiseql_wire.entities()
  RETURNS TABLE (entity text, relation regclass, kind text, source regclass, format text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT r.entity, r.relation, r.kind, r.source, r.format
    FROM fraiseql_wire.registry r
   ORDER BY r.entity, r.kind DESC
$fn$;

COMMENT ON FUNCTION fraiseql_wire.entities() IS
  'registered entities: one row per v_ view (kind view) or tv_ table (kind table)';

-- ------------------------------------------------------------ plain DROP

-- A v_ view or tv_ table dropped with plain DROP (or by a CASCADE from its
-- source) is unregistered, and a dropped tv_ table's triggers and trigger
-- function go with it: otherwise every write to the source would fail on
-- the missing table.
CREATE FUNCTION fraiseql_wire._on_sql_drop() RETURNS event_trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  d  record;
  r  fraiseql_wire.registry;
BEGIN
  IF to_regclass('fraiseql_wire.registry') IS NULL THEN
    RETURN;                                   -- the extension itself is going
  END IF;
  FOR d IN SELECT o.objid FROM pg_event_trigger_dropped_objects() o
            WHERE o.classid = 'pg_class'::regclass AND o.objsubid = 0
  LOOP
    FOR r IN SELECT * FROM fraiseql_wire.registry x WHERE x.relation = d.objid LOOP
      IF r.kind = 'table' THEN
        PERFORM fraiseql_wire._drop_sync(r.entity, r.source,
          (SELECT n.oid FROM pg_event_trigger_dropped_objects() o
             JOIN pg_namespace n ON n.nspname = o.schema_name
            WHERE o.objid = d.objid AND o.classid = 'pg_class'::regclass AND o.objsubid = 0
            LIMIT 1));
      END IF;
      DELETE FROM fraiseql_wire.registry x WHERE x.entity = r.entity AND x.kind = r.kind;
    END LOOP;
  END LOOP;
END
$fn$;

CREATE EVENT TRIGGER fraiseql_wire_sql_drop ON sql_drop
  EXECUTE FUNCTION fraiseql_wire._on_sql_drop();

-- ------------------------------------------------------------ ALTER of a source

-- Schema changes of a tv_ table's source are not followed (docs/extension.md,
-- Limitations).  Renaming or dropping a document column would leave the
-- trigger function naming a column that is gone, or, after a rename swap
-- (a -> tmp, b -> a, tmp -> b), silently filling each key with the other
-- column.  So an ALTER TABLE that leaves a registered document column of a
-- tv_ source missing is refused, before anything is committed.  A change of
-- the source's owner moves the tv_ table and its trigger function along.
CREATE FUNCTION fraiseql_wire._on_ddl_end() RETURNS event_trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r       record;
  missing text;
  owner   oid;
  f       oid;
BEGIN
  IF to_regclass('fraiseql_wire.registry') IS NULL THEN
    RETURN;
  END IF;
  FOR r IN SELECT DISTINCT x.entity, x.relation, x.source, x.columns
             FROM pg_event_trigger_ddl_commands() c
             JOIN fraiseql_wire.registry x ON x.source = c.objid
            WHERE c.classid = 'pg_class'::regclass AND x.kind = 'table'
  LOOP
    SELECT col INTO missing FROM unnest(r.columns) AS col
     WHERE NOT EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = r.source AND a.attname = col
                          AND a.attnum > 0 AND NOT a.attisdropped)
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'column "%" of % is in the documents of tv_%', missing, r.source, r.entity
        USING ERRCODE = 'object_in_use',
              DETAIL = 'The trigger function of a tv_ table names the document columns of its source; they may not be renamed or dropped.',
              HINT = pg_catalog.format('Drop the tv_ table first (fraiseql_wire.drop_view(%L, ''table'')), alter the source, and create it again.', r.entity);
    END IF;
    -- A new owner of the source takes the tv_ table and its trigger function
    -- along: the function must never run with more rights than the source's
    -- owner (see create_table_view), also after ALTER TABLE ... OWNER TO.
    SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = r.source;
    FOR f IN SELECT DISTINCT tg.tgfoid FROM pg_trigger tg
              WHERE tg.tgrelid = r.source
                AND tg.tgname::text IN ('tv_' || r.entity || '_ins', 'tv_' || r.entity || '_upd',
                                        'tv_' || r.entity || '_del', 'tv_' || r.entity || '_trn')
                AND (SELECT p.proowner FROM pg_proc p WHERE p.oid = tg.tgfoid) <> owner
    LOOP
      EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %s', f::regprocedure, owner::regrole);
    END LOOP;
    IF EXISTS (SELECT FROM pg_class c WHERE c.oid = r.relation AND c.relowner <> owner) THEN
      EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', r.relation, owner::regrole);
    END IF;
  END LOOP;
END
$fn$;

CREATE EVENT TRIGGER fraiseql_wire_ddl_end ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION fraiseql_wire._on_ddl_end();

-- extension/sql/install/40_filter.sql
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

-- extension/sql/install/50_support.sql
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
