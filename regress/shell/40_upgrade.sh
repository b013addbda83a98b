#!/usr/bin/env bash
# 40_upgrade.sh — ALTER EXTENSION fraiseql_wire UPDATE from every released
# version gives what a fresh install of the current version gives
# (docs/versioning.md).  For each frozen install script
# extension/sql/fraiseql_wire--A.sql:
#   * a database made under A (CREATE EXTENSION ... VERSION 'A', v_ views and
#     tv_ tables of a superuser and of an ordinary owner, json and jsonb) is
#     updated to default_version;
#   * its extension objects are compared with a fresh install's, property by
#     property (pg_proc definitions, owners, privileges, comments; the
#     registry's columns, constraints, indexes and triggers; event triggers;
#     extension membership; pg_depend; pg_init_privs): any difference fails;
#   * the entities made under A are compared with the same entities made
#     fresh (trigger functions, triggers, tv_ tables, registry rows,
#     dependencies on the extension, documents), and keep working;
#   * the pg_regress suite (regress/sql, all but 00_install, which makes its
#     own extension) runs against a database whose extension was created at
#     A and updated.
# Runs against the server named by PG* (see scripts/check.sh), as a
# superuser; creates and drops its own databases and role.  TAP output.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)
pg_regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
current=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$root/fraiseql_wire.control")
tag="$$_$(date +%s)_${RANDOM}"
owner="fw_upg_owner_$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/fw_upgrade.XXXXXX")
dbs=()

