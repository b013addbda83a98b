-- Security of the tv_ helpers (docs/extension.md, Security), with two
-- roles: the superuser running this file (the admin) and a hostile
-- non-superuser who owns a source.  The owner controls code that runs when
-- documents are built (a cast of a column type to json, triggers on the
-- tv_ table); that code must run as the owner, never as the admin who
-- calls create_table_view/refresh_table_view or writes to the source.
SET search_path = public;
\set SHOW_CONTEXT never

CREATE ROLE regress_fw_sec_hostile;
CREATE ROLE regress_fw_sec_bystander;
CREATE SCHEMA sec_h AUTHORIZATION regress_fw_sec_hostile;
GRANT USAGE ON SCHEMA sec_h TO regress_fw_sec_bystander;

SET ROLE regress_fw_sec_hostile;
-- What the hostile code tries, and what became of each attempt.
CREATE TABLE sec_h.attempts (n serial, who name, what text, outcome text);
CREATE FUNCTION sec_h.escalate(via text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  what text;
BEGIN
  FOREACH what IN ARRAY ARRAY['ALTER ROLE regress_fw_sec_hostile SUPERUSER',
                              'RESET ROLE',
                              'CREATE TEMPORARY TABLE planted (x int)',
                              'SELECT fraiseql_wire._end_restricted(0)'] LOOP
    BEGIN
      EXECUTE what;
      INSERT INTO sec_h.attempts (who, what, outcome) VALUES (current_user, via || ': ' || what, 'succeeded');
      IF what LIKE 'CREATE TEMP%' THEN
        DROP TABLE pg_temp.planted;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO sec_h.attempts (who, what, outcome)
        VALUES (current_user, via || ': ' || what, SQLSTATE || ' ' || SQLERRM);
    END;
  END LOOP;
END
$$;
-- A cast to json of the owner's type: jsonb_build_object calls it for
-- every document.
CREATE TYPE sec_h.mood AS ENUM ('calm', 'angry');
CREATE FUNCTION sec_h.mood_json(m sec_h.mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
  IF m = 'angry' THEN
    PERFORM sec_h.escalate('cast');
  END IF;
  RETURN pg_catalog.to_json(m::text);
END
$$;
CREATE CAST (sec_h.mood AS json) WITH FUNCTION sec_h.mood_json(sec_h.mood);
CREATE TABLE sec_h.feeling (id int PRIMARY KEY, mood sec_h.mood);
INSERT INTO sec_h.feeling VALUES (1, 'calm'), (2, 'angry');
GRANT SELECT, INSERT, UPDATE, DELETE ON sec_h.feeling TO regress_fw_sec_bystander;
RESET ROLE;

-- 1. The admin creates the tv_ table: the fill runs the cast as the owner,
-- in a security-restricted operation (no SET ROLE, no temporary objects).
SELECT fraiseql_wire.create_table_view('feeling', 'sec_h.feeling');
SELECT who, what, outcome FROM sec_h.attempts ORDER BY n;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_fw_sec_hostile';
SELECT id, data FROM sec_h.tv_feeling ORDER BY id;
TRUNCATE sec_h.attempts;

-- 2. The owner puts a trigger on their own tv_ table; the admin refreshes.
-- The truncate and the fill run as the owner, restricted, too.
SET ROLE regress_fw_sec_hostile;
CREATE FUNCTION sec_h.on_tv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sec_h.escalate(TG_OP || ' trigger on tv_');
  RETURN NULL;
END
$$;
CREATE TRIGGER on_tv_ins AFTER INSERT ON sec_h.tv_feeling FOR EACH STATEMENT EXECUTE FUNCTION sec_h.on_tv();
CREATE TRIGGER on_tv_trn AFTER TRUNCATE ON sec_h.tv_feeling FOR EACH STATEMENT EXECUTE FUNCTION sec_h.on_tv();
UPDATE sec_h.feeling SET mood = 'calm';
TRUNCATE sec_h.attempts;
RESET ROLE;
SELECT fraiseql_wire.refresh_table_view('feeling', schema => 'sec_h');
SELECT who, what, outcome FROM sec_h.attempts ORDER BY n;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_fw_sec_hostile';
TRUNCATE sec_h.attempts;
-- The settings the hostile code may change are undone: the admin's session
-- keeps its own.
SET ROLE regress_fw_sec_hostile;
CREATE OR REPLACE FUNCTION sec_h.on_tv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'sec_h', false);
  PERFORM pg_catalog.set_config('work_mem', '64kB', false);
  RETURN NULL;
END
$$;
RESET ROLE;
SET work_mem = '4MB';
SELECT fraiseql_wire.refresh_table_view('feeling', schema => 'sec_h');
SHOW search_path;
SHOW work_mem;
RESET work_mem;

-- 3. The admin (and a bystander) write to the source: the trigger function
-- is SECURITY DEFINER owned by the source's owner, so the cast and the
-- triggers on tv_ run as the owner, never as the writer.
SET ROLE regress_fw_sec_hostile;
DROP TRIGGER on_tv_ins ON sec_h.tv_feeling;
DROP TRIGGER on_tv_trn ON sec_h.tv_feeling;
CREATE OR REPLACE FUNCTION sec_h.on_tv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sec_h.escalate(TG_OP || ' trigger on tv_');
  RETURN NULL;
END
$$;
CREATE TRIGGER on_tv_del AFTER DELETE ON sec_h.tv_feeling FOR EACH STATEMENT EXECUTE FUNCTION sec_h.on_tv();
RESET ROLE;
INSERT INTO sec_h.feeling VALUES (3, 'angry');
DELETE FROM sec_h.feeling WHERE id = 3;
SET ROLE regress_fw_sec_bystander;
INSERT INTO sec_h.feeling VALUES (4, 'angry');
RESET ROLE;
SELECT who, what, outcome FROM sec_h.attempts ORDER BY n;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_fw_sec_hostile';
SELECT proname, proowner::regrole, prosecdef FROM pg_proc WHERE oid = 'sec_h.tv_feeling_sync'::regproc;
TRUNCATE sec_h.attempts;
-- The restriction and any setting changed inside the trigger function end
-- with it: the writer's session is as it was.
SET ROLE regress_fw_sec_hostile;
CREATE OR REPLACE FUNCTION sec_h.on_tv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'sec_h', false);
  RETURN NULL;
