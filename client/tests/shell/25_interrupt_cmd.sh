#!/usr/bin/env bash
# fraiseql-wire stream: interrupts, timeouts and output flushing (TAP).
# A silent server (a view whose rows sleep), a notice flood, --timeout,
# --statement-timeout, SIGTERM, and a scripted server that ignores the
# CancelRequest (a second SIGINT, or the grace period, closes the socket);
# `| head`-style readers get rows as they arrive; json documents with raw
# newlines come out one a line.  Needs the cluster's PG* variables; skips,
# loudly, without them.
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${FW_BIN:-$here/../../build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwintr_$$

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    echo "ok 1 - fraiseql-wire interrupts against a cluster # SKIP no cluster (run scripts/check.sh)"
    rm -rf "$tmp"
    exit 0
fi
command -v python3 >/dev/null || { echo "ok 1 - fraiseql-wire interrupts # SKIP no python3"; exit 0; }

fake_pid=
cleanup() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'EOF' || exit 1
-- silent: the first row takes 60 s, and the server sends nothing meanwhile
CREATE VIEW v_sleepy AS SELECT jsonb_build_object('n', g) AS data
  FROM generate_series(1, 3) g, LATERAL (SELECT pg_sleep(60)) s;
-- a notice flood while the first row is computed
CREATE FUNCTION noisy(n int) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..600000 LOOP
    RAISE NOTICE 'still working %', i;
    PERFORM pg_sleep(0.0001);
  END LOOP;
  RETURN jsonb_build_object('n', n);
END $$;
CREATE VIEW v_noisy AS SELECT noisy(g) AS data FROM generate_series(1, 2) g;
-- a drip: one row at once, then one every 0.4 s
CREATE VIEW v_drip AS SELECT jsonb_build_object('n', g) AS data
  FROM generate_series(1, 100) g, LATERAL (SELECT pg_sleep(CASE WHEN g > 1 THEN 0.4 ELSE 0 END)) s;
-- json (not jsonb) documents as written, raw line breaks and tabs included
CREATE VIEW v_lines AS SELECT format(E'{\n  "n": %s,\n\t"s": "a\\nb"\n}', g)::json AS data
  FROM generate_series(1, 3) g;
EOF

now_ms() { date +%s%3N; }
# backends of ours still running a query on VIEW (after the command ended)
running() {
    psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'
        AND query LIKE '%$1%' AND state = 'active' AND pid <> pg_backend_pid()"
}
# waits (up to 10 s) until the server runs a query on VIEW
wait_running() {
    for _ in $(seq 1 100); do
        [ "$(running "$1")" -gt 0 ] && return 0
        sleep 0.1
    done
    return 1
}
# interrupt SIGNAL VIEW ARGS…: starts the command, signals it once the query
# runs; sets rc and ms (from the signal to the exit)
interrupt() {
    local sig=$1 view=$2
    shift 2
    "$bin" -d "$db" stream "$view" "$@" >"$tmp/out" 2>"$tmp/err" &
    local pid=$! t0
    wait_running "v_$view"
    sleep 0.3
    t0=$(now_ms)
    kill "-$sig" "$pid"
    wait "$pid"
    rc=$?
    ms=$(( $(now_ms) - t0 ))
}

# -------------------------------------------------- a silent server
interrupt INT sleepy
sleep 0.2
ok_status "SIGINT while the server is silent: exit 130 within 2 s" "$( [ "$rc" -eq 130 ] && [ "$ms" -lt 2000 ]; echo $?)"
ok_status "SIGINT: 'cancelled (SIGINT)' on stderr, no output" "$(grep -q 'cancelled (SIGINT)' "$tmp/err" && [ ! -s "$tmp/out" ]; echo $?)"
ok_status "SIGINT: the query was cancelled on the server" "$( [ "$(running v_sleepy)" = 0 ]; echo $?)"

interrupt TERM sleepy
sleep 0.2
ok_status "SIGTERM while the server is silent: exit 143 within 2 s, query cancelled" "$( [ "$rc" -eq 143 ] &&
    [ "$ms" -lt 2000 ] && grep -q 'cancelled (SIGTERM)' "$tmp/err" && [ "$(running v_sleepy)" = 0 ]; echo $?)"

# -------------------------------------------------- a notice flood
interrupt INT noisy
sleep 0.2
ok_status "SIGINT during a notice flood: exit 130 within 2 s, query cancelled" "$( [ "$rc" -eq 130 ] &&
    [ "$ms" -lt 2000 ] && grep -q 'still working' "$tmp/err" && [ "$(running v_noisy)" = 0 ]; echo $?)"

# -------------------------------------------------- timeouts
t0=$(now_ms)
"$bin" -d "$db" stream sleepy --timeout=1 >"$tmp/out" 2>"$tmp/err"
rc=$?
ms=$(( $(now_ms) - t0 ))
sleep 0.2
ok_status "--timeout=1: exit 1 after about 1 s, the query cancelled" "$( [ "$rc" -eq 1 ] && [ "$ms" -ge 900 ] &&
    [ "$ms" -lt 3000 ] && grep -q 'timeout: the stream did not end within 1 s' "$tmp/err" &&
    [ "$(running v_sleepy)" = 0 ]; echo $?)"
t0=$(now_ms)
"$bin" -d "$db" stream sleepy --statement-timeout 500 >"$tmp/out" 2>"$tmp/err"
rc=$?
ms=$(( $(now_ms) - t0 ))
ok_status "--statement-timeout 500: exit 1 with 57014 (statement timeout)" "$( [ "$rc" -eq 1 ] &&
    [ "$ms" -lt 3000 ] && grep -q 'SQLSTATE 57014' "$tmp/err" && grep -q 'statement timeout' "$tmp/err"; echo $?)"
