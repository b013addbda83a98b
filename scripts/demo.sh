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

show() {   # show TITLE SQL
    echo
    echo "== $1"
    echo "\$ $2"
    psql -X -At -c "$2"
}
show "unfiltered stream from v_user (first 3 documents)" \
     "SELECT data FROM v_user ORDER BY id LIMIT 3"
show "filtered stream: active users in Zürich aged 30 or more (first 3)" \
     "SELECT data FROM v_user WHERE fraiseql_wire.matches(data, '{\"status\": {\"eq\": \"active\"}, \"profile\": {\"city\": {\"eq\": \"Zürich\"}}, \"age\": {\"gte\": 30}}') ORDER BY id LIMIT 3"
show "the same filter on tv_user, counted" \
     "SELECT count(*) FROM tv_user WHERE fraiseql_wire.matches(data, '{\"status\": {\"eq\": \"active\"}, \"profile\": {\"city\": {\"eq\": \"Zürich\"}}, \"age\": {\"gte\": 30}}')"
