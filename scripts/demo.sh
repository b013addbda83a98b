#!/usr/bin/env bash
# demo.sh — the main job end to end (`make demo`): a throw-away cluster, the
# extension, 5,000 sample users as v_user / tv_user, and filtered and
# unfiltered streams.  No server is left running when it exits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG
state=$root/build/demo-cluster

scripts/deps.sh
echo "== building"
mkdir -p build
make --no-print-directory all >build/demo-build.log 2>&1 || { tail -n 30 build/demo-build.log; exit 1; }

trap 'scripts/cluster.sh stop "$state" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
scripts/cluster.sh start "$state"
eval "$(scripts/cluster.sh env "$state")"
make --no-print-directory install-extension >/dev/null

createdb demo
export PGDATABASE=demo
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION fraiseql_wire' -f scripts/demo/sample.sql >/dev/null
echo "== entities"
psql -X -c 'SELECT * FROM fraiseql_wire.entities()'

W=client/build/fraiseql-wire
run() {   # run TITLE ARGS…
    echo
    echo "== $1"
    shift
    local shown="" a
    for a in "$@"; do
        case "$a" in
            *[!A-Za-z0-9_.:/=-]*) shown+=" '$a'" ;;
            *) shown+=" $a" ;;
        esac
    done
    echo "\$ fraiseql-wire$shown"
    "$W" "$@"
}
run "unfiltered stream from v_user (first 3 documents)" \
    stream user --order-by id:numeric --limit 3
run "filtered stream: active users in Zürich aged 30 or more, oldest first (first 3)" \
    stream user --where '{"status": {"eq": "active"}, "profile": {"city": {"eq": "Zürich"}}, "age": {"gte": 30}}' \
    --order-by age:desc:numeric --order-by id:numeric --limit 3
run "the same filter on the materialised tv_user, as a JSON array" \
    stream user --table --where '{"status": {"eq": "active"}, "profile": {"city": {"eq": "Zürich"}}, "age": {"gte": 30}}' \
    --order-by id:numeric --limit 2 --array
run "what the server runs: the filter rewritten onto the base table's columns and indexes" \
    explain user --where '{"email": {"eq": "user42@example.com"}, "status": {"neq": "banned"}}' 
echo
echo "== a whole stream to /dev/null (5,000 documents; the progress line is on stderr)"
echo "\$ fraiseql-wire stream user --chunk-size 500 --progress > /dev/null"
"$W" stream user --chunk-size 500 --progress > /dev/null
run "a view of the right shape" check user
