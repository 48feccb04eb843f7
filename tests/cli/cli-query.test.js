'use strict';
// `temporalite workflow query` that no worker answers (issue 15): the server holds a query while a
// worker has polled the workflow's task queue within matching.queryPollerUnavailableWindow (set to
// a few seconds here, 20 s by default) and fails it at once with Temporal's FAILED_PRECONDITION
// after that; the CLI says which, instead of "got no answer from <address>" (a dead server's look).
// The "worker" is the test itself: one raw poll and one empty workflow-task completion, so that
// the poll's time is known; no SDK worker runs.
//
// Run: tests/run-node-tests.sh tests/cli/cli-query.test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { Connection, Client } = require('@temporalio/client');

const { cli, uniqueName, makeTempDir, removeDir } = require('./cli-harness');
const { startServer } = require('../compat/harness');

const WINDOW_MS = 4000;
let server;
let connection;
let dir;

before(
  async () => {
    dir = makeTempDir('temporalite-cli-query-');
    server = await startServer({
      ephemeral: true,
      extraArgs: ['--dynamic-config-value', `matching.queryPollerUnavailableWindow=${WINDOW_MS}ms`],
    });
    connection = await Connection.connect({ address: server.address });
  },
  { timeout: 60000 },
);

after(async () => {
  if (connection) await connection.close().catch(() => {});
  if (server) await server.stop();
  if (dir) removeDir(dir);
});

test('workflow query nobody answers: a timeout naming the task queue while a worker polled recently, FAILED_PRECONDITION after the window', async () => {
  const taskQueue = uniqueName('query-tq');
  const workflowId = uniqueName('query-wf');
  await new Client({ connection }).workflow.start('noSuchWorkflow', { taskQueue, workflowId });
  // The test's own "worker": takes the first workflow task and completes it with no commands, so
  // the run is open and quiescent and the queue's last poll is now.
  const ws = connection.workflowService;
  const task = await ws.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'raw-worker' });
  const polledBy = Date.now();
  assert.ok(task.taskToken && task.taskToken.length > 0, 'the poll got the first workflow task');
  await ws.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: task.taskToken, identity: 'raw-worker', commands: [] });

  const query = ['workflow', 'query', '-w', workflowId, '--name', 'status', '--address', server.address];
  // Within the window: the server waits for a worker; the command's deadline ends the wait.
  let r = await cli([...query, '--command-timeout', '1s'], { dir, timeoutMs: 15000 });
  assert.ok(Date.now() - polledBy < WINDOW_MS, 'the first query ran within the window (machine too slow?)');
  assert.equal(r.code, 1, r.stderr);
  assert.ok(
    r.stderr.includes(`querying workflow failed: no worker answered the query within 1s (--command-timeout): ` +
      `is a worker for task queue "${taskQueue}" running, and not stuck? (DEADLINE_EXCEEDED)`),
    r.stderr,
  );
  assert.doesNotMatch(r.stderr, /got no answer|command timed out/);

  // Past the window with no poll since: refused at once (Temporal's message), not held to the deadline.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, polledBy + WINDOW_MS + 300 - Date.now())));
  const sent = Date.now();
  r = await cli([...query, '--command-timeout', '20s'], { dir, timeoutMs: 30000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /querying workflow failed: no poller seen for task queue recently, worker may be down \(FAILED_PRECONDITION\)/);
  assert.ok(Date.now() - sent < 10000, `answered at once, not at the deadline (${Date.now() - sent} ms)`);
});
