-- Equivalence: for several hundred generated filters, the rows where
-- matches() is TRUE are exactly the rows where the SQL of where_sql() is
-- TRUE, on data with missing keys, nulls, mixed types, nested objects,
-- arrays and non-ASCII strings.  normalize_filter() must keep the meaning
-- and be idempotent.  Only counts are printed, so a mismatch fails the test.
CREATE SCHEMA filter_eq;
SET search_path = filter_eq, public;

CREATE TABLE eq_docs (id int PRIMARY KEY, data jsonb);

-- Values a field can take; NULL stands for "missing".
CREATE TABLE pool (i int, v jsonb);
INSERT INTO pool (i, v) SELECT o, v FROM unnest(ARRAY[
  NULL, 'null', '"abc"', '"ABC"', '""', '"é"', '"z"', '"Zebra"', '"日本"', '"a%b"',
  '"2024-01-15"', '"2024-13-01"', '"10"', '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"',
  '0', '1', '1.5', '-2', '10', '1e3', 'true', 'false',
  '[]', '["a", "b"]', '[1, 2]', '["é", 1, null]', '[["a"]]',
  '{}', '{"x": 1}', '{"k": "a", "x": "é"}', '{"x": null}'
]::jsonb[]) WITH ORDINALITY AS u(v, o);

