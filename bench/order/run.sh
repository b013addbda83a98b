#!/usr/bin/env bash
# bench/order/run.sh — ORDER BY through a v_ view: what mapping the sort key
# onto the base column's B-tree index buys (docs/performance.md, "ORDER BY").
# Never part of `make check`.
#
#   bench/order/run.sh [RUNS]            default 5 runs
#
# Uses the 1M-row set of bench/setup.sql (bench.src_1m, its view
# bench.v_items_1m, id the primary key).  Standalone it starts a throw-away
# cluster (scripts/cluster.sh, build/bench-order, stopped on exit), installs
# the extension and loads bench/setup.sql; `make bench` (bench/run.sh all)
# calls it with BENCH_ORDER_REUSE=1 on its own cluster, data already loaded.
#
# Cases, interleaved (odd runs in reverse order), each timed as the wall
# clock of one process (connect, plan, stream, exit) — the client is the
# fraiseql-wire command or psql; output goes to /dev/null:
#   top10_cmd        fraiseql-wire stream bench.items_1m --order-by id:numeric --limit 10
#   top10_cmd_desc   the same with id:numeric:desc
#   top10_norewrite  the same command with fraiseql_wire.enable_rewrite=off
#                    (PGOPTIONS): the sort key evaluated on every document
#   top10_old_sql    the SQL the client sent before sort keys existed:
#                    ORDER BY (CASE WHEN jsonb_typeof(data->'id') = 'number'
#                    THEN (data->>'id')::numeric END) LIMIT 10   (psql)
#   top10_hand_sql   hand-written on the base table: jsonb_build_object(…)
#                    FROM bench.src_1m ORDER BY id LIMIT 10      (psql)
#   page_cmd         a keyset page: --where '{"id": {"gt": 500000}}'
#                    --order-by id:numeric --limit 100
#   page_old_sql     the same page with the old ORDER BY expression (psql)
#   page_hand_sql    WHERE id > 500000 ORDER BY id LIMIT 100 on the base table (psql)
# Then the four fast SQL statements (the client's SQL with the path as a
# literal, and the hand-written SQL) timed inside one psql session, in
# batches of 200 executions (srv_*, ms per execution).
# Prints the median of each (ms) and the ratios; the machine is shared and
# noisy (±25 % between runs), so only ratios from one run mean anything.
set -euo pipefail

runs=${1:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG
bin=$root/client/build/fraiseql-wire
psql_bin=$("$PG_CONFIG" --bindir)/psql
out=$root/build/bench-order.out
mkdir -p "$root/build"

if [ "${BENCH_ORDER_REUSE:-}" != 1 ]; then
    state=$root/build/bench-order
    make --no-print-directory client >/dev/null
    scripts/cluster.sh start "$state" >/dev/null
    trap 'scripts/cluster.sh stop "$state" >/dev/null 2>&1 || true' EXIT
    eval "$(scripts/cluster.sh env "$state")"
    make --no-print-directory install-extension >/dev/null
    "$psql_bin" -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS fraiseql_wire' \
        -c 'ALTER SYSTEM SET max_parallel_workers_per_gather = 0' -c 'ALTER SYSTEM SET jit = off' \
        -c 'SELECT pg_reload_conf()' >/dev/null
    echo "== loading bench/setup.sql (1000000 rows)"
    "$psql_bin" -X -q -v ON_ERROR_STOP=1 -v max_rows=1000000 -f bench/setup.sql >/dev/null
fi
[ -x "$bin" ] || { echo "bench/order: $bin is missing (make client)" >&2; exit 1; }
"$psql_bin" -X -q -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE bench.src_1m' >/dev/null

doc="jsonb_build_object('id', id, 'name', name, 'status', status, 'bucket', bucket, 'pct', pct, 'score', score, 'created_at', created_at, 'tags', jsonb_build_array(tag_a, tag_b), 'owner', jsonb_build_object('name', owner_name, 'email', owner_email))"
old_key="(CASE WHEN jsonb_typeof(data->'id') = 'number' THEN (data->>'id')::numeric END)"

# name|kind|argument: kind cmd = fraiseql-wire arguments (eval'd), sql = one statement for psql
cases=(
"top10_cmd|cmd|stream bench.items_1m --order-by id:numeric --limit 10"
"top10_cmd_desc|cmd|stream bench.items_1m --order-by id:numeric:desc --limit 10"
"top10_norewrite|nocmd|stream bench.items_1m --order-by id:numeric --limit 10"
"top10_old_sql|sql|SELECT data FROM bench.v_items_1m ORDER BY $old_key ASC LIMIT 10"
"top10_hand_sql|sql|SELECT $doc AS data FROM bench.src_1m ORDER BY id LIMIT 10"
"page_cmd|cmd|stream bench.items_1m --where '{\"id\": {\"gt\": 500000}}' --order-by id:numeric --limit 100"
"page_old_sql|sql|SELECT data FROM bench.v_items_1m WHERE fraiseql_wire.matches(data, '{\"id\": {\"gt\": 500000}}') ORDER BY $old_key ASC LIMIT 100"
"page_hand_sql|sql|SELECT $doc AS data FROM bench.src_1m WHERE id > 500000 ORDER BY id LIMIT 100"
)

now_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }
run_case() {   # run_case KIND ARG: one process, output discarded
    case $1 in
        cmd) eval "\"\$bin\" $2" >/dev/null ;;
        nocmd) eval "PGOPTIONS='-c fraiseql_wire.enable_rewrite=off' \"\$bin\" $2" >/dev/null ;;
        sql) "$psql_bin" -X -q -v ON_ERROR_STOP=1 -c "$2" >/dev/null ;;
    esac
}

