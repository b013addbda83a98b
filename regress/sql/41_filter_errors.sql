-- Bad filters are rejected before any row is read: SQLSTATE 22023 naming the
-- JSON path of the offending part (54000 for a filter over a size limit).
-- bad() shows SQLSTATE, message and detail.
CREATE SCHEMA filter_err;
SET search_path = filter_err, public;
CREATE FUNCTION bad(f jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
  det text;
BEGIN
  PERFORM fraiseql_wire.matches('{}'::jsonb, f);
  RETURN 'accepted';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ' ' || msg || ': ' || det;
END $$;

SELECT f AS filter, bad(f::jsonb) AS error FROM (VALUES
  -- not an object / unknown operator / mixing
  ('[]'), ('"x"'), ('null'), ('{"eq": 1}'),
  ('{"author": {"name": {"eqq": "x"}}}'), ('{"a": 5}'), ('{"a": {}}'), ('{"a": [1]}'),
  ('{"a": {"eq": 1, "b": {"eq": 2}}}'), ('{"a": {"eq": 1, "not": {"eq": 2}}}'),
  ('{"a": {"eq": 1, "bogus": 1}}'),
  -- logic
  ('{"and": {}}'), ('{"or": [1]}'), ('{"or": [{"a": {"eq": 1}}, []]}'), ('{"not": []}'),
  ('{"not": {"a": {"gt": true}}}'),
  -- null operands
  ('{"a": {"eq": null}}'), ('{"a": {"neq": null}}'), ('{"a": {"gt": null}}'),
  ('{"a": {"in": [1, null]}}'), ('{"a": {"like": null}}'),
  -- operand types
  ('{"a": {"gt": true}}'), ('{"a": {"lt": [1]}}'), ('{"a": {"gte": {}}}'),
  ('{"a": {"in": "x"}}'), ('{"a": {"nin": {"x": 1}}}'),
  ('{"a": {"isnull": "yes"}}'), ('{"a": {"exists": 1}}'),
  ('{"a": {"startswith": 1}}'), ('{"a": {"icontains": ["x"]}}'), ('{"a": {"like": 1}}'),
  ('{"a": {"like": "ab\\"}}'), ('{"a": {"ilike": "\\\\\\"}}'),
  ('{"a": {"matches": "("}}'), ('{"a": {"imatches": "[z-a]"}}'), ('{"a": {"matches": 3}}'),
  ('{"a": {"contained_by": "x"}}'), ('{"a": {"overlaps": "x"}}'), ('{"a": {"overlaps": [null]}}'),
  ('{"a": {"has_key": 1}}'), ('{"a": {"has_any_keys": "k"}}'), ('{"a": {"has_all_keys": ["k", 1]}}'),
  ('{"a": {"len_eq": -1}}'), ('{"a": {"len_gt": 1.5}}'), ('{"a": {"len_lt": "3"}}'),
  ('{"a": {"len_lte": 3000000000}}'),
  -- type
  ('{"a": {"eq": 1, "type": "integer"}}'), ('{"a": {"eq": 1, "type": 1}}'),
  ('{"a": {"type": "date"}}'), ('{"a": {"like": "x", "type": "text"}}'),
  ('{"a": {"eq": "2024-02-30", "type": "date"}}'), ('{"a": {"eq": [1], "type": "numeric"}}'),
  ('{"a": {"in": ["1", "x"], "type": "numeric"}}'), ('{"a": {"eq": "maybe", "type": "boolean"}}'),
  ('{"a": {"eq": "not-a-uuid", "type": "uuid"}}'),
  -- paths name odd keys readably
  ('{"a b": {"c\"d": {"eqq": 1}}}'), ('{"and": [{"x": {"y": {"eq": {}}}}, {"x": {"in": [1, 2, {"z": null}, null]}}]}')
) AS t(f);

-- Accepted: a field named "type" (it is a field where no operator is beside
-- it), and operators on nested fields through logic.
SELECT bad('{"type": {"eq": "book"}}'), bad('{"a": {"type": {"eq": 1}}}'),
       bad('{"a": {"in": [], "type": "date"}}'), bad('{"a": {"contains": null, "x": 1}}');

-- The same errors from where_sql(), normalize_filter() and the json
-- overload of matches().
SELECT fraiseql_wire.where_sql('{"a": {"eq": null}}');
SELECT fraiseql_wire.normalize_filter('{"a": {"eqq": 1}}');
SELECT fraiseql_wire.matches('{"a": 1}'::json, '{"a": {"eq": null}}');

-- Limits: nesting depth and size.  Going over one is 54000
-- (program_limit_exceeded), not 22023: the filter is valid, only too large.
SHOW fraiseql_wire.max_filter_depth;
SHOW fraiseql_wire.max_filter_nodes;
-- 40 nested "not"s go over the default depth of 32; a filter nested
-- 10000 deep is refused just the same (no stack overflow).
SELECT bad((repeat('{"not": ', 40) || '{"a": {"eq": 1}}' || repeat('}', 40))::jsonb);
SELECT bad((repeat('{"not": ', 10000) || '{"a": {"eq": 1}}' || repeat('}', 10000))::jsonb);
SELECT bad((repeat('{"a": ', 31) || '{"eq": 1}' || repeat('}', 31))::jsonb) AS depth_32_ok;
-- 100001 list elements (or arms) go over the default of 100000 nodes; the
-- list is refused as a whole, before its elements are read.  100000 list
-- elements and one comparison are 100001 nodes: over too.
SELECT bad(jsonb_build_object('a', jsonb_build_object('in', (SELECT jsonb_agg(i) FROM generate_series(1, 100001) i))));
SELECT bad(jsonb_build_object('a', jsonb_build_object('in', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i))));
SELECT bad(jsonb_build_object('a', jsonb_build_object('in', (SELECT jsonb_agg(i) FROM generate_series(1, 99999) i)))) AS in_99999_ok;
SELECT bad(jsonb_build_object('or', (SELECT jsonb_agg(jsonb_build_object('a', jsonb_build_object('eq', i))) FROM generate_series(1, 100001) i)));
-- The whole error: message, detail and hint name the limit and the setting.
DO $$
DECLARE st text; msg text; det text; hint text;
BEGIN
  PERFORM fraiseql_wire.where_sql(jsonb_build_object('a', jsonb_build_object('in',
            (SELECT jsonb_agg(i) FROM generate_series(1, 100001) i))));
