'use strict';
// Workflow-task heartbeating and return_new_workflow_task, as Temporal's
// RespondWorkflowTaskCompleted does them:
//   * a completion with force_create_new_workflow_task always gets a new workflow task; with no
//     commands it is a heartbeat: WorkflowTaskCompleted, WorkflowTaskScheduled, WorkflowTaskStarted;
//   * with return_new_workflow_task (the SDKs set it whenever they cache the run) the new task is
//     scheduled on the worker's sticky queue and started in the completion's own commit (request id
//     "request-from-RespondWorkflowTaskCompleted") and returned in the reply with the events after
//     the task just completed; it never goes through matching;
//   * heartbeats alone for longer than history.workflowTaskHeartbeatTimeout time the task out.
// The official TypeScript SDK heartbeats its task while a local activity runs longer than ~80 %
// of the task timeout: such a workflow completes with no workflow-task timeout.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { Connection } = require('@temporalio/client');

const {
  startServer,
  eventTypeNames,
  eventsOfType,
  expectGrpcError,
  uniqueName,
} = require('./harness');
const { TEST_TIMEOUT, NS, setupSuite } = require('./suite');
const { activities } = require('./activities');

const RETURNED_REQUEST_ID = 'request-from-RespondWorkflowTaskCompleted';
const flakyAttempts = new Map();
const suite = setupSuite({
  activities: {
    ...activities,
    async sleepFor(ms) {
      await new Promise((r) => setTimeout(r, ms));
      return `slept-${ms}`;
    },
    async flakySleep(key, ms) {
      const n = (flakyAttempts.get(key) ?? 0) + 1;
      flakyAttempts.set(key, n);
      if (n <= 2) throw new Error(`flaky attempt ${n}`);
      await new Promise((r) => setTimeout(r, ms));
      return `attempt-${n}`;
    },
  },
});

/** Indexes i of heartbeat triples: WFTCompleted at i directly followed by WFTScheduled, WFTStarted. */
function heartbeatIndexes(names) {
  const out = [];
  for (let i = 0; i + 2 < names.length; i++) {
    if (names[i] === 'WORKFLOW_TASK_COMPLETED' && names[i + 1] === 'WORKFLOW_TASK_SCHEDULED' && names[i + 2] === 'WORKFLOW_TASK_STARTED') {
      out.push(i);
    }
  }
  return out;
}

function assertNoTaskTimeoutsOrFailures(names) {
  assert.ok(!names.includes('WORKFLOW_TASK_TIMED_OUT'), `no workflow task timed out: ${names.join(',')}`);
  assert.ok(!names.includes('WORKFLOW_TASK_FAILED'), `no workflow task failed: ${names.join(',')}`);
}

test('TS SDK: a local activity 2x the task timeout keeps its task alive by heartbeats', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-la-hb');
  const identity = 'la-heartbeat-worker';
  const handle = await suite.withWorker(
    taskQueue,
    async () => {
      const h = await suite.client.workflow.start('longLocalActivityWorkflow', {
        taskQueue,
        workflowId: uniqueName('wf-la-hb'),
        args: [8500],
        workflowTaskTimeout: '4s',
      });
      assert.equal(await h.result(), 'slept-8500|after');
      return h;
    },
    { identity },
  );
  const hist = await handle.fetchHistory();
  const names = eventTypeNames(hist);
  assertNoTaskTimeoutsOrFailures(names);
  const beats = heartbeatIndexes(names);
  // 8.5 s at one heartbeat per 3.2 s (80 % of 4 s; a generous margin on a loaded machine): 2.
  assert.ok(beats.length >= 2, `heartbeat tasks in ${names.join(',')}`);
  for (const i of beats) {
    const completed = hist.events[i];
    const scheduled = hist.events[i + 1].workflowTaskScheduledEventAttributes;
    const started = hist.events[i + 2].workflowTaskStartedEventAttributes;
    assert.equal(completed.workflowTaskCompletedEventAttributes.identity, identity);
    assert.equal(scheduled.attempt, 1);
    assert.equal(scheduled.taskQueue.kind, 2, 'scheduled on the sticky queue (TASK_QUEUE_KIND_STICKY)');
    assert.equal(scheduled.taskQueue.normalName, taskQueue);
    assert.equal(started.requestId, RETURNED_REQUEST_ID, 'started by the completion, not by a poll');
    assert.equal(started.identity, identity);
    assert.equal(String(started.scheduledEventId), String(hist.events[i + 1].eventId));
  }
  // The heartbeats come first, then the local activity's marker and the activity.
  const marker = names.indexOf('MARKER_RECORDED');
  assert.ok(marker > beats[beats.length - 1], 'the marker follows the heartbeats');
  assert.equal(names[marker - 1], 'WORKFLOW_TASK_COMPLETED');
  assert.equal(hist.events[marker].markerRecordedEventAttributes.markerName, 'core_local_activity');
  assert.equal(names[marker + 1], 'ACTIVITY_TASK_SCHEDULED');
});

