#!/usr/bin/env bash
# run.sh — the benchmark driver behind `make bench`, `make bench-micro`, `make bench-quick`.
#
#   bench/run.sh all     micro benchmarks + every integration and comparison
#                        benchmark on the full data set (1K..1M rows), and the
#                        ORDER BY benchmark (bench/order/run.sh); writes
#                        bench/results/<UTC time>-all.json and latest.json, and
#                        regenerates docs/benchmarks.md and docs/plots/*.png
#   bench/run.sh micro   the micro benchmarks only (no server), ~30 s
#   bench/run.sh quick   a subset (10K and 100K rows, every client) compared with
#                        bench/results/baseline.json: a warning for every ratio
#                        against libpq single-row mode that dropped by > 10 %
#   bench/run.sh render  the document-rendering comparison only: v_ views over the
#                        same 1M rows built by jsonb_build_object, json_build_object
#                        and fraiseql_wire.json_document, server floor + libpq +
#                        fraiseql-wire, interleaved; bench/results/<UTC time>-render.json
#   bench/run.sh report  regenerate docs/ from bench/results/latest.json
#
# Options (environment):
#   PG_CONFIG          the PostgreSQL installation (default: pg_config on PATH);
#                      the extension is installed into it (make install-extension)
#   BENCH_REPS=N       repetitions per case (default 5; 3 for the 1M view and most 1M cases)
#   BENCH_MAX_ROWS=N   build and measure item sets up to N rows (default 1000000)
#   BENCH_SAVE_BASELINE=1   quick: save this run as bench/results/baseline.json
#
# The server is a throw-away cluster (scripts/cluster.sh), stopped on exit and
# on interrupt.  Nothing is installed into the system but what deps.sh --bench
# lists and what `make install-extension` installs into PG_CONFIG's server.
set -euo pipefail

mode=${1:-all}
case "$mode" in
    all | micro | quick | render | report) ;;
    *) echo "usage: $0 all|micro|quick|render|report" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)
export BENCH_PSQL=$bindir/psql
results=bench/results
build=bench/build
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results" "$build"

say() { printf 'bench: %s\n' "$*" >&2; }

if [ "$mode" = report ]; then
    exec python3 bench/report.py docs "$results/latest.json"
fi

# ------------------------------------------------------------------ build
scripts/deps.sh --bench || { say "missing packages (see above)"; exit 1; }
say "building the client library and the benchmark programs"
if ! make --no-print-directory client >"$build/build.log" 2>&1 ||
   ! make --no-print-directory -C bench >>"$build/build.log" 2>&1; then
    tail -n 40 "$build/build.log" >&2
    say "the build failed ($build/build.log)"
    exit 1
fi
say "client features: $(tr '\n' ' ' <"$build/features")"

# ------------------------------------------------------------------ micro
micro_out=$build/micro.jsonl
run_micro() {
    say "micro benchmarks"
    "$build/micro" >"$micro_out"
    python3 bench/report.py micro "$micro_out" >&2
}

if [ "$mode" = micro ]; then
    run_micro
    python3 - "$micro_out" "$results/$stamp-micro.json" <<'EOF'
import json, sys, datetime
micro = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
meta = {'mode': 'micro',
        'started_utc': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}
json.dump({'meta': meta, 'micro': micro, 'summary': [], 'runs': []}, open(sys.argv[2], 'w'),
          indent=1, sort_keys=True)
EOF
    say "results: $results/$stamp-micro.json"
    exit 0
fi
if [ "$mode" = all ]; then
    run_micro
else
    : >"$micro_out"
fi

# ---------------------------------------------------------------- cluster
state=$build/cluster
stop_cluster() { scripts/cluster.sh stop "$state" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
trap 'say interrupted; stop_cluster; exit 130' INT TERM
scripts/cluster.sh start "$state" 2>"$build/cluster.log" || {
    cat "$build/cluster.log" >&2
    say "the temporary cluster did not start"
    exit 1
}
# shellcheck disable=SC1090
eval "$(scripts/cluster.sh env "$state")"
psql() { "$BENCH_PSQL" -X -q -v ON_ERROR_STOP=1 "$@"; }

if make --no-print-directory install-extension >"$build/install.log" 2>&1 &&
   psql -c 'CREATE EXTENSION IF NOT EXISTS fraiseql_wire' >>"$build/install.log" 2>&1; then
    say "extension fraiseql_wire $(psql -A -t -c "SELECT extversion FROM pg_extension WHERE extname = 'fraiseql_wire'") installed"
else
    tail -n 10 "$build/install.log" >&2
    say "warning: the extension did not install; pushdown benchmarks will be 'not run'"
fi
# One backend per query, as a stream has; no JIT compile time in the timings.
psql -c 'ALTER SYSTEM SET max_parallel_workers_per_gather = 0' \
     -c 'ALTER SYSTEM SET jit = off' -c 'SELECT pg_reload_conf()' >/dev/null

if [ "$mode" = quick ]; then
    max_rows=100000
else
    max_rows=${BENCH_MAX_ROWS:-1000000}
fi
export BENCH_MAX_ROWS=$max_rows
say "loading bench/setup.sql (item sets up to $max_rows rows)"
t0=$(date +%s)
psql -v max_rows="$max_rows" -f bench/setup.sql >/dev/null
say "data loaded in $(( $(date +%s) - t0 )) s"

# ---------------------------------------------------------------- measure
out=$results/$stamp-$mode.json
rc=0
python3 bench/harness.py --mode "$mode" --out "$out" --micro "$micro_out" || rc=$?
# ORDER BY through a v_ view, on the 1M set just loaded (docs/performance.md)
if [ "$mode" = all ] && [ "$max_rows" -ge 1000000 ]; then
    say "ORDER BY benchmark (bench/order/run.sh): $results/$stamp-order.txt"
    BENCH_ORDER_REUSE=1 bench/order/run.sh >"$results/$stamp-order.txt" 2>&1 || {
        tail -n 20 "$results/$stamp-order.txt" >&2
        say "warning: bench/order/run.sh failed"
        rc=1
    }
fi
stop_cluster
trap - EXIT INT TERM
[ -s "$out" ] || { say "no results written"; exit 1; }

if [ "$mode" = all ]; then
    cp "$out" "$results/latest.json"
    python3 bench/report.py docs "$results/latest.json"
    say "results: $out (and latest.json); report: docs/benchmarks.md, docs/plots/"
else
    if [ "$mode" = render ]; then
        python3 bench/report.py render "$out"
    elif [ -f "$results/baseline.json" ]; then
        python3 bench/report.py compare "$out" "$results/baseline.json" || true
    else
        say "no $results/baseline.json to compare with"
    fi
    if [ "$mode" = quick ] && { [ "${BENCH_SAVE_BASELINE:-}" = 1 ] || [ ! -f "$results/baseline.json" ]; }; then
        cp "$out" "$results/baseline.json"
        say "saved this run as $results/baseline.json"
    fi
    say "results: $out"
fi
[ "$rc" -eq 0 ] || say "warning: some runs failed or returned wrong row counts (see above)"
exit "$rc"
