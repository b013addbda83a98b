#!/usr/bin/env bash
# run.sh SECONDS — runs every libFuzzer target in client/build/fuzz/ for
# SECONDS each, starting from its seed corpus (client/fuzz/corpus/<target>/,
# copied to a temporary directory so the repository is not modified).
#
# Builds nothing: `make -C client fuzz` first.  Logs go to
# client/build/fuzz/<target>.log, crash/leak/timeout inputs to
# client/build/fuzz/artifacts/.  Prints one line per target; exits 1 when
# any target found a crash, a leak or a timeout, or when there is no target.
set -uo pipefail

secs=${1:-}
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: $0 SECONDS" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
bindir=$here/../build/fuzz
artifacts=$bindir/artifacts
work=$(mktemp -d "${TMPDIR:-/tmp}/fw-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"

status=0
found=0
for bin in "$bindir"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    case "$bin" in *.log) continue ;; esac
    found=1
    target=$(basename "$bin")
    log=$bindir/$target.log
    corpus=$work/$target
    mkdir -p "$corpus"
    if [ -d "$here/corpus/$target" ]; then
        cp -R "$here/corpus/$target/." "$corpus/"
    fi
    seeds=$(find "$corpus" -type f | wc -l)
    start=$(date +%s)
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$corpus" \
            >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    if [ "$rc" -eq 0 ]; then
        printf '%-16s ok     %ss, %s runs, %s seeds, coverage %s\n' \
            "$target" "$elapsed" "${runs:-?}" "$seeds" "${cov:-?}"
    else
        status=1
        what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)[^(]*|runtime error:.*|ALARM: .*|deadly signal' "$log")
        printf '%-16s FAILED %s (exit %d; log %s; inputs in %s)\n' \
            "$target" "${what:-see the log}" "$rc" "$log" "$artifacts"
    fi
done

if [ "$found" -eq 0 ]; then
    echo "run.sh: no fuzz target in $bindir (run make -C client fuzz)" >&2
    exit 1
fi
exit "$status"
