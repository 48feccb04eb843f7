'use strict';
// Compatibility suite: child workflows with the official Temporal TypeScript SDK (1.24.0) against
// temporalite. Expectations follow a real Temporal server, not whatever temporalite happens to do
// today.
//
// One server for the whole file; each test uses its own task queue and workflow ids.
// Run: node --test tests/compat/children.test.js   (env TEMPORALITE_BIN overrides the binary)

const assert = require('node:assert/strict');

const { WorkflowFailedError, ChildWorkflowFailure, ApplicationFailure } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { pollUntil, eventsOfType, eventTypeNames, uniqueName } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite, taskFailure, resultWithin, describeErr, test, statusName } = require('./suite');

const { StartChildWorkflowExecutionFailedCause } = temporal.api.enums.v1;

const suite = setupSuite();
const { withWorker, terminateQuietly } = suite;

/**
 * Waits (bounded) until the workflow's history contains an event of type `type`; returns that event.
 * Fails early on a WorkflowTaskFailed event (see resultWithin).
 */
async function waitForEvent(handle, type, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const history = await handle.fetchHistory();
    const ev = eventsOfType(history, type)[0];
    if (ev) return ev;
    const failure = taskFailure(history);
    if (failure) throw new Error(`${handle.workflowId}: waiting for ${type}: ${failure}`);
    if (Date.now() >= deadline) {
      throw new Error(`history event ${type} not reached within ${timeoutMs} ms: ${eventTypeNames(history)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits (bounded) until describe() of `handle` reports `status`. */
async function waitForStatus(handle, status, timeoutMs = 10000) {
  return pollUntil(async () => ((await handle.describe()).status.name === status ? true : null), {
    timeoutMs,
    intervalMs: 100,
    what: `${handle.workflowId} status ${status}`,
  });
}

test('parent executes a child and returns its result', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-child');
  const parentId = uniqueName('wf-parent');
  const childId = `${parentId}-child`;
  const handle = await suite.client.workflow.start('childParentExecuteWorkflow', { taskQueue, workflowId: parentId, args: [childId] });
  try {
    const result = await withWorker(taskQueue, () => resultWithin(handle));
    assert.deepEqual(result, { echoed: 'child got from-parent', workflowId: childId, parentWorkflowId: parentId });
  } finally {
    await terminateQuietly(parentId, childId);
  }
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  for (const type of [
    'START_CHILD_WORKFLOW_EXECUTION_INITIATED',
    'CHILD_WORKFLOW_EXECUTION_STARTED',
    'CHILD_WORKFLOW_EXECUTION_COMPLETED',
  ]) {
    assert.equal(eventsOfType(history, type).length, 1, `${type} in parent history: ${names}`);
  }
  const initiated = eventsOfType(history, 'START_CHILD_WORKFLOW_EXECUTION_INITIATED')[0]
    .startChildWorkflowExecutionInitiatedEventAttributes;
  assert.equal(initiated.workflowId, childId);
  assert.equal(initiated.workflowType.name, 'childEchoWorkflow');
  assert.equal(initiated.taskQueue.name, taskQueue, 'the child inherits the parent task queue');
  const childDesc = await suite.client.workflow.getHandle(childId).describe();
  assert.equal(statusName(childDesc), 'COMPLETED');
  assert.equal(childDesc.type, 'childEchoWorkflow');
});

test('child failure reaches the parent as ChildWorkflowFailure(ApplicationFailure)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-child-fail');
  const parentId = uniqueName('wf-parent-fail');
  const childId = `${parentId}-child`;
  const handle = await suite.client.workflow.start('childParentFailingWorkflow', { taskQueue, workflowId: parentId, args: [childId] });
  try {
    await withWorker(taskQueue, () =>
      assert.rejects(resultWithin(handle), (err) => {
        assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${describeErr(err)}`);
        assert.ok(err.cause instanceof ChildWorkflowFailure, `expected ChildWorkflowFailure, got ${describeErr(err.cause)}`);
        assert.equal(err.cause.execution.workflowId, childId);
        assert.equal(err.cause.workflowType, 'childFailingWorkflow');
        assert.ok(err.cause.cause instanceof ApplicationFailure, `expected ApplicationFailure, got ${describeErr(err.cause.cause)}`);
        assert.equal(err.cause.cause.message, 'child boom');
        assert.equal(err.cause.cause.type, 'ChildBoom');
        return true;
      }),
    );
  } finally {
    await terminateQuietly(parentId, childId);
  }
  assert.equal(statusName(await handle.describe()), 'FAILED');
  assert.equal(statusName(await suite.client.workflow.getHandle(childId).describe()), 'FAILED');
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  assert.equal(eventsOfType(history, 'CHILD_WORKFLOW_EXECUTION_FAILED').length, 1, `parent history: ${names}`);
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_FAILED', `parent history: ${names}`);
});

test('terminating the parent terminates the child (default ParentClosePolicy TERMINATE)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-child-term');
  const parentId = uniqueName('wf-parent-term');
  const childId = `${parentId}-child`;
  const handle = await suite.client.workflow.start('childParentStartWorkflow', {
    taskQueue,
    workflowId: parentId,
    args: [childId, undefined, true],
  });
  try {
    await withWorker(taskQueue, async () => {
      await waitForEvent(handle, 'CHILD_WORKFLOW_EXECUTION_STARTED');
      // The parent handles the started event in a workflow task; wait for the timer it then starts
      // so the child is running and the parent is idle.
      await waitForEvent(handle, 'TIMER_STARTED');
      const child = suite.client.workflow.getHandle(childId);
      assert.equal(statusName(await child.describe()), 'RUNNING');
      await handle.terminate('parent terminated by compat test');
      // The parent-close policy is applied asynchronously after the parent closed.
      await waitForStatus(child, 'TERMINATED');
    });
  } finally {
    await terminateQuietly(parentId, childId);
  }
  assert.equal(statusName(await handle.describe()), 'TERMINATED');
  const childHistory = await suite.client.workflow.getHandle(childId).fetchHistory();
  const names = eventTypeNames(childHistory);
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_TERMINATED', `child history: ${names}`);
});

