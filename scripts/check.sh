#!/usr/bin/env bash
# check.sh — the test driver behind `make check` and `make installcheck`.
#
#   scripts/check.sh                 build, start a throw-away cluster, install
#                                    the extension, run every suite, stop
#   scripts/check.sh --installcheck  run the server suites against the server
#                                    named by the PG* variables (nothing is
#                                    started or installed)
#
# Suites, each found by wildcard so that a new test needs no edit here:
#   version      fraiseql_wire.control is the one source of the version
#   unit         client/tests/unit/*.c (Criterion, no server), also under
#                AddressSanitizer + UBSan
#   protocol     client/tests/protocol/*.c (Criterion, no cluster: the whole
#                client over loopback sockets against a scripted server),
#                also under AddressSanitizer + UBSan
#   regress      regress/sql/*.sql (pg_regress)
#   shell        regress/shell/*.sh and client/tests/shell/*.sh (TAP lines)
#   integration  client/tests/integration/*.c (Criterion, needs the cluster),
#                also under AddressSanitizer + UBSan
#   fuzz         the decoder's libFuzzer target, when CHECK_FUZZ_SECONDS is set
# The last line is "N passed, N failed"; the exit status is 1 on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

mode=check
[ "${1:-}" = "--installcheck" ] && mode=installcheck

PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG
logdir=$root/build/check
state=$root/build/cluster
mkdir -p "$logdir"

passed=0
failed=0
failures=()

count() {    # count SUITE PASSED FAILED
    passed=$((passed + $2))
    failed=$((failed + $3))
    [ "$3" -gt 0 ] && failures+=("$1 ($3)")
    printf '== %-28s %d passed, %d failed\n' "$1" "$2" "$3"
}

finish() {
    if [ "$mode" = check ]; then
        scripts/cluster.sh stop "$state" >/dev/null 2>&1 || true
    fi
    if [ "${#failures[@]}" -gt 0 ]; then
        echo "failed suites: ${failures[*]} (logs in build/check/)"
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

abort() {    # abort SUITE MESSAGE
    echo "check.sh: $2" >&2
    count "$1" 0 1
    finish
    exit 1
}

on_signal() {
    echo "check.sh: interrupted" >&2
    finish
    exit 130
}
trap on_signal INT TERM
# Whatever happens, no server outlives this script.
trap '[ "$mode" = check ] && scripts/cluster.sh stop "$state" >/dev/null 2>&1' EXIT

# run_criterion SUITE LOG BINARY [ARGS…]: Criterion prints
#   [====] Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N
run_criterion() {
    local suite=$1 log=$2
    shift 2
    "$@" --ascii >"$log" 2>&1
    local rc=$?
    local line
    line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep 'Synthesis:' | tail -n 1)
    if [ -z "$line" ]; then
        tail -n 30 "$log"
        count "$suite" 0 1
        return
    fi
    local p f c
    p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
    f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
    c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
    if [ $((f + c)) -gt 0 ] || [ "$rc" -ne 0 ]; then
        sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '\[(FAIL|----)\]|CRASH|ERROR|Assertion|Skip' | head -n 60
        [ $((f + c)) -eq 0 ] && c=1
    fi
    grep -h 'SKIP\|Skipping' "$log" | head -n 5
    count "$suite" "$p" $((f + c))
}

# run_tap SUITE LOG SCRIPT: lines "ok …" / "not ok …"
run_tap() {
    local suite=$1 log=$2 script=$3
    bash "$script" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
        grep -v '^ok ' "$log" | tail -n 40
        [ "$f" -eq 0 ] && f=1
    fi
    count "$suite" "$p" "$f"
}

run_regress() {
    local log=$logdir/regress.log
    make --no-print-directory -f extension/Makefile installcheck >"$log" 2>&1
    local rc=$?
    local all n m
    all=$(sed -n 's/^ *All \([0-9]*\) tests passed.*/\1/p' "$log" | tail -n 1)
    if [ -n "$all" ] && [ "$rc" -eq 0 ]; then
        count regress "$all" 0
        return
    fi
    n=$(sed -n 's/^ *\([0-9]*\) of \([0-9]*\) tests failed.*/\1/p' "$log" | tail -n 1)
    m=$(sed -n 's/^ *\([0-9]*\) of \([0-9]*\) tests failed.*/\2/p' "$log" | tail -n 1)
    grep -E 'FAILED|failed \(' "$log" | head -n 40
    [ -f build/regress/regression.diffs ] && head -n 80 build/regress/regression.diffs
    if [ -n "$n" ]; then
        count regress $((m - n)) "$n"
    else
        tail -n 20 "$log"
        count regress 0 1
    fi
}

# ---------------------------------------------------------------- build
if [ "$mode" = check ]; then
    scripts/deps.sh || abort deps "missing packages (see above)"
fi
echo "== building"
if ! make --no-print-directory all >"$logdir/build.log" 2>&1; then
    tail -n 40 "$logdir/build.log"
    abort build "the build failed (build/check/build.log)"
