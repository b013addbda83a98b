#!/usr/bin/env bash
# The shared library's ABI (TAP; docs/abi.md): its file name and SONAME come
# from the version script client/src/libfraiseql_wire.map; it exports
# exactly the functions the header declares FW_API (nothing internal leaks,
# nothing declared is missing), each listed once in the version script; the
# 0.1.0 names are all still there under FRAISEQL_WIRE_0.1, and a program
# written against the released 0.1.0 header builds, links and runs against
# this library (with the cluster: connects and streams too).  The deprecated
# names are marked so and disappear under FW_NO_DEPRECATED.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${FW_BUILD_DIR:-$root/client/build}
hdr=$root/client/include/fraiseql_wire.h
map=$root/client/src/libfraiseql_wire.map
old_hdr_dir=$root/client/tests/abi/0.1.0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=scripts/tap.sh
. "$here/../../../scripts/tap.sh"
# FW_API function names declared in a header, one a line, sorted.
declared() {
    grep -o '^FW_API[^(]*(' "$1" | sed -E 's/.*[ *]([A-Za-z_0-9]+)\($/\1/' | sort
}
# The names listed in the version script, or those of one node.
map_names() {
    sed -e 's:/\*.*\*/::' "$map" | awk -v node="${1:-}" '
        /^[A-Za-z_0-9.]+ *\{/ { cur = $1; next }
        /^\}/ { cur = ""; next }
        /^ *(global|local):/ { next }
        /^ *[A-Za-z_][A-Za-z_0-9]* *;/ {
            gsub(/[ ;]/, ""); if (node == "" || node == cur) print
        }' | sort
}

: >"$tmp/out"
: >"$tmp/err"
abi=$(sed -n 's/^FRAISEQL_WIRE_\([0-9][0-9]*\.[0-9][0-9]*\) *{.*/\1/p' "$map" | tail -n 1)
major=${abi%%.*}
so=$build/libfraiseql_wire.so.$abi
ok_status "the newest version node names the library: libfraiseql_wire.so.$abi is built" "$(
    [ -n "$abi" ] && [ -f "$so" ]; echo $?)"
[ -f "$so" ] || { echo "1..$n"; exit 1; }
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
ok_status "SONAME is libfraiseql_wire.so.$major (got: $soname)" "$( [ "$soname" = "libfraiseql_wire.so.$major" ]; echo $?)"

# ------------------------------------------------ exported == declared
nm -D --defined-only "$so" | awk '$2 != "A"' >"$tmp/nm"
awk '{ sym = $3; sub(/@.*/, "", sym); print sym }' "$tmp/nm" | sort >"$tmp/exported"
declared "$hdr" >"$tmp/declared"
comm -23 "$tmp/exported" "$tmp/declared" >"$tmp/out"
ok_status "nothing is exported that the header does not declare ($(wc -l <"$tmp/exported") exported)" "$(
    [ ! -s "$tmp/out" ]; echo $?)"
comm -13 "$tmp/exported" "$tmp/declared" >"$tmp/out"
ok_status "every function the header declares FW_API is exported ($(wc -l <"$tmp/declared") declared)" "$(
    [ ! -s "$tmp/out" ] && [ -s "$tmp/declared" ]; echo $?)"
uniq -d "$tmp/exported" >"$tmp/out"
ok_status "each symbol is exported once (one version)" "$( [ ! -s "$tmp/out" ]; echo $?)"
map_names >"$tmp/mapped"
uniq -d "$tmp/mapped" >"$tmp/out"
ok_status "each name is listed once in the version script" "$( [ ! -s "$tmp/out" ]; echo $?)"
diff "$tmp/mapped" "$tmp/declared" >"$tmp/out"
ok_status "the version script lists exactly the declared functions" "$( [ ! -s "$tmp/out" ]; echo $?)"
awk '$3 !~ /@@?FRAISEQL_WIRE_[0-9]+\.[0-9]+$/' "$tmp/nm" >"$tmp/out"
ok_status "every exported symbol carries a FRAISEQL_WIRE_ version" "$( [ ! -s "$tmp/out" ]; echo $?)"

# ------------------------------------------------------- the 0.1.0 names
declared "$old_hdr_dir/fraiseql_wire.h" >"$tmp/v01"
ok_status "the frozen 0.1.0 header declares the 56 functions of 0.1.0" "$( [ "$(wc -l <"$tmp/v01")" -eq 56 ]; echo $?)"
map_names FRAISEQL_WIRE_0.1 | diff - "$tmp/v01" >"$tmp/out"
ok_status "node FRAISEQL_WIRE_0.1 is exactly the 0.1.0 set" "$( [ ! -s "$tmp/out" ]; echo $?)"
while read -r f; do
    grep -Eq " T $f@@?FRAISEQL_WIRE_0\.1\$" "$tmp/nm" || echo "$f"
done <"$tmp/v01" >"$tmp/out"
ok_status "every 0.1.0 name is exported as version FRAISEQL_WIRE_0.1" "$( [ ! -s "$tmp/out" ]; echo $?)"

