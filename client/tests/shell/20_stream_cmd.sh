#!/usr/bin/env bash
# fraiseql-wire stream / explain / check against the test cluster (TAP).
# Needs the cluster's PG* variables (scripts/check.sh exports them); creates
# its own database and drops it on exit.  Without a cluster it skips, loudly.
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${FW_BIN:-$here/../../build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwcmd_$$

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"
# check DESCRIPTION COMMAND…: passes when the command succeeds
check() {
    local d=$1
    shift
    "$@" >/dev/null 2>&1
    ok_status "$d" $?
}

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    echo "ok 1 - fraiseql-wire stream against a cluster # SKIP no cluster (run scripts/check.sh)"
    rm -rf "$tmp"
    exit 0
fi

cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'EOF' || exit 1
CREATE EXTENSION fraiseql_wire;
CREATE TABLE person (id int PRIMARY KEY, name text, score numeric, team text);
INSERT INTO person VALUES
  (1, 'ann', 10, 'core'), (2, 'Émile', NULL, 'ops'), (3, 'o''brien; --', 5.5, 'core'),
  (4, 'Zoë', 42, 'ops'), (5, 'bob', 7, NULL);
SELECT fraiseql_wire.create_view('person', 'person');
SELECT fraiseql_wire.create_table_view('person');
CREATE TABLE "user" (id int PRIMARY KEY, login text);
INSERT INTO "user" VALUES (1, 'root'), (2, 'guest');
SELECT fraiseql_wire.create_view('user', 'user');
CREATE VIEW "Odd Rel; --" AS SELECT jsonb_build_object('id', 1, 'odd', true) AS data;
CREATE VIEW v_textual AS SELECT 'x'::text AS data;
CREATE VIEW v_empty AS SELECT '{}'::jsonb AS data WHERE false;
CREATE TABLE ranked (id int PRIMARY KEY, label text);
INSERT INTO ranked SELECT g, 'r' || g FROM generate_series(1, 20000) g;
ANALYZE ranked;
SELECT fraiseql_wire.create_view('ranked', 'ranked');
CREATE VIEW v_big AS SELECT jsonb_build_object('id', g, 'pad', repeat('x', 40)) AS data
  FROM generate_series(1, 200000) g;
EOF

# run ARGS…: the command on the test database; sets rc, out/err files
run() {
    "$bin" -d "$db" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
# ids: the "id" of each NDJSON line of stdout, comma-separated (also checks
# that every line is one JSON value)
ids() {
    python3 -c '
import json, sys
print(",".join(str(json.loads(l)["id"]) for l in sys.stdin.read().splitlines()))' <"$tmp/out"
}
is_ndjson() {
    python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
assert lines[-1] == "", "no final newline"
for l in lines[:-1]:
    json.loads(l)
assert len(lines) - 1 == int(sys.argv[1]), "%d lines" % (len(lines) - 1)' "$1" <"$tmp/out"
}
is_array() {   # is_array COUNT: stdout is one JSON array of COUNT elements
    python3 -c '
import json, sys
v = json.load(sys.stdin)
assert isinstance(v, list) and len(v) == int(sys.argv[1]), v' "$1" <"$tmp/out"
}
err_has() { grep -q -- "$1" "$tmp/err"; }
out_has() { grep -q -- "$1" "$tmp/out"; }

# ------------------------------------------------------------- stream
run stream person
ok_status "stream writes NDJSON, one valid document a line" "$( [ "$rc" -eq 0 ] && is_ndjson 5 && [ ! -s "$tmp/err" ]; echo $?)"
run stream person --array
ok_status "--array writes one valid JSON array" "$( [ "$rc" -eq 0 ] && is_array 5; echo $?)"
run stream empty --array
ok_status "--array with no rows is []" "$( [ "$rc" -eq 0 ] && is_array 0; echo $?)"
run stream empty
ok_status "no rows, no output" "$( [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; echo $?)"

run stream person --where '{"team": {"eq": "core"}}' --order-by id:numeric
ok_status "--where filters on the server" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "1,3" ]; echo $?)"
run stream person --where '{"name": {"eq": "o'"'"'brien; --"}}'
ok_status "--where with quotes and comment markers in a value" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "3" ]; echo $?)"
run stream person --where '{"or": [{"score": {"gt": 9}}, {"team": {"isnull": true}}]}' --order-by id:numeric
ok_status "--where with or/isnull" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "1,4,5" ]; echo $?)"
run stream person --order-by name:text
ok_status "--order-by FIELD:text sorts by code point" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "4,1,5,3,2" ]; echo $?)"
run stream person --order-by score:numeric:desc:nulls-last
ok_status "--order-by FIELD:numeric:desc:nulls-last" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "4,1,5,3,2" ]; echo $?)"
run stream person --order-by score:numeric:nulls-first
ok_status "--order-by FIELD:numeric:nulls-first" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "2,3,5,1,4" ]; echo $?)"
run stream person --order-by team:text --order-by id:numeric:desc
ok_status "two --order-by keys" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "3,1,4,2,5" ]; echo $?)"
run stream person --order-by id:numeric --limit 2 --offset 1
ok_status "--limit and --offset" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "2,3" ]; echo $?)"
run stream person --order-by id:numeric --limit 0
ok_status "--limit 0 gives nothing" "$( [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; echo $?)"
run stream person --order-by id:numeric --chunk-size 1 --offset 3
ok_status "--chunk-size 1 still gives every row" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "4,5" ]; echo $?)"
run stream person --table --where '{"score": {"lt": 8}}' --order-by id:numeric
ok_status "--table reads tv_ENTITY" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "3,5" ]; echo $?)"
run stream x --relation '"Odd Rel; --"'
ok_status "--relation reads a relation with an odd quoted name" "$( [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = '{"id": 1, "odd": true}' ]; echo $?)"
run stream user --order-by id:numeric
ok_status "an entity called user" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "1,2" ]; echo $?)"
"$bin" -h "$PGHOST" -p "$PGPORT" -U postgres -d "$db" stream person --limit 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "-h -p -U -d connection options" "$( [ "$rc" -eq 0 ] && is_ndjson 1; echo $?)"
PGDATABASE=$db "$bin" stream person --limit 2 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "PGDATABASE is honoured" "$( [ "$rc" -eq 0 ] && is_ndjson 2; echo $?)"

