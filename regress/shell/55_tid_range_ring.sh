#!/usr/bin/env bash
# 55_tid_range_ring.sh — a part of a parallel stream over a big table (a TID
# Range Scan planned from fraiseql_wire.in_blocks()) reads through the
# bulk-read ring, as a Seq Scan of the table does, and not through a shared
# buffer per block (extension/src/scan_ring.c).  Runs its own throw-away
# cluster with 4 MB of shared_buffers (512 buffers; the ring is used for
# tables over 128 blocks and holds at most 32), restarted before each scan so
# that shared_buffers start empty, and counts the table's buffers with
# pg_buffercache after the scan.  The server named by PG* is not used.  TAP
# output.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
export PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)
work=$(mktemp -d "${TMPDIR:-/tmp}/fw_ring.XXXXXX")

cleanup() {
    "$root/scripts/cluster.sh" stop "$work/cl" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/tap.sh
. "$root/scripts/tap.sh"
q() {       # q SQL: run SQL, unaligned tuples only
    "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}
at_most() { # at_most ACTUAL LIMIT
    [ -n "$1" ] && [ "$1" -le "$2" ] || { echo "got $1, expected at most $2"; return 1; }
}
at_least() { # at_least ACTUAL LIMIT
    [ -n "$1" ] && [ "$1" -ge "$2" ] || { echo "got $1, expected at least $2"; return 1; }
}

if ! FW_CLUSTER_CONF='shared_buffers = 4MB' "$root/scripts/cluster.sh" start "$work/cl" \
        >"$work/cluster.log" 2>&1; then
    echo "not ok 1 - a cluster with 4 MB of shared_buffers starts"
    sed 's/^/# /' "$work/cluster.log"
    exit 1
fi
# shellcheck disable=SC1091
eval "$("$root/scripts/cluster.sh" env "$work/cl")"

if ! { q "CREATE EXTENSION fraiseql_wire" && q "CREATE EXTENSION pg_buffercache" &&
        q "CREATE TABLE ring_t AS
             SELECT g AS id, jsonb_build_object('id', g, 'pad', repeat('x', 200)) AS data
               FROM generate_series(1, 10000) g" &&
        q "VACUUM (FREEZE, ANALYZE) ring_t"; } >"$work/setup.log" 2>&1; then
    echo "Bail out! the test table could not be made"
    sed 's/^/# /' "$work/setup.log"
    exit 1
fi
blocks=$(q "SELECT pg_relation_size('ring_t') / 8192")
ok "the table ($blocks blocks) is over a quarter of shared_buffers (128 blocks)" \
    at_least "$blocks" 200

# scan OPTIONS SQL: restart, run SQL with OPTIONS, print "rows buffers" (the
# rows the scan returned, the table's pages in shared_buffers after it).
scan() {
    local rows
    "$root/scripts/cluster.sh" restart "$work/cl" && rows=$(PGOPTIONS="$1" q "$2") ||
        { echo "x x"; return 1; }
    echo "$rows $(q "SELECT count(*) FROM pg_buffercache
                      WHERE relfilenode = pg_relation_filenode('ring_t')
                        AND reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())")"
}
part1="SELECT count(*) FROM ring_t WHERE fraiseql_wire.in_blocks(data, NULL, '(100,0)')"
part2="SELECT count(*) FROM ring_t WHERE fraiseql_wire.in_blocks(data, '(100,0)', NULL)"
total=$(q "SELECT count(*) FROM ring_t")

read -r seq_rows seq_bufs < <(scan "" "SELECT count(*) FROM ring_t")
ok "a Seq Scan of the table uses the ring ($seq_bufs buffers)" at_most "${seq_bufs:-x}" 40

read -r p1_rows p1_bufs < <(scan "" "$part1")
ok "the first part's plan is a TID Range Scan" \
    bash -c "PGOPTIONS= '$bindir/psql' -X -At -c \"EXPLAIN $part1\" | grep -q 'Tid Range Scan on ring_t'"
ok "the first part (blocks 0–99) reads through the ring ($p1_bufs buffers)" at_most "${p1_bufs:-x}" 40
read -r p2_rows p2_bufs < <(scan "" "$part2")
ok "the second part (blocks 100–) reads through the ring ($p2_bufs buffers)" at_most "${p2_bufs:-x}" 40
sum_is() {  # sum_is A B EXPECTED
    [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]] && is_number "$(($1 + $2))" "$3"
}
ok "the two parts hold the table's rows ($p1_rows + $p2_rows = $total)" \
    sum_is "$p1_rows" "$p2_rows" "$total"

read -r off_rows off_bufs < <(scan "-c fraiseql_wire.tid_range_bulk_read=off" "$part2")
ok "with fraiseql_wire.tid_range_bulk_read off the part takes a buffer per block ($off_bufs)" \
    at_least "$off_bufs" $((blocks - 110))
ok "and returns the same rows ($off_rows)" is_number "$off_rows" "$p2_rows"

# A rescan (the inner side of a nested loop) keeps working with the scan
# begun early: each outer row reads the part again.
ok "a rescanned part returns its rows each time" \
    is_number "$(q "SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off;
             SELECT count(*) FROM (VALUES (1), (2), (3)) v(x)
               CROSS JOIN LATERAL (SELECT 1 FROM ring_t
                                    WHERE fraiseql_wire.in_blocks(data, '(100,0)', NULL)
                                      AND id % 3 = v.x - 1) s")" "$p2_rows"
# A scrollable cursor reads the part forwards and then backwards.
ok "a cursor over a part reads it backwards too" \
    is_number "$(q "BEGIN;
             DECLARE c SCROLL CURSOR FOR
               SELECT id FROM ring_t WHERE fraiseql_wire.in_blocks(data, '(100,0)', NULL);
             MOVE FORWARD ALL IN c;
             FETCH BACKWARD ALL FROM c;
             COMMIT;" | wc -l)" "$p2_rows"
# EXPLAIN without ANALYZE begins no scan; with ANALYZE it counts the rows.
ok "EXPLAIN (ANALYZE) of a part counts its rows" \
    bash -c "'$bindir/psql' -X -At -c \"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $part2\" |
             grep -q 'Tid Range Scan on ring_t (actual rows=$p2_rows loops=1)'"
plan
