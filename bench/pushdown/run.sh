#!/usr/bin/env bash
# bench/pushdown/run.sh — what the planner rewrite of fraiseql_wire.matches()
# buys, on a throw-away cluster (never part of `make check`).
#
#   bench/pushdown/run.sh [ROWS] [RUNS]      defaults: 1000000 rows, 7 runs
#
# Loads ROWS rows into a base table with B-tree indexes, a v_ view over it
# (jsonb_build_object of its columns) and a tv_ table (the same documents,
# GIN jsonb_path_ops), then times, interleaved, RUNS times each:
#   through the view, at ~2 % and ~0.01 % selectivity:
#     matches(data, filter)             (rewritten onto the base columns)
#     the data->> SQL form              (WHERE data->>'category' = 'cat7')
#     hand-written base-column SQL      (jsonb_build_object(...) FROM items WHERE category = 'cat7')
#   on the tv_ table:
#     matches(data, filter)             (rewritten into data @> '{…}' + GIN)
#     hand-written data @> '{…}'
# Runs alternate forward and reverse order (interleaved); in each run every
# query is executed twice back to back and the second execution is timed.
# The median of the runs is reported.
# Every query returns sum(length(data::text)) so that the documents are
# really built and converted.  Prints the median of each and the ratios.
# Server settings are the defaults of scripts/cluster.sh (JIT and parallel
# query on, as shipped).
set -euo pipefail

rows=${1:-1000000}
runs=${2:-7}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG
state=$root/build/bench-pushdown
out=$root/build/bench-pushdown.out

scripts/cluster.sh start "$state" >/dev/null
trap 'scripts/cluster.sh stop "$state" >/dev/null 2>&1 || true' EXIT
eval "$(scripts/cluster.sh env "$state")"
make --no-print-directory install-extension >/dev/null

psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE DATABASE bench;
\c bench
CREATE EXTENSION fraiseql_wire;
CREATE TABLE items (
  id int PRIMARY KEY,
  category text,          -- 50 values: 2 % each
  code text,              -- 10000 values: 0.01 % each
  score int,
  status text,
  created date,
  price numeric,
  name text
);
INSERT INTO items
SELECT i, 'cat' || (i % 50), 'c' || ((i::bigint * 7919) % 10000), ((i::bigint * 104729) % 1000)::int,
       (ARRAY['active', 'inactive', 'pending', 'archived'])[1 + i % 4],
       date '2020-01-01' + i % 1500, (i % 10000) / 100.0, md5(i::text)
FROM generate_series(1, :rows) AS i;
CREATE INDEX ON items (category);
CREATE INDEX ON items (code);
CREATE INDEX ON items (score);
CREATE VIEW v_item AS
  SELECT id, jsonb_build_object('id', id, 'category', category, 'code', code, 'score', score,
                                'status', status, 'created', created, 'price', price,
                                'name', name) AS data
  FROM items;
CREATE TABLE tv_item AS SELECT id, data FROM v_item;
ALTER TABLE tv_item ADD PRIMARY KEY (id);
CREATE INDEX ON tv_item USING gin (data jsonb_path_ops);
VACUUM ANALYZE items;
VACUUM ANALYZE tv_item;
SQL

