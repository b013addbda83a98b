-- Bad input: every error has its SQLSTATE, and a failed call leaves nothing
-- behind (no relation, function, trigger or registry row).
SET search_path = public;
\set SHOW_CONTEXT never

-- try(sql): 'ok' or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st  text;
  msg text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END
$$;

-- What fraiseql_wire may create: v_/tv_ relations (and their indexes),
-- tv_*_sync functions, tv_* triggers, registry rows.
CREATE TEMP VIEW footprint AS
  SELECT 'relation' AS what, relnamespace::regnamespace || '.' || relname AS name
    FROM pg_class WHERE relname ~ '^t?v_' AND relnamespace <> 'pg_catalog'::regnamespace
  UNION ALL
  SELECT 'function', pronamespace::regnamespace || '.' || proname
    FROM pg_proc WHERE proname ~ '^tv_.*_sync$'
  UNION ALL
  SELECT 'trigger', tgrelid::regclass || '.' || tgname FROM pg_trigger WHERE tgname ~ '^tv_'
  UNION ALL
  SELECT 'entity', entity || '/' || kind FROM fraiseql_wire.registry;
CREATE TEMP TABLE baseline AS SELECT * FROM footprint;

CREATE TABLE err_src (id int PRIMARY KEY, a_b int, "aB" int, payload text);
CREATE TABLE err_nopk (id int, payload text);
CREATE TABLE err_datapk (data int PRIMARY KEY, x int);
CREATE TEMP TABLE err_temp (id int PRIMARY KEY);

-- The source must exist: as a name (regclass input) or as an OID.
SELECT fraiseql_wire.create_view('nope', 'no_such_table');
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('nope', 0::regclass)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('nope', NULL)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('nope')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('nope', 0::regclass)$$);

-- Entity names: lower-case ASCII identifiers of at most 55 bytes.
SELECT fraiseql_wire.create_view('Orders', 'err_src');
SELECT e AS entity, pg_temp.try(format('SELECT fraiseql_wire.create_view(%L, %L)', e, 'err_src'))
  FROM unnest(ARRAY['Orders', 'has-dash', '1abc', '', 'x; DROP TABLE err_src', 'é', 'a b',
                    repeat('x', 56)]) AS e;
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view(NULL, 'err_src')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('Bad')$$);
-- 55 bytes is fine, and every derived name fits.
SELECT fraiseql_wire.create_table_view(repeat('x', 55), 'err_src');
SELECT name FROM footprint EXCEPT SELECT name FROM baseline ORDER BY 1;
SELECT fraiseql_wire.drop_view(repeat('x', 55));

-- Name clashes with existing relations.
CREATE TABLE v_clash (id int);
SELECT fraiseql_wire.create_view('clash', 'err_src');
CREATE VIEW tv_clash AS SELECT 1 AS id;
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('clash', 'err_src')$$);
DROP TABLE v_clash;
DROP VIEW tv_clash;
CREATE FUNCTION tv_clash_sync() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('clash', 'err_src')$$);
DROP FUNCTION tv_clash_sync();
-- A clash found late (a trigger of that name on the source), after the
-- table and function were made: everything is rolled back.
CREATE FUNCTION err_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TRIGGER tv_clash_del AFTER DELETE ON err_src FOR EACH STATEMENT EXECUTE FUNCTION err_noop();
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('clash', 'err_src')$$);
SELECT to_regclass('tv_clash') IS NULL AS no_table, to_regproc('tv_clash_sync') IS NULL AS no_function,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'err_src'::regclass) AS triggers_on_source;
DROP TRIGGER tv_clash_del ON err_src;

-- Already registered.
SELECT fraiseql_wire.create_view('dup', 'err_src');
SELECT fraiseql_wire.create_table_view('dup');
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('dup', 'err_src')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('dup')$$);
-- v_ and tv_ of one entity must agree on the document definition.
SELECT fraiseql_wire.create_view('mismatch', 'err_src', columns => ARRAY['id']);
SELECT fraiseql_wire.create_table_view('mismatch', columns => ARRAY['id', 'payload']);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('mismatch', camel_case => true)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('mismatch', 'err_nopk')$$);
SELECT fraiseql_wire.drop_view('dup');
SELECT fraiseql_wire.drop_view('mismatch');

