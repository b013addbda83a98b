-- fraiseql_wire.create_table_view(): tv_ tables, their triggers, and a mixed
-- workload after which every tv_ table equals its v_ view row for row.
-- Uses the sources and v_ views of 10_views_create.
SET search_path = public;
SET TimeZone = 'UTC';
SET IntervalStyle = 'postgres';
\set SHOW_CONTEXT never

-- same(entity): compares v_<entity> with tv_<entity> (key columns and the
-- document's exact text, or its jsonb text when one is json and the other
-- jsonb): row counts and rows missing on either side.
CREATE FUNCTION pg_temp.same(entity text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v  regclass;
  tv regclass;
  nv bigint; ntv bigint; only_v bigint; only_tv bigint;
  rows_of text;
BEGIN
  SELECT relation INTO v FROM fraiseql_wire.entities() e WHERE e.entity = same.entity AND kind = 'view';
  SELECT relation INTO tv FROM fraiseql_wire.entities() e WHERE e.entity = same.entity AND kind = 'table';
  rows_of := format('SELECT (to_jsonb(r) - ''data'')::text || '' '' || r.data%s::text FROM %%s r',
                    CASE WHEN (SELECT count(DISTINCT format) FROM fraiseql_wire.entities() e
                                WHERE e.entity = same.entity) > 1 THEN '::jsonb' ELSE '' END);
  EXECUTE format('SELECT count(*) FROM %s', v) INTO nv;
  EXECUTE format('SELECT count(*) FROM %s', tv) INTO ntv;
  EXECUTE format('SELECT count(*) FROM (' || rows_of || ' EXCEPT ' || rows_of || ') x', v, tv) INTO only_v;
  EXECUTE format('SELECT count(*) FROM (' || rows_of || ' EXCEPT ' || rows_of || ') x', tv, v) INTO only_tv;
  RETURN format('%s: v_ %s rows, tv_ %s rows, %s only in v_, %s only in tv_', entity, nv, ntv, only_v, only_tv);
END
$$;

-- A tv_ table for an entity with a v_ view takes the view's definition.
SELECT fraiseql_wire.create_table_view('orders');
SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
 WHERE attrelid = 'tv_orders'::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexdef FROM pg_indexes WHERE tablename = 'tv_orders' ORDER BY indexname;
SELECT tgname, tgtype FROM pg_trigger WHERE tgrelid = 'orders'::regclass ORDER BY tgname;
SELECT id, data FROM tv_orders ORDER BY id;
SELECT pg_temp.same('orders');
SELECT fraiseql_wire.check_view('tv_orders');

-- Composite key in another schema, quoted names, a table named user, a json
-- tv_ (documents stored as rendered text, GIN on data::jsonb), a wide one.
SELECT fraiseql_wire.create_table_view('line');
SELECT fraiseql_wire.create_table_view('mixed');
SELECT fraiseql_wire.create_table_view('user', gin_index => false);
SELECT fraiseql_wire.create_table_view('kinds');
SELECT fraiseql_wire.create_table_view('kinds_json');
SELECT fraiseql_wire.create_table_view('wide');
SELECT entity, relation, kind, source, format FROM fraiseql_wire.entities() WHERE kind = 'table';
SELECT tablename, indexdef FROM pg_indexes
 WHERE tablename IN ('tv_line', 'tv_mixed', 'tv_user', 'tv_kinds_json') ORDER BY tablename, indexname;
SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
 WHERE attrelid = '"Sales Dept".tv_mixed'::regclass AND attnum > 0 ORDER BY attnum;
SELECT data FROM tv_kinds_json;
SELECT e, pg_temp.same(e) FROM unnest(ARRAY['line', 'mixed', 'user', 'kinds', 'kinds_json', 'wide']) AS e;

-- The mixed workload.
INSERT INTO orders VALUES
  (4, '2024-04-01 08:00+00', 99.99, true, '{x}', '{"n": [1, 2]}', 'Ζεύς'),
  (5, NULL, 1, NULL, '{NULL}', 'null', NULL),
  (6, '2024-04-02 09:30+01', -5, false, NULL, '"str"', E'tab\there "quoted"');
UPDATE orders SET total = total * 2, note = coalesce(note, '') || ' ✓' WHERE id IN (1, 4);
UPDATE orders SET id = id + 100 WHERE id IN (2, 5);           -- primary key change
UPDATE orders SET id = -id, paid = NOT paid WHERE id = 3;
DELETE FROM orders WHERE id = 6;
INSERT INTO orders (id, total) VALUES (1, 0), (7, 7)
  ON CONFLICT (id) DO UPDATE SET total = excluded.total, tags = '{upserted}';
SELECT pg_temp.same('orders');
SELECT id, data FROM tv_orders ORDER BY id;

-- Composite key: moves within and across orders, a deferred key swap.
INSERT INTO shop.line VALUES (3, 10, 1, 9.99), (1, 12, 4, NULL);
UPDATE shop.line SET "order" = 13 WHERE "order" = 11;
UPDATE shop.line SET item = item + 10 WHERE "order" = 10 AND item > 1;
DELETE FROM shop.line WHERE ("order", item) = (12, 1);
SELECT pg_temp.same('line');
SELECT "order", item, data FROM shop.tv_line ORDER BY 1, 2;

CREATE TABLE swap (k int PRIMARY KEY DEFERRABLE, v text);
INSERT INTO swap VALUES (1, 'one'), (2, 'two');
SELECT fraiseql_wire.create_view('swap', 'swap');
SELECT fraiseql_wire.create_table_view('swap');
UPDATE swap SET k = 3 - k;
SELECT * FROM tv_swap ORDER BY k;
SELECT pg_temp.same('swap');

-- Quoted names and non-ASCII keys.
INSERT INTO "Sales Dept"."Mixed Case" VALUES ('日本', 'テスト', 3), ('', '', 0);
UPDATE "Sales Dept"."Mixed Case" SET "Key" = 'k1-renamed', "it's" = 42 WHERE "Key" = 'k1';
DELETE FROM "Sales Dept"."Mixed Case" WHERE "Key" = 'K2';
SELECT pg_temp.same('mixed');
SELECT * FROM "Sales Dept".tv_mixed ORDER BY 1;

INSERT INTO "user" SELECT i, 'user ' || i, date '2000-01-01' + i FROM generate_series(3, 2000) i;
UPDATE "user" SET name = NULL WHERE id % 7 = 0;
UPDATE "user" SET id = id + 10000 WHERE id % 5 = 0;
DELETE FROM "user" WHERE id % 3 = 0;
SELECT pg_temp.same('user');

-- Many types, json and jsonb tv_ of one source; a writer with other
-- rendering settings stores the same documents (tv_ rendering is fixed).
SET TimeZone = 'Asia/Tokyo';
SET IntervalStyle = 'iso_8601';
SET extra_float_digits = -3;
INSERT INTO kinds VALUES ('00000000-0000-0000-0000-000000000002', -0.000001, 1e300, -1, false,
  'infinity', '2024-06-30 23:59:59.999999-07', '0044-03-15 BC', '-1 year 3 mons', '{}',
  '[]', '{"nested": {"deep": [true, null, "ünï"]}}', '');
INSERT INTO kinds (id) VALUES ('00000000-0000-0000-0000-000000000003');
UPDATE kinds SET f = 1.0/3 WHERE id = '00000000-0000-0000-0000-000000000001';
RESET TimeZone;
RESET IntervalStyle;
RESET extra_float_digits;
SET TimeZone = 'UTC';
SET IntervalStyle = 'postgres';
SELECT data FROM tv_kinds ORDER BY id;
SELECT e, pg_temp.same(e) FROM unnest(ARRAY['kinds', 'kinds_json']) AS e;
SELECT (SELECT count(*) FROM tv_kinds k JOIN tv_kinds_json kj USING (id) WHERE k.data = kj.data::jsonb)
       AS json_and_jsonb_documents_equal;

-- A rolled-back change leaves tv_ as it was.
BEGIN;
DELETE FROM orders;
SELECT count(*) AS inside FROM tv_orders;
ROLLBACK;
SELECT pg_temp.same('orders');
BEGIN;
UPDATE orders SET note = 'kept' WHERE id = 4;
SAVEPOINT s;
UPDATE orders SET note = 'undone' WHERE id = 4;
ROLLBACK TO s;
COMMIT;
SELECT data->>'note' AS note FROM tv_orders WHERE id = 4;

-- Wide documents through the triggers.
INSERT INTO wide (id, c50, c119) VALUES (2, NULL, -119);
UPDATE wide SET c51 = 0, id = 3 WHERE id = 1;
SELECT pg_temp.same('wide');

-- TRUNCATE empties tv_; refilling works.
TRUNCATE orders;
SELECT count(*) AS after_truncate FROM tv_orders;
INSERT INTO orders (id, note) SELECT i, 'bulk ' || i FROM generate_series(1, 5000) i;
SELECT pg_temp.same('orders');
TRUNCATE shop.line, "user";
SELECT e, pg_temp.same(e) FROM unnest(ARRAY['line', 'user']) AS e;

-- refresh_table_view rebuilds a tv_ that was changed behind the triggers' back.
ALTER TABLE orders DISABLE TRIGGER tv_orders_upd;
UPDATE orders SET note = 'unseen' WHERE id <= 10;
ALTER TABLE orders ENABLE TRIGGER tv_orders_upd;
DELETE FROM tv_orders WHERE id > 4990;
SELECT pg_temp.same('orders');
SELECT fraiseql_wire.refresh_table_view('orders');
SELECT pg_temp.same('orders');

-- The GIN indexes serve containment (jsonb directly, json through data::jsonb).
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT data FROM tv_orders WHERE data @> '{"note": "bulk 77"}';
SELECT data->>'id' AS id FROM tv_orders WHERE data @> '{"note": "bulk 77"}';
EXPLAIN (COSTS OFF) SELECT data FROM tv_kinds_json WHERE data::jsonb @> '{"b": false}';
SELECT data::jsonb->>'id' AS id FROM tv_kinds_json WHERE data::jsonb @> '{"b": false}';
RESET enable_seqscan;

-- A tv_ table without a v_ view.
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text, at timestamptz);
INSERT INTO events (kind, at) VALUES ('boot', '2024-01-01'), ('stop', NULL);
SELECT fraiseql_wire.create_table_view('events', 'events', columns => ARRAY['kind', 'at'],
                                       camel_case => true, format => 'json', gin_index => false);
SELECT id, data FROM tv_events ORDER BY id;
SELECT fraiseql_wire.create_view('events', 'events', columns => ARRAY['kind', 'at'], camel_case => true);
UPDATE events SET kind = upper(kind);
SELECT pg_temp.same('events');
SELECT entity, relation, kind, source, format FROM fraiseql_wire.entities();

-- COPY and MERGE fire the same statement triggers.
COPY "user" (id, name, created_at) FROM stdin;
1	copied	2020-02-02
2	\N	\N
3	third	2020-03-03
\.
MERGE INTO "user" u
USING (VALUES (1, 'merged'), (4, 'inserted by merge')) AS m(id, name) ON u.id = m.id
WHEN MATCHED THEN UPDATE SET name = m.name
WHEN NOT MATCHED THEN INSERT (id, name) VALUES (m.id, m.name);
MERGE INTO "user" u USING (VALUES (3)) AS m(id) ON u.id = m.id WHEN MATCHED THEN DELETE;
SELECT id, data FROM tv_user ORDER BY id;
SELECT pg_temp.same('user');
