#!/usr/bin/env bash
# pgbouncer.sh — a throw-away PgBouncer in front of the throw-away cluster.
#
#   scripts/pgbouncer.sh start STATEDIR   needs PGHOST/PGPORT of the cluster in the
#                                         environment; writes STATEDIR/env
#   scripts/pgbouncer.sh stop  STATEDIR
#
# One PgBouncer on a free 127.0.0.1 port with two pooled databases that both
# lead to the cluster's database PGDATABASE (default postgres):
#   fw_session      pool_mode=session
#   fw_transaction  pool_mode=transaction
# Clients log in with trust.  STATEDIR/env exports FW_PGBOUNCER_PORT.
# Otherwise a stock pgbouncer.ini: PgBouncer's defaults for everything else,
# in particular no ignore_startup_parameters (so a client whose startup
# packet carries a parameter PgBouncer does not know, e.g.
# extra_float_digits, is refused with 08P01 as in production) and
# server_reset_query DISCARD ALL.
# As root, PgBouncer runs as the postgres user (it refuses root).
set -euo pipefail

cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
    echo "usage: $0 start|stop STATEDIR" >&2
    exit 2
fi

bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    : "${PGHOST:?PGHOST of the cluster must be set}" "${PGPORT:?PGPORT of the cluster must be set}"
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    [ -f "$state/env" ] && stop
    local base port tries=0
    base=$(mktemp -d "${TMPDIR:-/tmp}/fraiseql_wire_bouncer.XXXXXX")
    chmod 755 "$base"
    local db=${PGDATABASE:-postgres}
    printf '"postgres" ""\n"fw_trust" ""\n' > "$base/userlist.txt"
    while :; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
        port_in_use "$port" && continue
        cat > "$base/pgbouncer.ini" <<EOF
[databases]
fw_session = host=$PGHOST port=$PGPORT dbname=$db pool_mode=session
fw_transaction = host=$PGHOST port=$PGPORT dbname=$db pool_mode=transaction

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $base/userlist.txt
pidfile = $base/pgbouncer.pid
logfile = $base/pgbouncer.log
admin_users = postgres
pool_mode = session
default_pool_size = 4
max_client_conn = 100
EOF
        [ "$(id -u)" -eq 0 ] && chown -R postgres: "$base"
        if as_server "$bouncer" -d -q "$base/pgbouncer.ini" 2>>"$base/start.log"; then
            local i
            for i in $(seq 1 50); do
                port_in_use "$port" && break
                sleep 0.1
            done
            if port_in_use "$port"; then
                break
            fi
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            echo "pgbouncer.sh: PgBouncer did not start:" >&2
            cat "$base/start.log" "$base/pgbouncer.log" >&2 2>/dev/null || true
            rm -rf "$base"
            exit 1
        fi
    done
    printf 'FW_PGBOUNCER_BASE=%s\nFW_PGBOUNCER_PORT=%s\n' "$base" "$port" > "$state/env"
}

stop() {
    [ -f "$state/env" ] || return 0
    local base pid
    base=$(sed -n 's/^FW_PGBOUNCER_BASE=//p' "$state/env")
    if [ -n "$base" ] && [ -f "$base/pgbouncer.pid" ]; then
        pid=$(cat "$base/pgbouncer.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    case "$base" in
        */fraiseql_wire_bouncer.*) rm -rf "$base" ;;
    esac
    rm -f "$state/env"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop STATEDIR" >&2; exit 2 ;;
esac
