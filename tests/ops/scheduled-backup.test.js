'use strict';
// The server's own backup schedule (--backup-schedule, --backup-to, --backup-keep): backups appear
// on schedule, retention keeps the newest N, doctor reports the last result (FAIL when it failed).
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, makeTempDir, removeDir, pollUntil } = require('../compat/harness');
const { cli } = require('./ops');

const dirs = [];
after(() => dirs.forEach(removeDir));
function tempDir(prefix) {
  const d = makeTempDir(prefix);
  dirs.push(d);
  return d;
}

const names = async (dest) => {
  const r = await cli(['backup', 'list', dest, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).map((m) => m.name);
};

function lines(out) {
  const m = {};
  for (const l of out.split('\n')) {
    const r = /^(OK|WARN|FAIL)\s+([^:]+): (.*)$/.exec(l);
    if (r) m[r[2]] = { level: r[1], detail: r[3] };
  }
  return m;
}

test('scheduled backups: on schedule, retention, doctor sees the last result', async () => {
  const dest = tempDir('tl-sched-backups-');
  const server = await startServer({
    extraArgs: ['--backup-schedule', '@every 2s', '--backup-to', dest, '--backup-keep', '2', '--metrics-port', '0'],
  });
  try {
    await pollUntil(async () => (await names(dest)).length >= 1, { timeoutMs: 20000, what: 'a first scheduled backup' });
    const first = (await names(dest))[0];
    // Two more backups later the first is gone and two remain.
    await pollUntil(async () => !(await names(dest)).includes(first), { timeoutMs: 30000, what: 'retention' });
    assert.equal((await names(dest)).length, 2);
    const verify = await cli(['backup', 'verify', dest]);
    assert.equal(verify.code, 0, verify.stderr);
    const doc = await cli(['doctor', '--address', server.address, '--min-free-disk-mib', '1']);
    const l = lines(doc.stdout);
    assert.equal(l['scheduled backup']?.level, 'OK', doc.stdout);
    assert.match(l['scheduled backup'].detail, /"@every 2s" to .*, last temporalite-/);
    assert.equal(l['last backup']?.level, 'OK', doc.stdout);
    // The last result is in the metrics too (for an alert on backup age).
    const text = await (await fetch(server.metricsUrl())).text();
    const value = (name) => Number((new RegExp(`^${name} (\\S+)$`, 'm').exec(text) || [])[1]);
    assert.equal(value('temporalite_backup_last_run_success'), 1, text);
    assert.ok(value('temporalite_backups_total') >= 3, text);
    const lastOk = value('temporalite_backup_last_success_timestamp_seconds');
    assert.ok(Math.abs(lastOk - Date.now() / 1000) < 60, `last success ${lastOk}`);
  } finally {
    await server.stop();
  }

  // A destination that cannot work: every run fails, and doctor says so.
  const bad = await startServer({
    extraArgs: ['--backup-schedule', '@every 1s', '--backup-to', 's3://nowhere/x', '--metrics-port', '0'],
  });
  try {
    let doc;
    await pollUntil(async () => {
      doc = await cli(['doctor', '--address', bad.address, '--min-free-disk-mib', '1']);
      return lines(doc.stdout)['scheduled backup']?.level === 'FAIL';
    }, { timeoutMs: 20000, what: 'a failed scheduled backup in doctor' });
    assert.equal(doc.code, 2);
    assert.match(lines(doc.stdout)['scheduled backup'].detail, /failed: S3 (credentials missing|request failed|refused)/);
    const text = await (await fetch(bad.metricsUrl())).text();
    assert.match(text, /^temporalite_backup_last_run_success 0$/m, text);
    assert.match(text, /^temporalite_backup_failures_total [1-9]/m, text);
  } finally {
    await bad.stop();
  }

  let r = await cli(['server', 'start-dev', '--ephemeral', '--port', '0', '--backup-schedule', '@every 1h']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--backup-schedule and --backup-to go together/);
  r = await cli(['server', 'start-dev', '--port', '0', '--db-filename', `${tempDir('tl-x-')}/t.db`, '--backup-schedule', 'whenever', '--backup-to', dest]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --backup-schedule "whenever"/);
});
