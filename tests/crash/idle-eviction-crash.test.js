'use strict';
// Idle open runs are evicted from memory (src/history/run_cache.h) and a restart does not load
// them: only their timers are re-armed. This test SIGKILLs the server while runs wait on timers,
// checks the restart left them on disk (its recovery log line), and that each timer then fires
// exactly once and the runs complete. A parent waiting on its child is evicted too: the child's
// close reaches it by a deferred step (src/history/deferred_steps.cc) that a SIGKILL before the
// step leaves to the restart, which applies it once.
//
// The worker is driven through the raw WorkflowService calls (no SDK worker), so every workflow
// task is seen and answered here.
//
// Run: node --test tests/crash/idle-eviction-crash.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { Connection, Client } = require('@temporalio/client');
const { temporal } = require('@temporalio/proto');

const { startServer, makeTempDir, removeDir, uniqueName } = require('../compat/harness');
const { cleanupsAfterTests, killAndRestart, sigkill, restart } = require('./crash-harness');

const NS = 'default';
const N = 10;
const TIMER_S = 4;
const CommandType = temporal.api.enums.v1.CommandType;
const EventType = temporal.api.enums.v1.EventType;

const cleanups = cleanupsAfterTests();

// Polls workflow tasks of `taskQueue` and answers each with `commandsFor(task)` until `count`
// tasks were answered or `deadlineMs` passed.
async function answerTasks(svc, taskQueue, count, deadlineMs, commandsFor) {
  const seen = [];
  const deadline = Date.now() + deadlineMs;
  while (seen.length < count && Date.now() < deadline) {
    const task = await svc.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'eviction-test' });
    if (!task.taskToken || task.taskToken.length === 0) continue;
    await svc.respondWorkflowTaskCompleted({
      namespace: NS,
      taskToken: task.taskToken,
      identity: 'eviction-test',
      commands: commandsFor(task),
    });
    seen.push(task);
  }
  return seen;
}

function countEvents(history, type) {
  return history.events.filter((e) => e.eventType === type).length;
}

test('evicted idle runs: after SIGKILL their timers fire exactly once', { timeout: 120000 }, async () => {
  const dataDir = makeTempDir('temporalite-eviction-crash-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir, logLevel: 'info' });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const taskQueue = uniqueName('eviction-tq');
  const ids = Array.from({ length: N }, (_, i) => uniqueName(`eviction-wf-${i}`));

  let connection = await Connection.connect({ address: server.address });
  let client = new Client({ connection, namespace: NS });
  for (const workflowId of ids) await client.workflow.start('idleTimer', { taskQueue, workflowId });
  const first = await answerTasks(connection.workflowService, taskQueue, N, 30000, () => [
    {
      commandType: CommandType.COMMAND_TYPE_START_TIMER,
      startTimerCommandAttributes: { timerId: 'idle', startToFireTimeout: { seconds: TIMER_S } },
    },
  ]);
  assert.equal(first.length, N);
  await connection.close();

  server = await killAndRestart(server, { samePort: false, logLevel: 'info' });
  // Recovery loaded none of them, nor read their state: they only wait on their timers (schema 7
  // rows carry the earliest one).
  assert.match(server.stderr(), new RegExp(`${N} open workflow executions \\(${N} idle, not loaded; ${N} of them by their wake-up time alone`), server.stderr());

  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: NS });
  const second = await answerTasks(connection.workflowService, taskQueue, N, 60000, (task) => {
    assert.equal(countEvents(task.history, EventType.EVENT_TYPE_TIMER_FIRED), 1);
    return [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }];
  });
  assert.equal(second.length, N, 'every timer fired after the restart');
  for (const workflowId of ids) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    assert.equal(countEvents(history, EventType.EVENT_TYPE_TIMER_FIRED), 1, workflowId);
    assert.equal(countEvents(history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), 1, workflowId);
  }
  await connection.close();
  const res = await server.stop('SIGTERM');
  assert.equal(res.code, 0);
  server = undefined;
});

