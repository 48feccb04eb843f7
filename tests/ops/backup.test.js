'use strict';
// Backups against a running server: an online snapshot while a TS SDK workload runs, restore into
// a new directory, and the restored server completes every workflow that was open at the
// snapshot (timers and a schedule resume too). A flipped byte is caught by verify and refused by
// restore; restore refuses while a server holds the data directory and keeps the replaced
// database aside.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const { Connection, Client } = require('@temporalio/client');
const { startServer, makeTempDir, removeDir, installRuntime, withTimeout, pollUntil, uniqueName } = require('../compat/harness');
const { cli, startWorker, bundle } = require('./ops');

const dirs = [];
after(() => dirs.forEach(removeDir));
function tempDir(prefix) {
  const d = makeTempDir(prefix);
  dirs.push(d);
  return d;
}
const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('backup while a workload runs, restore into a new directory, every open workflow completes', async () => {
  installRuntime();
  const workflowBundle = await bundle();
  const taskQueue = uniqueName('ops-backup');
  const activities = { async opsStep(id) { return `done:${id}`; } };
  const backups = tempDir('tl-backups-');
  const serverA = await startServer();
  let workerA;
  let serverB;
  let workerB;
  try {
    const conn = await Connection.connect({ address: serverA.address });
    const client = new Client({ connection: conn, namespace: 'default' });
    workerA = await startWorker(serverA.address, taskQueue, activities, workflowBundle);
    // A schedule, and workflows with timers long enough to still be open at the snapshot.
    const scheduleId = uniqueName('ops-sched');
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '2s' }] },
      action: { type: 'startWorkflow', workflowType: 'opsTimerWorkflow', args: ['sched', 10], taskQueue },
    });
    const before = [];
    for (let i = 0; i < 20; i++) {
      const id = `open-${i}`;
      await client.workflow.start('opsTimerWorkflow', { taskQueue, workflowId: id, args: [id, 6000] });
      before.push(id);
    }
    // Keep starting workflows while the backup runs, timing each start (writers must not stall).
    let stopLoad = false;
    const latencies = [];
    let n = 0;
    const load = (async () => {
      while (!stopLoad) {
        const id = `load-${n++}`;
        const t0 = process.hrtime.bigint();
        await client.workflow.start('opsTimerWorkflow', { taskQueue, workflowId: id, args: [id, 6000] });
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const loadBefore = latencies.length;
    const created = await cli(['backup', 'create', '--address', serverA.address, '--to', backups, '--keep', '3', '-o', 'json']);
    const during = latencies.slice(loadBefore);
    stopLoad = true;
    await load;
    assert.equal(created.code, 0, created.stderr);
    const manifest = JSON.parse(created.stdout);
    assert.match(manifest.name, /^temporalite-\d{8}T\d{9}Z$/);
    assert.equal(manifest.schemaVersion > 0, true);
    assert.equal(fs.existsSync(path.join(backups, `${manifest.name}.db.gz`)), true);
    assert.equal(fs.existsSync(path.join(backups, `${manifest.name}.manifest.json`)), true);
    assert.equal(sha(path.join(backups, `${manifest.name}.db.gz`)), manifest.compressedSha256);
    const maxDuring = Math.max(...during);
    console.log(`backup: snapshot ${manifest.snapshotDurationMs} ms, db ${manifest.dbSizeBytes} bytes, ` +
      `${during.length} workflow starts during the backup, max start latency ${maxDuring.toFixed(1)} ms`);
    assert.ok(during.length > 0, 'the workload kept running during the backup');

    // list and verify
    const list = await cli(['backup', 'list', backups, '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((m) => m.name), [manifest.name]);
    const verify = await cli(['backup', 'verify', path.join(backups, manifest.name)]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /integrity_check OK/);

    // The original server goes away (its workflows are not finished: timers of 6 s).
    await workerA.stop();
    workerA = undefined;
    await serverA.stop();

    // Restore into a new directory and start there.
    const dirB = tempDir('tl-restored-');
    const dbB = path.join(dirB, 'temporalite.db');
    const restored = await cli(['backup', 'restore', '--from', backups, '--db-filename', dbB]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`Restored ${manifest.name}`));
    serverB = await startServer({ dataDir: dirB });
    // Restore refuses while a server holds the directory.
    const busy = await cli(['backup', 'restore', '--from', backups, '--db-filename', dbB]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /in use by another temporalite server/);

    const connB = await Connection.connect({ address: serverB.address });
    const clientB = new Client({ connection: connB, namespace: 'default' });
    const open = [];
    for await (const wf of clientB.workflow.list({ query: "ExecutionStatus='Running'" })) open.push(wf.workflowId);
    for (const id of before) assert.ok(open.includes(id), `${id} (started before the backup) is open in the restored database`);
    workerB = await startWorker(serverB.address, taskQueue, activities, workflowBundle);
    for (const id of open.filter((x) => !x.startsWith(scheduleId))) {
      const r = await withTimeout(clientB.workflow.getHandle(id).result(), 60000, `result of ${id}`);
      assert.equal(r, `done:${id}`);
    }
    // The schedule keeps firing on the restored server.
    const sched = clientB.schedule.getHandle(scheduleId);
    const startedAtRestore = (await sched.describe()).info.recentActions.length;
    await pollUntil(async () => (await sched.describe()).info.recentActions.length > startedAtRestore,
      { timeoutMs: 20000, what: 'a scheduled run on the restored server' });
    await sched.delete();
    await connB.close();
    await conn.close();
  } finally {
    if (workerA) await workerA.stop();
    if (workerB) await workerB.stop();
    await serverA.stop();
    if (serverB) await serverB.stop();
  }
});

test('a flipped byte is caught by verify and refused by restore; the replaced database is kept aside', async () => {
  const server = await startServer();
  const backups = tempDir('tl-backups-');
  try {
    const created = await cli(['backup', 'create', '--address', server.address, '--to', backups, '-o', 'json']);
    assert.equal(created.code, 0, created.stderr);
    const { name } = JSON.parse(created.stdout);
    // A second backup, then --keep 1 leaves only the newest.
    await new Promise((r) => setTimeout(r, 5));
    const second = await cli(['backup', 'create', '--address', server.address, '--to', backups, '--keep', '1', '-o', 'json']);
    assert.equal(second.code, 0, second.stderr);
    const m2 = JSON.parse(second.stdout);
    assert.deepEqual(m2.deleted, [name]);
    assert.equal(fs.existsSync(path.join(backups, `${name}.db.gz`)), false);

    // Restore into an existing database (server stopped): the old one goes aside.
    const target = tempDir('tl-target-');
    const db = path.join(target, 'temporalite.db');
    const s2 = await startServer({ dataDir: target });
    await s2.stop();
    const oldSum = sha(db);
    const ok = await cli(['backup', 'restore', '--from', path.join(backups, m2.name), '--db-filename', db]);
    assert.equal(ok.code, 0, ok.stderr);
    const aside = fs.readdirSync(target).filter((f) => /^temporalite\.db\.replaced-\d{8}T\d{9}Z$/.test(f));
    assert.equal(aside.length, 1, fs.readdirSync(target).join(' '));
    assert.equal(sha(path.join(target, aside[0])), oldSum);
    assert.equal(sha(db), m2.dbSha256);

    // Flip one byte in the middle of the stored data.
    const gz = path.join(backups, `${m2.name}.db.gz`);
    const buf = fs.readFileSync(gz);
    buf[Math.floor(buf.length / 2)] ^= 0x01;
    fs.writeFileSync(gz, buf);
    const verify = await cli(['backup', 'verify', backups]);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /FAILED: backup temporalite-\S+ is damaged/);
    const before = sha(db);
    const refused = await cli(['backup', 'restore', '--from', backups, '--db-filename', db]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused: backup temporalite-\S+ is damaged/);
    assert.equal(sha(db), before, 'the database was not touched');
    assert.deepEqual(fs.readdirSync(target).filter((f) => f.endsWith('.restoring')), []);

    // A damaged stream with a matching checksum (the manifest edited too) is caught by gzip's CRC
    // or the database checksum; an edited manifest alone is caught by the checksum.
    const mf = path.join(backups, `${m2.name}.manifest.json`);
    const manifest = JSON.parse(fs.readFileSync(mf, 'utf8'));
    manifest.compressedSha256 = sha(gz);
    fs.writeFileSync(mf, JSON.stringify(manifest));
    const verify2 = await cli(['backup', 'verify', path.join(backups, m2.name)]);
    assert.equal(verify2.code, 1);
    assert.match(verify2.stderr, /damaged|integrity_check/);
  } finally {
    await server.stop();
  }
});

test('backup create: clear errors for an ephemeral server, an unreachable one, a bad destination', async () => {
  const eph = await startServer({ ephemeral: true });
  try {
    const r = await cli(['backup', 'create', '--address', eph.address, '--to', tempDir('tl-b-')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ephemeral/);
  } finally {
    await eph.stop();
  }
  const down = await cli(['backup', 'create', '--address', '127.0.0.1:1', '--to', tempDir('tl-b-')]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach 127\.0\.0\.1:1/);
  const bad = await cli(['backup', 'create', '--address', '127.0.0.1:1', '--to', 'ftp://x/y']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unsupported backup destination/);
  const none = await cli(['backup', 'verify', tempDir('tl-empty-')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no backups in/);
});
