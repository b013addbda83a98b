-- fraiseql_wire 0.1.0 -> 0.2.0 (ALTER EXTENSION fraiseql_wire UPDATE TO '0.2.0').
-- Released with 0.2.0: never edited afterwards (docs/versioning.md).  It
-- brings a 0.1.0 installation to what fraiseql_wire--0.2.0.sql installs,
-- object for object (regress/shell/40_upgrade.sh compares the two), and
-- brings the entities made under 0.1.0 along: their tv_ trigger functions
-- run in a security-restricted operation and, with their tv_ tables, depend
-- on the extension.
\echo Use "ALTER EXTENSION fraiseql_wire UPDATE TO '0.2.0'" to load this file. \quit

-- create_table_view, refresh_table_view and drop_view gain a schema
-- argument: the old signatures are dropped and the new ones created, so
-- privileges granted or revoked on the old ones by hand do not carry over.
DO $acl$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT s.name, p.proacl
             FROM (VALUES ('fraiseql_wire.create_table_view(text, regclass, text[], boolean, text, boolean)'),
                          ('fraiseql_wire.refresh_table_view(text)'),
                          ('fraiseql_wire.drop_view(text, text)')) AS s(name)
             JOIN pg_catalog.pg_proc p ON p.oid = s.name::pg_catalog.regprocedure
            WHERE p.proacl IS NOT NULL
  LOOP
    RAISE WARNING 'the privileges on % do not carry over to its new signature', f.name
      USING DETAIL = pg_catalog.format('They were %s; the function of 0.2.0 starts with the default (EXECUTE for PUBLIC).',
                                       f.proacl),
            HINT = 'GRANT or REVOKE them again on the new function after the update.';
  END LOOP;
END
$acl$;

-- ------------------------------------------------------------ registry

-- Entities are scoped by schema: the registry's key is the relation (unique
-- already in 0.1.0, so every existing row keeps its place).
ALTER TABLE fraiseql_wire.registry
  DROP CONSTRAINT registry_pkey,
  DROP CONSTRAINT registry_relation_key,
  ADD CONSTRAINT registry_pkey PRIMARY KEY (relation);

COMMENT ON TABLE fraiseql_wire.registry IS
  'fraiseql_wire entities (per schema): v_ views and tv_ tables with their source and document definition';

-- A row-level trigger runs as the user whose statement fired it, so
-- current_user is the caller here.  Superusers (pg_has_role is always true
-- for them) and pg_restore pass.
CREATE OR REPLACE FUNCTION fraiseql_wire._registry_guard() RETURNS trigger
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

-- ------------------------------------------------------------ documents

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

-- ------------------------------------------------------------ views

