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

-- The tv_ trigger function is SECURITY DEFINER and runs code that the
-- source's owner controls (here a json cast of the owner's enum type).  It
-- belongs to the source's owner, whoever calls create_table_view, so that
-- the owner cannot run code as the caller (a superuser here): the cast sees
-- the owner as current_user.  A caller who is not (a member of) the owner
-- is refused, even with the TRIGGER privilege.
CREATE ROLE regress_fw_hard_owner;
CREATE ROLE regress_fw_hard_other;
CREATE SCHEMA views_hard_app AUTHORIZATION regress_fw_hard_owner;
GRANT USAGE, CREATE ON SCHEMA views_hard_app TO regress_fw_hard_other;
SET ROLE regress_fw_hard_owner;
CREATE TYPE views_hard_app.mood AS ENUM ('calm');
CREATE FUNCTION views_hard_app.mood_json(views_hard_app.mood) RETURNS json
  LANGUAGE sql AS $$ SELECT pg_catalog.to_json(current_user::text) $$;
CREATE CAST (views_hard_app.mood AS json) WITH FUNCTION views_hard_app.mood_json(views_hard_app.mood);
CREATE TABLE views_hard_app.feeling (id int PRIMARY KEY, mood views_hard_app.mood);
GRANT SELECT, TRIGGER ON views_hard_app.feeling TO regress_fw_hard_other;
RESET ROLE;
SELECT fraiseql_wire.create_table_view('feeling', 'views_hard_app.feeling');
SELECT c.relname, c.relowner::regrole FROM pg_class c
 WHERE c.relname = 'tv_feeling' AND c.relnamespace = 'views_hard_app'::regnamespace;
SELECT proname, proowner::regrole, prosecdef FROM pg_proc
 WHERE proname = 'tv_feeling_sync' AND pronamespace = 'views_hard_app'::regnamespace;
SET ROLE regress_fw_hard_owner;
INSERT INTO views_hard_app.feeling VALUES (1, 'calm');
RESET ROLE;
SELECT id, data FROM views_hard_app.tv_feeling;
SET ROLE regress_fw_hard_other;
SELECT fraiseql_wire.create_table_view('feeling2', 'views_hard_app.feeling');
RESET ROLE;
SELECT fraiseql_wire.drop_view('feeling', schema => 'views_hard_app');
DROP SCHEMA views_hard_app CASCADE;
DROP ROLE regress_fw_hard_owner, regress_fw_hard_other;

-- Renaming or dropping a document column of a tv_ source is refused
-- (object_in_use): a rename swap would otherwise fill each key with the other
-- column, silently.  Other changes (a new column, renaming the table) pass.
CREATE TABLE pair (id int PRIMARY KEY, a text, b text);
SELECT fraiseql_wire.create_table_view('pair', 'pair');
INSERT INTO pair VALUES (1, 'from a', 'from b');
ALTER TABLE pair RENAME COLUMN a TO tmp;
ALTER TABLE pair DROP COLUMN b;
ALTER TABLE pair ADD COLUMN c int;
ALTER TABLE pair RENAME TO pair2;
ALTER TABLE pair2 RENAME COLUMN c TO d;
INSERT INTO pair2 VALUES (2, 'from a', 'from b', 4);
SELECT id, data FROM tv_pair ORDER BY id;
-- A v_ view alone follows its source by column number: renames pass.
SELECT fraiseql_wire.drop_view('pair', 'table');
SELECT fraiseql_wire.create_view('pair', 'pair2');
ALTER TABLE pair2 RENAME COLUMN a TO aa;
SELECT id, data FROM v_pair ORDER BY id;

-- A role may not register a tv_ for a source it does not own (the registry
-- is writable by everyone, for their own relations): such a row would block
-- the source owner's ALTER TABLE above.
CREATE ROLE regress_fw_hard_squatter;
GRANT USAGE, CREATE ON SCHEMA views_hard TO regress_fw_hard_squatter;
CREATE TABLE victim (id int PRIMARY KEY, secret text);
SET ROLE regress_fw_hard_squatter;
CREATE TABLE views_hard.squat (id int PRIMARY KEY, data jsonb);
INSERT INTO fraiseql_wire.registry (entity, kind, relation, source, format, columns, camel_case, gin_index)
  VALUES ('squat', 'table', 'views_hard.squat', 'views_hard.victim', 'jsonb', '{secret}', false, false);
RESET ROLE;
ALTER TABLE victim RENAME COLUMN secret TO hidden;
SELECT entity, kind FROM fraiseql_wire.entities() WHERE entity = 'squat';
DROP TABLE squat;
REVOKE ALL ON SCHEMA views_hard FROM regress_fw_hard_squatter;
DROP ROLE regress_fw_hard_squatter;

-- Row-level security of the source still applies through v_: a plain view
-- would read as its owner, who is exempt from the policies, and hand every
-- row to whoever may read v_.  Over a source with row security, v_ is
-- security_invoker (the reader needs SELECT on the source, and its
-- policies apply).
CREATE ROLE regress_fw_hard_tenant1;
CREATE TABLE tenant_doc (id int PRIMARY KEY, tenant name, body text);
ALTER TABLE tenant_doc ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON tenant_doc USING (tenant = current_user);
INSERT INTO tenant_doc VALUES (1, 'regress_fw_hard_tenant1', 'mine'), (2, 'someone_else', 'theirs');
SELECT fraiseql_wire.create_view('tenant_doc', 'tenant_doc');
SELECT reloptions FROM pg_class WHERE oid = 'v_tenant_doc'::regclass;
GRANT USAGE ON SCHEMA views_hard TO regress_fw_hard_tenant1;
GRANT SELECT ON v_tenant_doc, tenant_doc TO regress_fw_hard_tenant1;
SET ROLE regress_fw_hard_tenant1;
SELECT id, data FROM views_hard.v_tenant_doc ORDER BY id;
RESET ROLE;
SELECT fraiseql_wire.drop_view('tenant_doc');
DROP TABLE tenant_doc;
REVOKE ALL ON SCHEMA views_hard FROM regress_fw_hard_tenant1;
DROP ROLE regress_fw_hard_tenant1;

-- Handing a source over (ALTER TABLE ... OWNER TO) hands its tv_ table and
-- the SECURITY DEFINER trigger function over too: otherwise the new owner
-- could run code (column output functions, json casts) as the old one.
CREATE ROLE regress_fw_hard_heir;
GRANT USAGE ON SCHEMA views_hard TO regress_fw_hard_heir;
CREATE TABLE estate (id int PRIMARY KEY, v text);
SELECT fraiseql_wire.create_table_view('estate', 'estate');
ALTER TABLE estate OWNER TO regress_fw_hard_heir;
SELECT c.relname, c.relowner::regrole FROM pg_class c
 WHERE c.relname IN ('estate', 'tv_estate') AND c.relnamespace = 'views_hard'::regnamespace ORDER BY 1;
SELECT proname, proowner::regrole FROM pg_proc WHERE proname = 'tv_estate_sync';
SET ROLE regress_fw_hard_heir;
INSERT INTO views_hard.estate VALUES (1, 'kept in step');
RESET ROLE;
SELECT id, data FROM tv_estate;
SELECT fraiseql_wire.drop_view('estate', schema => 'views_hard');
DROP TABLE estate;
REVOKE ALL ON SCHEMA views_hard FROM regress_fw_hard_heir;
DROP ROLE regress_fw_hard_heir;
