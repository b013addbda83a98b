-- Review findings on the view helpers: each block is a defect that was
-- fixed, with the input that showed it.
CREATE SCHEMA views_hard;
SET search_path = views_hard;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set SHOW_CONTEXT never

-- tv_ documents do not depend on the writer's DateStyle: dates inside a
-- range (or any type rendered through its text output) are written as the
-- client reads the v_ view, with DateStyle ISO.
CREATE TABLE periods (id int PRIMARY KEY, d daterange, t tstzrange, ts timestamp[]);
SELECT fraiseql_wire.create_view('periods', 'periods');
SELECT fraiseql_wire.create_table_view('periods');
SET DateStyle = 'SQL, DMY';
INSERT INTO periods VALUES (1, '[2024-01-02,2024-02-03)', '[2024-01-02 10:00+02,)',
                            ARRAY['2024-01-02 03:04:05'::timestamp]);
SET DateStyle = 'German';
SELECT fraiseql_wire.refresh_table_view('periods');
INSERT INTO periods VALUES (2, '[2024-03-04,)', NULL, NULL);
SET DateStyle = 'ISO, YMD';
SELECT id, data FROM tv_periods ORDER BY id;
SELECT v.id, v.data = tv.data AS same_document
  FROM v_periods v FULL JOIN tv_periods tv USING (id) ORDER BY 1;
