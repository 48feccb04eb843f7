'use strict';
// Crash-recovery suite for external signals (SignalExternalWorkflowExecution commands): SENDERS
// workflows each signal their own target workflow SIGNALS times (one at a time, a 100 ms timer
// between sends) while the server is SIGKILLed and restarted (same data directory and port) twice.
//
// Guarantee checked (a real Temporal server's): a signal a workflow initiated is delivered to its
// target exactly once, in the order sent. Here the Initiated event, the delivery to the target and
// the sender's result event are one transaction, so a crash keeps all of them or none; a workflow
// task lost with the crash is retried after its timeout and the workflow code re-issues the
// command. So each target receives 0..SIGNALS-1 exactly once, in order; each sender's history
// has SIGNALS Initiated and SIGNALS ExternalWorkflowExecutionSignaled events and no failure; each
// target's history has exactly SIGNALS WorkflowExecutionSignaled events.
//
// Run: node --test tests/crash/external-crash.test.js   (env TEMPORALITE_BIN overrides the binary)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const { startServer, makeTempDir, removeDir, installRuntime, withTimeout, pollUntil, eventsOfType, uniqueName } =
  require('../compat/harness');
const { cleanupsAfterTests, sigkill, restart } = require('./crash-harness');

const NS = 'default';
const SENDERS = 8;
const SIGNALS = 6;

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

/** Keeps one worker running; a worker that dies with the server is replaced (as crash.test.js). */
class WorkerSupervisor {
  constructor(createWorker) {
    this.createWorker = createWorker;
    this.stopping = false;
    this.failures = 0;
  }

  async start() {
    this.worker = await this.createWorker();
    const worker = this.worker;
    this.done = worker.run().then(
      () => {
        if (!this.stopping) return this.restart();
      },
      () => {
        this.failures += 1;
        if (!this.stopping) return this.restart();
      },
    );
  }

  async restart() {
    while (!this.stopping) {
      try {
        await this.start();
        return;
      } catch {
        await sleepMs(300);
      }
    }
  }

  async stop() {
    this.stopping = true;
    for (let i = 0; i < 2; i++) {
      if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
      if (this.done) await withTimeout(this.done, 15000, 'worker shutdown').catch(() => {});
    }
  }
}

const cleanups = cleanupsAfterTests();

/** Retries `fn` through server outages (bounded). */
async function retrying(fn, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${err.message}`);
      await sleepMs(200);
    }
  }
}

test('initiated external signals are delivered exactly once across SIGKILLs', { timeout: 90000 }, async (t) => {
  installRuntime();
  const dataDir = makeTempDir('temporalite-extcrash-');
  cleanups.push(() => removeDir(dataDir));
  const bundling = bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'external-workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  bundling.catch(() => {});

  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGTERM'));
  const connection = await Connection.connect({
    address: server.address,
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: NS });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  cleanups.push(() => nativeConnection.close());
  const workflowBundle = await bundling;

  const taskQueue = uniqueName('tq-extcrash');
  const supervisor = new WorkerSupervisor(() =>
    Worker.create({
      connection: nativeConnection,
      namespace: NS,
      taskQueue,
      workflowBundle,
      shutdownGraceTime: '1s',
      stickyQueueScheduleToStartTimeout: '3s',
    }),
  );
  await supervisor.start();
  cleanups.push(() => supervisor.stop());

  const prefix = uniqueName('extcrash');
  const pairs = [];
  for (let i = 0; i < SENDERS; i++) {
    const targetId = `${prefix}-target-${i}`;
    const senderId = `${prefix}-sender-${i}`;
    await client.workflow.start('extCrashTarget', { taskQueue, workflowId: targetId, args: [SIGNALS], workflowTaskTimeout: '3s' });
    await client.workflow.start('extCrashSender', {
      taskQueue,
      workflowId: senderId,
      args: [targetId, SIGNALS],
      workflowTaskTimeout: '3s',
    });
    pairs.push({ targetId, senderId });
  }

  /** External signals delivered so far, over all targets (from the senders' histories). */
  const delivered = async () => {
    let n = 0;
    for (const p of pairs) {
      const h = await client.workflow.getHandle(p.senderId).fetchHistory();
      n += eventsOfType(h, 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED').length;
    }
    return n;
  };
  const total = SENDERS * SIGNALS;
  for (const [k, threshold] of [
    [1, Math.ceil(total / 6)],
    [2, Math.ceil(total / 2)],
  ]) {
    const seen = await retrying(
      () => pollUntil(async () => {
        const n = await delivered();
        return n >= threshold ? n : null;
      }, { timeoutMs: 20000, intervalMs: 50, what: `${threshold} external signals delivered` }),
      `kill #${k} trigger`,
      30000,
    );
    await sigkill(server, `kill #${k}`);
    t.diagnostic(`kill #${k} after ${seen}/${total} signals delivered`);
    server = await restart(server);
  }

  const problems = [];
  for (const p of pairs) {
    const target = client.workflow.getHandle(p.targetId);
    const sender = client.workflow.getHandle(p.senderId);
    const got = await retrying(() => withTimeout(target.result(), 30000, `${p.targetId} result`), p.targetId, 40000);
    const sent = await retrying(() => withTimeout(sender.result(), 30000, `${p.senderId} result`), p.senderId, 40000);
    if (sent !== 'sent') problems.push(`${p.senderId}: result ${JSON.stringify(sent)}`);
    const want = [...Array(SIGNALS).keys()];
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${p.targetId}: received ${JSON.stringify(got)}`);
    const th = await target.fetchHistory();
    const sh = await sender.fetchHistory();
    const received = eventsOfType(th, 'WORKFLOW_EXECUTION_SIGNALED').length;
    const initiated = eventsOfType(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED').length;
    const signaled = eventsOfType(sh, 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED').length;
    const failed = eventsOfType(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED').length;
    if (received !== SIGNALS || initiated !== SIGNALS || signaled !== SIGNALS || failed !== 0) {
      problems.push(`${p.senderId}: initiated ${initiated}, signaled ${signaled}, failed ${failed}; target received ${received}`);
    }
  }
  t.diagnostic(`worker failures replaced: ${supervisor.failures}`);
  assert.deepEqual(problems, []);
});
