-- fraiseql_wire.parallel_parts(): the split behind parallel streams.  Every
-- split is checked the way the client uses it (each part's bounds as
-- parameters, compared by the server in the key column's type): the parts
-- are disjoint and together hold exactly the relation's rows.
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

CREATE TEMP TABLE seen (k text, part integer);
-- covers(rel, n, by_key): the number of parts, the rows of the relation,
-- the rows summed over the parts, and the rows (whole rows, keys included)
-- found in no part or in more than one (each part is read as the client reads it: "key" >= $1 AND
-- "key" < $2 with untyped bounds, here untyped literals, which the server
-- types the same way; a block range with fraiseql_wire.in_blocks(data, $1::tid, $2::tid)).
CREATE FUNCTION pg_temp.covers(rel regclass, n integer, by_key boolean DEFAULT false)
  RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  p       record;
  total   bigint;
  summed  bigint := 0;
  cnt     bigint;
  nparts  integer := 0;
  wrong   bigint;
BEGIN
  TRUNCATE seen;
  EXECUTE format('SELECT count(*) FROM %s', rel) INTO total;
  FOR p IN SELECT * FROM fraiseql_wire.parallel_parts(rel, n, by_key) LOOP
    nparts := nparts + 1;
    IF p.key_type = 'tid'::regtype THEN
      EXECUTE format('INSERT INTO seen SELECT r::text, %1$s FROM %2$s r '
                     'WHERE fraiseql_wire.in_blocks(r.data, %3$L::tid, %4$L::tid)',
                     p.part, rel, p.lower_bound, p.upper_bound);
    ELSE
      EXECUTE format('INSERT INTO seen SELECT r::text, %2$s FROM %3$s r WHERE true%4$s%5$s',
                     p.key_column, p.part, rel,
                     CASE WHEN p.lower_bound IS NULL THEN ''
                          ELSE format(' AND r.%I >= %L', p.key_column, p.lower_bound) END,
                     CASE WHEN p.upper_bound IS NULL THEN ''
                          ELSE format(' AND r.%I < %L', p.key_column, p.upper_bound) END);
    END IF;
    GET DIAGNOSTICS cnt = ROW_COUNT;
    summed := summed + cnt;
  END LOOP;
  EXECUTE format('SELECT count(*) FROM (SELECT r::text AS k FROM %s r) r '
                 'FULL JOIN (SELECT k, count(*) AS n FROM seen GROUP BY k) s USING (k) '
                 'WHERE s.n IS DISTINCT FROM 1 OR r.k IS NULL', rel) INTO wrong;
  RETURN format('%s parts, %s rows, %s in parts, %s not in exactly one part', nparts, total, summed, wrong);
END
$$;

CREATE TABLE par_src (id bigint PRIMARY KEY, name text NOT NULL, score integer);
INSERT INTO par_src SELECT g, 'name ' || g, g % 7 FROM generate_series(1, 2000) g;
SELECT fraiseql_wire.create_view('par', 'par_src', camel_case => true);
SELECT fraiseql_wire.create_table_view('par');

-- A v_ view over a table splits on block ranges of its source table when no
-- order is asked: in_blocks() reads them through the view.
SELECT * FROM fraiseql_wire.parallel_parts('v_par', 4);
SELECT pg_temp.covers('v_par', 4);
SELECT pg_temp.covers('v_par', 7);
-- In key order, on its source's first key column, which the view exposes;
-- without statistics an integer key is interpolated between its smallest
-- and largest value.
SELECT * FROM fraiseql_wire.parallel_parts('v_par', 4, true);
SELECT pg_temp.covers('v_par', 4, true);
-- With statistics: the histogram's bounds (ANALYZE reads all 2000 rows).
ANALYZE par_src;
SELECT * FROM fraiseql_wire.parallel_parts('v_par', 4, true);
SELECT pg_temp.covers('v_par', 4, true);
SELECT pg_temp.covers('v_par', 3, true);
SELECT pg_temp.covers('v_par', 7, true);
-- One part asked: one part, unbounded.
SELECT * FROM fraiseql_wire.parallel_parts('v_par', 1);

-- A tv_ table splits on block ranges (TID Range Scan, no index needed) ...
SELECT * FROM fraiseql_wire.parallel_parts('tv_par', 3);
SELECT pg_temp.covers('tv_par', 3);
EXPLAIN (COSTS OFF) SELECT data FROM tv_par WHERE ctid >= '(5,0)' AND ctid < '(10,0)';
-- ... and on its key when the output is to be in key order.
SELECT part, key_column, key_type, doc_key FROM fraiseql_wire.parallel_parts('tv_par', 3, true);
SELECT pg_temp.covers('tv_par', 3, true);
-- More parts than blocks: one block a part.
SELECT count(*), max(upper_bound) FILTER (WHERE part = 1)
  FROM fraiseql_wire.parallel_parts('tv_par', 1000);
SELECT pg_temp.covers('tv_par', 1000);

-- The document key of a camelCased key column, and none when the key is
-- not in the document.
CREATE TABLE par_camel (item_id integer PRIMARY KEY, label text);
INSERT INTO par_camel SELECT g, 'l' || g FROM generate_series(1, 100) g;
SELECT fraiseql_wire.create_view('par_camel', 'par_camel', camel_case => true);
SELECT fraiseql_wire.create_view('par_nokey', 'par_camel', columns => '{label}');
SELECT DISTINCT key_column, key_type, doc_key FROM fraiseql_wire.parallel_parts('v_par_camel', 2, true);
SELECT DISTINCT key_column, key_type, doc_key FROM fraiseql_wire.parallel_parts('v_par_nokey', 2, true);
SELECT pg_temp.covers('v_par_nokey', 5, true);
SELECT pg_temp.covers('v_par_nokey', 5);

-- Text keys are split in the column's collation, uuid keys in uuid order;
-- the bounds come from the statistics, sorted and de-duplicated.
CREATE TABLE par_text (code text COLLATE "C" PRIMARY KEY, n integer);
INSERT INTO par_text SELECT md5(g::text), g FROM generate_series(1, 500) g;
INSERT INTO par_text VALUES ('a,b"c''d', 0), ('Zed', -1), ('', -2);
ANALYZE par_text;
SELECT fraiseql_wire.create_view('par_text', 'par_text');
SELECT DISTINCT key_column, key_type FROM fraiseql_wire.parallel_parts('v_par_text', 4, true);
SELECT pg_temp.covers('v_par_text', 4, true);
CREATE TABLE par_uuid (id uuid PRIMARY KEY);
INSERT INTO par_uuid SELECT md5('u' || g)::uuid FROM generate_series(1, 300) g;
ANALYZE par_uuid;
SELECT count(*), min(key_type::text) FROM fraiseql_wire.parallel_parts('par_uuid', 3, true);
SELECT pg_temp.covers('par_uuid', 3, true);
-- Text without statistics: one part (no interpolation for text).
CREATE TABLE par_text2 (code text PRIMARY KEY);
INSERT INTO par_text2 VALUES ('a'), ('b');
SELECT * FROM fraiseql_wire.parallel_parts('par_text2', 4, true);

-- A composite key splits on its first column.
CREATE TABLE par_comp (a integer, b integer, PRIMARY KEY (a, b));
INSERT INTO par_comp SELECT g / 10, g % 10 FROM generate_series(0, 999) g;
ANALYZE par_comp;
SELECT DISTINCT key_column FROM fraiseql_wire.parallel_parts('par_comp', 4, true);
SELECT pg_temp.covers('par_comp', 4, true);

-- Small and empty relations give fewer parts (never an empty bound pair).
CREATE TABLE par_empty (id integer PRIMARY KEY, data jsonb);
SELECT * FROM fraiseql_wire.parallel_parts('par_empty', 4);
SELECT * FROM fraiseql_wire.parallel_parts('par_empty', 4, true);
INSERT INTO par_empty VALUES (5, '{}');
SELECT * FROM fraiseql_wire.parallel_parts('par_empty', 4, true);

-- Rows written after the split are still in exactly one part.
CREATE TABLE par_grow (id integer PRIMARY KEY, data jsonb);
INSERT INTO par_grow SELECT g, '{}' FROM generate_series(1, 1000) g;
CREATE TEMP TABLE par_grow_parts AS SELECT * FROM fraiseql_wire.parallel_parts('par_grow', 4, true);
CREATE TEMP TABLE par_grow_blocks AS SELECT * FROM fraiseql_wire.parallel_parts('par_grow', 2);
INSERT INTO par_grow SELECT g, '{}' FROM generate_series(-500, 0) g;
INSERT INTO par_grow SELECT g, '{}' FROM generate_series(1001, 3000) g;
SELECT count(*) AS rows_in_parts FROM par_grow g
  JOIN par_grow_parts p ON (p.lower_bound IS NULL OR g.id >= p.lower_bound::integer)
                       AND (p.upper_bound IS NULL OR g.id < p.upper_bound::integer);
SELECT count(*) AS rows_in_block_parts FROM par_grow g
  JOIN par_grow_blocks p ON (p.lower_bound IS NULL OR g.ctid >= p.lower_bound::tid)
                        AND (p.upper_bound IS NULL OR g.ctid < p.upper_bound::tid);

-- Errors.
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par', 0)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par', 1025)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par', NULL)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts(NULL, 2)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par', 2, NULL)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts(0, 2)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('par_src_pkey', 2)$$);
CREATE TABLE par_nopk (x integer, data jsonb);
INSERT INTO par_nopk SELECT g, '{}' FROM generate_series(1, 10) g;
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('par_nopk', 2, true)$$);
SELECT pg_temp.covers('par_nopk', 2);   -- blocks need no key
CREATE VIEW par_plain_view AS SELECT id, to_jsonb(s) AS data FROM par_src s;
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('par_plain_view', 2)$$);
SELECT fraiseql_wire.create_view('par_nopk', 'par_nopk');
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par_nopk', 2, true)$$);
SELECT pg_temp.covers('v_par_nopk', 2);   -- its source's blocks need no key
-- A v_ view whose key column was renamed: said so.
ALTER VIEW v_par_camel RENAME COLUMN item_id TO renamed_id;
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par_camel', 2, true)$$);
ALTER VIEW v_par_camel RENAME COLUMN renamed_id TO item_id;

