'use strict';
// Compatibility suite: ResetWorkflowExecution through the official TypeScript SDK (1.24.0)
// (client.workflowService.resetWorkflowExecution), with workers replaying the reset run.
// Expectations follow a real Temporal server (service/history/ndc/workflow_resetter.go): the new
// run's history is the base run's prefix up to the chosen workflow task's started event, then
// WorkflowTaskFailed(RESET_WORKFLOW), reapplied signals, a new task; the current run is
// terminated; the new run becomes current.
// Run: tests/run-node-tests.sh tests/compat/reset.test.js

const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const { temporal } = require('@temporalio/proto');
const { eventsOfType, eventTypeNames, uniqueName, pollUntil } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, resultWithin, test, statusName, waitForEvent } = require('./suite');

const { WorkflowTaskFailedCause, ResetReapplyType, ResetReapplyExcludeType } = temporal.api.enums.v1;

// resetGateActivity(key): counts attempts per key and waits until the test opens the key's gate.
const attempts = new Map();
const gates = new Map();
function gate(key) {
  if (!gates.has(key)) {
    let open;
    const p = new Promise((r) => {
      open = r;
    });
    gates.set(key, { p, open });
  }
  return gates.get(key);
}
const activities = {
  async resetGateActivity(key) {
    const n = (attempts.get(key) || 0) + 1;
    attempts.set(key, n);
    await gate(key).p;
    return `done-${n}`;
  },
};

const suite = setupSuite({ activities });
const { withWorker, terminateQuietly } = suite;

function reset(workflowId, runId, finishEventId, extra = {}) {
  return suite.client.workflowService.resetWorkflowExecution({
    namespace: NS,
    workflowExecution: { workflowId, runId },
    reason: 'compat reset',
    workflowTaskFinishEventId: finishEventId,
    requestId: randomUUID(),
    ...extra,
  });
}

/** Event id of the n-th (1-based) WorkflowTaskCompleted of `history`. */
function nthTaskCompleted(history, n) {
  const ev = eventsOfType(history, 'WORKFLOW_TASK_COMPLETED')[n - 1];
  assert.ok(ev, `workflow task ${n} completed: ${eventTypeNames(history)}`);
  return Number(ev.eventId);
}

/** Resets the first run of `base` to its n-th completed workflow task. */
async function resetToTask(base, n, extra = {}) {
  return reset(base.workflowId, base.firstExecutionRunId, nthTaskCompleted(await base.fetchHistory(), n), extra);
}

/** The history of `handle` once it has `n` completed workflow tasks. */
function historyWithTasks(handle, n) {
  return pollUntil(async () => {
    const hist = await handle.fetchHistory();
    return eventsOfType(hist, 'WORKFLOW_TASK_COMPLETED').length >= n ? hist : null;
  }, { what: `workflow task ${n} completed` });
}

/**
 * Runs `fn({ taskQueue, workflowId })` with a worker on a new task queue; the workflow (and the
 * ids in `alsoTerminate`) are terminated afterwards whatever happened.
 */
async function withResetWorkflow(name, fn, alsoTerminate = []) {
  const taskQueue = uniqueName('tq-reset');
  const workflowId = uniqueName(name);
  try {
    await withWorker(taskQueue, () => fn({ taskQueue, workflowId }));
  } finally {
    await terminateQuietly(workflowId, ...alsoTerminate.map((suffix) => `${workflowId}${suffix}`));
  }
}

/** Starts resetSignalsWorkflow and, once its first task completed, sends it an 'add' signal per value. */
async function startWithSignals(taskQueue, workflowId, ...values) {
  const base = await suite.client.workflow.start('resetSignalsWorkflow', { taskQueue, workflowId });
  await waitForEvent(base, 'WORKFLOW_TASK_COMPLETED');
  for (const v of values) await base.signal('add', v);
  await waitForEvent(base, 'WORKFLOW_EXECUTION_SIGNALED');
  return base;
}