run stream big --progress
ok_status "--progress writes a progress line on stderr" "$( [ "$rc" -eq 0 ] && is_ndjson 200000 &&
    grep -Eq '200000 rows, [0-9.]+ MB, [0-9]+ rows/s' "$tmp/err"; echo $?)"
run stream big
ok_status "no progress line without --progress when stderr is not a terminal" "$( [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; echo $?)"

"$bin" -d "$db" stream big 2>"$tmp/err" | head -n 1 >"$tmp/out"
rc=${PIPESTATUS[0]}
ok_status "| head -n 1 exits 0 without a message" "$( [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && is_ndjson 1; echo $?)"
"$bin" -d "$db" stream big --array 2>"$tmp/err" | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
ok_status "--array | head -c exits 0 without a message" "$( [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; echo $?)"
# The connection was closed cleanly: no backend of ours is left running the query.
sleep 0.2
left=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%v_big%' AND pid <> pg_backend_pid()")
ok_status "no backend left running after the reader went away" "$( [ "$left" = 0 ]; echo $?)"

# An interrupt cancels the query: exit 130, and the backend stops.
psql -X -q -d "$db" -c "CREATE VIEW v_slow AS SELECT jsonb_build_object('n', g) AS data
    FROM generate_series(1, 3000) g, LATERAL (SELECT pg_sleep(0.01) WHERE g > 0) s" >/dev/null
