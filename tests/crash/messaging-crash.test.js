'use strict';
// Crash-recovery suite for messaging: signals, updates, child workflows and continue-as-new while
// the server is SIGKILLed and restarted (same data directory and port) three times.
//
// Each of WORKFLOWS workflows (messaging-workflows.js, msgCrashWorkflow) collects SIGNALS `item`
// signals and UPDATES `record` updates (each update runs an activity), then executes a child
// workflow, then continues as new once; the second run returns everything collected. The test
// sends the signals and updates one at a time per workflow (the last message is always a signal,
// so a workflow cannot move past its messages before the client is done with them) and kills the
// server while they are in flight, and once more while the children run.
//
// Guarantees checked (those of a real Temporal server):
//   * a signal whose SignalWorkflowExecution call resolved is delivered to the workflow exactly
//     once, and per workflow in the order it was sent. The SDK retries a call that hit the outage
//     with the same request id (server-side dedupe). When a call fails anyway, this test re-sends the
//     signal with a new payload ({seq, attempt+1}); the failed attempt may or may not have been
//     applied (at most once), so every seq arrives at least once and nothing out of order;
//   * an update whose executeUpdate resolved ran its handler exactly once (its value is recorded
//     once in the workflow and in history) and the client got the handler's result. A failed update
//     call is retried with the same updateId (the server dedupes by update id);
//   * the child's result reaches the parent; continue-as-new carries the state to the second run;
//     handle.result() of the first run follows the chain to the final result;
//   * a query after a restart answers, and (queries are strongly consistent on a real server)
//     reflects every signal and update acknowledged before it was issued.
// Activity execution is at-least-once and not checked here (see crash.test.js).
//
// Run: node --test tests/crash/messaging-crash.test.js   (env TEMPORALITE_BIN overrides the binary)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { setMaxListeners } = require('node:events');

const grpc = require('@grpc/grpc-js');
const { Connection, Client, WorkflowNotFoundError } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { Context } = require('@temporalio/activity');

const {
  startServer,
  makeTempDir,
  removeDir,
  installRuntime,
  withTimeout,
  pollUntil,
  eventTypeName,
  eventsOfType,
  uniqueName,
  grpcCode,
} = require('../compat/harness');
const { cleanupsAfterTests, sigkill, restart } = require('./crash-harness');

const NS = 'default';
const WORKFLOWS = 10;
const SIGNALS = 5;
const UPDATES = 2;
// Message order per workflow: S = next signal, U = next update. Ends with a signal (see above).
const PLAN = ['S', 'S', 'U', 'S', 'U', 'S', 'S'];
const TOTAL_MESSAGES = WORKFLOWS * PLAN.length;
// Every wait below is bounded by what is left of this. A run takes about 8 s; on a machine at load
// 10-13 the set-up alone took 19 s of an earlier 50 s budget and the test failed with nothing wrong.
const TEST_BUDGET_MS = 110000;
const WORKFLOW_TASK_TIMEOUT = '3s';

// ---- activities (run in this process) ---------------------------------------------------------

const childWorkStarted = new Set(); // workflow ids whose child activity started
let childWorkRunning = 0; // child activities running now
const finalizeStarted = new Set(); // workflow ids whose second run's activity started

const activities = {
  async msgCrashEcho(value) {
    await Context.current().sleep(50);
    return value;
  },
  async msgCrashChildWork(id) {
    childWorkStarted.add(id);
    childWorkRunning += 1;
    try {
      await Context.current().sleep(300);
    } finally {
      childWorkRunning -= 1;
    }
    return `work:${id}`;
  },
  async msgCrashFinalize(id) {
    finalizeStarted.add(id);
    return `final:${id}`;
  },
};

// ---- helpers ----------------------------------------------------------------------------------

const { WorkflowTaskFailedCause } = require('@temporalio/proto').temporal.api.enums.v1;
// Workflow task failures a real server may record without anything being wrong. After a crash a
// real server that lost an in-flight update from memory may fail the task carrying its acceptance
// with BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE ("update ... wasn't found on the server ... transient");
// the worker then replays and the client's retry re-delivers the update.
const BENIGN_TASK_FAILURES = new Set([
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE,
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE,
]);

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

