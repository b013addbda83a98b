-- Ordinary roles: owners make entities of their own tables, writers of a
-- source keep its tv_ table in step without privileges on it, others can
-- neither register nor unregister what they do not own.  The caller's
-- search_path changes nothing.
SET search_path = public;
\set SHOW_CONTEXT never

CREATE ROLE regress_fw_owner;
CREATE ROLE regress_fw_writer;
CREATE ROLE regress_fw_other;
CREATE SCHEMA fw_app AUTHORIZATION regress_fw_owner;
GRANT USAGE ON SCHEMA fw_app TO regress_fw_writer, regress_fw_other;

-- A hostile schema: functions and an operator that would shadow the built-in ones.
CREATE SCHEMA evil;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
CREATE FUNCTION evil.jsonb_build_object(text, int, text, text, text, numeric) RETURNS jsonb
  LANGUAGE sql AS $$ SELECT '"evil"'::jsonb $$;
CREATE FUNCTION evil.quote_ident(text) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE FUNCTION evil.format(text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'SELECT 1' $$;
CREATE FUNCTION evil.int_eq(int, int) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.int_eq);

SET ROLE regress_fw_owner;
SET search_path = evil, pg_catalog, fw_app;
CREATE TABLE fw_app.account (id int PRIMARY KEY, name text, balance numeric);
INSERT INTO fw_app.account VALUES (1, 'alice', 10), (2, 'bob', 20);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON fw_app.account TO regress_fw_writer;
SELECT fraiseql_wire.create_view('account', 'fw_app.account');
SELECT fraiseql_wire.create_table_view('account');
SELECT pg_get_viewdef('fw_app.v_account'::regclass, true) LIKE '%jsonb_build_object(''id''::text%' AS built_in_function_used;
SELECT id, data FROM fw_app.tv_account ORDER BY id;
SELECT relname, relowner::regrole FROM pg_class WHERE relname IN ('v_account', 'tv_account') ORDER BY 1;
SELECT proname, proowner::regrole, prosecdef, proacl FROM pg_proc WHERE proname = 'tv_account_sync';
RESET ROLE;

-- The writer changes the source (a hostile search_path too) and cannot
-- read or write tv_ directly, yet tv_ follows.
SET ROLE regress_fw_writer;
SET search_path = evil, pg_catalog;
INSERT INTO fw_app.account VALUES (3, 'carol', 30);
-- (evil.= would match every row: the writer's own statements say which = they mean)
UPDATE fw_app.account SET balance = balance + 1, id = 20 WHERE id OPERATOR(pg_catalog.=) 2;
DELETE FROM fw_app.account WHERE id OPERATOR(pg_catalog.=) 1;
SELECT count(*) FROM fw_app.tv_account;
DELETE FROM fw_app.tv_account;
RESET ROLE;
SET search_path = public;
SELECT id, data FROM fw_app.tv_account ORDER BY id;
SET ROLE regress_fw_writer;
TRUNCATE fw_app.account;
RESET ROLE;
SELECT count(*) AS after_truncate FROM fw_app.tv_account;
INSERT INTO fw_app.account VALUES (1, 'alice', 10);

-- Someone else can neither drop nor register the owner's entities, nor
-- remove their registrations.
SET ROLE regress_fw_other;
SELECT fraiseql_wire.drop_view('account', schema => 'fw_app');
INSERT INTO fraiseql_wire.registry (entity, kind, relation, source, format, columns, camel_case)
  VALUES ('hijack', 'view', 'fw_app.v_account', 'fw_app.account', 'jsonb', '{id}', false);
DELETE FROM fraiseql_wire.registry WHERE entity = 'account';
UPDATE fraiseql_wire.registry SET format = 'json';
SELECT fraiseql_wire.create_view('stolen', 'fw_app.account');
SELECT fraiseql_wire.refresh_table_view('account', 'fw_app');
SELECT entity, kind FROM fraiseql_wire.entities() WHERE entity IN ('account', 'hijack', 'stolen') ORDER BY 1, 2;
RESET ROLE;

-- The owner refreshes and drops their own.
SET ROLE regress_fw_owner;
SELECT fraiseql_wire.refresh_table_view('account');
SELECT fraiseql_wire.drop_view('account');
SELECT count(*) AS left_over FROM pg_class WHERE relname ~ '^t?v_account';
RESET ROLE;

DROP SCHEMA fw_app CASCADE;
DROP SCHEMA evil CASCADE;
DROP ROLE regress_fw_owner, regress_fw_writer, regress_fw_other;
