-- fraiseql_wire.create_view(): the v_ view's shape, its documents, and the
-- registry entry, for plain, quoted and unusual sources.
SET TimeZone = 'UTC';
SET search_path = public;
\set SHOW_CONTEXT never

CREATE TABLE orders (
  id         integer PRIMARY KEY,
  created_at timestamptz,
  total      numeric(10,2),
  paid       boolean,
  tags       text[],
  meta       jsonb,
  note       text
);
INSERT INTO orders VALUES
  (1, '2024-03-01 12:00:00+02', 12.50, true, '{a,b}', '{"gift": true}', 'crème brûlée ☕'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, '2024-03-02 00:00:00+00', 0, false, '{}', '[1, "two", null]', '');

-- All columns by default; the primary key stays beside "data".
SELECT fraiseql_wire.create_view('orders', 'orders');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'v_orders'::regclass AND attnum > 0 ORDER BY attnum;
SELECT id, data FROM v_orders ORDER BY id;
-- The shape the planner rewrite relies on: one table, literal keys.
SELECT pg_get_viewdef('v_orders'::regclass);
SELECT * FROM fraiseql_wire.entities();
SELECT fraiseql_wire.check_view('v_orders');

-- A column list, in the given order, with camelCase keys, as json.
SELECT fraiseql_wire.create_view('order_summary', 'orders',
                                 columns => ARRAY['total', 'created_at', 'id'],
                                 camel_case => true, format => 'json');
SELECT id, data FROM v_order_summary ORDER BY id;
SELECT pg_get_viewdef('v_order_summary'::regclass);
SELECT fraiseql_wire.check_view('v_order_summary');

-- camelCase rules: underscores before a lower-case letter go, leading ones stay.
SELECT k, fraiseql_wire._camel_key(k)
  FROM unnest(ARRAY['created_at', 'id', '_meta_data', 'a__b', 'item_2', 'x_', 'already_Camel', 'émile_zola']) AS k;

-- A composite primary key in another schema; the pk columns come in key order.
CREATE SCHEMA shop;
CREATE TABLE shop.line (
  item   integer,
  "order" integer,
  qty    integer NOT NULL,
  price  numeric,
  PRIMARY KEY ("order", item)
);
INSERT INTO shop.line VALUES (1, 10, 2, 3.5), (2, 10, 1, NULL), (1, 11, 5, 1e-3);
SELECT fraiseql_wire.create_view('line', 'shop.line', camel_case => true);
SELECT pg_get_viewdef('shop.v_line'::regclass);
SELECT * FROM shop.v_line ORDER BY 1, 2;

-- Quoted names: a schema and a table with mixed case and spaces, a table
-- named user, a column named "Mixed Case".
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Mixed Case" ("Key" text PRIMARY KEY, "Mixed Case" text, "it's" int);
INSERT INTO "Sales Dept"."Mixed Case" VALUES ('k1', 'ünïcode ✓', 1), ('K2', NULL, NULL);
SELECT fraiseql_wire.create_view('mixed', '"Sales Dept"."Mixed Case"');
SELECT * FROM "Sales Dept".v_mixed ORDER BY 1;
CREATE TABLE "user" (id bigint PRIMARY KEY, name text, created_at date);
INSERT INTO "user" VALUES (1, 'ada', '1815-12-10'), (2, 'grace', NULL);
SELECT fraiseql_wire.create_view('user', '"user"', camel_case => true);
SELECT * FROM v_user ORDER BY id;

-- A source without a primary key (here a view): just "data".
CREATE VIEW paid_orders AS SELECT id, total FROM orders WHERE paid;
SELECT fraiseql_wire.create_view('paid', 'paid_orders');
SELECT attname FROM pg_attribute WHERE attrelid = 'v_paid'::regclass AND attnum > 0;
SELECT data FROM v_paid;

-- More than 50 columns: jsonb joins several jsonb_build_object calls...
SELECT format('CREATE TABLE wide (id int PRIMARY KEY, %s)',
              string_agg(format('c%s int DEFAULT %s', i, i), ', ' ORDER BY i))
  FROM generate_series(1, 119) AS i \gexec
INSERT INTO wide (id) VALUES (1);
SELECT fraiseql_wire.create_view('wide', 'wide');
SELECT (SELECT count(*) FROM jsonb_object_keys(data)) AS keys,
       data->>'id' AS id, data->>'c1' AS c1, data->>'c49' AS c49, data->>'c50' AS c50,
       data->>'c119' AS c119
  FROM v_wide;
SELECT count(*) AS build_calls   -- 50 + 50 + 20 keys
  FROM regexp_matches(pg_get_viewdef('v_wide'::regclass), 'jsonb_build_object\(', 'g');
-- ...and so does json, with fraiseql_wire.json_document_concat.
SELECT fraiseql_wire.create_view('wide_json', 'wide', format => 'json');
SELECT (SELECT count(*) FROM json_object_keys(data)) AS keys,
       data->>'id' AS id, data->>'c1' AS c1, data->>'c49' AS c49, data->>'c50' AS c50,
       data->>'c119' AS c119,
       (SELECT string_agg(k, ',') FROM (SELECT k FROM json_object_keys(data) k LIMIT 3) s) AS first_keys,
       data::jsonb = (SELECT w.data FROM v_wide w) AS same_as_jsonb
  FROM v_wide_json;
SELECT count(*) AS document_calls   -- 50 + 50 + 20 keys
  FROM regexp_matches(pg_get_viewdef('v_wide_json'::regclass), 'json_document\(', 'g');
SELECT count(*) AS concat_calls
  FROM regexp_matches(pg_get_viewdef('v_wide_json'::regclass), 'json_document_concat\(', 'g');

-- Every kind of column value, and what json vs jsonb keep.
CREATE TABLE kinds (
  id    uuid PRIMARY KEY,
  n     numeric,
  f     double precision,
  i8    bigint,
  b     boolean,
  ts    timestamp,
  tstz  timestamptz,
  d     date,
  iv    interval,
  arr   integer[],
  j     json,
  jb    jsonb,
  by    bytea
);
INSERT INTO kinds VALUES ('00000000-0000-0000-0000-000000000001', 1.10, 0.1, 9007199254740993, true,
  '2024-01-02 03:04:05.678', '2024-01-02 03:04:05+05', '2024-02-29', '1 day 02:00', '{1,NULL,3}',
  '{"b": 1, "a": 2}', '{"b": 1, "a": 2}', '\x00ff');
SELECT fraiseql_wire.create_view('kinds', 'kinds');
SELECT fraiseql_wire.create_view('kinds_json', 'kinds', format => 'json');
SELECT data FROM v_kinds;
SELECT data FROM v_kinds_json;
SELECT k.data = kj.data::jsonb AS same_document FROM v_kinds k, v_kinds_json kj;

SELECT entity, relation, kind, source, format FROM fraiseql_wire.entities();
SELECT entity, kind, CASE WHEN cardinality(columns) > 20 THEN cardinality(columns) || ' columns'
                          ELSE columns::text END AS columns, camel_case, gin_index
  FROM fraiseql_wire.registry ORDER BY entity, kind;

-- The view is inlined: a condition on a key column reaches the source's index.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT data FROM v_orders WHERE id = 2;
EXPLAIN (COSTS OFF) SELECT data FROM shop.v_line WHERE "order" = 10 AND item = 2;
RESET enable_seqscan;
