'use strict';
// Crash-recovery suite: SIGKILL the server while workflows are in flight, restart it on the same
// data directory and port, and check that nothing acknowledged was lost.
//
// Guarantees checked (those of a real Temporal server):
//   * a StartWorkflowExecution that returned successfully is durable: the workflow exists after
//     any number of crashes and runs to completion with the right result;
//   * each workflow's history has exactly one ActivityTaskCompleted per scheduled activity and
//     exactly one WorkflowExecutionCompleted.
// Activity EXECUTION is at-least-once in Temporal: an attempt that was running (or whose
// completion was in flight) when the server died may be retried after a start-to-close timeout,
// so the activity log may show an activity more than once for a workflow. That is allowed; we only
// require at least one execution of each activity and exactly-once *completion* in history.
//
// Run: node --test tests/crash/crash.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Connection, Client, WorkflowExecutionAlreadyStartedError } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { Context } = require('@temporalio/activity');

const {
  startServer,
  makeTempDir,
  removeDir,
  installRuntime,
  withTimeout,
  eventsOfType,
  eventTypeNames,
  uniqueName,
} = require('../compat/harness');
const { cleanupsAfterTests, killAndRestart } = require('./crash-harness');

const NS = 'default';
const INITIAL_WORKFLOWS = 40;
const KILLS = 3;

let logFile; // set by the test before the worker starts

function logExecution(id, name) {
  fs.appendFileSync(logFile, `${id} ${name} ${Context.current().info.attempt}\n`);
}

const activities = {
  async crashA(id) {
    logExecution(id, 'crashA');
    await Context.current().sleep(150);
    return `A:${id}`;
  },
  async crashB(id) {
    logExecution(id, 'crashB');
    await Context.current().sleep(150);
    return `B:${id}`;
  },
};

function expectedResult(id) {
  return `A:${id}|B:${id}`;
}

/**
 * Keeps one worker running on `taskQueue`. If the worker dies (e.g. its connection does not
 * survive a server restart) a new one is created, and the failure is recorded so the test can
 * report it.
 */
class WorkerSupervisor {
  constructor(createWorker) {
    this.createWorker = createWorker;
    this.failures = [];
    this.workersCreated = 0;
    this.stopping = false;
    this.worker = undefined;
    this.done = undefined; // resolves when the current worker's run() settled
  }

  async start() {
    this.worker = await this.createWorker();
    this.workersCreated += 1;
    const worker = this.worker;
    this.done = worker.run().then(
      () => {
        if (!this.stopping) {
          this.failures.push(new Error('worker stopped by itself'));
          return this.restart();
        }
      },
      (err) => {
        this.failures.push(err);
        if (!this.stopping) return this.restart();
      },
    );
  }

