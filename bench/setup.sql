-- bench/setup.sql — the benchmark data set, deterministic from one run to the next.
--
--   psql -X -v ON_ERROR_STOP=1 [-v max_rows=100000] -f bench/setup.sql
--
-- Everything lives in the schema "bench" (dropped and rebuilt).  No random():
-- every value is a function of the row id (a multiplicative hash, Knuth's
-- 2654435761), so two runs, two machines and two PostgreSQL builds produce
-- the same bytes.  max_rows (default 1000000) caps the largest size built,
-- so that `make bench-quick` does not pay for the 1M sets.
--
-- Relations (N = 1k, 10k, 100k, 1m):
--   bench.src_N              plain columns, the base table of the view
--   bench.v_items_N          SELECT id, jsonb_build_object(...) AS data FROM src_N
--   bench.v_items_N_json     the same documents by json_build_object
--   bench.v_items_N_doc      the same documents by fraiseql_wire.json_document (if installed)
--   bench.v_items_N_docb     the same, cast to jsonb (bit for bit jsonb_build_object's value)
--   bench.tv_items_N_jsonb   the same documents, materialised as jsonb
--   bench.tv_items_N_json    the same documents, materialised as json (text)
--   bench.tv_nested_10k_{jsonb,json}  10K documents nested five levels, ~0.8 KB each
--   bench.tv_large_{jsonb,json}       100 documents of ~100 KB each
-- A document of v_items/tv_items is ~210 bytes as text.  Filters with known
-- selectivity (exact row counts, since they are functions of id):
--   bucket = 0     0.01 %      (bucket = id % 10000)
--   pct < 1        1 %         (pct = id % 100)
--   pct < 10       10 %
--   pct < 50       50 %
\set ON_ERROR_STOP 1
\if :{?max_rows}
\else
\set max_rows 1000000
\endif

SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- The base rows.  h is a 32-bit hash of id that drives every "random" column.
CREATE TABLE bench.src_1m (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL,
    bucket      integer NOT NULL,
    pct         integer NOT NULL,
    score       numeric(7,2) NOT NULL,
    created_at  timestamp NOT NULL,
    tag_a       text NOT NULL,
    tag_b       text NOT NULL,
    owner_name  text NOT NULL,
    owner_email text NOT NULL
);

INSERT INTO bench.src_1m
SELECT id,
       'item-' || lpad(id::text, 7, '0'),
       (ARRAY['active', 'pending', 'archived', 'deleted'])[1 + (h % 4)::int],
       id % 10000,
       id % 100,
       (h % 100000) / 100.0,
       timestamp '2024-01-01' + (h % 31536000) * interval '1 second',
       't' || (h % 17),
       't' || (h % 23),
       'user-' || (h % 5000),
       'user-' || (h % 5000) || '@example.com'
FROM (SELECT id, (id::bigint * 2654435761) % 4294967296 AS h
      FROM generate_series(1, :max_rows) AS id) AS g;

-- One view and two materialised tables per size.
CREATE FUNCTION bench.make_items(label text, n integer) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF label <> '1m' THEN
        EXECUTE format('CREATE TABLE bench.%I AS SELECT * FROM bench.src_1m WHERE id <= %s',
                       'src_' || label, n);
        EXECUTE format('ALTER TABLE bench.%I ADD PRIMARY KEY (id)', 'src_' || label);
    END IF;
    EXECUTE format($v$
        CREATE VIEW bench.%I AS
        SELECT id,
               jsonb_build_object(
                   'id', id, 'name', name, 'status', status, 'bucket', bucket, 'pct', pct,
                   'score', score, 'created_at', created_at,
                   'tags', jsonb_build_array(tag_a, tag_b),
                   'owner', jsonb_build_object('name', owner_name, 'email', owner_email)
               ) AS data
        FROM bench.%I$v$, 'v_items_' || label, 'src_' || label);
    -- The same documents built by json_build_object, and by the extension's
    -- renderer (what create_view(format => 'json') builds): the "render"
    -- benchmark compares the three on one backend.
    EXECUTE format($v$
        CREATE VIEW bench.%I AS
        SELECT id,
               json_build_object(
                   'id', id, 'name', name, 'status', status, 'bucket', bucket, 'pct', pct,
                   'score', score, 'created_at', created_at,
                   'tags', json_build_array(tag_a, tag_b),
                   'owner', json_build_object('name', owner_name, 'email', owner_email)
               ) AS data
        FROM bench.%I$v$, 'v_items_' || label || '_json', 'src_' || label);
    IF to_regproc('fraiseql_wire.json_document') IS NOT NULL THEN
        EXECUTE format($v$
            CREATE VIEW bench.%I AS
            SELECT id,
                   fraiseql_wire.json_document(
                       'id', id, 'name', name, 'status', status, 'bucket', bucket, 'pct', pct,
                       'score', score, 'created_at', created_at,
                       'tags', ARRAY[tag_a, tag_b],
                       'owner', fraiseql_wire.json_document('name', owner_name, 'email', owner_email)
                   ) AS data
            FROM bench.%I$v$, 'v_items_' || label || '_doc', 'src_' || label);
        -- the same, cast to jsonb: bit for bit the jsonb_build_object value
        EXECUTE format('CREATE VIEW bench.%I AS SELECT id, data::jsonb AS data FROM bench.%I',
                       'v_items_' || label || '_docb', 'v_items_' || label || '_doc');
    END IF;
    EXECUTE format('CREATE TABLE bench.%I AS SELECT id, data FROM bench.%I',
                   'tv_items_' || label || '_jsonb', 'v_items_' || label);
    EXECUTE format('ALTER TABLE bench.%I ADD PRIMARY KEY (id)', 'tv_items_' || label || '_jsonb');
    EXECUTE format('CREATE TABLE bench.%I AS SELECT id, data::json AS data FROM bench.%I',
                   'tv_items_' || label || '_json', 'tv_items_' || label || '_jsonb');
    EXECUTE format('ALTER TABLE bench.%I ADD PRIMARY KEY (id)', 'tv_items_' || label || '_json');
END
$fn$;

SELECT bench.make_items(label, n)
FROM (VALUES ('1k', 1000), ('10k', 10000), ('100k', 100000), ('1m', 1000000)) AS s(label, n)
WHERE n <= :max_rows
ORDER BY n;

-- Indexes for the filtered benchmarks, on the largest set only (where they
-- matter): the server pushdown turns equality filters on a tv_ table into
-- data @> '{…}', which the GIN index serves, and filters on a v_ view into
-- conditions on the base table's columns, which the B-trees serve.
SELECT CASE WHEN :max_rows >= 1000000 THEN '1m' WHEN :max_rows >= 100000 THEN '100k'
            ELSE '10k' END AS big \gset
SELECT format('CREATE INDEX ON bench.%I USING gin (data jsonb_path_ops)',
              'tv_items_' || :'big' || '_jsonb') \gexec
SELECT format('CREATE INDEX ON bench.%I (%I)', 'src_' || :'big', col)
FROM (VALUES ('bucket'), ('pct')) AS c(col) \gexec

-- Nested documents: an order with a customer, an address, and five lines.
CREATE TABLE bench.tv_nested_10k_jsonb AS
SELECT id,
       jsonb_build_object(
           'id', id,
           'order', jsonb_build_object(
               'number', 'SO-' || lpad(id::text, 8, '0'),
               'state', (ARRAY['open', 'paid', 'shipped'])[1 + (h % 3)::int],
               'customer', jsonb_build_object(
                   'id', h % 50000,
                   'name', 'customer-' || (h % 50000),
                   'address', jsonb_build_object(
                       'street', (h % 999) || ' Main Street',
                       'city', 'city-' || (h % 300),
                       'geo', jsonb_build_object('lat', (h % 18000) / 100.0 - 90,
                                                 'lng', (h % 36000) / 100.0 - 180)))),
           'lines', (SELECT jsonb_agg(jsonb_build_object(
                                'sku', 'SKU-' || ((h + l * 7919) % 100000),
                                'qty', 1 + (h + l) % 9,
                                'price', ((h * l) % 100000) / 100.0,
                                'attrs', jsonb_build_object('color', 'c' || ((h + l) % 12),
                                                            'size', 's' || ((h + l) % 5))) ORDER BY l)
                     FROM generate_series(1, 5) AS l)) AS data
FROM (SELECT id, (id::bigint * 2654435761) % 4294967296 AS h
      FROM generate_series(1, 10000) AS id) AS g;
ALTER TABLE bench.tv_nested_10k_jsonb ADD PRIMARY KEY (id);
CREATE TABLE bench.tv_nested_10k_json AS SELECT id, data::json AS data FROM bench.tv_nested_10k_jsonb;
ALTER TABLE bench.tv_nested_10k_json ADD PRIMARY KEY (id);

-- Large payloads: 100 documents of ~100 KB (an array of 1800 small objects).
CREATE TABLE bench.tv_large_jsonb AS
SELECT id,
       jsonb_build_object(
           'id', id,
           'items', (SELECT jsonb_agg(jsonb_build_object(
                                'n', g,
                                'label', 'label-' || lpad(id::text, 3, '0') || '-' || lpad(g::text, 4, '0'),
                                'value', (id * g * 2654435761::bigint) % 1000003) ORDER BY g)
                     FROM generate_series(1, 1800) AS g)) AS data
FROM generate_series(1, 100) AS id;
ALTER TABLE bench.tv_large_jsonb ADD PRIMARY KEY (id);
CREATE TABLE bench.tv_large_json AS SELECT id, data::json AS data FROM bench.tv_large_jsonb;
ALTER TABLE bench.tv_large_json ADD PRIMARY KEY (id);

-- Hint bits set and statistics fresh, so that the first timed scan does not
-- write pages.
VACUUM (FREEZE, ANALYZE);

-- What was built, for the harness: relation, rows, average document bytes.
CREATE VIEW bench.datasets AS
SELECT c.relname AS relation, c.reltuples::bigint AS rows,
       pg_total_relation_size(c.oid) AS total_bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'bench' AND c.relkind IN ('r', 'v') AND c.relname ~ '^(v|tv)_';