-- Sources: tv_ needs a table with a primary key; temporary tables are refused.
SELECT fraiseql_wire.create_table_view('nopk', 'err_nopk');
CREATE VIEW err_view AS SELECT * FROM err_src;
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('viewsrc', 'err_view')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('idx', 'err_src_pkey')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('tmp', 'err_temp')$$);
-- Partitioned tables and inheritance parents: tv_ would miss statements on
-- a partition or child (statement triggers do not fire on the parent), so
-- they are refused; a v_ view over them is fine.
CREATE TABLE err_parted (id int, region text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE err_parted_eu PARTITION OF err_parted FOR VALUES IN ('eu');
SELECT fraiseql_wire.create_table_view('parted', 'err_parted');
CREATE TABLE err_parent (id int PRIMARY KEY);
CREATE TABLE err_child () INHERITS (err_parent);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('parent', 'err_parent')$$);
SELECT fraiseql_wire.create_view('parted', 'err_parted');
SELECT fraiseql_wire.drop_view('parted');
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('datapk', 'err_datapk')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('datapk', 'err_datapk')$$);

-- Formats.
SELECT fraiseql_wire.create_view('fmt', 'err_src', format => 'xml');
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('fmt', 'err_src', format => NULL)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('fmt', 'err_src', format => 'JSONB')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('fmt', 'err_src', format => 'text')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('fmt', 'err_src', camel_case => NULL)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('fmt', 'err_src', gin_index => NULL)$$);

-- Columns.
SELECT fraiseql_wire.create_view('cols', 'err_src', columns => ARRAY['id', 'nope']);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('cols', 'err_src', columns => ARRAY['ID'])$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('cols', 'err_src', columns => ARRAY['ctid'])$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('cols', 'err_src', columns => ARRAY['id', 'id'])$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('cols', 'err_src', columns => '{}')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('cols', 'err_src', columns => ARRAY['id', NULL])$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.create_table_view('cols', 'err_src', columns => ARRAY['nope'])$$);
-- camelCase that maps two columns to one key.
SELECT fraiseql_wire.create_view('cols', 'err_src', camel_case => true);
-- Without camel_case they are two keys.
SELECT pg_temp.try($$SELECT fraiseql_wire.create_view('cols', 'err_src', columns => ARRAY['a_b', 'aB'], camel_case => false)$$);
SELECT fraiseql_wire.drop_view('cols');

-- Dropping and refreshing what does not exist.
SELECT fraiseql_wire.drop_view('never_created');
SELECT pg_temp.try($$SELECT fraiseql_wire.drop_view('Never')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.drop_view('never_created', 'table')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.drop_view('never_created', 'index')$$);
SELECT fraiseql_wire.refresh_table_view('never_created');
SELECT fraiseql_wire.create_view('viewonly', 'err_src');
SELECT pg_temp.try($$SELECT fraiseql_wire.refresh_table_view('viewonly')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.drop_view('viewonly', 'table')$$);
SELECT fraiseql_wire.drop_view('viewonly', 'view');

-- check_view.
SELECT fraiseql_wire.check_view('err_src');
CREATE VIEW err_textdata AS SELECT id, payload AS data FROM err_src;
SELECT fraiseql_wire.check_view('err_textdata');
SELECT pg_temp.try($$SELECT fraiseql_wire.check_view('err_src_pkey')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.check_view('no_such_view')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.check_view(0::regclass)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.check_view(NULL)$$);
-- A domain over jsonb is fine (the wire protocol sends the base type).
CREATE DOMAIN err_doc AS jsonb CHECK (jsonb_typeof(VALUE) = 'object');
CREATE VIEW err_domaindata AS SELECT '{}'::err_doc AS data;
SELECT fraiseql_wire.check_view('err_domaindata');

-- After all of this, nothing is left over.
SELECT * FROM footprint EXCEPT SELECT * FROM baseline;
SELECT * FROM baseline EXCEPT SELECT * FROM footprint;

DROP VIEW err_view, err_textdata, err_domaindata;
DROP DOMAIN err_doc;
DROP TABLE err_src, err_nopk, err_datapk, err_temp, err_parted, err_parent, err_child;
DROP FUNCTION err_noop();
