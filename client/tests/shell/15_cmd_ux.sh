#!/usr/bin/env bash
# fraiseql-wire as a new user meets it (TAP): getopt_long conventions,
# per-command help, psql's exit statuses, -w/-W and the password prompt
# (typed on a pseudo-terminal), libpq's connection hints, type names in
# schema errors, the create_view hint, and the command's use of the public
# header only.  The checks that need a server use the test cluster's PG*
# variables and FW_TEST_TCP_HOST (scripts/check.sh sets them) and skip,
# loudly, without them.
set -u

here=$(cd "$(dirname "$0")" && pwd)
client=$(cd "$here/../.." && pwd)
bin=${FW_BIN:-$client/build/fraiseql-wire}
tmp=$(mktemp -d)
db=fwux_$$

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"
# run ARGS…: the command with no terminal (setsid: no controlling tty, so it
# can never prompt) and HOME without a password file; sets rc, out/err files
run() {
    HOME=$tmp setsid -w "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
}
err_is() { [ "$(cat "$tmp/err")" = "$1" ]; }
err_has() { grep -q -- "$1" "$tmp/err"; }
out_has() { grep -q -- "$1" "$tmp/out"; }

# ------------------------------------------------------ the public header only
bad=$(grep -h '^#include "' "$client"/cmd/*.c "$client"/cmd/*.h |
      grep -v -e '"cmd.h"' -e '"query_opts.h"' -e '"fraiseql_wire.h"')
ok_status "client/cmd includes only its own headers and fraiseql_wire.h${bad:+: $bad}" "$( [ -z "$bad" ]; echo $?)"
grep -q 'CMD_CFLAGS := $(filter-out -Isrc' "$client/Makefile"
ok_status "client/cmd is compiled without -Isrc (a private header would not build)" $?

# ----------------------------------------------------------- getopt_long
run explain person --limit=1 -h "$tmp/none"
cp "$tmp/out" "$tmp/attached"
run explain person --limit 1 -h "$tmp/none"
ok_status "--limit=1 and --limit 1 build the same query" "$(cmp -s "$tmp/out" "$tmp/attached" && out_has '^  \$1 = 1$'; echo $?)"
run explain --lim=2 person -h"$tmp/none"
ok_status "options after the operand, a unique prefix (--lim), -hVALUE attached" "$(out_has '^  \$1 = 2$'; echo $?)"
run conninfo --parse-only -- -weird
ok_status "-- ends the options: the next argument is an operand" "$( [ "$rc" -eq 0 ] && out_has '^dbname=-weird$'; echo $?)"
run stream -- --limit
ok_status "-- then --limit is an ENTITY (refused as a name, exit 1)" "$( [ "$rc" -eq 1 ] && err_has 'invalid entity'; echo $?)"
run -p 5999 -h "$tmp/none" conninfo --parse-only
ok_status "connection options before the command" "$( [ "$rc" -eq 0 ] && out_has '^port=5999$'; echo $?)"
run conninfo --parse-only -p 5998 --host="$tmp/none"
ok_status "connection options after the command" "$( [ "$rc" -eq 0 ] && out_has '^port=5998$'; echo $?)"

for cmd in stream explain check conninfo; do
    run "$cmd" --help
    cp "$tmp/out" "$tmp/help1"
    ok_status "$cmd --help: exit 0, the command's own usage" "$( [ "$rc" -eq 0 ] &&
        head -n 1 "$tmp/out" | grep -q "^fraiseql-wire $cmd — " && out_has "^usage: fraiseql-wire $cmd" &&
        out_has '--no-password' && [ ! -s "$tmp/err" ]; echo $?)"
    run help "$cmd"
    ok_status "help $cmd is $cmd --help" "$( [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/help1"; echo $?)"
    run "$cmd" -?
    ok_status "$cmd -? is $cmd --help" "$( [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/help1"; echo $?)"
    run "$cmd" --frobnicate
    ok_status "$cmd --frobnicate: exit 1, one line and where to look" "$( [ "$rc" -eq 1 ] && [ ! -s "$tmp/out" ] &&
        err_is "fraiseql-wire $cmd: unrecognized option '--frobnicate'
Try 'fraiseql-wire $cmd --help' for more information."; echo $?)"
    run "$cmd" -Z
    ok_status "$cmd -Z: exit 1, one line and where to look" "$( [ "$rc" -eq 1 ] &&
        err_is "fraiseql-wire $cmd: invalid option -- 'Z'
Try 'fraiseql-wire $cmd --help' for more information."; echo $?)"
done
run stream person --limit
ok_status "a missing value: exit 1" "$( [ "$rc" -eq 1 ] && err_is "fraiseql-wire stream: option '--limit' requires an argument
Try 'fraiseql-wire stream --help' for more information."; echo $?)"
run stream person --array=yes
ok_status "a value for an option that takes none: exit 1" "$( [ "$rc" -eq 1 ] && err_has "doesn't allow an argument" && err_has "Try 'fraiseql-wire stream --help'"; echo $?)"
run stream person --limit=x
ok_status "a bad value: exit 1 with the command's --help" "$( [ "$rc" -eq 1 ] && err_is "fraiseql-wire stream: invalid value \"x\" for --limit: expected a whole number from 0 to 9223372036854775807
Try 'fraiseql-wire stream --help' for more information."; echo $?)"
run check person --where '{}'
ok_status "check takes no --where: exit 1" "$( [ "$rc" -eq 1 ] && err_has "unrecognized option '--where"; echo $?)"
run help nosuch
ok_status "help of an unknown command: exit 1" "$( [ "$rc" -eq 1 ] && err_has 'unknown command "nosuch"'; echo $?)"
run help
ok_status "help alone is --help" "$( [ "$rc" -eq 0 ] && out_has '^usage: fraiseql-wire'; echo $?)"
run --help
ok_status "--help lists the commands and says where their options are" "$( [ "$rc" -eq 0 ] &&
    out_has '^  stream ' && out_has 'fraiseql-wire COMMAND --help' && out_has '2 connection failed or lost'; echo $?)"

# ------------------------------------------------- libpq's connection hints
run -h "$tmp/none" -p 5999 check person
ok_status "no server on a Unix socket: exit 2, the socket path and libpq's hint" "$( [ "$rc" -eq 2 ] && err_is "fraiseql-wire: io error: connection to server on socket \"$tmp/none/.s.PGSQL.5999\" failed: No such file or directory
	Is the server running locally and accepting connections on that socket?"; echo $?)"
# a TCP port nobody listens on: bind one, close it
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
run -h 127.0.0.1 -p "$port" stream person
ok_status "no server on a TCP port: exit 2, host and port and libpq's hint" "$( [ "$rc" -eq 2 ] && err_is "fraiseql-wire: io error: connection to server at \"127.0.0.1\", port $port failed: Connection refused
	Is the server running on that host and accepting TCP/IP connections?"; echo $?)"
run conninfo "host=127.0.0.1 port=$port"
ok_status "conninfo: the same, exit 2" "$( [ "$rc" -eq 2 ] && err_has 'accepting TCP/IP connections?'; echo $?)"

# ------------------------------------------------------------- the cluster
if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ] || [ -z "${FW_TEST_TCP_HOST:-}" ] ||
   ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    n=$((n + 1))
    echo "ok $n - password prompt, schema and hint checks # SKIP no cluster (run scripts/check.sh)"
    echo "1..$n"
    rm -rf "$tmp"
    [ "$failed" -eq 0 ]
    exit
fi
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
tcp=$FW_TEST_TCP_HOST

# pty ANSWER ARGS…: the command on a new pseudo-terminal (its /dev/tty);
# types ANSWER and Enter at the "Password" prompt ("^C": an interrupt; "-":
# nothing).  The terminal's whole output (what a user would see) goes to
# $tmp/out, the exit status to rc.
cat >"$tmp/tty_answer.py" <<'PY'
import os, pty, select, sys, time
answer, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out, typed, deadline = b"", False, time.time() + 30
while time.time() < deadline:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not typed and answer != "-" and b"Password" in out:
        time.sleep(0.1)
        os.write(fd, b"\x03" if answer == "^C" else answer.encode() + b"\n")
        typed = True
status = os.waitpid(pid, 0)[1]
sys.stdout.write(out.decode(errors="replace"))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
PY
pty() {
    local answer=$1
    shift
    env -u PGPASSWORD HOME="$tmp" python3 "$tmp/tty_answer.py" "$answer" "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
scram=(-h "$tcp" -U fw_scram -d postgres)

run -w "${scram[@]}" conninfo
ok_status "-w and a password needed: exit 2, the reason and what to do" "$( [ "$rc" -eq 2 ] &&
    err_has 'auth error: connection to server at .* failed: password is required but none was given' &&
    err_has '-w/--no-password was given: no prompt' && ! out_has 'Password'; echo $?)"
run "${scram[@]}" stream person
ok_status "no terminal and a password needed: exit 2, no prompt, says why" "$( [ "$rc" -eq 2 ] &&
    err_has 'password is required but none was given' && err_has 'No terminal to ask for it on'; echo $?)"
run -W "${scram[@]}" conninfo
ok_status "-W without a terminal: exit 1" "$( [ "$rc" -eq 1 ] && err_has 'no terminal to read the password from'; echo $?)"
run -w -h "$tcp" -U fw_trust -d postgres conninfo
ok_status "-w when no password is needed: connects" "$( [ "$rc" -eq 0 ] && out_has '^backend_pid='; echo $?)"

pty fw_scram_pw "${scram[@]}" conninfo
ok_status "a password needed on a terminal: the prompt, then connected (exit 0)" "$( [ "$rc" -eq 0 ] &&
    out_has '^Password for user fw_scram: ' && out_has '^backend_pid=' && out_has '^password=\*\*\*\*\*\*\*\*'; echo $?)"
ok_status "the typed password is not echoed or printed" "$( ! grep -q fw_scram_pw "$tmp/out" "$tmp/err"; echo $?)"
pty fw_scram_pw -W "${scram[@]}" conninfo --show-password
ok_status "-W prompts before connecting; the password typed is the one used" "$( [ "$rc" -eq 0 ] &&
    [ "$(grep -c 'Password for user fw_scram' "$tmp/out")" -eq 1 ] && out_has '^password=fw_scram_pw'; echo $?)"
pty wrongpw "${scram[@]}" conninfo
ok_status "a wrong password typed: exit 2 with 28P01, asked once, not shown" "$( [ "$rc" -eq 2 ] &&
    [ "$(grep -c 'Password for user' "$tmp/out")" -eq 1 ] && out_has 'SQLSTATE 28P01' && ! out_has wrongpw; echo $?)"
pty - -w "${scram[@]}" conninfo
ok_status "-w on a terminal: no prompt, exit 2" "$( [ "$rc" -eq 2 ] && ! out_has 'Password for' && out_has 'no-password'; echo $?)"
PGPASSWORD=wrong HOME=$tmp python3 "$tmp/tty_answer.py" - "$bin" "${scram[@]}" conninfo >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "a password given (PGPASSWORD) and refused: no prompt, exit 2" "$( [ "$rc" -eq 2 ] && ! out_has 'Password for' && out_has '28P01'; echo $?)"
pty "^C" "${scram[@]}" stream person
ok_status "Ctrl-C at the prompt: exit 130" "$( [ "$rc" -eq 130 ]; echo $?)"

# ------------------------------------- schema errors and the create_view hint
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
CREATE TYPE mood AS ENUM ('ok');
CREATE VIEW v_textual AS SELECT 'x'::text AS data;
CREATE VIEW v_stamped AS SELECT now() AS data;
CREATE VIEW v_moody AS SELECT 'ok'::mood AS data;
CREATE VIEW v_intarray AS SELECT '{1}'::int[] AS data;
CREATE VIEW v_gone AS SELECT '{}'::jsonb AS data;
SQL
mood=$(psql -X -At -d "$db" -c "SELECT 'mood'::regtype::oid")
ux() { run -d "$db" "$@"; }
ux check textual
ok_status "check: a text column is named as text (exit 1)" "$( [ "$rc" -eq 1 ] && err_has 'schema error: column "data" has type text, expected json or jsonb'; echo $?)"
ux stream stamped
ok_status "stream: timestamp with time zone by name" "$( [ "$rc" -eq 1 ] && err_has 'column "data" has type timestamp with time zone, expected json or jsonb'; echo $?)"
ux check moody
ok_status "a type the client does not know: its OID" "$( [ "$rc" -eq 1 ] && err_has "column \"data\" has type a type unknown to the client (type oid $mood), expected json or jsonb"; echo $?)"
ux check intarray
ok_status "an array type by name" "$( [ "$rc" -eq 1 ] && err_has 'column "data" has type integer\[\], expected json or jsonb'; echo $?)"

ux stream nosuch
ok_status "stream of an entity without v_: exit 1, 42P01 and the create_view call" "$( [ "$rc" -eq 1 ] && err_has 'SQLSTATE 42P01' &&
    err_has "^HINT:  Create it with: SELECT fraiseql_wire.create_view('nosuch', 'SOURCE_TABLE'); (docs/extension.md)$"; echo $?)"
ux check nosuch --table
ok_status "--table without tv_: the create_table_view call" "$( [ "$rc" -eq 1 ] &&
    err_has "^HINT:  Create it with: SELECT fraiseql_wire.create_table_view('nosuch', 'SOURCE_TABLE');"; echo $?)"
ux explain public.nosuch
ok_status "schema.entity: the source in that schema" "$( [ "$rc" -eq 1 ] &&
    err_has "^HINT:  Create it with: SELECT fraiseql_wire.create_view('nosuch', 'public.SOURCE_TABLE');"; echo $?)"
ux stream x --relation nosuch
ok_status "--relation: no create_view hint" "$( [ "$rc" -eq 1 ] && err_has 'SQLSTATE 42P01' && ! err_has 'HINT'; echo $?)"
ux stream gone --relation v_nosuch
ok_status "--relation named like a v_ view: still no hint" "$( [ "$rc" -eq 1 ] && ! err_has 'HINT'; echo $?)"

echo "1..$n"
[ "$failed" -eq 0 ]
