'use strict';
// Interop between the C++ SDK and the official TypeScript SDK (1.24) on the real server: a TS
// client runs C++ workflows (results, failures with types and details, signals, queries,
// updates with a validator), and a C++ workflow calls TS activities on another task queue
// (results and ApplicationFailure round-trip through ActivityFailure); a TS workflow calls a C++
// activity; children across the languages both ways; a C++ worker SIGKILLed mid-workflow and
// restarted finishes it from history without duplicated commands.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const test = require('node:test');

const { Connection, Client, WorkflowFailedError, WorkflowUpdateFailedError } = require('@temporalio/client');
const { ApplicationFailure, ActivityFailure } = require('@temporalio/common');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { startServer, installRuntime, pollUntil, uniqueName } = require('../compat/harness');

const CPP_WORKER = process.env.SDK_INTEROP_WORKER || path.join(__dirname, '..', '..', 'build', 'tests', 'sdk_interop_worker');

let server, connection, client, nativeConnection, tsWorker, tsWorkerRun, cpp;

test.before(async () => {
  installRuntime();
  const bundling = bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows', 'index.js'),
    logger: new DefaultLogger('WARN'),
  });
  bundling.catch(() => {});
  server = await startServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  tsWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'ts-interop',
    workflowBundle: await bundling,
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
}, { timeout: 120000 });

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

test('a TS workflow calls a C++ activity', { timeout: 30000 }, async () => {
  const r = await client.workflow.execute('tsCallsCpp', { taskQueue: 'ts-interop', workflowId: uniqueName('ts-calls-cpp'), args: ['quiet'] });
  assert.equal(r, 'QUIET!');
});

test('a TS parent runs a C++ child, and a C++ parent a TS child', { timeout: 30000 }, async () => {
  const a = await client.workflow.execute('tsParentOfCpp', { taskQueue: 'ts-interop', workflowId: uniqueName('ts-parent'), args: ['ada'] });
  assert.equal(a, 'TS parent got: Hello, ADA');
  const b = await client.workflow.execute('CppParentOfTs', { taskQueue: 'cpp-interop', workflowId: uniqueName('cpp-parent'), args: ['bo'] });
  assert.equal(b, 'C++ parent got: ts child of bo');
});

test('a C++ worker SIGKILLed mid-workflow and restarted completes it without duplicated commands', { timeout: 90000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-kill-'));
  const effects = path.join(dir, 'effects');
  fs.writeFileSync(effects, '');
  const env = { ...process.env, TEMPORAL_ADDRESS: server.address, SDK_INTEROP_SIDE_EFFECTS: effects };
  const startWorker = async () => {
    const p = spawn(CPP_WORKER, ['cpp-kill'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    await pollUntil(() => out.includes('ready'), { timeoutMs: 15000, what: 'C++ worker ready' });
    return p;
  };
  const lines = () => fs.readFileSync(effects, 'utf8').split('\n').filter(Boolean).map(Number);
  let w = await startWorker();
  try {
    const n = 10;
    const h = await client.workflow.start('CppSteps', { taskQueue: 'cpp-kill', workflowId: uniqueName('cpp-kill'), args: [n] });
    await pollUntil(() => lines().length >= 3, { timeoutMs: 20000, what: 'three steps done' });
    w.kill('SIGKILL');
    await new Promise((resolve) => (w.exitCode !== null || w.signalCode !== null ? resolve() : w.on('exit', resolve)));
    const before = lines().length;
    assert.ok(before < n, `killed too late (${before} steps done)`);
    w = await startWorker();
    assert.equal(await h.result(), (n * (n - 1)) / 2);
    const done = lines();
    for (let i = 0; i < n; i++) assert.ok(done.includes(i), `step ${i} ran`);
    // Activities are at-least-once: only the step in flight at the kill may have run twice.
    assert.ok(done.length <= n + 1, `steps ran ${done.length} times`);
    const scheduled = [];
    const hist = await h.fetchHistory();
    for (const e of hist.events) {
      if (e.activityTaskScheduledEventAttributes) scheduled.push(e.activityTaskScheduledEventAttributes.activityId);
    }
    assert.equal(scheduled.length, n, 'one ScheduleActivityTask command per step');
    assert.equal(new Set(scheduled).size, n);
  } finally {
    w.kill('SIGTERM');
    await new Promise((resolve) => (w.exitCode !== null || w.signalCode !== null ? resolve() : w.on('exit', resolve)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