test('TS SDK: a local activity retried within heartbeated tasks records its final attempt', { timeout: TEST_TIMEOUT }, async () => {
  const taskQueue = uniqueName('tq-la-retry');
  const key = uniqueName('flaky');
  const handle = await suite.withWorker(taskQueue, async () => {
    const h = await suite.client.workflow.start('retryingLocalActivityWorkflow', {
      taskQueue,
      workflowId: uniqueName('wf-la-retry'),
      args: [key, 3000],
      workflowTaskTimeout: '4s',
    });
    assert.equal(await h.result(), 'attempt-3');
    return h;
  });
  assert.equal(flakyAttempts.get(key), 3);
  const hist = await handle.fetchHistory();
  const names = eventTypeNames(hist);
  assertNoTaskTimeoutsOrFailures(names);
  assert.ok(heartbeatIndexes(names).length >= 1, `heartbeat tasks in ${names.join(',')}`);
  const [marker] = eventsOfType(hist, 'MARKER_RECORDED');
  const data = JSON.parse(Buffer.from(marker.markerRecordedEventAttributes.details.data.payloads[0].data).toString());
  assert.equal(data.attempt, 3, 'the marker records the attempt that succeeded');
});

// --- raw gRPC: the reply's workflow_task ---

const STICKY = 2; // TASK_QUEUE_KIND_STICKY

async function startRaw(svc, taskQueue, workflowId) {
  await svc.startWorkflowExecution({
    namespace: NS,
    workflowId,
    workflowType: { name: 'rawWorkflow' },
    taskQueue: { name: taskQueue },
    identity: 'raw-starter',
    requestId: uniqueName('req'),
  });
}

async function pollRaw(svc, taskQueue) {
  const t = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'raw-worker' });
  assert.ok(t.taskToken && t.taskToken.length > 0, 'a task was polled');
  return t;
}

function stickyAttrs(taskQueue) {
  return {
    workerTaskQueue: { name: `${taskQueue}-sticky`, kind: STICKY, normalName: taskQueue },
    scheduleToStartTimeout: { seconds: 10 },
  };
}

function ids(events) {
  return events.map((e) => Number(e.eventId));
}

