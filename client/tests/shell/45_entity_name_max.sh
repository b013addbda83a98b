#!/usr/bin/env bash
# One entity-name limit for both halves (TAP): FW_ENTITY_NAME_MAX in the
# public header must be the length the extension accepts.  The extension
# makes v_, tv_ and tv_<entity>_sync relations of an entity of exactly that
# length and refuses one byte more (SQLSTATE 22023); the command (through
# fw_query_new) streams from the longest and refuses one byte more with the
# client's message.  A change to either side alone fails here.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${FW_BIN:-$here/../../build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwentity_$$

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

max=$(sed -n 's/^#define FW_ENTITY_NAME_MAX \([0-9][0-9]*\)$/\1/p' "$root/client/include/fraiseql_wire.h")
ok_status "the header defines FW_ENTITY_NAME_MAX (${max:-missing})" "$( [ -n "$max" ]; echo $?)"
[ -n "$max" ] || { echo "1..$n"; exit 1; }

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    n=$((n + 1))
    echo "ok $n - the extension's entity limit # SKIP no cluster (run scripts/check.sh)"
    echo "1..$n"
    rm -rf "$tmp"
    exit 0
fi
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION fraiseql_wire;
CREATE TABLE src (id int PRIMARY KEY, name text);
INSERT INTO src VALUES (1, 'one'), (2, 'two');
SQL

longest=$(printf 'e%.0s' $(seq "$max"))
over=${longest}e
sql() {    # sql STATEMENT: runs it, stdout+stderr in $tmp/out, SQLSTATE visible
    psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -At -d "$db" -c "$1" >"$tmp/out" 2>&1
}

sql "SELECT fraiseql_wire.create_view('$longest', 'src')"
ok_status "the extension makes v_<entity> of $max bytes" $?
sql "SELECT fraiseql_wire.create_table_view('$longest')"
ok_status "the extension makes tv_<entity> and its sync objects of $max bytes" $?
sql "SELECT count(*) FROM pg_class WHERE relname = 'tv_${longest}'"
ok_status "tv_<entity> of $max bytes exists with its name whole" "$(grep -qx 1 "$tmp/out"; echo $?)"
sql "SELECT fraiseql_wire.create_view('$over', 'src')"
ok_status "the extension refuses an entity of $((max + 1)) bytes with 22023" "$(
    [ $? -ne 0 ] && grep -q '22023' "$tmp/out" && grep -q 'invalid entity name' "$tmp/out"; echo $?)"
sql "SELECT fraiseql_wire.create_table_view('$over', 'src')"
ok_status "create_table_view refuses an entity of $((max + 1)) bytes with 22023" "$(
    [ $? -ne 0 ] && grep -q '22023' "$tmp/out"; echo $?)"

"$bin" -d "$db" stream "$longest" --order-by id >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "the client streams the entity of $max bytes the extension made" "$(
    [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]; echo $?)"
"$bin" -d "$db" stream "$longest" --table --order-by id >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "the client streams its tv_ table" "$( [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 2 ]; echo $?)"
"$bin" -d "$db" stream "$over" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "the client refuses an entity of $((max + 1)) bytes (\"longer than $max bytes\")" "$(
    [ "$rc" -ne 0 ] && grep -q "longer than $max bytes" "$tmp/err" && [ ! -s "$tmp/out" ]; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
