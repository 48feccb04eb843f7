#!/usr/bin/env bash
# The long form of the chaos test (tests/crash/chaos.test.js): the mixed TypeScript SDK workload
# with CHAOS_KILLS SIGKILLs of the server (default 200) and a SIGSTOP/SIGCONT pause longer than
# the task timeouts before every CHAOS_STOP_EVERY-th kill (default 6). Prints the figures line
# ("chaos: seed ..., N SIGKILLs, ... 0 lost, 0 doubled"). CHAOS_SEED replays a run.
#   scripts/chaos.sh                # 200 kills (about 20 minutes)
#   CHAOS_KILLS=50 scripts/chaos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CHAOS_KILLS="${CHAOS_KILLS:-200}"
export TEMPORALITE_BIN="${TEMPORALITE_BIN:-$PWD/build/temporalite}"
exec node --test --test-timeout=$(( (CHAOS_KILLS * 12 + 300) * 1000 )) tests/crash/chaos.test.js
