-- fraiseql_wire.json_document(), the C document renderer of json v_ views:
-- a differential test against json_build_object and jsonb_build_object on
-- every kind of value, its errors, wide documents (json_document_concat),
-- tv_ maintenance by triggers, and the planner rewrite through it.
CREATE SCHEMA doc;
SET search_path = doc, public;
SET TimeZone = 'UTC';
SET extra_float_digits = 3;
SET IntervalStyle = 'postgres';
\set SHOW_CONTEXT never

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE TYPE outer_t AS (p pair, ps pair[], j jsonb, d date);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN shorttext AS text;
CREATE DOMAIN intarr AS int[];
CREATE DOMAIN pair_d AS pair;
-- A non-built-in type with a cast to json: to_json (and so json_build_object)
-- renders it through the cast, and so must the renderer.
CREATE TYPE castme AS (v int);
CREATE FUNCTION castme_json(castme) RETURNS json LANGUAGE sql IMMUTABLE
  AS $$ SELECT json_build_object('cast', $1.v) $$;
CREATE CAST (castme AS json) WITH FUNCTION castme_json(castme);
CREATE DOMAIN textish AS varchar(30);

CREATE TABLE src (
  id      int PRIMARY KEY,
  i2      smallint,
  i4      int,
  i8      bigint,
  f4      real,
  f8      double precision,
  n       numeric,
  b       boolean,
  t       text,
  vc      varchar(40),
  bp      char(5),
  nm      name,
  u       uuid,
  d       date,
  ts      timestamp,
  tstz    timestamptz,
  tm      time,
  iv      interval,
  by      bytea,
  js      json,
  jb      jsonb,
  ia      int[],
  ta      text[],
  na      numeric[],
  tsa     timestamptz[],
  m2      int[][],
  pr      pair,
  pra     pair[],
  ou      outer_t,
  mo      mood,
  pi      posint,
  st      shorttext,
  ida     intarr,
  pd      pair_d,
  cm      castme,
  cma     castme[],
  tx      textish,
  ip      inet,
  big     text
);
INSERT INTO src VALUES
  (1, 1, 2, 3, 1.5, 0.1, 12.50, true, 'plain', 'vc', 'ab', 'nm',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '2024-01-02 03:04:05.678',
   '2024-01-01 23:04:05+01', '12:34:56', '1 day 2 hours', '\x00ff', '{"b" : 1, "a" : [2, 3]}',
   '{"b": 1, "a": [2, {"x": null}]}', '{1,NULL,3}', '{a,"b c",NULL}', '{1.5,NaN,-Infinity}',
   '{2024-01-01 00:00+00,infinity}', '{{1,2},{3,4}}', '(1,x)', ARRAY['(1,a)', NULL, '(2,)']::pair[],
   ROW(ROW(5, 'five'), ARRAY[ROW(6, 'six')]::pair[], '{"k": [true]}', '2024-05-06')::outer_t,
   'happy', 7, 'dom', '{4,5}', '(9,nine)', ROW(42), ARRAY[ROW(1), NULL]::castme[], 'tx',
   '192.168.0.1/24', 'small'),
  -- NULLs everywhere (a NULL is JSON null)
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  -- special values: NaN, infinities, extremes, infinity dates, empty arrays
  (3, -32768, -2147483648, -9223372036854775808, 'NaN', 'Infinity', 'NaN', false, '', '', '',
   '', '00000000-0000-0000-0000-000000000000', 'infinity', '-infinity', 'infinity', '00:00',
   '-1 mon', '\x', 'null', 'null', '{}', '{}', '{}', '{}', '{}', '(,)', '{}',
   ROW(NULL, '{}', NULL, '-infinity')::outer_t, 'sad', 1, '', '{}', '(,)', ROW(NULL), '{}', '',
   '::1', ''),
  (4, 32767, 2147483647, 9223372036854775807, '-Infinity', '-Infinity', 'Infinity', true,
   'x', 'y', 'z', 'w', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '0044-03-15 BC', '12000-01-01',
   '0044-03-15 12:00 BC', '24:00', '1 year -2 days 00:00:00.000001', '\xdeadbeef', '[]', '[]',
   '{{NULL}}', '{""}', '{-0.0000001}', '{NULL}', '{{5},{6}}', '(-1,"q""uote")', NULL,
   NULL, 'ok', 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  -- the rest: NULL but for a few columns
  (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- floats: shortest-exact text, negative zero, denormal, extremes; numbers in json/jsonb
UPDATE src SET (i2, i4, i8, f4, f8, n, t, js, jb, na) =
  (0, 0, 0, '-0', '1e-310', 0.000001, 'f', '123', '-1.5e3', '{1e20}') WHERE id = 5;
-- unicode and every control character, quotes and backslashes
UPDATE src SET (f4, f8, n, t, vc, bp, nm, js, jb, ta, pr, st, tx) =
  (3.4028235e38, -1.0e+300, 1e-20,
   E'\u00e9\u65e5\u672c\U0001F600 "q" \\ / \x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f',
   E'tab\there', E'\u00e9', E'new\nline', '"\u00e9\ud83d\ude00\n"', '"\u00e9\ud83d\ude00\n"',
   E'{"a\\"b","c\\\\d",\u00e9}', E'(1,"\u00e9\n")', E'\u00e9\u0001', E'\u00e9')
 WHERE id = 6;
-- TOASTed values: compressed inline, compressed external, uncompressed external.
UPDATE src SET big = repeat(E'abc\u00e9"\n', 20000) WHERE id = 3;
ALTER TABLE src ALTER COLUMN t SET STORAGE EXTERNAL;
UPDATE src SET t = (SELECT string_agg(md5(g::text), E'\t') FROM generate_series(1, 2000) g),
               jb = (SELECT jsonb_agg(jsonb_build_object('k', g, 'v', md5(g::text))) FROM generate_series(1, 3000) g),
               js = (SELECT json_agg(md5(g::text))::json FROM generate_series(1, 3000) g)
 WHERE id = 4;
SELECT id, pg_column_size(big) < octet_length(big) AS big_compressed,
       pg_column_size(t) >= octet_length(t) AS t_uncompressed, octet_length(t) > 60000 AS t_large
  FROM src WHERE id IN (3, 4) ORDER BY id;
SELECT pg_relation_size(reltoastrelid) > 0 AS toast_table_used FROM pg_class WHERE oid = 'src'::regclass;

-- The three builders over every column, in the same order.
SELECT format($v$CREATE VIEW docs AS SELECT id,
  fraiseql_wire.json_document(%1$s) AS r,
  json_build_object(%1$s) AS j,
  jsonb_build_object(%1$s) AS jb
  FROM doc.src$v$,
  string_agg(format('%L, %I', a.attname, a.attname), ', ' ORDER BY a.attnum))
  FROM pg_attribute a WHERE a.attrelid = 'doc.src'::regclass AND a.attnum > 0 \gexec

-- The same JSON value as jsonb_build_object (::jsonb =), and as
-- json_build_object value by value, byte for byte (json's -> returns the
-- text of a value as written), with the keys in the same order.
-- And cast to jsonb, the very jsonb_build_object value.
CREATE FUNCTION check_docs(q text) RETURNS TABLE (rows bigint, jsonb_equal bigint, jsonb_identical bigint,
                                                  values_identical bigint, same_key_order bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT count(*),
           count(*) FILTER (WHERE r::jsonb = jb AND r::jsonb = j::jsonb),
           count(*) FILTER (WHERE r::jsonb::text = jb::text AND pg_column_size(r::jsonb) = pg_column_size(jb)),
           count(*) FILTER (WHERE (SELECT bool_and((r -> k)::text = (j -> k)::text)
                                     FROM json_object_keys(r) k)),
           count(*) FILTER (WHERE ARRAY(SELECT json_object_keys(r)) = ARRAY(SELECT json_object_keys(j)))
      FROM (%s) s$q$, q);
END $$;
SELECT * FROM check_docs('SELECT * FROM doc.docs');
-- Under other settings (the renderer follows them as json_build_object does).
SET TimeZone = 'America/St_Johns';
SET extra_float_digits = 0;
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SELECT * FROM check_docs('SELECT * FROM doc.docs');
RESET DateStyle;
SET TimeZone = 'UTC';
SET extra_float_digits = 3;
SET IntervalStyle = 'postgres';
-- Without the fields that differ by design (nothing: a mismatch is listed).
SELECT s.id, k FROM docs s, json_object_keys(s.r) k
 WHERE (s.r -> k)::text IS DISTINCT FROM (s.j -> k)::text ORDER BY 1, 2;

-- What the documents look like (compact: no spaces between members).
SELECT id, fraiseql_wire.json_document('i4', i4, 'f4', f4, 'f8', f8, 'n', n, 'd', d, 'ts', ts, 'tstz', tstz,
                                       'u', u, 'ia', ia, 'pr', pr, 'cm', cm)
  FROM src WHERE id <> 6 ORDER BY id;
SELECT fraiseql_wire.json_document('t', t, 'vc', vc, 'ta', ta, 'js', js, 'jb', jb) FROM src WHERE id = 6;
SELECT id, md5((r -> 'big')::text) = md5((j -> 'big')::text) AS big_identical,
       md5((r -> 't')::text) = md5((j -> 't')::text) AS t_identical,
       md5((r -> 'jb')::text) = md5((j -> 'jb')::text) AS jb_identical,
       octet_length(r::text) > 60000 AS large
  FROM docs WHERE id IN (3, 4) ORDER BY id;
-- NaN and the infinities are JSON strings in all three builders.
SELECT jsonb_typeof(r::jsonb -> 'f4') AS f4, jsonb_typeof(r::jsonb -> 'f8') AS f8,
       jsonb_typeof(r::jsonb -> 'n') AS n, jb -> 'f4' AS jsonb_f4, j -> 'n' AS json_n
  FROM docs WHERE id = 3;

-- Keys: non-text keys as json_build_object renders them, unknown literals,
-- a key that is not a constant, duplicates (kept, as in json_build_object).
SELECT fraiseql_wire.json_document(1, 'a', 2.5, true, false, NULL, '2024-01-01'::date, 1,
                                   'x'::name, 2, 'k'::varchar, 'lit');
SELECT fraiseql_wire.json_document(t, id) FROM (VALUES (1, 'a'), (2, E'b"\n')) v(id, t);
SELECT fraiseql_wire.json_document('k', 1, 'k', 2), json_build_object('k', 1, 'k', 2);
SELECT fraiseql_wire.json_document(VARIADIC ARRAY['a', 'b', 'c', NULL]);
SELECT fraiseql_wire.json_document(VARIADIC ARRAY[]::text[]);
SELECT fraiseql_wire.json_document(VARIADIC NULL::text[]) IS NULL AS variadic_null;

-- Errors, as json_build_object raises them.
SELECT fraiseql_wire.json_document('a', 1, 'b');
SELECT fraiseql_wire.json_document(NULL::text, 1);
SELECT fraiseql_wire.json_document(t, 1) FROM (VALUES ('a'), (NULL)) v(t);
SELECT fraiseql_wire.json_document(ARRAY[1], 1);
SELECT fraiseql_wire.json_document('{}'::jsonb, 1);
SELECT fraiseql_wire.json_document(VARIADIC ARRAY['a']);

-- json_document_concat: the members of several objects in one.
SELECT fraiseql_wire.json_document_concat(fraiseql_wire.json_document('a', 1), ' { } '::json,
                                          fraiseql_wire.json_document('b', ARRAY[2]), '{"c" : 3}'::json);
SELECT fraiseql_wire.json_document_concat('{}'::json) AS empty,
       fraiseql_wire.json_document_concat('{"a":1}'::json, NULL::json) IS NULL AS null_part;
SELECT fraiseql_wire.json_document_concat('[1]'::json);
SELECT fraiseql_wire.json_document_concat('{"a":1}'::json, '"x"'::json);
SELECT fraiseql_wire.json_document_concat('{"a":1}'::jsonb);
SELECT fraiseql_wire.json_document_concat(VARIADIC ARRAY['{"a":1}', '{"b":2}']::json[]);

-- ------------------------------------------------------------ create_view
-- format => 'json' renders with json_document; 200 columns need no more
-- than one view (four calls of at most 50 keys, joined).
SELECT format('CREATE TABLE wide200 (id int PRIMARY KEY, %s)',
              string_agg(format('c%s %s', i, (ARRAY['int', 'text', 'numeric', 'timestamptz', 'boolean'])[1 + i % 5]),
                         ', ' ORDER BY i))
  FROM generate_series(1, 199) AS i \gexec
SELECT format('INSERT INTO wide200 SELECT g, %s FROM generate_series(1, 50) g',
              string_agg(CASE i % 5 WHEN 0 THEN format('g * %s', i)
                                    WHEN 1 THEN format('CASE WHEN g %% 7 = 0 THEN NULL ELSE %L || g END', 't' || i)
                                    WHEN 2 THEN format('g / %s.0', i)
                                    WHEN 3 THEN format('timestamptz ''2024-01-01'' + g * interval ''%s min''', i)
                                    ELSE 'g % 2 = 0' END, ', ' ORDER BY i))
  FROM generate_series(1, 199) AS i \gexec
SELECT fraiseql_wire.create_view('wide200', 'wide200', format => 'json');
SELECT fraiseql_wire.create_view('wide200b', 'wide200');
SELECT count(*) AS document_calls
  FROM regexp_matches(pg_get_viewdef('v_wide200'::regclass), 'json_document\(', 'g');
SELECT count(*) AS rows,
       count(*) FILTER (WHERE j.data::jsonb = b.data) AS same_as_jsonb_view,
       min((SELECT count(*) FROM json_object_keys(j.data))) AS keys
  FROM v_wide200 j JOIN v_wide200b b USING (id);

-- ------------------------------------------------------------ tv_ tables
-- A json tv_ table is filled and kept in step by triggers with the same
-- documents as its v_ view, and as jsonb_build_object.
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric, at timestamptz, tags text[],
                    meta jsonb, f double precision);
INSERT INTO items SELECT g, 'item ' || g || E'\u00e9', g / 4.0, timestamptz '2024-01-01' + g * interval '1 hour',
                         ARRAY['t' || g % 3], jsonb_build_object('g', g), g / 3.0
  FROM generate_series(1, 40) g;
SELECT fraiseql_wire.create_view('doc_items', 'items', format => 'json', camel_case => true);
SELECT fraiseql_wire.create_table_view('doc_items');
UPDATE items SET price = 'NaN', f = '-Infinity', tags = '{}' WHERE id % 5 = 0;
UPDATE items SET name = E'new\n"name"', at = 'infinity' WHERE id % 7 = 0;
DELETE FROM items WHERE id % 11 = 0;
INSERT INTO items VALUES (100, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE t.data::text = v.data::text) AS same_text_as_view,
       count(*) FILTER (WHERE t.data::jsonb = jsonb_build_object('id', i.id, 'name', i.name, 'price', i.price,
                                                                'at', i.at, 'tags', i.tags, 'meta', i.meta, 'f', i.f))
         AS same_as_jsonb_build_object
  FROM tv_doc_items t JOIN v_doc_items v USING (id) JOIN items i USING (id);
SELECT (SELECT count(*) FROM items) AS source_rows, (SELECT count(*) FROM tv_doc_items) AS tv_rows;
-- A json v_ view depends on the extension's function (a jsonb one is plain SQL).
SELECT EXISTS (SELECT FROM pg_depend d JOIN pg_rewrite r ON d.objid = r.oid
                WHERE r.ev_class = 'v_doc_items'::regclass
                  AND d.refobjid = 'fraiseql_wire.json_document'::regproc) AS json_view_uses_renderer,
       EXISTS (SELECT FROM pg_depend d JOIN pg_rewrite r ON d.objid = r.oid
                WHERE r.ev_class = 'v_wide200b'::regclass
                  AND d.refobjid = 'fraiseql_wire.json_document'::regproc) AS jsonb_view_uses_renderer;

-- ------------------------------------------------------------ planner
-- The rewrite traces keys through json_document as through
-- json_build_object: an equality on a key column reaches its index.
ANALYZE items;
ANALYZE wide200;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT data FROM v_doc_items WHERE fraiseql_wire.matches(data, '{"id": {"eq": 7}}');
SELECT data FROM v_doc_items WHERE fraiseql_wire.matches(data, '{"id": {"eq": 7}}');
-- and through a cast to jsonb (bit for bit jsonb_build_object's value)
CREATE VIEW v_doc_items_b AS
  SELECT id, fraiseql_wire.json_document('id', id, 'name', name, 'price', price, 'at', at,
                                         'tags', tags, 'meta', meta, 'f', f)::jsonb AS data
  FROM items;
EXPLAIN (COSTS OFF) SELECT data FROM v_doc_items_b WHERE fraiseql_wire.matches(data, '{"id": {"eq": 7}}');
SELECT data FROM v_doc_items_b WHERE fraiseql_wire.matches(data, '{"id": {"eq": 7}}');
-- through json_document_concat too (c150 is in the fourth call)
CREATE INDEX ON wide200 (c150);
EXPLAIN (COSTS OFF) SELECT id FROM v_wide200 WHERE fraiseql_wire.matches(data, '{"c150": {"eq": 300}}');
SELECT id FROM v_wide200 WHERE fraiseql_wire.matches(data, '{"c150": {"eq": 300}}');
EXPLAIN (COSTS OFF) SELECT id FROM v_wide200b WHERE fraiseql_wire.matches(data, '{"c150": {"eq": 300}}');
RESET enable_seqscan;
-- Same rows through the view (rewritten), the view without the rewrite,
-- and the tv_ table.
CREATE TABLE filters (f jsonb);
INSERT INTO filters VALUES ('{"id": {"lt": 10}}'), ('{"price": {"eq": "NaN"}}'), ('{"at": {"eq": "infinity"}}'),
  ('{"tags": {"contains": "t1"}}'), ('{"name": {"startswith": "new"}}'), ('{"meta": {"g": {"gt": 30}}}'),
  ('{"f": {"lt": 2}}'), ('{"or": [{"id": {"eq": 3}}, {"name": {"isnull": true}}]}'), ('{"price": {"gte": 5}}');
CREATE TEMP TABLE got AS
  SELECT f, (SELECT string_agg(id::text, ',' ORDER BY id) FROM v_doc_items WHERE fraiseql_wire.matches(data, f)) AS view_rows,
         (SELECT string_agg(id::text, ',' ORDER BY id) FROM tv_doc_items WHERE fraiseql_wire.matches(data, f)) AS tv_rows
    FROM filters;
SET fraiseql_wire.enable_rewrite = off;
SELECT count(*) AS filters,
       count(*) FILTER (WHERE view_rows IS NOT DISTINCT FROM tv_rows) AS view_same_as_tv,
       count(*) FILTER (WHERE view_rows IS NOT DISTINCT FROM
                        (SELECT string_agg(id::text, ',' ORDER BY id) FROM v_doc_items WHERE fraiseql_wire.matches(data, f)))
         AS view_same_without_rewrite,
       count(*) FILTER (WHERE view_rows IS NOT NULL) AS selecting
  FROM got;
SELECT count(*) FILTER (WHERE view_rows IS NOT DISTINCT FROM
                        (SELECT string_agg(id::text, ',' ORDER BY id) FROM v_doc_items_b WHERE fraiseql_wire.matches(data, f)))
         AS jsonb_view_same_without_rewrite
  FROM got;
RESET fraiseql_wire.enable_rewrite;
SELECT count(*) FILTER (WHERE view_rows IS NOT DISTINCT FROM
                        (SELECT string_agg(id::text, ',' ORDER BY id) FROM v_doc_items_b WHERE fraiseql_wire.matches(data, f)))
         AS jsonb_view_same_with_rewrite
  FROM got;

SELECT fraiseql_wire.drop_view(e) FROM unnest(ARRAY['doc_items', 'wide200', 'wide200b']) e;
DROP SCHEMA doc CASCADE;
