'use strict';
// The store updates rows in place when only their values change (src/persistence/sqlite_internal.h:
// an open run's state blob; a visibility row whose status and close time stay, e.g. a memo upsert
// or BuildIds at the first workflow task), and falls back to the upsert for a new row or a close.
// This test drives workflows through those transitions with raw WorkflowService calls, SIGKILLs
// the server right after the last acknowledgement and restarts it on the same data directory:
// the open runs are recovered with their latest state (their pending workflow task is handed out
// again and completes them), and the list reads the in-place visibility values (memo) for open
// and closed runs alike, by status.
//
// Run: node --test tests/crash/in-place-update-crash.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { Connection, Client } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { startServer, makeTempDir, removeDir, uniqueName, withTimeout } = require('../compat/harness');
const { cleanupsAfterTests, killAndRestart } = require('./crash-harness');

const NS = 'default';
const N = 6; // per half
const CommandType = temporal.api.enums.v1.CommandType;
const EventType = temporal.api.enums.v1.EventType;

const cleanups = cleanupsAfterTests();

const json = (v) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });

// Polls workflow tasks of `taskQueue` and answers `count` of them with `commandsFor(task)`.
async function answerWorkflowTasks(svc, taskQueue, count, commandsFor) {
  const seen = [];
  while (seen.length < count) {
    const task = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'in-place-test' });
    if (!task.taskToken || task.taskToken.length === 0) continue;
    await svc.respondWorkflowTaskCompleted({ namespace: NS, taskToken: task.taskToken, identity: 'in-place-test', commands: commandsFor(task) });
    seen.push(task);
  }
  return seen;
}

async function completeActivities(svc, taskQueue, count) {
  let done = 0;
  while (done < count) {
    const task = await svc.pollActivityTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'in-place-test' });
    if (!task.taskToken || task.taskToken.length === 0) continue;
    await svc.respondActivityTaskCompleted({ namespace: NS, taskToken: task.taskToken, identity: 'in-place-test', result: { payloads: [json('ok')] } });
    done++;
  }
}

const firstTaskCommands = (task) => [
  {
    commandType: CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
    modifyWorkflowPropertiesCommandAttributes: { upsertedMemo: { fields: { note: json(`memo-${task.workflowExecution.workflowId}`) } } },
  },
  {
    commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
    scheduleActivityTaskCommandAttributes: {
      activityId: 'a1',
      activityType: { name: 'noop' },
      taskQueue: { name: task.workflowExecution.workflowId.startsWith('open') ? 'act-open' : 'act-close' },
      startToCloseTimeout: { seconds: 60 },
    },
  },
];
const completeCommands = () => [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: { result: { payloads: [json('done')] } } }];

async function listByQuery(client, query) {
  const out = [];
  for await (const info of client.workflow.list({ query })) out.push(info);
  return out;
}

test('rows updated in place survive SIGKILL: open runs recover and continue, visibility keeps the memo', { timeout: 120000 }, async () => {
  const dataDir = makeTempDir('temporalite-in-place-crash-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const tqOpen = uniqueName('in-place-open');
  const tqClose = uniqueName('in-place-close');
  const openIds = Array.from({ length: N }, (_, i) => uniqueName(`open-${i}`));
  const closeIds = Array.from({ length: N }, (_, i) => uniqueName(`close-${i}`));

  let connection = await Connection.connect({ address: server.address });
  let client = new Client({ connection, namespace: NS });
  const svc = connection.workflowService;
  await withTimeout(
    (async () => {
      for (const workflowId of openIds) await client.workflow.start('inPlace', { taskQueue: tqOpen, workflowId });
      for (const workflowId of closeIds) await client.workflow.start('inPlace', { taskQueue: tqClose, workflowId });
      // First workflow task: memo upsert (visibility in place) + an activity (state in place).
      await answerWorkflowTasks(svc, tqOpen, N, firstTaskCommands);
      await answerWorkflowTasks(svc, tqClose, N, firstTaskCommands);
      await completeActivities(svc, 'act-open', N);
      await completeActivities(svc, 'act-close', N);
      // The "close" half completes (the upsert path); the "open" half keeps a scheduled task.
      await answerWorkflowTasks(svc, tqClose, N, completeCommands);
    })(),
    60000,
    'driving the workflows',
  );
  await connection.close();
  server = await killAndRestart(server, { samePort: false }); // right after the last acknowledgement
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: NS });
  const running = await listByQuery(client, `TaskQueue = "${tqOpen}" AND ExecutionStatus = "Running"`);
  assert.deepEqual(running.map((i) => i.workflowId).sort(), [...openIds].sort());
  for (const info of running) assert.equal(info.memo?.note, `memo-${info.workflowId}`, info.workflowId);
  const completed = await listByQuery(client, `TaskQueue = "${tqClose}" AND ExecutionStatus = "Completed"`);
  assert.deepEqual(completed.map((i) => i.workflowId).sort(), [...closeIds].sort());
  for (const info of completed) assert.equal(info.memo?.note, `memo-${info.workflowId}`, info.workflowId);

  // The open runs were recovered with their latest state: the activity's completion is there and
  // the workflow task it scheduled is handed out again.
  const tasks = await withTimeout(answerWorkflowTasks(connection.workflowService, tqOpen, N, completeCommands), 30000, 'recovered tasks');
  for (const task of tasks) {
    const types = task.history.events.map((e) => e.eventType);
    assert.equal(types.filter((t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length, 1, task.workflowExecution.workflowId);
  }
  for (const workflowId of openIds) {
    const desc = await client.workflow.getHandle(workflowId).describe();
    assert.equal(desc.status.name, 'COMPLETED', workflowId);
  }
  assert.equal((await listByQuery(client, `TaskQueue = "${tqOpen}" AND ExecutionStatus = "Completed"`)).length, N);
  await connection.close();
  const res = await server.stop('SIGTERM');
  assert.equal(res.code, 0);
  server = undefined;
});
