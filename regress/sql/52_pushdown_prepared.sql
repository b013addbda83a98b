-- Prepared statements: a custom plan sees the filter as a constant and is
-- rewritten; a generic plan sees a parameter, and a GIN index on a tv_
-- table still serves through data @> fraiseql_wire.filter_containment($1).
-- Both give the same rows as the unrewritten call.  Uses the tables of
-- 50_pushdown_plans.
SET search_path = pushdown, public;
-- Set before the library is loaded in this session, the setting still
-- counts (it is defined before the fraiseql_wire prefix is reserved).
SET fraiseql_wire.enable_rewrite = off;
EXPLAIN (COSTS OFF)
SELECT id FROM v_item_json WHERE fraiseql_wire.matches(data, '{"score": {"eq": 42}}');
SHOW fraiseql_wire.enable_rewrite;
RESET fraiseql_wire.enable_rewrite;
SET enable_seqscan = off;

PREPARE by_view(jsonb) AS
  SELECT count(*) FROM v_item WHERE fraiseql_wire.matches(data, $1);
PREPARE by_table(jsonb) AS
  SELECT count(*) FROM tv_item WHERE fraiseql_wire.matches(data, $1);
PREPARE by_json_table(jsonb) AS
  SELECT count(*) FROM tv_item_json WHERE fraiseql_wire.matches(data, $1);

SET plan_cache_mode = force_custom_plan;
EXPLAIN (COSTS OFF) EXECUTE by_view('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_view('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXPLAIN (COSTS OFF) EXECUTE by_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_json_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');

SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_view('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_view('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXPLAIN (COSTS OFF) EXECUTE by_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
-- a json column is read as data::jsonb, so its expression index serves
EXPLAIN (COSTS OFF) EXECUTE by_json_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_json_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
-- A filter without equalities: the containment is {}, which every document
-- holds; the rows are still right.
EXECUTE by_table('{"score": {"lt": 20}, "status": {"in": ["pending", "active"]}}');
EXECUTE by_view('{"score": {"lt": 20}, "status": {"in": ["pending", "active"]}}');

SET fraiseql_wire.enable_rewrite = off;
SET plan_cache_mode = force_custom_plan;
EXECUTE by_view('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_table('{"status": {"eq": "pending"}, "score": {"lt": 20}}');
EXECUTE by_table('{"score": {"lt": 20}, "status": {"in": ["pending", "active"]}}');
RESET fraiseql_wire.enable_rewrite;
RESET plan_cache_mode;
DEALLOCATE by_view;
DEALLOCATE by_table;
DEALLOCATE by_json_table;

-- filter_containment(): the top-level scalar equalities, nested paths merged.
SELECT fraiseql_wire.filter_containment('{"status": {"eq": "active"}, "score": {"gt": 1}}');
SELECT fraiseql_wire.filter_containment(
  '{"a": {"b": {"eq": 1}, "c": {"eq": true}}, "and": [{"d": {"in": ["x"]}}, {"e": {"eq": [1]}}]}');
-- an equality under OR or NOT, a typed one, or one already constrained: not implied
SELECT fraiseql_wire.filter_containment(
  '{"or": [{"a": {"eq": 1}}], "not": {"b": {"eq": 2}}, "c": {"eq": "2024-01-01", "type": "date"}}');
SELECT fraiseql_wire.filter_containment('{"a": {"eq": 1}, "and": [{"a": {"eq": 2}}, {"a": {"b": {"eq": 3}}}]}');
SELECT fraiseql_wire.filter_containment('{}');
-- a bad filter is the filter language's error
SELECT fraiseql_wire.filter_containment('{"a": {"eqq": 1}}');

-- A bad constant filter is rejected when the query is planned, with the
-- same error as at execution.
SELECT count(*) FROM v_item WHERE fraiseql_wire.matches(data, '{"status": {"eqq": 1}}');
SELECT count(*) FROM tv_item WHERE fraiseql_wire.matches(data, '[]');

-- The setting.
SHOW fraiseql_wire.enable_rewrite;
SET fraiseql_wire.enable_rewrite = maybe;

-- Selectivity: estimated from the filter evaluated on the column's
-- statistics (meta.k is i % 7: 286 documents have k = 3, 572 have k < 2).
RESET enable_seqscan;
SET fraiseql_wire.enable_rewrite = off;
CREATE FUNCTION estimated_rows(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || q LOOP
    RETURN (regexp_match(line, 'rows=(\d+)'))[1]::int;
  END LOOP;
END $$;
SELECT estimated_rows('SELECT * FROM tv_item WHERE fraiseql_wire.matches(data, ''{"meta": {"k": {"eq": 3}}}'')')
       BETWEEN 150 AND 450 AS estimate_near_286,
       estimated_rows('SELECT * FROM tv_item WHERE fraiseql_wire.matches(data, ''{"meta": {"k": {"lt": 2}}}'')')
       BETWEEN 350 AND 800 AS estimate_near_572;
RESET fraiseql_wire.enable_rewrite;

DROP SCHEMA pushdown CASCADE;
