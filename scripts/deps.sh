#!/usr/bin/env bash
# deps.sh — make sure the Debian packages the build and tests need are present.
#
#   scripts/deps.sh [--bench]
#
# As root, missing packages are installed with apt-get.  As another user the
# exact apt-get line is printed and the script fails, so that nothing is
# installed behind the user's back.  --bench adds what `make bench` needs.
set -euo pipefail

packages=(
    make gcc pkg-config openssl
    postgresql-15 postgresql-client-15 postgresql-server-dev-15 libpq-dev
    libjson-c-dev libcriterion-dev libssl-dev
    clang-14 libclang-rt-14-dev llvm-14
    pgbouncer
)
if [ "${1:-}" = "--bench" ]; then
    packages+=(gnuplot-nox python3)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$status" in
        ii*) ;;
        *) missing+=("$p") ;;
    esac
done

[ "${#missing[@]}" -eq 0 ] && exit 0

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get update && sudo $line" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# postgresql-common creates a "main" cluster on install; the project never
# uses it (tests run their own throw-away cluster), so ask it not to.
mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ] || \
   ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
