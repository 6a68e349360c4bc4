#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, see docs/fuzzing.md) with the address sanitizer and runs each for SECONDS
# (default 30): scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: flow json resp redis-url cron; default all).
#
# The build has its own scratch directory (.build-fuzz), so it never invalidates the normal .build. Each target
# starts from its committed seeds (Fuzz/Corpus/TARGET) plus what earlier runs here found (.build-fuzz/corpus/TARGET,
# where new inputs go). A crash, leak, timeout or broken invariant stops that target; the script goes on with the
# others, then prints the saved input and how to replay it, and exits 1.
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS="-jobs=2 -workers=2"); FUZZ_BUILD=no skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
setup_python=no
source scripts/setup.sh

seconds="${1:-30}"
shift || true
all_targets=(flow json resp redis-url cron)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

scratch=.build-fuzz
if [ "${FUZZ_BUILD:-yes}" != no ]; then
    build_start=$SECONDS
    mkdir -p "$scratch"
    if ! swift build --package-path Fuzz --scratch-path "$scratch" --product TributaryFuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DTRIBUTARY_FUZZING >"$scratch/build.log" 2>&1; then
        # The sanitizer runtime makes the linker print a warning per local symbol; keep the real errors.
        grep -v -e "Cannot export local symbol" -e "prohibited flag" "$scratch/build.log" | tail -40 >&2
        echo "fuzz: build failed; full log: $scratch/build.log" >&2
        exit 1
    fi
    echo "fuzz: build took $((SECONDS - build_start)) s"
fi
binary="$scratch/debug/TributaryFuzz"
[ -x "$binary" ] || { echo "fuzz: $binary is missing (build first)" >&2; exit 1; }

# Swift's own crash backtracer would stop libFuzzer from saving the crashing input (and can hang under ASan).
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1}"
failed=()
for target in "${targets[@]}"; do
    [ -d "Fuzz/Corpus/$target" ] || { echo "fuzz: unknown target '$target' (${all_targets[*]})" >&2; exit 2; }
    corpus="$scratch/corpus/$target"
    crashes="$scratch/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    log="$scratch/fuzz-$target.log"
    echo "fuzz: $target for $seconds s"
    status=0
    # shellcheck disable=SC2086
    "$binary" "$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=8192 \
        -dict="Fuzz/Dictionaries/$target.dict" -artifact_prefix="$crashes/" -print_final_stats=1 \
        ${FUZZ_FLAGS:-} "$corpus" "Fuzz/Corpus/$target" >"$log" 2>&1 || status=$?
    # The last status line (#runs DONE/pulse cov: … ft: … corp: n/size exec/s …) and libFuzzer's final counts.
    summary="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
    echo "fuzz: $target: ${execs:-?} executions, ${rate:-?} exec/s; ${summary:-no status line}"
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        grep -E "invariant violated|ERROR: |Fatal error|SUMMARY|Test unit written to" "$log" | head -8 >&2 || true
        echo "fuzz: $target FAILED (exit $status); log: $log" >&2
        echo "fuzz: replay with: SWIFT_BACKTRACE=enable=no $binary $target <the crash file above>" >&2
    fi
done
if ((${#failed[@]})); then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: every target ran $seconds s without a crash"
