-- bench/render_split.sql — where the time of a v_ document goes, per builder,
-- measured with SQL on one backend (needs the bench schema of bench/setup.sql
-- and the extension; docs/performance.md, "Building documents").
--
--   psql -X -f bench/render_split.sql
--
-- For each builder: "build" forces the document without converting it to
-- text (pg_column_size reads the value's header only); "build+text" adds the
-- text conversion the stream pays (jsonb_out for jsonb, nothing for json).
-- "columns" is the floor: the output functions of the same columns, concat'ed.
-- Three rounds, the order rotated each round; \timing prints each query's time.
\set ON_ERROR_STOP 1
SET max_parallel_workers_per_gather = 0;
SET jit = off;
\timing on
SELECT 'round 1' AS round;
\echo columns
SELECT sum(octet_length(concat(id, name, status, bucket, pct, score, created_at, tag_a, tag_b, owner_name, owner_email))) FROM bench.src_1m;
\echo jsonb_build_object build
SELECT sum(pg_column_size(data)) FROM bench.v_items_1m;
\echo jsonb_build_object build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m;
\echo json_build_object build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m_json;
\echo json_document build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m_doc;
SELECT 'round 2' AS round;
\echo json_document build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m_doc;
\echo columns
SELECT sum(octet_length(concat(id, name, status, bucket, pct, score, created_at, tag_a, tag_b, owner_name, owner_email))) FROM bench.src_1m;
\echo jsonb_build_object build
SELECT sum(pg_column_size(data)) FROM bench.v_items_1m;
\echo jsonb_build_object build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m;
\echo json_build_object build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m_json;
SELECT 'round 3' AS round;
\echo json_build_object build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m_json;
\echo json_document build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m_doc;
\echo columns
SELECT sum(octet_length(concat(id, name, status, bucket, pct, score, created_at, tag_a, tag_b, owner_name, owner_email))) FROM bench.src_1m;
\echo jsonb_build_object build
SELECT sum(pg_column_size(data)) FROM bench.v_items_1m;
\echo jsonb_build_object build+text
SELECT sum(octet_length(data::text)) FROM bench.v_items_1m;