  async restart() {
    // The server may be down right now: retry creation (bounded by the test timeout).
    while (!this.stopping) {
      try {
        await this.start();
        return;
      } catch (err) {
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }

  async stop() {
    this.stopping = true;
    for (let i = 0; i < 2; i++) {
      if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
      if (this.done) await withTimeout(this.done, 20000, 'worker shutdown').catch(() => {});
    }
  }
}

const cleanups = cleanupsAfterTests();

test('acknowledged workflows survive repeated SIGKILL of the server', { timeout: 150000 }, async (t) => {
  installRuntime();
  const dataDir = makeTempDir('temporalite-crash-');
  const scratch = makeTempDir('temporalite-crash-log-');
  cleanups.push(() => removeDir(dataDir), () => removeDir(scratch));
  logFile = path.join(scratch, 'activity.log');
  fs.writeFileSync(logFile, '');

  const bundling = bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  bundling.catch(() => {}); // awaited below

  let server = await startServer({ dataDir });
  const port = server.port;
  assert.ok(port > 0, `server port ${port}`);
  // `server` changes on every restart: stop whichever is current at the end.
  cleanups.push(() => server && server.stop('SIGTERM'));

  const connection = await Connection.connect({
    address: server.address,
    // Reconnect quickly after the server comes back (client-side setting only).
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: NS });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  cleanups.push(() => nativeConnection.close());
  const workflowBundle = await bundling;

  const taskQueue = uniqueName('tq-crash');
  const supervisor = new WorkerSupervisor(() =>
    Worker.create({
      connection: nativeConnection,
      namespace: NS,
      taskQueue,
      workflowBundle,
      activities,
      shutdownGraceTime: '1s',
      stickyQueueScheduleToStartTimeout: '3s',
    }),
  );
  await supervisor.start();
  cleanups.push(() => supervisor.stop());

  /** workflowId -> runId, only for starts that resolved (acknowledged by the server). */
  const acknowledged = new Map();
  const rejectedStarts = [];
  let seq = 0;
  function startOne() {
    seq += 1;
    const id = `crash-${process.pid}-${seq}`;
    const sleepMs = 300 + ((seq * 373) % 1700); // 300 ms .. 2 s
    return client.workflow
      .start('crashWorkflow', {
        taskQueue,
        workflowId: id,
        args: [id, sleepMs],
        // Bounded recovery of a workflow task lost in a crash (real Temporal honours this).
        workflowTaskTimeout: '3s',
      })
      .then(
        (handle) => {
          acknowledged.set(id, handle.firstExecutionRunId);
        },
        (err) => {
          rejectedStarts.push({ id, err });
        },
      );
  }

  await Promise.all(Array.from({ length: INITIAL_WORKFLOWS }, () => startOne()));
  assert.equal(acknowledged.size, INITIAL_WORKFLOWS, `initial starts rejected: ${rejectedStarts.map((r) => r.err)}`);

  const inFlightStarts = [];
  for (let k = 1; k <= KILLS; k++) {
    // Let work progress for ~1 s (timers firing, activities running) before the next crash.
    await new Promise((r) => setTimeout(r, 1000));
    // A few starts that are in flight when the server dies: they count only if they resolve.
    for (let i = 0; i < 3; i++) inFlightStarts.push(startOne());
    const linesBefore = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).length;
    t.diagnostic(`kill #${k}: ${acknowledged.size} workflows acknowledged, ${linesBefore} activity executions logged`);
    if (k === 1) {
      // The crash must hit work in flight, otherwise this test proves little.
      assert.ok(linesBefore < 2 * acknowledged.size, 'all work finished before the first kill');
    }
    server = await killAndRestart(server, { what: `kill #${k}` });
    // Starts after the restart, awaited: these must be acknowledged.
    await withTimeout(Promise.all(Array.from({ length: 3 }, () => startOne())), 30000, `starts after restart #${k}`);
  }
  await withTimeout(Promise.all(inFlightStarts), 60000, 'in-flight starts to settle');
  t.diagnostic(
    `acknowledged starts: ${acknowledged.size}, rejected (unacknowledged) starts: ${rejectedStarts.length}`,
  );
  for (const r of rejectedStarts) t.diagnostic(`  rejected start ${r.id}: ${r.err && r.err.message}`);
  // Starts issued while the server was up must not be rejected (in-flight ones may be).
  assert.ok(acknowledged.size >= INITIAL_WORKFLOWS + 3 * KILLS, `acknowledged ${acknowledged.size}`);
  // A start retried after a crash with the same requestId must not come back as "already started".
  for (const r of rejectedStarts) {
    assert.ok(
      !(r.err instanceof WorkflowExecutionAlreadyStartedError),
      `start of ${r.id} retried after the crash was not deduplicated by requestId`,
    );
  }

  // Every acknowledged workflow completes with the right result.
  const ids = [...acknowledged.keys()];
  const results = await withTimeout(
    Promise.allSettled(ids.map((id) => client.workflow.getHandle(id, acknowledged.get(id)).result())),
    90000,
    'results of acknowledged workflows',
  );
  const wrong = [];
  results.forEach((r, i) => {
    if (r.status !== 'fulfilled') wrong.push(`${ids[i]}: ${r.reason && r.reason.message}`);
    else if (r.value !== expectedResult(ids[i])) wrong.push(`${ids[i]}: result ${JSON.stringify(r.value)}`);
  });
  assert.deepEqual(wrong, [], 'acknowledged workflows that did not complete correctly');

  // History: one start, two scheduled activities each completed exactly once, one completion.
  const badHistories = [];
  for (const id of ids) {
    const history = await client.workflow.getHandle(id, acknowledged.get(id)).fetchHistory();
    const names = eventTypeNames(history);
    const scheduled = eventsOfType(history, 'ACTIVITY_TASK_SCHEDULED');
    const completed = eventsOfType(history, 'ACTIVITY_TASK_COMPLETED');
    const completedFor = completed.map((e) => String(e.activityTaskCompletedEventAttributes.scheduledEventId));
    const ok =
      eventsOfType(history, 'WORKFLOW_EXECUTION_STARTED').length === 1 &&
      scheduled.length === 2 &&
      completed.length === 2 &&
      new Set(completedFor).size === 2 &&
      scheduled.every((e) => completedFor.includes(String(e.eventId))) &&
      eventsOfType(history, 'WORKFLOW_EXECUTION_COMPLETED').length === 1 &&
      names[names.length - 1] === 'WORKFLOW_EXECUTION_COMPLETED';
    if (!ok) badHistories.push(`${id}: ${names.join(',')}`);
  }
  assert.deepEqual(badHistories, [], 'histories with missing/duplicated events');

  // Visibility is written in the state change's transaction: after the crashes it agrees with
  // the executions. Every acknowledged workflow is listed as Completed, every listed run really
  // is completed, and the count matches the list (an unacknowledged start may also be there).
  const scope = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`;
  const listed = new Map();
  for await (const wf of client.workflow.list({ query: scope })) listed.set(wf.workflowId, wf.runId);
  assert.deepEqual(ids.filter((id) => listed.get(id) !== acknowledged.get(id)), [], 'acknowledged workflows missing from visibility');
  const { count } = await client.workflow.count(scope);
  assert.equal(count, listed.size, 'count and list disagree');
  const notCompleted = [];
  for (const [id, runId] of listed) {
    const d = await client.workflow.getHandle(id, runId).describe();
    if (d.status.name !== 'COMPLETED') notCompleted.push(`${id}: ${d.status.name}`);
  }
  assert.deepEqual(notCompleted, [], 'runs listed as completed that are not');

  // Activity log: each activity executed at least once per acknowledged workflow (at-least-once).
  const executions = new Map();
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!line) continue;
    const [id, name] = line.split(' ');
    const k = `${id} ${name}`;
    executions.set(k, (executions.get(k) ?? 0) + 1);
  }
  const missing = [];
  let reExecuted = 0;
  for (const id of ids) {
    for (const name of ['crashA', 'crashB']) {
      const n = executions.get(`${id} ${name}`) ?? 0;
      if (n === 0) missing.push(`${id} ${name}`);
      if (n > 1) reExecuted += 1;
    }
  }
  assert.deepEqual(missing, [], 'activities never executed for acknowledged workflows');
  t.diagnostic(`activities executed more than once (allowed, at-least-once): ${reExecuted}`);
  t.diagnostic(
    `workers created: ${supervisor.workersCreated}; worker failures across restarts: ${supervisor.failures.length}` +
      supervisor.failures.map((e) => `\n  ${e && e.message}`).join(''),
  );
});

test('data dir lock: a second server on the same dir is refused; clean SIGTERM restart keeps data', { timeout: 60000 }, async () => {
  // temporalite contract (not a Temporal API): one server per data dir (flock on <dir>/LOCK),
  // SIGTERM shuts down cleanly, data survives a clean restart.
  const dataDir = makeTempDir('temporalite-lock-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGKILL'));

  // It must not become ready; whether it exits with an error (expected) or blocks on the lock,
  // the harness kills it after the ready timeout.
  let second;
  try {
    second = await startServer({ dataDir, readyTimeoutMs: 5000 });
  } catch {
    // expected: refused (or never ready, then killed by the harness)
  }
  if (second) {
    await second.kill();
    assert.fail(`a second server became ready on the same data dir (${second.address})`);
  }
  assert.equal(server.proc.exitCode, null, 'the first server must still be running');

  const connection1 = await Connection.connect({ address: server.address });
  const workflowId = uniqueName('wf-lock');
  let runId;
  try {
    const handle = await new Client({ connection: connection1, namespace: NS }).workflow.start('crashWorkflow', {
      taskQueue: uniqueName('tq-lock'),
      workflowId,
      args: [workflowId, 1],
    });
    runId = handle.firstExecutionRunId;
  } finally {
    await connection1.close();
  }

  const res = await server.stop('SIGTERM');
  assert.ok(!res.escalated, 'server did not exit within 10 s of SIGTERM');
  assert.equal(res.code, 0, `exit after SIGTERM: ${JSON.stringify(res)}\nstderr:\n${server.stderr()}`);

  server = await startServer({ dataDir });
  const connection2 = await Connection.connect({ address: server.address });
  try {
    const desc = await new Client({ connection: connection2, namespace: NS }).workflow.getHandle(workflowId).describe();
    assert.equal(desc.runId, runId);
    assert.equal(desc.status.name, 'RUNNING');
  } finally {
    await connection2.close();
  }
  const res2 = await server.stop('SIGTERM');
  assert.equal(res2.code, 0);
  server = undefined;
});
