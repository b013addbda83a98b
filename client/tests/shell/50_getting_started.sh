#!/usr/bin/env bash
# docs/getting-started.md, run literally (TAP).
#
# The SQL block of "A database to read" is run in a fresh database, then every
# `$ command` line of every console block is run with PGDATABASE naming that
# database and `fraiseql-wire` on PATH; its output (stdout and stderr, in
# order) must be the lines the document shows under it.  The only thing
# normalised is the planner's "(cost=… rows=… width=…)" annotation, which
# depends on statistics.  A message, an exit status, an option or a plan that
# changes without the document changing fails here.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
doc=$root/docs/getting-started.md
bindir=$(cd "$(dirname "${FW_BIN:-$root/client/build/fraiseql-wire}")" && pwd)
tmp=$(mktemp -d)
db=fwgs_$$

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    echo "ok 1 - getting-started against a cluster # SKIP no cluster (run scripts/check.sh)"
    rm -rf "$tmp"
    exit 0
fi
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

# The SQL of "A database to read": the first ```sql block after its heading.
awk '/^## A database to read/ { want = 1 }
     want && /^```sql$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$doc" >"$tmp/setup.sql"
[ -s "$tmp/setup.sql" ]
ok_status "the document has the SQL of \"A database to read\"" $?

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null 2>"$tmp/err"
ok_status "create a database for the walk-through" $? "$tmp/err"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$tmp/setup.sql" >"$tmp/err" 2>&1
ok_status "the document's SQL runs as written" $? "$tmp/err"

# Every console block, split into commands (cmd.N) and their shown output (exp.N).
awk -v dir="$tmp" '
    /^```console$/ { inside = 1; next }
    inside && /^```$/ { inside = 0; next }
    inside && /^\$ / { k++; print substr($0, 3) > (dir "/cmd." k); printf "" > (dir "/exp." k); next }
    inside && k { print > (dir "/exp." k) }
    END { print k + 0 > (dir "/count") }' "$doc"
count=$(cat "$tmp/count")
[ "$count" -ge 8 ]
ok_status "the document shows at least 8 commands ($count)" $?

normalise() { sed -E 's/  \(cost=[0-9.]+\.\.[0-9.]+ rows=[0-9]+ width=[0-9]+\)//'; }

mkdir -p "$tmp/work"
for k in $(seq 1 "$count"); do
    cmd=$(cat "$tmp/cmd.$k")
    (cd "$tmp/work" && PATH="$bindir:$PATH" PGDATABASE=$db bash -c "$cmd" </dev/null 2>&1) |
        normalise >"$tmp/out.$k"
    normalise <"$tmp/exp.$k" >"$tmp/want.$k"
    diff -u "$tmp/want.$k" "$tmp/out.$k" >"$tmp/diff.$k"
    ok_status "as documented: $cmd" $? "$tmp/diff.$k"
done

echo "1..$n"
[ "$failed" -eq 0 ]
