'use strict';
// Server-side failure alerts, the state and the schedule streak: the alerter's record (cursor,
// streaks, undelivered messages) lives in the database, so it is migrated from the side file of
// earlier versions, goes into backups and comes back with a restore; and a schedule's runs make
// their own streak: two consecutive failed runs of a schedule make exactly one webhook POST to a
// real local HTTP receiver, and a successful run one recovery message.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, installRuntime, pollUntil, uniqueName } = require('../compat/harness');
const { cli, startWorker, bundle } = require('./ops');

function receiver() {
  const state = { accepted: [] };
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.accepted.push(JSON.parse(body).text);
      res.end('ok');
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, state, url: `http://127.0.0.1:${srv.address().port}/services/T/B/X` })));
}

// Long enough for the alerter (1 s poll, nudged on every close) to have sent what it would send.
const settle = () => new Promise((r) => setTimeout(r, 2500));

/** The alerter's record in the database (sqlite3 CLI on the live WAL database). */
function alertRecord(db) {
  const out = execFileSync('sqlite3', [db, "SELECT value FROM server_state WHERE key = 'alerts'"], { encoding: 'utf8' });
  return JSON.parse(out);
}

test('alert state is in the database: migrated from the side file, in backups, back after a restore', { timeout: 120000 }, async () => {
  installRuntime();
  const workflowBundle = await bundle();
  const hook = await receiver();
  const dirA = makeTempDir('tl-alerts-db-');
  const dirB = makeTempDir('tl-alerts-db-restored-');
  const backups = makeTempDir('tl-alerts-db-backups-');
  const taskQueue = uniqueName('ops-alerts-db');
  const alertArgs = ['--alert-webhook', hook.url, '--alert-after', '2'];
  // The side file of earlier versions, one failure into a streak of the type.
  const legacy = path.join(dirA, 'alerts-state.json');
  const startNs = `${BigInt(Date.now() - 1000) * 1000000n}`;
  fs.writeFileSync(legacy, `{"startTime":${startNs},"cursors":{},"streaks":{"type:default/opsOutcomeWorkflow":{"failures":1,"alerted":false}},"outbox":[]}`);
  let server = await startServer({ dataDir: dirA, extraArgs: alertArgs });
  let worker;
  let conn;
  try {
    assert.equal(fs.existsSync(legacy), false, 'the side file is moved aside');
    assert.ok(fs.existsSync(`${legacy}.migrated`));
    const db = path.join(dirA, 'temporalite.db');
    assert.deepEqual(alertRecord(db).streaks, { 'type:default/opsOutcomeWorkflow': { failures: 1, alerted: false } });

    worker = await startWorker(server.address, taskQueue, {}, workflowBundle);
    conn = await Connection.connect({ address: server.address });
    const client = new Client({ connection: conn, namespace: 'default' });
    const h = await client.workflow.start('opsOutcomeWorkflow', { taskQueue, workflowId: uniqueName('outcome'), args: [true] });
    await h.result().catch(() => {});
    // The migrated failure and this one make the streak of two.
    await pollUntil(() => hook.state.accepted.length >= 1, { timeoutMs: 15000, what: 'the alert' });
    assert.match(hook.state.accepted[0], /Workflow type opsOutcomeWorkflow \(namespace default\): 2 consecutive runs failed/);
    await pollUntil(() => alertRecord(db).outbox.length === 0, { timeoutMs: 10000, what: 'the outbox emptied in the database' });
    assert.deepEqual(alertRecord(db).streaks['type:default/opsOutcomeWorkflow'], { failures: 2, alerted: true });

    // A backup carries the alerted streak; a server on the restored database sends the recovery
    // (and does not alert again).
    const created = await cli(['backup', 'create', '--address', server.address, '--to', backups, '-o', 'json']);
    assert.equal(created.code, 0, created.stderr);
    await worker.stop();
    worker = undefined;
    await conn.close();
    conn = undefined;
    await server.stop();
    const dbB = path.join(dirB, 'temporalite.db');
    const restored = await cli(['backup', 'restore', '--from', backups, '--db-filename', dbB]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(fs.existsSync(path.join(dirB, 'alerts-state.json')), false);
    server = await startServer({ dataDir: dirB, extraArgs: alertArgs });
    worker = await startWorker(server.address, taskQueue, {}, workflowBundle);
    conn = await Connection.connect({ address: server.address });
    const clientB = new Client({ connection: conn, namespace: 'default' });
    const ok = await clientB.workflow.start('opsOutcomeWorkflow', { taskQueue, workflowId: uniqueName('outcome'), args: [false] });
    assert.equal(await ok.result(), 'ok');
    await pollUntil(() => hook.state.accepted.length >= 2, { timeoutMs: 15000, what: 'the recovery from the restored server' });
    await settle();
    assert.equal(hook.state.accepted.length, 2, hook.state.accepted.join('\n'));
    assert.match(hook.state.accepted[1], /Workflow type opsOutcomeWorkflow \(namespace default\) recovered/);
  } finally {
    if (worker) await worker.stop().catch(() => {});
    if (conn) await conn.close().catch(() => {});
    await server.stop();
    hook.srv.close();
    for (const d of [dirA, dirB, backups]) removeDir(d);
  }
});

test('a schedule streak: two consecutive failed runs of a schedule make one webhook POST, a success one recovery', { timeout: 120000 }, async () => {
  installRuntime();
  const workflowBundle = await bundle();
  const hook = await receiver();
  const taskQueue = uniqueName('ops-alerts-sched');
  const server = await startServer({ extraArgs: ['--alert-webhook', hook.url, '--alert-after', '2'] });
  const worker = await startWorker(server.address, taskQueue, {}, workflowBundle);
  const conn = await Connection.connect({ address: server.address });
  const client = new Client({ connection: conn, namespace: 'default' });
  const scheduleId = uniqueName('alert-sched');
  try {
    const handle = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'opsOutcomeWorkflow', taskQueue, args: [true] },
    });
    let runs = 0;
    /** Triggers the schedule and waits for the run it started to close. */
    const triggerRun = async () => {
      await handle.trigger();
      runs += 1;
      const action = await pollUntil(async () => {
        const recent = (await handle.describe()).info.recentActions;
        return recent.length >= runs ? recent[runs - 1].action : null;
      }, { timeoutMs: 15000, what: `schedule run ${runs}` });
      await client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId).result().catch(() => {});
    };
    // A direct (unscheduled) run of the same type between the schedule's runs: the type's streak
    // breaks, the schedule's does not, so only the schedule alerts.
    const directRun = async (fail) => {
      const h = await client.workflow.start('opsOutcomeWorkflow', { taskQueue, workflowId: uniqueName('direct'), args: [fail] });
      await h.result().catch(() => {});
    };

    await triggerRun();
    await settle();
    assert.deepEqual(hook.state.accepted, [], 'no alert for one failed run');
    await directRun(false);
    await triggerRun();
    await pollUntil(() => hook.state.accepted.length >= 1, { timeoutMs: 15000, what: 'the schedule alert' });
    await settle();
    assert.equal(hook.state.accepted.length, 1, hook.state.accepted.join('\n'));
    assert.match(hook.state.accepted[0], new RegExp(`^:rotating_light: Schedule ${scheduleId} \\(namespace default\\): 2 consecutive runs failed`));

    // The schedule's runs succeed again: one recovery message.
    await handle.update((prev) => ({ ...prev, action: { ...prev.action, args: [false] } }));
    await triggerRun();
    await pollUntil(() => hook.state.accepted.length >= 2, { timeoutMs: 15000, what: 'the schedule recovery' });
    await settle();
    assert.equal(hook.state.accepted.length, 2, hook.state.accepted.join('\n'));
    assert.match(hook.state.accepted[1], new RegExp(`Schedule ${scheduleId} \\(namespace default\\) recovered`));
    await handle.delete();
  } finally {
    await worker.stop().catch(() => {});
    await conn.close().catch(() => {});
    await server.stop();
    hook.srv.close();
  }
});
