#!/usr/bin/env bash
# Checkers-ingestion benchmark: creates a throwaway PostgreSQL cluster and starts the fixture
# retailer (stores bench-50k and bench-10k), runs build/bench/ingest_bench, stops both.
#   bench/run_ingest_bench.sh [--page-size 500] [--concurrency 4]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/bench/ingest_bench && -x build/fixture-retailer ]] || BUILD_JOBS="${BUILD_JOBS:-2}" scripts/build.sh --target ingest_bench fixture-retailer
exec node bench/run_ingest_bench.cjs "$@"
