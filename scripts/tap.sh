# tap.sh — TAP helpers for the shell test suites (regress/shell/*.sh and
# client/tests/shell/*.sh), sourced after the suite has made its scratch
# directory ($work for ok, $tmp for ok_status):
#
#   . "$root/scripts/tap.sh"
#   ok "what it checks" COMMAND ARGS…   runs COMMAND; "ok N - …" or "not ok N - …"
#                                       followed by its output as "# " lines
#   ok_status "what it checks" STATUS [FILE]
#                                       STATUS 0 passes; a failure is counted in
#                                       $failed and shows FILE, else the exit
#                                       status $rc (and $ms) and the heads of
#                                       $tmp/out and $tmp/err
#   is ACTUAL EXPECTED                  fails, saying both, unless they are equal
#   is_number ACTUAL EXPECTED           the same, and ACTUAL must be a whole number
#                                       (an empty or failed query never passes)
#   plan                                the closing "1..N" line
# shellcheck shell=bash

n=0
failed=0
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
ok_status() {
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then
        echo "ok $n - $1"
        return 0
    fi
    echo "not ok $n - $1"
    failed=$((failed + 1))
    if [ -n "${3:-}" ]; then
        sed 's/^/#   /' "$3"
        return 0
    fi
    [ -n "${rc:-}" ] && echo "#   exit ${rc}${ms:+, ${ms} ms}"
    local f
    for f in "$tmp/out" "$tmp/err"; do
        if [ -s "$f" ]; then
            echo "#   ${f##*/}:"
            { head -c 800 "$f"; echo; } | sed '/^$/d; s/^/#     /'
        fi
    done
    return 0
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