-- Privileges: the caller needs SELECT on the relation; the statistics of a
-- source the caller may not read are not used (min/max through the view).
CREATE ROLE regress_fw_par;
SET ROLE regress_fw_par;
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('v_par', 2)$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.parallel_parts('tv_par', 2)$$);
RESET ROLE;
GRANT SELECT ON v_par TO regress_fw_par;
SET ROLE regress_fw_par;
SELECT * FROM fraiseql_wire.parallel_parts('v_par', 2, true);
-- Block ranges of the source, which the caller may not read directly: read
-- through the view with the view owner's privileges, as any query of it.
SELECT (SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(data, NULL, '(5,0)')) +
       (SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(data, '(5,0)', NULL)) AS both_halves;
SELECT pg_temp.try($$SELECT count(*) FROM par_src WHERE fraiseql_wire.in_blocks(name, NULL, '(1,0)')$$);
RESET ROLE;

-- in_blocks(doc, lower, upper): the planner replaces it with ctid conditions
-- on the one table the document is built from (a TID Range Scan).
EXPLAIN (COSTS OFF) SELECT data FROM tv_par WHERE fraiseql_wire.in_blocks(data, '(5,0)', '(10,0)');
EXPLAIN (COSTS OFF) SELECT data FROM v_par WHERE fraiseql_wire.in_blocks(data, '(5,0)', '(10,0)');
-- A NULL bound is no limit; two NULL bounds no condition.
EXPLAIN (COSTS OFF) SELECT data FROM v_par WHERE fraiseql_wire.in_blocks(data, NULL, '(3,0)');
EXPLAIN (COSTS OFF) SELECT data FROM v_par WHERE fraiseql_wire.in_blocks(data, '(3,0)', NULL);
EXPLAIN (COSTS OFF) SELECT data FROM v_par WHERE fraiseql_wire.in_blocks(data, NULL, NULL);
SELECT (SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(data, NULL, '(3,0)')) +
       (SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(data, '(3,0)', NULL)) AS both_halves,
       (SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(data, NULL, NULL)) AS all_rows,
       (SELECT count(*) FROM v_par) AS expected;
