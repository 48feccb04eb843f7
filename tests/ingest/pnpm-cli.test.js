'use strict';
// The runbook's pnpm lines, verbatim, from infra/orchestration against the real server binary:
// schedule create (the phrase) and list, workflow start with the default task queue, list
// --status running (the workflow, then empty once terminated). The worker service and the whole
// sequence with it: tests/ingest/worker.test.js.
//
// Run: tests/run-node-tests.sh tests/ingest/pnpm-cli.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { startServer } = require('../compat/harness');
const { REPO_ROOT, run } = require('./fixture');

const PKG = path.join(REPO_ROOT, 'infra', 'orchestration');
const PNPM = path.join(REPO_ROOT, 'node_modules', '.bin', 'pnpm');
let server;

function pnpm(args) {
  const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default', npm_config_update_notifier: 'false' };
  return run(PNPM, ['--silent', ...args], { cwd: PKG, env, timeoutMs: 60000 });
}

async function ok(args) {
  const r = await pnpm(args);
  assert.equal(r.code, 0, `pnpm ${args.join(' ')} failed (${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  server = await startServer();
}, { timeout: 60000 });

after(async () => {
  if (server) await server.stop('SIGTERM');
});

test('runbook: schedule create with the phrase, then schedule list', { timeout: 60000 }, async () => {
  await ok(['temporal:schedule', 'create', 'checkers-hourly', '--workflow', 'CheckersIngestionWorkflow',
    '--schedule', 'every 2h between 06:00-22:00 Africa/Johannesburg']);
  const list = await ok(['temporal:schedule', 'list']);
  assert.match(list, /checkers-hourly/);
  const desc = JSON.parse(await ok(['temporal:schedule', 'describe', '-s', 'checkers-hourly', '-o', 'json']));
  const text = JSON.stringify(desc);
  assert.match(text, /checkers-ingestion/, 'default task queue');
  assert.match(text, /CheckersIngestionWorkflow/);
  assert.match(text, /Africa\/Johannesburg/);
  await ok(['temporal:schedule', 'delete', '-s', 'checkers-hourly']);
});

test('runbook: trigger a workflow, list --status running, empty once it ends', { timeout: 60000 }, async () => {
  // The runbook's line, verbatim (the CLI picks the workflow id).
  const out = await ok(['temporal:workflow', '--workflow', 'CheckersIngestionWorkflow',
    '--input', '{"storeId":"sixty60-jhb","forceRefresh":true}']);
  const id = /WorkflowId\s+(\S+)/.exec(out)?.[1];
  assert.ok(id, out);
  const desc = JSON.parse(await ok(['temporal:workflow', 'describe', '-w', id, '-o', 'json']));
  assert.match(JSON.stringify(desc), /checkers-ingestion/, 'default task queue');
  assert.match(JSON.stringify(desc), /CheckersIngestionWorkflow/);
  let running = await ok(['temporal:workflow', 'list', '--status', 'running']);
  assert.match(running, new RegExp(id));
  // No worker polls in this test (worker.test.js runs one): end the run by hand.
  await ok(['temporal:workflow', 'terminate', '-w', id, '--reason', 'test']);
  running = await ok(['temporal:workflow', 'list', '--status', 'running']);
  assert.doesNotMatch(running, new RegExp(id));
  const json = JSON.parse(await ok(['temporal:workflow', 'list', '--status', 'running', '-o', 'json']));
  assert.deepEqual(json, []);
});
