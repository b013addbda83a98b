#!/usr/bin/env bash
# The installed library as a user sees it (TAP): `make install-client
# PREFIX=<tmp>`, the SONAME and the exported symbols of the shared library,
# then docs/examples/stream_users.c and docs/examples/event_loop.c built with
# pkg-config against the installation and run against the test cluster with
# LD_LIBRARY_PATH.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
prefix=$tmp/prefix
db=fwexample_$$

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

have_cluster=0
if [ -n "${PGHOST:-}" ] && [ -n "${PGPORT:-}" ] && psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    have_cluster=1
fi
cleanup() {
    [ "$have_cluster" -eq 1 ] &&
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

# ------------------------------------------------------------- install
: >"$tmp/out"
make --no-print-directory -C "$root" install-client PREFIX="$prefix" >"$tmp/err" 2>&1
ok_status "make install-client PREFIX=<tmp>" $?
for f in include/fraiseql_wire.h lib/libfraiseql_wire.a lib/pkgconfig/fraiseql_wire.pc bin/fraiseql-wire; do
    ok_status "installed $f" "$( [ -f "$prefix/$f" ]; echo $?)"
done

ok_status "installed share/man/man1/fraiseql-wire.1" "$( [ -f "$prefix/share/man/man1/fraiseql-wire.1" ]; echo $?)"
if command -v man >/dev/null 2>&1; then
    man -l "$root/docs/fraiseql-wire.1" >"$tmp/out" 2>"$tmp/err"
    ok_status "man -l docs/fraiseql-wire.1 renders without a warning" "$( [ $? -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q 'EXIT STATUS' "$tmp/out"; echo $?)"
else
    n=$((n + 1))
    echo "ok $n - man -l docs/fraiseql-wire.1 # SKIP man not installed"
fi
# Every long option the command's --help and its subcommands' names is in the man page.
for c in "" stream explain check conninfo; do
    # shellcheck disable=SC2086
    "$prefix/bin/fraiseql-wire" $c --help
done | grep -oE -- '--[a-z][a-z-]+' | sort -u >"$tmp/options"
missing=$(while read -r o; do grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$root/docs/fraiseql-wire.1" || echo "$o"; done <"$tmp/options")
ok_status "the man page documents every option of --help ($(wc -l <"$tmp/options") options)${missing:+; missing: $missing}" "$( [ -z "$missing" ] && [ -s "$tmp/options" ]; echo $?)"

version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$root/fraiseql_wire.control")
# The library's file name and SONAME follow its ABI version (the newest node
# of the version script), not the project version (docs/abi.md).
abi=$(sed -n 's/^FRAISEQL_WIRE_\([0-9][0-9]*\.[0-9][0-9]*\) *{.*/\1/p' "$root/client/src/libfraiseql_wire.map" | tail -n 1)
major=${abi%%.*}
so=$prefix/lib/libfraiseql_wire.so.$abi
ok_status "the shared library is libfraiseql_wire.so.$abi" "$( [ -n "$abi" ] && [ -f "$so" ]; echo $?)"
ok_status "libfraiseql_wire.so.$major and libfraiseql_wire.so link to it" "$(
    [ "$(readlink "$prefix/lib/libfraiseql_wire.so.$major")" = "libfraiseql_wire.so.$abi" ] &&
    [ "$(readlink "$prefix/lib/libfraiseql_wire.so")" = "libfraiseql_wire.so.$abi" ]; echo $?)"
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
ok_status "SONAME is libfraiseql_wire.so.$major (got: $soname)" "$( [ "$soname" = "libfraiseql_wire.so.$major" ]; echo $?)"
nm -D --defined-only "$so" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' >"$tmp/symbols"
grep -v '^fw_' "$tmp/symbols" >"$tmp/out"
ok_status "only fw_* symbols are exported ($(wc -l <"$tmp/symbols") symbols)" "$( [ ! -s "$tmp/out" ] && [ -s "$tmp/symbols" ]; echo $?)"
for sym in fw_conn_connect fw_stream_open fw_stream_next fw_stream_next_object fw_query_new fw_version_num; do
    ok_status "exports $sym" "$(grep -qx "$sym" "$tmp/symbols"; echo $?)"
done
grep -o '^FW_API[^(]*(' "$prefix/include/fraiseql_wire.h" | sed -E 's/.*[ *]([A-Za-z_0-9]+)\($/\1/' >"$tmp/declared"
ok_status "every function the header declares is exported ($(wc -l <"$tmp/declared") functions)" "$(
    [ -s "$tmp/declared" ] && ! grep -v '^fw_' "$tmp/declared" | grep -q . &&
    [ -z "$(sort "$tmp/declared" | comm -23 - <(sort "$tmp/symbols"))" ]; echo $?)"