echo "== plans"
for c in "${cases[@]}"; do
    IFS='|' read -r name kind arg <<<"$c"
    echo "-- $name"
    case $kind in
        cmd) eval "\"\$bin\" explain ${arg#stream }" ;;
        nocmd) eval "PGOPTIONS='-c fraiseql_wire.enable_rewrite=off' \"\$bin\" explain ${arg#stream }" ;;
        sql) "$psql_bin" -X -q -c "EXPLAIN $arg" ;;
    esac | grep -E 'Limit|Scan|Sort|Index Cond' | cut -c1-110
done

echo "== $runs runs of ${#cases[@]} cases (run 0 is the warm-up)"
: >"$out"
for run in $(seq 0 "$runs"); do
    order=("${cases[@]}")
    if [ $((run % 2)) -eq 1 ]; then
        order=()
        for ((k = ${#cases[@]} - 1; k >= 0; k--)); do order+=("${cases[k]}"); done
    fi
    for c in "${order[@]}"; do
        IFS='|' read -r name kind arg <<<"$c"
        t0=$(now_ms)
        run_case "$kind" "$arg"
        t1=$(now_ms)
        [ "$run" -gt 0 ] && echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >>"$out"
    done
done

# The fast SQL statements again inside one psql session (no process start,
# no connection: what the server spends, planning included): each timed as
# a batch of 200 executions (a PL/pgSQL loop of EXECUTE, planned every
# time), RUNS + 1 batches interleaved; reported per execution.
batch=200
srv_cases=(
"srv_top10_new|SELECT data FROM bench.v_items_1m ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') ASC LIMIT 10"
"srv_top10_hand|SELECT $doc AS data FROM bench.src_1m ORDER BY id LIMIT 10"
"srv_page_new|SELECT data FROM bench.v_items_1m WHERE fraiseql_wire.matches(data, '{\"id\": {\"gt\": 500000}}') ORDER BY fraiseql_wire.sort_key_numeric(data, 'id') ASC LIMIT 100"
"srv_page_hand|SELECT $doc AS data FROM bench.src_1m WHERE id > 500000 ORDER BY id LIMIT 100"
)
script=$root/build/bench-order.sql
{
    echo '\timing on'
    for run in $(seq 0 "$runs"); do
        for c in "${srv_cases[@]}"; do
            echo "\\echo @@ $run ${c%%|*}"
            echo "DO \$do\$ BEGIN FOR i IN 1..$batch LOOP EXECUTE \$q\$${c#*|}\$q\$; END LOOP; END \$do\$;"
        done
    done
} >"$script"
"$psql_bin" -X -q -v ON_ERROR_STOP=1 -f "$script" | awk -v batch="$batch" '
    /^@@ / { run = $2; name = $3; next }
    /^Time: / { if (run > 0) printf "%s %.3f\n", name, $2 / batch }' >>"$out"

echo "== results: median of $runs runs (ms of one process each; srv_*: ms per execution in one session)"
awk '
    { t[$1] = t[$1] " " $2; if (!($1 in seen)) { order[n++] = $1; seen[$1] = 1 } }
    END {
        for (i = 0; i < n; i++) {
            k = order[i]; m = split(substr(t[k], 2), a, " ")
            for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (a[y] + 0 < a[x] + 0) { s = a[x]; a[x] = a[y]; a[y] = s }
            med[k] = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
            all = ""; for (x = 1; x <= m; x++) all = all " " a[x]
            printf "%-18s %10.3f   (sorted:%s)\n", k, med[k], all
        }
        print ""
        printf "top 10:    old SQL / command     = %6.1f\n", med["top10_old_sql"] / med["top10_cmd"]
        printf "top 10:    rewrite off / on      = %6.1f\n", med["top10_norewrite"] / med["top10_cmd"]
        printf "top 10:    command / hand SQL    = %6.2f\n", med["top10_cmd"] / med["top10_hand_sql"]
        printf "top 10:    desc / asc (command)  = %6.2f\n", med["top10_cmd_desc"] / med["top10_cmd"]
        printf "page 100:  old SQL / command     = %6.1f\n", med["page_old_sql"] / med["page_cmd"]
        printf "page 100:  command / hand SQL    = %6.2f\n", med["page_cmd"] / med["page_hand_sql"]
        printf "server:    top 10 sort key / hand SQL   = %6.2f\n", med["srv_top10_new"] / med["srv_top10_hand"]
        printf "server:    page 100 sort key / hand SQL = %6.2f\n", med["srv_page_new"] / med["srv_page_hand"]
    }' "$out"