# A binary built against 0.1.0: linked against a stand-in for the 0.1.0
# library (same SONAME, the 56 names, no symbol versions), so its
# references are unversioned as a real 0.1.0 binary's are; then run against
# this library.
mkdir -p "$tmp/v01lib"
sed 's/.*/void &(void); void &(void) {}/' "$tmp/v01" >"$tmp/v01lib/stub.c"
cc -shared -fPIC -Wl,-soname,libfraiseql_wire.so.0 -o "$tmp/v01lib/libfraiseql_wire.so" \
    "$tmp/v01lib/stub.c" >"$tmp/out" 2>"$tmp/err" &&
    cc -std=c11 -Wall -Wextra -Werror -I"$old_hdr_dir" -o "$tmp/old_program" \
        "$root/client/tests/abi/old_program.c" -L"$tmp/v01lib" -lfraiseql_wire >"$tmp/out" 2>"$tmp/err"
ok_status "a program written against the 0.1.0 header builds as against 0.1.0 (unversioned references)" $?
readelf -V "$tmp/old_program" 2>/dev/null | grep -c 'FRAISEQL_WIRE_' >"$tmp/out"
ok_status "it asks for no symbol version" "$( [ "$(cat "$tmp/out")" = 0 ]; echo $?)"
LD_LIBRARY_PATH=$build "$tmp/old_program" >"$tmp/out" 2>"$tmp/err"
ok_status "it runs against this library: conninfo, query builder, status names ($(grep -c '^ok' "$tmp/out") checks)" $?
if [ -n "${PGHOST:-}" ] && [ -n "${PGPORT:-}" ] && psql -X -q -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
    LD_LIBRARY_PATH=$build "$tmp/old_program" "dbname=postgres" >"$tmp/out" 2>"$tmp/err"
    ok_status "with the cluster it connects and streams with the 0.1.0 names ($(grep -c '^ok' "$tmp/out") checks)" $?
else
    n=$((n + 1))
    echo "ok $n - the 0.1.0 program against the cluster # SKIP no cluster (run scripts/check.sh)"
fi
# Rebuilt from the same source against this library, it binds the 0.1.0
# names at version FRAISEQL_WIRE_0.1 and needs no newer node.
cc -std=c11 -Wall -Wextra -Werror -I"$old_hdr_dir" -o "$tmp/old_relinked" \
    "$root/client/tests/abi/old_program.c" -L"$build" -lfraiseql_wire -Wl,-rpath,"$build" \
    >"$tmp/out" 2>"$tmp/err" && "$tmp/old_relinked" >"$tmp/out" 2>"$tmp/err"
ok_status "the same source relinked against this library builds and runs" $?
readelf -V "$tmp/old_relinked" 2>/dev/null | grep -o 'FRAISEQL_WIRE_[0-9.]*' | sort -u >"$tmp/out"
ok_status "relinked, it needs only version FRAISEQL_WIRE_0.1" "$( [ "$(cat "$tmp/out")" = "FRAISEQL_WIRE_0.1" ]; echo $?)"

# ------------------------------------------------------ deprecated names
cat >"$tmp/uses_old.c" <<'C'
#include <fraiseql_wire.h>
const char *f(const fw_query *q);
const char *f(const fw_query *q) { return fw_query_error(q); }
C
cc -std=c11 -Wall -c -I"$root/client/include" -o "$tmp/uses_old.o" "$tmp/uses_old.c" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok_status "an old name still compiles, with a warning that names its replacement" "$(
    [ "$rc" -eq 0 ] && grep -q "deprecated.*use fw_query_error_message" "$tmp/err"; echo $?)"
cc -std=c11 -Wall -Werror -c -DFW_NO_DEPRECATED -I"$root/client/include" -o "$tmp/uses_old.o" \
    "$tmp/uses_old.c" >"$tmp/out" 2>"$tmp/err"
ok_status "FW_NO_DEPRECATED hides the old names" "$( [ $? -ne 0 ] && grep -q 'fw_query_error' "$tmp/err"; echo $?)"
printf '#include <fraiseql_wire.h>\nint main(void) { return fw_query_error_class(0) == FW_ERR_USAGE ? 0 : 1; }\n' >"$tmp/new.c"
cc -std=c11 -Wall -Wextra -Werror -DFW_NO_DEPRECATED -I"$root/client/include" -o "$tmp/new" "$tmp/new.c" \
    -L"$build" -lfraiseql_wire -Wl,-rpath,"$build" >"$tmp/out" 2>"$tmp/err" && "$tmp/new"
ok_status "the current names build and run with FW_NO_DEPRECATED" $?
if command -v g++ >/dev/null 2>&1; then
    printf '#include <fraiseql_wire.h>\nint main() { return fw_version_num() > 0 ? 0 : 1; }\n' >"$tmp/cxx.cc"
    g++ -Wall -Wextra -Werror -I"$root/client/include" -o "$tmp/cxx" "$tmp/cxx.cc" \
        -L"$build" -lfraiseql_wire -Wl,-rpath,"$build" >"$tmp/out" 2>"$tmp/err" && "$tmp/cxx"
    ok_status "the header builds as C++" $?
fi

echo "1..$n"
[ "$failed" -eq 0 ]