-- A random value of the pool (first: missing, second: null).
CREATE FUNCTION rand_pool(first int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  k int := first + floor(random() * (32 - first))::int;
BEGIN
  RETURN (SELECT v FROM filter_eq.pool WHERE i = k);
END $$;

SELECT setseed(0.4242);
-- Documents: fields a, b, c, d at the top, n an object with x and y (or
-- something else); plus a NULL document and documents that are not objects.
CREATE FUNCTION field(k text, v jsonb) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT CASE WHEN v IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(k, v) END $$;
DO $$
BEGIN
  FOR g IN 1..240 LOOP
    INSERT INTO filter_eq.eq_docs VALUES (g,
      filter_eq.field('a', filter_eq.rand_pool(1)) || filter_eq.field('b', filter_eq.rand_pool(1))
      || filter_eq.field('c', filter_eq.rand_pool(1)) || filter_eq.field('d', filter_eq.rand_pool(1))
      || CASE WHEN g % 5 = 0 THEN filter_eq.field('n', filter_eq.rand_pool(1))
              WHEN g % 7 = 0 THEN '{}'
              ELSE jsonb_build_object('n', filter_eq.field('x', filter_eq.rand_pool(1))
                                           || filter_eq.field('y', filter_eq.rand_pool(1))) END);
  END LOOP;
END $$;
INSERT INTO eq_docs VALUES (1001, NULL), (1002, 'null'), (1003, '"abc"'), (1004, '[1, "a"]'),
  (1005, '{"a": null, "n": null}');
SELECT count(*) AS documents, count(DISTINCT data) AS distinct_documents FROM eq_docs;

-- A random element of an array.
CREATE FUNCTION pick(a text[]) RETURNS text LANGUAGE sql AS
  $$ SELECT a[1 + floor(random() * array_length(a, 1))::int] $$;
CREATE FUNCTION pick_value() RETURNS jsonb LANGUAGE sql AS
  $$ SELECT filter_eq.rand_pool(3) $$;

-- A random operator object valid for the language.
CREATE FUNCTION gen_cmp() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  op text := pick(ARRAY['eq', 'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isnull',
    'exists', 'contains', 'startswith', 'endswith', 'icontains', 'istartswith', 'iendswith',
    'like', 'ilike', 'matches', 'imatches', 'contained_by', 'overlaps', 'has_key',
    'has_any_keys', 'has_all_keys', 'len_eq', 'len_neq', 'len_gt', 'len_gte', 'len_lt',
    'len_lte', 'typed', 'typed']);
  v jsonb;
  t text;
BEGIN
  CASE
    WHEN op IN ('eq', 'neq') THEN
      v := coalesce(pick_value(), '1');
    WHEN op IN ('gt', 'gte', 'lt', 'lte') THEN
      v := pick(ARRAY['"abc"', '"a"', '"é"', '"Z"', '""', '"2024"', '0', '1', '1.5', '-3', '10'])::jsonb;
    WHEN op IN ('in', 'nin') THEN
      SELECT coalesce(jsonb_agg(x), '[]') INTO v
        FROM (SELECT pick_value() AS x FROM generate_series(1, floor(random() * 4)::int)) s
       WHERE x IS NOT NULL;
    WHEN op IN ('isnull', 'exists') THEN
      v := to_jsonb(random() < 0.5);
    WHEN op = 'contains' THEN
      v := pick(ARRAY['"a"', '"b"', '"é"', '""', '"bc"', '1', 'true', '["a"]', '[1, 2]', '[]',
                      '{"x": 1}', '{}', '{"k": "a"}'])::jsonb;
    WHEN op IN ('startswith', 'endswith', 'icontains', 'istartswith', 'iendswith') THEN
      v := pick(ARRAY['"a"', '"A"', '"ab"', '"BC"', '"é"', '"É"', '""', '"本"', '"ra"'])::jsonb;
    WHEN op IN ('like', 'ilike') THEN
      v := pick(ARRAY['"a%"', '"A%"', '"%b%"', '"_"', '"a\\%b"', '"%"', '"É"', '"z%"'])::jsonb;
    WHEN op IN ('matches', 'imatches') THEN
      v := pick(ARRAY['"^a"', '"b$"', '"^[a-z]+$"', '"é"', '"^$"', '"\\d"', '"Z"'])::jsonb;
    WHEN op = 'contained_by' THEN
      v := pick(ARRAY['["a", "b", 1, 2]', '[]', '["é", 1, null]', '{"x": 1, "k": "a"}', '{}'])::jsonb;
    WHEN op = 'overlaps' THEN
      v := pick(ARRAY['["a"]', '[1, 5]', '[]', '["é", "z"]', '[["a"]]'])::jsonb;
    WHEN op = 'has_key' THEN
      v := pick(ARRAY['"x"', '"k"', '"a"', '""'])::jsonb;
    WHEN op IN ('has_any_keys', 'has_all_keys') THEN
      v := pick(ARRAY['["x"]', '["x", "k"]', '[]', '["a", "x"]'])::jsonb;
    WHEN op LIKE 'len_%' THEN
      v := to_jsonb(floor(random() * 4)::int);
    ELSE
      t := pick(ARRAY['numeric', 'text', 'boolean', 'date', 'timestamp', 'timestamptz', 'uuid']);
      op := pick(ARRAY['eq', 'neq', 'gt', 'lt', 'gte', 'in', 'nin']);
      v := CASE t
        WHEN 'numeric' THEN pick(ARRAY['"10"', '1', '1.5', '"1e3"'])::jsonb
        WHEN 'text' THEN pick(ARRAY['"10"', '"abc"', '1', 'true', '"é"'])::jsonb
        WHEN 'boolean' THEN pick(ARRAY['true', '"false"', '"yes"'])::jsonb
        WHEN 'uuid' THEN '"A0EEBC999C0B4EF8BB6D6BB9BD380A11"'::jsonb
        WHEN 'date' THEN pick(ARRAY['"2024-01-15"', '"2023-12-31"'])::jsonb
        ELSE pick(ARRAY['"2024-01-15"', '"2024-01-15T10:00:00+01:00"', '"2023-12-31 23:00"'])::jsonb END;
      IF op IN ('in', 'nin') THEN
        v := jsonb_build_array(v);
      END IF;
      RETURN jsonb_build_object(op, v, 'type', t);
  END CASE;
  RETURN jsonb_build_object(op, v);
END $$;

-- A random filter, at most `depth` levels of logic.
CREATE FUNCTION gen_filter(depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r float8 := random();
  path text[] := string_to_array(pick(ARRAY['a', 'b', 'c', 'd', 'n', 'n.x', 'n.y', 'n.x.z']), '.');
  f jsonb;
BEGIN
  IF depth > 0 AND r < 0.15 THEN
    RETURN jsonb_build_object('not', gen_filter(depth - 1));
  ELSIF depth > 0 AND r < 0.30 THEN
    RETURN jsonb_build_object(pick(ARRAY['and', 'or']),
      (SELECT coalesce(jsonb_agg(gen_filter(depth - 1)), '[]')
         FROM generate_series(1, floor(random() * 4)::int)));
  ELSIF depth > 0 AND r < 0.38 THEN
    RETURN gen_filter(depth - 1) || gen_filter(depth - 1);   -- keys ANDed
  END IF;
  f := gen_cmp();
  FOR k IN REVERSE array_length(path, 1)..1 LOOP
    f := jsonb_build_object(path[k], f);
  END LOOP;
  RETURN f;
END $$;

-- Rows matched, as a sorted id array, by each route.
CREATE FUNCTION by_matches(f jsonb) RETURNS int[] LANGUAGE sql AS
  $$ SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM filter_eq.eq_docs
      WHERE fraiseql_wire.matches(data, f) $$;
CREATE FUNCTION by_sql(f jsonb) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  ids int[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM filter_eq.eq_docs WHERE %s',
                 fraiseql_wire.where_sql(f)) INTO ids;
  RETURN ids;
END $$;
CREATE FUNCTION by_json(f jsonb) RETURNS int[] LANGUAGE sql AS
  $$ SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM filter_eq.eq_docs
      WHERE fraiseql_wire.matches(data::json, f) $$;

CREATE TABLE filters (i int PRIMARY KEY, f jsonb);
INSERT INTO filters SELECT g, gen_filter(3) FROM generate_series(1, 600) AS g;

CREATE TABLE results AS
SELECT i, f, by_matches(f) AS m, by_sql(f) AS s,
       by_matches(fraiseql_wire.normalize_filter(f)) AS mn, by_json(f) AS mj,
       fraiseql_wire.normalize_filter(fraiseql_wire.normalize_filter(f))
         = fraiseql_wire.normalize_filter(f) AS idempotent
  FROM filters;

SELECT count(*) AS filters_checked,
       count(*) FILTER (WHERE m IS DISTINCT FROM s) AS sql_mismatches,
       count(*) FILTER (WHERE m IS DISTINCT FROM mn) AS normalize_mismatches,
       count(*) FILTER (WHERE m IS DISTINCT FROM mj) AS json_mismatches,
       count(*) FILTER (WHERE NOT idempotent) AS not_idempotent
  FROM results;
-- The generator is not degenerate: many filters match some but not all
-- rows, and every operator occurs.
SELECT count(*) FILTER (WHERE cardinality(m) BETWEEN 1 AND 244) >= 150 AS selective_filters,
       count(*) FILTER (WHERE cardinality(m) = 0) < 400 AS not_all_empty
  FROM results;
SELECT count(DISTINCT op) AS operators_used
  FROM results, LATERAL jsonb_path_query(f, 'strict $.** ? (@.type() == "object").keyvalue().key') AS k(op)
 WHERE k.op #>> '{}' IN ('eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isnull', 'exists',
   'contains', 'startswith', 'endswith', 'icontains', 'istartswith', 'iendswith', 'like', 'ilike',
   'matches', 'imatches', 'contained_by', 'overlaps', 'has_key', 'has_any_keys', 'has_all_keys',
   'len_eq', 'len_neq', 'len_gt', 'len_gte', 'len_lt', 'len_lte');
-- Any mismatch, for the diff.
SELECT i, f, m, s FROM results WHERE m IS DISTINCT FROM s OR m IS DISTINCT FROM mn
   OR m IS DISTINCT FROM mj LIMIT 5;

RESET search_path;
