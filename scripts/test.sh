#!/usr/bin/env bash
# README command 2: install what is missing, build everything, run every test:
# unit tests (ctest), then the official TypeScript SDK against the real server binary
# (compatibility, bad input, crash/restart).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
echo "== unit tests (ctest)"
(cd build && ctest --output-on-failure --timeout 300)
echo "== SDK compatibility, bad-input and crash tests (node --test)"
TEMPORALITE_BIN="$PWD/build/temporalite" tests/run-node-tests.sh
