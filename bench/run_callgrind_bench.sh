#!/usr/bin/env bash
# Server instructions per workflow, a CPU figure that does not depend on the machine's load:
# starts a throwaway Temporalite dev server under `valgrind --tool=callgrind` on loopback, zeroes
# its counters once it is ready, runs workflow_bench against it, dumps the counters and prints the
# instructions (Ir) the server executed per workflow (warm-up included), then stops it.
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
# --activity-pollers 2 --channels 1 --starters 1 --timeout 600, overridable by the flags given.
set -euo pipefail

cd "$(dirname "$0")/.."
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${WORKFLOW_BENCH:-build/bench/workflow_bench}"
ready_timeout="${READY_TIMEOUT:-180}"
for bin in "$server_bin" "$bench_bin"; do
  if [[ ! -x "$bin" ]]; then
    echo "error: $bin not found or not executable (build it first)" >&2
    exit 2
  fi
done
command -v valgrind >/dev/null || { echo "error: valgrind not found (apt-get install valgrind)" >&2; exit 2; }

tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/temporalite-callgrind.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out="$tmp_dir/callgrind.out"
: >"$tmp_dir/server.out"
env ${SERVER_ENV:-} valgrind --tool=callgrind --callgrind-out-file="$out" \
  "$server_bin" server start-dev --ip 127.0.0.1 --port 0 --db-filename "$tmp_dir/temporalite.db" \
  --headless --log-level warn ${SERVER_ARGS:-} >"$tmp_dir/server.out" 2>"$tmp_dir/server.err" &
server_pid=$!

address=""
for _ in $(seq 1 $((ready_timeout * 10))); do
  address="$(sed -n 's/^Server:[[:space:]]*\(127\.0\.0\.1:[0-9][0-9]*\).*$/\1/p' "$tmp_dir/server.out" | head -n 1)"
  [[ -n "$address" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "error: server exited before becoming ready" >&2
    cat "$tmp_dir/server.out" "$tmp_dir/server.err" >&2
    exit 1
  fi
  sleep 0.1
done
[[ -n "$address" ]] || { echo "error: server not ready within ${ready_timeout}s" >&2; exit 1; }
echo "server: $address (pid $server_pid, under callgrind)" >&2

callgrind_control -z "$server_pid" >/dev/null
status=0
"$bench_bin" --address "$address" --wft-pollers 2 --activity-pollers 2 --channels 1 --starters 1 \
  --timeout 600 "$@" | tee "$tmp_dir/bench.out" || status=$?
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
  if [[ -n "${CALLGRIND_OUT:-}" ]]; then cp "$dump" "$CALLGRIND_OUT"; fi
fi
exit "$status"