test('reset a completed workflow to its first workflow task gives a new run and result', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-reset');
  const workflowId = uniqueName('wf-reset');
  const base = await suite.client.workflow.start('resetRunIdWorkflow', { taskQueue, workflowId });
  try {
    await withWorker(taskQueue, async () => {
      assert.equal(await resultWithin(base), base.firstExecutionRunId);
      const baseHistory = await base.fetchHistory();
      const { runId } = await reset(workflowId, base.firstExecutionRunId, nthTaskCompleted(baseHistory, 1));
      assert.ok(runId && runId !== base.firstExecutionRunId);
      const current = suite.client.workflow.getHandle(workflowId);
      assert.equal((await current.describe()).runId, runId, 'the reset run is current');
      assert.equal(await resultWithin(suite.client.workflow.getHandle(workflowId, runId)), runId);

      const h = await suite.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const names = eventTypeNames(h);
      assert.deepEqual(names.slice(0, 6), [
        'WORKFLOW_EXECUTION_STARTED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
        'WORKFLOW_TASK_FAILED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
      ]);
      assert.equal(names.at(-1), 'WORKFLOW_EXECUTION_COMPLETED');
      // The prefix is the base run's events, unchanged.
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(
          temporal.api.history.v1.HistoryEvent.encode(h.events[i]).finish(),
          temporal.api.history.v1.HistoryEvent.encode(baseHistory.events[i]).finish(),
        );
      }
      const fa = h.events[3].workflowTaskFailedEventAttributes;
      assert.equal(fa.cause, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
      assert.equal(fa.baseRunId, base.firstExecutionRunId);
      assert.equal(fa.newRunId, runId);
      assert.equal(fa.failure.message, 'compat reset');
      assert.ok(fa.failure.resetWorkflowFailureInfo);
      assert.equal(Number(fa.scheduledEventId), 2);
      assert.equal(Number(fa.startedEventId), 3);
      // The completed base run is left as it was.
      const baseRun = suite.client.workflow.getHandle(workflowId, base.firstExecutionRunId);
      assert.equal(statusName(await baseRun.describe()), 'COMPLETED');
      assert.equal(eventTypeNames(await baseRun.fetchHistory()).length, baseHistory.events.length);
    });
  } finally {
    await terminateQuietly(workflowId);
  }
});

test('reset a running workflow: signals after the reset point are reapplied; base is terminated', { timeout: TEST_TIMEOUT }, () =>
  withResetWorkflow('wf-reset-sig', async ({ taskQueue, workflowId }) => {
    const base = await startWithSignals(taskQueue, workflowId, 'a', 'b');
    const { runId } = await resetToTask(base, 1);
    // The base run was running: terminated by the reset, with the reset reason.
    const bh = await suite.client.workflow.getHandle(workflowId, base.firstExecutionRunId).fetchHistory();
    const term = eventsOfType(bh, 'WORKFLOW_EXECUTION_TERMINATED')[0].workflowExecutionTerminatedEventAttributes;
    assert.equal(term.reason, 'compat reset');
    assert.equal(term.identity, 'history-resetter');
    const run = suite.client.workflow.getHandle(workflowId, runId);
    await run.signal('finish');
    assert.deepEqual(await resultWithin(run), { got: ['a', 'b'], runId });
    const h = await run.fetchHistory();
    const names = eventTypeNames(h);
    assert.deepEqual(names.slice(3, 7), [
      'WORKFLOW_TASK_FAILED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_TASK_SCHEDULED',
    ]);
  }));

