#!/usr/bin/env bash
# Starts a throwaway Temporalite dev server on loopback, runs workflow_bench against it, stops it.
#
#   bench/run_workflow_bench.sh [workflow_bench flags...]
#   e.g. bench/run_workflow_bench.sh --concurrency 64 --workflows 2000
#        bench/run_workflow_bench.sh --activities 1000 --sticky 1 --workflows 2 --concurrency 2
#        bench/run_workflow_bench.sh --open-workflows 100000 --workflows 1000 --concurrency 32
# The driver gets the server's pid (--server-pid) and prints its RSS; with --activities N the
# script also prints the server CPU per step (per activity).
#
# Environment:
#   TEMPORALITE_BIN   server binary (default build/temporalite)
#   WORKFLOW_BENCH    bench binary  (default build/bench/workflow_bench)
#   READY_TIMEOUT     seconds to wait for the server's "Server:" line (default 30)
#   SERVER_ARGS       extra `server start-dev` flags, e.g. "--sqlite-pragma cache_size=-65536"
# Paths are relative to the repository root. Exit status is workflow_bench's.
set -euo pipefail

cd "$(dirname "$0")/.."
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${WORKFLOW_BENCH:-build/bench/workflow_bench}"
ready_timeout="${READY_TIMEOUT:-30}"

source bench/lib.sh
bench_require_bins "$server_bin" "$bench_bin"
bench_init temporalite-bench
bench_start_server "$server_bin" "$ready_timeout"
echo "server: $address (pid $server_pid)" >&2

# In the background so that a signal to this script runs the trap at once (wait is interruptible).
status=0
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
cpu_before=$(cpu_ticks)
"$bench_bin" --address "$address" --server-pid "$server_pid" "$@" > >(tee "$tmp_dir/bench.out") &
bench_pid=$!
wait "$bench_pid" || status=$?
bench_pid=""
# Server CPU per workflow (user + system, warm-up included): a figure that does not depend on how
# much of the machine the driver itself takes.
cpu_after=$(cpu_ticks)
total=$(awk '/^concurrency:/ { for (i = 1; i <= NF; i++) { if ($i == "workflows:") w = $(i+1); if ($i == "warmup:") u = $(i+1) } } END { print w + u }' "$tmp_dir/bench.out")
if (( status == 0 )) && [[ -n "$total" && "$total" -gt 0 ]]; then
  awk -v t="$((cpu_after - cpu_before))" -v hz="$(getconf CLK_TCK)" -v n="$total" \
    'BEGIN { printf "server_cpu_ms_per_workflow: %.3f\n", t * 1000 / hz / n }'
  steps=$(sed -n 's/^steps: activities_per_workflow=\([0-9]*\).*/\1/p' "$tmp_dir/bench.out")
  if [[ -n "$steps" ]]; then
    awk -v t="$((cpu_after - cpu_before))" -v hz="$(getconf CLK_TCK)" -v n="$total" -v k="$steps" \
      'BEGIN { printf "server_cpu_ms_per_step: %.4f (%d activities per workflow)\n", t * 1000 / hz / n / k, k }'
  fi
fi
# Database bytes per completed workflow: stop the server (a clean shutdown checkpoints the WAL
# into the file), then divide the file size (database + any WAL left) by the workflows run. It
# includes the schema and the namespace rows, negligible for thousands of workflows.
if (( status == 0 )) && [[ -n "$total" && "$total" -gt 0 ]]; then
  if bench_stop_server; then
    bytes=0
    for f in "$tmp_dir"/temporalite.db "$tmp_dir"/temporalite.db-wal; do
      [[ -f "$f" ]] && bytes=$((bytes + $(stat -c %s "$f")))
    done
    awk -v b="$bytes" -v n="$total" 'BEGIN { printf "db_bytes_per_workflow: %.0f (database %d bytes after shutdown, %d workflows)\n", b / n, b, n }'
  fi
fi
if (( status != 0 )) && [[ -s "$tmp_dir/server.err" ]]; then
  echo "--- server stderr (last 20 lines) ---" >&2
  tail -n 20 "$tmp_dir/server.err" >&2
fi
exit "$status"
