'use strict';
// Shared scaffolding of the compatibility test files (core, chains, children, messaging): one
// temporalite server per test file, an SDK client and native connection, the workflow bundle,
// workers run per test, plus helpers several files use.
//
//   const suite = setupSuite({ activities });   // registers the node:test before/after hooks
//   suite.client, suite.connection, ...         // valid once the before hook has run
//   await suite.withWorker(taskQueue, () => ...);

const nodeTest = require('node:test');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { WorkflowTaskFailedCause } = require('@temporalio/proto').temporal.api.enums.v1;

const { startServer, installRuntime, withTimeout, pollUntil, eventsOfType } = require('./harness');

const TEST_TIMEOUT = 30000;
const NS = 'default';

/**
 * Registers before/after hooks that start a server (and bundle the workflows) for the whole file
 * and stop it, and any worker still running, afterwards. `activities`, if given, are registered
 * with every worker this suite creates.
 */
function setupSuite({ activities, serverOptions } = {}) {
  let server;
  let connection;
  let client;
  let nativeConnection;
  let workflowBundle;
  const liveWorkers = new Set();

  nodeTest.before(
    async () => {
      installRuntime();
      // Bundle once per process (it takes seconds) while the server starts.
      const bundling = bundleWorkflowCode({
        workflowsPath: path.join(__dirname, 'workflows', 'index.js'),
        logger: new DefaultLogger('WARN'),
      });
      bundling.catch(() => {}); // awaited below; don't report it as unhandled if startServer throws first
      server = await startServer(serverOptions);
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection, namespace: NS });
      nativeConnection = await NativeConnection.connect({ address: server.address });
      workflowBundle = await bundling;
    },
    { timeout: 90000 },
  );

  nodeTest.after(
    async () => {
      for (const w of liveWorkers) {
        try {
          if (w.getState() === 'RUNNING') w.shutdown();
        } catch {
          // already stopping
        }
      }
      for (const w of liveWorkers) {
        await pollUntil(() => ['STOPPED', 'FAILED'].includes(w.getState()), {
          timeoutMs: 15000,
          what: 'worker stopped',
        }).catch(() => {});
      }
      if (nativeConnection) await nativeConnection.close().catch(() => {});
      if (connection) await connection.close().catch(() => {});
      if (server) {
        const res = await server.stop('SIGTERM');
        if (res && res.escalated) console.error('temporalite did not stop on SIGTERM within 10 s; it was killed');
      }
    },
    { timeout: 60000 },
  );

  /** Creates (does not run) a worker on `taskQueue`; the caller adds it to liveWorkers. */
  function createWorker(taskQueue, extra = {}) {
    return Worker.create({
      connection: nativeConnection,
      namespace: NS,
      taskQueue,
      workflowBundle,
      ...(activities ? { activities } : {}),
      shutdownGraceTime: '1s',
      ...extra,
    });
  }

  /** Runs a fresh worker on `taskQueue` while `fn` runs; the worker is shut down afterwards. */
  async function withWorker(taskQueue, fn, extra = {}) {
    const worker = await createWorker(taskQueue, extra);
    liveWorkers.add(worker);
    try {
      return await worker.runUntil(fn);
    } finally {
      if (['STOPPED', 'FAILED'].includes(worker.getState())) liveWorkers.delete(worker);
    }
  }

  /** Terminates the latest run of every id, ignoring errors (cleanup; a closed workflow is fine). */
  async function terminateQuietly(...workflowIds) {
    for (const id of workflowIds) {
      await client.workflow
        .getHandle(id)
        .terminate('compat test cleanup')
        .catch(() => {});
    }
  }

  return {
    get server() {
      return server;
    },
    get connection() {
      return connection;
    },
    get client() {
      return client;
    },
    get nativeConnection() {
      return nativeConnection;
    },
    get workflowBundle() {
      return workflowBundle;
    },
    liveWorkers,
    createWorker,
    withWorker,
    terminateQuietly,
  };
}

// Workflow task failures a real server may record for these workflows without anything being wrong.
const BENIGN_TASK_FAILURES = new Set([
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, // new event raced a completion
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE,
  WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW, // the first event of a reset run
]);

/** The first non-benign WorkflowTaskFailed event of `history`, described, or null. */
function taskFailure(history) {
  const ev = eventsOfType(history, 'WORKFLOW_TASK_FAILED').find(
    (e) => !BENIGN_TASK_FAILURES.has(e.workflowTaskFailedEventAttributes.cause),
  );
  if (!ev) return null;
  const a = ev.workflowTaskFailedEventAttributes;
  const cause = String(WorkflowTaskFailedCause[a.cause] ?? a.cause).replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '');
  return `workflow task failed (${cause}): ${a.failure ? a.failure.message : '(no failure)'}`;
}

/**
 * handle.result(), bounded well below the test timeout (a hang fails the test and its worker is
 * shut down). Also fails early when the history records a WorkflowTaskFailed: none of these
 * workflows fails a workflow task on a real server, so a failed task means the server rejected a
 * command, and its message says why.
 */
async function resultWithin(handle, ms = 15000) {
  let done = false;
  const watcher = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 250));
      if (done) return;
      const history = await handle.fetchHistory().catch(() => null);
      const failure = history && taskFailure(history);
      if (failure && !done) throw new Error(`${handle.workflowId}: ${failure}`);
    }
  })();
  watcher.catch(() => {}); // observed through the race below
  try {
    return await withTimeout(Promise.race([handle.result(), watcher]), ms, `result of ${handle.workflowId}`);
  } finally {
    done = true;
  }
}

/** " <- Name: message" for each cause of `err` (node:test and err.stack do not show `cause`). */
function causeChain(err) {
  let s = '';
  let c = err && err.cause;
  for (let depth = 0; c && depth < 5; depth++, c = c.cause) s += ` <- ${c.name || 'Error'}: ${c.message}`;
  return s;
}

function describeErr(err) {
  return `${err && err.stack ? err.stack : err}${causeChain(err)}`;
}

/** node:test `test`, but a failing test's error message also names its causes (gRPC status etc.). */
function test(name, opts, fn) {
  return nodeTest.test(name, opts, async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      const extra = causeChain(e);
      if (extra && e instanceof Error && !e.message.includes(extra)) {
        try {
          e.message += ` [cause${extra}]`;
        } catch {
          // read-only message: leave it
        }
      }
      throw e;
    }
  });
}

function statusName(desc) {
  return desc.status && desc.status.name;
}

/** Waits (bounded) until the workflow's history contains an event of type `type`. */
async function waitForEvent(handle, type, timeoutMs = 10000) {
  return pollUntil(async () => eventsOfType(await handle.fetchHistory(), type).length > 0, {
    timeoutMs,
    intervalMs: 100,
    what: `history event ${type}`,
  });
}

module.exports = {
  TEST_TIMEOUT,
  NS,
  setupSuite,
  BENIGN_TASK_FAILURES,
  taskFailure,
  resultWithin,
  causeChain,
  describeErr,
  test,
  statusName,
  waitForEvent,
};
