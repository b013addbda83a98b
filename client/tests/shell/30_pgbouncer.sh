#!/usr/bin/env bash
# fraiseql-wire through PgBouncer, session and transaction pooling (TAP).
# Starts scripts/pgbouncer.sh in front of the test cluster (its own state
# directory, always stopped on exit), streams through it with the command
# and with a small C program (several streams on one connection, a stream
# closed early, a cancelled stream, an error) and compares with direct.
# Skips loudly when pgbouncer is not installed or no cluster is up.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
client=$root/client
bin=${FW_BIN:-$client/build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwbouncer_$$
state=$tmp/bouncer

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"
skip() {
    echo "ok 1 - fraiseql-wire through PgBouncer # SKIP $1"
    rm -rf "$tmp"
    exit 0
}

command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || skip "pgbouncer not installed"
if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    skip "no cluster (run scripts/check.sh)"
fi

cleanup() {
    "$root/scripts/pgbouncer.sh" stop "$state" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'EOF' || exit 1
CREATE EXTENSION fraiseql_wire;
CREATE TABLE item (id int PRIMARY KEY, name text, grp int);
INSERT INTO item SELECT g, 'n' || g || ' é''; --', g % 7 FROM generate_series(1, 20000) g;
SELECT fraiseql_wire.create_view('item', 'item');
-- float8 rendered by the server: exact only with extra_float_digits >= 1
CREATE VIEW v_float AS SELECT json_build_object('x', 0.1::float8 + 0.2::float8) AS data;
EOF
# Sessions of this database round floats unless a client asks otherwise.
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER DATABASE $db SET extra_float_digits = 0" >/dev/null || exit 1

if ! PGDATABASE=$db "$root/scripts/pgbouncer.sh" start "$state" >"$tmp/start.log" 2>&1; then
    n=1
    echo "not ok 1 - PgBouncer starts"
    sed 's/^/#   /' "$tmp/start.log"
    exit 1
fi
# shellcheck disable=SC1091
. "$state/env"
bport=$FW_PGBOUNCER_PORT
ok_status "PgBouncer started on 127.0.0.1:$bport" 0

# ----------------------------------------------------- a small C client
cat >"$tmp/pool_client.c" <<'EOF'
/* Several streams on one connection through a pooler; see 30_pgbouncer.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraiseql_wire.h"

static int n_failed;

static void
report(int good, const char *what, fw_conn *c)
{
    printf("%s - %s", good ? "ok" : "not ok", what);
    if (!good) {
        n_failed++;
        printf(" (%s, SQLSTATE %s)", fw_conn_error_message(c) ? fw_conn_error_message(c) : "-",
               fw_conn_error_sqlstate(c) ? fw_conn_error_sqlstate(c) : "-");
    }
    printf("\n");
}

/* Streams entity item with a filter; returns the row count, -1 on error. */
static long
count_rows(fw_conn *c, const char *filter, size_t chunk, long stop_after, int cancel)
{
    fw_query *q = NULL;
    fw_stream *s = NULL;
    const char *json;
    size_t len;
    long rows = 0;
    fw_status st;

    if (fw_query_new("item", &q) != FW_OK || (filter && fw_query_set_filter(q, filter) != FW_OK) ||
        fw_query_set_chunk_size(q, chunk) != FW_OK) {
        fw_query_free(q);
        return -1;
    }
    st = fw_stream_open(c, q, &s);
    fw_query_free(q);
    if (st != FW_OK)
        return -1;
    while ((st = fw_stream_next(s, &json, &len)) == FW_OK) {
        rows++;
        if (stop_after >= 0 && rows == stop_after) {
            if (!cancel)
                break;
            if (fw_stream_cancel(s) != FW_OK) {
                fw_stream_close(s);
                return -1;
            }
            cancel = 0;   /* keep reading: what is buffered, then CANCELLED */
        }
    }
    if (stop_after >= 0) {
        /* closed early or cancelled: the status is not FW_DONE for a big stream */
        if (st != FW_OK && st != FW_ERR_CANCELLED && st != FW_DONE) {
            fw_stream_close(s);
            return -1;
        }
    } else if (st != FW_DONE) {
        fw_stream_close(s);
        return -1;
    }
    if (fw_stream_close(s) != FW_OK)
        return -1;
    return rows;
}

int
main(int argc, char **argv)
{
    fw_conn *c = NULL;
    char what[200];
    long r;

    if (argc != 2) {
        fprintf(stderr, "usage: pool_client CONNINFO\n");
        return 2;
    }
    if (fw_conn_connect(argv[1], &c) != FW_OK) {
        report(0, "connect", c);
        fw_conn_free(c);
        return 1;
    }
    report(1, "connect", c);
    for (int i = 1; i <= 5; i++) {
        r = count_rows(c, "{\"grp\": {\"eq\": 3}}", 100, -1, 0);
        snprintf(what, sizeof what, "stream %d in a row on one connection: %ld rows (want 2857)",
                 i, r);
        report(r == 2857, what, c);
    }
    r = count_rows(c, NULL, 100, 150, 0);
    report(r == 150, "a stream closed early after 150 of 20000 rows", c);
    report(fw_conn_ok(c), "the connection is usable after the early close", c);
    r = count_rows(c, NULL, 256, -1, 0);
    snprintf(what, sizeof what, "next stream after the early close: %ld rows (want 20000)", r);
    report(r == 20000, what, c);
    r = count_rows(c, NULL, 50, 10, 1);
    report(r >= 10 && r < 20000, "a stream cancelled after 10 rows ends early", c);
    r = count_rows(c, "{\"id\": {\"lte\": 1000}}", 64, -1, 0);
    snprintf(what, sizeof what, "next stream after the cancel: %ld rows (want 1000)", r);
    report(r == 1000, what, c);
    r = count_rows(c, "{\"id\": {\"eqq\": 1}}", 64, -1, 0);
    report(r == -1 && fw_conn_error_sqlstate(c) && strcmp(fw_conn_error_sqlstate(c), "22023") == 0,
           "a bad filter is 22023", c);
    r = count_rows(c, "{\"id\": {\"gt\": 19990}}", 4, -1, 0);
    snprintf(what, sizeof what, "next stream after the error: %ld rows (want 10)", r);
    report(r == 10, what, c);
    report(fw_conn_exec(c, "SELECT 1") == FW_OK, "a simple query on the same connection", c);
    fw_conn_free(c);
    return n_failed ? 1 : 0;
}
EOF
# shellcheck disable=SC2046
if cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$client/include" \
      -o "$tmp/pool_client" "$tmp/pool_client.c" "$client/build/libfraiseql_wire.a" \
      $(pkg-config --libs json-c openssl) 2>"$tmp/err"; then
    ok_status "the pooled-connection test program builds" 0
else
    ok_status "the pooled-connection test program builds" 1
    exit 1
fi

# direct ARGS…: the command on the cluster; bounced MODE ARGS…: through PgBouncer
direct() { "$bin" -d "$db" "$@"; }
bounced() {
    local mode=$1
    shift
    "$bin" -d "host=127.0.0.1 port=$bport dbname=fw_$mode user=postgres sslmode=disable" "$@"
}

direct stream item --chunk-size 100 --order-by id:numeric >"$tmp/direct_all" 2>"$tmp/err"
direct stream item --where '{"grp": {"in": [1, 5]}}' --chunk-size 64 >"$tmp/direct_filtered" 2>>"$tmp/err"
direct stream item --where '{"name": {"startswith": "n1"}}' --order-by name:text:desc \
    --limit 500 --offset 10 --chunk-size 32 >"$tmp/direct_ordered" 2>>"$tmp/err"
ok_status "direct streams (the reference)" "$( [ "$(wc -l <"$tmp/direct_all")" -eq 20000 ] &&
    [ "$(wc -l <"$tmp/direct_filtered")" -eq 5715 ] && [ "$(wc -l <"$tmp/direct_ordered")" -eq 500 ]; echo $?)"

for mode in session transaction; do
    bounced "$mode" stream item --chunk-size 100 --order-by id:numeric >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: unfiltered stream of 200 chunks equals direct" "$(cmp -s "$tmp/out" "$tmp/direct_all"; echo $?)"
    bounced "$mode" stream item --where '{"grp": {"in": [1, 5]}}' --chunk-size 64 >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: filtered stream equals direct" "$(cmp -s "$tmp/out" "$tmp/direct_filtered"; echo $?)"
    bounced "$mode" stream item --where '{"name": {"startswith": "n1"}}' --order-by name:text:desc \
        --limit 500 --offset 10 --chunk-size 32 >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: ordered, limited stream equals direct" "$(cmp -s "$tmp/out" "$tmp/direct_ordered"; echo $?)"
    bounced "$mode" stream item --array --chunk-size 1000 >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: --array is one valid JSON array" "$(python3 -c '
import json, sys
assert len(json.load(open(sys.argv[1]))) == 20000' "$tmp/out" 2>>"$tmp/err"; echo $?)"
    bounced "$mode" stream item --chunk-size 10 2>"$tmp/err" | head -n 3 >"$tmp/out"
    rc=${PIPESTATUS[0]}
    ok_status "$mode pooling: | head -n 3 exits 0 quietly" "$( [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 3 ]; echo $?)"
    bounced "$mode" check item >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: check" "$(grep -q '^ok: v_item has one column "data" of type jsonb$' "$tmp/out"; echo $?)"
    bounced "$mode" explain item --where '{"id": {"eq": 7}}' >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: explain prints a plan" "$(grep -Eq 'cost=' "$tmp/out"; echo $?)"
    bounced "$mode" stream nosuch >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ok_status "$mode pooling: unknown entity exits 1 with 42P01" "$( [ "$rc" -eq 1 ] && grep -q 42P01 "$tmp/err"; echo $?)"

    "$tmp/pool_client" "host=127.0.0.1 port=$bport dbname=fw_$mode user=postgres sslmode=disable" \
        >"$tmp/client.out" 2>"$tmp/err"
    rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok_status "$mode pooling: ${line#ok - }" 0 ;;
            "not ok - "*) ok_status "$mode pooling: ${line#not ok - }" 1 ;;
        esac
    done <"$tmp/client.out"
    ok_status "$mode pooling: the test program exits 0" "$rc"
done

# A stock PgBouncer refuses unknown startup parameters (08P01): the client
# sends only what it accepts, and sets extra_float_digits (and
# statement_timeout) per stream, in the stream's own transaction.
for mode in session transaction; do
    bounced "$mode" stream float --statement-timeout 123456 >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: floats render exactly (extra_float_digits=3 per stream)" "$( [ "$(cat "$tmp/out")" = '{"x" : 0.30000000000000004}' ]; echo $?)"
    # The same server connection (pool of 4, used one at a time) shows no trace of it.
    shown=$(psql -X -At -h 127.0.0.1 -p "$bport" -U postgres -d "fw_$mode" \
        -c "SHOW extra_float_digits" -c "SHOW statement_timeout" 2>"$tmp/err" | tr '\n' ' ')
    ok_status "$mode pooling: no setting leaks to the next transaction ($shown)" "$( [ "$shown" = "0 0 " ]; echo $?)"
done

# The pools are still healthy: a last stream in each mode, and PgBouncer
# reports no server connection stuck in a transaction.
for mode in session transaction; do
    bounced "$mode" stream item --limit 5 >"$tmp/out" 2>"$tmp/err"
    ok_status "$mode pooling: the pool still serves after everything above" "$( [ "$(wc -l <"$tmp/out")" -eq 5 ]; echo $?)"
done
sleep 0.3
stuck=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)') AND pid <> pg_backend_pid()")
ok_status "no server connection left active or idle in transaction" "$( [ "$stuck" = 0 ]; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