test('post-reset operations: a signal is delivered to the reset run after the reapplied ones; bad operations change nothing', { timeout: TEST_TIMEOUT }, () =>
  withResetWorkflow('wf-reset-post', async ({ taskQueue, workflowId }) => {
    const json = (v) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });
    const base = await startWithSignals(taskQueue, workflowId, 'a');
    const finishId = nthTaskCompleted(await base.fetchHistory(), 1);
    // Rejected with nothing changed: no variant, a signal without a name, an options update.
    for (const [op, code] of [[{}, 3], [{ signalWorkflow: {} }, 3], [{ updateWorkflowOptions: { workflowExecutionOptions: {} } }, 12]]) {
      await assert.rejects(reset(workflowId, base.firstExecutionRunId, finishId, { postResetOperations: [op] }), (err) => {
        assert.equal(err.code, code, `${JSON.stringify(op)}: ${err.message}`);
        return true;
      });
    }
    assert.equal((await suite.client.workflow.getHandle(workflowId).describe()).runId, base.firstExecutionRunId, 'no reset happened');

    const { runId } = await reset(workflowId, base.firstExecutionRunId, finishId, {
      identity: 'operator-x',
      postResetOperations: [{ signalWorkflow: { signalName: 'add', input: { payloads: [json('z')] } } }],
    });
    const run = suite.client.workflow.getHandle(workflowId, runId);
    await run.signal('finish');
    assert.deepEqual(await resultWithin(run), { got: ['a', 'z'], runId });
    const h = await run.fetchHistory();
    assert.deepEqual(eventTypeNames(h).slice(3, 7), [
      'WORKFLOW_TASK_FAILED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_TASK_SCHEDULED',
    ]);
    const post = h.events[5].workflowExecutionSignaledEventAttributes;
    assert.equal(post.signalName, 'add');
    assert.equal(post.identity, 'operator-x');
  }));

test('reset of an earlier run of a continue-as-new chain reapplies the signals of the later runs', { timeout: TEST_TIMEOUT }, () =>
  withResetWorkflow('wf-reset-chain', async ({ taskQueue, workflowId }) => {
    const first = await suite.client.workflow.start('resetChainWorkflow', { taskQueue, workflowId, args: [0, []] });
    const run1 = suite.client.workflow.getHandle(workflowId, first.firstExecutionRunId);
    await waitForEvent(run1, 'WORKFLOW_TASK_COMPLETED');
    await run1.signal('add', 'a');
    await waitForEvent(run1, 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    const current = suite.client.workflow.getHandle(workflowId);
    const run2Id = (await current.describe()).runId;
    assert.notEqual(run2Id, first.firstExecutionRunId);
    await current.signal('add', 'b');
    const run2 = suite.client.workflow.getHandle(workflowId, run2Id);
    await waitForEvent(run2, 'WORKFLOW_EXECUTION_SIGNALED');
    const { runId } = await reset(workflowId, first.firstExecutionRunId, nthTaskCompleted(await run1.fetchHistory(), 1));
    assert.equal(statusName(await run2.describe()), 'TERMINATED', 'the current run (run 2) was terminated');
    const h = await suite.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const reapplied = eventsOfType(h, 'WORKFLOW_EXECUTION_SIGNALED').map((e) =>
      JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes.input.payloads[0].data).toString()),
    );
    assert.deepEqual(reapplied, ['a', 'b']);
    // The reset run (iteration 0) sees both, continues as new; the next run finishes.
    await waitForEvent(suite.client.workflow.getHandle(workflowId, runId), 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    await suite.client.workflow.getHandle(workflowId).signal('finish');
    const result = await resultWithin(suite.client.workflow.getHandle(workflowId));
    assert.deepEqual(result.got, ['a', 'b']);
    assert.equal(result.iteration, 1);
  }));

