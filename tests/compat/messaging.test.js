'use strict';
// Compatibility suite: signals, signal-with-start, queries and updates with the official Temporal
// TypeScript SDK (1.24.0) against temporalite. Expectations follow a real Temporal server, not
// whatever temporalite happens to do today.
//
// One server for the whole file; each test uses its own task queue and workflow ids.
// Run: node --test tests/compat/messaging.test.js   (env TEMPORALITE_BIN overrides the binary)

const assert = require('node:assert/strict');

const {
  ApplicationFailure,
  QueryNotRegisteredError,
  WorkflowUpdateFailedError,
  WithStartWorkflowOperation,
} = require('@temporalio/client');
const { Context } = require('@temporalio/activity');

const { withTimeout, eventsOfType, eventTypeNames, uniqueName } = require('./harness');
const { TEST_TIMEOUT, setupSuite, resultWithin, describeErr, test, statusName, waitForEvent } = require('./suite');

const RPC_TIMEOUT = 10000; // bound on a single query / update call

// ---- activities (run in this process) ---------------------------------------------------------

/** key -> resolve functions waiting for msgSlowActivity(key) to start */
const activityStartWaiters = new Map();

function onActivityStart(key) {
  return new Promise((resolve) => {
    if (!activityStartWaiters.has(key)) activityStartWaiters.set(key, []);
    activityStartWaiters.get(key).push(resolve);
  });
}

const activities = {
  /** Sleeps `ms` (cancellable, so worker shutdown is quick); announces that it started. */
  async msgSlowActivity(key, ms) {
    for (const resolve of activityStartWaiters.get(key) ?? []) resolve();
    await Context.current().sleep(ms);
    return 'slow-done';
  },
  async msgEchoActivity(value) {
    return value;
  },
};

// ---- server / worker lifecycle ----------------------------------------------------------------

const suite = setupSuite({ activities });
const { withWorker } = suite;

/** Decodes the first (JSON) payload of a signal event. */
function signalValue(ev) {
  const payload = ev.workflowExecutionSignaledEventAttributes.input.payloads[0];
  return JSON.parse(Buffer.from(payload.data).toString('utf8'));
}

async function terminateQuietly(handle) {
  await handle.terminate('compat test cleanup').catch(() => {});
}

// ---- signals ----------------------------------------------------------------------------------

test('signalWithStart starts a new workflow, then signals the running one', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-sws');
  const workflowId = uniqueName('wf-sws');
  // No worker yet: the first workflow task must carry both the start and the signal.
  const first = await suite.client.workflow.signalWithStart('msgSignalCollectorWorkflow', {
    taskQueue,
    workflowId,
    args: [2],
    signal: 'item',
    signalArgs: ['a'],
  });
  try {
    assert.ok(first.signaledRunId, 'signaledRunId returned');
    const second = await suite.client.workflow.signalWithStart('msgSignalCollectorWorkflow', {
      taskQueue,
      workflowId,
      args: [2],
      signal: 'item',
      signalArgs: ['b'],
    });
    assert.equal(second.signaledRunId, first.signaledRunId, 'the running workflow was signalled, not restarted');

    const result = await withWorker(taskQueue, () => resultWithin(first));
    // The signal delivered with the start is visible as soon as the handler is registered,
    // before the workflow's first await.
    assert.deepEqual(result.seenBeforeFirstAwait, ['a', 'b']);
    assert.deepEqual(result.items, ['a', 'b']);
  } finally {
    await terminateQuietly(first);
  }
  const history = await first.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_STARTED').length, 1, `history: ${names}`);
  const signaled = eventsOfType(history, 'WORKFLOW_EXECUTION_SIGNALED');
  assert.deepEqual(signaled.map(signalValue), ['a', 'b'], `history: ${names}`);
  // Signal-with-start writes the signal right after the started event, before the first task.
  assert.equal(names[1], 'WORKFLOW_EXECUTION_SIGNALED', `history: ${names}`);
  const desc = await suite.client.workflow.getHandle(workflowId).describe();
  assert.equal(desc.runId, first.signaledRunId);
  assert.equal(statusName(desc), 'COMPLETED');
});

test('signalWithStart on a running workflow is seen by its handler', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-sws2');
  const workflowId = uniqueName('wf-sws2');
  const handle = await suite.client.workflow.start('msgSignalCollectorWorkflow', { taskQueue, workflowId, args: [1] });
  try {
    const result = await withWorker(taskQueue, async () => {
      await waitForEvent(handle, 'WORKFLOW_TASK_COMPLETED'); // the workflow is now waiting
      const sws = await suite.client.workflow.signalWithStart('msgSignalCollectorWorkflow', {
        taskQueue,
        workflowId,
        args: [1],
        signal: 'item',
        signalArgs: ['late'],
      });
      assert.equal(sws.signaledRunId, handle.firstExecutionRunId);
      return resultWithin(handle);
    });
    assert.deepEqual(result, { seenBeforeFirstAwait: [], items: ['late'] });
  } finally {
    await terminateQuietly(handle);
  }
});