cleanup() {
    local d
    for d in "${dbs[@]}"; do
        "$bindir/dropdb" --if-exists "$d" >/dev/null 2>&1
    done
    "$bindir/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $owner" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/tap.sh
. "$root/scripts/tap.sh"
q() {       # q DB SQL: run SQL, unaligned tuples only
    "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
qf() {      # qf DB FILE > OUT
    "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -f "$2"
}
same() {    # same FILE_A FILE_B: equal and not empty (the diff on failure)
    [ -s "$1" ] || { echo "$1 is empty"; return 1; }
    diff -u "$1" "$2"
}
newdb() {   # newdb NAME: a database dropped on exit
    dbs+=("$1")
    "$bindir/createdb" "$1"
}

# ------------------------------------------------------------------ catalog

# Every property of the extension's objects, one line each, without OIDs.
cat >"$work/extension.sql" <<'SQL'
WITH ext AS (SELECT e.oid FROM pg_extension e WHERE e.extname = 'fraiseql_wire'),
members AS (
  SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
nsp AS (SELECT 'fraiseql_wire'::regnamespace::oid AS oid),
rels AS (SELECT c.oid FROM pg_class c, nsp WHERE c.relnamespace = nsp.oid),
lines(line) AS (
  SELECT format('member %s', pg_describe_object(m.classid, m.objid, m.objsubid)) FROM members m
  UNION ALL
  SELECT format('extension %s relocatable=%s schema=%s config=%s condition=%s',
                e.extname, e.extrelocatable, e.extnamespace::regnamespace,
                e.extconfig::regclass[], e.extcondition)
    FROM pg_extension e, ext WHERE e.oid = ext.oid
  UNION ALL
  SELECT format('schema %s owner=%s acl=%s comment=%s', n.nspname, n.nspowner::regrole, n.nspacl,
                obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace n, nsp WHERE n.oid = nsp.oid
  UNION ALL
  SELECT format(E'function %s owner=%s acl=%s comment=%s cost=%s rows=%s leakproof=%s\n%s',
                p.oid::regprocedure, p.proowner::regrole, p.proacl, obj_description(p.oid, 'pg_proc'),
                p.procost, p.prorows, p.proleakproof, pg_get_functiondef(p.oid))
    FROM pg_proc p, nsp WHERE p.pronamespace = nsp.oid
  UNION ALL
  SELECT format('relation %s kind=%s owner=%s persistence=%s rowsecurity=%s acl=%s options=%s comment=%s%s',
                c.oid::regclass, c.relkind, c.relowner::regrole, c.relpersistence, c.relrowsecurity,
                c.relacl, c.reloptions, obj_description(c.oid, 'pg_class'),
                CASE WHEN c.relkind = 'v' THEN E'\n' || pg_get_viewdef(c.oid) END)
    FROM pg_class c JOIN rels USING (oid)
  UNION ALL
  SELECT format('column %s.%I #%s %s notnull=%s collation=%s default=%s acl=%s comment=%s',
                a.attrelid::regclass, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
                a.attnotnull, (SELECT collname FROM pg_collation WHERE oid = a.attcollation),
                pg_get_expr(ad.adbin, ad.adrelid), a.attacl, col_description(a.attrelid, a.attnum))
    FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('constraint %s %I %s comment=%s', co.conrelid::regclass, co.conname,
                pg_get_constraintdef(co.oid), obj_description(co.oid, 'pg_constraint'))
    FROM pg_constraint co JOIN rels r ON r.oid = co.conrelid
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN rels r ON r.oid = i.indrelid
  UNION ALL
  SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('event trigger %I on %s %s tags=%s enabled=%s owner=%s', et.evtname, et.evtevent,
                et.evtfoid::regprocedure, et.evttags, et.evtenabled, et.evtowner::regrole)
    FROM pg_event_trigger et JOIN members m
      ON m.classid = 'pg_event_trigger'::regclass AND m.objid = et.oid
  UNION ALL
  SELECT format('type %s %s', t.oid::regtype, t.typtype)
    FROM pg_type t, nsp WHERE t.typnamespace = nsp.oid
  UNION ALL
  SELECT format('init privs %s %s %s', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
                ip.privtype, ip.initprivs)
    FROM pg_init_privs ip
   WHERE (ip.classoid, ip.objoid) IN (SELECT m.classid, m.objid FROM members m)
      OR ip.objoid IN (SELECT oid FROM rels)
  UNION ALL
  -- What the extension's objects depend on, and what depends on them inside
  -- the extension (constraints, indexes, triggers, defaults, row types).
  -- The dependencies of entities on the extension are compared below.
  SELECT format('depend %s -> %s %s', pg_describe_object(d.classid, d.objid, d.objsubid),
                pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), d.deptype)
    FROM pg_depend d
   WHERE (d.classid, d.objid) IN (SELECT m.classid, m.objid FROM members m)
      OR ((d.refclassid, d.refobjid) IN (SELECT m.classid, m.objid FROM members m)
          AND d.deptype <> 'n')
)
SELECT l FROM (SELECT regexp_replace(line, 'pg_toast_[0-9]+', 'pg_toast_N', 'g') AS l FROM lines) x
 ORDER BY l COLLATE "C";
SQL

# The entities' objects in the schemas shop and acct (not in legacy, whose
# json v_ view keeps the definition it was made with, see below).
cat >"$work/entities.sql" <<'SQL'
WITH nsps AS (SELECT oid FROM pg_namespace WHERE nspname IN ('shop', 'acct')),
lines(line) AS (
  SELECT format(E'function %s owner=%s acl=%s comment=%s\n%s', p.oid::regprocedure,
                p.proowner::regrole, p.proacl, obj_description(p.oid, 'pg_proc'),
                pg_get_functiondef(p.oid))
    FROM pg_proc p JOIN nsps ON nsps.oid = p.pronamespace
  UNION ALL
  SELECT format('relation %s kind=%s owner=%s acl=%s options=%s comment=%s%s',
                c.oid::regclass, c.relkind, c.relowner::regrole, c.relacl, c.reloptions,
                obj_description(c.oid, 'pg_class'),
                CASE WHEN c.relkind = 'v' THEN E'\n' || pg_get_viewdef(c.oid) END)
    FROM pg_class c JOIN nsps ON nsps.oid = c.relnamespace
  UNION ALL
  SELECT format('column %s.%I #%s %s notnull=%s', a.attrelid::regclass, a.attname, a.attnum,
                format_type(a.atttypid, a.atttypmod), a.attnotnull)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN nsps ON nsps.oid = c.relnamespace
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v')
  UNION ALL
  SELECT format('constraint %s %I %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid))
    FROM pg_constraint co JOIN nsps ON nsps.oid = co.connamespace
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN nsps ON nsps.oid = c.relnamespace
  UNION ALL
  SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN nsps ON nsps.oid = c.relnamespace
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('registry %s %s %s source=%s format=%s columns=%s camel_case=%s gin_index=%s',
                r.entity, r.kind, r.relation, r.source, r.format, r.columns, r.camel_case, r.gin_index)
    FROM fraiseql_wire.registry r
  UNION ALL
  SELECT format('depends on the extension: %s %s', pg_describe_object(d.classid, d.objid, d.objsubid), d.deptype)
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
   WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'fraiseql_wire' AND d.deptype <> 'e'
  UNION ALL
  SELECT format('init privs %s', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid))
    FROM pg_init_privs ip
   WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = ip.classoid AND d.objid = ip.objoid
                                                AND d.deptype = 'e')
     AND ip.classoid IN ('pg_proc'::regclass, 'pg_class'::regclass)
     AND ip.objoid >= 16384
)
SELECT line FROM lines ORDER BY line COLLATE "C";
SQL

# Every document, as jsonb, of every relation of the workload.
documents_sql="SELECT r, d FROM (
                 SELECT 'shop.v_orders' AS r, data::jsonb::text AS d FROM shop.v_orders
                 UNION ALL SELECT 'shop.tv_orders', data::jsonb::text FROM shop.tv_orders
                 UNION ALL SELECT 'shop.tv_items', data::jsonb::text FROM shop.tv_items
                 UNION ALL SELECT 'acct.tv_acct', data::jsonb::text FROM acct.tv_acct
                 UNION ALL SELECT 'legacy.v_notes', data::jsonb::text FROM legacy.v_notes) x
               ORDER BY 1, 2"

# The workload: entities of every kind, made the same way under any version.
workload() {    # workload DB
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, note text, total numeric(10,2), paid boolean,
                          created_at timestamptz, tags text[], meta jsonb);
INSERT INTO shop.orders
SELECT i, 'note ' || i, i * 1.25, i % 2 = 0, timestamptz '2024-03-01 12:00:00+02' + i * interval '1 hour',
       ARRAY['a', 'b' || i], jsonb_build_object('n', i)
  FROM generate_series(1, 40) i;
SELECT fraiseql_wire.create_view('orders', 'shop.orders', camel_case => true);
SELECT fraiseql_wire.create_table_view('orders');
GRANT SELECT ON shop.tv_orders TO $owner;
-- json documents, a composite key, no GIN index.
CREATE TABLE shop.items (sku text, n int, qty int, created_at timestamptz, PRIMARY KEY (sku, n));
INSERT INTO shop.items SELECT 'sku' || (i % 5), i, i * 3, timestamptz '2024-01-01 10:00+02' + i * interval '1 day'
  FROM generate_series(1, 30) i;
SELECT fraiseql_wire.create_table_view('items', 'shop.items', format => 'json', camel_case => true,
                                       gin_index => false);
-- A json v_ view: it keeps the renderer it was made with (compared by documents).
CREATE SCHEMA legacy;
CREATE TABLE legacy.notes (id int PRIMARY KEY, body text, at timestamptz);
INSERT INTO legacy.notes SELECT i, 'body ' || i, timestamptz '2024-05-05 05:05+00' FROM generate_series(1, 10) i;
SELECT fraiseql_wire.create_view('notes', 'legacy.notes', format => 'json');
-- An ordinary owner's entity in its own schema.
CREATE SCHEMA acct AUTHORIZATION $owner;
SET ROLE $owner;
CREATE TABLE acct.acct (id bigint PRIMARY KEY, balance numeric);
INSERT INTO acct.acct SELECT i, i * 10 FROM generate_series(1, 20) i;
SELECT fraiseql_wire.create_table_view('acct', 'acct.acct');
RESET ROLE;
SQL
}