function describeErr(err) {
  let s = `${err && err.name}: ${err && err.message}`;
  let c = err && err.cause;
  for (let depth = 0; c && depth < 5; depth++, c = c.cause) s += ` <- ${c.name || 'Error'}: ${c.message}`;
  return s;
}

/** Errors a client call may fail with while the server is down or restarting. */
function isOutageError(err) {
  const code = grpcCode(err);
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED;
}

const key = (item) => `${item.seq}.${item.attempt}`;

function decodePayload(payload) {
  return JSON.parse(Buffer.from(payload.data).toString('utf8'));
}

/** One line per event: "<id> <TYPE> [detail]" (signal payloads, update ids, child ids). */
function historyExcerpt(history) {
  const lines = (history.events ?? []).map((ev) => {
    const name = eventTypeName(ev);
    let detail = '';
    try {
      if (name === 'WORKFLOW_EXECUTION_SIGNALED') {
        const a = ev.workflowExecutionSignaledEventAttributes;
        detail = `${a.signalName} ${JSON.stringify(decodePayload(a.input.payloads[0]))}`;
      } else if (name === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED') {
        const a = ev.workflowExecutionUpdateAcceptedEventAttributes;
        detail = `${a.acceptedRequest.meta.updateId} (request sequencing event ${a.acceptedRequestSequencingEventId})`;
      } else if (name === 'WORKFLOW_EXECUTION_UPDATE_COMPLETED') {
        const a = ev.workflowExecutionUpdateCompletedEventAttributes;
        detail = `${a.meta.updateId} (accepted event ${a.acceptedEventId})`;
      } else if (name === 'ACTIVITY_TASK_SCHEDULED') {
        const a = ev.activityTaskScheduledEventAttributes;
        detail = `${a.activityType.name} (workflow task completed event ${a.workflowTaskCompletedEventId})`;
      } else if (name === 'START_CHILD_WORKFLOW_EXECUTION_INITIATED') {
        detail = ev.startChildWorkflowExecutionInitiatedEventAttributes.workflowId;
      } else if (name === 'WORKFLOW_TASK_FAILED') {
        const a = ev.workflowTaskFailedEventAttributes;
        detail = `${WorkflowTaskFailedCause[a.cause] ?? a.cause} ${a.failure ? a.failure.message : ''}`;
      }
    } catch {
      detail = '(undecodable)';
    }
    return `    ${ev.eventId} ${name}${detail ? ` ${detail}` : ''}`;
  });
  if (lines.length > 45) lines.splice(36, lines.length - 42, `    ... (${lines.length - 42} events)`);
  return lines.join('\n');
}

/**
 * Keeps one worker running on `taskQueue`; if the worker dies (its connection not surviving a
 * restart) a new one is created and the failure recorded (same as crash.test.js).
 */
