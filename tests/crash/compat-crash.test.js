'use strict';
// Crash test for fields persisted for Temporal compatibility: a workflow's user metadata (start
// summary and details) and priority, and a schedule's action user metadata and search attributes
// survive a SIGKILL of the server (each acknowledged write is durable).
//
// Run: node --test tests/crash/compat-crash.test.js   (env TEMPORALITE_BIN overrides the binary)

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { Connection, Client } = require('@temporalio/client');

const { startServer, makeTempDir, removeDir, uniqueName } = require('../compat/harness');
const { cleanupsAfterTests, killAndRestart } = require('./crash-harness');

const NS = 'default';
const cleanups = cleanupsAfterTests();

async function withClient(server, fn) {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: NS }));
  } finally {
    await connection.close();
  }
}

function payloadText(p) {
  return p ? JSON.parse(Buffer.from(p.data).toString()) : undefined;
}

test('user metadata, priority and schedule search attributes survive SIGKILL', { timeout: 60000 }, async () => {
  const dataDir = makeTempDir('temporalite-compat-crash-');
  cleanups.push(() => removeDir(dataDir));
  const extraArgs = ['--search-attribute', 'CrashKeyword=Keyword', '--search-attribute', 'CrashInt=Int'];
  let server = await startServer({ dataDir, extraArgs });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const workflowId = uniqueName('compat-crash-wf');
  const scheduleId = uniqueName('compat-crash-sched');
  const taskQueue = uniqueName('compat-crash-tq'); // no worker: the workflow stays running
  await withClient(server, async (client) => {
    await client.workflow.start('noSuchWorkflowType', {
      taskQueue,
      workflowId,
      staticSummary: 'crash summary',
      staticDetails: 'crash details',
      priority: { priorityKey: 4, fairnessKey: 'tenant-b', fairnessWeight: 2.5 },
    });
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 hour' }] },
      state: { paused: true },
      searchAttributes: { CrashKeyword: ['sched-kw'], CrashInt: [7] },
      action: {
        type: 'startWorkflow',
        workflowType: 'noSuchWorkflowType',
        taskQueue,
        staticSummary: 'scheduled summary',
        staticDetails: 'scheduled details',
        searchAttributes: { CrashKeyword: ['action-kw'], CrashInt: [8] },
      },
    });
  });
  server = await killAndRestart(server, { samePort: false, extraArgs });
  await withClient(server, async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    const desc = await handle.describe();
    assert.equal(await desc.staticSummary(), 'crash summary');
    assert.equal(await desc.staticDetails(), 'crash details');
    const p = desc.raw.workflowExecutionInfo.priority;
    assert.deepEqual([p.priorityKey, p.fairnessKey, p.fairnessWeight], [4, 'tenant-b', 2.5]);
    const started = (await handle.fetchHistory()).events[0];
    assert.equal(payloadText(started.userMetadata.summary), 'crash summary');
    assert.equal(started.workflowExecutionStartedEventAttributes.priority.priorityKey, 4);

    const sched = await client.schedule.getHandle(scheduleId).describe();
    assert.equal(sched.action.staticSummary, 'scheduled summary');
    assert.equal(sched.action.staticDetails, 'scheduled details');
    assert.deepEqual(sched.action.searchAttributes, { CrashKeyword: ['action-kw'], CrashInt: [8] });
    assert.deepEqual(sched.searchAttributes, { CrashKeyword: ['sched-kw'], CrashInt: [7] });
    await client.workflow.getHandle(workflowId).terminate('done');
  });
  const res = await server.stop('SIGTERM');
  assert.equal(res.code, 0);
  server = undefined;
});

test('schedule visibility rows (search attributes, paused, deletes) survive SIGKILL', { timeout: 60000 }, async () => {
  const dataDir = makeTempDir('temporalite-compat-crash-vis-');
  cleanups.push(() => removeDir(dataDir));
  const extraArgs = ['--search-attribute', 'CrashTeam=Keyword'];
  let server = await startServer({ dataDir, extraArgs });
  cleanups.push(() => server && server.stop('SIGKILL'));
  const prefix = uniqueName('crash-vis');
  const ids = (n) => `${prefix}-${n}`;
  const listIds = async (client, query) => {
    const out = [];
    for await (const s of client.schedule.list({ query: `ScheduleId STARTS_WITH '${prefix}-' AND (${query})`, pageSize: 2 })) {
      out.push(s.scheduleId.slice(prefix.length + 1));
    }
    return out.sort();
  };
  await withClient(server, async (client) => {
    for (const [n, team] of [['a', 'ingest'], ['b', 'ops'], ['c', 'ingest'], ['d', 'ingest']]) {
      await client.schedule.create({
        scheduleId: ids(n),
        spec: { intervals: [{ every: '1 day' }] },
        searchAttributes: { CrashTeam: [team] },
        action: { type: 'startWorkflow', workflowType: 'noSuchWorkflowType', taskQueue: uniqueName('crash-vis-tq') },
      });
    }
    await client.schedule.getHandle(ids('c')).pause('maintenance');
    await client.schedule.getHandle(ids('d')).delete();
    // Acknowledged: what a list shows now must be there after the kill.
    assert.deepEqual(await listIds(client, "CrashTeam = 'ingest'"), ['a', 'c']);
  });
  server = await killAndRestart(server, { samePort: false, extraArgs });
  await withClient(server, async (client) => {
    assert.deepEqual(await listIds(client, "CrashTeam = 'ingest'"), ['a', 'c']);
    assert.deepEqual(await listIds(client, 'TemporalSchedulePaused = true'), ['c']);
    assert.deepEqual(await listIds(client, "CrashTeam = 'ops' OR TemporalSchedulePaused = true"), ['b', 'c']);
    const { count } = await client.workflowService.countSchedules({ namespace: NS, query: `ScheduleId STARTS_WITH '${prefix}-'` });
    assert.equal(Number(count), 3);
  });
  const res = await server.stop('SIGTERM');
  assert.equal(res.code, 0);
  server = undefined;
});
