#!/usr/bin/env bash
# bench/planning/run.sh — planning time of big filters, one build against
# another, side by side on two throw-away clusters (never part of make check).
#
#   PG_CONFIG_BASE=… PG_CONFIG=… bench/planning/run.sh [RUNS]     (default 3 runs)
#
# PG_CONFIG and PG_CONFIG_BASE name two PostgreSQL installations that each
# have a build of the extension installed (e.g. this tree and main, each in a
# scripts/pg-sandbox.sh copy; docs/performance.md has the exact commands).
# Each gets its own cluster with the same data: a 100,000-row base table
# with B-tree indexes, its v_ view (jsonb_build_object) and a tv_ table
# (jsonb, GIN jsonb_path_ops), analyzed.  For 1,000, 10,000 and 100,000 arms
# of four filter shapes it takes the planner's own "Planning Time" (EXPLAIN
# (SUMMARY, FORMAT JSON)) of a query whose filter is a parameter of a one-shot
# plan (so the planner sees a constant, with no multi-megabyte literal to
# parse), the median of RUNS runs, alternating the two clusters.  A case
# that does not finish within BENCH_CASE_TIMEOUT seconds (default 60) is
# reported as "> N s" and its backend terminated (the old code ignores
# cancel, so pg_terminate_backend may take as long as the case itself); the
# base build is not run above BENCH_BASE_MAX_ARMS arms (default 10000).
#
# Also measured, 10,000 arms of eq on the view: executing the query with JIT
# forced (jit_above_cost = 0), and without JIT.
#
# The machine is shared and noisy: compare the ratios of one run only.
set -euo pipefail