"$bin" -d "$db" stream drip --limit 3 --chunk-size 1 --statement-timeout 60000 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "--statement-timeout that does not fire: the rows" "$( [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ]; echo $?)"
"$bin" -d "$db" stream drip --timeout=0 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "--timeout=0 is a usage error (exit 1)" "$( [ "$rc" -eq 1 ] && grep -q 'invalid value "0" for --timeout' "$tmp/err"; echo $?)"
"$bin" -d "$db" stream drip --statement-timeout=x >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "--statement-timeout=x is a usage error (exit 1)" "$( [ "$rc" -eq 1 ] && grep -q 'invalid value "x" for --statement-timeout' "$tmp/err"; echo $?)"

# -------------------------------------------------- a server that ignores the cancel
# Answers the start-up and the Describe, then stays silent; takes
# CancelRequests and does nothing.  Prints its port, then serves one session.
cat >"$tmp/fake.py" <<'EOF'
import socket, struct, sys, threading, time
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
print(ls.getsockname()[1], flush=True)
cancels = 0
def recvn(c, k):
    b = b""
    while len(b) < k:
        d = c.recv(k - len(b))
        if not d:
            raise EOFError
        b += d
    return b
def msg(t, body=b""):
    return t + struct.pack("!I", len(body) + 4) + body
c, _ = ls.accept()
n = struct.unpack("!I", recvn(c, 4))[0]
recvn(c, n - 4)
c.sendall(msg(b"R", struct.pack("!I", 0)) + msg(b"K", struct.pack("!ii", 4242, 7)) + msg(b"Z", b"I"))
desc = struct.pack("!h", 1) + b"data\0" + struct.pack("!ihihih", 0, 0, 3802, -1, -1, 0)
def until_flush():
    while True:
        t = recvn(c, 1)
        n = struct.unpack("!I", recvn(c, 4))[0]
        recvn(c, n - 4)
        if t == b"H":
            return
until_flush()
c.sendall(msg(b"1") + msg(b"2") + msg(b"T", desc))
until_flush()
ls.settimeout(30)
while True:   # silent on the session; cancel requests are read and ignored
    try:
        k, _ = ls.accept()
    except socket.timeout:
        break
    k.recv(16)
    cancels += 1
    sys.stderr.write("cancel %d\n" % cancels)
    sys.stderr.flush()
    k.close()
EOF
# fake_stream ARGS…: starts the fake server and the command against it
fake_stream() {
    python3 "$tmp/fake.py" >"$tmp/port" 2>"$tmp/fake.err" &
    fake_pid=$!
    for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    "$bin" -d "host=127.0.0.1 port=$(cat "$tmp/port") user=u dbname=d sslmode=disable" \
        stream anything "$@" >"$tmp/out" 2>"$tmp/err" &
    cmd_pid=$!
    sleep 0.5
}
fake_stream
t0=$(now_ms)
kill -INT "$cmd_pid"
sleep 0.5
kill -INT "$cmd_pid"
wait "$cmd_pid"
rc=$?
ms=$(( $(now_ms) - t0 ))
kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fake_pid=
ok_status "a server that ignores the cancel: the second SIGINT exits 130 at once" "$( [ "$rc" -eq 130 ] &&
    [ "$ms" -lt 1500 ] && grep -q 'connection was closed without waiting' "$tmp/err" &&
    grep -q 'cancel 1' "$tmp/fake.err"; echo $?)"

fake_stream
t0=$(now_ms)
kill -INT "$cmd_pid"
wait "$cmd_pid"
rc=$?
ms=$(( $(now_ms) - t0 ))
kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fake_pid=
ok_status "a server that ignores the cancel: one SIGINT exits 130 after the 3 s grace" "$( [ "$rc" -eq 130 ] &&
    [ "$ms" -ge 2500 ] && [ "$ms" -lt 6000 ] && grep -q 'connection was closed without waiting' "$tmp/err"; echo $?)"

fake_stream --timeout 1
t0=$(now_ms)
wait "$cmd_pid"
rc=$?
ms=$(( $(now_ms) - t0 ))
kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fake_pid=
ok_status "a server that ignores the cancel: --timeout 1 exits 1 after 1 s + 3 s grace" "$( [ "$rc" -eq 1 ] &&
    [ "$ms" -lt 6000 ] && grep -q 'timeout: the stream did not end within 1 s' "$tmp/err" &&
    grep -q 'connection was closed without waiting' "$tmp/err"; echo $?)"

# -------------------------------------------------- output as rows arrive
mkfifo "$tmp/fifo"
"$bin" -d "$db" stream drip --chunk-size 1 >"$tmp/fifo" 2>"$tmp/err" &
pid=$!
exec 3<"$tmp/fifo"
t0=$(now_ms)
first=
IFS= read -r -t 5 first <&3
ms=$(( $(now_ms) - t0 ))
exec 3<&-
kill -INT "$pid" 2>/dev/null
wait "$pid"
ok_status "a pipe gets the first row of a slow stream at once (| head -1)" "$( [ "$first" = '{"n": 1}' ] && [ "$ms" -lt 3000 ]; echo $?)"

"$bin" -d "$db" stream lines >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "json documents with raw line breaks: one a line (NDJSON)" "$( [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] &&
    python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["n"] for r in rows] == [1, 2, 3], rows
assert all(r["s"] == "a\nb" for r in rows), rows' "$tmp/out"; echo $?)"
"$bin" -d "$db" stream lines --array >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "json documents with raw line breaks: --array, one element a line" "$( [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 5 ] &&
    python3 -c 'import json, sys; assert len(json.load(open(sys.argv[1]))) == 3' "$tmp/out"; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
