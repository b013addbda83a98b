#!/usr/bin/env bash
# parallel_probe.sh — where a parallel stream's time goes, in measures that
# other load on the machine disturbs less than rows/s (docs/performance.md,
# "Parallel streams").  Not part of make bench: run it by hand against a
# cluster that has bench/setup.sql loaded and bench.v_par_items created
# (bench/parallel.py creates it), with the PG* variables set
# (eval "$(scripts/cluster.sh env STATE)"), as a user who may read the
# server's /proc entries (root here).
#
#   bench/parallel_probe.sh syscalls FW_PARALLEL_A FW_PARALLEL_B
#       two builds of bench/clients/fw_parallel (say main's and a branch's),
#       interleaved, 1, 2 and 4 parts on the tv_ table and the v_ view, each
#       run once under `strace -c -f`: recv(2) calls (those failing with
#       EAGAIN apart), poll(2) calls, and recv + poll per 1000 rows
#   bench/parallel_probe.sh cpu FW_PARALLEL_A FW_PARALLEL_B
#       the same runs without strace, twice: wall time, the client's CPU and
#       the server's (the backends' user + system time, from the
#       postmaster's reaped-children counters), per row
#   bench/parallel_probe.sh scans
#       one backend (libpq single-row mode) streaming the 1M stored-jsonb rows
#       with a Seq Scan, and each half as a part reads it
#       (fraiseql_wire.in_blocks: a TID Range Scan) with the bulk-read ring
#       and without it (fraiseql_wire.tid_range_bulk_read = off), three
#       times: the server's CPU of each
#   bench/parallel_probe.sh cores FW_PARALLEL
#       how the split scales with cores, measured on the cores there are: the
#       server (the postmaster and every process it has or starts) and the
#       client pinned with taskset(1) to CPU 0 alone, then to CPUs 0 and 1;
#       1, 2 and 4 parts on the tv_ table and the v_ view, three rounds with
#       the two CPU sets interleaved: rows/s of each run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ci="host=$PGHOST port=$PGPORT user=${PGUSER:-postgres} dbname=${PGDATABASE:-postgres}"
psql_() { psql -X -A -t -q -c "$1"; }
pm=$(head -1 "$(psql_ 'SHOW data_directory')/postmaster.pid")
tck=$(getconf CLK_TCK)
reaped() { awk '{ sub(/.*\) /, ""); print $14 + $15 }' "/proc/$pm/stat"; }
load() { cut -d' ' -f1 /proc/loadavg; }
rels="bench.tv_items_1m_jsonb bench.v_par_items"

case "${1:-}" in
syscalls)
    for rel in $rels; do for p in 1 2 4; do for bin in "$2" "$3"; do
        t=$(mktemp)
        out=$(FW_BENCH_PARTS=$p strace -c -f -o "$t" "$bin" --conninfo "$ci" --sql "$rel")
        rows=$(grep -o '"rows":[0-9]*' <<<"$out" | head -1 | cut -d: -f2)
        awk -v bin="$bin" -v rel="$rel" -v p="$p" -v rows="$rows" -v load="$(load)" '
            $NF == "recvfrom" { recv = $4; again = (NF == 6 ? $5 : 0) }
            $NF == "poll" { polls = $4 }
            END { printf "%s %s parts=%d rows=%d recv=%d (EAGAIN %d) poll=%d recv+poll/1000 rows=%.2f load=%s\n",
                  bin, rel, p, rows, recv, again, polls, (recv + polls) * 1000 / rows, load }' "$t"
        rm -f "$t"
    done; done; done ;;
cpu)
    for _ in 1 2; do for rel in $rels; do for p in 1 2 4; do for bin in "$2" "$3"; do
        a=$(reaped)
        out=$(FW_BENCH_PARTS=$p "$bin" --conninfo "$ci" --sql "$rel")
        sleep 0.3
        b=$(reaped)
        python3 -c '
import json, sys
j = json.loads([l for l in sys.argv[1].splitlines() if l.startswith("{")][-1])
srv = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
n, wall, cpu = j["rows"], j["query_s"], j["query_cpu_s"]
print(f"{sys.argv[5]} {sys.argv[6]} parts={sys.argv[7]} wall={wall:.2f}s "
      f"client={cpu * 1e6 / n:.2f} us/row server={srv * 1e6 / n:.2f} us/row load={sys.argv[8]}")
' "$out" "$a" "$b" "$tck" "$bin" "$rel" "$p" "$(load)"
    done; done; done; done ;;
scans)
    half=$(psql_ "SELECT format('(%s,0)', pg_relation_size('bench.tv_items_1m_jsonb') / 8192 / 2)")
    for _ in 1 2 3; do
        for ring in on off; do
            for w in "" "WHERE fraiseql_wire.in_blocks(data, NULL, '$half')" \
                     "WHERE fraiseql_wire.in_blocks(data, '$half', NULL)"; do
                [ -z "$w" ] && [ "$ring" = off ] && continue
                a=$(reaped)
                out=$("$root/bench/build/clients/libpq_single" \
                      --conninfo "$ci options=-cfraiseql_wire.tid_range_bulk_read=$ring" \
                      --sql "SELECT data FROM bench.tv_items_1m_jsonb $w")
                sleep 0.3
                b=$(reaped)
                rows=$(grep -o '"rows":[0-9]*' <<<"$out" | head -1 | cut -d: -f2)
                echo "server_cpu=$(python3 -c "print(f'{($b - $a) / $tck:.2f}')")s rows=$rows load=$(load)" \
                     ":: ${w:-(seq scan)}${w:+ (ring $ring)}"
            done
        done
    done ;;
cores)
    pin() {     # pin CPUS: the postmaster and its children (new ones inherit it)
        local p
        for p in "$pm" $(pgrep -P "$pm"); do taskset -a -p -c "$1" "$p" >/dev/null; done
    }
    trap 'pin "0-$(( $(nproc) - 1 ))"' EXIT
    for _ in 1 2 3; do for cpus in 0 0-1; do
        pin "$cpus"
        for rel in $rels; do for p in 1 2 4; do
            out=$(FW_BENCH_PARTS=$p taskset -c "$cpus" "$2" --conninfo "$ci" --sql "$rel")
            python3 -c '
import json, sys
j = json.loads([l for l in sys.argv[1].splitlines() if l.startswith("{")][-1])
wall, rows = j["query_s"], j["rows"]
print(f"cpus={sys.argv[2]} {sys.argv[3]} parts={sys.argv[4]} wall={wall:.2f}s "
      f"rows/s={rows / wall:.0f} load={sys.argv[5]}")
' "$out" "$cpus" "$rel" "$p" "$(load)"
        done; done
    done; done ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
    exit 2 ;;
esac