for (const [label, extra] of [
  ['REAPPLY_TYPE_NONE', { resetReapplyType: ResetReapplyType.RESET_REAPPLY_TYPE_NONE }],
  ['exclude type SIGNAL', { resetReapplyExcludeTypes: [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL] }],
]) {
  test(`reset with ${label} does not reapply signals`, { timeout: TEST_TIMEOUT }, () =>
    withResetWorkflow('wf-reset-nosig', async ({ taskQueue, workflowId }) => {
      const base = await startWithSignals(taskQueue, workflowId, 'a');
      const { runId } = await resetToTask(base, 1, extra);
      const run = suite.client.workflow.getHandle(workflowId, runId);
      await run.signal('add', 'later');
      await run.signal('finish');
      assert.deepEqual(await resultWithin(run), { got: ['later'], runId });
      const signals = eventsOfType(await run.fetchHistory(), 'WORKFLOW_EXECUTION_SIGNALED');
      assert.equal(signals.length, 2, 'only the signals sent to the new run');
    }));
}

for (const [label, extra, expected] of [
  ['by default', {}, ['u1', 'u2']],
  ['not with exclude type UPDATE', { resetReapplyExcludeTypes: [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE] }, []],
]) {
  test(`updates after the reset point are reapplied ${label}`, { timeout: TEST_TIMEOUT }, () =>
    withResetWorkflow('wf-reset-upd', async ({ taskQueue, workflowId }) => {
      const base = await suite.client.workflow.start('resetUpdatesWorkflow', { taskQueue, workflowId });
      await waitForEvent(base, 'WORKFLOW_TASK_COMPLETED');
      assert.equal(await base.executeUpdate('addUpdate', { args: ['u1'] }), 1);
      assert.equal(await base.executeUpdate('addUpdate', { args: ['u2'] }), 2);
      const { runId } = await resetToTask(base, 1, extra);
      const run = suite.client.workflow.getHandle(workflowId, runId);
      const h0 = await run.fetchHistory();
      const admitted = eventsOfType(h0, 'WORKFLOW_EXECUTION_UPDATE_ADMITTED');
      assert.equal(admitted.length, expected.length, eventTypeNames(h0).join(','));
      await run.signal('finish');
      assert.deepEqual(await resultWithin(run), { got: expected, runId });
      const h = await run.fetchHistory();
      assert.equal(eventsOfType(h, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED').length, expected.length);
    }));
}

test('reset while an activity is pending reschedules it in the new run', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-reset');
  const workflowId = uniqueName('wf-reset-act');
  const key = workflowId;
  try {
    await withWorker(taskQueue, async () => {
      const base = await suite.client.workflow.start('resetActivityWorkflow', { taskQueue, workflowId, args: [key] });
      await pollUntil(() => attempts.get(key) === 1, { what: 'activity started', timeoutMs: 10000 });
      await base.signal('add', 'x');
      // Reset to the second task (it saw the signal; the activity was pending).
      const bh = await historyWithTasks(base, 2);
      const scheduledId = Number(eventsOfType(bh, 'ACTIVITY_TASK_SCHEDULED')[0].eventId);
      const { runId } = await reset(workflowId, base.firstExecutionRunId, nthTaskCompleted(bh, 2));
      await pollUntil(() => attempts.get(key) === 2, { what: 'activity rescheduled in the new run', timeoutMs: 10000 });
      gate(key).open();
      const run = suite.client.workflow.getHandle(workflowId, runId);
      assert.deepEqual(await resultWithin(run), { activity: 'done-2', got: ['x'], runId });
      const h = await run.fetchHistory();
      const completed = eventsOfType(h, 'ACTIVITY_TASK_COMPLETED');
      assert.equal(completed.length, 1);
      assert.equal(Number(completed[0].activityTaskCompletedEventAttributes.scheduledEventId), scheduledId,
        'the activity of the copied prefix completed in the new run');
      assert.equal(eventsOfType(h, 'ACTIVITY_TASK_SCHEDULED').length, 1, 'not scheduled a second time');
      assert.equal(statusName(await suite.client.workflow.getHandle(workflowId, base.firstExecutionRunId).describe()), 'TERMINATED');
    });
  } finally {
    gate(key).open();
    await terminateQuietly(workflowId);
  }
});

for (const signalChild of [false, true]) {
  test(`reset with a pending child: the new run adopts it${signalChild ? ' and signals it' : ''}`, { timeout: TEST_TIMEOUT }, () =>
    withResetWorkflow('wf-reset-parent', async ({ taskQueue, workflowId }) => {
      const childId = `${workflowId}-child`;
      const base = await suite.client.workflow.start('resetParentWorkflow', { taskQueue, workflowId, args: [childId, signalChild] });
      await waitForEvent(base, 'CHILD_WORKFLOW_EXECUTION_STARTED');
      const bh = await historyWithTasks(base, 2);
      // The reset point is after the child started and before the 'add' signal.
      const { runId } = await reset(workflowId, base.firstExecutionRunId, nthTaskCompleted(bh, 2), {
        resetReapplyType: ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
      });
      const child = suite.client.workflow.getHandle(childId);
      // The parent close policy (TERMINATE) was not applied: the reset run took the child over.
      assert.equal(statusName(await child.describe()), 'RUNNING');
      const run = suite.client.workflow.getHandle(workflowId, runId);
      await run.signal('add', 'go');
      if (!signalChild) await child.signal('ext', 'from-client');
      const want = signalChild ? 'from-parent' : 'from-client';
      assert.deepEqual(await resultWithin(run), { child: [want], runId });
      const h = await run.fetchHistory();
      assert.equal(eventsOfType(h, 'CHILD_WORKFLOW_EXECUTION_COMPLETED').length, 1);
    }, ['-child']));
}

test('reset request ids dedupe: the same request returns the same run', { timeout: TEST_TIMEOUT }, () =>
  withResetWorkflow('wf-reset-dedupe', async ({ taskQueue, workflowId }) => {
    const base = await suite.client.workflow.start('resetRunIdWorkflow', { taskQueue, workflowId });
    await resultWithin(base);
    const finish = nthTaskCompleted(await base.fetchHistory(), 1);
    const requestId = randomUUID();
    const first = await reset(workflowId, base.firstExecutionRunId, finish, { requestId });
    const again = await reset(workflowId, base.firstExecutionRunId, finish, { requestId });
    assert.equal(again.runId, first.runId);
    const other = await reset(workflowId, base.firstExecutionRunId, finish);
    assert.notEqual(other.runId, first.runId);
  }));

test('reset with a bad workflow task finish event id is INVALID_ARGUMENT', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-reset');
  const workflowId = uniqueName('wf-reset-bad');
  const base = await suite.client.workflow.start('resetRunIdWorkflow', { taskQueue, workflowId });
  try {
    await withWorker(taskQueue, () => resultWithin(base));
    const last = (await base.fetchHistory()).events.length;
    for (const [id, message] of [
      [0, 'Workflow task finish ID must be > 1 && <= workflow last event ID.'],
      [1, 'Workflow task finish ID must be > 1 && <= workflow last event ID.'],
      [last + 1, 'Workflow task finish ID must be > 1 && <= workflow last event ID.'],
      [2, 'Can only reset workflow to event ID in range [WorkflowTaskScheduled +1, WorkflowTaskStarted + 1]: 2'],
    ]) {
      await assert.rejects(reset(workflowId, base.firstExecutionRunId, id), (err) => {
        assert.equal(err.code, 3, `finish id ${id}: ${err.message}`);
        assert.match(err.message, new RegExp(message.replace(/[[\]+.]/g, '\\$&')));
        return true;
      });
    }
    await assert.rejects(
      suite.client.workflowService.resetWorkflowExecution({
        namespace: NS,
        workflowExecution: { workflowId },
        workflowTaskFinishEventId: 4,
      }),
      (err) => err.code === 3 && /RequestId is not set on request/.test(err.message),
    );
    assert.equal(statusName(await base.describe()), 'COMPLETED', 'nothing changed');
  } finally {
    await terminateQuietly(workflowId);
  }
});
