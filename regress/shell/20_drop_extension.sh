#!/usr/bin/env bash
# 20_drop_extension.sh — DROP EXTENSION fraiseql_wire does not leave tv_
# trigger functions and triggers running on the sources: a registered tv_
# table and its trigger function depend on the extension (pg_depend 'n'),
# so a plain DROP EXTENSION is refused and DROP EXTENSION ... CASCADE takes
# them along.  The extension can then be created again and the entities
# made anew.  The dependencies are recorded again by pg_restore.  Runs
# against the server named by PG* (see scripts/check.sh); creates and drops
# its own databases and role.  TAP output.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)

bindir=$("${PG_CONFIG:-pg_config}" --bindir)
tag="$$_$(date +%s)_${RANDOM}"
db="fw_dropext_$tag"
dst="fw_dropext_dst_$tag"
owner="fw_dropext_owner_$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/fw_dropext.XXXXXX")

cleanup() {
    "$bindir/dropdb" --if-exists "$db" >/dev/null 2>&1
    "$bindir/dropdb" --if-exists "$dst" >/dev/null 2>&1
    "$bindir/psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $owner" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/tap.sh
. "$root/scripts/tap.sh"
q() {       # q DB SQL: run SQL, unaligned tuples only
    "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
fails_with() {  # fails_with DB SQL TEXT: the statement fails and says TEXT
    local out
    if out=$(q "$1" "$2" 2>&1); then
        echo "succeeded: $out"
        return 1
    fi
    grep -qF -- "$3" <<<"$out" || { echo "$out"; return 1; }
}

# What is left of the extension's work: tv_ tables, trigger functions,
# triggers on the sources, v_ views.
leftovers_sql="SELECT (SELECT count(*) FROM pg_class WHERE relname ~ '^tv_(orders|acct)$') || ' tables, '
                   || (SELECT count(*) FROM pg_proc WHERE proname ~ '^tv_(orders|acct)_sync$') || ' functions, '
                   || (SELECT count(*) FROM pg_trigger WHERE tgname ~ '^tv_(orders|acct)_') || ' triggers, '
                   || (SELECT count(*) FROM pg_class WHERE relname ~ '^v_(orders|acct)$') || ' views'"
depends_sql="SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
              WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'fraiseql_wire' AND d.deptype = 'n'"
# v_ and tv_ agree row for row (exact document text).
agree_sql="SELECT (SELECT count(*) FROM ((SELECT data::text FROM shop.v_orders EXCEPT ALL SELECT data::text FROM shop.tv_orders)
                                         UNION ALL
                                         (SELECT data::text FROM shop.tv_orders EXCEPT ALL SELECT data::text FROM shop.v_orders)) x)
                || ' ' || (SELECT count(*) FROM shop.tv_orders)"

setup() {
    "$bindir/createdb" "$db" &&
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE ROLE $owner;
CREATE EXTENSION fraiseql_wire;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, note text);
INSERT INTO shop.orders SELECT i, 'note ' || i FROM generate_series(1, 50) i;
SELECT fraiseql_wire.create_view('orders', 'shop.orders');
SELECT fraiseql_wire.create_table_view('orders');
-- A non-superuser owner's entity in its own schema.
CREATE SCHEMA acct AUTHORIZATION $owner;
SET ROLE $owner;
CREATE TABLE acct.acct (id int PRIMARY KEY, balance numeric);
INSERT INTO acct.acct VALUES (1, 10);
SELECT fraiseql_wire.create_table_view('acct', 'acct.acct');
RESET ROLE;
SQL
}
ok "a database with tv_ entities of a superuser and of an ordinary owner" setup
ok "each tv_ table and trigger function depends on the extension" \
    is "$(q "$db" "$depends_sql")" 4
ok "plain DROP EXTENSION is refused while tv_ tables exist" \
    fails_with "$db" "DROP EXTENSION fraiseql_wire" \
    "cannot drop extension fraiseql_wire because other objects depend on it"