# Writes to every source, after the update (and in the fresh database).
writes() {      # writes DB
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
INSERT INTO shop.orders VALUES (100, 'after', 9.99, true, '2024-06-01 00:00+00', '{x}', '{"late": true}');
UPDATE shop.orders SET note = note || '!' WHERE id % 3 = 0;
DELETE FROM shop.orders WHERE id BETWEEN 11 AND 15;
INSERT INTO shop.items VALUES ('new', 1, 7, '2024-07-01 00:00+00');
UPDATE shop.items SET qty = qty + 1 WHERE n <= 5;
SET ROLE $owner;
INSERT INTO acct.acct VALUES (100, 1000);
DELETE FROM acct.acct WHERE id = 1;
RESET ROLE;
SQL
}

fails_with() {  # fails_with DB SQL TEXT: the statement fails and says TEXT
    local out
    if out=$(q "$1" "$2" 2>&1); then
        echo "succeeded: $out"
        return 1
    fi
    grep -qF -- "$3" <<<"$out" || { echo "$out"; return 1; }
}

ok "a role for the ordinary owner's entities" q postgres "CREATE ROLE $owner"

released=$(cd "$root/extension/sql" && ls fraiseql_wire--*.sql 2>/dev/null |
           sed -n 's/^fraiseql_wire--\([0-9][0-9.]*\)\.sql$/\1/p' | sort -V)
