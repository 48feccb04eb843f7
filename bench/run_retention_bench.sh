#!/usr/bin/env bash
# The retention sweep's cost: completes CLOSED single-activity workflows through a throwaway
# server (workflow_bench), stops it, then runs build/bench/retention_bench on its database (the
# server's own sweep, with the clock moved past a 24 h retention) and prints its figures.
#
#   bench/run_retention_bench.sh CLOSED [BATCH]      e.g. bench/run_retention_bench.sh 20000
set -euo pipefail
cd "$(dirname "$0")/.."
closed_n="${1:?usage: $0 CLOSED [BATCH]}"
batch="${2:-100}"
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${WORKFLOW_BENCH:-build/bench/workflow_bench}"
retention_bin="${RETENTION_BENCH:-build/bench/retention_bench}"
for bin in "$server_bin" "$bench_bin" "$retention_bin"; do
  [[ -x "$bin" ]] || { echo "error: $bin not found (build it first)" >&2; exit 2; }
done
tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/temporalite-retention.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp_dir"
}
trap cleanup EXIT
out="$tmp_dir/server.out"
: >"$out"
"$server_bin" server start-dev --ip 127.0.0.1 --port 0 --db-filename "$tmp_dir/temporalite.db" --headless \
  --log-level warn >"$out" 2>"$tmp_dir/server.err" &
server_pid=$!
address=""
for _ in $(seq 1 300); do
  address="$(sed -n 's/^Server:[[:space:]]*\(127\.0\.0\.1:[0-9][0-9]*\).*$/\1/p' "$out" | head -n 1)"
  [[ -n "$address" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp_dir/server.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$address" ]] || { echo "error: server not ready" >&2; exit 1; }
"$bench_bin" --address "$address" --workflows "$closed_n" --concurrency 64 --timeout 36000 >"$tmp_dir/seed.out" ||
  { cat "$tmp_dir/seed.out" >&2; exit 1; }
grep -E '^throughput' "$tmp_dir/seed.out" | sed 's/^/seed /'
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
"$retention_bin" --db "$tmp_dir/temporalite.db" --batch "$batch"