class WorkerSupervisor {
  constructor(createWorker) {
    this.createWorker = createWorker;
    this.failures = [];
    this.workersCreated = 0;
    this.stopping = false;
    this.worker = undefined;
    this.done = undefined;
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

// ---- the test ---------------------------------------------------------------------------------

test('acknowledged signals, updates, children and continue-as-new survive SIGKILL', { timeout: TEST_BUDGET_MS + 10000 }, async (t) => {
  const t0 = Date.now();
  const left = (reserve = 0) => Math.max(1000, TEST_BUDGET_MS - (Date.now() - t0) - reserve);
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

  installRuntime();
  const dataDir = makeTempDir('temporalite-msgcrash-');
  cleanups.push(() => removeDir(dataDir));

  const bundling = bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'messaging-workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  bundling.catch(() => {}); // awaited below

  let server = await startServer({ dataDir });
  const port = server.port;
  assert.ok(port > 0, `server port ${port}`);
  cleanups.push(() => server && server.stop('SIGTERM'));

  const connection = await Connection.connect({
    address: server.address,
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
  cleanups.push(() => connection.close());
  // Client calls that never finish (a server bug) are cancelled before the connection closes, and
  // given a bounded time to settle: a call still retrying on a closed channel would throw later.
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per call in flight
  const tracked = new Set();
  const track = (fn) => {
    const p = connection.withAbortSignal(abort.signal, fn);
    tracked.add(p);
    p.then(
      () => tracked.delete(p),
      () => tracked.delete(p),
    );
    return p;
  };
  cleanups.push(async () => {
    if (tracked.size === 0) return;
    abort.abort();
    await withTimeout(Promise.allSettled([...tracked]), 5000, 'cancelled client calls').catch(() => {});
  });
  const client = new Client({ connection, namespace: NS });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  cleanups.push(() => nativeConnection.close());
  const workflowBundle = await bundling;

  const taskQueue = uniqueName('tq-msgcrash');
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

  // ---- start the workflows (before any crash: all must be acknowledged) ----
  const prefix = uniqueName('msgcrash');
  const recs = []; // one record per workflow
  for (let w = 0; w < WORKFLOWS; w++) {
    const id = `${prefix}-${w}`;
    recs.push({
      w,
      id,
      firstRunId: undefined,
      sentSignals: [], // every attempt: {seq, attempt}
      ackedSignals: [], // attempts whose signal() resolved, in order
      sentUpdates: [], // {value, updateId}
      ackedUpdates: [], // {value, updateId, result}
      outageRetries: 0,
      pending: 'not started', // what the driver is doing now (for timeout reports)
      done: false,
    });
  }
  await withTimeout(
    Promise.all(
      recs.map(async (rec) => {
        const handle = await client.workflow.start('msgCrashWorkflow', {
          taskQueue,
          workflowId: rec.id,
          args: [rec.id, SIGNALS, UPDATES],
          workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        });
        rec.firstRunId = handle.firstExecutionRunId;
      }),
    ),
    15000,
    'workflow starts',
  );

  // Everything found wrong, one line each, prefixed with the workflow id; reported at the end.
  const problems = [];
  const problem = (rec, msg) => problems.push(`${rec.id}: ${msg}`);

  // ---- message drivers: one per workflow, one call at a time ----
  const ackedCount = () => recs.reduce((n, r) => n + r.ackedSignals.length + r.ackedUpdates.length, 0);
  const pendingCalls = () => recs.filter((r) => /^(signal|update) /.test(r.pending)).length;

  // A kill can be armed to fire right after a driver issued a call of some kind, so that the crash
  // hits that call in flight (before, during or after the server's commit: the delay varies).
  // If no such call comes within `fallbackMs` (e.g. every driver is done or stuck), the kill
  // happens anyway; the trigger string says which.
  let armed = null;
  function armKill(kind, minAcked, fallbackMs) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        armed = null;
        resolve(`no ${kind} call issued within ${fallbackMs} ms: killed anyway`);
      }, fallbackMs);
      armed = { kind, minAcked, resolve, timer };
    });
  }
  function fireArmedKill(kind) {
    if (armed && armed.kind === kind && ackedCount() >= armed.minAcked) {
      const { resolve, timer } = armed;
      armed = null;
      clearTimeout(timer);
      setTimeout(() => resolve(`${kind === 'update' ? 'an' : 'a'} ${kind} call in flight`), Math.floor(Math.random() * 15));
    }
  }

  async function sendSignal(rec, handle, seq) {
    for (let attempt = 0; ; attempt++) {
      const item = { seq, attempt };
      rec.sentSignals.push(item);
      rec.pending = `signal ${key(item)}`;
      try {
        const call = track(() => handle.signal('item', item));
        fireArmedKill('signal');
        await call;
        rec.ackedSignals.push(item);
        return;
      } catch (err) {
        // The last signal's earlier attempt may have been applied (unacknowledged) and let the
        // run continue as new; the pinned first run is then closed. Accepted here; the result
        // check requires every seq to have arrived.
        if (err instanceof WorkflowNotFoundError && seq === SIGNALS - 1 && attempt > 0) return;
        if (!isOutageError(err)) {
          throw new Error(`${rec.id}: signal ${key(item)} failed with a non-outage error: ${describeErr(err)}`);
        }
        rec.outageRetries += 1;
        await sleepMs(200);
      }
    }
  }

