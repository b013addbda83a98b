-- Predicate pushdown (docs/pushdown.md): with a constant filter the planner
-- rewrites matches() through a v_ view onto the base table's columns, so
-- its B-tree indexes serve, and on a tv_ table into data @> '{…}', so a GIN
-- index serves.  Plans are made deterministic with enable_seqscan = off.
CREATE SCHEMA pushdown;
SET search_path = pushdown, public;

CREATE TABLE items (
  id int PRIMARY KEY,
  status text,
  code text NOT NULL,
  score int,
  price numeric,
  created date,
  seen timestamptz,
  active boolean,
  ref uuid,
  tags text[],
  meta jsonb
);
INSERT INTO items
SELECT i,
       (ARRAY['active', 'inactive', 'pending', NULL])[1 + i % 4],
       'c' || (i % 50),
       CASE WHEN i % 10 = 0 THEN NULL ELSE i % 100 END,
       (i % 70) / 4.0,
       date '2024-01-01' + i % 366,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '17 minutes',
       i % 3 = 0,
       md5(i::text)::uuid,
       ARRAY['t' || (i % 5)],
       jsonb_build_object('k', i % 7)
FROM generate_series(1, 2000) AS i;
CREATE INDEX items_status ON items (status);
CREATE INDEX items_code ON items (code);
CREATE INDEX items_score ON items (score);
CREATE INDEX items_price ON items (price);
CREATE INDEX items_created ON items (created);
CREATE INDEX items_seen ON items (seen);
CREATE INDEX items_ref ON items (ref);
ANALYZE items;

CREATE VIEW v_item AS
  SELECT id, jsonb_build_object('id', id, 'status', status, 'code', code, 'score', score,
                                'price', price, 'created', created, 'seen', seen,
                                'active', active, 'ref', ref, 'tags', tags, 'meta', meta) AS data
  FROM items;
CREATE VIEW v_item_json AS
  SELECT id, json_build_object('id', id, 'status', status, 'code', code, 'score', score,
                               'created', created) AS data
  FROM items;
-- A document built from two objects: the later key wins.
CREATE VIEW v_item_concat AS
  SELECT id, jsonb_build_object('status', 'shadowed', 'score', score)
             || jsonb_build_object('status', status) AS data
  FROM items;

SET enable_seqscan = off;

-- Equality on a text column: the column's own collation, so its index serves.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}}');
-- A NOT NULL column needs no IS NOT NULL guard.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"code": {"eq": "c7"}}');
-- Ranges on an integer column; 10.5 against integers becomes <= 10.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"score": {"lt": 10.5}}');
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"score": {"gte": 90, "lt": 95}}');
-- in becomes = ANY, and OR a BitmapOr.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"score": {"in": [1, 2, 3]}}');
EXPLAIN (COSTS OFF)
SELECT data FROM v_item
 WHERE fraiseql_wire.matches(data, '{"or": [{"status": {"eq": "pending"}}, {"score": {"eq": 5}}]}');
-- "type": "date" on a date column: a date comparison (inside the range a
-- date's ISO rendering casts back to it).
EXPLAIN (COSTS OFF)
SELECT data FROM v_item
 WHERE fraiseql_wire.matches(data, '{"created": {"gte": "2024-12-01", "type": "date"}}');
-- An untyped equality with a date's exact rendering is a date equality.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"created": {"eq": "2024-02-03"}}');
-- A canonical uuid string.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item
 WHERE fraiseql_wire.matches(data, '{"ref": {"eq": "c4ca4238-a0b9-2382-0dcc-509a6f75849b"}}');
-- timestamptz with "type": indexable, the rendering checked per row.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item
 WHERE fraiseql_wire.matches(data, '{"seen": {"gte": "2024-01-02T00:00:00Z", "lt": "2024-01-02T01:00:00Z", "type": "timestamptz"}}');