test('raw: return_new_workflow_task starts the next task in the completion and returns it', { timeout: TEST_TIMEOUT }, async () => {
  const svc = suite.connection.workflowService;
  const taskQueue = uniqueName('tq-raw-return');
  const workflowId = uniqueName('wf-raw-return');
  await startRaw(svc, taskQueue, workflowId);
  const t1 = await pollRaw(svc, taskQueue);
  assert.equal(Number(t1.startedEventId), 3);

  // 1. A heartbeat asking for the next task: it comes back in the reply.
  const r1 = await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: t1.taskToken,
    identity: 'raw-worker',
    stickyAttributes: stickyAttrs(taskQueue),
    forceCreateNewWorkflowTask: true,
    returnNewWorkflowTask: true,
  });
  const t2 = r1.workflowTask;
  assert.ok(t2 && t2.taskToken && t2.taskToken.length > 0, 'the reply carries the new task');
  assert.equal(t2.workflowExecution.workflowId, workflowId);
  assert.equal(t2.workflowType.name, 'rawWorkflow');
  assert.equal(t2.workflowExecutionTaskQueue.name, taskQueue);
  assert.equal(Number(t2.previousStartedEventId), 3);
  assert.equal(Number(t2.startedEventId), 6);
  assert.equal(t2.attempt, 1);
  assert.ok(t2.scheduledTime && t2.startedTime);
  // Partial history: the events after the task just completed.
  assert.deepEqual(ids(t2.history.events), [4, 5, 6]);
  assert.deepEqual(eventTypeNames(t2.history), ['WORKFLOW_TASK_COMPLETED', 'WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED']);
  const sched = t2.history.events[1].workflowTaskScheduledEventAttributes;
  assert.equal(sched.taskQueue.name, `${taskQueue}-sticky`);
  assert.equal(sched.taskQueue.kind, STICKY);
  const started = t2.history.events[2].workflowTaskStartedEventAttributes;
  assert.equal(started.requestId, RETURNED_REQUEST_ID);
  assert.equal(started.identity, 'raw-worker');
  // Durable before the reply: the stored history already ends with the started task.
  const h1 = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
  assert.deepEqual(ids(h1.history.events), [1, 2, 3, 4, 5, 6]);
  // The old token is spent.
  await expectGrpcError(
    svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: t1.taskToken, identity: 'raw-worker' }),
    5, // NOT_FOUND
  );

  // 2. force_create without return_new_workflow_task (and no sticky queue): no task in the
  //    reply; the next task goes through matching to the normal queue with full history.
  const r2 = await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: t2.taskToken,
    identity: 'raw-worker',
    forceCreateNewWorkflowTask: true,
  });
  assert.ok(!r2.workflowTask || !r2.workflowTask.taskToken || r2.workflowTask.taskToken.length === 0, 'no task in the reply');
  const t3 = await pollRaw(svc, taskQueue);
  assert.equal(Number(t3.previousStartedEventId), 6);
  assert.deepEqual(ids(t3.history.events), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notEqual(t3.history.events[8].workflowTaskStartedEventAttributes.requestId, RETURNED_REQUEST_ID);

  // 3. A signal buffered while the task runs: a completion with a command and
  //    return_new_workflow_task gets the next task (the signal in its history) in the reply.
  await svc.signalWorkflowExecution({
    namespace: NS,
    workflowExecution: { workflowId },
    signalName: 'poke',
    identity: 'raw-signaller',
    requestId: uniqueName('sig'),
  });
  const r3 = await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: t3.taskToken,
    identity: 'raw-worker',
    stickyAttributes: stickyAttrs(taskQueue),
    returnNewWorkflowTask: true,
    commands: [{ commandType: 3 /* START_TIMER */, startTimerCommandAttributes: { timerId: 't1', startToFireTimeout: { seconds: 600 } } }],
  });
  const t4 = r3.workflowTask;
  assert.ok(t4 && t4.taskToken && t4.taskToken.length > 0);
  assert.deepEqual(eventTypeNames(t4.history), [
    'WORKFLOW_TASK_COMPLETED',
    'TIMER_STARTED',
    'WORKFLOW_EXECUTION_SIGNALED',
    'WORKFLOW_TASK_SCHEDULED',
    'WORKFLOW_TASK_STARTED',
  ]);
  assert.equal(Number(t4.previousStartedEventId), 9);
  assert.equal(Number(t4.startedEventId), 14);

  // 4. Nothing new to do: return_new_workflow_task returns nothing and schedules nothing.
  const r4 = await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: t4.taskToken,
    identity: 'raw-worker',
    stickyAttributes: stickyAttrs(taskQueue),
    returnNewWorkflowTask: true,
    commands: [{ commandType: 4 /* COMPLETE_WORKFLOW_EXECUTION */, completeWorkflowExecutionCommandAttributes: {} }],
  });
  assert.ok(!r4.workflowTask || !r4.workflowTask.taskToken || r4.workflowTask.taskToken.length === 0);
  const h2 = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
  const names = eventTypeNames(h2.history);
  assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_COMPLETED');
  assertNoTaskTimeoutsOrFailures(names);
});

