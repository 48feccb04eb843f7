#!/usr/bin/env bash
# Server CPU per workflow with metrics off and on, alternating in one run so both see the same
# machine: bench/run_workflow_bench.sh without and with --metrics-port 0 (metrics collected, and
# scraped every second while the benchmark runs, as Prometheus would).
#
#   bench/run_metrics_overhead.sh [pairs] [workflow_bench flags...]
#   e.g. bench/run_metrics_overhead.sh 4 --concurrency 64 --workflows 3000 --warmup 300
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-3}"
shift || true
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(--concurrency 64 --workflows 3000 --warmup 300)

one() {  # $1: extra server args; prints server_cpu_ms_per_workflow
  local out
  out=$(SERVER_ARGS="$1" bench/run_workflow_bench.sh "${args[@]}" 2>/dev/null)
  echo "$out" | sed -n 's/^server_cpu_ms_per_workflow: //p'
}

# A scraper for the "on" runs: reads the metrics port from the newest bench server's output.
scrape_loop() {
  while true; do
    for f in "${TMPDIR:-/tmp}"/temporalite-bench.*/server.out; do
      url=$(sed -n 's/^Metrics:[[:space:]]*//p' "$f" 2>/dev/null | head -n 1)
      [[ -n "$url" ]] && curl -s -o /dev/null --max-time 1 "$url" || true
    done
    sleep 1
  done
}

off=()
on=()
for i in $(seq 1 "$pairs"); do
  a=$(one "")
  scrape_loop & scraper=$!
  b=$(one "--metrics-port 0")
  kill "$scraper" 2>/dev/null || true
  wait "$scraper" 2>/dev/null || true
  echo "pair $i: metrics off ${a} ms, on ${b} ms (server CPU per workflow)"
  off+=("$a")
  on+=("$b")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mo=$(median "${off[@]}")
mn=$(median "${on[@]}")
awk -v a="$mo" -v b="$mn" 'BEGIN { printf "median server_cpu_ms_per_workflow: off %.3f, on %.3f (%+.1f %%)\n", a, b, (b - a) * 100 / a }'