  async function sendUpdate(rec, handle, n) {
    const value = `u${n}`;
    const updateId = `${rec.id}-update-${n}`;
    rec.sentUpdates.push({ value, updateId });
    for (let attempt = 0; ; attempt++) {
      rec.pending = `update ${updateId} attempt ${attempt}`;
      try {
        const call = track(() => handle.executeUpdate('record', { args: [value], updateId }));
        fireArmedKill('update');
        const result = await call;
        rec.ackedUpdates.push({ value, updateId, result });
        return;
      } catch (err) {
        if (!isOutageError(err)) {
          throw new Error(`${rec.id}: update ${updateId} failed with a non-outage error: ${describeErr(err)}`);
        }
        rec.outageRetries += 1;
        await sleepMs(200);
      }
    }
  }

  /** Sends PLAN to one workflow. Never rejects: a failed call ends the driver and is a problem. */
  async function drive(rec) {
    // Signals and updates go to the first run: they all precede its continue-as-new.
    const handle = client.workflow.getHandle(rec.id, rec.firstRunId);
    let s = 0;
    let u = 0;
    try {
      for (let i = 0; i < PLAN.length; i++) {
        rec.pending = 'pause';
        await sleepMs(250 + ((rec.w * 53 + i * 97) % 250)); // 250..500 ms, staggered
        if (PLAN[i] === 'S') await sendSignal(rec, handle, s++);
        else await sendUpdate(rec, handle, u++);
      }
      rec.pending = 'done';
      rec.done = true;
    } catch (err) {
      rec.pending = `failed: ${err.message}`;
      if (!abort.signal.aborted) problems.push(err.message);
    }
  }

  const driving = Promise.all(recs.map(drive));

  const serverLogs = []; // stderr of the servers killed so far (warnings are reported on failure)
  async function killAndRestart(k, trigger) {
    const info =
      `kill #${k} at ${since()} (${trigger}): ${ackedCount()}/${TOTAL_MESSAGES} messages acknowledged, ` +
      `${pendingCalls()} calls in flight, ${recs.filter((r) => r.done).length} drivers done, ` +
      `${childWorkStarted.size} child activities started, ${finalizeStarted.size} second runs reached`;
    t.diagnostic(info);
    await sigkill(server, `kill #${k}`);
    serverLogs.push(server.stderr());
    await sleepMs(300); // a short outage: calls issued now fail and are retried
    server = await restart(server);
    t.diagnostic(`  restarted at ${since()}`);
  }

  /** Bounded wait for `cond`. */
  async function waitUntil(cond, what, ms) {
    await pollUntil(cond, { timeoutMs: ms, intervalMs: 20, what }).catch((e) => {
      e.message +=
        `\n  ${ackedCount()}/${TOTAL_MESSAGES} messages acknowledged; per workflow:` +
        recs
          .map((r) => `\n    ${r.id}: ${r.ackedSignals.length} signals + ${r.ackedUpdates.length} updates, now: ${r.pending}`)
          .join('');
      throw e;
    });
  }

  // Kill #1: right after an update call was issued, once a fifth of the messages were acknowledged.
  let fired = null;
  armKill('update', Math.ceil(TOTAL_MESSAGES * 0.2), 10000).then((why) => {
    fired = why;
  });
  await waitUntil(() => fired, 'kill #1 trigger', left(30000));
  await killAndRestart(1, fired);

  // ---- query every workflow once after the restart ----
  // Queries that take longer than 1 s do not hold back the next kill; one that hits the next outage
  // is re-sent after it (outage errors only).
  const querying = Promise.all(
    recs.map(async (rec) => {
      // What was acknowledged before the query was issued must be visible in its answer.
      const ackedSignalsBefore = rec.ackedSignals.slice();
      const ackedUpdatesBefore = rec.ackedUpdates.map((u) => u.value);
      const handle = client.workflow.getHandle(rec.id); // latest run
      let state;
      const deadline = Date.now() + 15000;
      for (;;) {
        try {
          state = await connection.withDeadline(Date.now() + 5000, () => handle.query('state'));
          break;
        } catch (err) {
          if (!isOutageError(err) || Date.now() > deadline) {
            problem(rec, `query after restart failed: ${describeErr(err)}`);
            return;
          }
          await sleepMs(200);
        }
      }
      const seen = new Set();
      for (const item of state.signals ?? []) {
        if (seen.has(key(item))) problem(rec, `query shows signal ${key(item)} twice`);
        seen.add(key(item));
        if (!rec.sentSignals.some((x) => key(x) === key(item))) problem(rec, `query shows unsent signal ${key(item)}`);
      }
      for (const item of ackedSignalsBefore) {
        if (!seen.has(key(item))) problem(rec, `query misses acknowledged signal ${key(item)} (state ${JSON.stringify(state)})`);
      }
      for (const v of ackedUpdatesBefore) {
        if (!(state.updates ?? []).includes(v)) problem(rec, `query misses acknowledged update ${v} (state ${JSON.stringify(state)})`);
      }
    }),
  ).then(() => t.diagnostic(`queried ${WORKFLOWS} workflows after restart #1 (done at ${since()})`));
  await Promise.race([querying, sleepMs(1000)]);

