-- ORDER BY a sort key (docs/pushdown.md, "ORDER BY"): on the inlined
-- document of a v_ view, fraiseql_wire.sort_key_numeric/_text/_boolean of a
-- field that is an integer, text or boolean column is planned as ORDER BY
-- that column, so its B-tree index gives the order (no Sort) and keyset
-- pagination is an index range scan.  The rewrite never changes the order:
-- the results are compared with fraiseql_wire.enable_rewrite off.
CREATE SCHEMA ordering;
SET search_path = ordering, public;

CREATE TABLE obj (
  id int PRIMARY KEY,
  b bigint,                  -- NULLs and ties
  s smallint,
  name text,
  flag boolean,
  score float8,
  n numeric,
  meta jsonb
);
INSERT INTO obj
SELECT i,
       CASE WHEN i % 7 = 0 THEN NULL ELSE i % 13 END,
       (i % 5 - 2)::smallint,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (ARRAY['b', 'B', 'a', 'É', 'é', 'Z', '日'])[1 + i % 7] || (i % 3) END,
       CASE WHEN i % 9 = 0 THEN NULL ELSE i % 2 = 0 END,
       i / 3.0,
       CASE WHEN i = 5 THEN 'NaN'::numeric ELSE i % 17 END,
       jsonb_build_object('a', i % 4)
FROM generate_series(1, 300) AS i;
CREATE INDEX obj_b ON obj (b NULLS FIRST);
CREATE INDEX obj_name_c ON obj (name COLLATE "C");
CREATE INDEX obj_flag_id ON obj (flag, id);
CREATE INDEX obj_n ON obj (n);
CREATE INDEX obj_score ON obj (score);
ANALYZE obj;

-- Plain SQL views (no extension call yet: the first plan below is made in a
-- session where the library is not loaded before planning starts).
CREATE VIEW v_obj AS
  SELECT id, jsonb_build_object('id', id, 'b', b, 's', s, 'name', name, 'flag', flag,
                                'score', score, 'n', n, 'meta', meta,
                                'author', jsonb_build_object('id', id)) AS data
    FROM obj;
CREATE VIEW v_obj_json AS
  SELECT id, json_build_object('id', id, 'b', b, 'name', name) AS data FROM obj;

SET enable_seqscan = off;
SET max_parallel_workers_per_gather = 0;

-- Ascending, descending: the primary key, forwards and backwards.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 5;
SELECT data->'id' AS id FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') DESC LIMIT 5;
SELECT data->'id' AS id FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') DESC LIMIT 5;

-- NULL placement: obj_b is (b NULLS FIRST), so ASC NULLS FIRST and DESC
-- NULLS LAST read it; ASC (NULLS LAST) needs a Sort, but on the column.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'b') NULLS FIRST LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'b') DESC NULLS LAST LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'b') LIMIT 5;

-- Two keys: (flag, id).
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj
 ORDER BY fraiseql_wire.sort_key_boolean(data, 'flag'), fraiseql_wire.sort_key_numeric(data, 'id')
 LIMIT 5;

-- Text in code point order: only an index with the "C" collation serves.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_text(data, 'name') COLLATE "C" LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_text(data, 'name') LIMIT 5;

-- Keyset pagination: the filter and the order on the same index.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj WHERE fraiseql_wire.matches(data, '{"id": {"gt": 250}}')
 ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 3;
SELECT data->'id' AS id FROM v_obj WHERE fraiseql_wire.matches(data, '{"id": {"gt": 250}}')
 ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 3;

-- A nested document built by the view, and a json view.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'author', 'id') DESC LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj_json ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 5;

-- A field the view does not have: the key is NULL everywhere, no Sort.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'nope') LIMIT 5;

-- Not mapped, a Sort over the document: a float column, a numeric column
-- (NaN renders as the string "NaN", which is not a number key), a value
-- inside a jsonb column, a text key of a number, a numeric key of text.
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'score') LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'n') LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'meta', 'a') LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_text(data, 'id') COLLATE "C" LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'name') LIMIT 5;

-- The key also in the select list keeps its type (only the sort is mapped
-- when nothing else reads the key).
SELECT fraiseql_wire.sort_key_numeric(data, 'id') AS k, pg_typeof(fraiseql_wire.sort_key_numeric(data, 'id'))
  FROM v_obj ORDER BY 1 DESC LIMIT 2;

