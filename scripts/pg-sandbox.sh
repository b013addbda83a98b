#!/usr/bin/env bash
# pg-sandbox.sh — a private, writable copy of the system's PostgreSQL installation.
#
#   scripts/pg-sandbox.sh DIR     prints the pg_config to use: DIR/lib/postgresql/N/bin/pg_config
#
# For developing several branches at once (or as a user who cannot write to
# the system installation): `make check PG_CONFIG=$(scripts/pg-sandbox.sh DIR)`
# installs the extension into DIR only.  PostgreSQL's binaries find their
# share and lib directories relative to their own location, so a copy of the
# bin/lib and share trees (headers linked) is a complete installation.
set -euo pipefail
dir=${1:?usage: pg-sandbox.sh DIR}
PG_CONFIG=${PG_CONFIG:-pg_config}
major=$("$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
libroot=$(cd "$("$PG_CONFIG" --bindir)/.." && pwd)        # …/lib/postgresql/N
share=$("$PG_CONFIG" --sharedir)                            # …/share/postgresql/N
inc=$(cd "$("$PG_CONFIG" --includedir-server)/.." && pwd)   # …/include/postgresql/N
if [ ! -x "$dir/lib/postgresql/$major/bin/pg_config" ]; then
    mkdir -p "$dir/lib/postgresql" "$dir/share/postgresql" "$dir/include/postgresql"
    cp -a "$libroot" "$dir/lib/postgresql/$major"
    cp -a "$share" "$dir/share/postgresql/$major"
    ln -sfn "$inc" "$dir/include/postgresql/$major"
    chmod -R a+rX "$dir"
fi
echo "$dir/lib/postgresql/$major/bin/pg_config"
