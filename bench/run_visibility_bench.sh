#!/usr/bin/env bash
# Runs the visibility benchmark: loads closed workflows (default 1,000,000) into a temporary
# SQLite database through the store, then prints list/count latencies and the database size.
#
#   bench/run_visibility_bench.sh [visibility_bench flags...]
#   e.g. bench/run_visibility_bench.sh --workflows 1000000 --iterations 200
#
# Environment: VISIBILITY_BENCH  bench binary (default build/bench/visibility_bench).
# The database goes to $TMPDIR (default /tmp) and is removed afterwards (unless --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
bench_bin="${VISIBILITY_BENCH:-build/bench/visibility_bench}"
if [[ ! -x "$bench_bin" ]]; then
  echo "error: $bench_bin not found or not executable (build it first)" >&2
  exit 2
fi
exec "$bench_bin" --dir "${TMPDIR:-/tmp}" "$@"