-- Whole rows, any column, and the json tv_ table.
SELECT count(*) FROM par_src s WHERE fraiseql_wire.in_blocks(s, '(1,0)', '(2,0)');
SELECT count(*) FROM par_src s WHERE fraiseql_wire.in_blocks(s.score, '(1,0)', '(2,0)');
SELECT count(*) FROM par_src s WHERE s.ctid >= '(1,0)' AND s.ctid < '(2,0)';
CREATE TABLE par_jsonsrc (id integer PRIMARY KEY, v text);
INSERT INTO par_jsonsrc SELECT g, repeat('x', g % 50) FROM generate_series(1, 3000) g;
SELECT fraiseql_wire.create_view('par_json', 'par_jsonsrc', format => 'json');
SELECT fraiseql_wire.create_table_view('par_json');
SELECT pg_temp.covers('tv_par_json', 3);
SELECT pg_temp.covers('v_par_json', 3);
-- Parameters: a custom plan sees constants; a generic plan keeps them, a
-- NULL one still meaning no limit.
PREPARE par_part(tid, tid) AS SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(data, $1, $2);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE par_part('(1,0)', NULL);
EXECUTE par_part('(1,0)', NULL);
EXECUTE par_part(NULL, '(1,0)');
EXECUTE par_part(NULL, NULL);
RESET plan_cache_mode;
DEALLOCATE par_part;
-- A document of one table of a join splits the join's rows by that table.
SELECT count(*) FROM v_par v JOIN par_camel c ON c.item_id = v.id % 100
 WHERE fraiseql_wire.in_blocks(v.data, NULL, '(5,0)');
