#!/usr/bin/env bash
# The transport's floor: one gRPC call with no workflow work in it (bench/rpc_floor_bench.cc),
# against a throwaway Temporalite server (its whole gRPC path) and against a bare gRPC callback
# server in the driver's own process (gRPC alone). Prints each run's figures and the server's CPU
# per call.
#
#   bench/run_rpc_floor_bench.sh [--concurrency N] [--calls N] [--warmup N] [--channels N]
#   e.g. bench/run_rpc_floor_bench.sh --concurrency 1 --calls 5000 --warmup 500
#        bench/run_rpc_floor_bench.sh --concurrency 64 --calls 50000 --warmup 5000
#
# Environment: TEMPORALITE_BIN (default build/temporalite), RPC_FLOOR_BENCH (default
# build/bench/rpc_floor_bench), READY_TIMEOUT (default 30 s).
set -euo pipefail

cd "$(dirname "$0")/.."
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${RPC_FLOOR_BENCH:-build/bench/rpc_floor_bench}"

source bench/lib.sh
bench_require_bins "$server_bin" "$bench_bin"
bench_init temporalite-rpc-floor
bench_start_server "$server_bin" "${READY_TIMEOUT:-30}"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
cpu_before=$(cpu_ticks)
"$bench_bin" --address "$address" "$@" | tee "$tmp_dir/bench.out"
cpu_after=$(cpu_ticks)
calls=$(awk '/^target:/ { for (i = 1; i <= NF; i++) { if ($i == "calls:") c = $(i+1); if ($i == "warmup:") w = $(i+1) } } END { print c + w }' "$tmp_dir/bench.out")
awk -v t="$((cpu_after - cpu_before))" -v hz="$(getconf CLK_TCK)" -v n="$calls" \
  'BEGIN { printf "server_cpu_us_per_call: %.1f\n", t * 1e6 / hz / n }'
bench_stop_server || true
echo
"$bench_bin" --self-server 1 "$@"