-- numeric: NaN and Infinity render as strings, so the finite range is a guard.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"price": {"gt": 17}}');
-- A string against an integer column is UNKNOWN for every row: no scan needed.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"score": {"eq": "5"}}');
-- A key the view does not have: missing everywhere.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"nope": {"isnull": true}, "status": {"eq": "active"}}');
-- What cannot be mapped stays in matches(), on the fields it reads only.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item
 WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}, "meta": {"k": {"eq": 3}}, "tags": {"contains": "t1"}}');
-- isnull is IS NULL; NOT uses the negated operator.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item
 WHERE fraiseql_wire.matches(data, '{"score": {"isnull": true}, "not": {"status": {"eq": "active"}}}');
-- startswith is LIKE with the operand escaped.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM v_item WHERE fraiseql_wire.matches(data, '{"code": {"startswith": "c1_%"}}');
-- The result stays two-valued: FALSE, never NULL, for a NULL column.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT fraiseql_wire.matches(data, '{"score": {"gt": 50}}') FROM v_item WHERE id = 10;
SELECT id, fraiseql_wire.matches(data, '{"score": {"gt": 50}}') AS m,
       NOT fraiseql_wire.matches(data, '{"score": {"gt": 50}}') AS not_m
  FROM v_item WHERE id IN (10, 60, 61) ORDER BY id;

-- json views too.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item_json WHERE fraiseql_wire.matches(data, '{"score": {"eq": 42}}');
-- || of built objects: the later "status" is the column.
EXPLAIN (COSTS OFF)
SELECT data FROM v_item_concat WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}}');
SELECT count(*) FROM v_item_concat WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}}');
SELECT count(*) FROM v_item_concat WHERE fraiseql_wire.matches(data, '{"status": {"eq": "shadowed"}}');

-- Row counts agree with the rewrite off.
SELECT count(*) FROM v_item
 WHERE fraiseql_wire.matches(data, '{"score": {"gte": 90, "lt": 95}, "status": {"neq": "inactive"}}');
SET fraiseql_wire.enable_rewrite = off;
EXPLAIN (COSTS OFF)
SELECT data FROM v_item WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}}');
SELECT count(*) FROM v_item
 WHERE fraiseql_wire.matches(data, '{"score": {"gte": 90, "lt": 95}, "status": {"neq": "inactive"}}');
RESET fraiseql_wire.enable_rewrite;

-- tv_ tables: the scalar equalities become data @> '{…}' for a GIN index.
CREATE TABLE tv_item (id int PRIMARY KEY, data jsonb);
INSERT INTO tv_item SELECT id, data FROM v_item;
INSERT INTO tv_item VALUES (100000, NULL);
CREATE INDEX tv_item_data ON tv_item USING gin (data jsonb_path_ops);
ANALYZE tv_item;
EXPLAIN (COSTS OFF)
SELECT data FROM tv_item WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}, "score": {"gt": 50}}');
EXPLAIN (COSTS OFF)
SELECT data FROM tv_item WHERE fraiseql_wire.matches(data, '{"meta": {"k": {"eq": 3}}, "code": {"in": ["c3"]}}');
SELECT count(*) FROM tv_item WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}, "score": {"gt": 50}}');
-- NULL document: NULL, as without the rewrite.
SELECT fraiseql_wire.matches(data, '{"status": {"eq": "active"}}') IS NULL AS is_null
  FROM tv_item WHERE id = 100000;

-- A json tv_ table with an expression index on data::jsonb.
CREATE TABLE tv_item_json (id int PRIMARY KEY, data json);
INSERT INTO tv_item_json SELECT id, data::json FROM v_item;
CREATE INDEX tv_item_json_data ON tv_item_json USING gin ((data::jsonb) jsonb_path_ops);
ANALYZE tv_item_json;
EXPLAIN (COSTS OFF)
SELECT data FROM tv_item_json WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}, "score": {"gt": 50}}');
SELECT count(*) FROM tv_item_json WHERE fraiseql_wire.matches(data, '{"status": {"eq": "active"}, "score": {"gt": 50}}');

RESET enable_seqscan;
