#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the development server
# (gRPC on 127.0.0.1:7233, data in ./.temporal-data/). Extra arguments go to `server start-dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh --target temporalite
exec build/temporalite server start-dev "$@"