EXCEPTION WHEN program_limit_exceeded THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                          hint = PG_EXCEPTION_HINT;
  RAISE NOTICE '% / % / % / %', st, msg, det, hint;
END $$;
SET fraiseql_wire.max_filter_depth = 2;
SELECT bad('{"a": {"eq": 1}}') AS depth_2, bad('{"a": {"b": {"eq": 1}}}') AS depth_3;
SET fraiseql_wire.max_filter_nodes = 3;
SELECT bad('{"a": {"in": [1, 2]}}') AS three_nodes, bad('{"a": {"in": [1, 2, 3]}}') AS four_nodes;
RESET fraiseql_wire.max_filter_nodes;
-- At the highest depth allowed, 998 nested "not"s evaluate (an even number:
-- TRUE); one more level is refused, and the message shortens the long path.
SET fraiseql_wire.max_filter_depth = 1000;
SELECT fraiseql_wire.matches('{"a": 1}'::jsonb,
         (repeat('{"not": ', 998) || '{"a": {"eq": 1}}' || repeat('}', 998))::jsonb) AS not_998;
SELECT bad((repeat('{"not": ', 999) || '{"a": {"eq": 1}}' || repeat('}', 999))::jsonb);
RESET fraiseql_wire.max_filter_depth;
SET fraiseql_wire.max_filter_depth = 0;
SET fraiseql_wire.no_such_setting = 1;
-- max_filter_nodes bounds what one filter may cost the server, so only a
-- superuser may change it (PGC_SUSET): an ordinary role gets 42501, for a
-- session and for a transaction alike; max_filter_depth stays user-settable.
CREATE ROLE regress_fw_limits;
SET ROLE regress_fw_limits;
\set VERBOSITY sqlstate
SET fraiseql_wire.max_filter_nodes = 1000000;
BEGIN;
SET LOCAL fraiseql_wire.max_filter_nodes = 10;
ROLLBACK;
SELECT set_config('fraiseql_wire.max_filter_nodes', '1000000', false);
\set VERBOSITY default
SET fraiseql_wire.max_filter_nodes = 1000000;
SHOW fraiseql_wire.max_filter_nodes;
SET fraiseql_wire.max_filter_depth = 10;
RESET fraiseql_wire.max_filter_depth;
RESET ROLE;
DROP ROLE regress_fw_limits;
SET fraiseql_wire.max_filter_nodes = 100000001;

-- where_sql's target must be one SQL expression.
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', 'data) OR (true');
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', 'data --');
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', 'data; DROP TABLE x');
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', 'data FROM t');
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', 'a, b');
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', '');
SELECT fraiseql_wire.where_sql('{"a": {"eq": 1}}', 't."Data"::jsonb');

RESET search_path;