# name|query, in the order they are interleaved
queries=(
"view_2pct_matches|SELECT sum(length(data::text)) FROM v_item WHERE fraiseql_wire.matches(data, '{\"category\": {\"eq\": \"cat7\"}}')"
"view_2pct_arrow|SELECT sum(length(data::text)) FROM v_item WHERE data->>'category' = 'cat7'"
"view_2pct_base|SELECT sum(length(data::text)) FROM (SELECT jsonb_build_object('id', id, 'category', category, 'code', code, 'score', score, 'status', status, 'created', created, 'price', price, 'name', name) AS data FROM items WHERE category = 'cat7') s"
"view_001pct_matches|SELECT sum(length(data::text)) FROM v_item WHERE fraiseql_wire.matches(data, '{\"code\": {\"eq\": \"c42\"}}')"
"view_001pct_arrow|SELECT sum(length(data::text)) FROM v_item WHERE data->>'code' = 'c42'"
"view_001pct_base|SELECT sum(length(data::text)) FROM (SELECT jsonb_build_object('id', id, 'category', category, 'code', code, 'score', score, 'status', status, 'created', created, 'price', price, 'name', name) AS data FROM items WHERE code = 'c42') s"
"view_range_matches|SELECT sum(length(data::text)) FROM v_item WHERE fraiseql_wire.matches(data, '{\"score\": {\"lt\": 20}}')"
"view_range_base|SELECT sum(length(data::text)) FROM (SELECT jsonb_build_object('id', id, 'category', category, 'code', code, 'score', score, 'status', status, 'created', created, 'price', price, 'name', name) AS data FROM items WHERE score < 20) s"
"tv_2pct_matches|SELECT sum(length(data::text)) FROM tv_item WHERE fraiseql_wire.matches(data, '{\"category\": {\"eq\": \"cat7\"}}')"
"tv_2pct_contains|SELECT sum(length(data::text)) FROM tv_item WHERE data @> '{\"category\": \"cat7\"}'"
"tv_001pct_matches|SELECT sum(length(data::text)) FROM tv_item WHERE fraiseql_wire.matches(data, '{\"code\": {\"eq\": \"c42\"}}')"
"tv_001pct_contains|SELECT sum(length(data::text)) FROM tv_item WHERE data @> '{\"code\": \"c42\"}'"
)

# All runs in one session (as behind a connection pool: the library is
# loaded and the catalogs cached once), after one warm-up round; \timing
# is the client's round trip, planning included.
script=$root/build/bench-pushdown.sql
{
    echo '\timing on'
    echo '\pset tuples_only on'
    echo '\pset format unaligned'
    for run in $(seq 0 "$runs"); do
        # odd runs in reverse order, so that every query has the same
        # neighbours before and after it over the runs
        order=("${queries[@]}")
        if [ $((run % 2)) -eq 1 ]; then
            order=()
            for ((k = ${#queries[@]} - 1; k >= 0; k--)); do order+=("${queries[k]}"); done
        fi
        for q in "${order[@]}"; do
            # twice back to back, the second one timed: the first absorbs
            # what the previous (maybe 1000 times larger) query left behind
            echo "\\echo @@ $run -"
            echo "${q#*|};"
            echo "\\echo @@ $run ${q%%|*}"
            echo "${q#*|};"
        done
    done
} > "$script"
echo "== $runs runs of ${#queries[@]} queries (run 0 is the warm-up)"
psql -X -q -d bench -f "$script" | awk '
    /^@@ / { run = $2; name = $3; next }
    /^Time: / { if (run > 0 && name != "-") print name, $2, result; next }
    NF { result = $0 }' > "$out"

echo "== plans"
for q in "${queries[@]}"; do
    case ${q%%|*} in *matches*|*arrow*)
        echo "-- ${q%%|*}"
        psql -X -q -d bench -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${q#*|}" | sed -n '1,14p'
    esac
done

echo "== results: median of $runs runs, ms (rows: $rows)"
awk '
    { t[$1] = t[$1] " " $2; r[$1] = $3; if (!($1 in seen)) { order[n++] = $1; seen[$1] = 1 } }
    END {
        for (i = 0; i < n; i++) {
            k = order[i]; m = split(substr(t[k], 2), a, " ")
            for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (a[y] + 0 < a[x] + 0) { s = a[x]; a[x] = a[y]; a[y] = s }
            med[k] = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
            printf "%-22s %10.1f   (result %s)\n", k, med[k], r[k]
        }
        print ""
        printf "view 2%%:     matches / base = %.2f   data->> / matches = %.1f\n", med["view_2pct_matches"] / med["view_2pct_base"], med["view_2pct_arrow"] / med["view_2pct_matches"]
        printf "view 0.01%%:  matches / base = %.2f   data->> / matches = %.1f\n", med["view_001pct_matches"] / med["view_001pct_base"], med["view_001pct_arrow"] / med["view_001pct_matches"]
        printf "view range:  matches / base = %.2f\n", med["view_range_matches"] / med["view_range_base"]
        printf "tv_ 2%%:      matches / @>   = %.2f\n", med["tv_2pct_matches"] / med["tv_2pct_contains"]
        printf "tv_ 0.01%%:   matches / @>   = %.2f\n", med["tv_001pct_matches"] / med["tv_001pct_contains"]
    }' "$out"
