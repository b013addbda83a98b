#!/usr/bin/env bash
# cluster.sh — a throw-away PostgreSQL cluster for tests, demos and benchmarks.
#
#   scripts/cluster.sh start STATEDIR   initdb + start; writes STATEDIR/env
#   scripts/cluster.sh stop  STATEDIR   stop the server and remove its files
#   scripts/cluster.sh restart STATEDIR restart the server (empties shared_buffers)
#   scripts/cluster.sh env   STATEDIR   print the environment (PGHOST, PGPORT, …)
#
# The server listens on a free TCP port on 127.0.0.1 (and ::1 when the machine
# has it) and on a private Unix socket directory, with TLS from a certificate
# generated here (SAN localhost, 127.0.0.1, ::1).  Roles, one per login method:
#   postgres      superuser, trust (socket and TCP)
#   fw_trust      trust
#   fw_scram      SCRAM-SHA-256, password fw_scram_pw
#   fw_md5        MD5 (stored as an MD5 hash), password fw_md5_pw
#   fw_password   cleartext password exchange, password fw_password_pw
#   fw_tls        SCRAM-SHA-256 over TLS only (hostssl), password fw_tls_pw
#   fw_cert       client certificate (hostssl, cert), no password
# As root the server runs as the "postgres" user (initdb and postgres refuse
# root); the data lives in a private directory under ${TMPDIR:-/tmp} that the
# postgres user can reach, STATEDIR only records where.  As another user the
# server runs as that user.
#
# PG_CONFIG selects the installation (default: pg_config on PATH);
# FW_CLUSTER_CONF adds postgresql.conf lines (after the ones above).
set -euo pipefail

cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
    echo "usage: $0 start|stop|restart|env STATEDIR" >&2
    exit 2
fi

PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)

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

write_env() {
    local base=$1 port=$2
    cat > "$state/env" <<EOF
FW_CLUSTER_BASE=$base
PGHOST=$base/socket
PGPORT=$port
PGUSER=postgres
PGDATABASE=postgres
FW_TEST_TCP_HOST=127.0.0.1
FW_TEST_TLS_DIR=$base/tls
FW_TEST_IPV6=$( [ -n "${FW_HAVE_IPV6:-}" ] && echo 1 || echo 0)
EOF
}

