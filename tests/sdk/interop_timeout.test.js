'use strict';
// Interop: timeouts of activities in a C++ workflow reach a TypeScript client (the official TS
// SDK) as Temporal's failures: WorkflowFailedError -> ActivityFailure -> TimeoutFailure with the
// right timeout type (start-to-close, heartbeat with the last heartbeat details).
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const test = require('node:test');

const { Connection, Client, WorkflowFailedError } = require('@temporalio/client');
const { ActivityFailure, TimeoutFailure, TimeoutType } = require('@temporalio/common');
const { startServer, pollUntil, uniqueName } = require('../compat/harness');

const CPP_WORKER = process.env.SDK_INTEROP_WORKER || path.join(__dirname, '..', '..', 'build', 'tests', 'sdk_interop_worker');

let server, connection, client, cpp;

test.before(async () => {
  server = await startServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
  cpp = spawn(CPP_WORKER, ['cpp-timeouts'], { env: { ...process.env, TEMPORAL_ADDRESS: server.address }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  cpp.stdout.on('data', (d) => (out += d));
  await pollUntil(() => out.includes('ready'), { timeoutMs: 15000, what: 'C++ worker ready' });
}, { timeout: 60000 });

test.after(async () => {
  if (cpp) {
    cpp.kill('SIGTERM');
    await new Promise((resolve) => (cpp.exitCode !== null ? resolve() : cpp.on('exit', resolve)));
  }
  if (connection) await connection.close().catch(() => {});
  if (server) await server.stop('SIGTERM');
}, { timeout: 30000 });

async function timeoutOf(kind) {
  const err = await client.workflow
    .execute('CppTimesOut', { taskQueue: 'cpp-timeouts', workflowId: uniqueName(`timeout-${kind}`), args: [kind] })
    .catch((e) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ActivityFailure, String(err.cause));
  assert.equal(err.cause.activityType, 'cppSlow');
  assert.ok(err.cause.cause instanceof TimeoutFailure, `cause: ${err.cause.cause}`);
  return err.cause.cause;
}

test('an activity start-to-close timeout in a C++ workflow reaches TS as ActivityFailure(TimeoutFailure START_TO_CLOSE)', { timeout: 30000 }, async () => {
  const t = await timeoutOf('startToClose');
  assert.equal(t.timeoutType, TimeoutType.START_TO_CLOSE);
});

test('an activity heartbeat timeout reaches TS as TimeoutFailure HEARTBEAT with the last heartbeat details', { timeout: 30000 }, async () => {
  const t = await timeoutOf('heartbeat');
  assert.equal(t.timeoutType, TimeoutType.HEARTBEAT);
  assert.deepEqual(t.lastHeartbeatDetails, 'tick');
});