# The .pc file must name this installation (install writes it for PREFIX,
# whatever PREFIX the tree was built with).
pcdir=$prefix/lib/pkgconfig
pc_libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir fraiseql_wire)
ok_status "the installed fraiseql_wire.pc names PREFIX" "$( [ "$pc_libdir" = "$prefix/lib" ]; echo $?)"
ok_status "pkg-config --modversion is $version" "$( [ "$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion fraiseql_wire)" = "$version" ]; echo $?)"

# --------------------------------------------------------- build the example
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$tmp/stream_users" "$root/docs/examples/stream_users.c" \
    $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs fraiseql_wire) \
    >"$tmp/out" 2>"$tmp/err"
ok_status "docs/examples/stream_users.c builds with pkg-config --cflags --libs fraiseql_wire" $?
ok_status "the example links the shared library" "$(LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/stream_users" |
    grep -q "libfraiseql_wire.so.$major => $prefix/lib/"; echo $?)"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$tmp/event_loop" "$root/docs/examples/event_loop.c" \
    $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs fraiseql_wire) \
    >"$tmp/out" 2>"$tmp/err"
ok_status "docs/examples/event_loop.c builds with pkg-config --cflags --libs fraiseql_wire" $?

if [ "$have_cluster" -ne 1 ]; then
    n=$((n + 1))
    echo "ok $n - run the example against the cluster # SKIP no cluster (run scripts/check.sh)"
    echo "1..$n"
    [ "$failed" -eq 0 ]
    exit
fi

# ----------------------------------------------------------- run it
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'EOF' || exit 1
CREATE EXTENSION fraiseql_wire;
CREATE TABLE "user" (id int PRIMARY KEY, name text, team text, bio text);
INSERT INTO "user" VALUES
  (1, 'zoë', 'core', 'short'), (2, 'ann', 'core', 'short'), (3, 'bob', 'ops', 'short'),
  (4, 'Carl', 'core', repeat('long ', 2000)), (5, 'dan', 'r&d "quoted" ''x''; --', 'short'),
  (6, 'ann', 'core', 'second ann');
SELECT fraiseql_wire.create_view('user', 'user');
EOF
export LD_LIBRARY_PATH=$prefix/lib
ex=$tmp/stream_users

"$ex" -d "dbname=$db" >"$tmp/out" 2>"$tmp/err"
rc=$?
expected='{"id": 2, "bio": "short", "name": "ann", "team": "core"}
{"id": 6, "bio": "second ann", "name": "ann", "team": "core"}
{"id": 1, "bio": "short", "name": "zoë", "team": "core"}'
ok_status "the example streams team core ordered by name, id; the 10 kB document dropped" "$(
    [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$expected" ]; echo $?)"
ok_status "the example reports rows and dropped rows on stderr" "$(
    grep -Eq '^stream_users: 3 rows, 1 dropped by the size predicate, [0-9.]+ ms$' "$tmp/err"; echo $?)"
"$ex" -d "dbname=$db" -m 100000 -n 2 >"$tmp/out" 2>"$tmp/err"
ok_status "-m raises the size limit, -n limits the rows" "$(
    [ "$(python3 -c 'import json,sys; print(",".join(str(json.loads(l)["id"]) for l in sys.stdin))' <"$tmp/out")" = "4,2" ]; echo $?)"
PGDATABASE=$db "$ex" -t 'r&d "quoted" '"'"'x'"'"'; --' >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "PGDATABASE from the environment; a team name with quotes and -- is a value" "$(
    [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = '{"id": 5, "bio": "short", "name": "dan", "team": "r&d \"quoted\" '"'"'x'"'"'; --"}' ]; echo $?)"
"$ex" -d "dbname=$db" -t nobody >"$tmp/out" 2>"$tmp/err"
ok_status "no match: no output, exit 0" "$( [ $? -eq 0 ] && [ ! -s "$tmp/out" ]; echo $?)"

