-- where_sql(): the rendered SQL, its quoting, the NULL-document guard, and
-- the GIN-friendly containment it adds for equalities.
CREATE SCHEMA filter_sql;
SET search_path = filter_sql, public;

-- Keys and values with quotes and backslashes are literals, never SQL.
SELECT fraiseql_wire.where_sql('{"it''s": {"eq": "x''); DROP TABLE t; --"}}');
SELECT fraiseql_wire.where_sql('{"a\\b": {"like": "50\\%"}}', 't.data');
SELECT fraiseql_wire.where_sql('{"a": {"in": ["x", 1, true, [1]], "neq": "y"}}');
SELECT fraiseql_wire.where_sql('{"d": {"gte": "2024-01-01", "type": "date"}}', 'data::jsonb');
-- Below "not", UNKNOWN must stay UNKNOWN, so no containment is added there.
SELECT fraiseql_wire.where_sql('{"not": {"a": {"eq": 1}}}');
-- A filter that is TRUE with every field missing is guarded against a NULL
-- document (matches() is STRICT: NULL, never a match).
SELECT fraiseql_wire.where_sql('{"a": {"isnull": true}}');
SELECT fraiseql_wire.where_sql('{}');

CREATE TABLE t (id int, data jsonb);
INSERT INTO t SELECT i, jsonb_build_object('status', CASE WHEN i % 100 = 0 THEN 'active' ELSE 'idle' END,
                                          'n', i, 'who', jsonb_build_object('name', 'u' || i))
  FROM generate_series(1, 2000) i;
INSERT INTO t VALUES (0, NULL), (-1, '{"status": null}');
CREATE INDEX t_data_gin ON t USING gin (data jsonb_path_ops);
ANALYZE t;

CREATE FUNCTION run(f jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE 'SELECT count(*) FROM filter_sql.t WHERE ' || fraiseql_wire.where_sql(f) INTO n;
  RETURN n;
END $$;
SELECT run('{"status": {"eq": "active"}}') AS active,
       run('{"status": {"isnull": true}}') AS null_status,
       run('{"who": {"name": {"eq": "u7"}}, "n": {"lt": 10}}') AS nested,
       (SELECT count(*) FROM t WHERE fraiseql_wire.matches(data, '{"status": {"isnull": true}}')) AS matches_null_status;

-- The equality part can use the GIN index.
SET enable_seqscan = off;
CREATE FUNCTION plan(f jsonb) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM filter_sql.t WHERE ' || fraiseql_wire.where_sql(f);
END $$;
SELECT bool_or(p LIKE '%Bitmap Index Scan on t_data_gin%') AS uses_gin
  FROM plan('{"status": {"eq": "active"}, "n": {"gt": 5}}') AS p;
RESET enable_seqscan;

RESET search_path;
