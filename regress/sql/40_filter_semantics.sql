-- The filter language's semantics: every operator against every JSON type.
-- Each row shows one filter's truth value on seven documents whose field "v"
-- is a string, number, boolean, null, array, object, or missing:
--   T = TRUE, F = FALSE, U = UNKNOWN (neither the filter nor its "not" holds).
-- A "!" after a letter would mean where_sql() disagrees with matches().
CREATE SCHEMA filter_test;
SET search_path = filter_test, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- The truth value by matches(), and by the SQL of where_sql().
CREATE FUNCTION tv(doc jsonb, f jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN fraiseql_wire.matches(doc, f) THEN 'T'
              WHEN fraiseql_wire.matches(doc, jsonb_build_object('not', f)) THEN 'F'
              ELSE 'U' END $$;
CREATE FUNCTION tv_sql(doc jsonb, f jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  yes boolean;
  no boolean;
BEGIN
  EXECUTE format('SELECT %s FROM (SELECT $1 AS data) AS s', fraiseql_wire.where_sql(f))
    INTO yes USING doc;
  EXECUTE format('SELECT %s FROM (SELECT $1 AS data) AS s',
                 fraiseql_wire.where_sql(jsonb_build_object('not', f)))
    INTO no USING doc;
  RETURN CASE WHEN yes THEN 'T' WHEN no THEN 'F' ELSE 'U' END;
END $$;
CREATE FUNCTION tv_both(doc jsonb, f jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT tv(doc, f) || CASE WHEN tv(doc, f) <> tv_sql(doc, f) THEN '!' ELSE '' END $$;

CREATE TABLE docs (id int PRIMARY KEY, data jsonb);
INSERT INTO docs VALUES
  (1, '{"v": "abc"}'), (2, '{"v": 10}'), (3, '{"v": true}'), (4, '{"v": null}'),
  (5, '{"v": ["a", "b", 1]}'), (6, '{"v": {"k": "a", "n": 1}}'), (7, '{}');

CREATE FUNCTION grid(filters jsonb[]) RETURNS TABLE (filter text, "s n b z a o m" text)
LANGUAGE sql AS $$
  SELECT f::text, (SELECT string_agg(tv_both(d.data, f), ' ' ORDER BY d.id) FROM docs d)
    FROM unnest(filters) WITH ORDINALITY AS u(f, i) ORDER BY i $$;

-- comparison
SELECT * FROM grid(ARRAY[
  '{"v": {"eq": "abc"}}', '{"v": {"eq": 10}}', '{"v": {"eq": 10.0}}', '{"v": {"eq": true}}',
  '{"v": {"eq": false}}', '{"v": {"eq": ["a", "b", 1]}}', '{"v": {"eq": ["b", "a", 1]}}',
  '{"v": {"eq": {"n": 1, "k": "a"}}}', '{"v": {"eq": "10"}}',
  '{"v": {"neq": "abc"}}', '{"v": {"neq": 10}}', '{"v": {"neq": false}}', '{"v": {"neq": []}}',
  '{"v": {"gt": "abb"}}', '{"v": {"gt": 9}}', '{"v": {"gte": 10}}', '{"v": {"lt": "b"}}',
  '{"v": {"lt": 10}}', '{"v": {"lte": "abc"}}', '{"v": {"lte": 1e2}}'
]::jsonb[]);

-- lists
SELECT * FROM grid(ARRAY[
  '{"v": {"in": ["abc", 10]}}', '{"v": {"in": ["x"]}}', '{"v": {"in": ["x", 10]}}',
  '{"v": {"in": []}}', '{"v": {"in": [true, {"k": "a", "n": 1}]}}',
  '{"v": {"nin": ["abc"]}}', '{"v": {"nin": ["x"]}}', '{"v": {"nin": ["x", 1]}}',
  '{"v": {"nin": []}}', '{"v": {"nin": [["a", "b", 1]]}}'
]::jsonb[]);

-- null and presence: never UNKNOWN
SELECT * FROM grid(ARRAY[
  '{"v": {"isnull": true}}', '{"v": {"isnull": false}}',
  '{"v": {"exists": true}}', '{"v": {"exists": false}}'
]::jsonb[]);

-- strings, and contains as containment on arrays and objects
SELECT * FROM grid(ARRAY[
  '{"v": {"contains": "b"}}', '{"v": {"contains": "a"}}', '{"v": {"contains": ""}}',
  '{"v": {"contains": ["a", 1]}}', '{"v": {"contains": {"k": "a"}}}', '{"v": {"contains": 1}}',
  '{"v": {"contains": true}}',
  '{"v": {"startswith": "ab"}}', '{"v": {"startswith": "b"}}', '{"v": {"endswith": "bc"}}',
  '{"v": {"endswith": "abcd"}}', '{"v": {"icontains": "B"}}', '{"v": {"istartswith": "AB"}}',
  '{"v": {"iendswith": "BC"}}', '{"v": {"like": "a%"}}', '{"v": {"like": "A%"}}',
  '{"v": {"ilike": "A_C"}}', '{"v": {"matches": "^a.c$"}}', '{"v": {"matches": "^A"}}',
  '{"v": {"imatches": "^A"}}'
]::jsonb[]);

-- jsonb operators
SELECT * FROM grid(ARRAY[
  '{"v": {"contained_by": ["a", "b", 1, 2]}}', '{"v": {"contained_by": ["a"]}}',
  '{"v": {"contained_by": {"k": "a", "n": 1, "x": 2}}}',
  '{"v": {"overlaps": ["b", "z"]}}', '{"v": {"overlaps": ["z"]}}', '{"v": {"overlaps": []}}',
  '{"v": {"has_key": "k"}}', '{"v": {"has_key": "a"}}',
  '{"v": {"has_any_keys": ["x", "n"]}}', '{"v": {"has_any_keys": []}}',
  '{"v": {"has_all_keys": ["k", "n"]}}', '{"v": {"has_all_keys": ["k", "x"]}}',
  '{"v": {"has_all_keys": []}}',
  '{"v": {"len_eq": 3}}', '{"v": {"len_neq": 3}}', '{"v": {"len_gt": 2}}',
  '{"v": {"len_gte": 4}}', '{"v": {"len_lt": 4}}', '{"v": {"len_lte": 0}}'
]::jsonb[]);

-- typed comparison: both sides cast; what does not cast is UNKNOWN
SELECT * FROM grid(ARRAY[
  '{"v": {"eq": "10", "type": "numeric"}}', '{"v": {"gt": 9, "type": "text"}}',
  '{"v": {"eq": "true", "type": "boolean"}}', '{"v": {"eq": "abc", "type": "text"}}',
  '{"v": {"in": ["10", 11], "type": "numeric"}}', '{"v": {"nin": [10], "type": "text"}}'
]::jsonb[]);

-- three-valued logic: on the missing field UNKNOWN stays UNKNOWN under not,
-- and/or follow SQL's tables
SELECT * FROM grid(ARRAY[
  '{"not": {"v": {"eq": "abc"}}}', '{"not": {"not": {"v": {"eq": "abc"}}}}',
  '{"or": [{"v": {"eq": "abc"}}, {"v": {"isnull": true}}]}',
  '{"or": [{"v": {"eq": "x"}}, {"v": {"eq": 10}}]}',
  '{"and": [{"v": {"neq": "x"}}, {"v": {"exists": true}}]}',
  '{"and": [{"v": {"eq": 10}}, {"v": {"lt": 3}}]}',
  '{"v": {"gt": 1, "lt": 20}}',
  '{"and": []}', '{"or": []}', '{"not": {"and": []}}', '{}', '{"not": {}}',
  '{"not": {"or": [{"v": {"eq": "x"}}, {"v": {"isnull": true}}]}}'
]::jsonb[]);

-- Nested fields; a path through a non-object is a missing field.
TRUNCATE docs;
INSERT INTO docs VALUES
  (1, '{"author": {"name": "Ann", "tags": ["x"]}}'), (2, '{"author": {"name": "Bob"}}'),
  (3, '{"author": "Ann"}'), (4, '{"author": null}'), (5, '{"author": ["Ann"]}'),
  (6, '{"author": {"name": {"first": "Ann"}}}'), (7, '{}');
SELECT * FROM grid(ARRAY[
  '{"author": {"name": {"eq": "Ann"}}}', '{"author": {"name": {"neq": "Ann"}}}',
  '{"author": {"name": {"isnull": true}}}', '{"author": {"name": {"exists": true}}}',
  '{"author": {"name": {"first": {"eq": "Ann"}}}}', '{"author": {"exists": true}}',
  '{"author": {"or": [{"name": {"eq": "Bob"}}, {"tags": {"len_eq": 1}}]}}',
  '{"author": {"not": {"name": {"eq": "Ann"}}}}',
  '{"author": {"name": {"in": ["Ann", "Bob"]}, "tags": {"isnull": true}}}'
]::jsonb[]);

-- Strings compare by code point, never by the database collation:
-- 'é' (U+00E9) > 'z' > 'Z' > 'A'; 'é' < 'ë'.
TRUNCATE docs;
INSERT INTO docs VALUES (1, '{"v": "A"}'), (2, '{"v": "Z"}'), (3, '{"v": "a"}'),
  (4, '{"v": "z"}'), (5, '{"v": "é"}'), (6, '{"v": "ë"}'), (7, '{"v": "日本"}');
SELECT * FROM grid(ARRAY[
  '{"v": {"gt": "z"}}', '{"v": {"lt": "a"}}', '{"v": {"gte": "é"}}', '{"v": {"lt": "ë"}}',
  '{"v": {"gt": "ë"}}', '{"v": {"icontains": "É"}}', '{"v": {"ilike": "É"}}',
  '{"v": {"istartswith": "日"}}', '{"v": {"endswith": "本"}}', '{"v": {"imatches": "^[éë]$"}}'
]::jsonb[]);

-- Typed comparisons: dates as dates, timestamps with offsets, uuids; a value
-- that does not cast (a bad date, a number for a uuid) is UNKNOWN.
TRUNCATE docs;
INSERT INTO docs VALUES
  (1, '{"v": "2024-02-29"}'), (2, '{"v": "2024-10-01"}'), (3, '{"v": "2024-9-01"}'),
  (4, '{"v": "2023-02-29"}'), (5, '{"v": "2024-10-01T10:00:00+02:00"}'),
  (6, '{"v": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}'), (7, '{"v": 20241001}');
SELECT * FROM grid(ARRAY[
  '{"v": {"gt": "2024-03-01", "type": "date"}}',
  '{"v": {"gt": "2024-03-01"}}',
  '{"v": {"eq": "2024-10-01T08:00:00Z", "type": "timestamptz"}}',
  '{"v": {"eq": "2024-10-01 10:00", "type": "timestamp"}}',
  '{"v": {"gte": "2024-10-01", "type": "timestamp"}}',
  '{"v": {"eq": "A0EEBC999C0B4EF8BB6D6BB9BD380A11", "type": "uuid"}}',
  '{"v": {"gt": 20240000, "type": "numeric"}}',
  '{"v": {"lt": "3", "type": "text"}}',
  '{"not": {"v": {"lt": "2025-01-01", "type": "date"}}}'
]::jsonb[]);

-- The as_<type> casts never raise.
SELECT v, fraiseql_wire.as_date(v) AS date, fraiseql_wire.as_numeric(v) AS numeric,
       fraiseql_wire.as_boolean(v) AS boolean, fraiseql_wire.as_text(v) AS text
  FROM unnest(ARRAY['"2024-02-29"', '"2024-13-01"', '" 2024-01-01"', '"1e5"', '"1e100000"',
                    '"NaN"', '"yes"', '1.50', 'true', 'null', '[1]', '{"a": 1}']::jsonb[]) AS v;
SELECT fraiseql_wire.as_timestamptz('"2024-01-01T00:00:00.123456-05:30"') AS tz_offset,
       fraiseql_wire.as_timestamptz('"2024-01-01 00:00"') AS tz_utc_default,
       fraiseql_wire.as_timestamp('"2024-01-01T23:59:59Z"') AS ts_offset_ignored,
       fraiseql_wire.as_timestamp('"2024-01-01T24:00:00"') AS ts_bad_hour,
       fraiseql_wire.as_uuid('"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"') AS uuid_braces;

-- A NULL document or filter gives NULL, never a match; json documents work
-- like their jsonb form.
SELECT fraiseql_wire.matches(NULL::jsonb, '{}') AS null_doc,
       fraiseql_wire.matches('{}'::jsonb, NULL) AS null_filter,
       fraiseql_wire.matches('{"a": 1, "a": 2}'::json, '{"a": {"eq": 2}}') AS json_last_key_wins,
       fraiseql_wire.matches('{"a": "x"}'::json, '{"a": {"eq": "x"}}') AS json_doc;

-- The parsed filter is cached per query but a filter that changes from row
-- to row is parsed again.
SELECT d.data, f.f, fraiseql_wire.matches(d.data, f.f)
  FROM (VALUES (1, '{"v": 1}'::jsonb), (2, '{"v": 2}')) AS d(i, data),
       (VALUES (1, '{"v": {"eq": 1}}'::jsonb), (2, '{"v": {"eq": 2}}')) AS f(i, f)
 ORDER BY d.i, f.i;

RESET search_path;
RESET TimeZone;
RESET DateStyle;
