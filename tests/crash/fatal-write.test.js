'use strict';
// A write the database refuses at run time: the server answers the error (never OK), logs a
// clear fatal line and exits with status 70, and a restart recovers from the database (nothing
// that was refused appears, everything acknowledged before is there).
//
// The failure is real: while the server idles, another SQLite connection (the sqlite3 CLI) puts
// a history row holding the engine's next event id, so the engine's next commit would rewrite an
// event that exists (the store refuses it as a constraint failure). The row is removed again before
// the restart. The server runs with --exit-on-storage-failure (for a supervisor); without it the
// server resumes in-process (tests/crash/store-faults.test.js).
//
// Run: node --test tests/crash/fatal-write.test.js

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Connection, Client } = require('@temporalio/client');
const { startServer, waitForExit, uniqueName } = require('../compat/harness');

function sql(db, statement) {
  return execFileSync('sqlite3', [db, '.timeout 10000', statement], { encoding: 'utf8' }).trim();
}

test('a refused write makes the server exit 70 with a fatal log line; a restart recovers', async () => {
  const server = await startServer({ extraArgs: ['--exit-on-storage-failure'] });
  const db = path.join(server.dataDir, 'temporalite.db');
  let restarted;
  let connection;
  try {
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const workflowId = uniqueName('fatal-write');
    const handle = await client.workflow.start('NeverPolled', { taskQueue: uniqueName('tq'), workflowId });
    const runId = handle.firstExecutionRunId;
    const runKey = `x'${runId.replace(/-/g, '')}'`;  // history stores a UUID run id as its 16 bytes
    // Started + task scheduled are durable (the start was acknowledged).
    assert.equal(sql(db, `SELECT max(last_event_id) FROM history WHERE run_id = ${runKey}`), '2');
    sql(db, `INSERT INTO history(run_id, last_event_id, data) VALUES (${runKey}, 3, x'0100')`);

    // The signal would be event 3: its commit fails, and the client gets the error, not OK.
    await assert.rejects(handle.signal('poke'), (e) => {
      const cause = (e && e.cause) || {};
      assert.match(`${e && e.message} ${cause.message} ${cause.details}`, /storage error/);
      return true;
    });
    const res = await waitForExit(server.proc, 15000);
    assert.ok(res, 'the server did not exit after the failed write');
    assert.equal(res.code, 70, `exit ${JSON.stringify(res)}\nstderr:\n${server.stderr()}`);
    assert.match(server.stderr(), /fatal: the database refused a write/);
    connection.close().catch(() => {});
    connection = undefined;

    // Remove the squatter row; the restarted server recovers the run from disk.
    sql(db, `DELETE FROM history WHERE run_id = ${runKey} AND last_event_id = 3`);
    restarted = await startServer({ dataDir: server.dataDir });
    connection = await Connection.connect({ address: restarted.address });
    const again = new Client({ connection, namespace: 'default' }).workflow.getHandle(workflowId);
    const desc = await again.describe();
    assert.equal(desc.runId, runId);
    assert.equal(desc.status.name, 'RUNNING');
    assert.equal(desc.historyLength, 2);  // the refused signal is not there
    await again.signal('poke');  // and writes work again
    assert.equal(sql(db, `SELECT max(last_event_id) FROM history WHERE run_id = ${runKey}`), '3');
  } finally {
    if (connection) await connection.close().catch(() => {});
    if (restarted) await restarted.stop();
    await server.stop();
  }
});