test('a signal sent before the first workflow task is seen by the handler', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-early-signal');
  const workflowId = uniqueName('wf-early-signal');
  const handle = await suite.client.workflow.start('msgSignalCollectorWorkflow', { taskQueue, workflowId, args: [1] });
  try {
    await handle.signal('item', 'early');
    // The worker starts only now: the first workflow task contains the signal.
    const result = await withWorker(taskQueue, () => resultWithin(handle));
    assert.deepEqual(result, { seenBeforeFirstAwait: ['early'], items: ['early'] });
  } finally {
    await terminateQuietly(handle);
  }
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  // Started, WorkflowTaskScheduled, Signaled, WorkflowTaskStarted, ...: one workflow task did it all.
  assert.equal(eventsOfType(history, 'WORKFLOW_TASK_COMPLETED').length, 1, `history: ${names}`);
  assert.ok(names.indexOf('WORKFLOW_EXECUTION_SIGNALED') < names.indexOf('WORKFLOW_TASK_STARTED'), `history: ${names}`);
});

test('50 concurrent signals are all delivered, in history order', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-50-signals');
  const workflowId = uniqueName('wf-50-signals');
  const N = 50;
  const handle = await suite.client.workflow.start('msgSignalCollectorWorkflow', { taskQueue, workflowId, args: [N] });
  try {
    const result = await withWorker(taskQueue, async () => {
      await waitForEvent(handle, 'WORKFLOW_TASK_COMPLETED');
      await Promise.all(Array.from({ length: N }, (_, i) => handle.signal('item', i)));
      return resultWithin(handle);
    });
    assert.equal(result.items.length, N);
    assert.deepEqual(
      [...result.items].sort((a, b) => a - b),
      Array.from({ length: N }, (_, i) => i),
      'every signal delivered exactly once',
    );
    // Concurrent sends have no client-side order; the order the server recorded them in history
    // is the order the workflow must have seen them in.
    const history = await handle.fetchHistory();
    const recorded = eventsOfType(history, 'WORKFLOW_EXECUTION_SIGNALED').map(signalValue);
    assert.deepEqual(result.items, recorded);
  } finally {
    await terminateQuietly(handle);
  }
});

test('sequential signals arrive in the order they were sent', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-seq-signals');
  const workflowId = uniqueName('wf-seq-signals');
  const N = 20;
  const handle = await suite.client.workflow.start('msgSignalCollectorWorkflow', { taskQueue, workflowId, args: [N] });
  try {
    const result = await withWorker(taskQueue, async () => {
      for (let i = 0; i < N; i++) await handle.signal('item', i);
      return resultWithin(handle);
    });
    assert.deepEqual(
      result.items,
      Array.from({ length: N }, (_, i) => i),
    );
  } finally {
    await terminateQuietly(handle);
  }
});

// ---- queries ----------------------------------------------------------------------------------

test('query while an activity is running returns the current state', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-query-running');
  const workflowId = uniqueName('wf-query-running');
  const key = workflowId;
  const activityStarted = onActivityStart(key);
  const handle = await suite.client.workflow.start('msgQueryableWorkflow', { taskQueue, workflowId, args: [key, 2000] });
  try {
    const [phase, result] = await withWorker(taskQueue, async () => {
      await withTimeout(activityStarted, 10000, 'msgSlowActivity start');
      const p = await withTimeout(handle.query('phase'), RPC_TIMEOUT, 'query phase');
      return [p, await resultWithin(handle)];
    });
    assert.equal(phase, 'in-activity');
    assert.equal(result, 'done');
  } finally {
    await terminateQuietly(handle);
  }
  // Queries are not recorded in history.
  const names = eventTypeNames(await handle.fetchHistory());
  assert.ok(!names.some((n) => /QUERY/.test(n)), `history: ${names}`);
});

test('query of a completed workflow returns its final state', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-query-done');
  const workflowId = uniqueName('wf-query-done');
  const handle = await suite.client.workflow.start('msgQueryableWorkflow', { taskQueue, workflowId, args: [workflowId, 1] });
  try {
    const phase = await withWorker(taskQueue, async () => {
      assert.equal(await resultWithin(handle), 'done');
      assert.equal(statusName(await handle.describe()), 'COMPLETED');
      // Real Temporal answers a query on a closed workflow by having a worker replay its history.
      return withTimeout(handle.query('phase'), RPC_TIMEOUT, 'query phase');
    });
    assert.equal(phase, 'done');
  } finally {
    await terminateQuietly(handle);
  }
});

