#!/usr/bin/env bash
# Soak: a Temporalite dev server on loopback under a steady workflow load (workflow_bench: start,
# one activity, complete, --concurrency in flight) for SOAK_SECONDS, with the server's RSS
# printed every SOAK_INTERVAL seconds. At the end it compares the RSS after the warm-up
# (SOAK_WARMUP seconds, by default the first fifth of the run: SQLite's 64 MiB page cache and
# the allocator's arenas fill up) with the last sample, as a percentage and per workflow run after
# the warm-up (the bench's throughput x the time after warm-up): "flat" when the growth is at most
# SOAK_MAX_BYTES_PER_WORKFLOW bytes per workflow (exit 0), else exit 1. A server that kept
# anything per finished workflow in memory would fail it (a workflow's rows alone are ~4 KB).
#
#   bench/soak.sh                 # 10 minutes (the README figure)
#   SOAK_SECONDS=100 SOAK_WARMUP=60 SOAK_INTERVAL=5 bench/soak.sh   # the short form scripts/test.sh runs
#
# Environment:
#   SOAK_SECONDS (600), SOAK_WARMUP (SOAK_SECONDS / 5), SOAK_INTERVAL (30), SOAK_CONCURRENCY (16),
#   SOAK_MAX_BYTES_PER_WORKFLOW (2048)
#   TEMPORALITE_BIN (build/temporalite), WORKFLOW_BENCH (build/bench/workflow_bench)
#   SERVER_ARGS  extra `server start-dev` flags
set -euo pipefail

cd "$(dirname "$0")/.."
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${WORKFLOW_BENCH:-build/bench/workflow_bench}"
seconds="${SOAK_SECONDS:-600}"
interval="${SOAK_INTERVAL:-30}"
concurrency="${SOAK_CONCURRENCY:-16}"
max_bytes="${SOAK_MAX_BYTES_PER_WORKFLOW:-2048}"
warmup="${SOAK_WARMUP:-$(( ${SOAK_SECONDS:-600} / 5 ))}"
source bench/lib.sh
bench_require_bins "$server_bin" "$bench_bin"
bench_init temporalite-soak
bench_start_server "$server_bin" 30

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status"; }
# The parts of RSS: heap and other private memory, mapped files, shared memory (SQLite's WAL index).
rss_parts() { awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } /^RssShmem:/ { s = $2 }
  END { printf "anon %.1f, file %.1f, shmem %.1f", a / 1024, f / 1024, s / 1024 }' "/proc/$server_pid/status"; }
# --timeout: workflow_bench's own limit on the whole run (default 300 s) must outlast the soak.
"$bench_bin" --address "$address" --duration "$seconds" --timeout $((seconds + 120)) --concurrency "$concurrency" --activities 1 \
  >"$tmp_dir/bench.out" 2>"$tmp_dir/bench.err" &
bench_pid=$!

echo "soak: ${seconds} s at concurrency ${concurrency} (one activity per workflow; warm-up ${warmup} s), server pid ${server_pid}"
start=$(date +%s)
samples=()
warm_kb=""
warm_t=0
while kill -0 "$bench_pid" 2>/dev/null; do
  sleep "$interval"
  kill -0 "$server_pid" 2>/dev/null || { echo "error: the server died" >&2; cat "$tmp_dir/server.err" >&2; exit 1; }
  t=$(( $(date +%s) - start ))
  kb=$(rss_kb)
  samples+=("$kb")
  printf 't=%4ds rss=%6.1f MiB (%s)\n' "$t" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$(rss_parts)"
  if [[ -z "$warm_kb" ]] && (( t >= warmup )); then warm_kb=$kb; warm_t=$t; fi
done
status=0
wait "$bench_pid" || status=$?
bench_pid=""
if (( status != 0 )); then
  echo "error: workflow_bench failed ($status)" >&2
  cat "$tmp_dir/bench.out" "$tmp_dir/bench.err" >&2
  exit 1
fi
grep -E '^(throughput|completed|workflows)' "$tmp_dir/bench.out" || tail -n 5 "$tmp_dir/bench.out"
last_kb=${samples[-1]}
[[ -n "$warm_kb" ]] || { warm_kb=${samples[0]}; warm_t=$interval; }
rate=$(sed -n 's/^throughput_wf_per_s: \([0-9.]*\).*/\1/p' "$tmp_dir/bench.out")
after_s=$(( $(date +%s) - start - warm_t ))
awk -v w="$warm_kb" -v l="$last_kb" -v r="${rate:-0}" -v s="$after_s" -v m="$max_bytes" 'BEGIN {
  n = r * s
  per = n > 0 ? (l - w) * 1024 / n : 0
  printf "rss after warm-up %.1f MiB, at the end %.1f MiB: %+.1f%%, %+.0f bytes per workflow over ~%d workflows (limit %d)\n",
    w / 1024, l / 1024, (l - w) * 100 / w, per, n, m
  exit (per <= m) ? 0 : 1
}' || { echo "soak: RSS grew after warm-up" >&2; exit 1; }
echo "soak: flat"