-- Only the top-level ORDER BY becomes the integer column: a subquery's
-- output columns keep their types for the query that reads them.
EXPLAIN (COSTS OFF)
SELECT count(*) FROM (SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') FOR UPDATE) s;
SELECT count(*) FROM (SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') FOR UPDATE) s;
SELECT data->'id' AS id FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') DESC LIMIT 2 FOR UPDATE;

-- Off: the plain function call.
SET fraiseql_wire.enable_rewrite = off;
EXPLAIN (COSTS OFF)
SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 5;
RESET fraiseql_wire.enable_rewrite;

-- Parameters: a custom plan sees the path as a constant, a generic one does not.
PREPARE page(text, bigint) AS
  SELECT data FROM v_obj ORDER BY fraiseql_wire.sort_key_numeric(data, $1) LIMIT $2;
EXPLAIN (COSTS OFF) EXECUTE page('id', 3);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE page('id', 3);
RESET plan_cache_mode;
DEALLOCATE page;

-- tv_ tables: an expression index on the same sort key serves it.
CREATE TABLE tv_obj AS SELECT id, data FROM v_obj;
CREATE INDEX tv_obj_id_key ON tv_obj (fraiseql_wire.sort_key_numeric(data, 'id'));
ANALYZE tv_obj;
EXPLAIN (COSTS OFF)
SELECT data FROM tv_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') DESC LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT data FROM tv_obj ORDER BY fraiseql_wire.sort_key_numeric(data, 'b') LIMIT 5;

RESET enable_seqscan;
RESET max_parallel_workers_per_gather;

-- ------------------------------------------------------------- equivalence
-- The order a query produces, as the sequence of its sort key values (rows
-- tied on the key may come in any order, so ids are not compared); q
-- selects the key as text, k.
CREATE FUNCTION seq(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  out text := '';
BEGIN
  FOR r IN EXECUTE q LOOP
    out := out || coalesce(r.k, '∅') || ' ';
  END LOOP;
  RETURN out;
END $$;

CREATE TABLE orders (o int PRIMARY KEY, clause text);
INSERT INTO orders VALUES
  (1, 'fraiseql_wire.sort_key_numeric(data, ''b'')'),
  (2, 'fraiseql_wire.sort_key_numeric(data, ''b'') DESC'),
  (3, 'fraiseql_wire.sort_key_numeric(data, ''b'') NULLS FIRST'),
  (4, 'fraiseql_wire.sort_key_numeric(data, ''b'') DESC NULLS LAST'),
  (5, 'fraiseql_wire.sort_key_numeric(data, ''s'') DESC'),
  (6, 'fraiseql_wire.sort_key_boolean(data, ''flag'') NULLS FIRST'),
  (7, 'fraiseql_wire.sort_key_text(data, ''name'') COLLATE "C"'),
  (8, 'fraiseql_wire.sort_key_text(data, ''name'') COLLATE "C" DESC'),
  (9, 'fraiseql_wire.sort_key_numeric(data, ''author'', ''id'') DESC'),
  (10, 'fraiseql_wire.sort_key_numeric(data, ''nope'')');

CREATE TABLE runs (o int, rel text, l int, setting text, result text);
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT o.o, o.clause, v.rel, lim.l, s.setting
             FROM orders o, (VALUES ('v_obj'), ('tv_obj')) v(rel),
                  (VALUES (NULL::int), (40)) lim(l), (VALUES ('on'), ('off')) s(setting)
  LOOP
    PERFORM set_config('fraiseql_wire.enable_rewrite', c.setting, true);
    INSERT INTO runs VALUES (c.o, c.rel, c.l, c.setting,
      seq(format('SELECT (%s)::text AS k FROM %s ORDER BY %s %s',
                 regexp_replace(c.clause, ' (DESC|NULLS).*$', ''), c.rel, c.clause,
                 coalesce('LIMIT ' || c.l, ''))));
  END LOOP;
END $$;
-- Every ORDER BY gives the same key sequence with and without the rewrite,
-- on the view and on the table of its documents.
SELECT o, l, count(DISTINCT result) AS distinct_results FROM runs GROUP BY o, l HAVING count(DISTINCT result) <> 1;
SELECT count(*) AS runs FROM runs;
-- and the sequences really are ordered (spot checks, with NULLs and ties)
SELECT left(result, 40) FROM runs WHERE o IN (1, 4, 7) AND l = 40 AND rel = 'v_obj' AND setting = 'on' ORDER BY o;

-- Two keys with ties in the first: the pair sequence.
SET fraiseql_wire.enable_rewrite = on;
SELECT seq($q$SELECT (data->>'b') || '/' || (data->>'id') AS k FROM v_obj
  ORDER BY fraiseql_wire.sort_key_numeric(data, 'b') DESC, fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 30$q$)
     = seq($q$SELECT (data->>'b') || '/' || (data->>'id') AS k FROM tv_obj
  ORDER BY fraiseql_wire.sort_key_numeric(data, 'b') DESC, fraiseql_wire.sort_key_numeric(data, 'id') LIMIT 30$q$)
  AS two_keys_same;
RESET fraiseql_wire.enable_rewrite;

-- ----------------------------------------------------- the functions alone
-- Each key is the value ->> / jsonb_typeof would give, on every kind of
-- document: missing fields, JSON null, other JSON types, nested paths.
CREATE TABLE docs (i int, d jsonb);
INSERT INTO docs VALUES
  (1, '{"v": 1.50, "s": "x", "t": true, "o": {"v": -2}}'),
  (2, '{"v": "1", "s": 5, "t": "true", "o": {"v": null}}'),
  (3, '{"v": null, "s": null, "t": null, "o": 3}'),
  (4, '{}'),
  (5, '[1, 2]'),
  (6, '7'),
  (7, '{"v": 1e3, "s": {"a": [1, "é"]}, "t": false, "o": {"v": {"w": 1}}}'),
  (8, '{"v": [1], "s": "\u00e9\"q", "t": 0}');
SELECT i,
       fraiseql_wire.sort_key_numeric(d, 'v') AS num,
       fraiseql_wire.sort_key_text(d, 's') AS txt,
       fraiseql_wire.sort_key_boolean(d, 't') AS bool,
       fraiseql_wire.sort_key_numeric(d, 'o', 'v') AS nested,
       fraiseql_wire.sort_key_text(d, 'o', 'v') AS nested_txt,
       fraiseql_wire.sort_key_text(d, VARIADIC '{}') AS whole
  FROM docs ORDER BY i;
-- the same as the operators, and json documents as their jsonb
SELECT count(*) FILTER (WHERE
         fraiseql_wire.sort_key_numeric(d, 'v') IS DISTINCT FROM
           CASE WHEN jsonb_typeof(d->'v') = 'number' THEN (d->>'v')::numeric END
      OR fraiseql_wire.sort_key_text(d, 's') IS DISTINCT FROM d->>'s'
      OR fraiseql_wire.sort_key_text(d, 'o', 'v') IS DISTINCT FROM d->'o'->>'v'
      OR fraiseql_wire.sort_key_boolean(d, 't') IS DISTINCT FROM
           CASE WHEN jsonb_typeof(d->'t') = 'boolean' THEN (d->>'t')::boolean END
      OR fraiseql_wire.sort_key_numeric(d::json, 'v') IS DISTINCT FROM fraiseql_wire.sort_key_numeric(d, 'v')
      OR fraiseql_wire.sort_key_text(d::json, 's') IS DISTINCT FROM fraiseql_wire.sort_key_text(d, 's')
      OR fraiseql_wire.sort_key_boolean(d::json, 't') IS DISTINCT FROM fraiseql_wire.sort_key_boolean(d, 't'))
       AS differences
  FROM docs;
-- NULL document, NULL path element, NULL path
SELECT fraiseql_wire.sort_key_numeric(NULL::jsonb, 'v') IS NULL AS null_doc,
       fraiseql_wire.sort_key_numeric('{"v": 1}'::jsonb, NULL::text) IS NULL AS null_key,
       fraiseql_wire.sort_key_numeric('{"v": 1}'::jsonb, VARIADIC NULL::text[]) IS NULL AS null_path;
-- a json document: the last of duplicate keys wins, as in jsonb
SELECT fraiseql_wire.sort_key_numeric('{"v": 1, "v": 2}'::json, 'v');
-- sort_key_of: the integer as numeric, any width
SELECT fraiseql_wire.sort_key_of(32767::smallint), fraiseql_wire.sort_key_of(-2147483648),
       fraiseql_wire.sort_key_of(9223372036854775807);

RESET search_path;
DROP SCHEMA ordering CASCADE;