END
$$;
RESET ROLE;
DELETE FROM sec_h.feeling WHERE id = 4;
SHOW search_path;
CREATE TEMPORARY TABLE admin_still_unrestricted (x int);
DROP TABLE admin_still_unrestricted;
SELECT id, data FROM sec_h.tv_feeling ORDER BY id;
-- Ending the trigger function's section early (its token guessed from one
-- of its own) and opening another does not let a setting out either: the
-- trigger function's section then ends out of order, and the statement
-- fails and rolls back.
SET ROLE regress_fw_sec_hostile;
CREATE OR REPLACE FUNCTION sec_h.on_tv() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  mine bigint := fraiseql_wire._restrict_security();
BEGIN
  PERFORM fraiseql_wire._end_restricted(mine);
  PERFORM fraiseql_wire._end_restricted(mine - 1);
  RAISE NOTICE 'the trigger function''s section was ended early';
  PERFORM pg_catalog.set_config('search_path', 'sec_h', false);
  PERFORM fraiseql_wire._restrict_security();
  RETURN NULL;
END
$$;
RESET ROLE;
DELETE FROM sec_h.feeling WHERE id = 2;
SHOW search_path;
SELECT count(*) AS rows_kept FROM sec_h.feeling;

-- 4. The fill is not a way to run SQL as somebody else: only the source's
-- owner (or a member, or a superuser) may fill, and only a registered tv_.
SET ROLE regress_fw_sec_bystander;
SELECT fraiseql_wire._fill_table_view('sec_h.tv_feeling', true);
SELECT fraiseql_wire.refresh_table_view('feeling', schema => 'sec_h');
RESET ROLE;
SELECT fraiseql_wire._fill_table_view('sec_h.feeling', false);
SELECT fraiseql_wire._fill_table_view(NULL, false);
-- The restriction helper works only inside a SECURITY DEFINER call, where
-- the function manager lifts it again.
SELECT fraiseql_wire._restrict_security();
SELECT count(*) AS attempts_by_bystander FROM sec_h.attempts;

