#!/usr/bin/env bash
# 50_extension_sources.sh — the layout rules of extension/src (extension/README.md):
#   - every function a .c file exports is declared exactly once, with extern,
#     in the header of the same name (filter.h for the filter language's
#     filter_*.c), and nowhere else (no prototypes in .c files, no second
#     copy in another header); SQL-callable functions are declared by their
#     PG_FUNCTION_INFO_V1 only;
#   - exported names carry the fw_ prefix (the server's symbol namespace is
#     shared with every other library);
#   - every fraiseql_wire.* setting is defined in guc.c, and guc.c is where
#     the variables behind them live;
#   - the SQL-callable functions of the filter language and of the planner
#     support of matches() are in filter_funcs.c.
# Reads the sources only (no server, no build).  TAP output.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
src=${FW_EXTENSION_SRC:-$root/extension/src}
work=$(mktemp -d "${TMPDIR:-/tmp}/fw_extsrc.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/tap.sh
. "$root/scripts/tap.sh"

cd "$src" || { echo "not ok 1 - no $src"; exit 1; }

# Functions defined with external linkage, as "file name" lines: the name at
# the start of a line, after a line holding the return type only (the tree's
# pgindent layout), and not SQL-callable (PG_FUNCTION_INFO_V1 declares those).
awk '
    FNR == 1 { prev = "" }
    /^PG_FUNCTION_INFO_V1\(/ { v1 = $0; sub(/^PG_FUNCTION_INFO_V1\(/, "", v1); sub(/\).*/, "", v1); isv1[v1] = 1 }
    /^[A-Za-z_][A-Za-z0-9_]*\(/ && $0 !~ /;[[:blank:]]*$/ &&
    prev ~ /^[A-Za-z_][A-Za-z0-9_[:blank:]]*[[:blank:]*]*$/ && prev !~ /^static[[:blank:]]/ && prev !~ /^(typedef|extern|return)[[:blank:]]/ {
        name = $0; sub(/\(.*/, "", name); defs[FILENAME " " name] = 1
    }
    { prev = $0 }
    END { for (d in defs) { split(d, p, " "); if (!(p[2] in isv1)) print d } }
' *.c | sort >"$work/defs"

# extern function declarations, as "file name" lines
grep -H -E '^extern[^;(]*[^A-Za-z0-9_(][A-Za-z_][A-Za-z0-9_]*\(' *.h *.c |
    sed -E 's|^([^:]*):extern[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)\(.*|\1 \2|' |
    sort >"$work/decls"

defined_once_in_own_header() {
    local bad=0 file name
    [ -s "$work/defs" ] || { echo "no function definitions found in $src"; return 1; }
    while read -r file name; do
        local where header=${file%.c}.h
        case "$file" in filter_*.c) header=filter.h ;; esac
        where=$(awk -v n="$name" '$2 == n { print $1 }' "$work/decls" | tr '\n' ' ')
        if [ "$where" != "$header " ]; then
            echo "$name (defined in $file) is declared in: ${where:-nothing}; expected $header only"
            bad=1
        fi
    done <"$work/defs"
    return $bad
}
ok "every exported function is declared once, in its own file's header" defined_once_in_own_header

no_duplicate_declarations() {
    local dups
    dups=$(awk '{ print $2 }' "$work/decls" | sort | uniq -d)
    [ -z "$dups" ] || { echo "declared more than once:"; grep -w -F "$dups" "$work/decls"; return 1; }
}
ok "no function is declared twice" no_duplicate_declarations

no_prototypes_in_c_files() {
    # file-scope declarations of non-static functions in .c files
    ! grep -n -E '^(extern[[:blank:]]+)?[A-Za-z_][A-Za-z0-9_[:blank:]]*[[:blank:]*]+[A-Za-z_][A-Za-z0-9_]*\([^;{]*\);[[:blank:]]*$' *.c |
        grep -v -E ':(static|PG_FUNCTION_INFO_V1|return)[[:blank:](]'
}
ok "no function prototypes in .c files" no_prototypes_in_c_files

exported_names_prefixed() {
    ! awk '{ print $2 }' "$work/defs" "$work/decls" | sort -u | grep -v -E '^(fw_|_PG_init$)'
}
ok "exported functions are named fw_*" exported_names_prefixed

settings_in_guc_c() {
    local files
    files=$(grep -l -E 'DefineCustom[A-Za-z]*Variable|MarkGUCPrefixReserved' *.c | tr '\n' ' ')
    [ "$files" = "guc.c " ] || { echo "settings defined in: $files"; return 1; }
}
ok "every setting is defined in guc.c" settings_in_guc_c

variables_in_guc() {
    local bad
    # extern variables are declared in guc.h only (and defined in guc.c)
    bad=$(grep -H -E '^extern[^(]*;' *.h *.c | grep -v '^guc\.h:')
    [ -z "$bad" ] || { echo "$bad"; return 1; }
    for v in $(sed -n -E 's/^extern[^(]*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*);.*/\1/p' guc.h); do
        grep -q -E "^[A-Za-z_][A-Za-z0-9_[:blank:]*]*[^A-Za-z0-9_]$v[[:blank:]]*=" guc.c || { echo "$v is not defined in guc.c"; return 1; }
    done
}
ok "the variables behind the settings live in guc.c" variables_in_guc

filter_sql_functions_in_filter_funcs() {
    ! grep -n 'PG_FUNCTION_INFO_V1' filter_*.c support*.c | grep -v '^filter_funcs\.c:'
}
ok "SQL-callable filter and support functions are in filter_funcs.c" filter_sql_functions_in_filter_funcs

plan
