'use strict';
// Compatibility suite: workflows that signal and cancel other workflows
// (SignalExternalWorkflowExecution / RequestCancelExternalWorkflowExecution commands) with the
// official TypeScript SDK (1.24.0). Expectations follow a real Temporal server: Initiated in the
// completing workflow task, the result event afterwards, then a new workflow task.
// Run: tests/run-node-tests.sh tests/compat/external.test.js

const assert = require('node:assert/strict');

const { eventsOfType, eventTypeNames, uniqueName, pollUntil } = require('./harness');
const { TEST_TIMEOUT, setupSuite, resultWithin, test, statusName } = require('./suite');
const { temporal } = require('@temporalio/proto');

const { SignalExternalWorkflowExecutionFailedCause } = temporal.api.enums.v1;

const suite = setupSuite();
const { withWorker, terminateQuietly } = suite;

/** Event type names of `history` after the first event of type `first` (inclusive). */
function namesFrom(history, first) {
  const names = eventTypeNames(history);
  const i = names.indexOf(first);
  assert.ok(i >= 0, `${first} in ${names}`);
  return names.slice(i);
}

test('a workflow signals another workflow (getExternalWorkflowHandle().signal)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const targetId = uniqueName('wf-ext-target');
  const senderId = uniqueName('wf-ext-sender');
  const target = await suite.client.workflow.start('extCollectorWorkflow', { taskQueue, workflowId: targetId, args: [1] });
  const sender = await suite.client.workflow.start('extSenderWorkflow', { taskQueue, workflowId: senderId, args: [targetId, 'hello'] });
  try {
    await withWorker(taskQueue, async () => {
      assert.equal(await resultWithin(sender), 'sent');
      assert.deepEqual(await resultWithin(target), ['hello']);
    });
  } finally {
    await terminateQuietly(targetId, senderId);
  }
  const sh = await sender.fetchHistory();
  // Temporal's order: command event with the completion, result event, then a new task.
  assert.deepEqual(namesFrom(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED').slice(0, 3), [
    'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED',
    'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED',
    'WORKFLOW_TASK_SCHEDULED',
  ]);
  const init = eventsOfType(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED')[0];
  const ia = init.signalExternalWorkflowExecutionInitiatedEventAttributes;
  assert.equal(ia.workflowExecution.workflowId, targetId);
  assert.equal(ia.signalName, 'ext');
  assert.equal(ia.namespace, 'default');
  assert.ok(Number(ia.workflowTaskCompletedEventId) > 0);
  const signaled = eventsOfType(sh, 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED')[0].externalWorkflowExecutionSignaledEventAttributes;
  assert.equal(Number(signaled.initiatedEventId), Number(init.eventId));
  assert.equal(signaled.workflowExecution.workflowId, targetId);

  const th = await target.fetchHistory();
  const sig = eventsOfType(th, 'WORKFLOW_EXECUTION_SIGNALED');
  assert.equal(sig.length, 1, 'delivered exactly once');
  const sa = sig[0].workflowExecutionSignaledEventAttributes;
  assert.equal(sa.signalName, 'ext');
  assert.equal(sa.externalWorkflowExecution.workflowId, senderId);
  assert.equal(sa.externalWorkflowExecution.runId, sender.firstExecutionRunId);
  assert.equal(sa.identity, 'history-service');
  assert.ok(sa.requestId, 'the delivery carries a request id (dedupe)');
});

test('several sequential external signals arrive in order, once each', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const targetId = uniqueName('wf-ext-target');
  const senderId = uniqueName('wf-ext-sender');
  const target = await suite.client.workflow.start('extCollectorWorkflow', { taskQueue, workflowId: targetId, args: [5] });
  const sender = await suite.client.workflow.start('extSenderWorkflow', { taskQueue, workflowId: senderId, args: [targetId, 'v', 5] });
  try {
    await withWorker(taskQueue, async () => {
      assert.equal(await resultWithin(sender), 'sent');
      assert.deepEqual(await resultWithin(target), ['v-0', 'v-1', 'v-2', 'v-3', 'v-4']);
    });
  } finally {
    await terminateQuietly(targetId, senderId);
  }
  const sh = await sender.fetchHistory();
  assert.equal(eventsOfType(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED').length, 5);
  assert.equal(eventsOfType(sh, 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED').length, 5);
  assert.equal(eventsOfType(await target.fetchHistory(), 'WORKFLOW_EXECUTION_SIGNALED').length, 5);
});

test('signalling a missing workflow fails in the workflow with the SDK error', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const senderId = uniqueName('wf-ext-sender');
  const missing = uniqueName('wf-ext-nobody');
  const sender = await suite.client.workflow.start('extSignalMissingWorkflow', { taskQueue, workflowId: senderId, args: [missing] });
  let result;
  try {
    result = await withWorker(taskQueue, () => resultWithin(sender));
  } finally {
    await terminateQuietly(senderId);
  }
  assert.equal(result.raised, true);
  assert.equal(result.name, 'ApplicationFailure');
  assert.equal(result.message, 'Unable to signal external workflow because it was not found');
  assert.match(String(result.type), /NotFound/);
  const sh = await sender.fetchHistory();
  assert.deepEqual(namesFrom(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED').slice(0, 3), [
    'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED',
    'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED',
    'WORKFLOW_TASK_SCHEDULED',
  ]);
  const fa = eventsOfType(sh, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED')[0].signalExternalWorkflowExecutionFailedEventAttributes;
  assert.equal(
    fa.cause,
    SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
  );
  assert.equal(fa.workflowExecution.workflowId, missing);
});

test('signalling a closed workflow fails with EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const targetId = uniqueName('wf-ext-closed');
  const senderId = uniqueName('wf-ext-sender');
  const target = await suite.client.workflow.start('extCancellableWorkflow', { taskQueue, workflowId: targetId });
  await target.terminate('closed before the signal');
  const sender = await suite.client.workflow.start('extSignalMissingWorkflow', { taskQueue, workflowId: senderId, args: [targetId] });
  let result;
  try {
    result = await withWorker(taskQueue, () => resultWithin(sender));
  } finally {
    await terminateQuietly(senderId);
  }
  assert.equal(result.raised, true);
  assert.equal(result.message, 'Unable to signal external workflow because it was not found');
  assert.equal(eventsOfType(await target.fetchHistory(), 'WORKFLOW_EXECUTION_SIGNALED').length, 0);
});

test('a signal sent in the completing task is not delivered (the source closed first)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const targetId = uniqueName('wf-ext-target');
  const senderId = uniqueName('wf-ext-sender');
  const target = await suite.client.workflow.start('extCancellableWorkflow', { taskQueue, workflowId: targetId });
  const sender = await suite.client.workflow.start('extFireAndCompleteWorkflow', { taskQueue, workflowId: senderId, args: [targetId] });
  try {
    await withWorker(taskQueue, async () => {
      assert.equal(await resultWithin(sender), 'done');
    });
    const sh = await sender.fetchHistory();
    const names = eventTypeNames(sh);
    assert.deepEqual(names.slice(-2), ['SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED', 'WORKFLOW_EXECUTION_COMPLETED']);
    assert.equal(eventsOfType(await target.fetchHistory(), 'WORKFLOW_EXECUTION_SIGNALED').length, 0);
  } finally {
    await terminateQuietly(targetId, senderId);
  }
});

test('a workflow cancels another workflow (getExternalWorkflowHandle().cancel)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const targetId = uniqueName('wf-ext-cancel-target');
  const senderId = uniqueName('wf-ext-canceller');
  const target = await suite.client.workflow.start('extCancellableWorkflow', { taskQueue, workflowId: targetId });
  const sender = await suite.client.workflow.start('extCancelSenderWorkflow', { taskQueue, workflowId: senderId, args: [targetId] });
  try {
    await withWorker(taskQueue, async () => {
      assert.deepEqual(await resultWithin(sender), { raised: false });
      await pollUntil(async () => statusName(await target.describe()) === 'CANCELLED', {
        what: 'target canceled',
        timeoutMs: 10000,
      }).catch(async (err) => {
        throw new Error(`${err.message}; target history: ${eventTypeNames(await target.fetchHistory())}`);
      });
    });
  } finally {
    await terminateQuietly(targetId, senderId);
  }
  const sh = await sender.fetchHistory();
  assert.deepEqual(namesFrom(sh, 'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED').slice(0, 3), [
    'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED',
    'EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED',
    'WORKFLOW_TASK_SCHEDULED',
  ]);
  const init = eventsOfType(sh, 'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED')[0];
  assert.equal(init.requestCancelExternalWorkflowExecutionInitiatedEventAttributes.workflowExecution.workflowId, targetId);
  const th = await target.fetchHistory();
  const req = eventsOfType(th, 'WORKFLOW_EXECUTION_CANCEL_REQUESTED');
  assert.equal(req.length, 1);
  const ra = req[0].workflowExecutionCancelRequestedEventAttributes;
  assert.equal(Number(ra.externalInitiatedEventId), Number(init.eventId));
  assert.equal(ra.externalWorkflowExecution.workflowId, senderId);
  assert.equal(eventsOfType(th, 'WORKFLOW_EXECUTION_CANCELED').length, 1);
});

test('cancelling a missing workflow fails in the workflow with the SDK error', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const senderId = uniqueName('wf-ext-canceller');
  const sender = await suite.client.workflow.start('extCancelSenderWorkflow', {
    taskQueue,
    workflowId: senderId,
    args: [uniqueName('wf-ext-nobody')],
  });
  let result;
  try {
    result = await withWorker(taskQueue, () => resultWithin(sender));
  } finally {
    await terminateQuietly(senderId);
  }
  assert.equal(result.raised, true);
  assert.equal(result.message, 'Unable to cancel external workflow because not found');
  assert.equal(eventsOfType(await sender.fetchHistory(), 'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED').length, 1);
});

test('a parent signals its child (child_workflow_only)', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-ext');
  const parentId = uniqueName('wf-ext-parent');
  const childId = `${parentId}-child`;
  const parent = await suite.client.workflow.start('extParentSignalsChildWorkflow', { taskQueue, workflowId: parentId, args: [childId] });
  try {
    assert.deepEqual(await withWorker(taskQueue, () => resultWithin(parent)), ['from-parent']);
  } finally {
    await terminateQuietly(parentId, childId);
  }
  const ph = await parent.fetchHistory();
  const ia = eventsOfType(ph, 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED')[0].signalExternalWorkflowExecutionInitiatedEventAttributes;
  assert.equal(ia.childWorkflowOnly, true);
  assert.equal(eventsOfType(ph, 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED').length, 1);
  const ch = await suite.client.workflow.getHandle(childId).fetchHistory();
  const sa = eventsOfType(ch, 'WORKFLOW_EXECUTION_SIGNALED')[0].workflowExecutionSignaledEventAttributes;
  assert.equal(sa.externalWorkflowExecution.workflowId, parentId);
});