// --- the heartbeat timeout (history.workflowTaskHeartbeatTimeout), on a server of its own ---

let hbServer;
after(async () => {
  if (hbServer) await hbServer.stop('SIGTERM');
});

test('raw: heartbeats alone past history.workflowTaskHeartbeatTimeout time the task out', { timeout: TEST_TIMEOUT }, async () => {
  hbServer = await startServer({ ephemeral: true, extraArgs: ['--dynamic-config-value', 'history.workflowTaskHeartbeatTimeout=2'] });
  const connection = await Connection.connect({ address: hbServer.address });
  try {
    const svc = connection.workflowService;
    const taskQueue = uniqueName('tq-raw-hbto');
    const workflowId = uniqueName('wf-raw-hbto');
    // The chain starts when the first task is scheduled: after `before`, before `polled`.
    const before = Date.now();
    await startRaw(svc, taskQueue, workflowId);
    let task = await pollRaw(svc, taskQueue);
    const polled = Date.now();
    // Heartbeats well within the limit each return the next task.
    while (Date.now() - before < 1200) {
      const r = await svc.respondWorkflowTaskCompleted({
        namespace: NS,
        taskToken: task.taskToken,
        identity: 'raw-worker',
        stickyAttributes: stickyAttrs(taskQueue),
        forceCreateNewWorkflowTask: true,
        returnNewWorkflowTask: true,
      });
      task = r.workflowTask;
      assert.ok(task && task.taskToken.length > 0, 'heartbeat within the limit returns a task');
      await new Promise((r2) => setTimeout(r2, 300));
    }
    // Past the limit (the time itself is what is tested), the next heartbeat times the task out.
    await new Promise((r2) => setTimeout(r2, Math.max(0, 2300 - (Date.now() - polled))));
    await expectGrpcError(
      svc.respondWorkflowTaskCompleted({
        namespace: NS,
        taskToken: task.taskToken,
        identity: 'raw-worker',
        stickyAttributes: stickyAttrs(taskQueue),
        forceCreateNewWorkflowTask: true,
        returnNewWorkflowTask: true,
      }),
      5, // NOT_FOUND
      /workflow task heartbeat timeout/,
    );
    const h = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
    const names = eventTypeNames(h.history);
    const last = h.history.events[h.history.events.length - 1];
    assert.equal(names[names.length - 2], 'WORKFLOW_TASK_TIMED_OUT', names.join(','));
    assert.equal(h.history.events[h.history.events.length - 2].workflowTaskTimedOutEventAttributes.timeoutType, 1); // START_TO_CLOSE
    assert.equal(names[names.length - 1], 'WORKFLOW_TASK_SCHEDULED');
    assert.equal(last.workflowTaskScheduledEventAttributes.taskQueue.name, taskQueue, 'back on the normal queue');
    // The next task comes by a poll of the normal queue, with full history; commands make progress.
    const next = await pollRaw(svc, taskQueue);
    assert.equal(Number(next.history.events[0].eventId), 1);
    const r = await svc.respondWorkflowTaskCompleted({
      namespace: NS,
      taskToken: next.taskToken,
      identity: 'raw-worker',
      commands: [{ commandType: 4 /* COMPLETE_WORKFLOW_EXECUTION */, completeWorkflowExecutionCommandAttributes: {} }],
    });
    assert.ok(r);
    const h2 = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
    assert.equal(eventTypeNames(h2.history).pop(), 'WORKFLOW_EXECUTION_COMPLETED');
  } finally {
    await connection.close();
  }
});
