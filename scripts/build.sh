#!/usr/bin/env bash
# Configures and builds everything into ./build (Release with debug info). ccache keeps its cache
# outside the repository, so rebuilds in a fresh clone on the same machine are fast.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD"
# With -g, ccache hashes the working directory by default, so a clone in another folder (CI's)
# would never hit the cache. Debug info may then name the folder of the first build; fine here.
export CCACHE_NOHASHDIR=1
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/temporalite-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/temporalite-ccache"
jobs="${BUILD_JOBS:-$(nproc)}"
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build build -j"$jobs" "$@" >&2
