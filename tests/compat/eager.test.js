'use strict';
// Eager workflow start through the official TypeScript SDK: the client (on the worker's
// NativeConnection) asks for request_eager_execution, the server starts the first workflow task in
// the start's own transaction and returns it in the StartWorkflowExecution reply, and the SDK hands
// it to its worker without a poll. The run's history has the same shape as a normally started
// run's; the first WorkflowTaskStarted names the starter's identity (the task never went through a
// poll). GetSystemInfo advertises the capability, as Temporal does.
//
// Eager activity execution: the SDK worker sets request_eager_execution on ScheduleActivityTask
// (same task queue, free activity slot); the server starts the activity in the completion's own
// transaction and returns its task in the RespondWorkflowTaskCompleted reply. Observable: the
// ActivityTaskStarted event carries the very instant of ActivityTaskScheduled (one clock reading,
// one commit; a poll reads the clock again later), and the activity queue never saw the task.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { Client } = require('@temporalio/client');

const { eventsOfType, eventTypeNames, uniqueName } = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite } = require('./suite');
const { activities } = require('./activities');

const suite = setupSuite({ activities });

test('GetSystemInfo and DescribeNamespace advertise eager workflow start', { timeout: TEST_TIMEOUT }, async () => {
  const info = await suite.connection.workflowService.getSystemInfo({});
  assert.equal(info.capabilities.eagerWorkflowStart, true);
  // The namespace says the same (Temporal: system.enableEagerWorkflowStart).
  const ns = await suite.connection.workflowService.describeNamespace({ namespace: NS });
  assert.equal(ns.namespaceInfo.capabilities.eagerWorkflowStart, true);
});

test('eager workflow start: first task in the start reply, same history as a normal start', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-eager');
  const eagerClient = new Client({ connection: suite.nativeConnection, namespace: NS, identity: 'eager-starter' });
  const normalClient = new Client({ connection: suite.connection, namespace: NS, identity: 'normal-starter' });
  const [eager, normal] = await suite.withWorker(
    taskQueue,
    async () => {
      const e = await eagerClient.workflow.start('greetWorkflow', {
        taskQueue,
        workflowId: uniqueName('wf-eager'),
        args: ['eager'],
        requestEagerStart: true,
      });
      assert.equal(await e.result(), 'Hello, eager!');
      const n = await normalClient.workflow.start('greetWorkflow', {
        taskQueue,
        workflowId: uniqueName('wf-normal'),
        args: ['normal'],
      });
      assert.equal(await n.result(), 'Hello, normal!');
      return [e, n];
    },
    { identity: 'eager-worker' },
  );
  const eh = await eager.fetchHistory();
  const nh = await normal.fetchHistory();
  assert.deepEqual(eventTypeNames(eh), eventTypeNames(nh), 'same event types, same order');
  const eagerStarted = eventsOfType(eh, 'WORKFLOW_TASK_STARTED');
  const normalStarted = eventsOfType(nh, 'WORKFLOW_TASK_STARTED');
  // The eager run's first task was started by the start request, not by a poll.
  assert.equal(eagerStarted[0].workflowTaskStartedEventAttributes.identity, 'eager-starter');
  assert.equal(normalStarted[0].workflowTaskStartedEventAttributes.identity, 'eager-worker');
  // Later tasks go through polls in both runs.
  assert.equal(eagerStarted[eagerStarted.length - 1].workflowTaskStartedEventAttributes.identity, 'eager-worker');
});

test('eager start by a raw request: the reply carries the started first task, durable in history', { timeout: TEST_TIMEOUT }, async () => {
  // Raw request (the SDK only asks when it has a worker slot): the reply carries the task.
  const taskQueue = uniqueName('tq-eager-raw');
  const workflowId = uniqueName('wf-eager-raw');
  const resp = await suite.connection.workflowService.startWorkflowExecution({
    namespace: NS,
    workflowId,
    workflowType: { name: 'greetWorkflow' },
    taskQueue: { name: taskQueue },
    identity: 'raw-starter',
    requestId: uniqueName('req'),
    requestEagerExecution: true,
  });
  assert.ok(resp.eagerWorkflowTask, 'the reply carries the first workflow task');
  assert.ok(resp.eagerWorkflowTask.taskToken && resp.eagerWorkflowTask.taskToken.length > 0);
  const names = (resp.eagerWorkflowTask.history.events ?? []).map((e) => e.eventType);
  assert.equal(names.length, 3, 'started, task scheduled, task started');
  // Durable and visible as started before the reply: the history shows the started task.
  const h = await suite.client.workflow.getHandle(workflowId).fetchHistory();
  assert.deepEqual(eventTypeNames(h), ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED']);
  // A worker that arrives later completes the run after the eager task's timeout (10 s default):
  // skip the wait; terminating is enough to show the run is live and well-formed.
  await suite.client.workflow.getHandle(workflowId).terminate('eager test done');
});

function tsNanos(ts) {
  return BigInt(ts.seconds.toString()) * 1000000000n + BigInt(ts.nanos ?? 0);
}

/** The ActivityTaskScheduled and ActivityTaskStarted events of a one-activity history. */
function activityEvents(history) {
  const [scheduled] = eventsOfType(history, 'ACTIVITY_TASK_SCHEDULED');
  const [started] = eventsOfType(history, 'ACTIVITY_TASK_STARTED');
  assert.ok(scheduled && started, 'one scheduled and one started activity event');
  return { scheduled, started };
}

async function activityQueueAddRate(taskQueue) {
  const d = await suite.connection.workflowService.describeTaskQueue({
    namespace: NS,
    taskQueue: { name: taskQueue },
    taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
    reportStats: true,
  });
  return d.stats ? d.stats.tasksAddRate : 0;
}

test('eager activity execution: the task rides the completion reply, started in the same commit', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-eager-act');
  const handle = await suite.withWorker(
    taskQueue,
    async () => {
      const h = await suite.client.workflow.start('greetWorkflow', { taskQueue, workflowId: uniqueName('wf-eager-act'), args: ['eager'] });
      assert.equal(await h.result(), 'Hello, eager!');
      return h;
    },
    { identity: 'eager-act-worker' },
  );
  const { scheduled, started } = activityEvents(await handle.fetchHistory());
  assert.equal(tsNanos(started.eventTime), tsNanos(scheduled.eventTime), 'started at the instant it was scheduled');
  assert.equal(started.activityTaskStartedEventAttributes.identity, 'eager-act-worker');
  assert.equal(started.activityTaskStartedEventAttributes.attempt, 1);
  assert.equal(await activityQueueAddRate(taskQueue), 0, 'the activity queue never saw the task');
});

test('a worker that does not ask for eager execution gets its activity through a poll', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-no-eager');
  const handle = await suite.withWorker(
    taskQueue,
    async () => {
      const h = await suite.client.workflow.start('greetWorkflow', { taskQueue, workflowId: uniqueName('wf-no-eager'), args: ['poll'] });
      assert.equal(await h.result(), 'Hello, poll!');
      return h;
    },
    { maxEagerActivityReservationsPerWorkflowTask: 0 },
  );
  const { scheduled, started } = activityEvents(await handle.fetchHistory());
  assert.ok(tsNanos(started.eventTime) > tsNanos(scheduled.eventTime), 'started later, by a poll');
  assert.ok((await activityQueueAddRate(taskQueue)) > 0, 'the task went through the activity queue');
});
