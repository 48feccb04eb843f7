'use strict';
// temporalite doctor: OK on a healthy server; FAIL for each broken condition the test creates
// (long-running workflow, task queue backlog without pollers, schedule missing runs, no/old
// backup, too little free disk, server down, corrupted database file); exit code by the worst.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, installRuntime, pollUntil, uniqueName } = require('../compat/harness');
const { cli, startWorker, bundle } = require('./ops');

const dirs = [];
after(() => dirs.forEach(removeDir));
function tempDir(prefix) {
  const d = makeTempDir(prefix);
  dirs.push(d);
  return d;
}

function lines(out) {
  const m = {};
  for (const l of out.split('\n')) {
    const r = /^(OK|WARN|FAIL)\s+([^:]+): (.*)$/.exec(l);
    if (r) m[r[2]] = { level: r[1], detail: r[3] };
  }
  return m;
}

test('doctor: OK on a healthy server, FAIL for each broken condition', async () => {
  installRuntime();
  const workflowBundle = await bundle();
  const server = await startServer();
  const taskQueue = uniqueName('ops-doctor');
  const backups = tempDir('tl-doctor-backups-');
  const worker = await startWorker(server.address, taskQueue, { async opsStep(id) { return id; } }, workflowBundle);
  const conn = await Connection.connect({ address: server.address });
  const client = new Client({ connection: conn, namespace: 'default' });
  try {
    // Healthy: a few completed runs (they give the type its usual duration) and a backup.
    for (let i = 0; i < 3; i++) {
      const h = await client.workflow.start('opsWaitWorkflow', { taskQueue, workflowId: uniqueName('wait') });
      await h.signal('release');
      assert.equal(await h.result(), 'released');
    }
    assert.equal((await cli(['backup', 'create', '--address', server.address, '--to', backups])).code, 0);
    const defaults = { '--address': server.address, '--db-filename': path.join(server.dataDir, 'temporalite.db'),
      '--backups': backups, '--min-free-disk-mib': '1', '--long-running-min': '1s' };
    const doctor = (over = {}, extra = []) =>
      cli(['doctor', ...Object.entries({ ...defaults, ...over }).flat(), ...extra]);
    const healthy = await doctor();
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    const ok = lines(healthy.stdout);
    for (const name of ['server', 'schema version', 'integrity (quick_check)', 'database size', 'free disk', 'last backup',
      'long-running workflows', 'task queues', 'schedules']) {
      assert.equal(ok[name]?.level, 'OK', `${name}: ${healthy.stdout}`);
    }
    const json = JSON.parse((await doctor({}, ['-o', 'json'])).stdout);
    assert.equal(json.worst, 'OK');

    // Broken, one by one.
    const stuck = await client.workflow.start('opsWaitWorkflow', { taskQueue, workflowId: uniqueName('stuck') });
    await new Promise((r) => setTimeout(r, 2500)); // 1 s minimum, and far beyond the usual few ms
    let r = await doctor();
    assert.equal(r.code, 2, r.stdout);
    assert.equal(lines(r.stdout)['long-running workflows'].level, 'FAIL', r.stdout);
    assert.match(lines(r.stdout)['long-running workflows'].detail, new RegExp(stuck.workflowId));
    assert.equal(lines(r.stdout)['task queues'].level, 'OK');
    await stuck.signal('release');
    await stuck.result();

    const orphan = await client.workflow.start('opsQuickWorkflow', { taskQueue: uniqueName('nobody-polls'), workflowId: uniqueName('orphan') });
    r = await doctor();
    assert.equal(r.code, 2);
    assert.equal(lines(r.stdout)['task queues'].level, 'FAIL', r.stdout);
    assert.match(lines(r.stdout)['task queues'].detail, /nobody-polls.*workflow, 1 tasks waiting/);
    await orphan.terminate('test');

    const scheduleId = uniqueName('skippy');
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1s' }] },
      action: { type: 'startWorkflow', workflowType: 'opsWaitWorkflow', taskQueue },
    });
    const sched = client.schedule.getHandle(scheduleId);
    await pollUntil(async () => (await sched.describe()).info.numActionsSkippedOverlap > 0, { timeoutMs: 15000, what: 'an overlap skip' });
    r = await doctor({ '--long-running-min': '1h' });
    assert.equal(r.code, 2);
    assert.equal(lines(r.stdout)['schedules']?.level, 'FAIL', r.stdout + r.stderr);
    assert.match(lines(r.stdout)['schedules'].detail, new RegExp(`${scheduleId} .*skipped while the previous run was still running`));
    await sched.delete();
    for await (const wf of client.workflow.list({ query: "ExecutionStatus='Running'" })) {
      await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('test');
    }

    r = await doctor({ '--backups': tempDir('tl-no-backups-') });
    assert.equal(r.code, 2);
    assert.match(lines(r.stdout)['last backup'].detail, /no backups in/);
    assert.equal(lines(r.stdout)['last backup'].level, 'FAIL');
    r = await doctor({ '--max-backup-age': '1s' });
    assert.equal(lines(r.stdout)['last backup'].level, 'FAIL', r.stdout);
    r = await doctor({ '--min-free-disk-mib': String(1024 * 1024 * 1024) });
    assert.equal(lines(r.stdout)['free disk'].level, 'FAIL');
    assert.equal(r.code, 2);
    r = await doctor();
    assert.equal(r.code, 0, r.stdout);
  } finally {
    await conn.close();
    await worker.stop();
    await server.stop();
  }

  // Server down: FAIL, and the database file is still checked directly.
  const dir = tempDir('tl-doctor-down-');
  const s2 = await startServer({ dataDir: dir });
  const c2 = await Connection.connect({ address: s2.address });
  const cl2 = new Client({ connection: c2, namespace: 'default' });
  for (let i = 0; i < 200; i++) await cl2.workflow.start('x', { taskQueue: 'q', workflowId: `w-${i}`, args: ['y'.repeat(2000)] });
  await c2.close();
  await s2.stop();
  const db = path.join(dir, 'temporalite.db');
  let r = await cli(['doctor', '--address', s2.address, '--db-filename', db, '--min-free-disk-mib', '1']);
  assert.equal(r.code, 2);
  assert.equal(lines(r.stdout)['server'].level, 'FAIL');
  assert.match(lines(r.stdout)['server'].detail, /cannot reach/);
  assert.equal(lines(r.stdout)['integrity (quick_check)'].level, 'OK', r.stdout);
  // Corrupt the b-tree page headers of pages 2..6 (table and index roots).
  const buf = fs.readFileSync(db);
  const pageSize = buf.readUInt16BE(16);
  for (let p = 1; p < 6; p++) buf.fill(0x5a, p * pageSize, p * pageSize + 12);
  fs.writeFileSync(db, buf);
  r = await cli(['doctor', '--address', s2.address, '--db-filename', db, '--min-free-disk-mib', '1']);
  assert.equal(r.code, 2);
  assert.equal(lines(r.stdout)['integrity (quick_check)'].level, 'FAIL', r.stdout);
  assert.match(lines(r.stdout)['integrity (quick_check)'].detail, /temporalite backup restore --from <backup> --db-filename/);
});
