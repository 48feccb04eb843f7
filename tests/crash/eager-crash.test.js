'use strict';
// Eager activity execution and crashes: the server hands an activity task out in the
// RespondWorkflowTaskCompleted reply only once the commit that starts it is durable. The activity
// SIGKILLs the server as soon as it runs (right after the reply reached the worker); after a
// restart on the same data directory and port:
//   * the run shows the activity started (attempt 1): the hand-out survived the crash;
//   * the worker's late completion of that attempt is accepted and the run completes; or, when
//     the attempt is lost with its worker, start-to-close expires and attempt 2 comes by a poll.
// Also: `--dynamic-config-value system.enableActivityEagerExecution=false` switches it off.
//
// Run: node --test tests/crash/eager-crash.test.js   (env TEMPORALITE_BIN overrides the binary)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { Context } = require('@temporalio/activity');
const { PendingActivityState } = require('@temporalio/proto').temporal.api.enums.v1;

const {
  startServer,
  makeTempDir,
  removeDir,
  installRuntime,
  withTimeout,
  eventsOfType,
  uniqueName,
} = require('../compat/harness');
const { cleanupsAfterTests } = require('./crash-harness');

const NS = 'default';
const cleanups = cleanupsAfterTests();

function tsNanos(ts) {
  return BigInt(ts.seconds.toString()) * 1000000000n + BigInt(ts.nanos ?? 0);
}

// What the activity does on its first attempt, set per workflow key by the test.
const firstAttempt = new Map();
const attemptsSeen = new Map();
const activities = {
  async eagerStep(key) {
    const { attempt } = Context.current().info;
    attemptsSeen.set(key, [...(attemptsSeen.get(key) ?? []), attempt]);
    const hook = firstAttempt.get(key);
    if (attempt === 1 && hook) return await hook();
    return `attempt-${attempt}`;
  },
};

let bundle;
async function workflowBundle() {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'eager-workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

async function runWorker(server, taskQueue) {
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection,
    namespace: NS,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    shutdownGraceTime: '1s',
  });
  const running = worker.run();
  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await withTimeout(running, 20000, 'worker shutdown').catch(() => {});
    await connection.close().catch(() => {});
  };
  return { worker, running, stop };
}

async function withClient(server, fn) {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: NS }));
  } finally {
    await connection.close();
  }
}

test('an eagerly handed-out activity survives SIGKILL right after the reply', { timeout: 120000 }, async () => {
  installRuntime();
  const dataDir = makeTempDir('temporalite-eager-crash-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir });
  const port = server.port;
  cleanups.push(() => server && server.stop('SIGKILL'));
  const taskQueue = uniqueName('eager-crash-tq');
  const w = await runWorker(server, taskQueue);
  cleanups.push(() => w.stop());

  // Kills the current server from inside the activity, then waits until `release` is called.
  async function crashOnce(key) {
    let release;
    const released = new Promise((r) => (release = r));
    let killed;
    const killedP = new Promise((r) => (killed = r));
    firstAttempt.set(key, async () => {
      server.proc.kill('SIGKILL');
      killed();
      return await released;
    });
    return { released, killedP, release: (v) => release(v) };
  }

  // 1. The worker completes the eager attempt after the restart.
  const keep = await crashOnce('keep');
  const wf1 = uniqueName('eager-crash-keep');
  await withClient(server, (c) => c.workflow.start('eagerCrashWorkflow', { taskQueue, workflowId: wf1, args: ['keep', '60s'] }));
  await withTimeout(keep.killedP, 20000, 'activity ran (eagerly) and killed the server');
  await server.exited;
  server = await startServer({ dataDir, port });
  await withClient(server, async (client) => {
    const desc = await client.workflow.getHandle(wf1).describe();
    const pending = desc.raw.pendingActivities ?? [];
    assert.equal(pending.length, 1, 'the activity is pending after the crash');
    assert.equal(pending[0].attempt, 1);
    assert.equal(pending[0].state, PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, 'the hand-out was durable');
  });
  keep.release('completed-after-restart');
  await withClient(server, async (client) => {
    const h = client.workflow.getHandle(wf1);
    assert.equal(await withTimeout(h.result(), 30000, 'run completes'), 'completed-after-restart');
    const hist = await h.fetchHistory();
    const [scheduled] = eventsOfType(hist, 'ACTIVITY_TASK_SCHEDULED');
    const started = eventsOfType(hist, 'ACTIVITY_TASK_STARTED');
    assert.equal(started.length, 1);
    assert.equal(started[0].activityTaskStartedEventAttributes.attempt, 1);
    assert.equal(tsNanos(started[0].eventTime), tsNanos(scheduled.eventTime), 'started eagerly, in the completion');
    assert.equal(eventsOfType(hist, 'ACTIVITY_TASK_COMPLETED').length, 1);
  });
  assert.deepEqual(attemptsSeen.get('keep'), [1]);

  // 2. The eager attempt is lost (never completed): start-to-close expires, attempt 2 by a poll.
  const lose = await crashOnce('lose');
  const wf2 = uniqueName('eager-crash-lose');
  await withClient(server, (c) => c.workflow.start('eagerCrashWorkflow', { taskQueue, workflowId: wf2, args: ['lose', '3s'] }));
  await withTimeout(lose.killedP, 20000, 'activity ran (eagerly) and killed the server');
  await server.exited;
  server = await startServer({ dataDir, port });
  await withClient(server, async (client) => {
    const h = client.workflow.getHandle(wf2);
    assert.equal(await withTimeout(h.result(), 40000, 'run completes after the retry'), 'attempt-2');
    const hist = await h.fetchHistory();
    const started = eventsOfType(hist, 'ACTIVITY_TASK_STARTED');
    assert.equal(started.length, 1);
    assert.equal(started[0].activityTaskStartedEventAttributes.attempt, 2);
  });
  assert.deepEqual(attemptsSeen.get('lose'), [1, 2]);
  lose.release('too late'); // the lost attempt's completion is refused (NotFound); harmless
});

test('--dynamic-config-value system.enableActivityEagerExecution=false: activities go through polls', { timeout: 60000 }, async () => {
  installRuntime();
  const server = await startServer({ extraArgs: ['--dynamic-config-value', 'system.enableActivityEagerExecution=false'] });
  cleanups.push(() => server.stop('SIGTERM'));
  const taskQueue = uniqueName('eager-off-tq');
  const w = await runWorker(server, taskQueue);
  try {
    await withClient(server, async (client) => {
      const h = await client.workflow.start('eagerCrashWorkflow', { taskQueue, workflowId: uniqueName('eager-off'), args: ['off', '10s'] });
      assert.equal(await withTimeout(h.result(), 20000, 'run completes'), 'attempt-1');
      const hist = await h.fetchHistory();
      const [scheduled] = eventsOfType(hist, 'ACTIVITY_TASK_SCHEDULED');
      const [started] = eventsOfType(hist, 'ACTIVITY_TASK_STARTED');
      assert.ok(tsNanos(started.eventTime) > tsNanos(scheduled.eventTime), 'started later, by a poll');
    });
  } finally {
    await w.stop();
  }
  await assert.rejects(
    startServer({ extraArgs: ['--dynamic-config-value', 'system.enableActivityEagerExecution=maybe'] }),
    /not true or false/,
  );
});
