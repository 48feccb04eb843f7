#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/*_fuzzer.cc) for N seconds each (default 60), built with
# Debian's clang, libFuzzer, ASan and UBSan into ./build-fuzz. Seeds come from
# fuzz/make_seeds.sh plus fuzz/regressions/<target>/; the corpus grown by a run is kept in
# build-fuzz/corpus/<target>/ so later runs continue from it. A crash leaves its input in
# build-fuzz/artifacts/<target>/ and the script exits 1 (add the input to fuzz/regressions/<target>/
# once fixed). Targets run FUZZ_PARALLEL at a time (default 2), everything under `nice`.
# `scripts/test.sh` runs the short form of every target (FUZZ_SECONDS, default 5).
# Usage: scripts/fuzz.sh [seconds per target] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
[ $# -gt 0 ] && shift
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/temporalite-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/temporalite-ccache"
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/deps.sh installs clang)" >&2
  exit 2
fi
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEMPORALITE_FUZZ=ON \
    -DTEMPORALITE_UI=OFF >&2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzzer.cc; do targets+=("$(basename "$f" _fuzzer.cc)"); done
fi
nice -n 10 cmake --build build-fuzz -j"${BUILD_JOBS:-$(nproc)}" --target "${targets[@]/%/_fuzzer}" >&2
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
nice -n 10 fuzz/make_seeds.sh "$seeds"
# One target for $secs seconds; prints one line; returns 1 on a finding.
run_one() {
  local t="$1" corpus="build-fuzz/corpus/$1" artifacts="build-fuzz/artifacts/$1" start extra=() runs cov
  mkdir -p "$corpus" "$artifacts" "$seeds/$t"
  [ -d "fuzz/regressions/$t" ] && extra+=("fuzz/regressions/$t")
  [ -f "$seeds/$t.dict" ] && extra+=("-dict=$seeds/$t.dict")
  start=$(date +%s)
  # -timeout: one input taking > 10 s is a hang; -rss_limit_mb: runaway memory is a finding too.
  if nice -n 10 build-fuzz/fuzz/"${t}_fuzzer" "$corpus" "$seeds/$t" "${extra[@]}" -max_total_time="$secs" \
      -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      > "build-fuzz/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "build-fuzz/$t.log" | tail -1 | grep -o '[0-9]*' || echo '?')
    echo "fuzz: $t ok: $runs inputs in $(( $(date +%s) - start )) s, coverage $cov edges, corpus $(ls "$corpus" | wc -l) files"
  else
    echo "fuzz: $t FAILED (log build-fuzz/$t.log, input in $artifacts/):"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "build-fuzz/$t.log" | head -8
    return 1
  fi
}
failed=0
parallel="${FUZZ_PARALLEL:-2}"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$parallel" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
