#!/usr/bin/env bash
# ctest fuzz_replay: each fuzz target (built without libFuzzer as <name>_replay) over freshly
# generated seeds and the recorded crash inputs in fuzz/regressions/<name>/.
# Usage: fuzz/replay.sh <dir of the _replay binaries> <name>...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"; shift
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
"$here/make_seeds.sh" "$seeds"
for name in "$@"; do
  args=()
  [ -d "$seeds/$name" ] && args+=("$seeds/$name")
  [ -d "$here/regressions/$name" ] && args+=("$here/regressions/$name")
  "$bin/${name}_replay" "${args[@]}"
done
