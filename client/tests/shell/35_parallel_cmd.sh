#!/usr/bin/env bash
# fraiseql-wire stream --parallel N (TAP): the same rows as a serial stream
# (v_ and tv_, json and jsonb, with --where), in order with --order-by on
# the key, global --limit, refused --offset / other --order-by, and through
# PgBouncer in session and transaction pooling (scripts/pgbouncer.sh, skipped
# loudly when pgbouncer is not installed).  Needs the cluster's PG*
# variables; creates its own database and drops it on exit.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${FW_BIN:-$here/../../build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwpar_$$
state=$tmp/bouncer

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    echo "ok 1 - fraiseql-wire stream --parallel against a cluster # SKIP no cluster (run scripts/check.sh)"
    rm -rf "$tmp"
    exit 0
fi

cleanup() {
    "$root/scripts/pgbouncer.sh" stop "$state" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'EOF' || exit 1
CREATE EXTENSION fraiseql_wire;
CREATE TABLE item (id int PRIMARY KEY, name text, grp int);
INSERT INTO item SELECT g, 'n' || g || ' é''; --', g % 7 FROM generate_series(1, 30000) g;
SELECT fraiseql_wire.create_view('item', 'item');
SELECT fraiseql_wire.create_table_view('item');
SELECT fraiseql_wire.create_view('itemj', 'item', format => 'json');
ANALYZE item;
EOF

direct="host=$PGHOST port=$PGPORT dbname=$db"

# same DESCRIPTION CONNINFO ARGS…: --parallel 4 gives the serial rows (sorted)
same() {
    local d=$1 ci=$2
    shift 2
    "$bin" -d "$ci" stream "$@" 2>"$tmp/err" | sort >"$tmp/serial"
    "$bin" -d "$ci" stream "$@" --parallel 4 2>"$tmp/err" | sort >"$tmp/par"
    rc=$?
    [ -s "$tmp/serial" ] && cmp -s "$tmp/serial" "$tmp/par"
    ok_status "$d" $?
}

same "v_ (jsonb): --parallel 4 streams the serial rows" "$direct" item
same "tv_: --parallel 4 streams the serial rows" "$direct" item --table
same "v_ (json): --parallel 4 streams the serial rows" "$direct" itemj
same "--where with --parallel" "$direct" item --where '{"grp": {"in": [1, 3]}}'

"$bin" -d "$direct" stream item --parallel 3 --order-by id:numeric 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 30000 ] &&
    sed 's/^{"id": \([0-9]*\),.*/\1/' "$tmp/out" | sort -n -c 2>/dev/null
ok_status "--order-by the key with --parallel is in order" $?

"$bin" -d "$direct" stream item --table --parallel 3 --order-by id:desc 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 30000 ] &&
    sed 's/^{"id": \([0-9]*\),.*/\1/' "$tmp/out" | sort -n -r -c 2>/dev/null
ok_status "--order-by the key descending with --parallel is in order" $?

"$bin" -d "$direct" stream item --parallel 4 --limit 1234 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 0 ] && [ "$(sort -u "$tmp/out" | wc -l)" -eq 1234 ]
ok_status "--limit is global with --parallel (exactly 1234 distinct rows)" $?

"$bin" -d "$direct" stream item --parallel 4 --order-by name 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 1 ] && grep -q 'ORDER BY "name" cannot be used with parallel streams' "$tmp/err"
ok_status "--order-by another field with --parallel is refused (exit 1, reason)" $?

"$bin" -d "$direct" stream item --parallel 4 --offset 5 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 1 ] && grep -q -- '--offset cannot be used with --parallel' "$tmp/err"
ok_status "--offset with --parallel is a usage error (exit 1)" $?

"$bin" -d "$direct" stream item --parallel 0 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 1 ]
ok_status "--parallel 0 is a usage error" $?

"$bin" -d "$direct" stream item --parallel 1025 2>"$tmp/err" >"$tmp/out"
rc=$?
[ $rc -eq 1 ]
ok_status "--parallel 1025 is a usage error" $?

# ----------------------------------------------------------- PgBouncer
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
    echo "ok $((n + 1)) - --parallel through PgBouncer # SKIP pgbouncer not installed"
    n=$((n + 1))
elif ! PGDATABASE=$db "$root/scripts/pgbouncer.sh" start "$state" >"$tmp/err" 2>&1; then
    rc=1
    ok_status "PgBouncer starts" 1
else
    # shellcheck disable=SC1091
    . "$state/env"
    for mode in session transaction; do
        pooled="host=127.0.0.1 port=$FW_PGBOUNCER_PORT dbname=fw_$mode user=postgres sslmode=disable"
        same "PgBouncer $mode pooling: --parallel 4 streams the serial rows" "$pooled" item
        "$bin" -d "$pooled" stream item --table --parallel 4 --order-by id 2>"$tmp/err" >"$tmp/out"
        rc=$?
        [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 30000 ] &&
            sed 's/^{"id": \([0-9]*\),.*/\1/' "$tmp/out" | sort -n -c 2>/dev/null
        ok_status "PgBouncer $mode pooling: --parallel 4 --order-by id in order" $?
    done
fi

echo "1..$n"
[ "$failed" -eq 0 ]