// Recovery arms one wake-up per idle run at its earliest timer (the row's `wake` column) without
// reading its state; the wake-up reads the run back and arms its timers. Here every timer came
// due while the server was down, the server is SIGKILLed again right after the restart (while the
// wake-ups read runs back and fire their timers) and restarted: each timer still fires once.
test('idle runs whose timers came due while down: SIGKILL during the wake-ups, each fires once', { timeout: 120000 }, async () => {
  const dataDir = makeTempDir('temporalite-eviction-wake-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir, logLevel: 'info' });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const n = 40;
  const taskQueue = uniqueName('wake-tq');
  const ids = Array.from({ length: n }, (_, i) => uniqueName(`wake-wf-${i}`));
  let connection = await Connection.connect({ address: server.address });
  let client = new Client({ connection, namespace: NS });
  for (const workflowId of ids) await client.workflow.start('idleTimer', { taskQueue, workflowId });
  // Two timers each, 2 s and 3 s: the row's wake-up is the earlier one, both must fire.
  const first = await answerTasks(connection.workflowService, taskQueue, n, 30000, () => [
    { commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 'a', startToFireTimeout: { seconds: 2 } } },
    { commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 'b', startToFireTimeout: { seconds: 3 } } },
  ]);
  assert.equal(first.length, n);
  const allDueAt = Date.now() + 3500;
  await connection.close();
  await sigkill(server);
  // Down until every timer is due (a wait for wall-clock time, bounded).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, allDueAt - Date.now())));
  server = await restart(server, { samePort: false, logLevel: 'info' });
  assert.match(server.stderr(), new RegExp(`${n} open workflow executions \\(${n} idle, not loaded; ${n} of them by their wake-up time alone`), server.stderr());
  server = await killAndRestart(server, { samePort: false, logLevel: 'info' });

  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: NS });
  // Each run gets workflow tasks until both timers are in its history; then it completes.
  const done = new Set();
  const deadline = Date.now() + 60000;
  while (done.size < n && Date.now() < deadline) {
    const task = await connection.workflowService.pollWorkflowTaskQueue({ namespace: NS, taskQueue: { name: taskQueue }, identity: 'wake-test' });
    if (!task.taskToken || task.taskToken.length === 0) continue;
    const fired = countEvents(task.history, EventType.EVENT_TYPE_TIMER_FIRED);
    assert.ok(fired <= 2, `at most two timers fired: ${fired}`);
    const complete = fired === 2;
    await connection.workflowService.respondWorkflowTaskCompleted({
      namespace: NS,
      taskToken: task.taskToken,
      identity: 'wake-test',
      commands: complete ? [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }] : [],
    });
    if (complete) done.add(task.workflowExecution.workflowId);
  }
  assert.equal(done.size, n, 'every run saw both timers fire after the restarts');
  for (const workflowId of ids) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const fired = history.events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)
      .map((e) => e.timerFiredEventAttributes.timerId).sort();
    assert.deepEqual(fired, ['a', 'b'], workflowId);
    assert.equal(countEvents(history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), 1, workflowId);
  }
  await connection.close();
  const res = await server.stop('SIGTERM');
  assert.equal(res.code, 0);
  server = undefined;
});

// A parent waiting on its child is idle and leaves memory. The child's close writes a step
// ("tell the parent") in its own transaction; the step is held back here (a test hook delays it)
// so the server is SIGKILLed between the close's commit and the step: the restart runs the step,
// the parent records the child's completion once, and a second SIGKILL and restart add nothing.
test('a child closing while its parent is evicted: SIGKILL before the parent is told, told once after', { timeout: 120000 }, async () => {
  const dataDir = makeTempDir('temporalite-eviction-child-');
  cleanups.push(() => removeDir(dataDir));
  let server = await startServer({ dataDir, logLevel: 'info', env: { TEMPORALITE_TEST_DEFERRED_STEP_DELAY_MS: '600000' } });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const taskQueue = uniqueName('parent-tq');
  const childQueue = uniqueName('child-tq');
  const parentId = uniqueName('parent');
  const childId = uniqueName('child');
  let connection = await Connection.connect({ address: server.address });
  let client = new Client({ connection, namespace: NS });
  await client.workflow.start('parentWf', { taskQueue, workflowId: parentId });
  const started = await answerTasks(connection.workflowService, taskQueue, 2, 30000, (task) =>
    countEvents(task.history, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED) > 0
      ? []
      : [
          {
            commandType: CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
            startChildWorkflowExecutionCommandAttributes: {
              namespace: NS,
              workflowId: childId,
              workflowType: { name: 'childWf' },
              taskQueue: { name: childQueue },
            },
          },
        ]);
  assert.equal(started.length, 2, 'the parent started its child and saw it start');
  const childDone = await answerTasks(connection.workflowService, childQueue, 1, 30000, () => [
    { commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} },
  ]);
  assert.equal(childDone.length, 1);
  let history = await client.workflow.getHandle(parentId).fetchHistory();
  assert.equal(countEvents(history, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 0, 'the step ran before the kill');
  await connection.close();

  server = await killAndRestart(server, { samePort: false, logLevel: 'info' });
  assert.match(server.stderr(), /recovered 1 deferred steps of closed runs/, server.stderr());
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: NS });
  const told = await answerTasks(connection.workflowService, taskQueue, 1, 30000, (task) => {
    assert.equal(countEvents(task.history, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1);
    return [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }];
  });
  assert.equal(told.length, 1, 'the parent got a workflow task for its child\'s completion');
  await connection.close();

  server = await killAndRestart(server, { samePort: false, logLevel: 'info' });
  assert.doesNotMatch(server.stderr(), /deferred steps/, 'the step row went with the step');
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: NS });
  history = await client.workflow.getHandle(parentId).fetchHistory();
  assert.equal(countEvents(history, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1);
  assert.equal(countEvents(history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), 1);
  await connection.close();
  const res = await server.stop('SIGTERM');
  assert.equal(res.code, 0);
  server = undefined;
});