runs=${1:-3}
timeout_s=${BENCH_CASE_TIMEOUT:-60}
base_max_arms=${BENCH_BASE_MAX_ARMS:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
: "${PG_CONFIG:?PG_CONFIG: the installation with the build to measure}"
: "${PG_CONFIG_BASE:?PG_CONFIG_BASE: the installation with the build to compare with}"
state=$root/build/bench-planning
mkdir -p "$state"

start() {   # start NAME PG_CONFIG
    PG_CONFIG=$2 scripts/cluster.sh start "$state/$1" >/dev/null
}
stop_all() {
    PG_CONFIG=$PG_CONFIG scripts/cluster.sh stop "$state/new" >/dev/null 2>&1 || true
    PG_CONFIG=$PG_CONFIG_BASE scripts/cluster.sh stop "$state/base" >/dev/null 2>&1 || true
}
trap stop_all EXIT
start new "$PG_CONFIG"
start base "$PG_CONFIG_BASE"

psql_in() {  # psql_in NAME ARGS…: psql against cluster NAME
    local name=$1
    shift
    (eval "$(scripts/cluster.sh env "$state/$name")" &&
        "$("$PG_CONFIG" --bindir)/psql" -X -q -At -v ON_ERROR_STOP=1 "$@")
}

for c in new base; do
    psql_in "$c" <<'SQL'
CREATE EXTENSION fraiseql_wire;
CREATE TABLE t (id int PRIMARY KEY, s text, i int, n numeric);
INSERT INTO t SELECT g, 'v' || g, g % 50000, g FROM generate_series(1, 100000) g;
CREATE INDEX ON t (s);
CREATE INDEX ON t (i);
CREATE VIEW v_t AS SELECT id, jsonb_build_object('id', id, 's', s, 'i', i, 'n', n) AS data FROM t;
CREATE TABLE tv (id int PRIMARY KEY, data jsonb);
INSERT INTO tv SELECT id, data FROM v_t;
CREATE INDEX ON tv USING gin (data jsonb_path_ops);
ANALYZE t;
ANALYZE tv;
CREATE TABLE filters (shape text, arms int, f jsonb, PRIMARY KEY (shape, arms));
INSERT INTO filters
SELECT shape, arms,
       CASE shape
         WHEN 'or-eq-view' THEN jsonb_build_object('or', (SELECT jsonb_agg(jsonb_build_object('s', jsonb_build_object('eq', 'v' || k))) FROM generate_series(1, arms) k))
         WHEN 'or-eq-table' THEN jsonb_build_object('or', (SELECT jsonb_agg(jsonb_build_object('s', jsonb_build_object('eq', 'v' || k))) FROM generate_series(1, arms) k))
         WHEN 'or-startswith-view' THEN jsonb_build_object('or', (SELECT jsonb_agg(jsonb_build_object('s', jsonb_build_object('startswith', 'v' || k))) FROM generate_series(1, arms) k))
         ELSE jsonb_build_object('and', (SELECT jsonb_agg(jsonb_build_object('f' || k, jsonb_build_object('eq', 1))) FROM generate_series(1, arms) k))
       END
  FROM unnest(ARRAY['or-eq-view', 'or-eq-table', 'or-startswith-view', 'and-eq-table']) shape,
       unnest(ARRAY[1000, 10000, 100000]) arms;
CREATE FUNCTION plan_ms(shape text, arms int) RETURNS float LANGUAGE plpgsql AS $$
DECLARE
  f jsonb;
  j json;
  rel text := CASE WHEN shape LIKE '%view' THEN 'v_t' ELSE 'tv' END;
BEGIN
  SELECT filters.f INTO f FROM filters WHERE filters.shape = plan_ms.shape AND filters.arms = plan_ms.arms;
  EXECUTE format('EXPLAIN (SUMMARY, FORMAT JSON) SELECT id FROM %s WHERE fraiseql_wire.matches(data, $1)', rel)
    INTO j USING f;
  RETURN (j -> 0 ->> 'Planning Time')::float;
END $$;
CREATE FUNCTION exec_ms(arms int) RETURNS float LANGUAGE plpgsql AS $$
DECLARE
  f jsonb;
  t0 timestamptz;
  n bigint;
BEGIN
  SELECT filters.f INTO f FROM filters WHERE shape = 'or-eq-view' AND filters.arms = exec_ms.arms;
  t0 := clock_timestamp();
  EXECUTE 'SELECT count(*) FROM v_t WHERE fraiseql_wire.matches(data, $1)' INTO n USING f;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
SQL
done

# one measurement: prints milliseconds, or "> N s"
bindir=$("$PG_CONFIG" --bindir)
measure() {  # measure CLUSTER SQL
    local c=$1 sql=$2 out f=$state/query-$1.sql
    printf "SET application_name = 'bench_planning';\nSET fraiseql_wire.max_filter_nodes = 1000000;\n%s;\n" \
        "$sql" >"$f"
    if out=$( (eval "$(scripts/cluster.sh env "$state/$c")" &&
               timeout "$timeout_s" "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -f "$f") 2>&1); then
        printf '%.1f\n' "$(tail -n 1 <<<"$out")"
    else
        psql_in "$c" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                          WHERE application_name = 'bench_planning'" >/dev/null 2>&1 || true
        echo "> ${timeout_s} s"
    fi
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '| case | arms | base (ms) | this build (ms) | base / this |\n|---|---:|---:|---:|---:|\n'
cases=()
for shape in or-eq-view or-eq-table or-startswith-view and-eq-table; do
    for arms in 1000 10000 100000; do
        cases+=("plan $shape $arms|SELECT plan_ms('$shape', $arms)")
    done
done
cases+=("execute or-eq-view, JIT forced 10000|SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; SET jit_optimize_above_cost = 0; SELECT exec_ms(10000)")
cases+=("execute or-eq-view, JIT off 10000|SET jit = off; SELECT exec_ms(10000)")
for entry in "${cases[@]}"; do
    label=${entry%%|*}
    sql=${entry#*|}
    declare -a a=() b=()
    skip_base=0
    # the base build is quadratic: 100,000 arms would run for hours, deaf
    # to cancel and terminate, and slow down every other measurement
    arms=${label##* }
    [ "$arms" -gt "$base_max_arms" ] && skip_base=1 && a=("not run")
    for r in $(seq 1 "$runs"); do
        b+=("$(measure new "$sql")")
        if [ "$skip_base" = 0 ]; then
            x=$(measure base "$sql")
            a+=("$x")
            # a case over the timeout is not repeated
            case $x in ">"*) skip_base=1 ;; esac
        fi
    done
    ma=$(printf '%s\n' "${a[@]}" | grep -v '^>' | median || true)
    grep -q '^>' < <(printf '%s\n' "${a[@]}") && ma="> ${timeout_s} s"
    [ "${a[0]}" = "not run" ] && ma="not run"
    mb=$(printf '%s\n' "${b[@]}" | grep -v '^>' | median || true)
    grep -q '^>' < <(printf '%s\n' "${b[@]}") && mb="> ${timeout_s} s"
    ratio="-"
    case "$ma$mb" in *">"*) ratio="> $(awk -v a="$timeout_s" -v b="$mb" 'BEGIN { if (b > 0) printf "%.0f", a * 1000 / b; else print "?" }')" ;;
        *) ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }') ;;
    esac
    case "$mb" in ">"*) ratio="-" ;; esac
    [ "$ma" = "not run" ] && ratio="-"
    printf '| %s | %s | %s | %s | %s |\n' "${label% *}" "${label##* }" "$ma" "$mb" "$ratio"
done
