'use strict';
// Chaos under load (issue 15, item 1): a mixed workload driven with the official TypeScript SDK
// while the server is SIGKILLed at random moments (restarted each time on the same data
// directory and port) and, now and then, frozen with SIGSTOP for longer than the workflow task,
// activity start-to-close and heartbeat timeouts, then resumed with SIGCONT.
//
// Workload (chaos-workflows.js): workflows with timers, an activity that fails its first attempt
// and heartbeats on the next, a child workflow and continue-as-new; signals and updates sent to
// them throughout; a schedule firing every second; batch jobs signalling a few running workflows
// at once. Client calls that fail during an outage are retried by this test with the same
// idempotency key (signal request id, update id, workflow id, batch job id).
//
// Checked afterwards:
//   * 0 acknowledged starts lost: every workflow whose start was acknowledged completes with the
//     state its messages built;
//   * 0 acknowledged signals or updates lost: each is in the workflow's final state; a signal is
//     there once per run it reached (a retry may reach the next run after continue-as-new only
//     if an earlier attempt was not acknowledged), an update exactly once with its result;
//   * 0 workflows completed twice: each chain is exactly two runs (ContinuedAsNew, then one
//     WorkflowExecutionCompleted), each child exactly one completed run;
//   * 0 timers fired twice, 0 activities completed twice: per history, one TimerFired per
//     TimerStarted and one ActivityTaskCompleted per ActivityTaskScheduled;
//   * schedule actions exactly once: one chaosTick workflow per action the schedule counted,
//     distinct nominal times, one per second with no gap (missed seconds are caught up);
//   * batch jobs exactly once: every acknowledged job completes with each of its targets done and
//     none failed, and each target's state and history have the job's signal exactly once.
//
// CHAOS_KILLS (default 20) sets the number of SIGKILLs; scripts/chaos.sh runs the long form.
// Run: tests/run-node-tests.sh tests/crash/chaos.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const { Connection, Client, WorkflowExecutionAlreadyStartedError } = require('@temporalio/client');
const { defaultPayloadConverter } = require('@temporalio/common');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { Context } = require('@temporalio/activity');

const { startServer, makeTempDir, removeDir, installRuntime, withTimeout, pollUntil, eventTypeName, uniqueName } =
  require('../compat/harness');
const { cleanupsAfterTests } = require('./crash-harness');