SELECT count(*) FROM v_par v JOIN par_camel c ON c.item_id = v.id % 100
 WHERE v.id < (SELECT min(id) FROM par_src WHERE ctid >= '(5,0)');
-- A sub-select in the document is another query: the outer table splits.
CREATE VIEW par_sub AS
  SELECT s.id, jsonb_build_object('id', s.id, 'n', (SELECT count(*) FROM par_camel c WHERE c.item_id < s.id)) AS data
    FROM par_src s;
EXPLAIN (COSTS OFF) SELECT data FROM par_sub WHERE fraiseql_wire.in_blocks(data, '(1,0)', '(2,0)');
-- Nothing to plan on: a constant, two tables in one document, a view that
-- is not pulled up (grouping), a call outside a query.
SELECT pg_temp.try($$SELECT count(*) FROM v_par WHERE fraiseql_wire.in_blocks(1, NULL, '(1,0)')$$);
SELECT pg_temp.try($$SELECT count(*) FROM par_src s JOIN par_camel c ON c.item_id = s.id
                      WHERE fraiseql_wire.in_blocks(jsonb_build_array(s.id, c.label), NULL, '(1,0)')$$);
CREATE VIEW par_grouped AS SELECT score, jsonb_build_object('score', score, 'n', count(*)) AS data
  FROM par_src GROUP BY score;
SELECT pg_temp.try($$SELECT count(*) FROM par_grouped WHERE fraiseql_wire.in_blocks(data, NULL, '(1,0)')$$);
SELECT pg_temp.try($$SELECT fraiseql_wire.in_blocks(NULL::jsonb, NULL, NULL)$$);
SELECT fraiseql_wire.in_blocks(1, NULL, NULL);
-- The setting that lets TID Range Scans use the bulk-read ring
-- (regress/shell/55_tid_range_ring.sh checks its effect).
SHOW fraiseql_wire.tid_range_bulk_read;

-- Clean up (later tests see a database without these).
SELECT fraiseql_wire.drop_view('par');
SELECT fraiseql_wire.drop_view('par_camel');
SELECT fraiseql_wire.drop_view('par_nokey');
SELECT fraiseql_wire.drop_view('par_text');
SELECT fraiseql_wire.drop_view('par_nopk');
SELECT fraiseql_wire.drop_view('par_json');
DROP VIEW par_plain_view, par_sub, par_grouped;
DROP TABLE par_jsonsrc, par_src, par_camel, par_text, par_text2, par_uuid, par_comp, par_empty, par_grow, par_nopk;
DROP ROLE regress_fw_par;
