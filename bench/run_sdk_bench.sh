#!/usr/bin/env bash
# The SDK benchmark: workflow_with_single_noop_activity driven by the raw-gRPC driver
# (workflow_bench), the C++ SDK (sdk_bench: Worker + Client) and the official TypeScript SDK
# (ts_worker_bench.cjs: Worker + Client), one after another, each against a fresh throwaway server
# (bench/run_workflow_bench.sh), at concurrency 64 (throughput) and 1 (start-to-result latency).
#
#   bench/run_sdk_bench.sh [workflows at concurrency 64] [workflows at concurrency 1]
set -euo pipefail
cd "$(dirname "$0")/.."
n64="${1:-2000}"
n1="${2:-300}"
ts_wrapper="$(mktemp "${TMPDIR:-/tmp}/ts_worker_bench.XXXXXX")"
trap 'rm -f "$ts_wrapper"' EXIT
printf '#!/bin/sh\nexec node "%s/bench/ts_worker_bench.cjs" "$@"\n' "$PWD" >"$ts_wrapper"
chmod +x "$ts_wrapper"
for c in 64 1; do
  if [[ "$c" == 64 ]]; then n="$n64"; else n="$n1"; fi
  for b in build/bench/workflow_bench build/bench/sdk_bench "$ts_wrapper"; do
    echo "== $(basename "$b" | sed 's/\..*//') concurrency $c workflows $n"
    WORKFLOW_BENCH="$b" bench/run_workflow_bench.sh --concurrency "$c" --workflows "$n" --warmup $((n / 10)) |
      grep -E '^(throughput|start_to_close|status|server_cpu|errors)' || true
  done
done
