#!/usr/bin/env bash
# fraiseql-wire and FW_ERR_LIMIT (TAP): a row over --max-row-bytes is a
# "limit error" (not "memory"), exit status 1, with a hint naming the
# option; a filter nested past the client's depth limit is refused by the
# client.
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${FW_BIN:-$here/../../build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwlimit_$$

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    echo "ok 1 - fraiseql-wire limit errors # SKIP no cluster (run scripts/check.sh)"
    echo "1..1"
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
CREATE VIEW v_doc AS SELECT jsonb_build_object('id', g, 'pad', repeat('x', 100)) AS data
  FROM generate_series(1, 3) g;
SQL

"$bin" -d "$db" stream doc --max-row-bytes 50 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "a row over --max-row-bytes: exit 1, a limit error naming max_row_bytes" "$(
    [ "$rc" -eq 1 ] && grep -q '^fraiseql-wire: limit error: row of [0-9]* bytes exceeds max_row_bytes (50)' "$tmp/err"; echo $?)"
ok_status "the hint names --max-row-bytes" "$(grep -q '^HINT:  Raise the limit with --max-row-bytes\.' "$tmp/err"; echo $?)"
"$bin" -d "$db" stream doc --max-row-bytes 1000 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "with room for the rows: exit 0, 3 rows" "$( [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ]; echo $?)"

deep=$(python3 -c 'print("{\"a\": " * 100 + "{\"eq\": 1}" + "}" * 100)')
"$bin" -d "$db" stream doc --where "$deep" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "a filter nested past 64 levels: refused by the client" "$(
    [ "$rc" -ne 0 ] && grep -q 'nested deeper than 64' "$tmp/err" && [ ! -s "$tmp/out" ]; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
