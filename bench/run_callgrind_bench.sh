#!/usr/bin/env bash
# Server instructions per workflow, a CPU figure that does not depend on the machine's load:
# starts a throwaway Temporalite dev server under `valgrind --tool=callgrind` on loopback, zeroes
# its counters once it is ready, runs workflow_bench against it, dumps the counters and prints the
# instructions (Ir) the server executed per workflow (warm-up included), and the same without the
# one-off zstd dictionary training's thread, then stops it.
#
#   bench/run_callgrind_bench.sh [workflow_bench flags...]
#   e.g. bench/run_callgrind_bench.sh --concurrency 1 --workflows 200 --warmup 20
#
# Environment:
#   TEMPORALITE_BIN   server binary (default build/temporalite)
#   WORKFLOW_BENCH    bench binary  (default build/bench/workflow_bench)
#   READY_TIMEOUT     seconds to wait for the server's "Server:" line (default 180)
#   SERVER_ARGS       extra `server start-dev` flags
#   SERVER_ENV        extra environment for the server, e.g. "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#   CALLGRIND_OUT     keep the profile in this file (callgrind_annotate reads it); default: discarded
# Defaults suited to a run under valgrind (few pollers, one channel): --wft-pollers 2
# --activity-pollers 2 --channels 1 --starters 1 --timeout 600 --rpc-timeout 120 (the commit that
# trained the compression dictionary took seconds under valgrind before the training moved to a
# thread of its own) --wft-timeout 120 (a loaded machine stalls the server under valgrind past the
# usual 10 s), overridable by the flags given.
set -euo pipefail

cd "$(dirname "$0")/.."
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${WORKFLOW_BENCH:-build/bench/workflow_bench}"
ready_timeout="${READY_TIMEOUT:-180}"
source bench/lib.sh
bench_require_bins "$server_bin" "$bench_bin"
command -v valgrind >/dev/null || { echo "error: valgrind not found (apt-get install valgrind)" >&2; exit 2; }
bench_init temporalite-callgrind
bench_server_stop_tries=300  # valgrind is slow to shut down

out="$tmp_dir/callgrind.out"
bench_start_server "$server_bin" "$ready_timeout" env ${SERVER_ENV:-} valgrind --tool=callgrind --callgrind-out-file="$out"
echo "server: $address (pid $server_pid, under callgrind)" >&2

callgrind_control -z "$server_pid" >/dev/null
status=0
"$bench_bin" --address "$address" --wft-pollers 2 --activity-pollers 2 --channels 1 --starters 1 \
  --timeout 600 --rpc-timeout 120 --wft-timeout 120 "$@" | tee "$tmp_dir/bench.out" || status=$?
callgrind_control -d "$server_pid" >/dev/null
total=$(awk '/^concurrency:/ { for (i = 1; i <= NF; i++) { if ($i == "workflows:") w = $(i+1); if ($i == "warmup:") u = $(i+1) } } END { print w + u }' "$tmp_dir/bench.out")
# The dump triggered above is the newest <out>.<pid>.<n> file (or <out>.<n>).
dump="$(ls -t "$out"* 2>/dev/null | head -n 1)"
if (( status == 0 )) && [[ -n "$dump" && -n "$total" && "$total" -gt 0 ]]; then
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
  if [[ -z "$ir" || "$ir" == 0 ]]; then
    echo "error: no instructions counted (valgrind does not follow exec: TEMPORALITE_BIN must be the binary, not a script)" >&2
    exit 1
  fi
  awk -v ir="$ir" -v n="$total" \
    'BEGIN { printf "server_instructions_per_workflow: %.0f (%d instructions, %d workflows)\n", ir / n, ir, n }'
  # The zstd dictionary is trained once per process, on a thread of its own, after the first
  # 256 KB of records (~65 single-activity workflows): in a run of a few hundred workflows that
  # one-off work is up to half the total. Its thread's inclusive count, and the rest per workflow:
  train=$(callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null |
    awk '/BlobEncoder::StartTraining\(\)::\{lambda/ { v = $1; gsub(",", "", v); if (v + 0 > m) m = v + 0 } END { print m + 0 }')
  awk -v ir="$ir" -v t="$train" -v n="$total" \
    'BEGIN { printf "server_instructions_per_workflow_without_dictionary_training: %.0f (training thread: %d instructions)\n", (ir - t) / n, t }'
  if [[ -n "${CALLGRIND_OUT:-}" ]]; then cp "$dump" "$CALLGRIND_OUT"; fi
fi
exit "$status"