test('query of an unregistered query type fails with QueryNotRegisteredError', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-query-unknown');
  const workflowId = uniqueName('wf-query-unknown');
  const key = workflowId;
  const activityStarted = onActivityStart(key);
  const handle = await suite.client.workflow.start('msgQueryableWorkflow', { taskQueue, workflowId, args: [key, 20000] });
  try {
    await withWorker(taskQueue, async () => {
      await withTimeout(activityStarted, 10000, 'msgSlowActivity start');
      // The SDK worker fails the query ("Workflow did not register a handler for ..."); the server
      // answers QueryWorkflow with INVALID_ARGUMENT (QueryFailed), which the client maps to
      // QueryNotRegisteredError.
      await assert.rejects(withTimeout(handle.query('noSuchQuery'), RPC_TIMEOUT, 'query noSuchQuery'), (err) => {
        assert.ok(err instanceof QueryNotRegisteredError, `expected QueryNotRegisteredError, got ${describeErr(err)}`);
        assert.match(err.message, /did not register a handler for noSuchQuery/);
        assert.match(err.message, /phase/, 'the message lists the registered queries');
        return true;
      });
      assert.equal(statusName(await handle.describe()), 'RUNNING', 'a failed query does not affect the workflow');
    });
  } finally {
    await terminateQuietly(handle);
  }
});

test('query handler that throws: the client gets the handler error message', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-query-throws');
  const workflowId = uniqueName('wf-query-throws');
  const key = workflowId;
  const activityStarted = onActivityStart(key);
  const handle = await suite.client.workflow.start('msgQueryableWorkflow', { taskQueue, workflowId, args: [key, 20000] });
  try {
    await withWorker(taskQueue, async () => {
      await withTimeout(activityStarted, 10000, 'msgSlowActivity start');
      // A failed query is QueryFailed (gRPC INVALID_ARGUMENT) on the server, whatever the reason;
      // the TS client raises QueryNotRegisteredError for every INVALID_ARGUMENT query answer.
      await assert.rejects(withTimeout(handle.query('failingQuery'), RPC_TIMEOUT, 'query failingQuery'), (err) => {
        assert.ok(err instanceof QueryNotRegisteredError, `expected QueryNotRegisteredError, got ${describeErr(err)}`);
        assert.match(err.message, /query handler failed on purpose/);
        return true;
      });
      // The workflow is unaffected and still answers other queries.
      assert.equal(await withTimeout(handle.query('phase'), RPC_TIMEOUT, 'query phase'), 'in-activity');
      assert.equal(statusName(await handle.describe()), 'RUNNING');
    });
  } finally {
    await terminateQuietly(handle);
  }
});

test('built-in __stack_trace query returns a string', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-stack');
  const workflowId = uniqueName('wf-stack');
  const key = workflowId;
  const activityStarted = onActivityStart(key);
  const handle = await suite.client.workflow.start('msgQueryableWorkflow', { taskQueue, workflowId, args: [key, 20000] });
  try {
    const trace = await withWorker(taskQueue, async () => {
      await withTimeout(activityStarted, 10000, 'msgSlowActivity start');
      return withTimeout(handle.query('__stack_trace'), RPC_TIMEOUT, 'query __stack_trace');
    });
    // Only the type is checked: the content is produced by the SDK worker (its promise stack
    // tracking), not by the server, which just relays the query and its answer.
    assert.equal(typeof trace, 'string');
  } finally {
    await terminateQuietly(handle);
  }
});

// ---- updates ----------------------------------------------------------------------------------

test('executeUpdate: handler awaits an activity and returns a value', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-update');
  const workflowId = uniqueName('wf-update');
  const handle = await suite.client.workflow.start('msgUpdatableWorkflow', { taskQueue, workflowId });
  try {
    const [value, result] = await withWorker(taskQueue, async () => {
      const v = await withTimeout(
        handle.executeUpdate('addViaActivity', { args: ['x1'] }),
        RPC_TIMEOUT,
        'executeUpdate addViaActivity',
      );
      await handle.signal('finish');
      return [v, await resultWithin(handle)];
    });
    assert.equal(value, 'added:x1');
    assert.deepEqual(result, ['x1']);
  } finally {
    await terminateQuietly(handle);
  }
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'ACTIVITY_TASK_COMPLETED').length, 1, `history: ${names}`);
  const accepted = eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')[0];
  assert.equal(accepted.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.name, 'addViaActivity');
});

