# tap.sh — TAP helpers for the shell test suites (regress/shell/*.sh), sourced
# after the suite has made its scratch directory $work:
#
#   . "$root/scripts/tap.sh"
#   ok "what it checks" COMMAND ARGS…   runs COMMAND; "ok N - …" or "not ok N - …"
#                                       followed by its output as "# " lines
#   is ACTUAL EXPECTED                  fails, saying both, unless they are equal
#   is_number ACTUAL EXPECTED           the same, and ACTUAL must be a whole number
#                                       (an empty or failed query never passes)
#   plan                                the closing "1..N" line
# shellcheck shell=bash

n=0
ok() {
    local what=$1
    shift
    n=$((n + 1))
    if "$@" >"$work/out.$n" 2>&1; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
        head -n 80 "$work/out.$n" | sed 's/^/# /'
    fi
}
is() {
    [ "$1" = "$2" ] || { echo "got:      $1"; echo "expected: $2"; return 1; }
}
is_number() {
    [[ "$1" =~ ^[0-9]+$ ]] || { echo "got \"$1\", not a number"; return 1; }
    is "$1" "$2"
}
plan() {
    echo "1..$n"
}