-- 5. Entities are scoped by schema, and a name is never resolved across
-- owners.  The hostile role registers "ledger" and "squatted" first, in its
-- own schema; the admin's entities of those names are their own.
SET ROLE regress_fw_sec_hostile;
CREATE TABLE sec_h.ledger (id int PRIMARY KEY, mood sec_h.mood);
INSERT INTO sec_h.ledger VALUES (1, 'angry');
SELECT fraiseql_wire.create_view('ledger', 'sec_h.ledger');
SELECT fraiseql_wire.create_view('squatted', 'sec_h.ledger');
-- Nor can it register a relation under another entity's name.
INSERT INTO fraiseql_wire.registry (entity, kind, relation, source, format, columns, camel_case)
  VALUES ('ledger2', 'view', 'sec_h.v_ledger', 'sec_h.ledger', 'jsonb', '{id}', false);
RESET ROLE;
CREATE SCHEMA sec_app;
CREATE TABLE sec_app.ledger (id int PRIMARY KEY, amount numeric);
INSERT INTO sec_app.ledger VALUES (1, 10.5);
SELECT fraiseql_wire.create_view('ledger', 'sec_app.ledger');
-- Without a source: the admin's own v_ledger, not the hostile one.
SELECT fraiseql_wire.create_table_view('ledger');
SELECT id, data FROM sec_app.tv_ledger;
-- Only the hostile role has a v_squatted: nothing is taken from it.
SELECT fraiseql_wire.create_table_view('squatted');
SELECT entity, relation, kind, source FROM fraiseql_wire.entities()
 WHERE entity IN ('ledger', 'ledger2', 'squatted') ORDER BY relation::text;
SELECT who, what, outcome FROM sec_h.attempts ORDER BY n;
-- Refresh and drop find the admin's own; another role's needs its schema.
SELECT fraiseql_wire.refresh_table_view('ledger');
SELECT fraiseql_wire.drop_view('squatted');
SET ROLE regress_fw_sec_hostile;
SELECT fraiseql_wire.drop_view('ledger', 'table');
RESET ROLE;
-- A schema that is not the source's, or does not exist, is refused.
SELECT fraiseql_wire.create_table_view('ledger2', 'sec_app.ledger', schema => 'sec_h');
SELECT fraiseql_wire.refresh_table_view('ledger', 'sec_nowhere');
SELECT fraiseql_wire.refresh_table_view('ledger', 'sec_h');
-- The same entity twice in the caller's own schemas is ambiguous.
CREATE TABLE public.ledger (id int PRIMARY KEY);
SELECT fraiseql_wire.create_table_view('ledger', 'public.ledger');
SELECT fraiseql_wire.refresh_table_view('ledger');
SELECT fraiseql_wire.refresh_table_view('ledger', 'public');
SELECT fraiseql_wire.drop_view('ledger', schema => 'sec_app');
SELECT fraiseql_wire.drop_view('ledger');
DROP TABLE public.ledger;
DROP SCHEMA sec_app CASCADE;
SELECT entity, relation, kind FROM fraiseql_wire.entities()
 WHERE entity IN ('ledger', 'squatted') ORDER BY relation::text;
SET ROLE regress_fw_sec_hostile;
SELECT fraiseql_wire.drop_view('ledger') + fraiseql_wire.drop_view('squatted');
RESET ROLE;

SELECT fraiseql_wire.drop_view('feeling', schema => 'sec_h');
DROP SCHEMA sec_h CASCADE;
DROP ROLE regress_fw_sec_hostile, regress_fw_sec_bystander;