test('update with a duplicate updateId returns the first outcome', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-update-dup');
  const workflowId = uniqueName('wf-update-dup');
  const updateId = `${workflowId}-update`;
  const handle = await suite.client.workflow.start('msgUpdatableWorkflow', { taskQueue, workflowId });
  try {
    const [firstValue, secondValue, result] = await withWorker(taskQueue, async () => {
      const first = await withTimeout(
        handle.executeUpdate('addViaActivity', { args: ['first'], updateId }),
        RPC_TIMEOUT,
        'first executeUpdate',
      );
      // Same update id, different argument: the server deduplicates by id and returns the
      // outcome of the completed update without running the handler again.
      const second = await withTimeout(
        handle.executeUpdate('addViaActivity', { args: ['second'], updateId }),
        RPC_TIMEOUT,
        'second executeUpdate',
      );
      await handle.signal('finish');
      return [first, second, await resultWithin(handle)];
    });
    assert.equal(firstValue, 'added:first');
    assert.equal(secondValue, 'added:first');
    assert.deepEqual(result, ['first'], 'the handler ran once');
  } finally {
    await terminateQuietly(handle);
  }
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').length, 1, `history: ${names}`);
});

test('update rejected by its validator: WorkflowUpdateFailedError, nothing in history', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-update-reject');
  const workflowId = uniqueName('wf-update-reject');
  const handle = await suite.client.workflow.start('msgUpdatableWorkflow', { taskQueue, workflowId });
  try {
    const result = await withWorker(taskQueue, async () => {
      await assert.rejects(
        withTimeout(handle.executeUpdate('addViaActivity', { args: ['bad-value'] }), RPC_TIMEOUT, 'rejected update'),
        (err) => {
          assert.ok(err instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${describeErr(err)}`);
          assert.ok(err.cause instanceof ApplicationFailure, `expected ApplicationFailure cause, got ${err.cause}`);
          assert.equal(err.cause.message, 'rejected bad-value');
          return true;
        },
      );
      // The workflow keeps running and accepts a valid update afterwards.
      const ok = await withTimeout(
        handle.executeUpdate('addViaActivity', { args: ['good'] }),
        RPC_TIMEOUT,
        'valid update after rejection',
      );
      assert.equal(ok, 'added:good');
      await handle.signal('finish');
      return resultWithin(handle);
    });
    assert.deepEqual(result, ['good']);
  } finally {
    await terminateQuietly(handle);
  }
  // A rejected update leaves no update events in history (only the accepted one is recorded).
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_REJECTED').length, 0, `history: ${names}`);
});

test('executeUpdateWithStart starts the workflow, then updates the running one', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-uws');
  const workflowId = uniqueName('wf-uws');
  let handle;
  try {
    const [firstValue, firstRunId, secondValue, secondRunId, result] = await withWorker(taskQueue, async () => {
      const startOp = new WithStartWorkflowOperation('msgUpdatableWorkflow', {
        workflowId,
        taskQueue,
        workflowIdConflictPolicy: 'FAIL',
      });
      const v1 = await withTimeout(
        suite.client.workflow.executeUpdateWithStart('addViaActivity', { args: ['uws-1'], startWorkflowOperation: startOp }),
        RPC_TIMEOUT,
        'executeUpdateWithStart (start)',
      );
      handle = await startOp.workflowHandle();
      const desc1 = await handle.describe();

      // USE_EXISTING: the workflow is running, the update goes to it.
      const startOp2 = new WithStartWorkflowOperation('msgUpdatableWorkflow', {
        workflowId,
        taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const v2 = await withTimeout(
        suite.client.workflow.executeUpdateWithStart('addViaActivity', { args: ['uws-2'], startWorkflowOperation: startOp2 }),
        RPC_TIMEOUT,
        'executeUpdateWithStart (existing)',
      );
      const handle2 = await startOp2.workflowHandle();
      const desc2 = await handle2.describe();
      await handle.signal('finish');
      return [v1, desc1.runId, v2, desc2.runId, await resultWithin(handle)];
    });
    assert.equal(firstValue, 'added:uws-1');
    assert.equal(secondValue, 'added:uws-2');
    assert.equal(secondRunId, firstRunId, 'USE_EXISTING updated the running workflow');
    assert.deepEqual(result, ['uws-1', 'uws-2']);
  } finally {
    if (handle) await terminateQuietly(handle);
    else await terminateQuietly(suite.client.workflow.getHandle(workflowId));
  }
  const history = await suite.client.workflow.getHandle(workflowId).fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_STARTED').length, 1, `history: ${names}`);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length, 2, `history: ${names}`);
  assert.equal(eventsOfType(history, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').length, 2, `history: ${names}`);
});