  // Kill #2: right after a signal call was issued, once 40% of the messages were acknowledged.
  fired = null;
  armKill('signal', Math.ceil(TOTAL_MESSAGES * 0.4), 5000).then((why) => {
    fired = why;
  });
  await waitUntil(() => fired, 'kill #2 trigger', left(25000));
  await killAndRestart(2, fired);

  // Kill #3: while a child workflow's activity runs.
  const armed3 = Date.now();
  await waitUntil(() => childWorkRunning > 0 || Date.now() - armed3 > 5000, 'kill #3 trigger', left(20000));
  await killAndRestart(3, childWorkRunning > 0 ? 'a child activity running' : 'no child activity running within 5 s: killed anyway');
  await withTimeout(querying, left(30000), 'queries after restart #1');

  const drivenOk = await withTimeout(driving, left(22000), 'message drivers').then(
    () => true,
    (e) => {
      problems.push(`message drivers: ${e.message}`);
      for (const rec of recs) if (!rec.done) problem(rec, `driver stuck at: ${rec.pending}`);
      return false;
    },
  );
  t.diagnostic(
    `${ackedCount()}/${TOTAL_MESSAGES} messages acknowledged at ${since()}` +
      `${!drivenOk ? ' (drivers stuck)' : recs.some((r) => !r.done) ? ' (drivers failed)' : ''}`,
  );

  // ---- results: handle.result() with the first run id follows the continue-as-new chain ----
  const resultsMs = left(10000);
  const settled = await Promise.allSettled(
    recs.map((rec) =>
      withTimeout(track(() => client.workflow.getHandle(rec.id, rec.firstRunId).result()), resultsMs, `result of ${rec.id}`),
    ),
  );
  t.diagnostic(`results settled at ${since()}`);
  for (let i = 0; i < recs.length; i++) {
    const rec = recs[i];
    const r = settled[i];
    const p = (msg) => problems.push(`${rec.id}: ${msg}`);
    if (r.status !== 'fulfilled') {
      p(`result() failed: ${describeErr(r.reason)}`);
      continue;
    }
    const res = r.value;
    // Chain.
    if (res.firstRunId !== rec.firstRunId) p(`carried firstRunId ${res.firstRunId}, expected ${rec.firstRunId}`);
    if (res.continuedFromExecutionRunId !== rec.firstRunId) {
      p(`second run continued from ${res.continuedFromExecutionRunId}, expected ${rec.firstRunId}`);
    }
    if (res.firstExecutionRunId !== rec.firstRunId) {
      p(`second run's firstExecutionRunId ${res.firstExecutionRunId}, expected ${rec.firstRunId}`);
    }
    if (!res.secondRunId || res.secondRunId === rec.firstRunId) p(`second run id ${res.secondRunId}`);
    if (res.finalized !== `final:${rec.id}`) p(`second run's activity result ${JSON.stringify(res.finalized)}`);
    // Child.
    if (res.child !== `child:work:${rec.id}`) p(`child result ${JSON.stringify(res.child)}, expected "child:work:${rec.id}"`);
    // Signals.
    const got = res.signals ?? [];
    const counts = new Map();
    for (const item of got) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
    for (const item of rec.ackedSignals) {
      const n = counts.get(key(item)) ?? 0;
      if (n === 0) p(`acknowledged signal ${key(item)} (seq.attempt) LOST`);
      if (n > 1) p(`acknowledged signal ${key(item)} (seq.attempt) delivered ${n} times`);
    }
    for (const [k, n] of counts) {
      if (!rec.sentSignals.some((x) => key(x) === k)) p(`signal ${k} delivered but never sent`);
      else if (n > 1 && !rec.ackedSignals.some((x) => key(x) === k)) p(`unacknowledged signal attempt ${k} delivered ${n} times`);
    }
    const gotAcked = got.filter((item) => rec.ackedSignals.some((x) => key(x) === key(item))).map(key);
    if (JSON.stringify(gotAcked) !== JSON.stringify(rec.ackedSignals.map(key))) {
      p(`acknowledged signals out of send order: workflow saw [${gotAcked}], sent/acknowledged [${rec.ackedSignals.map(key)}]`);
    }
    for (let j = 1; j < got.length; j++) {
      const a = got[j - 1];
      const b = got[j];
      if (b.seq < a.seq || (b.seq === a.seq && b.attempt <= a.attempt)) {
        p(`signals out of send order: ${key(a)} before ${key(b)} (workflow saw [${got.map(key)}])`);
        break;
      }
    }
    const seqs = new Set(got.map((x) => x.seq));
    for (let s = 0; s < SIGNALS; s++) if (!seqs.has(s)) p(`no attempt of signal seq ${s} arrived`);
    // Updates.
    const updates = res.updates ?? [];
    for (const u of rec.ackedUpdates) {
      const n = updates.filter((v) => v === u.value).length;
      if (n !== 1) p(`acknowledged update ${u.updateId} (value ${u.value}) recorded ${n} times`);
      if (u.result !== `recorded:${u.value}`) p(`update ${u.updateId} returned ${JSON.stringify(u.result)}`);
    }
    for (const v of updates) {
      if (!rec.sentUpdates.some((u) => u.value === v)) p(`update value ${v} recorded but never sent`);
    }
    if (rec.ackedUpdates.length !== UPDATES) p(`${rec.ackedUpdates.length}/${UPDATES} updates acknowledged`);
  }

