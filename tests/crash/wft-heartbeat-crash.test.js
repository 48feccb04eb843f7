'use strict';
// return_new_workflow_task and crashes: the workflow task a RespondWorkflowTaskCompleted reply
// carries is started in the completion's own commit, and the reply is sent only once that commit
// is durable. SIGKILL right after the reply; after a restart on the same data directory and port:
//   * the history ends with the returned task's WorkflowTaskStarted (nothing acknowledged lost);
//   * the worker that holds the returned task completes it with its token, and the run goes on;
//   * a returned task whose worker is gone too times out (start-to-close) and comes back by a
//     poll of the normal queue with full history.
//
// Run: node --test tests/crash/wft-heartbeat-crash.test.js   (env TEMPORALITE_BIN overrides the binary)

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { Connection } = require('@temporalio/client');

const { startServer, makeTempDir, removeDir, eventTypeNames, uniqueName } = require('../compat/harness');
const { cleanupsAfterTests, killAndRestart } = require('./crash-harness');

const NS = 'default';
const STICKY = 2; // TASK_QUEUE_KIND_STICKY
const cleanups = cleanupsAfterTests();

async function withService(server, fn) {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(connection.workflowService);
  } finally {
    await connection.close();
  }
}

async function startAndPoll(svc, taskQueue, workflowId, taskTimeoutSeconds) {
  await svc.startWorkflowExecution({
    namespace: NS,
    workflowId,
    workflowType: { name: 'rawWorkflow' },
    taskQueue: { name: taskQueue },
    workflowTaskTimeout: { seconds: taskTimeoutSeconds },
    identity: 'crash-starter',
    requestId: uniqueName('req'),
  });
  const t = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'crash-worker' });
  assert.ok(t.taskToken && t.taskToken.length > 0);
  return t;
}

/** A heartbeat completion asking for the next task; returns that task. */
async function heartbeat(svc, taskQueue, task) {
  const r = await svc.respondWorkflowTaskCompleted({
    namespace: NS,
    taskToken: task.taskToken,
    identity: 'crash-worker',
    stickyAttributes: {
      workerTaskQueue: { name: `${taskQueue}-sticky`, kind: STICKY, normalName: taskQueue },
      scheduleToStartTimeout: { seconds: 10 },
    },
    forceCreateNewWorkflowTask: true,
    returnNewWorkflowTask: true,
  });
  assert.ok(r.workflowTask && r.workflowTask.taskToken.length > 0, 'the reply carries the next task');
  return r.workflowTask;
}

async function history(svc, workflowId) {
  const h = await svc.getWorkflowExecutionHistory({ namespace: NS, execution: { workflowId } });
  return h.history;
}

const COMPLETE = [{ commandType: 4 /* COMPLETE_WORKFLOW_EXECUTION */, completeWorkflowExecutionCommandAttributes: {} }];

test('a workflow task returned by a completion survives SIGKILL right after the reply', { timeout: 90000 }, async () => {
  const dataDir = makeTempDir('temporalite-wfthb-crash-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const taskQueue = uniqueName('wfthb-crash-tq');
  const kept = uniqueName('wfthb-crash-kept');
  const lost = uniqueName('wfthb-crash-lost');

  const [keptTask] = await withService(server, async (svc) => {
    const k = await heartbeat(svc, taskQueue, await startAndPoll(svc, taskQueue, kept, 30));
    const l = await heartbeat(svc, taskQueue, await startAndPoll(svc, taskQueue, lost, 1));
    assert.equal(Number(l.startedEventId), 6);
    return [k];
  });
  server = await killAndRestart(server);

  await withService(server, async (svc) => {
    // The returned tasks are in history, started by the completions.
    for (const id of [kept, lost]) {
      const h = await history(svc, id);
      const names = eventTypeNames(h);
      assert.deepEqual(names.slice(3), ['WORKFLOW_TASK_COMPLETED', 'WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED'], names.join(','));
      assert.equal(h.events[5].workflowTaskStartedEventAttributes.requestId, 'request-from-RespondWorkflowTaskCompleted');
    }
    assert.equal(Number(keptTask.startedEventId), 6);

    // The worker still holding the kept task (30 s task timeout) completes it with its token.
    await svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: keptTask.taskToken, identity: 'crash-worker', commands: COMPLETE });

    // The lost task (1 s task timeout, its worker gone) times out and comes back by a poll.
    const t = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'crash-worker-2' });
    assert.ok(t.taskToken && t.taskToken.length > 0, 'the timed-out task came back on the normal queue');
    assert.equal(t.workflowExecution.workflowId, lost);
    assert.equal(Number(t.history.events[0].eventId), 1, 'full history');
    const lostNames = eventTypeNames(t.history);
    assert.deepEqual(lostNames.slice(6), ['WORKFLOW_TASK_TIMED_OUT', 'WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED'], lostNames.join(','));
    await svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: t.taskToken, identity: 'crash-worker-2', commands: COMPLETE });
    for (const id of [kept, lost]) {
      const names = eventTypeNames(await history(svc, id));
      assert.equal(names[names.length - 1], 'WORKFLOW_EXECUTION_COMPLETED', names.join(','));
    }
    assert.deepEqual(eventTypeNames(await history(svc, kept)).slice(6), ['WORKFLOW_TASK_COMPLETED', 'WORKFLOW_EXECUTION_COMPLETED']);
  });
});