# slow_running: waits (up to 10 s) until the server runs the v_slow query
slow_running() {
    for _ in $(seq 1 100); do
        [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%v_slow%' AND state = 'active' AND pid <> pg_backend_pid()")" -gt 0 ] && return 0
        sleep 0.1
    done
    return 1
}
"$bin" -d "$db" stream slow --chunk-size 1 >"$tmp/out" 2>"$tmp/err" &
pid=$!
slow_running
sleep 0.3   # some rows in (stdout is block-buffered: nothing to watch)
kill -INT "$pid"
wait "$pid"
rc=$?
sleep 0.3
left=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%v_slow%' AND pid <> pg_backend_pid()")
ok_status "SIGINT: exit 130, 'cancelled' on stderr, the query stopped on the server" "$( [ "$rc" -eq 130 ] &&
    err_has 'cancelled' && [ "$left" = 0 ] && [ "$(wc -l <"$tmp/out")" -lt 3000 ] && is_ndjson "$(wc -l <"$tmp/out")"; echo $?)"

# The server ends the backend mid-stream: exit 1 with 57P01.
"$bin" -d "$db" stream slow --chunk-size 1 >"$tmp/out" 2>"$tmp/err" &
pid=$!
slow_running
psql -X -q -At -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%v_slow%' AND pid <> pg_backend_pid()" >/dev/null
wait "$pid"
rc=$?
ok_status "backend terminated mid-stream: exit 2 (connection lost) with SQLSTATE 57P01" "$( [ "$rc" -eq 2 ] && err_has '57P01'; echo $?)"

"$bin" -d "$db" stream big >/dev/full 2>"$tmp/err"
rc=$?
ok_status "a full disk: exit 1, 'No space left on device'" "$( [ "$rc" -eq 1 ] && err_has 'writing the output: No space left on device'; echo $?)"

# ------------------------------------------------------------ runtime errors
run stream nosuch
ok_status "unknown entity: exit 1 with 42P01" "$( [ "$rc" -eq 1 ] && err_has 'SQLSTATE 42P01' && err_has 'v_nosuch' && [ ! -s "$tmp/out" ]; echo $?)"
run stream person --where '{"name": {"eqq": 1}}'
ok_status "bad filter: exit 1 with 22023 and the path" "$( [ "$rc" -eq 1 ] && err_has 'SQLSTATE 22023' && err_has 'name.eqq'; echo $?)"
run stream textual
ok_status "a data column of type text: exit 1, schema error" "$( [ "$rc" -eq 1 ] && err_has 'schema' && [ ! -s "$tmp/out" ]; echo $?)"
"$bin" -d "fwcmd_nosuchdb_$$" stream person >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "unknown database: exit 2 (could not connect) with 3D000" "$( [ "$rc" -eq 2 ] && err_has '3D000'; echo $?)"

# --------------------------------------------------------------- usage errors
for args in "stream" "stream person --limit" "stream person --limit abc" "stream person --limit -1" \
            "stream person --offset x" "stream person --chunk-size 0" "stream person --bogus" \
            "stream person --order-by name:sideways" "stream person --order-by" \
            "check person --where {}" "check person --limit 1" "frobnicate" ""; do
    # shellcheck disable=SC2086
    run $args
    ok_status "usage error exits 1: fraiseql-wire $args" "$( [ "$rc" -eq 1 ] && [ -s "$tmp/err" ] && [ ! -s "$tmp/out" ]; echo $?)"
done
run stream person --where 'not json'
ok_status "--where that is not JSON exits 1" "$( [ "$rc" -eq 1 ] && err_has 'where'; echo $?)"
run stream person --where '[1]'
ok_status "--where that is not an object exits 1" "$( [ "$rc" -eq 1 ] && err_has 'object'; echo $?)"
for name in 'x;DROP TABLE person' 'person"--' 'a b' 'x--' 'x/*' '$$x' 'é' "o'brien" 'a.b.c' 'a\b'; do
    run stream "$name"
    ok_status "hostile entity name exits 1: $name" "$( [ "$rc" -eq 1 ] && err_has 'invalid entity' && [ ! -s "$tmp/out" ]; echo $?)"
done
run stream x --relation 'x; DROP TABLE person'
ok_status "hostile --relation exits 1" "$( [ "$rc" -eq 1 ] && err_has 'invalid relation'; echo $?)"
check "person is still there" psql -X -q -d "$db" -c 'SELECT 1 FROM person LIMIT 1'

