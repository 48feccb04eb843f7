#!/usr/bin/env bash
# One server start on an existing database, timed from exec to its "Server:" line (printed once
# recovery is done and the port is served); the server is then SIGKILLed (a start-up writes
# nothing a kill could lose once a first start has migrated the file). For paired timing runs
# on a file bench/run_restart_bench.sh kept (DATA_DIR=...):
#
#   bench/restart_once.sh DATA_DIR/temporalite.db [server flags, e.g. --skip-integrity-check]
#
# Prints "restart_s: <seconds>" and the server's recovery line. TEMPORALITE_BIN selects the
# binary (default build/temporalite); READY_TIMEOUT (s, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:?usage: $0 DB_FILE [server flags]}"
shift
server_bin="${TEMPORALITE_BIN:-build/temporalite}"
ready_timeout="${READY_TIMEOUT:-600}"
out="$(mktemp "${TMPDIR:-/tmp}/temporalite-restart-once.XXXXXX")"
err="$out.err"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -f "$out" "$err"
}
trap cleanup EXIT
t0=$(date +%s.%N)
"$server_bin" server start-dev --ip 127.0.0.1 --port 0 --http-port 0 --db-filename "$db" --headless --log-level info "$@" \
  >"$out" 2>"$err" &
pid=$!
for _ in $(seq 1 $((ready_timeout * 200))); do
  grep -q '^Server:' "$out" && break
  kill -0 "$pid" 2>/dev/null || { echo "error: server exited" >&2; cat "$err" >&2; exit 1; }
  sleep 0.005
done
grep -q '^Server:' "$out" || { echo "error: server not ready within ${ready_timeout}s" >&2; exit 1; }
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "restart_s: %.3f\n", b - a }'
grep -o 'recovered [0-9]* namespaces.*' "$err" | tail -n 1 || true
