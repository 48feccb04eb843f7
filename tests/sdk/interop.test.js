'use strict';
// Interop between the C++ SDK and the official TypeScript SDK (1.24) on the real server: a TS
// client runs C++ workflows (results, failures with types and details, signals, queries,
// updates with a validator), and a C++ workflow calls TS activities on another task queue
// (results and ApplicationFailure round-trip through ActivityFailure).
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const test = require('node:test');

const { Connection, Client, WorkflowFailedError, WorkflowUpdateFailedError } = require('@temporalio/client');
const { ApplicationFailure, ActivityFailure } = require('@temporalio/common');
const { Worker, NativeConnection } = require('@temporalio/worker');
const { startServer, installRuntime, pollUntil, uniqueName } = require('../compat/harness');

const CPP_WORKER = process.env.SDK_INTEROP_WORKER || path.join(__dirname, '..', '..', 'build', 'tests', 'sdk_interop_worker');

let server, connection, client, nativeConnection, tsWorker, tsWorkerRun, cpp;

test.before(async () => {
  installRuntime();
  server = await startServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  tsWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'ts-interop',
    activities: {
      async tsUpper(s) {
        return s.toUpperCase();
      },
      async tsFail() {
        throw ApplicationFailure.nonRetryable('ts broke', 'TsError', { at: 'ts' });
      },
    },
  });
  tsWorkerRun = tsWorker.run();
  cpp = spawn(CPP_WORKER, [], { env: { ...process.env, TEMPORAL_ADDRESS: server.address }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  cpp.stdout.on('data', (d) => (out += d));
  await pollUntil(() => out.includes('ready'), { timeoutMs: 15000, what: 'C++ worker ready' });
}, { timeout: 60000 });

test.after(async () => {
  if (cpp) {
    cpp.kill('SIGTERM');
    await new Promise((resolve) => (cpp.exitCode !== null ? resolve() : cpp.on('exit', resolve)));
  }
  if (tsWorker) {
    tsWorker.shutdown();
    await tsWorkerRun.catch(() => {});
  }
  if (nativeConnection) await nativeConnection.close().catch(() => {});
  if (connection) await connection.close().catch(() => {});
  if (server) await server.stop('SIGTERM');
}, { timeout: 60000 });

test('a TS client runs a C++ workflow that calls a TS activity', { timeout: 30000 }, async () => {
  const result = await client.workflow.execute('CppGreet', {
    taskQueue: 'cpp-interop',
    workflowId: uniqueName('greet'),
    args: ['ada'],
  });
  assert.equal(result, 'Hello, ADA');
});

test('a C++ ApplicationFailure reaches the TS client with type, non-retryable and details', { timeout: 30000 }, async () => {
  const err = await client.workflow
    .execute('CppFail', { taskQueue: 'cpp-interop', workflowId: uniqueName('fail'), args: ['cpp broke'] })
    .catch((e) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  assert.equal(err.cause.type, 'CppError');
  assert.equal(err.cause.message, 'cpp broke');
  assert.equal(err.cause.nonRetryable, true);
  assert.deepEqual(err.cause.details, [{ code: 42 }]);
});

test('a TS activity failure reaches the C++ workflow and back as ActivityFailure(ApplicationFailure)', { timeout: 30000 }, async () => {
  const err = await client.workflow
    .execute('CppCallsFailingTs', { taskQueue: 'cpp-interop', workflowId: uniqueName('tsfail') })
    .catch((e) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ActivityFailure, String(err.cause));
  assert.equal(err.cause.activityType, 'tsFail');
  assert.ok(err.cause.cause instanceof ApplicationFailure, String(err.cause.cause));
  assert.equal(err.cause.cause.type, 'TsError');
  assert.equal(err.cause.cause.message, 'ts broke');
  assert.deepEqual(err.cause.cause.details, [{ at: 'ts' }]);
});

test('signals, queries and updates from TS to a C++ workflow', { timeout: 30000 }, async () => {
  const handle = await client.workflow.start('CppMessages', { taskQueue: 'cpp-interop', workflowId: uniqueName('msg') });
  await handle.signal('add', 5);
  await pollUntil(async () => (await handle.query('total')) === 5, { timeoutMs: 10000, what: 'total 5' });
  assert.equal(await handle.executeUpdate('double'), 10);
  assert.equal(await handle.executeUpdate('set', { args: [7] }), 7);
  const rejected = await handle.executeUpdate('set', { args: [-1] }).catch((e) => e);
  assert.ok(rejected instanceof WorkflowUpdateFailedError, String(rejected));
  assert.equal(rejected.cause.type, 'ValidationError');
  await handle.signal('add', 1);
  await handle.signal('done');
  assert.equal(await handle.result(), 8);
});
