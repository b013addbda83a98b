-- Review findings on the filter language: each block is a defect that was
-- fixed, with the input that showed it.  err() shows SQLSTATE, message and
-- detail of an error (or "accepted").
CREATE SCHEMA filter_hard;
SET search_path = filter_hard, public;
CREATE FUNCTION err(f jsonb) RETURNS text LANGUAGE plpgsql AS $$
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

-- max_filter_nodes bounds the parsed tree: an empty object inside "and"/"or"
-- is a node (TRUE) like any other, so a long list of {} cannot build an
-- unbounded tree under the limit.
SET fraiseql_wire.max_filter_nodes = 5;
SELECT err('{}') AS empty_filter,
       err('{"and": [{}, {}, {}]}') AS four_nodes,
       err('{"and": [{}, {}, {}, {}, {}]}') AS six_nodes,
       err('{"or": [{"not": {}}, {"not": {}}, {"not": {}}]}') AS seven_nodes;
RESET fraiseql_wire.max_filter_nodes;
SELECT err(jsonb_build_object('and', (SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 200000))));

-- A query cancel or statement_timeout while a slow regular expression
-- compiles (this one takes seconds) is reported as the cancel (57014), not
-- as an invalid filter.
SET statement_timeout = '50ms';
SELECT fraiseql_wire.normalize_filter(
         jsonb_build_object('a', jsonb_build_object('matches', repeat('(a|b|c|d)*', 200))));
RESET statement_timeout;

-- Evaluation on one row can be long (overlaps compares every element of the
-- field with every operand element; this takes seconds): a query cancel or
-- statement_timeout interrupts it.
CREATE TABLE long_row AS
  SELECT jsonb_build_object('v', (SELECT jsonb_agg(i) FROM generate_series(1, 50000) i)) AS data,
         jsonb_build_object('v', jsonb_build_object('overlaps',
           (SELECT jsonb_agg(-i) FROM generate_series(1, 9000) i))) AS filter;
CREATE FUNCTION interrupted_within(lim interval) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  PERFORM fraiseql_wire.matches(data, filter) FROM long_row;
  RETURN 'not interrupted';
EXCEPTION WHEN query_canceled THEN
  RETURN CASE WHEN clock_timestamp() - t0 < lim THEN 'interrupted in time'
              ELSE 'interrupted only after the row' END;
END $$;
SET statement_timeout = '100ms';
SELECT interrupted_within('1 s');
RESET statement_timeout;

-- (Checked, holds.) Hostile keys and values -- quotes, backslashes, $$, comment
-- markers, newlines, E'' -- give SQL from where_sql() that means what
-- matches() means, whether standard_conforming_strings is on or off when the
-- SQL is made and when it runs.
CREATE TABLE hostile (k text, v text);
INSERT INTO hostile VALUES ($q$a'b$q$, $q$x'y$q$), ($q$a\b$q$, $q$x\y$q$), ($q$a$$b$q$, $q$x$$y$q$),
  ('a*/b', 'x/*y'), (E'a\nb', E'x\n--y'), ($q$\'$q$, $q$\\'$q$), ('é"ü', 'ß"\'),
  ($q$E'$q$, $q$'||pg_sleep(1)||'$q$);
CREATE TABLE hostile_sql AS
SELECT h.k, h.v, ff.f, g.scs_make, r.scs_run, NULL::text AS sql, NULL::boolean AS sql_true
  FROM hostile h,
       LATERAL (VALUES (jsonb_build_object(h.k, jsonb_build_object('eq', h.v))),
                       (jsonb_build_object(h.k, jsonb_build_object('like', replace(h.v, '\', '\\')))),
                       (jsonb_build_object(h.k, jsonb_build_object('in', jsonb_build_array(h.v, 'z')))),
                       (jsonb_build_object(h.k, jsonb_build_object('contains', h.v))),
                       (jsonb_build_object('not', jsonb_build_object(h.k, jsonb_build_object('startswith', h.v)))))
         AS ff(f),
       (VALUES ('on'), ('off')) AS g(scs_make), (VALUES ('on'), ('off')) AS r(scs_run);
DO $$
DECLARE
  r record;
  t boolean;
BEGIN
  FOR r IN SELECT ctid, * FROM hostile_sql LOOP
    PERFORM set_config('standard_conforming_strings', r.scs_make, true);
    UPDATE hostile_sql SET sql = fraiseql_wire.where_sql(r.f) WHERE ctid = r.ctid;
  END LOOP;
  FOR r IN SELECT ctid, * FROM hostile_sql LOOP
    PERFORM set_config('standard_conforming_strings', r.scs_run, true);
    EXECUTE format('SELECT %s FROM (SELECT $1 AS data) AS s', r.sql) INTO t
      USING jsonb_build_object(r.k, r.v);
    UPDATE hostile_sql SET sql_true = coalesce(t, false) WHERE ctid = r.ctid;
  END LOOP;
  PERFORM set_config('standard_conforming_strings', 'on', true);
END $$;
SHOW standard_conforming_strings;
SELECT count(*) AS cases,
       count(*) FILTER (WHERE fraiseql_wire.matches(jsonb_build_object(k, v), f) = sql_true) AS agree,
       count(*) FILTER (WHERE sql_true) AS true_cases
  FROM hostile_sql;