test('ParentClosePolicy ABANDON: the child keeps running after the parent completed', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-child-abandon');
  const parentId = uniqueName('wf-parent-abandon');
  const childId = `${parentId}-child`;
  const handle = await suite.client.workflow.start('childParentStartWorkflow', {
    taskQueue,
    workflowId: parentId,
    args: [childId, 'ABANDON', false],
  });
  try {
    await withWorker(taskQueue, async () => {
      const result = await resultWithin(handle);
      assert.equal(result.childWorkflowId, childId);
      assert.ok(result.childRunId, 'child run id returned');
      assert.equal(statusName(await handle.describe()), 'COMPLETED');
      const child = suite.client.workflow.getHandle(childId);
      const desc = await child.describe();
      assert.equal(desc.runId, result.childRunId);
      assert.equal(statusName(desc), 'RUNNING');
      // Give a (wrongly applied) parent-close policy time to act; the child must still run.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(statusName(await child.describe()), 'RUNNING', 'abandoned child still running');
    });
  } finally {
    await terminateQuietly(parentId, childId);
  }
  const initiated = eventsOfType(await handle.fetchHistory(), 'START_CHILD_WORKFLOW_EXECUTION_INITIATED')[0];
  assert.ok(initiated, 'StartChildWorkflowExecutionInitiated in parent history');
  assert.equal(
    initiated.startChildWorkflowExecutionInitiatedEventAttributes.parentClosePolicy,
    temporal.api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON,
  );
});

test('describe of a child shows parentExecution and rootExecution', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-child-desc');
  const parentId = uniqueName('wf-parent-desc');
  const childId = `${parentId}-child`;
  const handle = await suite.client.workflow.start('childParentStartWorkflow', {
    taskQueue,
    workflowId: parentId,
    args: [childId, undefined, true],
  });
  const parentRunId = handle.firstExecutionRunId;
  try {
    const desc = await withWorker(taskQueue, async () => {
      await waitForEvent(handle, 'CHILD_WORKFLOW_EXECUTION_STARTED');
      return suite.client.workflow.getHandle(childId).describe();
    });
    assert.equal(statusName(desc), 'RUNNING');
    assert.deepEqual(desc.parentExecution, { workflowId: parentId, runId: parentRunId });
    // root_execution is the top of the parent chain: here the parent itself. (Recent servers;
    // older ones, before root_execution existed in WorkflowExecutionInfo, leave it unset.)
    assert.deepEqual(desc.rootExecution, { workflowId: parentId, runId: parentRunId });
    assert.ok(desc.raw.workflowExecutionInfo.parentNamespaceId, 'parentNamespaceId set');
    // A top-level workflow has no parent and is its own root.
    const parentDesc = await handle.describe();
    assert.equal(parentDesc.parentExecution, undefined);
    assert.deepEqual(parentDesc.rootExecution, { workflowId: parentId, runId: parentRunId });
    // The child's started event names its parent too.
    const started = (await suite.client.workflow.getHandle(childId).fetchHistory()).events[0]
      .workflowExecutionStartedEventAttributes;
    assert.equal(started.parentWorkflowExecution.workflowId, parentId);
    assert.equal(started.parentWorkflowExecution.runId, parentRunId);
    assert.equal(started.parentWorkflowNamespace, NS);
    assert.ok(Number(started.parentInitiatedEventId) > 0, 'parentInitiatedEventId set');
  } finally {
    await terminateQuietly(parentId, childId);
  }
});

test('starting a child with a running workflow id: WorkflowExecutionAlreadyStartedError in the parent', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-child-dup');
  const parentId = uniqueName('wf-parent-dup');
  const childId = `${parentId}-taken`;
  const existing = await suite.client.workflow.start('childSleeperWorkflow', { taskQueue, workflowId: childId });
  const handle = await suite.client.workflow.start('childParentDuplicateWorkflow', {
    taskQueue,
    workflowId: parentId,
    args: [childId],
  });
  try {
    const result = await withWorker(taskQueue, () => resultWithin(handle));
    assert.deepEqual(result, {
      started: false,
      error: 'WorkflowExecutionAlreadyStartedError',
      workflowId: childId,
      workflowType: 'childSleeperWorkflow',
    });
    const desc = await suite.client.workflow.getHandle(childId).describe();
    assert.equal(desc.runId, existing.firstExecutionRunId, 'the existing workflow is untouched');
    assert.equal(statusName(desc), 'RUNNING');
    assert.equal(desc.parentExecution, undefined, 'the existing workflow has no parent');
  } finally {
    await terminateQuietly(parentId, childId);
  }
  const history = await handle.fetchHistory();
  const names = eventTypeNames(history);
  const failed = eventsOfType(history, 'START_CHILD_WORKFLOW_EXECUTION_FAILED');
  assert.equal(failed.length, 1, `parent history: ${names}`);
  const attrs = failed[0].startChildWorkflowExecutionFailedEventAttributes;
  assert.equal(attrs.cause, StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS);
  assert.equal(attrs.workflowId, childId);
  assert.equal(eventsOfType(history, 'CHILD_WORKFLOW_EXECUTION_STARTED').length, 0, `parent history: ${names}`);
});
