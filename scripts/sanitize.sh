#!/usr/bin/env bash
# Sanitizer runs (the project's own code instrumented; see cmake/sanitizers.cmake):
#   scripts/sanitize.sh asan [node test files...]
#       ASan + UBSan build in ./build-asan: the unit tests (ctest), then the server binary under
#       the SDK suites given (default: a core set; "all" for every suite in tests/run-node-tests.sh).
#   scripts/sanitize.sh tsan
#       TSan build in ./build-tsan: the engine, store and scheduler unit tests.
# Any sanitizer report fails the run (halt_on_error; UBSan does not recover). Prints the time
# each phase took. Figures: README "Reliability and security".
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-asan}"
[ $# -gt 0 ] && shift
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/temporalite-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/temporalite-ccache"
jobs="${BUILD_JOBS:-$(nproc)}"
phase_start=$(date +%s)
phase() {
  local now
  now=$(date +%s)
  echo "sanitize: $1 took $((now - phase_start)) s" >&2
  phase_start=$now
}

unit_tests=(persistence_test engine_test schedule_spec_test visibility_query_test scheduler_test http_test)
case "$mode" in
  asan)
    dir=build-asan
    if [ ! -f $dir/CMakeCache.txt ]; then
      cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEMPORALITE_SANITIZE=address,undefined -DTEMPORALITE_UI=OFF >&2
    fi
    cmake --build $dir -j"$jobs" --target temporalite "${unit_tests[@]}" \
      list_filter_replay schedule_spec_replay http_transcode_replay cli_input_replay request_values_replay >&2
    phase "ASan+UBSan build"
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
    # Leaks of process-lifetime singletons in gRPC/protobuf are not ours.
    export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
    regex="^($(IFS='|'; echo "${unit_tests[*]}")|fuzz_replay)$"
    (cd $dir && ctest --output-on-failure --timeout 600 -R "$regex")
    phase "unit tests under ASan+UBSan"
    files=("$@")
    if [ ${#files[@]} -eq 0 ]; then
      files=(tests/compat/core.test.js tests/compat/messaging.test.js tests/badinput/badinput.test.js
        tests/hardening/hardening.test.js tests/security/security.test.js tests/crash/crash.test.js)
    elif [ "${files[0]}" = all ]; then
      files=()
    fi
    TEMPORALITE_BIN="$PWD/$dir/temporalite" tests/run-node-tests.sh "${files[@]}"
    phase "SDK suites against the ASan+UBSan server"
    ;;
  tsan)
    dir=build-tsan
    tsan_tests=(persistence_test engine_test scheduler_test)
    if [ ! -f $dir/CMakeCache.txt ]; then
      cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEMPORALITE_SANITIZE=thread -DTEMPORALITE_UI=OFF >&2
    fi
    cmake --build $dir -j"$jobs" --target "${tsan_tests[@]}" >&2
    phase "TSan build"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    regex="^($(IFS='|'; echo "${tsan_tests[*]}"))$"
    (cd $dir && ctest --output-on-failure --timeout 900 -R "$regex")
    phase "engine, store and scheduler tests under TSan"
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan [node test files...|all] | tsan" >&2
    exit 2
    ;;
esac
