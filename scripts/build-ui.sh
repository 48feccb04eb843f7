#!/usr/bin/env bash
# Builds the web UI (ui/: a SvelteKit shell over the pinned @temporalio/ui package) into static
# files. Called by the CMake build when ui/ sources or ui/package-lock.json change.
#   scripts/build-ui.sh OUT_DIR STAMP
# Never fails the C++ build: when node or the UI's npm packages are missing, or vite fails, it
# leaves OUT_DIR empty (the server then says so on the UI port) and prints why.
set -uo pipefail
cd "$(dirname "$0")/.."
out="$1"
stamp="$2"
rm -rf "$out"
mkdir -p "$out" "$(dirname "$stamp")"

give_up() {
  echo "build-ui: WARNING: the web UI is not built ($1); temporalite will build and serve gRPC," \
       "and its UI port will only say that the UI is missing." >&2
  echo "not built: $1" > "$stamp"
  exit 0
}

command -v node >/dev/null 2>&1 || give_up "node not found"
[ -d ui/node_modules/@temporalio/ui ] || give_up "ui/node_modules missing: run scripts/deps.sh"

start=$(date +%s)
log="$(dirname "$stamp")/ui-build.log"
echo "build-ui: vite build of the web UI (a few minutes; log: $log)" >&2
if ! (cd ui && TEMPORALITE_UI_OUT="$out" npm run --silent build) >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  give_up "vite build failed, see $log"
fi
[ -f "$out/index.html" ] || give_up "vite build wrote no index.html"
files=$(find "$out" -type f | wc -l)
bytes=$(du -sb "$out" | cut -f1)
echo "build-ui: built $files files, $bytes bytes in $(( $(date +%s) - start )) s" >&2
echo "built: $files files, $bytes bytes" > "$stamp"
