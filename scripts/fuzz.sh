#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/*_fuzzer.cc) for N seconds each (default 60), built with
# Debian's clang, libFuzzer, ASan and UBSan into ./build-fuzz. Seeds come from
# fuzz/make_seeds.sh plus fuzz/regressions/<target>/; the corpus grown by a run is kept in
# build-fuzz/corpus/<target>/ so later runs continue from it. A crash leaves its input in
# build-fuzz/artifacts/<target>/ and the script exits 1 (add the input to fuzz/regressions/<target>/
# once fixed). `scripts/test.sh` runs the short form: FUZZ_SECONDS=20.
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
cmake --build build-fuzz -j"${BUILD_JOBS:-$(nproc)}" --target "${targets[@]/%/_fuzzer}" >&2
seeds=build-fuzz/seeds
rm -rf "$seeds"
fuzz/make_seeds.sh "$seeds"
failed=0
for t in "${targets[@]}"; do
  corpus="build-fuzz/corpus/$t"
  artifacts="build-fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts" "$seeds/$t"
  extra=()
  [ -d "fuzz/regressions/$t" ] && extra+=("fuzz/regressions/$t")
  start=$(date +%s)
  # -timeout: one input taking > 10 s is a hang; -rss_limit_mb: runaway memory is a finding too.
  if build-fuzz/fuzz/"${t}_fuzzer" "$corpus" "$seeds/$t" "${extra[@]}" -max_total_time="$secs" -timeout=10 \
      -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      > "build-fuzz/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "build-fuzz/$t.log" | tail -1 | grep -o '[0-9]*' || echo '?')
    echo "fuzz: $t ok: $runs inputs in $(( $(date +%s) - start )) s, coverage $cov edges, corpus $(ls "$corpus" | wc -l) files"
  else
    failed=1
    echo "fuzz: $t FAILED (log build-fuzz/$t.log, input in $artifacts/):"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "build-fuzz/$t.log" | head -8
  fi
done
exit $failed
