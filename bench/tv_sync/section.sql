-- bench/tv_sync/section.sql — the cost of the security-restricted section in
-- the tv_ trigger functions, side by side in one run: tv_a's function as
-- create_table_view makes it, tv_b's the same body without the section.
-- 20,000 single-row INSERT statements each (the worst case: the section is
-- paid per statement), three rounds, alternating.  Run it in an empty
-- database of a throw-away cluster:
--   createdb fw_bench_sync && psql -X -q -d fw_bench_sync -f bench/tv_sync/section.sql; dropdb fw_bench_sync
-- and compare the "Time:" lines of a and b (a/b is the ratio).
CREATE EXTENSION fraiseql_wire;
CREATE TABLE a (id int PRIMARY KEY, v text, n numeric);
CREATE TABLE b (id int PRIMARY KEY, v text, n numeric);
SELECT fraiseql_wire.create_table_view('a', 'a', gin_index => false);
SELECT fraiseql_wire.create_table_view('b', 'b', gin_index => false);
-- b: the same trigger function without the restricted section (the body before this change)
DO $$
DECLARE src text;
BEGIN
  SELECT prosrc INTO src FROM pg_proc WHERE proname = 'tv_b_sync';
  src := replace(src, 'PERFORM fraiseql_wire._end_restricted(fw_section);', '');
  src := replace(src, E'DECLARE\n  fw_section bigint := fraiseql_wire._restrict_security();\n', '');
  EXECUTE format('CREATE OR REPLACE FUNCTION public.tv_b_sync() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = ''UTC'' SET DateStyle = ''ISO'' SET IntervalStyle = ''postgres'' SET extra_float_digits = 3 SET bytea_output = ''hex'' AS %L', src);
END $$;
SELECT prosrc ~ 'restrict' AS b_has_section FROM pg_proc WHERE proname = 'tv_b_sync';
\timing on
\echo a, b, b, a, a, b
DO $$ BEGIN FOR i IN 1..20000 LOOP INSERT INTO a VALUES (i, 'x', i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 1..20000 LOOP INSERT INTO b VALUES (i, 'x', i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 20001..40000 LOOP INSERT INTO b VALUES (i, 'x', i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 20001..40000 LOOP INSERT INTO a VALUES (i, 'x', i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 40001..60000 LOOP INSERT INTO a VALUES (i, 'x', i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 40001..60000 LOOP INSERT INTO b VALUES (i, 'x', i); END LOOP; END $$;
\timing off
