# Shared by the bench scripts that run a throwaway Temporalite dev server (sourced, not run):
# binary checks, a temp directory, starting the server on loopback and waiting for its address,
# stopping it, and the cleanup on exit. Callers run from the repository root with `set -euo pipefail`.
#
#   source bench/lib.sh
#   bench_require_bins "$server_bin" "$bench_bin"
#   bench_init temporalite-bench            # tmp_dir, traps (cleanup on exit, INT, TERM)
#   bench_start_server "$server_bin" 30     # [launcher args...] after the timeout, e.g. valgrind
#   ... "$address", "$server_pid", "$tmp_dir/server.out", "$tmp_dir/server.err" ...
#   bench_stop_server                       # clean shutdown (up to 10 s, then SIGKILL)
#
# Set bench_pid to a background driver's pid: cleanup stops it before the server.

bench_require_bins() {
  local bin
  for bin in "$@"; do
    if [[ ! -x "$bin" ]]; then
      echo "error: $bin not found or not executable (build it first)" >&2
      exit 2
    fi
  done
}

# Stops `pid` (SIGTERM, up to `tries` tenths of a second, then SIGKILL) and reaps it.
bench_stop_pid() {
  local pid="$1" tries="${2:-100}"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$tries"); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

bench_cleanup() {
  bench_stop_pid "${bench_pid:-}"
  bench_stop_pid "${server_pid:-}" "${bench_server_stop_tries:-100}"
  # SERVER_LOG=FILE keeps the server's log (its level: SERVER_LOG_LEVEL, default warn).
  if [[ -n "${SERVER_LOG:-}" && -f "$tmp_dir/server.err" ]]; then cp "$tmp_dir/server.err" "$SERVER_LOG"; fi
  rm -rf "$tmp_dir"
}

# bench_init NAME: a temp directory ($tmp_dir) removed on exit, with the server and driver stopped.
bench_init() {
  tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  server_pid=""
  bench_pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_start_server SERVER_BIN READY_TIMEOUT [LAUNCHER...]: starts `server start-dev` on
# 127.0.0.1 with a database in $tmp_dir (SERVER_ARGS appended), prefixed by LAUNCHER (e.g.
# `valgrind --tool=callgrind`), and waits (bounded) for its "Server:" line. Sets server_pid and
# address; exits with the server's output when it dies or is not ready in time.
bench_start_server() {
  local bin="$1" timeout="$2"
  shift 2
  : >"$tmp_dir/server.out"  # exists before the background redirect races the first read
  "$@" "$bin" server start-dev --ip 127.0.0.1 --port 0 --db-filename "$tmp_dir/temporalite.db" \
    --headless --log-level "${SERVER_LOG_LEVEL:-warn}" ${SERVER_ARGS:-} >"$tmp_dir/server.out" 2>"$tmp_dir/server.err" &
  server_pid=$!
  address=""
  for _ in $(seq 1 $((timeout * 10))); do
    address="$(sed -n 's/^Server:[[:space:]]*\(127\.0\.0\.1:[0-9][0-9]*\).*$/\1/p' "$tmp_dir/server.out" | head -n 1)"
    [[ -n "$address" ]] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "error: server exited before becoming ready" >&2
      cat "$tmp_dir/server.out" "$tmp_dir/server.err" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "error: server did not print its address within ${timeout}s" >&2
  cat "$tmp_dir/server.out" "$tmp_dir/server.err" >&2
  exit 1
}

# A clean shutdown (checkpoints the WAL); returns non-zero if the server is still running after
# 10 s (it is then left for the cleanup to kill).
bench_stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && return 1
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
