#!/usr/bin/env bash
# Sanitizer runs (the project's own code instrumented; see cmake/sanitizers.cmake). Debian's clang.
#   scripts/sanitize.sh asan [node test files...|all]
#       ASan + UBSan: the unit tests (ctest; not the C++ SDK's: see asan-sdk), then the server binary under
#       the TypeScript SDK suites given (default: the compatibility suites, bad input, hardening,
#       security and the crash suite; "all" for every file in tests/run-node-tests.sh but the ingestion,
#       UI and container-image files, which need binaries this build does not make). Built in
#       ./build-fuzz, the build scripts/fuzz.sh uses (clang, ASan + UBSan + libFuzzer's coverage
#       instrumentation): one instrumented build serves both, which halves the build on 2 cores.
#   scripts/sanitize.sh asan-sdk
#       ASan + UBSan with g++ in ./build-asan: the C++ SDK tests (sdk_test, against a server built
#       the same way). Debian's clang 14 does not compile the SDK's coroutine examples and tests
#       under ASan ("Cannot represent a difference across sections"), so the SDK gets its own
#       g++ build; the `asan` mode above runs everything else.
#   scripts/sanitize.sh tsan
#       TSan build in ./build-tsan (-O1, line tables): the persistence, engine (engine_test,
#       engine_units_test), scheduler and namespace-name tests.
# Only the targets these runs need are built (no UI, no CLI extras, no fuzzers, no benchmarks).
# Every sanitizer report goes to a file under $SANITIZE_LOGS (default build-*/sanitizer-logs; a
# server started by a node test reports there too, whatever the test does with its stderr); the
# run fails if any report was written, and prints them. Prints the time each phase took. The
# compiles run under `nice`. Figures: README "Fuzzing and sanitizers".
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-asan}"
[ $# -gt 0 ] && shift
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/temporalite-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/temporalite-ccache"
jobs="${BUILD_JOBS:-$(nproc)}"
if ! command -v clang++ >/dev/null; then
  echo "sanitize: clang++ not found (scripts/deps.sh installs clang)" >&2
  exit 2
fi
phase_start=$(date +%s)
phase() {
  local now
  now=$(date +%s)
  echo "sanitize: $1 took $((now - phase_start)) s" >&2
  phase_start=$now
}
# Fails (and prints them) if any sanitizer report was written since the logs were cleared.
check_reports() {
  local reports
  reports=$(find "$logs" -type f 2>/dev/null | sort)
  if [ -n "$reports" ]; then
    echo "sanitize: $(echo "$reports" | wc -l) sanitizer report(s) after $1:" >&2
    for f in $reports; do
      echo "--- $f" >&2
      head -60 "$f" >&2
    done
    exit 1
  fi
}

# Empties the ASan/UBSan/LSan report folder of build dir $1 (or $SANITIZE_LOGS) and points the
# sanitizers' options at it.
asan_logs() {
  logs="${SANITIZE_LOGS:-$PWD/$1/sanitizer-logs}"
  rm -rf "$logs" && mkdir -p "$logs"
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:log_path=$logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
  # Leaks of process-lifetime singletons in gRPC/protobuf are not ours.
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
}

# Every ctest except the embedded UI's (the UI is not built here), the C++ SDK's (asan-sdk runs it)
# and fuzz_replay (build-fuzz builds the libFuzzer binaries instead of the replay ones; scripts/fuzz.sh
# runs those under ASan + UBSan).
unit_tests=(persistence_test engine_test engine_units_test matching_test schedule_spec_test visibility_query_test
  scheduler_test http_test http_concurrency_test sigv4_test auth_test rate_limit_test namespace_name_test
  storage_wait_server_test)
case "$mode" in
  asan)
    dir=build-fuzz
    if [ ! -f $dir/CMakeCache.txt ]; then
      CC=clang CXX=clang++ cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEMPORALITE_FUZZ=ON \
        -DTEMPORALITE_UI=OFF >&2
    fi
    nice -n 10 cmake --build $dir -j"$jobs" --target temporalite temporalite_faults "${unit_tests[@]}" >&2
    phase "ASan+UBSan build"
    asan_logs "$dir"
    regex="^($(IFS='|'; echo "${unit_tests[*]}"))$"
    (cd $dir && ctest --output-on-failure --timeout 900 -R "$regex") || { check_reports "the unit tests"; exit 1; }
    check_reports "the unit tests"
    phase "unit tests under ASan+UBSan"
    files=("$@")
    if [ ${#files[@]} -eq 0 ]; then
      files=(tests/compat/*.test.js tests/badinput/badinput.test.js tests/hardening/hardening.test.js
        tests/security/security.test.js tests/crash/crash.test.js)
    elif [ "${files[0]}" = all ]; then
      # Every file of tests/run-node-tests.sh but those that need what this build does not make:
      # the ingestion binaries (C++ SDK users: the SDK does not compile under clang ASan, see
      # asan-sdk), the embedded UI, and the container images' check of build/'s binaries.
      mapfile -t files < <(grep -o 'tests/[a-z0-9_/-]*\.test\.js' tests/run-node-tests.sh |
        grep -v -E '^tests/(ingest|ui)/|^tests/ops/deploy\.test\.js$' | sort -u)
      echo "sanitize: ${#files[@]} test files (all but tests/ingest, tests/ui, tests/ops/deploy.test.js)" >&2
    fi
    TEMPORALITE_BIN="$PWD/$dir/temporalite" tests/run-node-tests.sh "${files[@]}" ||
      { check_reports "the SDK suites"; exit 1; }
    check_reports "the SDK suites"
    phase "TypeScript SDK suites against the ASan+UBSan server"
    ;;
  asan-sdk)
    dir=build-asan
    if [ ! -f $dir/CMakeCache.txt ]; then
      CC=gcc CXX=g++ cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTEMPORALITE_SANITIZE=address,undefined -DTEMPORALITE_UI=OFF >&2
    fi
    nice -n 10 cmake --build $dir -j"$jobs" --target temporalite sdk_test >&2
    phase "ASan+UBSan build (g++)"
    asan_logs "$dir"
    (cd $dir && ctest --output-on-failure --timeout 1800 -R '^sdk_test$') ||
      { check_reports "the C++ SDK tests"; exit 1; }
    check_reports "the C++ SDK tests"
    phase "C++ SDK tests under ASan+UBSan"
    ;;
  tsan)
    dir=build-tsan
    tsan_tests=(persistence_test engine_test engine_units_test scheduler_test namespace_name_test)
    if [ ! -f $dir/CMakeCache.txt ]; then
      CC=clang CXX=clang++ cmake -S . -B $dir -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEMPORALITE_SANITIZE=thread \
        -DTEMPORALITE_UI=OFF >&2
    fi
    nice -n 10 cmake --build $dir -j"$jobs" --target "${tsan_tests[@]}" >&2
    phase "TSan build"
    logs="${SANITIZE_LOGS:-$PWD/$dir/sanitizer-logs}"
    rm -rf "$logs" && mkdir -p "$logs"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan"
    regex="^($(IFS='|'; echo "${tsan_tests[*]}"))$"
    (cd $dir && ctest --output-on-failure --timeout 1200 -R "$regex") || { check_reports "the TSan tests"; exit 1; }
    check_reports "the TSan tests"
    phase "engine, store, scheduler and namespace-name tests under TSan"
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan [node test files...|all] | asan-sdk | tsan" >&2
    exit 2
    ;;
esac