fi
if ! make --no-print-directory -C client tests >>"$logdir/build.log" 2>&1; then
    tail -n 40 "$logdir/build.log"
    abort build "the tests did not build (build/check/build.log)"
fi

# ---------------------------------------------------------- clang build
# The same sources build with clang too, still with -Werror (and with the
# distribution's CFLAGS honoured): in a copy of the tree, so that the gcc
# objects the suites below use stay as they are.
if [ "$mode" = check ]; then
    rm -rf build/clang && mkdir -p build/clang
    tar -C "$root" --exclude='*/build' --exclude='*/build-asan' --exclude='*.o' \
        --exclude='*.so' --exclude='*.bc' -cf - extension client fraiseql_wire.control Makefile |
        tar -C build/clang -xf -
    if make --no-print-directory -C build/clang CC=clang-14 CFLAGS='-O2 -D_FORTIFY_SOURCE=2' \
            all >"$logdir/build-clang.log" 2>&1; then
        count build-clang 1 0
    else
        grep -E 'error|warning' "$logdir/build-clang.log" | head -n 20
        count build-clang 0 1
    fi
fi

# -------------------------------------------------------------- version
run_tap version "$logdir/version.log" scripts/check-version.sh
run_tap doc-links "$logdir/doc-links.log" scripts/check-links.sh

# ----------------------------------------------------------------- unit
if [ "$mode" = check ]; then
    run_criterion unit "$logdir/unit.log" client/build/tests/unit
fi

# ------------------------------------------------------------- protocol
# No cluster needed: a scripted server on a loopback port (also in
# installcheck mode, where it costs nothing).
run_criterion protocol "$logdir/protocol.log" client/build/tests/protocol --jobs 2

# ------------------------------------------- unit and protocol, sanitized
if [ "$mode" = check ]; then
    if make --no-print-directory -C client SANITIZE=1 tests >"$logdir/build-asan.log" 2>&1; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            run_criterion unit-asan-ubsan "$logdir/unit-asan.log" client/build-asan/tests/unit --jobs 1
        # Leaks count here too (the client's error paths, mostly): one job
        # at a time, since Criterion's runner leaks a few bytes with several.
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            run_criterion protocol-asan-ubsan "$logdir/protocol-asan.log" \
            client/build-asan/tests/protocol --jobs 1
    else
        tail -n 40 "$logdir/build-asan.log"
        count unit-asan-ubsan 0 1
        count protocol-asan-ubsan 0 1
    fi
fi

# -------------------------------------------------------------- cluster
if [ "$mode" = check ]; then
    if ! scripts/cluster.sh start "$state" 2>"$logdir/cluster.log"; then
        cat "$logdir/cluster.log"
        abort cluster "the temporary cluster did not start"
    fi
    # shellcheck disable=SC1090
    eval "$(scripts/cluster.sh env "$state")"
    if ! make --no-print-directory install-extension >"$logdir/install.log" 2>&1; then
        tail -n 20 "$logdir/install.log"
        abort install "the extension did not install"
    fi
fi
if ! psql -X -q -c 'SELECT 1' >/dev/null 2>&1; then
    abort server "no server at PGHOST=${PGHOST:-} PGPORT=${PGPORT:-}"
fi
export FW_TEST_SERVER=1

# ---------------------------------------------------------- server suites
run_regress

# The client suites log in as the throw-away cluster's roles (fw_scram, fw_tls,
# …) with its TLS files: against another server (installcheck) they need a
# cluster made by scripts/cluster.sh, whose env sets FW_TEST_TLS_DIR.
client_suites=1
if [ -z "${FW_TEST_TLS_DIR:-}" ]; then
    client_suites=0
    echo "== client shell and integration suites SKIPPED: they need a server started by"
    echo "   scripts/cluster.sh (its roles and TLS files; eval \"\$(scripts/cluster.sh env DIR)\")"
fi

for t in regress/shell/*.sh client/tests/shell/*.sh; do
    [ -f "$t" ] || continue
    case "$t" in client/*) [ "$client_suites" = 1 ] || continue ;; esac
    run_tap "shell:$(basename "$t" .sh)" "$logdir/shell-$(basename "$t" .sh).log" "$t"
done

[ "$client_suites" = 1 ] &&
    run_criterion integration "$logdir/integration.log" client/build/tests/integration --jobs 2
if [ "$mode" = check ] && [ "$client_suites" = 1 ] && [ -x client/build-asan/tests/integration ]; then
    # Leak detection stays on for the unit suite; here Criterion's own runner
    # leaks a few bytes in its parent process, so only errors and UB count.
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_criterion integration-asan-ubsan "$logdir/integration-asan.log" \
        client/build-asan/tests/integration --jobs 2
fi

# ----------------------------------------------------------------- fuzz
if [ -n "${CHECK_FUZZ_SECONDS:-}" ]; then
    log=$logdir/fuzz.log
    if make --no-print-directory -C client fuzz >"$log" 2>&1 &&
       client/fuzz/run.sh "$CHECK_FUZZ_SECONDS" >>"$log" 2>&1; then
        count fuzz 1 0
    else
        tail -n 40 "$log"
        count fuzz 0 1
    fi
fi

finish