# The event loop: one connection per filter, all read at once through poll(2)
# with the non-blocking API; over TCP with TLS and SCRAM, and over the socket.
ids() {    # ids INDEX: the ids that connection INDEX printed, in order
    grep "^$1	" "$tmp/out" | cut -f2- |
        python3 -c 'import json,sys; print(",".join(str(json.loads(l)["id"]) for l in sys.stdin))'
}
el=$tmp/event_loop
"$el" -d "dbname=$db" '{"team": {"eq": "core"}}' '{"team": {"eq": "ops"}}' '{"id": {"gt": 100}}' \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "event_loop: three streams at once, each in id order, none for the empty filter" "$(
    [ "$rc" -eq 0 ] && [ "$(ids 0)" = "1,2,4,6" ] && [ "$(ids 1)" = "3" ] && [ -z "$(ids 2)" ] &&
    [ ! -s "$tmp/err" ]; echo $?)"
tcp="host=${FW_TEST_TCP_HOST:-127.0.0.1} port=$PGPORT dbname=$db user=fw_tls password=fw_tls_pw sslmode=require"
psql -X -q -d "$db" -c 'GRANT SELECT ON "user", v_user TO fw_tls; GRANT USAGE ON SCHEMA fraiseql_wire TO fw_tls' >/dev/null 2>&1
if [ -n "${FW_TEST_TLS_DIR:-}" ]; then
    "$el" -d "$tcp" '{"team": {"eq": "core"}}' '{"name": {"eq": "ann"}}' >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ok_status "event_loop over TLS with SCRAM: two streams" "$(
        [ "$rc" -eq 0 ] && [ "$(ids 0)" = "1,2,4,6" ] && [ "$(ids 1)" = "2,6" ]; echo $?)"
else
    n=$((n + 1))
    echo "ok $n - event_loop over TLS with SCRAM # SKIP no FW_TEST_TLS_DIR"
fi
"$el" -d "dbname=$db" '{"team": {"eq": "ops"}}' '{"id": {"eqq": 1}}' >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "event_loop: a bad filter fails its stream with SQLSTATE 22023, the others finish" "$(
    [ "$rc" -eq 1 ] && [ "$(ids 0)" = "3" ] && grep -q '^event_loop: \[1\] stream: .*(SQLSTATE 22023)' "$tmp/err"; echo $?)"
"$el" -d "sslmode=bogus" '{}' >"$tmp/out" 2>"$tmp/err"
ok_status "event_loop: bad connection string: exit 2" "$( [ $? -eq 2 ] && grep -q 'sslmode' "$tmp/err"; echo $?)"
"$el" >"$tmp/out" 2>"$tmp/err"
ok_status "event_loop: no filter: exit 2 with usage" "$( [ $? -eq 2 ] && grep -q '^usage: event_loop' "$tmp/err"; echo $?)"
"$ex" -d "dbname=postgres" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "no v_user: exit 1 with SQLSTATE 42P01 on stderr" "$( [ "$rc" -eq 1 ] && grep -q 'SQLSTATE 42P01' "$tmp/err"; echo $?)"
# DROP EXTENSION leaves the schema fraiseql_wire behind: the server says
# 42883 (no such function) with its own HINT about casts.
psql -X -q -d "$db" -c 'DROP EXTENSION fraiseql_wire' >/dev/null
"$ex" -d "dbname=$db" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "extension dropped: exit 1 with SQLSTATE 42883" "$( [ "$rc" -eq 1 ] && grep -q 'SQLSTATE 42883' "$tmp/err"; echo $?)"
ok_status "extension dropped: the HINT says CREATE EXTENSION" "$(grep -q '^HINT:  .*CREATE EXTENSION fraiseql_wire' "$tmp/err"; echo $?)"
# Never installed (no schema either): 3F000, and the HINT says what to do.
psql -X -q -d "$db" -c 'DROP SCHEMA fraiseql_wire CASCADE' >/dev/null 2>&1
"$ex" -d "dbname=$db" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "no extension: exit 1 with 3F000, the HINT says CREATE EXTENSION" "$( [ "$rc" -eq 1 ] && grep -q 'SQLSTATE 3F000' "$tmp/err" &&
    grep -q '^HINT:  .*CREATE EXTENSION fraiseql_wire' "$tmp/err"; echo $?)"
"$ex" -d "dbname=fwexample_nosuch_$$" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "unknown database: exit 1 with SQLSTATE 3D000" "$( [ "$rc" -eq 1 ] && grep -q 'SQLSTATE 3D000' "$tmp/err"; echo $?)"
"$ex" -d "sslmode=bogus" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "bad connection string: exit 2" "$( [ "$rc" -eq 2 ] && grep -q 'sslmode' "$tmp/err"; echo $?)"
"$ex" -x >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "bad option: exit 2 with usage" "$( [ "$rc" -eq 2 ] && grep -q '^usage: stream_users' "$tmp/err"; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