const NS = 'default';
const KILLS = Number(process.env.CHAOS_KILLS || 20);
const STOP_EVERY = Number(process.env.CHAOS_STOP_EVERY || 6); // every 6th outage starts with a SIGSTOP
const STOP_MS = 3500; // longer than the 2 s workflow task, 3 s start-to-close and 2 s heartbeat timeouts
const MAX_LIVE = 16;
const MAX_BATCHES = 60;
const seed = Number(process.env.CHAOS_SEED || Date.now() % 100000);
let rng = seed;
function random() {
  rng = (rng * 1103515245 + 12345) % 2147483648;
  return rng / 2147483648;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cleanups = cleanupsAfterTests();

const activities = {
  async flaky(id) {
    const ctx = Context.current();
    if (ctx.info.attempt === 1) throw new Error(`first attempt of ${id} fails`);
    for (let i = 0; i < 3; i++) {
      ctx.heartbeat(i);
      await sleep(50);
    }
    return `activity:${id}`;
  },
};

/** Keeps one worker running; a worker that dies with the server is replaced. */
class WorkerSupervisor {
  constructor(create) {
    this.create = create;
    this.stopping = false;
    this.failures = 0;
  }
  async start() {
    while (!this.stopping) {
      try {
        this.worker = await this.create();
        break;
      } catch {
        await sleep(300);
      }
    }
    if (this.stopping) return;
    const worker = this.worker;
    this.done = worker.run().then(
      () => !this.stopping && this.restart(),
      () => !this.stopping && this.restart(),
    );
  }
  restart() {
    this.failures += 1;
    return this.start();
  }
  async stop() {
    this.stopping = true;
    for (let i = 0; i < 2; i++) {
      if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
      if (this.done) await withTimeout(this.done, 20000, 'worker shutdown').catch(() => {});
    }
  }
}

// The runner ends a file that runs past its --test-timeout (300 s in tests/run-node-tests.sh)
// without saying what it waited for: this test's own deadlines end 30 s before that, so a call
// that is never acknowledged fails the test with its name and last error instead.
const runnerTimeoutMs = Number((process.execArgv.find((a) => a.startsWith('--test-timeout=')) || '=').split('=')[1]) || Infinity;
const BUDGET_MS = Math.min(KILLS * 12000 + 150000, runnerTimeoutMs - 30000);

test(`chaos: mixed workload survives ${KILLS} SIGKILLs and SIGSTOP pauses`, { timeout: BUDGET_MS + 20000 }, async () => {
  installRuntime();
  const t0 = Date.now();
  const dataDir = makeTempDir('temporalite-chaos-');
  cleanups.push(() => removeDir(dataDir));
  const bundling = bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'chaos-workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  bundling.catch(() => {});

  let server = await startServer({ dataDir });
  const port = server.port;
  cleanups.push(() => server && server.stop('SIGTERM'));
  const connection = await Connection.connect({
    address: server.address,
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: NS });
  // The driver's calls: no SDK-side retries (its backoff would stretch an outage into many
  // seconds); untilAcknowledged retries them quickly with the same idempotency key.
  const driverConnection = await Connection.connect({
    address: server.address,
    interceptors: [],
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
  cleanups.push(() => driverConnection.close());
  const driver = new Client({ connection: driverConnection, namespace: NS });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  cleanups.push(() => nativeConnection.close());
  const workflowBundle = await bundling;
  const taskQueue = uniqueName('tq-chaos');
  const supervisor = new WorkerSupervisor(() =>
    Worker.create({
      connection: nativeConnection,
      namespace: NS,
      taskQueue,
      workflowBundle,
      activities,
      shutdownGraceTime: '1s',
      stickyQueueScheduleToStartTimeout: '2s',
    }),
  );
  await supervisor.start();
  cleanups.push(() => supervisor.stop());

  let phase = 'chaos'; // 'chaos' -> 'drain'
  const deadline = t0 + BUDGET_MS;
  /** Calls fn until it resolves (the idempotency key inside fn makes retries safe). */
  async function untilAcknowledged(what, fn) {
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await withTimeout(fn(), 5000, what), attempts: attempt };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { value: undefined, attempts: attempt };
        if (Date.now() > deadline) throw new Error(`${what}: not acknowledged before the deadline: ${err}`);
        await sleep(200);
      }
    }
  }

  // The schedule: one chaosTick workflow per second.
  const scheduleId = uniqueName('chaos-sched');
  await client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '1s' }] },
    action: { type: 'startWorkflow', workflowType: 'chaosTick', taskQueue, workflowId: `${scheduleId}-wf` },
    policies: { overlap: 'ALLOW_ALL', catchupWindow: '10m' },
  });

  const workflows = new Map(); // id -> {id, firstRunId, run1, signals: Map(seq -> attempts), updates: Map(v -> result), finishing}
  let nextSeq = 0;
  let nextWorkflow = 0;
  const stats = { starts: 0, signals: 0, updates: 0, kills: 0, stops: 0 };
  const batches = []; // {jobId, seq, targets: [workflow ids]}
  let batchInFlight = false;
  const BATCH_COMPLETED = 2; // temporal.api.enums.v1.BatchOperationState

  /** Starts a batch job signalling `targets` (retried with the same job id until acknowledged). */
  async function startBatch(targets) {
    batchInFlight = true;
    const seq = nextSeq++;
    const jobId = `chaos-batch-${process.pid}-${seed}-${batches.length}`;
    for (const wf of targets) wf.batches.push(jobId);
    const request = {
      namespace: NS,
      jobId,
      reason: 'chaos',
      executions: targets.map((wf) => ({ workflowId: wf.id })),
      signalOperation: { signal: 'item', input: { payloads: [defaultPayloadConverter.toPayload(seq)] }, identity: 'chaos-batch' },
    };
    try {
      for (;;) {
        try {
          await withTimeout(driver.workflowService.startBatchOperation(request), 5000, `batch ${jobId}`);
          break;
        } catch (err) {
          if (err && err.code === 6) break; // ALREADY_EXISTS: an earlier attempt was acknowledged
          if (Date.now() > deadline) throw new Error(`batch ${jobId}: not acknowledged before the deadline: ${err}`);
          await sleep(200);
        }
      }
      batches.push({ jobId, seq, targets: targets.map((wf) => wf.id) });
      stats.batches = (stats.batches || 0) + 1;
    } finally {
      batchInFlight = false;
    }
  }

  /** True once every batch job targeting `wf` has completed (its signal is in). */
  async function batchesDone(wf) {
    for (const jobId of wf.batches) {
      const d = await untilAcknowledged(`describe batch ${jobId}`, () =>
        driver.workflowService.describeBatchOperation({ namespace: NS, jobId }));
      if (d.value.state !== BATCH_COMPLETED) return false;
    }
    return true;
  }

  async function signal(wf, name, seq) {
    const requestId = randomUUID();
    const r = await untilAcknowledged(`signal ${name} ${wf.id}`, () =>
      driver.workflowService.signalWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId: wf.id },
        signalName: name,
        input: seq === undefined ? undefined : { payloads: [defaultPayloadConverter.toPayload(seq)] },
        identity: 'chaos-driver',
        requestId,
      }),
    );
    return r.attempts;
  }

  async function driveOnce() {
    const live = [...workflows.values()].filter((w) => !w.finishing);
    if (live.length < MAX_LIVE && phase === 'chaos') {
      const id = `chaos-${process.pid}-${seed}-${nextWorkflow++}`;
      const wf = { id, firstRunId: undefined, run1: false, signals: new Map(), updates: new Map(), updatesSent: 0, finishing: false,
        batches: [] };
      const r = await untilAcknowledged(`start ${id}`, () =>
        driver.workflow.start('chaosWorkflow', { taskQueue, workflowId: id, args: [id], workflowTaskTimeout: '2s' }),
      );
      wf.firstRunId = r.value ? r.value.firstExecutionRunId : undefined;
      workflows.set(id, wf);
      stats.starts += 1;
      return;
    }
    if (live.length === 0) return;
    // Now and then a batch job signals up to three workflows that wait in their second run (a
    // signal pinned to a run that continues as new would not arrive; Temporal behaves alike).
    const waiting = live.filter((w) => w.run1 && w.signals.size >= 3);
    // The server keeps the last 100 closed jobs for describe: stay well under that.
    if (!batchInFlight && waiting.length > 0 && batches.length < MAX_BATCHES && random() < 0.05) {
      await startBatch(waiting.sort(() => random() - 0.5).slice(0, 3));
      return;
    }
    const wf = live[Math.floor(random() * live.length)];
    if (!wf.run1) {
      const d = await untilAcknowledged(`describe ${wf.id}`, () => driver.workflow.getHandle(wf.id).describe());
      wf.firstRunId ??= d.value.raw.workflowExecutionInfo.firstRunId;
      if (d.value.runId !== wf.firstRunId) wf.run1 = true;
    }
    if (wf.signals.size < 3) {
      const seq = nextSeq++;
      wf.signals.set(seq, await signal(wf, 'item', seq));
      stats.signals += 1;
    } else if (!wf.run1) {
      // Updates go to the second run only (after continue-as-new); wait for it.
    } else if (wf.updatesSent < 2) {
      // Two drivers may pick the same workflow: take the update's number before any await.
      const value = `${wf.id}/u${wf.updatesSent++}`;
      const updateId = `${value}-${randomUUID()}`;
      const r = await untilAcknowledged(`update ${value}`, () =>
        driver.workflow.getHandle(wf.id).executeUpdate('record', { args: [value], updateId }),
      );
      wf.updates.set(value, r.value);
      stats.updates += 1;
    } else if (wf.updates.size === wf.updatesSent && !wf.finishing && !batchInFlight && (await batchesDone(wf))) {
      wf.finishing = true;
      await signal(wf, 'finish');
    }
  }

  const drivers = [0, 1].map(async () => {
    while (phase === 'chaos') {
      await driveOnce();
      await sleep(10); // driveOnce may have had nothing to do
    }
  });

  // The outages.
  for (let i = 0; i < KILLS; i++) {
    await sleep(500 + random() * 2000);
    if (i % STOP_EVERY === STOP_EVERY - 1) {
      server.proc.kill('SIGSTOP');
      await sleep(STOP_MS);
      server.proc.kill('SIGCONT');
      stats.stops += 1;
      await sleep(300 + random() * 700);
    }
    await server.kill();
    stats.kills += 1;
    server = await startServer({ dataDir, port });
  }
  phase = 'drain';
  await Promise.all(drivers);

  // Finish every workflow (a run-0 workflow carries `finish` through continue-as-new), once the
  // batch jobs that target it are done.
  for (const wf of workflows.values()) {
    if (!wf.finishing) {
      await pollUntil(() => batchesDone(wf), { timeoutMs: 60000, intervalMs: 200, what: `batch jobs of ${wf.id}` });
      await signal(wf, 'finish');
      wf.finishing = true;
    }
  }
  const chaosSeconds = (Date.now() - t0) / 1000;

  // ---- verification ----
  for (const wf of workflows.values()) {
    const handle = client.workflow.getHandle(wf.id, undefined, { firstExecutionRunId: wf.firstRunId });
    const result = await withTimeout(handle.result(), 60000, `result of ${wf.id}`);
    for (const [seq, attempts] of wf.signals) {
      const n = result.signals.filter((s) => s === seq).length;
      assert.ok(n >= 1, `${wf.id}: acknowledged signal ${seq} lost (state ${JSON.stringify(result.signals)})`);
      // Within a run the request id dedupes retries; a second copy needs a retry that crossed
      // continue-as-new, i.e. an attempt that was not acknowledged.
      assert.ok(n === 1 || attempts > 1, `${wf.id}: signal ${seq} applied ${n} times after one acknowledged call`);
    }
    assert.equal(result.updates.length, wf.updates.size, `${wf.id}: updates ${JSON.stringify(result.updates)}`);
    for (const [value, reply] of wf.updates) {
      assert.equal(result.updates.filter((u) => u === value).length, 1, `${wf.id}: update ${value} once`);
      assert.equal(reply, `recorded:${value}`);
    }
    assert.equal(result.timers, 2, `${wf.id}: timers`);
    assert.deepEqual(result.activities, [`activity:${wf.id}`]);
    assert.equal(result.child, `child:${wf.id}`);

    // The chain: exactly two runs, the first continued as new, the second completed once.
    const runs = [];
    for await (const info of client.workflow.list({ query: `WorkflowId = '${wf.id}'` })) runs.push(info);
    assert.equal(runs.length, 2, `${wf.id}: runs ${runs.map((r) => `${r.runId}:${r.status.name}`)}`);
    assert.deepEqual(runs.map((r) => r.status.name).sort(), ['COMPLETED', 'CONTINUED_AS_NEW']);
    for (const run of runs) {
      const history = await client.workflow.getHandle(wf.id, run.runId).fetchHistory();
      const names = history.events.map(eventTypeName);
      const count = (n) => names.filter((x) => x === n).length;
      const closes = ['WORKFLOW_EXECUTION_COMPLETED', 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW', 'WORKFLOW_EXECUTION_FAILED',
        'WORKFLOW_EXECUTION_TERMINATED', 'WORKFLOW_EXECUTION_TIMED_OUT'].reduce((s, n) => s + count(n), 0);
      assert.equal(closes, 1, `${wf.id}/${run.runId}: one close event in ${names}`);
      assert.equal(count('TIMER_STARTED'), 1, `${wf.id}: one timer per run`);
      assert.equal(count('TIMER_FIRED'), 1, `${wf.id}: timer fired once per run`);
      const fired = history.events.filter((e) => eventTypeName(e) === 'TIMER_FIRED').map((e) => String(e.timerFiredEventAttributes.startedEventId));
      assert.equal(new Set(fired).size, fired.length);
      assert.equal(count('ACTIVITY_TASK_COMPLETED'), count('ACTIVITY_TASK_SCHEDULED'), `${wf.id}: activity completions`);
      assert.ok(count('ACTIVITY_TASK_COMPLETED') <= 1);
      const signalIds = history.events
        .filter((e) => eventTypeName(e) === 'WORKFLOW_EXECUTION_SIGNALED')
        .map((e) => e.workflowExecutionSignaledEventAttributes);
      const perSeq = new Map();
      for (const a of signalIds) {
        if (a.signalName !== 'item') continue;
        const seq = defaultPayloadConverter.fromPayload(a.input.payloads[0]);
        perSeq.set(seq, (perSeq.get(seq) || 0) + 1);
      }
      for (const [seq, n] of perSeq) assert.equal(n, 1, `${wf.id}/${run.runId}: signal ${seq} in history ${n} times`);
      if (run.status.name === 'CONTINUED_AS_NEW') {
        assert.equal(count('CHILD_WORKFLOW_EXECUTION_COMPLETED'), 1, `${wf.id}: child completed once`);
      }
    }
    const childRuns = [];
    for await (const info of client.workflow.list({ query: `WorkflowId = '${wf.id}-child'` })) childRuns.push(info);
    assert.deepEqual(childRuns.map((r) => r.status.name), ['COMPLETED'], `${wf.id}-child runs`);
  }

  // Batch jobs: each completed with every target signalled once (checked in the state above and
  // per run in history here).
  for (const b of batches) {
    const d = await driver.workflowService.describeBatchOperation({ namespace: NS, jobId: b.jobId });
    assert.equal(d.state, BATCH_COMPLETED, `batch ${b.jobId}`);
    assert.equal(Number(d.totalOperationCount), b.targets.length, `batch ${b.jobId} total`);
    assert.equal(Number(d.completeOperationCount), b.targets.length, `batch ${b.jobId} completed`);
    assert.equal(Number(d.failureOperationCount || 0), 0, `batch ${b.jobId} failures`);
    for (const id of b.targets) {
      const result = await client.workflow.getHandle(id).result();
      assert.equal(result.signals.filter((x) => x === b.seq).length, 1, `${id}: batch ${b.jobId} signal once`);
    }
  }

  // The schedule: stop it, then every action it counted is one workflow, one per second.
  const schedule = client.schedule.getHandle(scheduleId);
  await schedule.pause('chaos over');
  const described = await schedule.describe();
  const numActions = Number(described.info.numActionsTaken);
  const ticks = [];
  for await (const info of client.workflow.list({ query: `WorkflowType = 'chaosTick'` })) ticks.push(info);
  const nominal = ticks.map((w) => w.workflowId.slice(`${scheduleId}-wf-`.length)).sort();
  assert.equal(ticks.length, numActions, `schedule counted ${numActions} actions, ${ticks.length} workflows exist`);
  assert.equal(new Set(nominal).size, nominal.length, 'one workflow per nominal time');
  const seconds = nominal.map((n) => Date.parse(n) / 1000);
  for (let i = 1; i < seconds.length; i++) {
    assert.equal(seconds[i] - seconds[i - 1], 1, `schedule gap between ${nominal[i - 1]} and ${nominal[i]}`);
  }
  assert.ok(numActions >= 10, `schedule actions: ${numActions}`);

  console.log(
    `chaos: seed ${seed}, ${stats.kills} SIGKILLs, ${stats.stops} SIGSTOP pauses of ${STOP_MS} ms, ` +
      `${stats.starts} workflows, ${stats.signals} signals, ${stats.updates} updates, ${numActions} schedule actions, ` +
      `${batches.length} batch jobs, ` +
      `${supervisor.failures} worker restarts; chaos phase ${chaosSeconds.toFixed(0)} s, total ${((Date.now() - t0) / 1000).toFixed(0)} s: ` +
      '0 lost, 0 doubled',
  );
});
