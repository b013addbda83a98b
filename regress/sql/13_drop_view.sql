-- fraiseql_wire.drop_view(): removes the v_ view, the tv_ table, its
-- triggers and trigger function, and the registry rows; nothing else.
SET search_path = public;
\set SHOW_CONTEXT never

CREATE TEMP VIEW objects_of AS
  SELECT 'relation' AS what, relnamespace::regnamespace || '.' || relname AS name
    FROM pg_class WHERE relname ~ '^t?v_(orders|line|swap|events)(_|$)'
  UNION ALL
  SELECT 'function', pronamespace::regnamespace || '.' || proname
    FROM pg_proc WHERE proname ~ '^tv_(orders|line|swap|events)_sync$'
  UNION ALL
  SELECT 'trigger', tgrelid::regclass || '.' || tgname
    FROM pg_trigger WHERE tgname ~ '^tv_(orders|line|swap|events)_'
  UNION ALL
  SELECT 'entity', entity || '/' || kind FROM fraiseql_wire.registry
   WHERE entity IN ('orders', 'line', 'swap', 'events');
SELECT * FROM objects_of ORDER BY 1, 2;

-- Only the tv_ table: the v_ view stays, the source is written without triggers.
SELECT fraiseql_wire.drop_view('orders', 'table');
SELECT * FROM objects_of WHERE name ~ 'orders' ORDER BY 1, 2;
INSERT INTO orders (id) VALUES (-1);
SELECT count(*) FROM v_orders WHERE id = -1;
-- Then the v_ view.
SELECT fraiseql_wire.drop_view('orders');
SELECT * FROM objects_of WHERE name ~ 'orders' ORDER BY 1, 2;
SELECT count(*) AS source_rows_untouched FROM orders;
-- Other entities over the same source are untouched.
SELECT entity, relation FROM fraiseql_wire.entities() WHERE source = 'orders'::regclass;

-- Both at once, in another schema (composite key).
SELECT fraiseql_wire.drop_view('line');
SELECT * FROM objects_of WHERE name ~ 'line' ORDER BY 1, 2;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'shop.line'::regclass;

-- A view that depends on v_ stops drop_view (RESTRICT), atomically.
CREATE VIEW swap_report AS SELECT data->>'v' AS v FROM v_swap;
SELECT fraiseql_wire.drop_view('swap');
SELECT * FROM objects_of WHERE name ~ 'swap' ORDER BY 1, 2;
DROP VIEW swap_report;
SELECT fraiseql_wire.drop_view('swap');
SELECT * FROM objects_of WHERE name ~ 'swap' ORDER BY 1, 2;

-- Relations dropped by hand are unregistered by the extension's sql_drop
-- event trigger; a tv_ table takes its triggers and trigger function along,
-- so the source stays writable.
DROP VIEW v_events;
SELECT * FROM objects_of WHERE name ~ 'events' ORDER BY 1, 2;
DROP TABLE tv_events;
SELECT * FROM objects_of WHERE name ~ 'events' ORDER BY 1, 2;
INSERT INTO events (kind) VALUES ('after');
SELECT fraiseql_wire.drop_view('events');

-- A source dropped with CASCADE takes the v_ view (unregistered) and the
-- triggers with it; the tv_ table has no dependency on the source and stays
-- registered (it can still be read) until drop_view.
CREATE TABLE doomed (id int PRIMARY KEY, x text);
INSERT INTO doomed VALUES (1, 'a');
SELECT fraiseql_wire.create_view('doomed', 'doomed');
SELECT fraiseql_wire.create_table_view('doomed');
DROP TABLE doomed CASCADE;
SELECT entity, kind FROM fraiseql_wire.registry WHERE entity = 'doomed' ORDER BY kind;
SELECT data FROM tv_doomed;
SELECT fraiseql_wire.drop_view('doomed');
SELECT to_regclass('tv_doomed') IS NULL AS table_gone, to_regproc('tv_doomed_sync') IS NULL AS function_gone,
       (SELECT count(*) FROM fraiseql_wire.registry WHERE entity = 'doomed') AS registered;

-- Without the event trigger (disabled here), drop_view still cleans up what
-- a plain DROP left behind: the registrations, the triggers, the function.
ALTER EVENT TRIGGER fraiseql_wire_sql_drop DISABLE;
CREATE TABLE lost (id int PRIMARY KEY);
SELECT fraiseql_wire.create_view('lost', 'lost');
SELECT fraiseql_wire.create_table_view('lost');
DROP VIEW v_lost;
DROP TABLE tv_lost;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'lost'::regclass ORDER BY 1;
SELECT fraiseql_wire.drop_view('lost');
ALTER EVENT TRIGGER fraiseql_wire_sql_drop ENABLE;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'lost'::regclass ORDER BY 1;
SELECT to_regproc('tv_lost_sync') IS NULL AS function_gone,
       (SELECT count(*) FROM fraiseql_wire.registry WHERE entity = 'lost') AS registered;
INSERT INTO lost VALUES (1);
DROP TABLE lost;

-- An unrelated DROP is not disturbed.
CREATE TABLE bystander (id int);
DROP TABLE bystander;

-- The registry holds regclass values: renaming a source (or moving it to
-- another schema) is followed by entities(), refresh_table_view and drop_view.
CREATE TABLE renamed_src (id int PRIMARY KEY, v text);
INSERT INTO renamed_src VALUES (1, 'one');
SELECT fraiseql_wire.create_table_view('renamed', 'renamed_src');
ALTER TABLE renamed_src RENAME TO renamed_source;
ALTER TABLE renamed_source SET SCHEMA shop;
INSERT INTO shop.renamed_source VALUES (2, 'two');
SELECT entity, relation, kind, source FROM fraiseql_wire.entities() WHERE entity = 'renamed';
SELECT id, data FROM tv_renamed ORDER BY id;
SELECT fraiseql_wire.refresh_table_view('renamed');
SELECT fraiseql_wire.drop_view('renamed');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'shop.renamed_source'::regclass;
DROP TABLE shop.renamed_source;
