'use strict';
// Transient workflow tasks (issue 15, item 10), with the official TypeScript SDK: a workflow
// whose tasks fail attempt after attempt leaves ONE WorkflowTaskFailed in its history (Temporal
// writes attempts after the first only when one completes: WorkflowTaskScheduled/Started with
// that attempt); the attempt count survives a SIGKILL of the server.
//
// Run: tests/run-node-tests.sh tests/crash/transient-wft.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, makeTempDir, removeDir, installRuntime, withTimeout, pollUntil, eventTypeName, uniqueName } =
  require('../compat/harness');
const { cleanupsAfterTests, killAndRestart } = require('./crash-harness');

const NS = 'default';
const cleanups = cleanupsAfterTests();

let bundle;
function workflowBundle() {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'transient-workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

async function runWorker(address, taskQueue) {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: NS,
    taskQueue,
    workflowBundle: await workflowBundle(),
    shutdownGraceTime: '1s',
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await withTimeout(running, 20000, 'worker shutdown').catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

/** Checks the history of a run that failed its task repeatedly and then completed. */
function checkHistory(history, minAttempt) {
  const events = history.events;
  const names = events.map(eventTypeName);
  events.forEach((e, i) => assert.equal(Number(e.eventId), i + 1, `event ids contiguous: ${names}`));
  // The first attempt's failure (or, on a slow machine, its timeout) is the only one written.
  const firstClose = names[3];
  assert.ok(['WORKFLOW_TASK_FAILED', 'WORKFLOW_TASK_TIMED_OUT'].includes(firstClose), `${names}`);
  assert.deepEqual(names, [
    'WORKFLOW_EXECUTION_STARTED',
    'WORKFLOW_TASK_SCHEDULED',
    'WORKFLOW_TASK_STARTED',
    firstClose,
    'WORKFLOW_TASK_SCHEDULED',
    'WORKFLOW_TASK_STARTED',
    'WORKFLOW_TASK_COMPLETED',
    'WORKFLOW_EXECUTION_COMPLETED',
  ]);
  const attempts = events
    .filter((e) => eventTypeName(e) === 'WORKFLOW_TASK_SCHEDULED')
    .map((e) => e.workflowTaskScheduledEventAttributes.attempt);
  assert.equal(attempts[0], 1);
  assert.ok(attempts[1] >= minAttempt, `the completing task's attempt ${attempts[1]} >= ${minAttempt}`);
  const started = events[5].workflowTaskStartedEventAttributes;
  assert.equal(Number(started.scheduledEventId), 5);
  assert.equal(Number(events[6].workflowTaskCompletedEventAttributes.startedEventId), 6);
  return attempts[1];
}

test('a workflow task failing on every attempt writes one WorkflowTaskFailed; the attempt that succeeds is recorded', { timeout: 90000 }, async () => {
  installRuntime();
  const server = await startServer({ ephemeral: true });
  cleanups.push(() => server.stop('SIGTERM'));
  const connection = await Connection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: NS });
  const taskQueue = uniqueName('tq-transient');
  const worker = await runWorker(server.address, taskQueue);
  cleanups.push(() => worker.stop());

  const handle = await client.workflow.start('buggyUntil', {
    taskQueue,
    workflowId: uniqueName('buggy'),
    args: [Date.now() + 3500],
    workflowTaskTimeout: '1s',
  });
  // While it fails: attempts grow, history stays at the first failure.
  await pollUntil(
    async () => (await handle.describe()).raw.pendingWorkflowTask?.attempt >= 3,
    { timeoutMs: 30000, what: 'workflow task attempt 3' },
  );
  const during = (await handle.fetchHistory()).events.map(eventTypeName);
  assert.equal(during.length, 4, `history while failing: ${during}`);

  assert.equal(await withTimeout(handle.result(), 60000, 'result'), `fixed:${handle.workflowId}`);
  checkHistory(await handle.fetchHistory(), 3);
});

test('the attempt count of a transient workflow task survives SIGKILL of the server', { timeout: 120000 }, async () => {
  installRuntime();
  const dataDir = makeTempDir('temporalite-transient-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGTERM'));
  const connection = await Connection.connect({
    address: server.address,
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: NS });
  const taskQueue = uniqueName('tq-transient-kill');
  let worker = await runWorker(server.address, taskQueue);

  const handle = await client.workflow.start('buggyUntil', {
    taskQueue,
    workflowId: uniqueName('buggy-kill'),
    args: [Date.now() + 6000],
    workflowTaskTimeout: '1s',
  });
  await pollUntil(
    async () => (await handle.describe()).raw.pendingWorkflowTask?.attempt >= 2,
    { timeoutMs: 30000, what: 'workflow task attempt 2' },
  );
  const before = (await handle.describe()).raw.pendingWorkflowTask.attempt;
  await worker.stop();
  server = await killAndRestart(server);
  const after = await handle.describe();
  assert.ok(after.raw.pendingWorkflowTask.attempt >= before, `attempt ${after.raw.pendingWorkflowTask.attempt} >= ${before} after restart`);
  const kept = (await handle.fetchHistory()).events.map(eventTypeName);
  assert.deepEqual(kept.slice(0, 3), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED']);
  assert.equal(kept.length, 4, `${kept}`);

  worker = await runWorker(server.address, taskQueue);
  cleanups.push(() => worker.stop());
  assert.equal(await withTimeout(handle.result(), 90000, 'result'), `fixed:${handle.workflowId}`);
  checkHistory(await handle.fetchHistory(), before);
});