make_tls() {
    local dir=$1
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fraiseql_wire test CA" \
            -keyout ca.key -out ca.crt 2>/dev/null
        # A second, unrelated CA: a client trusting only it must refuse the server.
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fraiseql_wire other CA" \
            -keyout other-ca.key -out other-ca.crt 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.crt 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=fw_cert" \
            -keyout client.key -out client.csr 2>/dev/null
        openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -out client.crt 2>/dev/null
        rm -f ./*.csr ./*.srl server.ext
        chmod 600 ./*.key
    )
}

start() {
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    if [ -f "$state/env" ]; then
        echo "cluster.sh: $state/env exists; stopping the previous cluster first" >&2
        stop
        mkdir -p "$state"
    fi
    local base
    base=$(mktemp -d "${TMPDIR:-/tmp}/fraiseql_wire.XXXXXX")
    chmod 755 "$base"
    mkdir -p "$base/socket" "$base/data"
    make_tls "$base/tls"
    # The client tests read the CA and the client key; the server needs its
    # key readable by itself only.
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres: "$base"
    fi
    chmod 700 "$base/data"

    as_server "$bindir/initdb" -D "$base/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$base/initdb.log" 2>&1 || {
        echo "cluster.sh: initdb failed:" >&2
        cat "$base/initdb.log" >&2
        exit 1
    }

    local listen="127.0.0.1"
    if [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
        listen="127.0.0.1,::1"
        FW_HAVE_IPV6=1
    fi

    cat >> "$base/data/postgresql.conf" <<EOF

# fraiseql_wire temporary cluster
listen_addresses = '$listen'
unix_socket_directories = '$base/socket'
ssl = on
ssl_cert_file = '$base/tls/server.crt'
ssl_key_file = '$base/tls/server.key'
ssl_ca_file = '$base/tls/ca.crt'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
shared_buffers = 256MB
log_min_messages = warning
log_connections = off
EOF
    # Extra settings, one per line, after ours (the last one wins), e.g.
    # FW_CLUSTER_CONF='shared_buffers = 1GB' for a benchmark.
    if [ -n "${FW_CLUSTER_CONF:-}" ]; then
        printf '%s\n' "$FW_CLUSTER_CONF" >> "$base/data/postgresql.conf"
    fi
    cat > "$base/data/pg_hba.conf" <<'EOF'
# TYPE     DATABASE USER         ADDRESS       METHOD
local      all      fw_tls                     reject
local      all      fw_cert                    reject
local      all      fw_scram                   scram-sha-256
local      all      fw_md5                     md5
local      all      fw_password                password
local      all      all                        trust
hostssl    all      fw_tls       127.0.0.1/32  scram-sha-256
hostssl    all      fw_tls       ::1/128       scram-sha-256
hostssl    all      fw_cert      127.0.0.1/32  cert
hostssl    all      fw_cert      ::1/128       cert
host       all      fw_tls       all           reject
host       all      fw_cert      all           reject
host       all      fw_scram     127.0.0.1/32  scram-sha-256
host       all      fw_scram     ::1/128       scram-sha-256
host       all      fw_md5       127.0.0.1/32  md5
host       all      fw_md5       ::1/128       md5
host       all      fw_password  127.0.0.1/32  password
host       all      fw_password  ::1/128       password
host       all      all          127.0.0.1/32  trust
host       all      all          ::1/128       trust
EOF
    [ "$(id -u)" -eq 0 ] && chown postgres: "$base/data/pg_hba.conf"

    local port tries=0
    while :; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
        port_in_use "$port" && continue
        if as_server "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -o "-p $port" \
            -w -t 30 start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            echo "cluster.sh: the server did not start; its log:" >&2
            cat "$base/server.log" >&2 || true
            rm -rf "$base"
            exit 1
        fi
    done
    write_env "$base" "$port"

    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$base/socket" -p "$port" -U postgres -d postgres <<'EOF'
CREATE ROLE fw_trust LOGIN;
SET password_encryption = 'scram-sha-256';
CREATE ROLE fw_scram LOGIN PASSWORD 'fw_scram_pw';
CREATE ROLE fw_tls LOGIN PASSWORD 'fw_tls_pw';
CREATE ROLE fw_password LOGIN PASSWORD 'fw_password_pw';
CREATE ROLE fw_cert LOGIN;
SET password_encryption = 'md5';
CREATE ROLE fw_md5 LOGIN PASSWORD 'fw_md5_pw';
GRANT pg_read_all_data TO fw_trust, fw_scram, fw_tls, fw_password, fw_cert, fw_md5;
EOF
    echo "cluster.sh: started on port $port (socket $base/socket, state $state/env)" >&2
}

stop() {
    [ -f "$state/env" ] || return 0
    local base
    base=$(sed -n 's/^FW_CLUSTER_BASE=//p' "$state/env")
    if [ -n "$base" ] && [ -d "$base/data" ]; then
        as_server "$bindir/pg_ctl" -D "$base/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    case "$base" in
        */fraiseql_wire.*) rm -rf "$base" ;;
    esac
    rm -f "$state/env"
}

restart() {
    local base
    base=$(sed -n 's/^FW_CLUSTER_BASE=//p' "$state/env")
    as_server "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -m fast -w -t 30 restart >/dev/null
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    restart) restart ;;
    env)
        [ -f "$state/env" ] || { echo "cluster.sh: no cluster recorded in $state" >&2; exit 1; }
        sed 's/^/export /' "$state/env"
        ;;
    *) echo "usage: $0 start|stop|restart|env STATEDIR" >&2; exit 2 ;;
esac