# ---------------------------------------------------------------- explain
run explain person --where '{"team": {"eq": "core"}}' --order-by name:text:desc --limit 3
ok_status "explain prints the SQL" "$( [ "$rc" -eq 0 ] && out_has '^SELECT data FROM "v_person" WHERE fraiseql_wire.matches(data, \$1::jsonb)'; echo $?)"
ok_status "explain prints the parameters" "$( grep -qx '  \$1 = {"team": {"eq": "core"}}' "$tmp/out" && grep -qx '  \$2 = name' "$tmp/out" && grep -qx '  \$3 = 3' "$tmp/out"; echo $?)"
ok_status "explain prints the server's plan" "$( grep -Eq '^ *(->  )?(Limit|Sort|Seq Scan|Index Scan|Bitmap Heap Scan).*cost=' "$tmp/out"; echo $?)"
ok_status "explain does not stream rows" "$( ! grep -q '"core"}$' "$tmp/out" && ! grep -q '^{"id"' "$tmp/out"; echo $?)"
# Many ORDER BY path keys: more than 64 parameters.
deep=$(python3 -c "print('.'.join('k%d' % i for i in range(30)))")
run explain person --order-by "$deep" --order-by "$deep" --order-by "$deep"
ok_status "explain with 90 parameters" "$( [ "$rc" -eq 0 ] && grep -qx '  \$90 = k29' "$tmp/out" && grep -q 'cost=' "$tmp/out"; echo $?)"
run stream person --order-by "$deep" --order-by "$deep" --order-by "$deep" --order-by id:numeric
ok_status "stream with 91 parameters" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "1,2,3,4,5" ]; echo $?)"

# ORDER BY an integer column of a v_ view: the planner orders by the column,
# so its primary key index serves (no Sort of 20000 documents).
run explain ranked --order-by id:numeric --limit 10
ok_status "--order-by FIELD:numeric on an integer column: index scan, no sort" "$( [ "$rc" -eq 0 ] && out_has 'Index Scan.* on ranked' && ! out_has 'Sort'; echo $?)"
run explain ranked --where '{"id": {"gt": 15000}}' --order-by id:numeric:desc --limit 10
ok_status "keyset page: index condition and backward scan, no sort" "$( [ "$rc" -eq 0 ] && out_has 'Index Scan Backward.* on ranked' && out_has 'Index Cond: (id > ' && ! out_has 'Sort'; echo $?)"
run stream ranked --where '{"id": {"gt": 15000}}' --order-by id:numeric --limit 3
ok_status "keyset page rows" "$( [ "$rc" -eq 0 ] && [ "$(ids)" = "15001,15002,15003" ]; echo $?)"

run explain nosuch
ok_status "explain of an unknown entity: SQL printed, exit 1 with 42P01" "$( [ "$rc" -eq 1 ] && out_has 'v_nosuch' && err_has '42P01'; echo $?)"

# ------------------------------------------------------------------ check
run check person
ok_status "check ok" "$( [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = 'ok: v_person has one column "data" of type jsonb' ]; echo $?)"
run check person --table
ok_status "check --table" "$( [ "$rc" -eq 0 ] && out_has 'tv_person' ; echo $?)"
run check x --relation '"Odd Rel; --"'
ok_status "check --relation" "$( [ "$rc" -eq 0 ] && out_has 'Odd Rel' ; echo $?)"
run check public.person
ok_status "check of a schema-qualified entity names public.v_person" "$( [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = 'ok: public.v_person has one column "data" of type jsonb' ]; echo $?)"
run check nosuch
ok_status "check of an unknown entity: exit 1 with SQLSTATE 42P01" "$( [ "$rc" -eq 1 ] && err_has 'SQLSTATE 42P01' && [ ! -s "$tmp/out" ]; echo $?)"
run check textual
ok_status "check of a view with a text data column: exit 1, schema error" "$( [ "$rc" -eq 1 ] && err_has 'schema' && err_has 'expected json'; echo $?)"
run check 'x;y'
ok_status "check of a hostile name exits 1" "$( [ "$rc" -eq 1 ]; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
