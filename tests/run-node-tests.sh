#!/usr/bin/env bash
# Runs the SDK-based test suites (compat, bad-input, crash) against the temporalite binary.
#   tests/run-node-tests.sh            # all suites
#   tests/run-node-tests.sh tests/compat/core.test.js   # a subset (file paths)
# Env: TEMPORALITE_BIN (default <repo>/build/temporalite).
# Node 20's --test takes file paths (directories are searched for *.test.js); the files are
# listed explicitly. --test-concurrency=1 runs one file at a time (each file starts its own
# server(s) on ephemeral ports, so this is for predictable timing, not correctness).
set -euo pipefail
cd "$(dirname "$0")/.."

export TEMPORALITE_BIN="${TEMPORALITE_BIN:-$PWD/build/temporalite}"
if [[ ! -x "$TEMPORALITE_BIN" ]]; then
  echo "run-node-tests: server binary not found or not executable: $TEMPORALITE_BIN" >&2
  exit 1
fi
if [[ ! -d node_modules/@temporalio/worker ]]; then
  echo "run-node-tests: node_modules missing; run 'npm ci' in $PWD first" >&2
  exit 1
fi

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=(tests/compat/core.test.js tests/compat/messaging.test.js tests/compat/children.test.js
    tests/compat/chains.test.js tests/compat/batch.test.js tests/compat/visibility.test.js tests/compat/external.test.js
    tests/compat/reset.test.js tests/compat/schedules.test.js tests/compat/namespace.test.js tests/compat/gaps.test.js tests/compat/gaps3.test.js tests/compat/eager.test.js tests/compat/wft-heartbeat.test.js tests/badinput/badinput.test.js tests/crash/crash.test.js
    tests/crash/messaging-crash.test.js tests/crash/external-crash.test.js tests/crash/group-commit-crash.test.js tests/crash/compat-crash.test.js tests/crash/fatal-write.test.js
    tests/crash/eager-crash.test.js tests/crash/wft-heartbeat-crash.test.js
    tests/crash/idle-eviction-crash.test.js tests/crash/in-place-update-crash.test.js
    tests/crash/transient-wft.test.js tests/crash/store-faults.test.js tests/crash/chaos.test.js
    tests/crash/storage-format.test.js tests/crash/dictionary-crash.test.js
    tests/cli/cli-workflow.test.js tests/cli/cli-workflow-ops.test.js tests/cli/cli-operator.test.js
    tests/cli/cli-query.test.js tests/cli/cli-storage-errors.test.js
    tests/cli/completion.test.js tests/cli/schedule.test.js tests/sdk/interop.test.js tests/sdk/interop_timeout.test.js
    tests/http/http-api.test.js tests/http/ui-static.test.js tests/http/metrics.test.js
    tests/ingest/ingest.test.js tests/ingest/pnpm-cli.test.js tests/ingest/worker.test.js
    tests/ops/backup.test.js tests/ops/s3.test.js tests/ops/doctor.test.js tests/ops/alert-check.test.js
    tests/ops/alerts.test.js tests/ops/alerts-db.test.js tests/ops/scheduled-backup.test.js tests/ops/config.test.js tests/ops/deploy.test.js
    tests/hardening/hardening.test.js tests/hardening/log-json.test.js tests/hardening/long-polls.test.js tests/hardening/sigterm.test.js tests/security/security.test.js tests/security/rate-limit.test.js tests/security/namespace-names.test.js tests/ui/ui.test.js tests/ui/actions.test.js
    tests/ui/auth.test.js tests/ui/detail.test.js)
fi

# Bounded as a whole too (NODE_TESTS_TIMEOUT seconds, default 2700; the suite takes about 17 min):
# a test file that outlives its 300 s timeout would otherwise keep the runner waiting after its
# summary. timeout(1) signals its whole process group (the runner and every test file).
rc=0
timeout -k 30 "${NODE_TESTS_TIMEOUT:-2700}" node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}" || rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
  echo "run-node-tests: the node tests did not finish within ${NODE_TESTS_TIMEOUT:-2700} s; stopped" >&2
fi
exit "$rc"