ok "... and names the tv_ table, its function and the source's triggers" \
    fails_with "$db" "DROP EXTENSION fraiseql_wire" "trigger tv_orders_ins on table shop.orders depends on function shop.tv_orders_sync()"
ok "the refused DROP EXTENSION changed nothing" \
    is "$(q "$db" "$leftovers_sql")" "2 tables, 2 functions, 8 triggers, 1 views"
ok "DROP EXTENSION ... CASCADE" q "$db" "DROP EXTENSION fraiseql_wire CASCADE"
ok "no tv_ table, trigger function or trigger is left; the v_ view (plain SQL) stays" \
    is "$(q "$db" "$leftovers_sql")" "0 tables, 0 functions, 0 triggers, 1 views"
writes() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
INSERT INTO shop.orders VALUES (100, 'after drop');
UPDATE shop.orders SET note = 'changed' WHERE id <= 10;
DELETE FROM shop.orders WHERE id BETWEEN 11 AND 20;
SET ROLE $owner;
INSERT INTO acct.acct VALUES (2, 20);
TRUNCATE acct.acct;
SQL
}
ok "the sources are written to without the extension" writes

recreate() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE EXTENSION fraiseql_wire;
DROP VIEW shop.v_orders;
SELECT fraiseql_wire.create_view('orders', 'shop.orders');
SELECT fraiseql_wire.create_table_view('orders');
SET ROLE $owner;
SELECT fraiseql_wire.create_table_view('acct', 'acct.acct');
RESET ROLE;
INSERT INTO shop.orders VALUES (101, 're-created');
UPDATE shop.orders SET note = note || '!' WHERE id % 3 = 0;
DELETE FROM shop.orders WHERE id % 7 = 0;
SQL
}
ok "CREATE EXTENSION again, the entities made anew, the sources written" recreate
ok "the new tv_ table follows its source (v_ = tv_)" \
    is "$(q "$db" "$agree_sql")" "0 $(q "$db" "SELECT count(*) FROM shop.orders")"
ok "the new entities depend on the extension" is "$(q "$db" "$depends_sql")" 4

# pg_dump does not keep pg_depend rows of ordinary objects: pg_restore writes
# the registry (an extension configuration table) after the tables and
# functions it names, and its trigger records the dependencies again.
ok "pg_dump -Fc" "$bindir/pg_dump" -Fc -f "$work/dump" "$db"
restore() {
    "$bindir/createdb" "$dst" && "$bindir/pg_restore" --exit-on-error -d "$dst" "$work/dump"
}
ok "pg_restore into a new database" restore
ok "the restored tv_ tables and trigger functions depend on the extension" \
    is "$(q "$dst" "$depends_sql")" 4
ok "plain DROP EXTENSION is refused in the restored database" \
    fails_with "$dst" "DROP EXTENSION fraiseql_wire" \
    "cannot drop extension fraiseql_wire because other objects depend on it"
ok "DROP EXTENSION ... CASCADE in the restored database" q "$dst" "DROP EXTENSION fraiseql_wire CASCADE"
ok "nothing of the tv_ entities is left there" \
    is "$(q "$dst" "$leftovers_sql")" "0 tables, 0 functions, 0 triggers, 1 views"
ok "the restored sources are written to without the extension" \
    q "$dst" "INSERT INTO shop.orders VALUES (200, 'x'); INSERT INTO acct.acct VALUES (3, 3)"

# drop_view still works, and a plain DROP TABLE of a tv_ table still takes
# its triggers along (the extension's sql_drop event trigger).
ok "drop_view of the tv_ table" q "$db" "SELECT fraiseql_wire.drop_view('orders', 'table')"
ok "DROP TABLE of the ordinary owner's tv_ table" q "$db" "SET ROLE $owner; DROP TABLE acct.tv_acct"
ok "no dependency on the extension is left, nor any trigger" \
    is "$(q "$db" "$depends_sql"; q "$db" "$leftovers_sql")" "0
0 tables, 0 functions, 0 triggers, 1 views"
ok "plain DROP EXTENSION now succeeds" q "$db" "DROP EXTENSION fraiseql_wire"

plan