  // ---- histories: exactly-once events for acknowledged items, chain shape ----
  for (const rec of recs) {
    const p = (msg) => problems.push(`${rec.id}: ${msg}`);
    let h1;
    try {
      h1 = await client.workflow.getHandle(rec.id, rec.firstRunId).fetchHistory();
    } catch (err) {
      p(`fetchHistory of the first run failed: ${describeErr(err)}`);
      continue;
    }
    const signaled = eventsOfType(h1, 'WORKFLOW_EXECUTION_SIGNALED').map((ev) =>
      key(decodePayload(ev.workflowExecutionSignaledEventAttributes.input.payloads[0])),
    );
    for (const item of rec.ackedSignals) {
      const n = signaled.filter((k) => k === key(item)).length;
      if (n !== 1) p(`history of the first run has ${n} WorkflowExecutionSignaled events for acknowledged signal ${key(item)}`);
    }
    const accepted = eventsOfType(h1, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').map(
      (ev) => ev.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.meta.updateId,
    );
    const completed = eventsOfType(h1, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').map(
      (ev) => ev.workflowExecutionUpdateCompletedEventAttributes.meta.updateId,
    );
    for (const u of rec.ackedUpdates) {
      const na = accepted.filter((x) => x === u.updateId).length;
      const nc = completed.filter((x) => x === u.updateId).length;
      if (na !== 1 || nc !== 1) p(`history of the first run: update ${u.updateId} accepted ${na}x, completed ${nc}x (expected 1/1)`);
    }
    // Every update accepted in history completes before the run moves on, and each update-handler
    // activity (msgCrashEcho) is preceded by the acceptance of its update.
    for (const id of new Set(accepted)) {
      if (!completed.includes(id)) p(`history of the first run: update ${id} accepted but never completed`);
    }
    let acceptedSoFar = 0;
    let echoSoFar = 0;
    for (const ev of h1.events ?? []) {
      const name = eventTypeName(ev);
      if (name === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED') acceptedSoFar += 1;
      if (name === 'ACTIVITY_TASK_SCHEDULED' && ev.activityTaskScheduledEventAttributes.activityType.name === 'msgCrashEcho') {
        echoSoFar += 1;
        if (echoSoFar > acceptedSoFar) {
          p(
            `history of the first run: event ${ev.eventId} schedules update-handler activity #${echoSoFar} ` +
              `but only ${acceptedSoFar} WorkflowExecutionUpdateAccepted event(s) precede it`,
          );
        }
      }
    }
    for (const type of [
      'START_CHILD_WORKFLOW_EXECUTION_INITIATED',
      'CHILD_WORKFLOW_EXECUTION_STARTED',
      'CHILD_WORKFLOW_EXECUTION_COMPLETED',
    ]) {
      const n = eventsOfType(h1, type).length;
      if (n !== 1) p(`history of the first run has ${n} ${type} events`);
    }
    const names1 = (h1.events ?? []).map(eventTypeName);
    if (names1[names1.length - 1] !== 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW') p(`first run ends with ${names1[names1.length - 1]}`);
    const failedTasks = eventsOfType(h1, 'WORKFLOW_TASK_FAILED').filter(
      (ev) => !BENIGN_TASK_FAILURES.has(ev.workflowTaskFailedEventAttributes.cause),
    );
    for (const ev of failedTasks) {
      const a = ev.workflowTaskFailedEventAttributes;
      const cause = WorkflowTaskFailedCause[a.cause] ?? a.cause;
      p(`first run event ${ev.eventId} WorkflowTaskFailed (${cause}): ${a.failure ? a.failure.message : ''}`);
    }
    // Second run and child.
    try {
      const latest = await client.workflow.getHandle(rec.id).describe();
      const h2 = await client.workflow.getHandle(rec.id, latest.runId).fetchHistory();
      const names2 = (h2.events ?? []).map(eventTypeName);
      if (latest.runId === rec.firstRunId) {
        p('no second run');
      } else if (
        names2[names2.length - 1] !== 'WORKFLOW_EXECUTION_COMPLETED' ||
        eventsOfType(h2, 'WORKFLOW_EXECUTION_COMPLETED').length !== 1
      ) {
        p(`second run history: ${names2.join(',')}`);
      }
      const child = await client.workflow.getHandle(`${rec.id}-child`).describe();
      if (child.status.name !== 'COMPLETED') p(`child ${rec.id}-child is ${child.status.name}`);
    } catch (err) {
      p(`second run / child check failed: ${describeErr(err)}`);
    }
  }

  const signalRetries = recs.reduce((n, r) => n + r.sentSignals.length - r.ackedSignals.length, 0);
  t.diagnostic(
    `acknowledged: ${recs.reduce((n, r) => n + r.ackedSignals.length, 0)} signals, ` +
      `${recs.reduce((n, r) => n + r.ackedUpdates.length, 0)} updates; ` +
      `client calls retried after an outage error: ${recs.reduce((n, r) => n + r.outageRetries, 0)} ` +
      `(unacknowledged signal attempts: ${signalRetries})`,
  );
  t.diagnostic(
    `workers created: ${supervisor.workersCreated}; worker failures: ${supervisor.failures.length}` +
      supervisor.failures.map((e) => `\n  ${e && e.message}`).join(''),
  );
  t.diagnostic(`finished checks at ${since()}`);
  // History excerpts of the first run of (at most 3) workflows with problems.
  const badIds = [...new Set(problems.map((m) => m.split(':')[0]))].filter((id) => recs.some((r) => r.id === id));
  let excerpts = '';
  for (const id of badIds.slice(0, 3)) {
    const rec = recs.find((r) => r.id === id);
    const h = await client.workflow.getHandle(id, rec.firstRunId).fetchHistory().catch(() => null);
    if (h) excerpts += `\n  first-run history of ${id} (run ${rec.firstRunId}):\n${historyExcerpt(h)}`;
    excerpts += `\n  client side: acknowledged signals [${rec.ackedSignals.map(key)}], sent [${rec.sentSignals.map(key)}], ` +
      `acknowledged updates [${rec.ackedUpdates.map((u) => u.updateId)}]`;
  }
  // The server's warnings (an update rejected as unprocessed, a task failed, ...) explain most failures.
  const warnings = [...serverLogs, server.stderr()]
    .flatMap((log) => log.split('\n'))
    .filter((line) => /warn|error/i.test(line))
    .slice(-40);
  if (problems.length > 0 && warnings.length > 0) excerpts += `\n  server warnings:\n    ${warnings.join('\n    ')}`;
  assert.deepEqual(problems, [], `lost / duplicated / misordered acknowledged items:\n  ${problems.join('\n  ')}${excerpts}`);
});
