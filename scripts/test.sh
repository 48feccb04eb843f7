#!/usr/bin/env bash
# README command 2: install what is missing, build everything, run every test:
# unit tests (ctest), then the official TypeScript SDK against the real server binary
# (compatibility, bad input, crash/restart).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
echo "== checked locking (clang -Wthread-safety over the engine and the store)"
scripts/check-thread-safety.sh
echo "== no function in src/ over 120 lines"
scripts/check-function-length.py
echo "== unit tests (ctest)"
(cd build && ctest --output-on-failure --timeout 300)
echo "== C++ SDK: install, then build the out-of-tree example against the installed package alone"
sdk_tmp="$(mktemp -d)"
trap 'rm -rf "$sdk_tmp"' EXIT
cmake --install build --prefix "$sdk_tmp/prefix" >/dev/null
cmake -S examples/out_of_tree -B "$sdk_tmp/build" -DCMAKE_PREFIX_PATH="$sdk_tmp/prefix" >/dev/null
cmake --build "$sdk_tmp/build" -j"${BUILD_JOBS:-$(nproc)}" >&2
echo "== C++ SDK: the hello-world example built with pkg-config against the installed package"
PKG_CONFIG_PATH="$sdk_tmp/prefix/lib/pkgconfig" pkg-config --exists temporalite_sdk
# shellcheck disable=SC2046
g++ -o "$sdk_tmp/hello_pc" examples/hello_world.cc \
  $(PKG_CONFIG_PATH="$sdk_tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs temporalite_sdk)
echo "== SDK compatibility, bad-input and crash tests (node --test)"
TEMPORALITE_BIN="$PWD/build/temporalite" tests/run-node-tests.sh
echo "== soak, short form: 100 s of steady load, RSS growth after a 60 s warm-up under 4 KiB per workflow (bench/soak.sh; 10 min: the README figure)"
SOAK_SECONDS=100 SOAK_WARMUP=60 SOAK_INTERVAL=5 SOAK_MAX_BYTES_PER_WORKFLOW=4096 bench/soak.sh
# A short libFuzzer run of every target (fuzz/*_fuzzer.cc: list filters, schedule specs, the HTTP
# transcoder, CLI values, request values, whole RPCs): FUZZ_SECONDS (default 5) each, two at a
# time (scripts/fuzz.sh, a clang + ASan + UBSan build in build-fuzz, README "Fuzzing and
# sanitizers"; request_values and rpc_request compile the engine, frontend and server glue a
# second time with clang + ASan, which the README's figures count). FUZZ_TARGETS="a b" picks
# targets; FUZZ_SECONDS=0 skips the step.
fuzz_seconds="${FUZZ_SECONDS:-5}"
if [ "$fuzz_seconds" != 0 ]; then
  fuzz_targets=()  # every target
  [ -n "${FUZZ_TARGETS:-}" ] && [ "${FUZZ_TARGETS}" != all ] && read -ra fuzz_targets <<< "$FUZZ_TARGETS"
  echo "== fuzzing: ${fuzz_targets[*]:-every libFuzzer target} for ${fuzz_seconds} s each (scripts/fuzz.sh)"
  scripts/fuzz.sh "$fuzz_seconds" "${fuzz_targets[@]}"
fi