ok "at least one released version has a frozen install script" test -n "$released"

for from in $released; do
    v=${from//./_}
    fresh="fw_upg_fresh_${v}_$tag"
    upg="fw_upg_${v}_$tag"
    odd="fw_upg_odd_${v}_$tag"
    reg="fw_upg_regress_${v}_$tag"

    fresh_setup() {
        newdb "$fresh" &&
        q "$fresh" "CREATE EXTENSION fraiseql_wire" &&
        workload "$fresh" &&
        qf "$fresh" "$work/extension.sql" >"$work/fresh.extension" &&
        qf "$fresh" "$work/entities.sql" >"$work/fresh.entities" &&
        q "$fresh" "$documents_sql" >"$work/fresh.documents"
    }
    ok "$from: a fresh install of $current with the workload, for comparison" fresh_setup
    made() {
        newdb "$upg" &&
        q "$upg" "CREATE EXTENSION fraiseql_wire VERSION '$from'" &&
        workload "$upg"
    }
    ok "$from: CREATE EXTENSION VERSION '$from' and the same workload" made
    ok "$from: pg_dump -Fc of the $from database, before the update" \
        "$bindir/pg_dump" -Fc -f "$work/dump" "$upg"
    update() {
        q "$upg" "ALTER EXTENSION fraiseql_wire UPDATE" >"$work/update.log" 2>&1
        local rc=$?
        cat "$work/update.log"
        [ "$rc" -eq 0 ] && ! grep -q WARNING "$work/update.log"
    }
    ok "$from: ALTER EXTENSION fraiseql_wire UPDATE (to $current), without a warning" update
    ok "$from: updated to $current; the module and the script agree" \
        is "$(q "$upg" "SELECT extversion || ' ' || (fraiseql_wire.version() = extversion)
                          FROM pg_extension WHERE extname = 'fraiseql_wire'")" "$current true"

    qf "$upg" "$work/extension.sql" >"$work/upg.extension" 2>&1
    ok "$from: the extension's objects are those of a fresh $current install" \
        same "$work/upg.extension" "$work/fresh.extension"
    qf "$upg" "$work/entities.sql" >"$work/upg.entities" 2>&1
    ok "$from: the entities made under $from are those made fresh (trigger functions, triggers, tv_ tables, registry, dependencies)" \
        same "$work/upg.entities" "$work/fresh.entities"
    q "$upg" "$documents_sql" >"$work/upg.documents" 2>&1
    ok "$from: the same documents" same "$work/upg.documents" "$work/fresh.documents"

    # A dump made under A, restored where A was created first, then updated
    # (docs/versioning.md, "Dumps across versions").
    rst="fw_upg_restored_${v}_$tag"
    restore() {
        newdb "$rst" &&
        q "$rst" "CREATE EXTENSION fraiseql_wire VERSION '$from'" &&
        "$bindir/pg_restore" -l "$work/dump" | grep -v -E ' (SCHEMA|EXTENSION) - fraiseql_wire ' >"$work/dump.list" &&
        "$bindir/pg_restore" --exit-on-error -L "$work/dump.list" -d "$rst" "$work/dump" &&
        q "$rst" "ALTER EXTENSION fraiseql_wire UPDATE"
    }
    ok "$from: that dump restored into a database made at $from, then updated" restore
    qf "$rst" "$work/entities.sql" >"$work/rst.entities" 2>&1
    ok "$from: ... has the entities made fresh" same "$work/rst.entities" "$work/fresh.entities"

    ok "$from: the sources are written to after the update" writes "$upg"
    ok "$from: (the fresh database gets the same writes)" writes "$fresh"
    q "$upg" "$documents_sql" >"$work/upg.documents2" 2>&1
    q "$fresh" "$documents_sql" >"$work/fresh.documents2" 2>&1
    ok "$from: the updated tv_ tables followed the writes as the fresh ones did" \
        same "$work/upg.documents2" "$work/fresh.documents2"
    items_sql="SELECT data FROM shop.tv_items WHERE n <= 5 OR sku = 'new' ORDER BY sku, n"
    q "$upg" "$items_sql" >"$work/upg.items" 2>&1
    q "$fresh" "$items_sql" >"$work/fresh.items" 2>&1
    ok "$from: json rows written after the update are rendered as in a fresh install (exact text)" \
        same "$work/upg.items" "$work/fresh.items"
    ok "$from: refresh_table_view of the ordinary owner's tv_ table, as that owner" \
        q "$upg" "SET ROLE $owner; SELECT fraiseql_wire.refresh_table_view('acct')"
    ok "$from: plain DROP EXTENSION is refused while entities made under $from exist" \
        fails_with "$upg" "DROP EXTENSION fraiseql_wire" \
        "cannot drop extension fraiseql_wire because other objects depend on it"
    ok "$from: drop_view with a schema, of an entity made under $from" \
        is "$(q "$upg" "SELECT fraiseql_wire.drop_view('items', schema => 'shop')")" 1

    # What the update cannot vouch for is left alone, with a warning.
    odd_setup() {
        newdb "$odd" &&
        "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$odd" <<SQL
CREATE EXTENSION fraiseql_wire VERSION '$from';
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT fraiseql_wire.create_table_view('t', 't');
CREATE TABLE u (id int PRIMARY KEY, v text);
SELECT fraiseql_wire.create_table_view('u', 'u');
-- Changed by hand after it was made.
CREATE OR REPLACE FUNCTION public.tv_t_sync() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS \$\$BEGIN RETURN NULL; END\$\$;
REVOKE EXECUTE ON FUNCTION fraiseql_wire.drop_view(text, text) FROM PUBLIC;
SQL
    }
    ok "$from: a database with a trigger function changed by hand and a REVOKE on drop_view" odd_setup
    q "$odd" "ALTER EXTENSION fraiseql_wire UPDATE" >"$work/odd.log" 2>&1
    sed 's/^/# /' "$work/odd.log"
    ok "$from: the update of that database warns twice" is "$(grep -c WARNING "$work/odd.log")" 2
    ok "$from: ... about the trigger function changed by hand" \
        grep -F 'trigger function public.tv_t_sync() of tv_ table public.tv_t is not the one fraiseql_wire 0.1.0 made' "$work/odd.log"
    ok "$from: ... and about the privileges on drop_view" \
        grep -F 'the privileges on fraiseql_wire.drop_view(text, text) do not carry over to its new signature' "$work/odd.log"
    ok "$from: the function changed by hand is left as it is; the other one is rewritten" \
        is "$(q "$odd" "SELECT string_agg(proname || ':' || (prosrc LIKE '%_restrict_security()%'), ' ' ORDER BY proname)
                          FROM pg_proc WHERE proname IN ('tv_t_sync', 'tv_u_sync')")" "tv_t_sync:false tv_u_sync:true"
    ok "$from: ... and both tv_ tables and their functions depend on the extension" \
        is "$(q "$odd" "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                          WHERE e.extname = 'fraiseql_wire' AND d.deptype = 'n'")" 4

    # pg_regress against the updated extension.  pg_regress makes its
    # database from template0 and sets these; with --use-existing we do.
    regress_db() {
        newdb "$reg" &&
        "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$reg" <<SQL
ALTER DATABASE "$reg" SET lc_messages TO 'C';
ALTER DATABASE "$reg" SET lc_monetary TO 'C';
ALTER DATABASE "$reg" SET lc_numeric TO 'C';
ALTER DATABASE "$reg" SET lc_time TO 'C';
ALTER DATABASE "$reg" SET bytea_output TO 'hex';
ALTER DATABASE "$reg" SET timezone_abbreviations TO 'Default';
CREATE EXTENSION fraiseql_wire VERSION '$from';
ALTER EXTENSION fraiseql_wire UPDATE;
SQL
    }
    ok "$from: a regress database with the extension created at $from and updated" regress_db
    tests=$(cd "$root/regress/sql" && ls ./*.sql | sed 's|^\./||; s|\.sql$||' | grep -v '^00_install$' | sort)
    outdir="$root/build/regress-upgrade-$from"
    rm -rf "$outdir" && mkdir -p "$outdir"
    run_regress() {
        # shellcheck disable=SC2086
        "$pg_regress" --use-existing --dbname="$reg" --bindir="$bindir" \
            --inputdir="$root/regress" --outputdir="$outdir" $tests >"$outdir/pg_regress.log" 2>&1
        local rc=$?
        tail -n 3 "$outdir/pg_regress.log"
        [ -f "$outdir/regression.diffs" ] && head -n 60 "$outdir/regression.diffs"
        [ "$rc" -eq 0 ] && grep -q 'All [0-9]* tests passed' "$outdir/pg_regress.log"
    }
    ok "$from: pg_regress (all but 00_install) against the extension updated from $from" run_regress
done

plan