-- The SQL expression that builds the document from the given columns,
-- referenced as alias.column (or bare column when alias is NULL).  Keys are
-- text literals, so the planner can map each key back to its column.
-- jsonb: jsonb_build_object, so that a jsonb v_ view is plain SQL that
-- outlives DROP EXTENSION.  json: fraiseql_wire.json_document, the C
-- renderer (the same JSON value as json_build_object, written compactly and
-- several times faster; the view depends on the extension).  A call takes
-- at most 100 arguments: wider documents join calls of at most 50 keys with
-- || (jsonb) or fraiseql_wire.json_document_concat (json).
CREATE OR REPLACE FUNCTION fraiseql_wire._document_expression(
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
  fn     text := CASE format WHEN 'json' THEN 'fraiseql_wire.json_document'
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
  IF format = 'json' THEN
    RETURN 'fraiseql_wire.json_document_concat(' || array_to_string(parts, ', ') || ')';
  END IF;
  RETURN '(' || array_to_string(parts, ' OPERATOR(pg_catalog.||) ') || ')';
END
$fn$;

DROP FUNCTION fraiseql_wire._sibling(text, text);

-- The registration of an entity in schema nsp, of the given kind.
CREATE FUNCTION fraiseql_wire._registration(entity text, nsp oid, kind text) RETURNS fraiseql_wire.registry
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT r.* FROM fraiseql_wire.registry r JOIN pg_class c ON c.oid = r.relation
   WHERE r.entity = _registration.entity AND r.kind = _registration.kind
     AND c.relnamespace = _registration.nsp
$fn$;

-- The registration of an entity of the other kind in schema nsp, if any: v_
-- and tv_ of one entity share their source and their document definition.
CREATE FUNCTION fraiseql_wire._sibling(entity text, nsp oid, kind text) RETURNS fraiseql_wire.registry
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT * FROM fraiseql_wire._registration(entity, nsp,
                                            CASE kind WHEN 'view' THEN 'table' ELSE 'view' END)
$fn$;

-- The schema an entity is looked up in.  Entities are scoped by schema, and
-- a name is never resolved across owners: without an explicit schema, only
-- the entity's relations (of the given kind, or any when NULL) that the
-- calling role itself owns count.  NULL when there is none; an error when
-- they are in several schemas.
CREATE FUNCTION fraiseql_wire._resolve_schema(entity text, kind text, schema regnamespace) RETURNS oid
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  own oid[];
BEGIN
  IF schema IS NOT NULL THEN
    RETURN schema;
  END IF;
  SELECT array_agg(DISTINCT c.relnamespace ORDER BY c.relnamespace) INTO own
    FROM fraiseql_wire.registry r JOIN pg_class c ON c.oid = r.relation
   WHERE r.entity = _resolve_schema.entity
     AND (_resolve_schema.kind IS NULL OR r.kind = _resolve_schema.kind)
     AND c.relowner = current_user::regrole;
  IF cardinality(own) > 1 THEN
    RAISE EXCEPTION 'entity "%" exists in several schemas', entity
      USING ERRCODE = 'ambiguous_parameter',
            DETAIL = pg_catalog.format('Schemas: %s.',
                       (SELECT string_agg(quote_ident(n.nspname), ', ' ORDER BY n.nspname)
                          FROM pg_namespace n WHERE n.oid = ANY (own))),
            HINT = 'Name one with schema => ''...''.';
  END IF;
  RETURN own[1];
END
$fn$;

-- A hint for "entity not found": where the entity exists, owned by others.
CREATE FUNCTION fraiseql_wire._elsewhere_hint(entity text, kind text) RETURNS text
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT CASE WHEN s.schemas IS NULL THEN 'fraiseql_wire.entities() lists the registered entities.'
              ELSE pg_catalog.format('It is registered in schema %s: name the schema (schema => ''...'').',
                                     s.schemas) END
    FROM (SELECT string_agg(DISTINCT quote_ident(n.nspname), ', ') AS schemas
            FROM fraiseql_wire.registry r
            JOIN pg_class c ON c.oid = r.relation
            JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE r.entity = _elsewhere_hint.entity
             AND (_elsewhere_hint.kind IS NULL OR r.kind = _elsewhere_hint.kind)) s
$fn$;

CREATE OR REPLACE FUNCTION fraiseql_wire.create_view(
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
  IF (fraiseql_wire._registration(entity, src.relnamespace, 'view')).entity IS NOT NULL THEN
    RAISE EXCEPTION 'entity "%" already has a v_ view in schema %', entity,
                    quote_ident((SELECT n.nspname FROM pg_namespace n WHERE n.oid = src.relnamespace))
      USING ERRCODE = 'duplicate_object',
            HINT = 'Drop it first with fraiseql_wire.drop_view().';
  END IF;
  cols := fraiseql_wire._document_columns(source, columns);
  sibling := fraiseql_wire._sibling(entity, src.relnamespace, 'view');
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

DROP FUNCTION fraiseql_wire._fill_table_view(fraiseql_wire.registry);

-- The statement that fills a registered tv_ table from its source, built
-- from the registry row (so _fill_table_view runs nothing a caller passes).
CREATE FUNCTION fraiseql_wire._fill_statement(r fraiseql_wire.registry) RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  tv   pg_class;
  src  pg_class;
  pk   text;
BEGIN
  SELECT * INTO tv FROM pg_class WHERE oid = r.relation;
  SELECT * INTO src FROM pg_class WHERE oid = r.source;
  IF tv.oid IS NULL OR src.oid IS NULL THEN
    RAISE EXCEPTION 'the tv_ table or the source of entity "%" no longer exists', r.entity
      USING ERRCODE = 'undefined_table',
            HINT = 'Unregister it with fraiseql_wire.drop_view() and create it again.';
  END IF;
  SELECT string_agg(quote_ident(p.col), ', ') INTO pk FROM fraiseql_wire._pk_columns(r.source) p;
  RETURN pg_catalog.format('INSERT INTO %s (%s, data) SELECT %s, %s FROM %s',
                           fraiseql_wire._qualified(tv.relnamespace, tv.relname), pk, pk,
                           fraiseql_wire._document_expression(r.columns, r.camel_case, r.format),
                           fraiseql_wire._qualified(src.relnamespace, src.relname));
END
$fn$;

-- (Re)writes every row of a registered tv_ table (truncating it first when
-- asked), like REFRESH MATERIALIZED VIEW: as the owner of the source, in a
-- security-restricted operation (extension/src/secctx.c).  The documents are
-- rendered with fixed settings (the ones the fraiseql_wire client reads v_
-- views with), so that a stored document does not depend on the session of
-- whoever wrote it.  The caller must have the privileges of the source's
-- owner.
CREATE FUNCTION fraiseql_wire._fill_table_view(tv regclass, truncate boolean) RETURNS bigint
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_fill_table_view';

-- They bracket the body of every tv_ trigger function: in between, the call
-- (SECURITY DEFINER, as the source's owner) is a security-restricted
-- operation whose setting changes are undone at the end, as the fill is
-- (extension/src/secctx.c).
CREATE FUNCTION fraiseql_wire._restrict_security() RETURNS bigint
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'fraiseql_wire_restrict_security';

CREATE FUNCTION fraiseql_wire._end_restricted(token bigint) RETURNS void
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_end_restricted';

DROP FUNCTION fraiseql_wire.create_table_view(text, regclass, text[], boolean, text, boolean);

CREATE FUNCTION fraiseql_wire.create_table_view(
    entity     text,
    source     regclass DEFAULT NULL,
    columns    text[]   DEFAULT NULL,
    camel_case boolean  DEFAULT NULL,
    format     text     DEFAULT NULL,
    gin_index  boolean  DEFAULT true,
    schema     regnamespace DEFAULT NULL)
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
  nspoid   oid;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  IF gin_index IS NULL THEN
    RAISE EXCEPTION 'gin_index must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  -- The entity lives in the source's schema; without a source, in the
  -- schema of its v_ view (named, or the caller's own: never another
  -- role's, see _resolve_schema).
  IF source IS NOT NULL THEN
    nspoid := (SELECT c.relnamespace FROM pg_class c WHERE c.oid = source);
    IF schema IS NOT NULL AND nspoid IS DISTINCT FROM schema::oid THEN
      RAISE EXCEPTION 'source % is not in schema %', source, schema
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'The tv_ table is made in the schema of its source; leave schema NULL.';
    END IF;
  ELSE
    nspoid := fraiseql_wire._resolve_schema(entity, 'view', schema);
  END IF;
  IF nspoid IS NOT NULL AND (fraiseql_wire._registration(entity, nspoid, 'table')).entity IS NOT NULL THEN
    RAISE EXCEPTION 'entity "%" already has a tv_ table in schema %', entity,
                    quote_ident((SELECT n.nspname FROM pg_namespace n WHERE n.oid = nspoid))
      USING ERRCODE = 'duplicate_object',
            HINT = 'Drop it first with fraiseql_wire.drop_view(), or rebuild it with fraiseql_wire.refresh_table_view().';
  END IF;

  -- A v_ view of the entity gives the defaults, and must agree with what is given.
  sibling := fraiseql_wire._sibling(entity, nspoid, 'table');
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
              DETAIL = pg_catalog.format('Entity "%s" has no v_ view %s to take the source from.', entity,
                                         CASE WHEN schema IS NULL THEN 'of the calling role'
                                              ELSE pg_catalog.format('in schema %s', schema) END),
              HINT = fraiseql_wire._elsewhere_hint(entity, 'view');
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
  -- writers of the source need no privilege on tv_, and, from its first
  -- statement on, in a security-restricted operation, like the fill: code
  -- the owner controls runs as the owner, never as the writer, and leaves
  -- no session state behind.  Rendering settings are fixed (see
  -- _fill_table_view); the SET clauses also undo, when the call returns,
  -- any setting changed inside it.
  newrows := pg_catalog.format('INSERT INTO %s.%I (%s, data) SELECT %s, %s FROM fw_new AS n;',
                               nsp, tvname, pkcols, newrows,
                               fraiseql_wire._document_expression(cols, camel_case, format, 'n'));
  body := pg_catalog.format($body$
DECLARE
  fw_section bigint := fraiseql_wire._restrict_security();
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
  PERFORM fraiseql_wire._end_restricted(fw_section);
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
  VALUES (entity, 'table', result, source, format, cols, camel_case, gin_index);
  PERFORM fraiseql_wire._fill_table_view(result, false);

  IF gin_index THEN
    EXECUTE pg_catalog.format('CREATE INDEX %I ON %s.%I USING gin (%s pg_catalog.jsonb_path_ops)',
                              left(tvname, 58) || '_data', nsp, tvname,
                              CASE format WHEN 'json' THEN '(data::pg_catalog.jsonb)' ELSE 'data' END);
  END IF;
  EXECUTE pg_catalog.format('ANALYZE %s.%I', nsp, tvname);
  RETURN result;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.create_table_view(text, regclass, text[], boolean, text, boolean, regnamespace) IS
  'creates tv_<entity>: a table of primary keys and documents kept in step with the source by triggers';

DROP FUNCTION fraiseql_wire.refresh_table_view(text);

CREATE FUNCTION fraiseql_wire.refresh_table_view(entity text, schema regnamespace DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r   fraiseql_wire.registry;
  tv  pg_class;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  r := fraiseql_wire._registration(entity, fraiseql_wire._resolve_schema(entity, 'table', schema), 'table');
  IF r.entity IS NULL THEN
    RAISE EXCEPTION 'entity "%" has no tv_ table %', entity,
      CASE WHEN schema IS NULL THEN 'of the calling role' ELSE pg_catalog.format('in schema %s', schema) END
      USING ERRCODE = 'undefined_object',
            HINT = fraiseql_wire._elsewhere_hint(entity, 'table');
  END IF;
  SELECT * INTO tv FROM pg_class WHERE oid = r.relation;
  IF NOT FOUND OR NOT EXISTS (SELECT FROM pg_class WHERE oid = r.source) THEN
    RAISE EXCEPTION 'the tv_ table or the source of entity "%" no longer exists', entity
      USING ERRCODE = 'undefined_table',
            HINT = 'Unregister it with fraiseql_wire.drop_view() and create it again.';
  END IF;
  -- Writers of the source wait (their triggers would race the rebuild);
  -- readers of the source do not.  tv_ is truncated and filled like REFRESH
  -- MATERIALIZED VIEW, as the source's owner: readers of tv_ wait until
  -- commit.
  EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE MODE',
                            (SELECT fraiseql_wire._qualified(c.relnamespace, c.relname)
                               FROM pg_class c WHERE c.oid = r.source));
  RETURN fraiseql_wire._fill_table_view(r.relation, true);
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.refresh_table_view(text, regnamespace) IS
  'rebuilds tv_<entity> from its source; returns the number of rows';

DROP FUNCTION fraiseql_wire.drop_view(text, text);

CREATE FUNCTION fraiseql_wire.drop_view(entity text, kind text DEFAULT NULL,
                                         schema regnamespace DEFAULT NULL)
  RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r       fraiseql_wire.registry;
  rel     pg_class;
  nsp     text;
  nspoid  oid;
  dropped integer := 0;
BEGIN
  PERFORM fraiseql_wire._check_entity(entity);
  IF kind IS NOT NULL AND kind NOT IN ('view', 'table') THEN
    RAISE EXCEPTION 'unknown kind: %', quote_literal(kind)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The kind is ''view'' (v_), ''table'' (tv_) or NULL (both).';
  END IF;
  nspoid := fraiseql_wire._resolve_schema(entity, kind, schema);
  -- The entity's registrations in that schema; without one, also those whose
  -- relation is gone (they have no schema any more, and anyone may remove
  -- them).
  FOR r IN SELECT x.* FROM fraiseql_wire.registry x
             LEFT JOIN pg_class c ON c.oid = x.relation
            WHERE x.entity = drop_view.entity AND (drop_view.kind IS NULL OR x.kind = drop_view.kind)
              AND (c.relnamespace = nspoid OR (c.oid IS NULL AND schema IS NULL))
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
    DELETE FROM fraiseql_wire.registry x WHERE x.relation = r.relation;
    dropped := dropped + 1;
  END LOOP;
  IF dropped = 0 THEN
    RAISE EXCEPTION 'entity "%" has no % %', entity,
      CASE kind WHEN 'view' THEN 'v_ view' WHEN 'table' THEN 'tv_ table' ELSE 'v_ view or tv_ table' END,
      CASE WHEN schema IS NULL THEN 'of the calling role' ELSE pg_catalog.format('in schema %s', schema) END
      USING ERRCODE = 'undefined_object',
            HINT = fraiseql_wire._elsewhere_hint(entity, kind);
  END IF;
  RETURN dropped;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.drop_view(text, text, regnamespace) IS
  'drops the v_ view and/or tv_ table (with its triggers) of an entity and unregisters them';

-- A v_ view or tv_ table dropped with plain DROP (or by a CASCADE from its
-- source) is unregistered, and a dropped tv_ table's triggers and trigger
-- function go with it: otherwise every write to the source would fail on
-- the missing table.
CREATE OR REPLACE FUNCTION fraiseql_wire._on_sql_drop() RETURNS event_trigger
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
      DELETE FROM fraiseql_wire.registry x WHERE x.relation = r.relation;
    END LOOP;
  END LOOP;
END
$fn$;

-- ------------------------------------------------------------ ORDER BY

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

-- ------------------------------------------------------------ parallel streams

-- parallel_parts(): splits a relation into disjoint parts for parallel
-- streams over one exported snapshot (the client's fw_query_parallel,
-- `fraiseql-wire stream --parallel N`).  docs/extension.md and
-- docs/client.md ("Parallel streams") describe the contract.
--
-- Part i is  key_column >= lower_bound AND key_column < upper_bound, a NULL
-- bound being unbounded; the first part has no lower bound and the last no
-- upper bound, and each bound is the next part's lower bound, so the parts
-- are disjoint and together hold every row, whatever the statistics say and
-- whatever was written since.  Bounds are text: the client sends them as
-- untyped parameters and the server reads them as the key column's type.
-- Block ranges (key_column ctid, key_type tid) are read with
-- in_blocks(data, lower_bound, upper_bound), which also serves a v_ view:
-- its bounds are blocks of the view's source table.
--
-- The registry is read by relation (registry.relation is unique), never by
-- entity name, so the lookup does not depend on how entities are scoped.

-- in_blocks(): true when the row of the one table whose columns `doc` is
-- built from lies in the block range [lower_bound, upper_bound) (NULL: no
-- limit).  The planner support replaces the call with ctid conditions on
-- that table (a TID Range Scan); a call it cannot replace raises 0A000 when
-- executed (extension/src/parallel_blocks.c).
CREATE FUNCTION fraiseql_wire.in_blocks_support(internal) RETURNS internal
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'fraiseql_wire_in_blocks_support';
CREATE FUNCTION fraiseql_wire.in_blocks(doc anyelement, lower_bound tid, upper_bound tid)
  RETURNS boolean
  LANGUAGE c STABLE PARALLEL SAFE
  SUPPORT fraiseql_wire.in_blocks_support
  AS 'MODULE_PATHNAME', 'fraiseql_wire_in_blocks';
COMMENT ON FUNCTION fraiseql_wire.in_blocks(anyelement, tid, tid) IS
  'whether the table row a document is built from lies in a block range; planned as a TID Range Scan (a part of a parallel stream)';

-- The most parts one call returns (each is a connection on the client).
CREATE FUNCTION fraiseql_wire._parallel_max_parts() RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT 1024 $fn$;

-- Bounds that split a sorted sample into at most `parts` ranges of about
-- equal frequency: the inner boundaries of the sample, cast to the key type,
-- de-duplicated and sorted in the column's collation (so that the ranges,
-- evaluated with the column's own comparison, are disjoint).
CREATE FUNCTION fraiseql_wire._parallel_inner_bounds(sample text[], parts integer,
                                                     key_type regtype, key_collation oid)
  RETURNS text[]
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  n      integer := coalesce(cardinality(sample), 0);
  picked text[] := '{}';
  result text[];
  coll   text := '';
BEGIN
  IF n < 2 OR parts < 2 THEN
    RETURN '{}';
  END IF;
  FOR i IN 1 .. parts - 1 LOOP
    picked := picked || sample[1 + round(i::numeric * (n - 1) / parts)::integer];
  END LOOP;
  IF key_collation <> 0 THEN
    coll := (SELECT format(' COLLATE %I.%I', n.nspname, c.collname)
               FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
              WHERE c.oid = key_collation);
  END IF;
  EXECUTE format('SELECT array_agg(x::text ORDER BY x%s) FROM (SELECT DISTINCT b::%s AS x FROM unnest($1) b) s',
                 coll, key_type)
     INTO result USING picked;
  RETURN coalesce(result, '{}');
END
$fn$;

CREATE FUNCTION fraiseql_wire.parallel_parts(rel regclass, parts integer, by_key boolean DEFAULT false)
  RETURNS TABLE (part integer, key_column name, key_type regtype, doc_key text,
                 lower_bound text, upper_bound text)
  LANGUAGE plpgsql STABLE SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  c         pg_class;
  reg       fraiseql_wire.registry;
  base      regclass;          -- where the key's statistics live
  keycol    name;
  keytyp    regtype;
  keycoll   oid;
  dockey    text;
  blocks    bigint;
  nparts    integer;
  sample    text[];
  bounds    text[];
  lo        numeric;
  hi        numeric;
BEGIN
  IF rel IS NULL OR parts IS NULL OR by_key IS NULL THEN
    RAISE EXCEPTION 'arguments of parallel_parts must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF parts < 1 OR parts > fraiseql_wire._parallel_max_parts() THEN
    RAISE EXCEPTION 'parts must be between 1 and %, not %', fraiseql_wire._parallel_max_parts(), parts
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Each part is read by its own connection.';
  END IF;
  SELECT * INTO c FROM pg_class WHERE oid = rel;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
      USING ERRCODE = 'undefined_table';
  END IF;
  IF c.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
    RAISE EXCEPTION '% cannot be streamed', rel
      USING ERRCODE = 'wrong_object_type',
            DETAIL = 'Only tables, views, materialized views and foreign tables can be split.';
  END IF;
  IF NOT has_table_privilege(rel, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied for % %', CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END, c.relname
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Splitting a relation needs the SELECT privilege that reading it needs.';
  END IF;

  SELECT * INTO reg FROM fraiseql_wire.registry r WHERE r.relation = rel;

  -- Block ranges, when no key order is asked: of a tv_ table or any plain
  -- table, or of the source table of a v_ view (read with in_blocks()).
  base := CASE WHEN c.relkind IN ('r', 'm') THEN rel
               WHEN reg.relation IS NOT NULL AND reg.kind = 'view'
                    AND (SELECT s.relkind FROM pg_class s WHERE s.oid = reg.source) IN ('r', 'm')
                 THEN reg.source END;
  IF NOT by_key AND base IS NOT NULL THEN
    blocks := pg_relation_size(base) / current_setting('block_size')::bigint;
    nparts := least(parts::bigint, greatest(blocks, 1))::integer;
    FOR i IN 1 .. nparts LOOP
      part := i;
      key_column := 'ctid';
      key_type := 'tid'::regtype;
      doc_key := NULL;
      lower_bound := CASE WHEN i = 1 THEN NULL ELSE format('(%s,0)', (blocks * (i - 1)) / nparts) END;
      upper_bound := CASE WHEN i = nparts THEN NULL ELSE format('(%s,0)', (blocks * i) / nparts) END;
      RETURN NEXT;
    END LOOP;
    RETURN;
  END IF;

  -- Key ranges: the first primary-key column, as the relation exposes it.
  IF reg.relation IS NOT NULL AND reg.kind = 'view' THEN
    base := reg.source;
  ELSE
    base := rel;
  END IF;
  SELECT p.col INTO keycol FROM fraiseql_wire._pk_columns(base) p LIMIT 1;
  IF keycol IS NULL THEN
    RAISE EXCEPTION '% has no key to split on', rel
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = CASE
              WHEN reg.relation IS NOT NULL AND reg.kind = 'view'
                THEN format('The source %s of the v_ view has no primary key.', base)
              WHEN reg.relation IS NULL AND c.relkind = 'v'
                THEN 'A view that is not a registered v_ view has no known key.'
              ELSE 'The relation has no primary key.' END,
            HINT = CASE WHEN c.relkind IN ('r', 'm')
                        THEN 'Split it by blocks (by_key => false), or add a primary key.'
                        ELSE 'Register the view with fraiseql_wire.create_view() over a source with a primary key.' END;
  END IF;
  SELECT a.atttypid::regtype, a.attcollation INTO keytyp, keycoll FROM pg_attribute a
   WHERE a.attrelid = rel AND a.attname = keycol AND a.attnum > 0 AND NOT a.attisdropped;
  IF keytyp IS NULL THEN
    RAISE EXCEPTION '% has no column "%" to split on', rel, keycol
      USING ERRCODE = 'undefined_column',
            DETAIL = format('"%s" is the first primary key column of %s.', keycol, base);
  END IF;
  IF reg.relation IS NOT NULL AND keycol::text = ANY (reg.columns) THEN
    dockey := CASE WHEN reg.camel_case THEN fraiseql_wire._camel_key(keycol) ELSE keycol::text END;
  END IF;

  IF parts > 1 THEN
    -- Statistics of the base table (those of the whole inheritance tree
    -- first; pg_stats shows only what the caller may read).
    SELECT s.histogram_bounds::text::text[] INTO sample
      FROM pg_stats s
      JOIN pg_class bc ON bc.oid = base
      JOIN pg_namespace bn ON bn.oid = bc.relnamespace
     WHERE s.schemaname = bn.nspname AND s.tablename = bc.relname AND s.attname = keycol
     ORDER BY s.inherited DESC
     LIMIT 1;
    bounds := fraiseql_wire._parallel_inner_bounds(sample, parts, keytyp, keycoll);
    IF cardinality(bounds) = 0 AND keytyp IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
      -- No statistics: interpolate between the smallest and largest key
      -- (two index probes through the relation itself).
      EXECUTE format('SELECT min(%1$I)::numeric, max(%1$I)::numeric FROM %2$s', keycol, rel)
         INTO lo, hi;
      IF hi > lo THEN
        SELECT array_agg(b::text ORDER BY b) INTO bounds
          FROM (SELECT DISTINCT floor(lo + (hi - lo + 1) * i / parts) AS b
                  FROM generate_series(1, parts - 1) i) s
         WHERE b > lo AND b <= hi;
        bounds := coalesce(bounds, '{}');
      END IF;
    END IF;
  END IF;

  nparts := coalesce(cardinality(bounds), 0) + 1;
  FOR i IN 1 .. nparts LOOP
    part := i;
    key_column := keycol;
    key_type := keytyp;
    doc_key := dockey;
    lower_bound := CASE WHEN i = 1 THEN NULL ELSE bounds[i - 1] END;
    upper_bound := CASE WHEN i = nparts THEN NULL ELSE bounds[i] END;
    RETURN NEXT;
  END LOOP;
END
$fn$;

COMMENT ON FUNCTION fraiseql_wire.parallel_parts(regclass, integer, boolean) IS
  'splits a relation into disjoint parts (ctid block ranges, or primary-key ranges from the statistics) for parallel streams';

-- ------------------------------------------------------------ entities made under 0.1.0

-- Each tv_ trigger function gets the body create_table_view makes in 0.2.0:
-- in a security-restricted operation, and for json documents the C
-- renderer.  Only a function that is exactly what 0.1.0 made is rewritten
-- (its 0.1.0 body, with those two changes made, must give the new body
-- built from the registry row); any other is left as it is, with a warning.
-- A function that is not a member of the extension cannot be replaced from
-- its script, so it is a member for the time of the replacement.  Owner,
-- privileges, comment and triggers stay.  Stored documents are not
-- rewritten: json documents of a tv_ table written before the update keep
-- json_build_object's spacing until refresh_table_view().
DO $tv$
DECLARE
  r        record;
  fn       oid;
  old      text;
  expected text;
  pkcols   text;
  matchold text;
  newrows  text;
  body     text;
BEGIN
  FOR r IN SELECT x.entity, x.relation, x.source, x.format, x.columns, x.camel_case,
                  src.relnamespace AS nspoid, pg_catalog.quote_ident(n.nspname) AS nsp,
                  'tv_' || x.entity AS tvname,
                  'tv_' || x.entity || '_sync' AS fnname
             FROM fraiseql_wire.registry x
             JOIN pg_catalog.pg_class tv ON tv.oid = x.relation
             JOIN pg_catalog.pg_class src ON src.oid = x.source
             JOIN pg_catalog.pg_namespace n ON n.oid = src.relnamespace
            WHERE x.kind = 'table'
            ORDER BY x.relation::pg_catalog.oid
  LOOP
    SELECT p.oid, p.prosrc INTO fn, old FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = r.nspoid
       AND p.proname::pg_catalog.text = r.fnname
       AND p.pronargs = 0
       AND p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype;
    IF NOT FOUND THEN
      RAISE WARNING 'the trigger function %.%() of tv_ table % does not exist', r.nsp, r.fnname, r.relation
        USING HINT = 'Re-create the tv_ table with fraiseql_wire.drop_view() and fraiseql_wire.create_table_view().';
      CONTINUE;
    END IF;
    -- As create_table_view builds it.
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(p.col), ', ' ORDER BY o),
           pg_catalog.string_agg(pg_catalog.format('t.%I %s o.%I', p.col, p.eq_operator, p.col), ' AND ' ORDER BY o),
           pg_catalog.string_agg('n.' || pg_catalog.quote_ident(p.col), ', ' ORDER BY o)
      INTO pkcols, matchold, newrows
      FROM fraiseql_wire._pk_columns(r.source) WITH ORDINALITY AS p(col, eq_operator, type_sql, o);
    newrows := pg_catalog.format('INSERT INTO %s.%I (%s, data) SELECT %s, %s FROM fw_new AS n;',
                                 r.nsp, r.tvname, pkcols, newrows,
                                 fraiseql_wire._document_expression(r.columns, r.camel_case, r.format, 'n'));
    body := pg_catalog.format($body$
DECLARE
  fw_section bigint := fraiseql_wire._restrict_security();
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
  PERFORM fraiseql_wire._end_restricted(fw_section);
  RETURN NULL;
END
$body$, r.nsp, r.tvname, newrows, matchold);
    -- The 0.1.0 body with the changes of 0.2.0 made.
    expected := pg_catalog.replace(old, E'\nBEGIN\n  IF TG_OP = ',
                                   E'\nDECLARE\n  fw_section bigint := fraiseql_wire._restrict_security();\nBEGIN\n  IF TG_OP = ');
    expected := pg_catalog.replace(expected, E'  END IF;\n  RETURN NULL;\nEND\n',
                                   E'  END IF;\n  PERFORM fraiseql_wire._end_restricted(fw_section);\n  RETURN NULL;\nEND\n');
    IF r.format = 'json' THEN
      expected := pg_catalog.replace(expected, 'pg_catalog.json_build_object(', 'fraiseql_wire.json_document(');
    END IF;
    IF expected IS DISTINCT FROM body THEN
      RAISE WARNING 'the trigger function % of tv_ table % is not the one fraiseql_wire 0.1.0 made: it is left as it is',
                    fn::pg_catalog.regprocedure, r.relation
        USING DETAIL = 'It was changed, or the primary key or the schema of the source changed since the tv_ table was made.  It does not run in a security-restricted operation as the trigger functions of 0.2.0 do.',
              HINT = 'Re-create the tv_ table with fraiseql_wire.drop_view() and fraiseql_wire.create_table_view().';
      CONTINUE;
    END IF;
    EXECUTE pg_catalog.format('ALTER EXTENSION fraiseql_wire ADD FUNCTION %s', fn::pg_catalog.regprocedure);
    EXECUTE pg_catalog.format(
      'CREATE OR REPLACE FUNCTION %s.%I() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER '
      'SET search_path = pg_catalog, pg_temp SET TimeZone = ''UTC'' SET DateStyle = ''ISO'' '
      'SET IntervalStyle = ''postgres'' '
      'SET extra_float_digits = 3 SET bytea_output = ''hex'' AS %L',
      r.nsp, r.fnname, body);
    EXECUTE pg_catalog.format('ALTER EXTENSION fraiseql_wire DROP FUNCTION %s', fn::pg_catalog.regprocedure);
  END LOOP;
END
$tv$;

-- Every registered tv_ table and its trigger function depend on the
-- extension, as if made by 0.2.0 (see _registry_depend above).
SELECT fraiseql_wire._depend_on_extension(x.relation)
  FROM fraiseql_wire.registry x
 WHERE x.kind = 'table'
   AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = x.relation)
 ORDER BY x.relation::pg_catalog.oid;
