#!/usr/bin/env bash
# Restart time with many open and closed workflows.
#
#   bench/run_restart_bench.sh OPEN CLOSED [COPIES]
#   e.g. bench/run_restart_bench.sh 100000 10000 99     (the README's figure: 1,000,000 closed)
#        bench/run_restart_bench.sh 1000 2000             (short form)
#
# Needs the schema-7 database layout (table `history`, 16-byte run ids, integer namespace ids).
# 1. Starts a throwaway server on loopback and, through it, opens OPEN workflows that each wait
#    on a 24 h timer and completes CLOSED single-activity workflows (workflow_bench).
# 2. With COPIES > 0 the closed workflows are then multiplied: the server is stopped and the
#    closed runs' rows (execution, history, visibility, current-run row) are copied under new run
#    and workflow ids in doubling steps (bench/copy_closed_runs.py, INSERT ... SELECT in SQL)
#    until CLOSED * (COPIES + 1) closed runs exist, without running them all (the rows are the
#    server's own, only the ids differ).
# 3. Restarts the server on that database and prints the time from exec to its "Server:" line
#    (printed once recovery is done and the port is served), the database size and the RSS.
#
# Environment: TEMPORALITE_BIN, WORKFLOW_BENCH (as run_workflow_bench.sh), READY_TIMEOUT (s),
# KEEP_DIR=1 keeps the data directory; DATA_DIR=<dir> seeds into <dir> (kept) or, when
# <dir>/temporalite.db exists, skips steps 1 and 2 and only restarts on that file (OPEN and
# CLOSED then only label the output); RESTARTS=<n> restarts n times each way (default 1).
# bench/restart_once.sh times one restart on a kept file (for paired timing runs).
# Needs python3 (for the copies).
set -euo pipefail
cd "$(dirname "$0")/.."
open_n="${1:?usage: $0 OPEN CLOSED [COPIES]}"
closed_n="${2:?usage: $0 OPEN CLOSED [COPIES]}"
copies="${3:-0}"
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
bench_bin="${WORKFLOW_BENCH:-build/bench/workflow_bench}"
ready_timeout="${READY_TIMEOUT:-600}"
for bin in "$server_bin" "$bench_bin"; do
  [[ -x "$bin" ]] || { echo "error: $bin not found (build it first)" >&2; exit 2; }
done

reuse=0
if [[ -n "${DATA_DIR:-}" ]]; then
  mkdir -p "$DATA_DIR"
  tmp_dir="$(cd "$DATA_DIR" && pwd)"
  KEEP_DIR=1
  [[ -f "$tmp_dir/temporalite.db" ]] && reuse=1
else
  tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/temporalite-restart.XXXXXX")"
fi
db="$tmp_dir/temporalite.db"
server_pid=""
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  if [[ "${KEEP_DIR:-0}" == 1 ]]; then echo "data kept in $tmp_dir" >&2; else rm -rf "$tmp_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts the server and waits for its address; sets server_pid, address, ready_s.
start_server() {
  local out="$tmp_dir/server.out"
  : >"$out"
  local t0
  t0=$(date +%s.%N)
  "$server_bin" server start-dev --ip 127.0.0.1 --port 0 --http-port 0 --db-filename "$db" --headless --log-level info "$@" \
    >"$out" 2>>"$tmp_dir/server.err" &
  server_pid=$!
  address=""
  for _ in $(seq 1 $((ready_timeout * 100))); do
    address="$(sed -n 's/^Server:[[:space:]]*\(127\.0\.0\.1:[0-9][0-9]*\).*$/\1/p' "$out" | head -n 1)"
    [[ -n "$address" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "error: server exited" >&2; cat "$tmp_dir/server.err" >&2; exit 1; }
    sleep 0.01
  done
  [[ -n "$address" ]] || { echo "error: server not ready within ${ready_timeout}s" >&2; exit 1; }
  ready_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

if (( reuse == 0 )); then
start_server
echo "seeding: $open_n open, $closed_n closed through the server ($address)" >&2
"$bench_bin" --address "$address" --server-pid "$server_pid" --open-workflows "$open_n" \
  --workflows "$closed_n" --concurrency 64 --timeout 36000 >"$tmp_dir/seed.out" || { cat "$tmp_dir/seed.out" >&2; exit 1; }
grep -E '^(throughput|open_workflows|server_rss)' "$tmp_dir/seed.out" | sed 's/^/seed /'
stop_server

if (( copies > 0 )); then
  echo "copying the closed runs' rows up to $(( closed_n * (copies + 1) )) closed runs" >&2
  python3 bench/copy_closed_runs.py "$db" "$(( closed_n * (copies + 1) ))"
fi
fi  # reuse
db_mb=$(awk -v b="$(stat -c %s "$db")" 'BEGIN { printf "%.0f", b / 1048576 }')
# Warm page cache (the database was just written). First with the start-up integrity check
# (PRAGMA quick_check reads the whole file), then without it (--skip-integrity-check).
for _ in $(seq 1 "${RESTARTS:-1}"); do
  start_server
  echo "restart_s: $ready_s (open $open_n, closed $(( closed_n * (copies + 1) )), database ${db_mb} MB, with the integrity check)"
  sleep 1
  echo "restart_rss_mb: $(rss_mb)"
  grep -o 'recovered [0-9]* namespaces.*' "$tmp_dir/server.err" | tail -n 1
  stop_server
  start_server --skip-integrity-check
  echo "restart_s: $ready_s (same database, --skip-integrity-check)"
  stop_server
done
