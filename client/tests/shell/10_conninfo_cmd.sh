#!/usr/bin/env bash
# fraiseql-wire conninfo: output, masking, exit statuses (TAP).
# Most checks run in an empty environment (no PG* variables, HOME in a
# temporary directory); the last ones use the test cluster's PG* variables
# when they are set (scripts/check.sh runs this with the cluster up).
set -u

here=$(cd "$(dirname "$0")" && pwd)
bin=${FW_BIN:-$here/../../build/fraiseql-wire}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"

# run ARGS…: runs the command in a clean environment; sets $out, $err, $rc.
run() {
    env -i PATH="$PATH" HOME="$tmp" "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# expect DESCRIPTION WANT-RC WANT-STDOUT WANT-STDERR
expect() {
    local good=0
    [ "$rc" -eq "$2" ] || good=1
    [ "$out" = "$3" ] || good=1
    [ "$err" = "$4" ] || good=1
    ok_status "$1" "$good"
    if [ "$good" -ne 0 ]; then
        printf '#   exit %s (want %s)\n#   stdout: %s\n#   want:   %s\n#   stderr: %s\n#   want:   %s\n' \
            "$rc" "$2" "$out" "$3" "$err" "$4" | sed '2,$s/^/#   /'
    fi
}

if [ -d /var/run/postgresql ]; then defhost=/var/run/postgresql; else defhost=localhost; fi
me=$(id -un)
tail_lines="fallback_application_name=fraiseql-wire
keepalives=1
sslmode=prefer
sslsni=1
channel_binding=prefer
target_session_attrs=any"

# ------------------------------------------------------------------ usage
run --help
ok_status "--help exits 0 and lists the conninfo command" "$( [ "$rc" -eq 0 ] && grep -q '^  conninfo ' "$tmp/out"; echo $?)"
run --version
version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$here/../../../fraiseql_wire.control")
expect "--version prints the version" 0 "fraiseql-wire $version" ""
run
expect "no command: exit 1, one line and where to look" 1 "" "fraiseql-wire: no command given
Try 'fraiseql-wire --help' for more information."
run frobnicate
expect "unknown command: exit 1" 1 "" "fraiseql-wire: unknown command \"frobnicate\"
Try 'fraiseql-wire --help' for more information."
run --frob conninfo
expect "unknown option: exit 1" 1 "" "fraiseql-wire: unrecognized option '--frob'
Try 'fraiseql-wire --help' for more information."
run conninfo --parse-only --bogus
expect "unknown conninfo option: exit 1, the command's --help named" 1 "" "fraiseql-wire conninfo: unrecognized option '--bogus'
Try 'fraiseql-wire conninfo --help' for more information."
run -h
expect "an option without its value: exit 1" 1 "" "fraiseql-wire: option requires an argument -- 'h'
Try 'fraiseql-wire --help' for more information."

# --------------------------------------------------------------- parsing
run conninfo --parse-only "host=h port=5433 user=u password=pw dbname=d"
expect "keyword=value string, password masked" 0 "host=h
port=5433
dbname=d
user=u
password=********
$tail_lines" ""

run conninfo --parse-only --show-password "host=h port=5433 user=u password='p w' dbname=d"
expect "--show-password prints the password" 0 "host=h
port=5433
dbname=d
user=u
password=p w
$tail_lines" ""

run conninfo --parse-only "postgresql://al%40ice:s3cret@h1:6001,[::1]:6002/my%20db?sslmode=verify-full&application_name=app"
expect "URI with two hosts, percent-decoding, masking" 0 "host=h1,::1
port=6001,6002
dbname=my db
user=al@ice
password=********
application_name=app
fallback_application_name=fraiseql-wire
keepalives=1
sslmode=verify-full
sslsni=1
channel_binding=prefer
target_session_attrs=any" ""
ok_status "the masked password is nowhere in the output" "$( ! grep -q s3cret "$tmp/out" "$tmp/err"; echo $?)"

run conninfo --parse-only ""
expect "empty string: the defaults" 0 "host=$defhost
port=5432
dbname=$me
user=$me
$tail_lines" ""

run conninfo --parse-only mydb
expect "a plain word is a database name, as in psql" 0 "host=$defhost
port=5432
dbname=mydb
user=$me
$tail_lines" ""

run -h top -p 7000 -U topuser conninfo --parse-only
expect "psql's -h -p -U" 0 "host=top
port=7000
dbname=topuser
user=topuser
$tail_lines" ""

run -h top -U topuser -d "postgresql://urihost/uridb" conninfo --parse-only
expect "-d with a URI overrides -h, keeps -U (as psql)" 0 "host=urihost
port=5432
dbname=uridb
user=topuser
$tail_lines" ""

run conninfo --parse-only --host=a --port 6000 --username=x --dbname=y
expect "long options after the command" 0 "host=a
port=6000
dbname=y
user=x
$tail_lines" ""

# ----------------------------------------------------------------- errors
run conninfo --parse-only "host=h bogus=1"
expect "unknown keyword: exit 1" 1 "" 'fraiseql-wire: invalid connection string: invalid connection option "bogus"'

run conninfo --parse-only "host='h"
expect "unterminated quote: exit 1" 1 "" "fraiseql-wire: invalid connection string: unterminated quoted string in connection info string"

run conninfo --parse-only "sslmode=always"
expect "bad sslmode: exit 1" 1 "" 'fraiseql-wire: invalid connection string: invalid sslmode value: "always"; valid values are disable, allow, prefer, require, verify-ca, verify-full'

run conninfo --parse-only "postgresql://u:topsecret@[::1/d"
expect "URI error masks the password" 1 "" 'fraiseql-wire: invalid connection string: end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://u:********@[::1/d"'

run conninfo --parse-only "host=a,b port=1,2,3"
expect "host/port count mismatch: exit 1" 1 "" "fraiseql-wire: invalid connection string: could not match 3 port numbers to 2 hosts"

run -d x conninfo --parse-only y
ok_status "-d and an argument: exit 1" "$( [ "$rc" -eq 1 ] && grep -q 'not both' "$tmp/err"; echo $?)"

run conninfo "host=127.0.0.1 port=1 sslmode=disable connect_timeout=5"
ok_status "without --parse-only, a refused connection: exit 2 with an io error" "$( [ "$rc" -eq 2 ] && grep -q '^fraiseql-wire: io error' "$tmp/err"; echo $?)"

# ----------------------------------------------- the environment (cluster)
if [ -n "${PGHOST:-}" ] && [ -n "${PGPORT:-}" ]; then
    "$bin" conninfo "host=127.0.0.1 port=$PGPORT user=fw_scram password=fw_scram_pw dbname=postgres sslmode=require" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ok_status "conninfo connects over TLS with SCRAM and reports the server" "$( [ "$rc" -eq 0 ] && grep -q '^ssl=on$' "$tmp/out" && grep -q '^server_version=1[0-9]' "$tmp/out" && grep -q '^password=\*\*\*\*\*\*\*\*$' "$tmp/out"; echo $?)"
    "$bin" conninfo "host=127.0.0.1 port=$PGPORT user=fw_scram password=wrong dbname=postgres" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ok_status "conninfo with a wrong password: exit 2, auth error, SQLSTATE 28P01, password not shown" "$( [ "$rc" -eq 2 ] && grep -q '^fraiseql-wire: auth error (SQLSTATE 28P01)' "$tmp/err" && ! grep -q wrong "$tmp/err"; echo $?)"
    "$bin" conninfo --parse-only >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ok_status "PG* variables of the cluster: exit 0" "$rc"
    ok_status "host and port come from PGHOST/PGPORT" \
        "$(grep -qx "host=$PGHOST" "$tmp/out" && grep -qx "port=$PGPORT" "$tmp/out"; echo $?)"
    ok_status "user and dbname from PGUSER/PGDATABASE" \
        "$(grep -qx "user=${PGUSER:-$me}" "$tmp/out" && grep -qx "dbname=${PGDATABASE:-${PGUSER:-$me}}" "$tmp/out"; echo $?)"
    ok_status "they name a live server socket" "$( [ -S "$PGHOST/.s.PGSQL.$PGPORT" ]; echo $?)"
    "$bin" conninfo --parse-only "host=other" >"$tmp/out" 2>&1
    ok_status "the string wins over PGHOST" "$(grep -qx 'host=other' "$tmp/out" && grep -qx "port=$PGPORT" "$tmp/out"; echo $?)"
    PGSSLMODE=nope "$bin" conninfo --parse-only >"$tmp/out" 2>"$tmp/err"
    ok_status "a bad PGSSLMODE: exit 1" "$( [ $? -eq 1 ] && grep -q 'invalid sslmode value: "nope"' "$tmp/err"; echo $?)"
else
    echo "# no PGHOST/PGPORT: skipping the cluster checks"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
