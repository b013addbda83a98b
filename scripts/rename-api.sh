#!/usr/bin/env bash
# rename-api.sh — applies client/tools/rename-0.2.sed (the 0.2 function
# names, docs/abi.md) to the tracked sources and docs of this tree: client/,
# bench/, docs/, README.md, scripts/.  Left alone: what must keep the 0.1.0
# names (the deprecated wrappers, the version script, the frozen 0.1.0
# header and the program built against it, the ABI test, docs/abi.md,
# CHANGELOG.md) and the sed script itself.  Idempotent.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
git ls-files -- client bench docs README.md scripts |
    grep -v -e '^client/tests/abi/' -e '^client/src/deprecated\.c$' \
        -e '^client/src/libfraiseql_wire\.map$' -e '^client/tests/shell/52_abi_symbols\.sh$' \
        -e '^docs/abi\.md$' -e '^client/tools/rename-0\.2\.sed$' -e '^scripts/rename-api\.sh$' |
    while read -r f; do
        [ -f "$f" ] && grep -Iq . "$f" && printf '%s\0' "$f"
    done | xargs -0 -r sed -i -E -f client/tools/rename-0.2.sed
