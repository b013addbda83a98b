#!/usr/bin/env bash
# 10_dump_restore.sh — the entity registry survives pg_dump -Fc / pg_restore
# into another database, and the restored tv_ tables are still kept in step
# by their triggers there.  Runs against the server named by PG* (see
# scripts/check.sh); creates and drops its own databases.  TAP output.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)

bindir=$("${PG_CONFIG:-pg_config}" --bindir)
tag="$$_$(date +%s)_${RANDOM}"
src="fw_dump_src_$tag"
dst="fw_dump_dst_$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/fw_dump.XXXXXX")

cleanup() {
    "$bindir/dropdb" --if-exists "$src" >/dev/null 2>&1
    "$bindir/dropdb" --if-exists "$dst" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/tap.sh
. "$root/scripts/tap.sh"
same() {    # same FILE_A FILE_B: equal and not empty
    [ -s "$1" ] && diff -u "$1" "$2"
}
q() {       # q DB SQL: run SQL, unaligned tuples only
    "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# What is compared in both databases.
entities_sql="SELECT entity, relation::text, kind, source::text, format FROM fraiseql_wire.entities()"
registry_sql="SELECT entity, kind, relation::text, source::text, format, columns, camel_case, gin_index
                FROM fraiseql_wire.registry ORDER BY entity, kind"
tables_sql="SELECT 'orders', id::text, data::text FROM shop.tv_orders
            UNION ALL SELECT 'user', id::text, data::text FROM public.tv_user
            UNION ALL SELECT 'lines', \"order\" || '/' || item, data::text FROM \"Sales Dept\".\"tv_lines\"
            ORDER BY 1, 2"
# v_ and tv_ agree row for row (exact document text), for every tv_ entity.
agree_sql="SELECT e.entity, (
             SELECT count(*) FROM (
               (SELECT d FROM (SELECT data::text AS d FROM shop.v_orders WHERE e.entity = 'orders'
                               UNION ALL SELECT data::text FROM public.v_user WHERE e.entity = 'user'
                               UNION ALL SELECT data::jsonb::text FROM \"Sales Dept\".v_lines WHERE e.entity = 'lines') a
                EXCEPT ALL
                SELECT d FROM (SELECT data::text AS d FROM shop.tv_orders WHERE e.entity = 'orders'
                               UNION ALL SELECT data::text FROM public.tv_user WHERE e.entity = 'user'
                               UNION ALL SELECT data::jsonb::text FROM \"Sales Dept\".tv_lines WHERE e.entity = 'lines') b)
               UNION ALL
               (SELECT d FROM (SELECT data::text AS d FROM shop.tv_orders WHERE e.entity = 'orders'
                               UNION ALL SELECT data::text FROM public.tv_user WHERE e.entity = 'user'
                               UNION ALL SELECT data::jsonb::text FROM \"Sales Dept\".tv_lines WHERE e.entity = 'lines') c
                EXCEPT ALL
                SELECT d FROM (SELECT data::text AS d FROM shop.v_orders WHERE e.entity = 'orders'
                               UNION ALL SELECT data::text FROM public.v_user WHERE e.entity = 'user'
                               UNION ALL SELECT data::jsonb::text FROM \"Sales Dept\".v_lines WHERE e.entity = 'lines') d)
             ) x) AS differing_rows
           FROM (VALUES ('orders'), ('user'), ('lines')) AS e(entity) ORDER BY 1"

setup() {
    "$bindir/createdb" "$src" &&
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$src" <<'SQL'
SET TimeZone = 'UTC';
CREATE EXTENSION fraiseql_wire;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, created_at timestamptz, total numeric, note text);
INSERT INTO shop.orders SELECT i, '2024-01-01'::timestamptz + i * interval '1 hour', i * 1.5,
                               CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i || ' ✓' END
                          FROM generate_series(1, 200) i;
CREATE TABLE "user" (id bigint PRIMARY KEY, name text);
INSERT INTO "user" VALUES (1, 'ada'), (2, 'grace');
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Mixed Case" ("order" int, item int, "Qty Ordered" int, PRIMARY KEY ("order", item));
INSERT INTO "Sales Dept"."Mixed Case" VALUES (1, 1, 5), (1, 2, NULL), (2, 1, 7);
SELECT fraiseql_wire.create_view('orders', 'shop.orders', camel_case => true);
SELECT fraiseql_wire.create_table_view('orders');
SELECT fraiseql_wire.create_view('user', '"user"');
SELECT fraiseql_wire.create_table_view('user', gin_index => false);
SELECT fraiseql_wire.create_view('lines', '"Sales Dept"."Mixed Case"');
SELECT fraiseql_wire.create_table_view('lines', format => 'json');
SELECT fraiseql_wire.create_view('order_ids', 'shop.orders', columns => ARRAY['id']);
SQL
}
ok "a source database with v_ and tv_ entities" setup

q "$src" "$entities_sql" >"$work/entities.src"
q "$src" "$registry_sql" >"$work/registry.src"
q "$src" "$tables_sql" >"$work/tables.src"

ok "pg_dump -Fc" "$bindir/pg_dump" -Fc -f "$work/dump" "$src"
restore() {
    "$bindir/createdb" "$dst" && "$bindir/pg_restore" --exit-on-error -d "$dst" "$work/dump"
}
ok "pg_restore into a new database" restore

q "$dst" "$entities_sql" >"$work/entities.dst" 2>&1
q "$dst" "$registry_sql" >"$work/registry.dst" 2>&1
q "$dst" "$tables_sql" >"$work/tables.dst" 2>&1
ok "entities() is the same after restore" same "$work/entities.src" "$work/entities.dst"
ok "the registry rows are the same after restore" same "$work/registry.src" "$work/registry.dst"
ok "every registered relation and source resolves in the new database" \
    test "$(q "$dst" "SELECT count(*) FROM fraiseql_wire.registry r
                      WHERE EXISTS (SELECT FROM pg_class WHERE oid = r.relation)
                        AND EXISTS (SELECT FROM pg_class WHERE oid = r.source)")" = 7
ok "the tv_ tables' rows are the same after restore" same "$work/tables.src" "$work/tables.dst"
ok "the extension's event trigger is not duplicated" \
    test "$(q "$dst" "SELECT count(*) FROM pg_event_trigger WHERE evtname = 'fraiseql_wire_sql_drop'")" = 1
ok "each source has its four triggers once" \
    test "$(q "$dst" "SELECT string_agg(tgrelid::regclass || ':' || n, ' ' ORDER BY tgrelid::regclass::text)
                      FROM (SELECT tgrelid, count(*) n FROM pg_trigger WHERE tgname ~ '^tv_' GROUP BY tgrelid) t")" \
         = '"Sales Dept"."Mixed Case":4 "user":4 shop.orders:4'

workload() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$dst" <<'SQL'
SET TimeZone = 'UTC';
INSERT INTO shop.orders VALUES (1000, now(), 1, 'new'), (1001, NULL, NULL, 'Ζεύς');
UPDATE shop.orders SET total = total + 1 WHERE id % 10 = 0;
UPDATE shop.orders SET id = id + 5000 WHERE id % 7 = 0;
DELETE FROM shop.orders WHERE id % 11 = 0;
INSERT INTO shop.orders VALUES (1000, NULL, 0, 'upserted') ON CONFLICT (id) DO UPDATE SET note = excluded.note;
UPDATE "Sales Dept"."Mixed Case" SET item = item + 10, "Qty Ordered" = 1 WHERE "order" = 1;
DELETE FROM "Sales Dept"."Mixed Case" WHERE "order" = 2;
TRUNCATE "user";
INSERT INTO "user" VALUES (3, 'after truncate');
SQL
}
ok "a mixed workload on the restored sources" workload
ok "restored tv_ tables follow their sources (v_ = tv_ row for row)" \
    test "$(q "$dst" "$agree_sql" | tr '\n' ' ')" = "lines|0 orders|0 user|0 "
ok "the tv_ tables really changed" \
    test "$(q "$dst" "SELECT (SELECT count(*) FROM shop.tv_orders WHERE id > 5000) > 0
                         AND (SELECT data->>'note' FROM shop.tv_orders WHERE id = 1000) = 'upserted'
                         AND (SELECT count(*) FROM \"Sales Dept\".tv_lines WHERE item > 10) = 2
                         AND (SELECT string_agg(data->>'name', ',') FROM tv_user) = 'after truncate'")" = t
ok "refresh_table_view works in the new database" \
    test "$(q "$dst" "SELECT fraiseql_wire.refresh_table_view('orders') = (SELECT count(*) FROM shop.orders)")" = t
ok "drop_view removes everything in the new database" \
    q "$dst" "SELECT fraiseql_wire.drop_view('orders') + fraiseql_wire.drop_view('lines')"
ok "nothing of the dropped entities remains" \
    test "$(q "$dst" "SELECT (SELECT count(*) FROM pg_class WHERE relname ~ '^t?v_(orders|lines)')
                           + (SELECT count(*) FROM pg_proc WHERE proname ~ '^tv_(orders|lines)_sync')
                           + (SELECT count(*) FROM pg_trigger WHERE tgname ~ '^tv_(orders|lines)_')
                           + (SELECT count(*) FROM fraiseql_wire.registry WHERE entity IN ('orders', 'lines'))")" = 0
ok "the source database is unchanged" same "$work/entities.src" <(q "$src" "$entities_sql")

plan
